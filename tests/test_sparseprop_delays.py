"""Synaptic delays and refractory periods in the SparseProp engine.

Checked against hand-computed LIF trajectories, against a brute-force event simulation
written here in voltages (no phases, no heap), and against itself (split runs).
"""

import heapq
import math
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity, fixed_out_degree
from neurosrnn.sparseprop import RegeneratedConnectivity, SparsePropNetwork, balanced_network

TAU = 0.01


def _pair(weight, *, drive=(0.5, 0.25), **kwargs):
    """Neuron 0 -> neuron 1 with one synapse of `weight` (LIF)."""
    graph = Connectivity([0, 1, 1], [1], 2, weights=[weight])
    return SparsePropNetwork("lif", graph, drive=list(drive), tau=TAU, **kwargs)


def _lif_crossing(mu, v):
    """Time (tau units) for an LIF neuron at `v` to reach threshold 1: ln((mu - v)/(mu - 1))."""
    return math.log((mu - v) / (mu - 1))


def _lif_voltage(mu, v, t):
    return mu + (v - mu) * math.exp(-t)


# --------------------------------------------------------------------------- hand-computed


@pytest.mark.parametrize("per_synapse", [False, True])
def test_delayed_pulse_arrives_at_t_plus_d_and_shifts_the_next_spike(per_synapse):
    delay = 0.004
    weight = 0.2
    mu0, mu1 = 1.5, 1.25
    net = _pair(weight, delay=np.array([delay]) if per_synapse else delay)
    assert net.delay == pytest.approx(delay) if not per_synapse else net.delay[0] == delay
    state = net.initial_state(model_state=[0.9, 0.0])
    t0 = _lif_crossing(mu0, 0.9)
    arrival = t0 + delay / TAU
    v_before = _lif_voltage(mu1, 0.0, arrival)
    t1 = arrival + _lif_crossing(mu1, v_before + weight)
    assert t1 < t0 + _lif_crossing(mu0, 0.0) + delay / TAU  # before the next pulse arrives
    just_after = arrival * TAU + 1e-9
    result = net.run(
        state,
        n_spikes=3,
        sample_neurons=[1],
        sample_times=[arrival * TAU, just_after],
    )
    assert_array_equal(result.spike_indices[:2], [0, 1])
    assert_allclose(result.spike_times[:2], np.array([t0, t1]) * TAU, rtol=1e-12)
    # the sample at the arrival time is taken before the pulse, the next one after it
    assert_allclose(result.samples[0, 0], v_before, rtol=1e-12)
    assert_allclose(result.samples[1, 0], v_before + weight, rtol=1e-6)


def test_pulse_during_refractoriness_is_ignored_and_after_it_is_not():
    # neuron 1 fires first (at t1) and is refractory for 3 ms; neuron 0's pulse
    # arrives inside that window in the first case, after it in the second
    mu0, mu1, weight = 1.1, 1.25, 0.15
    t1 = _lif_crossing(mu1, 0.95)
    refractory = 0.003
    free_period1 = _lif_crossing(mu1, 0.0)
    for v0, ignored in ((0.95, True), (0.7, False)):
        t0 = _lif_crossing(mu0, v0)
        assert t0 > t1
        assert (t0 < t1 + refractory / TAU) == ignored
        net = _pair(weight, drive=(mu0 - 1, mu1 - 1), refractory=refractory)
        result = net.run(net.initial_state(model_state=[v0, 0.95]), n_spikes=3)
        assert_array_equal(result.spike_indices, [1, 0, 1])
        if ignored:
            expected = t1 + refractory / TAU + free_period1
        else:
            start = t1 + refractory / TAU  # free evolution from reset from here
            v = _lif_voltage(mu1, 0.0, t0 - start) + weight
            expected = t0 + _lif_crossing(mu1, v)
        assert_allclose(result.spike_times, np.array([t1, t0, expected]) * TAU, rtol=1e-12)


