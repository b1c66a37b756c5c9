"""One pass (or two) over data larger than memory: summaries merged across record batches.

:class:`StreamedSummaries` answers the same questions as
:class:`~validator.summaries.frame.FrameSummaries` (value counts, histograms on frozen edges,
value ranges, seeded row samples, texts) without holding the data. The plan
(:func:`validator.plan.run_passes`) gathers the summaries the rules declare (their ``needs()``,
no rule evaluated to find out) and hands them to :meth:`StreamedSummaries.compute_pass`, which
reads every batch of every file once, computes each of them on each batch (with the same
:class:`FrameSummaries` code, rows numbered globally) and merges them; the rules are then
evaluated on the merged summaries. A summary a rule reads that no pass computed raises
:class:`NeedsPass` (its declaration missed it: the engine reports the rule as not measured).
Most rule files need one pass; a histogram whose edges come from the data's own range
(``bins: {count: k}``) needs a second one (the range, then the
counts): a first pass, not a quantile sketch, so the edges are exact.

Merges are exact: counts and histograms add, ranges take min/max, a seeded row sample keeps the
``rows`` rows of smallest hash(seed, global row index) among the batches' samples (the same rows
for any batch size or shard split), texts and numeric values are concatenated.

Memory: one batch plus the summaries. Value counts grow with the number of distinct values;
row samples with ``rows``; a column's distinct numbers (Wasserstein, KS) up to their cap; texts
(text rules, embedding samples) and weights are kept whole, so rules on them are bounded by
those columns, not the table. Wasserstein/KS past the cap take two more passes (seeded samples
and the range, then counts and extremes in cells at the samples' quantiles).
Rules with ``where``, ``group_by`` or a weighted bootstrap need rows together and are
measured in memory (the engine says so).
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ColumnsDiffer
from ..progress import Progress
from . import arrow_batch
from .batches import END, ShardHeader, columns_differ, iter_frames, pandas_frame, prefetch, shard_header
from .frame import CategoryCounts, FeatureSample, FrameSummaries, MeasurementError
from .io import (
    JSONL,
    PARQUET,
    UTF8,
    DataReadError,
    Dialect,
    extension,
)
from .keys import UNKNOWN, NeedsPass, SummaryKey
from .merge import compute, counts_as_text, merge
from .sample import hash_indices


def merge_dtypes(dtypes: dict, new: dict) -> None:
    """A column's dtype over batches: object when they differ."""
    for c, t in new.items():
        dtypes[c] = t if dtypes.get(c, t) == t else np.dtype(object)


