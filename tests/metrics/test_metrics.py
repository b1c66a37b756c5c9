"""Entropy and KL divergence against independent references (scipy, hand computation, closed forms)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from validator.metrics.divergence import epsilon_smooth, kl_divergence, laplace_smooth
from validator.metrics.entropy import shannon_entropy
from validator.summaries.histogram import cell_counts, cell_labels, equal_width_edges


# -- entropy ----------------------------------------------------------------------------------
def test_fair_coin_is_one_bit_and_ln2_nats():
    assert shannon_entropy([5, 5]) == 1.0
    assert shannon_entropy([5, 5], base="e") == pytest.approx(math.log(2))


@pytest.mark.parametrize("counts", [[1, 2, 1], [10, 1, 1, 0, 3], [1], [7, 7, 7, 7], [0.5, 2.25, 9]])
@pytest.mark.parametrize("base", [2, "e", 10])
def test_entropy_matches_scipy(counts, base):
    # scipy.stats.entropy(pk, base=...) normalises pk, which is right for counts
    expected = scipy.stats.entropy(counts, base=math.e if base == "e" else base)
    assert shannon_entropy(counts, base=base) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_miller_madow_adds_k_minus_1_over_2n_nats():
    # counts [1, 2, 1]: H = 1.5 bits = 1.5 ln2 nats; K = 3, N = 4: + 2/8 nats
    assert shannon_entropy([1, 2, 1], base="e", estimator="miller_madow") == pytest.approx(1.5 * math.log(2) + 0.25)
    assert shannon_entropy([1, 2, 1], estimator="miller_madow") == pytest.approx(1.5 + 0.25 / math.log(2))
    assert shannon_entropy([9], estimator="miller_madow") == 0.0


def test_normalized_entropy():
    assert shannon_entropy([3, 3, 3]) == pytest.approx(math.log2(3))
    assert shannon_entropy([3, 3, 3], normalize=True) == pytest.approx(1.0)
    assert shannon_entropy([1, 2, 1], normalize=True) == pytest.approx(1.5 / math.log2(3))
    assert shannon_entropy([4], normalize=True) == 0.0  # K = 1 by definition


def test_bits_are_nats_over_ln2():
    c = [3, 1, 4, 1, 5, 9, 2, 6]
    assert shannon_entropy(c, base=2) == pytest.approx(shannon_entropy(c, base="e") / math.log(2), rel=1e-14)


@pytest.mark.parametrize("bad, match", [([], "empty"), ([0, 0], "all counts are 0"), ([1, -1], ">= 0"), ([1, np.nan], "finite")])
def test_entropy_rejects_bad_counts(bad, match):
    with pytest.raises(ValueError, match=match):
        shannon_entropy(bad)


# -- KL divergence ------------------------------------------------------------------------------
def test_kl_matches_scipy_rel_entr_sum():
    p = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    q = np.array([0.2, 0.2, 0.2, 0.2, 0.2])
    expected = scipy.stats.entropy(p / p.sum(), q, base=2)  # scipy: D(p||q)
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)


def test_kl_between_two_binned_normals_matches_the_closed_form():
    # D(N(0,1) || N(1,1.5^2)) = ln(s2/s1) + (s1^2 + (m1-m2)^2)/(2 s2^2) - 1/2 nats (Cover & Thomas 8.x)
    s2, m2 = 1.5, 1.0
    closed = math.log(s2) + (1 + m2**2) / (2 * s2**2) - 0.5
    edges = np.linspace(-8, 9, 4001)
    p = np.diff(scipy.stats.norm.cdf(edges))
    q = np.diff(scipy.stats.norm.cdf(edges, loc=m2, scale=s2))
    q = q / q.sum()  # the histogram's total within [-8, 9] differs from 1 by ~1e-9
    assert kl_divergence(p, q, base="e") == pytest.approx(closed, rel=1e-4)


def test_kl_of_a_distribution_with_itself_is_zero_and_never_negative():
    q = np.array([0.1, 0.2, 0.3, 0.4])
    assert kl_divergence(q * 1000, q) == 0.0
    assert kl_divergence([1, 0, 0], [1.0, 0.0, 0.0]) == 0.0


def test_kl_refuses_unnormalised_reference():
    with pytest.raises(ValueError, match="sum to 1"):
        kl_divergence([1, 1], [0.3, 0.3])


def test_laplace_and_epsilon_smoothing():
    p, q = laplace_smooth([2, 0], [0, 2], 1.0)
    assert p.tolist() == [0.75, 0.25] and q.tolist() == [0.25, 0.75]
    assert epsilon_smooth([1.0, 0.0], 0.1).tolist() == pytest.approx([0.95, 0.05])


# -- histograms ---------------------------------------------------------------------------------
def test_cells_have_explicit_tails_and_closed_last_bin():
    counts = cell_counts([-1, 0, 0.999, 1, 2, 2.0001, np.inf, -np.inf], [0, 1, 2])
    assert counts.tolist() == [2, 2, 2, 2]
    assert cell_labels([0, 1, 2]) == ["< 0", "[0, 1)", "[1, 2]", "> 2"]
    assert equal_width_edges(3.0, 3.0, 4).tolist() == pytest.approx([2.5, 2.75, 3.0, 3.25, 3.5])


# Property tests over every registered metric: tests/metrics/test_properties.py


def test_rel_entr_follows_scipy_special_rel_entr():
    from scipy.special import rel_entr as scipy_rel_entr

    from validator.metrics.divergence import rel_entr

    p = np.array([0.0, 0.0, 0.2, 0.3, 0.5, 1e-300])
    q = np.array([0.0, 0.4, 0.0, 0.3, 0.1, 1e-10])
    np.testing.assert_array_equal(rel_entr(p, q), scipy_rel_entr(p, q))
