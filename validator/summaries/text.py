"""Texts of a column for the text rules: exclusions counted, normalised, tokenized, hashed.

Words are runs of Unicode word characters (regex ``\\w+``: letters, digits, marks, underscore
of every script). A script written without spaces (Chinese, Japanese, Thai) gives one "word" per
run of such characters, so word statistics of those languages count phrases; character n-grams
do not have this problem.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..metrics.minhash import band_keys, chunks, shingle_ids, signatures
from ..metrics.text import window_type_total
from .normalize import normalize_text
from .sample import smallest_hash_rows

WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TextRows:
    """The usable texts of a column, in row order.

    Attributes
    ----------
    texts : list of str, length k
        Normalised texts of the rows kept.
    positions : ndarray of int64, shape (k,)
        Their row positions in the frame.
    excluded : dict
        Rows left out, by reason: ``null``, ``empty`` (nothing but white space), ``not_text``
        (a number or other non-string value, e.g. from JSON Lines).
    first_not_text : int or None
        Position of the first non-text row (for the message).
    """

    texts: list
    positions: np.ndarray
    excluded: dict
    first_not_text: int | None

    def describe(self) -> dict:
        """The exclusions for a result's details."""
        return describe_texts(len(self.texts), self.excluded, self.first_not_text)


def describe_texts(n_texts: int, excluded: dict, first_not_text_row) -> dict:
    out = {"rows_with_text": n_texts, "excluded_rows": {k: v for k, v in excluded.items() if v}}
    if first_not_text_row is not None:
        out["first_not_text_row"] = first_not_text_row + 1
    return out


def merge_exclusions(excluded_a: dict, first_a, excluded_b: dict, first_b) -> tuple[dict, int | None]:
    """The exclusion counts of two sets of rows added up, and the earlier first non-text row
    (global row ids, or None)."""
    excluded = {k: excluded_a.get(k, 0) + excluded_b.get(k, 0) for k in excluded_a | excluded_b}
    firsts = [f for f in (first_a, first_b) if f is not None]
    return excluded, (min(firsts) if firsts else None)


@dataclass(frozen=True)
class TextKeys:
    """One 64-bit key per usable text of a column (:func:`text_keys` of the normalised text):
    what exact duplicates need, 16 bytes per row instead of the texts (mergeable: concatenate).

    Attributes
    ----------
    keys : ndarray of uint64, shape (k,)
    row_ids : ndarray of int64, shape (k,)
        Global row ids of the texts.
    excluded : dict
        As :class:`TextRows`.
    first_not_text : int or None
        Global row id of the first non-text row.
    """

    keys: np.ndarray
    row_ids: np.ndarray
    excluded: dict
    first_not_text: int | None

    def describe(self) -> dict:
        return describe_texts(int(self.keys.size), self.excluded, self.first_not_text)


@dataclass(frozen=True)
class TextSample:
    """The seeded sample of at most ``rows`` usable texts of a column: those of smallest
    ``hash_indices(seed, row id)`` (docs/DESIGN.md "Row samples"; mergeable like a row sample),
    with the counts of the whole column.

    Attributes
    ----------
    texts : list of str, length m <= rows
    row_ids : ndarray of int64, shape (m,)
        Global row ids, ascending.
    n_texts : int
        Usable texts in the column (the population sampled from).
    excluded : dict
    first_not_text : int or None
        Global row id of the first non-text row.
    seed, rows : int
    """

    texts: list
    row_ids: np.ndarray
    n_texts: int
    excluded: dict
    first_not_text: int | None
    seed: int
    rows: int

    def describe(self) -> dict:
        return describe_texts(self.n_texts, self.excluded, self.first_not_text)

    def merge(self, other: "TextSample") -> "TextSample":
        texts = self.texts + other.texts
        ids = np.concatenate([self.row_ids, other.row_ids])
        keep = smallest_hash_rows(self.seed, ids, self.rows)
        excluded, first = merge_exclusions(self.excluded, self.first_not_text, other.excluded, other.first_not_text)
        return TextSample(
            texts=[texts[i] for i in keep], row_ids=ids[keep], n_texts=self.n_texts + other.n_texts,
            excluded=excluded, first_not_text=first, seed=self.seed, rows=self.rows,
        )


