"""Exact event-based gradients through the SparseProp engine (`neurosrnn.sparseprop.gradients`).

References: central finite differences through the engine (Richardson-extrapolated), an
independent JAX reverse-mode implementation (dense O(N)-per-spike event-driven
simulation), and the largest Lyapunov exponent of `lyapunov_spectrum`.
"""

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


# --------------------------------------------------------------------------- JAX reference


def _jax_loss_function(network, state, n_spikes, readout, loss_terms):
    """An independent loss of (dense weights, drive, readout weights) in JAX.

    Dense O(N)-per-spike event-driven simulation: at each step the neuron with the
    earliest threshold time fires (argmin), every neuron's phase is advanced to that time
    and its targets take the closed-form PTC.
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

    def loss(dense_weights, drive, readout_weights):
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

        _, (order, times) = jax.lax.scan(step, keys, None, length=n_spikes)
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
    truncated = spike_gradients(net, state, loss=loss, n_spikes=n_spikes, window_spikes=window)
    direct = spike_gradients(net, split.state, loss=loss, n_spikes=window)
    assert truncated.window_start == n_spikes - window
    assert_allclose(truncated.spike_times[-window:], direct.spike_times, rtol=0, atol=1e-15)
    scale = np.abs(direct.weights).max()
    assert_allclose(truncated.weights, direct.weights, rtol=0, atol=1e-10 * scale)
    assert_allclose(truncated.drive, direct.drive, rtol=0, atol=1e-10 * np.abs(direct.drive).max())
    # the memory never holds K floats per spike of the run
    assert truncated.memory_bytes < n_spikes * (12 + 8) + 8 * net.N * 20


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
    with pytest.raises(RuntimeError, match="diverged from the engine at spike 5"):
        spike_gradients(net, state, loss=loss, n_spikes=50)
