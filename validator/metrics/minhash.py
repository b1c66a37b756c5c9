"""Near-duplicate texts by MinHash locality-sensitive hashing, in bounded memory.

A text becomes its set of shingles (character or word n-grams); two texts are near duplicates
when the Jaccard similarity J(A, B) = |A & B| / |A | B| of their sets reaches a threshold.
A MinHash signature of ``num_perm`` values agrees with another's in each value with
probability J (Broder 1997, "On the resemblance and containment of documents"). LSH banding
cuts the signature into ``b`` bands of ``r`` values: two texts whose signatures agree on a whole
band are a candidate pair, which happens with probability 1 - (1 - J^r)^b (Leskovec, Rajaraman
& Ullman, *Mining of Massive Datasets*, 3rd ed., section 3.4). Every candidate pair is then
verified with the exact Jaccard similarity of its two shingle sets, so no pair below the
threshold is ever counted; a pair the bands never propose is missed, so the share of rows with
a near duplicate is a lower bound of the all-pairs value.

What is kept per row is one 64-bit key per band (``b`` x 8 bytes) and nothing of the text;
candidate pairs come from sorting each band's keys (one band at a time, O(n log n) each).
The signatures are computed by rensa (MIT, Rust) from 64-bit shingle ids; this module is the
banding, the candidate pairs and their verification, in numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rensa import RMinHash

WORD = re.compile(r"\w+")  # a word: a run of word characters (as validator.summaries.text counts words)

#: LSH is tuned below the rule's threshold and for few false negatives; every candidate pair
#: is then checked with the exact Jaccard similarity of its two shingle sets.
LSH_MARGIN = 0.15
LSH_WEIGHTS = (0.05, 0.95)
#: a bucket (rows sharing one band key) of at most this many rows proposes all its pairs; a
#: larger one proposes each row with the bucket's first row only (fewer candidates: still a
#: lower bound)
MAX_BUCKET = 2000

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser of every element, in place (Steele, Lea & Flood 2014, "Fast
    splittable pseudorandom number generators", OOPSLA): a bijection of the 64-bit integers
    whose output bits each depend on every input bit.

    Parameters
    ----------
    z : ndarray of uint64
        Modified in place (uint64 array arithmetic wraps modulo 2^64).

    Returns
    -------
    ndarray of uint64
        ``z``.
    """
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def shingles(text: str, unit: str, size: int) -> set[str]:
    """The set of ``size``-grams of a text's characters or words (``\\w+`` runs, joined by one
    space); a text shorter than one shingle (or, for words, without any word) is its own single
    shingle, so two such texts match only when they are equal. The reference definition of
    the sets (tests compare the hashed shingle ids of validator.summaries.text with it).

    >>> sorted(shingles("abcd", "char", 3))
    ['abc', 'bcd']
    >>> sorted(shingles("to be or", "word", 2))
    ['be or', 'to be']
    >>> shingles("!!!", "word", 2) == shingles("???", "word", 2)
    False
    """
    if unit == "char":
        grams = {text[i : i + size] for i in range(len(text) - size + 1)}
    else:
        parts = WORD.findall(text)
        grams = {" ".join(parts[i : i + size]) for i in range(len(parts) - size + 1)}
        if not grams and parts:
            grams = {"\x00words\x00" + " ".join(parts)}
    if not grams:
        grams = {"\x00whole\x00" + text}  # cannot collide with an n-gram of another text
    return grams


def jaccard(a: set, b: set) -> float:
    """Jaccard similarity |A & B| / |A | B| of two non-empty sets (Jaccard 1901)."""
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


#: characters of text whose shingle ids are computed at once: arrays of a chunk stay in the
#: CPU's cache (2.5x faster than 2^21 characters at once)
CACHE_CHARS = 1 << 15
#: characters of text signed at once (rensa, on every core)
CHUNK_CHARS = 1 << 20


def _string_ids(strings: list[str]) -> np.ndarray:
    """rensa's 64-bit hash of each string, shape (k,) uint64."""
    if not strings:
        return np.empty(0, dtype=np.uint64)
    return np.asarray(RMinHash.hash_token_sets([strings])[0], dtype=np.uint64)


