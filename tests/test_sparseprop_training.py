"""Exact-gradient training of SparseProp networks (`neurosrnn.sparseprop.training`).

References: `spike_gradients` called directly (the bridge must reproduce it bit for
bit), central finite differences of the bridge's own primal, and an uninterrupted run
for the checkpoint resume.
"""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity
from neurosrnn.learning.optim import make_optimizer
from neurosrnn.sparseprop import (
    LeakyReadout,
    SparsePropNetwork,
    balanced_network,
    readout_mse,
    spike_gradients,
    spike_time_loss,
)
from neurosrnn.sparseprop.training import (
    exact_loss_function,
    network_parameters,
    train_exact,
    with_parameters,
)

jax = pytest.importorskip("jax")
jnp = jax.numpy


def _setup():
    """A small inhibitory theta network, a readout, and a spike-time + readout loss."""
    net = balanced_network(20, 4, model="theta", rate=10.0, memory_free=False, seed=3)
    state = net.initial_state(seed=4)
    rng = np.random.default_rng(0)
    readout = LeakyReadout([0, 2, 6, 8], rng.standard_normal((2, 4)), tau=0.02)
    loss = spike_time_loss([6, 8], [0.012, 0.015]) + readout_mse(
        [0.02, 0.045], [[0.5, -0.2], [0.1, 0.3]]
    )
    return net, state, readout, loss


def _control_task():
    """Three neurons of a theta network should move their first spike by 3-4 ms."""
    net = balanced_network(30, 5, model="theta", rate=10.0, memory_free=False, seed=3)
    state = net.initial_state(seed=4)
    run = net.run(state, duration=0.1)
    first = {n: run.spike_times[run.spike_indices == n][0] for n in (10, 1, 4)}
    loss = spike_time_loss([10, 1, 4], [first[10] + 0.003, first[1] - 0.004, first[4] + 0.003])
    return net, state, loss


def test_bridge_gradient_equals_spike_gradients_exactly_and_composes():
    net, state, readout, loss = _setup()
    names = ("weights", "drive", "readout_weights")
    theta = network_parameters(net, names, readout)
    theta["drive"] = theta["drive"] * np.linspace(0.9, 1.1, net.N)  # per-neuron drive
    function = exact_loss_function(net, state, loss, duration=0.05, readout=readout)
    value, gradient = jax.value_and_grad(function)(theta)

    moved, moved_readout = with_parameters(net, theta, readout)
    start = moved.initial_state(model_state=net.model_state(state))
    direct = spike_gradients(
        moved, start, loss=loss, duration=0.05, readout=moved_readout, parameters=names
    )
    assert float(value) == direct.loss
    for name in names:
        assert_array_equal(np.asarray(gradient[name]), getattr(direct, name))
        assert np.any(getattr(direct, name) != 0)
    # the primal (engine run only) gives the same loss
    assert float(function(theta)) == pytest.approx(direct.loss, rel=1e-12)

    # composed with a JAX-side L2 penalty, under jit
    strength = 0.3

    def objective(p):
        return function(p) + strength * jnp.sum(p["drive"] ** 2)

    total, composed = jax.jit(jax.value_and_grad(objective))(theta)
    assert float(total) == pytest.approx(direct.loss + strength * np.sum(theta["drive"] ** 2))
    assert_allclose(composed["drive"], direct.drive + 2 * strength * theta["drive"], rtol=1e-13)
    assert_array_equal(np.asarray(composed["weights"]), direct.weights)
    # a cotangent scales the pullback
    scaled = jax.grad(lambda p: -2.5 * function(p))(theta)
    assert_array_equal(np.asarray(scaled["weights"]), -2.5 * direct.weights)


def test_bridge_matches_finite_differences_of_its_primal():
    net, state, readout, loss = _setup()
    theta = network_parameters(net, ("weights", "drive"), readout)
    function = exact_loss_function(net, state, loss, duration=0.05, readout=readout)
    gradient = jax.grad(function)(theta)
    rng = np.random.default_rng(1)
    direction = {k: rng.standard_normal(v.shape) * np.abs(v) for k, v in theta.items()}
    predicted = sum(float(np.dot(gradient[k], direction[k])) for k in theta)

    def along(step):
        return float(function({k: theta[k] + step * direction[k] for k in theta}))

    h = 1e-6
    wide = (along(h) - along(-h)) / (2 * h)
    narrow = (along(h / 2) - along(-h / 2)) / h
    assert (4 * narrow - wide) / 3 == pytest.approx(predicted, rel=1e-6)


