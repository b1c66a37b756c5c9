"""Slices: `where` restricts a rule to rows meeting declarative conditions; `group_by` measures
a rule within each group, with one result per group and an overall outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from validator import RuleFileError, load_rules, validate
from validator.report.text import render_text

DF = pd.DataFrame(
    {
        "lang": ["en", "de", "en", "fr", "en", "en", None, "de"],
        "source": ["web", "web", "web", "web", "books", "books", "books", "books"],
        "n_chars": [10, 200, 50, 80, 5, 300, 40, np.nan],
        "flag": [True, False, True, True, False, True, False, True],
    }
)


def run(**rule):
    doc = {"version": 1, "rules": [{"id": "r", "metric": "distinct_count", "column": "lang", "min": 0, **rule}]}
    return validate(DF, load_rules(doc))["r"]


@pytest.mark.parametrize(
    "where, expected_rows, expected_value",
    [
        ([{"column": "source", "equals": "web"}], 4, 3),  # en, de, en, fr
        ([{"column": "source", "in": ["books"]}, {"column": "lang", "not_equals": "de"}], 2, 1),  # en, en (a null is never "not de")
        ([{"column": "n_chars", "ge": 50}], 4, 3),  # de, en, fr, en (NaN never meets a comparison)
        ([{"column": "n_chars", "lt": 50, "gt": None}], 3, 1),
        ([{"column": "lang", "is_null": True}], 1, None),
        ([{"column": "flag", "equals": False}], 3, 2),
        ([{"column": "lang", "not_in": ["en", "de"]}], 1, 1),  # fr only: nulls never match not_in
    ],
)
def test_where_restricts_the_rows(where, expected_rows, expected_value):
    where = [{k: v for k, v in c.items() if v is not None} for c in where]
    r = run(where=where)
    assert r.details["rows_matching_where"] == expected_rows
    if expected_value is None:
        assert r.outcome == "error" and "0 non-null values" in r.reason
    else:
        assert r.observed == expected_value


@pytest.mark.parametrize(
    "where, message",
    [
        ([{"column": "lang", "gt": 3}], "where: column 'lang' is not numeric"),
        ([{"column": "n_chars", "equals": "long"}], "holds numbers; 'equals' cannot compare it with 'long'"),
        ([{"column": "flag", "equals": "yes"}], "holds booleans"),
        ([{"column": "nope", "equals": "x"}], "column 'nope' not found"),
    ],
)
def test_where_on_a_type_it_cannot_compare_is_an_error_naming_the_rule(where, message):
    r = run(where=where)
    assert r.outcome == "error" and message in r.reason and r.rule_id == "r"


def test_where_needs_exactly_one_comparison():
    with pytest.raises(RuleFileError, match="a condition needs exactly one of"):
        load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "x", "min": 0,
                                             "where": [{"column": "a", "gt": 1, "lt": 3}]}]})


def test_group_by_gives_one_result_per_group_and_an_overall_outcome():
    doc = {"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "group_by": "source", "min": 0.9}]}
    report = validate(DF, load_rules(doc))
    r = report["r"]
    groups = {g["group"]: g for g in r.details["groups"]}
    assert set(groups) == {"books", "web"}
    assert groups["web"]["observed"] == pytest.approx(1.5)  # en 2, de 1, fr 1
    assert groups["books"]["observed"] == pytest.approx(0.9182958, abs=1e-7)  # en 2, de 1 (null dropped)
    assert r.outcome == "passed" and r.n == 7
    strict = validate(DF, load_rules({"version": 1, "rules": [dict(doc["rules"][0], min=1.0)]}))["r"]
    assert strict.outcome == "failed" and "1 of 2 groups did not pass: books (failed 0.9183)" in strict.reason
    text = render_text(validate(DF, load_rules({"version": 1, "rules": [dict(doc["rules"][0], min=1.0)]})))
    assert "source=books" in text and "source=web" in text


def test_group_by_and_where_together_and_a_missing_group_column():
    doc = {"version": 1, "rules": [{"id": "r", "metric": "distinct_count", "column": "lang", "group_by": "source", "min": 2,
                                     "where": [{"column": "n_chars", "ge": 40}]}]}
    r = validate(DF, load_rules(doc))["r"]
    assert {g["group"]: g["observed"] for g in r.details["groups"]} == {"books": 1, "web": 3}
    assert r.outcome == "failed"
    missing = validate(DF, load_rules({"version": 1, "rules": [dict(doc["rules"][0], group_by="sorce")]}))["r"]
    assert missing.outcome == "error" and "group_by: column 'sorce' not found" in missing.reason


def test_a_sampled_slice_keeps_global_row_numbers():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "keep": [True, False] * 200})
    rule = {"id": "d", "metric": "distance_spread", "columns": ["a", "b"], "sample": {"rows": 50, "seed": 3}, "min": 0,
            "where": [{"column": "keep", "equals": True}]}
    whole = validate(df, load_rules({"version": 1, "rules": [rule]}))["d"]
    # the same rows, measured as their own dataset, would be numbered 0..199: a different sample
    alone = validate(df[df.keep].reset_index(drop=True), load_rules({"version": 1, "rules": [dict(rule, where=None)]}))["d"]
    assert whole.details["sample_size"] == alone.details["sample_size"] == 50
    assert whole.observed != alone.observed
    again = validate(df, load_rules({"version": 1, "rules": [rule]}))["d"]
    assert again.observed == whole.observed


@pytest.mark.parametrize(
    "where, message",
    [([{"column": "flag", "gt": 0}], "holds booleans; 'gt' compares numbers"),
     ([{"column": "n_chars", "equals": True}], "holds numbers; 'equals' cannot compare it with True")],
)
def test_where_does_not_mix_booleans_and_numbers(where, message):
    r = run(where=where)
    assert r.outcome == "error" and message in r.reason


def test_an_empty_where_slice_says_so():
    r = run(where=[{"column": "n_chars", "gt": 1000}])
    assert r.outcome == "error" and r.reason == "no rows meet the where conditions (n_chars gt 1000.0) among the 8 rows"
