"""Exact event-based gradients through the SparseProp engine (`neurosrnn.sparseprop.gradients`).

References: central finite differences through the engine (Richardson-extrapolated), an
independent JAX reverse-mode implementation (dense O(N)-per-spike event-driven
simulation), and the largest Lyapunov exponent of `lyapunov_spectrum`.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity
from neurosrnn.sparseprop import (
    RegeneratedConnectivity,
    SparsePropNetwork,
    balanced_network,
)
from neurosrnn.sparseprop import gradients as grad_module
from neurosrnn.sparseprop.gradients import (
    LeakyReadout,
    SpikeLoss,
    first_spike_cross_entropy,
    gradient_growth,
    readout_cross_entropy,
    readout_mse,
    spike_gradients,
    spike_time_loss,
)

TAU = 0.01
N_SMALL, K_SMALL, S_SMALL = 12, 3, 60
# (graph seed, state seed) of the finite-difference networks: the runs whose closest
# consecutive spikes are furthest apart, so the spike order survives the steps
FD_SEEDS = {
    ("theta", False): (5, 5),
    ("theta", True): (0, 2),
    ("lif", False): (4, 0),
    ("lif", True): (0, 5),
}


def _relative_error(value, reference):
    value, reference = np.asarray(value, float), np.asarray(reference, float)
    return float(np.max(np.abs(value - reference)) / np.max(np.abs(reference)))


def _network(model, graph, weights, drive):
    weighted = Connectivity(graph.indptr, graph.indices, graph.N_post, weights)
    representation = "time" if np.ndim(drive) else "phase"
    return SparsePropNetwork(model, weighted, drive=drive, tau=TAU, representation=representation)


def _losses(end):
    """One of each loss, at times scaled to a run that ends at `end` (s)."""
    return {
        "spike_time": spike_time_loss([4, 4, 7], np.array([0.3, 0.6, 0.5]) * end),
        "first_spike": first_spike_cross_entropy([1, 2, 3], 1, tau=0.2 * end),
        "readout_mse": readout_mse(np.array([0.5, 0.8]) * end, [[0.3, 0.1], [0.2, -0.4]]),
        "readout_ce": readout_cross_entropy(np.array([0.6, 0.9]) * end, [1, 0]),
    }


class _OrderChanged(Exception):
    """A perturbed run fired in another order (the loss is not smooth there)."""


def _same_order(indices, reference):
    if not np.array_equal(indices, reference):
        raise _OrderChanged


def _richardson(function, scale):
    """Richardson-extrapolated central difference of `function` at 0 (arrays allowed).

    The step is chosen per parameter: the largest of ``scale * (1e-3 ... 1e-7)`` whose
    four evaluations keep the spike order (a smaller step only adds rounding error).
    """
    for relative in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        step = scale * relative
        try:
            wide = (function(step) - function(-step)) / (2 * step)
            narrow = (function(step / 2) - function(-step / 2)) / step
        except _OrderChanged:
            continue
        return (4 * narrow - wide) / 3
    raise AssertionError("the spike order changes under every step")


@pytest.mark.parametrize("model", ["theta", "lif"])
@pytest.mark.parametrize("heterogeneous", [False, True], ids=["homogeneous", "per_neuron"])
def test_gradients_match_finite_differences(model, heterogeneous):
    rng = np.random.default_rng(7)
    graph_seed, state_seed = FD_SEEDS[model, heterogeneous]
    graph = RegeneratedConnectivity(N_SMALL, K_SMALL, seed=graph_seed).materialize()
    w0, drive0 = (-0.3, 0.1) if model == "theta" else (-0.15, 0.3)
    weights = w0 * (1 + 0.3 * rng.random(graph.indices.size))
    drive = drive0 * (1 + 0.3 * rng.random(N_SMALL)) if heterogeneous else drive0
    net = _network(model, graph, weights, drive)
    assert net.representation == ("time" if heterogeneous else "phase")
    state = net.initial_state(seed=state_seed)
    start_state, start_phases = net.model_state(state), net.phases(state)
    end = net.run(state, n_spikes=S_SMALL).spike_times[-1]
    readout = LeakyReadout([0, 1, 2], rng.standard_normal((2, 3)), tau=0.02)
    losses = _losses(end)
    results = {
        name: spike_gradients(
            net, state, loss=loss, n_spikes=S_SMALL, readout=readout, checkpoint_every=17
        )
        for name, loss in losses.items()
    }
    reference_spikes = results["spike_time"].spike_indices
    for result in results.values():
        assert result.replay_error < 1e-12

    drives = np.full(N_SMALL, drive) if np.ndim(drive) == 0 else drive

    def all_losses(weights=weights, drive=drives, readout_weights=readout.weights, phases=None):
        perturbed = _network(model, graph, weights, drive)
        if phases is None:
            start = perturbed.initial_state(model_state=start_state)
        else:
            start = perturbed.initial_state(phases=phases)
        run = perturbed.run(start, n_spikes=S_SMALL)
        _same_order(run.spike_indices, reference_spikes)
        moved = LeakyReadout(readout.neurons, readout_weights, readout.tau)
        values = []
        for loss in losses.values():
            at = loss.readout_times
            signal = None if at is None else moved.values(run.spike_indices, run.spike_times, at)
            values.append(loss(run.spike_indices, run.spike_times, signal)[0])
        return np.array(values)

    def unit(size, k):
        return np.eye(size)[k]

    fd = {
        "weights": np.array(
            [
                _richardson(
                    lambda e, k=k: all_losses(weights=weights + e * unit(weights.size, k)),
                    abs(weights[k]),
                )
                for k in range(weights.size)
            ]
        ).T,
        "drive": np.array(
            [
                _richardson(
                    lambda e, k=k: all_losses(drive=drives + e * unit(N_SMALL, k)),
                    drives[k],
                )
                for k in range(N_SMALL)
            ]
        ).T,
        "coupling": _richardson(lambda e: all_losses(weights=weights * (1 + e)), 1.0)[:, None],
        "readout_weights": np.array(
            [
                _richardson(
                    lambda e, k=k: all_losses(
                        readout_weights=readout.weights
                        + e * unit(readout.weights.size, k).reshape(readout.weights.shape)
                    ),
                    1e-4,
                )
                for k in range(readout.weights.size)
            ]
        ).T,
        "initial_phases": np.array(
            [
                _richardson(
                    lambda e, k=k: all_losses(phases=start_phases + e * unit(N_SMALL, k)), 0.01
                )
                for k in range(N_SMALL)
            ]
        ).T,
    }
    for row, (name, result) in enumerate(results.items()):
        assert result.loss == pytest.approx(all_losses()[row], rel=1e-12)
        for kind, reference in fd.items():
            if not np.any(reference[row]):
                # (spike-time losses do not read the readout)
                assert_allclose(np.ravel(getattr(result, kind)), 0.0, atol=0)
                continue
            error = _relative_error(np.ravel(getattr(result, kind)), reference[row])
            assert error <= 1e-6, (name, kind, error)


def test_memory_free_graph_and_global_drive():
    """A memory-free graph gives the gradient of its stored copy; the global drive is the sum."""
    net = balanced_network(60, 6, model="theta", rate=5.0, tau=TAU, memory_free=True)
    stored = balanced_network(60, 6, model="theta", rate=5.0, tau=TAU, memory_free=False)
    state = net.initial_state(seed=1)
    run = net.run(state, n_spikes=150)
    late = int(run.spike_indices[120])
    loss = spike_time_loss([late], [0.0]) + first_spike_cross_entropy([0, 1, 2], 2, tau=0.05)
    free = spike_gradients(net, state, loss=loss, n_spikes=150)
    kept = spike_gradients(stored, stored.initial_state(seed=1), loss=loss, n_spikes=150)
    assert_allclose(free.weights, kept.weights, rtol=1e-12, atol=1e-15 * np.abs(kept.weights).max())
    assert_allclose(free.drive, kept.drive, rtol=1e-12)
    start = net.model_state(state)
    drive = net.drive[0]

    def value(shift):
        moved = balanced_network(60, 6, model="theta", rate=5.0, tau=TAU)
        moved = SparsePropNetwork(
            "theta", moved.connectivity, drive=drive + shift, tau=TAU, coupling=moved.coupling
        )
        run = moved.run(moved.initial_state(model_state=start), n_spikes=150)
        _same_order(run.spike_indices, free.spike_indices)
        return loss(run.spike_indices, run.spike_times)[0]

    reference = _richardson(value, drive)
    assert np.sum(free.drive) == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("model", ["theta", "lif"])
def test_sweep_derivatives_equal_the_phase_models(model):
    """The sweep's derivatives (rational in the stored base, one division) are those of
    `phase_models` to an ulp or two, and `pulse_phase_and_base` is `pulse_phase` plus
    tan(u/2) or exp(-u/omega), bit for bit."""
    from neurosrnn.sparseprop import phase_models as pm

    rng = np.random.default_rng(3)
    code = pm.THETA if model == "theta" else pm.LIF
    threshold = np.pi if model == "theta" else 1.0
    omega, scale = 1.7, 0.6
    for u, weight in zip(rng.uniform(-3.0, 0.99, 200), rng.uniform(-0.5, 0.5, 200), strict=True):
        g, slope, dg_dc, dg_domega = grad_module._pulse_terms(
            code, u, weight, scale, omega, threshold
        )
        assert g == pm.pulse_phase(code, u, weight, scale, omega, threshold)
        g_b, base = pm.pulse_phase_and_base(code, u, weight, scale, omega, threshold)
        assert g_b == g
        if model == "theta":  # the closed-form PTCs, bit for bit
            assert g == pm.theta_ptc(u, weight * scale)
        else:
            assert g == min(pm.lif_ptc(u, -weight * scale, omega), threshold)
        assert base == (math.tan(0.5 * u) if model == "theta" else math.exp(-u / omega))
        if model == "lif" and g >= threshold:  # clamped: flat
            assert (slope, dg_dc, dg_domega) == (0.0, 0.0, 0.0)
            continue
        ulps = 4e-16  # one division and a product, against a quotient
        assert_allclose(slope, pm.pulse_derivative(code, u, weight, scale, omega), rtol=ulps)
        if model == "theta":
            expected = pm.theta_ptc_coupling_derivative(u, weight * scale)
            assert_allclose(dg_dc, expected, rtol=ulps)
            assert dg_domega == 0.0
        else:
            expected = pm.lif_ptc_coupling_derivative(u, -weight * scale, omega)
            assert_allclose(dg_dc, expected, rtol=ulps)
            assert dg_domega == (g - u * slope) / omega


# --------------------------------------------------------------------------- JAX reference


def _jax_loss_function(network, state, n_spikes, readout, loss_terms, inputs=None):
    """An independent loss of (dense weights, drive, readout weights) in JAX.

    Dense O(N)-per-spike event-driven simulation: at each step the neuron with the
    earliest threshold time fires (argmin), every neuron's phase is advanced to that time
    and its targets take the closed-form PTC.

    With `inputs` = ``(sources, times, n_steps)`` (delivered input spikes, s): the loss
    takes a fourth argument, the dense (M, N) input weights. Input spikes at one time
    form one event (a summed pulse per target); at each of the `n_steps` steps the next
    event acts if its time is not after the earliest threshold time (inputs first), else
    that neuron fires. A LIF pulse to threshold sets the phase to threshold (fires next,
    at once).
    """
    import jax
    import jax.numpy as jnp

    theta = network.model.code == 0
    phase_reset, phase_threshold = network.model.phase_reset, network.model.phase_threshold
    graph = network.weighted_connectivity()
    N = network.N
    adjacency = np.zeros((N, N), dtype=bool)
    adjacency[graph.sources, graph.indices] = True
    adjacency = jnp.asarray(adjacency)
    start = network.model_state(state)
    spike_neurons, spike_targets = loss_terms["spike_time"]
    outputs, label, softmax_tau = loss_terms["first_spike"]
    readout_times, readout_targets = loss_terms["readout_mse"]

    if inputs is not None:
        sources, input_times, n_steps = inputs
        relative = (np.asarray(input_times) - state.time_seconds) / network.tau
        event_times, event_id = np.unique(relative, return_inverse=True)
        n_events = event_times.size
        in_graph = network.input_connectivity
        input_adjacency = np.zeros((network.n_inputs, N), dtype=bool)
        input_adjacency[np.repeat(np.arange(network.n_inputs), np.diff(in_graph.indptr)),
                        in_graph.indices] = True  # fmt: skip
        event_mask = np.zeros((n_events + 1, N), dtype=bool)
        np.logical_or.at(event_mask, event_id, input_adjacency[sources])
        event_mask = jnp.asarray(event_mask)
        event_times = jnp.asarray(np.append(event_times, np.inf))

    def pulse(before, weight_row, scale, omega):
        if theta:
            before = jnp.maximum(before, phase_reset)
            return 2 * jnp.arctan(jnp.tan(0.5 * before) + weight_row * scale)
        argument = jnp.exp(-before / omega) - weight_row * scale
        crossed = argument <= jnp.exp(-phase_threshold / omega)
        safe = jnp.where(crossed, 1.0, argument)
        return jnp.where(crossed, phase_threshold, -omega * jnp.log(safe))

    def loss(dense_weights, drive, readout_weights, dense_input_weights=None):
        if theta:
            omega, scale = 2 * jnp.sqrt(drive), 1 / jnp.sqrt(drive)
            phases = 2 * jnp.arctan(jnp.tan(0.5 * start) / jnp.sqrt(drive))
        else:
            omega, scale = 1 / jnp.log1p(1 / drive), 1 / (1 + drive)
            phases = -omega * jnp.log1p(-start / (1 + drive))
        keys = (phase_threshold - phases) / omega

        def step(keys, _):
            j = jnp.argmin(keys)
            t = keys[j]
            before = phase_threshold - omega * (keys - t)
            if theta:
                before = jnp.maximum(before, phase_reset)
                after = 2 * jnp.arctan(jnp.tan(0.5 * before) + dense_weights[j] * scale)
            else:
                after = -omega * jnp.log(jnp.exp(-before / omega) - dense_weights[j] * scale)
            moved = jnp.where(adjacency[j], t + (phase_threshold - after) / omega, keys)
            moved = moved.at[j].set(t + (phase_threshold - phase_reset) / omega[j])
            return moved, (j, t)

        if inputs is None:
            _, (order, times) = jax.lax.scan(step, keys, None, length=n_spikes)
        else:
            rows = jax.ops.segment_sum(dense_input_weights[sources], event_id, n_events + 1)

            def merged_step(carry, _):
                keys, p = carry
                j = jnp.argmin(keys)
                is_input = event_times[p] <= keys[j]
                t = jnp.where(is_input, event_times[p], keys[j])
                before = phase_threshold - omega * (keys - t)
                weight_row = jnp.where(is_input, rows[p], dense_weights[j])
                targets = jnp.where(is_input, event_mask[p], adjacency[j])
                after = pulse(before, weight_row, scale, omega)
                moved = jnp.where(targets, t + (phase_threshold - after) / omega, keys)
                reset = moved.at[j].set(t + (phase_threshold - phase_reset) / omega[j])
                moved = jnp.where(is_input, moved, reset)
                return (moved, p + is_input), (jnp.where(is_input, -1, j), t)

            _, (steps, step_times) = jax.lax.scan(merged_step, (keys, 0), None, length=n_steps)
            spiking = np.flatnonzero(loss_terms["spike_steps"])
            order, times = steps[spiking], step_times[spiking]
        times = times * network.tau + state.time_seconds
        value = 0.0
        # spike-time targets: the n-th spike of each listed neuron (positions from the order)
        value += 0.5 * jnp.sum((times[spike_targets[0]] - spike_targets[1]) ** 2)
        # first-spike cross-entropy
        logits = -times[outputs] / softmax_tau
        value += -(logits[label] - jax.scipy.special.logsumexp(logits))
        # leaky readout MSE
        lag = readout_times[:, None] - times[None, :]
        member = np.isin(np.arange(N), readout.neurons)
        column = np.zeros(N, dtype=int)
        column[readout.neurons] = np.arange(readout.neurons.size)
        member, column = jnp.asarray(member), jnp.asarray(column)
        kernel = jnp.where(lag >= 0, jnp.exp(-jnp.maximum(lag, 0) / readout.tau), 0.0)
        kernel = kernel * member[order][None, :]
        signal = kernel @ readout_weights[:, column[order]].T
        value += jnp.mean((signal - readout_targets) ** 2)
        return value, order

    return loss, adjacency


@pytest.mark.parametrize(
    "case",
    ["theta_chaotic_100_spikes", "lif_per_neuron_600_spikes"],
)
def test_gradients_match_jax_autodiff(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    if case.startswith("theta"):
        net = balanced_network(150, 15, model="theta", rate=5.0, tau=TAU, memory_free=False)
        n_spikes = 100
    else:
        net = balanced_network(
            120, 12, model="lif", rate=5.0, tau=TAU, heterogeneity=0.3, memory_free=False
        )
        n_spikes = 600
    state = net.run(net.initial_state(seed=11), n_spikes=5 * net.N).state
    run = net.run(state, n_spikes=n_spikes)
    indices, times = run.spike_indices, run.spike_times
    t0, end = state.time_seconds, times[-1]
    # loss ingredients chosen from the run itself, so every term is defined
    spike_neurons = indices[[n_spikes // 3, n_spikes // 2, -5]]
    seen = {}
    spike_positions = []
    for n in spike_neurons:  # the n-th listed occurrence of a neuron is its n-th spike
        spike_positions.append(int(np.flatnonzero(indices == n)[seen.get(n, 0)]))
        seen[n] = seen.get(n, 0) + 1
    spike_targets = times[spike_positions] + 0.3 * TAU
    fired = np.unique(indices)
    outputs = fired[:4]
    readout = LeakyReadout(fired[4:10], np.random.default_rng(1).standard_normal((2, 6)), 0.02)
    readout_times = t0 + np.array([0.4, 0.7, 0.95]) * (end - t0)
    readout_targets = np.random.default_rng(2).standard_normal((3, 2))
    loss = (
        spike_time_loss(spike_neurons, spike_targets)
        + first_spike_cross_entropy(outputs, 2, tau=0.005)
        + readout_mse(readout_times, readout_targets)
    )
    result = spike_gradients(net, state, loss=loss, n_spikes=n_spikes, readout=readout)
    assert result.replay_error < 1e-12
    first_positions = np.array([np.flatnonzero(indices == n)[0] for n in outputs])
    terms = {
        "spike_time": (spike_neurons, (np.array(spike_positions), spike_targets)),
        "first_spike": (first_positions, 2, 0.005),
        "readout_mse": (readout_times, readout_targets),
    }
    jax_loss, adjacency = _jax_loss_function(net, state, n_spikes, readout, terms)
    graph = net.weighted_connectivity()
    dense = np.zeros((net.N, net.N))
    dense[graph.sources, graph.indices] = graph.weights
    (value, order), (g_dense, g_drive, g_readout) = jax.jit(
        jax.value_and_grad(jax_loss, argnums=(0, 1, 2), has_aux=True)
    )(dense, np.asarray(net.drive, float), readout.weights)
    assert_array_equal(np.asarray(order), indices)
    assert float(value) == pytest.approx(result.loss, rel=1e-10)
    g_dense = np.asarray(g_dense)
    assert _relative_error(result.weights, g_dense[graph.sources, graph.indices]) <= 1e-9
    assert _relative_error(result.drive, g_drive) <= 1e-9
    assert _relative_error(result.readout_weights, g_readout) <= 1e-9
    assert result.coupling == pytest.approx(float(np.sum(g_dense * dense)), rel=1e-9)


# --------------------------------------------------------------------------- chaos


def test_gradient_growth_rate_equals_largest_lyapunov_exponent():
    net = balanced_network(200, 20, model="theta", rate=5.0, tau=TAU, memory_free=False)
    state = net.run(net.initial_state(seed=1), n_spikes=2000).state
    growth = gradient_growth(net, state, n_spikes=20_000, seed=0)
    rate, lambda1 = growth
    assert lambda1 > 5.0  # chaotic
    assert rate == pytest.approx(lambda1, rel=0.10)
    # an inhibitory LIF network (stable chaos) has no growing direction
    lif = balanced_network(200, 20, model="lif", rate=5.0, tau=TAU, memory_free=False)
    lif_state = lif.run(lif.initial_state(seed=1), n_spikes=2000).state
    lif_rate, _ = gradient_growth(lif, lif_state, n_spikes=6000, lyapunov=False)
    assert lif_rate < 0.1 * lambda1


@pytest.mark.parametrize("multapses", [False, True])
@pytest.mark.parametrize("heterogeneity", [0.0, 0.3])
@pytest.mark.parametrize("model", ["theta", "lif"])
def test_recorded_and_replayed_pulses_give_one_gradient(model, heterogeneity, multapses):
    """The sweep on the engine's recorded pulses (default), on replayed ones
    (``pulse_memory=0``) and on a mix equals, for a memory-free graph (swept in draw
    order, dL/dw placed in sorted CSR order), the gradient of its stored twin."""
    N, K = 120, 8
    graph = RegeneratedConnectivity(N, K, seed=4, multapses=multapses)
    rng = np.random.default_rng(5)
    drive = 0.02 * (1.0 + heterogeneity * rng.uniform(-1, 1, N))
    if heterogeneity == 0.0:
        drive = float(drive[0])
    coupling = -0.5 / math.sqrt(K) if model == "theta" else -0.3
    free = SparsePropNetwork(model, graph, drive=drive, tau=TAU, coupling=coupling)
    stored = SparsePropNetwork(
        model,
        free.weighted_connectivity(),
        drive=drive,
        tau=TAU,
        representation=free.representation,
    )
    phases = free.phases(free.initial_state(seed=6))
    coefficients = rng.standard_normal(N)

    def linear(indices, times, readout):  # a weighted sum of all spike times
        d_times = coefficients[np.asarray(indices)]
        return float(d_times @ times), d_times, None

    loss = SpikeLoss(linear, name="linear")
    n_spikes, every = 400, 64  # 7 segments
    results = {}
    for name, network in (("free", free), ("stored", stored)):
        state = network.initial_state(phases)
        # all segments recorded, none, and the first three (64 * 8 * 24 B each)
        for memory in (grad_module.PULSE_MEMORY, 0, 3 * 64 * K * 24):
            results[name, memory] = spike_gradients(
                network,
                state,
                loss=loss,
                n_spikes=n_spikes,
                checkpoint_every=every,
                pulse_memory=memory,
            )
    reference = results["stored", 0]
    for key, result in results.items():
        assert_array_equal(result.spike_indices, reference.spike_indices)
        for name in ("weights", "drive", "initial_phases"):
            value, expected = getattr(result, name), getattr(reference, name)
            scale = np.abs(expected).max()
            assert_allclose(value, expected, rtol=0, atol=1e-9 * scale, err_msg=f"{key} {name}")
        assert result.coupling == pytest.approx(reference.coupling, rel=1e-9)
    recorded, replayed = results["free", grad_module.PULSE_MEMORY], results["free", 0]
    assert recorded.replay_error == 0.0 and replayed.replay_error > 0.0


def test_truncated_gradient_equals_gradient_from_window_start():
    """window_spikes holds the state at the window start fixed, as a run started there."""
    net = balanced_network(80, 8, model="theta", rate=5.0, tau=TAU, memory_free=False)
    state = net.run(net.initial_state(seed=4), n_spikes=400).state
    n_spikes, window = 900, 150
    coefficients = np.random.default_rng(3).standard_normal(net.N)
    split = net.run(state, n_spikes=n_spikes - window)
    cut = split.state.time_seconds

    def linear(indices, times, readout):
        d_times = np.where(np.asarray(times) > cut, coefficients[np.asarray(indices)], 0.0)
        return float(d_times @ times), d_times, None

    loss = SpikeLoss(linear, name="linear")
    with pytest.warns(RuntimeWarning, match="growth of the adjoint"):
        spike_gradients(net, state, loss=loss, n_spikes=n_spikes)
    direct = spike_gradients(net, split.state, loss=loss, n_spikes=window)
    K = net.connectivity.n_synapses // net.N
    # the window starts inside a segment (checkpoints every 64 spikes): swept on the
    # engine's recorded pulses (the default) and on replayed ones (pulse_memory=0)
    for pulse_memory in (spike_gradients.__kwdefaults__["pulse_memory"], 0):
        truncated = spike_gradients(
            net,
            state,
            loss=loss,
            n_spikes=n_spikes,
            window_spikes=window,
            pulse_memory=pulse_memory,
        )
        assert truncated.window_start == n_spikes - window
        assert_allclose(truncated.spike_times[-window:], direct.spike_times, rtol=0, atol=1e-15)
        scale = np.abs(direct.weights).max()
        assert_allclose(truncated.weights, direct.weights, rtol=0, atol=1e-10 * scale)
        drive_scale = np.abs(direct.drive).max()
        assert_allclose(truncated.drive, direct.drive, rtol=0, atol=1e-10 * drive_scale)
        if pulse_memory:  # every pulse of the run kept, 24 B each, and the checkpoints
            assert truncated.memory_bytes > n_spikes * K * 24
    # replaying, the memory never holds K floats per spike of the run (one segment's
    # pulses and the checkpoints: here under one float per pulse of the run)
    assert truncated.memory_bytes < n_spikes * K * 8


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs_raise_before_work():
    net = balanced_network(30, 3, model="lif", rate=5.0, tau=TAU, memory_free=False)
    state = net.initial_state(seed=0)
    good = spike_time_loss([1], [0.01])
    with pytest.raises(ValueError, match=r"outside the network's \[0, 30\)"):
        spike_gradients(net, state, loss=spike_time_loss([30], [0.01]), n_spikes=10)
    with pytest.raises(ValueError, match="give readout=LeakyReadout"):
        spike_gradients(net, state, loss=readout_mse([0.01], [[1.0]]), n_spikes=10)
    with pytest.raises(ValueError, match="'readout_weights' needs readout"):
        spike_gradients(net, state, loss=good, n_spikes=10, parameters=["readout_weights"])
    with pytest.raises(ValueError, match="parameters must be a subset"):
        spike_gradients(net, state, loss=good, n_spikes=10, parameters=["delay"])
    with pytest.raises(ValueError, match="input_weights"):
        spike_gradients(net, state, loss=good, n_spikes=10, parameters=["input_weights"])
    with pytest.raises(ValueError, match="longer than the run"):
        spike_gradients(net, state, loss=good, n_spikes=10, window_spikes=11)
    with pytest.raises(ValueError, match="longer than the run"):
        spike_gradients(net, state, loss=good, duration=0.01, window=0.02)
    with pytest.raises(ValueError, match="not both"):
        spike_gradients(net, state, loss=good, duration=0.01, window=0.005, window_spikes=2)
    with pytest.raises(ValueError, match="stop condition"):
        spike_gradients(net, state, loss=good)
    with pytest.raises(ValueError, match="loss must be a SpikeLoss"):
        spike_gradients(net, state, loss=lambda i, t, r: 0.0, n_spikes=10)
    with pytest.raises(ValueError, match="readout neurons must lie"):
        spike_gradients(net, state, loss=good, n_spikes=10, readout=LeakyReadout([40], [1.0], 0.02))
    with pytest.raises(ValueError, match="shape"):
        LeakyReadout([0, 1], [[1.0, 2.0, 3.0]], tau=0.02)
    with pytest.raises(ValueError, match="one time per entry"):
        spike_time_loss([1, 2], [0.01])
    with pytest.raises(ValueError, match="fired 0 time"):
        spike_time_loss([1], [0.0])([0, 2], [0.01, 0.02])
    with pytest.raises(ValueError, match="did not fire"):
        first_spike_cross_entropy([1, 2], 0, tau=0.01)([2], [0.01])
    with pytest.raises(ValueError, match="delays"):
        delayed = SparsePropNetwork(
            "lif", net.connectivity, drive=net.drive[0], tau=TAU, coupling=-0.3, delay=0.001
        )
        spike_gradients(delayed, delayed.initial_state(seed=0), loss=good, n_spikes=10)
    with pytest.raises(ValueError, match="refractory"):
        held = SparsePropNetwork(
            "lif", net.connectivity, drive=net.drive[0], tau=TAU, coupling=-0.3, refractory=0.002
        )
        spike_gradients(held, held.initial_state(seed=0), loss=good, n_spikes=10)


def test_expected_chaos_warning_and_replay_divergence(monkeypatch):
    net = balanced_network(40, 4, model="theta", rate=5.0, tau=TAU, memory_free=False)
    state = net.initial_state(seed=0)
    loss = first_spike_cross_entropy([0, 1], 0, tau=0.01)
    with pytest.warns(RuntimeWarning, match="expected growth"):
        spike_gradients(net, state, loss=loss, duration=0.5, lyapunov_exponent=60.0)
    forward = grad_module._forward

    def tampered(*args):
        record = forward(*args)
        record.times[5] += 1e-6  # the engine "said" another time
        return record

    monkeypatch.setattr(grad_module, "_forward", tampered)
    # replayed segments are checked against the engine's times (recorded ones are the
    # engine's own pulses)
    with pytest.raises(RuntimeError, match="diverged from the engine at spike 5"):
        spike_gradients(net, state, loss=loss, n_spikes=50, pulse_memory=0)


# --------------------------------------------------------------------------- input neurons

M_INPUTS, FAN_OUT = 4, 3


def _input_graph(rng, N, M, fan_out, weights=None):
    """An M -> N input graph without repeated targets per input neuron."""
    indptr = np.arange(0, (M + 1) * fan_out, fan_out)
    indices = np.concatenate([np.sort(rng.choice(N, fan_out, replace=False)) for _ in range(M)])
    return Connectivity(indptr, indices, N, weights=weights)


def _input_train(rng, M, n, end):
    """`n` input spikes on a 1 ms grid in [0, end): some share a time (summed pulses)."""
    times = np.sort(rng.choice(int(end * 1000), n, replace=True)) * 1e-3 + 1e-4
    times[n // 2] = times[n // 2 - 1]
    return rng.integers(0, M, n), times


def _input_network(model, graph, weights, drive, inputs, input_weights):
    """`_network` with input neurons: per-synapse `input_weights`, or one per input neuron."""
    weighted = Connectivity(graph.indptr, graph.indices, graph.N_post, weights)
    representation = "time" if np.ndim(drive) else "phase"
    if input_weights.size == inputs.N_pre:  # input_coupling
        options = {"input_connectivity": inputs, "input_coupling": input_weights}
    else:
        options = {"input_connectivity": Connectivity(inputs.indptr, inputs.indices,
                                                      inputs.N_post, input_weights)}  # fmt: skip
    return SparsePropNetwork(
        model, weighted, drive=drive, tau=TAU, representation=representation, **options
    )


@pytest.mark.parametrize("model", ["theta", "lif"])
@pytest.mark.parametrize("heterogeneous", [False, True], ids=["homogeneous", "per_neuron"])
def test_input_gradients_match_finite_differences(model, heterogeneous):
    """Every parameter kind, with input neurons: per-synapse input weights (homogeneous
    drive) or one input_coupling per input neuron (per-neuron drive)."""
    rng = np.random.default_rng(21)
    graph = RegeneratedConnectivity(N_SMALL, K_SMALL, seed=1).materialize()
    w0, drive0 = (-0.3, 0.1) if model == "theta" else (-0.15, 0.3)
    weights = w0 * (1 + 0.3 * rng.random(graph.indices.size))
    drive = drive0 * (1 + 0.3 * rng.random(N_SMALL)) if heterogeneous else drive0
    inputs = _input_graph(rng, N_SMALL, M_INPUTS, FAN_OUT)
    low, high = (-0.5, 0.5) if model == "theta" else (-0.3, 0.6)
    size = M_INPUTS if heterogeneous else inputs.indices.size
    input_weights = rng.uniform(low, high, size)
    net = _input_network(model, graph, weights, drive, inputs, input_weights)
    state = net.initial_state(seed=3)
    start_state, start_phases = net.model_state(state), net.phases(state)
    probe = net.run(state, n_spikes=S_SMALL)
    end = probe.spike_times[-1]
    train = _input_train(rng, M_INPUTS, 24, end)
    assert np.any(np.diff(train[1]) == 0)  # tied input spikes: one summed pulse
    run = net.run(state, n_spikes=S_SMALL, input_spikes=train)
    end = run.spike_times[-1]
    assert run.n_input_spikes > 15
    if model == "lif":  # some spikes are fired at once by an input pulse
        assert np.any(np.isin(run.spike_times, train[1]))
    coefficients = np.random.default_rng(4).standard_normal(N_SMALL)

    def linear(indices, times, readout):
        d_times = coefficients[np.asarray(indices)]
        return float(d_times @ times), d_times, None

    loss = SpikeLoss(linear, name="linear") + readout_mse([0.5 * end, 0.9 * end], [[0.2], [0.1]])
    readout = LeakyReadout([0, 1, 2], rng.standard_normal((1, 3)), tau=0.02)
    result = spike_gradients(
        net, state, loss=loss, n_spikes=S_SMALL, readout=readout, checkpoint_every=17,
        input_spikes=train,
    )  # fmt: skip
    assert_array_equal(result.spike_indices, run.spike_indices)
    assert result.replay_error < 1e-12
    assert result.n_input_spikes == run.n_input_spikes
    drives = np.full(N_SMALL, drive) if np.ndim(drive) == 0 else drive

    def value(weights=weights, drive=drives, input_weights=input_weights, phases=None):
        perturbed = _input_network(model, graph, weights, drive, inputs, input_weights)
        if phases is None:
            start = perturbed.initial_state(model_state=start_state)
        else:
            start = perturbed.initial_state(phases=phases)
        moved = perturbed.run(start, n_spikes=S_SMALL, input_spikes=train)
        _same_order(moved.spike_indices, run.spike_indices)
        signal = readout.values(moved.spike_indices, moved.spike_times, loss.readout_times)
        return loss(moved.spike_indices, moved.spike_times, signal)[0]

    def partials(function, base, scale):
        return np.array(
            [
                _richardson(lambda e, k=k: function(base + e * np.eye(base.size)[k]), scale[k])
                for k in range(base.size)
            ]
        )

    fd = {
        "weights": partials(lambda w: value(weights=w), weights, 0.1 * np.abs(weights)),
        "drive": partials(lambda d: value(drive=d), drives, 0.1 * drives),
        "coupling": _richardson(lambda e: value(weights=weights * (1 + e)), 0.1),
        "initial_phases": partials(
            lambda p: value(phases=p), start_phases, np.full(N_SMALL, 0.001)
        ),
        "input_coupling" if heterogeneous else "input_weights": partials(
            lambda w: value(input_weights=w),
            input_weights,
            0.1 * np.maximum(np.abs(input_weights), 0.1),
        ),
    }
    assert result.loss == pytest.approx(value(), rel=1e-12)
    for kind, reference in fd.items():
        error = _relative_error(getattr(result, kind), reference)
        assert error <= 1e-6, (kind, error)
    if heterogeneous:  # per-input-neuron sums of the per-synapse gradient
        rows = np.repeat(np.arange(M_INPUTS), FAN_OUT)
        assert_allclose(np.bincount(rows, result.input_weights), result.input_coupling)
    else:
        assert result.input_coupling is None


@pytest.mark.parametrize("case", ["theta_chaotic_100_spikes", "lif_per_neuron_600_spikes"])
def test_input_gradients_match_jax_autodiff(case):
    """Input events merged in time in the dense JAX simulation (summed at one time)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    if case.startswith("theta"):
        base = balanced_network(150, 15, model="theta", rate=5.0, tau=TAU, memory_free=False)
        n_spikes, n_inputs, low, high = 100, 40, -0.6, 0.6
    else:
        base = balanced_network(
            120, 12, model="lif", rate=5.0, tau=TAU, heterogeneity=0.3, memory_free=False
        )
        n_spikes, n_inputs, low, high = 600, 200, -0.3, 0.5
    rng = np.random.default_rng(8)
    M = 10
    inputs = _input_graph(rng, base.N, M, 8, weights=rng.uniform(low, high, M * 8))
    net = SparsePropNetwork(
        base.model.name, base.weighted_connectivity(), drive=base.drive, tau=TAU,
        representation=base.representation, input_connectivity=inputs,
    )  # fmt: skip
    state = net.run(net.initial_state(seed=11), n_spikes=5 * net.N).state
    t0 = state.time_seconds
    span = net.run(state, n_spikes=n_spikes).spike_times[-1] - t0
    sources, offsets = _input_train(rng, M, n_inputs, span)
    train = (sources, t0 + offsets)
    run = net.run(state, n_spikes=n_spikes, input_spikes=train)
    indices, times = run.spike_indices, run.spike_times
    end = times[-1]
    delivered = train[1] <= end
    assert np.any(np.diff(train[1][delivered]) == 0)
    # the merged event order of the engine: an input time acts before the spikes at it
    # (a spike fired by an input pulse has the input's time, up to rounding)
    event_times = np.unique(train[1][delivered])
    events_before = np.searchsorted(event_times, times + 1e-12, side="right")
    spike_steps = np.zeros(event_times.size + n_spikes, dtype=bool)
    spike_steps[events_before + np.arange(n_spikes)] = True
    spike_neurons = indices[[n_spikes // 3, n_spikes // 2, -5]]
    seen, spike_positions = {}, []
    for n in spike_neurons:
        spike_positions.append(int(np.flatnonzero(indices == n)[seen.get(n, 0)]))
        seen[n] = seen.get(n, 0) + 1
    spike_targets = times[spike_positions] + 0.3 * TAU
    fired = np.unique(indices)
    outputs = fired[:4]
    readout = LeakyReadout(fired[4:10], np.random.default_rng(1).standard_normal((2, 6)), 0.02)
    readout_times = t0 + np.array([0.4, 0.7, 0.95]) * (end - t0)
    readout_targets = np.random.default_rng(2).standard_normal((3, 2))
    loss = (
        spike_time_loss(spike_neurons, spike_targets)
        + first_spike_cross_entropy(outputs, 2, tau=0.005)
        + readout_mse(readout_times, readout_targets)
    )
    result = spike_gradients(
        net, state, loss=loss, n_spikes=n_spikes, readout=readout, input_spikes=train
    )
    assert result.replay_error < 1e-12
    first_positions = np.array([np.flatnonzero(indices == n)[0] for n in outputs])
    terms = {
        "spike_time": (spike_neurons, (np.array(spike_positions), spike_targets)),
        "first_spike": (first_positions, 2, 0.005),
        "readout_mse": (readout_times, readout_targets),
        "spike_steps": spike_steps,
    }
    jax_inputs = (sources[delivered], train[1][delivered], spike_steps.size)
    jax_loss, _ = _jax_loss_function(net, state, n_spikes, readout, terms, inputs=jax_inputs)
    graph = net.weighted_connectivity()
    dense = np.zeros((net.N, net.N))
    dense[graph.sources, graph.indices] = graph.weights
    in_sources = np.repeat(np.arange(M), np.diff(inputs.indptr))
    dense_inputs = np.zeros((M, net.N))
    dense_inputs[in_sources, inputs.indices] = inputs.weights
    (value, jax_order), gradients = jax.jit(
        jax.value_and_grad(jax_loss, argnums=(0, 1, 2, 3), has_aux=True)
    )(dense, np.asarray(net.drive, float), readout.weights, dense_inputs)
    g_dense, g_drive, g_readout, g_inputs = (np.asarray(g) for g in gradients)
    assert_array_equal(np.asarray(jax_order), indices)
    assert float(value) == pytest.approx(result.loss, rel=1e-10)
    assert _relative_error(result.weights, g_dense[graph.sources, graph.indices]) <= 1e-9
    assert _relative_error(result.drive, g_drive) <= 1e-9
    assert _relative_error(result.readout_weights, g_readout) <= 1e-9
    assert _relative_error(result.input_weights, g_inputs[in_sources, inputs.indices]) <= 1e-9
    assert np.all(result.input_weights[~np.isin(in_sources, sources[delivered])] == 0)


def test_bad_input_spikes_raise_before_work_and_ties_raise_clearly():
    rng = np.random.default_rng(2)
    base = balanced_network(30, 3, model="lif", rate=5.0, tau=TAU, memory_free=False)
    inputs = _input_graph(rng, 30, M_INPUTS, FAN_OUT, weights=rng.uniform(-0.2, 0.2, 12))
    net = SparsePropNetwork("lif", base.weighted_connectivity(), drive=base.drive, tau=TAU,
                            input_connectivity=inputs)  # fmt: skip
    state = net.initial_state(seed=0)
    good = spike_time_loss([1], [0.01])
    with pytest.raises(ValueError, match="input_spikes given, but this network has no input"):
        spike_gradients(base, state, loss=good, n_spikes=10, input_spikes=([0], [0.01]))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, n_inputs=4\)"):
        spike_gradients(net, state, loss=good, n_spikes=10, input_spikes=([4], [0.01]))
    with pytest.raises(ValueError, match="input_spikes must be None, an InputSpikes"):
        spike_gradients(net, state, loss=good, n_spikes=10, input_spikes=[0, 1, 2])
    with pytest.raises(ValueError, match="must be sorted"):
        spike_gradients(net, state, loss=good, n_spikes=10, input_spikes=([0, 1], [0.02, 0.01]))
    with pytest.raises(ValueError, match="distinct but closer than"):
        spike_gradients(
            net, state, loss=good, n_spikes=10, input_spikes=([0, 1], [0.01, 0.01 + 1e-15])
        )
    with pytest.raises(ValueError, match="'input_coupling' needs a network built with"):
        spike_gradients(net, state, loss=good, n_spikes=10, parameters=["input_coupling"])
    with pytest.raises(ValueError, match="'input_weights' needs input neurons"):
        spike_gradients(base, state, loss=good, n_spikes=10, parameters=["input_weights"])
    with pytest.raises(ValueError, match="gradient_growth does not take input spikes"):
        gradient_growth(net, state, n_spikes=100, lyapunov=False)
    with pytest.raises(ValueError, match="delays"):
        delayed = SparsePropNetwork("lif", base.weighted_connectivity(), drive=base.drive,
                                    tau=TAU, delay=0.001, input_connectivity=inputs)  # fmt: skip
        spike_gradients(delayed, state, loss=good, n_spikes=10, input_spikes=([0], [0.01]))
    # without input spikes, a network with input neurons has the gradient of the plain one
    plain = spike_gradients(base, state, loss=good + readout_mse([0.02], [[0.0]]), n_spikes=80,
                            readout=LeakyReadout([1, 2], [1.0, -1.0], 0.01))  # fmt: skip
    quiet = spike_gradients(net, state, loss=good + readout_mse([0.02], [[0.0]]), n_spikes=80,
                            readout=LeakyReadout([1, 2], [1.0, -1.0], 0.01))  # fmt: skip
    assert_array_equal(quiet.spike_indices, plain.spike_indices)
    assert_allclose(quiet.weights, plain.weights, rtol=1e-9, atol=1e-12)
    assert_allclose(quiet.drive, plain.drive, rtol=1e-9, atol=1e-12)
    assert_array_equal(quiet.input_weights, 0.0)
    # an input spike at the time of a free network spike: the order is not locally constant
    run = net.run(state, n_spikes=40)
    s = 20
    spiker = run.spike_indices[s]
    source = next(m for m in range(M_INPUTS) if spiker not in inputs.indices[3 * m : 3 * m + 3])
    tie = ([source], [run.spike_times[s]])
    assert_array_equal(net.run(state, n_spikes=40, input_spikes=tie).spike_indices[: s + 1],
                       run.spike_indices[: s + 1])  # fmt: skip
    with pytest.raises(RuntimeError, match=f"network spike {s} .* coincides with an input"):
        spike_gradients(net, state, loss=good, n_spikes=40, input_spikes=tie)


def _lifted_network(weights, drive, input_weights):
    """5 LIF neurons, 3 input neurons onto 0, 1, 2 (9 input synapses, mixed signs).

    Neurons 0 and 1 couple to each other through the (tiny) weights 0 and 4.
    """
    indptr, indices = [0, 4, 8, 9, 10, 11], [1, 2, 3, 4, 0, 2, 3, 4, 3, 4, 2]
    inputs = Connectivity([0, 3, 6, 9], [0, 1, 2] * 3, 5, input_weights)
    return SparsePropNetwork(
        "lif", Connectivity(indptr, indices, 5, weights), drive=drive, tau=TAU,
        input_connectivity=inputs,
    )  # fmt: skip


def test_input_gradients_neuron_lifted_then_pushed_back_at_one_instant():
    """Three input spikes at one time lift neurons 0 and 1 to threshold with a summed pulse
    of mixed-sign weights (neuron 2: its positive pulses alone would cross, their sum does
    not); the first of 0 and 1 to fire then hits the other, still at threshold, with a
    tiny inhibitory weight (or a zero one, as after a projection onto w <= 0), so that one
    fires ~1e-11 tau after the input instant. Its spike still follows the inputs for all
    nearby parameters: no tie error, and the gradient matches finite differences (the
    tiny weights one-sided from below, where the map is smooth)."""
    weights = np.array([-1e-12, -0.2, -0.15, -0.1, -1e-12, -0.1, -0.25, -0.2, -0.3, -0.2, -0.25])
    drive = np.array([0.25, 0.35, 0.3, 0.2, 0.28])
    input_weights = np.array([0.5, 0.45, 0.6, -0.1, -0.05, -0.5, 0.3, 0.35, 0.05])
    start_voltage = np.array([0.5, 0.45, 0.5, 0.2, 0.7])
    train = (np.tile([0, 1, 2], 3), np.repeat([0.001, 0.009, 0.021], 3))
    duration = 0.04
    net = _lifted_network(weights, drive, input_weights)
    state = net.initial_state(model_state=start_voltage)
    run = net.run(state, duration=duration, input_spikes=train)
    # neurons 0 and 1 fire at each input time (one of them just after it); 2 does not
    fired_at_input = run.spike_indices[np.isclose(run.spike_times, train[1][0], atol=1e-12)]
    assert_array_equal(np.sort(fired_at_input), [0, 1])
    late = run.spike_times[1] - train[1][0]
    assert 0 < late < 1e-9 * TAU
    coefficients = np.random.default_rng(4).standard_normal(5)

    def linear(indices, times, readout):
        d_times = coefficients[np.asarray(indices)]
        return float(d_times @ times), d_times, None

    loss = SpikeLoss(linear, name="linear")
    result = spike_gradients(
        net, state, loss=loss, duration=duration, input_spikes=train, checkpoint_every=3
    )
    assert_array_equal(result.spike_indices, run.spike_indices)

    def value(weights=weights, drive=drive, input_weights=input_weights):
        perturbed = _lifted_network(weights, drive, input_weights)
        start = perturbed.initial_state(model_state=start_voltage)
        moved = perturbed.run(start, duration=duration, input_spikes=train)
        _same_order(moved.spike_indices, run.spike_indices)
        return loss(moved.spike_indices, moved.spike_times)[0]

    def partials(function, base, scale):
        return np.array(
            [
                _richardson(lambda e, k=k: function(base + e * np.eye(base.size)[k]), scale[k])
                for k in range(base.size)
            ]
        )

    tiny = np.abs(weights) < 1e-9
    fd = {
        "drive": partials(lambda d: value(drive=d), drive, 0.1 * drive),
        "input_weights": partials(
            lambda w: value(input_weights=w), input_weights, 0.1 * np.abs(input_weights)
        ),
    }
    assert result.loss == pytest.approx(value(), rel=1e-12)
    for kind, reference in fd.items():
        error = _relative_error(getattr(result, kind), reference)
        assert error <= 1e-6, (kind, error)
    regular = np.flatnonzero(~tiny)

    def with_regular(regular_weights):
        full = weights.copy()
        full[regular] = regular_weights
        return value(weights=full)

    fd_weights = partials(with_regular, weights[regular], 0.1 * np.abs(weights[regular]))
    assert _relative_error(result.weights[regular], fd_weights) <= 1e-6
    # the tiny weights: one-sided from below, Richardson-extrapolated
    for k in np.flatnonzero(tiny):
        step = 1e-6
        shifted = [value(weights=weights - h * np.eye(weights.size)[k]) for h in (step, step / 2)]
        wide, narrow = (value() - shifted[0]) / step, (value() - shifted[1]) / (step / 2)
        assert result.weights[k] == pytest.approx(2 * narrow - wide, rel=1e-5)
    assert np.abs(result.weights[tiny]).min() > 1e-3  # the delayed spike time depends on them
    # a zero weight (rounding alone moves the neuron below threshold): the left limit
    zero = spike_gradients(
        _lifted_network(np.where(tiny, 0.0, weights), drive, input_weights),
        state, loss=loss, duration=duration, input_spikes=train,
    )  # fmt: skip
    assert_array_equal(zero.spike_indices, run.spike_indices)
    for kind in ("weights", "drive", "input_weights"):
        assert_allclose(getattr(zero, kind), getattr(result, kind), rtol=1e-6, atol=1e-9)


def test_default_segments_stay_short_enough_in_a_chaotic_network():
    """The default replay segment keeps engine and replay within the 1e-9 check.

    With one segment of N spikes, a chaotic theta network (N = 1000, K = 100) diverged
    past the check after about 2e4 spikes (benchmarks/results/sparseprop_gradients.md);
    the default is now N // 10 spikes per segment.
    """
    net = balanced_network(1000, 100, model="theta", rate=5.0, tau=TAU, seed=3)
    state = net.initial_state(seed=4)
    loss = spike_time_loss([0, 1], [0.01, 0.02])
    result = spike_gradients(net, state, loss=loss, n_spikes=40_000)
    assert result.replay_error < 1e-12
    assert np.all(np.isfinite(result.weights))
