"""A profile file (written by validate-profile, validator.profile) read back: its format
version and every key that validate-suggest and profile references read, checked.

Imports: rules.yaml_source (the YAML reader with line numbers), errors.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import YamlSourceError
from ..rules.yaml_source import parse_yaml

PROFILE_VERSION = 1


def load_profile(path) -> dict:
    """Read a profile written by ``validate-profile`` (strict YAML).

    Raises
    ------
    ValueError
        Not a profile (no ``profile_version`` 1 or no ``columns``).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a profile written by validate-profile (not UTF-8 text)") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a profile") from None
    try:
        doc, _ = parse_yaml(text)
    except YamlSourceError as exc:
        raise ValueError(f"{path} is not a profile written by validate-profile ({exc.message})") from None
    if not isinstance(doc, dict) or doc.get("profile_version") != PROFILE_VERSION or not isinstance(doc.get("columns"), dict):
        raise ValueError(f"{path} is not a profile written by validate-profile (profile_version {PROFILE_VERSION})")
    problem = _profile_problem(doc)
    if problem:
        key, what = problem
        raise ValueError(f"{path} is not a usable profile: key {key}: {what}")
    return doc


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _found(v) -> str:
    text = repr(v)
    return f"{type(v).__name__} {text[:40] + '...' if len(text) > 40 else text}"


def _profile_problem(doc: dict) -> tuple[str, str] | None:
    """The first key of a profile that the tools cannot use, and why; None if every one is usable.

    Checked: what validate-suggest and a rule's ``reference: {profile: ...}`` read (each
    column's kind, counts, edges, entropy_bits and other; skipped), with the constraints a
    reference in a rule file has (finite counts >= 0 summing to more than 0, strictly increasing
    finite edges, one count per cell).
    """
    skipped = doc.get("skipped")
    if skipped is not None and not isinstance(skipped, dict):
        return "skipped", f"expected a mapping of column to reason, found {_found(skipped)}"
    for name, col in doc["columns"].items():
        at = f"columns.{name}"
        if not isinstance(col, dict):
            return at, f"expected a mapping, found {_found(col)}"
        kind = col.get("kind")
        if kind not in ("numeric", "categorical"):
            return f"{at}.kind", f"expected numeric or categorical, found {_found(kind) if 'kind' in col else 'nothing'}"
        if not _number(col.get("entropy_bits")) or col["entropy_bits"] < 0:
            return f"{at}.entropy_bits", f"expected a finite number >= 0, found {_found(col.get('entropy_bits')) if 'entropy_bits' in col else 'nothing'}"
        counts = col.get("counts")
        if kind == "numeric":
            edges = col.get("edges")
            if not isinstance(edges, list) or len(edges) < 2 or not all(_number(e) for e in edges):
                return f"{at}.edges", f"expected a list of at least 2 finite numbers, found {_found(edges) if 'edges' in col else 'nothing'}"
            if any(b <= a for a, b in zip(edges, edges[1:])):
                return f"{at}.edges", "expected strictly increasing edges"
            if not isinstance(counts, list) or len(counts) != len(edges) - 1:
                return f"{at}.counts", f"expected a list of {len(edges) - 1} counts (one per cell), found {_found(counts) if 'counts' in col else 'nothing'}"
            values = counts
        else:
            if not isinstance(counts, dict) or not counts:
                return f"{at}.counts", f"expected a mapping of category to count, found {_found(counts) if 'counts' in col else 'nothing'}"
            values = list(counts.values())
            other = col.get("other")
            if other is not None and (not isinstance(other, str) or other not in counts):
                return f"{at}.other", f"expected one of the categories of counts, found {_found(other)}"
        if not all(_number(c) and c >= 0 for c in values):
            return f"{at}.counts", "expected finite counts >= 0"
        if not sum(values) > 0:
            return f"{at}.counts", "expected at least one count > 0"
    return None
