"""n-gram entropy in bounded memory (issue 13, item 2): the vectorised n-gram counts
(NgramCounts) against the dict table of before and a pure-Python reference
(collections.Counter over the n-grams); the same value in every engine and batch size; past the
memory budget, the hash-sampled estimate against scipy.stats.entropy of the exact counts.
"""

from __future__ import annotations

import collections
import math
import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy

from validator import load_rules, validate
from validator.checks import text as text_checks
from validator.metrics.entropy import sampled_type_entropy, shannon_entropy
from validator.rules.model import NormalizeValues
from validator.summaries import text as text_summaries
from validator.summaries.normalize import normalize_text
from validator.summaries.text import WORD, NgramCounts, ngram_table

FAST = settings(max_examples=80, deadline=None)
# any code point but lone surrogates (not text): ASCII, Latin, CJK and astral (emoji, U+10FFFF)
CHARS = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",))
TEXTS = st.lists(st.one_of(st.text(CHARS, max_size=9), st.text(alphabet="ab \U0001F600", max_size=9)), min_size=0, max_size=10)


def char_counter(texts, n):
    """Reference: every char n-gram of every text, counted by collections.Counter."""
    return collections.Counter(t[i : i + n] for t in texts for i in range(len(t) - n + 1))


def word_counter(texts, n):
    """Reference: every n words in a row of each text (words: regex \\w+), counted."""
    out = collections.Counter()
    for t in texts:
        w = WORD.findall(t)
        out.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    return out


def decode(ids, n):
    """A packed char n-gram id back to its n characters (21 bits each)."""
    return ["".join(chr((int(i) >> (21 * (n - 1 - j))) & 0x1FFFFF) for j in range(n)) for i in ids]


def batches(texts, cuts):
    bounds = sorted({0, len(texts), *(c % (len(texts) + 1) for c in cuts)})
    return [texts[a:b] for a, b in zip(bounds, bounds[1:])] or [[]]


def merged(parts, unit, n, cap=1 << 22):
    out = NgramCounts.of(parts[0], unit, n, cap)
    for p in parts[1:]:
        out = out.merge(NgramCounts.of(p, unit, n, cap))
    return out


@FAST
@given(texts=TEXTS, n=st.integers(1, 3), cuts=st.lists(st.integers(0, 10), max_size=4))
def test_ngram_counts_packed_char_ngrams_are_exactly_the_counter(texts, n, cuts):
    # n <= 3: an id is the n-gram itself, so the table decodes to the Counter key by key
    # (astral code points and texts shorter than n included), in any batching
    ref = char_counter(texts, n)
    for got in (NgramCounts.of(texts, "char", n), merged(batches(texts, cuts), "char", n)):
        assert got.exact_ids and got.level == 0 and got.total == sum(ref.values())
        assert dict(zip(decode(got.ids, n), got.counts.tolist())) == dict(ref)
        assert np.all(got.ids[1:] > got.ids[:-1])  # strictly increasing: what the sorted merge needs
    assert dict(ref) == ngram_table(texts, "char", n)  # the dict path of before, same table


@FAST
@given(texts=TEXTS, n=st.integers(1, 7), cuts=st.lists(st.integers(0, 10), max_size=4))
def test_ngram_counts_char_and_word_counts_equal_the_counter_and_the_old_table(texts, n, cuts):
    for unit, ref in (("char", char_counter(texts, n)), ("word", word_counter(texts, n))):
        whole = NgramCounts.of(texts, unit, n)
        assert sorted(whole.counts.tolist()) == sorted(ref.values()) == sorted(ngram_table(texts, unit, n).values())
        parts = merged(batches(texts, cuts), unit, n)
        assert np.array_equal(parts.ids, whole.ids) and np.array_equal(parts.counts, whole.counts)
        assert parts.total == whole.total == sum(ref.values())