@pytest.mark.parametrize("model", ["theta", "lif"])
@pytest.mark.parametrize("representation", ["phase", "time"])
def test_refractory_period_lengthens_the_free_period_by_exactly_t_ref(model, representation):
    N, drive, refractory = 4, 0.25, 0.0021
    graph = Connectivity(np.zeros(N + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), N)
    net = SparsePropNetwork(
        model,
        graph,
        drive=drive,
        tau=TAU,
        coupling=0.0,
        refractory=refractory,
        representation=representation,
    )
    result = net.run(net.initial_state(seed=2), duration=0.5)
    period = math.pi / math.sqrt(drive) if model == "theta" else math.log((1 + drive) / drive)
    for i in range(N):
        times = result.spike_times[result.spike_indices == i]
        assert times.size > 5
        assert_allclose(np.diff(times), period * TAU + refractory, rtol=1e-11)
    # a refractory neuron reads as held at reset
    state = result.state
    phases = net.phases(state)
    last = np.array([result.spike_times[result.spike_indices == i][-1] for i in range(N)])
    refractory_now = state.time_seconds < last + refractory
    assert_array_equal(phases[refractory_now], net.model.phase_reset)
    assert np.all(phases[~refractory_now] > net.model.phase_reset)


# --------------------------------------------------------------------------- brute force


def _brute_force_lif(net, graph, v0, n_spikes):
    """Voltage-form event simulation of an LIF network with delays and refractoriness.

    Every neuron is anchored at ``(a, v_a)`` and evolves as ``mu + (v_a - mu) e^{-(t-a)}``;
    a refractory neuron is anchored at the end of its refractory period with v = 0. The
    tie rule of the engine: arrivals before spikes at one instant, arrivals in the order
    of (time, spike number, synapse), spikes in the order of (time, index).
    """
    N = net.N
    mu = 1.0 + net.drive
    tau = net.tau
    delays = net.delay if isinstance(net.delay, np.ndarray) else None
    d_all = 0.0 if net.delay is None else net.delay
    refractory = np.zeros(N) if net.refractory is None else net.refractory / tau
    anchor = np.zeros(N)
    v_anchor = np.array(v0, dtype=float)
    refractory_end = np.full(N, -np.inf)
    pending = []
    spikes, t, sequence = [], 0.0, 0
    indptr, targets, weights = graph.indptr, graph.indices, graph.weights
    while len(spikes) < n_spikes:
        crossing = anchor + np.log((mu - v_anchor) / (mu - 1.0))
        j = int(np.argmin(crossing))
        if pending and pending[0][0] <= crossing[j]:
            t, _, k = heapq.heappop(pending)
            i = targets[k]
            if t < refractory_end[i]:
                continue
            v = mu[i] + (v_anchor[i] - mu[i]) * math.exp(-(t - anchor[i])) + weights[k]
            anchor[i], v_anchor[i] = t, min(v, 1.0)
            continue
        t = crossing[j]
        spikes.append((j, t))
        refractory_end[j] = t + refractory[j]
        anchor[j], v_anchor[j] = t + refractory[j], 0.0
        for k in range(indptr[j], indptr[j + 1]):
            d = (delays[k] if delays is not None else d_all) / tau
            heapq.heappush(pending, (t + d, sequence, k))
        sequence += 1
    indices = np.array([j for j, _ in spikes])
    times = np.array([time for _, time in spikes]) * tau
    return indices, times


