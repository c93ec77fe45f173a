"""The SRNN architecture as Brian2 objects: input -> recurrent ALIF layers -> readout.

Yin, Corradi & Bohte (2021), Nat. Mach. Intell. 3:905-913, train spiking recurrent
networks (SRNNs) of adaptive LIF neurons (`neurosrnn.models.alif.alif`) in discrete
time. Layer :math:`l` receives

.. math::

    I^{(l)}_t = W^{(l)}_{ff}\\, s^{(l-1)}_t + W^{(l)}_{rec}\\, s^{(l)}_{t-1} + \\mathrm{bias}^{(l)},

with :math:`s^{(-1)}_t = x_t` the input and :math:`W^{(0)}_{ff} = W_{in}`, and a
non-spiking leaky-integrator readout integrates the last layer's spikes of the same
step,

.. math::

    m_t = \\alpha_o m_{t-1} + (1 - \\alpha_o) R_m (W_o s^{(L-1)}_t + \\mathrm{bias}_o),
    \\qquad \\alpha_o = e^{-\\Delta t/\\tau_{out}}.

`srnn_network` builds this network so that Brian2 reproduces the discrete map to
rounding error. The input projection :math:`W_{in} x_t + \\mathrm{bias}` is
computed once with numpy and held over each step through a `brian2.TimedArray`;
recurrent and feed-forward spikes add to a held synaptic current that drives the
*next* Brian2 step. Every projection therefore adds one step of latency: layer
:math:`l` at Brian2 step :math:`k` is the map's step :math:`k - l`, and the
readout at step :math:`k` is the map's step :math:`k - L`. Deeper layers and the
readout start from a pre-compensated state (the initial state propagated back
through the extra bias-driven decay steps), so after their latency they sit
exactly at the map's initial state. The accessors of `SRNNNetwork` undo the
shifts.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from brian2 import (
    Equations,
    Network,
    NeuronGroup,
    Quantity,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    second,
)
from brian2.units.fundamentalunits import fail_for_dimension_mismatch

from ._base import check_positive_int
from .alif import ZERO_SYNAPTIC_CURRENT, alif

__all__ = ["srnn_network", "SRNNNetwork", "READOUT_EQUATIONS"]

#: Equations of the leaky-integrator readout (held currents, exact integration).
READOUT_EQUATIONS = Equations(
    """
    dm/dt = (-m + R_m*(I_ext + I_synaptic))/tau_out : 1
    tau_out : second (constant)
    R_m : 1 (constant)
    I_ext : 1 (constant)
    I_synaptic : 1
    """
)

_INPUT_TABLE_NAME = "srnn_input_currents"


class SRNNNetwork:
    """Brian2 objects of an SRNN built by `srnn_network`.

    Attributes
    ----------
    network : brian2.Network
        Every object below.
    layers : list of brian2.NeuronGroup
        The recurrent ALIF layers (model `neurosrnn.models.alif.alif`).
    readout : brian2.NeuronGroup
        Leaky-integrator readout (variable ``m``).
    input_table : brian2.TimedArray
        Held input current :math:`W_{in} x_t` of layer 0 (its bias is the layer's
        ``I_ext``), shape ``(n_steps + n_layers, layer_sizes[0])``; the last
        ``n_layers`` rows, used only during the latency steps, are zero.
    recurrent_synapses : list of brian2.Synapses or None
        One per layer (None where the layer has no recurrent weights).
    feedforward_synapses : list of brian2.Synapses
        Layer ``l`` -> layer ``l + 1``.
    readout_synapses : brian2.Synapses
        Last layer -> readout.
    spike_monitors : list of brian2.SpikeMonitor
    membrane_monitors : list of brian2.StateMonitor or None
        ``v`` recorded before thresholds (the map's :math:`u_t`).
    readout_monitor : brian2.StateMonitor
        ``m`` after the update of each step.
    dt : brian2 quantity
        Time step (one SRNN step).
    n_steps : int
        Number of input steps ``T``.
    """

    def __init__(
        self,
        network,
        layers,
        readout,
        input_table,
        recurrent_synapses,
        feedforward_synapses,
        readout_synapses,
        spike_monitors,
        membrane_monitors,
        readout_monitor,
        dt,
        n_steps,
    ):
        self.network = network
        self.layers = layers
        self.readout = readout
        self.input_table = input_table
        self.recurrent_synapses = recurrent_synapses
        self.feedforward_synapses = feedforward_synapses
        self.readout_synapses = readout_synapses
        self.spike_monitors = spike_monitors
        self.membrane_monitors = membrane_monitors
        self.readout_monitor = readout_monitor
        self.dt = dt
        self.n_steps = n_steps

    @property
    def n_layers(self):
        """Number of recurrent layers."""
        return len(self.layers)

    @property
    def duration(self):
        """Simulated time that covers all ``n_steps`` map steps in every layer."""
        return (self.n_steps + self.n_layers) * self.dt

    def __repr__(self):
        sizes = [len(layer) for layer in self.layers]
        n_synapses = sum(len(s) for s in self.recurrent_synapses if s is not None)
        n_synapses += sum(len(s) for s in self.feedforward_synapses) + len(self.readout_synapses)
        return (
            f"<SRNNNetwork: {self.input_table.values.shape[1]} input currents -> layers {sizes} "
            f"-> {len(self.readout)} readout units, {n_synapses} synapses, "
            f"{self.n_steps} steps of {self.dt}>"
        )

    def run(self, report=None):
        """Simulate all steps (``n_steps + n_layers`` Brian2 steps, covering the latency).

        Parameters
        ----------
        report : str, optional
            Passed to `brian2.Network.run` (``"text"`` or ``"stderr"`` for progress).
        """
        self.network.run(self.duration, namespace={}, report=report)

    def _check_layer(self, layer):
        if not isinstance(layer, numbers.Integral) or not 0 <= layer < self.n_layers:
            raise ValueError(f"layer must be an integer in [0, {self.n_layers}), got {layer!r}")

    def spike_steps(self, layer):
        """Return the spikes of a layer on the map's time axis.

        Parameters
        ----------
        layer : int
            Layer index.

        Returns
        -------
        steps, indices : ndarray of int
            Map step (0 ... ``n_steps - 1``) and neuron index of every spike.
        """
        self._check_layer(layer)
        monitor = self.spike_monitors[layer]
        steps = np.round(np.asarray(monitor.t / self.dt)).astype(np.int64) - layer
        indices = np.asarray(monitor.i[:], dtype=np.int64)
        keep = (steps >= 0) & (steps < self.n_steps)
        return steps[keep], indices[keep]

    def spike_matrix(self, layer):
        """Return the spikes of a layer as a ``(n_steps, N)`` array of 0/1 (map steps)."""
        steps, indices = self.spike_steps(layer)
        spikes = np.zeros((self.n_steps, len(self.layers[layer])))
        spikes[steps, indices] = 1.0
        return spikes

    def membrane(self, layer):
        """Return the membrane potential :math:`u_t` of a layer, shape ``(n_steps, N)``.

        Raises
        ------
        ValueError
            The network was built with ``record_membrane=False``.
        """
        self._check_layer(layer)
        if self.membrane_monitors is None:
            raise ValueError("membrane potentials were not recorded (record_membrane=False)")
        values = np.asarray(self.membrane_monitors[layer].v)
        return values[:, layer : layer + self.n_steps].T

    def readout_trace(self):
        """Return the readout :math:`m_t` on the map's time axis, shape ``(n_steps, n_outputs)``."""
        values = np.asarray(self.readout_monitor.m)
        start = self.n_layers
        return values[:, start : start + self.n_steps].T


def _per_layer(value, n_layers, name):
    """Broadcast a scalar (or per-neuron array) to one entry per layer."""
    if isinstance(value, list | tuple):
        if len(value) != n_layers:
            raise ValueError(f"{name} must have one entry per layer ({n_layers}), got {len(value)}")
        return list(value)
    return [value] * n_layers


def _time_array(value, size, name):
    """Check a time constant (scalar or length-`size` array, seconds); return seconds."""
    fail_for_dimension_mismatch(value, second, f"{name} must be a time (e.g. 20*ms)")
    array = np.asarray(value / second if isinstance(value, Quantity) else value, dtype=float)
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != size):
        raise ValueError(f"{name} must be a scalar or an array of length {size}, got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be finite and > 0 for every neuron")
    return np.broadcast_to(array, (size,)).astype(float)


