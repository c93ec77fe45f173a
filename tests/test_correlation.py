"""Pairwise correlation measures: Elephant 1.2.1 parity, the STTC regression, brute force."""

import numpy as np
import pytest
from _spike_fixtures import T_STOP
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.analysis import correlation
from neurosrnn.analysis._spikes import as_spike_trains

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
pytest.importorskip("elephant")
from elephant import spike_train_correlation as elephant_correlation  # noqa: E402
from elephant.conversion import BinnedSpikeTrain  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
pytest_plugins = ["_spike_fixtures"]  # the fixtures grid_trains and neo_trains


def test_count_correlation_matches_elephant(grid_trains, neo_trains):
    binned = BinnedSpikeTrain(neo_trains, bin_size=5 * pq.ms)
    expected = elephant_correlation.correlation_coefficient(binned)
    assert_allclose(
        correlation.spike_count_correlation(grid_trains, 0.005, t_stop=T_STOP), expected, atol=1e-10
    )


@pytest.mark.parametrize("border_correction", [False, True])
def test_cross_correlograms_match_elephant(grid_trains, neo_trains, border_correction):
    lags, ccg, pairs = correlation.cross_correlograms(
        grid_trains, 0.002, 0.04, t_stop=T_STOP, border_correction=border_correction
    )
    assert_allclose(lags, np.arange(-20, 21) * 0.002)
    for row, (i, j) in zip(ccg, pairs, strict=True):
        expected, expected_lags = elephant_correlation.cross_correlation_histogram(
            BinnedSpikeTrain(neo_trains[i], bin_size=2 * pq.ms),
            BinnedSpikeTrain(neo_trains[j], bin_size=2 * pq.ms),
            window=[-20, 20],
            border_correction=border_correction,
        )
        assert_array_equal(expected_lags, np.arange(-20, 21))
        assert_allclose(row, expected.magnitude.ravel(), rtol=1e-10, atol=1e-12)


def test_sttc_matches_elephant(grid_trains, neo_trains):
    dt = 0.00505
    ours = correlation.sttc_matrix(grid_trains, dt, t_stop=T_STOP)
    expected = np.array(
        [[elephant_correlation.sttc(a, b, dt=dt * pq.s) for b in neo_trains] for a in neo_trains]
    )
    assert_allclose(ours, expected, atol=1e-10)
    assert ours[3, 5] > 0.3  # the correlated pair


@pytest.mark.parametrize("t0", [0.0, 1000.0])
def test_sttc_is_shift_invariant(t0):
    """Two spikes 12 ms apart, dt = 5 ms: STTC = -0.01 exactly, wherever the recording starts."""
    a, b = [t0 + 0.500], [t0 + 0.512]
    value = correlation.spike_time_tiling_coefficient(a, b, 0.005, t_start=t0, t_stop=t0 + 1.0)
    assert_allclose(value, -0.01, atol=1e-9)


def test_sttc_elephant_bug_documented():
    """Elephant 1.2.1 returns 1 at t0 = 1000 s (its window grows with absolute time)."""
    t0 = 1000.0
    a = neo.SpikeTrain([t0 + 0.5], units="s", t_start=t0, t_stop=t0 + 1)
    b = neo.SpikeTrain([t0 + 0.512], units="s", t_start=t0, t_stop=t0 + 1)
    elephant_value = elephant_correlation.sttc(a, b, dt=5 * pq.ms)
    ours = correlation.spike_time_tiling_coefficient(
        [t0 + 0.5], [t0 + 0.512], 0.005, t_start=t0, t_stop=t0 + 1
    )
    assert elephant_value == pytest.approx(1.0)  # if this fails, Elephant fixed its bug
    assert ours == pytest.approx(-0.01)


def test_sttc_empty_train_is_nan_and_identical_is_one():
    matrix = correlation.sttc_matrix([np.array([0.1, 0.5]), np.array([])], 0.005, t_stop=1.0)
    assert np.isnan(matrix[0, 1])
    assert np.isnan(matrix[1, 1])
    assert matrix[0, 0] == 1.0