def _windows(seq: np.ndarray, lengths: np.ndarray, size: int, packed: bool) -> np.ndarray:
    """The id of every window of ``size`` consecutive units of each text (none spanning two),
    in reading order: splitmix64 chained over the units (char units packed three code points of
    21 bits per step, so each step's input is exact)."""
    m = seq.size - size + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    s = seq.astype(np.uint64)
    step = 3 if packed else 1
    h = np.full(m, (0x9E3779B97F4A7C15 * size) & (2**64 - 1), dtype=np.uint64)
    for j0 in range(0, size, step):
        g = s[j0 : j0 + m].copy()
        for j in range(j0 + 1, min(j0 + step, size)):
            g <<= np.uint64(21)
            g |= s[j : j + m]
        h ^= g
        h += _GOLDEN
        mix64(h)
    ends = np.cumsum(lengths)
    ok = np.ones(m, dtype=bool)  # a window starts anywhere but in the last size - 1 units of a text
    for k in range(1, size):
        cut = (ends - k)[(lengths >= k) & (ends - k < m)]
        ok[cut] = False
    return h[ok]


def _shingle_ids(texts: list[str], unit: str, size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`shingle_ids` of texts of a few CHUNK_CHARS characters."""
    if unit == "char":
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        seq = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        words = None
    else:
        words = [WORD.findall(t) for t in texts]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        seq = _string_ids([w for ws in words for w in ws])
    ids = _windows(seq, lengths, size, packed=unit == "char")
    per_text = np.maximum(lengths - size + 1, 0)
    short = np.flatnonzero(per_text == 0)
    if short.size:
        sentinel = []
        for i in short.tolist():
            if words is not None and words[i]:
                sentinel.append("\x00words\x00" + " ".join(words[i]))
            else:
                sentinel.append("\x00whole\x00" + texts[i])
        counts = per_text.copy()
        counts[short] = 1
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        out = np.empty(int(offsets[-1]), dtype=np.uint64)
        regular = np.ones(out.size, dtype=bool)
        regular[offsets[short]] = False
        out[regular] = ids
        out[offsets[short]] = _string_ids(sentinel)
        return out, offsets, int(short.size)
    return ids, np.concatenate([[0], np.cumsum(per_text)]).astype(np.int64), 0


def shingle_ids(texts: list[str], unit: str, size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """64-bit ids of every shingle of each text (:func:`shingles`, hashed), vectorised.

    Char shingles are windows of the texts' code points (their UTF-32 encoding), word shingles
    windows of the words' 64-bit hashes (rensa); a text shorter than one shingle is one id, the
    hash of its :func:`shingles` sentinel string. Two different shingles share an id with
    probability about 2^-64, so the Jaccard similarity of two id sets is that of the shingle
    sets but for a chance of about L^2 / 2^64 for texts of L shingles.

    Parameters
    ----------
    texts : list of str, length k
    unit : {"char", "word"}
    size : int >= 1

    Returns
    -------
    ids : ndarray of uint64, shape (N,)
        Text i's shingle ids are ``ids[offsets[i]:offsets[i + 1]]`` (repeats kept, in order).
    offsets : ndarray of int64, shape (k + 1,)
    short : int
        Texts shorter than one shingle (taken whole).
    """
    parts = [_shingle_ids(chunk, unit, size) for chunk in chunks(texts, CACHE_CHARS)]
    if len(parts) == 1:
        return parts[0]
    ids = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.uint64)
    counts = np.concatenate([np.diff(p[1]) for p in parts]) if parts else np.empty(0, dtype=np.int64)
    return ids, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), sum(p[2] for p in parts)


def shingle_sets(texts: list[str], unit: str, size: int) -> list[np.ndarray]:
    """The sorted distinct shingle ids of each text (:func:`shingle_ids`), computed in chunks
    of about CHUNK_CHARS characters."""
    out: list = []
    for chunk in chunks(texts):
        ids, offsets, _ = shingle_ids(chunk, unit, size)
        out.extend(np.unique(ids[a:b]) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist()))
    return out


def chunks(texts: list[str], chars: int = CHUNK_CHARS):
    """Consecutive slices of ``texts`` of about ``chars`` characters each (at least one text)."""
    start, total = 0, 0
    for i, t in enumerate(texts):
        total += len(t)
        if total >= chars:
            yield texts[start : i + 1]
            start, total = i + 1, 0
    if start < len(texts):
        yield texts[start:]


@lru_cache(maxsize=64)
def lsh_bands(threshold: float, num_perm: int, weights: tuple = LSH_WEIGHTS) -> tuple[int, int]:
    """The LSH banding (``b`` bands of ``r`` values, b * r <= num_perm) of least weighted error
    at ``threshold``.

    The error is ``w_fp * FP + w_fn * FN`` with FP = the integral over s in [0, t] of the
    probability 1 - (1 - s^r)^b that a pair of Jaccard s is a candidate, and FN = the integral
    over [t, 1] of the probability (1 - s^r)^b that it is not (the criterion of datasketch's
    MinHashLSH, which tests compare with; integrals by the trapezoid rule on 2,001 points per
    interval, error < 1e-7).

    Parameters
    ----------
    threshold : float in (0, 1)
    num_perm : int >= 2
    weights : (float, float)
        Weights of false positives and false negatives.

    Returns
    -------
    (int, int)
        ``(b, r)``.
    """
    s_lo = np.linspace(0.0, threshold, 2001)
    s_hi = np.linspace(threshold, 1.0, 2001)
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1, dtype=np.float64)[:, None]
        fp = np.trapezoid(1.0 - (1.0 - s_lo ** r) ** b, s_lo, axis=1)
        fn = np.trapezoid((1.0 - s_hi ** r) ** b, s_hi, axis=1)
        err = weights[0] * fp + weights[1] * fn
        i = int(np.argmin(err))
        if err[i] < best_err - 1e-12:
            best, best_err = (b, i + 1), float(err[i])
    return best


def lsh_threshold(threshold: float) -> float:
    """The similarity the bands are tuned for: LSH_MARGIN below the rule's threshold."""
    return max(0.05, threshold - LSH_MARGIN)


def signatures(ids: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures of sets of 64-bit shingle ids (rensa's R-MinHash).

    Parameters
    ----------
    ids : ndarray of uint64, shape (N,)
        The shingle ids of all sets, one set after the other (repeats do not matter).
    offsets : ndarray of int, shape (k + 1,)
        Set i is ``ids[offsets[i]:offsets[i + 1]]``; every set non-empty.
    num_perm : int
    seed : int

    Returns
    -------
    ndarray of uint32, shape (k, num_perm)
    """
    if offsets.size < 2:
        return np.empty((0, num_perm), dtype=np.uint32)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(
        np.ascontiguousarray(ids, dtype=np.uint64), np.ascontiguousarray(offsets, dtype=np.uint64), num_perm, seed
    )
    return np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(-1, num_perm)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band of each signature: splitmix64 chained over the band's values
    (two 32-bit values per step). Two signatures equal on a band get the same key; unequal ones
    the same key with probability about 2^-64.

    Parameters
    ----------
    sig : ndarray of uint32, shape (k, P), P >= bands * rows
    bands, rows : int

    Returns
    -------
    ndarray of uint64, shape (k, bands)
    """
    k = sig.shape[0]
    out = np.empty((k, bands), dtype=np.uint64)
    s = sig.astype(np.uint64)
    for j in range(bands):
        h = np.full(k, (0x9E3779B97F4A7C15 * (j + 1)) & (2**64 - 1), dtype=np.uint64)
        for c in range(j * rows, (j + 1) * rows, 2):
            v = s[:, c] << np.uint64(32)
            if c + 1 < (j + 1) * rows:
                v |= s[:, c + 1]
            h ^= v
            h += _GOLDEN
            mix64(h)
        out[:, j] = h
    return out


def bucket_pairs(keys: np.ndarray, candidates: np.ndarray | None = None, max_bucket: int = MAX_BUCKET) -> np.ndarray:
    """The pairs of rows that share a key: all pairs of a bucket of at most ``max_bucket`` rows,
    each row with the bucket's first row in a larger one.

    Parameters
    ----------
    keys : ndarray, shape (n,)
        One band's key of each row.
    candidates : ndarray of int, shape (n,), optional
        Which row each position stands for (default: the position).

    Returns
    -------
    ndarray of int64, shape (m, 2)
        Pairs (i, j), i < j, without repeats; none when no two keys are equal.
    """
    n = keys.size
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], sk[1:] != sk[:-1]]))
    sizes = np.diff(np.concatenate([starts, [n]]))
    rows = order if candidates is None else np.asarray(candidates)[order]
    out = []
    for m in np.unique(sizes[sizes > 1]).tolist():
        first = starts[sizes == m]
        if m <= max_bucket:
            a, c = np.triu_indices(m, k=1)
            i, j = rows[first[:, None] + a], rows[first[:, None] + c]
        else:
            i = np.repeat(rows[first], m - 1).reshape(first.size, m - 1)
            j = rows[first[:, None] + np.arange(1, m)]
        out.append(np.stack([np.minimum(i, j).ravel(), np.maximum(i, j).ravel()], axis=1))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(out).astype(np.int64)
    return unique_pairs(pairs)


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """The distinct rows of an (m, 2) int64 array of pairs, sorted by (i, j)."""
    if pairs.shape[0] == 0:
        return pairs.reshape(0, 2)
    return np.unique(pairs, axis=0)


