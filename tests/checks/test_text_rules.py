"""Text rules (issue 5): exact and MinHash duplicates, n-gram entropy, type-token ratio and
MATTR, text-length distributions, and how a text column's bad values are counted.

References are named at each test: hand-computed values, naive loops written out here,
scipy.stats.entropy, and exact Jaccard similarities of Python sets.
"""

from __future__ import annotations

import collections
import math
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy

from validator import load_rules, validate
from validator.metrics.minhash import minhash_near_duplicates, shingles
from validator.metrics.text import clusters_from_labels, duplicate_fraction, mattr, type_token_ratio
from validator.rules.loader import RuleFileError
from validator.summaries.text import ngram_counts, text_rows, token_ids
from tests.conftest import DATA

FAST = settings(max_examples=60, deadline=None)


def run(df, *rules, references=None):
    doc = {"version": 1, "rules": list(rules)}
    if references:
        doc["references"] = references
    report = validate(df, load_rules(doc))
    return {r.rule_id: r for r in report.results}


# -- kernels against naive definitions ---------------------------------------------------------


def naive_mattr(tokens, w):
    """MATTR as Covington & McFall (2010) define it: the mean TTR of every window."""
    return sum(len(set(tokens[s : s + w])) / w for s in range(len(tokens) - w + 1)) / (len(tokens) - w + 1)


@FAST
@given(tokens=st.lists(st.integers(0, 6), min_size=1, max_size=60), w=st.integers(1, 20))
def test_mattr_equals_the_mean_of_every_window(tokens, w):
    if len(tokens) < w:
        with pytest.raises(ValueError, match="at least window"):
            mattr(tokens, w)
        return
    assert mattr(tokens, w) == pytest.approx(naive_mattr(tokens, w), rel=1e-12)


def test_ttr_and_mattr_hand_values_and_length_bias():
    # "the cat saw the dog": 4 types / 5 tokens
    assert type_token_ratio([0, 1, 2, 0, 3]) == 0.8
    # windows of 2 over a a b: (a a) 1/2, (a b) 2/2 -> 0.75
    assert mattr([0, 0, 1], 2) == 0.75
    assert mattr([0, 1, 2, 3], 4) == 1.0 and mattr([5, 5, 5], 1) == 1.0
    # length bias: a Zipf-like stream keeps MATTR flat while TTR falls (Heaps' law)
    rng = np.random.default_rng(0)
    stream = rng.zipf(1.5, 40_000) % 5_000
    ttr_short, ttr_long = type_token_ratio(stream[:2_000]), type_token_ratio(stream)
    m_short, m_long = mattr(stream[:2_000], 100), mattr(stream, 100)
    assert ttr_long < 0.6 * ttr_short
    assert abs(m_long - m_short) < 0.03


@FAST
@given(keys=st.lists(st.integers(0, 8), min_size=1, max_size=40))
def test_duplicate_fraction_counts_rows_whose_key_repeats(keys):
    count = collections.Counter(keys)
    expected = sum(1 for k in keys if count[k] > 1) / len(keys)
    assert duplicate_fraction(keys) == expected
    summary = clusters_from_labels(np.array(keys), np.arange(len(keys)))
    assert summary["clusters"] == sum(1 for c in count.values() if c > 1)
    assert summary["removable_rows"] == len(keys) - len(count)


def test_clusters_report_largest_first_with_one_based_rows():
    summary = clusters_from_labels(np.array([7, 3, 7, 9, 3, 7]), np.array([10, 11, 12, 13, 14, 15]))
    assert summary == {
        "clusters": 2,
        "rows_in_clusters": 5,
        "removable_rows": 3,
        "largest_cluster": 3,
        "examples": [[11, 13, 16], [12, 15]],
    }


@FAST
@given(
    texts=st.lists(st.text(alphabet="ab c\u00e9", min_size=0, max_size=12), min_size=1, max_size=8),
    n=st.integers(1, 4),
)
def test_char_ngram_counts_match_a_counter(texts, n):
    counter = collections.Counter(t[i : i + n] for t in texts for i in range(len(t) - n + 1))
    got = ngram_counts(texts, "char", n)
    assert sorted(got.tolist()) == sorted(counter.values())


