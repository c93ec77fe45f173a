"""Spike-train distances: Elephant 1.2.1 parity, limits, the sparse Victor-Purpura form."""

import math

import numpy as np
import pytest
from _spike_fixtures import T_STOP
from numpy.testing import assert_allclose

from neurosrnn.analysis import dissimilarity

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
pytest.importorskip("elephant")
from elephant import spike_train_dissimilarity as elephant_dissimilarity  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
pytest_plugins = ["_spike_fixtures"]  # the fixtures grid_trains and neo_trains


def test_van_rossum_matches_elephant(grid_trains, neo_trains):
    expected = elephant_dissimilarity.van_rossum_distance(neo_trains, 10 * pq.ms)
    ours = dissimilarity.van_rossum_distances(grid_trains, 0.01, t_stop=T_STOP)
    assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)
    paper = dissimilarity.van_rossum_distances(
        grid_trains, 0.01, t_stop=T_STOP, normalization="paper"
    )
    assert_allclose(paper, expected / math.sqrt(2), rtol=1e-10, atol=1e-10)


def test_victor_purpura_matches_elephant(grid_trains, neo_trains):
    subset = slice(0, 6)
    expected = elephant_dissimilarity.victor_purpura_distance(
        neo_trains[subset], cost_factor=100 * pq.Hz
    )
    ours = dissimilarity.victor_purpura_distances(grid_trains[subset], 100.0, t_stop=T_STOP)
    assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


def test_van_rossum_limits_and_single_spike():
    one, empty = [np.array([0.3]), np.array([])]
    assert_allclose(dissimilarity.van_rossum_distances([one, empty], 0.01, t_stop=1)[0, 1], 1.0)
    assert_allclose(
        dissimilarity.van_rossum_distances([one, empty], 0.01, t_stop=1, normalization="paper")[
            0, 1
        ],
        1 / math.sqrt(2),
    )
    a, b = np.array([0.1, 0.4, 0.7]), np.array([0.2, 0.5])
    small = dissimilarity.van_rossum_distances([a, b], 1e-6, t_stop=1)[0, 1]
    large = dissimilarity.van_rossum_distances([a, b], 1e6, t_stop=1)[0, 1]
    assert_allclose(small, math.sqrt(5), rtol=1e-9)
    assert_allclose(large, 1.0, rtol=1e-5)


def test_victor_purpura_limits():
    a, b = np.array([0.1, 0.4, 0.7]), np.array([0.1, 0.5])
    assert_allclose(dissimilarity.victor_purpura_distances([a, b], 0.0, t_stop=1)[0, 1], 1.0)
    assert_allclose(dissimilarity.victor_purpura_distances([a, b], np.inf, t_stop=1)[0, 1], 3.0)
    # q = 10 Hz: shift 0.4 -> 0.5 costs 1, delete 0.7 costs 1
    assert_allclose(dissimilarity.victor_purpura_distances([a, b], 10.0, t_stop=1)[0, 1], 2.0)


def test_victor_purpura_matching_form_equals_dynamic_programme():
    """The sparse matching form (used when 2/q is short) equals the full DP table."""
    rng = np.random.default_rng(16)
    for _ in range(200):
        n_a, n_b = rng.integers(1, 20, 2)
        duration = rng.choice([0.2, 1.0, 5.0])
        a = np.sort(np.round(rng.uniform(0, duration, n_a), 3))  # rounding makes ties
        b = np.sort(np.round(rng.uniform(0, duration, n_b), 3))
        q = rng.choice([1.0, 10.0, 100.0, 1000.0])
        times = np.concatenate([a, b])
        buffers = np.empty(max(n_a, n_b) + 1), np.empty(max(n_a, n_b) + 1)
        full = dissimilarity._victor_purpura_pair(times, 0, n_a, n_a, n_a + n_b, q, buffers[0])
        sparse = dissimilarity._victor_purpura_pair_matching(
            times, 0, n_a, n_a, n_a + n_b, q, *buffers
        )
        assert_allclose(sparse, full, atol=1e-12)


def test_van_rossum_is_invariant_to_shifting_spikes_and_window():
    rng = np.random.default_rng(2)
    trains = [np.sort(rng.uniform(0, 1, 30)) for _ in range(4)]
    shifted = [t + 500.0 for t in trains]
    kwargs = {"t_start": 500.0, "t_stop": 501.0}
    assert_allclose(
        dissimilarity.van_rossum_distances(shifted, 0.01, **kwargs),
        dissimilarity.van_rossum_distances(trains, 0.01, t_stop=1.0),
        rtol=1e-7,
    )


def test_empty_trains_documented_distances():
    trains = [np.array([]), np.array([0.1, 0.5, 0.7])]
    assert dissimilarity.van_rossum_distances(trains, 0.01, t_stop=1.0)[0, 0] == 0.0
    assert_allclose(dissimilarity.victor_purpura_distances(trains, 10.0, t_stop=1.0)[0, 1], 3.0)
