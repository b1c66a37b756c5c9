"""Wasserstein-1 and Kolmogorov-Smirnov from histograms on a fine grid, against the exact
raw-value results of scipy (scipy.stats.wasserstein_distance, scipy.stats.ks_2samp) within the
reported error bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from validator import RuleFileError, load_rules, validate
from validator.metrics.distribution import ks_from_histograms, ks_p_value, wasserstein_from_histograms


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(7)
    return rng.normal(0.0, 1.0, 4000), rng.normal(0.4, 1.5, 3000)


@pytest.mark.parametrize("k", [64, 1024, 4096])
def test_histogram_statistics_are_within_their_bounds_of_the_exact_values(samples, k):
    u, v = samples
    edges = np.linspace(min(u.min(), v.min()), max(u.max(), v.max()), k + 1)
    p, q = np.histogram(u, edges)[0], np.histogram(v, edges)[0]
    w1, w_bound = wasserstein_from_histograms(p, q, edges)
    assert abs(w1 - scipy.stats.wasserstein_distance(u, v)) <= w_bound
    d, d_bound = ks_from_histograms(p, q)
    exact = scipy.stats.ks_2samp(u, v).statistic
    assert d <= exact + 1e-12 and exact - d <= d_bound
    if k == 4096:
        assert w_bound < 0.005 and d_bound < 0.01  # a fine grid makes both small here


def test_ks_p_value_matches_scipy_asymptotic():
    ref = scipy.stats.ks_2samp(np.arange(100.0), np.arange(100.0) + 8, method="asymp")
    assert ks_p_value(ref.statistic, 100, 100) == pytest.approx(ref.pvalue, rel=1e-9)
    assert ks_p_value(0.1, 50) == pytest.approx(scipy.stats.kstwo.sf(0.1, 50))


def test_identical_samples_are_zero_apart():
    p = np.array([3, 0, 5, 2])
    assert wasserstein_from_histograms(p, p * 2, np.arange(5.0))[0] == 0.0
    assert ks_from_histograms(p, p)[0] == 0.0


def test_rules_against_a_reference_file(tmp_path, samples):
    u, v = samples
    pd.DataFrame({"score": v}).to_parquet(tmp_path / "ref.parquet")
    ref = {"file": str(tmp_path / "ref.parquet"), "column": "score"}
    rules = load_rules({"version": 1, "rules": [
        {"id": "w", "metric": "wasserstein_distance", "column": "x", "reference": ref, "max": 0.2},
        {"id": "ks", "metric": "ks_test", "column": "x", "reference": ref, "max": 0.05},
        {"id": "ksp", "metric": "ks_test", "column": "x", "reference": ref, "value": "p_value", "min": 0.01},
    ]})
    report = validate(pd.DataFrame({"x": u}), rules)
    w = report["w"]
    # exact from the distinct values' counts (fewer than EXACT_DISTINCT_CAP here)
    assert w.observed == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-12)
    assert w.outcome == "failed" and w.details["method"].startswith("exact") and w.details["approximation_error_bound"] == 0
    ks = report["ks"]
    assert ks.observed == pytest.approx(scipy.stats.ks_2samp(u, v).statistic, rel=1e-12)
    assert report["ksp"].observed < 1e-10 and report["ksp"].outcome == "failed"
    same = validate(pd.DataFrame({"x": v}), rules)
    assert same["w"].observed == 0.0 and same["ks"].observed == 0.0 and same["ksp"].observed == 1.0


def test_numeric_reference_rules_need_a_file_reference():
    with pytest.raises(RuleFileError, match=r"wasserstein_distance compares raw values: its reference needs 'file' and 'column' \(or 'git'\), not 'categories'"):
        load_rules({"version": 1, "rules": [{"id": "w", "metric": "wasserstein_distance", "column": "x",
                                             "reference": {"categories": {"a": 1.0}}, "max": 1}]})


def test_a_text_reference_column_is_named_as_the_reference(tmp_path):
    pd.DataFrame({"score": ["a", "b"]}).to_csv(tmp_path / "ref.csv", index=False)
    rules = load_rules({"version": 1, "rules": [{"id": "w", "metric": "wasserstein_distance", "column": "x",
                                                 "reference": {"file": str(tmp_path / "ref.csv"), "column": "score"}, "max": 1}]})
    r = validate(pd.DataFrame({"x": [1.0, 2.0]}), rules)["w"]
    assert r.outcome == "error" and "column 'score' of reference file" in r.reason
