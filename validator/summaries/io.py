"""Reading tables from files: CSV, TSV, Parquet and JSON Lines, chosen by extension.

Null policy of the readers (handed case H18): in text formats only the empty field is missing.
``NA`` (Namibia), ``nan``, ``None``, ``null`` and ``n/a`` are real values unless a rule or the
reader's ``na_values`` option says otherwise; JSON ``null`` and Parquet nulls are missing.

Every failure becomes a :class:`DataReadError` naming the file and what is wrong with it
(exit code 3 on the command line); input files are only ever opened for reading.
"""

from __future__ import annotations

import glob
import io
import os
from pathlib import Path

import pandas as pd

TEXT_FORMATS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET = {".parquet", ".pq"}
JSONL = {".jsonl", ".ndjson"}
SUPPORTED = sorted(set(TEXT_FORMATS) | PARQUET | JSONL)


class DataReadError(Exception):
    """A data or reference file that cannot be read; ``str()`` is one line naming the file."""

    def __init__(self, path, message: str, kind: str = "data"):
        self.path = str(path)
        self.message = message
        self.kind = kind  # "data" or "reference": which kind of file could not be read
        super().__init__(f"{self.path}: {message}")

    def __reduce__(self):  # raised in dask workers and sent back: keep path, message and kind
        return (DataReadError, (self.path, self.message, self.kind))


def is_url(path) -> bool:
    """An fsspec URL (``s3://bucket/x.parquet``, ``file:///data/*.csv``), not a local path."""
    return isinstance(path, str) and "://" in path


def expand_urls(urls) -> list[str]:
    """fsspec URLs with their globs expanded, sorted, as full URLs (DataReadError naming the
    URL for one that matches no file, names a folder, or whose protocol's package is missing)."""
    import fsspec

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
        import fsspec

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
            found = sorted(q for q in p.iterdir() if q.is_file() and _extension(q) in SUPPORTED)
            if not found:
                raise DataReadError(p, f"directory holds no data files ({', '.join(SUPPORTED)})")
            out.extend(found)
        elif p.exists():
            out.append(p)
        elif glob.has_magic(raw):
            found = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
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