def test_with_parameters_keeps_what_is_not_replaced():
    net, state, readout, _ = _setup()
    same, same_readout = with_parameters(
        net, {"weights": network_parameters(net, ("weights",))["weights"]}
    )
    assert same_readout is None
    run, again = net.run(state, n_spikes=80), same.run(state, n_spikes=80)
    assert_array_equal(run.spike_indices, again.spike_indices)
    assert_allclose(run.spike_times, again.spike_times, rtol=1e-12)
    doubled, new_readout = with_parameters(
        net, {"drive": 2 * net.drive, "readout_weights": 3 * readout.weights}, readout
    )
    assert doubled.representation == "time"
    assert_array_equal(doubled.drive, 2 * net.drive)
    assert_array_equal(new_readout.weights, 3 * readout.weights)
    assert readout.weights is not new_readout.weights  # the original is untouched
    graph, new_graph = net.weighted_connectivity(), doubled.weighted_connectivity()
    assert_array_equal(graph.indices, new_graph.indices)
    assert_array_equal(graph.weights, new_graph.weights)


def test_train_exact_lowers_the_loss_of_a_control_task():
    net, state, loss = _control_task()
    result = train_exact(
        net, state, loss, steps=20, duration=0.1, optimizer=make_optimizer(2e-2), progress=False
    )
    history = result.history["loss"]
    assert len(history) == len(result.history["gradient_norm"]) == 20
    assert result.final_loss < 0.35 * history[0]
    assert np.all(result.parameters["drive"] > 0)
    assert_array_equal(result.network.drive, result.parameters["drive"])
    assert_array_equal(result.initial_parameters["drive"], net.drive)
    assert "20 steps of drive" in repr(result)


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    net, state, loss = _control_task()
    options = dict(duration=0.1, optimizer=make_optimizer(2e-2), progress=False)
    options["parameters"] = ("weights", "drive")
    whole = train_exact(net, state, loss, steps=6, **options)
    path = tmp_path / "training.npz"
    first = train_exact(net, state, loss, steps=3, checkpoint=path, **options)
    assert first.history["loss"] == whole.history["loss"][:3]
    resumed = train_exact(net, state, loss, steps=6, checkpoint=path, resume=True, **options)
    assert resumed.resumed_from_step == 3 and len(resumed.seconds) == 3
    assert resumed.history == whole.history
    for name in whole.parameters:
        assert_array_equal(resumed.parameters[name], whole.parameters[name])
    assert resumed.final_loss == whole.final_loss
    assert [p.name for p in tmp_path.iterdir()] == ["training.npz"]  # no stray temporaries

    # a checkpoint of another set-up, or with more steps than asked, is refused
    other = spike_time_loss([10], [0.05])
    with pytest.raises(ValueError, match="different"):
        train_exact(net, state, other, steps=6, checkpoint=path, resume=True, **options)
    with pytest.raises(ValueError, match="holds 6 steps"):
        train_exact(net, state, loss, steps=4, checkpoint=path, resume=True, **options)


def test_drive_is_projected_onto_drive_min():
    import optax

    net, state, loss = _control_task()
    late = spike_time_loss([10], [0.09])  # wants a much lower drive
    result = train_exact(
        net, state, late, steps=2, duration=0.1, optimizer=optax.sgd(1e6), drive_min=0.05,
        progress=False,
    )  # fmt: skip
    drive = result.parameters["drive"]
    assert drive[10] == 0.05 and np.all(drive >= 0.05)
    assert result.network.drive.min() == 0.05


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(steps=-1), "steps"),
        (dict(parameters=("tau",)), "subset"),
        (dict(parameters=()), "at least one"),
        (dict(parameters=("readout_weights",)), "readout"),
        (dict(optimizer="adam"), "optax"),
        (dict(drive_min=0.0), "drive_min"),
        (dict(drive_min=10.0), "smallest initial drive"),
        (dict(penalty=3.0), "penalty"),
        (dict(resume=True), "resume=True needs checkpoint"),
        (dict(duration=None), "stop condition"),
        (dict(duration=-0.1), "duration"),
        (dict(readout=[0, 1]), "LeakyReadout"),
    ],
)
def test_train_exact_rejects_bad_inputs(change, message):
    net, state, loss = _control_task()
    options = dict(steps=2, duration=0.1, progress=False)
    options.update(change)
    with pytest.raises(ValueError, match=message):
        train_exact(net, state, loss, **options)


