"""Reference rules: a column's distribution against a reference.

Categorical and binned divergences (KL D(P||Q), Jensen-Shannon, PSI, total variation,
Hellinger, L-infinity, chi-square, coverage) over the union of cells, and the numeric
distances (Wasserstein, Kolmogorov-Smirnov) from distinct-value counts or quantile cells.
Imports: metrics, result, rules, summaries (references among them), and checks.bounds/counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..metrics import REGISTRY, log_base, unit
from ..metrics import distribution as dist
from ..metrics.divergence import (
    chi_square_gof,
    epsilon_smooth,
    kl_contributions,
    kl_divergence,
    laplace_smooth,
    shares,
)
from ..metrics.diversity import coverage
from ..metrics.distribution import ks_p_value
from ..result import Result
from ..rules.ruleset import RuleSet
from ..rules.model import NULL_CATEGORY, NumericReferenceRule, Reference, ReferenceRule
from ..summaries.frame import BOOL_TEXT, FrameSummaries, MeasurementError, category_key
from ..summaries.histogram import equal_width_edges
from ..summaries.keys import UNKNOWN, SummaryKey
from ..summaries.normalize import normalize_counts, normalize_text
from ..summaries.references import ReferenceMissing, ReferenceStore, describe_reference, effective_reference, reference_name
from .bounds import TOP, decidable
from .counts import binned_counts, mass, nonempty

#: 2N D_KL and 8N JS (nats) of N rows drawn from a fixed reference of K cells are asymptotically
#: chi-square(K - 1) when the truth is 0, noncentral with lambda = c N D near it
CHI2_SCALE = {"kl_divergence": 2.0, "js_divergence": 8.0}


def _reference_side(rule, ruleset: RuleSet, refs: ReferenceStore):
    """The rule's effective reference and its summaries (file and git references; None for
    inline and profile ones), on the rule's text-length view."""
    ref = effective_reference(rule, ruleset.reference_for(rule), refs)
    ref_data = refs.for_reference(ref) if ref.kind in ("file", "git") else None
    if ref_data is not None and rule.text_length is not None:
        ref_data = ref_data.length_view(ref.column, rule.text_length)
    return ref, ref_data


def needs(rule: ReferenceRule, ruleset: RuleSet, refs: ReferenceStore, known) -> list[SummaryKey]:
    """The data summaries a divergence rule reads: the histogram on the reference's frozen edges
    (and the column's numeric count), or the value counts and the column's dtype (which decides
    how typed values match the reference's keys). The reference side is in memory.

    ``known`` is unused (no summary of the data depends on another here); a reference that
    cannot be read declares nothing: the rule's error says why."""
    try:
        ref, ref_data = _reference_side(rule, ruleset, refs)
        edges = _kl_edges(rule, ref, ref_data)
    except (MeasurementError, ReferenceMissing):
        return []
    if edges is not None:
        return [SummaryKey("histogram", rule.column, edges=edges, weight=rule.weight), SummaryKey("numeric_count", rule.column)]
    return [SummaryKey("value_counts", rule.column, weight=rule.weight), SummaryKey("dtype", rule.column)]


def needs_numeric(rule: NumericReferenceRule, ruleset: RuleSet, refs: ReferenceStore, known) -> list[SummaryKey]:
    """The data summaries of a Wasserstein / KS rule: the numeric count and the distinct values
    up to their cap; past the cap (on either side) the range and a seeded sample, and then the
    counts and extremes in the cells at the pooled samples' quantiles (up to 3 passes).

    ``known(key)`` gives a summary's value once computed, else UNKNOWN."""
    cap = dist.EXACT_DISTINCT_CAP
    col = rule.column
    keys = [SummaryKey("numeric_count", col), SummaryKey("numeric_distinct", col, cap=cap)]
    try:
        ref, ref_data = _reference_side(rule, ruleset, refs)
        if ref_data is None:
            return keys
        mine = known(keys[1])
        if mine is UNKNOWN or isinstance(mine, Exception):
            return keys
        if mine is not None and ref_data.numeric_distinct(ref.column, cap) is not None:
            return keys
        size = dist.QUANTILE_SAMPLE_ROWS
        span, sample = SummaryKey("value_range", col), SummaryKey("row_sample", columns=(col,), rows=size, seed=0)
        keys += [span, sample]
        ranges = [known(span), ref_data.value_range(ref.column)]
        data_sample = known(sample)
        if UNKNOWN in (ranges[0], data_sample) or None in ranges or any(isinstance(v, Exception) for v in (ranges[0], data_sample)):
            return keys
        edges, _ = _cells(rule, ranges, [data_sample, ref_data.row_sample([ref.column], size, 0)])
    except (MeasurementError, ReferenceMissing):
        return keys
    return keys + [SummaryKey("histogram", col, edges=edges), SummaryKey("cell_extremes", col, edges=edges)]


