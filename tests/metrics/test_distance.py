"""Tests of validator.metrics.distance.

Independent references: ``scipy.spatial.distance.pdist`` (all n(n-1)/2 pairs i < j) and
``cdist`` (full matrix, diagonal masked, for nearest neighbours), with numpy's default
``np.quantile`` (method "linear"). They materialise n x n, so they only run on small n.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import cdist, pdist

import validator.metrics.distance as dist_mod
from validator.metrics.distance import (
    STATISTICS,
    distance_statistic,
    nearest_neighbour_distances,
    standardize,
)

RTOL = 1e-9
ATOL = 1e-12  # cosine distances of near-parallel rows are ~1e-16 in scipy, 0 here


def reference_nn(X: np.ndarray, metric: str, exact_zero: bool = False) -> np.ndarray:
    # scipy.spatial.distance.cdist, self-distances masked out. With exact_zero, cosine is
    # taken in its difference form |u - v|^2 / 2 on unit rows u = x / |x| (the same value as
    # 1 - u.v), which is exactly 0 for rows whose unit vectors coincide, where scipy's
    # 1 - u.v may leave 2e-16: duplicate_fraction with epsilon 0 needs the exact zeros.
    if metric == "cosine" and exact_zero:
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        D = cdist(U, U, "sqeuclidean") / 2
    else:
        D = cdist(X, X, metric)
    np.fill_diagonal(D, np.inf)
    return D.min(axis=1)


def reference(X: np.ndarray, statistic: str, metric: str = "euclidean", q=None, epsilon=0.0) -> float:
    """The statistic straight from its definition over scipy's full distance lists."""
    pairs = pdist(X, metric)
    nn = reference_nn(X, metric)
    return {
        "mean": lambda: pairs.mean(),
        "median": lambda: np.median(pairs),
        "quantile": lambda: np.quantile(pairs, q),
        "min": lambda: pairs.min(),
        "mean_nn": lambda: nn.mean(),
        "quantile_nn": lambda: np.quantile(nn, q),
        "duplicate_fraction": lambda: np.mean(reference_nn(X, metric, exact_zero=True) <= epsilon),
    }[statistic]()


def kwargs_for(statistic: str, q: float = 0.3) -> dict:
    return {"q": q} if statistic in ("quantile", "quantile_nn") else {}


@pytest.fixture(params=["kdtree", "brute"])
def nn_search(request, monkeypatch):
    """Run nearest-neighbour statistics through both search paths."""
    if request.param == "brute":
        monkeypatch.setattr(dist_mod, "_KDTREE_MAX_DIM", 0)
    return request.param


# -- handed cases ------------------------------------------------------------------------

H12 = np.array([[1, 2], [1, 2], [3, 4], [0, 0]], dtype=float)
H10 = np.array(
    [[1, 1, 1, 1.2, 1.4, 4.4, -1, -22], [1, 1, 1, 1.2, 1.4, 4.4, -1, -22], [0, 1, 0, 3.2, 1.4, 4.4, -188, -72]]
)


def test_H12_nearest_neighbour_metrics_with_duplicates(nn_search):
    # Values from cases/README.md H12; by hand: d((1,2),(3,4)) = sqrt 8, d((1,2),(0,0)) = sqrt 5,
    # d((3,4),(0,0)) = 5, so the mean of the 6 pairs is (0 + 2 sqrt 8 + 2 sqrt 5 + 5) / 6.
    assert distance_statistic(H12, "min") == 0.0
    assert distance_statistic(H12, "mean") == pytest.approx(2.5214984, abs=5e-8)
    assert distance_statistic(H12, "mean") == pytest.approx((4 * math.sqrt(2) + 2 * math.sqrt(5) + 5) / 6, rel=1e-15)
    nn = nearest_neighbour_distances(H12)
    np.testing.assert_allclose(nn, [0, 0, 2.8284271, 2.2360680], atol=5e-8)
    assert nn[0] == 0.0 and nn[1] == 0.0
    assert distance_statistic(H12, "mean_nn") == pytest.approx(1.2661238, abs=5e-8)
    assert distance_statistic(H12, "duplicate_fraction") == 0.5
    assert distance_statistic(H12, "quantile_nn", q=0.0) == 0.0
    for s in STATISTICS:
        v = distance_statistic(H12, s, **kwargs_for(s))
        assert math.isfinite(v) and v >= 0


