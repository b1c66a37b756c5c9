"""Reading tables from files: CSV, TSV, Parquet and JSON Lines, chosen by extension.

Null policy of the readers (handed case H18): in text formats only the empty field is missing.
``NA`` (Namibia), ``nan``, ``None``, ``null`` and ``n/a`` are real values unless a rule or the
reader's ``na_values`` option says otherwise; JSON ``null`` and Parquet nulls are missing.

Every failure becomes a :class:`DataReadError` naming the file and what is wrong with it
(exit code 3 on the command line); input files are only ever opened for reading.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import glob
import gzip
import io
import json
import mmap
import os
import sys
import threading
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataReadError
from .arrow_batch import parquet_columns, read_parquet
from .frame import category_key

TEXT_FORMATS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET = {".parquet", ".pq"}
JSONL = {".jsonl", ".ndjson"}
SUPPORTED = sorted(set(TEXT_FORMATS) | PARQUET | JSONL)


@dataclass(frozen=True)
class Dialect:
    """How the CSV/TSV data files are written, when not as their extension says.

    Attributes
    ----------
    sep : str or None
        The one-character field separator (``;`` for many spreadsheet exports); None: by
        extension (``,`` for ``.csv``, a tab for ``.tsv`` / ``.tab``).
    encoding : str
        A Python codec name (``utf-8``, ``cp1252``, ``latin-1``, ...); a UTF-8 byte-order mark
        is skipped either way.

    Raises
    ------
    ValueError
        A separator that is not one character (or is a quote or a line break), an unknown
        encoding; the message names the option (``--csv-sep`` / ``--encoding``).
    """

    sep: str | None = None
    encoding: str = "utf-8"

    def __post_init__(self):
        if self.sep is not None and (not isinstance(self.sep, str) or len(self.sep) != 1 or self.sep in '"\r\n'):
            raise ValueError(f"--csv-sep must be one character other than a quote or a line break, got {self.sep!r}")
        try:
            codecs.lookup(self.encoding)
        except (LookupError, TypeError):
            raise ValueError(f"--encoding: unknown encoding {self.encoding!r} (a Python codec name such as utf-8, cp1252, latin-1)") from None

    @property
    def default(self) -> bool:
        return self.sep is None and self.codec == "utf-8"

    @property
    def codec(self) -> str:
        """The codec's canonical name; ``utf-8-sig`` for UTF-8 (a byte-order mark is skipped)."""

        return codecs.lookup(self.encoding).name

    @property
    def decoding(self) -> str:
        return "utf-8-sig" if self.codec == "utf-8" else self.encoding

    def separator(self, ext: str) -> str:
        return self.sep if self.sep is not None else TEXT_FORMATS[ext]


UTF8 = Dialect()


def is_url(path) -> bool:
    """An fsspec URL (``s3://bucket/x.parquet``, ``file:///data/*.csv``), not a local path."""
    return isinstance(path, str) and "://" in path


def expand_urls(urls) -> list[str]:
    """fsspec URLs with their globs expanded, sorted, as full URLs (DataReadError naming the
    URL for one that matches no file, names a folder, or whose protocol's package is missing)."""
    import fsspec  # optional: fsspec comes with the dask extra

    out: list[str] = []
    for url in urls:
        url = str(url)
        try:
            fs, _, found = fsspec.core.get_fs_token_paths(url, mode="rb", expand=True)
            folders = [f for f in found if fs.isdir(f)]
            missing = not found or not all(fs.isfile(f) for f in found)
        except ImportError as exc:  # the protocol's package (s3fs, gcsfs, ...) is not installed
            raise DataReadError(url, f"cannot be opened: {exc}") from None
        except Exception as exc:  # fsspec's file systems raise their own types
            raise DataReadError(url, f"cannot be opened: {type(exc).__name__}: {exc}") from None
        if folders:
            raise DataReadError(url, "is a folder; name its files with a glob (e.g. .../*.parquet)")
        if missing:
            raise DataReadError(url, "the pattern matches no file" if glob.has_magic(url) else "no such file")
        out.extend(sorted(fs.unstrip_protocol(f) for f in found))
    return sorted(dict.fromkeys(out))


def open_binary(path):
    """A binary file object for a local path or an fsspec URL (the caller closes it)."""
    if is_url(path):
        import fsspec  # optional: fsspec comes with the dask extra

        return fsspec.open(path, "rb").open()
    return open(path, "rb")


def expand_paths(paths) -> list[Path]:
    """Expand directories and glob patterns into data files, sorted by path.

    Shards of one dataset are taken in sorted path order, which fixes the global row numbering
    that row samples hash (docs/DESIGN.md "Row samples").

    Raises
    ------
    DataReadError
        A path that does not exist, a glob that matches nothing, a directory with no data files.
    """
    out: list[Path] = []
    for raw in paths:
        raw = str(raw)
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and extension(q) in SUPPORTED)
            if not found:
                raise DataReadError(p, f"directory holds no data files ({', '.join(SUPPORTED)})")
            out.extend(found)
        elif p.exists():
            out.append(p)
        elif glob.has_magic(raw):
            found = sorted(Path(m) for m in _glob(raw) if Path(m).is_file())
            if not found:
                raise DataReadError(raw, "the pattern matches no file")
            out.extend(found)
        else:
            raise DataReadError(p, "no such file")
    # one file named twice (even as a/x.csv and ./a/../a/x.csv) is one shard
    by_real: dict[Path, Path] = {}
    for q in out:
        by_real.setdefault(q.resolve(), q)
    return sorted(by_real.values(), key=lambda q: str(q))


