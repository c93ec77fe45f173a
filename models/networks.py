"""Recurrent network recipes: any neuron model of the library on a seeded sparse graph.

Every recipe draws its graph once with `neurosrnn.connectivity` and hands it to Brian2
as explicit indices, so runtime, C++ standalone, CUDA standalone and the SparseProp
engine all see the same synapses. Per-neuron parameters and initial values may be given
as scalars, arrays or `TimescaleSampler` objects (drawn from the recipe's seed: first
the parameters, then the initial values, each in the order of its dict).

Recipes
-------
- `recurrent_network`: a model on a given `Connectivity`.
- `balanced_ei_network`: fixed in-degree E/I network with ``J0/sqrt(K)`` weights
  (van Vreeswijk & Sompolinsky 1996; Brunel 2000).
- `inhibitory_pulse_network`: the purely inhibitory delta-pulse network with constant
  suprathreshold drive used as the SparseProp benchmark (Engelken 2023, NeurIPS;
  reference defaults N = 10^5, K = 100, J0 = 1, nu0 = 1 Hz, tau = 10 ms).
"""

from __future__ import annotations

import math

import numpy as np
from brian2 import Hz, Network, SpikeMonitor, StateMonitor, Synapses, ms, mV, second, volt
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

from neurosrnn.connectivity import Connectivity, balanced_ei, fixed_out_degree
from neurosrnn.units import to_seconds
from neurosrnn.validation import check_int, check_seed, int_array, seeded_rng

from .timescale_samplers import TimescaleSampler

__all__ = [
    "RecurrentNetwork",
    "recurrent_network",
    "balanced_ei_network",
    "inhibitory_pulse_network",
    "check_coupling_units",
]


class RecurrentNetwork:
    """A Brian2 `Network` of one neuron model on one explicit graph.

    Attributes
    ----------
    model : NeuronModel
        The neuron model.
    connectivity : Connectivity
        The graph (weights in units of ``model.coupling_unit``).
    neurons : brian2.NeuronGroup
    synapses : brian2.Synapses
    spike_monitor : brian2.SpikeMonitor
    state_monitor : brian2.StateMonitor or None
    network : brian2.Network
        Holds all of the above; call `run` or ``network.run``.
    parameters : dict
        The per-neuron parameter values used (after sampling), for records.
    seed : int or None
        Seed the graph and samplers were drawn from.
    """

    def __init__(self, model, connectivity, neurons, synapses, spike_monitor, state_monitor,
                 parameters, seed):  # fmt: skip
        self.model = model
        self.connectivity = connectivity
        self.neurons = neurons
        self.synapses = synapses
        self.spike_monitor = spike_monitor
        self.state_monitor = state_monitor
        self.parameters = parameters
        self.seed = seed
        objects = [neurons, synapses, spike_monitor]
        if state_monitor is not None:
            objects.append(state_monitor)
        self.network = Network(*objects)

    def __repr__(self):
        return (
            f"<RecurrentNetwork of {self.neurons.N} {self.model.name!r} neurons, "
            f"{self.connectivity.n_synapses} synapses, seed={self.seed}>"
        )

    @property
    def N(self):
        """Number of neurons."""
        return self.neurons.N

    def run(self, duration, report=None, **kwargs):
        """Simulate for `duration` (a Brian2 time); `report="text"` prints progress."""
        if get_dimensions(duration) != get_dimensions(second):
            raise DimensionMismatchError(
                "duration must be a time", get_dimensions(duration), get_dimensions(second)
            )
        if not float(duration / second) > 0:
            raise ValueError(f"duration must be > 0, got {duration!r}")
        self.network.run(duration, report=report, **kwargs)
        return self

    def spikes(self):
        """Recorded spikes as ``(indices, seconds)`` arrays, ordered by time, then index."""
        indices = np.asarray(self.spike_monitor.i[:], dtype=np.int64)
        times = np.asarray(self.spike_monitor.t[:] / second, dtype=float)
        order = np.lexsort((indices, times))
        return indices[order], times[order]


def _resolve_parameters(model, N, parameters, rng):
    """Draw sampler-valued parameters; leave the rest to `NeuronModel.validate_parameters`."""
    return model.validate_parameters(N, _drawn(N, parameters, rng))


