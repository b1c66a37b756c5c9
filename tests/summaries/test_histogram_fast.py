"""The equal-width fast path of cell_counts gives exactly what searchsorted gives (H09 ties)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.summaries.histogram import cell_counts


def reference(v, e):
    """The definition: [e_{i-1}, e_i) bins, the last closed, tails outside (np.searchsorted)."""
    v, e = np.asarray(v, float), np.asarray(e, float)
    idx = np.searchsorted(e, v, side="right")
    idx[v == e[-1]] = e.size - 1
    return np.bincount(idx, minlength=e.size + 1)


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-6, 1e4, allow_nan=False),
    k=st.integers(4, 60),
    data=st.data(),
)
def test_equal_width_edges_match_searchsorted(lo, width, k, data):
    edges = lo + width * np.arange(k + 1)
    picks = data.draw(st.lists(st.integers(0, k), min_size=1, max_size=40))
    values = list(edges[picks])  # values exactly on edges (ties)
    values += data.draw(st.lists(st.floats(lo - 3 * width, lo + (k + 3) * width, allow_nan=False), max_size=40))
    values += [np.nextafter(x, -np.inf) for x in edges[picks]] + [np.nextafter(x, np.inf) for x in edges[picks]]
    values += [np.inf, -np.inf]
    got = cell_counts(values, edges)
    assert got.tolist() == reference(values, edges).tolist()


def test_handed_case_h09():
    assert cell_counts([0, 0.5, 1, 1.5, 2], [0, 0.5, 1, 1.5, 2]).tolist() == [0, 1, 1, 1, 2, 0]


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-1e12, 1e12, allow_nan=False),
    width=st.floats(1e-9, 1e6, allow_nan=False),
    k=st.integers(4, 200),
    data=st.data(),
)
def test_data_range_edges_match_searchsorted(lo, width, k, data):
    # edges as bins: {count: k} makes them (equal_width_edges), at magnitudes where rounding
    # moves values across edges; every value near an edge must still land where searchsorted puts it
    from validator.summaries.histogram import equal_width_edges

    try:
        edges = equal_width_edges(lo, lo + width * k, k)
    except ValueError:  # k bins do not fit in float64 at this magnitude
        return
    picks = data.draw(st.lists(st.integers(0, k), min_size=1, max_size=30))
    values = list(edges[picks])
    values += [np.nextafter(x, -np.inf) for x in edges[picks]] + [np.nextafter(x, np.inf) for x in edges[picks]]
    values += list(np.linspace(edges[0] - width, edges[-1] + width, 97))
    assert cell_counts(values, edges).tolist() == reference(values, edges).tolist()


def test_blocks_add_up_to_the_whole():
    # more values than one block (validator.summaries.histogram.BLOCK), weighted and not
    from validator.summaries.histogram import BLOCK

    rng = np.random.default_rng(3)
    v = rng.normal(size=3 * BLOCK + 17)
    edges = np.linspace(-2, 2, 11)
    assert cell_counts(v, edges).tolist() == reference(v, edges).tolist()
    w = rng.random(v.size)
    idx = np.searchsorted(edges, v, side="right")
    np.testing.assert_allclose(cell_counts(v, edges, weights=w), np.bincount(idx, weights=w, minlength=12), rtol=1e-12)
