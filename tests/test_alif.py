"""SRNN adaptive LIF: Brian2 exact integration vs the plain numpy discrete map."""

import numpy as np
import pytest
from brian2 import (
    Network,
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


def discrete_alif(currents, w_rec, tau_m, tau_adp, b0, beta, u_init, r_m=1.0):
    """The SRNN ALIF map (Yin, Corradi & Bohte 2021), time constants in steps.

    b_t = rho b_{t-1} + (1 - rho) s_{t-1};  theta_t = b0 + beta b_t;
    u_t = alpha u_{t-1} + (1 - alpha) R_m (I_t + W s_{t-1}) - theta_t s_{t-1};
    s_t = H(u_t - theta_t).
    """
    alpha = np.exp(-1.0 / tau_m)
    rho = np.exp(-1.0 / tau_adp)
    u = np.array(u_init, dtype=float)
    b = np.full(u.shape, b0, dtype=float)
    s = np.zeros(u.shape)
    spikes = np.zeros(currents.shape)
    membranes = np.zeros(currents.shape)
    thresholds = np.zeros(currents.shape)
    for step in range(currents.shape[0]):
        b = rho * b + (1 - rho) * s
        threshold = b0 + beta * b
        u = alpha * u + (1 - alpha) * r_m * (currents[step] + w_rec @ s) - threshold * s
        s = (u > threshold).astype(float)
        spikes[step], membranes[step], thresholds[step] = s, u, threshold
    return spikes, membranes, thresholds


def _simulate_alif_layer(currents, w_rec, tau_m, tau_adp, u_init, dt, b0, beta, r_m=1.0):
    model = alif()
    n_steps, n_neurons = currents.shape
    group = model.make_group(
        n_neurons,
        dt=dt,
        tau_m=tau_m * dt,
        tau_adp=tau_adp * dt,
        b0=b0,
        beta=beta,
        R_m=r_m,
        initial_values={"v": u_init},
    )
    group.namespace["held_input"] = TimedArray(currents, dt=dt)
    group.run_regularly("I_input = held_input(t, i)", when="start")
    synapses = Synapses(group, group, "w : 1", on_pre=model.coupling_on_pre, dt=dt)
    post, pre = np.nonzero(w_rec)
    if post.size:
        synapses.connect(i=pre, j=post)
        synapses.w[:] = w_rec[post, pre]
    else:
        synapses.connect(False)
    membrane = StateMonitor(
        group, ["v", "adaptive_threshold"], record=True, when="before_thresholds"
    )
    spikes = SpikeMonitor(group)
    Network(group, synapses, membrane, spikes).run(n_steps * dt, namespace={})
    spike_matrix = np.zeros(currents.shape)
    spike_matrix[np.round(np.asarray(spikes.t / dt)).astype(int), spikes.i[:]] = 1.0
    return spike_matrix, np.asarray(membrane.v).T, np.asarray(membrane.adaptive_threshold).T


@pytest.mark.parametrize("dt", [1 * ms, 4 * ms])
def test_alif_layer_matches_discrete_map(dt):
    rng = np.random.default_rng(7)
    n_neurons, n_steps = 30, 300
    tau_m = rng.uniform(2.0, 50.0, n_neurons)
    tau_adp = rng.uniform(10.0, 600.0, n_neurons)
    w_rec = rng.normal(0.0, 0.5, (n_neurons, n_neurons))
    np.fill_diagonal(w_rec, 0.0)
    currents = rng.normal(0.5, 0.8, (n_steps, n_neurons))
    u_init = rng.uniform(0.0, 0.01, n_neurons)
    b0, beta, r_m = 0.01, 1.8, 1.3
    expected_spikes, expected_u, expected_theta = discrete_alif(
        currents, w_rec, tau_m, tau_adp, b0, beta, u_init, r_m
    )
    spikes, membrane, threshold = _simulate_alif_layer(
        currents, w_rec, tau_m, tau_adp, u_init, dt, b0, beta, r_m
    )
    assert 0.02 < expected_spikes.mean() < 0.5  # active, not saturated
    assert_array_equal(spikes, expected_spikes)
    assert np.max(np.abs(membrane - expected_u)) <= 1e-12
    assert np.max(np.abs(threshold - expected_theta)) <= 1e-12


def test_alif_consecutive_step_firing_is_possible():
    """No refractoriness: a strong held input fires a neuron at every step, as the map does."""
    currents = np.full((20, 1), 50.0)
    spikes, _, _ = _simulate_alif_layer(
        currents, np.zeros((1, 1)), np.array([20.0]), np.array([200.0]), [0.0], 1 * ms, 0.01, 0.0
    )
    expected, _, _ = discrete_alif(currents, np.zeros((1, 1)), 20.0, 200.0, 0.01, 0.0, [0.0])
    assert_array_equal(spikes, expected)
    assert spikes[1:].all()


def test_alif_suprathreshold_drive_fires_repetitively():
    model = alif()
    group = model.make_group(1, **{model.drive_parameter: model.suprathreshold_drive})
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(500 * ms, namespace={})
    times = np.asarray(monitor.t / ms)
    assert len(times) >= 5
    assert times[-1] > 400  # keeps firing despite adaptation


def test_alif_model_pieces_are_exposed():
    model = alif()
    assert model.method == "exact"
    assert model.coupling_target == "I_synaptic"
    assert "adaptive_threshold" in model.equations.names
    assert model.equations["tau_m"].flags == ["constant"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tau_m=0 * ms), "tau_m"),
        (dict(tau_adp=-5 * ms), "tau_adp"),
        (dict(tau_adp=np.nan * ms), "tau_adp"),
        (dict(tau_m=np.ones(3) * 20 * ms), "tau_m"),
        (dict(beta_k=1.0), "beta_k"),
        (dict(b0=np.inf), "b0"),
    ],
)
def test_alif_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        alif().make_group(4, **kwargs)


def test_alif_rejects_wrong_units():
    with pytest.raises(DimensionMismatchError):
        alif().make_group(4, tau_m=20 * mV)
    with pytest.raises(DimensionMismatchError):
        alif().make_group(4, beta=1.8 * ms)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_alif_rejects_bad_group_size(n):
    with pytest.raises(ValueError, match="N must be a positive integer"):
        alif().make_group(n)
