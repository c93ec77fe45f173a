"""MAT and multi-trace ALIF: threshold traces vs closed-form sums of exponentials."""

import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    ms,
    mV,
)
from brian2.units.fundamentalunits import DimensionMismatchError
from numpy.testing import assert_array_equal

from neurosrnn.models.alif import alif
from neurosrnn.models.multitimescale import mat, multi_alif


def _forced_group(model, spike_steps, n_steps, dt, **parameters):
    """A group of `model` whose spikes are imposed at `spike_steps` (threshold replaced)."""
    pattern = np.zeros(n_steps)
    pattern[list(spike_steps)] = 1.0
    group = NeuronGroup(
        1,
        model.equations,
        threshold="forced_spikes(t) > 0.5",
        reset=model.reset,
        refractory=model.refractory,
        method=model.method,
        dt=dt,
        namespace={"forced_spikes": TimedArray(pattern, dt=dt)},
    )
    for name, value in {**model.parameters, **parameters}.items():
        setattr(group, name, value)
    for name, value in model.initial_values.items():
        setattr(group, name, value)
    return group


def test_mat_threshold_trace_is_sum_of_exponentials_after_spikes():
    dt = 0.1 * ms
    spike_steps = [50, 120, 200, 230, 600, 1500]  # ms x 10; all > 2 ms apart
    omega, alpha_1, alpha_2, tau_1, tau_2 = 15.0, 30.0, 3.0, 10.0, 200.0
    group = _forced_group(
        mat(),
        spike_steps,
        3000,
        dt,
        omega=omega * mV,
        alpha_1=alpha_1 * mV,
        alpha_2=alpha_2 * mV,
        tau_1=tau_1 * ms,
        tau_2=tau_2 * ms,
    )
    trace = StateMonitor(group, "adaptive_threshold", record=0, when="end")
    spikes = SpikeMonitor(group)
    Network(group, trace, spikes).run(300 * ms, namespace={})
    assert_array_equal(np.round(np.asarray(spikes.t / dt)).astype(int), spike_steps)
    t = np.asarray(trace.t / ms)
    expected = np.full_like(t, omega)
    for spike_time in np.asarray(spike_steps) * 0.1:
        elapsed = t - spike_time
        after = elapsed >= -1e-9
        expected[after] += alpha_1 * np.exp(-elapsed[after] / tau_1)
        expected[after] += alpha_2 * np.exp(-elapsed[after] / tau_2)
    np.testing.assert_allclose(np.asarray(trace.adaptive_threshold[0] / mV), expected, atol=1e-9)


def test_mat_refractory_period_blocks_spikes():
    """Imposed spikes 1 ms after a spike fall in the 2 ms refractory period and are dropped."""
    dt = 0.1 * ms
    group = _forced_group(mat(), [100, 110, 130, 300], 500, dt)
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(50 * ms, namespace={})
    assert_array_equal(np.round(np.asarray(spikes.t / dt)).astype(int), [100, 130, 300])


def test_mat_membrane_is_not_reset():
    model = mat()
    group = model.make_group(1, I_ext=45 * mV)
    monitor = StateMonitor(group, ["v", "adaptive_threshold"], record=0, when="end")
    spikes = SpikeMonitor(group)
    Network(group, monitor, spikes).run(200 * ms, namespace={})
    assert spikes.num_spikes >= 5
    t = np.asarray(monitor.t / ms) + 0.1  # state at the end of step k is at (k + 1) dt
    np.testing.assert_allclose(
        np.asarray(monitor.v[0] / mV), 45.0 * (1 - np.exp(-t / 5.0)), rtol=1e-9, atol=1e-9
    )
    isi = np.diff(np.asarray(spikes.t / ms))
    assert np.all(isi >= 2.0 - 1e-9)
    # adaptation: the threshold after the first spikes exceeds the resting level omega
    assert np.max(monitor.adaptive_threshold[0] / mV) > 19.0 + 30.0