def components(parent: np.ndarray) -> np.ndarray:
    """Root of every element of a union-find forest (pointer jumping, vectorised), shape (n,)."""
    parent = parent.copy()
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            return parent
        parent = nxt


def verify_pairs(pairs: np.ndarray, parent: np.ndarray, threshold: float, sets) -> tuple[int, int]:
    """Join, in the union-find forest ``parent``, every candidate pair whose exact Jaccard
    similarity reaches ``threshold``; a pair already in one component is skipped (joining it
    would change no component).

    Parameters
    ----------
    pairs : ndarray of int64, shape (m, 2)
        Candidate pairs (indices into ``parent``), in the order they are verified.
    parent : ndarray of int64, shape (n,)
        A union-find forest, modified in place.
    threshold : float
    sets : callable
        ``sets(indices) -> dict index -> sorted unique uint64 shingle ids`` for a block of rows.

    Returns
    -------
    (int, int)
        Pairs verified (their Jaccard computed), pairs that reached the threshold.
    """

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    verified = joined = 0
    block = 20_000
    for s0 in range(0, pairs.shape[0], block):
        part = pairs[s0 : s0 + block]
        todo = [(i, j) for i, j in part.tolist() if find(i) != find(j)]
        if not todo:
            continue
        have = sets(np.unique(np.asarray(todo, dtype=np.int64)))
        for i, j in todo:
            ri, rj = find(i), find(j)
            if ri == rj:
                continue
            a, b = have[i], have[j]
            inter = np.intersect1d(a, b, assume_unique=True).size
            verified += 1
            if inter / (a.size + b.size - inter) >= threshold:  # as jaccard(a, b) >= threshold
                parent[max(ri, rj)] = min(ri, rj)
                joined += 1
    return verified, joined