def test_bad_networks_states_and_parameter_shapes():
    net, state, loss = _control_task()
    with pytest.raises(ValueError, match="SparsePropNetwork"):
        train_exact("net", state, loss, steps=1, duration=0.1)
    later = net.run(state, n_spikes=5).state
    with pytest.raises(ValueError, match="time 0"):
        exact_loss_function(net, later, loss, duration=0.1)
    delayed = balanced_network(30, 5, rate=10.0, memory_free=False, seed=3)
    delayed = type(net)("theta", delayed.connectivity, drive=0.2, tau=0.01, coupling=-0.4,
                        delay=0.001)  # fmt: skip
    with pytest.raises(ValueError, match="delays"):
        exact_loss_function(delayed, delayed.initial_state(seed=1), loss, duration=0.1)
    with pytest.raises(ValueError, match="SpikeLoss"):
        exact_loss_function(net, state, "loss", duration=0.1)
    function = exact_loss_function(net, state, loss, duration=0.1)
    with pytest.raises(ValueError, match=r"shape \(30,\)"):
        function({"drive": np.ones(3)})
    with pytest.raises(ValueError, match="dict"):
        function(np.ones(30))
    with pytest.raises(ValueError, match="> 0"):
        with_parameters(net, {"drive": np.full(30, -0.1)})
    with pytest.raises(ValueError, match="finite"):
        with_parameters(net, {"weights": np.full(150, np.nan)})