def _glob(pattern: str) -> list[str]:
    """The paths ``pattern`` matches, as ``glob.glob(pattern, recursive=True)`` gives them, but
    a ``**`` walk enters each folder once: Python's glob follows a symbolic link back to a
    folder it is in (``ds/up -> .``) without end (``ds/up/up/up/...``, exponential with two such
    links). A link to a folder already searched is skipped, with a warning naming it."""
    if "**" not in pattern:
        return glob.glob(pattern)  # one folder level per component: finite whatever the links
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:fixed]) if fixed else Path(".")
    rest = parts[fixed:]
    if not root.is_dir():
        return []
    out: list[str] = []
    skipped: list[str] = []
    seen: set = set()

    def walk(folder: Path, rel: tuple, ancestors: frozenset) -> None:
        try:
            st = folder.stat()
        except OSError:
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            skipped.append(f"{folder} ({'a loop: it links to a folder it is in' if key in ancestors else 'a folder already searched'})")
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        folders = []
        for e in entries:
            sub = (*rel, e.name)
            if _glob_match(rest, sub):
                out.append(str(root / Path(*sub)) if fixed else str(Path(*sub)))
            try:
                is_dir = e.is_dir()  # follows a symbolic link, as glob does
            except OSError:
                is_dir = False
            if is_dir and (dotted or not e.name.startswith(".")):  # glob's ** skips hidden folders
                folders.append((e.is_symlink(), e.name, Path(e.path), sub))
        for _, _, path, sub in sorted(folders):  # folders before links to folders: a folder is searched under its own name
            walk(path, sub, ancestors | {key})

    dotted = any(part.startswith(".") for part in rest)  # a pattern naming a hidden name (ds/**/.cache/*.csv)
    walk(root, (), frozenset())
    if pattern.endswith(("/", os.sep)):
        out = [o for o in out if os.path.isdir(o)]  # a trailing slash matches folders only, as in glob
    if skipped:
        warnings.warn(f"{pattern}: skipped {len(skipped)} symbolic link(s) to folders already searched: "
                      + "; ".join(skipped[:5]) + ("; ..." if len(skipped) > 5 else ""), stacklevel=2)
    return out