def text_rows(series: pd.Series, spec) -> TextRows:
    """Split a column into usable texts (normalised under ``spec``, a ``NormalizeValues`` or
    None) and counted exclusions."""
    values = series.to_numpy(dtype=object, na_value=None)
    is_null = pd.isna(series).to_numpy()
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    not_text = ~is_null & ~is_str
    texts, positions, empty = [], [], 0
    for i in np.flatnonzero(is_str):
        t = values[i]
        if spec is not None:
            t = normalize_text(t, spec)
        if not t or t.isspace():
            empty += 1
            continue
        texts.append(t)
        positions.append(i)
    first = int(np.flatnonzero(not_text)[0]) if not_text.any() else None
    return TextRows(
        texts=texts,
        positions=np.asarray(positions, dtype=np.int64),
        excluded={"null": int(is_null.sum()), "empty": empty, "not_text": int(not_text.sum())},
        first_not_text=first,
    )


def text_keys(texts: list[str]) -> np.ndarray:
    """One 64-bit hash per text (pandas' SipHash-based ``hash_array``), shape (k,) uint64.

    Some two of k different texts share a key with probability about k^2 / 2^65 (birthday
    bound): 3e-8 for a million texts, 3e-4 for 10^8.
    """
    return pd.util.hash_array(np.asarray(texts, dtype=object), categorize=False)


def word_tokens(texts: list[str]) -> list[list[str]]:
    return [WORD.findall(t) for t in texts]


def token_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word ids of all texts in reading order, shape (N,) int64, and each text's word count (k,)."""
    words = word_tokens(texts)
    counts = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    flat = [w for ws in words for w in ws]
    ids, _ = pd.factorize(pd.Series(flat, dtype=object)) if flat else (np.empty(0, dtype=np.int64), None)
    return np.asarray(ids, dtype=np.int64), counts


def _units(texts: list[str], unit: str) -> tuple[np.ndarray, np.ndarray]:
    """The unit sequence of every text concatenated (code points or word ids), and lengths."""
    if unit == "char":
        joined = "".join(texts).encode("utf-32-le")
        seq = np.frombuffer(joined, dtype=np.uint32).astype(np.int64)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        return seq, lengths
    return token_ids(texts)


def ngram_counts(texts: list[str], unit: str, n: int) -> np.ndarray:
    """Counts of each distinct n-gram (exact, no hashing) pooled over the texts; n-grams never
    span two texts. Shape (K,), int64, in no particular order."""
    seq, lengths = _units(texts, unit)
    if seq.size < n:
        return np.empty(0, dtype=np.int64)
    text_of = np.repeat(np.arange(lengths.size), lengths)
    starts = np.flatnonzero(text_of[: seq.size - n + 1] == text_of[n - 1 :])
    if starts.size == 0:
        return np.empty(0, dtype=np.int64)
    grams = np.stack([seq[starts + j] for j in range(n)], axis=1)
    _, counts = np.unique(grams, axis=0, return_counts=True)
    return counts.astype(np.int64)