def test_multi_alif_threshold_trace_is_sum_of_exponentials():
    dt = 1 * ms
    taus = np.array([15.0, 150.0, 900.0])
    betas = np.array([0.9, 0.5, 2.0])
    b0 = 0.05
    spike_steps = [10, 11, 12, 40, 100, 101, 250]
    parameters = {f"tau_adaptation_{k + 1}": taus[k] * ms for k in range(3)}
    parameters.update({f"beta_{k + 1}": betas[k] for k in range(3)})
    group = _forced_group(multi_alif(3), spike_steps, 400, dt, b0=b0, **parameters)
    trace = StateMonitor(group, ["adaptive_threshold", "b_1", "b_2", "b_3"], record=0, when="end")
    Network(group, trace).run(400 * ms, namespace={})
    t = np.asarray(trace.t / ms) + 1.0  # state time at the end of step k
    expected_threshold = np.full_like(t, b0)
    for k in range(3):
        # b_k(t) = b0 exp(-t/tau_k) + sum_j (exp(dt/tau_k) - 1) exp(-(t - t_j)/tau_k)
        expected = b0 * np.exp(-t / taus[k])
        for step in spike_steps:
            elapsed = t - (step + 1.0)
            after = elapsed >= -1e-9
            expected[after] += (np.exp(1.0 / taus[k]) - 1) * np.exp(-elapsed[after] / taus[k])
        np.testing.assert_allclose(getattr(trace, f"b_{k + 1}")[0], expected, rtol=1e-11)
        expected_threshold += betas[k] * expected
    np.testing.assert_allclose(trace.adaptive_threshold[0], expected_threshold, rtol=1e-11)


def discrete_multi_alif(currents, w_rec, tau_m, tau_adaptation, b0, betas, u_init):
    """Discrete map with several traces: b_k <- rho_k b_k + (1 - rho_k) s; theta = b0 + sum beta_k b_k."""
    alpha = np.exp(-1.0 / tau_m)
    rho = np.exp(-1.0 / tau_adaptation)  # (n_traces, N)
    u = np.array(u_init, dtype=float)
    b = np.full(rho.shape, b0)
    s = np.zeros(u.shape)
    spikes, membranes = np.zeros(currents.shape), np.zeros(currents.shape)
    for step in range(currents.shape[0]):
        b = rho * b + (1 - rho) * s
        threshold = b0 + (betas[:, None] * b).sum(axis=0)
        u = alpha * u + (1 - alpha) * (currents[step] + w_rec @ s) - threshold * s
        s = (u > threshold).astype(float)
        spikes[step], membranes[step] = s, u
    return spikes, membranes


def test_multi_alif_layer_matches_discrete_map():
    rng = np.random.default_rng(11)
    n_neurons, n_steps, n_traces = 25, 300, 3
    dt = 1 * ms
    tau_m = rng.uniform(3.0, 40.0, n_neurons)
    tau_adaptation = rng.uniform(5.0, 800.0, (n_traces, n_neurons))
    betas = np.array([0.3, 0.8, 1.5])
    w_rec = rng.normal(0.0, 0.5, (n_neurons, n_neurons))
    np.fill_diagonal(w_rec, 0.0)
    currents = rng.normal(0.6, 0.8, (n_steps, n_neurons))
    u_init = rng.uniform(0.0, 0.01, n_neurons)
    model = multi_alif(n_traces)
    parameters = {f"tau_adaptation_{k + 1}": tau_adaptation[k] * dt for k in range(n_traces)}
    parameters.update({f"beta_{k + 1}": betas[k] for k in range(n_traces)})
    group = model.make_group(
        n_neurons, dt=dt, tau_m=tau_m * dt, initial_values={"v": u_init}, **parameters
    )
    group.namespace["held_input"] = TimedArray(currents, dt=dt)
    group.run_regularly("I_input = held_input(t, i)", when="start")
    synapses = Synapses(group, group, "w : 1", on_pre=model.coupling_on_pre, dt=dt)
    post, pre = np.nonzero(w_rec)
    synapses.connect(i=pre, j=post)
    synapses.w[:] = w_rec[post, pre]
    membrane = StateMonitor(group, "v", record=True, when="before_thresholds")
    spikes = SpikeMonitor(group)
    Network(group, synapses, membrane, spikes).run(n_steps * dt, namespace={})
    expected_spikes, expected_u = discrete_multi_alif(
        currents, w_rec, tau_m, tau_adaptation, 0.01, betas, u_init
    )
    measured = np.zeros(currents.shape)
    measured[np.round(np.asarray(spikes.t / dt)).astype(int), spikes.i[:]] = 1.0
    assert 0.02 < expected_spikes.mean() < 0.5
    assert_array_equal(measured, expected_spikes)
    assert np.max(np.abs(np.asarray(membrane.v).T - expected_u)) <= 1e-12


