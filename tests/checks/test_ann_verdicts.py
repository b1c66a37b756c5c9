"""Approximate nearest neighbours never pass or fail on a value whose own error could flip the
verdict (issue 11 section 6), and many identical rows do not break the index's recall.

Independent references: brute-force numpy distances on small data and
sklearn.neighbors.NearestNeighbors (exact KD-tree, each row's nearest other row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors

from validator import load_rules, validate
from validator.metrics import ann
from validator.metrics.ann import approximate_nearest_neighbours


def sklearn_nn(X):
    # kneighbors() without X leaves each row itself out; a KD-tree computes from differences,
    # so an exact copy is at distance 0 exactly (the brute-force Gram form leaves ~1e-8)
    d, _ = NearestNeighbors(n_neighbors=1, algorithm="kd_tree").fit(X).kneighbors()
    return d[:, 0]


def brute_nn(X):
    diff = X[:, None, :] - X[None, :, :]
    d = np.sqrt((diff ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def test_many_identical_rows_keep_recall_and_have_distance_zero():
    rng = np.random.default_rng(0)
    X = np.vstack([np.tile(rng.normal(size=(1, 32)), (5000, 1)), rng.normal(size=(2000, 32))])
    found = approximate_nearest_neighbours(X)
    exact = sklearn_nn(X)
    hits = np.abs(found.distances - exact) <= 1e-9 * (1 + exact)
    # before rows were deduplicated: 7.6 % of the 2000 distinct rows found their neighbour
    assert hits[5000:].mean() >= 0.95 and found.recall_estimate >= 0.95
    assert (found.distances[:5000] == 0).all() and found.duplicated_rows == 5000 and found.distinct_rows == 2001
    copies = found.neighbours[:5000]
    assert (copies != np.arange(5000)).all() and (copies < 5000).all()  # another copy


def test_small_data_equals_brute_force_numpy():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(60, 5)), np.zeros((3, 5)), rng.normal(size=(1, 5)).repeat(2, axis=0)])
    found = approximate_nearest_neighbours(X, recall_queries=100)
    assert np.allclose(found.distances, brute_nn(X), rtol=1e-12, atol=0)
    assert found.recall_estimate == 1.0 and found.recall_queries == 60


def test_all_rows_identical():
    found = approximate_nearest_neighbours(np.ones((50, 4)))
    assert (found.distances == 0).all() and found.recall_queries == 0 and found.distinct_rows == 1


def _frame(X):
    return pd.DataFrame({f"f{i}": X[:, i] for i in range(X.shape[1])})


@pytest.fixture
def weak_index(monkeypatch):
    """An HNSW graph too sparse to find most neighbours (measured recall ~0.03 on 64 dims)."""
    monkeypatch.setattr(ann, "HNSW_M", 2)
    monkeypatch.setattr(ann, "HNSW_EF_CONSTRUCTION", 2)
    monkeypatch.setattr(ann, "HNSW_EF_SEARCH", 1)


def _rule(cols, **kw):
    return {"metric": "distance_spread", "columns": cols, "nn_search": "approximate", "sample": {"rows": 5000}, **kw}


def test_an_upper_bound_never_passes_a_min_bound(weak_index):
    X = np.random.default_rng(2).normal(size=(3000, 64))
    exact = sklearn_nn(X).mean()  # ~8.3; the weak index's upper bound ~9.4
    cols = list(_frame(X).columns)
    rules = load_rules({"version": 1, "rules": [
        _rule(cols, id="min", statistic="mean_nn", min=round(exact + 0.5, 3)),
        _rule(cols, id="max", statistic="mean_nn", max=20.0),
    ]})
    report = validate(_frame(X), rules)
    low = report["min"]  # the approximate value alone would pass: exact search decides
    assert low.outcome == "failed" and low.observed == pytest.approx(exact, rel=1e-9)
    nn = low.details["nn_search"]
    assert nn["method"].startswith("exact") and "only bounds the true value" in nn["fallback"]
    assert nn["approximate"]["recall_estimate"] < 0.5 and nn["approximate"]["observed"] > exact + 0.5
    high = report["max"]  # an upper bound below 'max' decides the pass: no exact search
    assert high.outcome == "passed" and high.details["nn_search"]["method"].startswith("approximate")
    assert high.observed >= exact - 1e-12


def test_past_the_exact_cap_an_undecidable_verdict_is_an_error(weak_index, monkeypatch):
    monkeypatch.setattr(ann, "NN_EXACT_FALLBACK_CAP", 1000)
    X = np.random.default_rng(2).normal(size=(3000, 64))
    cols = list(_frame(X).columns)
    rules = load_rules({"version": 1, "rules": [
        _rule(cols, id="min", statistic="mean_nn", min=8.0),
        _rule(cols, id="dup", statistic="duplicate_fraction", epsilon=5.0, max=0.5),  # a lower bound against 'max'
    ]})
    report = validate(_frame(X), rules)
    for rid in ("min", "dup"):
        r = report[rid]
        assert r.outcome == "error", rid
        assert r.reason.startswith("undecided: the approximate") and "exact search is capped at 1,000 rows" in r.reason


def test_exact_copies_decide_duplicate_fraction_without_exact_search(weak_index):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 16))
    X[:300] = X[300:600]  # 600 rows with an exact copy
    rules = load_rules({"version": 1, "rules": [
        _rule(list(_frame(X).columns), id="dup", statistic="duplicate_fraction", max=0.2)]})
    r = validate(_frame(X), rules)["dup"]
    assert r.observed == pytest.approx(np.mean(sklearn_nn(X) == 0)) == 0.3
    assert r.outcome == "failed" and r.details["nn_search"]["method"].startswith("approximate")
