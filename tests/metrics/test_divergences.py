"""The divergence family against independent references: scipy, hand computation, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.spatial.distance
import scipy.stats

from validator import load_rules, validate
from validator.metrics.divergence import (
    hellinger_distance,
    js_distance,
    js_divergence,
    linf_distance,
    population_stability_index,
    total_variation,
)

P = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
Q = np.array([0.1, 0.3, 0.2, 0.25, 0.15])


def test_js_matches_scipy_jensenshannon():
    # scipy.spatial.distance.jensenshannon(p, q, base=2) is the distance sqrt(JS)
    expected = scipy.spatial.distance.jensenshannon(P / P.sum(), Q, base=2)
    assert js_distance(P, Q) == pytest.approx(expected, rel=1e-12)
    assert js_divergence(P, Q) == pytest.approx(expected**2, rel=1e-12)
    assert js_divergence(P, Q, base="e") == pytest.approx(expected**2 * math.log(2), rel=1e-12)


def test_js_between_disjoint_distributions_is_exactly_one_bit():
    assert js_divergence([2, 3, 0, 0], [0.0, 0.0, 0.5, 0.5]) == 1.0
    assert js_distance([1, 0], [0.0, 1.0]) == 1.0


def test_H06_population_stability_index():
    # reference counts [4, 3, 2, 1]; data [5, 5, 0, 0]: infinite unsmoothed
    assert population_stability_index([5, 5, 0, 0], [0.4, 0.3, 0.2, 0.1]) == math.inf
    # laplace 1: data [6, 6, 1, 1] / 14 vs reference [5, 4, 3, 2] / 14, in nats (hand computed:
    # (1 ln 6/5 + 2 ln 6/4 + 2 ln 3 + 1 ln 2) / 14 = 0.2774017)
    p, q = np.array([6, 6, 1, 1]) / 14, np.array([5, 4, 3, 2]) / 14
    assert population_stability_index(p, q, base="e") == pytest.approx(0.2774017, abs=1e-7)
    # data [3, 3, 3, 1]: 0.1 ln 1.5 + 0.1 ln(4/3) = 0.0693147 nats
    assert population_stability_index([3, 3, 3, 1], [0.4, 0.3, 0.2, 0.1], base="e") == pytest.approx(0.0693147, abs=1e-7)


def test_H06_as_a_rule_with_laplace_smoothing():
    df = pd.DataFrame({"x": ["a"] * 5 + ["b"] * 5})
    ref = {"counts": {"a": 4, "b": 3, "c": 2, "d": 1}}
    rule = {"id": "psi", "metric": "population_stability_index", "column": "x", "reference": ref, "base": "e", "max": 0.25}
    r = validate(df, load_rules({"version": 1, "rules": [rule]}))["psi"]
    assert r.observed == math.inf and r.outcome == "failed" and r.details["missing_in_data"] == ["c", "d"]
    smoothed = dict(rule, smoothing={"laplace": 1})
    r = validate(df, load_rules({"version": 1, "rules": [smoothed]}))["psi"]
    assert r.observed == pytest.approx(0.2774017, abs=1e-7) and r.units == "nats" and r.outcome == "failed"


def test_psi_is_kl_both_ways():
    p = P / P.sum()
    expected = scipy.stats.entropy(p, Q) + scipy.stats.entropy(Q, p)  # nats
    assert population_stability_index(P, Q, base="e") == pytest.approx(expected, rel=1e-12)


def test_distances_by_hand():
    p, q = [1, 1, 2], [0.5, 0.5, 0.0]  # p = (.25, .25, .5)
    assert total_variation(p, q) == pytest.approx(0.5)  # (.25 + .25 + .5) / 2
    assert linf_distance(p, q) == pytest.approx(0.5)
    # 1 - (sqrt(.125) + sqrt(.125) + 0) = 1 - 1/sqrt(2)
    assert hellinger_distance(p, q) == pytest.approx(math.sqrt(1 - 1 / math.sqrt(2)), rel=1e-12)
    assert hellinger_distance([1, 0], [0.0, 1.0]) == 1.0
    assert total_variation([1, 0], [0.0, 1.0]) == 1.0


def test_kl_in_the_reference_to_data_direction():
    df = pd.DataFrame({"x": ["a"] * 8 + ["b"] * 2})
    ref = {"categories": {"a": 0.5, "b": 0.5}}
    rule = {"id": "k", "metric": "kl_divergence", "column": "x", "reference": ref, "direction": "reference_to_data", "max": 5}
    r = validate(df, load_rules({"version": 1, "rules": [rule]}))["k"]
    assert r.observed == pytest.approx(scipy.stats.entropy([0.5, 0.5], [0.8, 0.2], base=2), rel=1e-12)
    # a reference category the data lacks makes D(Q || P) infinite, and is named
    ref3 = {"categories": {"a": 0.4, "b": 0.4, "c": 0.2}}
    r = validate(df, load_rules({"version": 1, "rules": [dict(rule, reference=ref3)]}))["k"]
    assert r.observed == math.inf and r.details["missing_in_data"] == ["c"] and "missing_in_reference" not in r.details


@pytest.mark.parametrize(
    "metric, expected, units",
    [
        ("js_divergence", None, "bits"),
        ("js_distance", None, "bits"),
        ("total_variation", 0.3, "unitless, 0 to 1"),
        ("hellinger_distance", math.sqrt(1 - math.sqrt(0.8 * 0.5) - math.sqrt(0.2 * 0.5)), "unitless, 0 to 1"),
        ("linf_distance", 0.3, "unitless, 0 to 1"),
    ],
)
def test_every_divergence_runs_as_a_rule(metric, expected, units):
    df = pd.DataFrame({"x": ["a"] * 8 + ["b"] * 2})
    rule = {"id": "d", "metric": metric, "column": "x", "reference": {"categories": {"a": 0.5, "b": 0.5}}, "max": 1}
    r = validate(df, load_rules({"version": 1, "rules": [rule]}))["d"]
    if expected is None:
        js = scipy.spatial.distance.jensenshannon([0.8, 0.2], [0.5, 0.5], base=2)
        expected = js if metric == "js_distance" else js**2
    assert r.observed == pytest.approx(expected, rel=1e-12) and r.units == units and r.outcome == "passed"
    assert r.details["largest_differences"][0]["category"] in ("a", "b")


def test_base_is_refused_on_unitless_distances():
    from validator import RuleFileError

    with pytest.raises(RuleFileError, match="unknown key 'base'"):
        load_rules({"version": 1, "rules": [{"id": "d", "metric": "total_variation", "column": "x",
                                             "reference": {"categories": {"a": 1.0}}, "base": 2, "max": 1}]})


def test_chi_square_matches_scipy_chisquare():
    from validator.metrics.divergence import chi_square_gof

    observed = np.array([18, 22, 31, 29])
    q = np.array([0.2, 0.25, 0.3, 0.25])
    ref = scipy.stats.chisquare(observed, f_exp=observed.sum() * q)
    statistic, p_value, dof = chi_square_gof(observed, q)
    assert statistic == pytest.approx(ref.statistic, rel=1e-12) and p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert dof == 3


def test_chi_square_edge_cases():
    from validator.metrics.divergence import chi_square_gof

    assert chi_square_gof([7], [1.0]) == (0.0, 1.0, 0)  # one category: p = 1, not NaN
    assert chi_square_gof([5, 1], [1.0, 0.0]) == (math.inf, 0.0, 1)


def test_chi_square_rule_reports_statistic_and_p_value():
    df = pd.DataFrame({"x": ["a"] * 30 + ["b"] * 10})
    rule = {"id": "c", "metric": "chi_square", "column": "x", "reference": {"categories": {"a": 0.5, "b": 0.5}}, "min": 0.05}
    r = validate(df, load_rules({"version": 1, "rules": [rule]}))["c"]
    ref = scipy.stats.chisquare([30, 10])
    assert r.observed == pytest.approx(ref.pvalue) and r.outcome == "failed" and r.units == "p-value"
    assert r.details["statistic"] == pytest.approx(ref.statistic) and r.details["degrees_of_freedom"] == 1
    by_statistic = dict(rule, value="statistic", min=None, max=5)
    r = validate(df, load_rules({"version": 1, "rules": [by_statistic]}))["c"]
    assert r.observed == pytest.approx(10.0) and r.outcome == "failed"


def test_infinite_chi_square_hint_offers_only_what_applies():
    df = pd.DataFrame({"x": ["a", "z"]})
    rule = {"id": "c", "metric": "chi_square", "column": "x", "reference": {"categories": {"a": 1.0}}, "min": 0.05}
    r = validate(df, load_rules({"version": 1, "rules": [rule]}))["c"]
    assert "add them to the reference or name a catch-all 'other' category" in r.reason and "smooth" not in r.reason
    binned = {"id": "k", "metric": "kl_divergence", "column": "v", "reference": {"bins": {"edges": [0, 1], "probabilities": [1.0]}}, "max": 1}
    r = validate(pd.DataFrame({"v": [0.5, 3.0]}), load_rules({"version": 1, "rules": [binned]}))["k"]
    assert "widen the reference's edges or smooth explicitly" in r.reason and "'> 1'" in r.reason
