"""Tests of the SparseProp engine against the O(N) reference, analytic results and itself."""

import hashlib
import math
import signal

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity, balanced_ei, fixed_out_degree
from neurosrnn.sparseprop._heap import PREFETCH_FROM
from neurosrnn.sparseprop.engine import SparsePropNetwork, balanced_network
from neurosrnn.sparseprop.phase_models import (
    lif_ptc,
    lif_ptc_derivative,
    phase_model,
    theta_ptc,
    theta_ptc_derivative,
)
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

TAU = 0.01


def _first_mismatch(a, b):
    same = a == b
    return int(np.argmin(same)) if not same.all() else int(same.size)


def _compare_with_reference(net, n_spikes, seed=1):
    state = net.initial_state(seed=seed)
    engine = net.run(state, n_spikes=n_spikes)
    reference = simulate_reference(net, net.phases(state), n_spikes=n_spikes)
    assert engine.n_spikes == reference.n_spikes == n_spikes
    assert_array_equal(engine.spike_indices, reference.spike_indices)
    assert_allclose(engine.spike_times, reference.spike_times, rtol=0, atol=1e-9)
    return engine


# --------------------------------------------------------------------------- heap vs O(N)


@pytest.mark.parametrize("heterogeneity", [0.0, 0.4])
def test_theta_inhibitory_matches_reference(heterogeneity):
    # Theta networks are chaotic: the engine and the reference round differently
    # (relative offset vs absolute phases), and that 1e-16 difference grows like
    # exp(lambda_max t). With N = 10^4 the 10^4 compared spikes cover only ~0.3 s,
    # well inside the window before separation (measured drift there: ~1e-11 s).
    net = balanced_network(10_000, 100, model="theta", rate=2.0, heterogeneity=heterogeneity)
    assert net.representation == ("phase" if heterogeneity == 0 else "time")
    _compare_with_reference(net, 10_000)


@pytest.mark.parametrize("heterogeneity", [0.0, 0.4])
def test_lif_inhibitory_matches_reference(heterogeneity):
    # Inhibitory LIF networks are stable: agreement holds over the whole run.
    net = balanced_network(1000, 50, model="lif", rate=5.0, heterogeneity=heterogeneity)
    _compare_with_reference(net, 10_000)


@pytest.mark.parametrize("memory_free", [False, True])
def test_networks_large_enough_to_prefetch_match_reference(memory_free):
    # from PREFETCH_FROM neurons on the kernel adds hints (the touch pass, the sifts'
    # grandchildren clamped to the heap, the likely next spiker's stored row); they must
    # not change a spike. Stable inhibitory LIF, 3000 spikes of 262149 neurons.
    net = balanced_network(
        PREFETCH_FROM + 5, 10, model="lif", seed=3, rate=5.0, memory_free=memory_free
    )
    _compare_with_reference(net, 3000, seed=4)


@pytest.mark.parametrize("heterogeneous", [False, True])
def test_theta_mixed_sign_matches_reference(heterogeneous):
    N = 10_000
    graph = balanced_ei(8000, 2000, 100, J0=1.0, g=5.0, seed=4)
    assert graph.weights.min() < 0 < graph.weights.max()
    drive = 0.5 * (1 + 0.4 * np.sin(2 * np.arange(N) / N)) if heterogeneous else 0.5
    net = SparsePropNetwork("theta", graph, drive=drive, tau=TAU)
    _compare_with_reference(net, 10_000)


@pytest.mark.parametrize("heterogeneous", [False, True])
def test_lif_mixed_sign_with_threshold_crossings_matches_reference(heterogeneous):
    N = 2000
    graph = balanced_ei(1600, 400, 100, J0=0.05, g=8.0, seed=4)
    drive = 0.3 * (1 + 0.4 * np.sin(2 * np.arange(N) / N)) if heterogeneous else 0.3
    net = SparsePropNetwork("lif", graph, drive=drive, tau=TAU)
    engine = _compare_with_reference(net, 10_000)
    # excitatory pulses made neurons fire at once: equal consecutive spike times
    simultaneous = np.sum(np.diff(engine.spike_times) == 0)
    assert 100 < simultaneous < 9000


def test_time_representation_equals_phase_representation_for_uniform_drive():
    phase_net = balanced_network(2000, 50, model="lif", rate=5.0, representation="phase")
    time_net = balanced_network(2000, 50, model="lif", rate=5.0, representation="time")
    phases = phase_net.phases(phase_net.initial_state(seed=5))
    a = phase_net.run(phase_net.initial_state(phases), n_spikes=5000)
    b = time_net.run(time_net.initial_state(phases), n_spikes=5000)
    assert_array_equal(a.spike_indices, b.spike_indices)
    assert_allclose(a.spike_times, b.spike_times, rtol=0, atol=1e-12)


def test_multapses_match_reference():
    graph = RegeneratedConnectivity(50, 60, seed=3, multapses=True).materialize()
    assert np.any(np.diff(graph.indices.reshape(50, 60), axis=1) == 0)  # repeats exist
    net = SparsePropNetwork("lif", graph.with_weights(-0.01), drive=0.2, tau=TAU)
    _compare_with_reference(net, 3000)


# --------------------------------------------------------------------------- analytic checks