def test_H10_duplicate_rows_cancellation(nn_search):
    # cases/README.md H10: the Gram form alone leaves ~1e-7 here; the answer is exactly 0.
    assert distance_statistic(H10, "min") == 0.0
    assert distance_statistic(H10, "duplicate_fraction") == pytest.approx(2 / 3, rel=1e-15)
    assert distance_statistic(H10, "quantile", q=0.0) == 0.0
    nn = nearest_neighbour_distances(H10)
    assert nn[0] == 0.0 and nn[1] == 0.0
    # pdist: the two distinct pairs, 193.58460683... each
    assert distance_statistic(H10, "mean") == pytest.approx(pdist(H10).mean(), rel=RTOL)


def test_exact_zero_for_duplicates_far_from_origin():
    # Large offsets make |x|^2 + |y|^2 - 2 x.y lose ~all digits; duplicates must still give 0.
    rng = np.random.default_rng(7)
    X = 1e8 + rng.normal(size=(40, 6))
    X = np.vstack([X, X[:3]])
    assert distance_statistic(X, "min", block_rows=8) == 0.0
    assert distance_statistic(X, "duplicate_fraction", block_rows=8) == pytest.approx(6 / 43)
    nn = nearest_neighbour_distances(X)
    assert (nn[[0, 1, 2, 40, 41, 42]] == 0.0).all()
    np.testing.assert_allclose(nn, reference_nn(X, "euclidean"), rtol=1e-7)


# -- agreement with scipy ----------------------------------------------------------------


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize(
    ("n", "block_rows"),
    [(2, None), (3, None), (3, 2), (5, 4), (9, 4), (17, 4), (64, 7), (513, None)],
    ids=["n2", "n3", "n3-b2", "n5-b4", "n9-b4", "n17-b4", "n64-b7", "n513-default-block-plus-1"],
)
@pytest.mark.parametrize("statistic", STATISTICS)
def test_matches_scipy_reference(statistic, metric, n, block_rows, nn_search):
    rng = np.random.default_rng(n * 31 + len(statistic))
    X = rng.normal(size=(n, 5))
    for q in [0.0, 0.13, 0.5, 1.0] if "quantile" in statistic else [None]:
        kw = {"q": q} if q is not None else {}
        got = distance_statistic(X, statistic, metric=metric, block_rows=block_rows, **kw)
        want = reference(X, statistic, metric, q=q)
        assert got == pytest.approx(want, rel=RTOL, abs=ATOL), (statistic, q)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("statistic", STATISTICS)
def test_matches_scipy_with_ties_and_duplicates(statistic, metric, nn_search):
    # Small integer grid: many tied distances and repeated rows exercise the weighted paths.
    rng = np.random.default_rng(3)
    X = rng.integers(-2, 3, size=(120, 3)).astype(float)
    X = X[np.abs(X).sum(axis=1) > 0]  # cosine is undefined for the zero vector
    for q in [0.0, 0.07, 0.5, 0.93, 1.0] if "quantile" in statistic else [None]:
        kw = {"q": q} if q is not None else {}
        got = distance_statistic(X, statistic, metric=metric, block_rows=16, **kw)
        want = reference(X, statistic, metric, q=q)
        assert got == pytest.approx(want, rel=RTOL, abs=ATOL), (statistic, q)


