"""Input neurons of the exact engine: given spike trains through their own sparse fan-out.

Checks against the O(N) reference (`simulate_reference`, written independently), against
closed-form LIF trajectories, and the tie rule for an input spike and a delayed pulse
arriving at one instant.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity, fixed_in_degree
from neurosrnn.sparseprop import engine
from neurosrnn.sparseprop.engine import InputSpikes, SparsePropNetwork
from neurosrnn.sparseprop.reference import simulate_reference

N, K, M = 60, 6, 8
TAU = 0.01


def _input_graph(seed, weights=True):
    """A fixed-out-degree M -> N input graph with mixed-sign per-synapse weights."""
    rng = np.random.default_rng(seed)
    fan_out = 5
    indptr = np.arange(0, (M + 1) * fan_out, fan_out)
    indices = np.concatenate([np.sort(rng.choice(N, fan_out, replace=False)) for _ in range(M)])
    if not weights:
        return Connectivity(indptr, indices, N)
    return Connectivity(indptr, indices, N, weights=rng.uniform(-0.3, 0.9, indices.size))


def _train(seed, n=150, end=0.35):
    """Input spikes on a 1 ms grid (so some of them coincide), some after the stop time."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.integers(0, int(end * 1000), n)) * 1e-3
    return rng.integers(0, M, n), times


def _network(model, events, seed=3):
    rng = np.random.default_rng(seed)
    graph = fixed_in_degree(N, N, K, seed=seed, weights=rng.uniform(-0.5, 0.2, N * K))
    if model == "theta":
        drive = 0.05  # phase representation
    else:
        drive = rng.uniform(0.1, 0.3, N)  # time representation
    options = {}
    # delays off the 1 ms grid of the inputs: an input-driven spike's pulses must not
    # meet later inputs at instants that coincide only in real arithmetic (floating
    # point decides such near-ties, differently in the engine and the reference; the
    # exact tie is tested with representable times below)
    if events == "delay":
        options = {"delay": 2.0731e-3, "refractory": 3e-3}
    elif events == "synapse_delays":
        delays = rng.uniform(0, 4e-3, N * K)
        delays[::5] = 0.0
        options = {"delay": delays, "refractory": 2e-3}
    return SparsePropNetwork(
        model, graph, drive=drive, tau=TAU, input_connectivity=_input_graph(seed), **options
    )


@pytest.mark.parametrize("events", ["none", "delay", "synapse_delays"])
@pytest.mark.parametrize("model", ["theta", "lif"])
def test_engine_matches_the_reference_with_input_spikes(model, events):
    net = _network(model, events)
    state = net.initial_state(seed=4)
    indices, times = _train(5)
    result = net.run(state, duration=0.3, input_spikes=(indices, times))
    reference = simulate_reference(
        net, net.phases(state), duration=0.3, input_spikes=(indices, times)
    )
    assert result.n_spikes > 100
    assert_array_equal(result.spike_indices, reference.spike_indices)
    assert_allclose(result.spike_times, reference.spike_times, rtol=0, atol=1e-12)
    # inputs after the stop time are not delivered; none are recorded as network spikes
    assert result.n_input_spikes == reference.n_input_spikes == int(np.sum(times <= 0.3))
    assert result.n_input_spikes < indices.size
    # the inputs matter: without them the spikes differ
    free = net.run(state, duration=0.3)
    assert free.n_input_spikes == 0
    assert free.n_spikes != result.n_spikes or np.any(free.spike_indices != result.spike_indices)


def test_unweighted_input_graph_with_one_weight_per_input_neuron_equals_per_synapse_weights():
    graph = _input_graph(7, weights=False)
    coupling = np.linspace(-0.2, 0.8, M)
    weighted = Connectivity(
        graph.indptr, graph.indices, N, weights=np.repeat(coupling, np.diff(graph.indptr))
    )
    recurrent = fixed_in_degree(N, N, K, seed=1)
    a = SparsePropNetwork(
        "lif", recurrent, drive=0.2, tau=TAU, coupling=-0.1,
        input_connectivity=graph, input_coupling=coupling,
    )  # fmt: skip
    b = SparsePropNetwork(
        "lif", recurrent, drive=0.2, tau=TAU, coupling=-0.1, input_connectivity=weighted
    )
    state = a.initial_state(seed=2)
    train = InputSpikes(*_train(8), sort=True)
    ra = a.run(state, duration=0.2, input_spikes=train)
    rb = b.run(state, duration=0.2, input_spikes=train)
    assert a.n_inputs == M and "8 input neurons" in repr(a)
    assert_array_equal(ra.spike_indices, rb.spike_indices)
    assert_array_equal(ra.spike_times, rb.spike_times)
    reference = simulate_reference(a, a.phases(state), duration=0.2, input_spikes=train)
    assert_array_equal(ra.spike_indices, reference.spike_indices)
    assert_allclose(ra.spike_times, reference.spike_times, rtol=0, atol=1e-12)