def test_phase_models_match_voltage_dynamics():
    rng = np.random.default_rng(0)
    # theta: PTC is "V += w" in the V = tan(theta/2) form
    theta = phase_model("theta")
    drive = 0.3
    phases = rng.uniform(-3, 3, 20)
    w = -0.4
    v = theta.phase_to_state(phases, drive)
    v_after = np.tan(v / 2) + w
    expected = theta.state_to_phase(2 * np.arctan(v_after), drive)
    c = w / math.sqrt(drive)
    assert_allclose([theta_ptc(p, c) for p in phases], expected, atol=1e-12)
    # LIF: PTC is "V += w" for V = mu (1 - exp(-phi/omega))
    lif = phase_model("lif")
    omega = float(lif.omega(drive))
    phases = rng.uniform(0, 0.9, 20)
    v = lif.phase_to_state(phases, drive)
    w = -0.2
    expected = lif.state_to_phase(v + w, drive)
    c = -w / (1 + drive)
    assert_allclose([lif_ptc(p, c, omega) for p in phases], expected, atol=1e-12)
    # derivatives against central differences
    h = 1e-6
    for p in phases:
        numeric = (lif_ptc(p + h, c, omega) - lif_ptc(p - h, c, omega)) / (2 * h)
        assert_allclose(lif_ptc_derivative(p, c, omega), numeric, rtol=1e-6)
        numeric = (theta_ptc(p + h, 0.3) - theta_ptc(p - h, 0.3)) / (2 * h)
        assert_allclose(theta_ptc_derivative(p, 0.3), numeric, rtol=1e-6)


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_uncoupled_neurons_fire_at_the_analytic_period(model):
    N, drive = 5, 0.25
    graph = Connectivity(np.zeros(N + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), N)
    net = SparsePropNetwork(model, graph, drive=drive, tau=TAU, coupling=0.0)
    result = net.run(net.initial_state(seed=2), duration=1.0)
    period = math.pi / math.sqrt(drive) if model == "theta" else math.log((1 + drive) / drive)
    for i in range(N):
        times = result.spike_times[result.spike_indices == i]
        assert_allclose(np.diff(times), period * TAU, rtol=1e-12)


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_single_pulse_shifts_next_spike_as_voltage_solution_predicts(model):
    # neuron 0 -> neuron 1 only; neuron 1 receives one pulse and fires later,
    # at a time computed from the closed-form voltage trajectory (no phases).
    drive, w = 0.3, -0.2 if model == "lif" else -0.5
    graph = Connectivity([0, 1, 1], [1], 2, weights=[w])
    net = SparsePropNetwork(model, graph, drive=drive, tau=TAU)
    if model == "theta":
        state = net.initial_state(model_state=[2.5, -1.0])
        sq = math.sqrt(drive)
        # V = tan(theta/2) obeys dV/dt = V^2 + I: V(t) = sq tan(sq t + arctan(V0/sq)),
        # time to reach +inf from V0: (pi/2 - arctan(V0/sq)) / sq
        t0 = (math.pi / 2 - math.atan(math.tan(2.5 / 2) / sq)) / sq
        v1 = sq * math.tan(sq * t0 + math.atan(math.tan(-1.0 / 2) / sq)) + w
        t1 = t0 + (math.pi / 2 - math.atan(v1 / sq)) / sq
    else:
        state = net.initial_state(model_state=[0.8, 0.3])
        mu = 1 + drive
        # V(t) = mu + (V0 - mu) exp(-t); threshold 1 at t = ln((mu - V0)/(mu - 1))
        t0 = math.log((mu - 0.8) / (mu - 1))
        v1 = mu + (0.3 - mu) * math.exp(-t0) + w
        t1 = t0 + math.log((mu - v1) / (mu - 1))
    result = net.run(state, n_spikes=2)
    assert_array_equal(result.spike_indices, [0, 1])
    assert_allclose(result.spike_times, np.array([t0, t1]) * TAU, rtol=1e-12)


def test_lif_excitatory_pulse_crossing_threshold_fires_at_once():
    # 0 -> 1 and 0 -> 2 with strong excitation; 1 and 2 cross and fire at the same
    # time as 0, in index order; 3 is untouched.
    graph = Connectivity([0, 2, 2, 2, 2], [1, 2], 4, weights=[0.9, 0.9])
    net = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU)
    state = net.initial_state(model_state=[0.99, 0.5, 0.2, 0.0])
    result = net.run(state, n_spikes=3)
    assert_array_equal(result.spike_indices, [0, 1, 2])
    t0 = math.log((1.5 - 0.99) / 0.5) * TAU
    assert_allclose(result.spike_times, [t0, t0, t0], rtol=1e-12)


def test_voltage_samples_follow_free_trajectory():
    graph = Connectivity([0, 0, 0], np.zeros(0, dtype=np.int32), 2)
    net = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=0.0)
    state = net.initial_state(model_state=[0.0, 0.5])
    times = np.linspace(0.0, 0.004, 9)
    result = net.run(state, duration=0.005, sample_neurons=[0, 1], sample_times=times)
    expected = 1.5 + (np.array([0.0, 0.5]) - 1.5) * np.exp(-times[:, None] / TAU)
    assert_allclose(result.samples, expected, rtol=1e-12)


# --------------------------------------------------------------------------- topology