class StreamedSummaries(FrameSummaries):
    """Summaries of the files ``paths`` (shards of one dataset, in this order), merged over
    batches of at most ``batch_rows`` rows. See the module docstring."""

    def __init__(self, paths, name: str, text_columns=(), batch_rows: int = 1 << 18, skip_bad_shards: bool = False,
                 dialect: Dialect = UTF8):
        self.paths = [str(p) if "://" in str(p) else Path(p) for p in paths]  # fsspec URLs stay text
        self.name = name
        self.text_columns = set(text_columns)
        self.dialect = dialect
        self.batch_rows = batch_rows
        self.skip_bad_shards = skip_bad_shards
        self.skipped: dict = {}  # path -> the read error, for shards left out
        self._cache: dict = {}
        self.passes = 0
        self.batches = 0
        self._n_rows: int | None = None
        self.dtypes: dict = {}
        self.all_columns: set | None = None  # every column, once a pass has read them all (or a header named them)
        self.read_columns: set = set()  # the columns some pass read
        self.view: tuple | None = None
        self.root = self
        self.on_batch = None  # called with each batch of the next pass (which then reads every column)
        self.footer_ranges: list = []  # columns whose range came from Parquet statistics (no pass)
        self.kinds: dict = {}  # column -> {is text} over the shards read (both: typed differently by shards)
        self._footers: dict = {}  # column -> its range from the footers, or None
        self.computed = collections.Counter()

    # -- what rules ask -------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        if self.root._n_rows is None:
            raise NeedsPass("n_rows")  # known after the first pass
        return self.root._n_rows

    @property
    def row_ids(self) -> np.ndarray:
        return np.arange(self.n_rows)

    @property
    def df(self):
        raise MeasurementError("this rule needs all rows together; measure it in memory (--engine memory)")

    def subset(self, mask, label):  # pragma: no cover - refused before streaming
        raise MeasurementError("'where' needs all rows together; measure it in memory (--engine memory)")

    def where_mask(self, conditions):  # pragma: no cover - refused before streaming
        raise MeasurementError("'where' needs all rows together; measure it in memory (--engine memory)")

    def column(self, name: str) -> pd.Series:
        """An empty Series of the column's dtype (over all batches: object when they differ);
        MeasurementError, as for a frame, when no batch has the column."""
        root = self.root
        if root._n_rows is None:
            raise NeedsPass(SummaryKey("dtype", name))  # dtypes are known after the first pass
        if name not in root.dtypes:
            # a frame from pandas metadata may name columns with numbers: 0 is column '0' in a rule file
            by_text = [c for c in root.dtypes if not isinstance(c, str) and str(c) == name]
            if len(by_text) == 1:
                return pd.Series([], dtype=root.dtypes[by_text[0]])
        if name not in root.dtypes:
            if root.all_columns is None or name in root.all_columns:
                raise NeedsPass(SummaryKey("dtype", name))  # a pass that reads it was not declared
            FrameSummaries(pd.DataFrame({c: [] for c in root.all_columns}), name=self.name).column(name)  # raises, with hints
        return pd.Series([], dtype=root.dtypes[name])

    def length_view(self, name: str, unit: str) -> "StreamedSummaries":
        child = object.__new__(StreamedSummaries)
        child.__dict__.update(self.__dict__)
        child.view = (name, unit)
        child.root = self.root
        return child

    @property
    def excluded_texts(self) -> dict:
        if self.view is None:  # as on a frame: only a text-length view excludes texts
            raise AttributeError("excluded_texts")
        return self._cached(SummaryKey("excluded_texts"), None)

    def lookup(self, key: SummaryKey):
        """The merged value of ``key`` (or the MeasurementError it gave) once a pass has
        computed it, a column's range that the Parquet footers give exactly, else UNKNOWN."""
        root = self.root
        if key in root._cache:
            return root._cache[key]
        if key.kind == "dtype":  # known once a pass read the column (or found it absent)
            if key.column in root.dtypes:
                return root.dtypes[key.column]
            absent = key.column in root.read_columns or (root.all_columns is not None and key.column not in root.all_columns)
            return None if root.passes and absent else UNKNOWN
        if key.kind == "value_range" and key.view is None:
            value = root._footer_range(key.column)
            if value is not None:
                root._cache[key] = value
                return value
        return UNKNOWN

    def _cached(self, key, compute):
        if not isinstance(key, SummaryKey):
            # a derived summary (e.g. the numeric series behind a histogram) is computed per batch
            # inside the summary that needs it, never over the whole data
            raise MeasurementError(f"summary {key[0]!r} is not available when streaming; use --engine memory")
        full = key if self.view is None else key.on_view(*self.view)
        value = self.lookup(full)
        if value is UNKNOWN:
            raise NeedsPass(full)  # the rule's declaration did not name it (validator.checks needs())
        if isinstance(value, Exception):
            raise value
        return value

    def _footer_range(self, name: str):
        """A column's (min, max) from the Parquet footers' row-group statistics, when every
        shard is Parquet and they give it exactly (arrow_batch.footer_range); None otherwise
        (and with --skip-bad-shards, where a shard may yet drop out): a first pass finds it."""
        if self.skip_bad_shards or not self.paths or not all(
            isinstance(p, Path) and extension(p) in PARQUET for p in self.paths
        ):
            return None
        if name not in self._footers:
            self._footers[name] = arrow_batch.footer_range(self.paths, name)
        value = self._footers[name]
        if value is not None and name not in self.footer_ranges:
            self.footer_ranges.append(name)
        return value

    # -- one pass -------------------------------------------------------------------------------
    def compute_pass(self, keys) -> None:
        """Read every batch of every file once and merge the summaries ``keys``
        (:class:`SummaryKey`; a ``dtype`` key only has its column read)."""
        wanted, project = self._pass_of(keys)
        self.read_columns |= project or set()
        merged: dict = {}
        offset = 0
        columns = None
        dtypes: dict = {}
        check_columns = self.passes == 0  # the first pass compares every shard's columns

        def frames():
            # every shard's batches, then an end marker (or its read error): one producer thread
            # reads ahead across shard boundaries; each shard starts with what its header or
            # footer says (columns, rows)
            for path in self.paths:
                if path in self.skipped:
                    continue
                try:
                    yield path, ShardHeader(*shard_header(path, self.dialect))
                except DataReadError as exc:
                    yield path, exc
                    continue
                try:
                    for df in iter_frames(path, self.text_columns, self.batch_rows, project, arrow=True, dialect=self.dialect):
                        yield path, df
                except DataReadError as exc:
                    yield path, exc
                    continue
                yield path, END

        shard = None  # the shard being read
        progress = None
        full = None  # (first shard, its columns): every shard must have the same
        header = None  # this shard's ShardHeader
        try:
            for path, item in prefetch(frames()):
                if isinstance(item, ShardHeader):
                    header = item
                    if check_columns and item.names is not None:  # those of the first shard?
                        if full is None:
                            full = (path, item.names)
                            self._header = item.names  # the columns, even when no shard has a row
                        elif (differ := columns_differ(path, item.names, *full)) is not None:
                            raise differ
                    continue
                if shard is None:
                    shard = ShardPass(wanted, self.name, offset, self.on_batch, bounds=merged,
                                      all_columns=header.names if header and header.names else getattr(self, "_header", None))
                    progress = Progress(f"pass {self.passes + 1}: {Path(str(path)).name}", unit="rows")
                    total = header.rows if header else None  # a Parquet footer says how many rows to expect
                if item is END or isinstance(item, DataReadError):
                    if isinstance(item, DataReadError):
                        if not self.skip_bad_shards or isinstance(item, ColumnsDiffer):
                            raise item
                        # a shard's summaries join the others only once it was read to its end,
                        # so a shard that fails half-way (bad gzip, truncated file) leaves nothing
                        self.skipped[path] = item.message
                    else:
                        if check_columns and shard.n_rows and extension(Path(str(path))) in JSONL:
                            # JSON Lines have no header: a shard's columns are the keys of all its
                            # (never projected) lines, compared once the shard is read
                            if full is None:
                                full = (path, list(shard.dtypes))
                            elif (differ := columns_differ(path, list(shard.dtypes), *full)) is not None:
                                raise differ
                        for key, value in shard.values.items():
                            merged[key] = value if key not in merged else merge(key, merged[key], value)
                        merge_dtypes(dtypes, shard.dtypes)
                        # a shard's kind, as dask and the in-memory reader see it: batches of one
                        # JSON Lines file typed differently (true, then "true") are not two shards
                        self._note_kinds(shard.dtypes)
                        offset += shard.n_rows
                        self.batches += shard.batches
                        columns = columns if columns is not None else shard.columns
                    progress.__exit__(None, None, None)
                    shard = progress = header = None
                    continue
                batch = shard.add(item)
                if batch.n_rows and columns is None:
                    columns = batch.columns
                progress(shard.n_rows, total)
        finally:
            if progress is not None:
                progress.__exit__(None, None, None)
        if self.skipped and len(self.skipped) == len(self.paths):
            raise DataReadError(self.name, f"no shard could be read ({len(self.paths)} skipped as unreadable)")
        self._finish_pass(wanted, merged, dtypes, columns or getattr(self, "_header", None) or [], offset, read_all=project is None)

    def _pass_of(self, keys) -> tuple[list, set | None]:
        """The summaries a pass computes (those not known yet, ``dtype`` keys aside) and the
        columns it reads (None: every column, as the declared-column checks need)."""
        wanted = list(dict.fromkeys(k for k in keys if k.kind != "dtype" and k not in self._cache))
        project = None
        if self.on_batch is None and keys:
            project = set()
            for key in keys:
                if key.kind != "dtype" or key.column not in self.dtypes:
                    project |= key.reads
        return wanted, project

    def _note_kinds(self, dtypes: dict) -> None:
        for c, t in dtypes.items():
            self.kinds.setdefault(c, set()).add(bool(pd.api.types.is_string_dtype(t)))

    def _finish_pass(self, wanted, merged: dict, dtypes: dict, columns: list, n_rows: int, read_all: bool) -> None:
        """Keep a pass's merged summaries (and what it learnt of the columns)."""
        for key, value in list(merged.items()):
            if (key.kind == "value_counts" and key.view is None
                    and key.column in getattr(self, "category_columns", self.text_columns)
                    and len(self.kinds.get(key.column, ())) > 1
                    and isinstance(value, CategoryCounts)):
                # typed as numbers by some shards and as text by others: compared as text, as the
                # in-memory reader makes such a column (1 and "1" are one category)
                merged[key] = counts_as_text(value)
        seen = set(dtypes) | set(map(str, dtypes))
        for key in wanted:
            if key not in merged or (dtypes and getattr(self, "_header", None) is None and not key.reads <= seen):
                # no rows at all, or a column no batch had (JSON Lines batches hold the keys their
                # lines have): the in-memory code on an empty frame says why
                merged[key] = compute(FrameSummaries(pd.DataFrame({c: [] for c in (list(dtypes) or columns)}), name=self.name), key)
        self._cache.update(merged)
        self._n_rows = n_rows
        self.dtypes.update(dtypes)
        if read_all:
            self.all_columns = set(dtypes)
        elif self.all_columns is None and getattr(self, "_header", None):
            self.all_columns = set(self._header)  # what the header names, read or not
        self.passes += 1
        self.on_batch = None  # the declared-column checks need one pass only


