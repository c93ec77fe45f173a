"""The O(N) reference with delays, refractoriness and tabulated models.

Checked against closed-form LIF spike times (delays, refractory input, the tie rule),
against the engine (independent arithmetic), and, for tables, against the closed-form
LIF. NEST comparisons are in ``test_sparseprop_nest.py``.
"""

import math
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity, fixed_out_degree
from neurosrnn.sparseprop.engine import SparsePropNetwork
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

TAU = 0.01
MU = 1.5  # normalised LIF: dV/dt = -V + MU (time in tau), reset 0, threshold 1


def _crossing(v0, mu=MU):
    """Time (tau units) for a free LIF to go from `v0` to threshold."""
    return math.log((mu - v0) / (mu - 1.0))


def _voltage(v0, t, mu=MU):
    """Free LIF voltage after time `t` (tau units) from `v0`."""
    return mu + (v0 - mu) * math.exp(-t)


def _graph(N, edges):
    """A weighted `Connectivity` from ``[(source, target, weight), ...]`` (CSR order kept)."""
    edges = sorted(edges, key=lambda edge: edge[0])
    counts = np.bincount([source for source, _, _ in edges], minlength=N)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return Connectivity(
        indptr, [target for _, target, _ in edges], N, [weight for *_, weight in edges]
    )


def _runs(network, v0, duration):
    """Spikes of the reference and of the engine from normalised voltages `v0`."""
    state = network.initial_state(model_state=np.asarray(v0, dtype=float))
    reference = simulate_reference(network, network.phases(state), duration=duration)
    engine = network.run(state, duration=duration, progress=False)
    return {"reference": reference, "engine": engine}


def _spikes_of(result, neuron):
    return result.spike_times[result.spike_indices == neuron] / TAU


# --------------------------------------------------------------------------- analytic