def test_regenerated_graph_properties_and_materialisation():
    graph = RegeneratedConnectivity(2000, 40, seed=11)
    stored = graph.materialize()
    assert isinstance(stored, Connectivity)
    rows = stored.indices.reshape(2000, 40)
    assert np.all(np.diff(rows, axis=1) > 0)  # sorted and distinct
    assert not np.any(rows == np.arange(2000)[:, None])  # no autapses
    for j in (0, 7, 1999):
        assert_array_equal(np.sort(graph.targets_of(j)), rows[j])
    # in-degrees ~ Binomial(N - 1, K / (N - 1)): mean K, variance ~ K
    in_degrees = stored.in_degrees()
    assert in_degrees.mean() == 40
    assert 0.8 * 40 < in_degrees.var() < 1.2 * 40
    # uniform targets: chi-square over 10 bins of target index
    counts = np.bincount(stored.indices * 10 // 2000, minlength=10)
    expected = stored.n_synapses / 10
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 27.9  # 99.9 % quantile, 9 degrees of freedom
    assert RegeneratedConnectivity(2000, 40, seed=12).materialize() != stored


@pytest.mark.parametrize("multapses", [False, True])
def test_draw_order_maps_the_engines_targets_onto_the_sorted_rows(multapses):
    graph = RegeneratedConnectivity(3000, 40, seed=2, multapses=multapses)
    targets, slot = graph.draw_order()
    sorted_rows = graph.materialize().indices
    for j in (0, 1234, 2999):  # draw order is the engine's (targets_of)
        assert_array_equal(targets[j * 40 : (j + 1) * 40], graph.targets_of(j))
    position = np.arange(targets.size) // 40 * 40 + slot
    assert_array_equal(np.sort(position), np.arange(targets.size))  # a permutation
    assert_array_equal(sorted_rows[position], targets)
    if multapses:  # repeated targets keep their draw order among themselves
        rows = targets.reshape(3000, 40)
        j, d1, d2 = next(
            (j, a, b)
            for j in range(3000)
            for a in range(40)
            for b in range(a + 1, 40)
            if rows[j, a] == rows[j, b]
        )
        assert slot[j * 40 + d1] < slot[j * 40 + d2]


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_memory_free_equals_stored_graph(model):
    regenerated = RegeneratedConnectivity(3000, 50, seed=9)
    stored = regenerated.materialize()
    kwargs = {"drive": 0.2, "tau": TAU, "coupling": -1 / math.sqrt(50)}
    a = SparsePropNetwork(model, regenerated, **kwargs)
    b = SparsePropNetwork(model, stored, **kwargs)
    phases = a.phases(a.initial_state(seed=3))
    ra = a.run(a.initial_state(phases), n_spikes=20_000)
    rb = b.run(b.initial_state(phases), n_spikes=20_000)
    assert_array_equal(ra.spike_indices, rb.spike_indices)
    assert_array_equal(ra.spike_times, rb.spike_times)


# --------------------------------------------------------------------------- continuation / precision


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_continued_run_equals_one_long_run(model):
    net = balanced_network(500, 20, model=model, rate=10.0, heterogeneity=0.2)
    state = net.initial_state(seed=4)
    whole = net.run(state, duration=2.0)
    first = net.run(state, duration=0.7)
    second = net.run(first.state, n_spikes=1234)
    third = net.run(second.state, duration=2.0 - second.stop_time)
    indices = np.concatenate([first.spike_indices, second.spike_indices, third.spike_indices])
    times = np.concatenate([first.spike_times, second.spike_times, third.spike_times])
    assert_array_equal(indices, whole.spike_indices)
    assert_allclose(times, whole.spike_times, rtol=0, atol=1e-12)
    assert_allclose(third.stop_time, 2.0)
    assert_array_equal(third.state.keys, whole.state.keys)


@pytest.mark.slow
def test_precision_after_ten_million_spikes():
    # (1) continued vs uninterrupted: identical after 10^7 spikes of a chaotic network.
    net = balanced_network(200, 20, model="theta", rate=10.0)
    state = net.initial_state(seed=6)
    whole = net.run(state, n_spikes=10_000_000, record_spikes=False)
    half = net.run(state, n_spikes=5_000_000, record_spikes=False)
    rest = net.run(half.state, n_spikes=5_000_000, record_spikes=False)
    assert rest.state.n_spikes == whole.state.n_spikes == 10_000_000
    assert_allclose(rest.stop_time, whole.stop_time, rtol=0, atol=1e-9)
    assert_array_equal(rest.state.keys, whole.state.keys)
    # the rebased clock stays O(1), so phases keep full precision
    assert abs(whole.state.offset) < 50
    # (2) absolute precision against the analytic solution: uncoupled neurons after
    # 10^7 spikes still fire at t_first + n * period within 1e-9 s.
    N, drive = 100, 0.1
    graph = Connectivity(np.zeros(N + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), N)
    free = SparsePropNetwork("theta", graph, drive=drive, tau=TAU, coupling=0.0)
    start = free.initial_state(seed=7)
    first = free.run(start, n_spikes=N)
    last = free.run(first.state, n_spikes=10_000_000 - 2 * N, record_spikes=False)
    final = free.run(last.state, n_spikes=N)
    period = math.pi / math.sqrt(drive) * TAU
    order_first = np.argsort(first.spike_indices)
    order_final = np.argsort(final.spike_indices)
    n_periods = 10_000_000 // N - 1
    assert_allclose(
        final.spike_times[order_final],
        first.spike_times[order_first] + n_periods * period,
        rtol=0,
        atol=1e-9,
    )


def _interrupt_after_chunks(monkeypatch, n_chunks, interrupt):
    """Make the engine's kernel call `interrupt()` after its `n_chunks`-th chunk."""
    from neurosrnn.sparseprop import _kernel

    simulate = _kernel.simulate
    calls = []

    def simulate_then_interrupt(*arguments):
        processed = simulate(*arguments)
        calls.append(processed)
        if len(calls) == n_chunks:
            interrupt()
        return processed

    monkeypatch.setattr(_kernel, "simulate", simulate_then_interrupt)
    return calls


def _check_partial_result_continues_exactly(net, state, partial):
    assert partial.interrupted
    assert partial.n_spikes == partial.spike_indices.size == partial.state.n_spikes > 0
    again = net.run(state, n_spikes=partial.n_spikes + 100)
    assert_array_equal(again.spike_indices[: partial.n_spikes], partial.spike_indices)
    rest = net.run(partial.state, n_spikes=100)
    assert_array_equal(rest.spike_indices, again.spike_indices[partial.n_spikes :])
    assert_array_equal(rest.spike_times, again.spike_times[partial.n_spikes :])


def test_ctrl_c_returns_partial_result_that_continues_exactly(monkeypatch):
    # a real SIGINT, sent after the third chunk: independent of timing and load
    net = balanced_network(20_000, 50, model="theta", rate=5.0)
    state = net.initial_state(seed=8)
    calls = _interrupt_after_chunks(monkeypatch, 3, lambda: signal.raise_signal(signal.SIGINT))
    partial = net.run(state, duration=1e6)
    monkeypatch.undo()
    assert len(calls) == 3
    _check_partial_result_continues_exactly(net, state, partial)


class _ForwardingHandler:
    """A SIGINT handler that forwards to a previous one, as Brian2's does.

    Forwarding to ``signal.SIG_DFL`` (not callable) raised ``TypeError: 'Handlers'
    object is not callable`` when the engine relied on the installed handler.
    """

    def __init__(self, previous):
        self.previous = previous
        self.calls = 0

    def __call__(self, signum, frame):
        self.calls += 1
        self.previous(signum, frame)


def test_ctrl_c_works_whatever_sigint_handler_is_installed(monkeypatch):
    net = balanced_network(2000, 20, model="lif", rate=5.0)
    state = net.initial_state(seed=3)
    handler = _ForwardingHandler(signal.SIG_DFL)
    original = signal.signal(signal.SIGINT, handler)
    try:
        _interrupt_after_chunks(monkeypatch, 2, lambda: signal.raise_signal(signal.SIGINT))
        partial = net.run(state, duration=1e6)
        monkeypatch.undo()
        # the engine's handler took the signal and the previous one is back exactly
        assert handler.calls == 0
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, original)
    _check_partial_result_continues_exactly(net, state, partial)