def _cells(rule: NumericReferenceRule, ranges, samples) -> tuple[np.ndarray, int]:
    """The quantile cells of the pooled seeded samples (FeatureSample of one column each),
    spanning both sides' ranges."""
    pooled = np.concatenate([s.X[:, 0] for s in samples])
    return _quantile_edges(pooled, min(r[0] for r in ranges), max(r[1] for r in ranges), rule.grid)


# -- KL divergence -----------------------------------------------------------------------------


def measure(rule: ReferenceRule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """A categorical or binned divergence of a column from its reference (KL, JS, PSI, TVD, ...)."""
    result.params["reference"] = describe_reference(rule)
    ref, ref_data = _reference_side(rule, ruleset, refs)  # as needs() reads it
    edges = _kl_edges(rule, ref, ref_data)
    if edges is not None:
        labels, p, q, q_is_prob, rows, nulls = _binned_cells(rule, ref, data, ref_data, edges)
        result.details["edges"] = [float(e) for e in edges]
    else:
        labels, p, q, q_is_prob, rows, nulls = _category_cells(rule, ref, data, ref_data, result)

    mass(p, rows, rule, data, nulls, result)
    if not q.sum() > 0:
        raise MeasurementError(f"the reference has no mass (column {ref.column!r} of {reference_name(ref)} is empty)")
    keep = (p > 0) | (q > 0)  # cells where neither side has mass are not part of the union
    p, q = p[keep], q[keep]
    labels = [l for l, k in zip(labels, keep) if k]

    def smoothed(p):
        if rule.smoothing is not None and rule.smoothing.laplace is not None:
            return laplace_smooth(p, q, rule.smoothing.laplace)
        q_use = q if q_is_prob else shares(q)  # counts become shares, explicitly
        if rule.smoothing is not None and rule.smoothing.epsilon is not None:
            q_use = epsilon_smooth(q_use, rule.smoothing.epsilon)
        return p, q_use

    smoothing = "none"
    if rule.smoothing is not None and rule.smoothing.laplace is not None:
        smoothing = f"laplace {rule.smoothing.laplace:g} added to each of {p.size} cells of the union"
    elif rule.smoothing is not None and rule.smoothing.epsilon is not None:
        smoothing = f"epsilon {rule.smoothing.epsilon:g} uniform mixing over {p.size} cells of the union"
    p_use, q_use = smoothed(p)
    value = _measure_divergence(rule, p_use, q_use, result.details)
    shares_data = p / p.sum()
    resample = lambda rng: _measure_divergence(rule, *smoothed(rng.multinomial(rows, shares_data).astype(np.float64)), {})
    laplace = rule.smoothing is not None and rule.smoothing.laplace is not None
    if rule.metric in CHI2_SCALE and not laplace and p.size >= 2:
        # c N D (nats) is asymptotically noncentral chi-square(K - 1) with the reference fixed
        resample.chi2 = (CHI2_SCALE[rule.metric] * rows * log_base(rule.base), p.size - 1)
    result.resample = resample
    result.observed = value
    if rule.metric == "coverage":
        result.units = f"share of reference {rule.of}"
    elif rule.metric == "chi_square":
        result.units = "p-value" if rule.value == "p_value" else "chi-square statistic"
    else:
        result.units = unit(rule.base) if hasattr(rule, "base") else "unitless, 0 to 1"
    result.details["smoothing"] = smoothing
    result.details["cells"] = len(labels)
    shares_p = shares(p_use)
    if math.isinf(value) or (rule.metric == "chi_square" and math.isinf(result.details["statistic"])):
        only_data = (shares_p > 0) & (q_use == 0)
        only_reference = (q_use > 0) & (shares_p == 0)
        if getattr(rule, "direction", "") == "reference_to_data":
            only_data[:] = False
        elif rule.metric in ("kl_divergence", "chi_square"):
            only_reference[:] = False
        missing = [labels[i] for i in np.flatnonzero(only_data)]
        absent = [labels[i] for i in np.flatnonzero(only_reference)]
        reasons = []
        if missing:
            result.details["missing_in_reference"] = [str(m) for m in missing]
            reasons.append(f"the data has {_few(missing)} the reference gives probability 0")
        if absent:
            result.details["missing_in_data"] = [str(m) for m in absent]
            reasons.append(f"the reference has {_few(absent)} the data lacks")
        binned = "edges" in result.details
        fixes = ["widen the reference's edges" if binned else "add them to the reference"]
        if not binned and missing:
            fixes.append("name a catch-all 'other' category")
        if rule.metric != "chi_square":
            fixes.append("smooth explicitly")
        result.reason = (
            ("infinite chi-square statistic: " if rule.metric == "chi_square" else "infinite divergence: ")
            + "; ".join(reasons) + "; " + ", ".join(fixes[:-1]) + (" or " if len(fixes) > 1 else "") + fixes[-1]
        )
    else:
        diff = shares_p - q_use
        order = np.argsort(-np.abs(diff), kind="stable")[:TOP]
        top = [
            {"category": str(labels[i]), "data_share": float(shares_p[i]), "reference_share": float(q_use[i])}
            for i in order
        ]
        if rule.metric == "kl_divergence" and rule.direction == "data_to_reference":
            terms = kl_contributions(p_use, q_use, base=rule.base)
            for cell, i in zip(top, order):
                cell["contribution"] = float(terms[i])
        result.details["largest_differences"] = top
    # both distributions, for plots: the 40 cells with the most mass on either side
    shown = np.argsort(-np.maximum(shares_p, q_use), kind="stable")[:40]
    result.details["distribution"] = [
        {"category": str(labels[i]), "data_share": float(shares_p[i]), "reference_share": float(q_use[i])} for i in shown
    ]


def _few(labels: list) -> str:
    shown = ", ".join(repr(str(m)) for m in labels[:TOP]) + (" ..." if len(labels) > TOP else "")
    return f"{len(labels)} categor{'y' if len(labels) == 1 else 'ies'} ({shown})"


def _measure_divergence(rule: ReferenceRule, p: np.ndarray, q: np.ndarray, details: dict) -> float:
    if rule.metric == "coverage":
        return coverage(p, q, of=rule.of)
    if rule.metric == "chi_square":
        statistic, p_value, dof = chi_square_gof(p, q)  # p: counts, never smoothed
        details.update(statistic=statistic, p_value=p_value, degrees_of_freedom=dof)
        return p_value if rule.value == "p_value" else statistic
    kernel = REGISTRY[rule.metric].kernel
    if rule.metric == "kl_divergence" and rule.direction == "reference_to_data":
        return kl_divergence(q, shares(p), base=rule.base)  # D(Q || P)
    if hasattr(rule, "base"):
        return kernel(p, q, base=rule.base)
    return kernel(p, q)


def _kl_edges(rule: ReferenceRule, ref: Reference, ref_data: FrameSummaries | None):
    """Frozen bin edges of a numeric divergence rule, or None for a categorical one."""
    if ref.kind == "bins":
        return np.asarray(ref.bins.edges)
    if ref_data is None or rule.bins is None:
        return None
    if rule.bins.edges is not None:
        return np.asarray(rule.bins.edges)
    rng = ref_data.value_range(ref.column)  # count bins are frozen on the reference's range
    if rng is None:
        raise MeasurementError(f"reference column {ref.column!r} of {reference_name(ref)} has no finite values to bin")
    return equal_width_edges(rng[0], rng[1], rule.bins.count)


def _binned_cells(rule, ref: Reference, data: FrameSummaries, ref_data, edges):
    """Cells (tails, bins, optional null cell) with the data's counts and the reference's mass."""
    p, labels, rows, nulls = binned_counts(rule, data, rule.column, edges, rule.weight)
    if ref_data is None:
        values = ref.bins.probabilities if ref.bins.probabilities is not None else ref.bins.counts
        q = np.concatenate([[0.0], np.asarray(values, dtype=np.float64), [0.0]])
        q_is_prob = ref.bins.probabilities is not None
    else:
        q = binned_counts(rule, ref_data, ref.column, edges)[0]
        q_is_prob = False
    if q.size < p.size:  # the data has a null cell the reference lacks
        q = np.append(q, 0.0)
    elif p.size < q.size:
        p = np.append(p, 0.0)
        labels = labels + ["<null>"]
    return labels, p, q, q_is_prob, rows, nulls


def _category_cells(rule, ref: Reference, data: FrameSummaries, ref_data, result: Result):
    """The union of data and reference categories, with the data's counts and the reference's mass."""
    p_dict = data.category_counts(rule.column, rule.nulls, rule.weight)
    cc = data.value_counts(rule.column, rule.weight)
    rows, nulls = cc.rows_used(rule.nulls), cc.null_rows
    typed = {_value_kind(data, rule.column)}
    other = ref.other
    if ref_data is not None:
        q_dict = ref_data.category_counts(ref.column, rule.nulls)
        typed.add(_value_kind(ref_data, ref.column))
        q_is_prob = False
    else:
        q_dict = dict(ref.categories if ref.kind == "categories" else ref.counts)
        q_is_prob = ref.kind == "categories"
    if rule.normalize_values is not None:  # the same normalisation on both sides
        spec = rule.normalize_values
        p_dict = normalize_counts(p_dict, spec, keep=(NULL_CATEGORY,))
        q_dict = normalize_counts(q_dict, spec, keep=(NULL_CATEGORY,))
        other = None if other is None else normalize_text(other, spec)
    if typed & {"number", "bool"}:
        # typed values (Parquet 1.0, JSON true) match keys that mean the same value: YAML's
        # '1.0' and '1', 'True' and 'true'; text read as written is compared as text
        p_dict, q_dict = _canonical_keys(p_dict, typed), _canonical_keys(q_dict, typed)
        other = None if other is None else _canonical_key(other, typed)
    if other is not None:
        unseen = {k: c for k, c in p_dict.items() if k not in q_dict}
        if unseen:
            p_dict = {k: c for k, c in p_dict.items() if k in q_dict}
            p_dict[other] = p_dict.get(other, 0) + sum(unseen.values())
            top = sorted(unseen.items(), key=lambda kv: -kv[1])
            result.details["counted_as_other"] = {str(k): int(c) for k, c in top[:20]}
            result.details["categories_counted_as_other"] = len(unseen)
    labels = list(q_dict) + [k for k in p_dict if k not in q_dict]
    p = np.array([p_dict.get(k, 0) for k in labels], dtype=np.float64)
    q = np.array([q_dict.get(k, 0.0) for k in labels], dtype=np.float64)
    return labels, p, q, q_is_prob, rows, nulls


def _value_kind(data: FrameSummaries, column: str) -> str:
    values = data.column(column)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if dtype == object and len(values):
        # booleans with nulls (Parquet, JSON Lines) come as an object column: still booleans
        present = values.dropna()
        if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present.head(1000)) and \
                present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
            return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