def ngram_table(texts: list[str], unit: str, n: int) -> dict:
    """Counts of each distinct n-gram, keyed by the n-gram itself (tables of different batches
    add key by key). Exact; n-grams never span two texts. The rules' form of before, kept as
    the readable reference of :class:`NgramCounts` in tests and the benchmark: a Python dict
    entry per distinct n-gram (~100+ bytes each), where NgramCounts keeps 16 bytes.

    Parameters
    ----------
    texts : list of str
    unit : {"char", "word"}
        Unicode code points, or ``\\w+`` runs.
    n : int
        n >= 1.

    Returns
    -------
    dict
        n-gram -> count (int); a char n-gram is its n characters, a word n-gram its n words
        joined by U+001F (which no word holds).
    """
    if unit == "char":
        seq, lengths = _units(texts, unit)
        vocab = None
    else:
        words = word_tokens(texts)
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        flat = [w for ws in words for w in ws]
        if flat:
            codes, vocab = pd.factorize(pd.Series(flat, dtype=object))
            seq = np.asarray(codes, dtype=np.int64)
        else:
            seq, vocab = np.empty(0, dtype=np.int64), None
    if seq.size < n:
        return {}
    text_of = np.repeat(np.arange(lengths.size), lengths)
    starts = np.flatnonzero(text_of[: seq.size - n + 1] == text_of[n - 1 :])
    if starts.size == 0:
        return {}
    grams = np.stack([seq[starts + j] for j in range(n)], axis=1)
    unique, counts = np.unique(grams, axis=0, return_counts=True)
    if vocab is None:
        keys = ["".join(map(chr, row)) for row in unique.tolist()]
    else:
        names = np.asarray(vocab, dtype=object)
        keys = ["\x1f".join(row) for row in names[unique].tolist()]
    return dict(zip(keys, counts.tolist()))


def _word_ids(words) -> np.ndarray:
    if not words:
        return np.empty(0, dtype=np.int64)
    codes, _ = pd.factorize(pd.Series(list(words), dtype=object))
    return np.asarray(codes, dtype=np.int64)


@dataclass(frozen=True)
class WindowTypes:
    """What a moving-average type-token ratio (MATTR) needs of a stretch of words, mergeable.

    ``total`` is :func:`~validator.metrics.text.window_type_total` over the windows inside
    the stretch; ``head`` and ``tail`` are its first and last ``window - 1`` words, from which
    :meth:`merge` counts the windows across the boundary of two consecutive stretches (each
    such window lies in ``a.tail + b.head``, and is counted at the one merge whose boundary it
    crosses last). Integers throughout: merged in any grouping, the total is the one of the
    whole stream. Memory: the distinct words and 2 (window - 1) words.
    """

    window: int
    total: int
    n: int
    head: tuple
    tail: tuple
    types: frozenset

    @classmethod
    def of(cls, texts: list[str], window: int) -> "WindowTypes":
        words = [w for t in texts for w in WORD.findall(t)]
        keep = window - 1
        return cls(window, window_type_total(_word_ids(words), window), len(words), tuple(words[:keep]),
                   tuple(words[max(len(words) - keep, 0):]) if keep else (), frozenset(words))

    def merge(self, other: "WindowTypes") -> "WindowTypes":
        keep = self.window - 1
        across = window_type_total(_word_ids(self.tail + other.head), self.window)
        head = (self.head + other.head)[:keep] if self.n < keep else self.head
        joined = self.tail + other.tail
        tail = joined[max(len(joined) - keep, 0):] if other.n < keep else other.tail
        return WindowTypes(self.window, self.total + other.total + across, self.n + other.n, head, tail if keep else (),
                           self.types | other.types)


def word_types(texts: list[str]) -> tuple[set, int]:
    """The distinct words (``\\w+`` runs) of the texts and the number of words: what a
    type-token ratio needs (mergeable: union the sets, add the counts)."""
    types: set = set()
    tokens = 0
    for t in texts:
        found = WORD.findall(t)
        types.update(found)
        tokens += len(found)
    return types, tokens


def text_lengths(series: pd.Series, unit: str) -> pd.Series:
    """Length of every text: Unicode code points (``chars``) or ``\\w+`` runs (``words``);
    nulls stay null; a non-text value is an error for the caller (returned as NaN-free mask)."""
    if unit == "chars":
        return series.map(lambda v: len(v) if isinstance(v, str) else v, na_action="ignore")
    return series.map(lambda v: len(WORD.findall(v)) if isinstance(v, str) else v, na_action="ignore")


