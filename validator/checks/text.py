"""Text rules: exact and MinHash near duplicates, n-gram entropy, type-token ratios.

Each reads one mergeable summary of the text column (64-bit keys, n-gram / word tables, or the
texts for MinHash). Imports: metrics, result, rules.model, summaries, progress.
"""

from __future__ import annotations

import numpy as np

from ..metrics import unit
from ..metrics.entropy import sampled_type_entropy, shannon_entropy
from ..metrics.minhash import minhash_near_duplicates
from ..metrics.text import clusters_from_labels, duplicate_fraction
from ..progress import Progress
from ..result import Result
from ..rules.model import DuplicateFractionRule, NearDuplicateFractionRule, NgramEntropyRule, TypeTokenRatioRule
from ..summaries.frame import FrameSummaries, MeasurementError
from ..summaries.keys import SummaryKey
from ..summaries.references import ReferenceStore
from ..summaries.text import MAX_NGRAMS, describe_texts
from .bounds import decidable

#: memory budget of an n-gram entropy: distinct n-grams counted exactly (16 bytes each, 64 MB)
NGRAM_BUDGET = MAX_NGRAMS


def counted(rule) -> tuple:
    """What an n-gram entropy or type-token rule counts over the texts (a text_counts key's ``what``)."""
    if isinstance(rule, NgramEntropyRule):
        return ("ngrams", rule.unit, rule.n, NGRAM_BUDGET)
    return ("words",) if rule.window is None else ("windows", rule.window)


def needs(rule, known) -> list[SummaryKey]:
    """The one summary a text rule reads: 64-bit text keys (exact duplicates), the texts
    (MinHash), or the n-gram / word counts."""
    spec = None if rule.normalize_values is None else rule.normalize_values.model_dump_json()
    if isinstance(rule, DuplicateFractionRule):
        return [SummaryKey("text_keys", rule.column, spec=spec)]
    if isinstance(rule, NearDuplicateFractionRule):
        return [SummaryKey("text_rows", rule.column, spec=spec)]
    return [SummaryKey("text_counts", rule.column, spec=spec, what=counted(rule))]


# -- text statistics ---------------------------------------------------------------------------


def _minhash(texts, **kw):
    try:
        return minhash_near_duplicates(texts, **kw)
    except ValueError as exc:  # LSH bands datasketch cannot build for these parameters
        raise MeasurementError(f"MinHash LSH cannot be built with threshold {kw['threshold']:g} and num_perm {kw['num_perm']}: {exc}") from None


def _has_text(rule, n_texts: int, excluded: dict) -> None:
    if not n_texts:
        raise MeasurementError(
            f"column {rule.column!r} holds no text (" + (", ".join(f"{k} {v}" for k, v in excluded.items() if v) or "no rows") + ")"
        )


def _ngram_entropy(rule, table, result: Result) -> None:
    """Entropy of an NgramCounts: exact within the rule's budget, else estimated from the hash
    sample of n-gram types with its error bound (no verdict when that error could flip it)."""
    if table.total == 0:
        raise MeasurementError(f"column {rule.column!r} has no {rule.unit} {rule.n}-gram: every text is shorter than {rule.n} {rule.unit}s")
    counts = np.sort(table.counts)  # sorted: the same order however the table was merged (sums equal to the last bit)
    distinct = counts.size * 2.0 ** table.level  # estimated past the budget
    ids = ("exact (code points packed 21 bits each)" if table.exact_ids
           else f"64-bit hashes: two of the {distinct:.0f} distinct n-grams share one with probability about {distinct ** 2 / 2.0 ** 65:.1g}")
    result.units = unit(rule.base)
    result.details.update(ngrams=table.total, memory_budget_ngrams=table.cap)
    if table.level == 0:
        result.observed = shannon_entropy(counts, base=rule.base, estimator=rule.estimator)
        result.details.update(distinct_ngrams=int(counts.size), method=f"exact counts of every distinct n-gram; n-gram ids {ids}")
        return
    rate = 2.0 ** -table.level
    estimate, se, low, high = sampled_type_entropy(counts, table.total, rate, base=rule.base, estimator=rule.estimator)
    result.details.update(
        distinct_ngrams_estimated=round(counts.size / rate), sampled_ngram_types=int(counts.size), sampling_rate=rate,
        standard_error=se, value_bounds=[low, high], approximation_error_bound=max(estimate - low, high - estimate),
        method=(f"estimated: more than {table.cap} distinct n-grams, so the exact counts of the n-gram types in a hash sample"
                f" at rate 2^-{table.level} (the total of n-grams is exact); value_bounds always hold (the sampled types'"
                f" exact share of the entropy, the unsampled n-grams between one type and all distinct); the value is the"
                f" Horvitz-Thompson estimate of sum c ln c clipped into them, standard_error its estimated sd (not a bound);"
                f" the verdict is taken on the bounds. n-gram ids {ids}"),
    )
    result.observed = estimate
    decidable(rule, low, high, hint="the n-grams past the memory budget are estimated")


