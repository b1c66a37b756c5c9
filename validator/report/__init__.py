"""Rendering a :class:`~validator.result.Report` for people and machines.

- ``text.py``: the text table (terminal), Markdown, JUnit XML and JSON renderers;
- ``html.py``: the self-contained HTML report (inline SVG plots), built on text.py's table rows;
- ``schema.py``: the JSON report format as typed models; ``python -m validator.report.schema``
  regenerates ``schemas/report.schema.json``.

May import: :mod:`validator.result` (and the standard library, pydantic for the schema). Never
the engine, checks, summaries or rules: a report is rendered from results alone.
"""

from .html import render_html
from .text import render_json, render_junit, render_markdown, render_text, render_unreadable_markdown

__all__ = ["render_html", "render_json", "render_junit", "render_markdown", "render_text", "render_unreadable_markdown"]
