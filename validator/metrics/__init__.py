"""Pure numpy/scipy metrics on summaries (no pandas, no I/O), and their registry.

``REGISTRY`` maps each rule metric name to its kernel and the kind of summary it reads, so
that property tests (permutation invariance, bounds, identities, scaling) run over every
metric, and a metric added to the rule model without a kernel here fails a test.

May import: numpy, scipy and other numeric third-party libraries (rensa, faiss). Never
pandas, pyarrow or another room of the package (``.importlinter``'s pure-metrics contract;
``minhash.py`` keeps its own copy of the word pattern of :mod:`validator.summaries.text`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from .units import log_base, unit
from .distance import STATISTICS, distance_statistic
from .divergence import (
    chi_square_p_value,
    hellinger_distance,
    js_distance,
    js_divergence,
    kl_divergence,
    linf_distance,
    population_stability_index,
    total_variation,
)
from .diversity import coverage, distinct_count, distinct_ratio, dominance, gini_simpson, hill_number, imbalance_ratio
from .distribution import ks_from_histograms, wasserstein_from_histograms
from .entropy import shannon_entropy
from .minhash import minhash_near_duplicates
from .text import duplicate_fraction, mattr, type_token_ratio
from .vendi import vendi_score


def _k(c) -> int:
    return int(np.count_nonzero(np.asarray(c) > 0))


def _n(c) -> float:
    return float(np.sum(c))


@dataclass(frozen=True)
class Metric:
    """A registered metric kernel.

    Attributes
    ----------
    kernel : callable
        The pure function computing the value.
    reads : {'counts', 'counts_and_reference', 'points', 'histograms', 'keys', 'tokens', 'texts'}
        ``counts``: one count vector, shape (K,); ``counts_and_reference``: data counts and
        reference probabilities on the same K cells; ``points``: a matrix, shape (n, d);
        ``keys``: one hash per row, shape (n,); ``tokens``: word ids in reading order, shape (N,);
        ``texts``: a list of n strings;
        ``histograms``: data and reference counts on one fine grid of k bins (+ its edges).
    units : str
        What the value is measured in.
    bounds : callable, optional
        For ``counts`` metrics: counts -> (lowest, highest) value possible for them.
    identity : float, optional
        For ``counts_and_reference`` metrics: the value when the data follows the reference.
    """

    kernel: Callable[..., float]
    reads: Literal["counts", "counts_and_reference", "points", "histograms", "keys", "tokens", "texts"]
    units: str
    bounds: Callable[[np.ndarray], tuple[float, float]] | None = None
    identity: float | None = None


_LOG = "bits (base 2), nats (e) or hartleys (10)"

REGISTRY: dict[str, Metric] = {
    # one column's value counts
    "entropy": Metric(shannon_entropy, "counts", _LOG, bounds=lambda c: (0.0, math.log2(_k(c)))),
    "hill_number": Metric(hill_number, "counts", "effective categories", bounds=lambda c: (1.0, _k(c))),
    "gini_simpson": Metric(gini_simpson, "counts", "probability", bounds=lambda c: (0.0, 1.0 - 1.0 / _k(c))),
    "distinct_count": Metric(distinct_count, "counts", "categories", bounds=lambda c: (_k(c), _k(c))),
    "distinct_ratio": Metric(distinct_ratio, "counts", "categories per row", bounds=lambda c: (_k(c) / _n(c), _k(c) / _n(c))),
    "dominance": Metric(dominance, "counts", "share of rows", bounds=lambda c: (1.0 / _k(c), 1.0)),
    "imbalance_ratio": Metric(imbalance_ratio, "counts", "ratio", bounds=lambda c: (1.0, _n(c))),
    # rows' feature vectors
    "distance_spread": Metric(distance_statistic, "points", "the distance's units; a fraction for duplicate_fraction"),
    "vendi_score": Metric(vendi_score, "points", "effective distinct rows"),
    # a text column
    "duplicate_fraction": Metric(duplicate_fraction, "keys", "fraction of rows"),
    "near_duplicate_fraction": Metric(lambda texts, **kw: minhash_near_duplicates(texts, **kw).fraction, "texts", "fraction of rows"),
    "ngram_entropy": Metric(shannon_entropy, "counts", _LOG + " over n-gram counts", bounds=lambda c: (0.0, math.log2(_k(c)))),
    "type_token_ratio": Metric(type_token_ratio, "tokens", "types per token (mattr with a window)"),
    # a column against a reference
    "kl_divergence": Metric(kl_divergence, "counts_and_reference", _LOG, identity=0.0),
    "js_divergence": Metric(js_divergence, "counts_and_reference", "bits (base 2, in [0, 1]), nats or hartleys", identity=0.0),
    "js_distance": Metric(js_distance, "counts_and_reference", "sqrt of the divergence: [0, 1] with base 2", identity=0.0),
    "population_stability_index": Metric(population_stability_index, "counts_and_reference", _LOG, identity=0.0),
    "total_variation": Metric(total_variation, "counts_and_reference", "unitless, [0, 1]", identity=0.0),
    "hellinger_distance": Metric(hellinger_distance, "counts_and_reference", "unitless, [0, 1]", identity=0.0),
    "linf_distance": Metric(linf_distance, "counts_and_reference", "unitless, [0, 1]", identity=0.0),
    "wasserstein_distance": Metric(wasserstein_from_histograms, "histograms", "the column's units"),
    "ks_test": Metric(ks_from_histograms, "histograms", "KS statistic in [0, 1] (or its p-value)"),
    "chi_square": Metric(chi_square_p_value, "counts_and_reference", "p-value (or the X^2 statistic)", identity=1.0),
    "coverage": Metric(coverage, "counts_and_reference", "share of reference categories (or mass)", identity=1.0),
}

__all__ = ["REGISTRY", "STATISTICS", "Metric", "log_base", "unit"]