def measure(rule, data: FrameSummaries, refs: ReferenceStore, result: Result) -> None:
    """Exact and MinHash duplicates, n-gram entropy and type-token ratios of a text column."""

    if isinstance(rule, DuplicateFractionRule):
        # 64-bit keys, not the texts: 16 bytes per row when streamed
        found = data.text_keys(rule.column, rule.normalize_values)
        result.details.update(found.describe())
        _has_text(rule, found.keys.size, found.excluded)
        result.n = int(found.keys.size)
        result.observed = duplicate_fraction(found.keys)
        result.units = "fraction of rows"
        result.details["duplicates"] = clusters_from_labels(found.keys, found.row_ids)
        result.details["method"] = "exact: 64-bit hash of the normalised text"
        return
    if isinstance(rule, (NgramEntropyRule, TypeTokenRatioRule)):
        # mergeable counts (n-gram table, word types, MATTR windows), not the texts: what a stream keeps
        what = counted(rule)
        table, n_texts, excluded, first = data.text_counts(rule.column, rule.normalize_values, what)
        result.details.update(describe_texts(n_texts, excluded, first))
        _has_text(rule, n_texts, excluded)
        result.n = n_texts
        if isinstance(rule, NgramEntropyRule):
            _ngram_entropy(rule, table, result)
        else:
            types, tokens = (table.types, table.n) if rule.window is not None else table
            if tokens == 0:
                raise MeasurementError(f"column {rule.column!r} has no words (\\w+ runs)")
            result.details.update(tokens=tokens, types=len(types))
            if rule.window is None:
                result.observed = len(types) / tokens  # type_token_ratio, from the counts
                result.details["length_bias"] = (
                    "TTR falls as the number of words grows; compare only sets of similar size, or set 'window' (MATTR)"
                )
            else:
                if tokens < rule.window:
                    raise MeasurementError(f"MATTR with window {rule.window} needs at least {rule.window} words; found {tokens}")
                result.observed = float(table.total / ((tokens - rule.window + 1) * rule.window))  # mattr, from its windows
                result.details["estimator"] = f"MATTR, window {rule.window} words over the column's words in row order"
            result.units = "types per token"
        return
    # near duplicates (MinHash): the texts themselves
    rows = data.text_rows(rule.column, rule.normalize_values)
    result.details.update(rows.describe())
    _has_text(rule, len(rows.texts), rows.excluded)
    row_ids = data.row_ids[rows.positions]
    result.n = len(rows.texts)
    if isinstance(rule, NearDuplicateFractionRule):
        with Progress(f"MinHash {rule.column!r} (signing, then querying: 2 steps per text)", unit="steps") as progress:
            found = _minhash(
                rows.texts, threshold=rule.threshold, unit=rule.shingles.unit, size=rule.shingles.size,
                num_perm=rule.num_perm, seed=rule.seed, progress=progress,
            )
        result.observed = found.fraction
        result.units = "fraction of rows"
        result.details["duplicates"] = clusters_from_labels(found.labels, row_ids)
        result.details["method"] = (
            f"MinHash LSH (datasketch), {rule.num_perm} permutations, {rule.shingles.unit} {rule.shingles.size}-gram shingles;"
            " candidate pairs kept when the exact Jaccard similarity of their shingle sets reaches the threshold."
            " Pairs the LSH index does not propose are missed: a lower bound of the all-pairs value"
        )
        result.details["texts_without_shingles"] = found.no_shingles