@pytest.mark.parametrize(
    ("delay_kind", "refractory"),
    [("none", 0.002), ("homogeneous", 0.0), ("homogeneous", 0.002), ("per_synapse", 0.0),
     ("per_synapse", 0.002)],
)  # fmt: skip
def test_mixed_sign_lif_network_matches_brute_force_voltage_simulation(delay_kind, refractory):
    N, K = 30, 6
    rng = np.random.default_rng(5)
    graph = fixed_out_degree(N, N, K, seed=3)
    weights = np.where(rng.random(graph.indices.size) < 0.8, -0.15, 0.12)
    graph = graph.with_weights(weights)
    delay = {
        "none": None,
        "homogeneous": 0.0013,
        "per_synapse": np.where(
            rng.random(graph.indices.size) < 0.1, 0.0, 1e-3 * rng.random(graph.indices.size) * 3
        ),
    }[delay_kind]
    drive = 0.3 + 0.4 * rng.random(N)
    net = SparsePropNetwork(
        "lif", graph, drive=drive, tau=TAU, delay=delay, refractory=refractory, rebase_interval=7
    )
    v0 = rng.random(N) * 0.95
    result = net.run(net.initial_state(model_state=v0), n_spikes=400)
    indices, times = _brute_force_lif(net, graph, v0, 400)
    assert_array_equal(result.spike_indices, indices)
    assert_allclose(result.spike_times, times, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- split runs


def _networks_with_events():
    """A memory-free theta network with one delay and a stored one with per-synapse delays."""
    theta = balanced_network(500, 25, model="theta", rate=4.0, seed=2)
    theta = SparsePropNetwork(
        "theta",
        theta.connectivity,
        drive=theta.drive[0],
        tau=TAU,
        coupling=theta.coupling,
        delay=0.0017,
        refractory=0.001,
        rebase_interval=97,
    )
    graph = fixed_out_degree(400, 400, 20, seed=4)
    rng = np.random.default_rng(1)
    delays = rng.uniform(0.0, 0.003, graph.indices.size)
    lif = SparsePropNetwork(
        "lif",
        graph,
        drive=0.2 + rng.random(400),
        tau=TAU,
        coupling=-0.08,
        delay=delays,
        refractory=rng.uniform(0.0, 0.002, 400),
        rebase_interval=61,
    )
    return {"theta-fifo": theta, "lif-heap": lif}


@pytest.mark.parametrize("name", ["theta-fifo", "lif-heap"])
def test_split_runs_are_bit_identical_to_one_run(name):
    net = _networks_with_events()[name]
    state = net.initial_state(seed=3)
    whole = net.run(state, n_spikes=3000)
    assert whole.state.n_pending > 0
    first = net.run(state, n_spikes=1111)
    second = net.run(first.state.copy(), duration=whole.spike_times[1800] - first.stop_time)
    third = net.run(second.state, n_spikes=3000 - first.n_spikes - second.n_spikes)
    indices = np.concatenate([r.spike_indices for r in (first, second, third)])
    times = np.concatenate([r.spike_times for r in (first, second, third)])
    assert_array_equal(indices, whole.spike_indices)
    assert_array_equal(times, whole.spike_times)
    for field in (
        "keys",
        "refractory_end",
        "pending_arrival",
        "pending_source",
        "pending_synapse",
        "pending_sequence",
    ):
        assert_array_equal(getattr(third.state, field), getattr(whole.state, field))


def test_pulse_buffers_grow_without_dropping_pulses():
    # a long delay keeps many volleys in flight: far more than the first buffer holds
    graph = RegeneratedConnectivity(3000, 10, seed=1)
    net = SparsePropNetwork("theta", graph, drive=0.5, tau=TAU, coupling=-0.01, delay=0.2)
    result = net.run(net.initial_state(seed=1), duration=0.2)
    in_flight = result.state.n_pending
    assert in_flight > 2048
    # every spike of the last 0.2 s is in flight (spikes at t > stop - delay)
    assert in_flight == np.count_nonzero(result.spike_times > result.stop_time - 0.2)
    per_synapse = SparsePropNetwork(
        "theta",
        graph.materialize(),
        drive=0.5,
        tau=TAU,
        coupling=-0.01,
        delay=np.full(graph.n_synapses, 0.2) * np.linspace(0.5, 1.0, graph.n_synapses),
    )
    result = per_synapse.run(per_synapse.initial_state(seed=1), duration=0.1)
    assert result.state.n_pending == 10 * result.n_spikes  # nothing arrived yet
    assert result.state.n_pending > 4 * 1024


# --------------------------------------------------------------------------- cascades


def _excitatory_lif(**kwargs):
    # every pulse carries a neuron from reset past threshold
    graph = fixed_out_degree(40, 40, 8, seed=1, weights=1.5)
    return SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, **kwargs)


