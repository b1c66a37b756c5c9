"""Streaming summaries computed on Arrow record batches, without converting them to pandas.

The streaming engine reads Parquet as pyarrow ``RecordBatch``es. For the summaries most rule
files need, and the column types they usually have, this module computes the summary straight
from the Arrow buffers, exactly as :class:`~validator.summaries.frame.FrameSummaries` computes
it on ``batch.to_pandas()`` (the tests compare the two):

- ``value_counts`` of a text column (``string``, ``large_string``, ``string_view``) or of a
  dictionary-encoded text column (counted by dictionary index, unused entries left out, as
  case H20 wants);
- ``numeric_count``, ``numeric_values``, ``value_range`` and ``histogram`` of an integer or
  floating-point column (nulls and NaN are missing values; integers are binned as float64, as
  the pandas summaries bin them);
- ``row_sample`` of integer or floating-point feature columns. Only rows whose hash key beats
  the ``threshold`` (the largest key of the sample merged so far, which the caller passes) can
  enter the sample, so after the first batches only a handful of rows per batch are gathered.

Anything else (weights, text views, booleans, decimals, lists, text that holds numbers, value
counts of integers) returns :data:`NotImplemented` and the caller falls back to the pandas
summaries of the batch, converted by :func:`to_pandas` as the in-memory reader converts a file
(64-bit integers with nulls stay exact).

Work is done in blocks of :data:`~validator.summaries.histogram.BLOCK` rows so that the
temporaries stay in the CPU cache.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .frame import CategoryCounts, FeatureSample, finite_range
from .histogram import cell_counts
from .sample import finite_rows_sample

_TEXT = ("string", "large_string", "string_view")


def _types():

    return pa.types


def _is_text(t) -> bool:
    return str(t) in _TEXT or str(t) == "utf8"


def _is_number(t) -> bool:
    types = _types()
    return (types.is_integer(t) or types.is_floating(t)) and not types.is_float16(t)


def _column(batch, name: str):
    """The Arrow array of column ``name``, or None when the batch lacks it (or has it twice)."""
    names = batch.schema.names
    if names.count(name) != 1:
        return None
    return batch.column(names.index(name))


def to_pandas(data):
    """A pyarrow Table or RecordBatch as a pandas DataFrame, as ``pandas.read_parquet`` makes it
    (pandas metadata applied), except that a 64-bit integer column holding nulls becomes
    pandas' nullable ``Int64`` / ``UInt64`` instead of float64.

    float64 holds every integer only up to 2^53: pandas' default conversion would make 2^53 and
    2^53 + 1 one category and uint64's maximum 2^64. Narrower integers (int32 and below) are
    exact in float64 and keep pandas' default; a column without nulls stays numpy ``int64`` /
    ``uint64``. Every engine converts with this function (the in-memory reader, the streaming
    and dask batches that fall back to pandas), so the same file gives the same values.

    Parameters
    ----------
    data : pyarrow.Table or pyarrow.RecordBatch

    Returns
    -------
    pandas.DataFrame
    """

    df = data.to_pandas()
    names = data.schema.names
    nullable = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}
    for i, name in enumerate(names):
        t = data.schema.field(i).type
        if t not in nullable or names.count(name) != 1 or name not in df.columns:
            continue  # (a column that pandas metadata made the index is left as it is)
        column = data.column(i)
        if column.null_count and df[name].dtype != nullable[t]:
            df[name] = column.to_pandas(types_mapper=nullable.get).array
    return df


def read_parquet(path, columns=None):
    """A Parquet file as pandas (:func:`to_pandas`: 64-bit integers with nulls exact): all its
    columns, or those of ``columns`` (a list of its column names)."""

    return to_pandas(pq.read_table(path, columns=columns, use_pandas_metadata=True))


def parquet_columns(path) -> list:
    """The column names of a Parquet file as pandas reads it (an index stored by pandas is not
    a column), from its footer."""

    schema = pq.read_schema(path)
    index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
    return [c for c in schema.names if c not in index]


def numbers(arr) -> np.ndarray:
    """An integer or floating-point Arrow array as float64 with NaN for nulls.

    Parameters
    ----------
    arr : pyarrow.Array, length n
        Integer or floating-point values.

    Returns
    -------
    ndarray of float64, shape (n,)
        No copy for a float64 array without nulls; integers beyond 2^53 round to the nearest
        float64, as the pandas summaries' ``to_numpy(float64)`` rounds them (for bins and
        distances; value counts of integers stay exact, see :func:`to_pandas`).
    """
    if arr.null_count:
        # unsafe: an int64 beyond 2^53 rounds to the nearest float64, as to_numpy(float64) does
        arr = pc.fill_null(pc.cast(arr, pa.float64(), safe=False), float("nan"))
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _raw(arr) -> np.ndarray:
    """The values as numpy in their own dtype when nothing is null (no copy), else float64 with NaN."""
    if arr.null_count:
        return numbers(arr)
    return arr.to_numpy(zero_copy_only=False)


def value_counts(arr) -> CategoryCounts:
    """Value counts of a text or dictionary-encoded text array.

    Parameters
    ----------
    arr : pyarrow.Array, length n
        ``string``/``large_string``/``string_view``, or a dictionary of those.

    Returns
    -------
    CategoryCounts
        Keys (str) in order of first appearance (dictionary order for a dictionary array, its
        unused entries left out), counts (int64, shape (K,)), nulls counted apart; what pandas'
        ``value_counts(dropna=False, sort=False)`` gives on ``arr.to_pandas()``.
    """

    types = _types()
    if types.is_dictionary(arr.type):
        keys = arr.dictionary.to_pylist()
        codes = arr.indices if not arr.null_count else pc.fill_null(arr.indices, len(keys))
        codes = codes.to_numpy(zero_copy_only=False)
        per_code = np.bincount(codes, minlength=len(keys) + 1)
        null_rows = int(per_code[-1])
        seen = np.flatnonzero(per_code[:-1])
        merged: dict = {}
        for code in seen.tolist():  # a dictionary may hold a value twice
            merged[keys[code]] = merged.get(keys[code], 0) + int(per_code[code])
        counts = np.fromiter(merged.values(), dtype=np.int64, count=len(merged))
        return CategoryCounts(list(merged), counts, null_rows, int(counts.sum()), null_rows)
    if arr.null_count and types.is_string_view(arr.type):
        # pyarrow's value_counts (and unique) of a string_view array count its nulls as ''
        # (pyarrow 26); the same values as large_string count them as nulls

        arr = arr.cast(pa.large_string())
    vc = pc.value_counts(arr)
    keys = vc.field(0)
    counts = vc.field(1).to_numpy(zero_copy_only=False).astype(np.int64)
    values = keys.to_pylist()
    present = np.fromiter((k is not None for k in values), dtype=bool, count=len(values))
    null_rows = int(counts[~present].sum())
    counts = counts[present]
    return CategoryCounts([k for k in values if k is not None], counts, null_rows, int(counts.sum()), null_rows)


_EXACT_STATISTICS = ("INT32", "INT64", "FLOAT", "DOUBLE")


def footer_range(paths, name: str):
    """(min, max) of the finite values of a numeric column over Parquet files, read from the
    row-group statistics in their footers (no data read), or None when the statistics cannot
    stand for the data exactly.

    Used only when every row group of every file has min/max statistics for the column (a row
    group whose values are all null needs none), of a signed integer or floating-point column
    (Parquet writers ignore NaN in float statistics; an unsigned column's statistics may
    have been compared as signed by old writers, so it is not used), and both are finite (an
    infinite value goes to a tail cell, not into the range, so a first pass must find the
    finite range). Zeros come out as +0.0, as :func:`~validator.summaries.frame.finite_range`
    gives them.

    Parameters
    ----------
    paths : list of Path
        Parquet files.
    name : str
        A top-level column.

    Returns
    -------
    tuple of float or None
    """

    types = _types()
    lo = hi = None
    try:
        for path in paths:
            pf = pq.ParquetFile(path)
            arrow = pf.schema_arrow
            if arrow.get_all_field_indices(name).__len__() != 1:
                return None
            t = arrow.field(name).type
            if not (types.is_floating(t) or types.is_signed_integer(t)) or types.is_float16(t):
                return None
            meta = pf.metadata
            at = [j for j in range(meta.num_columns) if meta.schema.column(j).path == name]
            if len(at) != 1:
                return None
            for r in range(meta.num_row_groups):
                group = meta.row_group(r)
                col = group.column(at[0])
                st = col.statistics
                if group.num_rows == 0:
                    continue
                if col.physical_type not in _EXACT_STATISTICS or st is None:
                    return None
                if not st.has_min_max:
                    if st.has_null_count and st.null_count == group.num_rows:
                        continue  # every value null: nothing to range over
                    return None
                a, b = float(st.min), float(st.max)
                if not (math.isfinite(a) and math.isfinite(b)):
                    return None
                lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    except Exception:  # an unreadable footer: the pass reads the file and names the error
        return None
    if lo is None:
        return None  # no values at all: the pass says why
    return lo + 0.0, hi + 0.0


def row_sample(batch, columns, rows: int, seed: int, offset: int, threshold=None):
    """The batch's part of a seeded row sample (see FrameSummaries.row_sample).

    Parameters
    ----------
    batch : pyarrow.RecordBatch, n rows
    columns : list of str
        Integer or floating-point feature columns (d of them).
    rows, seed : int
        Sample size and hash seed.
    offset : int
        Global row number of the batch's first row.
    threshold : numpy.uint64, optional
        Keep only hash keys below it (the largest key of a full sample merged so far).

    Returns
    -------
    FeatureSample or NotImplemented
        At most ``rows`` rows (X: float64, shape (m, d)) with every column finite and the
        smallest ``hash_indices(seed, offset + i)``; NotImplemented for other column types.
    """
    arrays = []
    for name in columns:
        arr = _column(batch, name)
        if arr is None or not _is_number(arr.type):
            return NotImplemented
        arrays.append(_raw(arr))
    n = batch.num_rows
    pos, n_valid = finite_rows_sample(arrays, np.arange(offset, offset + n, dtype=np.int64), rows, seed, threshold)
    X = np.empty((pos.size, len(arrays)), dtype=np.float64)
    for j, a in enumerate(arrays):
        X[:, j] = a[pos]
    return FeatureSample(X=X, n_valid=n_valid, n_dropped=n - n_valid, exact=n_valid <= rows, seed=seed,
                         indices=(pos + offset).astype(np.int64))


def summary(batch, key, offset: int, threshold=None):
    """The summary ``key`` of one record batch.

    Parameters
    ----------
    batch : pyarrow.RecordBatch
    key : SummaryKey
        A summary of kind ``value_counts``, ``numeric_count``, ``numeric_values``,
        ``value_range``, ``histogram`` or ``row_sample`` (others are NotImplemented here), on
        no text-length view.
    offset : int
        Global row number of the batch's first row.
    threshold : numpy.uint64, optional
        For row samples, see :func:`row_sample`.

    Returns
    -------
    object or NotImplemented
        What :class:`~validator.summaries.frame.FrameSummaries` returns for the same key on
        ``batch.to_pandas()``; NotImplemented when this module does not compute the key for
        the batch's column types (the caller then uses pandas).
    """
    kind = key.kind
    if key.view is not None:
        return NotImplemented
    if kind == "value_counts":
        arr = _column(batch, key.column)
        if key.weight is not None or arr is None:
            return NotImplemented
        t = arr.type
        if _is_text(t) or (_types().is_dictionary(t) and _is_text(t.value_type) and not arr.dictionary.null_count):
            return value_counts(arr)
        return NotImplemented
    if kind in ("numeric_count", "numeric_values", "value_range", "histogram"):
        if kind == "histogram" and key.weight is not None:
            return NotImplemented
        arr = _column(batch, key.column)
        if arr is None or not _is_number(arr.type):
            return NotImplemented
        v = numbers(arr)
        null = np.isnan(v)
        n_null = int(np.count_nonzero(null))
        if n_null:
            v = v[~null]
        if kind == "numeric_count":
            return int(v.size), n_null
        if kind == "numeric_values":
            return v, n_null
        if kind == "value_range":
            return finite_range(v)
        return cell_counts(v, key.edges), n_null
    if kind == "row_sample":
        return row_sample(batch, list(key.columns), key.rows, key.seed, offset, threshold)
    return NotImplemented