_TRUTH = {text: "true" if value else "false" for text, value in BOOL_TEXT.items()}


def _canonical_key(key: str, kinds: set[str]) -> str:
    if "bool" in kinds and key in _TRUTH:
        return _TRUTH[key]
    if "number" in kinds:
        try:
            return str(int(key))  # an integer key stays exact: float would make 2**53 + 1 into 2**53
        except ValueError:
            pass
        try:
            value = float(key)
        except ValueError:
            return key
        if math.isfinite(value):
            return category_key(value)
    return key


def _canonical_keys(counts: dict, kinds: set[str]) -> dict:
    out: dict = {}
    for k, c in counts.items():
        key = k if k == NULL_CATEGORY else _canonical_key(k, kinds)
        out[key] = out.get(key, 0) + c
    return out



def measure_numeric(rule: NumericReferenceRule, ruleset: RuleSet, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """Wasserstein distance or the KS test of a numeric column against its reference: exact
    from distinct-value counts, else bounded from counts in quantile cells."""
    ref = effective_reference(rule, ruleset.reference_for(rule), refs)
    ref_data = refs.for_reference(ref)
    if rule.text_length is not None:
        ref_data = ref_data.length_view(ref.column, rule.text_length)
    result.params["reference"] = describe_reference(rule)
    # counts, not the values: exact from the counts of the distinct values (mergeable, up to a
    # cap), else bounded from counts in quantile cells (streamed, the column is never held)
    n_values, nulls = data.numeric_count(rule.column, rule.metric)
    nonempty(n_values, data, rule.column, nulls)
    n_ref, _ = ref_data.numeric_count(ref.column, rule.metric)
    if n_ref == 0:
        raise MeasurementError(f"reference column {ref.column!r} of {reference_name(ref)} has no values")
    cap = dist.EXACT_DISTINCT_CAP
    mine, theirs = data.numeric_distinct(rule.column, cap), ref_data.numeric_distinct(ref.column, cap)
    ks = rule.metric == "ks_test"
    if mine is not None and theirs is not None:
        if not (mine[0].size and theirs[0].size):
            raise MeasurementError("no finite values to compare")
        (xv, xc), (yv, yc) = mine, theirs
        n, m = int(xc.sum()), int(yc.sum())
        kernel = dist.ks_from_counts if ks else dist.wasserstein_from_counts
        low = high = kernel(xv, xc, yv, yc)
        result.details.update(method=f"exact, from the counts of the distinct values ({xv.size} in the data, {yv.size} in the reference;"
                              f" exact up to {cap:,} per side)")
        shares = xc / n
        estimate = lambda c: kernel(xv, c, yv, yc) if c.sum() else float("nan")  # noqa: E731
    else:
        size = dist.QUANTILE_SAMPLE_ROWS
        ranges = [data.value_range(rule.column), ref_data.value_range(ref.column)]
        if None in ranges:
            raise MeasurementError("no finite values to compare")
        samples = [data.row_sample([rule.column], size, 0), ref_data.row_sample([ref.column], size, 0)]
        edges, frequent = _cells(rule, ranges, samples)
        # per cell: the counts, and the smallest and largest value (a far-off value alone in its
        # cell is then known exactly); the cells span both sides: no tail mass (inf aside)
        (p, _), (q, _) = data.histogram(rule.column, edges), ref_data.histogram(ref.column, edges)
        (p_min, p_max), (q_min, q_max) = data.cell_extremes(rule.column, edges), ref_data.cell_extremes(ref.column, edges)
        p, q = p[1:-1], q[1:-1]
        extremes = (p_min[1:-1], p_max[1:-1], q_min[1:-1], q_max[1:-1])
        n, m = int(p.sum()), int(q.sum())
        if ks:
            kernel = lambda c: dist.ks_bounds_from_cells(c, q, edges=edges, extremes=extremes)  # noqa: E731
        else:
            kernel = lambda c: dist.wasserstein_bounds_from_cells(c, q, edges, extremes=extremes)  # noqa: E731
        low, high = kernel(p)
        more = "the data" if mine is None else "the reference"
        result.details.update(
            method=f"quantile cells: {more} has more than {cap:,} distinct values, so both are counted in {edges.size - 1} cells"
            f" whose edges are quantiles of seeded samples (seed 0, up to {size:,} rows each), with a"
            f" single-value cell for each of the {frequent} values holding at least 1/{rule.grid} of the samples;"
            " each cell's count and smallest and largest value bound the statistic",
            cells=int(edges.size - 1), cell_range=[float(edges[0]), float(edges[-1])],
        )
        shares = p / n
        estimate = lambda c: sum(kernel(c)) / 2 if c.sum() else float("nan")  # noqa: E731
    result.n = n
    result.details["reference_rows"] = m
    if result.n < n_values:
        result.details["infinite_values_left_out"] = int(n_values - result.n)
    if ks:
        result.details.update(statistic=(low + high) / 2, statistic_bounds=[low, high], p_value_method="two-sample, effective size n m / (n + m)")
        if rule.value == "p_value":  # decreasing in D
            low, high = ks_p_value(high, n, m), ks_p_value(low, n, m)
            measure = lambda c: ks_p_value(estimate(c), int(c.sum()), m)  # noqa: E731
        else:
            measure = estimate
        result.details["p_value"] = ks_p_value((result.details["statistic_bounds"][0] + result.details["statistic_bounds"][1]) / 2, n, m)
        result.units = "KS statistic (0 to 1)" if rule.value == "statistic" else "p-value"
    else:
        measure = estimate
        result.units = f"units of {rule.column}"
    result.details["approximation_error_bound"] = (high - low) / 2
    if high > low:
        result.details["value_bounds"] = [low, high]
    decidable(rule, low, high)
    result.resample = lambda rng: measure(rng.multinomial(n, shares))
    result.observed = (low + high) / 2


def _quantile_edges(pooled: np.ndarray, lo: float, hi: float, k: int) -> tuple[np.ndarray, int]:
    """Cell edges from the quantiles of a pooled sample, spanning [lo, hi]: a single-value cell
    [v, next float after v) for each value holding at least 1/k of the sample, and the other
    cells at equal shares of the rest of the sample (a frequent value never shares a cell, and
    one far-off value cannot squeeze the others into one cell). Returns the edges and the count
    of such frequent values."""
    values, counts = np.unique(pooled, return_counts=True)
    often = counts * k >= pooled.size
    frequent = values[often]
    # the other cells spread over the other values (a value that fills 40 % of the sample would
    # otherwise take 40 % of the quantiles, all equal to it)
    rest = np.repeat(values[~often], counts[~often])
    cells = max(k - frequent.size, 1)
    inner = np.quantile(rest, np.linspace(0.0, 1.0, cells + 1)[1:-1], method="inverted_cdf") if rest.size else np.empty(0)
    edges = np.unique(np.concatenate([[lo, hi], inner, frequent, np.nextafter(frequent, np.inf)]) + 0.0)
    if edges.size < 2:  # one value on both sides
        edges = np.array([lo, np.nextafter(lo, np.inf)])
    return edges, int(frequent.size)