@pytest.mark.parametrize("delay", [None, "zero_and_one_long"])
def test_runaway_zero_delay_cascade_raises_in_bounded_memory(delay):
    kwargs = {}
    if delay is not None:
        # one long synapse puts the run on the event loop; the others have no delay
        delays = np.zeros(40 * 8)
        delays[-1] = 1.0
        kwargs["delay"] = delays
    net = _excitatory_lif(**kwargs)
    net.run(net.initial_state(seed=1), duration=0.0)  # compiles (not traced)
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=r"runaway cascade: more than N = 40 spikes"):
            net.run(net.initial_state(seed=1), duration=1.0, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5e6


def test_refractoriness_ends_the_cascade_every_neuron_fires_once():
    net = _excitatory_lif(refractory=0.002)
    state = net.initial_state(model_state=np.linspace(0.0, 0.9, 40))
    result = net.run(state, n_spikes=40)
    # the first spike sets off the whole (strongly connected) network at one instant
    assert_allclose(result.spike_times, result.spike_times[0], rtol=0, atol=0)
    assert np.unique(result.spike_indices).size == 40


# --------------------------------------------------------------------------- inputs


def test_attributes_and_repr_show_delays_and_refractoriness():
    from brian2 import ms

    net = _pair(0.1, delay=2 * ms, refractory=[1e-3, 0.0])
    assert net.delay == pytest.approx(0.002)
    assert_allclose(net.refractory, [1e-3, 0.0])
    assert "delay=0.002 s" in repr(net) and "refractory in [0, 0.001] s" in repr(net)
    plain = _pair(0.1, delay=0 * ms, refractory=0.0)
    assert plain.delay is None and plain.refractory is None
    assert "delay" not in repr(plain) and "refractory" not in repr(plain)
    per_synapse = _pair(0.1, delay=np.array([0.003]))
    assert "delays in [0.003, 0.003] s (per synapse)" in repr(per_synapse)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delay": -0.001}, "delay"),
        (
            {"delay": np.array([0.001, 0.002])},
            r"delay must be a scalar time or one delay per synapse \(1",
        ),
        ({"delay": np.array([-0.001])}, "delay must be finite and >= 0"),
        ({"refractory": -0.001}, "refractory"),
        (
            {"refractory": [0.001]},
            r"refractory must be a scalar time or one period per neuron \(2\)",
        ),
        ({"refractory": [0.001, np.nan]}, "refractory must be finite"),
    ],
)
def test_bad_delay_and_refractory_raise_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _pair(0.1, **kwargs)


def test_per_synapse_delays_need_a_stored_graph_and_states_must_match():
    graph = RegeneratedConnectivity(50, 5, seed=1)
    with pytest.raises(ValueError, match="delay: per-synapse delays need a stored graph"):
        SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=-0.1, delay=np.zeros(250))
    delayed = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=-0.1, delay=0.01)
    plain = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=-0.1)
    state = delayed.run(delayed.initial_state(seed=1), n_spikes=20).state
    assert state.n_pending > 0
    with pytest.raises(ValueError, match="pulse events in flight, this network has no delays"):
        plain.run(state, n_spikes=1)
    refractory = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=-0.1, refractory=0.01)
    with pytest.raises(ValueError, match="refractory ends of shape"):
        refractory.run(plain.initial_state(seed=1), n_spikes=1)


# --------------------------------------------------------------------------- checkpoints