def _single_lif(drive, tau, weight, refractory=None):
    """One LIF neuron (no recurrent synapse) with one input neuron of `weight`."""
    return SparsePropNetwork(
        "lif",
        Connectivity([0, 0], np.zeros(0, dtype=np.int64), 1),
        drive=drive,
        tau=tau,
        coupling=0.0,
        refractory=refractory,
        input_connectivity=Connectivity([0, 1], [0], 1, weights=[weight]),
    )


@pytest.mark.parametrize("weight", [0.25, -0.4])
def test_one_input_pulse_shifts_the_next_lif_spike_by_the_analytic_amount(weight):
    # dV/dt = (-V + 1 + I) / tau from V = 0: V(t) = (1 + I)(1 - exp(-t / tau)); a pulse
    # at t_in moves V to V(t_in) + w, and threshold 1 is then reached after
    # tau ln((1 + I - V(t_in) - w) / I)
    drive, tau, t_in = 0.3, 0.02, 0.011
    net = _single_lif(drive, tau, weight)
    state = net.initial_state(model_state=[0.0])
    free = net.run(state, n_spikes=1)
    period = tau * math.log((1 + drive) / drive)
    assert_allclose(free.spike_times, [period], rtol=0, atol=1e-14)
    result = net.run(state, n_spikes=1, input_spikes=([0], [t_in]))
    v = (1 + drive) * (1 - math.exp(-t_in / tau)) + weight
    expected = t_in + tau * math.log((1 + drive - v) / drive)
    assert result.n_input_spikes == 1
    assert_allclose(result.spike_times, [expected], rtol=0, atol=1e-14)
    assert_allclose(period - result.spike_times[0], period - expected, rtol=0, atol=1e-14)


def test_an_input_pulse_to_threshold_fires_at_once_and_a_refractory_target_ignores_it():
    drive, tau, t_ref = 0.3, 0.02, 0.004
    period = tau * math.log((1 + drive) / drive)
    net = _single_lif(drive, tau, 1.5, refractory=t_ref)
    state = net.initial_state(model_state=[0.0])
    # fires at the input (t = 5 ms); the input 1 ms later is ignored (refractory), so
    # the next spike is a free period after the refractory period
    result = net.run(state, duration=0.05, input_spikes=([0, 0], [0.005, 0.006]))
    assert_allclose(result.spike_times, [0.005, 0.005 + t_ref + period], rtol=0, atol=1e-14)
    assert result.n_input_spikes == 2
    # an input at the end of the refractory period is delivered and fires it at once
    result = net.run(state, duration=0.02, input_spikes=([0, 0], [0.005, 0.005 + t_ref]))
    assert_allclose(result.spike_times, [0.005, 0.005 + t_ref], rtol=0, atol=1e-14)


def _tie_network(recurrent_weight, input_weight, refractory=None):
    """Neuron 0 -> neuron 1 (delay 125 ms); input 0 -> neuron 0 (fires it), input 1 -> 1.

    tau = 1 s and the time representation: the engine clock is the time in seconds, so
    the delayed pulse and the input spike below meet on one clock value exactly.
    """
    return SparsePropNetwork(
        "lif",
        Connectivity([0, 1, 1], [1], 2, weights=[recurrent_weight]),
        drive=0.1,
        tau=1.0,
        representation="time",
        delay=0.125,
        refractory=refractory,
        input_connectivity=Connectivity([0, 1, 2], [0, 1], 2, weights=[2.0, input_weight]),
    )


