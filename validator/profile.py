"""Reference building: profile a trusted dataset into a reference file, and suggest a starter
rule file from a profile.

``validate-profile DATA... --output reference.yaml`` writes, per column, the category counts
(categorical) or a histogram on frozen edges (numeric), with n, nulls, a SHA-256 of the
source files and the tool version. Rule files name it as ``reference: {profile: FILE, column:
COLUMN}``. ``validate-suggest reference.yaml --output rules.yaml`` writes a starter rule
file: per profiled column, an entropy rule with ``min`` set a stated margin below the
profile's value and a Jensen-Shannon rule against the profile.

Numeric edges (``profile_edges``; each column's ``binning`` names the rule used): numpy's
Freedman-Diaconis rule (``np.histogram_bin_edges(..., bins="fd")``), capped at ``--max-bins``
(default 50) equal-width bins; when it would give fewer than 3 cells (most values equal), one
cell per distinct value (at most ``--max-bins`` of them) or the most common value in a cell of
its own and quantile edges for the rest; heavy-tailed columns (5%-95% quantiles spanning under
a fifth of the range) get log-spaced edges (all values > 0) or quantile edges. Data outside the
edges later falls in tail cells. Categorical columns keep at most ``--max-categories`` (default 1000) categories,
the rest counted into ``__other__``; a text column whose values are mostly unique (more
distinct values than half its rows: ids, free text) is not profiled, and the file says so.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ._version import __version__
from .errors import YamlSourceError
from .metrics.entropy import shannon_entropy
from .rules.yaml_source import parse_yaml
from .summaries.frame import FrameSummaries
from .summaries.histogram import cell_counts
from .summaries.io import expand_paths, read_dataset

PROFILE_VERSION = 1
OTHER = "__other__"


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.name.encode("utf-8") + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


#: heavy-tailed: the central 90% of the values (5% to 95% quantiles) spans less than this share of
#: the range, so equal-width cells would leave the bulk of the rows in a few of them
HEAVY_TAIL_SPAN = 0.2


def _heavy_tailed(values: np.ndarray) -> bool:
    q05, q95 = np.quantile(values, [0.05, 0.95])
    return bool(q95 - q05 < HEAVY_TAIL_SPAN * (values.max() - values.min()))


def _quantile_edges(values: np.ndarray, cells: int) -> np.ndarray:
    """``np.quantile(values, k / cells)`` for k = 0..cells (linear interpolation), repeats dropped."""
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, cells + 1)))


def _distinct_edges(distinct: np.ndarray) -> np.ndarray:
    """One cell per distinct value: edges at the midpoints, the outer ones half a gap outside."""
    mids = (distinct[:-1] + distinct[1:]) / 2
    return np.concatenate([[distinct[0] - (distinct[1] - distinct[0]) / 2], mids, [distinct[-1] + (distinct[-1] - distinct[-2]) / 2]])


def profile_edges(values: np.ndarray, max_bins: int = 50) -> tuple[np.ndarray, str]:
    """Bin edges for a numeric column and the rule that made them.

    In order: a constant column gets ``[v - 0.5, v + 0.5]`` (``constant``). When the
    Freedman-Diaconis rule would give fewer than 3 cells (a zero interquartile range: most
    values equal), a column with at most ``max_bins`` distinct values gets one cell per value
    (``distinct values``); otherwise the most common value gets a cell of its own and the other
    values quantile edges (``most common value in its own cell``). A heavy-tailed column (the
    5%-95% quantile span under a fifth of the range) gets log-spaced edges when every value is
    > 0 and the logarithms are not heavy-tailed themselves (``log-spaced``), else quantile
    edges (``quantile``). The rest: Freedman-Diaconis (``np.histogram_bin_edges(..., "fd")``),
    or ``max_bins`` equal-width bins when it asks for more (``equal-width``).

    Parameters
    ----------
    values : ndarray, shape (n,)
        Finite values, n >= 1.
    max_bins : int
        The cap on the number of cells (the most common value's own cell aside).

    Returns
    -------
    (ndarray, str)
        Strictly increasing edges spanning [min, max], and the rule's name with its reason.
    """
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return np.array([lo - 0.5, hi + 0.5]), "constant"
    # numpy's Freedman-Diaconis width 2 IQR n^(-1/3), counted before asking numpy for the edges
    # (a tiny IQR against a wide range would ask it for billions of bins)
    q25, q75 = np.percentile(values, [25, 75])
    width = 2.0 * (q75 - q25) * values.size ** (-1.0 / 3.0)
    fd_cells = int(min(np.ceil((hi - lo) / width), 2**62)) if width > 0 else 1
    if fd_cells < 3:
        distinct, counts = np.unique(values, return_counts=True)
        if distinct.size <= max_bins:
            return _distinct_edges(distinct), f"distinct values ({distinct.size} cells, one per value): Freedman-Diaconis gave {fd_cells}"
        mode = distinct[np.argmax(counts)]
        share = counts.max() / values.size
        below, above = distinct[distinct < mode], distinct[distinct > mode]
        others = values[values != mode]
        inner = _quantile_edges(others, max(max_bins - 1, 2))
        mid_lo = (below[-1] + mode) / 2 if below.size else mode - (above[0] - mode) / 2
        mid_hi = (above[0] + mode) / 2 if above.size else mode + (mode - below[-1]) / 2
        upper = inner[inner > mid_hi]
        if above.size and upper.size and upper[0] == above[0]:
            mid_hi = upper[0]  # the value's cell reaches the next value: no empty cell between
        edges = np.unique(np.concatenate([inner[inner < mid_lo], [mid_lo, mid_hi], upper]))
        return edges, (f"most common value in its own cell ({mode:g}: {share:.1%} of the values; Freedman-Diaconis gave "
                       f"{fd_cells}), quantile edges for the other {others.size} values")
    if _heavy_tailed(values):
        if lo > 0 and not _heavy_tailed(np.log(values)):
            edges = np.geomspace(lo, hi, max_bins + 1)
            edges[0], edges[-1] = lo, hi
            return edges, f"log-spaced (heavy tail: the 5%-95% quantiles span under {HEAVY_TAIL_SPAN:.0%} of the range)"
        return _quantile_edges(values, max_bins), f"quantile (heavy tail: the 5%-95% quantiles span under {HEAVY_TAIL_SPAN:.0%} of the range)"
    if fd_cells > max_bins:
        return np.linspace(lo, hi, max_bins + 1), f"equal-width ({max_bins} bins: Freedman-Diaconis asked for {fd_cells})"
    return np.histogram_bin_edges(values, bins="fd"), "Freedman-Diaconis"


def frozen_edges(values: np.ndarray, max_bins: int = 50) -> np.ndarray:
    """Bin edges for a numeric column (``profile_edges`` without the rule's name).

    Parameters
    ----------
    values : ndarray, shape (n,)
        Finite values, n >= 1.
    max_bins : int
        The cap.

    Returns
    -------
    ndarray, shape (k + 1,)
        Strictly increasing edges spanning [min, max] (a constant column gets [v - 0.5, v + 0.5]).
    """
    return profile_edges(values, max_bins)[0]


def profile(paths, max_bins: int = 50, max_categories: int = 1000) -> dict:
    """Profile the dataset made of ``paths`` (shards of one dataset).

    Returns
    -------
    dict
        ``{profile_version, tool, source: {files, sha256, rows}, columns: {name: {...}}, skipped}``,
        ready to be written as YAML.

    Raises
    ------
    DataReadError
        A file cannot be read.
    """
    files = expand_paths(paths)
    df = read_dataset(files)
    data = FrameSummaries(df)
    columns, skipped = {}, {}
    for name in df.columns:
        s = df[name]
        nulls = int(s.isna().sum())
        n = len(s) - nulls
        if n == 0:
            skipped[str(name)] = "no values"
            continue
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            values, _ = data.numeric_values(name)
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                skipped[str(name)] = "no finite values"
                continue
            lo, hi = float(finite.min()), float(finite.max())
            with np.errstate(over="ignore", invalid="ignore"):
                edges, binning = profile_edges(finite, max_bins) if np.isfinite(hi - lo) else (np.array([np.inf]), "")
            if not np.isfinite(edges).all():  # the range (or an outer edge) is past float64's largest value
                skipped[str(name)] = f"values from {lo:g} to {hi:g}: a range past float64's largest value, no finite bin edges"
                continue
            counts = cell_counts(finite, edges)[1:-1]
            columns[str(name)] = {
                "kind": "numeric", "n": int(finite.size), "nulls": nulls, "min": float(finite.min()), "max": float(finite.max()),
                "binning": binning, "edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
                "entropy_bits": shannon_entropy(counts) if counts.sum() else 0.0,
            }
            continue
        if s.dtype == object and s.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).any():
            skipped[str(name)] = "nested values (lists or mappings): a profile holds columns of single values"
            continue
        counts = data.category_counts(name, "drop")
        if len(counts) > n / 2 and n > 20:
            skipped[str(name)] = f"mostly unique values ({len(counts)} distinct in {n} rows): an id or free text"
            continue
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ordered) > max_categories:
            kept, rest = ordered[: max_categories - 1], ordered[max_categories - 1 :]
            ordered = kept + [(OTHER, sum(c for _, c in rest))]
        entry = {"kind": "categorical", "n": n, "nulls": nulls, "counts": {str(k): int(c) for k, c in ordered},
                 "entropy_bits": shannon_entropy([c for _, c in ordered])}
        if ordered and ordered[-1][0] == OTHER:
            entry["other"] = OTHER
        columns[str(name)] = entry
    return {
        "profile_version": PROFILE_VERSION,
        "tool": f"pretrain-validator {__version__}",
        "source": {"files": [str(p) for p in files], "sha256": _sha256(files), "rows": len(df)},
        "binning": f"numeric: at most {max_bins} bins, each column's 'binning' names its rule; at most {max_categories} categories",
        "columns": columns,
        "skipped": skipped,
    }


def suggest(profile_path: str, prof: dict, margin: float = 0.1, js_max: float = 0.05) -> dict:
    """A starter rule file from a profile: per column, entropy >= (1 - margin) x the profile's
    entropy, and JS divergence from the profile <= ``js_max`` bits."""
    rules = []
    for name, col in prof["columns"].items():
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
        reference = {"profile": profile_path, "column": name}
        entropy_rule = {"id": f"{safe}-entropy", "metric": "entropy", "column": name,
                        "min": round((1 - margin) * col["entropy_bits"], 4),
                        "description": f"profile: {col['entropy_bits']:.4f} bits; min is {margin:.0%} below"}
        divergence_rule = {"id": f"{safe}-drift", "metric": "js_divergence", "column": name, "reference": reference,
                           "max": js_max, "description": f"Jensen-Shannon divergence from the profile, in bits"}
        if col["kind"] == "numeric":
            entropy_rule["bins"] = {"edges": col["edges"]}
        rules += [entropy_rule, divergence_rule]
    return {"version": 1, "rules": rules}


def dump_yaml(doc: dict) -> str:
    """``doc`` as the YAML that validate-profile and validate-suggest write."""
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


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