@dataclass(frozen=True)
class NearDuplicates:
    """Result of :func:`near_duplicates`.

    Attributes
    ----------
    fraction : float
        Share of texts with at least one near duplicate, in [0, 1].
    labels : ndarray of int64, shape (n,)
        Component of every text: texts linked by verified pairs (transitively) share one.
    pairs : int
        Candidate pairs that reached the threshold (and joined two components).
    candidates : int
        Distinct candidate pairs the bands proposed (texts with equal keys joined first).
    verified : int
        Candidate pairs whose exact Jaccard similarity was computed (the others were already
        in one component).
    exact_duplicates : int
        Texts joined to an equal text before banding (Jaccard 1).
    """

    fraction: float
    labels: np.ndarray
    pairs: int
    candidates: int
    verified: int
    exact_duplicates: int


def candidate_pairs(band_column, n_bands: int, text_keys: np.ndarray, max_bucket: int = MAX_BUCKET) -> tuple[np.ndarray, np.ndarray]:
    """Equal texts joined, then the candidate pairs of the bands.

    Parameters
    ----------
    band_column : callable
        ``band_column(j)`` -> ndarray of uint64, shape (n,): every text's key of band j (read
        one band at a time: the working memory is O(n) for any number of bands).
    n_bands : int
    text_keys : ndarray of uint64, shape (n,)
        A 64-bit key of each text: texts of equal key are joined at once (their Jaccard
        similarity is 1) and only the first of them takes part in the bands.

    Returns
    -------
    parent : ndarray of int64, shape (n,)
        The union-find forest with equal texts joined (each to the first of them).
    pairs : ndarray of int64, shape (m, 2)
        Distinct candidate pairs (i < j) among the first texts of each key, sorted.
    """
    n = text_keys.size
    _, first, inverse = np.unique(text_keys, return_index=True, return_inverse=True)
    parent = first[inverse.reshape(-1)].astype(np.int64)
    reps = np.flatnonzero(parent == np.arange(n))
    found = [bucket_pairs(np.asarray(band_column(j))[reps], reps, max_bucket) for j in range(n_bands)]
    pairs = unique_pairs(np.concatenate(found)) if found else np.empty((0, 2), dtype=np.int64)
    return parent, pairs