# -- n-gram counts in bounded memory -----------------------------------------------------------

#: splitmix64 constants (Steele, Lea and Flood 2014), for the 64-bit n-gram hashes
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SAMPLE_SALT = np.uint64(0x5851F42D4C957F2D)
#: a char n-gram of n <= PACKED code points is its code points packed 21 bits each (exact)
PACKED = 3
#: the default memory budget of an n-gram count: distinct n-grams kept (16 bytes each)
MAX_NGRAMS = 1 << 22
#: characters of text whose n-grams are counted at once (NgramCounts.of)
CHUNK_CHARS = 1 << 20


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of every element (uint64, wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _sampled(ids: np.ndarray, level: int) -> np.ndarray:
    """Which n-gram ids are in the hash sample of rate 2^-level (all when level is 0)."""
    if level == 0:
        return np.ones(ids.size, dtype=bool)
    return (_mix(ids ^ _SAMPLE_SALT) >> np.uint64(64 - level)) == 0


@dataclass(frozen=True)
class NgramCounts:
    """Counts of the distinct n-grams of some texts, as sorted 64-bit ids: mergeable in bounded
    memory (at most ``cap`` distinct n-grams, 16 bytes each).

    An id is exact for a char n-gram of n <= 3 (its code points packed 21 bits each); otherwise
    it is a 64-bit hash (splitmix64 chained over the code points, or over pandas' 64-bit hashes
    of the words), so two of K distinct n-grams share an id with probability about K^2 / 2^65
    (5e-7 for K = 4 million).

    While at most ``cap`` distinct n-grams are seen, the table holds every one of them
    (``level`` 0). Past it, it keeps only the n-grams whose sampling hash falls in the lowest
    2^-level of the hash range, with ``level`` the smallest making them fit: a sample of the
    n-gram *types* at rate 2^-level whose counts are still exact (a type dropped once is never
    sampled again, as the level only grows). The level and the sample depend only on the whole
    data, not on how it was cut into batches, and ``total`` (all n-grams) stays exact.

    Attributes
    ----------
    ids : ndarray of uint64, shape (K,), strictly increasing
    counts : ndarray of int64, shape (K,)
    total : int
        Number of n-grams in the texts (sampled or not).
    level : int
        Sampling level: the types kept are those of sampling hash < 2^(64 - level).
    cap : int
    exact_ids : bool
        Whether an id is the n-gram itself (packed code points) rather than a hash.
    """

    ids: np.ndarray
    counts: np.ndarray
    total: int
    level: int
    cap: int
    exact_ids: bool

    @classmethod
    def of(cls, texts: list[str], unit: str, n: int, cap: int = MAX_NGRAMS) -> "NgramCounts":
        """The n-gram counts of ``texts`` (n-grams never span two texts), counted in chunks of
        about CHUNK_CHARS characters and merged: the working memory is a few arrays of one
        chunk's n-grams (~50 MB), however many texts are passed at once."""
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        ends = np.cumsum(lengths)
        cuts = np.unique(np.searchsorted(ends, np.arange(CHUNK_CHARS, int(ends[-1]) if ends.size else 0, CHUNK_CHARS), side="right"))
        out = None
        for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(texts)]):
            ids = ngram_ids(texts[a:b], unit, n)
            unique, counts = np.unique(ids, return_counts=True)
            part = cls(unique, counts.astype(np.int64), int(ids.size), 0, cap, unit == "char" and n <= PACKED)._fit()
            out = part if out is None else out.merge(part)
        return out

    def _fit(self) -> "NgramCounts":
        level, ids, counts = self.level, self.ids, self.counts
        while ids.size > self.cap:
            level += 1
            keep = _sampled(ids, level)
            ids, counts = ids[keep], counts[keep]
        return replace(self, ids=ids, counts=counts, level=level)

    def merge(self, other: "NgramCounts") -> "NgramCounts":
        """The counts of both sets of texts: a sorted merge of the ids, counts of equal ids added."""
        level = max(self.level, other.level)
        parts = []
        for part in (self, other):
            keep = _sampled(part.ids, level) if part.level < level else slice(None)
            parts.append((part.ids[keep], part.counts[keep]))
        ids = np.concatenate([parts[0][0], parts[1][0]])
        counts = np.concatenate([parts[0][1], parts[1][1]])
        order = np.argsort(ids, kind="stable")  # two sorted runs: merged in linear time
        ids, counts = ids[order], counts[order]
        if ids.size:
            starts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
            ids, counts = ids[starts], np.add.reduceat(counts, starts)
        return replace(self, ids=ids, counts=counts, total=self.total + other.total, level=level)._fit()


