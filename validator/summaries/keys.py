"""What a rule asks of the data: one :class:`SummaryKey` per summary, and :class:`NeedsPass`.

A key names a summary by its kind and its named parameters (never by position): the column,
the weight column, the frozen edges, the sample's size and seed, the text normalisation, the
text counts wanted, the distinct-value cap, and the text-length view it is taken on. Keys are
frozen (hashable): the cache of every engine is keyed by them, the plan is a set of them, and
a dask task receives them pickled.

This module imports only validator.errors (and numpy): every other room may use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from ..errors import NeedsPass  # noqa: F401 - raised for a key, named here with it

#: every kind of summary a pass over the data can compute and merge (validator.summaries.merge)
KINDS = (
    "value_counts",  # column, weight
    "histogram",  # column, edges, weight
    "value_range",  # column
    "numeric_values",  # column
    "numeric_count",  # column
    "numeric_distinct",  # column, cap
    "cell_extremes",  # column, edges
    "weights",  # column
    "row_sample",  # columns, rows, seed
    "text_rows",  # column, spec (a frame's texts, cached in memory; never a pass's summary)
    "minhash_bands",  # column, spec, what
    "texts_at",  # column, spec, ids
    "text_keys",  # column, spec
    "text_sample",  # column, rows, seed
    "text_counts",  # column, spec, what
    "dtype",  # column: the column's dtype over all batches
    "excluded_texts",  # view: the nulls and non-text values a text-length view leaves out
)


@dataclass(frozen=True)
class SummaryKey:
    """One summary of the data.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    column : str, optional
        The column summarised (every kind but ``row_sample`` and ``excluded_texts``).
    columns : tuple of str
        ``row_sample``: the feature columns, in order.
    weight : str, optional
        ``value_counts``, ``histogram``: the column whose values weight the rows.
    edges : tuple of float, optional
        ``histogram``, ``cell_extremes``: the frozen cell edges.
    rows, seed : int, optional
        ``row_sample``, ``text_sample``: the sample's size and seed.
    spec : str, optional
        ``text_rows``, ``text_keys``, ``text_counts``: the rule's ``normalize_values`` as JSON.
    what : tuple, optional
        ``text_counts``: ``("ngrams", unit, n)``, ``("words",)`` or ``("windows", W)``.
    cap : int, optional
        ``numeric_distinct``: counted exactly up to this many distinct values.
    view : tuple of (str, str), optional
        ``(column, unit)``: the summary is of that column's text lengths (``chars`` or
        ``words``), not of its texts.
    ids : RowIds, optional
        ``texts_at``: the global row ids whose texts are wanted.
    """

    kind: str
    column: str | None = None
    columns: tuple = ()
    weight: str | None = None
    edges: tuple | None = None
    rows: int | None = None
    seed: int | None = None
    spec: str | None = None
    what: tuple | None = None
    cap: int | None = None
    view: tuple | None = None
    ids: "RowIds | None" = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown summary kind {self.kind!r}")
        if self.edges is not None:  # plain floats: the same key from a list, a tuple or an array
            object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))

    @property
    def reads(self) -> set:
        """The data columns computing this summary reads (the weight and the view's column too)."""
        out = set(self.columns) if self.kind == "row_sample" else ({self.column} if self.column is not None else set())
        if self.weight is not None:
            out.add(self.weight)
        if self.view is not None:
            out.add(self.view[0])
        return out

    @property
    def on_texts(self) -> bool:
        """A summary of texts (Python-bound work: not worth a second thread)."""
        return self.kind in ("text_rows", "text_keys", "text_sample", "text_counts", "excluded_texts", "minhash_bands",
                             "texts_at") or self.view is not None

    def inner(self) -> "SummaryKey":
        """The same summary off its text-length view (what is computed on the view's frame)."""
        return replace(self, view=None)

    def on_view(self, column: str, unit: str) -> "SummaryKey":
        """The same summary of ``column``'s text lengths in ``unit``."""
        return replace(self, view=(column, unit))


class RowIds:
    """A set of global row ids as a key's parameter: hashed and compared by the digest of its
    sorted ids (a key of 200,000 ids hashes in microseconds).

    Parameters
    ----------
    ids : array_like of int
    """

    def __init__(self, ids):
        self.ids = np.unique(np.asarray(ids, dtype=np.int64))
        self.digest = hashlib.blake2b(self.ids.tobytes(), digest_size=16).hexdigest()

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other) -> bool:
        return isinstance(other, RowIds) and self.digest == other.digest

    def __repr__(self) -> str:
        return f"RowIds({self.ids.size} rows, {self.digest[:8]})"


class _Unknown:
    """What a lookup gives for a summary not computed yet (distinct from None, a value)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