def _drawn(N, values, rng):
    """`values` with every `TimescaleSampler` replaced by its `N` draws from `rng`, in order."""
    return {
        name: value.sample(N, seed=rng) if isinstance(value, TimescaleSampler) else value
        for name, value in (values or {}).items()
    }


def check_coupling_units(model, value, name="J0"):
    """Raise DimensionMismatchError unless `value` has the units of the model's coupling.

    Returns the coupling unit (``model.coupling_unit``).
    """
    unit = model.coupling_unit
    if get_dimensions(value) != get_dimensions(unit):
        raise DimensionMismatchError(
            f"{name} must have the units of model {model.name!r}'s coupling ({unit!r})",
            get_dimensions(value),
            get_dimensions(unit),
        )
    return unit


def recurrent_network(
    model,
    connectivity,
    *,
    parameters=None,
    initial_values=None,
    record_states=(),
    record_neurons=None,
    delay=None,
    seed=None,
    dt=None,
    name="recurrent",
):
    """Build a Brian2 network of `model` neurons coupled through `connectivity`.

    Parameters
    ----------
    model : NeuronModel
        Neuron model (e.g. ``neurosrnn.models.lif()``).
    connectivity : Connectivity
        Square graph; its weights are in units of ``model.coupling_unit`` (an
        unweighted graph needs a ``w`` set later on ``synapses``).
    parameters : dict, optional
        Per-neuron parameter values: scalars, length-N arrays or `TimescaleSampler`
        objects (drawn from `seed`).
    initial_values : dict, optional
        Initial state values (quantities, arrays, Brian2 string expressions or
        `TimescaleSampler` objects such as ``uniform_values(0 * mV, 20 * mV)``, drawn
        from `seed` after the parameters).
    record_states : sequence of str
        State variables to record with a `StateMonitor`.
    record_neurons : array of int, optional
        Neurons recorded by the `StateMonitor` (default: the first 10).
    delay : brian2 quantity, optional
        Homogeneous synaptic delay (default: none).
    seed : int, optional
        Seed for the samplers (an integer >= 0); None draws fresh entropy.
    dt : brian2 quantity, optional
        Time step of the neurons and synapses (default: ``defaultclock.dt``).
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    RecurrentNetwork
    """
    N = _check_recurrent_arguments(model, connectivity, record_states)
    to_seconds(delay, "delay", nonnegative=True, allow_none=True)
    rng = seeded_rng(seed, allow_none=True)
    if record_neurons is not None:
        record_neurons = int_array(record_neurons, "record_neurons", minimum=0, maximum=N - 1)
    values = _resolve_parameters(model, N, parameters, rng)
    initial_values = _drawn(N, initial_values, rng)
    neurons = model.make_group(
        N, name=f"{name}_neurons", dt=dt, initial_values=initial_values, **values
    )
    synapses = _coupling_synapses(model, neurons, connectivity, delay=delay, dt=dt, name=name)
    spike_monitor = SpikeMonitor(neurons, name=f"{name}_spikes")
    state_monitor = None
    if record_states:
        record = np.arange(min(10, N)) if record_neurons is None else record_neurons
        state_monitor = StateMonitor(
            neurons, list(record_states), record=record, name=f"{name}_states"
        )
    used = {p: values.get(p, default) for p, default in model.parameters.items()}
    return RecurrentNetwork(
        model, connectivity, neurons, synapses, spike_monitor, state_monitor, used, seed
    )


def _check_recurrent_arguments(model, connectivity, record_states):
    """Check the graph and the recorded variables of `recurrent_network`; return N."""
    if not isinstance(connectivity, Connectivity):
        raise ValueError(f"connectivity must be a Connectivity, got {type(connectivity).__name__}")
    if connectivity.N_pre != connectivity.N_post:
        raise ValueError(
            f"connectivity must be square for a recurrent network, got "
            f"{connectivity.N_pre} -> {connectivity.N_post}"
        )
    unknown = set(record_states) - set(model.equations.names)
    if unknown:
        raise ValueError(
            f"record_states {sorted(unknown)} are not variables of model {model.name!r}; "
            f"allowed: {sorted(model.equations.names)}"
        )
    return connectivity.N_pre