def _extension(p: Path) -> str:
    """The format suffix: ``.csv`` for ``data.csv`` and for ``data.csv.gz``."""
    suffixes = [s.lower() for s in p.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in (".gz", ".zst"):
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def read_table(path, text_columns=()) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        All columns; text fields as strings, empty fields as missing.

    Raises
    ------
    DataReadError
        Missing, empty (0 bytes), not UTF-8, malformed, or of an unknown extension.
    """
    p = Path(path)
    ext = _extension(p)
    if not p.exists():
        raise DataReadError(p, "no such file")
    if p.is_dir():
        raise DataReadError(p, "is a directory, not a table file")
    if not os.access(p, os.R_OK):
        raise DataReadError(p, "permission denied")
    if p.stat().st_size == 0:
        raise DataReadError(p, "the file is empty (0 bytes): expected a header row at least")
    try:
        if ext in TEXT_FORMATS:
            names = _check_header(p, TEXT_FORMATS[ext])
            options = dict(sep=TEXT_FORMATS[ext], keep_default_na=False, na_values=[""], encoding="utf-8", encoding_errors="strict")
            if len(names) == 1:
                options["skip_blank_lines"] = False  # in a one-column file a blank line is an empty field
            source = _open_text(p) if p.suffix.lower() == ".zst" else p  # pandas reads .gz itself
            df = pd.read_csv(source, **options)
            # Categorical columns count values as written. Passing dtype=str up front made the whole
            # read ~1.6x slower (bench/), so only columns the parser turned into numbers or booleans
            # are read again, alone, as text.
            retype = [c for c in text_columns if c in df.columns and not pd.api.types.is_string_dtype(df[c].dtype)]
            if retype:
                text = pd.read_csv(_open_text(p) if p.suffix.lower() == ".zst" else p, usecols=retype, dtype=str, **options)
                for c in retype:
                    df[c] = text[c]
            return df
        if ext in PARQUET:
            from .arrow_batch import read_parquet

            return read_parquet(p)  # int64 / uint64 with nulls stay exact (not float64)
        if ext in JSONL:
            return pd.read_json(_open_text(p) if p.suffix.lower() == ".zst" else p, lines=True, dtype=False)
    except DataReadError:
        raise
    except UnicodeDecodeError:
        raise DataReadError(p, f"not UTF-8 text ({_first_bad_utf8(p)}); re-encode it as UTF-8") from None
    except ValueError as exc:
        if ext in JSONL:
            raise DataReadError(p, f"malformed JSON Lines: {_first_bad_json_line(p) or _one_line(exc)}") from None
        if isinstance(exc, pd.errors.ParserError):
            raise DataReadError(p, f"malformed {ext[1:].upper()}: {_one_line(exc)}") from None
        raise DataReadError(p, f"malformed {ext[1:].upper()}: {_one_line(exc)}") from None
    except pd.errors.EmptyDataError:
        raise DataReadError(p, "no columns to read (the file has no header row)") from None
    except OSError as exc:
        raise DataReadError(p, f"cannot be read: {_one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet
        if ext in JSONL:
            raise DataReadError(p, f"malformed JSON Lines: {_first_bad_json_line(p) or _one_line(exc)}") from None
        raise DataReadError(p, f"cannot be read as {ext[1:]}: {_one_line(exc)}") from None
    raise DataReadError(p, f"unknown file type {ext or '(no extension)'!r}; expected one of {', '.join(SUPPORTED)}")


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


def _open_text(p):
    """A buffered binary file over a table file (a local path or an fsspec URL), decompressing
    ``.gz`` and ``.zst`` (zstd, by pyarrow's codec) on the fly."""
    import gzip

    suffix = Path(str(p)).suffix.lower()
    if suffix == ".zst":
        import pyarrow as pa

        source = pa.PythonFile(open_binary(p), mode="r") if is_url(p) else str(p)
        return io.BufferedReader(_ArrowReader(pa.input_stream(source, compression="zstd")))
    if suffix == ".gz":
        return gzip.open(open_binary(p), "rb") if is_url(p) else gzip.open(p, "rb")
    return open_binary(p)


def _check_header(p: Path, sep: str) -> list[str]:
    """The header's column names; refuses one that names a column twice (pandas would rename
    it ``x.1`` silently)."""
    import csv
    import io

    with _open_text(p) as raw:
        first = raw.readline(1 << 20)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []  # reported by the full read, with the position
    names = next(csv.reader(io.StringIO(line), delimiter=sep), [])
    seen, repeated = set(), []
    for n in names:
        if n in seen and n not in repeated:
            repeated.append(n)
        seen.add(n)
    if repeated:
        raise DataReadError(p, f"the header names a column more than once: {', '.join(map(repr, repeated))}")
    return names


def _first_bad_utf8(p: Path) -> str:
    """'invalid byte 0xe9 at line 3 (byte offset 17)' for the first byte that is not UTF-8.

    Only called on the error path; reads the file once more, whole.
    """
    with _open_text(p) as f:
        data = f.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"invalid byte 0x{data[exc.start]:02x} at line {line}, byte offset {exc.start}"
    return "invalid byte"


def _first_bad_json_line(p: Path) -> str | None:
    import json

    with _open_text(p) as f:
        for number, raw in enumerate(f, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                return f"line {number}: not valid JSON ({exc.msg})"
            if not isinstance(value, dict):
                return f"line {number}: expected a JSON object per line, found {type(value).__name__}"
    return None


def read_dataset(paths, text_columns=(), category_columns=None) -> pd.DataFrame:
    """Read the shards of one dataset (sorted by path) into one frame with a fresh RangeIndex.

    ``category_columns`` (default: ``text_columns``) are the columns counted by value: one typed
    as numbers by some shards and as text by others is made text in all of them (1 and "1" are
    one category). Columns only text rules read are left as the shards have them (a number is
    not a text, whichever shard it is in).

    Raises
    ------
    DataReadError
        Any shard unreadable, or shards whose columns differ.
    """
    files = expand_paths(paths)
    frames = [read_table(p, text_columns) for p in files]
    if len(frames) == 1:
        return frames[0]
    _same_kind_across_shards(frames, text_columns if category_columns is None else category_columns)
    first = list(frames[0].columns)
    for p, f in zip(files[1:], frames[1:]):
        if set(f.columns) != set(first):
            missing = sorted(set(first) - set(f.columns))
            extra = sorted(set(f.columns) - set(first))
            raise DataReadError(
                p, f"its columns differ from {files[0]}'s (missing: {missing or 'none'}, extra: {extra or 'none'})"
            )
    return pd.concat(frames, ignore_index=True)


def _same_kind_across_shards(frames: list[pd.DataFrame], text_columns) -> None:
    """A categorical column typed differently by its shards (Parquet int in one, text in another)
    is compared as text in all of them, so that 1 and "1" are one category, as within a CSV."""
    from .frame import category_key

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


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
