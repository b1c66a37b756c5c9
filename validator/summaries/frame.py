"""Summaries of an in-memory pandas DataFrame: the only place metrics get their numbers from.

Each summary (a column's value counts, its histogram on given edges, a seeded row sample of
feature columns) is computed at most once per frame and shared by every rule that needs it;
``computed`` counts the computations so tests can check that. All summaries are mergeable
(counts add, samples keep the smallest hash keys), which is what lets chunked and Dask engines
reuse the same metric code.
"""

from __future__ import annotations

import difflib
import math
import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..embed.cache import embedder_key
from ..errors import MeasurementError
from ..rules.model import NULL_CATEGORY
from .distinct import cell_extremes, distinct_counts
from .histogram import cell_counts
from .keys import UNKNOWN, SummaryKey
from .sample import finite_rows_sample, smallest_hash_rows
from .text import (BandKeys, NgramCounts, TextKeys, TextRows, TextSample, TextsAt, WindowTypes, text_keys, text_lengths, text_rows,
                   word_types)


#: Text that stands for a missing number in a column whose other values are all numbers.
_NAN_TEXT = ["nan", "NaN", "NAN"]
#: Text pandas' CSV parser reads as booleans; a column of only these is 0/1 to a numeric rule.
BOOL_TEXT = {"True": 1.0, "TRUE": 1.0, "true": 1.0, "False": 0.0, "FALSE": 0.0, "false": 0.0}


