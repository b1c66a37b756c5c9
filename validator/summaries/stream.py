"""One pass (or two) over data larger than memory: summaries merged across record batches.

:class:`StreamedSummaries` answers the same questions as
:class:`~validator.summaries.frame.FrameSummaries` (value counts, histograms on frozen edges,
value ranges, seeded row samples, texts) without holding the data. Rules are evaluated against
it; a summary it does not hold yet raises :class:`NeedsPass` and is recorded. The engine then
reads every batch of every file once, computes every recorded summary on each batch (with the
same :class:`FrameSummaries` code, rows numbered globally) and merges them, and evaluates again.
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

from dataclasses import replace
from pathlib import Path

import collections
import warnings

import numpy as np
import pandas as pd

from ..errors import ColumnsDiffer, NeedsPass
from .frame import CategoryCounts, FeatureSample, FrameSummaries, MeasurementError
from .io import (DECOMPRESSION_ERRORS, JSONL, PARQUET, TEXT_FORMATS, TRAILING, UTF8, DataReadError, Dialect, _check_header,
                 _first_bad_json_line, _one_line, compressed_stream_error, extension, is_url, json_lines_frames, not_decodable,
                 open_binary, records_match_header, text_layout)
from .sample import smallest_hash_rows
from .text import TextRows, merge_exclusions

LEAVES = ("value_counts", "histogram", "value_range", "row_sample", "text_rows", "text_keys", "text_sample", "text_counts",
          "numeric_values", "numeric_count", "numeric_distinct", "cell_extremes", "weights")


_END = object()  # the end of one shard's batches


def _key_columns(key) -> set:
    """The data columns a summary key reads."""
    if key[0] == "view":
        return {key[1]} | _key_columns(key[3])
    kind = key[0]
    if kind in ("value_counts", "histogram"):
        return {key[1]} | ({key[-1]} if key[-1] else set())
    if kind == "row_sample":
        return set(key[1])
    if kind in ("value_range", "text_rows", "text_keys", "text_sample", "text_counts", "numeric_values", "numeric_count", "weights",
                "column", "numeric_distinct", "cell_extremes"):
        return {key[1]}
    return set()


def iter_frames(path: Path, text_columns=(), batch_rows: int = 1 << 18, columns=None, arrow: bool = False,
                dialect: Dialect = UTF8):
    """Batches of one table file as pandas DataFrames (at most ``batch_rows`` rows each), read
    with the same value semantics as :func:`~validator.summaries.io.read_table`: only an empty
    CSV field is missing; ``text_columns`` stay text. Compressed text files (``.gz``, ``.zst``)
    are decompressed on the fly (pyarrow input streams). With ``arrow``, Parquet batches come
    as pyarrow RecordBatches (converted by the caller only if it must). ``dialect``: the
    separator and encoding of CSV/TSV files.

    Raises
    ------
    DataReadError
        An unreadable or malformed file, naming it.
    """
    url = is_url(path)  # an fsspec URL: opened by fsspec, read by the same code
    p = path if url else Path(path)
    ext = extension(Path(str(path)))
    if not url:
        if not p.is_file():
            raise DataReadError(p, "no such file" if not p.exists() else "is not a file")
        if p.stat().st_size == 0:
            raise DataReadError(p, "the file is empty (0 bytes): expected a header row at least")
    try:
        if ext in PARQUET:
            with parquet_file(p) as pf:
                use = None if columns is None else [c for c in pf.schema_arrow.names if c in columns]
                for batch in pf.iter_batches(batch_size=batch_rows, columns=use):
                    yield batch if arrow else batch.to_pandas()
            return
        from .io import _open_text

        with _open_text(p) as raw:
            if ext in TEXT_FORMATS:
                layout = text_layout(p, ext, dialect)
                # no usecols: pandas then ignores extra fields on a line, and a malformed line
                # must stop the run as it does in memory; unread columns are dropped per chunk
                # (a header that could not be read names no column: nothing is projected then)
                keep = None if columns is None or not layout.names else [c for c in layout.names if c in columns]
                dtype = {c: str for c in text_columns if columns is None or c in columns}
                options = layout.pandas_options()
                options["dtype"] = {**options.get("dtype", {}), **dtype} or None
                if keep is not None and len(keep) < len(layout.names) and not url and records_match_header(p, layout):
                    # every record has the header's field count and the file is UTF-8: pandas may
                    # convert only the columns read (the cost of a batch is theirs, not the
                    # table's); otherwise every column is converted and pandas names the bad line
                    options["usecols"] = [*keep, TRAILING] if layout.trailing else keep
                check_short = True  # the whole file is checked for short records once
                with pd.read_csv(raw, chunksize=batch_rows, **options) as reader:
                    while True:
                        with warnings.catch_warnings():
                            # a batch typed in parts (low_memory) is noted per batch, as shards are
                            # (the in-memory reader silences the same DtypeWarning)
                            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                            chunk = next(reader, None)
                        if chunk is None:
                            break
                        chunk = layout.finish(chunk, p, check_short)
                        check_short = check_short and not layout.may_be_short(chunk)
                        yield chunk if keep is None else chunk[keep]
                return
            if ext in JSONL:
                yield from json_lines_frames(raw, batch_rows)
                return
    except DataReadError:
        raise
    except UnicodeDecodeError:
        raise DataReadError(p, not_decodable(p, dialect if ext in TEXT_FORMATS else UTF8)) from None
    except DECOMPRESSION_ERRORS as exc:  # as the in-memory reader words it
        raise (compressed_stream_error(p) or DataReadError(p, f"cannot be read: {_one_line(exc)}")) from None
    except pd.errors.EmptyDataError:
        raise DataReadError(p, "no columns to read (the file has no header row)") from None
    except ValueError as exc:  # as the in-memory reader words it (pyarrow's and pandas' parse errors)
        if ext in JSONL:  # the line in the file, not in the batch
            raise DataReadError(p, f"malformed JSON Lines: {_first_bad_json_line(p) or _one_line(exc)}") from None
        raise DataReadError(p, f"malformed {ext[1:].upper() or 'table'}: {_one_line(exc)}") from None
    except Exception as exc:  # pandas, pyarrow and the decompressors raise their own types
        raise DataReadError(p, f"cannot be read as {ext[1:] or 'a table'}: {_one_line(exc)}") from None
    raise DataReadError(p, f"unknown file type {ext or '(no extension)'!r}")


def parquet_file(path):
    """A pyarrow ParquetFile over a local path or an fsspec URL (a context manager)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(open_binary(path) if is_url(path) else path)


