"""Text rules: exact and MinHash near duplicates, n-gram entropy, type-token ratios.

Each reads one mergeable summary of the text column (64-bit keys, n-gram / word tables, or the
MinHash band keys and then the texts of the candidate rows). Imports: metrics, result,
rules.model, summaries, progress.
"""

from __future__ import annotations

import numpy as np

from ..metrics import unit
from ..metrics.entropy import sampled_type_entropy, shannon_entropy
from ..metrics.minhash import MAX_BUCKET, candidate_pairs, lsh_bands, lsh_threshold, near_duplicates, shingle_sets
from ..metrics.text import clusters_from_labels, duplicate_fraction
from ..progress import Progress
from ..result import Result
from ..rules.model import DuplicateFractionRule, NearDuplicateFractionRule, NgramEntropyRule, TypeTokenRatioRule
from ..summaries.frame import FrameSummaries, MeasurementError
from ..summaries.keys import UNKNOWN, RowIds, SummaryKey
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


def banding(rule) -> tuple:
    """What a near-duplicate rule's band keys are: (unit, size, num_perm, seed, bands, rows)."""
    bands, rows = lsh_bands(lsh_threshold(rule.threshold), rule.num_perm)
    return (rule.shingles.unit, rule.shingles.size, rule.num_perm, rule.seed, bands, rows)


def candidates(table) -> tuple[np.ndarray, np.ndarray]:
    """The union-find forest of equal texts and the candidate pairs of a BandKeys, computed once."""
    if "pairs" not in table.memo:
        table.memo["pairs"] = candidate_pairs(table.column, table.bands, table.text_keys())
    return table.memo["pairs"]


def needs(rule, known) -> list[SummaryKey]:
    """The summaries a text rule reads: 64-bit text keys (exact duplicates), the n-gram / word
    counts, or the MinHash band keys and, once they are known, the texts of the candidate rows
    (a second pass when streaming)."""
    spec = None if rule.normalize_values is None else rule.normalize_values.model_dump_json()
    if isinstance(rule, DuplicateFractionRule):
        return [SummaryKey("text_keys", rule.column, spec=spec)]
    if isinstance(rule, NearDuplicateFractionRule):
        bands = SummaryKey("minhash_bands", rule.column, spec=spec, what=banding(rule))
        table = known(bands)
        if table is UNKNOWN or isinstance(table, Exception):
            return [bands]
        _, pairs = candidates(table)
        if not pairs.size:
            return [bands]
        return [bands, SummaryKey("texts_at", rule.column, spec=spec, ids=RowIds(table.row_ids()[np.unique(pairs)]))]
    return [SummaryKey("text_counts", rule.column, spec=spec, what=counted(rule))]


# -- text statistics ---------------------------------------------------------------------------


def _near_duplicates(rule, data: FrameSummaries, result: Result) -> None:
    """Band keys of every row, candidate pairs by sorting each band, and the exact Jaccard
    similarity of each candidate pair from the texts of the candidate rows only."""
    what = banding(rule)
    table = data.minhash_bands(rule.column, rule.normalize_values, what)
    result.details.update(table.describe())
    _has_text(rule, table.n, table.excluded)
    parent, pairs = candidates(table)
    row_ids = table.row_ids()
    texts: dict = {}
    if pairs.size:
        found = data.texts_at(rule.column, rule.normalize_values, RowIds(row_ids[np.unique(pairs)]))
        texts = dict(zip(found.row_ids.tolist(), found.texts))
    unit, size = rule.shingles.unit, rule.shingles.size

    def sets(rows):
        return dict(zip(rows.tolist(), shingle_sets([texts[i] for i in row_ids[rows].tolist()], unit, size)))

    with Progress(f"MinHash {rule.column!r}: verifying {pairs.shape[0]} candidate pairs", unit="pairs"):
        found = near_duplicates(parent, pairs, rule.threshold, sets)
    result.n = table.n
    result.observed = found.fraction
    result.units = "fraction of rows"
    result.details["duplicates"] = clusters_from_labels(found.labels, row_ids)
    result.details["method"] = (
        f"MinHash LSH, {rule.num_perm} permutations (rensa), {rule.shingles.unit} {rule.shingles.size}-gram shingles,"
        f" {what[4]} bands of {what[5]} values tuned for Jaccard {lsh_threshold(rule.threshold):g}; equal texts joined"
        f" first; rows sharing a band key are candidate pairs (a bucket of more than {MAX_BUCKET} rows: each with its"
        " first row), each kept when the exact Jaccard similarity of the two shingle sets reaches the threshold."
        " Pairs no band proposes are missed: a lower bound of the all-pairs value"
    )
    result.details.update(
        texts_without_shingles=table.short, candidate_pairs=found.candidates, verified_pairs=found.verified,
        near_duplicate_pairs=found.pairs, exact_duplicate_rows=found.exact_duplicates,
        kept_per_row_bytes=8 * what[4] + 16,
    )


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
    _near_duplicates(rule, data, result)
