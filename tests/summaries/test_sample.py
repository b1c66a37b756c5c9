"""Tests of validator.summaries.sample: the seeded, partition-independent row sample.

Independent reference: a pure-Python SplitMix64 (Python ints masked to 64 bits, written from
Vigna's splitmix64.c), checked against that generator's published output for seed 1234567.
"""

from __future__ import annotations

import itertools
from functools import reduce

import numpy as np
import pytest
from scipy.stats import chisquare

from validator.summaries.sample import RowSample, _mix_inplace, hash_indices, row_hash

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def splitmix64(state: int):
    """Pure-Python SplitMix64 generator (Steele, Lea & Flood 2014; Vigna's splitmix64.c)."""
    while True:
        state = (state + GAMMA) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def ref_hash(seed: int, i: int) -> int:
    # Documented formula: output i + 1 of a SplitMix64 generator started at the first
    # output of SplitMix64(seed).
    # SplitMix64's state only advances by GAMMA per output, so output i + 1 of the generator
    # started at `key` is the first output of the one started at key + i * GAMMA.
    key = next(splitmix64(seed))
    return next(splitmix64((key + i * GAMMA) & MASK))


def ref_sample(seed: int, k: int, indices) -> list[int]:
    return sorted(sorted(indices, key=lambda i: (ref_hash(seed, i), i))[:k])


# -- the hash -----------------------------------------------------------------------------


def test_reference_generator_matches_published_splitmix64_output():
    # First outputs of splitmix64.c seeded with 1234567 (a widely reproduced test vector).
    assert list(itertools.islice(splitmix64(1234567), 5)) == [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]


def test_vectorised_mix_matches_reference_generator():
    states = np.array([(1234567 + (t + 1) * GAMMA) & MASK for t in range(5)], dtype=np.uint64)
    assert _mix_inplace(states).tolist() == list(itertools.islice(splitmix64(1234567), 5))


@pytest.mark.parametrize("seed", [0, 1, 42, 2**63 + 5, 2**64 - 1])
def test_row_hash_matches_reference(seed):
    got = row_hash(seed, 0, 50)
    assert got.dtype == np.uint64
    assert got.tolist() == [ref_hash(seed, i) for i in range(50)]
    key = next(splitmix64(seed))
    assert got[:5].tolist() == list(itertools.islice(splitmix64(key), 5))  # no jump-ahead
    big = [2**40, 2**62 + 3]
    assert hash_indices(seed, np.array(big)).tolist() == [ref_hash(seed, i) for i in big]


def test_row_hash_depends_only_on_seed_and_global_index():
    whole = row_hash(7, 0, 1000)
    assert (row_hash(7, 300, 700) == whole[300:700]).all()
    assert (hash_indices(7, np.array([999, 3, 500])) == whole[[999, 3, 500]]).all()
    assert row_hash(7, 5, 5).shape == (0,)
    assert not (row_hash(8, 0, 1000) == whole).any()


def test_row_hash_has_no_ties_and_uniform_bits():
    h = row_hash(42, 0, 100_000)
    assert np.unique(h).size == h.size  # bijective in the index for a fixed seed
    top = (h >> np.uint64(60)).astype(np.int64)  # top 4 bits: 16 equally likely cells
    assert chisquare(np.bincount(top, minlength=16)).pvalue > 1e-4
    low = (h & np.uint64(15)).astype(np.int64)
    assert chisquare(np.bincount(low, minlength=16)).pvalue > 1e-4


def test_row_hash_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"The 'seed' parameter of hash_indices must be an int in \[0, 2\*\*64\)"):
        row_hash(-1, 0, 3)
    with pytest.raises(ValueError, match="'stop' parameter of row_hash must be >= start"):
        row_hash(0, 5, 3)
    with pytest.raises(ValueError, match="'start' parameter of row_hash"):
        row_hash(0, -2, 3)


# -- H21: sampling must not depend on partitioning --------------------------------------

N21, SEED21, K21 = 20, 42, 7
X21 = np.arange(N21 * 3, dtype=np.float64).reshape(N21, 3)
# Pinned from the reference implementation above: ref_sample(42, 7, range(20)).
H21_INDICES = [3, 5, 6, 8, 11, 12, 19]


def _partial_samples(bounds):
    parts = []
    for a, b in itertools.pairwise(bounds):
        s = RowSample(K21, SEED21)
        s.update(X21[a:b], start=a)
        parts.append(s)
    return parts


