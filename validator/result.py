"""Typed results: one :class:`Result` per rule (or declared column), gathered in a :class:`Report`.

Rendering (text, JSON, HTML) lives in :mod:`validator.report`; this module only holds the facts and
the pass/fail logic that the exit code follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ValidationFailure

Outcome = Literal["passed", "failed", "error", "skipped"]

#: JSON report format version; bump when a field changes meaning.
REPORT_FORMAT_VERSION = 1


@dataclass
class Result:
    """The outcome of one rule.

    Attributes
    ----------
    rule_id : str
    metric : str
        ``entropy``, ``distance_spread``, ``kl_divergence``, or ``column`` for a declared column.
    outcome : {'passed', 'failed', 'error', 'skipped'}
        ``error``: the rule could not be measured; ``reason`` says why. ``skipped``: the rule
        did not apply, by a documented choice (a git reference absent at its revision).
    severity : {'error', 'warning'}
    observed : float or None
        The measured value (may be ``inf`` for a divergence); None when not measured.
    min, max : float or None
        Inclusive bounds.
    units : str or None
        ``bits``, ``nats``, ``hartleys``, ``euclidean``/``cosine`` distance, ``fraction`` ...
    n : int or None
        Rows the value was computed from (after dropping nulls; the sample size when sampled).
    params : dict
        The rule's parameters as used (defaults filled in).
    details : dict
        Metric-specific facts: categories behind an infinite divergence, top contributions,
        sampling (exact or sampled, sample size, seed), dropped rows, bootstrap settings, ...
    reason : str or None
        Why the outcome is ``error``, or why it failed when the value alone does not say.
    interval : (float, float) or None
        Bootstrap interval of the value at ``confidence`` (when the rule asks).
    decided_on : {'estimate', 'lower', 'upper'}
        Which of the value and the interval's ends was compared with the bounds.
    """

    rule_id: str
    metric: str
    outcome: Outcome
    severity: str = "error"
    observed: float | None = None
    min: float | None = None
    max: float | None = None
    units: str | None = None
    n: int | None = None
    params: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    reason: str | None = None
    description: str | None = None
    interval: tuple[float, float] | None = None
    confidence: float | None = None
    decided_on: str = "estimate"
    # how to recompute the value on a resample (set by the measuring code; never serialised)
    resample: object = field(default=None, repr=False, compare=False)

    @property
    def blocking(self) -> bool:
        """True when this result makes the report fail (an error-severity rule not passed)."""
        return self.severity == "error" and self.outcome in ("failed", "error")

    def to_dict(self) -> dict[str, Any]:
        """Plain, RFC 8259-safe data: an infinite value is the string "inf" with finite false."""
        observed: Any = self.observed
        finite = None
        if observed is not None:
            finite = math.isfinite(observed)
            if not finite:
                observed = "inf" if observed > 0 else ("-inf" if observed < 0 else "nan")
        return {
            "id": self.rule_id,
            "metric": self.metric,
            "outcome": self.outcome,
            "severity": self.severity,
            "observed": observed,
            "finite": finite,
            "min": self.min,
            "max": self.max,
            "units": self.units,
            "n": self.n,
            "params": _json_safe(self.params),
            "details": _json_safe(self.details),
            "reason": self.reason,
            "description": self.description,
            "confidence": self.confidence,
            "interval": None if self.interval is None else _json_safe(list(self.interval)),
            "decided_on": self.decided_on,
        }


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


@dataclass
class Report:
    """All results of one validation run.

    Attributes
    ----------
    results : list of Result
    dataset : str
        What was validated (paths, or "DataFrame").
    n_rows : int
        Rows in the dataset.
    rules_source : str
        Where the rules came from.
    skipped_shards : list of dict
        Shards left out with ``--skip-bad-shards`` (``{"path", "error"}``): every result then
        describes partial data.
    """

    results: list[Result]
    dataset: str = "DataFrame"
    n_rows: int = 0
    rules_source: str = ""
    skipped_shards: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every error-severity rule passed (warnings never fail a report)."""
        return not any(r.blocking for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 when :attr:`passed`, else 1 (docs/DESIGN.md exit codes)."""
        return 0 if self.passed else 1

    def __getitem__(self, rule_id: str) -> Result:
        for r in self.results:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain data (see :meth:`Result.to_dict`)."""
        rules = [r for r in self.results if r.metric != "column"]
        counts = {o: sum(r.outcome == o for r in rules) for o in ("passed", "failed", "error", "skipped")}
        columns = [r for r in self.results if r.metric == "column"]
        counts["columns_declared"] = len(columns)
        counts["columns_failed"] = sum(r.outcome != "passed" for r in columns)
        return {
            "format_version": REPORT_FORMAT_VERSION,
            "dataset": self.dataset,
            "rules": self.rules_source,
            "n_rows": self.n_rows,
            "passed": self.passed,
            "summary": counts,
            "skipped_shards": list(self.skipped_shards),
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """RFC 8259 JSON (no bare NaN/Infinity)."""
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def raise_for_failures(self) -> "Report":
        """Raise :class:`ValidationFailure` unless :attr:`passed`; returns self otherwise."""
        if not self.passed:
            raise ValidationFailure(self)
        return self