def zipf_texts(k=400, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    p = 1 / np.arange(1, 301)
    return [" ".join(rng.choice(words, size=rng.integers(1, 12), p=p / p.sum())) for _ in range(k)]


@pytest.mark.parametrize("cap", [16, 50, 200])
def test_ngram_counts_past_the_budget_sample_does_not_depend_on_batches(cap):
    texts = zipf_texts()
    exact = NgramCounts.of(texts, "word", 2)
    whole = NgramCounts.of(texts, "word", 2, cap)
    assert exact.ids.size > cap and whole.level > 0 and whole.ids.size <= cap
    # the sample's counts are the exact counts of those n-gram types, the total is exact
    pos = np.searchsorted(exact.ids, whole.ids)
    assert np.array_equal(exact.ids[pos], whole.ids) and np.array_equal(exact.counts[pos], whole.counts)
    assert whole.total == exact.total
    # level 1 less would not fit: the level is the smallest that fits the budget
    half = NgramCounts(exact.ids, exact.counts, exact.total, whole.level - 1, cap, False)._fit()
    assert half.level == whole.level
    for size in (1, 7, 33, 150):
        parts = merged([texts[i : i + size] for i in range(0, len(texts), size)], "word", 2, cap)
        assert parts.level == whole.level and np.array_equal(parts.ids, whole.ids) and np.array_equal(parts.counts, whole.counts)


@pytest.mark.parametrize("unit,n,cap", [("char", 3, 1 << 22), ("char", 5, 1 << 22), ("word", 2, 1 << 22), ("char", 4, 40), ("word", 2, 40)])
def test_ngram_counts_in_chunks_of_any_size_equal_one_chunk(monkeypatch, unit, n, cap):
    # NgramCounts.of counts CHUNK_CHARS characters at a time: chunks of 1, 5 or 64 characters
    # (a text longer than a chunk is one chunk) give the table of one chunk, sampled or not
    texts = zipf_texts(120) + ["", "x", "\U0001F600" * 70]
    whole = NgramCounts.of(texts, unit, n, cap)
    for size in (1, 5, 64):
        monkeypatch.setattr(text_summaries, "CHUNK_CHARS", size)
        got = NgramCounts.of(texts, unit, n, cap)
        assert (got.level, got.total) == (whole.level, whole.total)
        assert np.array_equal(got.ids, whole.ids) and np.array_equal(got.counts, whole.counts)


def test_sampled_type_entropy_at_rate_one_is_the_plugin_and_its_error_is_honest():
    counts = np.array([50, 20, 9, 5, 5, 3, 1, 1, 1])
    for est in ("plugin", "miller_madow"):
        h, se, lo, hi = sampled_type_entropy(counts, counts.sum(), 1.0, estimator=est)
        assert h == pytest.approx(shannon_entropy(counts, estimator=est), rel=1e-12) and se == 0 and lo == pytest.approx(hi)
    assert shannon_entropy(counts) == pytest.approx(scipy_entropy(counts, base=2), rel=1e-12)
    # Monte Carlo over the sampling (each type kept with probability p): the bounds hold in
    # every draw, for a Zipf, a flat and a one-frequent-type distribution (scipy's entropy of
    # all the counts; Miller-Madow: scipy's plus (K - 1) / (2 N) nats); on the flat one, where
    # no clipping happens, the estimate is unbiased
    rng = np.random.default_rng(3)
    shapes = {
        "zipf": np.maximum(1, (2000 / np.arange(1, 3001) ** 1.1).astype(np.int64)),
        "flat": np.full(3000, 3),
        "one frequent": np.concatenate([[100_000], np.ones(3000, dtype=np.int64)]),
    }
    for name, counts in shapes.items():
        n_total = int(counts.sum())
        for est in ("plugin", "miller_madow"):
            truth = scipy_entropy(counts) + (counts.size - 1) / (2 * n_total) * (est == "miller_madow")
            for rate in (0.5, 1 / 16):
                draws = []
                for _ in range(300):
                    kept = counts[rng.random(counts.size) < rate]
                    if kept.size == 0:
                        continue
                    h, se, lo, hi = sampled_type_entropy(kept, n_total, rate, base="e", estimator=est)
                    assert lo - 1e-9 <= truth <= hi + 1e-9 and lo <= h <= hi, (name, est, rate)
                    draws.append(h)
                if name == "flat":
                    assert abs(np.mean(draws) - truth) < 4 * np.std(draws) / math.sqrt(len(draws)) + 1e-12


def ruleset(**rule):
    return load_rules({"version": 1, "rules": [{"id": "e", "metric": "ngram_entropy", "column": "text", **rule}]})


def engines(df, rules, tmp_path):
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    shards = tmp_path / "shards"
    shards.mkdir(exist_ok=True)
    for i in range(0, len(df), 37):
        df.iloc[i : i + 37].to_parquet(shards / f"part-{i:05d}.parquet")
    out = {"memory": validate(df, rules).results[0]}
    for b in (1, 7, 100, 10_000):
        out[f"stream {b}"] = validate(path, rules, engine="stream", batch_rows=b).results[0]
    pytest.importorskip("dask.dataframe")
    out["dask"] = validate(shards, rules, engine="dask").results[0]
    return out


@pytest.mark.parametrize("unit,n", [("char", 3), ("char", 5), ("word", 2)])
def test_ngram_entropy_is_the_same_in_every_engine_and_batch_size(tmp_path, unit, n):
    texts = zipf_texts(200) + ["é\U0001F600x", "", None, "ab"]
    df = pd.DataFrame({"text": texts})
    got = engines(df, ruleset(unit=unit, n=n, min=0), tmp_path)
    ref = (char_counter if unit == "char" else word_counter)([t for t in texts if t], n)
    for name, r in got.items():
        assert r.outcome == "passed", (name, r.reason)
        assert r.observed == pytest.approx(scipy_entropy(list(ref.values()), base=2), rel=1e-12), name
        assert r.observed == got["memory"].observed, name  # bit for bit
        assert r.details["distinct_ngrams"] == len(ref) and "exact" in r.details["method"]


def test_ngram_entropy_past_the_budget_reports_its_error_and_never_passes_on_it(tmp_path, monkeypatch):
    monkeypatch.setattr(text_checks, "NGRAM_BUDGET", 64)
    texts = zipf_texts(300)
    df = pd.DataFrame({"text": texts})
    truth = scipy_entropy(list(word_counter(texts, 2).values()), base=2)
    got = engines(df, ruleset(unit="word", n=2, min=0), tmp_path)
    first = got["memory"]
    lo, hi = first.details["value_bounds"]
    assert first.outcome == "passed" and "estimated" in first.details["method"] and first.details["sampling_rate"] < 1
    assert lo <= truth <= hi and lo < first.observed < hi and first.details["memory_budget_ngrams"] == 64
    for name, r in got.items():
        assert r.observed == first.observed and r.details["value_bounds"] == [lo, hi], name
    # a bound inside the stated error: no verdict (error, saying why), in every engine
    mid = (lo + first.observed) / 2
    for name, r in engines(df, ruleset(unit="word", n=2, min=mid), tmp_path).items():
        assert r.outcome == "error" and "undecided" in r.reason, name
    # a bound outside it: a verdict
    assert validate(df, ruleset(unit="word", n=2, max=lo - 0.01)).results[0].outcome == "failed"


@FAST
@given(t=st.text(st.one_of(CHARS, st.sampled_from(" \t\n\x0b\x0c\r\x1c\x85\xa0\u2003\u3000")), max_size=30))
def test_normalize_text_fast_path_on_random_texts(t):
    ws = re.compile(r"\s+")
    assert normalize_text(t, NormalizeValues(unicode="none")) == ws.sub(" ", t).strip()


def test_normalize_text_collapse_and_strip_by_str_split_equal_the_regex():
    # the fast path " ".join(t.split()) against the two steps it replaces (re \s+ -> " ", then
    # strip()), on every code point as a separator and on random texts
    ws = re.compile(r"\s+")
    spec = NormalizeValues(unicode="none")
    for c in map(chr, range(sys.maxunicode + 1)):
        t = f"{c}a{c}{c}b {c}"
        assert normalize_text(t, spec) == ws.sub(" ", t).strip(), hex(ord(c))
