"""evaluate(rule, ...) -> Result: a pure function of the rule and the computed summaries, and
needs(rule, ...) -> [SummaryKey]: what it reads, declared.

``evaluate`` restricts rows (``where``), splits groups (``group_by``), measures through the
rule kind's module (counts, divergence, features, text), bootstraps an interval and applies
the bounds. ``needs`` gives, per rule kind, the summaries of the data that measuring reads, so
that an engine computes them all before any rule is evaluated (validator.plan). Imports:
the checks' modules, metrics, result, rules, summaries.
"""

from __future__ import annotations

import pandas as pd

from ..result import Result
from ..rules.ruleset import RuleSet
from ..rules.model import (
    CountRule,
    DistanceSpreadRule,
    DuplicateFractionRule,
    NearDuplicateFractionRule,
    NgramEntropyRule,
    NumericReferenceRule,
    ReferenceRule,
    TypeTokenRatioRule,
    VendiScoreRule,
)
from ..summaries.frame import FrameSummaries, MeasurementError, category_key
from ..summaries.keys import SummaryKey
from ..summaries.references import ReferenceMissing, ReferenceStore
from . import counts, divergence, features, text
from .bootstrap import bootstrap
from .bounds import TOP, apply_bounds, failed_to_measure, new_result

TEXT_RULES = (DuplicateFractionRule, NearDuplicateFractionRule, NgramEntropyRule, TypeTokenRatioRule)


def needs(rule, ruleset: RuleSet, refs: ReferenceStore, known) -> list[SummaryKey]:
    """The summaries of the data that measuring ``rule`` reads, declared from the rule alone.

    Parameters
    ----------
    rule : a rule of the rule model
    ruleset : RuleSet
    refs : ReferenceStore
        Reference data (in memory): edges frozen on a reference are known when planning.
    known : callable
        ``known(key)`` -> the summary's value once computed (or the MeasurementError it gave),
        else ``validator.summaries.keys.UNKNOWN``. A summary whose parameters depend on another
        (a histogram on edges from the data's range) is declared once that one is known, so
        an engine computing summaries in passes over the data runs one pass per level.

    Returns
    -------
    list of SummaryKey
        On the rule's text-length view when it has one (with that view's exclusions).
    """
    view = (rule.column, rule.text_length) if getattr(rule, "text_length", None) is not None else None
    ask = known if view is None else (lambda key: known(key.on_view(*view)))
    if isinstance(rule, CountRule):
        keys = counts.needs(rule, ask)
    elif isinstance(rule, TEXT_RULES):
        keys = text.needs(rule, ask)
    elif isinstance(rule, ReferenceRule):
        keys = divergence.needs(rule, ruleset, refs, ask)
    elif isinstance(rule, (DistanceSpreadRule, VendiScoreRule)):
        keys = features.needs(rule, ask)
    elif isinstance(rule, NumericReferenceRule):
        keys = divergence.needs_numeric(rule, ruleset, refs, ask)
    else:  # pragma: no cover - the model's union is closed
        raise MeasurementError(f"unknown metric {rule.metric!r}")
    if view is None:
        return keys
    return [k.on_view(*view) for k in keys] + [SummaryKey("excluded_texts", view=view)]


