"""validator.checks' own public functions: ``evaluate`` (dispatch, where, group_by, bounds) and
the interval helpers ``basic_interval`` and ``chi2_interval``.

Independent references, named at each test: values counted by hand from the literal frames
below, ``scipy.stats.entropy``, ``scipy.spatial.distance.jensenshannon``, the defining
equations of the noncentral chi-square interval (``scipy.stats.ncx2``, ``scipy.stats.chi2``),
and order statistics picked by hand from sorted resamples (Davison & Hinkley 1997, the basic
bootstrap interval [2t - t*_(1-a/2), 2t - t*_(a/2)]).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.spatial.distance
import scipy.stats

from validator import load_rules
from validator.checks import basic_interval, chi2_interval, evaluate
from validator.summaries.frame import FrameSummaries
from validator.summaries.references import ReferenceStore

# by hand: lang counts en 2, de 1, fr 1 (one null); web rows en, de, en; books rows fr, None
DF = pd.DataFrame({
    "lang": ["en", "de", "en", "fr", None],
    "src": ["web", "web", "web", "books", "books"],
    "n": [1.0, 2.0, 3.0, 4.0, 5.0],
})
LANGS = {"langs": {"categories": {"en": 0.5, "de": 0.25, "fr": 0.25}}}


def check(rule, df=DF, references=None):
    """evaluate() of one rule on the summaries of ``df``."""
    doc = {"version": 1, "rules": [dict(rule, id="r")]}
    if references:
        doc["references"] = references
    ruleset = load_rules(doc)
    return evaluate(ruleset.rules[0], ruleset, FrameSummaries(df), ReferenceStore(ruleset))


# -- count rules: the metric dispatch table -------------------------------------------------------

P = np.array([2, 1, 1]) / 4  # shares of en, de, fr after dropping the null


@pytest.mark.parametrize("rule, expected", [
    ({"metric": "entropy"}, scipy.stats.entropy([2, 1, 1], base=2)),  # 1.5 bits
    ({"metric": "entropy", "base": "e"}, scipy.stats.entropy([2, 1, 1])),  # 1.5 ln 2 nats
    ({"metric": "entropy", "nulls": "category"}, scipy.stats.entropy([2, 1, 1, 1], base=2)),
    ({"metric": "gini_simpson"}, 1 - (P ** 2).sum()),  # 1 - (1/4 + 1/16 + 1/16) = 0.625
    ({"metric": "hill_number", "order": 2}, 1 / (P ** 2).sum()),  # inverse Simpson: 8/3
    ({"metric": "distinct_count"}, 3),
    ({"metric": "distinct_ratio"}, 3 / 4),  # 3 categories over 4 non-null rows
    ({"metric": "dominance"}, 0.5),  # en's share
    ({"metric": "imbalance_ratio"}, 2.0),  # largest count 2 over smallest 1
])
def test_count_rule_evaluates_to_the_hand_computed_value(rule, expected):
    r = check({"column": "lang", "min": 0, **rule})
    assert r.outcome == "passed"
    assert r.observed == pytest.approx(expected, rel=1e-12)
    assert r.n == (5 if rule.get("nulls") == "category" else 4)


def test_count_rule_details_list_categories_nulls_and_top_shares_in_tie_order():
    r = check({"metric": "entropy", "column": "lang", "min": 0})
    assert r.details["categories"] == 3 and r.details["nulls"] == 1 and r.details["null_policy"] == "drop"
    # shares by hand; de and fr tie at 1/4 and are listed in label order
    assert list(r.details["top_categories"].items()) == [("en", 0.5), ("de", 0.25), ("fr", 0.25)]
    assert r.units == "bits"


# -- reference rules: divergences against scipy ---------------------------------------------------

# data: en 2, de 1, fr 1 -> p = (1/2, 1/4, 1/4); reference q = (1/2, 1/4, 1/4) would give 0, so
# use a data frame whose shares differ: en 3, de 1 -> p = (3/4, 1/4, 0) over (en, de, fr)
SKEWED = pd.DataFrame({"lang": ["en", "en", "en", "de"]})
PD = np.array([0.75, 0.25, 0.0])
QD = np.array([0.5, 0.25, 0.25])


@pytest.mark.parametrize("metric, expected", [
    ("js_divergence", scipy.spatial.distance.jensenshannon(PD, QD, base=2) ** 2),  # scipy gives sqrt(JS)
    ("js_distance", scipy.spatial.distance.jensenshannon(PD, QD, base=2)),
    ("kl_divergence", scipy.stats.entropy(PD, QD, base=2)),  # 3/4 log2(3/2) = 0.43872...
    ("total_variation", 0.5 * np.abs(PD - QD).sum()),  # 0.25
    ("linf_distance", np.abs(PD - QD).max()),  # 0.25
])
def test_divergence_rule_matches_scipy(metric, expected):
    r = check({"metric": metric, "column": "lang", "reference": "langs", "max": 10}, SKEWED, LANGS)
    assert r.outcome == "passed"
    assert r.observed == pytest.approx(expected, rel=1e-12)
    assert r.n == 4 and r.details["cells"] == 3


def test_divergence_rule_fails_on_the_bound_with_the_observed_value_in_the_reason():
    expected = scipy.spatial.distance.jensenshannon(PD, QD, base=2) ** 2
    r = check({"metric": "js_divergence", "column": "lang", "reference": "langs", "max": 0.01}, SKEWED, LANGS)
    assert r.outcome == "failed" and r.observed == pytest.approx(expected, rel=1e-12)
    assert r.reason == f"observed {expected:.6g} bits, expected <= 0.01"


def test_infinite_divergence_fails_even_inside_the_bounds_and_names_the_unseen_category():
    # 'ja' has reference probability 0: D(P || Q) is infinite (P(ja) log(P(ja) / 0))
    data = pd.DataFrame({"lang": ["en", "de", "ja"]})
    r = check({"metric": "kl_divergence", "column": "lang", "reference": "langs", "min": 0}, data, LANGS)
    assert math.isinf(r.observed) and r.outcome == "failed"
    assert r.reason.startswith("infinite divergence: the data has 1 category ('ja') the reference gives probability 0")
    assert r.details["missing_in_reference"] == ["ja"]


# -- where and group_by ---------------------------------------------------------------------------


def test_where_measures_only_the_matching_rows():
    r = check({"metric": "entropy", "column": "lang", "min": 0, "where": [{"column": "src", "equals": "web"}]})
    # web rows by hand: en, de, en -> counts (2, 1)
    assert r.observed == pytest.approx(scipy.stats.entropy([2, 1], base=2), rel=1e-12) and r.n == 3
    assert r.details["rows_matching_where"] == 3 and r.details["where"] == "src equals 'web'"


def test_where_matching_no_row_is_an_error_not_a_pass():
    r = check({"metric": "entropy", "column": "lang", "min": 0, "where": [{"column": "src", "equals": "none"}]})
    assert r.outcome == "error" and r.observed is None
    assert r.reason == "no rows meet the where conditions (src equals 'none') among the 5 rows"
    assert r.details["rows_matching_where"] == 0


def test_group_by_measures_each_group_and_passes_only_when_every_group_passes():
    r = check({"metric": "distinct_count", "column": "lang", "group_by": "src", "min": 1})
    # by hand: books {fr} (its null dropped) 1, web {en, de} 2; groups sorted by value
    assert r.outcome == "passed" and r.n == 4
    assert [(g["group"], g["observed"], g["n"], g["outcome"]) for g in r.details["groups"]] == [
        ("books", 1, 1, "passed"), ("web", 2, 3, "passed")]
    r = check({"metric": "distinct_count", "column": "lang", "group_by": "src", "min": 2})
    assert r.outcome == "failed"
    assert r.reason == "1 of 2 groups did not pass: books (failed 1)"


def test_group_by_counts_rows_without_a_group_and_a_missing_column_is_an_error():
    data = DF.assign(src=["web", None, "web", "books", "books"])
    r = check({"metric": "distinct_count", "column": "lang", "group_by": "src", "min": 1}, data)
    assert r.details["rows_without_group"] == 1 and r.outcome == "passed"
    r = check({"metric": "distinct_count", "column": "lang", "group_by": "nope", "min": 1})
    assert r.outcome == "error" and r.reason.startswith("group_by: ") and "nope" in r.reason


def test_where_then_group_by_groups_only_the_matching_rows():
    r = check({"metric": "distinct_count", "column": "lang", "group_by": "src", "min": 1,
               "where": [{"column": "n", "le": 3}]})
    # rows with n <= 3 by hand: en, de, en, all web -> one group of 2 categories
    assert [(g["group"], g["observed"]) for g in r.details["groups"]] == [("web", 2)]
    assert r.details["rows_matching_where"] == 3


# -- bounds, min_rows and measurement errors -----------------------------------------------------


@pytest.mark.parametrize("bounds, outcome, reason", [
    ({"min": 1.4}, "passed", None),
    ({"min": 1.6}, "failed", "observed 1.5 bits, expected >= 1.6"),
    ({"max": 1.4}, "failed", "observed 1.5 bits, expected <= 1.4"),
    ({"min": 1.5, "max": 1.5}, "passed", None),  # both bounds inclusive
])
def test_bounds_are_inclusive_and_a_failure_names_the_broken_bound(bounds, outcome, reason):
    r = check({"metric": "entropy", "column": "lang", **bounds})
    assert r.observed == 1.5 and r.outcome == outcome and r.reason == reason


def test_too_few_rows_is_an_error_never_a_verdict():
    r = check({"metric": "entropy", "column": "lang", "min": 0, "min_rows": 5})
    assert r.outcome == "error" and r.reason == "insufficient data: 4 rows, need 5"


def test_a_missing_column_is_an_error_result_not_an_exception():
    r = check({"metric": "entropy", "column": "nope", "min": 0})
    assert r.outcome == "error" and r.observed is None and "nope" in r.reason


def test_decide_on_applies_the_bounds_to_the_interval_end_it_names():
    # 40 rows: en 20, de 12, fr 8 (4 rows cannot resample above their own entropy, see below)
    data = pd.DataFrame({"lang": ["en"] * 20 + ["de"] * 12 + ["fr"] * 8})
    estimate = scipy.stats.entropy([20, 12, 8], base=2)
    rule = {"metric": "entropy", "column": "lang", "confidence": 0.9}
    r = check({**rule, "min": 0}, data)
    low, high = r.interval
    assert r.observed == pytest.approx(estimate, rel=1e-12) and low < estimate < high
    between_low, between_high = (low + estimate) / 2, (estimate + high) / 2
    assert check({**rule, "min": between_low}, data).outcome == "passed"  # the estimate is above it
    r = check({**rule, "min": between_low, "decide_on": "lower"}, data)
    assert r.outcome == "failed" and r.decided_on == "lower"
    assert r.reason == f"the interval's lower end {low:.6g} bits, expected >= {between_low:g}"
    assert check({**rule, "max": between_high}, data).outcome == "passed"
    r = check({**rule, "max": between_high, "decide_on": "upper"}, data)
    assert r.outcome == "failed" and r.reason == f"the interval's upper end {high:.6g} bits, expected <= {between_high:g}"


def test_count_rule_interval_is_the_basic_interval_of_200_seeded_multinomial_resamples():
    # the documented method, written out: seed 0, 200 resamples of the 4 rows over the 3 shares,
    # the entropy of each, order statistics at the tails (numpy "lower"/"higher"), reflected
    rng = np.random.default_rng(0)
    values = np.sort([scipy.stats.entropy(rng.multinomial(4, P), base=2) for _ in range(200)])
    tail = 0.05
    low_q, high_q = values[math.floor(tail * 199)], values[math.ceil((1 - tail) * 199)]
    expected = (max(2 * 1.5 - high_q, 0.0), 2 * 1.5 - low_q)  # entropy is never below 0
    expected = (min(expected[0], 1.5), max(expected[1], 1.5))
    r = check({"metric": "entropy", "column": "lang", "min": 0, "confidence": 0.9})
    assert r.interval == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # (2, 1, 1) is the most even split of 4 rows: no resample exceeds 1.5 bits, so the lower end
    # 2 x 1.5 - max(t*) is the estimate itself
    assert values.max() == pytest.approx(1.5) and r.interval[0] == pytest.approx(1.5)
    assert r.details["bootstrap"]["resamples"] == 200 and r.details["bootstrap"]["seed"] == 0


# -- basic_interval -------------------------------------------------------------------------------

# 20 resamples t*_i = i^2 / 100 (i = 0..19), skewed to the right; given shuffled
RESAMPLES = np.random.default_rng(3).permutation(np.arange(20) ** 2 / 100.0)


def test_basic_interval_reflects_the_resample_quantiles_about_the_estimate():
    # confidence 0.8, tails 0.1: numpy "lower" at 0.1 * 19 = 1.9 -> t*_(1) = 0.01,
    # "higher" at 0.9 * 19 = 17.1 -> t*_(18) = 3.24; basic: [2 - 3.24, 2 - 0.01]
    low, high = basic_interval(1.0, RESAMPLES, 0.8)
    assert low == pytest.approx(-1.24, abs=1e-12) and high == pytest.approx(1.99, abs=1e-12)


def test_basic_interval_is_clipped_to_the_value_range_and_contains_the_estimate():
    assert basic_interval(1.0, RESAMPLES, 0.8, (0.0, math.inf)) == pytest.approx((0.0, 1.99), abs=1e-12)
    # a biased plug-in: estimate 0.3, resamples all in [0.5, 1]: basic [0.6 - 1, 0.6 - 0.5] =
    # [-0.4, 0.1], clipped at 0 and widened to the estimate
    values = np.linspace(0.5, 1.0, 11)
    assert basic_interval(0.3, values, 0.8, (0.0, math.inf)) == pytest.approx((0.0, 0.3), abs=1e-12)


def test_basic_interval_of_an_infinite_estimate_is_the_percentile_interval():
    values = np.array([1.0, 2.0, 3.0, 4.0, math.inf])
    # tails 0.25 of 5 values: "lower" at 1.0 -> 2.0, "higher" at 3.0 -> 4.0; the estimate inf widens it
    assert basic_interval(math.inf, values, 0.5) == (2.0, math.inf)


# -- chi2_interval --------------------------------------------------------------------------------


def test_chi2_interval_solves_the_noncentral_chi_square_equations():
    # KL of 0.05 nats from N = 1000 rows over 4 cells: T = 2N x D = 100, df = 3; T rejects D = 0
    estimate, scale, df, confidence = 0.05, 2 * 1000, 3, 0.95
    tail = (1 - confidence) / 2
    low, high = chi2_interval(estimate, scale, df, confidence)
    t = scale * estimate
    assert scipy.stats.ncx2.sf(t, df, low * scale) == pytest.approx(tail, abs=1e-9)
    assert scipy.stats.ncx2.cdf(t, df, high * scale) == pytest.approx(tail, abs=1e-9)
    assert 0 < low < estimate < high


def test_chi2_interval_starts_at_zero_when_the_statistic_does_not_reject_zero():
    estimate, scale, df, confidence = 0.0005, 2 * 1000, 3, 0.95  # T = 1: chi2.sf(1, 3) = 0.80
    assert scipy.stats.chi2.sf(scale * estimate, df) > 1 - confidence
    low, high = chi2_interval(estimate, scale, df, confidence)
    assert low == 0.0
    # reaches at least the chi-square(3) 95% quantile over the scale (the size of an estimate of
    # a true 0), and at least the lambda solving the upper equation (ncx2.cdf falls with lambda)
    assert high * scale >= scipy.stats.chi2.ppf(confidence, df) - 1e-9
    assert scipy.stats.ncx2.cdf(scale * estimate, df, high * scale) <= (1 - confidence) / 2 + 1e-9