def shard_header(path, dialect: Dialect = UTF8) -> tuple[list | None, int | None]:
    """A shard's column names as the in-memory reader would give them, and its row count when
    the file says it, from one look at its Parquet footer or its CSV/TSV header (no data read).

    Returns
    -------
    names : list or None
        None for JSON Lines (known once read) or an unreadable file (the read names the error).
    rows : int or None
        The footer's count for Parquet, else None.

    Raises
    ------
    DataReadError
        A header or schema that names a column twice.
    """
    ext = extension(Path(str(path)))
    rows = None
    try:
        if ext in PARQUET:
            with parquet_file(path) as pf:
                names = list(_pandas_frame(pf.schema_arrow).columns)
                rows = pf.metadata.num_rows
        elif ext in TEXT_FORMATS:
            names = _check_header(path if is_url(path) else Path(path), ext, dialect)
        else:
            return None, None
    except DataReadError:
        raise
    except Exception:
        return None, None
    counts = collections.Counter(names)  # (names.count per name was quadratic: 15 s for 20,000 columns)
    repeated = sorted({str(n) for n, k in counts.items() if k > 1})
    if repeated:
        raise DataReadError(path, f"it names a column more than once: {', '.join(map(repr, repeated))}")
    return names, rows


class _Names:
    """A shard's full column names and footer row count (shard_header), ahead of its batches."""

    def __init__(self, names, rows):
        self.names, self.rows = names, rows


def columns_differ(path, names, first_path, first) -> ColumnsDiffer | None:
    """The error for shard ``path`` when its columns are not those of ``first_path``, else None."""
    if names is None or first is None or set(names) == set(first):
        return None
    missing = sorted(map(str, set(first) - set(names)))
    extra = sorted(map(str, set(names) - set(first)))
    return ColumnsDiffer(path, f"its columns differ from {first_path}'s (missing: {missing or 'none'}, extra: {extra or 'none'})")


