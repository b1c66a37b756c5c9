"""Data files read batch by batch, for the passes of the streaming and dask engines: a
shard's batches (CSV/TSV, JSON Lines, Parquet; projected to the columns a pass reads), its
header (columns and row count, from a header line or a Parquet footer), a check that shards
have the same columns, and a read-ahead thread.

Imports: summaries.io (the readers' options and errors), arrow_batch, errors.
"""

from __future__ import annotations

import collections
import queue
import threading
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from ..errors import ColumnsDiffer
from .io import (
    DECOMPRESSION_ERRORS,
    JSONL,
    PARQUET,
    TEXT_FORMATS,
    TRAILING,
    UTF8,
    DataReadError,
    Dialect,
    check_header,
    compressed_stream_error,
    extension,
    first_bad_json_line,
    is_url,
    json_lines_frames,
    not_decodable,
    one_line,
    open_binary,
    open_text,
    records_match_header,
    text_layout,
)

END = object()  # the end of one shard's batches


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

        with open_text(p) as raw:
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
        raise (compressed_stream_error(p) or DataReadError(p, f"cannot be read: {one_line(exc)}")) from None
    except pd.errors.EmptyDataError:
        raise DataReadError(p, "no columns to read (the file has no header row)") from None
    except ValueError as exc:  # as the in-memory reader words it (pyarrow's and pandas' parse errors)
        if ext in JSONL:  # the line in the file, not in the batch
            raise DataReadError(p, f"malformed JSON Lines: {first_bad_json_line(p) or one_line(exc)}") from None
        raise DataReadError(p, f"malformed {ext[1:].upper() or 'table'}: {one_line(exc)}") from None
    except Exception as exc:  # pandas, pyarrow and the decompressors raise their own types
        raise DataReadError(p, f"cannot be read as {ext[1:] or 'a table'}: {one_line(exc)}") from None
    raise DataReadError(p, f"unknown file type {ext or '(no extension)'!r}")


def parquet_file(path):
    """A pyarrow ParquetFile over a local path or an fsspec URL (a context manager)."""
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
                names = list(pandas_frame(pf.schema_arrow).columns)
                rows = pf.metadata.num_rows
        elif ext in TEXT_FORMATS:
            names = check_header(path if is_url(path) else Path(path), ext, dialect)
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


class ShardHeader:
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




_SCHEMA_FRAMES: dict = {}  # an Arrow schema -> its empty pandas frame (columns and dtypes)


def pandas_frame(schema) -> pd.DataFrame:
    """The empty pandas frame of an Arrow schema: the columns and dtypes to_pandas gives
    (pandas metadata applied), cached per schema (~20 ms each to build)."""
    empty = _SCHEMA_FRAMES.get(schema)
    if empty is None:
        if len(_SCHEMA_FRAMES) >= 64:  # a long-lived process sees many schemas: keep a few
            _SCHEMA_FRAMES.clear()
        empty = _SCHEMA_FRAMES.setdefault(schema, schema.empty_table().to_pandas())
    return empty