def test_keyboard_interrupt_between_chunks_returns_partial_result(monkeypatch):
    net = balanced_network(2000, 20, model="theta", rate=5.0)
    state = net.initial_state(seed=5)
    before = signal.getsignal(signal.SIGINT)

    def raise_keyboard_interrupt():
        raise KeyboardInterrupt

    _interrupt_after_chunks(monkeypatch, 2, raise_keyboard_interrupt)
    partial = net.run(state, n_spikes=10**9)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is before
    _check_partial_result_continues_exactly(net, state, partial)


# sha256 of the int32 indices then float64 times of the first 10^4 spikes, computed from
# the engine before the kernel's arguments were grouped (issue 15): the refactoring must
# not change a single bit.
_SPIKE_FINGERPRINTS = {
    "theta_phase_regenerated": "43ceed3ae13329dd584c704f9e94c5ffdf64a272064fd74f61b446f3f4f828fc",
    "theta_time_csr": "260a34a3b5dbedbdc0c2a00556e950bacfbc842d93b213e84f31452363c3393f",
    "lif_phase_csr": "654e1f5c13c5b0272ff307022081fdb37d3494b69eb17d54b529880f64b2c056",
    "theta_phase_weighted": "91f7776a0f65c707a20c48d6898da1a188fc8a8704c3aa6a8aba5fdfc3b19e6b",
}


def _fingerprint_network(name):
    if name == "theta_phase_regenerated":
        return balanced_network(2000, 50, seed=3), 4
    if name == "theta_time_csr":
        return balanced_network(2000, 50, seed=3, memory_free=False, heterogeneity=0.3), 4
    if name == "lif_phase_csr":
        return balanced_network(2000, 50, model="lif", seed=5, memory_free=False), 6
    graph = RegeneratedConnectivity(2000, 50, seed=3).materialize()
    weights = -np.abs(np.random.default_rng(7).normal(1.0, 0.2, graph.indices.size)) / np.sqrt(50)
    weighted = Connectivity(graph.indptr, graph.indices, graph.N_post, weights=weights)
    return SparsePropNetwork("theta", weighted, drive=0.08, tau=TAU), 8


def _spike_fingerprint(result, *extra):
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(result.spike_indices, dtype=np.int32).tobytes())
    digest.update(np.ascontiguousarray(result.spike_times, dtype=np.float64).tobytes())
    for array in extra:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", sorted(_SPIKE_FINGERPRINTS))
def test_spike_sequence_is_bit_identical_to_recorded_fingerprint(name):
    net, seed = _fingerprint_network(name)
    result = net.run(net.initial_state(seed=seed), n_spikes=10_000)
    assert result.n_spikes == 10_000
    assert _spike_fingerprint(result) == _SPIKE_FINGERPRINTS[name]


def test_duration_run_with_samples_is_bit_identical_to_recorded_fingerprint():
    net = balanced_network(500, 20, seed=9, heterogeneity=0.2)
    result = net.run(
        net.initial_state(seed=10),
        duration=0.5,
        sample_neurons=[0, 7, 499],
        sample_times=np.linspace(0.0, 0.5, 51),
    )
    assert result.n_spikes == 483
    digest = hashlib.sha256(_spike_fingerprint(result).encode())
    digest.update(np.ascontiguousarray(result.samples).tobytes())
    assert digest.hexdigest() == (
        "b6752346a37a4d641059f0466c919b4ee755cdb07a0eca59fb294b2eacbf520d"
    )


def test_progress_bar_on_stderr(capsys):
    net = balanced_network(1000, 10, model="lif", rate=5.0)
    net.run(net.initial_state(seed=1), n_spikes=5000, progress=True)
    assert "SparseProp [" in capsys.readouterr().err


def test_rate_and_cv_statistics():
    net = balanced_network(1000, 50, model="theta", rate=5.0)
    result = net.run(net.initial_state(seed=2), duration=2.0)
    counts = np.bincount(result.spike_indices, minlength=1000)
    assert_allclose(result.mean_rate, counts.mean() / 2.0)
    assert 0.0 < result.cv() < 2.0


