"""The same network in Brian2 (clock-driven) converges to the exact SparseProp run."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.sparseprop.brian2_network import brian2_network
from neurosrnn.sparseprop.engine import balanced_network, isi_cv


def _matched_errors(exact_indices, exact_times, indices, times, n_first):
    """|t_brian2 - t_exact| for the first spikes, matched by (neuron, occurrence)."""
    errors = []
    for k in range(n_first):
        neuron = exact_indices[k]
        occurrence = np.count_nonzero(exact_indices[:k] == neuron)
        candidates = times[indices == neuron]
        assert occurrence < candidates.size, "Brian2 missed a spike of the exact run"
        errors.append(abs(candidates[occurrence] - exact_times[k]))
    return np.asarray(errors)


def test_brian2_network_is_the_same_network():
    from brian2 import mV

    net = balanced_network(300, 15, model="lif", rate=5.0, heterogeneity=0.3, memory_free=True)
    state = net.initial_state(seed=2)
    built = brian2_network(net, state)
    graph = net.connectivity.materialize()
    assert_array_equal(built.synapses.i[:], graph.sources)
    assert_array_equal(built.synapses.j[:], graph.indices)
    assert_allclose(built.synapses.w[:] / mV, net.coupling[0] * 10.0)
    assert_allclose(built.neurons.v[:] / mV, net.model_state(state) * 10.0)
    assert_allclose(built.neurons.I_ext[:] / mV, (1 + net.drive) * 10.0)
    assert "300 'lif_delta' neurons" in repr(built)


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_spike_times_converge_at_first_order_in_dt(model):
    from brian2 import ms

    net = balanced_network(100, 10, model=model, rate=10.0, memory_free=False)
    state = net.initial_state(seed=3)
    exact = net.run(state, duration=0.05)
    n_first = 40
    assert exact.n_spikes >= n_first
    dts = np.array([0.04, 0.02, 0.01, 0.005])
    mean_errors = []
    for dt in dts:
        built = brian2_network(net, state, dt=dt * ms)
        built.network.run(50 * ms)
        indices, times = built.spikes()
        errors = _matched_errors(exact.spike_indices, exact.spike_times, indices, times, n_first)
        assert errors.max() < 10 * dt * 1e-3  # every spike within a few steps
        mean_errors.append(errors.mean())
    slope = np.polyfit(np.log(dts), np.log(mean_errors), 1)[0]
    assert 0.8 < slope < 1.2, (slope, mean_errors)
    assert np.all(np.diff(mean_errors) < 0)


@pytest.mark.slow
def test_rate_and_cv_agree_with_exact_run():
    from brian2 import ms, second

    net = balanced_network(200, 20, model="theta", rate=10.0, memory_free=False)
    burn_in = net.run(net.initial_state(seed=5), duration=1.0)
    window = 1.0
    # statistics of 1-s windows of one long exact run: their spread is the statistical
    # error of a 1-s measurement
    long = net.run(burn_in.state, duration=30 * window)
    rates, cvs = [], []
    for start in burn_in.stop_time + window * np.arange(30):
        keep = (long.spike_times >= start) & (long.spike_times < start + window)
        rates.append(keep.sum() / (net.N * window))
        cvs.append(isi_cv(long.spike_indices[keep], long.spike_times[keep], net.N))
    rates, cvs = np.array(rates), np.array(cvs)
    built = brian2_network(net, burn_in.state, dt=0.05 * ms)
    built.network.run(window * second)
    indices, times = built.spikes()
    brian_rate = indices.size / (net.N * window)
    brian_cv = isi_cv(indices, times, net.N)
    assert abs(brian_rate - rates.mean()) < 4 * rates.std() + 0.01 * rates.mean()
    assert abs(brian_cv - cvs.mean()) < 4 * cvs.std() + 0.01


@pytest.mark.standalone
@pytest.mark.slow
def test_same_network_runs_on_cpp_standalone(tmp_path):
    from brian2 import device, ms

    from neurosrnn.devices import reset_brian_state, select_device

    net = balanced_network(100, 10, model="theta", rate=10.0, memory_free=False)
    state = net.initial_state(seed=3)
    exact = net.run(state, duration=0.05)
    dt = 0.01
    try:
        select_device("cpp_standalone", dt=dt * ms)
        built = brian2_network(net, state, dt=dt * ms)
        built.network.run(50 * ms)
        device.build(directory=str(tmp_path / "project"), run=True, with_output=False)
        indices, times = built.spikes()
    finally:
        reset_brian_state()
    errors = _matched_errors(exact.spike_indices, exact.spike_times, indices, times, 40)
    assert errors.mean() < 1.5 * dt * 1e-3
    assert errors.max() < 10 * dt * 1e-3


def test_theta_counterpart_times_pulses_between_grid_points_by_default():
    net = balanced_network(20, 4, model="theta", rate=10.0, memory_free=False)
    state = net.initial_state(seed=1)
    assert brian2_network(net, state).model.name == "theta_interpolated"
    assert brian2_network(net, state, pulse_timing="grid").model.name == "theta"
    with pytest.raises(ValueError, match="pulse_timing must be 'interpolated' or 'grid'"):
        brian2_network(net, state, pulse_timing="late")


def test_sub_step_spike_shift_reaches_the_target_only_with_interpolated_timing():
    """A presynaptic spike moved by 5e-7 s (dt = 1e-5 s) changes the target as exactly.

    Grid timing delivers the pulse in the same step either way: the target does not see
    the shift at all (which is what hides chaos from clock-driven Lyapunov estimates).
    """
    from brian2 import ms

    from neurosrnn.connectivity import Connectivity
    from neurosrnn.sparseprop import SparsePropNetwork

    net = SparsePropNetwork(
        "theta", Connectivity([0, 1, 1], [1], 2, weights=[-0.3]), drive=0.1, tau=0.01
    )
    exact, clocked = {}, {}
    for shift in (0.0, 1e-4):  # theta_0 + 1e-4 fires about 5e-7 s earlier
        state = net.initial_state(model_state=[3.0 + shift, 0.0])
        run = net.run(state, duration=0.005, sample_neurons=[1], sample_times=[0.005])
        assert run.n_spikes == 1
        exact[shift] = run.samples[0, 0]
        for timing in ("grid", "interpolated"):
            built = brian2_network(net, state, dt=0.01 * ms, pulse_timing=timing)
            built.network.run(5 * ms)
            clocked[timing, shift] = float(built.neurons.theta[1])
    exact_change = exact[1e-4] - exact[0.0]
    assert abs(exact_change) > 1e-6
    assert clocked["grid", 1e-4] - clocked["grid", 0.0] == 0.0
    interpolated_change = clocked["interpolated", 1e-4] - clocked["interpolated", 0.0]
    assert_allclose(interpolated_change, exact_change, rtol=1e-3)
