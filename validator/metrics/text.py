"""Text statistics on token ids and text keys: type-token ratio, MATTR, exact duplicates.

Pure numpy. Tokenizing and hashing happen in :mod:`validator.summaries.text`; these kernels see
integer token ids in reading order (shape (N,)) or one 64-bit key per row (shape (n,)).
"""

from __future__ import annotations

import numpy as np


def _ids(tokens, name: str, func: str) -> np.ndarray:
    a = np.asarray(tokens)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        raise ValueError(f"{func}: '{name}' must be a 1-D array of integer ids; got dtype {a.dtype}, shape {a.shape}")
    return a


def type_token_ratio(tokens) -> float:
    """Type-token ratio TTR = V / N: distinct tokens (types) per token.

    Parameters
    ----------
    tokens : array_like of int, shape (N,)
        Token ids in reading order, N >= 1.

    Returns
    -------
    float
        In (0, 1]. Unitless.

    Raises
    ------
    ValueError
        No tokens, or ids that are not integers.

    Notes
    -----
    TTR falls as N grows (new types become rarer: Heaps' law, V ~ K N^beta with beta < 1), so
    it only compares texts or sets of about the same number of tokens; :func:`mattr` does not
    have this length bias. Source: Templin (1957), *Certain Language Skills in Children*;
    length bias: Covington & McFall (2010), J. Quantitative Linguistics 17(2).

    Examples
    --------
    "the cat saw the dog": 4 types, 5 tokens.

    >>> type_token_ratio([0, 1, 2, 0, 3])
    0.8
    """
    a = _ids(tokens, "tokens", "type_token_ratio")
    if a.size == 0:
        raise ValueError("type_token_ratio: no tokens")
    return float(np.unique(a).size / a.size)


def mattr(tokens, window: int) -> float:
    """Moving-average type-token ratio (MATTR) with a window of ``W`` tokens.

    ``MATTR = 1 / (N - W + 1) * sum_{s=0}^{N-W} V(s, s + W) / W``: the mean TTR of every
    window of W consecutive tokens (Covington & McFall 2010, J. Quantitative Linguistics 17(2),
    94-100). Unlike the plain TTR it does not depend on N.

    Computed exactly in O(N log N) without sliding: with ``prev[i]`` the last position before i
    holding the same token (or -1), token i is a new type in window s exactly when
    ``prev[i] < s <= i``, so ``sum_s V(s) = sum_i |{s : max(prev[i] + 1, i - W + 1, 0) <= s <=
    min(i, N - W)}|``.

    Parameters
    ----------
    tokens : array_like of int, shape (N,)
        Token ids in reading order.
    window : int
        W >= 1; needs N >= W.

    Returns
    -------
    float
        In (0, 1], unitless.

    Raises
    ------
    ValueError
        Fewer than W tokens, W < 1, or non-integer ids.

    Examples
    --------
    Windows of 3 over a b a c: (a b a) has 2 types, (b a c) 3: (2/3 + 3/3) / 2.

    >>> round(mattr([0, 1, 0, 2], 3), 6)
    0.833333
    """
    a = _ids(tokens, "tokens", "mattr")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"mattr: window must be an int >= 1; got {window!r}")
    n = a.size
    if n < window:
        raise ValueError(f"mattr: needs at least window = {window} tokens; got {n}")
    return float(window_type_total(a, window) / ((n - window + 1) * window))


def window_type_total(tokens, window: int) -> int:
    """``sum_s V(s, s + W)``: the number of distinct tokens of every window of W consecutive
    tokens, added up (0 when there are fewer than W tokens). :func:`mattr` divides it by
    ``(N - W + 1) W``; being an integer, it adds up exactly over pieces of a token stream
    (the streaming engine counts the windows inside each batch, then those across each boundary).

    Parameters
    ----------
    tokens : array_like of int, shape (N,)
        Token ids in reading order.
    window : int
        W >= 1.

    Returns
    -------
    int

    Examples
    --------
    >>> window_type_total([0, 1, 0, 2], 3)  # (a b a): 2, (b a c): 3
    5
    """
    a = np.asarray(tokens, dtype=np.int64)
    n = a.size
    if n < window:
        return 0
    order = np.argsort(a, kind="stable")
    sorted_ids = a[order]
    prev = np.full(n, -1, dtype=np.int64)
    same = sorted_ids[1:] == sorted_ids[:-1]
    prev[order[1:][same]] = order[:-1][same]
    i = np.arange(n, dtype=np.int64)
    lo = np.maximum(np.maximum(prev + 1, i - window + 1), 0)
    hi = np.minimum(i, n - window)
    return int(np.clip(hi - lo + 1, 0, None).sum())


def duplicate_fraction(keys) -> float:
    """Share of rows whose key equals another row's key (exact duplicates, both copies counted).

    ``1 - U`` where U is the uniqueness of Schelter et al. (2018, "Automating large-scale data
    quality verification", PVLDB 11(12)): the share of rows whose value occurs exactly once. It
    is the nearest-neighbour ``duplicate_fraction`` of :mod:`validator.metrics.distance` with
    epsilon = 0. Rows that an exact deduplication would drop:
    see :func:`clusters_from_labels` (``removable_rows``).

    Parameters
    ----------
    keys : array_like, shape (n,)
        One key per row (e.g. a 64-bit hash of the normalised text), n >= 1.

    Returns
    -------
    float
        In [0, 1], a fraction of rows.

    Examples
    --------
    >>> duplicate_fraction([7, 3, 7, 9])
    0.5
    """
    k = np.asarray(keys)
    if k.ndim != 1 or k.size == 0:
        raise ValueError(f"duplicate_fraction: keys must be a non-empty 1-D array; got shape {k.shape}")
    _, inverse, counts = np.unique(k, return_inverse=True, return_counts=True)
    return float(np.count_nonzero(counts[inverse.reshape(-1)] > 1) / k.size)


def clusters_from_labels(labels, row_ids, *, max_clusters: int = 5, max_examples: int = 5) -> dict:
    """Summarise duplicate clusters given one cluster label per row.

    Parameters
    ----------
    labels : array_like, shape (n,)
        Rows with equal labels form a cluster; clusters of one row are not duplicates.
    row_ids : array_like of int, shape (n,)
        Row numbers to report (0-based; reported 1-based, as data rows are numbered in messages).

    Returns
    -------
    dict
        ``clusters`` (number of clusters of two or more rows), ``rows_in_clusters``,
        ``removable_rows`` (rows a deduplication keeping one per cluster would drop),
        ``largest_cluster`` and ``examples``: up to ``max_clusters`` clusters, largest first,
        each a list of up to ``max_examples`` 1-based row numbers.
    """
    labels = np.asarray(labels)
    row_ids = np.asarray(row_ids)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    multi = np.flatnonzero(counts > 1)
    out = {
        "clusters": int(multi.size),
        "rows_in_clusters": int(counts[multi].sum()),
        "removable_rows": int((counts[multi] - 1).sum()),
        "largest_cluster": int(counts.max()) if counts.size else 0,
        "examples": [],
    }
    if multi.size:
        # largest clusters first; ties by their first row
        first = np.full(counts.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse, np.arange(inverse.size))
        chosen = sorted(multi.tolist(), key=lambda c: (-int(counts[c]), int(first[c])))[:max_clusters]
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        for c in chosen:
            members = order[starts[c] : starts[c + 1]][:max_examples]
            out["examples"].append([int(r) + 1 for r in row_ids[members]])
    return out
