"""Single-train and population statistics: Elephant 1.2.1 parity, analytic values, brute force,
bad input."""

import math
import warnings

import numpy as np
import pytest
from _spike_fixtures import T_STOP
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.analysis import statistics
from neurosrnn.analysis._spikes import SpikeTrains, as_spike_trains

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
elephant_statistics = pytest.importorskip("elephant.statistics")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
pytest_plugins = ["_spike_fixtures"]  # the fixtures grid_trains and neo_trains


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
    assert_allclose(statistics.cv(grid_trains, t_stop=T_STOP), expected["cv"], rtol=1e-10)
    assert_allclose(statistics.cv2(grid_trains, t_stop=T_STOP), expected["cv2"], rtol=1e-10)
    assert_allclose(statistics.lv(grid_trains, t_stop=T_STOP), expected["lv"], rtol=1e-10)
    assert_allclose(statistics.lvr(grid_trains, t_stop=T_STOP), expected["lvr"], rtol=1e-10)
    rates = [elephant_statistics.mean_firing_rate(t).rescale("Hz").magnitude for t in neo_trains]
    assert_allclose(statistics.firing_rates(grid_trains, t_stop=T_STOP), rates, rtol=1e-12)


def test_lvr_with_R_zero_is_lv(grid_trains):
    assert_allclose(
        statistics.lvr(grid_trains, R=0, t_stop=T_STOP), statistics.lv(grid_trains, t_stop=T_STOP)
    )


def test_fano_across_trials_matches_elephant():
    rng = np.random.default_rng(3)
    trials = [
        [np.sort(rng.uniform(0, 1, rng.poisson(5 + 10 * k))) for k in range(4)] for _ in range(6)
    ]
    ours = statistics.fano_factor_across_trials(trials, t_stop=1.0)
    for k in range(4):
        expected = elephant_statistics.fanofactor([trial[k] for trial in trials])
        assert_allclose(ours[k], expected, rtol=1e-10)


@pytest.mark.parametrize("output", ["counts", "mean", "rate"])
def test_time_histogram_matches_elephant(grid_trains, neo_trains, output):
    edges, values = statistics.time_histogram(grid_trains, 0.01, output=output, t_stop=T_STOP)
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
    times, ours = statistics.kernel_rate(trains, 0.02, 0.001, t_stop=2.0, per_neuron=True)
    assert_allclose(ours, expected.rescale("Hz").magnitude.T, rtol=1e-10, atol=1e-10)
    assert_allclose(times - 0.0005, expected.times.rescale("s").magnitude, atol=1e-12)
    pooled = elephant_statistics.instantaneous_rate(
        neo_trains, 1 * pq.ms, kernel=kernel, pool_spike_trains=True
    )
    _, population = statistics.kernel_rate(trains, 0.02, 0.001, t_stop=2.0)
    assert_allclose(population, pooled.rescale("Hz").magnitude.ravel(), rtol=1e-10, atol=1e-10)


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
    assert_allclose(np.mean(statistics.cv(trains, **kwargs)), 1 / math.sqrt(shape), rtol=0.03)
    assert_allclose(np.mean(statistics.lv(trains, **kwargs)), 3 / (2 * shape + 1), rtol=0.03)
    # per-train Fano factor -> CV^2 = 1/shape for windows much longer than the ISI
    assert_allclose(np.mean(statistics.fano_factor(trains, 2.0, **kwargs)), 1 / shape, rtol=0.1)
    if shape == 1.0:
        assert_allclose(np.mean(statistics.cv2(trains, **kwargs)), 1.0, rtol=0.03)


def test_periodic_trains_have_zero_variability():
    trains = [np.arange(0.01, 2.0, 0.05) + 0.001 * k for k in range(3)]
    for statistic in (statistics.cv, statistics.cv2, statistics.lv):
        assert_allclose(statistic(trains, t_stop=2.0), 0.0, atol=1e-9)


def test_interspike_intervals_never_bridge_neurons():
    trains = [np.array([0.1, 0.3, 0.6]), np.array([]), np.array([0.2]), np.array([0.05, 0.9])]
    intervals = statistics.interspike_intervals(trains, t_stop=1.0)
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
        statistics.psth([trial], 0.1, t_start=10.0 * k, t_stop=10.0 * k + 1)[1]
        for k, trial in enumerate(trials)
    ]
    assert_allclose(np.mean(psths, axis=0), total / (5 * 4 * 0.1), rtol=1e-10)
    times, rate = statistics.psth(trials[:1], 0.1, neurons=[0, 1], t_stop=1.0)
    expected = sum(np.histogram(t, bins=np.linspace(0, 1, 11))[0] for t in trials[0][:2])
    assert_allclose(rate, expected / (2 * 0.1))
    assert_allclose(times, np.arange(10) * 0.1, atol=1e-12)