def test_quantile_survives_collector_compression(monkeypatch):
    # Force the (value, count) compression of pass 2 on heavily tied distances.
    monkeypatch.setattr(dist_mod, "_COLLECT_COMPRESS", 10)
    monkeypatch.setattr(dist_mod, "_HIST_BINS", 4)
    X = np.array([[i % 4, i // 4] for i in range(16)] * 2, dtype=float)
    D = pdist(X)
    for q in [0.0, 0.2, 0.5, 0.77, 1.0]:
        assert distance_statistic(X, "quantile", q=q, block_rows=5) == pytest.approx(np.quantile(D, q), rel=RTOL)


def test_duplicate_fraction_with_epsilon(nn_search):
    X = np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0], [9.0, 9.0], [9.0, 9.0]])
    assert distance_statistic(X, "duplicate_fraction") == 0.4
    assert distance_statistic(X, "duplicate_fraction", epsilon=0.1) == 0.8
    assert distance_statistic(X, "duplicate_fraction", epsilon=0.0999) == 0.4
    assert distance_statistic(X, "duplicate_fraction", epsilon=100.0) == 1.0


def test_all_rows_identical():
    X = np.ones((6, 3))
    for s in STATISTICS:
        want = 1.0 if s == "duplicate_fraction" else 0.0
        assert distance_statistic(X, s, **kwargs_for(s)) == want
        assert distance_statistic(X, s, metric="cosine", **kwargs_for(s)) == want


def test_high_dimension_nearest_neighbours_use_brute_force():
    # Above _KDTREE_MAX_DIM columns the blocked search runs: check it against cdist.
    rng = np.random.default_rng(11)
    X = rng.normal(size=(50, 40))
    X[7] = X[3]
    nn = nearest_neighbour_distances(X, block_rows=16)
    np.testing.assert_allclose(nn, reference_nn(X, "euclidean"), rtol=RTOL)
    assert nn[3] == 0.0 and nn[7] == 0.0


def test_extreme_magnitudes_do_not_overflow():
    # Squares of 1e200 overflow float64; rows are rescaled by a power of two first.
    X = np.array([[1e200, 0.0], [0.0, 1e200], [1e200, 1e200]])
    assert distance_statistic(X, "min") == pytest.approx(1e200, rel=RTOL)
    assert distance_statistic(X, "mean") == pytest.approx((2 * 1e200 + math.sqrt(2) * 1e200) / 3, rel=RTOL)


# -- properties ---------------------------------------------------------------------------

# Coordinates on a 1/4 grid: translations and permutations are then exact in float64, and
# ties and duplicates are frequent.
grid = st.integers(-40, 40).map(lambda v: v / 4)
matrices = st.tuples(st.integers(2, 12), st.integers(1, 4)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=grid)
)
deterministic = settings(derandomize=True, max_examples=40, deadline=None)


def _stat_kwargs(statistic: str, q: float) -> dict:
    return {"q": q} if statistic in ("quantile", "quantile_nn") else {}