class ShardPass:
    """The wanted summaries of one shard, merged batch by batch (its rows numbered from
    ``offset``): what the streaming engine keeps per shard, and what a dask task computes for
    one file. ``bounds``: the summaries merged from other shards so far (their full row
    samples bound the hash keys worth keeping here)."""

    def __init__(self, keys, name: str, offset: int, on_batch=None, bounds=None, all_columns=None):
        self.keys, self.name, self.offset, self.on_batch = list(keys), name, offset, on_batch
        self.bounds = {} if bounds is None else bounds
        self.all_columns = all_columns  # the shard's columns before projection (for messages)
        self.values: dict = {}
        self.dtypes: dict = {}
        self.columns: list | None = None
        self.n_rows = 0
        self.batches = 0

    def add(self, item) -> "_Batch":
        """Summarise one batch (a DataFrame or an Arrow RecordBatch) and merge it in."""
        batch = _Batch(item, self.name, self.offset + self.n_rows, self.all_columns)
        if self.columns is None:
            self.columns = batch.columns
        if batch.n_rows == 0:  # a shard with a header and no rows adds nothing
            return batch
        merge_dtypes(self.dtypes, batch.dtypes)
        if self.on_batch is not None:
            self.on_batch(batch.df)
        for key in self.keys:
            value = batch.summary(key, self.bounds.get(key), self.values.get(key))
            self.values[key] = value if key not in self.values else merge(key, self.values[key], value)
        self.n_rows += batch.n_rows
        self.batches += 1
        return batch


