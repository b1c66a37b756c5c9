"""Distances between two numeric distributions on the line (pure numpy/scipy).

- Exact, from the distinct values of each sample and their counts (:func:`ks_from_counts`,
  :func:`wasserstein_from_counts`): the mergeable summary behind ``ks_test`` and
  ``wasserstein_distance`` up to :data:`EXACT_DISTINCT_CAP` distinct values per side.
- Bounded, from the counts of both samples in shared cells of any widths, optionally with each
  cell's smallest and largest value (:func:`ks_bounds_from_cells`,
  :func:`wasserstein_bounds_from_cells`): a lower and an upper bound of the exact value.
- From histograms on one equal-width grid (:func:`ks_from_histograms`,
  :func:`wasserstein_from_histograms`), with an error bound (kept for the metric registry).
"""

from __future__ import annotations

import numpy as np
import scipy  # submodules (scipy.stats, .spatial, .sparse) load on first use

_EPS = float(np.finfo(np.float64).eps)


def _cdfs(p_counts, q_counts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1 or p.size < 1:
        raise ValueError(f"the two histograms must have the same bins; got shapes {p.shape} and {q.shape}")
    if not (p.sum() > 0 and q.sum() > 0):
        raise ValueError("both histograms need mass")
    # cumulative counts, then one division: F_i is within half an ulp of its exact value
    # (cumsum of shares would pile up k rounding errors, x 1e12 for a far-off cell's width)
    F, G = np.cumsum(p) / p.sum(), np.cumsum(q) / q.sum()
    return p / p.sum(), q / q.sum(), F, G


def wasserstein_from_histograms(p_counts, q_counts, edges) -> tuple[float, float]:
    """Wasserstein-1 (earth mover's) distance W1 = integral |F(x) - G(x)| dx, from histograms.

    Parameters
    ----------
    p_counts, q_counts : array_like, shape (k,)
        Counts of the data and of the reference in the same k bins.
    edges : array_like, shape (k + 1,)
        Equal-width bin edges spanning both samples (no mass outside).

    Returns
    -------
    w1 : float
        W1 with each bin's mass at the bin's centre, in the column's units.
    error_bound : float
        |w1 - exact W1| <= the bin width (moving any mass to its bin's centre costs at most
        half a width on each side).

    References
    ----------
    .. [1] S. S. Vallender, "Calculation of the Wasserstein distance between probability
       distributions on the line", Theory Probab. Appl. 18 (1974): W1 = integral |F - G|.
    """
    p, q, F, G = _cdfs(p_counts, q_counts)
    e = np.asarray(edges, dtype=np.float64)
    width = float(e[1] - e[0])
    # between consecutive centres the CDFs are constant at their value after bin i
    w1 = float(np.abs(F[:-1] - G[:-1]).sum()) * width
    return w1, width


def ks_from_histograms(p_counts, q_counts) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic D = sup |F(x) - G(x)|, from histograms on the same bins.

    Returns
    -------
    d : float
        max |F - G| over the bin edges, in [0, 1]; never above the exact D.
    error_bound : float
        exact D - d <= the largest single-bin mass of either sample (inside a bin, F and G
        move by at most their bin's mass).
    """
    p, q, F, G = _cdfs(p_counts, q_counts)
    d = float(np.max(np.abs(F - G)))
    return min(d, 1.0), float(max(p.max(), q.max()))


def ks_p_value(d: float, n: int, m: int | None = None) -> float:
    """p-value of a KS statistic: one-sample (``scipy.stats.kstwo`` with n data rows against a
    fixed reference), or two-sample with the effective size n m / (n + m), rounded, in the same
    distribution, as ``scipy.stats.ks_2samp(method='asymp')`` does."""

    effective = n if m is None else max(1, round(n * m / (n + m)))
    return float(min(max(scipy.stats.kstwo.sf(d, effective), 0.0), 1.0))


#: Distinct finite values per side (data, reference) up to which W1 and D are computed exactly
#: from the values' counts; above it, from quantile cells with a stated error bound.
EXACT_DISTINCT_CAP = 100_000
#: Rows of the seeded sample (per side) whose quantiles give the cells above the cap.
QUANTILE_SAMPLE_ROWS = 20_000


def _counts_cdfs(x_values, x_counts, y_values, y_counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The union of the two sets of distinct values, and F (x's), G (y's) at each of them."""
    xv, yv = np.asarray(x_values, dtype=np.float64), np.asarray(y_values, dtype=np.float64)
    xc, yc = np.asarray(x_counts, dtype=np.float64), np.asarray(y_counts, dtype=np.float64)
    if xv.shape != xc.shape or yv.shape != yc.shape or xv.ndim != 1 or yv.ndim != 1:
        raise ValueError("values and counts must be 1-d arrays of the same length")
    if not (xc.sum() > 0 and yc.sum() > 0):
        raise ValueError("both samples need at least one value")
    u, inverse = np.unique(np.concatenate([xv, yv]), return_inverse=True)
    p = np.bincount(inverse[: xv.size], weights=xc, minlength=u.size)
    q = np.bincount(inverse[xv.size :], weights=yc, minlength=u.size)
    return u, np.cumsum(p) / xc.sum(), np.cumsum(q) / yc.sum()


def ks_from_counts(x_values, x_counts, y_values, y_counts) -> float:
    """Two-sample Kolmogorov-Smirnov statistic D = sup_x |F(x) - G(x)|, exactly, from the
    distinct values of each sample and how often each occurs.

    F and G are the empirical CDFs (right-continuous step functions); they only change at the
    samples' values, so the supremum is the maximum over the union of distinct values u_j of
    |F(u_j) - G(u_j)| (ties within or across samples count as in scipy.stats.ks_2samp).

    Parameters
    ----------
    x_values, x_counts : array_like, shape (m,)
        Distinct finite values of the first sample (the data) and their counts (> 0).
    y_values, y_counts : array_like, shape (k,)
        The same for the second sample (the reference).

    Returns
    -------
    float
        D in [0, 1]; equal to ``scipy.stats.ks_2samp(x, y).statistic`` on the raw values.

    References
    ----------
    .. [1] N. Smirnov, "Table for estimating the goodness of fit of empirical distributions",
       Ann. Math. Statist. 19 (1948) 279-281: D_{m,n} = sup |F_m(x) - G_n(x)|.

    Examples
    --------
    >>> ks_from_counts([0.0, 1.0], [1, 1], [1.0], [2])
    0.5
    """
    _, F, G = _counts_cdfs(x_values, x_counts, y_values, y_counts)
    return float(min(np.max(np.abs(F - G)), 1.0))


def wasserstein_from_counts(x_values, x_counts, y_values, y_counts) -> float:
    """Wasserstein-1 distance W1 = integral |F(x) - G(x)| dx, exactly, from the distinct
    values of each sample and their counts.

    Between consecutive values u_j < u_{j+1} of the union both CDFs are constant, so
    W1 = sum_j |F(u_j) - G(u_j)| (u_{j+1} - u_j), as ``scipy.stats.wasserstein_distance``
    computes it on the raw values.

    Parameters
    ----------
    x_values, x_counts, y_values, y_counts : array_like
        As for :func:`ks_from_counts`.

    Returns
    -------
    float
        W1 >= 0 in the units of the values.

    References
    ----------
    .. [1] S. S. Vallender, "Calculation of the Wasserstein distance between probability
       distributions on the line", Theory Probab. Appl. 18 (1974) 784-786: W1 = integral |F - G|.

    Examples
    --------
    >>> wasserstein_from_counts([0.0], [1], [3.0], [1])
    3.0
    """
    u, F, G = _counts_cdfs(x_values, x_counts, y_values, y_counts)
    return float(np.sum(np.abs(F[:-1] - G[:-1]) * np.diff(u)))


def _cell_cdfs(p_counts, q_counts):
    p, q, F, G = _cdfs(p_counts, q_counts)
    return p, q, F, G, np.concatenate([[0.0], F[:-1]]), np.concatenate([[0.0], G[:-1]])


def _segments(p_counts, q_counts, edges, single=None, extremes=None):
    """Pieces of every cell on which F and G are each either constant or unknown between their
    values at the cell's two ends: widths, and the range of F - G on each piece (shape (k, s))."""
    p, q, F, G, Fb, Gb = _cell_cdfs(p_counts, q_counts)
    e = np.asarray(edges, dtype=np.float64)
    a, b = e[:-1], e[1:]
    if extremes is None:  # only the masses: values anywhere in a cell, or at a single-value cell's v
        top = b if single is None else np.where(np.asarray(single, dtype=bool), a, b)
        extremes = (a, top, a, top)
    pmin, pmax, qmin, qmax = (np.clip(np.asarray(x, dtype=np.float64), a, b) for x in extremes)
    pmin, pmax = np.where(p > 0, pmin, b), np.where(p > 0, pmax, a)  # an empty side: constant
    qmin, qmax = np.where(q > 0, qmin, b), np.where(q > 0, qmax, a)
    points = np.sort(np.stack([a, pmin, pmax, qmin, qmax, b], axis=1), axis=1)
    s, t = points[:, :-1], points[:, 1:]
    col = (slice(None), None)

    def cdf_range(before, after, lo, hi):
        # below the side's smallest value in the cell its CDF is still 'before'; from its
        # largest value on it is 'after'; in between anywhere between the two
        below, above = t <= lo[col], s >= hi[col]
        return np.where(above, after[col], before[col]), np.where(below, before[col], after[col])

    F_lo, F_hi = cdf_range(Fb, F, pmin, pmax)
    G_lo, G_hi = cdf_range(Gb, G, qmin, qmax)
    return t - s, F_lo - G_hi, F_hi - G_lo, np.abs(F - G)


def ks_bounds_from_cells(p_counts, q_counts, single=None, *, edges=None, extremes=None) -> tuple[float, float]:
    """Bounds on the KS statistic D from the counts of both samples in the same cells.

    At the end of each cell F and G are known exactly, so d_low = max_i |F_i - G_i| is
    attained. Inside cell i, F lies between its values at the cell's two ends (and, with the
    cell's smallest and largest data values known, equals the lower one below the smallest
    and the upper one from the largest on), and likewise G; d_high is the largest |F - G|
    those ranges allow anywhere. A cell holding a single value (edges v and the next float
    after v) has no inside: the bound is exact there.

    Parameters
    ----------
    p_counts, q_counts : array_like, shape (k,)
        Counts per cell of the data and of the reference (all mass inside the cells).
    single : array_like of bool, shape (k,), optional
        Cells that can hold one value only.
    edges : array_like, shape (k + 1,), optional
        The cells' edges; needed with ``extremes``.
    extremes : tuple of 4 array_like, shape (k,), optional
        Smallest and largest value per cell of the data, then of the reference.

    Returns
    -------
    (d_low, d_high) : tuple of float
        d_low <= exact D <= d_high, both in [0, 1].
    """
    if extremes is None:
        p, q, F, G, Fb, Gb = _cell_cdfs(p_counts, q_counts)
        before = Fb - Gb
        after = np.abs(F - G)
        inside = np.maximum(before + p, q - before)
        if single is not None:
            inside = np.where(np.asarray(single, dtype=bool), after, inside)
        low, high = float(np.max(after)), float(np.max(inside))
    else:
        width, lo, hi, after = _segments(p_counts, q_counts, edges, single, extremes)
        low = float(np.max(after))
        high = float(np.max(np.where(width > 0, np.maximum(np.abs(lo), np.abs(hi)), 0.0)))
    slack = 4 * _EPS  # F and G are each within half an ulp of 1: their difference within 2 eps
    return max(min(low, 1.0) - slack, 0.0), min(max(high, low) + slack, 1.0)


def wasserstein_bounds_from_cells(p_counts, q_counts, edges, single=None, *, extremes=None) -> tuple[float, float]:
    """Bounds on W1 = integral |F - G| from the counts of both samples in the same cells.

    Inside each cell F - G is confined to a range on each piece of the cell (see
    :func:`ks_bounds_from_cells`), so each piece of width w adds between w times the smallest
    and w times the largest |F - G| that range allows. Knowing each cell's smallest and largest
    values (``extremes``) makes a cell holding one far-off value exact: F is constant up to it.

    Parameters
    ----------
    p_counts, q_counts : array_like, shape (k,)
    edges : array_like, shape (k + 1,)
        Increasing cell edges (any widths) holding all the mass of both samples.
    single : array_like of bool, shape (k,), optional
        Cells that can hold one value only (F - G is then known inside them).
    extremes : tuple of 4 array_like, shape (k,), optional
        Smallest and largest value per cell of the data, then of the reference.

    Returns
    -------
    (w_low, w_high) : tuple of float
        w_low <= exact W1 <= w_high, in the units of the values.
    """
    width, lo, hi, _ = _segments(p_counts, q_counts, edges, single, extremes)
    smallest = np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0))
    largest = np.maximum(np.abs(lo), np.abs(hi))
    low, high = float(np.sum(width * smallest)), float(np.sum(width * largest))
    # rounding: each |F - G| is within 2 eps of its exact value, each product and the sum add
    # a relative eps per term; widened by that, the bounds hold for the exact real numbers
    slack = 4 * _EPS * float(np.sum(width)) + 2 * _EPS * width.size * high
    return max(low - slack, 0.0), high + slack