def text_as_numbers(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A text (or object) column as float64, and the mask of values that are not numbers.

    ``nan``/``NaN``/``NAN`` are missing numbers; a column of only ``True``/``False`` text is
    0/1 (what pandas' CSV parser gives for such a column when it is not kept as text).
    """
    nan_text = s.isin(_NAN_TEXT).to_numpy()
    present = s.notna().to_numpy() & ~nan_text
    truth = s.map(BOOL_TEXT)
    if present.any() and truth.notna().to_numpy()[present].all():
        return truth.astype(np.float64), np.zeros(len(s), dtype=bool)
    numbers = s.mask(nan_text)
    try:
        values = pd.to_numeric(numbers, errors="coerce")
    except (OverflowError, TypeError):  # a Python int past float64's range (CSV digits, JSON integers)
        values = pd.to_numeric(numbers.map(_past_float), errors="coerce")
    bad = values.isna().to_numpy() & present
    return values.astype(np.float64), bad


def _past_float(v):
    """An integer too large for float64 (``float(10**400)`` raises OverflowError) as +-inf, what
    its digits read as text give (pandas, pyarrow and Python's ``float("9" * 400)``): pandas'
    CSV parser gives a column of 400-digit integers as Python ints, but the same digits beside
    ``1.5`` as inf, so only this reading is the same whatever the neighbouring values."""
    if isinstance(v, int) and not isinstance(v, bool):
        try:
            float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    return v


def as_numbers(s: pd.Series) -> pd.Series:
    """An object column of numbers (ints, floats, nulls) as float64 (or int64), integers past
    float64's range as +-inf (see :func:`_past_float`)."""
    try:
        return pd.to_numeric(s)
    except (OverflowError, TypeError):
        return pd.to_numeric(s.map(_past_float))


_COUNT_LOCK = threading.Lock()


@dataclass(frozen=True)
class CategoryCounts:
    """Value counts of one column.

    Attributes
    ----------
    keys : list
        Distinct non-null values, as they are in the data (``1`` and ``"1"`` are distinct).
    counts : ndarray, shape (K,)
        Rows per key (int64), or the sum of the row weights per key (float64).
    nulls : int or float
        Rows whose value is missing (or their weight).
    rows, null_rows : int
        Rows with a value, and rows without one (whatever the weights).
    """

    keys: list
    counts: np.ndarray
    nulls: float
    rows: int = 0
    null_rows: int = 0

    def with_nulls(self, policy: str) -> tuple[list, np.ndarray]:
        """Keys and counts under a null policy: 'drop', or 'category' (one extra cell)."""
        if policy == "category" and self.null_rows:
            return self.keys + [NULL_CATEGORY], np.append(self.counts, self.counts.dtype.type(self.nulls))
        return self.keys, self.counts

    def rows_used(self, policy: str) -> int:
        """Rows a metric is computed from under a null policy."""
        return self.rows + (self.null_rows if policy == "category" else 0)


@dataclass(frozen=True)
class FeatureSample:
    """A seeded row sample of feature columns for distance rules.

    Attributes
    ----------
    X : ndarray of float64, shape (k, d)
        The sampled rows (all values finite), in global row order.
    n_valid : int
        Rows whose features are all finite (the population sampled from).
    n_dropped : int
        Rows dropped because a feature was null, NaN or infinite.
    exact : bool
        True when every valid row is in ``X`` (no sampling happened).
    seed : int
    """

    X: np.ndarray
    n_valid: int
    n_dropped: int
    exact: bool
    seed: int
    indices: np.ndarray = field(repr=False)
    zero_rows: int = 0  # embedded texts left out because their embedding is the zero vector


def _is_container(v) -> bool:
    return isinstance(v, (list, tuple, dict, set, np.ndarray))


def _is_bool_value(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def category_key(value) -> str:
    """The text form of a data value used to match it with a reference's category keys.

    Integral numbers print without a decimal point (``3.0`` -> ``"3"``) so that a numeric
    column read from a file matches keys written as ``3`` in YAML; booleans are ``true``/``false``.
    """
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def finite_range(v: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values of ``v`` (NaN-free, shape (n,)), None when there are
    none; +-inf go to a histogram's tail cells, not into the range, and a zero bound is +0.0
    (whichever of -0.0 and +0.0 the data holds, so that every engine gives the same edges)."""
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        v = v[np.isfinite(v)]
        if not v.size:
            return None
        lo, hi = float(v.min()), float(v.max())
    return lo + 0.0, hi + 0.0


class FrameSummaries:
    """Lazily computed, cached summaries of one DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        The dataset; rows are numbered 0..n-1 in their current order (the global row index).
    name : str
        How the data is named in messages (a path, or "the data").
    """

    def __init__(self, df: pd.DataFrame, name: str = "the data", row_ids: np.ndarray | None = None):
        self.df = df
        self.name = name
        self.n_rows = len(df)
        # global row numbers of this frame's rows (a slice keeps those of the whole dataset, so
        # that a seeded sample of a slice picks the same rows however the data is split)
        self.row_ids = np.arange(self.n_rows) if row_ids is None else row_ids
        self._cache: dict = {}
        self.computed: Counter = Counter()

    def _where(self) -> str:
        """' of reference file x.csv' for a reference's summaries, '' for the data's."""
        return f" of {self.name}" if self.name.startswith("reference file") else ""

    def subset(self, mask: np.ndarray, label: str) -> "FrameSummaries":
        """Summaries of the rows where ``mask`` is True (cached by ``label``), keeping global row ids."""

        def compute():
            return FrameSummaries(self.df[mask], name=f"{self.name} ({label})", row_ids=self.row_ids[mask])

        return self._cached(("subset", label), compute)

    # -- columns ---------------------------------------------------------------------------
    def column(self, name: str) -> pd.Series:
        if name not in self.df.columns:
            # a DataFrame from the API may name columns with numbers: 0 is column '0' in a rule file
            by_text = [c for c in self.df.columns if not isinstance(c, str) and str(c) == name]
            if len(by_text) == 1:
                name = by_text[0]
        if name not in self.df.columns:
            cols = [str(c) for c in self.df.columns]
            close = difflib.get_close_matches(str(name), cols, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if len(cols) == 1 and "," not in cols[0] and (seps := [c for c in ";|" if c in cols[0]]):
                # a whole header read as one column: the file is separated by something else
                hint += (f"; the header holds {seps[0]!r} but no ',': if that is the separator, "
                         f"pass --csv-sep '{seps[0]}' (csv_sep= in the API)")
            shown = ", ".join(cols[:20]) + (", ..." if len(cols) > 20 else "")
            raise MeasurementError(f"column {name!r} not found in {self.name}{hint} (columns: {shown})")
        col = self.df[name]
        if isinstance(col, pd.DataFrame):
            raise MeasurementError(f"column name {name!r} appears more than once in {self.name}")
        return col

    def _numeric_series(self, name: str, purpose: str) -> pd.Series:
        """The column as numbers; a text column qualifies when every value parses as a number.

        Text readers keep ``nan`` as text (case H18), so a numeric CSV column with a literal
        ``NaN`` arrives as text: here ``nan``/``NaN``/``NAN`` are missing numbers and any other
        non-number makes the rule unmeasurable, naming the first such value and its row.
        """
        return self._cached(("numeric_series", name), lambda: self._to_numeric(name, purpose))

    def _to_numeric(self, name: str, purpose: str) -> pd.Series:
        s = self.column(name)
        if self.n_rows == 0:
            raise MeasurementError(f"0 rows: {self.name} has a header but no rows")
        if pd.api.types.is_complex_dtype(s.dtype):
            raise MeasurementError(f"column {name!r} holds complex numbers; {purpose} needs real numbers")
        if pd.api.types.is_numeric_dtype(s.dtype):
            return s
        if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            raise MeasurementError(f"column {name!r}{self._where()} is not numeric (dtype {s.dtype}); {purpose} needs numbers")
        values, bad = text_as_numbers(s)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise MeasurementError(
                f"column {name!r}{self._where()} is not numeric (dtype {s.dtype}): value {s.iloc[row]!r} at row {int(self.row_ids[row]) + 1} "
                f"({int(bad.sum())} non-numeric values); {purpose} needs numbers"
            )
        return values

    def lookup(self, key: SummaryKey):
        """The value of ``key`` if computed already, else UNKNOWN (nothing is computed here)."""
        return self._cache.get(key, UNKNOWN)

    def _cached(self, key, compute):
        if key not in self._cache:
            value = compute()
            with _COUNT_LOCK:  # summaries of different columns may be computed in two threads
                if key not in self._cache:
                    self._cache[key] = value
                    self.computed[key.kind if isinstance(key, SummaryKey) else key[0]] += 1
        return self._cache[key]

    # -- value counts ------------------------------------------------------------------------
    def weights(self, name: str) -> np.ndarray:
        """A weight column (e.g. token counts) as float64, shape (n,): finite and >= 0, no nulls."""

        def compute():
            if pd.api.types.is_bool_dtype(self.column(name).dtype):
                raise MeasurementError(f"weight column {name!r} holds booleans; weights must be numbers (e.g. token counts)")
            w = self._numeric_series(name, "a weight column").to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise MeasurementError(
                    f"weight column {name!r} must be finite and >= 0 in every row: {int(bad.sum())} rows are not "
                    f"(first: {float(w[row])!r} at row {int(self.row_ids[row]) + 1})"
                )
            if w.size and not np.isfinite(w.sum()):
                # weights near 1e308 would add up to inf: only their ratios matter, so scale them
                w = w * 2.0 ** -(int(np.frexp(w.max())[1]) + int(np.ceil(np.log2(w.size))))
            return w

        return self._cached(SummaryKey("weights", name), compute)

    def value_counts(self, name: str, weight: str | None = None) -> CategoryCounts:
        """Value counts of a column (computed once per weighting); nulls counted apart.

        With ``weight``, each category's count is the sum of its rows' weights.
        """

        def compute():
            s = self.column(name)
            if s.dtype == object and s.map(_is_container).to_numpy(dtype=bool).any():
                # numpy arrays hash by identity: each list would be a category of its own
                raise MeasurementError(f"column {name!r} holds lists (or arrays or mappings), not values a rule can count "
                                       f"as categories; count a column of scalar values (or use the lists as feature "
                                       f"'columns' of a distance rule)")
            if s.dtype == object and (is_bool := s.map(_is_bool_value).to_numpy(dtype=bool)).any() and not is_bool.all():
                # JSON true/false beside 1/0 in one column: four values, which Python's True == 1
                # hashing would merge, so booleans are counted apart from the rest
                b, r = (FrameSummaries(self.df[m], self.name).value_counts(name, weight) for m in (is_bool, ~is_bool))
                return CategoryCounts([*b.keys, *r.keys], np.concatenate([b.counts, r.counts]), r.nulls,
                                      b.rows + r.rows, r.null_rows)
            vc = s.value_counts(dropna=False, sort=False)
            if isinstance(s.dtype, pd.CategoricalDtype):
                vc = vc[vc > 0]  # a categorical lists every category, seen or not (case H20)
            null = pd.isna(vc.index)
            if not isinstance(null, np.ndarray):
                null = np.asarray(null, dtype=bool)
            rows = vc.to_numpy(dtype=np.int64)
            n_rows, null_rows = int(rows[~null].sum()), int(rows[null].sum())
            if weight is None:
                return CategoryCounts(list(vc.index[~null]), rows[~null], null_rows, n_rows, null_rows)
            w = pd.Series(self.weights(weight), index=s.index)
            sums = w.groupby(s, dropna=False, sort=False).sum()
            null_w = pd.isna(sums.index)
            null_w = np.asarray(null_w, dtype=bool)
            values = sums.to_numpy(dtype=np.float64)
            return CategoryCounts(list(sums.index[~null_w]), values[~null_w], float(values[null_w].sum()), n_rows, null_rows)

        return self._cached(SummaryKey("value_counts", name, weight=weight), compute)

    def category_counts(self, name: str, nulls: str, weight: str | None = None) -> dict[str, float]:
        """Counts keyed by :func:`category_key` (keys that print alike are added together)."""
        cc = self.value_counts(name, weight)
        keys, counts = cc.with_nulls(nulls)
        out: dict[str, int] = {}
        for k, c in zip(keys, counts.tolist()):
            key = k if k == NULL_CATEGORY and nulls == "category" else category_key(k)
            out[key] = out.get(key, 0) + c
        return out

    # -- numeric values and histograms --------------------------------------------------------
    def numeric_values(self, name: str, purpose: str = "binning") -> tuple[np.ndarray, int]:
        """Non-null values of a numeric column as float64, and the number of nulls."""

        def compute():
            s = self._numeric_series(name, purpose)
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            null = np.isnan(v)
            n_null = int(null.sum())
            return (v[~null] if n_null else v), n_null  # no copy when nothing is missing

        return self._cached(SummaryKey("numeric_values", name), compute)

    def numeric_count(self, name: str, purpose: str = "binning") -> tuple[int, int]:
        """(non-null values, nulls) of a numeric column: what :meth:`numeric_values` would hold,
        without the values (mergeable)."""

        def compute():
            v, nulls = self.numeric_values(name, purpose)
            return int(v.size), int(nulls)

        return self._cached(SummaryKey("numeric_count", name), compute)

    def numeric_distinct(self, name: str, cap: int):
        """Sorted distinct finite values of a numeric column and their counts (int64), or None
        past ``cap`` distinct values (:func:`~validator.summaries.distinct.distinct_counts`; mergeable)."""
        return self._cached(SummaryKey("numeric_distinct", name, cap=cap), lambda: distinct_counts(self.numeric_values(name, "binning")[0], cap))

    def cell_extremes(self, name: str, edges) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest value of a numeric column in each cell of ``edges``
        (:func:`~validator.summaries.distinct.cell_extremes`; mergeable)."""
        edges = tuple(float(e) for e in edges)
        return self._cached(SummaryKey("cell_extremes", name, edges=edges), lambda: cell_extremes(self.numeric_values(name, "binning")[0], edges))

    def histogram(self, name: str, edges, weight: str | None = None) -> tuple[np.ndarray, float]:
        """Cell counts (below-tail, bins, above-tail) on frozen ``edges``, and the null count
        (with ``weight``: the weight sums per cell, and the weight of the null rows)."""
        edges = tuple(float(e) for e in edges)

        def compute():
            if weight is None:
                v, nulls = self.numeric_values(name, "binning")
                return cell_counts(v, edges), nulls
            v = self._numeric_series(name, "binning").to_numpy(dtype=np.float64, na_value=np.nan)
            w = self.weights(weight)
            null = np.isnan(v)
            return cell_counts(v[~null], edges, weights=w[~null]), float(w[null].sum())

        return self._cached(SummaryKey("histogram", name, edges=edges, weight=weight), compute)

    def value_range(self, name: str) -> tuple[float, float] | None:
        """(min, max) of the finite values of a numeric column; None when it has none."""

        return self._cached(SummaryKey("value_range", name), lambda: finite_range(self.numeric_values(name, "binning")[0]))

    # -- row conditions ----------------------------------------------------------------------
    def where_mask(self, conditions) -> np.ndarray:
        """Rows meeting every condition of a rule's ``where`` (bool, shape (n,)); a null never
        meets a comparison. Raises MeasurementError for a missing column or a comparison the
        column's values cannot take (an order on text, text against numbers)."""
        mask = np.ones(self.n_rows, dtype=bool)
        for c in conditions:
            mask &= self._cached(("where", repr(c)), lambda c=c: self._condition(c))
        return mask

    def _condition(self, c) -> np.ndarray:
        s = self.column(c.column)
        op, operand = c.operator, c.operand
        present = s.notna().to_numpy()
        if op == "is_null":
            return ~present if operand else present
        if op in ("gt", "ge", "lt", "le"):
            if pd.api.types.is_bool_dtype(s.dtype):
                raise MeasurementError(f"where: column {c.column!r} holds booleans; '{op}' compares numbers")
            try:
                v = self._numeric_series(c.column, f"where '{op}'").to_numpy(dtype=np.float64, na_value=np.nan)
            except MeasurementError as exc:
                raise MeasurementError(f"where: {exc}") from None
            with np.errstate(invalid="ignore"):
                return {"gt": v > operand, "ge": v >= operand, "lt": v < operand, "le": v <= operand}[op]
        targets = operand if isinstance(operand, list) else [operand]
        if pd.api.types.is_bool_dtype(s.dtype):
            if not all(isinstance(t, bool) for t in targets):
                raise MeasurementError(f"where: column {c.column!r} holds booleans; '{op}' needs true/false, got {targets!r}")
            hit = s.isin(targets).to_numpy()
        elif pd.api.types.is_numeric_dtype(s.dtype):
            numbers = []
            for t in targets:
                if isinstance(t, bool):
                    raise MeasurementError(f"where: column {c.column!r} holds numbers; '{op}' cannot compare it with {t!r}")
                try:
                    numbers.append(float(t))
                except (TypeError, ValueError):
                    raise MeasurementError(f"where: column {c.column!r} holds numbers; '{op}' cannot compare it with {t!r}") from None
            hit = s.isin(numbers).to_numpy()
        else:  # text (or mixed): compare the text forms, as categories are matched
            keys = {t if isinstance(t, str) else category_key(t) for t in targets}
            hit = s.map(lambda x: x if isinstance(x, str) else category_key(x), na_action="ignore").isin(keys).to_numpy()
        hit = hit & present
        return hit if op in ("equals", "in") else (~hit & present)

    # -- row samples ----------------------------------------------------------------------------
    def row_sample(self, columns: list[str], rows: int, seed: int) -> FeatureSample:
        """The seeded sample of at most ``rows`` rows with all ``columns`` finite.

        Rows are the ones with the smallest ``hash_indices(seed, global index)`` among the valid
        rows (docs/DESIGN.md "Row samples"): the same rows for any chunking or engine. Only the
        sampled rows are gathered into a matrix, never the whole table.
        """

        if len(columns) == 1 and self._is_vector_column(columns[0]):
            return self._cached(SummaryKey("row_sample", columns=tuple(columns), rows=rows, seed=seed), lambda: self._vector_sample(columns[0], rows, seed))
        for c in columns:
            if len(columns) > 1 and self._is_vector_column(c):
                raise MeasurementError(
                    f"column {c!r} holds lists (embeddings): a list-valued column must be the only entry of 'columns'"
                )

        def compute():
            arrays = [
                self._numeric_series(c, "a distance rule").to_numpy(dtype=np.float64, na_value=np.nan) for c in columns
            ]
            n = self.n_rows
            idx, n_valid = finite_rows_sample(arrays, self.row_ids, rows, seed)
            X = np.empty((idx.size, len(arrays)), dtype=np.float64)
            for j, a in enumerate(arrays):
                X[:, j] = a[idx]
            return FeatureSample(
                X=X, n_valid=n_valid, n_dropped=n - n_valid, exact=n_valid <= rows, seed=seed, indices=self.row_ids[idx]
            )

        return self._cached(SummaryKey("row_sample", columns=tuple(columns), rows=rows, seed=seed), compute)

    # -- texts -------------------------------------------------------------------------------
    def text_rows(self, name: str, spec=None) -> "TextRows":
        """The usable texts of a column (normalised under ``spec``) and the counted exclusions."""
        key = SummaryKey("text_rows", name, spec=None if spec is None else spec.model_dump_json())
        return self._cached(key, lambda: text_rows(self.column(name), spec))

    def text_keys(self, name: str, spec=None):
        """One 64-bit key per usable text (exact duplicates; :class:`~validator.summaries.text.TextKeys`)."""
        def compute():
            rows = self.text_rows(name, spec)
            keys = text_keys(rows.texts) if rows.texts else np.empty(0, dtype=np.uint64)
            first = None if rows.first_not_text is None else int(self.row_ids[rows.first_not_text])
            return TextKeys(keys, self.row_ids[rows.positions], rows.excluded, first)

        return self._cached(SummaryKey("text_keys", name, spec=None if spec is None else spec.model_dump_json()), compute)

    def minhash_bands(self, name: str, spec, what: tuple) -> BandKeys:
        """MinHash LSH band keys of the usable texts of a column (:class:`~validator.summaries.text.BandKeys`),
        ``what`` = (unit, size, num_perm, seed, bands, rows)."""
        def compute():
            rows = self.text_rows(name, spec)
            first = None if rows.first_not_text is None else int(self.row_ids[rows.first_not_text])
            return BandKeys.of(rows.texts, self.row_ids[rows.positions], what, rows.excluded, first)

        return self._cached(SummaryKey("minhash_bands", name, spec=None if spec is None else spec.model_dump_json(), what=tuple(what)),
                            compute)

    def texts_at(self, name: str, spec, ids) -> TextsAt:
        """The usable texts (normalised under ``spec``) of the rows of global ids ``ids`` (a RowIds)."""
        def compute():
            rows = self.text_rows(name, spec)
            found = self.row_ids[rows.positions]
            keep = np.flatnonzero(np.isin(found, ids.ids))
            return TextsAt(found[keep], [rows.texts[i] for i in keep.tolist()])

        return self._cached(SummaryKey("texts_at", name, spec=None if spec is None else spec.model_dump_json(), ids=ids), compute)

    def text_counts(self, name: str, spec, what: str):
        """Mergeable counts over the usable texts of a column: ``("ngrams", unit, n, cap)`` gives
        :class:`~validator.summaries.text.NgramCounts` within a budget of ``cap`` distinct
        n-grams (``cap`` left out: the default), ``("words",)``
        :func:`~validator.summaries.text.word_types`, ``("windows", W)`` a
        :class:`~validator.summaries.text.WindowTypes`; returned as ``(counts, usable texts,
        exclusions, global row id of the first non-text row or None)``."""
        def compute():
            rows = self.text_rows(name, spec)
            if what[0] == "ngrams":
                table = NgramCounts.of(rows.texts, what[1], what[2], *what[3:])
            elif what[0] == "windows":
                table = WindowTypes.of(rows.texts, what[1])
            else:
                table = word_types(rows.texts)
            first = None if rows.first_not_text is None else int(self.row_ids[rows.first_not_text])
            return table, len(rows.texts), rows.excluded, first

        return self._cached(SummaryKey("text_counts", name, spec=None if spec is None else spec.model_dump_json(), what=tuple(what)), compute)

    def text_sample(self, name: str, rows: int, seed: int):
        """The seeded sample of at most ``rows`` usable texts (:class:`~validator.summaries.text.TextSample`)."""
        def compute():
            texts = self.text_rows(name)
            ids = self.row_ids[texts.positions]
            keep = smallest_hash_rows(seed, ids, rows)
            first = None if texts.first_not_text is None else int(self.row_ids[texts.first_not_text])
            return TextSample([texts.texts[i] for i in keep], ids[keep], len(texts.texts), texts.excluded, first, seed, rows)

        return self._cached(SummaryKey("text_sample", name, rows=rows, seed=seed), compute)

    def length_view(self, name: str, unit: str) -> "FrameSummaries":
        """These summaries with column ``name`` replaced by the length of each text (``chars``:
        Unicode code points, ``words``: ``\\w+`` runs); nulls stay null. Raises MeasurementError
        for a value that is not text."""
        def compute():
            s = self.column(name)
            null = s.isna().to_numpy()
            bad = ~null & ~s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            if bad.any():
                s = s.where(~bad, None)  # a non-text value has no length: left out and counted
            df = self.df.copy(deep=False)
            df[name] = text_lengths(s, unit).astype("float64")
            view = FrameSummaries(df, name=self.name, row_ids=self.row_ids)
            view.excluded_texts = {"null": int(null.sum()), "not_text": int(bad.sum())}
            if bad.any():
                view.excluded_texts["first_not_text_row"] = int(self.row_ids[np.flatnonzero(bad)[0]]) + 1
            return view

        return self._cached(("length_view", name, unit), compute)

    def embedding_sample(self, name: str, embedder, rows: int, seed: int, progress=None, cache=None) -> FeatureSample:
        """The seeded sample of at most ``rows`` texts of column ``name``, embedded.

        Rows are chosen among those holding text (nulls, empty texts and non-text values are
        excluded and counted) exactly as :meth:`row_sample` chooses them, and only the chosen
        texts are embedded. Embeddings are cached per (column, embedder) for the whole run, so
        rules sharing a column and an embedder embed each row once; with ``cache`` (an
        :class:`~validator.embed.cache.EmbeddingCache`) a text embedded by an earlier run with
        the same embedder is read back (bit for bit what was computed) instead of re-embedded.
        ``computed["embedded_texts"]`` counts the texts given to the embedder,
        ``computed["cached_embeddings"]`` those read from ``cache``.
        """
        sample = self.text_sample(name, rows, seed)
        if not sample.n_texts:
            raise MeasurementError(
                f"column {name!r} holds no text to embed ({', '.join(f'{k} {v}' for k, v in sample.excluded.items() if v) or 'no rows'})"
            )
        key = ("embeddings", name, embedder.sha256 if hasattr(embedder, "sha256") else embedder.name)
        done = self._cache.setdefault(key, {})  # global row id -> its embedding
        missing = [j for j, i in enumerate(sample.row_ids.tolist()) if i not in done]
        if missing:
            texts = [sample.texts[j] for j in missing]
            content = embedder_key(embedder) if cache is not None else None
            stored = cache.get_many(content, texts) if content else {}
            stored = {k: v for k, v in stored.items() if v.shape == (embedder.dimension,)}
            todo = [k for k in range(len(texts)) if k not in stored]
            if todo:
                vectors = embedder.encode([texts[k] for k in todo], progress=progress)
                if content:
                    cache.put_many(content, [texts[k] for k in todo], vectors)
                for k, v in zip(todo, vectors):
                    done[int(sample.row_ids[missing[k]])] = v
            for k, v in stored.items():
                done[int(sample.row_ids[missing[k]])] = v
            self.computed["embedded_texts"] += len(todo)
            self.computed["cached_embeddings"] += len(stored)
        d = embedder.dimension
        ids = sample.row_ids
        X = np.vstack([done[int(i)] for i in ids]).astype(np.float64) if ids.size else np.empty((0, d))
        # a text none of whose n-grams the embedder knows embeds to the zero vector: it would be
        # at distance 0 of every other such text, so it is left out and counted instead
        nonzero = np.any(X != 0, axis=1)
        zero = int(ids.size - np.count_nonzero(nonzero))
        n_excluded = sum(sample.excluded.values())
        return FeatureSample(
            X=X[nonzero],
            n_valid=sample.n_texts - zero,
            n_dropped=n_excluded + zero,
            exact=sample.n_texts <= rows,
            seed=seed,
            indices=ids[nonzero],
            zero_rows=zero,
        )

    # -- list-valued embedding columns ---------------------------------------------------------
    def _is_vector_column(self, name: str) -> bool:
        s = self.column(name)
        if s.dtype != object:
            return False
        first = s.dropna().head(1)
        return len(first) == 1 and isinstance(first.iloc[0], (list, tuple, np.ndarray))

    def _vector_sample(self, name: str, rows: int, seed: int) -> "FeatureSample":
        """The seeded sample of a list-valued column (one embedding per row: Parquet lists, JSON
        arrays). Every embedding must have the same dimension; a missing one, or one holding a
        NaN or inf, is dropped and counted. Only the sampled rows become a matrix."""
        values = self.column(name).to_numpy(dtype=object)
        dims = np.fromiter((len(v) if isinstance(v, (list, tuple, np.ndarray)) else -1 for v in values), dtype=np.int64, count=len(values))
        present = dims >= 0
        if not present.any():
            raise MeasurementError(f"column {name!r} holds no embeddings (lists of numbers)")
        d = int(np.bincount(dims[present]).argmax())
        wrong = present & (dims != d)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise MeasurementError(
                f"column {name!r} holds embeddings of different dimensions: {d} in most rows, {int(dims[row])} at row {int(self.row_ids[row]) + 1}"
                f" ({int(wrong.sum())} rows differ)"
            )
        if d == 0:
            raise MeasurementError(f"column {name!r} holds empty embeddings")
        finite = np.zeros(len(values), dtype=bool)
        for i in np.flatnonzero(present):
            try:
                vec = np.asarray(values[i])
                if vec.ndim != 1 or vec.dtype.kind not in "iufO" or (
                    vec.dtype.kind == "O" and any(isinstance(x, (str, bytes, bool, dict, list, tuple)) for x in vec)
                ):
                    raise TypeError("not a flat list of numbers")  # no text, booleans or nesting
                finite[i] = bool(np.all(np.isfinite(vec.astype(np.float64))))
            except (TypeError, ValueError):
                raise MeasurementError(f"column {name!r}: the embedding at row {int(self.row_ids[i]) + 1} is not a list of numbers") from None
        idx = np.flatnonzero(finite)
        n_valid = idx.size
        idx = idx[smallest_hash_rows(seed, self.row_ids[idx], rows)]
        X = np.vstack([np.asarray(values[i], dtype=np.float64) for i in idx]) if idx.size else np.empty((0, d))
        return FeatureSample(
            X=X, n_valid=n_valid, n_dropped=self.n_rows - n_valid, exact=n_valid <= rows, seed=seed, indices=self.row_ids[idx]
        )
