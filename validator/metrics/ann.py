"""Approximate nearest neighbours for sets above the exact cap (faiss HNSW).

Exact nearest-neighbour search costs O(n^2 d) (blocked, :mod:`validator.metrics.distance`);
above :data:`EXACT_NN_CAP` rows, a hierarchical navigable small world graph (Malkov & Yashunin
2020, "Efficient and robust approximate nearest neighbor search using HNSW graphs", IEEE TPAMI
42(4)) from faiss (MIT; Johnson, Douze & Jegou 2019, "Billion-scale similarity search with
GPUs", IEEE Trans. Big Data) finds each row's nearest other row in about O(n log n).

Identical rows are indexed once, with their multiplicity: a row with an exact copy has
nearest-neighbour distance 0 (the copy), exactly, and the index only answers for rows that
occur once (many copies of one vector otherwise fill the graph's neighbour lists with each
other and cut the rest of the graph off). Every run measures its own recall: for a seeded
sample of the rows the index answered, the exact nearest neighbour is found by blocked brute
force against all distinct rows, and the share of those queries whose approximate neighbour is
at the exact distance is reported with the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: Rows above which nearest-neighbour statistics use the approximate index (``nn_search: auto``).
EXACT_NN_CAP = 50_000
#: Rows up to which a verdict the approximate index cannot decide is measured exactly instead
#: (blocked brute force, O(n^2 d): about 70 s for 100,000 x 384 on 2 cores); above, an error.
NN_EXACT_FALLBACK_CAP = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
RECALL_QUERIES = 1_000


@dataclass(frozen=True)
class ApproximateNeighbours:
    """Result of :func:`approximate_nearest_neighbours`.

    Attributes
    ----------
    distances : ndarray of float64, shape (n,)
        Distance to the neighbour found, recomputed exactly (float64, from differences).
    neighbours : ndarray of int64, shape (n,)
    method : str
        Index and parameters, for reports.
    recall_estimate : float
        Share of the sampled queries (rows the index answered) whose neighbour is at the exact
        nearest distance (within 1e-9 relative); 1.0 when the index answered no row.
    recall_queries : int
    distinct_rows : int
        Rows indexed (distinct rows of X).
    duplicated_rows : int
        Rows with an exact copy: distance 0, exactly, without the index.
    """

    distances: np.ndarray
    neighbours: np.ndarray
    method: str
    recall_estimate: float
    recall_queries: int
    distinct_rows: int = 0
    duplicated_rows: int = 0


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def _exact_nn_of(X: np.ndarray, queries: np.ndarray, block: int = 4096) -> np.ndarray:
    """Exact squared nearest-other-row distances of rows ``queries`` against all rows of X
    (float64; brute force in column blocks, the best pair recomputed from differences)."""
    Q = X[queries]
    qn = np.einsum("ij,ij->i", Q, Q)
    best = np.full(queries.size, np.inf)
    arg = np.zeros(queries.size, dtype=np.int64)
    for c0 in range(0, X.shape[0], block):
        C = X[c0 : c0 + block]
        d2 = qn[:, None] + np.einsum("ij,ij->i", C, C)[None, :] - 2.0 * (Q @ C.T)
        own = (queries >= c0) & (queries < c0 + C.shape[0])
        d2[np.flatnonzero(own), queries[own] - c0] = np.inf
        a = d2.argmin(axis=1)
        v = d2[np.arange(queries.size), a]
        better = v < best
        best[better], arg[better] = v[better], a[better] + c0
    diff = Q - X[arg]
    return np.einsum("ij,ij->i", diff, diff)


def approximate_nearest_neighbours(
    X, metric: str = "euclidean", *, seed: int = 0, recall_queries: int = RECALL_QUERIES
) -> ApproximateNeighbours:
    """Each row's nearest other row by an HNSW index (faiss), with a measured recall.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Finite values, n >= 2.
    metric : {"euclidean", "cosine"}
        Cosine distance 1 - cos = |u - v|^2 / 2 on unit vectors u, v.
    seed : int
        Seed of the recall queries (the index itself is deterministic for a given input).
    recall_queries : int
        Queries checked against exact search (all rows when n is smaller).

    Returns
    -------
    ApproximateNeighbours
        Distances in the units of X (euclidean) or in [0, 2] (cosine).

    Raises
    ------
    ImportError
        faiss is not installed (``pip install faiss-cpu``).
    ValueError
        Fewer than 2 rows, non-finite values, or (cosine) a zero row.
    """
    import faiss  # noqa: F401 - the ImportError (and its hint) before any work

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or not np.isfinite(X).all():
        raise ValueError("approximate_nearest_neighbours: X must be a finite (n, d) array with n >= 2")
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1)
        if (norms == 0).any():
            raise ValueError(f"The cosine distance is undefined for a zero vector: row {int(np.flatnonzero(norms == 0)[0])} of X")
        X = X / norms[:, None]
    elif metric != "euclidean":
        raise ValueError(f"approximate_nearest_neighbours: metric must be 'euclidean' or 'cosine', got {metric!r}")
    n = X.shape[0]
    # each distinct row once (-0.0 as 0.0); a row with a copy is at distance 0 of it
    U, inverse, mult = np.unique(X + 0.0, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(mult)])
    nxt = np.arange(1, n + 1)
    nxt[starts[1:] - 1] = starts[:-1]  # the next copy, the last one back to the first
    neighbours = np.empty(n, dtype=np.int64)
    neighbours[order] = order[nxt]
    first = order[starts[:-1]]  # an input row of each distinct row
    once = np.flatnonzero(mult == 1)  # distinct rows the index must answer
    d2_distinct = np.zeros(U.shape[0])
    recall, queries = 1.0, 0
    if once.size:
        pick = _hnsw_nearest(U)
        diff = U - U[pick]
        d2_distinct = np.einsum("ij,ij->i", diff, diff)
        rng = np.random.default_rng(seed)
        q = np.sort(rng.choice(once, size=min(recall_queries, once.size), replace=False))
        exact = _exact_nn_of(U, q)
        recall = float((d2_distinct[q] <= exact * (1 + 1e-9) + 1e-300).mean())
        queries = int(q.size)
        alone = mult[inverse] == 1
        neighbours[alone] = first[pick[inverse[alone]]]
    d2 = np.where(mult[inverse] > 1, 0.0, d2_distinct[inverse])
    to_distance = (lambda v: v * 0.5) if metric == "cosine" else np.sqrt
    return ApproximateNeighbours(
        distances=np.asarray(to_distance(d2), dtype=np.float64),
        neighbours=neighbours,
        method=f"faiss HNSW (M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}, efSearch={HNSW_EF_SEARCH}), float32 index"
        " of the distinct rows, distances recomputed in float64",
        recall_estimate=recall,
        recall_queries=queries,
        distinct_rows=int(U.shape[0]),
        duplicated_rows=int(n - once.size),
    )


def _hnsw_nearest(U: np.ndarray) -> np.ndarray:
    """For each row of U (distinct rows, at least 2), the index of the nearest other row found
    by the HNSW graph (int64, shape (m,))."""
    import faiss  # faiss loads its native library on first use only

    m, d = U.shape
    X32 = np.ascontiguousarray(U, dtype=np.float32)
    faiss.omp_set_num_threads(_threads())
    index = faiss.IndexHNSWFlat(d, HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(X32)
    index.hnsw.efSearch = HNSW_EF_SEARCH
    _, found = index.search(X32, 3)
    rows = np.arange(m)
    # the first result that is not the row itself (rows equal in float32 may come first)
    pick = np.where(found[:, 0] != rows, found[:, 0], found[:, 1])
    pick = np.where(pick < 0, found[:, 2], pick)  # -1: fewer results than asked (tiny graphs)
    return np.where((pick < 0) | (pick == rows), (rows + 1) % m, pick).astype(np.int64)
