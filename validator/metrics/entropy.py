"""Shannon entropy of a distribution given by its category counts (pure numpy)."""

from __future__ import annotations

import math

import numpy as np

from .units import log_base

ESTIMATORS = ("plugin", "miller_madow")


def shannon_entropy(counts, *, base=2, estimator: str = "plugin", normalize: bool = False) -> float:
    """Shannon entropy of the empirical distribution given by category counts.

    ``H(X) = -sum_i p_i log p_i`` with ``p_i = c_i / sum(c)`` (the plug-in, maximum-likelihood
    estimate). The Miller-Madow estimator adds the first-order bias correction
    ``(K - 1) / (2 N)`` nats, K = categories with a count > 0, N = total count.

    Parameters
    ----------
    counts : array_like, shape (K,)
        Counts (or weights) per category: finite, >= 0, with a positive total. Zero counts are
        ignored (``0 log 0 = 0``). Never raw values: a column ``[1, 2, 2, 5]`` has counts
        ``[1, 2, 1]`` (handed case H02).
    base : {2, 'e', 10}
        Logarithm base: 2 gives bits (default), 'e' nats, 10 hartleys.
    estimator : {'plugin', 'miller_madow'}
        Plug-in or Miller-Madow bias-corrected estimate.
    normalize : bool
        Return ``H / log K`` (evenness in [0, 1] for the plug-in estimate; unitless); 0 when
        ``K == 1``.

    Returns
    -------
    float
        Entropy in the unit of ``base`` (unitless when ``normalize``). In ``[0, log K]``
        for the plug-in estimator.

    Raises
    ------
    ValueError
        Empty counts, a negative or non-finite count, a zero total, or an unknown estimator.

    References
    ----------
    .. [1] C. E. Shannon, "A Mathematical Theory of Communication", Bell System Technical
       Journal 27 (1948), eq. 4.
    .. [2] G. A. Miller, "Note on the bias of information estimates", in Information Theory in
       Psychology (1955); L. Paninski, "Estimation of entropy and mutual information",
       Neural Computation 15 (2003), sec. 3.

    Examples
    --------
    A fair coin has one bit; a column [1, 2, 2, 5] has counts [1, 2, 1] and 1.5 bits.

    >>> shannon_entropy([5, 5])
    1.0
    >>> shannon_entropy([1, 2, 1])
    1.5
    """
    c = np.asarray(counts, dtype=np.float64).ravel()
    if estimator not in ESTIMATORS:
        raise ValueError(f"The 'estimator' parameter must be one of {ESTIMATORS}. Got {estimator!r} instead.")
    if c.size == 0:
        raise ValueError("entropy of an empty distribution is undefined (no categories)")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts must be finite and >= 0")
    total = c.sum()
    if total <= 0:
        raise ValueError("entropy is undefined when all counts are 0")
    c = c[c > 0]
    k = c.size
    p = c / total
    h_nats = float(-(p * np.log(p)).sum())
    if estimator == "miller_madow":
        h_nats += (k - 1) / (2.0 * total)
    h_nats = h_nats if h_nats > 0 else 0.0  # -0.0 and rounding below zero for one category
    if normalize:
        return 0.0 if k == 1 else h_nats / math.log(k)
    return h_nats / log_base(base)


def sampled_type_entropy(counts, total: int, rate: float, *, base=2, estimator: str = "plugin"):
    """Shannon entropy of a distribution of ``total`` items of which only a sample of the
    *types* is known: each type kept (by a hash of the type) with probability ``rate``, its
    count exact.

    Bounds (they always hold, whatever was sampled): the sampled types' exact share of H,
    ``-sum_sampled (c/N) ln(c/N)``, plus for the ``R = N - sum_sampled c`` unsampled items
    between one single type (``-(R/N) ln(R/N)``) and ``R`` types of one item each
    (``(R/N) ln N``). Estimate: ``H = ln N - S / N`` nats with ``S = sum_types c ln c``
    estimated without bias over the choice of hash by Horvitz-Thompson,
    ``S^ = sum_sampled c ln c / rate``, of variance ``(1 - rate) / rate * sum_types (c ln c)^2``
    (reported as a standard error estimated from the sample, ``(1 - rate) / rate^2 *
    sum_sampled (c ln c)^2``), then clipped into the bounds. The standard error is no bound: on
    a heavy-tailed (Zipf) distribution it is large and itself underestimated when a frequent
    type is not sampled; only the bounds are guaranteed. Miller-Madow adds ``(K - 1) / (2 N)``
    with ``K`` estimated as sampled types / rate, and bounded by ``K_sampled + [R > 0]`` and
    ``K_sampled + R``.

    Returns
    -------
    (float, float, float, float)
        Estimate, standard error, lower bound, upper bound, in the unit of ``base``.
    """
    c = np.sort(np.asarray(counts, dtype=np.float64))
    n = float(total)
    if n <= 0 or c.size == 0 or not 0 < rate <= 1:
        raise ValueError("a sampled entropy needs a positive total, sampled types and a rate in (0, 1]")
    clc = c * np.log(c)
    h = math.log(n) - float(clc.sum()) / rate / n
    se = math.sqrt((1 - rate) / rate**2 * float(np.sum(clc * clc))) / n
    known = float(np.sum(-(c / n) * np.log(c / n)))
    rest = max(n - float(c.sum()), 0.0)
    low = known + (-(rest / n) * math.log(rest / n) if rest > 0 else 0.0)
    high = known + rest / n * math.log(n)
    if estimator == "miller_madow":
        h += (c.size / rate - 1) / (2 * n)
        se = math.hypot(se, math.sqrt((1 - rate) * c.size) / rate / (2 * n))
        low += (c.size + (1 if rest else 0) - 1) / (2 * n)
        high += (c.size + rest - 1) / (2 * n)
    elif estimator != "plugin":
        raise ValueError(f"unknown estimator {estimator!r}")
    scale = 1 / log_base(base)
    return min(max(h, low), high) * scale, se * scale, low * scale, high * scale
