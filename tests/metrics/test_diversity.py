"""Column diversity and coverage against hand computation and published identities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from validator import RuleFileError, load_rules, validate
from validator.metrics.diversity import (
    coverage,
    distinct_count,
    distinct_ratio,
    dominance,
    gini_simpson,
    hill_number,
    imbalance_ratio,
)

C = [1, 2, 1]  # shares (1/4, 1/2, 1/4)


def test_hill_numbers_by_order():
    assert hill_number(C, order=0) == 3.0  # categories observed
    # q = 1: exp of the Shannon entropy in nats, scipy.stats.entropy(C) = 1.5 ln 2
    assert hill_number(C, order=1) == pytest.approx(math.exp(scipy.stats.entropy(C)), rel=1e-12)
    assert hill_number(C, order=1) == pytest.approx(2**1.5, rel=1e-12)
    assert hill_number(C, order=2) == pytest.approx(1 / (1 / 16 + 1 / 4 + 1 / 16))  # inverse Simpson = 8/3
    assert hill_number(C, order=math.inf) == 2.0  # 1 / largest share
    assert hill_number(C, order=0.5) == pytest.approx((2 * 0.5 + math.sqrt(0.5)) ** 2, rel=1e-12)
    assert hill_number([7, 7, 7, 7], order=3) == pytest.approx(4.0)


def test_hill_numbers_do_not_increase_with_order():
    rng = np.random.default_rng(3)
    c = rng.integers(1, 100, size=20)
    values = [hill_number(c, order=q) for q in (0, 0.5, 1, 2, 5, 50, math.inf)]
    assert all(a >= b - 1e-9 for a, b in zip(values, values[1:]))


def test_simple_diversity_measures_by_hand():
    assert gini_simpson(C) == pytest.approx(1 - (1 / 16 + 1 / 4 + 1 / 16))
    assert gini_simpson([5]) == 0.0
    assert distinct_count([3, 0, 1]) == 2.0
    assert distinct_ratio([1, 1, 1, 1]) == 1.0 and distinct_ratio([2, 2]) == 0.5
    assert dominance(C) == 0.5
    assert imbalance_ratio([10, 5, 2]) == 5.0 and imbalance_ratio([4, 4]) == 1.0


def test_coverage_of_categories_and_mass():
    q = np.array([0.5, 0.3, 0.2, 0.0])  # the last cell is a data-only category
    p = np.array([10, 0, 1, 4])
    assert coverage(p, q) == pytest.approx(2 / 3)  # a and c of a, b, c
    assert coverage(p, q, of="mass") == pytest.approx(0.7)
    assert coverage(q * 10, q) == 1.0


def rule(metric, **kw):
    return load_rules({"version": 1, "rules": [{"id": "m", "metric": metric, "column": "x", "min": 0, **kw}]})


@pytest.mark.parametrize(
    "metric, kw, expected, units",
    [
        ("hill_number", {"order": 2}, 8 / 3, "effective categories"),
        ("hill_number", {"order": ".inf"}, 2.0, "effective categories"),
        ("gini_simpson", {}, 0.625, "probability"),
        ("distinct_count", {}, 3.0, "categories"),
        ("distinct_ratio", {}, 0.75, "categories per row"),
        ("dominance", {}, 0.5, "share of rows"),
        ("imbalance_ratio", {}, 2.0, "ratio"),
    ],
)
def test_every_diversity_metric_runs_as_a_rule(metric, kw, expected, units):
    from validator.rules.yaml_source import parse_yaml

    kw = {k: parse_yaml(f"v: {v}")[0]["v"] if isinstance(v, str) else v for k, v in kw.items()}
    df = pd.DataFrame({"x": ["a", "b", "b", "c", None]})
    r = validate(df, rule(metric, **kw))["m"]
    assert r.observed == pytest.approx(expected) and r.units == units and r.n == 4


def test_coverage_rule_with_other_and_nulls():
    df = pd.DataFrame({"x": ["en", "en", "de", "xx"]})
    ref = {"categories": {"en": 0.5, "de": 0.2, "fr": 0.1, "other": 0.2}, "other": "other"}
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "c", "metric": "coverage", "column": "x", "reference": ref, "min": 0.9}]}))["c"]
    assert r.observed == pytest.approx(3 / 4) and r.outcome == "failed"  # fr is missing; xx counts as other
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "c", "metric": "coverage", "column": "x", "reference": ref, "of": "mass", "min": 0.9}]}))["c"]
    assert r.observed == pytest.approx(0.9) and r.outcome == "passed"


def test_bad_diversity_rules():
    with pytest.raises(RuleFileError, match="'rules\\[0\\]\\.order': .*greater than or equal to 0"):
        rule("hill_number", order=-1)
    with pytest.raises(RuleFileError, match="'smoothing' does not apply to coverage"):
        load_rules({"version": 1, "rules": [{"id": "c", "metric": "coverage", "column": "x", "reference": {"categories": {"a": 1.0}},
                                             "smoothing": {"epsilon": 0.1}, "min": 0}]})


# -- H14, min_rows ---------------------------------------------------------------------------------
def test_H14_whitespace_and_unicode_variants():
    cafe_nfc, cafe_nfd = "Caf\u00e9", "Cafe\u0301"
    for column in (["South Sudan", "South Sudan ", "Kenya", "Kenya"], [cafe_nfc, cafe_nfd, "Tea", "Tea"]):
        df = pd.DataFrame({"x": column})
        assert validate(df, rule("entropy"))["m"].observed == pytest.approx(1.5)  # raw: three categories
        normalised = validate(df, rule("entropy", normalize_values={}))["m"]  # strip, collapse, NFC
        assert normalised.observed == pytest.approx(1.0)


def test_H14_normalisation_applies_to_reference_keys_too():
    df = pd.DataFrame({"x": ["south  sudan", "Kenya "]})
    ref = {"categories": {"South Sudan": 0.5, "kenya": 0.5}}
    base = {"id": "k", "metric": "kl_divergence", "column": "x", "reference": ref, "max": 0.01}
    assert validate(df, load_rules({"version": 1, "rules": [base]}))["k"].observed == math.inf
    casefolded = dict(base, normalize_values={"casefold": True})
    assert validate(df, load_rules({"version": 1, "rules": [casefolded]}))["k"].observed == 0.0


def test_min_rows_gives_an_error_never_a_verdict():
    df = pd.DataFrame({"x": ["a", "b", "c", None]})
    r = validate(df, rule("entropy", min_rows=4))["m"]
    assert r.outcome == "error" and r.reason == "insufficient data: 3 rows, need 4"
    assert validate(df, rule("entropy", min_rows=3))["m"].outcome == "passed"
    doc = {"version": 1, "defaults": {"min_rows": 10}, "rules": [
        {"id": "a", "metric": "entropy", "column": "x", "min": 0},
        {"id": "b", "metric": "entropy", "column": "x", "min": 0, "min_rows": 2},
        {"id": "d", "metric": "distance_spread", "columns": ["y"], "min": 0},
    ]}
    report = validate(df.assign(y=[1.0, 2.0, np.nan, 4.0]), load_rules(doc))
    assert report["a"].outcome == "error" and "need 10" in report["a"].reason
    assert report["b"].outcome == "passed"
    assert report["d"].reason == "insufficient data: 3 rows, need 10"  # rows with finite features