def test_word_ngram_counts_and_entropy_against_scipy():
    texts = ["the cat sat", "the cat ran", "a dog ran"]
    counter = collections.Counter()
    for t in texts:
        words = t.split()
        counter.update(tuple(words[i : i + 2]) for i in range(len(words) - 1))
    assert sorted(ngram_counts(texts, "word", 2).tolist()) == sorted(counter.values())
    df = pd.DataFrame({"text": texts})
    r = run(df, {"id": "e", "metric": "ngram_entropy", "column": "text", "unit": "word", "n": 2, "min": 0})["e"]
    assert r.observed == pytest.approx(scipy_entropy(list(counter.values()), base=2), rel=1e-12)  # 4 bigrams: the cat x2 ...
    assert r.details["ngrams"] == 6 and r.details["distinct_ngrams"] == 5


def test_ngram_entropy_hand_value_and_rows_are_not_joined():
    # "abab" -> ab, ba, ab ; "ab" -> ab : counts {ab: 3, ba: 1} -> H = 0.811278 bits
    df = pd.DataFrame({"text": ["abab", "ab"]})
    r = run(df, {"id": "e", "metric": "ngram_entropy", "column": "text", "n": 2, "min": 0})["e"]
    assert r.observed == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)), rel=1e-12)
    # a bigram across the two rows ("ba" from "...b" + "a...") would add a count: it must not
    assert r.details["ngrams"] == 4


def test_type_token_ratio_rule_reports_bias_and_mattr():
    df = pd.DataFrame({"text": ["the cat saw the dog", None, "   "]})
    r = run(df, {"id": "t", "metric": "type_token_ratio", "column": "text", "min": 0.5})["t"]
    assert r.observed == 0.8 and r.outcome == "passed"
    assert "compare only sets of similar size" in r.details["length_bias"]
    assert r.details["excluded_rows"] == {"null": 1, "empty": 1}
    r = run(df, {"id": "t", "metric": "type_token_ratio", "column": "text", "window": 3, "min": 0.5})["t"]
    assert r.observed == pytest.approx(naive_mattr(["the", "cat", "saw", "the", "dog"], 3))
    r = run(df, {"id": "t", "metric": "type_token_ratio", "column": "text", "window": 9, "min": 0.5})["t"]
    assert r.outcome == "error" and "needs at least 9 words; found 5" in r.reason


# -- exact duplicates on normalised text --------------------------------------------------------


def test_exact_duplicates_after_nfc_and_white_space_and_optional_casefold():
    composed = "Caf\u00e9 au lait"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    df = pd.DataFrame({"text": [composed, decomposed + "  ", "caf\u00e9   au lait", "other text", "Other  text", None, ""]})
    rule = {"id": "d", "metric": "duplicate_fraction", "column": "text", "max": 0.5}
    r = run(df, rule)["d"]
    # NFC + white space: rows 1 and 2 are one text; case differs for 3 and 5 -> 2 of 5 texts
    assert r.observed == pytest.approx(2 / 5)
    assert r.details["duplicates"]["examples"] == [[1, 2]]
    assert r.details["excluded_rows"] == {"null": 1, "empty": 1}
    r = run(df, {**rule, "normalize_values": {"casefold": True}})["d"]
    assert r.observed == pytest.approx(5 / 5) and r.outcome == "failed"
    assert r.details["duplicates"]["clusters"] == 2 and r.details["duplicates"]["examples"] == [[1, 2, 3], [4, 5]]