def test_isi_cv_is_the_mean_of_the_analysis_cv_over_neurons_with_enough_spikes():
    from neurosrnn.analysis import cv
    from neurosrnn.sparseprop import isi_cv

    # neuron 0: 5 spikes, neuron 1: 3 spikes, neuron 2: 2 spikes (no CV), neuron 3: silent
    indices = np.array([0, 1, 0, 2, 0, 1, 0, 2, 1, 0])
    times = np.array([0.0, 0.1, 0.3, 0.35, 0.4, 0.5, 0.9, 1.0, 1.2, 1.6])
    per_neuron = cv((indices, times), N=4, t_start=0.0, t_stop=2.0)
    assert np.isnan(per_neuron[2:]).all()
    assert isi_cv(indices, times, 4) == pytest.approx(np.nanmean(per_neuron), rel=1e-14)
    assert isi_cv(indices, times, 4, min_spikes=4) == pytest.approx(per_neuron[0], rel=1e-14)
    assert np.isnan(isi_cv(indices, times, 4, min_spikes=6))
    assert np.isnan(isi_cv([1], [0.5], 4))


def test_weighted_connectivity_expands_coupling_and_materialises():
    graph = RegeneratedConnectivity(50, 4, seed=2)
    coupling = np.linspace(-0.2, 0.1, 50)
    net = SparsePropNetwork("theta", graph, drive=0.1, tau=TAU, coupling=coupling)
    stored = net.weighted_connectivity()
    assert isinstance(stored, Connectivity)
    assert_array_equal(stored.indices, graph.materialize().indices)
    assert_array_equal(stored.weights, np.repeat(coupling, 4))
    weighted = graph.materialize().with_weights(np.ones(200))
    assert (
        SparsePropNetwork("lif", weighted, drive=0.1, tau=TAU).weighted_connectivity() is weighted
    )


# --------------------------------------------------------------------------- bad input


def test_bad_input_raises_clear_errors():
    graph = fixed_out_degree(100, 100, 10, seed=1)
    with pytest.raises(ValueError, match="drive must be > 0"):
        SparsePropNetwork("theta", graph, drive=0.0, tau=TAU, coupling=-0.1)
    with pytest.raises(ValueError, match="drive must be > 0"):
        SparsePropNetwork("lif", graph, drive=np.r_[np.ones(99), -1.0], tau=TAU, coupling=-0.1)
    with pytest.raises(ValueError, match="tau must be a positive time"):
        SparsePropNetwork("theta", graph, drive=0.1, tau=-0.01, coupling=-0.1)
    with pytest.raises(ValueError, match="K=100 must be <= N - 1"):
        RegeneratedConnectivity(100, 100, seed=1)
    with pytest.raises(ValueError, match="K=.* exceeds"):
        fixed_out_degree(100, 100, 100, seed=1)
    with pytest.raises(ValueError, match="model must be one of"):
        SparsePropNetwork("hodgkin", graph, drive=0.1, tau=TAU, coupling=-0.1)
    with pytest.raises(ValueError, match="give synaptic weights"):
        SparsePropNetwork("theta", graph, drive=0.1, tau=TAU)
    with pytest.raises(ValueError, match="representation='phase' needs the same drive"):
        SparsePropNetwork(
            "theta",
            graph,
            drive=np.linspace(0.1, 0.2, 100),
            tau=TAU,
            coupling=-0.1,
            representation="phase",
        )
    net = SparsePropNetwork("theta", graph, drive=0.1, tau=TAU, coupling=-0.1)
    with pytest.raises(ValueError, match="initial_phases|phases must be finite"):
        net.initial_state(np.r_[np.zeros(99), np.nan])
    with pytest.raises(ValueError, match=r"must lie in \[-pi, pi\)"):
        net.initial_state(np.full(100, 4.0))
    with pytest.raises(ValueError, match="one entry per neuron"):
        net.initial_state(np.zeros(7))
    lif_net = SparsePropNetwork("lif", graph, drive=0.1, tau=TAU, coupling=-0.1)
    with pytest.raises(ValueError, match="below threshold"):
        lif_net.initial_state(np.full(100, 1.0))
    state = net.initial_state(seed=1)
    with pytest.raises(ValueError, match="stop condition"):
        net.run(state)
    with pytest.raises(ValueError, match="duration must be"):
        net.run(state, duration=-1.0)
    with pytest.raises(ValueError, match="n_spikes must be"):
        net.run(state, n_spikes=-3)
    with pytest.raises(ValueError, match="state has 100 neurons"):
        balanced_network(50, 5).run(state, n_spikes=1)


def test_brian2_time_quantities_are_accepted():
    from brian2 import DimensionMismatchError, ms, mV

    graph = fixed_out_degree(100, 100, 10, seed=1)
    a = SparsePropNetwork("theta", graph, drive=0.1, tau=10 * ms, coupling=-0.1)
    assert a.tau == pytest.approx(0.01)
    with pytest.raises(DimensionMismatchError):
        SparsePropNetwork("theta", graph, drive=0.1, tau=10 * mV, coupling=-0.1)
    result = a.run(a.initial_state(seed=1), duration=50 * ms)
    assert_allclose(result.stop_time, 0.05)


def test_reprs_are_informative():
    graph = RegeneratedConnectivity(100, 5, seed=1)
    net = SparsePropNetwork("lif", graph, drive=0.2, tau=TAU, coupling=-0.1)
    result = net.run(net.initial_state(seed=1), n_spikes=10)
    assert "lif, N=100" in repr(net) and "memory-free" in repr(net)
    assert "10 spikes of 100 neurons" in repr(result)
    assert "N=100" in repr(result.state)
    assert "theta" in repr(phase_model("qif"))


# --------------------------------------------------------------------------- issue 17

