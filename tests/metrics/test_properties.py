"""Property tests over the whole metric registry (hypothesis, deterministic profile).

Every metric the rule model knows is registered in ``validator.metrics.REGISTRY``; the
properties below run for each by the kind of summary it reads: permutation invariance for all;
for counts the metric's own bounds (0 <= H <= log K, 1 <= D_q <= K, ...) and invariance to
scaling the counts; for references a value >= 0 and the identity value when the data follows
the reference (D(p || p) = 0); translation invariance and linear scaling for distances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.spatial.distance
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from validator.metrics import REGISTRY, STATISTICS
from validator.rules.model import RULE_TYPES

PROFILE = settings(derandomize=True, max_examples=60, deadline=None, database=None)

counts = st.lists(st.integers(0, 10_000), min_size=1, max_size=15).filter(lambda c: sum(c) > 0)
paired = st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 1000)), min_size=1, max_size=12)
points = st.integers(2, 12).flatmap(
    lambda n: st.lists(st.lists(st.integers(-50, 50), min_size=3, max_size=3), min_size=n, max_size=n)
)


def by_kind(kind):
    return [name for name, metric in REGISTRY.items() if metric.reads == kind]


def test_every_rule_metric_is_registered():
    assert set(REGISTRY) == set(RULE_TYPES)


@pytest.mark.parametrize("name", by_kind("counts"))
@PROFILE
@given(c=counts, rnd=st.randoms(use_true_random=False))
def test_count_metrics(name, c, rnd):
    metric = REGISTRY[name]
    value = metric.kernel(c)
    shuffled = list(c)
    rnd.shuffle(shuffled)
    assert metric.kernel(shuffled) == pytest.approx(value, rel=1e-12, abs=1e-12)
    lo, hi = metric.bounds(np.array(c))  # e.g. 0 <= H <= log K, 1 <= D_q <= K
    assert lo - 1e-9 <= value <= hi + 1e-9
    if name != "distinct_ratio":  # shares only: multiplying every count changes nothing (K / N does change)
        assert metric.kernel([x * 7 for x in c]) == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("name", by_kind("counts_and_reference"))
@PROFILE
@given(pairs=paired, rnd=st.randoms(use_true_random=False))
def test_reference_metrics(name, pairs, rnd):
    metric = REGISTRY[name]
    kernel = metric.kernel
    p = np.array([a for a, _ in pairs], dtype=float)
    q = np.array([b for _, b in pairs], dtype=float)
    q /= q.sum()
    # the value when the data follows the reference (0 for divergences); a square-root metric
    # turns the last-bit rounding of 123 q / sum(123 q) (~1e-17) into ~1e-8
    tolerance = 1e-7 if name == "js_distance" else 1e-12
    assert kernel(q * 123, q) == pytest.approx(metric.identity, abs=tolerance)
    if p.sum() == 0:
        return
    d = kernel(p, q)
    assert d >= 0.0 and not math.isnan(d)
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    assert kernel(p[perm], q[perm]) == pytest.approx(d, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("name", ["distance_spread"])
@PROFILE
@given(rows=points, shift=st.integers(-1000, 1000), scale=st.sampled_from([0.5, 2.0, 3.0]), rnd=st.randoms(use_true_random=False))
def test_point_metrics(name, statistic, rows, shift, scale, rnd):
    kernel = REGISTRY[name].kernel
    X = np.array(rows, dtype=float)
    kw = {"q": 0.3} if statistic in ("quantile", "quantile_nn") else {}
    value = kernel(X, statistic, **kw)
    order = list(range(len(X)))
    rnd.shuffle(order)
    assert kernel(X[order], statistic, **kw) == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert kernel(X + shift, statistic, **kw) == pytest.approx(value, rel=1e-9, abs=1e-9)
    if statistic == "duplicate_fraction":  # a fraction: scaling the points changes nothing at epsilon 0
        assert kernel(X * scale, statistic) == value
    else:
        assert kernel(X * scale, statistic, **kw) == pytest.approx(scale * value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@PROFILE
@given(rows=points, scale=st.sampled_from([0.5, 2.0, 3.0]), rnd=st.randoms(use_true_random=False))
def test_vendi_score(kernel, rows, scale, rnd):
    kernel_fn = REGISTRY["vendi_score"].kernel
    X = np.array(rows, dtype=float) + 0.5  # no all-zero row (the cosine kernel needs a direction)
    if kernel == "rbf":  # the median heuristic needs most pairs apart
        assume(np.median(scipy.spatial.distance.pdist(X)) > 0)
    value = kernel_fn(X, kernel=kernel)
    order = list(range(len(X)))
    rnd.shuffle(order)
    assert kernel_fn(X[order], kernel=kernel) == pytest.approx(value, rel=1e-9)
    assert 1.0 - 1e-9 <= value <= len(X) + 1e-9
    # both kernels are unchanged by scaling all rows (cosine: directions; rbf: the median heuristic scales too)
    assert kernel_fn(X * scale, kernel=kernel) == pytest.approx(value, rel=1e-7)
    if kernel == "rbf":
        assert kernel_fn(X + 17.0, kernel=kernel) == pytest.approx(value, rel=1e-7)  # translation invariant


hist_pairs = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=2, max_size=30).filter(
    lambda pairs: sum(a for a, _ in pairs) > 0 and sum(b for _, b in pairs) > 0
)


@pytest.mark.parametrize("name", by_kind("histograms"))
@PROFILE
@given(pairs=hist_pairs, width=st.sampled_from([0.1, 1.0, 7.0]))
def test_histogram_metrics(name, pairs, width):
    kernel = REGISTRY[name].kernel
    p = np.array([a for a, _ in pairs], dtype=float)
    q = np.array([b for _, b in pairs], dtype=float)
    edges = np.arange(len(p) + 1) * width
    call = (lambda a, b: kernel(a, b, edges)[0]) if name == "wasserstein_distance" else (lambda a, b: kernel(a, b)[0])
    assert call(p, p * 3) == 0.0  # identical distributions
    value = call(p, q)
    assert value >= 0.0 and value == pytest.approx(call(q, p), rel=1e-12)  # symmetric
    if name == "wasserstein_distance":  # linear in the units of the column
        assert kernel(p, q, edges * 2)[0] == pytest.approx(2 * value, rel=1e-12)
    else:
        assert value <= 1.0