def test_text_rules_count_non_text_values_and_refuse_an_all_empty_column():
    df = pd.DataFrame({"text": pd.Series(["a b", 5, None, "a b", " "], dtype=object)})
    r = run(df, {"id": "d", "metric": "duplicate_fraction", "column": "text", "max": 1})["d"]
    assert r.observed == 1.0
    assert r.details["excluded_rows"] == {"null": 1, "empty": 1, "not_text": 1}
    assert r.details["first_not_text_row"] == 2
    empty = pd.DataFrame({"text": [None, "", "  "]})
    r = run(empty, {"id": "d", "metric": "ngram_entropy", "column": "text", "min": 1})["d"]
    assert r.outcome == "error" and "holds no text (null 1, empty 2)" in r.reason


def test_mixed_scripts_are_measured_not_rejected():
    df = pd.DataFrame({"text": ["Hello world", "Привет мир", "你好世界", "مرحبا بالعالم", "नमस्ते दुनिया"]})
    r = run(df, {"id": "e", "metric": "ngram_entropy", "column": "text", "n": 1, "min": 0})["e"]
    counts = collections.Counter("".join(df.text))
    assert r.observed == pytest.approx(scipy_entropy(list(counts.values()), base=2), rel=1e-12)


def test_text_rules_refuse_confidence():
    with pytest.raises(RuleFileError, match="'confidence' is not available for duplicate_fraction"):
        load_rules({"version": 1, "rules": [{"id": "d", "metric": "duplicate_fraction", "column": "t", "max": 0.1, "confidence": 0.9}]})


# -- MinHash near duplicates -------------------------------------------------------------------


def exact_jaccard(a: str, b: str, size: int) -> float:
    A, B = shingles(a, "char", size), shingles(b, "char", size)
    return len(A & B) / len(A | B)


def test_minhash_agrees_with_exact_jaccard_on_clear_cases():
    rng = np.random.default_rng(3)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 6)) for _ in range(400)]
    base = [" ".join(rng.choice(words, 40)) for _ in range(30)]
    texts = list(base)
    texts.append(base[0])  # identical: J = 1
    texts.append(base[1] + " x")  # one short edit: J close to 1
    texts.append(base[2][: len(base[2]) // 2])  # half the text: J about 0.5
    size = 5
    brute = np.zeros(len(texts), dtype=bool)
    for i in range(len(texts)):
        for j in range(len(texts)):
            if i != j and exact_jaccard(texts[i], texts[j], size) >= 0.8:
                brute[i] = True
    assert exact_jaccard(texts[1], texts[31], size) > 0.95
    assert exact_jaccard(texts[2], texts[32], size) < 0.6
    found = minhash_near_duplicates(texts, threshold=0.8, size=size, num_perm=128, seed=1)
    assert found.fraction == pytest.approx(brute.mean()) == pytest.approx(4 / 33)
    again = minhash_near_duplicates(texts, threshold=0.8, size=size, num_perm=128, seed=1)
    assert np.array_equal(found.labels, again.labels)  # seeded: deterministic


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9, 1.0])
def test_minhash_fraction_equals_all_pairs_jaccard_on_the_example_near_duplicates(threshold):
    df = pd.read_csv(DATA / "pretrain_near_duplicates.csv", keep_default_na=False)
    texts = df.text.tolist()[:300]
    sets = [shingles(t, "char", 5) for t in texts]
    has = np.zeros(len(texts), dtype=bool)
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            inter = len(sets[i] & sets[j])
            if inter >= threshold * (len(sets[i]) + len(sets[j]) - inter):
                has[i] = has[j] = True
    assert minhash_near_duplicates(texts, threshold=threshold).fraction == has.mean()


def test_texts_without_words_are_not_word_shingle_duplicates():
    found = minhash_near_duplicates(["!!!", "???", "...", "hello world", "hello world"], unit="word", size=2, threshold=0.8)
    assert found.fraction == 0.4 and found.labels[3] == found.labels[4]


def test_near_duplicate_rule_reports_clusters():
    df = pd.DataFrame({"text": ["the quick brown fox jumps", "completely different words here", "the quick brown fox jumps!", "zz"]})
    r = run(df, {"id": "m", "metric": "near_duplicate_fraction", "column": "text", "threshold": 0.7, "max": 0.1})["m"]
    assert r.observed == 0.5 and r.outcome == "failed"
    assert r.details["duplicates"]["examples"] == [[1, 3]]
    assert r.details["texts_without_shingles"] == 1  # "zz" is shorter than one 5-gram


