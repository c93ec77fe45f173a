"""One spike-train type: every result source converts to it and feeds the analysis.

Each source (a device `Simulation` run saved and loaded, a SparseProp result, a Brian2
SpikeMonitor, a sweep store entry, a neo Segment, plain arrays) goes through
`firing_summary`, `cv` and `firing_rates`, checked against a brute-force computation on
the source's raw arrays.
"""

import pickle

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, ms, mV
from numpy.testing import assert_allclose, assert_array_equal

import neurosrnn.analysis
import neurosrnn.results
from neurosrnn.analysis import SpikeTrains, as_spike_trains, cv, firing_rates, firing_summary


def _reference_rates(i, t, N, t_start, t_stop):
    keep = (t >= t_start) & (t < t_stop)
    return np.array([np.sum(i[keep] == k) for k in range(N)]) / (t_stop - t_start)


def _reference_cv(i, t, N, t_start, t_stop):
    """ISI CV per neuron (population SD / mean), NaN below 3 spikes."""
    keep = (t >= t_start) & (t < t_stop)
    values = np.full(N, np.nan)
    for k in range(N):
        intervals = np.diff(np.sort(t[keep][i[keep] == k]))
        if intervals.size >= 2:
            values[k] = np.std(intervals) / np.mean(intervals)
    return values


def _check_analysis(source, i, t, N, t_start, t_stop):
    """The three measures on `source` equal the brute-force values of the raw spikes."""
    i, t = np.asarray(i), np.asarray(t, dtype=float)
    rates = _reference_rates(i, t, N, t_start, t_stop)
    assert_allclose(firing_rates(source), rates, rtol=1e-12)
    summary = firing_summary(source)
    assert summary.window == pytest.approx((t_start, t_stop), rel=1e-15, abs=0)
    assert_allclose(summary.rates, rates, rtol=1e-12)
    reference_cv = _reference_cv(i, t, N, t_start, t_stop)
    measured = cv(source)
    fired = ~np.isnan(reference_cv)
    assert fired.sum() >= 2  # the comparison means something
    # atol: regular firing has a CV of rounding-error size
    assert_allclose(measured[fired], reference_cv[fired], rtol=1e-9, atol=1e-12)
    assert_allclose(summary.cv[fired], reference_cv[fired], rtol=1e-9, atol=1e-12)


def test_results_and_analysis_share_one_type():
    assert neurosrnn.results.SpikeTrains is neurosrnn.analysis.SpikeTrains
    spikes = SpikeTrains([2, 0, 2], [0.3, 0.1, 0.2], 4, "cells", t_start=0.05, t_stop=0.4)
    assert as_spike_trains(spikes) is spikes
    # the time-ordered view of the device results and the neuron-ordered one of analysis
    assert_array_equal(spikes.i, [0, 2, 2])
    assert_array_equal(spikes.t, [0.1, 0.2, 0.3])
    assert_array_equal(spikes.indptr, [0, 1, 1, 3, 3])
    assert_array_equal(spikes.times, [0.1, 0.2, 0.3])
    assert_array_equal(spikes.count(), spikes.counts)
    assert len(spikes) == spikes.n_spikes == 3 and spikes.N == 4
    assert spikes.duration == pytest.approx(0.35)
    with pytest.raises(ValueError, match="read-only"):
        spikes.t[0] = 0.0  # the two views cannot drift apart
    assert pickle.loads(pickle.dumps(spikes)) == spikes
    assert "3 spikes from 4 neurons" in repr(spikes) and "SpikeTrains(N=4" in repr(spikes)