def prefetch(iterator, depth: int = 2):
    """Items of ``iterator`` produced by a background thread, up to ``depth`` ahead: reading and
    decoding the next batch (pyarrow and the CSV parser release the GIL) overlaps with
    summarising this one. An exception in the producer is raised here, in order."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put((True, item))
            q.put((True, done))
        except BaseException as exc:  # handed to the consumer
            q.put((False, exc))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.01)


# -- merging -------------------------------------------------------------------------------


def _merge_counts(a: CategoryCounts, b: CategoryCounts) -> CategoryCounts:
    merged: dict = {}
    for keys, counts in ((a.keys, a.counts), (b.keys, b.counts)):
        for k, c in zip(keys, counts.tolist()):
            # keyed with the type's kind: True and 1 hash alike but are different values
            tagged = (isinstance(k, (bool, np.bool_)), k)
            merged[tagged] = merged.get(tagged, 0) + c
    dtype = np.float64 if (a.counts.dtype.kind == "f" or b.counts.dtype.kind == "f") else np.int64
    return CategoryCounts([k for _, k in merged], np.asarray(list(merged.values()), dtype=dtype), a.nulls + b.nulls,
                          a.rows + b.rows, a.null_rows + b.null_rows)


def _counts_as_text(c: CategoryCounts) -> CategoryCounts:
    """Value counts with every non-text key written as text (category_key), keys that become
    equal added together."""
    from .frame import category_key

    merged: dict = {}
    for k, n in zip(c.keys, c.counts.tolist()):
        key = k if isinstance(k, str) else category_key(k)
        merged[key] = merged.get(key, 0) + n
    return replace(c, keys=list(merged), counts=np.asarray(list(merged.values()), dtype=c.counts.dtype))


def _merge_sample(a: FeatureSample, b: FeatureSample, rows: int) -> FeatureSample:
    if a.X.shape[1] != b.X.shape[1] and a.X.shape[0] and b.X.shape[0]:
        raise MeasurementError(f"embeddings of different dimensions in different batches: {a.X.shape[1]} and {b.X.shape[1]}")
    X = np.vstack([a.X, b.X]) if a.X.shape[0] and b.X.shape[0] else (a.X if a.X.shape[0] else b.X)
    idx = np.concatenate([a.indices, b.indices])
    n_valid = a.n_valid + b.n_valid
    if idx.size > rows:
        keep = smallest_hash_rows(a.seed, idx, rows)
        X, idx = X[keep], idx[keep]
    return replace(a, X=X, indices=idx, n_valid=n_valid, n_dropped=a.n_dropped + b.n_dropped, exact=n_valid <= rows)


def _merge_text(a: TextRows, b: TextRows) -> TextRows:
    excluded, first = merge_exclusions(a.excluded, a.first_not_text, b.excluded, b.first_not_text)
    return TextRows(texts=a.texts + b.texts, positions=np.concatenate([a.positions, b.positions]), excluded=excluded,
                    first_not_text=first)


def _merge_dtypes(dtypes: dict, new: dict) -> None:
    """A column's dtype over batches: object when they differ."""
    for c, t in new.items():
        dtypes[c] = t if dtypes.get(c, t) == t else np.dtype(object)


def _merge(key, a, b):
    """Two summaries of the same key merged; a summary that cannot be merged (embeddings of
    different dimensions, unhashable values) becomes the MeasurementError of its rule."""
    try:
        return _merge_exact(key, a, b)
    except MeasurementError as exc:
        return exc
    except TypeError as exc:  # e.g. lists as category values: not countable across batches
        return MeasurementError(f"column values cannot be counted across batches ({exc}); measure it in memory (--engine memory)")