def evaluate(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    """Measure one rule and compare it with its bounds.

    Returns a Result whose outcome is ``error`` (with the reason) when the rule cannot be
    measured: a missing or non-numeric column, no rows left after dropping nulls, ...
    A ``where`` restricts the rows first; a ``group_by`` measures each group and gives one
    result whose details list the groups. Reference files that cannot be read raise
    :class:`~validator.summaries.io.DataReadError`.
    """
    where = None
    if rule.where:
        try:
            mask = data.where_mask(rule.where)
        except MeasurementError as exc:
            return failed_to_measure(rule, str(exc))
        where = _where_text(rule.where)
        if not mask.any():
            result = failed_to_measure(rule, f"no rows meet the where conditions ({where}) among the {data.n_rows} rows")
            result.details.update(where=where, rows_matching_where=0)
            return result
        data = data.subset(mask, where)
    if rule.group_by:
        result = _grouped(rule, ruleset, data, refs)
    else:
        result = _evaluate_one(rule, ruleset, data, refs)
    if where is not None:
        result.details.update(where=where, rows_matching_where=data.n_rows)
    return result


def _measure(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result, resample_rows: bool = True) -> None:
    """Measure a rule into ``result``; for a weighted rule also set up the row resampler (not
    when measuring a resample itself, ``resample_rows=False``)."""
    if getattr(rule, "text_length", None) is not None:
        data = data.length_view(rule.column, rule.text_length)
        result.details["text_length"] = "Unicode code points" if rule.text_length == "chars" else "words (\\w+ runs)"
        excluded = {k: v for k, v in data.excluded_texts.items() if v}
        if excluded:
            first = excluded.pop("first_not_text_row", None)
            result.details["excluded_rows"] = excluded
            if first is not None:
                result.details["first_not_text_row"] = first
    if isinstance(rule, CountRule):
        counts.measure(rule, data, result)
    elif isinstance(rule, TEXT_RULES):
        text.measure(rule, data, refs, result)
    elif isinstance(rule, ReferenceRule):
        divergence.measure(rule, ruleset, data, refs, result)
    elif isinstance(rule, DistanceSpreadRule):
        features.measure_distance(rule, data, refs, result)
    elif isinstance(rule, VendiScoreRule):
        features.measure_vendi(rule, data, refs, result)
    elif isinstance(rule, NumericReferenceRule):
        divergence.measure_numeric(rule, ruleset, data, refs, result)
    else:  # pragma: no cover - the model's union is closed
        raise MeasurementError(f"unknown metric {rule.metric!r}")
    weight = getattr(rule, "weight", None)
    if weight is not None and resample_rows and getattr(rule, "confidence", None) is not None:
        # only an interval needs the rows themselves (a streamed run has none, and needs none)
        result.resample = _row_resampler(rule, ruleset, data, refs, [rule.column, weight])


def _row_resampler(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, columns: list[str]):
    """Resampler for weighted rules: rows (with their weights) drawn with replacement, and the
    rule measured again on them; exact, but each resample re-counts the rows."""
    frame = data.df[list(dict.fromkeys(columns))]

    def resample(rng):
        idx = rng.integers(0, len(frame), size=len(frame))
        again = new_result(rule)
        _measure(rule, ruleset, FrameSummaries(frame.iloc[idx].reset_index(drop=True)), refs, again, resample_rows=False)
        return again.observed

    return resample


def _evaluate_one(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    result = new_result(rule)
    try:
        _measure(rule, ruleset, data, refs, result)
    except MeasurementError as exc:
        result.outcome = "error"
        result.reason = str(exc)
        return result
    except ReferenceMissing as exc:
        result.outcome = "skipped"  # documented: a file's first commit has no previous version
        result.reason = str(exc)
        return result
    except (ValueError, TypeError, ArithmeticError, MemoryError) as exc:
        # an unforeseen fault in one rule must not hide the others' results
        result.outcome = "error"
        result.reason = f"could not be measured: {type(exc).__name__}: {exc}"
        return result
    min_rows = rule.min_rows or ruleset.model.defaults.min_rows
    rows_used = result.details.get("rows_with_finite_features", result.n)
    if min_rows is not None and rows_used is not None and rows_used < min_rows:
        result.outcome = "error"  # never a pass or a fail on too little data
        result.reason = f"insufficient data: {rows_used:g} rows, need {min_rows}"
        return result
    if rule.confidence is not None and result.resample is not None:
        bootstrap(rule, result)
        result.decided_on = rule.decide_on
    apply_bounds(result)
    return result


MAX_GROUPS = 1000


def _grouped(rule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore) -> Result:
    """One result for a ``group_by`` rule: passed only when every group passes."""
    result = new_result(rule)
    try:
        column = data.column(rule.group_by)
    except MeasurementError as exc:
        result.reason = f"group_by: {exc}"
        return result
    codes, groups = pd.factorize(column, sort=True, use_na_sentinel=True)
    if len(groups) > MAX_GROUPS:
        result.reason = f"group_by {rule.group_by!r} makes {len(groups)} groups; at most {MAX_GROUPS} are measured"
        return result
    if len(groups) == 0:
        result.reason = f"group_by {rule.group_by!r}: no rows with a value to group by"
        return result
    entries = []
    for k, value in enumerate(groups):
        label = f"{rule.group_by}={category_key(value)}"
        one = _evaluate_one(rule, ruleset, data.subset(codes == k, label), refs)
        entries.append(
            {"group": category_key(value), "outcome": one.outcome, "observed": one.observed, "n": one.n,
             "units": one.units, "reason": one.reason}
        )
        result.units = result.units or one.units
    outcomes = [e["outcome"] for e in entries]
    result.outcome = "passed" if all(o == "passed" for o in outcomes) else ("failed" if "failed" in outcomes else "error")
    result.n = int(sum(e["n"] or 0 for e in entries))
    result.details["groups"] = entries
    result.details["group_by"] = rule.group_by
    null_rows = int((codes < 0).sum())
    if null_rows:
        result.details["rows_without_group"] = null_rows
    bad = [e for e in entries if e["outcome"] != "passed"]
    if bad:
        shown = ", ".join(f"{e['group']} ({e['outcome']}" + (f" {e['observed']:.4g})" if e["observed"] is not None else ")") for e in bad[:TOP])
        result.reason = f"{len(bad)} of {len(entries)} groups did not pass: {shown}" + (" ..." if len(bad) > TOP else "")
    return result


def _where_text(conditions) -> str:
    return " and ".join(f"{c.column} {c.operator} {c.operand!r}" for c in conditions)