# sha256 of the first 2 * 10^4 spikes (int32 indices, float64 times), recorded with the
# engine before the changes of issue 17 (heap kept in the state, K-sized duplicate
# check): theta and LIF, stored and memory-free, one drive and per-neuron drives.
_ISSUE17_FINGERPRINTS = {
    "lif_time_regenerated": "9b2e4cd65cff359924ab496148f8c6018ee874967990f6f91a3b2bdfb9101d21",
    "theta_time_regenerated": "fe65f6614c95d21f7729b4aa0e2c3a6ff5bd31b1600f70c39bdee5413df67785",
    "theta_phase_csr_large": "444aeb02ccb4f77873c21fd13ff89de0b2882ecd9e85a24f1fbcf9ddaaddc6e6",
    "lif_phase_regenerated_large": (
        "e9d28800ad48aaf2eaf8740db815297b34406638f275f61cff3dbc217a3510b0"
    ),
}


def _issue17_network(name):
    if name == "lif_time_regenerated":
        return balanced_network(2000, 50, model="lif", seed=11, heterogeneity=0.3), 12
    if name == "theta_time_regenerated":
        return balanced_network(2000, 50, seed=13, heterogeneity=0.3), 14
    if name == "theta_phase_csr_large":
        return balanced_network(100_000, 100, seed=15, memory_free=False), 16
    return balanced_network(100_000, 100, model="lif", seed=17), 18


@pytest.mark.parametrize("name", sorted(_ISSUE17_FINGERPRINTS))
def test_spike_order_and_times_match_the_engine_before_issue_17(name):
    net, seed = _issue17_network(name)
    result = net.run(net.initial_state(seed=seed), n_spikes=20_000, progress=False)
    assert _spike_fingerprint(result) == _ISSUE17_FINGERPRINTS[name]
    # the same spikes in 20 runs that continue from each other's states
    state, indices, times = net.initial_state(seed=seed), [], []
    for _ in range(20):
        part = net.run(state, n_spikes=1000, progress=False)
        indices.append(part.spike_indices)
        times.append(part.spike_times)
        state = part.state
    assert_array_equal(np.concatenate(indices), result.spike_indices)
    assert_array_equal(np.concatenate(times), result.spike_times)
    assert_array_equal(state.keys, result.state.keys)


def test_continuing_a_run_builds_no_heap_at_a_million_neurons():
    from neurosrnn.sparseprop import engine

    net = balanced_network(1_000_000, 100, seed=2)
    start = net.initial_state(seed=3)
    builds = engine.HEAP_BUILDS[0]
    first = net.run(start, n_spikes=1, progress=False)
    assert engine.HEAP_BUILDS[0] == builds + 1  # the start state has only keys
    state, indices = first.state, [first.spike_indices]
    for _ in range(5):
        part = net.run(state, n_spikes=1, progress=False)
        indices.append(part.spike_indices)
        state = part.state
    assert engine.HEAP_BUILDS[0] == builds + 1  # continuing: no construction, no scatter
    assert state.__dict__["_keys"] is None  # keys never ordered by neuron on the way
    whole = net.run(start, n_spikes=6, progress=False)
    assert_array_equal(np.concatenate(indices), whole.spike_indices)
    assert_array_equal(state.keys, whole.state.keys)


def test_a_continued_state_is_left_unchanged_and_its_keys_guard_the_kept_heap():
    net = balanced_network(300, 10, rate=10.0, seed=4)
    first = net.run(net.initial_state(seed=5), n_spikes=500, progress=False)
    keys_before = np.array(first.state.keys)
    once = net.run(first.state, n_spikes=300, progress=False)
    again = net.run(first.state, n_spikes=300, progress=False)  # the same state twice
    assert_array_equal(first.state.keys, keys_before)
    assert_array_equal(once.spike_indices, again.spike_indices)
    assert_array_equal(once.spike_times, again.spike_times)
    with pytest.raises(ValueError, match="read-only"):
        first.state.keys[0] = 0.0  # would leave the kept heap stale
    # replacing the keys drops the kept heap: the next run uses the new keys
    edited = first.state.copy()
    edited.keys[:] = keys_before[::-1]
    replaced = first.state.copy()
    replaced.keys = keys_before[::-1].copy()
    assert replaced._heap is None
    a = net.run(edited, n_spikes=200, progress=False)
    b = net.run(replaced, n_spikes=200, progress=False)
    assert_array_equal(a.spike_indices, b.spike_indices)
    assert not np.array_equal(a.spike_indices, once.spike_indices[:200])


# --------------------------------------------------------------------------- issue 17: state at 10^8


def _spy_on_heap_work(monkeypatch):
    """Count heap constructions and copies of kept heaps (the O(N) work of a run's set-up)."""
    from neurosrnn.sparseprop import engine

    calls = {"heapify_neurons": 0, "aligned_heap": 0}
    build, allocate = engine.heapify_neurons, engine._aligned_heap

    def counted_build(*arguments):
        calls["heapify_neurons"] += 1
        return build(*arguments)

    def counted_allocate(*arguments):
        calls["aligned_heap"] += 1
        return allocate(*arguments)

    monkeypatch.setattr(engine, "heapify_neurons", counted_build)
    monkeypatch.setattr(engine, "_aligned_heap", counted_allocate)
    return calls


def test_continuing_in_place_matches_the_o_n_reference_for_10_4_spikes(monkeypatch):
    # inhibitory LIF networks are stable (no chaos), so the exact engine and the O(N)
    # reference keep the same spike order over long runs
    net = balanced_network(1000, 50, model="lif", seed=3, rate=5.0)
    start = net.initial_state(seed=4)
    net.state = start
    calls = _spy_on_heap_work(monkeypatch)
    parts = [net.run(n_spikes=2500, progress=False) for _ in range(4)]
    assert calls == {"heapify_neurons": 0, "aligned_heap": 0}  # no O(N) set-up per run
    indices = np.concatenate([part.spike_indices for part in parts])
    times = np.concatenate([part.spike_times for part in parts])
    reference = simulate_reference(net, net.phases(start), n_spikes=10_000)
    assert_array_equal(indices, reference.spike_indices)
    assert_allclose(times, reference.spike_times, rtol=0, atol=1e-9)


