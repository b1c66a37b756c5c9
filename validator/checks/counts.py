"""Count rules: entropy, Hill numbers, Gini-Simpson, distinct counts, dominance, imbalance.

One column's value counts (or histogram cells on frozen edges) -> the metric's kernel in
:data:`validator.metrics.REGISTRY`. Imports: metrics, result, rules.model, summaries, and
checks.bounds.
"""

from __future__ import annotations

import numpy as np

from ..metrics import REGISTRY, unit
from ..result import Result
from ..rules.model import NULL_CATEGORY, CountRule
from ..summaries.frame import FrameSummaries, MeasurementError, category_key
from ..summaries.histogram import cell_labels, equal_width_edges
from ..summaries.keys import UNKNOWN, SummaryKey
from ..summaries.normalize import merge_normalized
from .bounds import TOP, nonempty


# -- entropy -----------------------------------------------------------------------------------


def binned_counts(rule, data: FrameSummaries, column: str, edges, weight: str | None = None):
    """Histogram cells (with a null cell under ``nulls: category``), their labels, and the rows used."""
    cells, null_mass = data.histogram(column, edges, weight)
    rows, null_rows = data.numeric_count(column)
    counts = cells.astype(np.float64)
    labels = cell_labels(edges)
    if rule.nulls == "category" and null_rows:
        counts = np.append(counts, null_mass)
        labels = labels + ["<null>"]
        rows += null_rows
    return counts, labels, rows, null_rows


def mass(counts: np.ndarray, rows: int, rule, data: FrameSummaries, nulls: int, result: Result) -> float:
    """Checks that the rows left carry mass; reports n and, with weights, their total."""
    nonempty(rows, data, rule.column, nulls)
    total = float(counts.sum())
    if getattr(rule, "weight", None) is not None:
        result.details.update(weight=rule.weight, weight_total=total)
        if not total > 0:
            raise MeasurementError(f"the weights in {rule.weight!r} of the {rows} rows used sum to 0")
    result.n = rows
    return total


#: the rule parameters each count kernel takes (validator.metrics.REGISTRY holds the kernels)
KERNEL_PARAMETERS = {"entropy": ("base", "estimator", "normalize"), "hill_number": ("order",)}
#: the units of each count metric, from its rule
UNITS = {
    "entropy": lambda r: "normalized (H / log K)" if r.normalize else unit(r.base),
    "hill_number": lambda r: "effective categories",
    "gini_simpson": lambda r: "probability",
    "distinct_count": lambda r: "categories",
    "distinct_ratio": lambda r: "categories per row",
    "dominance": lambda r: "share of rows",
    "imbalance_ratio": lambda r: "ratio",
}


def count_kernel(rule: CountRule):
    """counts (shape (K,)) -> the rule's metric: the REGISTRY kernel with the rule's parameters."""
    kernel = REGISTRY[rule.metric].kernel
    params = {p: getattr(rule, p) for p in KERNEL_PARAMETERS.get(rule.metric, ())}
    return lambda counts: kernel(counts, **params)


def needs(rule: CountRule, known) -> list[SummaryKey]:
    """The summaries a count rule reads: its column's value counts, or its histogram on the
    rule's edges (edges from the data's range: that range first, then the histogram).

    ``known(key)`` gives a summary's value once computed, else UNKNOWN."""
    if rule.bins is None:
        return [SummaryKey("value_counts", rule.column, weight=rule.weight)]
    count = SummaryKey("numeric_count", rule.column)
    if rule.bins.edges is not None:
        return [SummaryKey("histogram", rule.column, edges=tuple(rule.bins.edges), weight=rule.weight), count]
    span = SummaryKey("value_range", rule.column)
    rng = known(span)
    if rng is UNKNOWN:
        return [span]
    if rng is None or isinstance(rng, Exception):
        return [span, count]  # no finite values: the rule says so from the counts
    edges = equal_width_edges(rng[0], rng[1], rule.bins.count)
    return [span, SummaryKey("histogram", rule.column, edges=tuple(edges), weight=rule.weight), count]


def measure(rule: CountRule, data: FrameSummaries, result: Result) -> None:
    """Entropy and the other count metrics of one column (value counts, or histogram cells)."""
    if rule.bins is not None:
        if rule.bins.edges is not None:
            edges = np.asarray(rule.bins.edges)
        else:
            rng = data.value_range(rule.column)
            if rng is None:
                _, nulls = data.numeric_count(rule.column)
                nonempty(0, data, rule.column, nulls)
                raise MeasurementError(f"column {rule.column!r} has no finite values to bin")
            edges = equal_width_edges(rng[0], rng[1], rule.bins.count)
        counts, labels, rows, nulls = binned_counts(rule, data, rule.column, edges, rule.weight)
        result.details["edges"] = [float(e) for e in edges]
    else:
        cc = data.value_counts(rule.column, rule.weight)
        keys, counts = cc.with_nulls(rule.nulls)
        if rule.normalize_values is not None:
            keys, counts = merge_normalized(keys, counts, rule.normalize_values, keep=(NULL_CATEGORY,))
        rows, nulls = cc.rows_used(rule.nulls), cc.null_rows
        labels = keys
    total = mass(counts, rows, rule, data, nulls, result)
    kernel = count_kernel(rule)
    result.observed = kernel(counts)
    probabilities = counts / total
    result.resample = lambda rng: kernel(rng.multinomial(rows, probabilities))
    result.units = UNITS[rule.metric](rule)
    nz = counts > 0
    result.details.update(categories=int(nz.sum()), nulls=int(nulls), null_policy=rule.nulls)
    # labelled as categories are matched (true, 3 for a JSON true and an integer 3.0 with nulls);
    # ties in label order, so that every engine (whatever order it met the values in) lists the same
    shown = [label if isinstance(label, str) else category_key(label) for label in labels]
    order = np.lexsort((np.asarray(shown, dtype=object).astype(str), -counts))[:TOP] if len(shown) else []
    result.details["top_categories"] = {shown[i]: float(counts[i] / total) for i in order if counts[i] > 0}

