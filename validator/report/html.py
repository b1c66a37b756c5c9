"""A self-contained HTML report: the results table plus plots, as inline SVG.

No JavaScript, no external resources (fonts, scripts, images): the file can be attached to a CI
run or mailed and opens the same everywhere. Plots:

* every rule with a value and a bound: a bar for the value with a line at each bound;
* divergence rules: the data's and the reference's share of each category (or bin), side by side;
* nearest-neighbour distance rules: the histogram of the nearest-neighbour distances.
"""

from __future__ import annotations

import html
import math

from ..result import Report, Result
from .text import HEADER, STATUS, summary_line, table_rows

_COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "error": "#ef6c00", "skipped": "#00838f"}
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.PASS{color:#2e7d32}.FAIL{color:#c62828}.ERROR{color:#ef6c00}.SKIP{color:#00838f}
.plot{display:inline-block;margin:1em 2em 1em 0;vertical-align:top}h3{font-size:15px;margin:0.3em 0}
svg text{font-size:11px;fill:#333}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bound_chart(r: Result) -> str:
    """A bar for the value, with a line at each bound (the scale reaches past both)."""
    value = r.observed
    bounds = [b for b in (r.min, r.max) if b is not None]
    top = max([value] + bounds) * 1.15 or 1.0
    width, height = 360, 46
    x = lambda v: 10 + (width - 80) * min(v, top) / top  # noqa: E731  (room on the right for the label)
    parts = [f'<rect x="10" y="10" width="{x(value) - 10:.1f}" height="16" fill="{_COLOUR[r.outcome]}"><title>{_e(r.rule_id)}: {value:.6g}</title></rect>']
    for name, b in (("min", r.min), ("max", r.max)):
        if b is not None:
            parts.append(f'<line x1="{x(b):.1f}" x2="{x(b):.1f}" y1="4" y2="32" stroke="#222" stroke-width="2"/>')
            parts.append(f'<text x="{x(b):.1f}" y="43" text-anchor="middle">{name} {b:g}</text>')
    parts.append(f'<text x="10" y="43">0</text>')
    parts.append(f'<text x="{x(value) + 4:.1f}" y="22">{value:.4g}</text>')
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(r.rule_id)} against its bounds">{"".join(parts)}</svg>'


def _distribution_chart(r: Result) -> str:
    cells = r.details["distribution"]
    top = max(max(c["data_share"], c["reference_share"]) for c in cells) or 1.0
    bar, gap, height = 9, 8, 120
    width = 40 + len(cells) * (2 * bar + gap)
    parts = []
    for i, c in enumerate(cells):
        x0 = 30 + i * (2 * bar + gap)
        for j, (key, colour) in enumerate((("data_share", "#1565c0"), ("reference_share", "#9e9e9e"))):
            h = (height - 30) * c[key] / top
            parts.append(
                f'<rect x="{x0 + j * bar}" y="{height - 10 - h:.1f}" width="{bar - 1}" height="{h:.1f}" fill="{colour}">'
                f"<title>{_e(c['category'])}: {key.split('_')[0]} {c[key]:.4g}</title></rect>"
            )
        parts.append(f'<text x="{x0 + bar}" y="{height + 4}" text-anchor="end" transform="rotate(-60 {x0 + bar} {height + 4})">{_e(c["category"][:14])}</text>')
    legend = '<text x="30" y="10"><tspan fill="#1565c0">■</tspan> data <tspan fill="#9e9e9e">■</tspan> reference</text>'
    return f'<svg width="{width}" height="{height + 70}" role="img" aria-label="{_e(r.rule_id)}: data and reference shares">{legend}{"".join(parts)}</svg>'


def _histogram_chart(r: Result) -> str:
    hist = r.details["nn_histogram"]
    counts, edges = hist["counts"], hist["edges"]
    top = max(counts) or 1
    width, height, bar = 360, 120, 340 / len(counts)
    parts = [
        f'<rect x="{10 + i * bar:.1f}" y="{height - 20 - (height - 30) * c / top:.1f}" width="{bar - 1:.1f}" '
        f'height="{(height - 30) * c / top:.1f}" fill="#6a1b9a"><title>[{edges[i]:.4g}, {edges[i + 1]:.4g}): {c}</title></rect>'
        for i, c in enumerate(counts)
    ]
    parts.append(f'<text x="10" y="{height - 5}">{edges[0]:.3g}</text><text x="{width - 10}" y="{height - 5}" text-anchor="end">{edges[-1]:.3g}</text>')
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(r.rule_id)}: nearest-neighbour distances">{"".join(parts)}</svg>'


def render_html(reports: list[Report], unreadable=()) -> str:
    """One self-contained HTML page for one or more reports (``--format html``), and the files
    ``--each`` could not read."""
    body = [f'<h2>{_e(e.path)}: <span class="FAIL">cannot be read</span></h2><p>{_e(e.message)}</p>' for e in unreadable]
    for report in reports:
        verdict = "PASSED" if report.passed else "FAILED"
        body.append(f"<h2>{_e(report.dataset)}: {report.n_rows:,} rows, <span class=\"{'PASS' if report.passed else 'FAIL'}\">{verdict}</span></h2>")
        body.append(f"<p>Rules: <code>{_e(report.rules_source)}</code>. {_e(summary_line(report))}</p>")
        rows = "".join(
            "<tr>" + "".join(f'<td class="{_e(row[0].strip().split(" ")[0].upper())}">{_e(c)}</td>' if k == 0 else f"<td>{_e(c)}</td>" for k, c in enumerate(row)) + "</tr>"
            for row in table_rows(report)
        )
        body.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + f"</tr>{rows}</table>")
        plots = []
        for r in report.results:
            if r.observed is not None and math.isfinite(r.observed) and (r.min is not None or r.max is not None):
                plots.append((r, "against its bounds", _bound_chart(r)))
            if r.details.get("distribution"):
                plots.append((r, "data and reference shares", _distribution_chart(r)))
            if r.details.get("nn_histogram"):
                plots.append((r, "nearest-neighbour distances", _histogram_chart(r)))
        for r, what, svg in plots:
            body.append(f'<div class="plot"><h3>{_e(r.rule_id)} ({_e(STATUS[r.outcome])}): {what}</h3>{svg}</div>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pretrain-validator report</title>"
        f"<style>{_CSS}</style></head><body><h1>pretrain-validator report</h1>{''.join(body)}</body></html>\n"
    )
