"""Training SparseProp networks with exact event-based gradients: a JAX bridge and a loop.

`exact_loss_function` turns a network, a start state and a `SpikeLoss` into a JAX
function of a parameter dictionary,

.. math:: \\mathcal L(\\theta), \\qquad \\theta = \\{w_k,\\ I_i,\\ W_{cj},\\ v_l\\},

(``"weights"``: one weight per synapse in the CSR order of
``network.weighted_connectivity()``; ``"drive"``: one drive per neuron;
``"readout_weights"``: the `LeakyReadout` matrix; ``"input_weights"``: one weight per
input synapse in the CSR order of ``network.input_connectivity``, for a network with
input neurons driven by the fixed spike trains ``input_spikes``). It is a
`jax.custom_vjp` function: its forward pass runs the exact engine on the host
(`jax.pure_callback`), its backward pass returns the exact adjoint gradient of
`spike_gradients` times the cotangent, so ``jax.grad`` and ``jax.value_and_grad`` of
any JAX expression that composes it (a penalty, a sum of several runs) are exact
wherever the spike order is locally constant
(Wunderlich & Pehle 2021; Engelken 2023). The loss is piecewise smooth: it jumps where
two spikes swap order or a neuron gains or loses a spike, and the gradient does not see
those jumps.

`train_exact` trains such a dictionary with an optax optimiser (default
`neurosrnn.learning.optim.make_optimizer`). Every step rebuilds the network with the
current parameters (`with_parameters`) and restarts from the same model-form state
(theta angles or LIF voltages of `state`, at time 0), the convention under which
`spike_gradients` differentiates the drive. Drives stay suprathreshold by projection:
after every update :math:`I_i \\leftarrow \\max(I_i, I_{min})` (``drive_min``), as the
SRNN trainer projects its time constants. Checkpoints are exact: a resumed run gives a
bit-identical history.

JAX is imported inside the functions of this module only, and `neurosrnn.sparseprop`
does not import this module: ``import neurosrnn.sparseprop`` stays free of JAX.

References
----------
Wunderlich T. C., Pehle C. (2021) Event-based backpropagation can compute exact
gradients for spiking neural networks. Sci. Rep. 11:12829.
Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import zipfile
from dataclasses import dataclass

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.connectivity import Connectivity
from neurosrnn.progress import progress_bar
from neurosrnn.sparseprop.engine import InputSpikes, SparsePropNetwork, SparsePropState
from neurosrnn.sparseprop.gradients import (
    LeakyReadout,
    SpikeLoss,
    check_supported_network,
    checked_input_spikes,
    spike_gradients,
)
from neurosrnn.units import to_seconds
from neurosrnn.validation import check_int

__all__ = [
    "TRAINABLE",
    "ExactTrainingResult",
    "network_parameters",
    "with_parameters",
    "exact_loss_function",
    "train_exact",
]

#: Parameter names the bridge and the trainer know.
TRAINABLE = ("weights", "drive", "readout_weights", "input_weights")
_CHECKPOINT_FORMAT = "neurosrnn.ExactTrainingState/1"


# --------------------------------------------------------------------------- parameters


def _checked_names(names, readout, network):
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        raise ValueError(f"parameters must name at least one of {TRAINABLE}")
    for name in names:
        if name not in TRAINABLE:
            raise ValueError(f"parameters must be a subset of {TRAINABLE}, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"parameters must be distinct, got {names}")
    if "readout_weights" in names and readout is None:
        raise ValueError("parameters: 'readout_weights' needs readout=LeakyReadout(...)")
    if "input_weights" in names and network.input_connectivity is None:
        raise ValueError(
            "parameters: 'input_weights' needs input neurons (a network built with "
            "input_connectivity=)"
        )
    return names


def _input_weights(network):
    """The per-synapse input weights (CSR order of ``network.input_connectivity``)."""
    graph = network.input_connectivity
    if graph.weights is not None:
        return np.array(graph.weights, dtype=float)
    return np.repeat(network.input_coupling, np.diff(graph.indptr)).astype(float)


def _shapes(network, readout):
    n_synapses = int(network.weighted_connectivity().indices.size)
    shapes = {"weights": (n_synapses,), "drive": (network.N,)}
    if readout is not None:
        shapes["readout_weights"] = tuple(readout.weights.shape)
    if network.input_connectivity is not None:
        shapes["input_weights"] = (int(network.input_connectivity.indices.size),)
    return shapes


def network_parameters(network, parameters=("drive",), readout=None):
    """The current values of trainable parameters, as a dictionary of float64 arrays.

    Parameters
    ----------
    network : SparsePropNetwork
    parameters : sequence of str
        Subset of ``("weights", "drive", "readout_weights", "input_weights")``.
    readout : LeakyReadout, optional
        Needed for ``"readout_weights"``.

    Returns
    -------
    dict of str to ndarray
        ``"weights"``: shape (n_synapses,), CSR order of
        ``network.weighted_connectivity()``; ``"drive"``: shape (N,);
        ``"readout_weights"``: shape (n_out, n_in); ``"input_weights"`` (network with
        input neurons): shape (n_input_synapses,), CSR order of
        ``network.input_connectivity`` (``input_coupling`` repeated per synapse when
        the input graph is unweighted). Copies.

    Examples
    --------
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(20, 4, rate=5.0, memory_free=False)
    >>> {k: v.shape for k, v in network_parameters(net, ("weights", "drive")).items()}
    {'weights': (80,), 'drive': (20,)}
    """
    check_supported_network(network)
    names = _checked_names(parameters, readout, network)
    values = {}
    for name in names:
        if name == "weights":
            values[name] = np.array(network.weighted_connectivity().weights, dtype=float)
        elif name == "drive":
            values[name] = np.array(network.drive, dtype=float)
        elif name == "input_weights":
            values[name] = _input_weights(network)
        else:
            values[name] = np.array(readout.weights, dtype=float)
    return values


def with_parameters(network, parameters, readout=None):
    """The network (and readout) with some parameters replaced.

    Parameters
    ----------
    network : SparsePropNetwork
    parameters : dict
        Any of ``"weights"`` (CSR order of ``network.weighted_connectivity()``),
        ``"drive"`` (> 0, one per neuron), ``"readout_weights"`` and ``"input_weights"``
        (CSR order of ``network.input_connectivity``); arrays of any kind (numpy, JAX).
    readout : LeakyReadout, optional

    Returns
    -------
    (SparsePropNetwork, LeakyReadout or None)
        A new network: new weights give a stored weighted graph (a memory-free graph
        is materialised), a new drive the time representation, new input weights a
        weighted input graph; otherwise the graph, coupling, input neurons and
        representation are kept. The readout is a new one with the new weights, or
        `readout` itself.

    Raises
    ------
    ValueError
        Unknown names, wrong shapes, non-finite values, a drive that is not > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(20, 4, rate=5.0, memory_free=False)
    >>> new, _ = with_parameters(net, {"drive": np.linspace(0.1, 0.2, 20)})
    >>> new.representation, float(new.drive[-1])
    ('time', 0.2)
    """
    check_supported_network(network)
    if not isinstance(parameters, dict):
        raise ValueError(f"parameters must be a dict, got {type(parameters).__name__}")
    _checked_names(tuple(parameters), readout, network)
    shapes = _shapes(network, readout)
    values = {}
    for name, value in parameters.items():
        array = np.array(value, dtype=float)
        if array.shape != shapes[name]:
            raise ValueError(
                f"parameters[{name!r}] must have shape {shapes[name]}, got {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"parameters[{name!r}] must be finite")
        values[name] = array
    if "drive" in values and np.any(values["drive"] <= 0):
        raise ValueError(
            f"parameters['drive'] must be > 0 (suprathreshold) for every neuron; the "
            f"smallest is {values['drive'].min()!r}"
        )
    if "weights" in values:
        graph = network.weighted_connectivity()
        connectivity = Connectivity(graph.indptr, graph.indices, graph.N_post, values["weights"])
        coupling = None
    else:
        connectivity, coupling = network.connectivity, network.coupling
    inputs, input_coupling = network.input_connectivity, network.input_coupling
    if "input_weights" in values:
        inputs = Connectivity(inputs.indptr, inputs.indices, inputs.N_post, values["input_weights"])
        input_coupling = None
    drive = values.get("drive", network.drive)
    representation = "time" if "drive" in values else network.representation
    rebuilt = SparsePropNetwork(
        network.model,
        connectivity,
        drive=drive,
        tau=network.tau,
        coupling=coupling,
        representation=representation,
        input_connectivity=inputs,
        input_coupling=input_coupling,
    )
    if "readout_weights" in values:
        readout = LeakyReadout(readout.neurons, values["readout_weights"], readout.tau)
    return rebuilt, readout


# --------------------------------------------------------------------------- JAX bridge


@dataclass(frozen=True)
class _Setup:
    """What one evaluation needs besides the parameters (validated once)."""

    network: SparsePropNetwork
    model_state: np.ndarray
    loss: SpikeLoss
    readout: LeakyReadout | None
    n_spikes: int | None
    duration: float | None
    window: float | None
    window_spikes: int | None
    checkpoint_every: int | None
    input_spikes: InputSpikes | None = None

    def build(self, values):
        network, readout = with_parameters(self.network, values, self.readout)
        return network, readout, network.initial_state(model_state=self.model_state)

    def value(self, values):
        """The loss of one engine run (no gradient)."""
        network, readout, state = self.build(values)
        run = network.run(
            state, n_spikes=self.n_spikes, duration=self.duration, record_spikes=True,
            progress=False, input_spikes=self.input_spikes,
        )  # fmt: skip
        signal = None
        if self.loss.readout_times is not None:
            if readout is None:
                raise ValueError(f"the loss {self.loss.name} reads a readout: give readout=")
            signal = readout.values(run.spike_indices, run.spike_times, self.loss.readout_times)
        return float(self.loss(run.spike_indices, run.spike_times, signal)[0])

    def gradient(self, values):
        """The loss and its exact gradient for the parameters in `values`."""
        network, readout, state = self.build(values)
        result = spike_gradients(
            network,
            state,
            loss=self.loss,
            n_spikes=self.n_spikes,
            duration=self.duration,
            readout=readout,
            parameters=tuple(values),
            window=self.window,
            window_spikes=self.window_spikes,
            checkpoint_every=self.checkpoint_every,
            input_spikes=self.input_spikes,
        )
        return result.loss, {name: np.asarray(getattr(result, name)) for name in values}


def _setup(
    network, state, loss, n_spikes, duration, readout, window, window_spikes, every,
    input_spikes=None,
):  # fmt: skip
    check_supported_network(network)
    if not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    if state.time_seconds != 0.0:
        raise ValueError(
            "state must be at time 0 (every evaluation restarts from its model-form state "
            f"at time 0), got a state at {state.time_seconds!r} s"
        )
    if input_spikes is not None:
        input_spikes = checked_input_spikes(network, input_spikes, state)
    if not isinstance(loss, SpikeLoss):
        raise ValueError(f"loss must be a SpikeLoss, got {type(loss).__name__}")
    if readout is not None and not isinstance(readout, LeakyReadout):
        raise ValueError(f"readout must be a LeakyReadout, got {type(readout).__name__}")
    if loss.readout_times is not None and readout is None:
        raise ValueError(f"the loss {loss.name} reads a readout: give readout=LeakyReadout(...)")
    if n_spikes is None and duration is None:
        raise ValueError("give a stop condition: n_spikes and/or duration")
    if n_spikes is not None:
        n_spikes = check_int(n_spikes, "n_spikes", minimum=1)
    if duration is not None:
        duration = to_seconds(duration, "duration", positive=True)
    if window is not None:
        window = to_seconds(window, "window", positive=True)
    if window_spikes is not None:
        window_spikes = check_int(window_spikes, "window_spikes", minimum=1)
    if every is not None:
        every = check_int(every, "checkpoint_every", minimum=1)
    model_state = np.array(network.model_state(state), dtype=float)
    return _Setup(
        network, model_state, loss, readout, n_spikes, duration, window, window_spikes, every,
        input_spikes,
    )  # fmt: skip


def _enable_x64():
    import jax

    jax.config.update("jax_enable_x64", True)


def _bridge(setup):
    """The `jax.custom_vjp` loss of a set-up: host forward, exact adjoint backward."""
    import jax
    import jax.numpy as jnp

    _enable_x64()
    shapes = _shapes(setup.network, setup.readout)
    scalar = jax.ShapeDtypeStruct((), jnp.float64)

    def host_value(values):
        return np.float64(setup.value({k: np.asarray(v) for k, v in values.items()}))

    def host_gradient(values):
        value, gradient = setup.gradient({k: np.asarray(v) for k, v in values.items()})
        return np.float64(value), {k: np.asarray(v, dtype=np.float64) for k, v in gradient.items()}

    def structure(values):
        return {k: jax.ShapeDtypeStruct(shapes[k], jnp.float64) for k in values}

    @jax.custom_vjp
    def loss_of(values):
        return jax.pure_callback(host_value, scalar, values)

    def forward(values):
        value, gradient = jax.pure_callback(host_gradient, (scalar, structure(values)), values)
        return value, gradient

    def backward(gradient, cotangent):
        return ({k: cotangent * g for k, g in gradient.items()},)

    loss_of.defvjp(forward, backward)

    def function(parameters):
        if not isinstance(parameters, dict):
            raise ValueError(f"parameters must be a dict, got {type(parameters).__name__}")
        _checked_names(tuple(parameters), setup.readout, setup.network)
        values = {}
        for name in sorted(parameters):
            value = jnp.asarray(parameters[name], dtype=jnp.float64)
            if value.shape != shapes[name]:
                raise ValueError(
                    f"parameters[{name!r}] must have shape {shapes[name]}, got {value.shape}"
                )
            values[name] = value
        return loss_of(values)

    return function


def exact_loss_function(
    network,
    state,
    loss,
    *,
    n_spikes=None,
    duration=None,
    readout=None,
    window=None,
    window_spikes=None,
    checkpoint_every=None,
    input_spikes=None,
):
    """A JAX function ``parameters -> loss`` whose gradient is the exact adjoint gradient.

    The returned function maps a dictionary :math:`\\theta` with keys among
    ``"weights"``, ``"drive"``, ``"readout_weights"`` and ``"input_weights"`` (see
    `network_parameters`) to
    the scalar loss of the run of ``with_parameters(network, theta)`` from the
    model-form state of `state` at time 0. It is a `jax.custom_vjp` function whose
    primal runs the engine through `jax.pure_callback` and whose pullback is

    .. math:: \\bar\\theta = \\bar{\\mathcal L}\\, \\nabla_\\theta \\mathcal L,

    with :math:`\\nabla_\\theta \\mathcal L` from `spike_gradients` (computed, together
    with the loss, in the forward pass of ``jax.grad`` / ``jax.value_and_grad``).
    It composes with JAX code (penalties, sums over runs, ``jax.jit``); it cannot be
    ``vmap``-ed or differentiated twice. JAX is switched to 64-bit floats.

    Parameters
    ----------
    network : SparsePropNetwork
        Theta or LIF, no delays or refractoriness; input neurons allowed.
    state : SparsePropState
        Start state at time 0 (its theta angles or LIF voltages are kept when the drive
        changes).
    loss : SpikeLoss
    n_spikes, duration, readout, window, window_spikes, checkpoint_every, input_spikes
        As for `spike_gradients` (`input_spikes`: the fixed spike trains of the input
        neurons, an `InputSpikes` or ``(indices, times)``, the same in every run).

    Returns
    -------
    callable
        ``function(parameters) -> jax scalar`` (float64).

    Raises
    ------
    ValueError
        Unsupported network, a state not at time 0, a missing stop condition or
        readout; when called, unknown names or wrong shapes (errors of the run itself,
        such as a loss neuron that did not fire, surface as JAX runtime errors).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from neurosrnn.sparseprop import balanced_network, spike_time_loss
    >>> net = balanced_network(30, 5, rate=5.0, memory_free=False)
    >>> state = net.initial_state(seed=1)
    >>> f = exact_loss_function(net, state, spike_time_loss([0], [0.05]), n_spikes=100)
    >>> theta = network_parameters(net, ("drive",))
    >>> value, grad = jax.value_and_grad(lambda p: f(p) + 1e-3 * jnp.sum(p["drive"] ** 2))(theta)
    >>> grad["drive"].shape
    (30,)
    """
    setup = _setup(
        network, state, loss, n_spikes, duration, readout, window, window_spikes,
        checkpoint_every, input_spikes,
    )  # fmt: skip
    return _bridge(setup)


# --------------------------------------------------------------------------- training


@dataclass(repr=False)
class ExactTrainingResult:
    """Outcome of `train_exact`.

    Attributes
    ----------
    parameters : dict of str to ndarray
        Trained values (after the last update and projection).
    initial_parameters : dict of str to ndarray
    history : dict
        ``"loss"``: the objective (loss plus penalty) before each step's update;
        ``"gradient_norm"``: the global L2 norm of its gradient. Bit-identical between
        an uninterrupted and a resumed run.
    final_loss : float
        The loss (without penalty) of the trained parameters.
    network : SparsePropNetwork
        The network with the trained parameters (`with_parameters`).
    readout : LeakyReadout or None
    seconds : list of float
        Wall time of each step of this call (not checkpointed).
    resumed_from_step : int
        Steps restored from the checkpoint (0 for a fresh run).
    """

    parameters: dict
    initial_parameters: dict
    history: dict
    final_loss: float
    network: SparsePropNetwork
    readout: LeakyReadout | None
    seconds: list
    resumed_from_step: int

    def __repr__(self):
        steps = len(self.history["loss"])
        first = self.history["loss"][0] if steps else float("nan")
        return (
            f"<ExactTrainingResult {steps} steps of {', '.join(self.parameters)}: loss "
            f"{first:.6g} -> {self.final_loss:.6g}>"
        )


def _check_optimizer(optimizer):
    if optimizer is None:
        from neurosrnn.learning.optim import make_optimizer

        return make_optimizer(1e-3)
    if not (
        callable(getattr(optimizer, "init", None)) and callable(getattr(optimizer, "update", None))
    ):
        raise ValueError(
            "optimizer must be an optax GradientTransformation (e.g. "
            f"neurosrnn.learning.optim.make_optimizer(...)), got {type(optimizer).__name__}"
        )
    return optimizer


def _digest(arrays):
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def _fingerprint(setup, initial, drive_min, penalty):
    """Digests of what a resume must not change; the loss is a function, so its value at
    the initial parameters (one engine run) stands for it, next to its name and neurons."""
    network = setup.network
    graph = network.weighted_connectivity()
    readout = setup.readout
    options = {
        "model": network.model.name,
        "tau": network.tau,
        "n_spikes": setup.n_spikes,
        "duration": setup.duration,
        "window": setup.window,
        "window_spikes": setup.window_spikes,
        "checkpoint_every": setup.checkpoint_every,
        "drive_min": drive_min,
        "loss": setup.loss.name,
        "loss at the initial parameters": setup.value(initial).hex(),
        "penalty": None if penalty is None else getattr(penalty, "__name__", "penalty"),
        "parameters": sorted(initial),
    }
    arrays = [graph.indptr, graph.indices, graph.weights, network.drive, setup.model_state]
    if network.input_connectivity is not None:
        inputs = network.input_connectivity
        arrays += [inputs.indptr, inputs.indices, _input_weights(network)]
    if setup.input_spikes is not None:
        arrays += [setup.input_spikes.indices, setup.input_spikes.times]
    arrays.append(np.asarray(setup.loss.neurons))
    if setup.loss.readout_times is not None:
        arrays.append(setup.loss.readout_times)
    if readout is not None:
        arrays += [readout.neurons, readout.weights, np.array(readout.tau)]
    return {
        "options": hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest(),
        "network and loss": _digest(arrays),
        "initial parameters": _digest([initial[k] for k in sorted(initial)]),
    }


def _save(path, params, opt_state, history, fingerprint):
    import jax

    arrays = {
        "format": np.array(_CHECKPOINT_FORMAT),
        "fingerprint": np.array(json.dumps(fingerprint, sort_keys=True)),
        "history": np.array(json.dumps(history)),
        "steps_done": np.array(len(history["loss"])),
    }
    for name in sorted(params):
        arrays[f"params/{name}"] = np.asarray(params[name])
    for i, leaf in enumerate(jax.tree_util.tree_leaves(opt_state)):
        arrays[f"opt/{i:05d}"] = np.asarray(leaf)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


def _load(path, fingerprint, steps, params_template, opt_template):
    import jax
    import jax.numpy as jnp

    try:
        with np.load(path, allow_pickle=False) as arrays:
            if "format" not in arrays.files or str(arrays["format"][()]) != _CHECKPOINT_FORMAT:
                raise ValueError(f"{path!r} is not an exact-training checkpoint")
            stored = json.loads(str(arrays["fingerprint"][()]))
            changed = [part for part in fingerprint if stored.get(part) != fingerprint[part]]
            if changed:
                raise ValueError(
                    f"cannot resume from {path!r}: it was written for a different "
                    f"{', '.join(changed)}; use resume=False or another checkpoint"
                )
            done = int(arrays["steps_done"])
            if done > steps:
                raise ValueError(f"checkpoint {path!r} holds {done} steps, more than steps={steps}")
            params = {name: jnp.asarray(arrays[f"params/{name}"]) for name in params_template}
            leaves, treedef = jax.tree_util.tree_flatten(opt_template)
            names = sorted(n for n in arrays.files if n.startswith("opt/"))
            if len(names) != len(leaves):
                raise ValueError(
                    f"checkpoint {path!r} holds {len(names)} optimiser arrays, the optimiser "
                    f"has {len(leaves)}: resume with the same optimizer"
                )
            restored = []
            for name, leaf in zip(names, leaves, strict=True):
                value, leaf = arrays[name], np.asarray(leaf)
                if value.shape != leaf.shape or value.dtype != leaf.dtype:
                    raise ValueError(
                        f"checkpoint {path!r}: optimiser array {name} has shape {value.shape} "
                        f"and dtype {value.dtype}, the optimiser {leaf.shape} and {leaf.dtype}"
                    )
                restored.append(jnp.asarray(value))
            opt_state = jax.tree_util.tree_unflatten(treedef, restored)
            history = json.loads(str(arrays["history"][()]))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read exact-training checkpoint {path!r}: {error}") from None
    return params, opt_state, history, done


def train_exact(
    network,
    state,
    loss,
    *,
    steps,
    parameters=("drive",),
    optimizer=None,
    n_spikes=None,
    duration=None,
    readout=None,
    window=None,
    window_spikes=None,
    checkpoint_every=None,
    penalty=None,
    drive_min=1e-3,
    checkpoint=None,
    resume=False,
    progress=None,
    input_spikes=None,
):
    """Train weights, drives, readout or input weights by gradient descent on exact
    gradients.

    Each step evaluates the objective :math:`J(\\theta) = \\mathcal L(\\theta) +
    P(\\theta)` and its gradient with ``jax.value_and_grad`` through
    `exact_loss_function` (loss and gradient from one engine run and one adjoint sweep),
    applies the optax update, and projects the drive,

    .. math:: \\theta \\leftarrow \\theta + \\mathrm{opt}(\\nabla_\\theta J), \\qquad
        I_i \\leftarrow \\max(I_i, I_{min}),

    so every drive stays suprathreshold. The run of every step starts from the
    model-form state of `state` at time 0.

    Parameters
    ----------
    network : SparsePropNetwork
        Theta or LIF, no delays or refractoriness; input neurons allowed.
    state : SparsePropState
        Start state at time 0.
    loss : SpikeLoss
    steps : int
        Total number of optimisation steps (>= 0; with `resume`, including those done).
    parameters : sequence of str
        Trained subset of ``("weights", "drive", "readout_weights", "input_weights")``.
    optimizer : optax.GradientTransformation, optional
        Default ``make_optimizer(1e-3)`` (Adam). In large chaotic networks prefer plain
        gradient steps (``optax.sgd``, with momentum): Adam's per-coordinate steps move
        every parameter by about the learning rate, a random kick to a chaotic network,
        and the loss rose in the 10^4-neuron control experiment
        (``experiments/results/sparseprop_control.md``).
    n_spikes, duration, readout, window, window_spikes, checkpoint_every
        As for `spike_gradients` (`window` truncates the adjoint in chaotic networks).
    penalty : callable, optional
        ``penalty(parameters) -> JAX scalar`` added to the loss (differentiated by JAX).
    drive_min : float
        Lower bound of the projected drive (> 0).
    checkpoint : str or os.PathLike, optional
        An ``.npz`` file holding the complete training state (parameters, optimiser
        state, history), written atomically after every step
        (`neurosrnn.atomic.atomic_write`).
    resume : bool
        Continue from `checkpoint` if it exists (it must belong to the same set-up:
        network, state, options, initial parameters, and a loss of the same name,
        neurons and value at the initial parameters, which costs one engine run).
    progress : bool or None
        Progress bar (`neurosrnn.progress.progress_bar`).
    input_spikes : InputSpikes or (indices, times), optional
        Fixed spike trains of the input neurons (network with input neurons), delivered
        in every run (as for `spike_gradients`).

    Returns
    -------
    ExactTrainingResult

    Raises
    ------
    ValueError
        Any invalid argument, a checkpoint of another set-up; all before any run.

    Examples
    --------
    >>> from neurosrnn.learning.optim import make_optimizer
    >>> from neurosrnn.sparseprop import balanced_network, spike_time_loss
    >>> net = balanced_network(30, 5, rate=5.0, memory_free=False)
    >>> state = net.initial_state(seed=1)
    >>> result = train_exact(net, state, spike_time_loss([0], [0.02]), steps=5,
    ...                      n_spikes=60, optimizer=make_optimizer(1e-2), progress=False)
    >>> result.history["loss"][-1] < result.history["loss"][0]
    True
    """
    import jax
    import optax

    steps = check_int(steps, "steps", minimum=0)
    if not isinstance(network, SparsePropNetwork):
        raise ValueError(f"network must be a SparsePropNetwork, got {type(network).__name__}")
    names = _checked_names(parameters, readout, network)
    optimizer = _check_optimizer(optimizer)
    try:
        drive_min = float(drive_min)
    except (TypeError, ValueError):
        raise ValueError(f"drive_min must be a number > 0, got {drive_min!r}") from None
    if not (math.isfinite(drive_min) and drive_min > 0):
        raise ValueError(f"drive_min must be finite and > 0, got {drive_min!r}")
    if penalty is not None and not callable(penalty):
        raise ValueError(f"penalty must be callable, got {type(penalty).__name__}")
    if not isinstance(resume, bool):
        raise ValueError(f"resume must be True or False, got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<file> to resume from")
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
        if os.path.isdir(checkpoint):
            raise ValueError(f"checkpoint must be a file name, got the folder {checkpoint!r}")
    setup = _setup(
        network, state, loss, n_spikes, duration, readout, window, window_spikes,
        checkpoint_every, input_spikes,
    )  # fmt: skip
    initial = network_parameters(network, names, readout)
    if "drive" in initial and np.any(initial["drive"] < drive_min):
        raise ValueError(
            f"drive_min ({drive_min!r}) is above the smallest initial drive "
            f"({initial['drive'].min()!r})"
        )
    function = _bridge(setup)

    def objective(values):
        value = function(values)
        return value if penalty is None else value + penalty(values)

    value_and_grad = jax.value_and_grad(objective)
    fingerprint = None if checkpoint is None else _fingerprint(setup, initial, drive_min, penalty)
    params = {k: jax.numpy.asarray(v) for k, v in initial.items()}
    opt_state = optimizer.init(params)
    history = {"loss": [], "gradient_norm": []}
    done = 0
    if resume and os.path.exists(checkpoint):
        params, opt_state, history, done = _load(checkpoint, fingerprint, steps, params, opt_state)
    seconds = []
    with progress_bar(
        total=steps - done, label="exact training", unit="steps", progress=progress
    ) as bar:
        for _ in range(done, steps):
            started = time.perf_counter()
            value, gradient = value_and_grad(params)
            norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in gradient.values()))
            updates, opt_state = optimizer.update(gradient, opt_state, params)
            params = optax.apply_updates(params, updates)
            if "drive" in params:
                params["drive"] = jax.numpy.maximum(params["drive"], drive_min)
            history["loss"].append(float(value))
            history["gradient_norm"].append(norm)
            if checkpoint is not None:
                _save(checkpoint, params, opt_state, history, fingerprint)
            seconds.append(time.perf_counter() - started)
            bar.update(1)
            bar.set_postfix_str(f"loss {float(value):.4g}")
    trained = {k: np.array(v, dtype=float) for k, v in params.items()}
    final_loss = setup.value(trained)
    trained_network, trained_readout = with_parameters(network, trained, readout)
    return ExactTrainingResult(
        parameters=trained,
        initial_parameters=initial,
        history=history,
        final_loss=final_loss,
        network=trained_network,
        readout=trained_readout,
        seconds=seconds,
        resumed_from_step=done,
    )