def ngram_ids(texts: list[str], unit: str, n: int) -> np.ndarray:
    """The id (uint64) of every n-gram of the texts in reading order, none spanning two texts.

    Vectorised: the texts become one array of code points (their UTF-32 encoding) or of word
    hashes; an n-gram starts at every position whose text holds n more units.
    """
    if unit == "char":
        seq = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    else:
        words = word_tokens(texts)
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        flat = [w for ws in words for w in ws]
        if flat:
            codes, vocab = pd.factorize(pd.Series(flat, dtype=object))
            seq = pd.util.hash_array(np.asarray(vocab, dtype=object), categorize=False)[codes]
        else:
            seq = np.empty(0, dtype=np.uint64)
    if seq.size < n:
        return np.empty(0, dtype=np.uint64)
    # an n-gram starts anywhere but in the last n - 1 units of a text
    ok = np.ones(seq.size, dtype=bool)
    ends = np.cumsum(lengths)
    for k in range(1, n):
        ok[(ends - k)[lengths >= k]] = False
    starts = np.flatnonzero(ok)
    if unit == "char" and n <= PACKED:
        ids = np.zeros(starts.size, dtype=np.uint64)
        for j in range(n):
            ids |= seq[starts + j].astype(np.uint64) << np.uint64(21 * (n - 1 - j))
        return ids
    if unit == "word" and n == 1:
        return seq[starts]
    ids = np.zeros(starts.size, dtype=np.uint64)
    for j in range(n):
        ids = _mix(ids * _GOLDEN + seq[starts + j].astype(np.uint64) + np.uint64(1))
    return ids


# -- MinHash band keys: what near duplicates keep per row ---------------------------------------

#: band keys kept in memory at most (bytes); past it, merged band keys are spilled to temporary
#: files and read back one band at a time
BAND_MEMORY = 256 << 20


