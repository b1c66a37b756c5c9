"""Rendering reports: a readable text table for people, JSON for machines."""

from __future__ import annotations

import math

from ..result import Report, Result

STATUS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"


def _digits(r: Result) -> int:
    """Significant digits that keep the observed value and each bound apart (4 at least)."""
    v = r.observed
    digits = 4
    if v is None or math.isinf(v):
        return digits
    for bound in (r.min, r.max):
        if bound is None or v == bound:
            continue
        while digits < 17 and f"{v:.{digits}g}" == f"{bound:.{digits}g}":
            digits += 1
    return digits


def _observed(r: Result) -> str:
    """The observed value with enough digits to differ from a bound it is compared with."""
    digits = _digits(r)
    if r.observed is None or math.isinf(r.observed) or digits == 4:
        return _num(r.observed)
    return f"{r.observed:.{digits}g}"


def _bounds(r: Result) -> str:
    if r.metric == "column":
        return ""
    digits = max(_digits(r), 6)
    fmt = lambda b: f"{b + 0.0:.{digits}g}"  # noqa: E731  (+ 0.0 prints -0.0 as 0)
    parts = []
    if r.min is not None:
        parts.append(f">= {fmt(r.min)}")
    if r.max is not None:
        parts.append(f"<= {fmt(r.max)}")
    return " and ".join(parts)


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '2 rows'."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def _note(r: Result) -> str:
    notes = []
    d = r.details
    if r.metric == "distance_spread" and "sampling" in d:
        if d["sampling"] == "exact":
            notes.append(f"exact over {_count(d['sample_size'], 'row')}")
        else:
            notes.append(f"sampled {d['sample_size']} of {d['rows_with_finite_features']} rows, seed {d['seed']}")
        if d.get("dropped_rows"):
            why = d.get("dropped_reason", "a feature was null, NaN or infinite")
            notes.append(f"{_count(d['dropped_rows'], 'row')} dropped ({why})")
    if str((d.get("nn_search") or {}).get("method", "")).startswith("approximate"):
        notes.append(f"approximate nearest neighbours, measured recall {d['nn_search']['recall_estimate']:.3f}")
    if d.get("excluded_rows") and r.metric != "distance_spread":
        notes.append("left out: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in d["excluded_rows"].items()))
    if r.metric == "kl_divergence" and d.get("smoothing") and d["smoothing"] != "none":
        notes.append(f"smoothed: {d['smoothing']}")
    if r.interval is not None:
        notes.append(f"{r.confidence:.0%} bootstrap interval, {d['bootstrap']['resamples']} resamples, seed {d['bootstrap']['seed']}"
                     + ("" if r.decided_on == "estimate" else f"; decided on its {r.decided_on} end"))
    reference = r.params.get("reference")
    if isinstance(reference, str) and reference.startswith("git "):
        notes.append(f"against {r.params['reference']}")
    if d.get("where"):
        notes.append(f"where {d['where']}: {_count(d['rows_matching_where'], 'row')}")
    if d.get("categories_counted_as_other"):
        notes.append(f"{_count(d['categories_counted_as_other'], 'category', 'categories')} counted as other")
    if r.reason and not (r.outcome == "failed" and r.reason.startswith("observed ")):
        notes.append(r.reason)  # a plain bound failure is already told by the observed/expected columns
    return "; ".join(notes)


def table_rows(report: Report) -> list[tuple[str, ...]]:
    """Rows (status, rule, metric, observed, expected, n, notes) shared by text and Markdown."""
    rows = []
    columns = [r for r in report.results if r.metric == "column"]
    ok_columns = [r for r in columns if r.outcome == "passed"]
    if ok_columns:
        names = ", ".join(r.rule_id.removeprefix("column:") for r in ok_columns)
        rows.append(("PASS", "columns", "column", "", "", "", f"{_count(len(ok_columns), 'declared column')} as declared: {names}"))
    for r in report.results:
        if r.metric == "column" and r.outcome == "passed":
            continue
        status = STATUS[r.outcome] + (" (warning)" if r.severity == "warning" and r.outcome in ("failed", "error") else "")
        interval = ""
        if r.interval is not None:
            interval = f" [{_num(r.interval[0])}, {_num(r.interval[1])}]"
        observed = "" if r.metric == "column" else f"{_observed(r)}{interval} {r.units or ''}".strip()
        rows.append((status, r.rule_id, r.metric, observed, _bounds(r), "" if r.n is None else f"n={r.n:,}", _note(r)))
        for g in r.details.get("groups", []):  # a group_by rule: one line per group under it
            value = "" if g["observed"] is None else f"{_num(g['observed'])} {g['units'] or ''}".strip()
            rows.append(
                ("  " + STATUS[g["outcome"]].lower(), f"  {r.details['group_by']}={g['group']}", "", value, "",
                 "" if g["n"] is None else f"n={g['n']:,}", g["reason"] if g["outcome"] == "error" else "")
            )
    return rows


def summary_line(report: Report) -> str:
    rules = [r for r in report.results if r.metric != "column"]
    columns = [r for r in report.results if r.metric == "column"]
    counts = {o: sum(r.outcome == o for r in rules) for o in ("passed", "failed", "error", "skipped")}
    warned = sum(1 for r in rules if r.severity == "warning" and r.outcome in ("failed", "error"))
    verdict = "PASSED" if report.passed else "FAILED"
    summary = (
        f"{verdict}: {_count(len(rules), 'rule')}: {counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['error']} could not be measured"
        + (f", {counts['skipped']} skipped" if counts["skipped"] else "")
    )
    if warned:
        summary += f" ({_count(warned, 'warning')} among them, which never fail a run)"
    if columns:
        ok = sum(r.outcome == "passed" for r in columns)
        summary += f"; {_count(len(columns), 'declared column')}: {ok} as declared, {len(columns) - ok} failed"
    return summary


HEADER = ("status", "rule", "metric", "observed", "expected", "n", "notes")


_COLOURS = {"PASS": "32", "FAIL": "31", "ERROR": "33", "SKIP": "36"}  # ANSI green, red, yellow, cyan


def render_text(report: Report, colour: bool = False) -> str:
    """A fixed-width table: status, rule, metric, observed value with units, bounds, n, notes.

    ``colour`` adds ANSI colours to the status column (the CLI sets it only on a terminal,
    and never when NO_COLOR is set).
    """
    rows = table_rows(report)
    widths = [max(len(x[i]) for x in rows + [HEADER]) for i in range(6)]

    def fmt(row, paint=False):
        cells = [c.ljust(w) for c, w in zip(row[:6], widths)]
        code = _COLOURS.get(row[0].strip().split(" ")[0].upper()) if paint else None
        if code:
            cells[0] = f"\033[{code}m{cells[0]}\033[0m"
        return "  ".join(cells) + ("  " + row[6] if row[6] else "")

    lines = [f"{report.dataset}: {report.n_rows:,} rows, rules {report.rules_source}", fmt(HEADER).rstrip()]
    lines.extend(fmt(row, colour).rstrip() for row in rows)
    summary = summary_line(report)
    if colour:
        summary = f"\033[1;{'32' if report.passed else '31'}m{summary}\033[0m"
    lines.append(summary)
    if report.skipped_shards:
        lines.append(f"PARTIAL DATA: {_count(len(report.skipped_shards), 'shard')} skipped (--skip-bad-shards):")
        lines.extend(f"  {s['path']}: {s['error']}" for s in report.skipped_shards)
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    """A GitHub-flavoured Markdown table (CI step summaries, pull-request comments)."""

    def cell(text: str) -> str:
        return text.strip().replace("|", "\\|").replace("\n", " ") or " "

    lines = [
        f"### {'✅' if report.passed else '❌'} {cell(report.dataset)}: {report.n_rows:,} rows",
        "",
        f"Rules: `{report.rules_source}`",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in table_rows(report):
        status = row[0].strip()
        mark = {"PASS": "✅", "FAIL": "❌", "ERROR": "⚠️", "SKIP": "⏭️"}.get(status.split(" ")[0].upper(), "")
        lines.append("| " + " | ".join(cell(c) for c in (f"{mark} {status}",) + row[1:]) + " |")
    lines += ["", f"**{summary_line(report)}**", ""]
    return "\n".join(lines)


def render_unreadable_markdown(error) -> str:
    """A Markdown block for a file ``--each`` could not read."""
    return f"### ❌ {error.path}: cannot be read\n\n{error.message}\n"


def render_junit(reports: list[Report], unreadable=()) -> str:
    """JUnit XML: one test suite per dataset, one test case per rule (and declared column).

    A failed rule is a ``<failure>``, a rule that could not be measured an ``<error>``; a failing
    warning-severity rule passes with the finding in ``<system-out>`` (it never fails a run).
    """
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="pretrain-validator")
    for report in reports:
        suite = ET.SubElement(root, "testsuite", name=report.dataset)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for r in report.results:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"{report.dataset}", name=r.rule_id)
            if r.metric == "column":
                text = r.reason or "present, with the declared dtype and nullability"
            else:
                text = f"{r.metric}: observed {_observed(r)} {r.units or ''}".rstrip() + f", expected {_bounds(r)}"
                if r.reason and not r.reason.startswith("observed "):  # a plain bound failure says no more
                    text += f"; {r.reason}"
            if r.outcome == "passed":
                ET.SubElement(case, "system-out").text = text
            elif r.outcome == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=r.reason or "skipped")
            elif r.severity == "warning":
                ET.SubElement(case, "system-out").text = f"WARNING ({r.outcome}): {text}"
            elif r.outcome == "failed":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=r.reason or text, type="failed").text = text
            else:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=r.reason or "could not be measured", type="error").text = text
        for key, value in counts.items():
            suite.set(key, str(value))
    for error in unreadable:  # a file --each could not read is an error a CI view must show
        suite = ET.SubElement(root, "testsuite", name=error.path, tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname=error.path, name="read")
        ET.SubElement(case, "error", message=error.message, type="unreadable").text = str(error)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_json(reports: list[Report], each: bool = False, unreadable=()) -> str:
    """RFC 8259 JSON: one report object, or ``{"reports": [...], "unreadable": [...]}`` with ``--each``."""
    import json

    if not each:
        payload = reports[0].to_dict()
    else:
        payload = {
            "format_version": 1,
            "passed": all(r.passed for r in reports) and not unreadable,
            "reports": [r.to_dict() for r in reports],
            "unreadable": [{"dataset": e.path, "error": e.message} for e in unreadable],
        }
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