def test_fano_factor_brute_force():
    rng = np.random.default_rng(5)
    trains = [np.sort(rng.uniform(0, 10, 200)), np.sort(rng.uniform(0, 10, 50))]
    result = statistics.fano_factor(trains, 0.5, t_stop=10.0)
    for k, train in enumerate(trains):
        counts = np.histogram(train, bins=np.arange(0, 10.01, 0.5))[0]
        assert_allclose(result[k], counts.var() / counts.mean(), rtol=1e-12)


def test_too_few_spikes_give_nan():
    trains = [np.array([0.1, 0.2]), np.array([]), np.array([0.1, 0.3, 0.4])]
    for statistic in (statistics.cv, statistics.cv2, statistics.lv, statistics.lvr):
        values = statistic(trains, t_stop=1.0)
        assert np.isnan(values[0]) and np.isnan(values[1]) and np.isfinite(values[2])
    assert_allclose(statistics.firing_rates(trains, t_stop=1.0), [2.0, 0.0, 3.0])


def test_kernel_rate_brute_force():
    rng = np.random.default_rng(4)
    trains = [np.round(np.sort(rng.uniform(0.2, 0.8, 20)), 3) + 0.0005 for _ in range(3)]
    times, rate = statistics.kernel_rate(trains, 0.02, 0.001, t_stop=1.0)
    spikes = np.concatenate(trains)
    expected = (
        np.exp(-0.5 * ((times[:, None] - spikes[None, :]) / 0.02) ** 2).sum(axis=1)
        / (math.sqrt(2 * math.pi) * 0.02)
        / 3
    )
    # the kernel is truncated at 5 sigma: tails below exp(-12.5) = 4e-6 of the peak
    assert_allclose(rate, expected, rtol=1e-6, atol=1e-5 * expected.max())
    _, per_neuron = statistics.kernel_rate(trains, 0.02, 0.001, t_stop=1.0, per_neuron=True)
    assert_allclose(per_neuron.mean(axis=0), rate, rtol=1e-10, atol=1e-10)


def test_optimal_bandwidth_cost_brute_force():
    rng = np.random.default_rng(8)
    spikes = np.sort(rng.uniform(0, 5, 150))
    best, widths, cost = statistics.optimal_kernel_bandwidth(
        [spikes], widths=np.array([0.01, 0.05, 0.2]), t_stop=5.0
    )
    differences = spikes[:, None] - spikes[None, :]
    for w, value in zip(widths, cost, strict=True):
        overlap = np.exp(-(differences**2) / (4 * w * w)) / (2 * math.sqrt(math.pi) * w)
        kernel = np.exp(-(differences**2) / (2 * w * w)) / (math.sqrt(2 * math.pi) * w)
        np.fill_diagonal(kernel, 0.0)
        assert_allclose(value, overlap.sum() - 2 * kernel.sum(), rtol=1e-8)
    assert best == widths[np.argmin(cost)]


def test_brian2_monitor_and_quantities():
    import brian2 as b2

    group = b2.SpikeGeneratorGroup(3, [0, 2, 0, 1, 0], [1, 2, 3, 4, 5] * b2.ms)
    monitor = b2.SpikeMonitor(group)
    b2.run(10 * b2.ms)
    st = as_spike_trains(monitor)
    assert st.N == 3 and st.t_stop == pytest.approx(0.01)
    assert_allclose(st.train(0), [0.001, 0.003, 0.005])
    assert_allclose(statistics.firing_rates(monitor), [300.0, 100.0, 100.0])
    same = statistics.firing_rates((monitor.i[:], monitor.t[:]), N=3, t_stop=10 * b2.ms)
    assert_allclose(same, [300.0, 100.0, 100.0])
    with pytest.raises(b2.DimensionMismatchError):
        statistics.firing_rates((monitor.i[:], monitor.t[:]), N=3, t_stop=10 * b2.mV)


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
        statistics.firing_rates(spikes, **kwargs)


def test_bins_longer_than_recording_raise():
    trains = [np.array([0.1, 0.2])]
    with pytest.raises(ValueError, match="longer than the recording"):
        statistics.fano_factor(trains, 2.0, t_stop=1.0)


def test_empty_trains_documented_nan():
    trains = [np.array([]), np.array([0.1, 0.5, 0.7])]
    assert np.isnan(statistics.fano_factor(trains, 0.25, t_stop=1.0)[0])
