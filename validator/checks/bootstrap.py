"""Confidence intervals of a measured value: seeded bootstrap resamples, and the asymptotic
noncentral chi-square interval of KL and JS divergences.

Imports: metrics, result, rules.model.
"""

from __future__ import annotations

import math

import numpy as np
import scipy  # its submodules load on first use (scipy.stats, scipy.optimize)

from ..metrics import log_base
from ..result import Result
from ..rules.model import CountRule, ReferenceRule


#: resamples by default; distance and Vendi rules cost a full statistic per resample
BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_RESAMPLES_ROWS = 50
#: rows of each subsample of distance and Vendi rules: half the sample, at most this many
BOOTSTRAP_SUBSAMPLE_MAX = 1000


def subsampler(X: np.ndarray, statistic):
    """Resampler for row statistics: subsamples of half the rows (<= 1,000), without replacement
    (resampling with replacement would create exact duplicate rows, biasing every distance)."""
    m = min(max(X.shape[0] // 2, 2), BOOTSTRAP_SUBSAMPLE_MAX)
    return lambda rng: statistic(X[rng.choice(X.shape[0], size=m, replace=False)])


#: 2N D_KL and 8N JS (nats) of N rows drawn from a fixed reference of K cells are asymptotically
#: chi-square(K - 1) when the truth is 0, noncentral with lambda = c N D near it
CHI2_SCALE = {"kl_divergence": 2.0, "js_divergence": 8.0}
#: the range of values a metric can take (the bias-corrected interval is clipped to it)
_UNIT_RANGE = {"gini_simpson", "dominance", "distinct_ratio", "total_variation", "hellinger_distance", "linf_distance",
               "coverage"}


def metric_range(rule) -> tuple[float, float]:
    if rule.metric in _UNIT_RANGE or (rule.metric == "entropy" and rule.normalize) or getattr(rule, "value", "") == "p_value":
        return 0.0, 1.0
    if rule.metric == "js_divergence":
        return 0.0, math.log(2.0) / log_base(rule.base)
    if rule.metric in ("hill_number", "imbalance_ratio", "distinct_count"):
        return 1.0, math.inf
    return 0.0, math.inf


def basic_interval(estimate: float, values: np.ndarray, confidence: float, value_range=(-math.inf, math.inf)) -> tuple[float, float]:
    """The basic (pivotal) bootstrap interval [2 t - t*_(1-a/2), 2 t - t*_(a/2)] of an estimate t,
    clipped to the metric's range and widened to contain t.

    The bootstrap's own bias (a plug-in divergence's resamples sit above the estimate by about
    the estimate's bias above the truth) is reflected, not copied: the percentile interval
    [t*_(a/2), t*_(1-a/2)] of a KL estimate of 0 lies entirely above 0. The order statistics
    at the tails are used without interpolation, as for the percentile interval; when the
    estimate or one of them is infinite, they are the interval's ends (the percentile interval).
    """
    tail = (1.0 - confidence) / 2.0
    low_q = float(np.quantile(values, tail, method="lower"))
    high_q = float(np.quantile(values, 1.0 - tail, method="higher"))
    if not (math.isfinite(estimate) and math.isfinite(low_q) and math.isfinite(high_q)):
        low, high = low_q, high_q  # an infinite estimate or resample: the percentile ends, infinity kept
    else:
        low, high = 2.0 * estimate - high_q, 2.0 * estimate - low_q
    low, high = max(low, value_range[0]), min(high, value_range[1])
    return min(low, estimate), max(high, estimate)


def chi2_interval(estimate: float, scale: float, df: int, confidence: float) -> tuple[float, float]:
    """Asymptotic interval of a divergence D from T = scale x D ~ noncentral chi-square(df,
    lambda = scale x D_true) (scale = 2N ln(base) for KL, 8N ln(base) for JS): the lambdas
    whose central ``confidence`` range holds T, over scale. When T does not reject D = 0 at
    level 1 - confidence (scipy.stats.chi2), the interval starts at 0 and reaches at least the
    chi-square's ``confidence`` quantile over scale (the estimate's size when the truth is 0)."""
    tail = (1.0 - confidence) / 2.0
    t = scale * estimate

    def solve(f):  # the lambda where a decreasing f crosses 0
        top = max(t, 1.0)
        while f(top) > 0:
            top *= 2.0
        return scipy.optimize.brentq(f, 0.0, top, xtol=1e-12 * max(top, 1.0))

    low = 0.0 if scipy.stats.chi2.sf(t, df) >= tail else solve(lambda lam: tail - scipy.stats.ncx2.sf(t, df, lam))
    high = 0.0 if scipy.stats.chi2.cdf(t, df) <= tail else solve(lambda lam: scipy.stats.ncx2.cdf(t, df, lam) - tail)
    if scipy.stats.chi2.sf(t, df) >= 1.0 - confidence:
        low, high = 0.0, max(high, float(scipy.stats.chi2.ppf(confidence, df)))
    return low / scale, high / scale


def bootstrap(rule, result: Result) -> None:
    """A seeded interval of the value at the rule's confidence level: basic (bias-reflecting)
    for count and categorical-divergence rules, with the asymptotic chi-square interval joined
    in for KL and JS; percentile (containing the estimate) for the rest."""
    spec = rule.bootstrap
    rows_statistic = rule.metric in ("distance_spread", "vendi_score")
    resamples = (spec.resamples if spec and spec.resamples else None) or (
        BOOTSTRAP_RESAMPLES_ROWS if rows_statistic else BOOTSTRAP_RESAMPLES
    )
    seed = spec.seed if spec else 0
    rng = np.random.default_rng(seed)
    values = np.array([result.resample(rng) for _ in range(resamples)], dtype=np.float64)
    values = values[~np.isnan(values)]
    tail = (1.0 - rule.confidence) / 2.0
    estimate = result.observed
    kind = "percentile (widened to contain the estimate)"
    if isinstance(rule, (CountRule, ReferenceRule)):
        low, high = basic_interval(estimate, values, rule.confidence, metric_range(rule))
        kind = "basic (2 x estimate - resample quantiles), clipped to the metric's range, containing the estimate"
    else:
        # the order statistics at the tails (no interpolation: an infinite resample stays infinite)
        low = min(float(np.quantile(values, tail, method="lower")), estimate)
        high = max(float(np.quantile(values, 1.0 - tail, method="higher")), estimate)
    chi2 = getattr(result.resample, "chi2", None)
    if chi2 is not None and math.isfinite(estimate):
        a, b = chi2_interval(estimate, chi2[0], chi2[1], rule.confidence)
        low, high = min(low, a), max(high, b)
        kind += f", joined with the asymptotic noncentral chi-square({chi2[1]}) interval"
    result.interval, result.confidence = (low, high), rule.confidence
    if rows_statistic:
        m = min(max(result.n // 2, 2), BOOTSTRAP_SUBSAMPLE_MAX)
        method = f"{kind}; {resamples} subsamples of {m} of the {result.n} sampled rows, without replacement"
    else:
        method = f"{kind}; {resamples} multinomial resamples of the {result.n} rows over the categories (cells)"
        if getattr(rule, "weight", None) is not None:
            method = f"{kind}; {resamples} resamples of the rows with their weights, with replacement"
    result.details["bootstrap"] = {"resamples": resamples, "seed": seed, "method": method}