def _glob_match(pattern: tuple, parts: tuple) -> bool:
    """Whether the path components ``parts`` match the glob components ``pattern`` (``**``:
    any number of folders, ``*`` and ``?`` never the leading dot of a hidden name, as glob)."""

    if not pattern:
        return not parts
    head, tail = pattern[0], pattern[1:]
    if head == "**":
        return _glob_match(tail, parts) or (bool(parts) and not parts[0].startswith(".") and _glob_match(pattern, parts[1:]))
    if not parts:
        return False
    name = parts[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return (fnmatch.fnmatchcase(name, head) if glob.has_magic(head) else name == head) and _glob_match(tail, parts[1:])


def extension(p: Path) -> str:
    """The format suffix: ``.csv`` for ``data.csv`` and for ``data.csv.gz``."""
    suffixes = [s.lower() for s in p.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in (".gz", ".zst"):
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def read_table(path, text_columns=(), dialect: Dialect = UTF8, columns=None) -> pd.DataFrame:
    """Read one table file by its extension.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``/``.tab``, ``.parquet``/``.pq`` or ``.jsonl``/``.ndjson`` file.
        A trailing ``.gz`` (``data.csv.gz``) is decompressed.
    text_columns : iterable of str
        Columns of a CSV/TSV file to keep as the text written in the file (categorical rules
        count values as written: ``01`` and ``1`` are different categories, and every shard
        reads a column the same way). Other formats keep their own types.
    dialect : Dialect
        The separator and encoding of CSV/TSV files (default: by extension, UTF-8).
    columns : iterable of str, optional
        The columns to read (default: all). When the file has them all, the others may be left
        unread (see :func:`read_columns`); when it lacks one, every column is read, so that
        messages about the missing column can name the file's columns.

    Returns
    -------
    pandas.DataFrame
        All columns (or those of ``columns``); text fields as strings, empty fields as missing.

    Raises
    ------
    DataReadError
        Missing, empty (0 bytes), not UTF-8, malformed, or of an unknown extension.
    """
    return read_columns(path, text_columns, dialect, columns)[0]


def read_columns(path, text_columns=(), dialect: Dialect = UTF8, columns=None) -> tuple[pd.DataFrame, list]:
    """:func:`read_table` and the file's column names (all of them, read or not).

    Reading only ``columns`` gives the same values as reading all of them and selecting: a
    CSV/TSV file is still parsed whole, every record's field count and every byte's encoding
    checked (pandas cannot check a record it does not convert), and the types inferred as
    pandas infers them (see :func:`_projected_text_file`). The speed comes from not converting
    the columns no rule reads (``bench/RESULTS_reader.md``).
    """
    p = Path(path)
    ext = extension(p)
    if not p.exists():
        raise DataReadError(p, "no such file")
    if p.is_dir():
        raise DataReadError(p, "is a directory, not a table file")
    if not os.access(p, os.R_OK):
        raise DataReadError(p, "permission denied")
    if p.stat().st_size == 0:
        raise DataReadError(p, "the file is empty (0 bytes): expected a header row at least")
    wanted = None if columns is None else set(columns)
    try:
        if ext in TEXT_FORMATS:
            layout = text_layout(p, ext, dialect)
            names = list(layout.names)
            df = None
            if wanted is not None and wanted <= set(names) and 2 * len(wanted) <= len(names):
                # at most half the columns: pyarrow parses every record and converts only these
                # (its per-column casts after the parse cost more than pandas' fused conversion
                # when most columns are wanted: bench/RESULTS_reader.md)
                df = _projected_text_file(p, layout, wanted, text_columns)
            if df is None:
                df = _text_file(p, layout, text_columns)
        elif ext in PARQUET:
            names = parquet_columns(p)
            # int64 / uint64 with nulls stay exact (not float64)
            df = read_parquet(p, [c for c in names if c in wanted] if wanted is not None and wanted <= set(names) else None)
        elif ext in JSONL:
            with open_text(p) as raw:
                df = next(json_lines_frames(raw))
            names = list(df.columns)
        else:
            raise DataReadError(p, f"unknown file type {ext or '(no extension)'!r}; expected one of {', '.join(SUPPORTED)}")
        if wanted is not None and wanted <= set(df.columns) and len(wanted) < len(df.columns):
            df = df[[c for c in df.columns if c in wanted]]  # the same frame whichever way it was read
        return df, names
    except DataReadError:
        raise
    except UnicodeDecodeError:
        raise DataReadError(p, not_decodable(p, dialect if ext in TEXT_FORMATS else UTF8)) from None
    except DECOMPRESSION_ERRORS as exc:
        raise (compressed_stream_error(p) or DataReadError(p, f"cannot be read: {one_line(exc)}")) from None
    except ValueError as exc:
        if ext in JSONL:
            raise DataReadError(p, f"malformed JSON Lines: {first_bad_json_line(p) or one_line(exc)}") from None
        if isinstance(exc, pd.errors.ParserError):
            raise DataReadError(p, f"malformed {ext[1:].upper()}: {one_line(exc)}") from None
        raise DataReadError(p, f"malformed {ext[1:].upper()}: {one_line(exc)}") from None
    except pd.errors.EmptyDataError:
        raise DataReadError(p, "no columns to read (the file has no header row)") from None
    except OSError as exc:
        raise DataReadError(p, f"cannot be read: {one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet
        if ext in JSONL:
            raise DataReadError(p, f"malformed JSON Lines: {first_bad_json_line(p) or one_line(exc)}") from None
        raise DataReadError(p, f"cannot be read as {ext[1:]}: {one_line(exc)}") from None


def _text_file(p: Path, layout: "TextLayout", text_columns) -> pd.DataFrame:
    """A whole CSV/TSV file by pandas, every column converted."""
    options = layout.pandas_options()
    source = open_text(p) if p.suffix.lower() == ".zst" else p  # pandas reads .gz itself
    with warnings.catch_warnings():
        # pandas types a large file in chunks (low_memory): a column whose chunks were typed
        # differently (text at the start, numbers later) is read again whole, as text, below
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        df = layout.finish(pd.read_csv(source, **options), p)
    # Categorical columns count values as written. Passing dtype=str up front made the whole
    # read ~1.6x slower (bench/), so only columns the parser turned into numbers or booleans
    # are read again, alone, as text; so is a column typed differently in different chunks
    # (one type per column for the whole file: 1 in row 500,000 is "1" as in row 10).
    retype = [c for c in df.columns if c in text_columns and not _as_written(df[c])
              or c not in text_columns and _chunk_typed(df[c])]
    if retype:
        text = pd.read_csv(open_text(p) if p.suffix.lower() == ".zst" else p, **{**options, "usecols": retype, "dtype": str})
        for c in retype:
            df[c] = text[c]
    return df


def _projected_text_file(p: Path, layout: "TextLayout", wanted: set, text_columns) -> pd.DataFrame | None:
    """Only the ``wanted`` columns of a local, uncompressed UTF-8 CSV/TSV file, with the values
    and types :func:`_text_file` gives them; None when the file is to be read whole by
    :func:`_text_file` instead (which then reports what is wrong with it).

    pandas checks no record's field count when it converts only some columns (``usecols``), so
    pyarrow's CSV parser reads the file: it refuses any record whose field count is not the
    header's, and gives the wanted columns as written (strings). Text columns stay so; another
    column becomes what pandas' type inference makes of it (:func:`_as_pandas_infers`), or is
    converted by pandas itself when that is not certain. Any doubt (a record of the wrong length,
    bytes that are not UTF-8, a field after a trailing separator, a field longer than pyarrow's
    block) gives None.
    """
    if is_compressed(p) or layout.encoding != "utf-8" or any("\n" in n or "\r" in n for n in layout.names):
        return None
    pool = ThreadPoolExecutor(max_workers=1)
    utf8 = pool.submit(_is_utf8, p)  # beside the parse (both release the GIL while they read)
    try:
        table = _arrow_strings(p, layout, wanted, _quote_after_header(p))
    finally:
        pool.shutdown(wait=True)
    if table is None or not utf8.result():
        return None
    keep = [c for c in layout.names if c in wanted]
    if not table.num_rows or layout.trailing and table.column(TRAILING).null_count != table.num_rows:
        return None  # (pandas types the columns of a file without rows as object)
    out = {c: "text" if c in text_columns else _as_pandas_infers(table.column(c)) for c in keep}
    if redo := [c for c in keep if out[c] is None]:
        try:
            converted = _pandas_columns(p, layout, redo)
        except Exception:  # noqa: BLE001 - read whole, the whole-file read says what is wrong
            return None
        if len(converted) != table.num_rows:
            return None
        out.update({c: converted[c] for c in redo})
    index = pd.RangeIndex(table.num_rows)
    texts = table.select([c for c in keep if isinstance(out[c], str)]).to_pandas()
    return pd.DataFrame({c: texts[c] if isinstance(out[c], str) else
                         out[c].set_axis(index) if isinstance(out[c], pd.Series) else pd.Series(out[c], index=index)
                         for c in keep}, index=index)


def _arrow_strings(p: Path, layout: "TextLayout", wanted: set, quoted: bool):
    """The ``wanted`` columns of a CSV/TSV file as written (pyarrow strings, the empty field
    null) by pyarrow's parser, which refuses any record whose field count is not the header's;
    None when it refuses the file or cannot read it (a field longer than its block)."""

    keep = [c for c in layout.names if c in wanted]
    include = [*keep, TRAILING] if layout.trailing else keep
    read_options, parse_options = layout.arrow_options(quoted)
    try:
        return pacsv.read_csv(
            str(p), read_options=read_options, parse_options=parse_options,
            convert_options=pacsv.ConvertOptions(include_columns=include, column_types={c: pa.string() for c in include},
                                                 null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except (pa.ArrowException, OSError):
        return None


def _quote_after_header(p: Path, block: int = 8 << 20) -> bool:
    """Whether a ``"`` follows a local file's first line (a memory-mapped search at memchr
    speed, no copy; a compressed file is searched as it decompresses): without one the file has
    no quoted field, so no line break inside a field, and pyarrow's parser may split it at any
    line break (``newlines_in_values=False``)."""
    if not is_compressed(p):
        with open(p, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"', mm.find(b"\n") + 1) >= 0
    with open_text(p) as f:
        data = f.read(block)
        start = data.find(b"\n") + 1  # 0 when the first block holds no line break: all searched
        while data:
            if data.find(b'"', start) >= 0:
                return True
            data, start = f.read(block), 0
    return False


_POWERS_OF_TEN = np.array([10**k for k in range(20)], dtype=np.uint64)  # exact: 10^19 < 2^64


def _as_pandas_infers(col) -> "np.ndarray | str | None":
    """What pandas' type inference makes of a CSV column given as written (a pyarrow string
    array, nulls for empty fields), where that is certain; None where pandas must decide.

    - Integers: int64, or float64 beside a null when below 2^53 (each then exact). pyarrow's
      integer parser also reads hexadecimal (``0x1F``), which pandas reads as text: a column
      whose texts are longer than their values' decimal digits is searched for an ``x``.
    - Decimals: float64 when every text has at most 15 characters, every non-zero value lies in
      [1e-8, 1e23) and one value at least is not whole. Then each text is M x 10^q with an
      integer M < 10^15 < 2^53 and |q| <= 22, where pyarrow's correctly rounded parse and
      pandas' ``precise_xstrtod`` (M divided or multiplied by an exact power of ten) give the
      same double (Clinger, "How to read floating point numbers accurately", PLDI 1990), and
      pandas makes the column float (not int: a whole ``+1`` column is left to pandas).
    - An all-empty column is float64 NaN.
    - A column with a value neither pandas' number parser nor its booleans can read (a letter
      other than an exponent, ``inf``, ``nan``, ``True``) is text: ``"text"``, the caller keeps
      its strings.
    - Anything else (booleans, ``nan``, spaces, integers beyond int64, long decimals) returns
      None: pandas converts it.
    """

    n, nulls = len(col), col.null_count
    if nulls == n:
        return np.full(n, np.nan)
    try:
        if col.num_chunks > 1:
            pc.cast(col.chunk(0), pa.int64())  # (a decimal column fails on its first chunk: the others are not cast)
        ints = _cast(col, pa.int64())
    except pa.ArrowInvalid:
        ints = None
    if ints is not None:
        values = ints.to_numpy(zero_copy_only=False) if not nulls else pc.drop_null(ints).to_numpy(zero_copy_only=False)
        # |v| exactly, as uint64 (-2^63 included), and its decimal digits by comparison with exact powers of ten
        magnitude = np.where(values < 0, (-(values + 1)).astype(np.uint64) + np.uint64(1), values.astype(np.uint64))
        digits = np.maximum(np.searchsorted(_POWERS_OF_TEN, magnitude, side="right"), 1) + (values < 0)
        if pc.sum(pc.binary_length(col)).as_py() != int(digits.sum()) \
                and any(pc.any(pc.match_substring(col, x)).as_py() for x in "xX"):
            return "text"  # (longer texts than digits: leading zeros, or hexadecimal, which pandas reads as text)
        if not nulls:
            return ints.to_numpy()
        if magnitude.max() < 2**53:
            return pc.fill_null(pc.cast(ints, pa.float64()), np.nan).to_numpy()
        return None
    try:
        floats = _cast(col, pa.float64())
    except pa.ArrowInvalid:
        foreign = pc.and_(pc.match_substring_regex(col, r"[^0-9+\-.eE \t]"),
                          pc.invert(pc.match_substring_regex(col, r"(?i)^\s*[+-]?(inf|infinity|nan|true|false)\s*$")))
        return "text" if pc.any(foreign).as_py() else None
    if pc.max(pc.binary_length(col)).as_py() > 15:
        return None  # long texts
    values = pc.fill_null(floats, np.nan).to_numpy()
    present = values[~np.isnan(values)] if nulls else values
    if not np.isfinite(present).all():
        return None  # inf / nan
    magnitude = np.abs(present)
    smallest = np.min(magnitude, initial=np.inf, where=magnitude != 0)  # inf when every value is 0
    if smallest < 1e-8 or magnitude.max() >= 1e23:
        return None  # values past the exact scaling
    head = present[:4096]  # (a value that is not whole is usually near the start: the whole column is then not searched)
    if (head == np.floor(head)).all() and (present == np.floor(present)).all():
        return None  # whole numbers (1.0 or +1?)
    return values


def _cast(col, to):
    """``pyarrow.compute.cast(col, to)`` of a chunked array, its chunks cast on two threads
    (pyarrow's cast runs on one; its kernels release the GIL): the same values, ArrowInvalid
    when a value cannot be cast."""
    if col.num_chunks < 4:
        return pc.cast(col, to)
    half = col.num_chunks // 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(pc.cast, pa.chunked_array(col.chunks[half:], type=col.type), to)
        first = pc.cast(pa.chunked_array(col.chunks[:half], type=col.type), to)
        return pa.chunked_array([*first.chunks, *second.result().chunks], type=to)


#: A compressed file is checked record by record (two more decompressions) only from this many
#: columns on: below it, converting every column costs less than decompressing twice more.
WIDE_COMPRESSED = 64


def records_match_header(p: Path, layout: "TextLayout") -> bool:
    """Whether every record of a local UTF-8 CSV/TSV file has the header's field count
    (pyarrow's parser, one pass, no column converted) and the file is UTF-8: then pandas may
    convert only some columns (``usecols``, which checks no field count). False also when
    pyarrow cannot tell (a non-UTF-8 file, a field longer than its block), and for a compressed
    file of fewer than ``WIDE_COMPRESSED`` columns."""

    if not layout.names or is_compressed(p) and len(layout.names) < WIDE_COMPRESSED or layout.encoding != "utf-8" \
            or any("\n" in n or "\r" in n for n in layout.names):
        return False
    try:
        if not _is_utf8(p):
            return False
        read_options, parse_options = layout.arrow_options(_quote_after_header(p))
        first = layout.names[0]
        pacsv.read_csv(pa.input_stream(str(p), compression="detect"), read_options=read_options, parse_options=parse_options,
                       convert_options=pacsv.ConvertOptions(include_columns=[first], column_types={first: pa.binary()}))
    except (pa.ArrowException, *DECOMPRESSION_ERRORS):  # converted whole, which names the fault
        return False
    return True


def _pandas_columns(p: Path, layout: "TextLayout", columns: list) -> pd.DataFrame:
    """``columns`` of a CSV/TSV file converted by pandas as a whole-file read converts them
    (type inference included); no field count is checked (see :func:`_projected_text_file`)."""
    options = {**layout.pandas_options(), "usecols": columns}
    options.pop("dtype", None)  # the trailing column's, not read here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        df = pd.read_csv(p, **options)
    retype = [c for c in columns if _chunk_typed(df[c])]  # one type per column, as in _text_file
    if retype:
        text = pd.read_csv(p, **{**options, "usecols": retype, "dtype": str})
        for c in retype:
            df[c] = text[c]
    return df


def _is_utf8(p: Path, block: int = 8 << 20) -> bool:
    """Whether a file's bytes are valid UTF-8 (ASCII blocks are not decoded: a fast test; a
    local uncompressed file is memory-mapped and its blocks tested by their largest byte)."""

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    if not is_compressed(p) and not is_url(p) and os.path.getsize(p):
        return _is_utf8_mapped(p, decoder, block)
    try:
        with open_text(p) as f:
            while data := f.read(block):
                if not data.isascii() or decoder.getstate()[0]:
                    decoder.decode(data)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8_mapped(p: Path, decoder, block: int) -> bool:
    """:func:`_is_utf8` of a local, uncompressed, non-empty file: the same blocks, the same test
    (a block with a byte >= 0x80, or after a block that ended inside a character, is decoded),
    the ASCII test a numpy maximum over the mapped bytes (no copy, ~10x faster than reading the
    blocks into bytes and ``bytes.isascii``)."""
    with open(p, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size, release = len(mm), hasattr(mmap, "MADV_DONTNEED") and block % mmap.PAGESIZE == 0
        try:
            for start in range(0, size, block):
                view = np.frombuffer(mm, dtype=np.uint8, count=min(block, size - start), offset=start)
                ascii_only = int(view.max()) < 0x80
                del view  # (the map cannot close while a view of it lives)
                if not ascii_only or decoder.getstate()[0]:
                    decoder.decode(mm[start:start + block])
                if release:  # tested pages leave this process's RSS (not the page cache)
                    mm.madvise(mmap.MADV_DONTNEED, start, min(block, size - start))
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _as_written(s: pd.Series) -> bool:
    """Whether a column holds the text written in the file: strings only (an object column of
    booleans beside missing values is not; pandas' is_string_dtype(object) is True for it), and
    no empty string (an empty field is missing; pandas reads it as "" in a column it first tried
    as unsigned integers, ``9223372036854775808`` beside an empty field)."""
    if s.dtype == object:
        return bool(s.dropna().map(type).eq(str).all()) and not s.eq("").any()
    return bool(pd.api.types.is_string_dtype(s.dtype)) and not s.eq("").any()


def _chunk_typed(s: pd.Series) -> bool:
    """Whether pandas' chunked type inference left text beside numbers or booleans in a column."""
    if s.dtype != object:
        return False
    kinds = s.map(type, na_action="ignore").dropna().unique()
    return str in kinds and len(kinds) > 1


class _ArrowReader(io.RawIOBase):
    """A pyarrow input stream as a Python raw binary file (``readinto``), for io.BufferedReader."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_text(p):
    """A buffered binary file over a table file (a local path or an fsspec URL), decompressing
    ``.gz`` and ``.zst`` (zstd, by pyarrow's codec) on the fly."""

    suffix = Path(str(p)).suffix.lower()
    if suffix == ".zst":
        source = pa.PythonFile(open_binary(p), mode="r") if is_url(p) else str(p)
        return io.BufferedReader(_ArrowReader(pa.input_stream(source, compression="zstd")))
    if suffix == ".gz":
        return gzip.open(open_binary(p), "rb") if is_url(p) else gzip.open(p, "rb")
    return open_binary(p)


def is_compressed(p) -> bool:
    return Path(str(p)).suffix.lower() in (".gz", ".zst")


#: What the decompressors raise on a stream cut short or corrupt: EOFError (gzip ended early),
#: zlib.error (a bad deflate block), OSError (gzip.BadGzipFile, pyarrow's zstd codec).
DECOMPRESSION_ERRORS = (EOFError, OSError, zlib.error)


def compressed_stream_error(p) -> DataReadError | None:
    """The error for a ``.gz`` / ``.zst`` file whose compressed data is cut short or corrupt,
    saying how many lines decompressed before the decompressor failed (a few less than there
    are: it is read in 8 KB pieces); None when the file decompresses to its end (the problem is
    elsewhere). Only called on the error path: decompresses the file once more."""
    if not is_compressed(p):
        return None
    lines = 0
    try:
        with open_text(p) as f:
            while chunk := f.read(8192):
                lines += chunk.count(b"\n")
    except DECOMPRESSION_ERRORS as exc:
        codec = "gzip" if Path(str(p)).suffix.lower() == ".gz" else "zstd"
        return DataReadError(p, f"the {codec} data is cut short or corrupt: decompressing failed after {lines} "
                                f"line{'s' * (lines != 1)} ({one_line(exc) or type(exc).__name__})")
    return None


def _decompressed(p):
    """``open_text(p)`` for an error-path reader: a decompression error is the DataReadError
    of :func:`compressed_stream_error` (not the EOFError/zlib.error of the decompressor)."""

    @contextmanager
    def opened():
        try:
            with open_text(p) as f:
                yield f
        except DECOMPRESSION_ERRORS as exc:
            raise (compressed_stream_error(p) or DataReadError(p, f"cannot be read: {one_line(exc)}")) from None

    return opened()


ARROW_THREADS = True  # pyarrow's CSV parser on its thread pool
TRAILING = "\x00trailing separator"  # the name given to the empty field after a trailing separator


@dataclass(frozen=True)
class TextLayout:
    """How one CSV/TSV file is laid out, from its first records: what pandas is told to read it
    the same way in every engine (memory, each streamed batch, each dask task).

    Attributes
    ----------
    names : list of str
        The header's column names.
    sep : str
        The field separator.
    quoting : bool
        Whether ``"`` quotes fields. CSV (RFC 4180) quotes; TSV (IANA text/tab-separated-values)
        has no quoting, a ``"`` in a TSV field is data.
    trailing : bool
        Every record ends with the separator (``a,b,`` under ``a,b``, a common export style):
        the empty field after it is read as a column of its own (``TRAILING``), checked to be
        empty and dropped, so that no value moves one column left.
    """

    names: list
    sep: str
    quoting: bool
    trailing: bool
    encoding: str = "utf-8"

    def pandas_options(self) -> dict:
        """Keyword arguments of :func:`pandas.read_csv` for this layout (only the empty field is
        missing, bytes must be valid in the encoding)."""
        options = dict(sep=self.sep, keep_default_na=False, na_values=[""], encoding=self.encoding, encoding_errors="strict")
        if len(self.names) == 1:
            options["skip_blank_lines"] = False  # in a one-column file a blank line is an empty field
        if not self.quoting:
            options["quoting"] = csv.QUOTE_NONE
        if self.trailing:
            options.update(names=[*self.names, TRAILING], header=0, dtype={TRAILING: str})
        return options

    def arrow_options(self, quoted: bool = True):
        """pyarrow's CSV read and parse options for this layout: the header's names (and the
        trailing column) given, the header line skipped; ``quoted``: whether a quoted field
        may hold a line break (False lets pyarrow split the file at any line break)."""

        names = [*self.names, TRAILING] if self.trailing else list(self.names)
        return (pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=ARROW_THREADS),
                pacsv.ParseOptions(delimiter=self.sep, quote_char='"' if self.quoting else False,
                                   newlines_in_values=self.quoting and quoted, ignore_empty_lines=len(self.names) > 1))

    def finish(self, df: pd.DataFrame, p, check_short: bool = True) -> pd.DataFrame:
        """A frame (or one batch) read with :meth:`pandas_options`, checked: refuses a record
        with too few fields (pandas would fill its last columns with missing values) and a
        non-empty field after a trailing separator; drops the trailing column. The check for
        short records reads the whole file once (pyarrow's parser), so a caller finishing many
        batches of one file passes ``check_short=False`` once :meth:`may_be_short` was true.

        Raises
        ------
        DataReadError
            Naming the file and the first such line.
        """
        if self.trailing:
            if df[TRAILING].notna().any():  # finished before any projection: the column is there
                line = _first_bad_record(p, self, lambda f: len(f) == len(self.names) + 1 and f[-1] != "")
                raise DataReadError(p, f"line {line} has a value after the last column (every other "
                                       f"line of this file ends with an empty field after the separator)")
            else:
                df = df.drop(columns=[TRAILING])
        if check_short and self.may_be_short(df) and _has_short_records(p, self):
            # only a missing value in the last column can come from a record with too few fields
            line = _first_bad_record(p, self, lambda f: len(f) < len(self.names) and f != [])
            raise DataReadError(p, f"line {line} has fewer fields than the header's {len(self.names)}; "
                                   f"an empty value must still have its separator")
        return df

    def may_be_short(self, df: pd.DataFrame) -> bool:
        """Whether ``df`` has a missing value in the last column (a record with too few fields
        leaves no other trace)."""
        last = self.names[-1] if self.names else None
        return len(self.names) > 1 and last in df.columns and bool(df[last].isna().any())


def text_layout(p, ext: str, dialect: Dialect = UTF8) -> TextLayout:
    """The layout of a CSV/TSV file (``ext``: ``.csv``, ``.tsv`` or ``.tab``) from its header and
    first record; refuses a header that names a column twice (pandas would rename it ``x.1``
    silently). CSV quotes fields with ``"`` (RFC 4180); TSV has no quoting.

    Raises
    ------
    DataReadError
        A header naming a column twice.
    """
    sep, quoting, encoding = dialect.separator(ext), TEXT_FORMATS[ext] == ",", dialect.decoding
    head = b""
    with open_text(p) as raw:
        for _ in range(64):  # the header and the first record (which may span lines)
            line = raw.readline(1 << 20)
            head += line
            if not line or len(_records(head, sep, quoting, encoding)) >= 2:
                break
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        try:
            text = head[: exc.start].decode(encoding)  # the rest is reported by the full read
        except UnicodeDecodeError:
            text = ""
    records = _records(text.encode(encoding), sep, quoting, encoding)
    names = records[0] if records else []
    seen, repeated = set(), []
    for n in names:
        if n in seen and n not in repeated:
            repeated.append(n)
        seen.add(n)
    if repeated:
        raise DataReadError(p, f"the header names a column more than once: {', '.join(map(repr, repeated))}")
    first = records[1] if len(records) > 1 else None
    trailing = bool(names) and names[-1] != "" and first is not None and len(first) == len(names) + 1 and first[-1] == ""
    return TextLayout(names, sep, quoting, trailing, "utf-8" if encoding == "utf-8-sig" else encoding)


def _records(head: bytes, sep: str, quoting: bool, encoding: str) -> list[list[str]]:
    """The complete records of the start of a file (a record cut by the end of ``head`` is left out)."""
    text = head.decode(encoding, errors="replace")
    end = max(text.rfind("\n"), text.rfind("\r"))  # a line ends with \n, \r\n or (old Mac exports) \r alone
    complete = text[: end + 1] if end >= 0 else text
    _no_field_size_limit()  # a long text in the first record (a pretraining document) is one field
    reader = csv.reader(io.StringIO(complete, newline=""), delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    try:
        return [r for r in reader]
    except csv.Error:
        return []


def _has_short_records(p, layout: TextLayout) -> bool:
    """Whether any record has fewer fields than the header, by pyarrow's CSV parser (which
    counts every record's fields; pandas fills a short record with missing values silently).
    Run only when the last column has a missing value, the only trace such a record leaves."""

    short = []

    def invalid(row):
        if row.actual_columns < len(layout.names):
            short.append(row.actual_columns)
        return "skip"

    names = [*layout.names, TRAILING] if layout.trailing else list(layout.names)
    source = pa.input_stream(str(p), compression="detect") if not is_url(p) and Path(str(p)).suffix.lower() != ".zst" else open_text(p)
    try:
        with _unraisable() as failed:  # the handler's row could not be built: count by the csv module
            pacsv.read_csv(
                source,
                read_options=pacsv.ReadOptions(column_names=[f"f{i}" for i in range(len(names))], skip_rows=1,
                                               encoding=layout.encoding),
                parse_options=pacsv.ParseOptions(delimiter=layout.sep, quote_char='"' if layout.quoting else False,
                                                 newlines_in_values=layout.quoting, invalid_row_handler=invalid),
                convert_options=pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.binary()}),
            )
        if failed:
            raise ValueError("the invalid-row handler could not be called")
    except Exception:  # noqa: BLE001 - pyarrow could not parse it (e.g. a record longer than its block): count by the csv module
        return _first_bad_record(p, layout, lambda fields: 0 < len(fields) < len(names)) > 0
    return bool(short)


_UNRAISABLE_LOCK = threading.Lock()


def _unraisable():
    """A context whose value is a list that collects the exceptions Python could not raise
    (``sys.unraisablehook``) while it is open, instead of printing them with a traceback.
    pyarrow's CSV reader calls ``invalid_row_handler`` with the row's text decoded as UTF-8; a
    short row with a byte that is not UTF-8 fails there, before the handler, and pyarrow prints
    "Exception ignored ... Traceback" to stderr. The lock keeps two threads from swapping the
    hook at once."""

    @contextmanager
    def collecting():
        seen: list = []
        with _UNRAISABLE_LOCK:
            previous, sys.unraisablehook = sys.unraisablehook, lambda u: seen.append(u.exc_value)
            try:
                yield seen
            finally:
                sys.unraisablehook = previous

    return collecting()


def _first_bad_record(p, layout: TextLayout, bad) -> int:
    """The line number (1-based, the header is line 1) where the first record whose fields
    satisfy ``bad`` ends, by the csv module (only called on the error path: reads the whole file)."""
    with _decompressed(p) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig" if layout.encoding == "utf-8" else layout.encoding,
                                errors="replace", newline="")
        reader = csv.reader(text, delimiter=layout.sep, quoting=csv.QUOTE_MINIMAL if layout.quoting else csv.QUOTE_NONE)
        _no_field_size_limit()
        next(reader, None)
        for fields in reader:
            if bad(fields):
                return reader.line_num
    return 0


def _no_field_size_limit() -> None:
    """Let the csv module read fields of any length, as pandas and pyarrow do (its default of
    131,072 characters would make a long text in a file's first record unreadable). Raised for
    the process and never lowered again: threads reading files at once must not restore each
    other's limit."""
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)


def check_header(p: Path, ext: str, dialect: Dialect = UTF8) -> list[str]:
    """The header's column names (see :func:`text_layout`)."""
    return text_layout(p, ext, dialect).names


def not_decodable(p, dialect: Dialect) -> str:
    """'not valid UTF-8 text (invalid byte 0xe9 at line 3, byte offset 17); ...' for the first
    byte that is not valid in the file's encoding.

    Only called on the error path; reads the file once more, whole.
    """
    with _decompressed(p) as f:
        data = f.read()
    where = "invalid byte"
    try:
        data.decode(dialect.decoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"invalid byte 0x{data[exc.start]:02x} at line {line}, byte offset {exc.start}"
    if dialect.codec == "utf-8":
        return f"not UTF-8 text ({where}); re-encode it as UTF-8, or name its encoding with --encoding"
    return f"not valid {dialect.encoding} text ({where})"


def json_lines_frames(raw, batch_rows: int | None = None):
    """DataFrames of the JSON Lines records in the binary stream ``raw``: one of every record
    when ``batch_rows`` is None (empty when there are none), else one per ``batch_rows``
    non-blank lines. Both engines read JSON Lines here, so a value is typed the same in each.

    Each key is a column in first-seen order; a key a record lacks is a null there. A column
    of integers (JSON numbers without fraction or exponent) beside nulls is a nullable Int64
    column holding them exactly (pandas.read_json goes through float64, so 2**53 + 1 became
    2**53), integers past int64 stay Python ints; every other column is as pandas infers it
    from the decoded values (true/false beside nulls stay booleans and nulls).

    Raises
    ------
    ValueError
        A line that is not JSON or not a JSON object (the caller names the line).
    """
    text = io.TextIOWrapper(raw, encoding="utf-8-sig")
    lines: list[str] = []
    for line in _nonblank_lines(text):
        lines.append(line)
        if batch_rows and len(lines) == batch_rows:
            yield _json_frame(lines)
            lines = []
    if lines or batch_rows is None:
        yield _json_frame(lines)


def _nonblank_lines(text, piece: int = 1 << 20):
    """The lines of the text stream ``text`` that hold more than white space, as ``for line in
    text`` gives them but without their ``\n``, read in pieces of ``piece`` characters: a piece of
    white space only costs one ``str.strip`` (a small .gz file of 50 million blank lines took
    16 s in memory, 38 s streamed, when each line was a step of the loop)."""
    pending = ""  # the start of a line that has not ended yet
    while chunk := text.read(piece):
        if not chunk.strip():  # blank lines only; the first may end the pending line
            end = chunk.find("\n")
            if end < 0:
                pending += chunk
            else:
                if pending.strip():
                    yield pending + chunk[:end]
                pending = chunk[chunk.rfind("\n") + 1:]
            continue
        lines = (pending + chunk).split("\n")
        pending = lines.pop()
        yield from filter(str.strip, lines)
    if pending.strip():
        yield pending


def _json_frame(lines: list[str]) -> pd.DataFrame:

    records = [json.loads(line) for line in lines]
    if not all(isinstance(r, dict) for r in records):
        raise ValueError("expected a JSON object per line")
    keys = list(dict.fromkeys(k for r in records for k in r))
    return pd.DataFrame({k: _json_column([r.get(k) for r in records]) for k in keys}, index=pd.RangeIndex(len(records)))


def _json_column(values: list):
    present = [v for v in values if v is not None]
    if present and len(present) < len(values) and all(type(v) is int for v in present):
        if -(2**63) <= min(present) and max(present) < 2**63:
            return pd.array(values, dtype="Int64")  # exact, where float64 would round past 2**53
        return pd.Series(values, dtype=object)
    return pd.Series(values)


def first_bad_json_line(p: Path) -> str | None:

    with _decompressed(p) as f:
        for number, raw in enumerate(f, start=1):
            # decoded as the reader decodes it: json.loads of bytes guesses UTF-16 for a line that
            # starts with a NUL byte and raised UnicodeDecodeError, which has no .msg
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                return f"line {number}: not valid JSON ({getattr(exc, 'msg', None) or one_line(exc)})"
            if not isinstance(value, dict):
                return f"line {number}: expected a JSON object per line, found {type(value).__name__}"
    return None


def read_dataset(paths, text_columns=(), category_columns=None, dialect: Dialect = UTF8, columns=None) -> pd.DataFrame:
    """Read the shards of one dataset (sorted by path) into one frame with a fresh RangeIndex.

    ``category_columns`` (default: ``text_columns``) are the columns counted by value: one typed
    as numbers by some shards and as text by others is made text in all of them (1 and "1" are
    one category). Columns only text rules read are left as the shards have them (a number is
    not a text, whichever shard it is in). ``columns``: the columns to read (default: all;
    see :func:`read_table`); every shard must still have the same columns, read or not.

    Raises
    ------
    DataReadError
        Any shard unreadable, or shards whose columns differ.
    """
    files = expand_paths(paths)
    read = [read_columns(p, text_columns, dialect, columns) for p in files]
    frames = [df for df, _ in read]
    if len(frames) == 1:
        return frames[0]
    first = read[0][1]
    for p, (f, names) in zip(files[1:], read[1:]):
        if set(names) != set(first):
            missing = sorted(set(first) - set(names))
            extra = sorted(set(names) - set(first))
            raise DataReadError(
                p, f"its columns differ from {files[0]}'s (missing: {missing or 'none'}, extra: {extra or 'none'})"
            )
    if len({frozenset(f.columns) for f in frames}) > 1:  # a shard lacking a wanted column was read whole: all are
        frames = [read_table(p, text_columns, dialect) for p in files]
    _same_kind_across_shards(frames, text_columns if category_columns is None else category_columns)
    return pd.concat(frames, ignore_index=True)


def _same_kind_across_shards(frames: list[pd.DataFrame], text_columns) -> None:
    """A categorical column typed differently by its shards (Parquet int in one, text in another)
    is compared as text in all of them, so that 1 and "1" are one category, as within a CSV."""

    def is_text(s: pd.Series) -> bool:
        if s.dtype != object:
            return bool(pd.api.types.is_string_dtype(s.dtype))
        # an object column is text when it holds text (booleans or numbers with nulls are not)
        return bool(s.map(lambda v: isinstance(v, str)).any()) or not s.notna().any()

    for c in text_columns:
        text = {id(f): is_text(f[c]) for f in frames if c in f.columns}
        if len(set(text.values())) > 1:
            for f in frames:
                if c in f.columns and not text[id(f)]:
                    f[c] = f[c].map(lambda v: None if pd.isna(v) else category_key(v)).astype("str")


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