def test_checkpointed_run_with_pulses_in_flight_equals_one_run(tmp_path):
    from neurosrnn.sweep.checkpoint import (
        sparseprop_checkpointed_run,
        sparseprop_state_from_arrays,
        sparseprop_state_to_arrays,
    )

    net = _networks_with_events()["lif-heap"]
    state = net.initial_state(seed=4)
    whole = net.run(state, n_spikes=900)
    indices, times, final = sparseprop_checkpointed_run(
        net, state, directory=tmp_path, n_spikes=900, every=250
    )
    assert_array_equal(indices, whole.spike_indices)
    assert_array_equal(times, whole.spike_times)
    assert final.n_pending == whole.state.n_pending > 0
    assert_array_equal(final.pending_synapse, whole.state.pending_synapse)
    # the arrays keep integer fields integer; a state without the new fields (saved
    # before they existed) is read with empty pulses in flight
    arrays = sparseprop_state_to_arrays(whole.state)
    assert arrays["pending_source"].dtype.kind == "i"
    back = sparseprop_state_from_arrays(arrays)
    assert back.pending_source.dtype == np.int32
    plain = balanced_network(200, 10, model="lif", rate=5.0)
    old = sparseprop_state_to_arrays(plain.initial_state(seed=1))
    for name in ("refractory_end", "pending_arrival", "pending_source", "pending_synapse"):
        old.pop(name)
    old.pop("pending_sequence")
    restored = sparseprop_state_from_arrays(old)
    assert restored.n_pending == 0 and restored.refractory_end.size == 0
    assert_array_equal(
        plain.run(restored, n_spikes=50).spike_times,
        plain.run(plain.initial_state(seed=1), n_spikes=50).spike_times,
    )


# --------------------------------------------------------------------------- tabulated


def _lif_table(mu, v_min=-3.0, name="lif"):
    from neurosrnn.sparseprop.phase_tables import tabulate

    return tabulate(
        lambda v: (mu - v) / TAU, v_reset=0.0, v_threshold=1.0, v_min=v_min, name=name, cache=False
    )


@pytest.mark.parametrize("events", [False, True])
def test_tabulated_lif_populations_give_the_spikes_of_the_closed_form_lif(events):
    N = 120
    graph = fixed_out_degree(N, N, 12, seed=2, weights=-0.12)
    populations = np.arange(N) % 2
    drives = np.array([0.3, 0.6])
    kwargs = {"delay": 0.0015, "refractory": 0.002} if events else {}
    tabulated = SparsePropNetwork(
        [_lif_table(1.3, name="slow"), _lif_table(1.6, name="fast")],
        graph,
        tau=TAU,
        populations=populations,
        **kwargs,
    )
    assert tabulated.representation == "time" and tabulated.drive is None
    assert_allclose(tabulated.omega, 1.0 / np.log1p(1.0 / drives[populations]), rtol=1e-13)
    assert "'slow': 60, 'fast': 60" in repr(tabulated)
    closed = SparsePropNetwork("lif", graph, drive=drives[populations], tau=TAU, **kwargs)
    v0 = np.random.default_rng(3).uniform(-0.5, 0.95, N)
    state = tabulated.initial_state(model_state=v0)
    assert_allclose(tabulated.model_state(state), v0, rtol=0, atol=1e-13)
    times = [0.05, 0.1]
    one = tabulated.run(state, n_spikes=3000, sample_neurons=[0, 1], sample_times=times)
    two = closed.run(
        closed.initial_state(model_state=v0),
        n_spikes=3000,
        sample_neurons=[0, 1],
        sample_times=times,
    )
    assert_array_equal(one.spike_indices, two.spike_indices)
    assert_allclose(one.spike_times, two.spike_times, rtol=0, atol=1e-12)
    assert_allclose(one.samples, two.samples, rtol=0, atol=1e-11)
    assert_allclose(
        tabulated.model_state(one.state), closed.model_state(two.state), rtol=0, atol=1e-11
    )


