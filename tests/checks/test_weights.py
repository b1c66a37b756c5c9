"""Row weights (e.g. token counts) for count-based metrics: shares of weight instead of rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from validator import RuleFileError, load_rules, validate

DF = pd.DataFrame({"lang": ["en", "en", "de", None], "tokens": [100, 200, 100, 50], "q": [0.1, 0.7, 0.9, np.nan]})


def one(rule):
    return validate(DF, load_rules({"version": 1, "rules": [dict(rule, id="r")]}))["r"]


def test_weighted_entropy_is_the_entropy_of_the_weight_shares():
    r = one({"metric": "entropy", "column": "lang", "weight": "tokens", "min": 0})
    assert r.observed == pytest.approx(scipy.stats.entropy([300, 100], base=2))  # 0.8112781 bits
    assert r.n == 3 and r.details["weight_total"] == 400.0 and r.details["weight"] == "tokens"
    r = one({"metric": "entropy", "column": "lang", "weight": "tokens", "nulls": "category", "min": 0})
    assert r.observed == pytest.approx(scipy.stats.entropy([300, 100, 50], base=2)) and r.n == 4


def test_weighted_histogram_and_divergence():
    r = one({"metric": "entropy", "column": "q", "bins": {"edges": [0, 0.5, 1]}, "weight": "tokens", "min": 0})
    assert r.observed == pytest.approx(scipy.stats.entropy([100, 300], base=2))
    ref = {"categories": {"en": 0.75, "de": 0.25}}
    r = one({"metric": "kl_divergence", "column": "lang", "reference": ref, "weight": "tokens", "max": 1})
    assert r.observed == 0.0  # 300 : 100 tokens is exactly the reference
    r = one({"metric": "kl_divergence", "column": "lang", "reference": ref, "max": 1})
    assert r.observed == pytest.approx(scipy.stats.entropy([2 / 3, 1 / 3], [0.75, 0.25], base=2))  # by rows


@pytest.mark.parametrize(
    "weights, message",
    [([1, -1, 1, 1], "1 rows are not (first: -1.0 at row 2)"), ([1, np.nan, 1, 1], "first: nan at row 2"),
     ([1, np.inf, 1, 1], "first: inf at row 2")],
)
def test_bad_weights_are_errors_naming_the_row(weights, message):
    df = DF.assign(tokens=weights)
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "weight": "tokens", "min": 0}]}))["r"]
    assert r.outcome == "error" and "must be finite and >= 0" in r.reason and message in r.reason


def test_zero_total_weight_is_an_error():
    df = DF.assign(tokens=0)
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "weight": "tokens", "min": 0}]}))["r"]
    assert r.outcome == "error" and "sum to 0" in r.reason


def test_weight_is_refused_where_it_has_no_meaning():
    for metric, extra in (("distinct_ratio", {}), ("chi_square", {"reference": {"categories": {"a": 1.0}}})):
        with pytest.raises(RuleFileError, match=f"'weight' does not apply to {metric}"):
            load_rules({"version": 1, "rules": [{"id": "r", "metric": metric, "column": "x", "weight": "w", "min": 0, **extra}]})


def test_missing_weight_column_is_an_error_result():
    r = one({"metric": "entropy", "column": "lang", "weight": "tokenz", "min": 0})
    assert r.outcome == "error" and "column 'tokenz' not found" in r.reason and "did you mean 'tokens'" in r.reason


def test_huge_finite_weights_are_rescaled_not_an_error():
    df = DF.assign(tokens=[1e308, 1e308, 1e308, 1.0])
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "weight": "tokens", "min": 0}]}))["r"]
    assert r.observed == pytest.approx(scipy.stats.entropy([2, 1], base=2))  # en 2e308 : de 1e308


def test_boolean_weights_are_refused():
    df = DF.assign(tokens=[True, False, True, True])
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "weight": "tokens", "min": 0}]}))["r"]
    assert r.outcome == "error" and "holds booleans; weights must be numbers" in r.reason