def _merge_exact(key, a, b):
    if key[0] == "view":
        key = key[3]  # a summary of a derived column (text lengths) merges like the summary itself
    kind = key[0]
    if isinstance(a, Exception):
        return a
    if isinstance(b, Exception):
        return b
    if kind == "value_counts":
        return _merge_counts(a, b)
    if kind == "histogram":
        return a[0] + b[0], a[1] + b[1]
    if kind == "value_range":
        if a is None or b is None:
            return a if b is None else b
        return min(a[0], b[0]), max(a[1], b[1])
    if kind == "row_sample":
        return _merge_sample(a, b, key[2])
    if kind == "text_rows":
        return _merge_text(a, b)
    if kind == "text_keys":
        excluded, first = merge_exclusions(a.excluded, a.first_not_text, b.excluded, b.first_not_text)
        return replace(a, keys=np.concatenate([a.keys, b.keys]), row_ids=np.concatenate([a.row_ids, b.row_ids]),
                       excluded=excluded, first_not_text=first)
    if kind == "text_sample":
        return a.merge(b)
    if kind == "text_counts":
        (ta, na, xa, fa), (tb, nb, xb, fb) = a, b
        if isinstance(ta, dict):  # n-gram tables add key by key
            table = dict(ta)
            for k, c in tb.items():
                table[k] = table.get(k, 0) + c
        elif hasattr(ta, "merge"):  # MATTR windows (batches come in row order)
            table = ta.merge(tb)
        else:  # (word types, words)
            table = (ta[0] | tb[0], ta[1] + tb[1])
        return (table, na + nb, *merge_exclusions(xa, fa, xb, fb))
    if kind == "numeric_values":
        return np.concatenate([a[0], b[0]]), a[1] + b[1]
    if kind == "numeric_count":
        return a[0] + b[0], a[1] + b[1]
    if kind == "numeric_distinct":
        from .distinct import merge_distinct

        return merge_distinct(a, b, key[2])
    if kind == "cell_extremes":
        return np.minimum(a[0], b[0]), np.maximum(a[1], b[1])
    if kind == "weights":
        return np.concatenate([a, b])
    if kind == "dtype":
        return a if a == b else np.dtype(object)
    if kind == "excluded_texts":
        out = {k: a.get(k, 0) + b.get(k, 0) for k in ("null", "not_text")}
        first = [x for x in (a.get("first_not_text_row"), b.get("first_not_text_row")) if x is not None]
        if first:
            out["first_not_text_row"] = first[0]
        return out
    raise AssertionError(kind)  # pragma: no cover


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
        self.wanted: dict = {}  # key -> (how to compute it on a batch's FrameSummaries)
        self.passes = 0
        self.batches = 0
        self._n_rows: int | None = None
        self.dtypes: dict = {}
        self.all_columns: set | None = None  # every column, once a pass has read them all
        self.data_columns: set | None = None  # the columns the rules name (the engine sets it): the plan reads those
        self.view: tuple | None = None
        self.root = self
        self.on_batch = None  # called with each batch of the next pass (which then reads every column)
        self.always_columns: set = set()  # columns every pass reads (those whose dtype rules ask)
        self.footer_ranges: list = []  # columns whose range came from Parquet statistics (no pass)
        self.kinds: dict = {}  # column -> {is text} over the shards read (both: typed differently by shards)
        self._footers: dict = {}  # column -> its range from the footers, or None
        from collections import Counter

        self.computed = Counter()

    # -- what rules ask -------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        if self.root._n_rows is None:
            raise NeedsPass(("n_rows",))  # known after the first pass
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
            raise NeedsPass(("n_rows",))  # dtypes are known after the first pass
        if name not in root.dtypes:
            # a frame from pandas metadata may name columns with numbers: 0 is column '0' in a rule file
            by_text = [c for c in root.dtypes if not isinstance(c, str) and str(c) == name]
            if len(by_text) == 1:
                return pd.Series([], dtype=root.dtypes[by_text[0]])
        if name not in root.dtypes:
            if root.all_columns is None or name in root.all_columns:
                root.always_columns.add(name)  # not read yet: the next pass reads it
                raise NeedsPass(("column", name))
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
        return self._cached(("excluded_texts",), None)

    def _cached(self, key, compute):
        full = key if self.view is None else ("view", *self.view, key)
        root = self.root
        if full in root._cache:
            value = root._cache[full]
            if isinstance(value, Exception):
                raise value
            return value
        if key[0] == "value_range" and self.view is None:
            value = root._footer_range(key[1])
            if value is not None:
                root._cache[full] = value
                return value
        if key[0] in LEAVES or key[0] == "excluded_texts":
            root.wanted[full] = None
            raise NeedsPass(full)
        # a derived summary (e.g. the numeric series behind a histogram) is computed per batch
        # inside the leaf that needs it, never over the whole data
        raise MeasurementError(f"summary {key[0]!r} is not available when streaming; use --engine memory")

    def _footer_range(self, name: str):
        """A column's (min, max) from the Parquet footers' row-group statistics, when every
        shard is Parquet and they give it exactly (arrow_batch.footer_range); None otherwise
        (and with --skip-bad-shards, where a shard may yet drop out): a first pass finds it."""
        if self.skip_bad_shards or not self.paths or not all(
            isinstance(p, Path) and extension(p) in PARQUET for p in self.paths
        ):
            return None
        from .arrow_batch import footer_range

        if name not in self._footers:
            self._footers[name] = footer_range(self.paths, name)
        value = self._footers[name]
        if value is not None and name not in self.footer_ranges:
            self.footer_ranges.append(name)
        return value

    # -- one pass -------------------------------------------------------------------------------
    def compute_pass(self) -> None:
        """Read every batch of every file once and merge every wanted summary."""
        wanted = [k for k in self.wanted if k not in self._cache]
        self.wanted = {}
        merged: dict = {}
        offset = 0
        columns = None
        dtypes: dict = {}
        from ..progress import Progress

        project = None
        if self.on_batch is None and wanted:
            project = {c for c in self.always_columns if c not in self.dtypes}  # dtypes not known yet
            for key in wanted:
                project |= _key_columns(key)
        check_columns = self.passes == 0  # the first pass compares every shard's columns

        def frames():
            # every shard's batches, then an end marker (or its read error): one producer thread
            # reads ahead across shard boundaries; each shard starts with what its header or
            # footer says (columns, rows)
            for path in self.paths:
                if path in self.skipped:
                    continue
                try:
                    yield path, _Names(*shard_header(path, self.dialect))
                except DataReadError as exc:
                    yield path, exc
                    continue
                try:
                    for df in iter_frames(path, self.text_columns, self.batch_rows, project, arrow=True, dialect=self.dialect):
                        yield path, df
                except DataReadError as exc:
                    yield path, exc
                    continue
                yield path, _END

        shard = None  # the shard being read
        progress = None
        full = None  # (first shard, its columns): every shard must have the same
        header = None  # this shard's _Names
        try:
            for path, item in prefetch(frames()):
                if isinstance(item, _Names):
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
                if item is _END or isinstance(item, DataReadError):
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
                            merged[key] = value if key not in merged else _merge(key, merged[key], value)
                        _merge_dtypes(dtypes, shard.dtypes)
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

    def _note_kinds(self, dtypes: dict) -> None:
        for c, t in dtypes.items():
            self.kinds.setdefault(c, set()).add(bool(pd.api.types.is_string_dtype(t)))

    def _finish_pass(self, wanted, merged: dict, dtypes: dict, columns: list, n_rows: int, read_all: bool) -> None:
        """Keep a pass's merged summaries (and what it learnt of the columns)."""
        for key, value in list(merged.items()):
            if (key[0] == "value_counts" and key[1] in getattr(self, "category_columns", self.text_columns)
                    and len(self.kinds.get(key[1], ())) > 1
                    and isinstance(value, CategoryCounts)):
                # typed as numbers by some shards and as text by others: compared as text, as the
                # in-memory reader makes such a column (1 and "1" are one category)
                merged[key] = _counts_as_text(value)
        seen = set(dtypes) | set(map(str, dtypes))
        for key in wanted:
            if key not in merged or (dtypes and getattr(self, "_header", None) is None and not _key_columns(key) <= seen):
                # no rows at all, or a column no batch had (JSON Lines batches hold the keys their
                # lines have): the in-memory code on an empty frame says why
                merged[key] = _on_batch(FrameSummaries(pd.DataFrame({c: [] for c in (list(dtypes) or columns)}), name=self.name), key)
        self._cache.update(merged)
        self._n_rows = n_rows
        self.dtypes.update(dtypes)
        if read_all:
            self.all_columns = set(dtypes)
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
        _merge_dtypes(self.dtypes, batch.dtypes)
        if self.on_batch is not None:
            self.on_batch(batch.df)
        for key in self.keys:
            value = batch.summary(key, self.bounds.get(key), self.values.get(key))
            self.values[key] = value if key not in self.values else _merge(key, self.values[key], value)
        self.n_rows += batch.n_rows
        self.batches += 1
        return batch