class BandKeys:
    """The MinHash LSH band keys of the usable texts of a column, and a 64-bit key of each text:
    what the near-duplicate rule keeps per row (8 bytes per band + 16), never the texts.
    Mergeable: batches are concatenated in row order; past BAND_MEMORY bytes the band keys are
    spilled to ``.npy`` files in a temporary directory (removed with the object) and pickled
    with their values (a dask worker's files are not the driver's).

    Parameters
    ----------
    parts : list of (bands, keys, row_ids)
        ``bands``: ndarray of uint64, shape (m, b), or the path of the ``.npy`` file holding it;
        ``keys``: ndarray of uint64, shape (m,) (:func:`text_keys`); ``row_ids``: int64 (m,).
    bands, rows : int
        The LSH banding (b bands of r signature values).
    short : int
        Texts shorter than one shingle (each its own single shingle).
    excluded : dict
        As :class:`TextRows`.
    first_not_text : int or None
        Global row id of the first non-text row.
    """

    def __init__(self, parts, bands: int, rows: int, short: int, excluded: dict, first_not_text, spill=None):
        self.parts = list(parts)
        self.bands, self.rows, self.short = bands, rows, short
        self.excluded, self.first_not_text = excluded, first_not_text
        self.spill = spill  # the TemporaryDirectory holding spilled parts (shared by merges)
        self.memo: dict = {}  # the rule's candidate pairs, computed once from these keys

    @classmethod
    def of(cls, texts: list[str], row_ids: np.ndarray, what: tuple, excluded: dict, first_not_text) -> "BandKeys":
        """Band keys of ``texts`` (global row ids ``row_ids``) for ``what`` = (unit, size,
        num_perm, seed, bands, rows), signed in chunks of about 2^20 characters."""
        unit, size, num_perm, seed, bands, rows = what
        out, short = [], 0
        for chunk in chunks(texts):
            ids, offsets, n_short = shingle_ids(chunk, unit, size)
            short += n_short
            out.append(band_keys(signatures(ids, offsets, num_perm, seed), bands, rows))
        table = np.concatenate(out) if out else np.empty((0, bands), dtype=np.uint64)
        keys = text_keys(texts) if texts else np.empty(0, dtype=np.uint64)
        return cls([(table, keys, np.asarray(row_ids, dtype=np.int64))], bands, rows, short, excluded, first_not_text)

    @property
    def n(self) -> int:
        """Usable texts."""
        return int(sum(p[1].size for p in self.parts))

    def row_ids(self) -> np.ndarray:
        return np.concatenate([p[2] for p in self.parts]) if self.parts else np.empty(0, dtype=np.int64)

    def text_keys(self) -> np.ndarray:
        return np.concatenate([p[1] for p in self.parts]) if self.parts else np.empty(0, dtype=np.uint64)

    def column(self, j: int) -> np.ndarray:
        """Every text's key of band ``j``, shape (n,) uint64 (spilled parts memory-mapped)."""
        cols = [(np.load(b, mmap_mode="r") if isinstance(b, str) else b)[:, j] for b, _, _ in self.parts]
        return np.concatenate(cols) if cols else np.empty(0, dtype=np.uint64)

    def memory(self) -> int:
        """Bytes of band keys held in memory."""
        return int(sum(b.nbytes for b, _, _ in self.parts if not isinstance(b, str)))

    def merge(self, other: "BandKeys") -> "BandKeys":
        """These texts followed by ``other``'s; spilled when the band keys in memory pass BAND_MEMORY."""
        excluded, first = merge_exclusions(self.excluded, self.first_not_text, other.excluded, other.first_not_text)
        spill = self.spill or other.spill
        out = BandKeys(self.parts + other.parts, self.bands, self.rows, self.short + other.short, excluded, first, spill)
        if out.memory() > BAND_MEMORY:
            out._spill()
        return out

    def _spill(self) -> None:
        if self.spill is None:
            self.spill = tempfile.TemporaryDirectory(prefix="pretrain-validator-bands-")
        for i, (b, k, r) in enumerate(self.parts):
            if not isinstance(b, str):
                path = os.path.join(self.spill.name, f"{uuid.uuid4().hex}.npy")
                np.save(path, b)
                self.parts[i] = (path, k, r)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["parts"] = [(np.load(b) if isinstance(b, str) else b, k, r) for b, k, r in self.parts]
        state["spill"], state["memo"] = None, {}
        return state

    def describe(self) -> dict:
        return describe_texts(self.n, self.excluded, self.first_not_text)


@dataclass(frozen=True)
class TextsAt:
    """The usable texts of some rows (the candidate rows of a near-duplicate rule): mergeable
    by concatenation.

    Attributes
    ----------
    row_ids : ndarray of int64, shape (m,)
        Global row ids.
    texts : list of str, length m
    """

    row_ids: np.ndarray
    texts: list

    def merge(self, other: "TextsAt") -> "TextsAt":
        return TextsAt(np.concatenate([self.row_ids, other.row_ids]), self.texts + other.texts)