def test_refractory_period_adds_to_the_free_period():
    # one isolated neuron: spikes at t1 + k (t_ref + T_free)
    network = SparsePropNetwork(
        "lif", _graph(1, []), drive=MU - 1, tau=TAU, refractory=0.003, delay=0.001
    )
    for result in _runs(network, [0.4], 0.03).values():
        period = 0.3 + math.log(MU / (MU - 1))
        expected = _crossing(0.4) + period * np.arange(result.n_spikes)
        assert result.n_spikes == 2
        assert_allclose(result.spike_times / TAU, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("simulator", ["reference", "engine"])
def test_delayed_pulse_lifts_its_target_at_the_arrival(simulator):
    # neuron 0 fires at t0; its +0.3 pulse reaches neuron 1 at t0 + d and lifts it past
    # threshold there (the voltage is 0.746 just before)
    network = SparsePropNetwork("lif", _graph(2, [(0, 1, 0.3)]), drive=MU - 1, tau=TAU, delay=0.001)
    result = _runs(network, [0.9, 0.5], 0.005)[simulator]
    t0 = _crossing(0.9)
    assert _voltage(0.5, t0 + 0.1) + 0.3 > 1
    assert_array_equal(result.spike_indices, [0, 1])
    assert_allclose(result.spike_times / TAU, [t0, t0 + 0.1], rtol=0, atol=1e-13)


@pytest.mark.parametrize("simulator", ["reference", "engine"])
@pytest.mark.parametrize("refractory", [0.003, 0.001])
def test_pulses_to_a_refractory_neuron_are_ignored(simulator, refractory):
    # neuron 1 fires first (t1), neuron 0 at t0 > t1; the -0.5 pulse arrives at t0 + d:
    # inside neuron 1's refractory period (3 ms: ignored) or after it (1 ms: applied).
    # (Neuron 0's 20 ms refractory period keeps its next pulse out of the window.)
    network = SparsePropNetwork(
        "lif",
        _graph(2, [(0, 1, -0.5)]),
        drive=MU - 1,
        tau=TAU,
        delay=0.001,
        refractory=[0.02, refractory],
    )
    result = _runs(network, [0.9, 0.95], 0.02)[simulator]
    t0, t1 = _crossing(0.9), _crossing(0.95)
    ref, arrival = refractory / TAU, t0 + 0.1
    if t1 + ref > arrival:
        second = t1 + ref + math.log(MU / (MU - 1))
    else:
        v = _voltage(0.0, arrival - (t1 + ref)) - 0.5
        second = arrival + _crossing(v)
    assert_allclose(_spikes_of(result, 1)[:2], [t1, second], rtol=0, atol=1e-13)


@pytest.mark.parametrize("simulator", ["reference", "engine"])
@pytest.mark.parametrize("weights", [(0.8, -0.5), (-0.5, 0.8)])
@pytest.mark.parametrize("per_synapse", [False, True])
def test_tie_rule_for_pulses_arriving_together(simulator, weights, per_synapse):
    # neurons 0 and 1 fire together (index order); their delayed pulses reach neuron 2
    # at the same instant and act as one pulse of weight 0.8 - 0.5 = 0.3 (NEST's rule),
    # whichever neuron sends the excitation: v + 0.3 > 1 fires neuron 2 at the arrival.
    # (One by one, excitation first would clamp it at threshold and the inhibition
    # would then take it down to 0.5, no spike.)
    w0, w1 = weights
    network = SparsePropNetwork(
        "lif",
        _graph(3, [(0, 2, w0), (1, 2, w1)]),
        drive=MU - 1,
        tau=TAU,
        delay=np.full(2, 0.001) if per_synapse else 0.001,
    )
    result = _runs(network, [0.9, 0.9, 0.5], 0.012)[simulator]
    t0 = _crossing(0.9)
    arrival = t0 + 0.1
    assert_array_equal(result.spike_indices[:3], [0, 1, 2])
    v = _voltage(0.5, arrival)
    assert v + 0.8 > 1 and v + 0.3 > 1
    assert_allclose(result.spike_times[:3] / TAU, [t0, t0, arrival], rtol=0, atol=1e-13)


@pytest.mark.parametrize("order", ["excitatory first", "inhibitory first"])
def test_summed_tie_below_threshold_does_not_fire_in_either_numbering(order):
    # +0.8 and -0.5 arrive together at neuron 2 (v = 0.37 then): v + 0.8 > 1 (one by
    # one, excitation first would fire it at the arrival) but v + 0.3 < 1: the summed
    # pulse leaves it at v + 0.3 and its next spike follows from there. Same spikes in
    # the engine and the reference, in both numberings.
    w0, w1 = (0.8, -0.5) if order == "excitatory first" else (-0.5, 0.8)
    v2 = 0.0
    network = SparsePropNetwork(
        "lif", _graph(3, [(0, 2, w0), (1, 2, w1)]), drive=MU - 1, tau=TAU, delay=0.001
    )
    runs = _runs(network, [0.9, 0.9, v2], 0.012)
    t0 = _crossing(0.9)
    arrival = t0 + 0.1
    v = _voltage(v2, arrival)
    assert v + 0.8 > 1 > v + 0.3
    expected = arrival + math.log((MU - (v + 0.3)) / (MU - 1.0))
    for result in runs.values():
        assert_array_equal(result.spike_indices[:3], [0, 1, 2])
        assert_allclose(_spikes_of(result, 2)[:1], [expected], rtol=0, atol=1e-13)
    assert_array_equal(runs["engine"].spike_indices, runs["reference"].spike_indices)
    assert_allclose(runs["engine"].spike_times, runs["reference"].spike_times, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- engine


def test_per_synapse_delays_and_refractoriness_match_the_engine():
    # inhibitory LIF (stable), heterogeneous drive (time representation), one delay
    # per synapse in [0, 2] ms (some zero), per-neuron refractory periods
    rng = np.random.default_rng(5)
    graph = fixed_out_degree(150, 150, 12, seed=4, weights=-0.15)
    delays = rng.uniform(0.0, 0.002, graph.n_synapses)
    delays[::7] = 0.0
    network = SparsePropNetwork(
        "lif",
        graph,
        drive=rng.uniform(0.3, 0.8, 150),
        tau=TAU,
        delay=delays,
        refractory=rng.uniform(0.0, 0.003, 150),
    )
    runs = _runs(network, rng.uniform(0, 1, 150), 0.4)
    reference, engine = runs["reference"], runs["engine"]
    assert reference.n_spikes > 2000
    assert_array_equal(engine.spike_indices, reference.spike_indices)
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-12)


def test_theta_with_delay_and_refractoriness_matches_the_engine():
    # theta networks are chaotic: a short run, before rounding differences grow (measured
    # max |dt|: 6e-15 s over 300 spikes, 9e-13 s over 500, 4e-9 s over 900)
    graph = RegeneratedConnectivity(300, 20, seed=2)
    network = SparsePropNetwork(
        "theta", graph, drive=0.2, tau=TAU, coupling=-0.3, delay=0.0015, refractory=0.001
    )
    state = network.initial_state(seed=3)
    reference = simulate_reference(network, network.phases(state), n_spikes=400)
    engine = network.run(state, n_spikes=400, progress=False)
    assert_array_equal(engine.spike_indices, reference.spike_indices)
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-12)