_SCHEMA_FRAMES: dict = {}  # an Arrow schema -> its empty pandas frame (columns and dtypes)


def _pandas_frame(schema) -> pd.DataFrame:
    """The empty pandas frame of an Arrow schema: the columns and dtypes to_pandas gives
    (pandas metadata applied), cached per schema (~20 ms each to build)."""
    empty = _SCHEMA_FRAMES.get(schema)
    if empty is None:
        if len(_SCHEMA_FRAMES) >= 64:  # a long-lived process sees many schemas: keep a few
            _SCHEMA_FRAMES.clear()
        empty = _SCHEMA_FRAMES.setdefault(schema, schema.empty_table().to_pandas())
    return empty


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
        empty = _pandas_frame(item.schema)
        self.columns = list(empty.columns)
        self.dtypes = {c: empty[c].dtype for c in empty.columns}

    @property
    def df(self) -> pd.DataFrame:
        if self._df is None:
            from .arrow_batch import to_pandas

            self._df = to_pandas(self.arrow)  # as the in-memory reader converts it
        return self._df

    def summary(self, key, *merged):
        """The summary ``key`` of this batch (or the MeasurementError it raised); ``merged``:
        the same summary merged so far, whose row sample bounds the hash keys worth keeping."""
        if not _key_columns(key) <= set(map(str, self.columns)) | set(self.columns) and self.all_columns:
            # a column the projection left out does not exist: said as for the whole table
            return _on_batch(FrameSummaries(pd.DataFrame({c: [] for c in self.all_columns}), name=self.name), key)
        if self.arrow is None and not self.all_columns and not _key_columns(key) <= set(self.columns):
            # a JSON Lines batch without an optional key that other lines have: nulls here
            missing = [c for c in _key_columns(key) if c not in self.columns]
            frame = self.df.assign(**{c: pd.Series(None, index=self.df.index, dtype=object) for c in missing})
            return _on_batch(FrameSummaries(frame, name=self.name, row_ids=np.arange(self.offset, self.offset + self.n_rows)), key)
        if self.arrow is not None and _key_columns(key) <= set(self.columns):
            from . import arrow_batch

            value = arrow_batch.summary(self.arrow, key, self.offset, _sample_bound(key, merged))
            if value is not NotImplemented:
                return value
        if self._fs is None:
            self._fs = FrameSummaries(self.df, name=self.name, row_ids=np.arange(self.offset, self.offset + self.n_rows))
        return _on_batch(self._fs, key)


