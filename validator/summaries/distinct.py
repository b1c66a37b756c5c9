"""Counts of a numeric column's distinct finite values, up to a cap (mergeable, pure numpy).

The summary behind exact Wasserstein-1 and Kolmogorov-Smirnov statistics: the sorted distinct
finite values with how often each occurs. Two summaries merge exactly (the union of values,
counts added); one with more than ``cap`` distinct values is ``None`` (too many to keep), and
stays ``None`` whatever it is merged with, so every batch split gives the same answer.
"""

from __future__ import annotations

import numpy as np


def distinct_counts(values: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted distinct finite values, int64 counts) of ``values`` (NaN-free, shape (n,)), or
    None when there are more than ``cap`` of them; -0.0 is counted as 0.0, +-inf are left out."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)] + 0.0
    u, c = np.unique(v, return_counts=True)
    return None if u.size > cap else (u, c.astype(np.int64))


def merge_distinct(a, b, cap: int):
    """Two :func:`distinct_counts` summaries merged (None when either is, or past ``cap``)."""
    if a is None or b is None:
        return None
    u, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    if u.size > cap:
        return None
    counts = np.zeros(u.size, dtype=np.int64)
    np.add.at(counts, inverse, np.concatenate([a[1], b[1]]))  # int64: exact for any count
    return u, counts


def cell_extremes(values: np.ndarray, edges) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest value in each of the k + 2 cells of ``edges`` (below-tail, k
    bins ``[e_{i-1}, e_i)`` with the last closed, above-tail; as
    :func:`~validator.summaries.histogram.cell_counts` assigns them), +inf / -inf for an empty
    cell. Mergeable: two summaries merge by elementwise min and max."""
    e = np.asarray(edges, dtype=np.float64)
    v = np.sort(np.asarray(values, dtype=np.float64))  # a sort, then the cells are runs (3x np.minimum.at)
    bounds = np.concatenate([[0], np.searchsorted(v, e[:-1], side="left"), np.searchsorted(v, e[-1:], side="right"), [v.size]])
    start, end = bounds[:-1], bounds[1:]
    full = end > start
    lo = np.full(e.size + 1, np.inf)
    hi = np.full(e.size + 1, -np.inf)
    lo[full], hi[full] = v[start[full]], v[end[full] - 1]
    return lo, hi