def test_cross_correlogram_normalisations_brute_force():
    rng = np.random.default_rng(9)
    trains = [np.sort(rng.uniform(0, 2, 40)) for _ in range(3)]
    lags, counts, pairs = correlation.cross_correlograms(trains, 0.01, 0.1, t_stop=2.0)
    for row, (i, j) in zip(counts, pairs, strict=True):
        bins_i = np.floor(trains[i] / 0.01).astype(int)
        bins_j = np.floor(trains[j] / 0.01).astype(int)
        differences = (bins_j[None, :] - bins_i[:, None]).ravel()
        expected = np.bincount(differences[np.abs(differences) <= 10] + 10, minlength=21)
        assert_array_equal(row, expected)
    _, rate, _ = correlation.cross_correlograms(
        trains, 0.01, 0.1, t_stop=2.0, normalization="rate", pairs=[(1, 2)]
    )
    assert_allclose(rate[0], counts[2] / (len(trains[1]) * 0.01))


def test_shift_predictor_brute_force():
    rng = np.random.default_rng(18)
    trials = [[np.sort(rng.uniform(5.0 * k, 5.0 * k + 1, 15)) for _ in range(3)] for k in range(4)]
    windowed = [
        as_spike_trains(trial, t_start=5.0 * k, t_stop=5.0 * k + 1)
        for k, trial in enumerate(trials)
    ]
    lags, predictor, pairs = correlation.shift_predictor(
        windowed, 0.01, 0.05, pairs=[(0, 2), (1, 1)]
    )
    for row, (i, j) in zip(predictor, pairs, strict=True):
        expected = np.zeros(11)
        for k in range(4):
            following = (k + 1) % 4
            bins_i = np.floor((trials[k][i] - 5.0 * k) / 0.01).astype(int)
            bins_j = np.floor((trials[following][j] - 5.0 * following) / 0.01).astype(int)
            differences = (bins_j[None, :] - bins_i[:, None]).ravel()
            expected += np.bincount(differences[np.abs(differences) <= 5] + 5, minlength=11)
        assert_allclose(row, expected / 4)


def test_sttc_is_invariant_to_shifting_spikes_and_window():
    rng = np.random.default_rng(2)
    trains = [np.sort(rng.uniform(0, 1, 30)) for _ in range(4)]
    shifted = [t + 500.0 for t in trains]
    kwargs = {"t_start": 500.0, "t_stop": 501.0}
    assert_allclose(
        correlation.sttc_matrix(shifted, 0.005, **kwargs),
        correlation.sttc_matrix(trains, 0.005, t_stop=1.0),
        atol=1e-9,
    )


def test_bad_bins_and_lags_raise():
    trains = [np.array([0.1, 0.2])]
    with pytest.raises(ValueError, match="bin_size"):
        correlation.spike_count_correlation(trains, 0.0, t_stop=1.0)
    with pytest.raises(ValueError, match="max_lag"):
        correlation.cross_correlograms(trains * 2, 0.1, 5.0, t_stop=1.0)
    with pytest.raises(ValueError, match="normalization"):
        correlation.cross_correlograms(trains * 2, 0.1, 0.2, t_stop=1.0, normalization="x")
    with pytest.raises(ValueError, match="max_bytes"):
        correlation.cross_correlograms(trains * 2, 0.001, 0.5, t_stop=1.0, max_bytes=10)


def test_empty_train_gives_nan_correlation():
    trains = [np.array([]), np.array([0.1, 0.5, 0.7])]
    result = correlation.spike_count_correlation(trains, 0.25, t_stop=1.0)
    assert np.all(np.isnan(result[0]))


@pytest.mark.parametrize(("bin_size", "max_lag"), [(0.02, 0.01), (0.01, 0.0)])
def test_bin_size_above_max_lag_is_refused(bin_size, max_lag):
    """A bin wider than max_lag used to give a one-bin correlogram."""
    trains = [[0.1, 0.5], [0.12, 0.52]]
    with pytest.raises(ValueError, match=r"bin_size .* must not exceed max_lag"):
        correlation.cross_correlograms(trains, bin_size, max_lag, t_stop=1.0)
    with pytest.raises(ValueError, match=r"bin_size .* must not exceed max_lag"):
        correlation.shift_predictor([trains, trains], bin_size, max_lag, t_stop=1.0)


def test_float_pairs_are_refused():
    """Pairs given as floats used to be truncated to other neurons."""
    trains = [[0.1, 0.5], [0.12, 0.52], [0.3]]
    with pytest.raises(TypeError, match="pairs must hold integers"):
        correlation.cross_correlograms(trains, 0.01, 0.03, pairs=[[0.0, 1.7]], t_stop=1.0)
    with pytest.raises(TypeError, match="pairs must hold integers"):
        correlation.sttc_matrix(trains, 0.01, pairs=[[0.0, 1.7]], t_stop=1.0)
