"""Wasserstein-1 and KS against a reference file's raw values never pass on a collapsed grid
(issue 11 section 6): exact from the counts of the distinct values up to EXACT_DISTINCT_CAP,
bounded from quantile cells above it, and an ``error`` when that bound straddles the rule's
threshold. Independent references: scipy.stats.ks_2samp and scipy.stats.wasserstein_distance
on the same raw values; the same results in memory, streamed at several batch sizes and on dask."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from validator import load_rules, validate
from validator.metrics import distribution as dist
from validator.metrics.distribution import (
    ks_bounds_from_cells,
    ks_from_counts,
    wasserstein_bounds_from_cells,
    wasserstein_from_counts,
)
from validator.summaries.distinct import distinct_counts, merge_distinct


def exact_w1(x, y):
    """W1 = sum |F - G| du in exact rational arithmetic (fractions.Fraction): the reference for
    bounds that must hold to the last bit (scipy's float sum is itself off by ~1e-13 relative)."""
    from fractions import Fraction

    u = np.unique(np.r_[x, y])
    fi = np.searchsorted(np.sort(x), u, side="right")
    gi = np.searchsorted(np.sort(y), u, side="right")
    total = Fraction(0)
    for j in range(u.size - 1):
        total += abs(Fraction(int(fi[j]), len(x)) - Fraction(int(gi[j]), len(y))) * (Fraction(u[j + 1]) - Fraction(u[j]))
    return total


def counts(x):
    u, c = np.unique(np.asarray(x, dtype=np.float64), return_counts=True)
    return u, c


OUTLIER_CASES = {
    "high_outlier": (np.r_[np.linspace(0, 1, 501), 1e12], np.linspace(0.3, 1.3, 400)),
    "low_outlier": (np.r_[-1e12, np.linspace(0, 1, 501)], np.linspace(0.3, 1.3, 400)),
    "outlier_in_reference": (np.linspace(0.3, 1.3, 400), np.r_[np.linspace(0, 1, 501), 1e12, -3e11]),
    "ties": (np.repeat([0.0, 1.0, 2.0], [5, 1, 7]), np.repeat([1.0, 2.0, 5.0], [3, 3, 1])),
}


@pytest.mark.parametrize("case", list(OUTLIER_CASES))
def test_exact_statistics_from_counts_equal_scipy_on_raw_values(case):
    x, y = OUTLIER_CASES[case]
    # scipy.stats.ks_2samp / wasserstein_distance on the raw values: the independent reference
    assert ks_from_counts(*counts(x), *counts(y)) == pytest.approx(scipy.stats.ks_2samp(x, y).statistic, rel=1e-12)
    assert wasserstein_from_counts(*counts(x), *counts(y)) == pytest.approx(scipy.stats.wasserstein_distance(x, y), rel=1e-9)


def test_statistics_from_counts_by_hand():
    # F = [1/2, 1] at {0, 1}, G = [0, 1]: D = 1/2; W1 = 1/2 * (1 - 0)
    assert ks_from_counts([0.0, 1.0], [1, 1], [1.0], [2]) == 0.5
    assert wasserstein_from_counts([0.0, 1.0], [1, 1], [1.0], [2]) == 0.5
    assert wasserstein_from_counts([0.0], [1], [3.0], [1]) == 3.0


def test_distinct_counts_merge_exactly_and_overflow_past_the_cap():
    a, b = np.array([1.0, -0.0, 1.0, np.inf]), np.array([0.0, 2.0, 1.0])
    merged = merge_distinct(distinct_counts(a, 10), distinct_counts(b, 10), 10)
    whole = distinct_counts(np.r_[a, b], 10)
    assert merged[0].tolist() == whole[0].tolist() == [0.0, 1.0, 2.0]  # -0.0 is 0.0, inf left out
    assert merged[1].tolist() == whole[1].tolist() == [2, 3, 1]
    assert distinct_counts(np.arange(11.0), 10) is None
    assert merge_distinct(distinct_counts(np.arange(6.0), 10), distinct_counts(np.arange(5.0) + 6, 10), 10) is None
    assert merge_distinct(None, whole, 10) is None


@pytest.mark.parametrize("seed", range(5))
def test_cell_bounds_with_extremes_contain_the_exact_values(seed):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0, 1, 700), 1e9 * (seed + 1)]
    y = np.r_[rng.normal(0.2, 1.3, 500), -1e7]
    edges = np.unique(np.r_[np.quantile(np.r_[x, y], np.linspace(0, 1, 33)[:-1]), max(x.max(), y.max())])
    cell = lambda v: np.minimum(np.searchsorted(edges, v, side="right"), edges.size - 1) - 1  # noqa: E731
    ext = []
    for v in (x, y):
        c = cell(v)
        ext += [np.array([v[c == i].min() if (c == i).any() else np.inf for i in range(edges.size - 1)]),
                np.array([v[c == i].max() if (c == i).any() else -np.inf for i in range(edges.size - 1)])]
    p, q = np.histogram(x, edges)[0], np.histogram(y, edges)[0]
    lo, hi = ks_bounds_from_cells(p, q, edges=edges, extremes=ext)
    assert lo <= scipy.stats.ks_2samp(x, y).statistic <= hi
    wlo, whi = wasserstein_bounds_from_cells(p, q, edges, extremes=ext)
    assert wlo <= exact_w1(x, y) <= whi
    plain = wasserstein_bounds_from_cells(p, q, edges)
    assert plain[0] <= wlo and whi <= plain[1]  # knowing the extremes only narrows the bounds