def _coupling_synapses(model, neurons, connectivity, *, delay, dt, name):
    """Synapses of `connectivity` acting through ``model.coupling_on_pre``, weights set."""
    unit = model.coupling_unit
    dimensionless = get_dimensions(unit).is_dimensionless
    synapses = Synapses(
        neurons,
        neurons,
        model=f"{model.weight_variable} : {'1' if dimensionless else repr(unit)}",
        on_pre=model.coupling_on_pre,
        delay=delay,
        dt=dt,
        name=f"{name}_synapses",
    )
    connectivity.connect(
        synapses,
        weight_unit=None if dimensionless else unit,
        weight_variable=model.weight_variable,
    )
    return synapses


def balanced_ei_network(
    model,
    N_excitatory,
    N_inhibitory,
    K,
    *,
    J0,
    g,
    seed,
    parameters=None,
    initial_values=None,
    record_states=(),
    delay=None,
    name="balanced_ei",
):
    """A balanced E/I network: fixed in-degree `K`, weights ``J0/sqrt(K)`` and ``-g J0/sqrt(K)``.

    Neurons ``0 .. N_excitatory - 1`` are excitatory. See
    `neurosrnn.connectivity.balanced_ei` for the graph and the scaling.

    Parameters
    ----------
    model : NeuronModel
    N_excitatory, N_inhibitory : int
    K : int
        In-degree of every neuron.
    J0 : brian2 quantity
        Coupling strength before the ``1/sqrt(K)`` scaling, in the units of
        ``model.coupling_unit`` (e.g. mV for a delta-coupled LIF).
    g : float
        Relative inhibition (>= 0); ``g > N_E / N_I`` gives net inhibition.
    seed : int
        Seeds the graph and any parameter samplers.
    parameters, initial_values, record_states, delay, name
        As in `recurrent_network`.

    Returns
    -------
    RecurrentNetwork
    """
    check_seed(seed)
    unit = check_coupling_units(model, J0)
    J0_value = float(np.asarray(J0 if get_dimensions(unit).is_dimensionless else J0 / unit))
    graph = balanced_ei(
        N_excitatory,
        N_inhibitory,
        K,
        J0=J0_value,
        g=g,
        seed=seed,
        J0_unit=None if get_dimensions(unit).is_dimensionless else unit,
    )
    return recurrent_network(
        model,
        graph,
        parameters=parameters,
        initial_values=initial_values,
        record_states=record_states,
        delay=delay,
        seed=seed,
        name=name,
    )


def inhibitory_pulse_network(
    neuron="theta",
    N=100_000,
    K=100,
    *,
    J0=1.0,
    target_rate=1 * Hz,
    tau_m=10 * ms,
    voltage_scale=10 * mV,
    initial_phases=None,
    seed=0,
    record_states=(),
    name="inhibitory",
):
    """The purely inhibitory delta-pulse network with constant suprathreshold drive.

    Every neuron projects to `K` distinct random targets (fixed out-degree, no
    autapses) with coupling ``J = -J0/sqrt(K)``; the constant drive balances the mean
    inhibition at the target rate, ``I_ext = tau_m sqrt(K) J0 nu0`` (Engelken 2023;
    van Vreeswijk & Sompolinsky 1996). The realised rate differs from `target_rate`
    at finite K.

    - ``neuron="theta"``: tau_m dtheta/dt = (1 - cos theta) + (1 + cos theta) I_ext,
      pulses ``theta -> 2 arctan(tan(theta/2) + J)``. Initial phases (in the uniform
      phase ``phi`` of the QIF, ``V = sqrt(I_ext) tan(phi/2)``) default to uniform on
      ``(-pi, pi)``.
    - ``neuron="lif"``: the normalised LIF ``tau_m dV/dt = -V + 1 + I_ext`` with
      threshold 1, reset 0, written in volts with ``V = (v - v_reset)/voltage_scale``;
      pulses ``V -> V + J``. Initial ``V`` defaults to uniform on ``[0, 1)``.

    Parameters
    ----------
    neuron : {"theta", "lif"}
    N : int
        Number of neurons.
    K : int
        Out-degree (< N).
    J0 : float
        Coupling strength (> 0, dimensionless in units of threshold distance).
    target_rate : brian2 quantity (Hz)
        Rate nu0 at which the drive balances the mean inhibition.
    tau_m : brian2 quantity (time)
        Membrane time constant.
    voltage_scale : brian2 quantity (volt)
        Reset-to-threshold distance for the LIF in physical units.
    initial_phases : array, optional
        Initial uniform phases ``phi`` in ``(-pi, pi)`` (theta) or voltages ``V`` in
        ``[0, 1)`` (LIF), length `N`.
    seed : int
        Seeds the graph and the default initial phases.
    record_states, name
        As in `recurrent_network`.

    Returns
    -------
    RecurrentNetwork
        With ``parameters`` holding ``I_ext`` (dimensionless, reference units) and
        ``J`` for cross-checks with the SparseProp engine.
    """
    check_int(N, "N", minimum=2)
    _check_pulse_arguments(neuron, J0, target_rate, tau_m)
    rng = np.random.default_rng(check_seed(seed))
    graph = fixed_out_degree(N, N, K, seed=rng)
    J = -J0 / math.sqrt(K)
    drive = float(tau_m * target_rate) * math.sqrt(K) * J0
    if initial_phases is not None:
        initial_phases = np.asarray(initial_phases, dtype=float)
        if initial_phases.shape != (N,) or not np.all(np.isfinite(initial_phases)):
            raise ValueError(f"initial_phases must be a finite array of length N={N}")
    common = dict(
        initial_phases=initial_phases, rng=rng, seed=seed, record_states=record_states, name=name
    )
    if neuron == "theta":
        network = _theta_pulse_network(graph.with_weights(J), drive, tau_m, **common)
    else:
        network = _lif_pulse_network(graph, J, drive, tau_m, voltage_scale, **common)
    network.parameters = dict(network.parameters, I_ext_reference=drive, J=J)
    return network


