"""Approximate nearest neighbours for sets above the exact cap (faiss HNSW).

Exact nearest-neighbour search costs O(n^2 d) (blocked, :mod:`validator.metrics.distance`);
above :data:`EXACT_NN_CAP` rows, a hierarchical navigable small world graph (Malkov & Yashunin
2020, "Efficient and robust approximate nearest neighbor search using HNSW graphs", IEEE TPAMI
42(4)) from faiss (MIT; Johnson, Douze & Jegou 2019, "Billion-scale similarity search with
GPUs", IEEE Trans. Big Data) finds each row's nearest other row in about O(n log n).

Every run measures its own recall: for a seeded sample of query rows the exact nearest
neighbour is found by blocked brute force against all rows, and the share of queries whose
approximate neighbour is at the exact distance is reported with the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: Rows above which nearest-neighbour statistics use the approximate index (``nn_search: auto``).
EXACT_NN_CAP = 50_000
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
        Share of the sampled queries whose neighbour is at the exact nearest distance (within
        1e-9 relative).
    recall_queries : int
    """

    distances: np.ndarray
    neighbours: np.ndarray
    method: str
    recall_estimate: float
    recall_queries: int


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
    import faiss

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
    n, d = X.shape
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    faiss.omp_set_num_threads(_threads())
    index = faiss.IndexHNSWFlat(d, HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(X32)
    index.hnsw.efSearch = HNSW_EF_SEARCH
    _, found = index.search(X32, 3)
    rows = np.arange(n)
    # the first result that is not the row itself (an exact duplicate may come before it)
    pick = np.where(found[:, 0] != rows, found[:, 0], found[:, 1])
    pick = np.where(pick < 0, found[:, 2], pick)  # -1: fewer results than asked (tiny graphs)
    pick = np.where(pick < 0, (rows + 1) % n, pick).astype(np.int64)
    diff = X - X[pick]
    d2 = np.einsum("ij,ij->i", diff, diff)
    rng = np.random.default_rng(seed)
    q = np.sort(rng.choice(n, size=min(recall_queries, n), replace=False))
    exact = _exact_nn_of(X, q)
    hits = d2[q] <= exact * (1 + 1e-9) + 1e-300
    to_distance = (lambda v: v * 0.5) if metric == "cosine" else np.sqrt
    return ApproximateNeighbours(
        distances=np.asarray(to_distance(d2), dtype=np.float64),
        neighbours=pick,
        method=f"faiss HNSW (M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}, efSearch={HNSW_EF_SEARCH}), float32 index,"
        " distances recomputed in float64",
        recall_estimate=float(hits.mean()),
        recall_queries=int(q.size),
    )