@pytest.mark.parametrize("refractory", [None, 0.01])
@pytest.mark.parametrize("weights", [(0.6, -0.1), (-0.1, 0.6)])
def test_an_input_spike_tied_with_a_delayed_pulse_acts_as_one_summed_pulse(weights, refractory):
    net = _tie_network(*weights, refractory=refractory)
    state = net.initial_state(model_state=[0.0, 0.4])
    t_spike = 0.25  # input 0 fires neuron 0 at once
    tie = t_spike + 0.125  # its pulse to neuron 1 arrives here, with input 1
    # V_1 at the tie: 1.1 - 0.7 exp(-0.375) = 0.619. The summed pulse +0.5 lifts it to
    # threshold: it fires at the tie. One at a time with the excitatory pulse first, V_1
    # would stop at threshold (a pulse lifts a neuron to threshold, not beyond) and the
    # inhibitory one would leave it at 0.9, below threshold, until after the run.
    v1 = 1.1 - 0.7 * math.exp(-tie)
    assert v1 + 0.5 >= 1 > 1 - 0.1 and math.log((1.1 - 0.9) / 0.1) > 0.5 - tie
    tied = net.run(state, duration=0.5, input_spikes=([0, 1], [t_spike, tie]))
    assert tied.n_input_spikes == 2
    assert_array_equal(tied.spike_indices, [0, 1])
    assert_array_equal(tied.spike_times, [t_spike, tie])
    reference = simulate_reference(
        net, net.phases(state), duration=0.5, input_spikes=([0, 1], [t_spike, tie])
    )
    assert_array_equal(reference.spike_indices, [0, 1])
    assert_allclose(reference.spike_times, [t_spike, tie], rtol=0, atol=1e-15)
    # control, 1 us apart: the pulses act in time order, and the excitatory one fires
    # neuron 1 at once when it comes first
    shift = 1e-6 if weights[0] > 0 else -1e-6
    apart = net.run(state, duration=0.5, input_spikes=([0, 1], [t_spike, tie + shift]))
    assert_array_equal(apart.spike_indices, [0, 1])
    assert_allclose(apart.spike_times, [t_spike, min(tie, tie + shift)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_split_runs_with_the_train_split_equal_one_long_run_bit_for_bit(model):
    rng = np.random.default_rng(11)
    graph = fixed_in_degree(N, N, K, seed=2, weights=rng.uniform(-0.5, 0.2, N * K))
    net = SparsePropNetwork(
        model, graph, drive=0.05 if model == "theta" else 0.2, tau=TAU, delay=1.5e-3,
        refractory=2e-3, rebase_interval=7, input_connectivity=_input_graph(12),
    )  # fmt: skip
    state = net.initial_state(seed=13)
    indices, times = _train(14, n=200, end=0.3)
    long = net.run(state, duration=0.3, input_spikes=(indices, times))
    first = times <= 0.12
    part1 = net.run(state, duration=0.12, input_spikes=(indices[first], times[first]))
    part2 = net.run(part1.state, duration=0.18, input_spikes=(indices[~first], times[~first]))
    assert part1.n_input_spikes + part2.n_input_spikes == long.n_input_spikes == times.size
    assert_array_equal(
        np.concatenate([part1.spike_indices, part2.spike_indices]), long.spike_indices
    )
    assert_array_equal(np.concatenate([part1.spike_times, part2.spike_times]), long.spike_times)
    assert_array_equal(part2.state.keys, long.state.keys)
    assert part2.state.n_pending == long.state.n_pending


def test_bad_input_spikes_and_input_graphs_raise_before_any_work():
    net = _network("lif", "delay")
    state = net.initial_state(seed=1)
    builds = engine.HEAP_BUILDS[0]
    bad = {
        "indices must lie in": ([0, M], [0.01, 0.02]),
        "must be >= 0": ([-1, 0], [0.01, 0.02]),
        "finite and >= 0": ([0, 1], [-0.01, 0.02]),
        "finite and >= 0 s, got nan": ([0, 1], [0.01, np.nan]),
        "must be sorted": ([0, 1], [0.02, 0.01]),
        "of one length": ([0, 1], [0.01]),
    }
    for message, train in bad.items():
        with pytest.raises(ValueError, match=f"input_spikes.*{message}"):
            net.run(state, duration=0.1, input_spikes=train)
    later = net.run(state, duration=0.05, input_spikes=([0], [0.01])).state
    builds = engine.HEAP_BUILDS[0]
    with pytest.raises(ValueError, match="input_spikes times must not lie before"):
        net.run(later, duration=0.1, input_spikes=([0], [0.04]))
    with pytest.raises(ValueError, match="input_spikes must be None, an InputSpikes"):
        net.run(state, duration=0.1, input_spikes=[0, 1, 2])
    assert engine.HEAP_BUILDS[0] == builds  # refused before any heap was built
    # sort=True sorts (stably) instead
    train = InputSpikes([1, 0, 2], [0.02, 0.01, 0.02], sort=True)
    assert_array_equal(train.indices, [0, 1, 2])
    assert net.run(state, duration=0.1, input_spikes=train).n_input_spikes == 3
    # a network without input neurons
    plain = SparsePropNetwork("lif", fixed_in_degree(N, N, K, seed=1), drive=0.2, tau=TAU,
                              coupling=-0.1)  # fmt: skip
    assert plain.n_inputs == 0
    with pytest.raises(ValueError, match="input_spikes given, but this network has no input"):
        plain.run(plain.initial_state(seed=1), duration=0.1, input_spikes=([0], [0.01]))
    with pytest.raises(ValueError, match="input_spikes given, but the network has no input"):
        simulate_reference(plain, 0.5, duration=0.1, input_spikes=([0], [0.01]))
    # input graphs of the wrong shape, type or weights
    graph = fixed_in_degree(N, N, K, seed=1)
    common = {"drive": 0.2, "tau": TAU, "coupling": -0.1}
    wrong = Connectivity([0, 1], [0], N + 1, weights=[0.1])
    with pytest.raises(ValueError, match="input_connectivity must project onto the network's"):
        SparsePropNetwork("lif", graph, input_connectivity=wrong, **common)
    with pytest.raises(ValueError, match="input_connectivity must be a stored"):
        SparsePropNetwork("lif", graph, input_connectivity=np.eye(3), **common)
    unweighted = _input_graph(1, weights=False)
    with pytest.raises(ValueError, match="give input weights"):
        SparsePropNetwork("lif", graph, input_connectivity=unweighted, **common)
    with pytest.raises(ValueError, match="input_coupling must be a scalar or one value"):
        SparsePropNetwork(
            "lif", graph, input_connectivity=unweighted, input_coupling=[0.1, 0.2], **common
        )
    with pytest.raises(ValueError, match="do not also pass input_coupling"):
        SparsePropNetwork(
            "lif", graph, input_connectivity=_input_graph(1), input_coupling=0.1, **common
        )
    with pytest.raises(ValueError, match="input_coupling needs input_connectivity"):
        SparsePropNetwork("lif", graph, input_coupling=0.1, **common)
    with pytest.raises(ValueError, match="input weights .* must be finite"):
        SparsePropNetwork(
            "lif", graph, input_connectivity=unweighted, input_coupling=np.inf, **common
        )


def test_brian2_quantities_and_repr():
    from brian2 import ms

    train = InputSpikes([0, 1], [2, 3] * ms)
    assert_allclose(train.times, [0.002, 0.003])
    assert len(train) == 2 and "2 spikes" in repr(train)
    net = _network("theta", "none")
    result = net.run(net.initial_state(seed=1), duration=0.01, input_spikes=train)
    assert result.n_input_spikes == 2 and "2 input spikes" in repr(result)


def test_tabulated_network_with_inputs_matches_the_reference():
    from neurosrnn.sparseprop.phase_tables import tabulate

    table = tabulate(
        lambda v: (1.3 - v) / 0.02, v_reset=0.0, v_threshold=1.0, v_min=-3.0, cache=False
    )
    graph = fixed_in_degree(N, N, K, seed=4)
    weighted_inputs = _input_graph(6, weights=False)
    net = SparsePropNetwork(
        table, graph, tau=TAU, coupling=-0.15, delay=1.3e-3, refractory=2e-3,
        input_connectivity=weighted_inputs, input_coupling=np.where(np.arange(M) % 2, 0.5, -0.2),
    )  # fmt: skip
    # three distinct weights (-0.15, -0.2, 0.5): the tables hold one PTC map per weight
    assert_array_equal(net._distinct_weights(), [-0.2, -0.15, 0.5])
    state = net.initial_state(seed=7)
    train = _train(9, end=0.25)
    result = net.run(state, duration=0.25, input_spikes=train)
    reference = simulate_reference(net, net.phases(state), duration=0.25, input_spikes=train)
    assert result.n_spikes > 100
    assert_array_equal(result.spike_indices, reference.spike_indices)
    assert_allclose(result.spike_times, reference.spike_times, rtol=0, atol=1e-12)
