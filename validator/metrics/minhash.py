"""Near-duplicate texts by MinHash locality-sensitive hashing (datasketch).

A text becomes its set of shingles (character or word n-grams); two texts are near duplicates
when the Jaccard similarity J(A, B) = |A & B| / |A | B| of their sets reaches a threshold.
MinHash estimates J with standard error sqrt(J (1 - J) / num_perm) (Broder 1997, "On the
resemblance and containment of documents"); LSH banding finds the candidate pairs in about O(n)
instead of comparing all n (n - 1) / 2 pairs (Leskovec, Rajaraman & Ullman, *Mining of Massive
Datasets*, ch. 3). Both come from datasketch (MIT), not our own code; a candidate pair is kept
when the exact Jaccard similarity of its shingle sets reaches the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import re

WORD = re.compile(r"\w+")  # a word: a run of word characters (as validator.summaries.text counts words)


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
    a text shorter than one shingle (or, for words, without any word) is its own single
    shingle, so two such texts match only when they are equal.

    >>> sorted(shingles("abcd", "char", 3))
    [b'abc', b'bcd']
    >>> sorted(shingles("to be or", "word", 2))
    [b'be or', b'to be']
    >>> shingles("!!!", "word", 2) == shingles("???", "word", 2)
    False
    """
    if unit == "char":
        grams = {text[i : i + size] for i in range(len(text) - size + 1)}
    else:
        parts = WORD.findall(text)
        grams = {" ".join(parts[i : i + size]) for i in range(len(parts) - size + 1)}
        if not grams and parts:
            grams = {" ".join(parts)}
    if not grams:
        grams = {"\x00whole\x00" + text}  # cannot collide with an n-gram of another text
    return {g.encode("utf-8", "surrogatepass") for g in grams}


#: LSH is tuned below the rule's threshold and for few false negatives; every candidate pair
#: is then checked with the exact Jaccard similarity of its two shingle sets.
LSH_MARGIN = 0.15
LSH_WEIGHTS = (0.05, 0.95)


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
        MinHash permutations (>= 32).
    seed : int
        Seed of the permutations (the result is deterministic for a seed).
    progress : callable(done, total), optional

    Returns
    -------
    NearDuplicates

    Raises
    ------
    ValueError
        No texts, or LSH parameters datasketch cannot build.

    Notes
    -----
    The LSH index (datasketch ``MinHashLSH``) is built for ``threshold - 0.15`` with weights
    0.05 / 0.95 on false positives / false negatives, so that pairs at the threshold are
    candidates with high probability; each candidate pair is kept only when the exact Jaccard
    similarity of its shingle sets reaches ``threshold`` (no false positives). A pair LSH
    never proposes is missed, so the fraction is a lower bound of the exact one (tests compare
    it with all-pairs Jaccard). Cost O(n * (shingles per text + num_perm)) time, O(n * num_perm)
    memory for the signatures plus the shingle sets.
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
        sets.append(shingles(t, unit, size))
        n_units = len(t) if unit == "char" else len(WORD.findall(t))
        short += n_units < size
    lsh = MinHashLSH(threshold=max(0.05, threshold - LSH_MARGIN), num_perm=num_perm, weights=LSH_WEIGHTS)
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
        a = sets[i]
        for j in lsh.query(m):
            if j > i:
                b = sets[j]
                inter = len(a & b)
                if inter >= threshold * (len(a) + len(b) - inter):
                    rows.append(i)
                    cols.append(j)
        if progress is not None and (i + 1) % step == 0:
            progress(n + i + 1, 2 * n)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    fraction = float(np.count_nonzero(sizes[labels] > 1) / n)
    return NearDuplicates(fraction=fraction, labels=labels, pairs=len(rows), no_shingles=int(short))