@pytest.mark.parametrize("seed", range(5))
def test_cell_bounds_contain_the_exact_values(seed):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0, 1, 700), 1e6 * (seed + 1)]
    y = rng.normal(0.2, 1.3, 500)
    edges = np.r_[np.quantile(np.r_[x, y], np.linspace(0, 1, 33)[:-1]), max(x.max(), y.max())]
    edges = np.unique(edges)
    p = np.histogram(x, edges)[0]  # numpy: [a, b) bins, the last closed, as ours
    q = np.histogram(y, edges)[0]
    lo, hi = ks_bounds_from_cells(p, q)
    exact = scipy.stats.ks_2samp(x, y).statistic
    assert lo - 1e-12 <= exact <= hi + 1e-12
    wlo, whi = wasserstein_bounds_from_cells(p, q, edges)
    w = scipy.stats.wasserstein_distance(x, y)
    assert wlo * (1 - 1e-12) <= w <= whi * (1 + 1e-12)


def test_single_value_cells_are_exact_for_ks():
    # every value has its own cell [v, next float): the bounds close on the exact D
    x, y = np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0])
    edges = np.array([0.0, np.nextafter(0.0, 1), 1.0, np.nextafter(1.0, 2), 2.0, np.nextafter(2.0, 3)])
    p, q = np.histogram(x, edges)[0][[0, 2, 4]], np.histogram(y, edges)[0][[0, 2, 4]]
    lo, hi = ks_bounds_from_cells(p, q, single=[True, True, True])
    exact = scipy.stats.ks_2samp(x, y).statistic
    assert lo <= exact <= hi and hi - lo <= 8 * np.finfo(float).eps  # only the rounding slack


# -- rules: every engine -----------------------------------------------------------------------


def _write(tmp_path, x, y):
    pd.DataFrame({"v": x}).to_parquet(tmp_path / "data.parquet")
    pd.DataFrame({"v": y}).to_csv(tmp_path / "ref.csv", index=False)
    return tmp_path / "data.parquet", {"file": str(tmp_path / "ref.csv"), "column": "v"}


def _engines(path, rules):
    out = {"memory": validate(path, rules)}
    for batch in (7, 100, 1000):
        out[f"stream {batch}"] = validate(path, rules, engine="stream", batch_rows=batch)
    pytest.importorskip("dask.dataframe")
    out["dask"] = validate(path, rules, engine="dask")
    return out