def test_pulses_clamped_at_v_min_are_counted_and_warned_about():
    graph = fixed_out_degree(50, 50, 10, seed=2, weights=-1.5)
    net = SparsePropNetwork(_lif_table(1.3, v_min=-1.0), graph, tau=TAU)
    with pytest.warns(RuntimeWarning, match=r"\d+ pulse\(s\) of this run were clamped at v_min"):
        net.run(net.initial_state(seed=1), n_spikes=500)
    deep = SparsePropNetwork(_lif_table(1.3, v_min=-40.0), graph, tau=TAU)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        deep.run(deep.initial_state(seed=1), n_spikes=500)


def test_bad_tabulated_inputs_raise_naming_the_parameter():
    table = _lif_table(1.3)
    graph = fixed_out_degree(10, 10, 2, seed=1, weights=-0.1)
    with pytest.raises(ValueError, match="drive must be None for a tabulated model"):
        SparsePropNetwork(table, graph, drive=0.3, tau=TAU)
    with pytest.raises(ValueError, match="populations"):
        SparsePropNetwork([table, table], graph, tau=TAU, populations=np.full(10, 2))
    with pytest.raises(ValueError, match="populations"):
        SparsePropNetwork(table, graph, tau=TAU, populations=[0, 0])
    with pytest.raises(ValueError, match="populations is for tabulated models only"):
        SparsePropNetwork("lif", graph, drive=0.3, tau=TAU, populations=np.zeros(10, int))
    with pytest.raises(ValueError, match="representation='phase' needs one phase speed"):
        SparsePropNetwork([table, table], graph, tau=TAU, representation="phase")
    with pytest.raises(ValueError, match="representation must be 'auto', 'phase' or 'time'"):
        SparsePropNetwork(table, graph, tau=TAU, representation="clock")
    with pytest.raises(ValueError, match="drive is required for the lif model"):
        SparsePropNetwork("lif", graph, tau=TAU)
    net = SparsePropNetwork(table, graph, tau=TAU)
    with pytest.raises(ValueError, match=r"model_state of population 0 \('lif'\) must lie in"):
        net.initial_state(model_state=np.full(10, -4.0))


# --------------------------------------------------------------------------- O(N) reference


@pytest.mark.parametrize("name", ["theta-fifo", "lif-heap"])
def test_engine_matches_the_o_n_reference_with_delays_and_refractoriness(name):
    from neurosrnn.sparseprop.reference import simulate_reference

    net = _networks_with_events()[name]
    state = net.initial_state(seed=5)
    engine = net.run(state, n_spikes=1500)
    reference = simulate_reference(net, net.phases(state), n_spikes=1500)
    assert_array_equal(engine.spike_indices, reference.spike_indices)
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-9)


def test_one_table_runs_in_the_phase_representation_with_the_spikes_of_the_time_one():
    """One population: one phase speed, so the phase representation (the fast path).

    It simulates the same network as the time representation (spike order identical,
    times within 1e-12 s; the two differ only in the rounding of the clock), with delays
    and refractoriness too, and both equal the closed-form LIF.
    """
    table = _lif_table(1.3)
    graph = fixed_out_degree(60, 60, 6, seed=2, weights=-0.08)
    for extras in ({}, {"delay": 1e-3, "refractory": 2e-3}):
        fast = SparsePropNetwork(table, graph, tau=TAU, **extras)
        slow = SparsePropNetwork(table, graph, tau=TAU, representation="time", **extras)
        closed = SparsePropNetwork("lif", graph, drive=0.3, tau=TAU, **extras)
        assert fast.representation == "phase" and slow.representation == "time"
        phases = np.random.default_rng(5).uniform(0.0, 0.95, 60)
        runs = [net.run(net.initial_state(phases), n_spikes=1500) for net in (fast, slow, closed)]
        for other in runs[1:]:
            assert_array_equal(runs[0].spike_indices, other.spike_indices)
            assert_allclose(runs[0].spike_times, other.spike_times, rtol=0, atol=1e-12)