@pytest.mark.parametrize(
    "bounds",
    [(0, 20), (0, 10, 20), (0, 5, 10, 15, 20), (0, 1, 19, 20), (0, 7, 8, 13, 20)],
    ids=["1-part", "2-parts", "4-parts", "uneven-3", "uneven-4"],
)
def test_H21_same_sample_for_any_partitioning_and_merge_order(bounds):
    assert ref_sample(SEED21, K21, range(N21)) == H21_INDICES
    parts = _partial_samples(bounds)
    for order in itertools.permutations(range(len(parts))):
        merged = reduce(lambda acc, s: acc.merge(s), [parts[i] for i in order])
        assert merged.indices.tolist() == H21_INDICES
        np.testing.assert_array_equal(merged.rows, X21[H21_INDICES])
        assert merged.n_seen == N21 and not merged.exact
        assert len(merged.rows) == K21  # the requested size, exactly
    if len(parts) == 4:  # a tree of merges, as a distributed engine would do it
        tree = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))
        assert tree.indices.tolist() == H21_INDICES


@pytest.mark.parametrize("chunk", [1, 3, 7, 20])
def test_H21_same_sample_for_any_chunk_size_in_one_stream(chunk):
    s = RowSample(K21, SEED21)
    for a in range(0, N21, chunk):
        s.update(X21[a : a + chunk], start=a)
    assert s.indices.tolist() == H21_INDICES
    np.testing.assert_array_equal(s.rows, X21[H21_INDICES])


def test_sample_matches_reference_on_larger_data_with_dropped_rows():
    rng = np.random.default_rng(0)
    n, k, seed = 1000, 37, 123
    X = rng.normal(size=(n, 2))
    X[rng.random(n) < 0.2, 1] = np.nan
    valid = np.flatnonzero(np.isfinite(X).all(axis=1))
    want = ref_sample(seed, k, valid.tolist())
    for chunk in [1000, 333, 64]:
        s = RowSample(k, seed)
        for a in range(0, n, chunk):
            part = X[a : a + chunk]
            keep = np.isfinite(part).all(axis=1)
            # The caller drops NaN rows but passes the file's global indices.
            s.update(part[keep], indices=np.flatnonzero(keep) + a)
        assert s.indices.tolist() == want
        np.testing.assert_array_equal(s.rows, X[want])
        assert s.n_seen == valid.size
    # The same rows as selecting the k smallest row_hash keys among the valid rows at once.
    keys = row_hash(seed, 0, n)[valid]
    assert np.sort(valid[np.argsort(keys)[:k]]).tolist() == want


def test_exact_when_everything_fits():
    s = RowSample(10, 0)
    s.update(X21[:4], start=0)
    s.update(X21[4:6], start=4)
    assert s.exact and s.n_seen == 6
    assert s.indices.tolist() == list(range(6))
    np.testing.assert_array_equal(s.rows, X21[:6])
    s.update(X21[6:], start=6)
    assert not s.exact and len(s.indices) == 10


def test_empty_sample_and_empty_chunks():
    s = RowSample(3, 1)
    assert s.rows.shape == (0, 0) and s.indices.shape == (0,) and s.n_seen == 0 and s.exact
    s.update(np.empty((0, 3)), start=0)
    assert s.n_seen == 0
    assert s.merge(RowSample(3, 1)).n_seen == 0


def test_update_and_merge_reject_misuse():
    s = RowSample(3, 1)
    s.update(X21[:5], start=0)
    with pytest.raises(ValueError, match="exactly one of 'start'"):
        s.update(X21[5:8])
    with pytest.raises(ValueError, match="exactly one of 'start'"):
        s.update(X21[5:8], start=5, indices=np.arange(5, 8))
    with pytest.raises(ValueError, match="one entry per chunk row"):
        s.update(X21[5:8], indices=np.arange(2))
    with pytest.raises(ValueError, match="2-D array"):
        s.update(np.arange(3.0), start=5)
    with pytest.raises(ValueError, match="3 columns; got a chunk with 2"):
        s.update(np.zeros((2, 2)), start=5)
    with pytest.raises(ValueError, match="k and seed must match"):
        s.merge(RowSample(3, 2))
    other = RowSample(3, 1)
    other.update(X21[:5], start=0)
    with pytest.raises(ValueError, match="share rows"):
        s.merge(other)
    with pytest.raises(ValueError, match=r"The 'k' parameter of RowSample must be an int >= 1"):
        RowSample(0, 1)
