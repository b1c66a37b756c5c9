"""Pure numpy/scipy metrics on summaries (no pandas, no I/O), and their registry.

``REGISTRY`` maps each rule metric name to its kernel and the kind of summary it reads, so
that property tests (permutation invariance, bounds, identities, scaling) run over every
metric, and a metric added to the rule model without a kernel here fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from .distance import STATISTICS, distance_statistic
from .divergence import kl_divergence
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
}

__all__ = ["REGISTRY", "STATISTICS", "Metric"]
