"""Near-duplicate texts by MinHash locality-sensitive hashing (datasketch).

A text becomes its set of shingles (character or word n-grams); two texts are near duplicates
when the Jaccard similarity J(A, B) = |A & B| / |A | B| of their sets reaches a threshold.
MinHash estimates J with standard error sqrt(J (1 - J) / num_perm) (Broder 1997, "On the
resemblance and containment of documents"); LSH banding finds the candidate pairs in about O(n)
instead of comparing all n (n - 1) / 2 pairs (Leskovec, Rajaraman & Ullman, *Mining of Massive
Datasets*, ch. 3). Both come from datasketch (MIT), not our own code; a candidate pair is kept
when its MinHash estimate of J reaches the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..summaries.text import WORD


@dataclass(frozen=True)
class NearDuplicates:
    """Result of :func:`minhash_near_duplicates`.

    Attributes
    ----------
    fraction : float
        Share of texts with at least one near duplicate, in [0, 1].
    labels : ndarray of int, shape (n,)
        Cluster label of every text: texts linked by near-duplicate pairs (transitively) share one.
    pairs : int
        Candidate pairs that passed the threshold.
    no_shingles : int
        Texts shorter than one shingle, taken whole as their only shingle.
    """

    fraction: float
    labels: np.ndarray
    pairs: int
    no_shingles: int


def shingles(text: str, unit: str, size: int) -> set[bytes]:
    """The set of ``size``-grams of a text's characters or words (``\\w+`` runs), UTF-8 encoded;
    a text shorter than one shingle is its own single shingle.

    >>> sorted(shingles("abcd", "char", 3))
    [b'abc', b'bcd']
    >>> sorted(shingles("to be or", "word", 2))
    [b'be or', b'to be']
    """
    if unit == "char":
        parts = text
        grams = {text[i : i + size] for i in range(len(text) - size + 1)}
    else:
        parts = WORD.findall(text)
        grams = {" ".join(parts[i : i + size]) for i in range(len(parts) - size + 1)}
    if not grams:
        grams = {text if unit == "char" else " ".join(parts)}
    return {g.encode("utf-8") for g in grams}


def minhash_near_duplicates(
    texts: list[str],
    *,
    threshold: float = 0.8,
    unit: str = "char",
    size: int = 5,
    num_perm: int = 128,
    seed: int = 1,
    progress=None,
) -> NearDuplicates:
    """Share of texts that have a near duplicate (shingle Jaccard >= ``threshold``) among the others.

    Parameters
    ----------
    texts : list of str, length n >= 1
    threshold : float in (0, 1]
        Jaccard similarity at or above which two texts are near duplicates.
    unit : {"char", "word"}
    size : int
        Shingle length in units.
    num_perm : int
        MinHash permutations; the LSH bands are chosen by datasketch for the threshold.
    seed : int
        Seed of the permutations (the result is deterministic for a seed).
    progress : callable(done, total), optional

    Returns
    -------
    NearDuplicates

    Notes
    -----
    Cost O(n * (shingles per text + num_perm)) time and O(n * num_perm) memory; pairs are only
    verified among LSH candidates, so a pair just above the threshold can be missed (false
    negatives fall quickly above it) and the estimate of J has the standard error above.
    """
    from datasketch import MinHash, MinHashLSH
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(texts)
    if n == 0:
        raise ValueError("minhash_near_duplicates: no texts")
    sets = []
    short = 0
    for t in texts:
        s = shingles(t, unit, size)
        n_units = len(t) if unit == "char" else len(WORD.findall(t))
        short += n_units < size
        sets.append(s)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    step = 1000
    for s0 in range(0, n, step):
        batch = MinHash.bulk([list(s) for s in sets[s0 : s0 + step]], num_perm=num_perm, seed=seed)
        for i, m in enumerate(batch, start=s0):
            lsh.insert(i, m, check_duplication=False)
            hashes.append(m)
        if progress is not None:
            progress(min(s0 + step, n), 2 * n)
    rows, cols = [], []
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j > i and m.jaccard(hashes[j]) >= threshold:
                rows.append(i)
                cols.append(j)
        if progress is not None and (i + 1) % step == 0:
            progress(n + i + 1, 2 * n)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    fraction = float(np.count_nonzero(sizes[labels] > 1) / n)
    return NearDuplicates(fraction=fraction, labels=labels, pairs=len(rows), no_shingles=int(short))
