"""Divergence of the data's distribution P from a reference Q (pure numpy/scipy).

Direction (docs/DESIGN.md): P is the dataset, Q the reference, D(P || Q) = sum p_i log(p_i / q_i),
over the union of both supports. Smoothing is never implicit: :func:`laplace_smooth` and
:func:`epsilon_smooth` are applied by the caller when the rule asks, and reported.
"""

from __future__ import annotations

import math

import numpy as np
import scipy  # submodules (scipy.stats, .spatial, .sparse) load on first use

from .units import log_base

PROBABILITY_TOLERANCE = 1e-6


def rel_entr(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise ``p log(p / q)`` with ``0 log(0 / q) = 0`` and ``p log(p / 0) = +inf`` for p > 0.

    The same convention as ``scipy.special.rel_entr`` (tested against it); numpy only, which
    keeps scipy.special's import (~0.1 s) out of every run.
    """
    out = np.zeros(np.broadcast(p, q).shape)
    pos = p > 0
    with np.errstate(divide="ignore"):
        out[pos] = p[pos] * np.log(p[pos] / q[pos])
    return out


def shares(counts: np.ndarray) -> np.ndarray:
    """``counts / sum(counts)`` without overflow: counts near 1e308 would sum to inf.

    Parameters
    ----------
    counts : ndarray, shape (K,)
        Finite, >= 0, with a positive total.

    Returns
    -------
    ndarray, shape (K,)
        Shares summing to 1.
    """
    total = counts.sum()
    if np.isfinite(total):
        return counts / total  # the exact division whenever the total is representable
    scaled = counts / counts.max()
    return scaled / scaled.sum()


def _as_distribution(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0 (a divergence is never computed from NaN)")
    return a


def _pair(p_counts, q_probabilities) -> tuple[np.ndarray, np.ndarray]:
    """Data shares and reference probabilities on the same cells, validated as in kl_divergence."""
    p = _as_distribution(p_counts, "p_counts")
    q = _as_distribution(q_probabilities, "q_probabilities")
    if p.shape != q.shape:
        raise ValueError(f"P and Q must have the same cells; got shapes {p.shape} and {q.shape}")
    if not p.max() > 0:
        raise ValueError("the data distribution has no mass (0 rows)")
    if abs(q.sum() - 1.0) > PROBABILITY_TOLERANCE:
        raise ValueError(f"reference probabilities must sum to 1 within {PROBABILITY_TOLERANCE:g}; they sum to {q.sum():.10g}")
    return shares(p), q


def kl_divergence(p_counts, q_probabilities, *, base=2) -> float:
    """Kullback-Leibler divergence D(P || Q) of the data P from the reference Q.

    ``D(P || Q) = sum_i p_i log(p_i / q_i)`` with ``p = p_counts / sum(p_counts)``; terms with
    ``p_i = 0`` are 0; a cell with ``p_i > 0`` and ``q_i = 0`` makes D infinite.

    Parameters
    ----------
    p_counts : array_like, shape (K,)
        The data's counts (or weights, or probabilities) per cell of the union, finite, >= 0,
        positive total. Normalised by their total: counts become shares.
    q_probabilities : array_like, shape (K,)
        The reference's probabilities on the same cells, finite, >= 0, summing to 1 within
        1e-6. Never renormalised here (scipy issue 12553): a reference given as counts must be
        divided by its total by the caller, explicitly.
    base : {2, 'e', 10}
        Logarithm base: 2 gives bits (default), 'e' nats.

    Returns
    -------
    float
        D(P || Q) in [0, +inf]; never negative (rounding below zero is clipped to 0), never NaN.

    Raises
    ------
    ValueError
        Shapes differ, a value is negative or non-finite, P has a zero total, or Q does not
        sum to 1.

    References
    ----------
    .. [1] S. Kullback and R. A. Leibler, "On Information and Sufficiency", Annals of
       Mathematical Statistics 22 (1951).
    .. [2] T. M. Cover and J. A. Thomas, Elements of Information Theory, 2nd ed. (2006), eq. 2.26.

    Examples
    --------
    Handed case H03: P = (0, .1, .9), Q = (.1, .1, .8) gives 0.9 log2(0.9/0.8) bits.

    >>> round(kl_divergence([0, .1, .9], [.1, .1, .8]), 7)
    0.1529325
    >>> kl_divergence([.3, .3, .4], [.5, .5, 0])
    inf
    """
    p, q = _pair(p_counts, q_probabilities)
    value = float(rel_entr(p, q).sum())
    if math.isinf(value):
        return math.inf
    return (value if value > 0 else 0.0) / log_base(base)  # clip rounding below 0, and -0.0


def kl_contributions(p_counts, q_probabilities, *, base=2) -> np.ndarray:
    """Per-cell terms ``p_i log(p_i / q_i)`` of :func:`kl_divergence` (same units); may be negative.

    Parameters and errors as :func:`kl_divergence`; returns shape (K,).
    """
    p = _as_distribution(p_counts, "p_counts")
    q = _as_distribution(q_probabilities, "q_probabilities")
    return rel_entr(shares(p), q) / log_base(base)


def laplace_smooth(p_counts, q_counts, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Additive (Laplace / Lidstone) smoothing of both count vectors over the union of cells.

    Adds ``alpha`` to every cell of the data counts and of the reference counts, then divides
    each by its new total.

    Parameters
    ----------
    p_counts, q_counts : array_like, shape (K,)
        Data and reference counts on the same cells (finite, >= 0).
    alpha : float
        Pseudo-count added to each cell, > 0.

    Returns
    -------
    p, q : ndarray, shape (K,)
        Smoothed probabilities, each summing to 1.

    References
    ----------
    .. [1] C. D. Manning and H. Schuetze, Foundations of Statistical NLP (1999), sec. 6.2.2.
    """
    if not alpha > 0:
        raise ValueError(f"The 'alpha' parameter of laplace_smooth must be > 0. Got {alpha!r} instead.")
    p = _as_distribution(p_counts, "p_counts") + alpha
    q = _as_distribution(q_counts, "q_counts") + alpha
    return shares(p), shares(q)


def epsilon_smooth(q_probabilities, epsilon: float) -> np.ndarray:
    """Mix a reference with the uniform distribution: ``q' = (1 - e) q + e / K``.

    Parameters
    ----------
    q_probabilities : array_like, shape (K,)
        Reference probabilities over the union of cells, summing to 1.
    epsilon : float
        Mixing weight in (0, 1).

    Returns
    -------
    ndarray, shape (K,)
        Probabilities, all > 0, summing to 1.
    """
    if not 0 < epsilon < 1:
        raise ValueError(f"The 'epsilon' parameter of epsilon_smooth must be in (0, 1). Got {epsilon!r} instead.")
    q = _as_distribution(q_probabilities, "q_probabilities")
    return (1.0 - epsilon) * q + epsilon / q.size


def js_divergence(p_counts, q_probabilities, *, base=2) -> float:
    """Jensen-Shannon divergence of the data P and the reference Q.

    ``JS(P, Q) = 1/2 D(P || M) + 1/2 D(Q || M)`` with ``M = (P + Q) / 2``: symmetric, always
    finite (M > 0 wherever P or Q is), in ``[0, log 2]``, i.e. in [0, 1] bits with base 2.

    Parameters
    ----------
    p_counts : array_like, shape (K,)
        The data's counts (or shares) per cell of the union; normalised by their total.
    q_probabilities : array_like, shape (K,)
        The reference's probabilities on the same cells, summing to 1 within 1e-6.
    base : {2, 'e', 10}
        Logarithm base: 2 gives bits (default).

    Returns
    -------
    float
        JS(P, Q) in [0, log_base 2]; 1 bit exactly for disjoint supports.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    References
    ----------
    .. [1] J. Lin, "Divergence measures based on the Shannon entropy", IEEE Transactions on
       Information Theory 37 (1991), eq. 4.1.

    Examples
    --------
    >>> js_divergence([1, 0], [0.0, 1.0])
    1.0
    """
    p, q = _pair(p_counts, q_probabilities)
    m = 0.5 * (p + q)
    value = 0.5 * float(rel_entr(p, m).sum()) + 0.5 * float(rel_entr(q, m).sum())
    return min(max(value, 0.0), math.log(2.0)) / log_base(base)


def js_distance(p_counts, q_probabilities, *, base=2) -> float:
    """Jensen-Shannon distance ``sqrt(JS(P, Q))``: a metric on distributions; in [0, 1] with base 2.

    Parameters, errors and source as :func:`js_divergence`; this is what
    ``scipy.spatial.distance.jensenshannon`` returns (Endres and Schindelin, IEEE Transactions
    on Information Theory 49 (2003)).
    """
    return math.sqrt(js_divergence(p_counts, q_probabilities, base=base))


def population_stability_index(p_counts, q_probabilities, *, base=2) -> float:
    """Population stability index of the data P against the reference Q.

    ``PSI = sum_i (p_i - q_i) log(p_i / q_i) = D(P || Q) + D(Q || P)``: symmetric, >= 0, infinite
    when a cell has mass on one side only (smooth explicitly to avoid that).

    Parameters
    ----------
    p_counts : array_like, shape (K,)
        The data's counts per cell of the union; normalised by their total.
    q_probabilities : array_like, shape (K,)
        The reference's probabilities on the same cells, summing to 1 within 1e-6.
    base : {2, 'e', 10}
        Logarithm base; customary PSI thresholds (0.1 small shift, 0.25 large) are in nats.

    Returns
    -------
    float
        PSI in [0, +inf].

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    References
    ----------
    .. [1] B. Yurdakul, "Statistical Properties of Population Stability Index", PhD thesis,
       Western Michigan University (2018), eq. 1.1.

    Examples
    --------
    Handed case H06: data [3, 3, 3, 1] against reference [.4, .3, .2, .1] gives 0.0693147 nats.

    >>> round(population_stability_index([3, 3, 3, 1], [.4, .3, .2, .1], base="e"), 7)
    0.0693147
    """
    p, q = _pair(p_counts, q_probabilities)
    value = float(rel_entr(p, q).sum()) + float(rel_entr(q, p).sum())
    if math.isinf(value):
        return math.inf
    return (value if value > 0 else 0.0) / log_base(base)


def total_variation(p_counts, q_probabilities) -> float:
    """Total variation distance ``1/2 sum_i |p_i - q_i|``: the largest difference in the
    probability the two give to any set of cells; in [0, 1], unitless.

    Parameters and errors as :func:`kl_divergence` (no base). Source: A. B. Tsybakov,
    Introduction to Nonparametric Estimation (2009), def. 2.4.
    """
    p, q = _pair(p_counts, q_probabilities)
    return min(0.5 * float(np.abs(p - q).sum()), 1.0)


def hellinger_distance(p_counts, q_probabilities) -> float:
    """Hellinger distance ``sqrt(1 - sum_i sqrt(p_i q_i))`` = ``||sqrt(p) - sqrt(q)||_2 / sqrt(2)``;
    in [0, 1], unitless, 1 for disjoint supports.

    Parameters and errors as :func:`kl_divergence` (no base). Source: Tsybakov (2009), def. 2.3.
    """
    p, q = _pair(p_counts, q_probabilities)
    diff = np.sqrt(p) - np.sqrt(q)  # the difference form has no cancellation near 0
    return min(math.sqrt(0.5 * float(diff @ diff)), 1.0)


def linf_distance(p_counts, q_probabilities) -> float:
    """L-infinity distance ``max_i |p_i - q_i|``: the largest difference of one cell's share;
    in [0, 1], unitless (TFDV's categorical drift measure).

    Parameters and errors as :func:`kl_divergence` (no base).
    """
    p, q = _pair(p_counts, q_probabilities)
    return float(np.abs(p - q).max())


def chi_square_gof(observed_counts, q_probabilities) -> tuple[float, float, int]:
    """Pearson's chi-square goodness-of-fit test of the data's counts against the reference.

    ``X^2 = sum_i (O_i - E_i)^2 / E_i`` with ``E_i = N q_i``, on K cells with K - 1 degrees of
    freedom; the p-value is the chi-square survival function at X^2.

    Parameters
    ----------
    observed_counts : array_like, shape (K,)
        The data's counts per cell of the union (rows, not shares).
    q_probabilities : array_like, shape (K,)
        The reference's probabilities on the same cells, summing to 1 within 1e-6.

    Returns
    -------
    statistic : float
        X^2 in [0, +inf]; +inf when a cell with data has q_i = 0.
    p_value : float
        In [0, 1]; 1 for a single cell (no degrees of freedom; never NaN), 0 when X^2 is +inf.
    dof : int
        K - 1.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    References
    ----------
    .. [1] K. Pearson, "On the criterion that a given system of deviations ...", Philosophical
       Magazine 50 (1900); scipy.stats.chisquare computes the same statistic and p-value.

    Examples
    --------
    >>> chi_square_gof([10, 10], [0.5, 0.5])
    (0.0, 1.0, 1)
    """
    o = _as_distribution(observed_counts, "observed_counts")
    _, q = _pair(o, q_probabilities)
    n = float(o.sum())
    dof = o.size - 1
    if dof == 0:
        return 0.0, 1.0, 0
    expected = n * q
    if np.any((expected == 0) & (o > 0)):
        return math.inf, 0.0, dof
    cells = expected > 0
    statistic = float((((o[cells] - expected[cells]) ** 2) / expected[cells]).sum())

    return statistic, float(scipy.stats.chi2.sf(statistic, dof)), dof


def chi_square_p_value(observed_counts, q_probabilities) -> float:
    """The p-value of :func:`chi_square_gof` (the registered kernel of the ``chi_square`` metric)."""
    return chi_square_gof(observed_counts, q_probabilities)[1]
