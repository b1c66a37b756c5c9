"""List-valued embedding columns (Parquet lists, JSON Lines arrays) in distance and Vendi rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.spatial.distance

from validator import load_rules, validate

RULES = load_rules({"version": 1, "rules": [
    {"id": "d", "metric": "distance_spread", "columns": ["emb"], "min": 0},
    {"id": "v", "metric": "vendi_score", "columns": ["emb"], "min": 1},
]})


def test_parquet_list_column_equals_the_same_features_as_columns(tmp_path):
    X = np.random.default_rng(0).normal(size=(50, 4))
    pd.DataFrame({"emb": list(X)}).to_parquet(tmp_path / "e.parquet")
    report = validate(tmp_path / "e.parquet", RULES)
    assert report["d"].observed == pytest.approx(scipy.spatial.distance.pdist(X).mean(), rel=1e-12)
    assert report["d"].details["embedding_dimension"] == 4
    wide = validate(pd.DataFrame(X, columns=list("abcd")), load_rules({"version": 1, "rules": [
        {"id": "v", "metric": "vendi_score", "columns": list("abcd"), "min": 1}]}))
    assert report["v"].observed == pytest.approx(wide["v"].observed, rel=1e-12)


def test_json_lines_arrays_with_missing_and_bad_rows(tmp_path):
    lines = [{"emb": [0, 0, 1]}, {"emb": [1, 0, 0]}, {"emb": None}, {"emb": [0, 1, 0]}, {"emb": [float("nan"), 0, 0]}]
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(x).replace("NaN", "NaN") for x in lines) + "\n")
    r = validate(tmp_path / "e.jsonl", RULES)["d"]
    assert r.n == 3 and r.details["dropped_rows"] == 2 and r.observed == pytest.approx(np.sqrt(2))
    (tmp_path / "bad.jsonl").write_text('{"emb": [1, 2]}\n{"emb": [1, 2]}\n{"emb": [1, 2, 3]}\n')
    r = validate(tmp_path / "bad.jsonl", RULES)["d"]
    assert r.outcome == "error" and "different dimensions: 2 in most rows, 3 at row 3" in r.reason