def near_duplicates(parent: np.ndarray, pairs: np.ndarray, threshold: float, sets) -> NearDuplicates:
    """Verify the candidate pairs (:func:`verify_pairs`) and measure the share of texts with a
    near duplicate.

    Parameters
    ----------
    parent, pairs : from :func:`candidate_pairs`
    threshold : float in (0, 1]
    sets : callable
        As in :func:`verify_pairs`.

    Returns
    -------
    NearDuplicates
    """
    parent = parent.copy()
    exact = int(np.count_nonzero(parent != np.arange(parent.size)))
    verified, joined = verify_pairs(pairs, parent, threshold, sets)
    labels = components(parent)
    sizes = np.bincount(labels, minlength=labels.size)
    fraction = float(np.count_nonzero(sizes[labels] > 1) / labels.size) if labels.size else 0.0
    return NearDuplicates(fraction, labels, joined, int(pairs.shape[0]), verified, exact)


def minhash_near_duplicates(
    texts: list[str],
    *,
    threshold: float = 0.8,
    unit: str = "char",
    size: int = 5,
    num_perm: int = 128,
    seed: int = 1,
) -> NearDuplicates:
    """Share of texts that have a near duplicate (shingle Jaccard >= ``threshold``) among the
    others, for texts in memory (the streaming engines compute the same from per-batch band
    keys; validator.checks.text).

    Parameters
    ----------
    texts : list of str, length n >= 1
    threshold : float in (0, 1]
        Jaccard similarity at or above which two texts are near duplicates.
    unit : {"char", "word"}
    size : int
        Shingle length in units.
    num_perm : int
        MinHash permutations (>= 2).
    seed : int
        Seed of the permutations (the result is deterministic for a seed).

    Returns
    -------
    NearDuplicates

    Raises
    ------
    ValueError
        No texts.

    Notes
    -----
    The bands (:func:`lsh_bands`) are tuned for ``threshold - 0.15`` with weights 0.05 / 0.95
    on false positives / false negatives, so that pairs at the threshold are candidates with
    high probability; each candidate pair is kept only when the exact Jaccard similarity of its
    shingle sets reaches ``threshold`` (no false positives). A pair the bands never propose is
    missed, so the fraction is a lower bound of the exact one (tests compare it with all-pairs
    Jaccard). Cost O(total characters + n * num_perm) to sign, O(b n log n) to find the
    candidates, O(candidates * shingles per text) to verify.
    """
    n = len(texts)
    if n == 0:
        raise ValueError("minhash_near_duplicates: no texts")
    bands, rows = lsh_bands(lsh_threshold(threshold), num_perm)
    keys = []
    for chunk in chunks(texts):
        ids, offsets, _ = shingle_ids(chunk, unit, size)
        keys.append(band_keys(signatures(ids, offsets, num_perm, seed), bands, rows))
    table = np.concatenate(keys)
    parent, pairs = candidate_pairs(lambda j: table[:, j], bands, _string_ids(texts))

    def sets(rows_wanted):
        return dict(zip(rows_wanted.tolist(), shingle_sets([texts[i] for i in rows_wanted.tolist()], unit, size)))

    return near_duplicates(parent, pairs, threshold, sets)