def test_importing_sparseprop_training_does_not_import_jax():
    code = (
        "import sys, neurosrnn.sparseprop, neurosrnn.sparseprop.training; "
        "print('jax' in sys.modules, 'optax' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.split() == ["False", "False"]


def _input_task(input_coupling=False):
    """An inhibitory LIF network (per-neuron drive) with 4 input neurons of mixed-sign
    weights, spike trains with tied input spikes (one summed pulse), a readout loss."""
    base = balanced_network(
        20, 4, model="lif", rate=10.0, heterogeneity=0.2, memory_free=False, seed=3
    )
    rng = np.random.default_rng(5)
    indptr = np.arange(0, 5 * 5, 5)
    indices = np.concatenate([np.sort(rng.choice(20, 5, replace=False)) for _ in range(4)])
    if input_coupling:
        inputs, options = (
            Connectivity(indptr, indices, 20),
            {"input_coupling": [0.3, -0.1, 0.2, 0.4]},
        )
    else:
        inputs, options = Connectivity(indptr, indices, 20, rng.uniform(-0.2, 0.5, 20)), {}
    net = SparsePropNetwork(
        "lif", base.weighted_connectivity(), drive=base.drive, tau=base.tau,
        representation="time", input_connectivity=inputs, **options,
    )  # fmt: skip
    state = net.initial_state(seed=4)
    times = np.array([0.004, 0.004, 0.004, 0.011, 0.018, 0.018, 0.026])
    train = (np.array([0, 1, 3, 2, 0, 2, 1]), times)
    readout = LeakyReadout(np.arange(20), rng.standard_normal((2, 20)), tau=0.01)
    loss = readout_mse([0.015, 0.022, 0.029], [[0.5, -0.2], [0.1, 0.3], [0.0, 0.2]])
    return net, state, train, loss, readout


def test_bridge_input_weights_equal_spike_gradients_and_train():
    net, state, train, loss, readout = _input_task()
    names = ("weights", "drive", "input_weights")
    theta = network_parameters(net, names)
    assert_array_equal(theta["input_weights"], net.input_connectivity.weights)
    theta["input_weights"] = theta["input_weights"] * np.linspace(0.9, 1.1, 20)
    function = exact_loss_function(
        net, state, loss, duration=0.03, readout=readout, input_spikes=train
    )
    value, gradient = jax.value_and_grad(function)(theta)

    moved, _ = with_parameters(net, theta)
    assert moved.n_inputs == 4
    assert_array_equal(moved.input_connectivity.weights, theta["input_weights"])
    start = moved.initial_state(model_state=net.model_state(state))
    run = moved.run(start, duration=0.03, input_spikes=train)
    assert run.n_input_spikes == 7 and np.any(np.isin(run.spike_times, train[1]))
    direct = spike_gradients(
        moved, start, loss=loss, duration=0.03, readout=readout, parameters=names,
        input_spikes=train,
    )  # fmt: skip
    assert float(value) == direct.loss
    for name in names:
        assert_array_equal(np.asarray(gradient[name]), getattr(direct, name))
    assert np.any(direct.input_weights != 0)
    # the primal runs the engine with the same input spikes
    assert float(function(theta)) == pytest.approx(direct.loss, rel=1e-12)
    # without the input spikes the loss is another one (they matter)
    silent = exact_loss_function(net, state, loss, duration=0.03, readout=readout)
    assert float(silent(theta)) != pytest.approx(direct.loss, rel=1e-6)

    result = train_exact(
        net, state, loss, steps=4, parameters=("input_weights",), duration=0.03,
        readout=readout, input_spikes=train, optimizer=make_optimizer(3e-3), progress=False,
    )  # fmt: skip
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.network.n_inputs == 4
    assert_array_equal(
        result.network.input_connectivity.weights, result.parameters["input_weights"]
    )
    assert_array_equal(
        result.network.weighted_connectivity().weights, net.weighted_connectivity().weights
    )


def test_input_coupling_network_and_input_errors():
    net, state, train, loss, readout = _input_task(input_coupling=True)
    theta = network_parameters(net, ("input_weights",))
    assert_array_equal(theta["input_weights"], np.repeat([0.3, -0.1, 0.2, 0.4], 5))
    kept, _ = with_parameters(net, {"drive": np.asarray(net.drive) * 1.01})
    assert_array_equal(kept.input_coupling, net.input_coupling)  # input neurons kept
    function = exact_loss_function(
        net, state, loss, duration=0.03, readout=readout, input_spikes=train
    )
    value, gradient = jax.value_and_grad(function)(theta)
    moved, _ = with_parameters(net, theta)  # a weighted input graph, the same weights
    start = moved.initial_state(model_state=net.model_state(state))
    direct = spike_gradients(
        moved, start, loss=loss, duration=0.03, readout=readout, parameters=("input_weights",),
        input_spikes=train,
    )  # fmt: skip
    assert float(value) == direct.loss
    assert_array_equal(np.asarray(gradient["input_weights"]), direct.input_weights)
    assert np.any(direct.input_weights != 0)

    plain, plain_state, plain_loss = _control_task()
    with pytest.raises(ValueError, match="'input_weights' needs input neurons"):
        network_parameters(plain, ("input_weights",))
    with pytest.raises(ValueError, match="'input_weights' needs input neurons"):
        train_exact(plain, plain_state, plain_loss, steps=1, duration=0.1,
                    parameters=("input_weights",))  # fmt: skip
    with pytest.raises(ValueError, match="this network has no input neurons"):
        exact_loss_function(plain, plain_state, plain_loss, duration=0.1, input_spikes=train)
    with pytest.raises(ValueError, match=r"n_inputs=4"):
        exact_loss_function(net, state, loss, duration=0.03, readout=readout,
                            input_spikes=([9], [0.01]))  # fmt: skip
    with pytest.raises(ValueError, match="InputSpikes"):
        exact_loss_function(net, state, loss, duration=0.03, readout=readout,
                            input_spikes=[1, 2, 3])  # fmt: skip
    with pytest.raises(ValueError, match=r"shape \(20,\)"):
        with_parameters(net, {"input_weights": np.ones(3)})
