"""Reading tables from files: CSV, TSV, Parquet and JSON Lines, chosen by extension.

Null policy of the readers (handed case H18): in text formats only the empty field is missing.
``NA`` (Namibia), ``nan``, ``None``, ``null`` and ``n/a`` are real values unless a rule or the
reader's ``na_values`` option says otherwise; JSON ``null`` and Parquet nulls are missing.

Every failure becomes a :class:`DataReadError` naming the file and what is wrong with it
(exit code 3 on the command line); input files are only ever opened for reading.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pandas as pd

TEXT_FORMATS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET = {".parquet", ".pq"}
JSONL = {".jsonl", ".ndjson"}
SUPPORTED = sorted(set(TEXT_FORMATS) | PARQUET | JSONL)


class DataReadError(Exception):
    """A data or reference file that cannot be read; ``str()`` is one line naming the file."""

    def __init__(self, path, message: str):
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


def expand_paths(paths) -> list[Path]:
    """Expand directories and glob patterns into data files, sorted by path.

    Shards of one dataset are taken in sorted path order, which fixes the global row numbering
    that row samples hash (DESIGN.md "Row samples").

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
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in SUPPORTED)
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
    unique = sorted(set(out), key=lambda q: str(q))
    return unique


def read_table(path) -> pd.DataFrame:
    """Read one table file by its extension.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``/``.tab``, ``.parquet``/``.pq`` or ``.jsonl``/``.ndjson`` file.
        A trailing ``.gz`` (``data.csv.gz``) is decompressed.

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
    suffixes = [s.lower() for s in p.suffixes]
    ext = suffixes[-2] if len(suffixes) >= 2 and suffixes[-1] == ".gz" else (suffixes[-1] if suffixes else "")
    if not p.exists():
        raise DataReadError(p, "no such file")
    if p.is_dir():
        raise DataReadError(p, "is a directory; pass its files, or the directory as a shard list")
    if not os.access(p, os.R_OK):
        raise DataReadError(p, "permission denied")
    if p.stat().st_size == 0:
        raise DataReadError(p, "the file is empty (0 bytes): expected a header row at least")
    try:
        if ext in TEXT_FORMATS:
            return pd.read_csv(
                p,
                sep=TEXT_FORMATS[ext],
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
                encoding_errors="strict",
            )
        if ext in PARQUET:
            return pd.read_parquet(p)
        if ext in JSONL:
            return pd.read_json(p, lines=True, dtype=False)
    except UnicodeDecodeError as exc:
        raise DataReadError(p, f"not UTF-8 text (invalid byte at offset {exc.start}); re-encode it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise DataReadError(p, "no columns to read (the file has no header row)") from None
    except pd.errors.ParserError as exc:
        raise DataReadError(p, f"malformed {ext[1:].upper()}: {_one_line(exc)}") from None
    except ValueError as exc:
        raise DataReadError(p, f"malformed {ext[1:].upper()}: {_one_line(exc)}") from None
    except OSError as exc:
        raise DataReadError(p, f"cannot be read: {_one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet
        raise DataReadError(p, f"cannot be read as {ext[1:]}: {_one_line(exc)}") from None
    raise DataReadError(p, f"unknown file type {ext or '(no extension)'!r}; expected one of {', '.join(SUPPORTED)}")


def read_dataset(paths) -> pd.DataFrame:
    """Read the shards of one dataset (sorted by path) into one frame with a fresh RangeIndex.

    Raises
    ------
    DataReadError
        Any shard unreadable, or shards whose columns differ.
    """
    files = expand_paths(paths)
    frames = [read_table(p) for p in files]
    if len(frames) == 1:
        return frames[0]
    first = list(frames[0].columns)
    for p, f in zip(files[1:], frames[1:]):
        if set(f.columns) != set(first):
            missing = sorted(set(first) - set(f.columns))
            extra = sorted(set(f.columns) - set(first))
            raise DataReadError(
                p, f"its columns differ from {files[0]}'s (missing: {missing or 'none'}, extra: {extra or 'none'})"
            )
    return pd.concat(frames, ignore_index=True)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