def _same(reports):
    first = next(iter(reports.values()))
    for name, rep in reports.items():
        for a, b in zip(first.results, rep.results):
            assert a.outcome == b.outcome, (name, a.rule_id, a.reason, b.reason)
            if a.observed is not None:
                assert math.isclose(a.observed, b.observed, rel_tol=1e-12, abs_tol=1e-15), (name, a.rule_id, a.observed, b.observed)


@pytest.mark.parametrize("case", ["high_outlier", "low_outlier", "outlier_in_reference"])
def test_an_extreme_outlier_does_not_collapse_ks_or_wasserstein(tmp_path, case):
    x, y = OUTLIER_CASES[case]
    path, ref = _write(tmp_path, x, y)
    rules = load_rules({"version": 1, "rules": [
        {"id": "ks", "metric": "ks_test", "column": "v", "reference": ref, "max": 0.1},
        {"id": "ksp", "metric": "ks_test", "column": "v", "reference": ref, "value": "p_value", "min": 0.05},
        {"id": "w", "metric": "wasserstein_distance", "column": "v", "reference": ref, "max": 0.05},
    ]})
    reports = _engines(path, rules)
    _same(reports)
    r = reports["memory"]
    exact_d = scipy.stats.ks_2samp(x, y).statistic  # about 0.3: the old single grid gave ~0 and passed
    assert r["ks"].observed == pytest.approx(exact_d, rel=1e-12) and r["ks"].outcome == "failed"
    assert r["ksp"].observed == pytest.approx(scipy.stats.ks_2samp(x, y, method="asymp").pvalue, rel=1e-6)
    assert r["ksp"].outcome == "failed"
    assert r["w"].observed == pytest.approx(scipy.stats.wasserstein_distance(x, y), rel=1e-9) and r["w"].outcome == "failed"


@pytest.fixture
def small_cap(monkeypatch):
    """A cap of 200 distinct values, so that a few thousand rows take the quantile-cell path."""
    monkeypatch.setattr(dist, "EXACT_DISTINCT_CAP", 200)
    monkeypatch.setattr(dist, "QUANTILE_SAMPLE_ROWS", 2000)


def test_past_the_cap_quantile_cells_bound_the_exact_values_in_every_engine(tmp_path, small_cap):
    rng = np.random.default_rng(3)
    x = np.r_[rng.uniform(0, 1, 3000), np.full(2000, 0.5), 1e12]  # a frequent value and an outlier
    y = rng.uniform(0.2, 1.2, 2500)
    path, ref = _write(tmp_path, x, y)
    exact_d, exact_w = scipy.stats.ks_2samp(x, y).statistic, scipy.stats.wasserstein_distance(x, y)
    rules = load_rules({"version": 1, "rules": [
        {"id": "ks", "metric": "ks_test", "column": "v", "reference": ref, "max": 0.1, "grid": 256},
        {"id": "ks-near", "metric": "ks_test", "column": "v", "reference": ref, "max": round(exact_d, 4), "grid": 256},
        {"id": "w", "metric": "wasserstein_distance", "column": "v", "reference": ref, "max": 1e12, "grid": 256},
    ]})
    reports = _engines(path, rules)
    _same(reports)
    r = reports["memory"]
    ks = r["ks"]
    assert ks.details["method"].startswith("quantile cells")
    low, high = ks.details["statistic_bounds"]
    assert low <= exact_d <= high and high - low < 0.02  # the grid did not collapse
    assert ks.outcome == "failed"  # D >= 0.2 for certain
    near = r["ks-near"]  # a threshold inside the bounds: never a pass or a fail on it
    assert near.outcome == "error" and near.reason.startswith("undecided: the value lies between")
    w = r["w"]
    wl, wh = w.details["value_bounds"]
    exact_rational = exact_w1(x, y)
    assert wl <= exact_rational <= wh and w.outcome == "passed"
    assert wh - wl < 1e-6 * exact_w  # the outlier sits alone in its cell: its share is known exactly
    cells = w.details["cells"]
    assert 256 <= cells <= 2 * 256 + 2