def test_scalar_delay_equals_the_same_delay_per_synapse():
    graph = fixed_out_degree(80, 80, 8, seed=1, weights=-0.2)
    state_v = np.random.default_rng(2).uniform(0, 1, 80)
    results = []
    for delay in (0.001, np.full(graph.n_synapses, 0.001)):
        network = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, delay=delay)
        phases = network.phases(network.initial_state(model_state=state_v))
        results.append(simulate_reference(network, phases, duration=0.2))
    assert results[0].n_spikes > 500
    assert_array_equal(results[0].spike_indices, results[1].spike_indices)
    assert_array_equal(results[0].spike_times, results[1].spike_times)


# --------------------------------------------------------------------------- cascades


def _excitatory_lif(**options):
    # every pulse carries a neuron from reset past threshold
    graph = RegeneratedConnectivity(200, 10, seed=1)
    return SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=1.5, **options)


def test_zero_per_synapse_delays_runaway_cascade_is_stopped_quickly():
    graph = RegeneratedConnectivity(200, 10, seed=1).materialize().with_weights(1.5)
    network = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, delay=np.zeros(graph.n_synapses))
    phases = network.phases(network.initial_state(seed=1))
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"runaway cascade: more than N = 200 spikes at t = "):
        simulate_reference(network, phases, n_spikes=10**6, duration=1.0)
    assert time.perf_counter() - started < 10


def test_refractoriness_ends_a_zero_delay_excitatory_cascade():
    # the same network with 1 ms refractoriness: a neuron fires at most once per
    # instant, so every cascade ends; engine and reference give the same spikes. Within
    # one volley the order can differ: a pulse that lifts a neuron to 1 - 1e-16 leaves
    # it 1e-17 tau below threshold in the reference (it fires after those exactly at
    # threshold), while on the engine's clock that remainder rounds to zero (it fires
    # in index order with them); both times round to the same float.
    network = _excitatory_lif(refractory=0.001)
    state = network.initial_state(seed=1)
    reference = simulate_reference(network, network.phases(state), n_spikes=3000)
    engine = network.run(state, n_spikes=3000, progress=False)
    assert reference.n_spikes == 3000
    times, counts = np.unique(reference.spike_times, return_counts=True)
    assert counts.max() > 1  # there are cascades ...
    for t in times[counts > 1]:  # ... and no neuron fires twice in one
        at_t = reference.spike_indices[reference.spike_times == t]
        assert np.unique(at_t).size == at_t.size
    engine_order = np.lexsort((engine.spike_indices, engine.spike_times))
    reference_order = np.lexsort((reference.spike_indices, reference.spike_times))
    assert_array_equal(engine.spike_indices[engine_order], reference.spike_indices[reference_order])
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- tables


class _ClosedFormLifTable:
    """A stand-in with the `PhaseTable` interface, from the closed-form LIF (V in [0, 1]).

    phi(v) = ln(mu / (mu - v)) / ln(mu / (mu - 1)); the reference must treat it exactly
    as the closed-form LIF model.
    """

    def __init__(self, mu, tau):
        self.mu = mu
        self.log_period = math.log(mu / (mu - 1.0))
        self.period = tau * self.log_period
        self.v_reset, self.v_threshold, self.v_min = 0.0, 1.0, -50.0
        self.phase_min = float(self.phase_of(self.v_min))

    def phase_of(self, v):
        return np.log(self.mu / (self.mu - np.asarray(v, dtype=float))) / self.log_period

    def v_of(self, phase):
        return self.mu * -np.expm1(-np.asarray(phase, dtype=float) * self.log_period)

    def ptc(self, phase, weight):
        v = self.v_of(phase) + weight
        return np.where(v >= 1.0, 1.0, self.phase_of(np.maximum(v, self.v_min)))


