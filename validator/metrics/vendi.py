"""The Vendi score of a set of feature vectors (pure numpy): diversity as an effective number
of distinct items.

``VS(X) = exp(-sum_i lambda_i log lambda_i)``, lambda the eigenvalues of ``K / n`` for a
similarity kernel K with k(x, x) = 1: the exponential of the Shannon entropy (nats) of the
kernel's spectrum. 1 when all rows are alike, n when all are orthogonal (Friedman and Dieng,
"The Vendi Score: A Diversity Evaluation Metric for Machine Learning", TMLR 2023, def. 3.1).
"""

from __future__ import annotations

import math

import numpy as np

KERNELS = ("linear", "rbf")
#: Rows used at most by the RBF kernel, whose n x n matrix is built whole (32 MB at 2,000).
RBF_MAX_ROWS = 2000


def _entropy_of_spectrum(eigenvalues: np.ndarray) -> float:
    lam = np.clip(eigenvalues, 0.0, None)
    lam = lam[lam > 0]
    lam = lam / lam.sum()  # trace(K / n) = 1 up to rounding
    return math.exp(float(-(lam * np.log(lam)).sum()))


def vendi_score(X, kernel: str = "linear", length_scale: float | None = None) -> float:
    """Vendi score of the rows of X.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Finite feature vectors, n >= 1.
    kernel : {'linear', 'rbf'}
        ``linear``: cosine similarity k(x, y) = x.y / (|x||y|), computed through the d x d dual
        form ``Xn^T Xn / n`` (same non-zero eigenvalues as K / n; O(n d^2), no n x n matrix).
        ``rbf``: k(x, y) = exp(-|x - y|^2 / (2 l^2)) on at most ``RBF_MAX_ROWS`` rows
        (an n x n matrix; callers sample down first).
    length_scale : float, optional
        l for ``rbf``; default the median pairwise distance (the median heuristic).

    Returns
    -------
    float
        Effective number of distinct rows, in [1, min(n, d)] for linear, [1, n] for rbf.

    Raises
    ------
    ValueError
        Empty or non-finite X, a zero row with the linear kernel, too many rows for rbf, or a
        non-positive length scale.

    Examples
    --------
    Three orthogonal directions are three distinct items; copies of one row are one.

    >>> round(vendi_score(np.eye(3)), 12)
    3.0
    >>> vendi_score([[1.0, 2.0]] * 4)
    1.0
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"The 'X' parameter of vendi_score must be a 2-D array with at least one row and column. Got shape {X.shape} instead.")
    if not np.all(np.isfinite(X)):
        raise ValueError("The 'X' parameter of vendi_score must be finite.")
    n = X.shape[0]
    if kernel == "linear":
        # each row over its largest |entry| first: |x|^2 can neither overflow nor underflow
        row_max = np.max(np.abs(X), axis=1)
        if np.any(row_max == 0):
            raise ValueError(f"the cosine kernel is undefined for an all-zero row ({int((row_max == 0).sum())} such rows)")
        Xs = X / row_max[:, None]
        Xn = Xs / np.sqrt(np.einsum("ij,ij->i", Xs, Xs))[:, None]
        return _entropy_of_spectrum(np.linalg.eigvalsh(Xn.T @ Xn / n))
    if kernel == "rbf":
        if n > RBF_MAX_ROWS:
            raise ValueError(f"the rbf kernel builds an n x n matrix; sample at most {RBF_MAX_ROWS} rows (got {n})")
        top = float(np.max(np.abs(X)))
        if top > 0:  # a power-of-two scale (exact) keeps squared distances in range; l scales with it
            factor = math.ldexp(1.0, -math.frexp(top)[1])
            X = X * factor
            length_scale = None if length_scale is None else length_scale * factor
        X = X - X.mean(axis=0)  # centring: the Gram form loses less to cancellation
        sq = np.einsum("ij,ij->i", X, X)
        d2 = np.clip(sq[:, None] + sq[None, :] - 2.0 * (X @ X.T), 0.0, None)
        np.fill_diagonal(d2, 0.0)
        if length_scale is None:
            upper = np.sqrt(d2[np.triu_indices(n, 1)])
            length_scale = float(np.median(upper)) if upper.size else 1.0
            if length_scale == 0.0:
                raise ValueError("the median pairwise distance is 0 (most rows coincide): give 'length_scale' explicitly")
        if not length_scale > 0:
            raise ValueError(f"The 'length_scale' parameter of vendi_score must be > 0. Got {length_scale!r} instead.")
        K = np.exp(-d2 / (2.0 * length_scale**2))
        return _entropy_of_spectrum(np.linalg.eigvalsh(K / n))
    raise ValueError(f"The 'kernel' parameter of vendi_score must be one of {KERNELS}. Got {kernel!r} instead.")