def _float_array(value, size, name):
    fail_for_dimension_mismatch(value, 1, f"{name} must be dimensionless")
    array = np.asarray(value, dtype=float)
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != size):
        raise ValueError(f"{name} must be a scalar or an array of length {size}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return np.broadcast_to(array, (size,)).astype(float)


def _matrix(value, shape, name):
    fail_for_dimension_mismatch(value, 1, f"{name} must be dimensionless")
    array = np.asarray(value, dtype=float)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (post, pre), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def _connect_dense(source, target, weights, dt, name):
    """Synapses for the non-zero entries of a dense ``(post, pre)`` weight matrix."""
    synapses = Synapses(
        source, target, "w : 1", on_pre="I_synaptic_post += w", dt=dt, name=f"{name}*"
    )
    post, pre = np.nonzero(weights)
    if post.size == 0:
        synapses.connect(False)  # Brian2 rejects empty index arrays
    else:
        synapses.connect(i=pre, j=post)
        synapses.w[:] = weights[post, pre]
    return synapses


def _per_layer_arrays(value, layer_sizes, name, check, *, indexed=False):
    """Broadcast `value` to the layers and check each entry with ``check(v, size, name)``.

    With ``indexed=True`` an entry's error names it ``name[index]``.
    """
    values = _per_layer(value, len(layer_sizes), name)
    return [
        check(entry, size, f"{name}[{index}]" if indexed else name)
        for index, (entry, size) in enumerate(zip(values, layer_sizes, strict=True))
    ]


@dataclass
class _SRNNArguments:
    """The checked arguments of `srnn_network`: plain float arrays, times in seconds."""

    layer_sizes: list
    n_outputs: int
    dt_seconds: float
    currents: np.ndarray
    tau_m: list
    tau_adp: list
    tau_out: np.ndarray
    b0: list
    beta: list
    R_m: list
    readout_R_m: float
    biases: list
    output_bias: np.ndarray
    recurrent: list
    feedforward: list
    output_weights: np.ndarray
    initial_membrane: list
    initial_readout: np.ndarray

    @property
    def n_layers(self):
        return len(self.layer_sizes)

    @property
    def n_steps(self):
        return self.currents.shape[0]

    @property
    def dt(self):
        return self.dt_seconds * second


def _check_sizes(n_inputs, layer_sizes, n_outputs):
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    n_outputs = check_positive_int(n_outputs, "n_outputs")
    if isinstance(layer_sizes, numbers.Integral):
        layer_sizes = [layer_sizes]
    layer_sizes = [check_positive_int(size, "each of layer_sizes") for size in layer_sizes]
    if not layer_sizes:
        raise ValueError("layer_sizes must contain at least one layer")
    return n_inputs, layer_sizes, n_outputs


def _check_dt(dt):
    """Return `dt` in seconds (finite, > 0)."""
    fail_for_dimension_mismatch(dt, second, "dt must be a time (e.g. 1*ms)")
    dt_seconds = float(dt / second) if isinstance(dt, Quantity) else float(dt)
    if not np.isfinite(dt_seconds) or dt_seconds <= 0:
        raise ValueError(f"dt must be finite and > 0, got {dt!r}")
    return dt_seconds


def _check_input_currents(input_currents, input_weights, n_inputs, n_first):
    """Return the layer-0 currents ``(T, n_first)``: projected through `input_weights` if given."""
    fail_for_dimension_mismatch(input_currents, 1, "input_currents must be dimensionless")
    currents = np.asarray(input_currents, dtype=float)
    if currents.ndim != 2 or currents.shape[0] < 1:
        raise ValueError(f"input_currents must have shape (T, channels), got {currents.shape}")
    if not np.all(np.isfinite(currents)):
        raise ValueError("input_currents must be finite")
    if input_weights is not None:
        if currents.shape[1] != n_inputs:
            raise ValueError(
                f"input_currents must have shape (T, n_inputs={n_inputs}) when input_weights "
                f"is given, got {currents.shape}"
            )
        w_in = _matrix(input_weights, (n_first, n_inputs), "input_weights")
        return currents @ w_in.T
    if currents.shape[1] != n_first:
        raise ValueError(
            f"input_currents must have shape (T, layer_sizes[0]={n_first}) without "
            f"input_weights, got {currents.shape}"
        )
    return currents


def _check_weights(layer_sizes, recurrent_weights, feedforward_weights):
    """Return the checked recurrent (None where absent) and feed-forward matrices."""
    n_layers = len(layer_sizes)
    if recurrent_weights is None:
        recurrent_weights = [None] * n_layers
    recurrent_weights = _per_layer(recurrent_weights, n_layers, "recurrent_weights")
    recurrent = [
        None if w is None else _matrix(w, (size, size), f"recurrent_weights[{index}]")
        for index, (w, size) in enumerate(zip(recurrent_weights, layer_sizes, strict=True))
    ]
    if n_layers > 1:
        if feedforward_weights is None or len(feedforward_weights) != n_layers - 1:
            raise ValueError(
                f"feedforward_weights must be a list of {n_layers - 1} matrices (layer l -> l+1)"
            )
        feedforward = [
            _matrix(
                w, (layer_sizes[index + 1], layer_sizes[index]), f"feedforward_weights[{index}]"
            )
            for index, w in enumerate(feedforward_weights)
        ]
    else:
        if feedforward_weights:
            raise ValueError("feedforward_weights must be empty for a single layer")
        feedforward = []
    return recurrent, feedforward


def _check_srnn_arguments(
    n_inputs,
    layer_sizes,
    n_outputs,
    *,
    input_currents,
    dt,
    tau_m,
    tau_adp,
    tau_out,
    input_weights,
    recurrent_weights,
    feedforward_weights,
    output_weights,
    biases,
    output_bias,
    b0,
    beta,
    R_m,
    initial_membrane,
    initial_readout,
):
    """Check every argument of `srnn_network` (same order, same messages) before building."""
    n_inputs, layer_sizes, n_outputs = _check_sizes(n_inputs, layer_sizes, n_outputs)
    n_layers = len(layer_sizes)
    dt_seconds = _check_dt(dt)
    currents = _check_input_currents(input_currents, input_weights, n_inputs, layer_sizes[0])
    tau_m_layers = _per_layer_arrays(tau_m, layer_sizes, "tau_m", _time_array, indexed=True)
    tau_adp_layers = _per_layer_arrays(tau_adp, layer_sizes, "tau_adp", _time_array, indexed=True)
    tau_out_seconds = _time_array(tau_out, n_outputs, "tau_out")
    b0_layers = _per_layer_arrays(b0, layer_sizes, "b0", _float_array)
    beta_layers = _per_layer_arrays(beta, layer_sizes, "beta", _float_array)
    R_m_is_scalar = not isinstance(R_m, list | tuple) and np.ndim(R_m) == 0
    readout_R_m = float(_float_array(R_m, 1, "R_m")[0]) if R_m_is_scalar else 1.0
    R_m_layers = _per_layer_arrays(R_m, layer_sizes, "R_m", _float_array)
    if biases is None:
        biases = [0.0] * n_layers
    bias_layers = _per_layer_arrays(biases, layer_sizes, "biases", _float_array)
    out_bias = _float_array(0.0 if output_bias is None else output_bias, n_outputs, "output_bias")
    recurrent, feedforward = _check_weights(layer_sizes, recurrent_weights, feedforward_weights)
    w_out = _matrix(output_weights, (n_outputs, layer_sizes[-1]), "output_weights")
    if initial_membrane is None:
        initial_membrane = [0.0] * n_layers
    u_init = _per_layer_arrays(initial_membrane, layer_sizes, "initial_membrane", _float_array)
    m_init = _float_array(
        0.0 if initial_readout is None else initial_readout, n_outputs, "initial_readout"
    )
    return _SRNNArguments(
        layer_sizes=layer_sizes,
        n_outputs=n_outputs,
        dt_seconds=dt_seconds,
        currents=currents,
        tau_m=tau_m_layers,
        tau_adp=tau_adp_layers,
        tau_out=tau_out_seconds,
        b0=b0_layers,
        beta=beta_layers,
        R_m=R_m_layers,
        readout_R_m=readout_R_m,
        biases=bias_layers,
        output_bias=out_bias,
        recurrent=recurrent,
        feedforward=feedforward,
        output_weights=w_out,
        initial_membrane=u_init,
        initial_readout=m_init,
    )


def _latency_start(args):
    """Initial ``v``, ``b`` of every layer and ``m`` of the readout, pre-compensated.

    Layer ``l`` and the readout reach the map's initial state after ``l`` (readout:
    ``n_layers``) bias-driven decay steps; run that decay backwards, checking that no
    latency step of a layer would cross its threshold.
    """
    v_start, b_start = [], []
    for layer in range(args.n_layers):
        alpha = np.exp(-args.dt_seconds / args.tau_m[layer])
        rho = np.exp(-args.dt_seconds / args.tau_adp[layer])
        drive = (1 - alpha) * args.R_m[layer] * args.biases[layer]
        v, b = args.initial_membrane[layer].copy(), args.b0[layer].copy()
        for _ in range(layer):
            v = (v - drive) / alpha
            b = b / rho
            if np.any(alpha * v + drive > args.b0[layer] + args.beta[layer] * rho * b):
                raise ValueError(
                    f"initial_membrane[{layer}] is too close to threshold: layer {layer} would "
                    "fire during its latency steps; choose a lower initial membrane"
                )
        v_start.append(v)
        b_start.append(b)
    alpha_out = np.exp(-args.dt_seconds / args.tau_out)
    m_start = args.initial_readout.copy()
    for _ in range(args.n_layers):
        m_start = (m_start - (1 - alpha_out) * args.readout_R_m * args.output_bias) / alpha_out
    return v_start, b_start, m_start


def _build_layers(args, v_start, b_start, name):
    """The ALIF layers; layer 0 reads its held input from a `TimedArray`."""
    model = alif()
    table = np.zeros((args.n_steps + args.n_layers, args.layer_sizes[0]))
    table[: args.n_steps] = args.currents
    input_table = TimedArray(table, dt=args.dt, name=f"{name}_input_table*")
    layers = []
    for layer, size in enumerate(args.layer_sizes):
        group = model.make_group(
            size,
            name=f"{name}_layer_{layer}*",
            dt=args.dt,
            initial_values={"v": v_start[layer], "b": b_start[layer]},
            tau_m=args.tau_m[layer] * second,
            tau_adp=args.tau_adp[layer] * second,
            b0=args.b0[layer],
            beta=args.beta[layer],
            R_m=args.R_m[layer],
            I_ext=args.biases[layer],
        )
        layers.append(group)
    layers[0].namespace[_INPUT_TABLE_NAME] = input_table
    layers[0].run_regularly(f"I_input = {_INPUT_TABLE_NAME}(t, i)", when="start")
    return layers, input_table


def _build_readout(args, m_start, name):
    readout = NeuronGroup(
        args.n_outputs, READOUT_EQUATIONS, method="exact", dt=args.dt, name=f"{name}_readout*"
    )
    readout.tau_out = args.tau_out * second
    readout.R_m = args.readout_R_m
    readout.I_ext = args.output_bias
    readout.m = m_start
    readout.run_regularly(ZERO_SYNAPTIC_CURRENT[0], when=ZERO_SYNAPTIC_CURRENT[1])
    return readout


def srnn_network(
    n_inputs,
    layer_sizes,
    n_outputs,
    *,
    input_currents,
    dt,
    tau_m,
    tau_adp,
    tau_out,
    input_weights=None,
    recurrent_weights=None,
    feedforward_weights=None,
    output_weights,
    biases=None,
    output_bias=None,
    b0=0.01,
    beta=1.8,
    R_m=1.0,
    initial_membrane=None,
    initial_readout=None,
    record_membrane=True,
    name="srnn",
):
    """Build the SRNN (input -> recurrent ALIF layers -> leaky readout) in Brian2.

    Parameters
    ----------
    n_inputs : int
        Number of input channels.
    layer_sizes : sequence of int
        Sizes of the recurrent ALIF layers (at least one).
    n_outputs : int
        Number of readout units.
    input_currents : array, shape (T, n_inputs) or (T, layer_sizes[0])
        Input per step: raw inputs :math:`x_t` when `input_weights` is given,
        otherwise the currents of layer 0 (without bias). Row ``t`` drives step
        ``t``.
    dt : brian2 quantity
        One SRNN step (e.g. ``1*ms`` or the 4 ms bin of SHD).
    tau_m, tau_adp : brian2 quantity, or list (one per layer) of scalars or per-neuron arrays
        Membrane and adaptation time constants (> 0), in seconds: :math:`\\tau` in
        steps times `dt`.
    tau_out : brian2 quantity, scalar or shape (n_outputs,)
        Readout time constants (> 0).
    input_weights : array, shape (layer_sizes[0], n_inputs), optional
        :math:`W_{in}`; None means `input_currents` are already layer-0 currents.
    recurrent_weights : list of arrays or None, optional
        Per layer, a ``(N_l, N_l)`` matrix (post, pre) or None for no recurrence.
    feedforward_weights : list of arrays, optional
        ``(N_{l+1}, N_l)`` matrices, required when there is more than one layer.
    output_weights : array, shape (n_outputs, layer_sizes[-1])
    biases : list of arrays, optional
        Per-layer bias currents (length N_l; default 0), held as the neurons' ``I_ext``.
    output_bias : array, shape (n_outputs,), optional
    b0, beta, R_m : float, or list (one per layer) of scalars or per-neuron arrays
        ALIF parameters (defaults of the SRNN code: 0.01, 1.8, 1). A scalar
        `R_m` also scales the readout input; otherwise the readout uses 1.
    initial_membrane : list of arrays, optional
        Per layer, the map's initial membrane :math:`u_{-1}` (default 0). The
        adaptation trace starts at `b0`, as in the SRNN code. For deeper layers
        it must lie below threshold, because it is reached through latency steps.
    initial_readout : array, shape (n_outputs,), optional
        Initial readout :math:`m_{-1}` (default 0).
    record_membrane : bool
        Record ``v`` of every layer (needed for `SRNNNetwork.membrane`).
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    SRNNNetwork
        Call ``.run()`` to simulate ``T + n_layers`` Brian2 steps; read results with
        ``.spike_steps(l)``, ``.spike_matrix(l)``, ``.membrane(l)`` and
        ``.readout_trace()``, all on the map's time axis.

    Raises
    ------
    ValueError
        Non-positive sizes, wrong array shapes, non-finite values, non-positive
        time constants, an initial membrane of a deeper layer that would fire
        during the latency steps.
    brian2.DimensionMismatchError
        `dt` or a time constant without time units.

    Notes
    -----
    Weight matrices are dense ``(post, pre)`` arrays (the layout of
    ``torch.nn.Linear.weight``); only non-zero entries become synapses. The
    network reproduces the discrete SRNN map (Yin, Corradi & Bohte 2021, Nat.
    Mach. Intell. 3:905) to rounding error on any device; see the module
    docstring for the latency convention.
    """
    args = _check_srnn_arguments(
        n_inputs,
        layer_sizes,
        n_outputs,
        input_currents=input_currents,
        dt=dt,
        tau_m=tau_m,
        tau_adp=tau_adp,
        tau_out=tau_out,
        input_weights=input_weights,
        recurrent_weights=recurrent_weights,
        feedforward_weights=feedforward_weights,
        output_weights=output_weights,
        biases=biases,
        output_bias=output_bias,
        b0=b0,
        beta=beta,
        R_m=R_m,
        initial_membrane=initial_membrane,
        initial_readout=initial_readout,
    )
    v_start, b_start, m_start = _latency_start(args)
    dt = args.dt
    layers, input_table = _build_layers(args, v_start, b_start, name)
    readout = _build_readout(args, m_start, name)
    recurrent_synapses = [
        None if w is None else _connect_dense(group, group, w, dt, f"{name}_recurrent_{index}")
        for index, (w, group) in enumerate(zip(args.recurrent, layers, strict=True))
    ]
    feedforward_synapses = [
        _connect_dense(layers[index], layers[index + 1], w, dt, f"{name}_feedforward_{index}")
        for index, w in enumerate(args.feedforward)
    ]
    readout_synapses = _connect_dense(
        layers[-1], readout, args.output_weights, dt, f"{name}_output"
    )

    spike_monitors = [SpikeMonitor(group, name=f"{group.name}_spikes*") for group in layers]
    membrane_monitors = None
    if record_membrane:
        membrane_monitors = [
            StateMonitor(
                group, "v", record=True, when="before_thresholds", dt=dt, name=f"{group.name}_v*"
            )
            for group in layers
        ]
    readout_monitor = StateMonitor(
        readout, "m", record=True, when="end", dt=dt, name=f"{readout.name}_m*"
    )
    objects = [*layers, readout, *feedforward_synapses, readout_synapses, *spike_monitors]
    objects += [s for s in recurrent_synapses if s is not None]
    objects += membrane_monitors or []
    objects.append(readout_monitor)
    network = Network(*objects, name=f"{name}_network*")
    return SRNNNetwork(
        network=network,
        layers=layers,
        readout=readout,
        input_table=input_table,
        recurrent_synapses=recurrent_synapses,
        feedforward_synapses=feedforward_synapses,
        readout_synapses=readout_synapses,
        spike_monitors=spike_monitors,
        membrane_monitors=membrane_monitors,
        readout_monitor=readout_monitor,
        dt=dt,
        n_steps=args.n_steps,
    )