# -- text lengths against a reference -----------------------------------------------------------


def test_text_length_histogram_against_a_bins_reference_matches_scipy():
    df = pd.DataFrame({"text": ["a", "a b", "a b c", "one two three four five six", None]})
    edges = [0, 2, 4, 10]
    rule = {
        "id": "len", "metric": "kl_divergence", "column": "text", "text_length": "words",
        "reference": {"bins": {"edges": edges, "probabilities": [0.25, 0.5, 0.25]}}, "max": 1,
    }
    r = run(df, rule)["len"]
    # word counts 1, 2, 3, 6 -> bins [0,2): 1, [2,4): 2, [4,10]: 1
    p = np.array([1, 2, 1]) / 4
    assert r.observed == pytest.approx(scipy_entropy(p, [0.25, 0.5, 0.25], base=2), abs=1e-12)  # 0: same shares
    chars = {**rule, "text_length": "chars", "reference": {"bins": {"edges": [0, 2, 6, 30], "probabilities": [0.5, 0.25, 0.25]}}}
    r = run(df, chars)["len"]
    # code points 1, 3, 5, 27 -> [0,2): 1, [2,6): 2, [6,30]: 1
    assert r.observed == pytest.approx(scipy_entropy([0.25, 0.5, 0.25], [0.5, 0.25, 0.25], base=2), rel=1e-12)


def test_text_length_against_a_reference_file_measures_both_sides(tmp_path):
    ref = tmp_path / "ref.csv"
    pd.DataFrame({"body": ["x" * 3, "y" * 3, "z" * 12, "007"]}).to_csv(ref, index=False)
    data = tmp_path / "data.csv"
    pd.DataFrame({"text": ["abc", "0123456789ab", "007", "0042"]}).to_csv(data, index=False)
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: len, metric: js_divergence, column: text, text_length: chars,"
        " bins: {edges: [0, 4, 20]}, reference: {file: ref.csv, column: body}, max: 0.5}\n"
        "  - {id: w1, metric: wasserstein_distance, column: text, text_length: chars, reference: {file: ref.csv, column: body}, max: 10}\n"
    )
    by = {r.rule_id: r for r in validate(data, load_rules(rules)).results}
    # "007" is 3 characters (read as text, not the number 7); data [3, 12, 3, 4] vs ref [3, 3, 12, 3]
    p, q = np.array([2, 2]) / 4, np.array([3, 1]) / 4
    m = (p + q) / 2
    js = 0.5 * scipy_entropy(p, m, base=2) + 0.5 * scipy_entropy(q, m, base=2)
    assert by["len"].observed == pytest.approx(js, rel=1e-12)
    from scipy.stats import wasserstein_distance

    assert by["w1"].observed == pytest.approx(wasserstein_distance([3, 12, 3, 4], [3, 3, 12, 3]), abs=by["w1"].details["approximation_error_bound"] + 1e-12)


def test_text_length_counts_nulls_and_non_text_values():
    df = pd.DataFrame({"text": pd.Series(["ab", 17, None, "abcd"], dtype=object)})
    rule = {"id": "len", "metric": "js_divergence", "column": "text", "text_length": "chars",
            "reference": {"bins": {"edges": [0, 3, 10], "probabilities": [0.5, 0.5]}}, "max": 0.1}
    r = run(df, rule)["len"]
    assert r.outcome == "passed" and r.observed == pytest.approx(0.0, abs=1e-12) and r.n == 2
    assert r.details["excluded_rows"] == {"null": 1, "not_text": 1} and r.details["first_not_text_row"] == 2


