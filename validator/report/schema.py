"""The JSON report format (``--format json``, ``Report.to_dict()``), as typed models; the JSON
Schema ``schemas/report.schema.json`` is generated from them (``python -m validator.report.schema``)
and a test fails when the committed copy is stale or a report does not validate against it.

Format version 1. A report is one dataset's results; ``--each`` wraps several.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..result import REPORT_FORMAT_VERSION

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json"
NonFinite = Literal["inf", "-inf", "nan"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResultJSON(_Model):
    """One rule's (or declared column's) result."""

    id: str = Field(..., description="Rule id, or 'column:NAME' for a declared column.")
    metric: str = Field(..., description="Metric name, or 'column'.")
    outcome: Literal["passed", "failed", "error", "skipped"]
    severity: Literal["error", "warning"]
    observed: float | NonFinite | None = Field(..., description="The measured value; 'inf' for an infinite one.")
    finite: bool | None = Field(..., description="False when observed is 'inf'; null when nothing was measured.")
    min: float | None
    max: float | None
    units: str | None
    n: float | None = Field(..., description="Rows the value was computed from.")
    params: dict[str, Any] = Field(..., description="The rule's parameters, defaults filled in.")
    details: dict[str, Any] = Field(..., description="Metric-specific facts (sampling, categories behind a divergence, groups, ...).")
    reason: str | None = Field(..., description="Why it failed, could not be measured, or was skipped.")
    description: str | None
    confidence: float | None = Field(..., description="Level of the bootstrap interval, if any.")
    interval: list[float | NonFinite] | None = Field(..., min_length=2, max_length=2, description="Bootstrap interval [low, high].")
    decided_on: Literal["estimate", "lower", "upper"]


class SummaryJSON(_Model):
    passed: int
    failed: int
    error: int
    skipped: int
    columns_declared: int
    columns_failed: int


class SkippedShardJSON(_Model):
    """A shard that could not be read and was left out (--skip-bad-shards)."""

    path: str
    error: str


class ReportJSON(_Model):
    """The report of one dataset."""

    format_version: Literal[1]
    dataset: str
    rules: str
    n_rows: int
    passed: bool = Field(..., description="True when every error-severity rule passed.")
    summary: SummaryJSON
    skipped_shards: list[SkippedShardJSON] = Field(
        ..., description="Shards left out with --skip-bad-shards: the results describe partial data."
    )
    results: list[ResultJSON]


class UnreadableJSON(_Model):
    dataset: str
    error: str


class EachJSON(_Model):
    """``--each``: one report per file, and the files that could not be read."""

    format_version: Literal[1]
    passed: bool
    reports: list[ReportJSON]
    unreadable: list[UnreadableJSON]


def report_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a JSON report, either form."""
    assert REPORT_FORMAT_VERSION == 1
    schema = TypeAdapter(Union[ReportJSON, EachJSON]).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://pretrain-validator.invalid/schemas/report.schema.json"
    schema["title"] = f"pretrain-validator JSON report, format version {REPORT_FORMAT_VERSION}"
    return schema


def render() -> str:
    return json.dumps(report_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
