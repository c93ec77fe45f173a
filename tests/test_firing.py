"""Firing statistics: Elephant 1.2.1 parity, analytic values, brute force, bad input."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.analysis import firing
from neurosrnn.analysis._spikes import SpikeTrains, as_spike_trains

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
elephant_statistics = pytest.importorskip("elephant.statistics")
from elephant import spike_train_correlation as elephant_correlation  # noqa: E402
from elephant import spike_train_dissimilarity as elephant_dissimilarity  # noqa: E402
from elephant.conversion import BinnedSpikeTrain  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

T_STOP = 4.0


@pytest.fixture(scope="module")
def grid_trains():
    """10 Poisson-like trains on a 0.1 ms grid (like Brian2 output), rates 5-40 Hz.

    Times on a grid keep pairwise distances away from the STTC window edge, so
    Elephant's relative tolerance (1e-5 |t|) cannot change the result here.
    """
    rng = np.random.default_rng(12)
    trains = []
    for rate in np.linspace(5, 40, 10):
        steps = rng.choice(int(T_STOP * 1e4), size=rng.poisson(rate * T_STOP), replace=False)
        trains.append(np.sort(steps) * 1e-4)
    trains[3] = np.sort(np.concatenate([trains[3], trains[5][::2] + 2e-3]))  # correlated pair
    trains[3] = trains[3][trains[3] < T_STOP]
    return trains


@pytest.fixture(scope="module")
def neo_trains(grid_trains):
    return [neo.SpikeTrain(t, units="s", t_start=0, t_stop=T_STOP) for t in grid_trains]


# ----------------------------------------------------------------------------- Elephant parity
def test_isi_statistics_match_elephant(grid_trains, neo_trains):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "cv": [elephant_statistics.cv(elephant_statistics.isi(t)) for t in grid_trains],
            "cv2": [elephant_statistics.cv2(elephant_statistics.isi(t)) for t in grid_trains],
            "lv": [elephant_statistics.lv(elephant_statistics.isi(t)) for t in grid_trains],
            "lvr": [
                elephant_statistics.lvr(elephant_statistics.isi(t), R=5 * pq.ms) for t in neo_trains
            ],
        }
    assert_allclose(firing.cv(grid_trains, t_stop=T_STOP), expected["cv"], rtol=1e-10)
    assert_allclose(firing.cv2(grid_trains, t_stop=T_STOP), expected["cv2"], rtol=1e-10)
    assert_allclose(firing.lv(grid_trains, t_stop=T_STOP), expected["lv"], rtol=1e-10)
    assert_allclose(firing.lvr(grid_trains, t_stop=T_STOP), expected["lvr"], rtol=1e-10)
    rates = [elephant_statistics.mean_firing_rate(t).rescale("Hz").magnitude for t in neo_trains]
    assert_allclose(firing.firing_rates(grid_trains, t_stop=T_STOP), rates, rtol=1e-12)


def test_lvr_with_R_zero_is_lv(grid_trains):
    assert_allclose(
        firing.lvr(grid_trains, R=0, t_stop=T_STOP), firing.lv(grid_trains, t_stop=T_STOP)
    )


def test_fano_across_trials_matches_elephant():
    rng = np.random.default_rng(3)
    trials = [
        [np.sort(rng.uniform(0, 1, rng.poisson(5 + 10 * k))) for k in range(4)] for _ in range(6)
    ]
    ours = firing.fano_factor_across_trials(trials, t_stop=1.0)
    for k in range(4):
        expected = elephant_statistics.fanofactor([trial[k] for trial in trials])
        assert_allclose(ours[k], expected, rtol=1e-10)


def test_count_correlation_matches_elephant(grid_trains, neo_trains):
    binned = BinnedSpikeTrain(neo_trains, bin_size=5 * pq.ms)
    expected = elephant_correlation.correlation_coefficient(binned)
    assert_allclose(
        firing.spike_count_correlation(grid_trains, 0.005, t_stop=T_STOP), expected, atol=1e-10
    )


@pytest.mark.parametrize("border_correction", [False, True])
def test_cross_correlograms_match_elephant(grid_trains, neo_trains, border_correction):
    lags, ccg, pairs = firing.cross_correlograms(
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
    ours = firing.sttc_matrix(grid_trains, dt, t_stop=T_STOP)
    expected = np.array(
        [[elephant_correlation.sttc(a, b, dt=dt * pq.s) for b in neo_trains] for a in neo_trains]
    )
    assert_allclose(ours, expected, atol=1e-10)
    assert ours[3, 5] > 0.3  # the correlated pair


def test_van_rossum_matches_elephant(grid_trains, neo_trains):
    expected = elephant_dissimilarity.van_rossum_distance(neo_trains, 10 * pq.ms)
    ours = firing.van_rossum_distances(grid_trains, 0.01, t_stop=T_STOP)
    assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)
    paper = firing.van_rossum_distances(grid_trains, 0.01, t_stop=T_STOP, normalization="paper")
    assert_allclose(paper, expected / math.sqrt(2), rtol=1e-10, atol=1e-10)


def test_victor_purpura_matches_elephant(grid_trains, neo_trains):
    subset = slice(0, 6)
    expected = elephant_dissimilarity.victor_purpura_distance(
        neo_trains[subset], cost_factor=100 * pq.Hz
    )
    ours = firing.victor_purpura_distances(grid_trains[subset], 100.0, t_stop=T_STOP)
    assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("output", ["counts", "mean", "rate"])
def test_time_histogram_matches_elephant(grid_trains, neo_trains, output):
    edges, values = firing.time_histogram(grid_trains, 0.01, output=output, t_stop=T_STOP)
    expected = elephant_statistics.time_histogram(neo_trains, 10 * pq.ms, output=output)
    if output == "rate":
        expected = expected.rescale("Hz")
    assert_allclose(values, expected.magnitude.ravel(), rtol=1e-10)
    assert_allclose(edges[:-1], expected.times.rescale("s").magnitude, atol=1e-12)


def test_kernel_rate_matches_elephant_instantaneous_rate():
    from elephant.kernels import GaussianKernel

    rng = np.random.default_rng(17)
    trains = [np.sort(rng.uniform(0, 2, rng.poisson(40))) for _ in range(6)]
    neo_trains = [neo.SpikeTrain(t, units="s", t_stop=2.0) for t in trains]
    kernel = GaussianKernel(20 * pq.ms)
    expected = elephant_statistics.instantaneous_rate(neo_trains, 1 * pq.ms, kernel=kernel)
    times, ours = firing.kernel_rate(trains, 0.02, 0.001, t_stop=2.0, per_neuron=True)
    assert_allclose(ours, expected.rescale("Hz").magnitude.T, rtol=1e-10, atol=1e-10)
    assert_allclose(times - 0.0005, expected.times.rescale("s").magnitude, atol=1e-12)
    pooled = elephant_statistics.instantaneous_rate(
        neo_trains, 1 * pq.ms, kernel=kernel, pool_spike_trains=True
    )
    _, population = firing.kernel_rate(trains, 0.02, 0.001, t_stop=2.0)
    assert_allclose(population, pooled.rescale("Hz").magnitude.ravel(), rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- STTC regression
@pytest.mark.parametrize("t0", [0.0, 1000.0])
def test_sttc_is_shift_invariant(t0):
    """Two spikes 12 ms apart, dt = 5 ms: STTC = -0.01 exactly, wherever the recording starts."""
    a, b = [t0 + 0.500], [t0 + 0.512]
    value = firing.spike_time_tiling_coefficient(a, b, 0.005, t_start=t0, t_stop=t0 + 1.0)
    assert_allclose(value, -0.01, atol=1e-9)


def test_sttc_elephant_bug_documented():
    """Elephant 1.2.1 returns 1 at t0 = 1000 s (its window grows with absolute time)."""
    t0 = 1000.0
    a = neo.SpikeTrain([t0 + 0.5], units="s", t_start=t0, t_stop=t0 + 1)
    b = neo.SpikeTrain([t0 + 0.512], units="s", t_start=t0, t_stop=t0 + 1)
    elephant_value = elephant_correlation.sttc(a, b, dt=5 * pq.ms)
    ours = firing.spike_time_tiling_coefficient(
        [t0 + 0.5], [t0 + 0.512], 0.005, t_start=t0, t_stop=t0 + 1
    )
    assert elephant_value == pytest.approx(1.0)  # if this fails, Elephant fixed its bug
    assert ours == pytest.approx(-0.01)


def test_sttc_empty_train_is_nan_and_identical_is_one():
    matrix = firing.sttc_matrix([np.array([0.1, 0.5]), np.array([])], 0.005, t_stop=1.0)
    assert np.isnan(matrix[0, 1])
    assert np.isnan(matrix[1, 1])
    assert matrix[0, 0] == 1.0


# ----------------------------------------------------------------------------- analytic values
def _gamma_trains(shape, rate, n_trains, duration, seed):
    rng = np.random.default_rng(seed)
    n_draw = int(rate * duration * 1.5) + 50
    isi = rng.gamma(shape, 1.0 / (shape * rate), size=(n_trains, n_draw))
    times = np.cumsum(isi, axis=1)
    return [row[row < duration] for row in times]


@pytest.mark.parametrize("shape", [1.0, 4.0])
def test_renewal_statistics_analytic(shape):
    trains = _gamma_trains(shape, 20.0, 50, 100.0, seed=int(shape))
    kwargs = {"t_stop": 100.0}
    assert_allclose(np.mean(firing.cv(trains, **kwargs)), 1 / math.sqrt(shape), rtol=0.03)
    assert_allclose(np.mean(firing.lv(trains, **kwargs)), 3 / (2 * shape + 1), rtol=0.03)
    # per-train Fano factor -> CV^2 = 1/shape for windows much longer than the ISI
    assert_allclose(np.mean(firing.fano_factor(trains, 2.0, **kwargs)), 1 / shape, rtol=0.1)
    if shape == 1.0:
        assert_allclose(np.mean(firing.cv2(trains, **kwargs)), 1.0, rtol=0.03)


def test_periodic_trains_have_zero_variability():
    trains = [np.arange(0.01, 2.0, 0.05) + 0.001 * k for k in range(3)]
    for statistic in (firing.cv, firing.cv2, firing.lv):
        assert_allclose(statistic(trains, t_stop=2.0), 0.0, atol=1e-9)


def test_interspike_intervals_never_bridge_neurons():
    trains = [np.array([0.1, 0.3, 0.6]), np.array([]), np.array([0.2]), np.array([0.05, 0.9])]
    intervals = firing.interspike_intervals(trains, t_stop=1.0)
    assert len(intervals) == 4
    assert_allclose(intervals[0], [0.2, 0.3])
    assert intervals[1].size == 0 and intervals[2].size == 0
    assert_allclose(intervals[3], [0.85])


def test_psth_brute_force():
    rng = np.random.default_rng(13)
    trials = [
        [np.sort(rng.uniform(10.0 * k, 10.0 * k + 1, 30)) for _ in range(4)] for k in range(5)
    ]
    total = np.zeros(10)
    for k, trial in enumerate(trials):
        for train in trial:
            total += np.histogram(train - 10.0 * k, bins=np.linspace(0, 1, 11))[0]
    psths = [
        firing.psth([trial], 0.1, t_start=10.0 * k, t_stop=10.0 * k + 1)[1]
        for k, trial in enumerate(trials)
    ]
    assert_allclose(np.mean(psths, axis=0), total / (5 * 4 * 0.1), rtol=1e-10)
    times, rate = firing.psth(trials[:1], 0.1, neurons=[0, 1], t_stop=1.0)
    expected = sum(np.histogram(t, bins=np.linspace(0, 1, 11))[0] for t in trials[0][:2])
    assert_allclose(rate, expected / (2 * 0.1))
    assert_allclose(times, np.arange(10) * 0.1, atol=1e-12)


def test_fano_factor_brute_force():
    rng = np.random.default_rng(5)
    trains = [np.sort(rng.uniform(0, 10, 200)), np.sort(rng.uniform(0, 10, 50))]
    result = firing.fano_factor(trains, 0.5, t_stop=10.0)
    for k, train in enumerate(trains):
        counts = np.histogram(train, bins=np.arange(0, 10.01, 0.5))[0]
        assert_allclose(result[k], counts.var() / counts.mean(), rtol=1e-12)


def test_too_few_spikes_give_nan():
    trains = [np.array([0.1, 0.2]), np.array([]), np.array([0.1, 0.3, 0.4])]
    for statistic in (firing.cv, firing.cv2, firing.lv, firing.lvr):
        values = statistic(trains, t_stop=1.0)
        assert np.isnan(values[0]) and np.isnan(values[1]) and np.isfinite(values[2])
    assert_allclose(firing.firing_rates(trains, t_stop=1.0), [2.0, 0.0, 3.0])


def test_cross_correlogram_normalisations_brute_force():
    rng = np.random.default_rng(9)
    trains = [np.sort(rng.uniform(0, 2, 40)) for _ in range(3)]
    lags, counts, pairs = firing.cross_correlograms(trains, 0.01, 0.1, t_stop=2.0)
    for row, (i, j) in zip(counts, pairs, strict=True):
        bins_i = np.floor(trains[i] / 0.01).astype(int)
        bins_j = np.floor(trains[j] / 0.01).astype(int)
        differences = (bins_j[None, :] - bins_i[:, None]).ravel()
        expected = np.bincount(differences[np.abs(differences) <= 10] + 10, minlength=21)
        assert_array_equal(row, expected)
    _, rate, _ = firing.cross_correlograms(
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
    lags, predictor, pairs = firing.shift_predictor(windowed, 0.01, 0.05, pairs=[(0, 2), (1, 1)])
    for row, (i, j) in zip(predictor, pairs, strict=True):
        expected = np.zeros(11)
        for k in range(4):
            following = (k + 1) % 4
            bins_i = np.floor((trials[k][i] - 5.0 * k) / 0.01).astype(int)
            bins_j = np.floor((trials[following][j] - 5.0 * following) / 0.01).astype(int)
            differences = (bins_j[None, :] - bins_i[:, None]).ravel()
            expected += np.bincount(differences[np.abs(differences) <= 5] + 5, minlength=11)
        assert_allclose(row, expected / 4)


def test_van_rossum_limits_and_single_spike():
    one, empty = [np.array([0.3]), np.array([])]
    assert_allclose(firing.van_rossum_distances([one, empty], 0.01, t_stop=1)[0, 1], 1.0)
    assert_allclose(
        firing.van_rossum_distances([one, empty], 0.01, t_stop=1, normalization="paper")[0, 1],
        1 / math.sqrt(2),
    )
    a, b = np.array([0.1, 0.4, 0.7]), np.array([0.2, 0.5])
    small = firing.van_rossum_distances([a, b], 1e-6, t_stop=1)[0, 1]
    large = firing.van_rossum_distances([a, b], 1e6, t_stop=1)[0, 1]
    assert_allclose(small, math.sqrt(5), rtol=1e-9)
    assert_allclose(large, 1.0, rtol=1e-5)


def test_victor_purpura_limits():
    a, b = np.array([0.1, 0.4, 0.7]), np.array([0.1, 0.5])
    assert_allclose(firing.victor_purpura_distances([a, b], 0.0, t_stop=1)[0, 1], 1.0)
    assert_allclose(firing.victor_purpura_distances([a, b], np.inf, t_stop=1)[0, 1], 3.0)
    # q = 10 Hz: shift 0.4 -> 0.5 costs 1, delete 0.7 costs 1
    assert_allclose(firing.victor_purpura_distances([a, b], 10.0, t_stop=1)[0, 1], 2.0)


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
        full = firing._victor_purpura_pair(times, 0, n_a, n_a, n_a + n_b, q, buffers[0])
        sparse = firing._victor_purpura_pair_matching(times, 0, n_a, n_a, n_a + n_b, q, *buffers)
        assert_allclose(sparse, full, atol=1e-12)


def test_shift_invariance_of_distances():
    rng = np.random.default_rng(2)
    trains = [np.sort(rng.uniform(0, 1, 30)) for _ in range(4)]
    shifted = [t + 500.0 for t in trains]
    kwargs = {"t_start": 500.0, "t_stop": 501.0}
    assert_allclose(
        firing.van_rossum_distances(shifted, 0.01, **kwargs),
        firing.van_rossum_distances(trains, 0.01, t_stop=1.0),
        rtol=1e-7,
    )
    assert_allclose(
        firing.sttc_matrix(shifted, 0.005, **kwargs),
        firing.sttc_matrix(trains, 0.005, t_stop=1.0),
        atol=1e-9,
    )


def test_kernel_rate_brute_force():
    rng = np.random.default_rng(4)
    trains = [np.round(np.sort(rng.uniform(0.2, 0.8, 20)), 3) + 0.0005 for _ in range(3)]
    times, rate = firing.kernel_rate(trains, 0.02, 0.001, t_stop=1.0)
    spikes = np.concatenate(trains)
    expected = (
        np.exp(-0.5 * ((times[:, None] - spikes[None, :]) / 0.02) ** 2).sum(axis=1)
        / (math.sqrt(2 * math.pi) * 0.02)
        / 3
    )
    # the kernel is truncated at 5 sigma: tails below exp(-12.5) = 4e-6 of the peak
    assert_allclose(rate, expected, rtol=1e-6, atol=1e-5 * expected.max())
    _, per_neuron = firing.kernel_rate(trains, 0.02, 0.001, t_stop=1.0, per_neuron=True)
    assert_allclose(per_neuron.mean(axis=0), rate, rtol=1e-10, atol=1e-10)


def test_optimal_bandwidth_cost_brute_force():
    rng = np.random.default_rng(8)
    spikes = np.sort(rng.uniform(0, 5, 150))
    best, widths, cost = firing.optimal_kernel_bandwidth(
        [spikes], widths=np.array([0.01, 0.05, 0.2]), t_stop=5.0
    )
    differences = spikes[:, None] - spikes[None, :]
    for w, value in zip(widths, cost, strict=True):
        overlap = np.exp(-(differences**2) / (4 * w * w)) / (2 * math.sqrt(math.pi) * w)
        kernel = np.exp(-(differences**2) / (2 * w * w)) / (math.sqrt(2 * math.pi) * w)
        np.fill_diagonal(kernel, 0.0)
        assert_allclose(value, overlap.sum() - 2 * kernel.sum(), rtol=1e-8)
    assert best == widths[np.argmin(cost)]


# ----------------------------------------------------------------------------- synchrony chi
def test_chi_identical_traces_is_one():
    trace = np.sin(np.linspace(0, 20, 500))
    assert firing.golomb_chi(np.tile(trace, (7, 1))) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("N", [4, 16, 64, 256])
def test_chi_independent_traces_scales_as_inverse_sqrt_n(N):
    rng = np.random.default_rng(N)
    traces = rng.standard_normal((N, 20000))
    assert_allclose(firing.golomb_chi(traces), 1 / math.sqrt(N), rtol=0.1)


def test_spike_synchrony_chi_identical_and_independent():
    rng = np.random.default_rng(1)
    train = np.sort(rng.uniform(0, 20, 400))
    assert firing.spike_synchrony_chi([train] * 5, 0.01, t_stop=20.0) == pytest.approx(1.0)
    independent = [np.sort(rng.uniform(0, 20, 400)) for _ in range(25)]
    assert_allclose(firing.spike_synchrony_chi(independent, 0.01, t_stop=20.0), 0.2, rtol=0.15)


def test_spike_synchrony_chi_chunks_match_dense_traces():
    from scipy.signal import lfilter

    rng = np.random.default_rng(14)
    trains = [np.sort(rng.uniform(0, 2, rng.integers(1, 30))) for _ in range(11)]
    counts, _ = firing.bin_spike_counts(trains, 0.001, t_stop=2.0)
    traces = lfilter([1.0], [1.0, -math.exp(-0.001 / 0.02)], counts.astype(float), axis=1)
    expected = firing.golomb_chi(traces)
    chunked = firing.spike_synchrony_chi(trains, 0.02, t_stop=2.0, chunk_size=3)
    assert_allclose(chunked, expected, rtol=1e-10)


# ----------------------------------------------------------------------------- bursts, summary
def test_detect_bursts_brute_force():
    rng = np.random.default_rng(6)
    trains = [np.sort(rng.uniform(0, 5, 120)) for _ in range(4)]
    bursts = firing.detect_bursts(trains, 0.02, min_spikes=3, t_stop=5.0)
    expected = []
    for k, train in enumerate(trains):
        run = [train[0]]
        for previous, current in zip(train[:-1], train[1:], strict=True):
            if current - previous <= 0.02:
                run.append(current)
            else:
                if len(run) >= 3:
                    expected.append((k, run[0], run[-1], len(run)))
                run = [current]
        if len(run) >= 3:
            expected.append((k, run[0], run[-1], len(run)))
    assert len(bursts) == len(expected) > 0
    assert_array_equal(bursts.neuron, [e[0] for e in expected])
    assert_allclose(bursts.start, [e[1] for e in expected])
    assert_allclose(bursts.stop, [e[2] for e in expected])
    assert_array_equal(bursts.n_spikes, [e[3] for e in expected])


def test_firing_summary_and_figure():
    rng = np.random.default_rng(7)
    trains = [np.sort(rng.uniform(0, 2, rng.integers(0, 40))) for _ in range(20)]
    trains[0] = np.array([0.5])
    summary = firing.firing_summary(trains, t_stop=2.0)
    assert_allclose(summary.rates, [len(t) / 2.0 for t in trains])
    assert summary.n_excluded_isi == sum(len(t) < 3 for t in trains)
    assert len(summary.figure.axes) == 4
    assert "FiringSummary" in repr(summary)


# ----------------------------------------------------------------------------- input handling
def test_brian2_monitor_and_quantities():
    import brian2 as b2

    group = b2.SpikeGeneratorGroup(3, [0, 2, 0, 1, 0], [1, 2, 3, 4, 5] * b2.ms)
    monitor = b2.SpikeMonitor(group)
    b2.run(10 * b2.ms)
    st = as_spike_trains(monitor)
    assert st.N == 3 and st.t_stop == pytest.approx(0.01)
    assert_allclose(st.train(0), [0.001, 0.003, 0.005])
    assert_allclose(firing.firing_rates(monitor), [300.0, 100.0, 100.0])
    same = firing.firing_rates((monitor.i[:], monitor.t[:]), N=3, t_stop=10 * b2.ms)
    assert_allclose(same, [300.0, 100.0, 100.0])
    with pytest.raises(b2.DimensionMismatchError):
        firing.firing_rates((monitor.i[:], monitor.t[:]), N=3, t_stop=10 * b2.mV)


def test_index_time_pairs_need_not_be_sorted():
    i = np.array([1, 0, 1, 0])
    t = np.array([0.4, 0.3, 0.1, 0.2])
    st = as_spike_trains((i, t), t_stop=1.0)
    assert_allclose(st.train(0), [0.2, 0.3])
    assert_allclose(st.train(1), [0.1, 0.4])
    assert "SpikeTrains(N=2" in repr(st)
    assert isinstance(st, SpikeTrains)


def test_time_ordered_and_shuffled_input_agree():
    rng = np.random.default_rng(15)
    i = rng.integers(0, 50, 3000)
    t = np.sort(np.round(rng.uniform(0, 3, 3000), 4))  # time-ordered, with ties
    ordered = as_spike_trains((i, t), N=50, t_stop=3.0)  # counting-sort path
    shuffle = rng.permutation(3000)
    shuffled = as_spike_trains((i[shuffle], t[shuffle]), N=50, t_stop=3.0)  # lexsort path
    assert_array_equal(ordered.indptr, shuffled.indptr)
    assert_array_equal(ordered.times, shuffled.times)
    for k in range(50):
        assert_array_equal(ordered.train(k), np.sort(t[i == k]))


@pytest.mark.parametrize(
    ("spikes", "kwargs", "message"),
    [
        ([np.array([0.3, 0.1])], {"t_stop": 1.0}, "not sorted"),
        ([np.array([-0.1, 0.2])], {"t_stop": 1.0}, ">= 0"),
        ((np.array([0, 3]), np.array([0.1, 0.2])), {"N": 2, "t_stop": 1.0}, "< N=2"),
        ((np.array([0, -1]), np.array([0.1, 0.2])), {"t_stop": 1.0}, ">= 0"),
        ((np.array([0.5]), np.array([0.1])), {"t_stop": 1.0}, "integers"),
        ([np.array([np.nan])], {"t_stop": 1.0}, "finite"),
        ([np.array([0.1])], {}, "t_stop is required"),
        ([np.array([0.1])], {"t_start": 1.0, "t_stop": 0.5}, "t_stop must be > t_start"),
        ([], {"t_stop": 1.0}, "empty"),
    ],
)
def test_bad_input_raises(spikes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        firing.firing_rates(spikes, **kwargs)


def test_bins_longer_than_recording_raise():
    trains = [np.array([0.1, 0.2])]
    with pytest.raises(ValueError, match="longer than the recording"):
        firing.fano_factor(trains, 2.0, t_stop=1.0)
    with pytest.raises(ValueError, match="bin_size"):
        firing.spike_count_correlation(trains, 0.0, t_stop=1.0)
    with pytest.raises(ValueError, match="max_lag"):
        firing.cross_correlograms(trains * 2, 0.1, 5.0, t_stop=1.0)
    with pytest.raises(ValueError, match="normalization"):
        firing.cross_correlograms(trains * 2, 0.1, 0.2, t_stop=1.0, normalization="x")
    with pytest.raises(ValueError, match="max_bytes"):
        firing.cross_correlograms(trains * 2, 0.001, 0.5, t_stop=1.0, max_bytes=10)


def test_empty_trains_documented_nan():
    trains = [np.array([]), np.array([0.1, 0.5, 0.7])]
    assert np.isnan(firing.fano_factor(trains, 0.25, t_stop=1.0)[0])
    correlation = firing.spike_count_correlation(trains, 0.25, t_stop=1.0)
    assert np.all(np.isnan(correlation[0]))
    assert firing.van_rossum_distances(trains, 0.01, t_stop=1.0)[0, 0] == 0.0
    assert_allclose(firing.victor_purpura_distances(trains, 10.0, t_stop=1.0)[0, 1], 3.0)
