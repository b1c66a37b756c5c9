"""The approximate nearest-neighbour path (faiss HNSW) against exact search.

Reference: validator.metrics.distance.nearest_neighbours (exact, itself tested against scipy's
cKDTree and hand values) on the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validator import load_rules, validate
from validator.metrics.ann import approximate_nearest_neighbours
from validator.metrics.distance import nearest_neighbours


def mixture(n, d, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    X = centres[rng.integers(0, 20, n)] + 0.35 * rng.normal(size=(n, d))
    X[: n // 10] = X[n // 10 : 2 * (n // 10)] + 0.001 * rng.normal(size=(n // 10, d))  # near duplicates
    X[-3:] = X[:3]  # exact duplicates
    return X


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_neighbours_match_exact_search(metric):
    X = mixture(3000, 48)
    exact_d, _ = nearest_neighbours(X, metric=metric)
    found = approximate_nearest_neighbours(X, metric, recall_queries=500)
    assert found.distances.shape == (3000,) and found.neighbours.dtype == np.int64
    assert (found.neighbours != np.arange(3000)).all()
    # a found neighbour is never closer than the true nearest one (distances are recomputed)
    assert (found.distances >= exact_d - 1e-12).all()
    recall = np.mean(np.abs(found.distances - exact_d) <= 1e-9 * (1 + exact_d))
    assert recall >= 0.95
    assert found.recall_estimate >= 0.95 and found.recall_queries == 500
    assert (found.distances[-3:] == 0).all()  # exact duplicates found


def test_rule_reports_the_approximate_search_and_its_recall():
    X = mixture(1500, 24, seed=1)
    df = pd.DataFrame({f"f{i}": X[:, i] for i in range(X.shape[1])})
    cols = list(df.columns)
    rules = load_rules({"version": 1, "rules": [
        {"id": "exact", "metric": "distance_spread", "columns": cols, "statistic": "duplicate_fraction", "epsilon": 0.01, "max": 0.5},
        # a lower bound at or above 'min' decides the pass (an upper bound 'max' would not: test_ann_verdicts.py)
        {"id": "approx", "metric": "distance_spread", "columns": cols, "statistic": "duplicate_fraction", "epsilon": 0.01,
         "min": 0.01, "nn_search": "approximate"},
        {"id": "mean", "metric": "distance_spread", "columns": cols, "statistic": "mean_nn", "min": 0, "nn_search": "approximate"},
    ]})
    by = {r.rule_id: r for r in validate(df, rules).results}
    assert by["approx"].observed == pytest.approx(by["exact"].observed, abs=0.01)
    assert by["approx"].details["nn_search"]["recall_estimate"] >= 0.95
    assert by["approx"].details["nn_search"]["method"].startswith("approximate: faiss HNSW")
    assert by["exact"].details["nn_search"]["method"] == "exact (blocked brute force)"
    assert by["approx"].details["duplicates"]["clusters"] == by["exact"].details["duplicates"]["clusters"]
    exact_mean = nearest_neighbours(X)[0].mean()
    assert by["mean"].observed >= exact_mean - 1e-12 and by["mean"].observed == pytest.approx(exact_mean, rel=1e-3)


def test_nn_search_only_for_nearest_neighbour_statistics():
    from validator.rules.loader import RuleFileError

    with pytest.raises(RuleFileError, match="'nn_search' only applies to nearest-neighbour statistics"):
        load_rules({"version": 1, "rules": [
            {"id": "m", "metric": "distance_spread", "columns": ["a"], "statistic": "mean", "nn_search": "exact", "min": 0}]})