def test_a_value_that_occurs_very_often_gets_its_own_cell(tmp_path, small_cap):
    rng = np.random.default_rng(4)
    x = np.r_[rng.uniform(0, 1, 1000), np.zeros(4000)]
    y = np.r_[rng.uniform(0, 1, 1000), np.zeros(1000)]
    path, ref = _write(tmp_path, x, y)
    rules = load_rules({"version": 1, "rules": [{"id": "ks", "metric": "ks_test", "column": "v", "reference": ref, "max": 0.5, "grid": 64}]})
    ks = validate(path, rules)["ks"]
    low, high = ks.details["statistic_bounds"]
    exact = scipy.stats.ks_2samp(x, y).statistic  # 0.8 - 0.5 = 0.3 at the zeros
    assert "single-value cell for each of the 1 values" in ks.details["method"]
    assert low <= exact <= high and high - low <= 2 / 64 + 1e-12


def test_cell_extremes_match_brute_force_and_the_histogram_cells():
    from validator.summaries.distinct import cell_extremes
    from validator.summaries.histogram import cell_counts

    rng = np.random.default_rng(11)
    for _ in range(100):
        v = np.r_[rng.normal(size=rng.integers(0, 300)), rng.integers(-3, 4, rng.integers(0, 50)).astype(float),
                  [np.inf, -np.inf][: rng.integers(0, 3)]]  # values on edges, and in the tails
        e = np.unique(rng.integers(-3, 4, rng.integers(2, 8)).astype(float))
        if e.size < 2:
            continue
        lo, hi = cell_extremes(v, e)
        c = cell_counts(v, e)
        for i in range(e.size + 1):
            # cell i by definition: below e_0, [e_{i-1}, e_i) with the last closed, above e_k
            if i == 0:
                m = v[v < e[0]]
            elif i == e.size:
                m = v[v > e[-1]]
            else:
                m = v[(v >= e[i - 1]) & ((v < e[i]) if i < e.size - 1 else (v <= e[i]))]
            assert m.size == c[i]
            assert (lo[i], hi[i]) == ((m.min(), m.max()) if m.size else (np.inf, -np.inf))


def test_cli_exit_codes_for_an_outlier_and_an_undecided_bound(tmp_path, capsys, monkeypatch):
    from validator.cli import run as cli

    x, y = OUTLIER_CASES["high_outlier"]
    pd.DataFrame({"v": x}).to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame({"v": y}).to_csv(tmp_path / "ref.csv", index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules:\n  - {id: ks, metric: ks_test, column: v, reference: {file: ref.csv, column: v}, max: 0.1}\n")
    for extra in ([], ["--engine", "stream", "--batch-rows", "50"]):
        assert cli(["--rules", str(rules), str(tmp_path / "data.csv"), "--quiet", *extra]) == 1  # D ~ 0.3 > 0.1: failed
    rules.write_text("version: 1\nrules:\n  - {id: ks, metric: ks_test, column: v, reference: {file: ref.csv, column: v}, max: 0.9}\n")
    assert cli(["--rules", str(rules), str(tmp_path / "data.csv"), "--quiet"]) == 0
    # past the cap, a bound inside the error bound is an error (exit 1), never a pass
    monkeypatch.setattr(dist, "EXACT_DISTINCT_CAP", 100)
    d = scipy.stats.ks_2samp(x, y).statistic
    rules.write_text(f"version: 1\nrules:\n  - {{id: ks, metric: ks_test, column: v, reference: {{file: ref.csv, column: v}}, max: {d:.6f}, grid: 16}}\n")
    capsys.readouterr()
    assert cli(["--rules", str(rules), str(tmp_path / "data.csv"), "--quiet", "--format", "json"]) == 1
    import json

    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["outcome"] == "error" and result["reason"].startswith("undecided")
