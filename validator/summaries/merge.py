"""One table per summary kind: how a batch's summary is computed, and how two are merged.

``compute(fs, key)`` asks :class:`~validator.summaries.frame.FrameSummaries` of one batch
(rows numbered globally) for the summary ``key``; ``merge(key, a, b)`` joins the summaries of
two batches (or shards) in row order. Merges are exact: counts and histograms add, ranges take
min/max, a seeded row sample keeps the ``rows`` rows of smallest hash(seed, global row index),
texts and numbers are concatenated. A summary that failed on a batch (a MeasurementError) is
kept as that error, and a merge with it is the error: its rule reports it.

Imports: summaries.frame, .keys, .text, .sample, .distinct, rules.model (for the normalisation
spec); nothing above the summaries.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..rules.model import NormalizeValues
from .distinct import merge_distinct
from .frame import CategoryCounts, FeatureSample, FrameSummaries, MeasurementError, category_key
from .keys import SummaryKey
from .sample import smallest_hash_rows
from .text import merge_exclusions


def _spec(spec_json):
    """A key's normalize_values (its JSON, or None) as the rule model's object."""
    return None if spec_json is None else NormalizeValues.model_validate_json(spec_json)


#: kind -> the summary of one FrameSummaries (what each rule reads of a frame in memory)
COMPUTE = {
    "value_counts": lambda fs, k: fs.value_counts(k.column, k.weight),
    "histogram": lambda fs, k: fs.histogram(k.column, k.edges, k.weight),
    "value_range": lambda fs, k: fs.value_range(k.column),
    "numeric_values": lambda fs, k: fs.numeric_values(k.column),
    "numeric_count": lambda fs, k: fs.numeric_count(k.column),
    "numeric_distinct": lambda fs, k: fs.numeric_distinct(k.column, k.cap),
    "cell_extremes": lambda fs, k: fs.cell_extremes(k.column, k.edges),
    "weights": lambda fs, k: fs.weights(k.column),
    "row_sample": lambda fs, k: fs.row_sample(list(k.columns), k.rows, k.seed),
    "minhash_bands": lambda fs, k: fs.minhash_bands(k.column, _spec(k.spec), k.what),
    "texts_at": lambda fs, k: fs.texts_at(k.column, _spec(k.spec), k.ids),
    "text_keys": lambda fs, k: fs.text_keys(k.column, _spec(k.spec)),
    "text_sample": lambda fs, k: fs.text_sample(k.column, k.rows, k.seed),
    "text_counts": lambda fs, k: fs.text_counts(k.column, _spec(k.spec), k.what),
    "dtype": lambda fs, k: fs.column(k.column).dtype,
    "excluded_texts": lambda fs, k: dict(fs.excluded_texts),
}


def compute(fs: FrameSummaries, key: SummaryKey):
    """The summary ``key`` of ``fs``, or the MeasurementError it raised (kept, re-raised on use)."""
    try:
        if key.view is not None:
            fs = fs.length_view(*key.view)
        return COMPUTE[key.kind](fs, key)
    except MeasurementError as exc:
        return exc


def merge_counts(a: CategoryCounts, b: CategoryCounts) -> CategoryCounts:
    """Value counts of two batches added key by key (True and 1 kept apart: they hash alike
    but are different values)."""
    merged: dict = {}
    for keys, counts in ((a.keys, a.counts), (b.keys, b.counts)):
        for k, c in zip(keys, counts.tolist()):
            tagged = (isinstance(k, (bool, np.bool_)), k)
            merged[tagged] = merged.get(tagged, 0) + c
    dtype = np.float64 if (a.counts.dtype.kind == "f" or b.counts.dtype.kind == "f") else np.int64
    return CategoryCounts([k for _, k in merged], np.asarray(list(merged.values()), dtype=dtype), a.nulls + b.nulls,
                          a.rows + b.rows, a.null_rows + b.null_rows)


def counts_as_text(c: CategoryCounts) -> CategoryCounts:
    """Value counts with every non-text key written as text (category_key), keys that become
    equal added together."""
    merged: dict = {}
    for k, n in zip(c.keys, c.counts.tolist()):
        key = k if isinstance(k, str) else category_key(k)
        merged[key] = merged.get(key, 0) + n
    return replace(c, keys=list(merged), counts=np.asarray(list(merged.values()), dtype=c.counts.dtype))


def _merge_sample(a: FeatureSample, b: FeatureSample, key: SummaryKey) -> FeatureSample:
    if a.X.shape[1] != b.X.shape[1] and a.X.shape[0] and b.X.shape[0]:
        raise MeasurementError(f"embeddings of different dimensions in different batches: {a.X.shape[1]} and {b.X.shape[1]}")
    X = np.vstack([a.X, b.X]) if a.X.shape[0] and b.X.shape[0] else (a.X if a.X.shape[0] else b.X)
    idx = np.concatenate([a.indices, b.indices])
    n_valid = a.n_valid + b.n_valid
    if idx.size > key.rows:
        keep = smallest_hash_rows(a.seed, idx, key.rows)
        X, idx = X[keep], idx[keep]
    return replace(a, X=X, indices=idx, n_valid=n_valid, n_dropped=a.n_dropped + b.n_dropped, exact=n_valid <= key.rows)


def _merge_text_keys(a, b, key):
    excluded, first = merge_exclusions(a.excluded, a.first_not_text, b.excluded, b.first_not_text)
    return replace(a, keys=np.concatenate([a.keys, b.keys]), row_ids=np.concatenate([a.row_ids, b.row_ids]),
                   excluded=excluded, first_not_text=first)


def _merge_text_counts(a, b, key):
    (ta, na, xa, fa), (tb, nb, xb, fb) = a, b
    if key.what[0] == "ngrams":  # sorted merge of the n-gram ids, counts added (NgramCounts)
        table = ta.merge(tb)
    elif key.what[0] == "windows":  # MATTR windows (batches come in row order)
        table = ta.merge(tb)
    else:  # (word types, words)
        table = (ta[0] | tb[0], ta[1] + tb[1])
    return (table, na + nb, *merge_exclusions(xa, fa, xb, fb))


def _merge_range(a, b, key):
    if a is None or b is None:
        return a if b is None else b
    return min(a[0], b[0]), max(a[1], b[1])


def _merge_excluded(a: dict, b: dict, key) -> dict:
    out = {k: a.get(k, 0) + b.get(k, 0) for k in ("null", "not_text")}
    first = [x for x in (a.get("first_not_text_row"), b.get("first_not_text_row")) if x is not None]
    if first:
        out["first_not_text_row"] = first[0]
    return out


#: kind -> merge(a, b, key) of the summaries of two consecutive parts of the data
MERGE = {
    "value_counts": lambda a, b, k: merge_counts(a, b),
    "histogram": lambda a, b, k: (a[0] + b[0], a[1] + b[1]),
    "value_range": _merge_range,
    "numeric_values": lambda a, b, k: (np.concatenate([a[0], b[0]]), a[1] + b[1]),
    "numeric_count": lambda a, b, k: (a[0] + b[0], a[1] + b[1]),
    "numeric_distinct": lambda a, b, k: merge_distinct(a, b, k.cap),
    "cell_extremes": lambda a, b, k: (np.minimum(a[0], b[0]), np.maximum(a[1], b[1])),
    "weights": lambda a, b, k: np.concatenate([a, b]),
    "row_sample": _merge_sample,
    "minhash_bands": lambda a, b, k: a.merge(b),
    "texts_at": lambda a, b, k: a.merge(b),
    "text_keys": _merge_text_keys,
    "text_sample": lambda a, b, k: a.merge(b),
    "text_counts": _merge_text_counts,
    "dtype": lambda a, b, k: a if a == b else np.dtype(object),
    "excluded_texts": _merge_excluded,
}


def merge(key: SummaryKey, a, b):
    """Two summaries of ``key`` merged (``a`` before ``b`` in row order); a summary that cannot
    be merged (embeddings of different dimensions, unhashable values) becomes the
    MeasurementError of its rule."""
    if isinstance(a, Exception):
        return a
    if isinstance(b, Exception):
        return b
    try:
        return MERGE[key.kind](a, b, key)
    except MeasurementError as exc:
        return exc
    except TypeError as exc:  # e.g. lists as category values: not countable across batches
        return MeasurementError(f"column values cannot be counted across batches ({exc}); measure it in memory (--engine memory)")