def _sample_bound(key, samples):
    """The smallest of the largest hash keys of full row samples in ``samples`` (a row with a
    larger key can never enter the final sample), or None."""
    if key[0] != "row_sample":
        return None
    from .sample import hash_indices

    bound = None
    for s in samples:
        if isinstance(s, FeatureSample) and s.indices.size >= key[2]:
            top = hash_indices(s.seed, s.indices).max()
            bound = top if bound is None else min(bound, top)
    return bound


def _normalize_spec(spec_json):
    """A summary key's normalize_values (its JSON, or None) as the rule model's object."""
    if spec_json is None:
        return None
    from ..rules.model import NormalizeValues

    return NormalizeValues.model_validate_json(spec_json)


def _on_batch(fs: FrameSummaries, key):
    """One wanted summary on one batch, or the MeasurementError it raised (kept, re-raised on use)."""
    if key[0] == "view":
        _, name, unit, inner = key
        try:
            fs = fs.length_view(name, unit)
        except MeasurementError as exc:
            return exc
        if inner == ("excluded_texts",):
            out = dict(fs.excluded_texts)
            return out
        key = inner
    kind = key[0]
    try:
        if kind == "value_counts":
            return fs.value_counts(key[1], key[2])
        if kind == "histogram":
            return fs.histogram(key[1], key[2], key[3])
        if kind == "value_range":
            return fs.value_range(key[1])
        if kind == "row_sample":
            return fs.row_sample(list(key[1]), key[2], key[3])
        if kind == "text_rows":
            rows = fs.text_rows(key[1], _normalize_spec(key[2]))
            return replace(rows, positions=fs.row_ids[rows.positions],
                           first_not_text=None if rows.first_not_text is None else int(fs.row_ids[rows.first_not_text]))
        if kind == "text_keys":
            return fs.text_keys(key[1], _normalize_spec(key[2]))
        if kind == "text_sample":
            return fs.text_sample(key[1], key[2], key[3])
        if kind == "text_counts":
            return fs.text_counts(key[1], _normalize_spec(key[2]), key[3])
        if kind == "numeric_values":
            return fs.numeric_values(key[1])
        if kind == "numeric_count":
            return fs.numeric_count(key[1])
        if kind == "numeric_distinct":
            return fs.numeric_distinct(key[1], key[2])
        if kind == "cell_extremes":
            return fs.cell_extremes(key[1], key[2])
        if kind == "weights":
            return fs.weights(key[1])
        if kind == "dtype":
            return fs.column(key[1]).dtype
    except MeasurementError as exc:
        return exc
    raise AssertionError(key)  # pragma: no cover


