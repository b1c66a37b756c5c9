"""Pure numpy/scipy metrics on summaries (no pandas, no I/O), and their registry.

``REGISTRY`` maps each rule metric name to its kernel and the kind of summary it reads, so
that property tests (permutation invariance, bounds, identities, scaling) run over every
metric, and a metric added to the rule model without a kernel here fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from .distance import STATISTICS, distance_statistic
from .divergence import (
    hellinger_distance,
    js_distance,
    js_divergence,
    kl_divergence,
    linf_distance,
    population_stability_index,
    total_variation,
)
from .entropy import shannon_entropy


@dataclass(frozen=True)
class Metric:
    """A registered metric kernel.

    Attributes
    ----------
    kernel : callable
        The pure function computing the value.
    reads : {'counts', 'counts_and_reference', 'points'}
        ``counts``: one count vector, shape (K,); ``counts_and_reference``: data counts and
        reference probabilities on the same K cells; ``points``: a matrix, shape (n, d).
    units : str
        What the value is measured in.
    """

    kernel: Callable[..., float]
    reads: Literal["counts", "counts_and_reference", "points"]
    units: str


REGISTRY: dict[str, Metric] = {
    "entropy": Metric(shannon_entropy, "counts", "bits (base 2), nats (e) or hartleys (10)"),
    "kl_divergence": Metric(kl_divergence, "counts_and_reference", "bits (base 2), nats (e) or hartleys (10)"),
    "distance_spread": Metric(distance_statistic, "points", "the distance's units; a fraction for duplicate_fraction"),
    "js_divergence": Metric(js_divergence, "counts_and_reference", "bits (base 2, in [0, 1]), nats or hartleys"),
    "js_distance": Metric(js_distance, "counts_and_reference", "sqrt of the divergence in bits: [0, 1] with base 2"),
    "population_stability_index": Metric(population_stability_index, "counts_and_reference", "bits, nats (customary) or hartleys"),
    "total_variation": Metric(total_variation, "counts_and_reference", "unitless, [0, 1]"),
    "hellinger_distance": Metric(hellinger_distance, "counts_and_reference", "unitless, [0, 1]"),
    "linf_distance": Metric(linf_distance, "counts_and_reference", "unitless, [0, 1]"),
}

__all__ = ["REGISTRY", "STATISTICS", "Metric"]
