"""Summaries computed on Arrow record batches (validator/summaries/arrow_batch.py) equal the
pandas summaries of the same batch, and the blocked, bounded row sampler equals the definition.

References: hand-counted values for a small table; FrameSummaries on ``batch.to_pandas()``
(the in-memory engine's own code); ``smallest_hash_rows`` over the valid rows (the sample's
definition, docs/DESIGN.md "Row samples").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from validator import load_rules, validate
from validator.summaries import arrow_batch
from validator.summaries.frame import CategoryCounts, FeatureSample, FrameSummaries
from validator.summaries.sample import finite_rows_sample, hash_indices, smallest_hash_rows
from validator.summaries.keys import SummaryKey
from validator.summaries.merge import compute


def table() -> pa.RecordBatch:
    lang = pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 0, 2, 0], type=pa.int32()), pa.array(["en", "de", "fr", "unused"]))
    return pa.RecordBatch.from_pydict({
        "lang": lang,
        "text": pa.array(["b", "a", None, "b", "", None]),
        "big": pa.array(["x", "y", "x", None, "x", "y"], type=pa.large_string()),
        "i": pa.array([3, None, 1, 3, 7, 2], type=pa.int64()),
        "j": pa.array([5, 1, 1, 2, 9, 4], type=pa.int32()),
        "f": pa.array([0.5, float("nan"), None, float("inf"), -2.0, 1.0], type=pa.float32()),
        "g": pa.array([0.1, 0.2, 0.3, 0.9, 1.0, 0.0]),
        "flag": pa.array([True, False, None, True, True, False]),
    })


def test_hand_counted_values():
    b = table()
    lang = arrow_batch.summary(b, SummaryKey("value_counts", "lang", weight=None), 0)
    # dictionary order, the unused entry left out (case H20), the null row apart
    assert (lang.keys, lang.counts.tolist(), lang.nulls, lang.rows, lang.null_rows) == (["en", "de", "fr"], [3, 1, 1], 1, 5, 1)
    text = arrow_batch.summary(b, SummaryKey("value_counts", "text", weight=None), 0)
    assert (text.keys, text.counts.tolist(), text.null_rows) == (["b", "a", ""], [2, 1, 1], 2)
    assert arrow_batch.summary(b, SummaryKey("numeric_count", "f"), 0) == (4, 2)  # NaN and null are missing
    assert arrow_batch.summary(b, SummaryKey("value_range", "f"), 0) == (-2.0, 1.0)  # inf goes to a tail, not the range
    counts, nulls = arrow_batch.summary(b, SummaryKey("histogram", "f", edges=(-1.0, 0.0, 1.0), weight=None), 0)
    assert counts.tolist() == [1, 0, 2, 1] and nulls == 2  # below: -2; [0, 1]: 0.5, 1.0; above: inf


def same(a, b):
    if isinstance(a, CategoryCounts):
        assert isinstance(b, CategoryCounts)
        assert a.keys == b.keys and a.counts.tolist() == b.counts.tolist()
        assert (a.nulls, a.rows, a.null_rows) == (b.nulls, b.rows, b.null_rows)
    elif isinstance(a, FeatureSample):
        assert np.array_equal(a.X, b.X) and np.array_equal(a.indices, b.indices)
        assert (a.n_valid, a.n_dropped, a.exact, a.seed) == (b.n_valid, b.n_dropped, b.exact, b.seed)
    elif isinstance(a, tuple) and isinstance(a[0], np.ndarray):
        assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    else:
        assert a == b


KEYS = [SummaryKey("value_counts", c, weight=None) for c in ("lang", "text", "big")] + [
    SummaryKey(kind, c) for kind in ("numeric_count", "numeric_values", "value_range") for c in ("i", "j", "f", "g")
] + [SummaryKey("histogram", c, edges=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25), weight=None) for c in ("i", "j", "f", "g")] + [
    SummaryKey("row_sample", columns=cols, rows=rows, seed=seed) for cols in (("i", "f"), ("g", "j"), ("f",)) for rows in (2, 10) for seed in (0, 42)
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
@pytest.mark.parametrize("offset", [0, 1000])
def test_arrow_summaries_equal_the_pandas_ones(key, offset):
    b = table()
    fs = FrameSummaries(b.to_pandas(), row_ids=np.arange(offset, offset + b.num_rows))
    got = arrow_batch.summary(b, key, offset)
    assert got is not NotImplemented
    same(got, compute(fs, key))


@pytest.mark.parametrize("key", [
    SummaryKey("value_counts", "i", weight=None),  # numbers: pandas keys (np.int64 / float with NaN) stay pandas'
    SummaryKey("value_counts", "lang", weight="j"),  # weighted
    SummaryKey("value_counts", "flag", weight=None),
    SummaryKey("numeric_count", "flag"),  # booleans are 0/1 to pandas
    SummaryKey("numeric_count", "text"),  # text that may hold numbers is parsed by the pandas path
    SummaryKey("histogram", "g", edges=(0.0, 1.0), weight="j"),
    SummaryKey("row_sample", columns=("g", "flag"), rows=2, seed=0),
    SummaryKey("value_counts", "missing", weight=None),
], ids=repr)
def test_other_types_fall_back_to_pandas(key):
    assert arrow_batch.summary(table(), key, 0) is NotImplemented


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 16])
@pytest.mark.parametrize("rows", [1, 5, 40, 500])
def test_finite_rows_sample_is_the_smallest_hashes_of_valid_rows(block, rows):
    rng = np.random.default_rng(rows)
    n = 300
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    y = rng.normal(size=n).astype(np.float32)
    y[rng.random(n) < 0.05] = np.inf
    z = rng.integers(0, 5, size=n)  # integers are always finite
    ids = np.sort(rng.choice(10_000, size=n, replace=False))
    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    expected = valid[smallest_hash_rows(7, ids[valid], rows)]
    pos, n_valid = finite_rows_sample([x, y, z], ids, rows, 7, block=block)
    assert n_valid == valid.size
    assert pos.tolist() == sorted(expected.tolist())
    # a bound from rows merged elsewhere only removes rows that could not be kept
    bound = np.sort(hash_indices(7, ids[valid]))[min(rows, valid.size) - 1]
    pos_b, _ = finite_rows_sample([x, y, z], ids, rows, 7, below=bound + np.uint64(1), block=block)
    assert pos_b.tolist() == pos.tolist()


def test_parquet_stream_with_nulls_equals_memory(tmp_path, monkeypatch):
    # the Arrow path end to end: nulls, NaN, inf, dictionary text, many batches, a sample
    # bounded by the batches merged before it
    rng = np.random.default_rng(5)
    n = 5_000
    x = rng.normal(size=n)
    x[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({
        "lang": pd.Categorical(rng.choice(["en", "de", "fr", None], size=n, p=[0.6, 0.2, 0.15, 0.05])),
        "src": rng.choice(["web", "books", ""], size=n),
        "q": pd.array(np.where(rng.random(n) < 0.02, None, rng.integers(0, 100, size=n)), dtype="Int64"),
        "x": x,
        "y": rng.normal(size=n).astype(np.float32),
    })
    df.loc[7, "y"] = np.inf
    path = tmp_path / "d.parquet"
    df.to_parquet(path, row_group_size=700)
    ruleset = load_rules({"version": 1, "rules": [
        {"id": "lang", "metric": "entropy", "column": "lang", "min": 0},
        {"id": "lang-null", "metric": "entropy", "column": "lang", "nulls": "category", "min": 0},
        {"id": "src", "metric": "entropy", "column": "src", "min": 0},
        {"id": "q", "metric": "entropy", "column": "q", "bins": {"count": 12}, "min": 0},
        {"id": "q-kl", "metric": "kl_divergence", "column": "q",
         "reference": {"bins": {"edges": [0, 25, 50, 75, 100], "probabilities": [0.25, 0.25, 0.25, 0.25]}},
         "smoothing": {"epsilon": 0.01}, "max": 10},
        {"id": "d", "metric": "distance_spread", "columns": ["x", "y"], "sample": {"rows": 300, "seed": 3}, "min": 0},
    ]})
    memory = validate(path, ruleset)
    from validator.summaries import stream as streaming

    def no_pandas(self):
        raise AssertionError("a batch was converted to pandas")

    monkeypatch.setattr(streaming._Batch, "df", property(no_pandas))  # every summary came from Arrow
    stream = validate(path, ruleset, engine="stream", batch_rows=128)
    for a, b in zip(memory.results, stream.results):
        assert a.outcome == b.outcome == "passed", (a.rule_id, a.reason, b.reason)
        assert math.isclose(a.observed, b.observed, rel_tol=1e-12), (a.rule_id, a.observed, b.observed)
        assert a.n == b.n, a.rule_id
    d = {r.rule_id: r for r in stream.results}["d"]
    assert d.details["sample_size"] == 300 and d.n == 300