def _check_pulse_arguments(neuron, J0, target_rate, tau_m):
    if neuron not in ("theta", "lif"):
        raise ValueError(f"neuron must be 'theta' or 'lif', got {neuron!r}")
    if not (isinstance(J0, int | float) and math.isfinite(J0) and J0 > 0):
        raise ValueError(f"J0 must be a finite number > 0, got {J0!r}")
    for label, value, dim in (("target_rate", target_rate, Hz), ("tau_m", tau_m, second)):
        if get_dimensions(value) != get_dimensions(dim):
            raise DimensionMismatchError(
                f"{label} must have units of {dim!r}", get_dimensions(value), get_dimensions(dim)
            )
        if not float(value / dim) > 0:
            raise ValueError(f"{label} must be > 0, got {value!r}")


def _theta_pulse_network(graph, drive, tau_m, *, initial_phases, rng, seed, record_states, name):
    """Theta neurons on the weighted `graph`, initial phases mapped from the uniform QIF phase."""
    from .theta import theta as theta_model  # late import: this module stands on its own

    N = graph.N_pre
    phases = rng.uniform(-np.pi, np.pi, N) if initial_phases is None else initial_phases
    if np.any(np.abs(phases) >= np.pi):
        raise ValueError("initial_phases for theta neurons must lie in (-pi, pi)")
    # Uniform phase phi -> theta with tan(theta/2) = V = sqrt(I) tan(phi/2).
    theta_0 = 2 * np.arctan(math.sqrt(drive) * np.tan(phases / 2))
    return recurrent_network(
        theta_model(),
        graph,
        parameters={"tau_m": tau_m, "I_ext": drive},
        initial_values={"theta": theta_0},
        record_states=record_states,
        seed=seed,
        name=name,
    )


def _lif_pulse_network(graph, J, drive, tau_m, voltage_scale, *, initial_phases, rng, seed,
                       record_states, name):  # fmt: skip
    """Normalised delta-pulse LIF neurons on `graph` with weights J (in volts)."""
    from .lif import lif as lif_model  # late import: this module stands on its own

    N = graph.N_pre
    V0 = rng.uniform(0, 1, N) if initial_phases is None else initial_phases
    if np.any((V0 < 0) | (V0 >= 1)):
        raise ValueError("initial_phases (voltages) for LIF neurons must lie in [0, 1)")
    v_reset = -70 * mV
    return recurrent_network(
        lif_model(synapse="delta"),
        graph.with_weights(J * float(voltage_scale / volt)),
        parameters={
            "tau_m": tau_m,
            "v_rest": v_reset,
            "v_reset": v_reset,
            "v_threshold": v_reset + voltage_scale,
            "I_ext": (1 + drive) * voltage_scale,
            "tau_ref": 0 * ms,
        },
        initial_values={"v": v_reset + V0 * voltage_scale},
        record_states=record_states,
        seed=seed,
        name=name,
    )