def test_constructor_validates_its_input():
    with pytest.raises(ValueError, match="N must be a positive integer"):
        SpikeTrains([0], [0.1], 0)
    with pytest.raises(TypeError, match="i must hold integers"):
        SpikeTrains([0.5], [0.1], 2)
    with pytest.raises(ValueError, match="equal length"):
        SpikeTrains([0, 1], [0.1], 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        SpikeTrains([0, 2], [0.1, 0.2], 2)
    with pytest.raises(ValueError, match="finite"):
        SpikeTrains([0], [np.nan], 2)
    with pytest.raises(ValueError, match="t_stop must be > t_start"):
        SpikeTrains([0], [0.1], 2, t_start=0.5, t_stop=0.5)
    with pytest.raises(ValueError, match=r"window \[t_start, t_stop\)"):
        SpikeTrains([0], [0.5], 2, t_stop=0.5)  # a spike at t_stop lies outside
    with pytest.raises(ValueError, match=r"window \[t_start, t_stop\)"):
        SpikeTrains([0], [0.05], 2, t_start=0.1)
    with pytest.raises(ValueError, match="sorted within each neuron"):
        SpikeTrains.from_csr([0.2, 0.1], [0, 2], 0.0, 1.0)
    with pytest.raises(ValueError, match="indptr"):
        SpikeTrains.from_csr([0.1, 0.2], [0, 1], 0.0, 1.0)
    # unknown end: kept, but the measures ask for t_stop
    open_ended = SpikeTrains([0, 1], [0.1, 0.2], 2)
    assert open_ended.t_stop is None and open_ended.duration is None
    with pytest.raises(ValueError, match="t_stop is required"):
        firing_rates(open_ended)
    assert_allclose(firing_rates(open_ended, t_stop=0.5), [2.0, 2.0])


def test_csr_and_index_time_construction_agree():
    rng = np.random.default_rng(8)
    i = rng.integers(0, 30, 2000)
    t = np.round(rng.uniform(0, 2, 2000), 4)  # ties at equal times
    spikes = SpikeTrains(i, t, 30, t_stop=2.0)
    from_csr = SpikeTrains.from_csr(spikes.times, spikes.indptr, 0.0, 2.0)
    legacy = SpikeTrains(spikes.times, spikes.indptr, 0.0, 2.0)  # former analysis form
    assert from_csr == spikes == legacy
    order = np.lexsort((i, t))  # brute force: by time, then index
    assert_array_equal(from_csr.i, i[order])
    assert_array_equal(from_csr.t, t[order])
    for k in range(30):
        assert_array_equal(spikes.train(k), np.sort(t[i == k]))
    assert spikes != SpikeTrains(i, t, 30, t_stop=3.0)  # the window is part of the data
    assert spikes != SpikeTrains(i, t, 31, t_stop=2.0)


def test_simulation_results_loaded_from_disk_feed_the_analysis(tmp_path):
    from neurosrnn.devices import Simulation
    from neurosrnn.models.lif import lif
    from neurosrnn.results import load_results

    N = 20

    def network():
        model = lif()
        neurons = model.make_group(
            N,
            name="neurons",
            I_ext=30 * mV * np.linspace(1.0, 1.6, N),
            initial_values={"v": np.linspace(0, 15, N) * mV},
        )
        return Network(neurons, SpikeMonitor(neurons, name="spikes"))

    simulation = Simulation(network, 100 * ms, device="runtime", target="numpy")
    try:
        results = simulation.run(results_directory=tmp_path)
    finally:
        simulation.close()
    loaded = load_results(tmp_path)
    spikes = loaded.spike_trains
    assert isinstance(spikes, SpikeTrains)
    assert spikes == results.spike_trains
    assert (spikes.N, spikes.t_start, spikes.t_stop) == (N, 0.0, pytest.approx(0.1))
    assert len(spikes) > 3 * N
    for source in (spikes, loaded):  # the spike trains, or the whole results
        _check_analysis(source, loaded.i, loaded.t, N, 0.0, spikes.t_stop)
    with np.load(tmp_path / "spikes.npz") as arrays:  # the plain file, read by hand
        _check_analysis(
            as_spike_trains(arrays, N=N, t_stop=spikes.t_stop),
            arrays["i"],
            arrays["t"],
            N,
            0.0,
            spikes.t_stop,
        )


def test_sparseprop_result_feeds_the_analysis():
    from neurosrnn.sparseprop import balanced_network

    network = balanced_network(200, 20, model="lif", rate=20.0, seed=1)
    state = network.initial_state(seed=2)
    result = network.run(state, duration=0.5, progress=False)
    spikes = as_spike_trains(result)
    assert (spikes.N, spikes.t_start, spikes.t_stop) == (200, 0.0, 0.5)
    assert len(spikes) == result.n_spikes > 400
    _check_analysis(result, result.spike_indices, result.spike_times, 200, 0.0, 0.5)
    # A run stopped by its spike count ends on a spike: the window keeps that spike.
    by_count = network.run(result.state, n_spikes=300, progress=False)
    spikes = as_spike_trains(by_count)
    assert len(spikes) == 300 and spikes.t[-1] == by_count.stop_time
    assert spikes.t_start == by_count.start_time == 0.5
    assert spikes.t_stop == np.nextafter(by_count.stop_time, np.inf)
    unrecorded = network.run(state, duration=0.05, record_spikes=False, progress=False)
    with pytest.raises(ValueError, match="record_spikes=True"):
        firing_rates(unrecorded)


def test_spike_monitor_and_results_from_monitors_feed_the_analysis():
    from neurosrnn.results import SimulationResults

    rng = np.random.default_rng(5)
    N, n = 8, 120
    i = rng.integers(0, N - 1, n)  # the last neuron stays silent
    t = np.sort(rng.choice(np.arange(1, 400), n, replace=False)) * 0.1 * ms
    group = SpikeGeneratorGroup(N, i, t)
    monitor = SpikeMonitor(group)
    network = Network(group, monitor)
    network.run(50 * ms)
    _check_analysis(monitor, i, t / ms * 1e-3, N, 0.0, 0.05)
    from_monitors = SimulationResults.from_monitors([monitor]).spike_trains
    assert from_monitors == as_spike_trains(monitor)
    assert from_monitors.t_stop == pytest.approx(0.05)
    assert_array_equal(from_monitors.count(), np.bincount(i, minlength=N))


def test_sweep_store_entry_feeds_the_analysis(tmp_path):
    from neurosrnn.sweep.store import ResultStore, run_key

    rng = np.random.default_rng(6)
    N, duration = 10, 2.0
    i = rng.integers(0, N, 300)
    t = np.sort(rng.uniform(0, duration, 300))
    store = ResultStore(tmp_path)
    key = run_key({"test": 1})
    store.save(
        key,
        {"spike_indices": i, "spike_times": t},
        extra_metadata={"info": {"N": N, "duration_s": duration}},
    )
    entry = store.load(key)
    spikes = as_spike_trains(entry)
    assert (spikes.N, spikes.t_start, spikes.t_stop) == (N, 0.0, duration)
    _check_analysis(entry, i, t, N, 0.0, duration)
    # a runner's result before storing carries "info" itself
    runner_result = {"spike_indices": i, "spike_times": t, "info": {"N": N, "duration_s": 2.0}}
    assert as_spike_trains(runner_result) == spikes


def test_neo_segment_and_plain_arrays_feed_the_analysis():
    pytest.importorskip("neo")
    from neurosrnn.analysis.neo_interop import to_neo

    rng = np.random.default_rng(9)
    N = 6
    i = rng.integers(0, N, 200)
    t = rng.uniform(0.1, 1.1, 200)
    pair = as_spike_trains((i, t), N=N, t_start=0.1, t_stop=1.1)
    _check_analysis(pair, i, t, N, 0.1, 1.1)
    _check_analysis(to_neo(pair), i, t, N, 0.1, 1.1)
    _check_analysis(to_neo(pair, container="block"), i, t, N, 0.1, 1.1)


def test_unsupported_input_names_the_accepted_forms():
    with pytest.raises(ValueError, match="SparseProp or sweep store entry.*got builtins.dict"):
        as_spike_trains({"x": 1})
