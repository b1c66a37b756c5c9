"""Bounds: a measured value against a rule's min / max, and the shared result helpers.

A value known only within [low, high] (an approximation with a stated error) gets no verdict
when the bound passes part of that interval and fails the rest. Imports: metrics, result,
rules.model, summaries.frame (MeasurementError).
"""

from __future__ import annotations

import math

from ..metrics import REGISTRY
from ..result import Result
from ..summaries.frame import FrameSummaries, MeasurementError

TOP = 5  # categories listed in details (largest contributions, unseen categories)


def new_result(rule) -> Result:
    """An ``error`` Result of ``rule`` with its parameters, before anything is measured."""
    params = rule.model_dump(exclude={"id", "metric", "min", "max", "severity", "description"}, by_alias=True)
    return Result(
        rule_id=rule.id,
        metric=rule.metric,
        outcome="error",
        severity=rule.severity,
        min=rule.min,
        max=rule.max,
        params=params,
        description=rule.description,
    )


def failed_to_measure(rule, reason: str) -> Result:
    """The ``error`` Result of a rule that could not be measured, saying why."""
    result = new_result(rule)
    result.reason = reason
    return result


def apply_bounds(result: Result) -> None:
    v = {"estimate": result.observed, "lower": (result.interval or (None, None))[0],
         "upper": (result.interval or (None, None))[1]}[result.decided_on]
    low_ok = result.min is None or v >= result.min
    high_ok = result.max is None or v <= result.max
    if math.isinf(v) and REGISTRY[result.metric].reads == "counts_and_reference":
        result.outcome = "failed"  # an infinite divergence fails by default (docs/DESIGN.md)
        return
    result.outcome = "passed" if (low_ok and high_ok) else "failed"
    if result.outcome == "failed" and not result.reason:
        bound = f">= {result.min:g}" if not low_ok else f"<= {result.max:g}"
        what = "observed" if result.decided_on == "estimate" else f"the interval's {result.decided_on} end"
        result.reason = f"{what} {v:.6g} {result.units or ''}".rstrip() + f", expected {bound}"


def nonempty(n: int, data: FrameSummaries, column: str, nulls: int) -> None:
    if n <= 0:
        if data.n_rows == 0:
            raise MeasurementError(f"0 non-null values: the data has 0 rows")
        excluded = getattr(data, "excluded_texts", None)  # a text-length view: nulls and non-text values
        if isinstance(excluded, dict) and excluded.get("not_text"):
            raise MeasurementError(
                f"no text in column {column!r}: {excluded.get('null', 0)} null and {excluded['not_text']} non-text values"
                f" of {data.n_rows} rows"
            )
        raise MeasurementError(f"0 non-null values in column {column!r} ({nulls} null of {data.n_rows} rows)")



def straddled(rule, low: float, high: float) -> str | None:
    """The rule's bound (as text) when a value known only to lie in [low, high] would pass for
    part of that interval and fail for the rest; None when every value there gets one verdict."""
    if high <= low:
        return None

    def passes(v):
        return (rule.min is None or v >= rule.min) and (rule.max is None or v <= rule.max)

    if (passes(low) and passes(high)) or (rule.min is not None and high < rule.min) or (rule.max is not None and low > rule.max):
        return None
    return " and ".join(b for b in (rule.min is not None and f">= {rule.min:g}", rule.max is not None and f"<= {rule.max:g}") if b)


def decidable(rule, low: float, high: float, hint: str = "raise 'grid' for finer cells") -> None:
    """Raise MeasurementError when the bound straddles [low, high]: no verdict on an
    approximation whose own error could flip it (issue 11)."""
    bound = straddled(rule, low, high)
    if bound is not None:
        raise MeasurementError(
            f"undecided: the value lies between {low:.6g} and {high:.6g} (the approximation's own error bound), and the bound "
            f"{bound} passes part of that interval and fails the rest; {hint}"
        )