def test_multi_alif_with_one_trace_is_the_srnn_alif():
    dt = 1 * ms
    rng = np.random.default_rng(3)
    currents = rng.normal(0.7, 0.6, (200, 5))
    runs = []
    for model, extra in (
        (alif(), {"tau_adp": 120 * ms, "beta": 1.8}),
        (multi_alif(1), {"tau_adaptation_1": 120 * ms, "beta_1": 1.8}),
    ):
        group = model.make_group(5, dt=dt, tau_m=15 * ms, **extra)
        group.namespace["held_input"] = TimedArray(currents, dt=dt)
        group.run_regularly("I_input = held_input(t, i)", when="start")
        spikes = SpikeMonitor(group)
        Network(group, spikes).run(200 * ms, namespace={})
        runs.append((np.array(spikes.i[:]), np.array(spikes.t / ms)))
    assert len(runs[0][0]) > 20
    assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_allclose(runs[0][1], runs[1][1])


def test_multi_alif_default_parameter_names():
    model = multi_alif(3)
    for k in (1, 2, 3):
        assert f"tau_adaptation_{k}" in model.parameters and f"beta_{k}" in model.parameters
    assert "tau_adaptation_4" not in model.parameters


def test_mat_and_multi_alif_suprathreshold_drive_fire_repetitively():
    for model in (mat(), multi_alif(3)):
        group = model.make_group(1, **{model.drive_parameter: model.suprathreshold_drive})
        monitor = SpikeMonitor(group)
        Network(group, monitor).run(300 * ms, namespace={})
        assert monitor.num_spikes >= 5
        assert monitor.t[-1] > 200 * ms


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_multi_alif_rejects_bad_number_of_traces(n):
    with pytest.raises(ValueError, match="n_adaptation"):
        multi_alif(n)


@pytest.mark.parametrize(
    "factory, kwargs, message",
    [
        (mat, dict(tau_2=0 * ms), "tau_2"),
        (mat, dict(tau_1=np.nan * ms), "tau_1"),
        (mat, dict(alpha_3=1 * mV), "alpha_3"),
        (mat, dict(omega=np.ones(4) * mV), "omega"),
        (lambda: multi_alif(2), dict(tau_adaptation_2=-1 * ms), "tau_adaptation_2"),
        (lambda: multi_alif(2), dict(beta_3=1.0), "beta_3"),
    ],
)
def test_multitimescale_rejects_bad_parameters(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory().make_group(2, **kwargs)


def test_multitimescale_rejects_wrong_units_and_size():
    with pytest.raises(DimensionMismatchError):
        mat().make_group(2, alpha_1=1 * ms)
    with pytest.raises(DimensionMismatchError):
        multi_alif(2).make_group(2, tau_adaptation_1=1 * mV)
    with pytest.raises(ValueError, match="N must be"):
        mat().make_group(0)
