"""The pandera side of a rule set: ``to_pandera`` compiles it into a ``DataFrameSchema`` (the
declared columns with their dtype kinds, and one dataframe-level check per rule), and the
declared columns' results are read back from pandera's structured failure cases.

``to_pandera`` gives a real schema: the declared columns (presence, dtype, nullability) and one
dataframe-level check per rule, ``ignore_na=False`` (the rule's own null policy decides, case
H15), whose error text carries the observed value. The rule checks run
:func:`validator.checks.evaluate` on summaries of the frame they are given (shared between the
rules through :class:`Evaluation`).

Importing this module makes :meth:`validator.rules.ruleset.RuleSet.to_pandera` work: it
registers :func:`to_pandera` as the rule set's schema compiler (rules/ never imports this
module, which sits above it). ``validator/__init__.py`` imports the engine, which imports this
module, so the method is there whenever any part of the package is imported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .checks import evaluate
from .errors import SkippedRuleWarning
from .result import Result
from .rules.ruleset import RuleSet, set_schema_compiler
from .summaries.frame import BOOL_TEXT, FrameSummaries, as_numbers, text_as_numbers
from .summaries.references import ReferenceStore


def _pandera():
    """``pandera.pandas``, imported on first use (a required dependency, not an optional extra):
    its import takes ~0.26 s, which a run on files without declared columns never pays (bench/)."""
    import pandera.pandas as pa  # lazy on purpose: see the docstring

    return pa


@dataclass
class Evaluation:
    """Shared state of the checks of one compiled schema: summaries of the frame last seen."""

    ruleset: RuleSet
    references: ReferenceStore
    name: str = "the data"
    summaries: FrameSummaries | None = None
    results: dict[str, Result] = field(default_factory=dict)

    def summaries_for(self, df: pd.DataFrame) -> FrameSummaries:
        if self.summaries is None or self.summaries.df is not df:
            if self.summaries is not None or not self.results:
                self.results = {}
            self.summaries = FrameSummaries(df, name=self.name)
        return self.summaries


def is_text(s: pd.Series) -> bool:
    if s.dtype == object:  # pandas' is_string_dtype(object) is True, whatever the values are
        return bool(s.dropna().map(lambda v: isinstance(v, str)).all())
    return bool(pd.api.types.is_string_dtype(s.dtype))


def is_real(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype)


def numbers_of(s: pd.Series) -> pd.Series | None:
    """The column as real numbers, or None; number text (``1``, ``2.5``, ``nan``) qualifies."""
    if is_real(s):
        return s
    if s.dtype == object and s.notna().any() and s.dropna().map(
            lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))).all():
        return as_numbers(s)  # numbers beside nulls (JSON Lines shards, one all null): an object column
    if is_text(s) and s.notna().any():
        values, bad = text_as_numbers(s)
        return None if bad.any() else values
    return None


def is_int(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return True
    v = numbers_of(s)  # a float column of whole numbers (an int column with nulls, from CSV)
    if v is None:
        return False
    v = v.to_numpy(dtype=np.float64, na_value=np.nan)
    v = v[~np.isnan(v)]
    return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def is_bool(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype):
        return True
    present = s.dropna()
    if is_text(s):
        return bool(present.isin(list(BOOL_TEXT)).all())
    return s.dtype == object and bool(present.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def is_datetime(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return True
    if not is_text(s):
        return False
    present = s.dropna()
    # utc=True: one column may hold several UTC offsets (any column that crosses a
    # daylight-saving change has two), which pandas otherwise refuses as mixed time zones
    parsed = pd.to_datetime(present, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().all())


#: dtype kind in a rule file -> the test of a column (series-level, nulls allowed).
DTYPE_KINDS = {
    "str": is_text,
    "int": is_int,
    "float": lambda s: numbers_of(s) is not None,
    "numeric": lambda s: numbers_of(s) is not None,
    "bool": is_bool,
    "category": lambda s: isinstance(s.dtype, pd.CategoricalDtype) or is_text(s),
    "datetime": is_datetime,
}


#: groups of a group_by rule listed in a check's message (the report lists them all)
MESSAGE_GROUPS = 10


def check_message(result: Result) -> str:
    """The text of a rule's pandera check after it ran: the measured value and the bounds, the
    groups that did not pass for a ``group_by`` rule, the reason for ``error`` / ``skipped``."""
    if result.outcome == "skipped":
        return f"{result.rule_id}: skipped: {result.reason}"
    groups = result.details.get("groups")
    if result.outcome == "error" and groups is None:
        return f"{result.rule_id}: could not be measured: {result.reason}"
    bounds = " and ".join(
        b for b in (f">= {result.min:g}" if result.min is not None else "", f"<= {result.max:g}" if result.max is not None else "") if b
    )
    expected = f", expected {bounds}" if bounds else ""
    units = f" {result.units}" if result.units else ""
    if groups is not None:
        bad = [g for g in groups if g["outcome"] != "passed"]
        if not bad:
            return f"{result.rule_id}: {result.metric} by {result.details['group_by']}: all {len(groups)} groups passed{expected} (passed)"
        shown = ", ".join(
            f"{g['group']} {g['outcome']} " + (f"(observed {g['observed']:.6g})" if g["observed"] is not None else f"({g['reason']})")
            for g in bad[:MESSAGE_GROUPS]
        )
        more = f", and {len(bad) - MESSAGE_GROUPS} more" if len(bad) > MESSAGE_GROUPS else ""
        return (f"{result.rule_id}: {result.metric} by {result.details['group_by']}{expected}{units} in every group: "
                f"{len(bad)} of {len(groups)} groups did not pass: {shown}{more} ({result.outcome})")
    if result.observed is None:
        return f"{result.rule_id}: {result.metric}: {result.reason or 'no value'}{expected} ({result.outcome})"
    interval = ""
    if result.interval is not None:
        lo, hi = result.interval
        level = f"{result.confidence:.0%} " if result.confidence is not None else ""
        interval = f" ({level}interval [{lo:.6g}, {hi:.6g}], decided on the {result.decided_on})"
    return f"{result.rule_id}: {result.metric} observed {result.observed:.6g}{units}{interval}{expected} ({result.outcome})"


def to_pandera(ruleset: RuleSet, *, rule_checks: bool = True, state: Evaluation | None = None):
    """Compile a rule set into a pandera ``DataFrameSchema``.

    Parameters
    ----------
    ruleset : RuleSet
    rule_checks : bool
        Include one dataframe-level check per rule (default); False gives the column schema only.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        Columns from the rule file's ``columns`` section; one dataframe-level ``Check`` per rule,
        named by the rule id, ``ignore_na=False``, ``raise_warning=True`` for warning-severity
        rules, whose error text is rewritten by the check with the measured value.

    Notes
    -----
    The schema is usable on its own (``schema.validate(df)``, ``@pa.check_input``). A rule's
    check passes or fails as the rule blocks a report or not (``Result.blocking``):

    - ``passed``: the check passes; ``failed``: it fails (a ``SchemaError``, or
      ``SchemaErrors`` with ``lazy=True``) with the observed value and the bounds in its
      message; for a ``group_by`` rule, the groups that did not pass with their values;
    - ``error`` (the rule could not be measured: a missing column, too few rows ...): the
      check fails with ``could not be measured: <reason>``, as the rule fails the report;
    - ``skipped`` (a git reference absent at its revision, ``on_missing: skip``): the check
      passes and a :class:`SkippedRuleWarning` names the rule and the reason.

    A warning-severity rule's check raises pandera's ``SchemaWarning`` instead of failing.
    Reference files are read on first use.
    """
    pa = _pandera()

    state = state or Evaluation(ruleset, ReferenceStore(ruleset))
    columns = {}
    for name, spec in ruleset.columns.items():
        checks = []
        if spec.dtype is not None:
            # A kind, not one exact dtype: int32 and Int64 are int, a CSV int column with nulls
            # (float64 of whole numbers) is int, number text is numeric, ISO dates are datetime.
            kind = DTYPE_KINDS[spec.dtype]
            checks.append(
                pa.Check(lambda s, kind=kind: bool(kind(s)), name=f"dtype_{spec.dtype}", error=f"dtype is not {spec.dtype}", ignore_na=False)
            )
        columns[name] = pa.Column(None, checks=checks, nullable=spec.nullable, required=spec.required)

    checks = [rule_check(rule, state) for rule in ruleset.rules] if rule_checks else []
    return pa.DataFrameSchema(columns=columns, checks=checks, name=f"rules {ruleset.source}")


def rule_check(rule, state: Evaluation):
    pa = _pandera()

    holder: dict = {}

    last = rule is state.ruleset.rules[-1]

    def measure(df: pd.DataFrame) -> bool:
        summaries = state.summaries_for(df)
        result = evaluate(rule, state.ruleset, summaries, state.references)
        state.results[rule.id] = result
        if last:
            state.summaries = None  # keep no reference to the frame once every rule has run
        # pandera reads `error` after the check ran, so the message carries the measured value.
        holder["check"].error = message = check_message(result)
        if result.outcome == "skipped":
            warnings.warn(message, SkippedRuleWarning, stacklevel=2)
        return result.outcome in ("passed", "skipped")  # as Result.blocking: skipped does not fail

    check = pa.Check(
        measure,
        name=rule.id,
        error=f"{rule.id}: {rule.metric}",
        ignore_na=False,
        raise_warning=rule.severity == "warning",
    )
    holder["check"] = check
    return check


def column_failures(ruleset: RuleSet, schema, df: pd.DataFrame) -> list[Result]:
    """The declared columns that fail pandera's checks on ``df`` (one batch or partition)."""
    pa = _pandera()

    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        # a batch in which a column is all null has no dtype of its own (JSON Lines give it
        # object): its dtype is judged by the batches that hold values, not by this one
        empty = [c for c in ruleset.columns if c in df.columns and len(df) and df[c].isna().all()]
        if empty and cases is not None:
            dtype_only = cases["check"].astype(str).str.startswith("dtype") & cases["column"].isin(empty)
            cases = cases[~dtype_only]
        return [r for r in column_results(ruleset, df, cases) if r.outcome == "failed"]
    return []


