"""Bootstrap confidence intervals: seeded, shown in every format, and decide_on."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.special
import scipy.stats

from validator import RuleFileError, load_rules, validate
from validator.report.text import render_json, render_text

rng = np.random.default_rng(5)
DF = pd.DataFrame({"lang": rng.choice(["en", "de", "fr", "ja"], size=400, p=[0.4, 0.3, 0.2, 0.1]),
                   "a": rng.normal(size=400), "b": rng.normal(size=400)})


def one(**rule):
    return validate(DF, load_rules({"version": 1, "rules": [dict(rule, id="r")]}))["r"]


def test_interval_brackets_the_estimate_and_is_seeded():
    r = one(metric="entropy", column="lang", min=1.0, confidence=0.95)
    low, high = r.interval
    assert low <= r.observed <= high and high - low < 0.3
    assert r.details["bootstrap"]["resamples"] == 200 and r.details["bootstrap"]["seed"] == 0
    assert one(metric="entropy", column="lang", min=1.0, confidence=0.95).interval == r.interval  # same seed, same interval
    other = one(metric="entropy", column="lang", min=1.0, confidence=0.95, bootstrap={"seed": 1})
    assert other.interval != r.interval


def test_interval_matches_scipy_basic_bootstrap_roughly():
    # scipy.stats.bootstrap over the rows (basic method) as an independent reference
    codes = pd.factorize(DF["lang"])[0]
    ref = scipy.stats.bootstrap((codes,), lambda x: scipy.stats.entropy(np.bincount(x, minlength=4), base=2),
                                confidence_level=0.95, n_resamples=2000, method="basic", random_state=0, vectorized=False)
    r = one(metric="entropy", column="lang", min=0, confidence=0.95, bootstrap={"resamples": 2000})
    assert r.interval[0] == pytest.approx(ref.confidence_interval.low, abs=0.02)
    assert r.interval[1] == pytest.approx(ref.confidence_interval.high, abs=0.02)


def test_decide_on_the_interval_end():
    estimate = one(metric="entropy", column="lang", confidence=0.95, min=1.8)
    assert estimate.observed > 1.8 and estimate.outcome == "passed"  # H ~ 1.85 bits
    lower = one(metric="entropy", column="lang", confidence=0.95, min=1.8, decide_on="lower")
    assert lower.interval[0] < 1.8 and lower.outcome == "failed" and "the interval's lower end" in lower.reason
    ref = {"categories": {"en": 0.4, "de": 0.3, "fr": 0.2, "ja": 0.1}}
    upper = one(metric="kl_divergence", column="lang", reference=ref, max=0.01, confidence=0.9, decide_on="upper")
    assert upper.observed <= 0.01 < upper.interval[1] and upper.outcome == "failed"


@pytest.mark.parametrize(
    "rule",
    [
        {"metric": "js_divergence", "column": "lang", "reference": {"categories": {"en": 0.5, "de": 0.5}}, "max": 1},
        {"metric": "hill_number", "column": "lang", "order": 2, "min": 1},
        {"metric": "distance_spread", "columns": ["a", "b"], "min": 0},
        {"metric": "distance_spread", "columns": ["a", "b"], "statistic": "median", "min": 0},
    ],
)
def test_every_kind_of_rule_gets_an_interval(rule):
    r = one(**rule, confidence=0.9)
    assert r.interval[0] <= r.interval[1] and r.confidence == 0.9
    if rule["metric"] == "distance_spread":
        assert r.details["bootstrap"]["resamples"] == 50 and "subsamples of 200 of the 400" in r.details["bootstrap"]["method"]


def test_interval_in_every_output_format():
    report = validate(DF, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "min": 1, "confidence": 0.95}]}))
    low, high = report["r"].interval
    text = render_text(report)
    assert f"[{low:.4g}, {high:.4g}] bits" in text and "95% bootstrap interval" in text
    payload = json.loads(render_json([report]))
    assert payload["results"][0]["interval"] == [low, high] and payload["results"][0]["confidence"] == 0.95


@pytest.mark.parametrize(
    "extra, message",
    [({"confidence": 1.5}, "less than 1"), ({"confidence": 0}, "greater than 0"),
     ({"decide_on": "lower"}, "decide_on 'lower' needs 'confidence'")],
)
def test_bad_confidence_settings(extra, message):
    with pytest.raises(RuleFileError, match=message):
        load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "x", "min": 0, **extra}]})


@pytest.mark.slow
def test_bootstrap_coverage_by_simulation():
    """Nominal 95% intervals cover the true value in >= 90% of 200 seeded trials (count metrics)."""
    p = np.array([0.4, 0.3, 0.2, 0.1])
    truth = {"entropy": scipy.stats.entropy(p, base=2), "gini_simpson": 1 - float(p @ p)}
    sim = np.random.default_rng(123)
    for metric, true_value in truth.items():
        covered = 0
        for trial in range(200):
            df = pd.DataFrame({"x": sim.choice(4, size=500, p=p).astype(str)})
            rule = {"id": "r", "metric": metric, "column": "x", "min": 0, "confidence": 0.95, "bootstrap": {"seed": trial}}
            low, high = validate(df, load_rules({"version": 1, "rules": [rule]}))["r"].interval
            covered += low <= true_value <= high
        assert covered >= 180, (metric, covered)


def test_weighted_rules_resample_rows_with_their_weights():
    df = DF.assign(tokens=rng.integers(1, 1000, size=len(DF)))
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": "entropy", "column": "lang", "weight": "tokens",
                                                          "min": 0, "confidence": 0.9, "bootstrap": {"resamples": 100}}]}))["r"]
    low, high = r.interval
    assert low <= r.observed <= high and "resamples of the rows with their weights" in r.details["bootstrap"]["method"]
    # an independent row bootstrap of the weighted entropy, with the same generator and seed
    sim = np.random.default_rng(0)
    codes = pd.factorize(df["lang"])[0]
    values = []
    for _ in range(100):
        idx = sim.integers(0, len(df), size=len(df))
        values.append(scipy.stats.entropy(np.bincount(codes[idx], weights=df["tokens"].to_numpy()[idx]), base=2))
    # the basic interval: 2 x estimate minus the resamples' upper and lower order statistics
    assert low == pytest.approx(2 * r.observed - np.quantile(values, 0.95, method="higher"))
    assert high == pytest.approx(2 * r.observed - np.quantile(values, 0.05, method="lower"))


@pytest.mark.parametrize(
    "rule, what",
    [({"metric": "vendi_score", "columns": ["a"], "min": 1}, "vendi_score"),
     ({"metric": "distance_spread", "columns": ["a"], "statistic": "mean_nn", "min": 0}, "statistic 'mean_nn'"),
     ({"metric": "distance_spread", "columns": ["a"], "statistic": "min", "min": 0}, "statistic 'min'")],
)
def test_no_interval_for_statistics_that_depend_on_the_number_of_rows(rule, what):
    # subsamples of half the rows give a Vendi score or a nearest-neighbour distance of a
    # smaller set: an interval that need not contain the estimate (seen: 5.42 outside [5.11, 5.31])
    with pytest.raises(RuleFileError, match=f"'confidence' is not available for {what}: its value depends on the number of rows"):
        load_rules({"version": 1, "rules": [dict(rule, id="r", confidence=0.9)]})


# -- bias-aware intervals (issue 11, section 6): basic bootstrap, chi-square near 0 -------------

from validator.checks import basic_interval, chi2_interval  # noqa: E402

REF4 = {"en": 0.4, "de": 0.3, "fr": 0.2, "ja": 0.1}


def test_basic_interval_formula_by_hand():
    # t = 1.0; resamples 0.5, 0.9, 1.2, 1.4, 2.0; 50%: order statistics at 0.25 (lower: 0.9) and
    # 0.75 (higher: 1.4); basic = [2 x 1.0 - 1.4, 2 x 1.0 - 0.9] = [0.6, 1.1]
    low, high = basic_interval(1.0, np.array([2.0, 0.5, 1.4, 0.9, 1.2]), 0.5)
    assert low == pytest.approx(0.6) and high == pytest.approx(1.1)
    # resamples all above the estimate (a plug-in divergence's bias): [0.2 - 0.6, 0.2 - 0.4] =
    # [-0.4, -0.2], clipped to the range [0, inf) and widened to hold the estimate: [0, 0.1]
    assert basic_interval(0.1, np.array([0.3, 0.4, 0.5, 0.6, 0.7]), 0.5, (0.0, math.inf)) == (0.0, 0.1)
    # an infinite resample (a category dropped from a resample) keeps the percentile ends
    assert basic_interval(0.5, np.array([0.4, 0.5, math.inf]), 0.5, (0.0, math.inf)) == (0.4, math.inf)


def test_chi2_interval_inverts_the_noncentral_chi_square():
    # T = 30 on 3 degrees of freedom: the ends are the lambdas whose 2.5% / 97.5% points are T
    low, high = chi2_interval(30.0 / 1000, 1000.0, 3, 0.95)
    assert scipy.stats.ncx2.sf(30.0, 3, low * 1000) == pytest.approx(0.025, abs=1e-9)
    assert scipy.stats.ncx2.cdf(30.0, 3, high * 1000) == pytest.approx(0.025, abs=1e-9)
    # T = 2 does not reject D = 0 (chi2(3) sf 0.57): [0, at least chi2(3)'s 95% point 7.8147]
    low, high = chi2_interval(2.0 / 1000, 1000.0, 3, 0.95)
    assert low == 0.0 and high * 1000 >= 7.8147


@pytest.mark.parametrize("metric, scale", [("kl_divergence", 2), ("js_divergence", 8)])
def test_divergence_interval_holds_an_estimate_of_0_when_data_equal_the_reference(metric, scale):
    # 400 rows with exactly the reference's shares: estimate 0; the percentile interval was
    # entirely above 0. Now [0, chi2(3) 95% point / (c N ln 2)] bits, c = 2 (KL) or 8 (JS)
    df = pd.DataFrame({"lang": ["en"] * 160 + ["de"] * 120 + ["fr"] * 80 + ["ja"] * 40})
    r = validate(df, load_rules({"version": 1, "rules": [{"id": "r", "metric": metric, "column": "lang", "reference": {"categories": REF4},
                                                          "max": 1, "confidence": 0.95}]}))["r"]
    assert r.observed == pytest.approx(0.0, abs=1e-12)
    assert r.interval[0] == 0.0 <= r.observed <= r.interval[1]
    assert r.interval[1] == pytest.approx(scipy.stats.chi2.ppf(0.95, 3) / (scale * 400 * math.log(2)), rel=1e-9)
    assert "noncentral chi-square(3)" in r.details["bootstrap"]["method"]


@pytest.mark.parametrize(
    "rule",
    [{"metric": "kl_divergence", "column": "lang", "reference": {"categories": REF4}, "max": 1},
     {"metric": "kl_divergence", "column": "lang", "reference": {"categories": REF4}, "direction": "reference_to_data", "max": 1},
     {"metric": "js_divergence", "column": "lang", "reference": {"categories": REF4}, "max": 1},
     {"metric": "hellinger_distance", "column": "lang", "reference": {"categories": REF4}, "max": 1},
     {"metric": "entropy", "column": "lang", "min": 0},
     {"metric": "entropy", "column": "lang", "estimator": "miller_madow", "min": 0},
     {"metric": "gini_simpson", "column": "lang", "min": 0}],
)
def test_estimate_is_inside_the_interval(rule):
    for seed in range(5):
        df = pd.DataFrame({"lang": np.random.default_rng(seed).choice(list(REF4), size=60, p=list(REF4.values()))})
        r = validate(df, load_rules({"version": 1, "rules": [dict(rule, id="r", confidence=0.95)]}))["r"]
        assert r.interval[0] <= r.observed <= r.interval[1], (seed, r.observed, r.interval)
        assert r.interval[0] >= 0 and "basic" in r.details["bootstrap"]["method"]


def test_interval_is_the_same_in_memory_stream_and_dask_engines(tmp_path):
    path = tmp_path / "d.csv"
    DF[["lang"]].to_csv(path, index=False)
    rules = load_rules({"version": 1, "rules": [
        {"id": "kl", "metric": "kl_divergence", "column": "lang", "reference": {"categories": REF4}, "max": 1, "confidence": 0.95},
        {"id": "js", "metric": "js_divergence", "column": "lang", "reference": {"categories": REF4}, "max": 1, "confidence": 0.9},
        {"id": "h", "metric": "entropy", "column": "lang", "min": 0, "confidence": 0.95}]})
    memory = validate(path, rules)
    for batch in (7, 100, 1000):
        stream = validate(path, rules, engine="stream", batch_rows=batch)
        for a, b in zip(memory.results, stream.results):
            assert a.interval == b.interval and a.details["bootstrap"] == b.details["bootstrap"], (a.rule_id, batch)
    pytest.importorskip("dask.dataframe", reason="needs the optional extra: pip install 'pretrain-validator[dask]'")
    dask_report = validate(path, rules, engine="dask")  # dask's local scheduler
    assert dask_report.results[-1].details["engine"].startswith("dask:")
    for a, b in zip(memory.results, dask_report.results):
        assert a.interval == b.interval and a.details["bootstrap"] == b.details["bootstrap"], a.rule_id


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["kl_divergence", "js_divergence"])
@pytest.mark.parametrize("truth_p", [[0.4, 0.3, 0.2, 0.1], [0.37, 0.3, 0.2, 0.13], [0.35, 0.3, 0.2, 0.15], [0.25, 0.25, 0.25, 0.25]],
                         ids=["drawn-from-the-reference", "near-0", "small", "large"])
def test_divergence_interval_coverage_by_simulation(metric, truth_p):
    """Nominal 95% intervals of KL and JS cover the true divergence (scipy.special.rel_entr of
    the generating shares against the reference) in >= 90% of 200 seeded trials of 500 rows,
    truth 0 (rows drawn from the reference itself) included."""
    p, q = np.array(truth_p), np.array(list(REF4.values()))
    m = (p + q) / 2
    truth = {"kl_divergence": scipy.special.rel_entr(p, q).sum() / math.log(2),
             "js_divergence": (scipy.special.rel_entr(p, m).sum() + scipy.special.rel_entr(q, m).sum()) / 2 / math.log(2)}[metric]
    sim = np.random.default_rng(123)
    covered = 0
    for trial in range(200):
        df = pd.DataFrame({"x": sim.choice(list(REF4), size=500, p=p)})
        rule = {"id": "r", "metric": metric, "column": "x", "reference": {"categories": REF4}, "max": 1, "confidence": 0.95,
                "bootstrap": {"seed": trial}}
        low, high = validate(df, load_rules({"version": 1, "rules": [rule]}))["r"].interval
        covered += low <= truth <= high
    assert covered >= 180, (metric, truth, covered)