class _Planned(Exception):
    """Planning has what it needs from this rule."""


class _Recorder(FrameSummaries):
    """FrameSummaries of one batch that records which summaries the rules ask for (planning)."""

    def __init__(self, df, name, sink: set, prefix=None, ranges=None):
        super().__init__(df, name=name)
        self.sink = sink
        self.prefix = prefix
        self.depth = 0  # > 0 inside a leaf's own computation
        self.ranges = ranges  # column -> its exact range without a pass (Parquet statistics), or None

    def start_rule(self) -> None:
        self.saw_range = False

    def _cached(self, key, compute):
        if key[0] == "value_range" and self.depth == 0 and self.prefix is None and self.ranges is not None:
            exact = self.ranges(key[1])
            if exact is not None:  # the data's own range: histograms on edges from it are planned too
                return exact
        if key[0] == "value_range" and self.depth == 0:
            self.saw_range = True
        if key[0] == "histogram" and getattr(self, "saw_range", False):
            # edges from this batch's range are not the data's: the real ones take a second pass
            self.depth += 1
            try:
                return super()._cached(key, compute)
            finally:
                self.depth -= 1
        if key[0] in LEAVES and self.depth == 0:
            # only what the rules ask for: a leaf that another computes from (the numeric values
            # behind a histogram) is computed per batch inside it, never streamed whole
            self.sink.add(key if self.prefix is None else ("view", *self.prefix, key))
            if key[0] in ("row_sample", "text_rows", "text_keys", "text_sample", "text_counts"):
                raise _Planned  # what follows (distances, embeddings, MinHash) reads only this summary
        self.depth += 1
        try:
            return super()._cached(key, compute)
        finally:
            self.depth -= 1

    def column(self, name: str):
        self.sink.add(("column", name))
        return super().column(name)

    def length_view(self, name: str, unit: str):
        view = super().length_view(name, unit)
        rec = _Recorder(view.df, view.name, self.sink, (name, unit))
        rec.excluded_texts = view.excluded_texts
        self.sink.add(("view", name, unit, ("excluded_texts",)))
        return rec


def plan(summaries: StreamedSummaries, evaluate_rule) -> None:
    """Evaluate every rule on the first batch to learn which summaries it reads, so that one pass
    computes them all (a summary that depends on another's value, such as a histogram on edges
    from the data's range, is then found missing and takes a second pass)."""
    first = None

    def first_batch(path):
        # only the columns the rules name, when the shard has them all (the batch's cost is
        # theirs, not the table's); else all, so that a missing column is named with hints
        wanted = summaries.data_columns
        names = shard_header(path, summaries.dialect)[0] if wanted is not None else None
        use = wanted if names is not None and set(wanted) <= set(names) else None
        for df in iter_frames(path, summaries.text_columns, min(summaries.batch_rows, 10_000), columns=use, dialect=summaries.dialect):
            return df, set(names) if use is not None else set(df.columns)
        return None, None

    for path in summaries.paths:
        if summaries.skip_bad_shards:  # an unreadable first shard must not stop the planning
            try:
                first, columns = first_batch(path)
            except DataReadError as exc:
                summaries.skipped[path] = exc.message
                continue
        else:
            first, columns = first_batch(path)
        if first is not None:
            break
    if first is None:
        return
    sink: set = set()
    rec = _Recorder(first, summaries.name, sink, ranges=summaries._footer_range)
    evaluate_rule(rec)
    summaries.all_columns = columns if summaries.on_batch is None else None
    for key in sink:
        if key[0] == "column":
            summaries.always_columns.add(key[1])
        else:
            summaries.wanted.setdefault(key, None)
