"""Diversity of one column from its category counts (pure numpy), and coverage of a reference.

All functions take counts (or weights) per category, shape (K,), finite and >= 0 with a
positive total; zero counts are categories not observed and are ignored.
"""

from __future__ import annotations

import math

import numpy as np


def _observed(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64).ravel()
    if c.size == 0:
        raise ValueError("no categories")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts must be finite and >= 0")
    c = c[c > 0]
    if c.size == 0:
        raise ValueError("all counts are 0")
    return c


def hill_number(counts, order: float = 1.0) -> float:
    """Hill number of order q: the effective number of categories.

    ``D_q = (sum_i p_i^q)^(1 / (1 - q))``; ``D_0 = K`` (categories observed),
    ``D_1 = exp(H)`` with H the Shannon entropy in nats, ``D_2 = 1 / sum p_i^2`` (inverse
    Simpson), ``D_inf = 1 / max p_i``. Non-increasing in q; in [1, K].

    Parameters
    ----------
    counts : array_like, shape (K,)
        Counts per category.
    order : float
        q >= 0, or ``math.inf``.

    Returns
    -------
    float
        Effective number of categories, in [1, K].

    Raises
    ------
    ValueError
        Bad counts, or q < 0 / NaN.

    References
    ----------
    .. [1] M. O. Hill, "Diversity and evenness: a unifying notation and its consequences",
       Ecology 54 (1973), eq. 2.
    .. [2] L. Jost, "Entropy and diversity", Oikos 113 (2006).

    Examples
    --------
    Four equal categories are four effective categories at every order.

    >>> hill_number([5, 5, 5, 5], order=2)
    4.0
    """
    if not (order >= 0):
        raise ValueError(f"The 'order' parameter of hill_number must be >= 0. Got {order!r} instead.")
    c = _observed(counts)
    p = c / c.sum()
    k = c.size
    if order == 0:
        value = float(k)
    elif order == 1:
        value = math.exp(float(-(p * np.log(p)).sum()))
    elif math.isinf(order):
        value = 1.0 / float(p.max())
    else:
        # sum p^q via logs avoids underflow of p^q for large q
        value = math.exp(math.log(float(np.sum(np.exp(order * np.log(p))))) / (1.0 - order))
    return min(max(value, 1.0), float(k))  # rounding must not step outside [1, K]


def gini_simpson(counts) -> float:
    """Gini-Simpson index ``1 - sum_i p_i^2``: the chance that two rows drawn with replacement
    differ; in [0, 1 - 1/K].

    Source: E. H. Simpson, "Measurement of diversity", Nature 163 (1949); Jost (2006).
    Parameters and errors as :func:`hill_number` (no order).

    >>> gini_simpson([1, 1])
    0.5
    """
    c = _observed(counts)
    p = c / c.sum()
    return max(0.0, 1.0 - float(p @ p))


def distinct_count(counts) -> float:
    """Number of categories observed (count > 0)."""
    return float(_observed(counts).size)


def distinct_ratio(counts) -> float:
    """Categories observed per row, K / N, in (0, 1] for integer counts (1: every value unique)."""
    c = _observed(counts)
    return c.size / float(c.sum())


def dominance(counts) -> float:
    """Share of the largest category, ``max_i p_i`` (Berger-Parker index), in [1/K, 1].

    Source: W. H. Berger and F. L. Parker, Science 168 (1970).
    """
    c = _observed(counts)
    return float(c.max() / c.sum())


def imbalance_ratio(counts) -> float:
    """Largest over smallest observed category count, ``max c / min c``, >= 1 (1: balanced)."""
    c = _observed(counts)
    return float(c.max() / c.min())


def coverage(p_counts, q_probabilities, of: str = "categories") -> float:
    """How much of a reference the data covers.

    ``of='categories'``: the share of the reference's categories (q_i > 0) that the data has
    (p_i > 0). ``of='mass'``: the reference probability of those categories, sum of q_i over
    p_i > 0. Both in [0, 1]; 1 when every reference category occurs in the data.

    Parameters
    ----------
    p_counts : array_like, shape (K,)
        The data's counts on the union of cells.
    q_probabilities : array_like, shape (K,)
        The reference's probabilities on the same cells.
    of : {'categories', 'mass'}

    Raises
    ------
    ValueError
        Shapes differ, bad values, or an unknown ``of``.
    """
    p = np.asarray(p_counts, dtype=np.float64).ravel()
    q = np.asarray(q_probabilities, dtype=np.float64).ravel()
    if p.shape != q.shape:
        raise ValueError(f"P and Q must have the same cells; got shapes {p.shape} and {q.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))) or np.any(p < 0) or np.any(q < 0):
        raise ValueError("counts and probabilities must be finite and >= 0")
    in_reference = q > 0
    if not in_reference.any():
        raise ValueError("the reference has no categories with probability > 0")
    present = p > 0
    if of == "categories":
        return float((present & in_reference).sum() / in_reference.sum())
    if of == "mass":
        # fsum: the correctly rounded sum, so that 0.5 + 0.2 + 0.2 is 0.9 and meets a bound of 0.9
        return float(min(math.fsum(q[present]) / math.fsum(q), 1.0))
    raise ValueError(f"The 'of' parameter of coverage must be 'categories' or 'mass'. Got {of!r} instead.")
