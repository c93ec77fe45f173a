"""Tests for the network recipes (models/networks.py)."""

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, ms, mV, second
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import balanced_ei, fixed_in_degree
from neurosrnn.models.lif import lif
from neurosrnn.models.networks import (
    balanced_ei_network,
    inhibitory_pulse_network,
    recurrent_network,
)
from neurosrnn.models.timescale_samplers import gamma_timescales

LIF_PARAMETERS = {
    "tau_m": 20 * ms,
    "v_rest": -70 * mV,
    "v_reset": -70 * mV,
    "v_threshold": -50 * mV,
    "I_ext": 24 * mV,
    "tau_ref": 2 * ms,
}


def _ei_network(seed, **overrides):
    parameters = dict(LIF_PARAMETERS, **overrides)
    return balanced_ei_network(
        lif(),
        160,
        40,
        20,
        J0=2 * mV,
        g=5.0,
        seed=seed,
        parameters=parameters,
        initial_values={"v": np.linspace(-70, -51, 200) * mV},
    )


def test_brian2_synapses_are_the_connectivity_graph():
    network = _ei_network(seed=3)
    graph = balanced_ei(160, 40, 20, J0=2.0, g=5.0, seed=3)  # independent rebuild, in mV
    dense = np.zeros((200, 200))
    dense[network.synapses.i[:], network.synapses.j[:]] = network.synapses.w[:] / mV
    assert_allclose(dense, graph.to_dense(), rtol=1e-12)


def test_same_seed_identical_spike_trains_different_seed_different():
    runs = []
    for seed in (5, 5, 6):
        network = _ei_network(seed, tau_m=gamma_timescales(20 * ms, shape=8))
        network.run(200 * ms)
        runs.append(network.spikes())
    assert runs[0][0].size > 100
    assert_array_equal(runs[0][0], runs[1][0])
    assert_array_equal(runs[0][1], runs[1][1])
    assert not (runs[0][0].size == runs[2][0].size and np.array_equal(runs[0][0], runs[2][0]))


def test_sampled_parameters_are_heterogeneous_and_reproducible():
    first = _ei_network(7, tau_m=gamma_timescales(20 * ms, shape=4))
    second_build = _ei_network(7, tau_m=gamma_timescales(20 * ms, shape=4))
    tau = np.asarray(first.neurons.tau_m[:] / ms)
    assert_array_equal(tau, np.asarray(second_build.neurons.tau_m[:] / ms))
    assert np.std(tau) > 2  # CV 1/2 around 20 ms
    assert_allclose(np.asarray(first.parameters["tau_m"] / ms), tau)


def test_isolated_lif_in_recipe_fires_at_closed_form_rate():
    # With zero weights the recipe must leave every neuron an isolated LIF with period
    # tau_ref + tau_m ln((I - (v_reset - v_rest)) / (I - (v_threshold - v_rest))).
    graph = fixed_in_degree(20, 20, 2, seed=1, weights=0.0)
    network = recurrent_network(lif(), graph, parameters=LIF_PARAMETERS, seed=1)
    network.run(1 * second)
    period = 2e-3 + 20e-3 * np.log(24 / (24 - 20))
    counts = np.bincount(network.spikes()[0], minlength=20)
    assert_array_equal(counts, np.full(20, counts[0]))  # identical neurons, same start
    assert abs(counts[0] - 1 / period) <= 1


def test_inhibitory_pulse_network_structure():
    network = inhibitory_pulse_network("theta", N=300, K=30, J0=1.0, seed=2, target_rate=2 * Hz)
    graph = network.connectivity
    assert_array_equal(graph.out_degrees(), np.full(300, 30))
    assert_allclose(np.unique(network.synapses.w[:]), [-1 / np.sqrt(30)])
    # Drive balances the mean inhibition at the target rate: tau sqrt(K) J0 nu0.
    assert_allclose(network.neurons.I_ext[:], 0.01 * np.sqrt(30) * 2.0)
    theta0 = np.asarray(network.neurons.theta[:])
    assert np.all(np.abs(theta0) < np.pi)


def test_inhibitory_lif_network_is_the_normalised_lif():
    network = inhibitory_pulse_network("lif", N=200, K=20, seed=2, voltage_scale=10 * mV)
    neurons = network.neurons
    # tau dV/dt = -V + 1 + I with V = (v - v_reset)/scale: rest at (1 + I) above reset.
    drive = network.parameters["I_ext_reference"]
    assert_allclose(
        (neurons.v_rest[:] + neurons.I_ext[:] - neurons.v_reset[:]) / mV, (1 + drive) * 10
    )
    assert_allclose((neurons.v_threshold[:] - neurons.v_reset[:]) / mV, 10)
    assert_allclose(np.unique(network.synapses.w[:] / mV), [-10 / np.sqrt(20)])


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: inhibitory_pulse_network("adex", N=10, K=2), ValueError),
        (lambda: inhibitory_pulse_network("theta", N=10, K=10), ValueError),
        (lambda: inhibitory_pulse_network("theta", N=10, K=2, J0=-1.0), ValueError),
        (lambda: inhibitory_pulse_network("theta", N=10, K=2, tau_m=-1 * ms), ValueError),
        (
            lambda: inhibitory_pulse_network("theta", N=10, K=2, tau_m=1 * mV),
            DimensionMismatchError,
        ),
        (
            lambda: inhibitory_pulse_network("theta", N=3, K=2, initial_phases=[0.0, 4.0, 0.0]),
            ValueError,
        ),
        (
            lambda: balanced_ei_network(lif(), 8, 2, 3, J0=1 * ms, g=1.0, seed=1),
            DimensionMismatchError,
        ),
        (lambda: _ei_network(1, tau_m=-5 * ms), ValueError),
        (lambda: _ei_network(1, no_such_parameter=1), ValueError),
        (
            lambda: recurrent_network(
                lif(), balanced_ei(8, 2, 3, J0=1.0, g=1.0, seed=1), record_states=["u"]
            ),
            ValueError,
        ),
    ],
)
def test_bad_input(call, error):
    with pytest.raises(error):
        call()


def test_repr_mentions_model_and_size():
    assert "200 'lif_delta' neurons" in repr(_ei_network(1))


def test_adex_network_weight_does_not_clash_with_adaptation_current():
    # AdEx has a state called w; the recipe must name the synaptic weight differently
    # and a presynaptic spike must still move V by exactly the weight.
    from brian2 import defaultclock, pA

    from neurosrnn.models.adex import adex

    graph = fixed_in_degree(2, 2, 1, seed=1, weights=0.5e-3)  # 0 -> 1 and 1 -> 0, volt
    network = recurrent_network(adex(), graph, parameters={"I_ext": 0 * pA}, seed=1)
    assert_allclose(network.synapses.weight[:] / mV, [0.5, 0.5])
    network.neurons.V = [10, -70] * mV  # neuron 0 above V_peak: spikes in the first step
    network.run(defaultclock.dt)
    assert_array_equal(network.spikes()[0], [0])
    # Neuron 1 sits at E_L = -70 mV, where the drift over one step is ~1e-6 mV.
    assert_allclose(network.neurons.V[1] / mV, -69.5, atol=1e-4)