class _Batch:
    """One batch of a pass: a pandas DataFrame (text formats) or an Arrow RecordBatch
    (Parquet), whose summaries come from :mod:`~validator.summaries.arrow_batch` where it
    computes them, and from FrameSummaries of the batch converted to pandas otherwise."""

    def __init__(self, item, name: str, offset: int, all_columns=None):
        self.name = name
        self.offset = offset
        self.all_columns = all_columns
        self._fs = None
        if isinstance(item, pd.DataFrame):
            self.arrow, self._df = None, item
            self.n_rows = len(item)
            self.columns = list(item.columns)
            self.dtypes = {c: item[c].dtype for c in item.columns}
            return
        self.arrow, self._df = item, None
        self.n_rows = item.num_rows
        empty = pandas_frame(item.schema)
        self.columns = list(empty.columns)
        self.dtypes = {c: empty[c].dtype for c in empty.columns}

    @property
    def df(self) -> pd.DataFrame:
        if self._df is None:
            self._df = arrow_batch.to_pandas(self.arrow)  # as the in-memory reader converts it
        return self._df

    def summary(self, key, *merged):
        """The summary ``key`` of this batch (or the MeasurementError it raised); ``merged``:
        the same summary merged so far, whose row sample bounds the hash keys worth keeping."""
        if not key.reads <= set(map(str, self.columns)) | set(self.columns) and self.all_columns:
            # a column the projection left out does not exist: said as for the whole table
            return compute(FrameSummaries(pd.DataFrame({c: [] for c in self.all_columns}), name=self.name), key)
        if self.arrow is None and not self.all_columns and not key.reads <= set(self.columns):
            # a JSON Lines batch without an optional key that other lines have: nulls here
            missing = [c for c in key.reads if c not in self.columns]
            frame = self.df.assign(**{c: pd.Series(None, index=self.df.index, dtype=object) for c in missing})
            return compute(FrameSummaries(frame, name=self.name, row_ids=np.arange(self.offset, self.offset + self.n_rows)), key)
        if self.arrow is not None and key.reads <= set(self.columns):
            value = arrow_batch.summary(self.arrow, key, self.offset, _sample_bound(key, merged))
            if value is not NotImplemented:
                return value
        if self._fs is None:
            self._fs = FrameSummaries(self.df, name=self.name, row_ids=np.arange(self.offset, self.offset + self.n_rows))
        return compute(self._fs, key)


def _sample_bound(key, samples):
    """The smallest of the largest hash keys of full row samples in ``samples`` (a row with a
    larger key can never enter the final sample), or None."""
    if key.kind != "row_sample":
        return None
    bound = None
    for s in samples:
        if isinstance(s, FeatureSample) and s.indices.size >= key.rows:
            top = hash_indices(s.seed, s.indices).max()
            bound = top if bound is None else min(bound, top)
    return bound