def test_an_unmeasurable_rule_with_an_inline_reference_is_reported(capsys, tmp_path):
    from validator.cli import run as cli

    data = tmp_path / "d.jsonl"
    data.write_text('{"text": 7}\n{"text": 8}\n')
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - {id: r, metric: js_divergence, column: text, text_length: chars, reference: {categories: {'5': 1}}, max: 1}\n"
        "  - {id: w, metric: js_divergence, column: text, reference: {categories: {a: 1}}, where: [{column: text, equals: zzz}], max: 1}\n"
    )
    for fmt in ("text", "json", "junit", "markdown", "html"):
        assert cli(["--rules", str(rules), str(data), "--format", fmt]) == 1
        out = capsys.readouterr()
        assert "Traceback" not in out.err


def test_token_ids_use_unicode_word_runs():
    ids, counts = token_ids(["don't stop", "naïve café_2"])
    assert counts.tolist() == [3, 2] and ids.tolist() == [0, 1, 2, 3, 4]
    rows = text_rows(pd.Series(["x", None, " \t", 3.5]), None)
    assert rows.excluded == {"null": 1, "empty": 1, "not_text": 1} and rows.positions.tolist() == [0]


@FAST
@given(
    texts=st.lists(st.text(alphabet="ab c\u00e9", min_size=0, max_size=12), min_size=1, max_size=8),
    n=st.integers(1, 4),
    cut=st.integers(0, 8),
)
def test_ngram_tables_are_a_counter_and_merge_by_adding(texts, n, cut):
    # the mergeable n-gram table (what streaming keeps) equals collections.Counter, and the
    # tables of two halves of the rows add up to the table of all of them
    from validator.summaries.text import ngram_table

    counter = collections.Counter(t[i : i + n] for t in texts for i in range(len(t) - n + 1))
    assert ngram_table(texts, "char", n) == dict(counter)
    a, b = ngram_table(texts[:cut], "char", n), ngram_table(texts[cut:], "char", n)
    assert dict(collections.Counter(a) + collections.Counter(b)) == dict(counter)


def test_word_tables_and_types_by_hand():
    from validator.summaries.text import ngram_table, word_types

    texts = ["the cat sat", "the cat ran", "a dog ran"]
    assert ngram_table(texts, "word", 2) == {"the\x1fcat": 2, "cat\x1fsat": 1, "cat\x1fran": 1, "a\x1fdog": 1, "dog\x1fran": 1}
    assert word_types(texts) == ({"the", "cat", "sat", "ran", "a", "dog"}, 9)  # TTR 6 / 9
    df = pd.DataFrame({"text": texts})
    r = run(df, {"id": "t", "metric": "type_token_ratio", "column": "text", "min": 0})["t"]
    assert r.observed == pytest.approx(6 / 9, rel=1e-15) and r.details["types"] == 6 and r.details["tokens"] == 9


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=40),
    window=st.integers(1, 8),
    cuts=st.lists(st.integers(0, 40), max_size=6),
    tree=st.booleans(),
)
def test_mattr_windows_merge_to_the_whole_stream(words, window, cuts, tree):
    # pieces of a word stream (some shorter than the window) merged left to right or as a
    # tree give the windows total of the whole stream (window_type_total, the mattr numerator)
    from validator.metrics.text import window_type_total
    from validator.summaries.text import WindowTypes

    bounds = sorted({0, len(words), *[min(c, len(words)) for c in cuts]})
    parts = [WindowTypes.of([" ".join(words[a:b])], window) for a, b in zip(bounds[:-1], bounds[1:])] or [WindowTypes.of([], window)]
    while len(parts) > 1:
        if tree:
            parts = [parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
        else:
            parts = [parts[0].merge(parts[1])] + parts[2:]
    ids = {w: i for i, w in enumerate(sorted(set(words)))}
    whole = window_type_total([ids[w] for w in words], window)
    assert (parts[0].total, parts[0].n, parts[0].types) == (whole, len(words), frozenset(words))
    if len(words) >= window:
        assert parts[0].total / ((len(words) - window + 1) * window) == mattr([ids[w] for w in words], window)
