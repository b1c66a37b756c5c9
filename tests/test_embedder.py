"""The committed example embeddings come from the committed frozen embedder (no refit).

Needs the ``examples`` extra (scikit-learn for the hashing function); skipped without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("dataset", ["pretrain_good.csv", "pretrain_near_duplicates.csv"])
def test_example_embeddings_reproduce_from_the_frozen_embedder(dataset, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    from hashing_embedder import FrozenEmbedder

    df = pd.read_csv(ROOT / "examples" / "data" / dataset, keep_default_na=False, na_values=[""]).head(200)
    vectors = FrozenEmbedder.load(ROOT / "examples" / "embedder").transform(df["text"].tolist())
    expected = df[[f"e{i}" for i in range(8)]].to_numpy()
    np.testing.assert_allclose(vectors, expected, atol=2e-6)  # the CSV keeps 6 decimals
    assert "hashing_embedder" in sys.modules
