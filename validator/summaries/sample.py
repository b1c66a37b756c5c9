"""Seeded, partition-independent row samples (docs/DESIGN.md, "Row samples").

A sample is the ``k`` rows with the smallest key ``row_hash(seed, i)``, where ``i`` is the
row's global index in the dataset (rows numbered across shards in sorted path order). The
key depends on nothing but the seed and the index, so the kept set is a pure function of
(data, seed, k): the same for any chunk size, shard split, merge order or engine. This is
"bottom-k" sampling by hashed keys (a uniform sample without replacement when the hash
behaves like a random permutation), the mergeable counterpart of reservoir sampling; see
Cohen, E. & Kaplan, H. (2007), "Summarizing data using bottom-k sketches", PODC.

This module owns the hash and the mergeable :class:`RowSample` summary; which rows are
valid (e.g. no NaN feature) is the caller's decision: it simply does not pass dropped rows,
and passes the global indices of the rows it does pass.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RowSample", "finite_rows_sample", "hash_indices", "row_hash", "smallest_hash_rows"]

_MASK64 = (1 << 64) - 1
# SplitMix64 constants (Steele, Lea & Flood 2014; Vigna's reference splitmix64.c).
_GAMMA = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, odd
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def _mix_scalar(z: int) -> int:
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK64
    return z ^ (z >> 31)


def _mix_inplace(z: np.ndarray) -> np.ndarray:
    # uint64 array arithmetic wraps modulo 2^64 silently (unlike numpy uint64 scalars).
    z ^= z >> np.uint64(30)
    z *= np.uint64(_MIX1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_MIX2)
    z ^= z >> np.uint64(31)
    return z


def _check_seed(seed: int, func: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= _MASK64:
        raise ValueError(f"The 'seed' parameter of {func} must be an int in [0, 2**64). Got {seed!r} instead.")
    return int(seed)


def _stream_key(seed: int) -> int:
    # The first output of a SplitMix64 generator seeded with `seed`: nearby seeds get
    # unrelated streams (a raw seed would make seed s + GAMMA a shifted copy of seed s).
    return _mix_scalar((seed + _GAMMA) & _MASK64)


def hash_indices(seed: int, indices: np.ndarray) -> np.ndarray:
    """64-bit hash keys of arbitrary global row indices.

    ``h(seed, i) = mix(key + (i + 1) * GAMMA mod 2^64)`` with ``key = mix(seed + GAMMA)``
    and ``mix`` the SplitMix64 finaliser, i.e. ``h(seed, i)`` is output ``i + 1`` of a
    SplitMix64 generator whose state starts at ``key`` [1]_ [2]_.

    Parameters
    ----------
    seed : int
        In ``[0, 2**64)``.
    indices : array_like of int, shape (m,)
        Global row indices, ``>= 0``.

    Returns
    -------
    numpy.ndarray, shape (m,), uint64

    Notes
    -----
    For a fixed seed the map ``i -> h(seed, i)`` is a bijection of ``[0, 2**64)`` (``GAMMA``
    is odd and ``mix`` is invertible), so distinct rows never share a key.

    References
    ----------
    .. [1] Steele, G. L., Lea, D. & Flood, C. H. (2014). Fast splittable pseudorandom
       number generators. OOPSLA '14, 453-472.
    .. [2] Vigna, S. splitmix64.c, https://prng.di.unimi.it/splitmix64.c
    """
    seed = _check_seed(seed, "hash_indices")
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(
            "The 'indices' parameter of hash_indices must be a 1-D array of ints. "
            f"Got dtype {idx.dtype}, shape {idx.shape} instead."
        )
    if idx.size and int(idx.min()) < 0:
        raise ValueError(f"The 'indices' parameter of hash_indices must be >= 0. Got {int(idx.min())} instead.")
    z = idx.astype(np.uint64)
    z += np.uint64(1)
    z *= np.uint64(_GAMMA)
    z += np.uint64(_stream_key(seed))
    return _mix_inplace(z)


def smallest_hash_rows(seed: int, row_ids: np.ndarray, rows: int) -> np.ndarray:
    """Positions (into ``row_ids``) of the ``rows`` rows with the smallest ``hash_indices(seed,
    row id)``, ordered by row id; every position when there are no more than ``rows``.

    This is the seeded row sample of docs/DESIGN.md: the hash is a bijection of the row id for
    a fixed seed (no ties), so the choice depends on the row ids alone, not on how the rows
    were split into batches, shards or partitions.

    >>> smallest_hash_rows(0, np.arange(5), 9).tolist()
    [0, 1, 2, 3, 4]
    """
    row_ids = np.asarray(row_ids)
    if row_ids.size <= rows:
        return np.arange(row_ids.size)
    keep = np.argpartition(hash_indices(seed, row_ids), rows - 1)[:rows]
    return keep[np.argsort(row_ids[keep], kind="stable")]


def finite_rows_sample(arrays, row_ids: np.ndarray, rows: int, seed: int, below=None, block: int = 1 << 16):
    """The seeded row sample over feature columns: positions of the at most ``rows`` rows whose
    values are finite in every array, with the smallest ``hash_indices(seed, row id)``.

    Parameters
    ----------
    arrays : list of ndarray, each shape (n,)
        Feature columns (any real dtype; integers are always finite).
    row_ids : ndarray of int, shape (n,)
        Global row ids (increasing).
    rows : int
        Sample size.
    seed : int
        In ``[0, 2**64)``.
    below : numpy.uint64, optional
        Keep only keys below it: the largest key of a full sample already merged from other
        rows (no row with a larger key can enter the final sample).
    block : int
        Rows hashed and checked at a time (the temporaries stay in the CPU cache).

    Returns
    -------
    positions : ndarray of intp, shape (m,), m <= rows
        Ascending.
    n_valid : int
        Rows with every value finite (the population sampled from).

    Notes
    -----
    The same choice as ``smallest_hash_rows`` over the valid rows, cut to ``below``: the hash
    is a bijection of the row id, so no two rows tie.
    """
    n = len(row_ids)
    n_valid = 0
    pos, key = np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint64)
    hash_indices(seed, row_ids[:1])  # checks the seed and the ids' type once, not per block
    if n and int(row_ids[0]) < 0:
        raise ValueError(f"row ids must be >= 0. Got {int(row_ids[0])} instead.")
    stream = np.uint64(_stream_key(seed))
    positions, keys, pending = [], [], 0
    # a column with no NaN or inf (one vectorised test) needs no row-by-row mask
    floats = [a for a in arrays if a.dtype.kind == "f" and not np.isfinite(a).all()]
    for start in range(0, n, block):
        stop = min(start + block, n)
        h = row_ids[start:stop].astype(np.uint64)  # hash_indices, without its per-call checks
        h += np.uint64(1)
        h *= np.uint64(_GAMMA)
        h += stream
        _mix_inplace(h)
        if floats:
            keep = np.isfinite(floats[0][start:stop])
            for a in floats[1:]:
                keep &= np.isfinite(a[start:stop])
            n_valid += int(np.count_nonzero(keep))
            if below is not None:
                keep &= h < below
        else:
            n_valid += stop - start
            keep = h < below if below is not None else np.ones(stop - start, dtype=bool)
        at = np.flatnonzero(keep)
        positions.append(at + start)
        keys.append(h[at])
        pending += at.size
        if pending > 2 * rows or stop == n:
            # keep the rows smallest keys so far: their largest bounds what later blocks keep
            pos, key = np.concatenate([pos, *positions]), np.concatenate([key, *keys])
            positions, keys, pending = [], [], 0
            if pos.size > rows:
                top = np.argpartition(key, rows - 1)[:rows]
                pos, key = pos[top], key[top]
                below = key.max() if below is None else min(below, key.max())
    return np.sort(pos), n_valid


def row_hash(seed: int, start: int, stop: int) -> np.ndarray:
    """Hash keys of the global rows ``start, start + 1, ..., stop - 1``.

    Equal to ``hash_indices(seed, np.arange(start, stop))``; see :func:`hash_indices` for the
    formula and its source (SplitMix64).

    Parameters
    ----------
    seed : int
        In ``[0, 2**64)``.
    start, stop : int
        ``0 <= start <= stop``.

    Returns
    -------
    numpy.ndarray, shape (stop - start,), uint64

    Examples
    --------
    >>> row_hash(42, 0, 3).dtype
    dtype('uint64')
    >>> bool((row_hash(42, 5, 8) == row_hash(42, 0, 8)[5:]).all())
    True
    """
    for name, v in (("start", start), ("stop", stop)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"The {name!r} parameter of row_hash must be an int >= 0. Got {v!r} instead.")
    if stop < start:
        raise ValueError(f"The 'stop' parameter of row_hash must be >= start ({start}). Got {stop!r} instead.")
    return hash_indices(seed, np.arange(int(start), int(stop), dtype=np.uint64))


class RowSample:
    """Mergeable bottom-k row sample: the ``k`` rows with the smallest hash keys.

    Parameters
    ----------
    k : int
        Requested sample size, ``>= 1``.
    seed : int
        Hash seed, in ``[0, 2**64)``.

    Notes
    -----
    Rows are ranked by ``(row_hash(seed, i), i)`` (the index only breaks ties, which a
    bijective hash never produces). Because a row's rank does not depend on which other
    rows were seen in the same chunk, ``update`` over any chunking and ``merge`` in any
    order keep the same rows; memory is ``O(k d)``. Chunks must be disjoint: a row passed
    twice is counted twice in ``n_seen`` (``merge`` refuses overlapping samples it can see).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(40.0).reshape(20, 2)
    >>> a, b = RowSample(7, seed=42), RowSample(7, seed=42)
    >>> a.update(X[:13], start=0); b.update(X[13:], start=13)
    >>> whole = RowSample(7, seed=42); whole.update(X, start=0)
    >>> bool((a.merge(b).indices == whole.indices).all()), len(whole.indices), whole.exact
    (True, 7, False)
    """

    def __init__(self, k: int, seed: int) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"The 'k' parameter of RowSample must be an int >= 1. Got {k!r} instead.")
        self.k = int(k)
        self.seed = _check_seed(seed, "RowSample")
        self._keys = np.empty(0, dtype=np.uint64)
        self._indices = np.empty(0, dtype=np.int64)
        self._rows: np.ndarray | None = None
        self._n_seen = 0

    # -- building -------------------------------------------------------------------------
    def update(self, chunk: np.ndarray, start: int | None = None, *, indices: np.ndarray | None = None) -> None:
        """Offer the rows of one chunk.

        Parameters
        ----------
        chunk : array_like, shape (m, d)
            The chunk's rows (the caller has already dropped rows it does not want).
        start : int, optional
            Global index of the chunk's first row, when its rows are consecutive.
        indices : array_like of int, shape (m,), optional
            Global index of every row, when they are not (e.g. after dropping NaN rows).
            Give exactly one of ``start`` and ``indices``.
        """
        chunk = np.asarray(chunk)
        if chunk.ndim != 2:
            raise ValueError(
                f"The 'chunk' parameter of RowSample.update must be a 2-D array (m, d). Got shape {chunk.shape} instead."
            )
        m = chunk.shape[0]
        if (start is None) == (indices is None):
            raise ValueError("RowSample.update needs exactly one of 'start' (consecutive rows) and 'indices'.")
        if start is not None:
            if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
                raise ValueError(
                    f"The 'start' parameter of RowSample.update must be an int >= 0. Got {start!r} instead."
                )
            idx = np.arange(int(start), int(start) + m, dtype=np.int64)
        else:
            idx = np.asarray(indices)
            if idx.shape != (m,):
                raise ValueError(
                    "The 'indices' parameter of RowSample.update must have one entry per chunk row "
                    f"({m}). Got shape {idx.shape} instead."
                )
            idx = idx.astype(np.int64) if idx.size else np.empty(0, dtype=np.int64)
        self._check_width(chunk)
        self._n_seen += m
        if m == 0:
            return
        keys = hash_indices(self.seed, idx)
        # Only rows that can beat the current k-th key matter: filter before concatenating,
        # so a large chunk costs O(m), not O(m log m).
        if len(self._keys) == self.k:
            keep = keys <= self._keys.max()
            keys, idx, chunk = keys[keep], idx[keep], chunk[keep]
        if len(keys) > self.k:
            kth = np.partition(keys, self.k - 1)[self.k - 1]
            keep = keys <= kth
            keys, idx, chunk = keys[keep], idx[keep], chunk[keep]
        if len(keys):
            self._absorb(keys, idx, chunk)

    def merge(self, other: RowSample) -> RowSample:
        """A new sample of the union of both samples' rows (neither input changes)."""
        if not isinstance(other, RowSample):
            raise TypeError(f"RowSample.merge needs a RowSample. Got {type(other).__name__} instead.")
        if (self.k, self.seed) != (other.k, other.seed):
            raise ValueError(
                f"Cannot merge RowSample(k={self.k}, seed={self.seed}) with "
                f"RowSample(k={other.k}, seed={other.seed}): k and seed must match."
            )
        common = np.intersect1d(self._indices, other._indices)
        if common.size:
            raise ValueError(
                f"Cannot merge samples that share rows (global index {int(common[0])} is in both): "
                "chunks must be disjoint."
            )
        out = RowSample(self.k, self.seed)
        out._n_seen = self._n_seen + other._n_seen
        out._keys, out._indices, out._rows = self._keys, self._indices, self._rows
        if other._rows is not None:
            out._check_width(other._rows)
            out._absorb(other._keys, other._indices, other._rows)
        return out

    def _check_width(self, chunk: np.ndarray) -> None:
        if self._rows is not None and chunk.shape[1:] != self._rows.shape[1:]:
            raise ValueError(
                f"RowSample rows have {self._rows.shape[1]} columns; got a chunk with {chunk.shape[1]} columns."
            )

    def _absorb(self, keys: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
        if self._rows is None:
            all_keys, all_idx, all_rows = keys, idx, rows
        else:
            all_keys = np.concatenate([self._keys, keys])
            all_idx = np.concatenate([self._indices, idx])
            all_rows = np.concatenate([self._rows, rows])
        if len(all_keys) > self.k:
            # Rank by (key, index): lexsort's last key is the primary one.
            order = np.lexsort((all_idx, all_keys))[: self.k]
            all_keys, all_idx, all_rows = all_keys[order], all_idx[order], all_rows[order]
        self._keys, self._indices, self._rows = all_keys, all_idx, all_rows

    # -- reading --------------------------------------------------------------------------
    @property
    def _order(self) -> np.ndarray:
        return np.argsort(self._indices, kind="stable")

    @property
    def indices(self) -> np.ndarray:
        """Global indices of the kept rows, ascending (int64, shape (min(k, n_seen),))."""
        return self._indices[self._order]

    @property
    def rows(self) -> np.ndarray:
        """The kept rows in global row order, shape (min(k, n_seen), d).

        Before any row was offered the width is unknown: shape ``(0, 0)``.
        """
        if self._rows is None:
            return np.empty((0, 0))
        return self._rows[self._order]

    @property
    def n_seen(self) -> int:
        """Rows offered so far (over all updates and merged samples)."""
        return self._n_seen

    @property
    def exact(self) -> bool:
        """True when every row offered was kept (``n_seen <= k``): no sampling happened."""
        return self._n_seen <= self.k

    def __repr__(self) -> str:
        return f"RowSample(k={self.k}, seed={self.seed}, n_seen={self._n_seen}, kept={len(self._indices)})"