def test_tabulated_path_matches_the_closed_form_lif():
    # two populations (two drives) given as tables vs the closed-form LIF with the same
    # per-neuron drive; the tabulated network is the closed-form one with `tables` and
    # `populations` attributes (the contract's names) set
    graph = fixed_out_degree(120, 120, 10, seed=6, weights=-0.12)
    populations = np.arange(120) % 2
    mus = np.array([1.3, 1.8])
    closed = SparsePropNetwork("lif", graph, drive=mus[populations] - 1, tau=TAU, delay=0.001)
    tabulated = SparsePropNetwork("lif", graph, drive=mus[populations] - 1, tau=TAU, delay=0.001)
    tabulated.tables = [_ClosedFormLifTable(mu, TAU) for mu in mus]
    tabulated.populations = populations
    v0 = np.random.default_rng(3).uniform(0, 1, 120)
    phases_closed = closed.phases(closed.initial_state(model_state=v0))
    phases_table = np.array(
        [tabulated.tables[p].phase_of(v) for p, v in zip(populations, v0, strict=True)]
    )
    a = simulate_reference(closed, phases_closed, duration=0.3)
    b = simulate_reference(tabulated, phases_table, duration=0.3)
    assert a.n_spikes > 1500
    assert_array_equal(a.spike_indices, b.spike_indices)
    assert_allclose(a.spike_times, b.spike_times, rtol=0, atol=1e-12)


def test_tabulated_phases_are_checked():
    graph = fixed_out_degree(4, 4, 1, seed=1, weights=-0.1)
    network = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU)
    network.tables = [_ClosedFormLifTable(1.5, TAU)]
    network.populations = np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match=r"\[phase_min, 1\)"):
        simulate_reference(network, [0.1, 0.2, 1.0, 0.3], n_spikes=1)


def _eif_table(drive, delta=0.1):
    from neurosrnn.sparseprop.phase_tables import tabulate

    def rate(v):
        with np.errstate(over="ignore"):
            return (-v + delta * np.exp(v / delta) + drive) / TAU

    return tabulate(rate, v_reset=-1.0, v_threshold=1000.0, v_min=-5.0, cache=False)


def test_tabulated_lif_matches_the_closed_form_lif():
    # `tabulate` of dv/dt = (mu - v) / tau against the closed-form LIF, with delays and
    # refractoriness (stable network: the table's ~1e-15 phase error does not grow)
    pytest.importorskip("neurosrnn.sparseprop.phase_tables")
    from neurosrnn.sparseprop.phase_tables import tabulate

    graph = fixed_out_degree(120, 120, 10, seed=6, weights=-0.12)
    table = tabulate(
        lambda v: (MU - v) / TAU, v_reset=0.0, v_threshold=1.0, v_min=-3.0, cache=False
    )
    options = {"tau": TAU, "delay": 0.001, "refractory": 0.002}
    closed = SparsePropNetwork("lif", graph, drive=MU - 1, **options)
    tabulated = SparsePropNetwork(table, graph, **options)
    v0 = np.random.default_rng(3).uniform(0, 1, 120)
    a = simulate_reference(
        closed, closed.phases(closed.initial_state(model_state=v0)), duration=0.3
    )
    b = simulate_reference(tabulated, table.phase_of(v0), duration=0.3)
    assert a.n_spikes > 1000
    assert_array_equal(a.spike_indices, b.spike_indices)
    assert_allclose(a.spike_times, b.spike_times, rtol=0, atol=1e-12)


def test_eif_populations_with_delays_match_the_engine():
    # two EIF populations (two drives), inhibitory, per-synapse delays, refractoriness:
    # the engine's compiled table kernels against the reference's PhaseTable methods.
    # Inhibitory EIF networks are chaotic, like theta: a short run (measured max |dt|
    # 4e-14 s over the first 300 spikes, 0.16 s; 2e-13 s at 400; 2e-11 s at 500)
    pytest.importorskip("neurosrnn.sparseprop.phase_tables")
    tables = [_eif_table(0.1), _eif_table(0.3)]
    rng = np.random.default_rng(8)
    graph = fixed_out_degree(100, 100, 10, seed=9, weights=-0.15)
    populations = np.arange(100) % 2
    network = SparsePropNetwork(
        tables,
        graph,
        tau=TAU,
        populations=populations,
        delay=rng.uniform(0.0005, 0.0015, graph.n_synapses),
        refractory=0.001,
    )
    state = network.initial_state(seed=4)
    reference = simulate_reference(network, network.phases(state), duration=0.15)
    engine = network.run(state, duration=0.15, progress=False)
    assert reference.n_spikes > 250
    assert_array_equal(engine.spike_indices, reference.spike_indices)
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-12)