@pytest.mark.parametrize("heterogeneity", [0.0, 0.3])
def test_in_place_runs_equal_one_run_from_a_copy_bit_for_bit(monkeypatch, heterogeneity):
    from neurosrnn.sparseprop import engine

    # chaotic theta network, phase (uniform drive) and time representation; 2 x 10^4
    # spikes with a rebase every N = 2000 spikes inside and across the runs
    net = balanced_network(2000, 50, seed=5, heterogeneity=heterogeneity)
    start = net.initial_state(seed=6)
    builds, copies = engine.HEAP_BUILDS[0], engine.HEAP_COPIES[0]
    net.state = start  # checked and heaped once, here
    assert (engine.HEAP_BUILDS[0], engine.HEAP_COPIES[0]) == (builds + 1, copies)
    calls = _spy_on_heap_work(monkeypatch)
    first = net.run(n_spikes=7000, progress=False)
    second = net.run(n_spikes=13_000, progress=False)
    assert calls == {"heapify_neurons": 0, "aligned_heap": 0}
    assert (engine.HEAP_BUILDS[0], engine.HEAP_COPIES[0]) == (builds + 1, copies)
    assert second.state is net.state
    assert second.start_time == first.stop_time
    whole = net.run(start.copy(), n_spikes=20_000, progress=False)  # explicit: builds a heap
    assert calls["heapify_neurons"] == 1
    assert_array_equal(
        np.concatenate([first.spike_indices, second.spike_indices]), whole.spike_indices
    )
    assert_array_equal(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    assert_array_equal(second.state.keys, whole.state.keys)
    assert second.state.n_spikes == whole.state.n_spikes == 20_000
    assert second.state.offset == whole.state.offset
    assert second.state.time_base == whole.state.time_base


def test_in_place_runs_with_delays_and_refractoriness_equal_one_run():
    # pulses in flight and refractory ends are carried by the in-place state too
    graph = fixed_out_degree(400, 400, 20, seed=1)
    net = SparsePropNetwork(
        "lif", graph, drive=0.5, tau=TAU, coupling=-0.05, delay=0.0015, refractory=0.002
    )
    start = net.initial_state(seed=2)
    net.state = start
    parts = [net.run(duration=0.05, progress=False) for _ in range(4)]
    whole = net.run(start, duration=0.2, progress=False)
    assert whole.n_spikes > 1000
    assert_array_equal(np.concatenate([p.spike_indices for p in parts]), whole.spike_indices)
    assert_array_equal(np.concatenate([p.spike_times for p in parts]), whole.spike_times)
    assert_array_equal(parts[-1].state.refractory_end, whole.state.refractory_end)
    assert_array_equal(parts[-1].state.pending_arrival, whole.state.pending_arrival)
    assert parts[-1].state.n_pending > 0


def test_a_state_continued_in_place_is_spent_and_says_so():
    net = balanced_network(300, 10, rate=10.0, seed=4)
    with pytest.raises(ValueError, match="no state of its own"):
        net.run(n_spikes=10, progress=False)
    start = net.initial_state(seed=5)
    keys = start.keys.copy()
    net.state = start
    assert net.state is not start
    assert_array_equal(start.keys, keys)  # the assigned state is not modified
    explicit = net.run(start, n_spikes=100, progress=False)
    assert net.state is explicit.state  # an explicit run leaves its state here too
    continued = net.run(n_spikes=100, progress=False)
    assert explicit.state.spent and not continued.state.spent
    assert "100 spikes so far" in repr(explicit.state)
    with pytest.raises(RuntimeError, match="continued in place"):
        explicit.state.keys  # noqa: B018
    with pytest.raises(ValueError, match="continued in place"):
        net.run(explicit.state, n_spikes=10, progress=False)
    # a copy taken before continuing in place keeps the state
    kept = continued.state.copy()
    again = net.run(n_spikes=100, progress=False)
    repeat = net.run(kept, n_spikes=100, progress=False)
    assert_array_equal(again.spike_indices, repeat.spike_indices)
    net.state = None
    with pytest.raises(ValueError, match="no state of its own"):
        net.run(n_spikes=10, progress=False)


def test_pickling_a_network_leaves_its_state_behind():
    import pickle

    net = balanced_network(300, 10, rate=10.0, seed=4)
    net.run(net.initial_state(seed=5), n_spikes=50, progress=False)
    copy = pickle.loads(pickle.dumps(net))
    assert net.state is not None and copy.state is None
    assert_array_equal(copy.drive, net.drive)


def test_a_uniform_network_holds_no_per_neuron_arrays_and_its_state_16_bytes_per_neuron():
    N = 50_000
    net = balanced_network(N, 100, seed=1)
    sizes = [
        np.size(part)
        for group in (net._neurons, net._graph, net._regeneration)
        for part in group
        if isinstance(part, np.ndarray)
    ]
    assert max(sizes) <= 256  # the K-sized duplicate table, no N-sized array
    assert not any(
        isinstance(value, np.ndarray) and value.size >= N for value in vars(net).values()
    )
    # the attributes still read as arrays of shape (N,), with the values they had
    drive = net.tau * math.sqrt(100) * 1.0 * 1.0
    assert_array_equal(net.drive, np.full(N, drive))
    assert_array_equal(net.omega, 2.0 * np.sqrt(np.full(N, drive)))
    assert_array_equal(net.scale, 1.0 / np.sqrt(np.full(N, drive)))
    assert_array_equal(net.coupling, np.full(N, -0.1))
    net.state = net.initial_state(seed=2)
    heap = net.state._heap
    assert [array.dtype for array in heap] == [np.float64, np.int32, np.int32]
    assert sum(array.nbytes for array in heap) == 16 * N


@pytest.mark.parametrize("heterogeneity", [0.0, 0.3])
def test_initial_phases_drawn_in_chunks_equal_one_draw(heterogeneity):
    from neurosrnn.sparseprop import engine

    N = engine._DRAW_CHUNK * 2 + 12_345  # three chunks, the last one partial
    net = balanced_network(N, 10, seed=1, heterogeneity=heterogeneity)
    keys = net.initial_state(seed=7).keys
    model = net.model
    phases = model.phase_reset + np.random.default_rng(7).random(N) * (
        model.phase_threshold - model.phase_reset
    )
    distance = model.phase_threshold - phases
    expected = distance if net.representation == "phase" else distance / net.omega
    assert net.representation == ("phase" if heterogeneity == 0 else "time")
    assert_array_equal(keys, expected)


# --------------------------------------------------------------------------- recorded pulses


@pytest.mark.parametrize("memory_free", [False, True])
@pytest.mark.parametrize("model", ["theta", "lif"])
def test_recorded_pulses_are_the_targets_phases_around_each_spike(model, memory_free):
    """record_pulses: the same spikes, and per pulse the target's phase just before and
    just after its spike, as the voltage samples of another run see them."""
    net = balanced_network(
        200, 10, model=model, rate=5.0, tau=TAU, memory_free=memory_free, heterogeneity=0.3
    )
    state = net.run(net.initial_state(seed=2), n_spikes=500).state
    plain = net.run(state, n_spikes=300)
    run = net.run(state, n_spikes=300, record_pulses=True)
    assert plain.pulses is None
    assert_array_equal(run.spike_indices, plain.spike_indices)
    assert_array_equal(run.spike_times, plain.spike_times)
    graph = net.connectivity
    if memory_free:
        rows = [graph.targets_of(j) for j in run.spike_indices]  # the engine's order
    else:
        rows = [graph.indices[graph.indptr[j] : graph.indptr[j + 1]] for j in run.spike_indices]
    offsets = np.concatenate([[0], np.cumsum([row.size for row in rows])])
    assert run.pulses.shape == (offsets[-1], 3)
    # samples 1 ns before and after spikes 100..119 (no other spike in between; a
    # sample at a spike's time itself can land after it, by the rounding of s -> tau)
    picked = np.arange(100, 120)
    delta = 1e-9
    assert np.all(np.diff(run.spike_times[99:121]) > delta)
    times = np.stack([run.spike_times[picked] - delta, run.spike_times[picked] + delta], 1).ravel()
    sampled = net.run(state, n_spikes=300, sample_neurons=np.arange(200), sample_times=times)
    omega = np.broadcast_to(net.omega, (net.N,))
    for n, s in enumerate(picked):
        targets = rows[s]
        before, after, base = run.pulses[offsets[s] : offsets[s + 1]].T
        drive = net.drive[targets]
        expected_before = net.model.state_to_phase(sampled.samples[2 * n, targets], drive)
        expected_after = net.model.state_to_phase(sampled.samples[2 * n + 1, targets], drive)
        expected_before += omega[targets] * delta / TAU  # 1 ns of free evolution
        expected_after -= omega[targets] * delta / TAU
        assert_allclose(before, expected_before, rtol=0, atol=1e-9)
        assert_allclose(after, expected_after, rtol=0, atol=1e-9)
        if model == "theta":
            assert_allclose(base, np.tan(0.5 * before), rtol=1e-13)
        else:
            assert_allclose(base, np.exp(-before / omega[targets]), rtol=1e-13)


def test_record_pulses_refuses_networks_it_cannot_record():
    graph = fixed_out_degree(50, 50, 5, seed=1)
    delayed = SparsePropNetwork("theta", graph, drive=0.1, tau=TAU, coupling=-0.1, delay=0.001)
    with pytest.raises(ValueError, match="record_pulses=True needs a theta or LIF network"):
        delayed.run(delayed.initial_state(seed=1), n_spikes=10, record_pulses=True)


def test_recorded_pulses_buffer_grows_for_runs_of_unknown_length():
    """A duration-limited run (no spike count to size the buffer) keeps every pulse."""
    net = balanced_network(300, 12, model="theta", rate=5.0, tau=TAU, memory_free=False)
    state = net.initial_state(seed=5)
    counted = net.run(state, n_spikes=20_000, record_pulses=True)
    timed = net.run(state, duration=counted.duration, record_pulses=True)
    assert timed.n_spikes == counted.n_spikes
    assert_array_equal(timed.pulses, counted.pulses)


def test_samples_at_the_reported_spike_times_are_taken_just_before_each_spike():
    """A spike time as reported (seconds) given back as a sample time samples the state
    just before that spike: the LIF spiker at threshold (v = 1), not reset (v = 0),
    whatever the rounding of seconds -> tau (theta cannot tell: its threshold and reset
    are one angle)."""
    net = balanced_network(200, 10, model="lif", rate=5.0, tau=TAU, heterogeneity=0.3)
    state = net.run(net.initial_state(seed=2), n_spikes=500).state
    run = net.run(state, n_spikes=400)
    times, first = np.unique(run.spike_times, return_index=True)  # one sample per instant
    sampled = net.run(state, n_spikes=400, sample_neurons=np.arange(200), sample_times=times)
    spikers = run.spike_indices[first]
    at_threshold = sampled.samples[np.arange(times.size), spikers]
    assert_allclose(at_threshold, 1.0, rtol=0, atol=1e-9)