def column_results(ruleset: RuleSet, df: pd.DataFrame, failure_cases) -> list[Result]:
    """One result per declared column, from pandera's structured failure cases."""
    failed: dict[str, list[str]] = {}
    if failure_cases is not None:
        for row in failure_cases.itertuples(index=False):
            column = row.column
            if row.check == "column_in_dataframe":
                column = row.failure_case
            if column in ruleset.columns:
                failed.setdefault(column, []).append(str(row.check))
    results = []
    for name, spec in ruleset.columns.items():
        params = spec.model_dump()
        result = Result(rule_id=f"column:{name}", metric="column", outcome="passed", params=params, n=len(df))
        checks = failed.get(name, [])
        if checks:
            result.outcome = "failed"
            reasons = []
            if "column_in_dataframe" in checks:
                reasons.append("column is missing")
            else:
                col = df[name]
                if any(c.startswith("dtype") for c in checks):
                    reasons.append(f"expected dtype {spec.dtype}, found {col.dtype}")
                if "not_nullable" in checks:
                    reasons.append(f"{int(col.isna().sum())} null values, but nullable is false")
                other = [c for c in checks if not (c.startswith("dtype") or c == "not_nullable")]
                reasons.extend(f"check {c} failed" for c in dict.fromkeys(other))
            result.reason = "; ".join(reasons)
        results.append(result)
    return results


def validate_frame(schema, df: pd.DataFrame):
    """Run ``schema`` over ``df`` in place (no copy); pandera's failure cases, or None when all passed.

    Warning-severity rules are reported by the results, not as Python warnings.
    """
    pa = _pandera()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warning-severity rules are reported by us, not as warnings
        try:
            schema.validate(df, lazy=True, inplace=True)
        except pa.errors.SchemaErrors as exc:
            return exc.failure_cases
    return None


set_schema_compiler(to_pandera)