@deterministic
@given(X=matrices, statistic=st.sampled_from(STATISTICS), q=st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
def test_property_matches_reference(X, statistic, q):
    got = distance_statistic(X, statistic, block_rows=3, **_stat_kwargs(statistic, q))
    assert got == pytest.approx(reference(X, statistic, q=q), rel=RTOL, abs=ATOL)


@deterministic
@given(X=matrices, statistic=st.sampled_from(STATISTICS), seed=st.integers(0, 2**32 - 1))
def test_property_permutation_invariance(X, statistic, seed):
    perm = np.random.default_rng(seed).permutation(len(X))
    kw = _stat_kwargs(statistic, 0.3)
    a = distance_statistic(X, statistic, block_rows=4, **kw)
    b = distance_statistic(X[perm], statistic, block_rows=4, **kw)
    assert b == pytest.approx(a, rel=RTOL, abs=ATOL)


@deterministic
@given(
    X=matrices,
    statistic=st.sampled_from(STATISTICS),
    shift=hnp.arrays(np.float64, 4, elements=st.integers(-4000, 4000).map(lambda v: v / 4)),
)
def test_property_translation_invariance(X, statistic, shift):
    kw = _stat_kwargs(statistic, 0.3)
    a = distance_statistic(X, statistic, block_rows=4, **kw)
    b = distance_statistic(X + shift[: X.shape[1]], statistic, block_rows=4, **kw)
    assert b == pytest.approx(a, rel=RTOL, abs=ATOL)


@deterministic
@given(X=matrices, statistic=st.sampled_from(STATISTICS), c=st.sampled_from([-3.0, -1.0, 1e-3, 0.5, 2.0, 7.3, 1e3]))
def test_property_linear_scaling(X, statistic, c):
    kw = _stat_kwargs(statistic, 0.3)
    a = distance_statistic(X, statistic, block_rows=4, **kw)
    b = distance_statistic(c * X, statistic, block_rows=4, **kw)
    # A share of rows does not scale; every distance does, by |c|.
    factor = 1.0 if statistic == "duplicate_fraction" else abs(c)
    assert b == pytest.approx(factor * a, rel=RTOL, abs=ATOL)


@deterministic
@given(X=matrices, statistic=st.sampled_from(STATISTICS), c=st.sampled_from([-2.0, 0.1, 5.0]))
def test_property_cosine_scale_invariance(X, statistic, c):
    X = X[np.abs(X).sum(axis=1) > 0]
    if len(X) < 2:
        return
    kw = _stat_kwargs(statistic, 0.3)
    a = distance_statistic(X, statistic, metric="cosine", **kw)
    b = distance_statistic(c * X, statistic, metric="cosine", **kw)
    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


# -- memory ------------------------------------------------------------------------------


@pytest.mark.parametrize(("statistic", "d"), [("mean", 8), ("median", 8), ("min", 8), ("mean_nn", 8), ("mean_nn", 20)])
def test_never_materialises_n_by_n(statistic, d):
    rng = np.random.default_rng(5)
    n = 6000
    X = rng.normal(size=(n, d))
    tracemalloc.start()
    try:
        distance_statistic(X, statistic)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # An n x n float64 matrix is 288 MB; the tiles need a few MB.
    assert peak < n * n * 8 / 20, peak


# -- standardize -------------------------------------------------------------------------


def test_standardize_matches_zscore_and_zeroes_constant_columns():
    from scipy.stats import zscore

    X = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [8.0, 5.0, 0.0]])
    Z = standardize(X)
    np.testing.assert_allclose(Z[:, [0, 2]], zscore(X[:, [0, 2]], ddof=0), rtol=1e-12)
    assert (Z[:, 1] == 0.0).all()
    np.testing.assert_allclose(Z[:, [0, 2]].std(axis=0), 1.0)


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        ([[1.0, 2.0]], {}, r"at least 2 rows.*Got 1 row"),
        (np.empty((0, 3)), {}, r"at least 2 rows"),
        ([1.0, 2.0, 3.0], {}, r"2-D array"),
        (np.empty((3, 0)), {}, r"at least 1 column"),
        ([[1.0, np.nan], [2.0, 3.0]], {}, r"finite"),
        ([[1.0, np.inf], [2.0, 3.0]], {}, r"finite"),
        ([[1.0], [2.0]], {"statistic": "spread"}, r"The 'statistic' parameter .* must be one of"),
        ([[1.0], [2.0]], {"metric": "manhattan"}, r"The 'metric' parameter"),
        ([[1.0], [2.0]], {"statistic": "quantile"}, r"The 'q' parameter .* in \[0, 1\]"),
        ([[1.0], [2.0]], {"statistic": "quantile_nn", "q": 1.5}, r"The 'q' parameter"),
        ([[1.0], [2.0]], {"q": 0.5}, r"'q' parameter .* None unless"),
        ([[1.0], [2.0]], {"statistic": "duplicate_fraction", "epsilon": -1.0}, r"'epsilon'.*>= 0"),
        ([[1.0], [2.0]], {"block_rows": 0}, r"'block_rows'"),
        ([[1.0, 0.0], [0.0, 0.0]], {"metric": "cosine"}, r"zero vector: row 1"),
    ],
)
def test_invalid_input_raises(X, kwargs, match):
    kwargs = {"statistic": "mean", **kwargs}
    statistic = kwargs.pop("statistic")
    with pytest.raises(ValueError, match=match):
        distance_statistic(X, statistic, **kwargs)


def test_nearest_neighbour_distances_validates():
    with pytest.raises(ValueError, match="at least 2 rows"):
        nearest_neighbour_distances([[1.0, 2.0]])
