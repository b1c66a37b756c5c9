"""MinHash near duplicates in bounded memory: shingle ids, banding, candidate pairs, verification.

References: the string shingle sets of ``shingles`` and their Jaccard similarity by Python set
operations (all pairs, brute force); datasketch's MinHashLSH for the banding criterion.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.metrics.minhash import (
    band_keys,
    bucket_pairs,
    candidate_pairs,
    jaccard,
    lsh_bands,
    minhash_near_duplicates,
    near_duplicates,
    shingle_ids,
    shingle_sets,
    shingles,
    signatures,
)

TEXTS = ["abcdefg", "abc", "héllo wörld 中文字符串 😀😀", "to be or not to be", "!!!", "a\ud800b lone surrogate", "x"]


def brute_force(texts, threshold, unit="char", size=5):
    """Share of texts with another of shingle Jaccard >= threshold: every pair, Python sets."""
    sets = [shingles(t, unit, size) for t in texts]
    has = np.zeros(len(texts), dtype=bool)
    for i, j in itertools.combinations(range(len(texts)), 2):
        if jaccard(sets[i], sets[j]) >= threshold:
            has[i] = has[j] = True
    return has.mean()


@pytest.mark.parametrize("unit,size", [("char", 1), ("char", 3), ("char", 5), ("char", 9), ("word", 1), ("word", 2), ("word", 3)])
def test_shingle_ids_are_the_shingle_sets_hashed(unit, size):
    ids, offsets, short = shingle_ids(TEXTS, unit, size)
    sets = [shingles(t, unit, size) for t in TEXTS]
    assert offsets.size == len(TEXTS) + 1 and offsets[-1] == ids.size
    for i, j in itertools.product(range(len(TEXTS)), repeat=2):
        a, b = set(ids[offsets[i]:offsets[i + 1]].tolist()), set(ids[offsets[j]:offsets[j + 1]].tolist())
        assert len(a) == len(sets[i])  # one id per distinct shingle (no collision)
        assert len(a & b) == len(sets[i] & sets[j]), (TEXTS[i], TEXTS[j])
    lengths = [len(t) if unit == "char" else len(shingles.__globals__["WORD"].findall(t)) for t in TEXTS]
    assert short == sum(n < size for n in lengths)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab cdé中😀.", max_size=30), min_size=1, max_size=12), st.integers(1, 6),
       st.sampled_from(["char", "word"]))
def test_shingle_id_jaccard_equals_string_jaccard(texts, size, unit):
    texts = [t for t in texts if t.strip()] or ["a"]
    found = shingle_sets(texts, unit, size)
    sets = [shingles(t, unit, size) for t in texts]
    for i, j in itertools.combinations(range(len(texts)), 2):
        inter = np.intersect1d(found[i], found[j]).size
        assert inter / (found[i].size + found[j].size - inter) == jaccard(sets[i], sets[j])


@pytest.mark.parametrize("threshold", [0.05, 0.35, 0.5, 0.65, 0.85])
@pytest.mark.parametrize("num_perm", [32, 128, 256])
def test_banding_is_datasketch_minhashlsh_optimum(threshold, num_perm):
    datasketch = pytest.importorskip("datasketch")
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.05, 0.95))
    assert lsh_bands(threshold, num_perm) == (lsh.b, lsh.r)


def test_equal_band_values_give_equal_keys_and_different_ones_differ():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32, size=(50, 20), dtype=np.uint32)
    sig[1, :5] = sig[0, :5]  # rows 0 and 1 agree on band 0 only (bands of 5 values)
    keys = band_keys(sig, 4, 5)
    assert keys[0, 0] == keys[1, 0] and (keys[0, 1:] != keys[1, 1:]).all()
    assert np.unique(keys[2:, 0]).size == 48


def test_bucket_pairs_are_all_pairs_of_equal_keys():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 7, size=40).astype(np.uint64)
    found = {tuple(p) for p in bucket_pairs(keys).tolist()}
    brute = {(i, j) for i, j in itertools.combinations(range(40), 2) if keys[i] == keys[j]}
    assert found == brute
    star = {tuple(p) for p in bucket_pairs(keys, max_bucket=2).tolist()}  # large buckets: each row with the first
    assert star <= brute and len(star) == 40 - np.unique(keys).size


def test_signatures_agree_with_jaccard():
    # Broder 1997: each signature value agrees with probability J; 1024 values estimate J to ~0.015
    a = np.arange(0, 300, dtype=np.uint64) * np.uint64(2654435761)
    b = np.arange(100, 400, dtype=np.uint64) * np.uint64(2654435761)  # J = 200 / 400
    sig = signatures(np.concatenate([a, b]), np.array([0, 300, 600]), 1024, 7)
    assert sig.shape == (2, 1024) and sig.dtype == np.uint32
    assert abs((sig[0] == sig[1]).mean() - 0.5) < 0.05


def planted(rng, n_base=60, words=40):
    """Random texts and near copies at Jaccard from about 0.4 to 1 (one word changed per step)."""
    vocab = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 6)) for _ in range(500)]
    base = [rng.choice(vocab, words).tolist() for _ in range(n_base)]
    texts = [" ".join(b) for b in base]
    for k, b in enumerate(base[:30]):
        copy = list(b)
        for i in rng.choice(words, k % 8, replace=False):
            copy[i] = "zz" + copy[i][2:]
        texts.append(" ".join(copy))
    return texts


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
@pytest.mark.parametrize("unit,size", [("char", 5), ("word", 2)])
def test_near_duplicate_fraction_equals_all_pairs_jaccard_on_planted_pairs(threshold, unit, size):
    texts = planted(np.random.default_rng(4))
    found = minhash_near_duplicates(texts, threshold=threshold, unit=unit, size=size)
    assert found.fraction == brute_force(texts, threshold, unit, size)
    sets = [shingles(t, unit, size) for t in texts]
    for i, j in itertools.combinations(range(len(texts)), 2):  # components are exactly the verified pairs' closure
        if jaccard(sets[i], sets[j]) >= threshold:
            assert found.labels[i] == found.labels[j]


def test_no_pair_below_the_threshold_joins_two_texts():
    texts = ["a b c d e f g h", "a b c d e f g x", "q r s t"]
    parent, pairs = candidate_pairs(lambda j: np.zeros(3, dtype=np.uint64), 1, np.arange(3, dtype=np.uint64))
    assert pairs.tolist() == [[0, 1], [0, 2], [1, 2]]  # one bucket: every pair a candidate

    def sets(rows):
        return dict(zip(rows.tolist(), shingle_sets([texts[i] for i in rows.tolist()], "word", 1)))

    found = near_duplicates(parent, pairs, 0.8, sets)  # J(0, 1) = 7 / 9 < 0.8
    assert found.fraction == 0.0 and found.pairs == 0 and found.verified == 3
    found = near_duplicates(parent, pairs, 7 / 9, sets)
    assert found.fraction == pytest.approx(2 / 3) and found.labels[0] == found.labels[1] != found.labels[2]


def test_equal_texts_are_joined_before_banding():
    texts = ["same text here", "same text here", "other words entirely", "same text here"]
    found = minhash_near_duplicates(texts, threshold=1.0)
    assert found.fraction == 0.75 and found.exact_duplicates == 2 and found.verified == 0


# -- band keys as a summary: bounded memory, spilled, merged, pickled ---------------------------


def test_band_keys_spill_past_their_memory_budget_and_pickle_with_their_values(monkeypatch):
    from validator.summaries import text as text_summaries
    from validator.summaries.text import BandKeys

    texts = planted(np.random.default_rng(5))
    what = ("char", 5, 64, 1, 8, 8)
    whole = BandKeys.of(texts, np.arange(len(texts)), what, {}, None)
    monkeypatch.setattr(text_summaries, "BAND_MEMORY", 1000)  # bytes: every merge spills
    parts = [BandKeys.of(texts[i:i + 7], np.arange(i, min(i + 7, len(texts))), what, {}, None) for i in range(0, len(texts), 7)]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert merged.memory() < 1000 and any(isinstance(b, str) for b, _, _ in merged.parts)
    for j in range(8):
        assert np.array_equal(merged.column(j), whole.column(j))
    again = pickle.loads(pickle.dumps(merged))
    assert again.memory() == whole.memory() and np.array_equal(again.column(3), whole.column(3))
    assert np.array_equal(merged.row_ids(), np.arange(len(texts)))


def test_near_duplicate_rule_is_the_same_in_every_engine_and_batch_size(tmp_path):
    from tests.conftest import assert_same
    from validator import validate

    texts = planted(np.random.default_rng(6), n_base=80)
    texts[10] = None
    df = pd.DataFrame({"text": texts, "k": range(len(texts))})
    csv, parquet = tmp_path / "d.csv", tmp_path / "d.parquet"
    df.to_csv(csv, index=False)
    df.to_parquet(parquet, index=False)
    rules = {"version": 1, "rules": [{"id": "n", "metric": "near_duplicate_fraction", "column": "text", "threshold": 0.7,
                                      "max": 0.5}]}
    memory = validate(csv, rules)
    r = memory["n"]
    assert r.observed == brute_force([t for t in texts if t is not None], 0.7)
    assert r.details["excluded_rows"] == {"null": 1}
    for path in (csv, parquet):
        for batch in (1, 7, 64, 1000):
            stream = validate(path, rules, engine="stream", batch_rows=batch)
            assert_same(memory, stream)
            assert stream["n"].details["duplicates"] == r.details["duplicates"]
    shards = [tmp_path / "s0.parquet", tmp_path / "s1.parquet"]  # near copies sit in the other shard
    df.iloc[:50].to_parquet(shards[0], index=False)
    df.iloc[50:].to_parquet(shards[1], index=False)
    pytest.importorskip("dask")
    for engine in ("stream", "dask"):
        found = validate(shards, rules, engine=engine)
        assert_same(memory, found)
        assert found["n"].details["duplicates"] == r.details["duplicates"]
