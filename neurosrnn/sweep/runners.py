"""Runners of a sweep: picklable callables ``runner(point, seed) -> result``.

A runner simulates one parameter point for one seed and returns the spikes (and
optionally monitored states) as a dict that `neurosrnn.sweep.store.ResultStore` can
save: ``spike_indices``, ``spike_times`` (seconds), optional ``states`` with
``state_times``, and ``info`` (``N``, ``duration_s``, ...), stored in the metadata.
Besides ``__call__`` a runner offers ``identity()`` (the configuration that goes into
the run keys), ``sweepable()`` (the names a point may set, with their defaults) and
``validate_point(point)`` (names, units and ranges, checked before anything runs).

- `Brian2NetworkRunner`: a balanced E/I network of any model of the library
  (`neurosrnn.models.networks.balanced_ei_network`) on Brian2's runtime device, or on
  ``cpp_standalone``, where each worker process builds the project once and runs it
  many times with ``run_args`` (per-neuron parameters and the coupling change without
  recompiling).
- `SparsePropRunner`: the inhibitory balanced network on the exact event-driven
  SparseProp engine (`neurosrnn.sparseprop`).
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field

import numpy as np

from neurosrnn.sweep.store import canonical_json
from neurosrnn.units import is_quantity, to_hertz, to_seconds

__all__ = ["Brian2NetworkRunner", "SparsePropRunner", "clear_standalone_builds"]


def _positive_with_units(value, name, kind):
    """A positive time (`kind` ``"time"``) or rate (``"frequency"``) as an SI float.

    Unlike `neurosrnn.units.to_seconds`, a plain number is refused: a runner's times and
    rates carry their Brian2 units, so a point reads the same everywhere.

    Raises
    ------
    brian2.DimensionMismatchError
        `value` is not a Brian2 quantity of that kind.
    ValueError
        `value` is not finite and > 0.
    """
    import brian2
    from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

    if kind == "time":
        unit, convert = brian2.second, to_seconds
    else:
        unit, convert = brian2.hertz, to_hertz
    if not is_quantity(value):
        raise DimensionMismatchError(
            f"{name} must be a {kind} with Brian2 units, got {value!r}",
            get_dimensions(value),
            unit.dim,
        )
    return convert(value, name, positive=True)


def _check_in_degree(K, N):
    """Refuse an in-degree a network of `N` neurons without autapses or multapses lacks."""
    if K > N - 1:
        raise ValueError(
            f"K must be <= N - 1 = {N - 1} (no autapses or multapses) for a network of "
            f"N = {N} neurons, got K = {K}"
        )


def _identity(runner):
    """Every field of a runner dataclass and its class name, in canonical JSON form."""
    fields = {name: getattr(runner, name) for name in runner.__dataclass_fields__}
    fields["runner"] = type(runner).__name__
    return json.loads(canonical_json(fields))


# ---------------------------------------------------------------------------
# Brian2 runner
# ---------------------------------------------------------------------------
_NETWORK_PARAMETERS = ("J0", "g")


def _resolve_model(name, options):
    """Model factory by name: `MODEL_LIBRARY` when present, else ``neurosrnn.models.<name>``."""
    import importlib

    import neurosrnn.models as models

    library = getattr(models, "MODEL_LIBRARY", None)
    if library is not None and name in library and not options:
        return library[name]()
    try:
        module = importlib.import_module(f"neurosrnn.models.{name}")
        factory = getattr(module, name)
    except (ImportError, AttributeError):
        known = sorted(library) if library else ["lif", "theta", "..."]
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(known)}") from None
    return factory(**options)


@dataclass(frozen=True)
class Brian2NetworkRunner:
    """Run one parameter point of a balanced E/I network of a library model on Brian2.

    The graph is `neurosrnn.connectivity.balanced_ei` (fixed in-degree `K`, weights
    ``J0/sqrt(K)`` and ``-g J0/sqrt(K)``; van Vreeswijk & Sompolinsky 1996, Brunel
    2000) drawn from `graph_seed`, identical for every run. The run seed draws the
    initial values uniformly in `initial_ranges`. A point may set any per-neuron
    parameter of the model (with its units) and the network parameters ``J0`` and
    ``g``.

    Parameters
    ----------
    model : str
        Model name (``"lif"``, ``"theta"``, ... : a key of
        ``neurosrnn.models.MODEL_LIBRARY`` or a module of `neurosrnn.models`).
    N_excitatory, N_inhibitory, K : int
        Network size and in-degree (``K <= N - 1``: no autapses or multapses).
    J0 : brian2 quantity or float
        Default coupling (units of the model's coupling variable).
    g : float
        Default relative inhibition.
    duration : brian2 quantity
        Simulated time per run.
    parameters : dict
        Fixed per-neuron parameter values (defaults of the model otherwise).
    initial_ranges : dict
        State variable -> ``(low, high)``: initial values drawn uniformly per run
        seed. Empty: the model's initial values.
    graph_seed : int
        Seed of the graph.
    dt : brian2 quantity, optional
        Time step (a positive, finite time; None: Brian2's default clock).
    device : {"runtime", "cpp_standalone"}
        Brian2 device. ``cpp_standalone`` builds once per worker process and reuses
        the binary with ``run_args`` for every point.
    codegen_target : {"numpy", "cython", "auto"}
        Runtime code generation target (``"numpy"`` needs no compiler; the allowed
        values are `neurosrnn.devices.RUNTIME_TARGETS`).
    record_states : tuple of str
        State variables recorded for the first 10 neurons (stored with the run).
    model_options : dict
        Keyword arguments of the model factory (e.g. ``{"synapse": "delta"}``).
    """

    model: str
    N_excitatory: int
    N_inhibitory: int
    K: int
    J0: object
    g: float
    duration: object
    parameters: dict = field(default_factory=dict)
    initial_ranges: dict = field(default_factory=dict)
    graph_seed: int = 0
    dt: object = None
    device: str = "runtime"
    codegen_target: str = "numpy"
    record_states: tuple = ()
    model_options: dict = field(default_factory=dict)

    def __post_init__(self):
        from neurosrnn.devices.settings import RUNTIME_TARGETS
        from neurosrnn.validation import check_choice

        if self.device not in ("runtime", "cpp_standalone"):
            raise ValueError(f"device must be 'runtime' or 'cpp_standalone', got {self.device!r}")
        check_choice(self.codegen_target, "codegen_target", RUNTIME_TARGETS)
        for name in ("N_excitatory", "K"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.N_inhibitory, int | np.integer) or self.N_inhibitory < 0:
            raise ValueError(f"N_inhibitory must be an integer >= 0, got {self.N_inhibitory!r}")
        _check_in_degree(self.K, self.N)
        _positive_with_units(self.duration, "duration", "time")
        if self.dt is not None:
            _positive_with_units(self.dt, "dt", "time")
        model = self.neuron_model()
        model.validate_parameters(self.N, dict(self.parameters))
        self._check_value("J0", self.J0, model)
        self._check_value("g", self.g, model)
        for state, bounds in self.initial_ranges.items():
            if state not in model.equations.names:
                raise ValueError(
                    f"initial_ranges names {state!r}, not a variable of model {model.name!r}; "
                    f"allowed: {sorted(model.equations.names)}"
                )
            if len(bounds) != 2:
                raise ValueError(f"initial_ranges[{state!r}] must be (low, high)")

    def __repr__(self):
        return (
            f"<Brian2NetworkRunner {self.model!r} N={self.N} (E {self.N_excitatory}, "
            f"I {self.N_inhibitory}), K={self.K}, J0={self.J0}, g={self.g}, "
            f"duration={self.duration}, device={self.device!r}>"
        )

    @property
    def N(self):
        return int(self.N_excitatory + self.N_inhibitory)

    def neuron_model(self):
        return _resolve_model(self.model, dict(self.model_options))

    def identity(self):
        """JSON-able description of everything that determines a run (for run keys)."""
        return _identity(self)

    def sweepable(self):
        """Names a parameter point may set, with their default values."""
        model = self.neuron_model()
        names = dict(model.parameters)
        names["J0"] = self.J0
        names["g"] = self.g
        return names

    def _check_value(self, name, value, model):
        from brian2.units.fundamentalunits import get_dimensions

        from neurosrnn.models.networks import check_coupling_units

        if name == "J0":
            check_coupling_units(model, value)
        elif name == "g":
            if get_dimensions(value) != get_dimensions(1.0) or not float(value) >= 0:
                raise ValueError(f"g must be a dimensionless number >= 0, got {value!r}")

    def validate_point(self, point):
        """Check names and units of a parameter point (raises before anything runs)."""
        model = self.neuron_model()
        per_neuron = {}
        for name, value in point.items():
            if name in _NETWORK_PARAMETERS:
                self._check_value(name, value, model)
            elif name in model.parameters:
                per_neuron[name] = value
            else:
                allowed = ", ".join(sorted([*model.parameters, *_NETWORK_PARAMETERS]))
                raise ValueError(
                    f"unknown sweep parameter {name!r} for model {model.name!r}; allowed: {allowed}"
                )
        model.validate_parameters(self.N, per_neuron)

    def _initial_values(self, seed):
        rng = np.random.default_rng(seed)
        values = {}
        for state, (low, high) in self.initial_ranges.items():
            values[state] = low + (high - low) * rng.uniform(0.0, 1.0, self.N)
        return values

    def _split(self, point):
        per_neuron = dict(self.parameters)
        network = {"J0": self.J0, "g": self.g}
        for name, value in point.items():
            (network if name in _NETWORK_PARAMETERS else per_neuron)[name] = value
        return per_neuron, network

    def __call__(self, point, seed):
        if self.device == "cpp_standalone":
            return self._run_standalone(point, seed)
        return self._run_runtime(point, seed)

    def _result(self, network, N):
        indices, times = network.spikes()
        order = np.lexsort((indices, times))  # by time, then index (as on every device)
        indices, times = indices[order], times[order]
        result = {
            "spike_indices": indices,
            "spike_times": times,
            "info": {"N": N, "duration_s": to_seconds(self.duration, "duration")},
        }
        if network.state_monitor is not None:
            monitor = network.state_monitor
            # copies: the monitor's buffers go away with the network
            result["state_times"] = np.array(monitor.t_[:], dtype=float, copy=True)
            result["states"] = {
                name: np.array(getattr(monitor, name + "_")[:], dtype=float, copy=True)
                for name in self.record_states
            }
        return result

    def _build(self, point, seed):
        from neurosrnn.models.networks import balanced_ei_network

        per_neuron, network = self._split(point)
        return balanced_ei_network(
            self.neuron_model(),
            int(self.N_excitatory),
            int(self.N_inhibitory),
            int(self.K),
            J0=network["J0"],
            g=float(network["g"]),
            seed=int(self.graph_seed),
            parameters=per_neuron,
            initial_values=self._initial_values(seed),
            record_states=tuple(self.record_states),
            name="sweep",
        )

    def _run_runtime(self, point, seed):
        import brian2
        from brian2.devices.device import get_device

        if type(get_device()).__name__ != "RuntimeDevice":
            from neurosrnn.devices import reset_brian_state

            # A standalone build of this process is invalidated by the switch.
            _STANDALONE_BUILDS.clear()
            reset_brian_state()
        previous_target = brian2.prefs.codegen.target
        previous_dt = brian2.defaultclock.dt
        brian2.prefs.codegen.target = self.codegen_target
        if self.dt is not None:
            brian2.defaultclock.dt = self.dt
        try:
            network = self._build(point, seed)
            network.run(self.duration)
            return self._result(network, self.N)
        finally:
            brian2.prefs.codegen.target = previous_target
            brian2.defaultclock.dt = previous_dt

    def _run_standalone(self, point, seed):
        return _standalone_run(self, point, seed)


# One standalone build per worker process and runner configuration.
_STANDALONE_BUILDS = {}


def clear_standalone_builds():
    """Forget this process's standalone build of a `Brian2NetworkRunner`.

    The next ``cpp_standalone`` run builds (compiles) its project again. The build
    folder itself is removed when the process exits.
    """
    _STANDALONE_BUILDS.clear()


def _standalone_run(runner, point, seed):
    """Build the runner's network once in this process, then run it with ``run_args``.

    Uses `neurosrnn.devices.Simulation`: the first call compiles the project; later
    calls (other points, other seeds) only run the binary with new per-neuron
    parameters, initial values and, when ``J0`` or ``g`` change, synaptic weights.
    """
    from brian2.units.fundamentalunits import get_dimensions

    from neurosrnn.connectivity import balanced_ei
    from neurosrnn.devices import Simulation

    key = canonical_json(runner.identity())
    simulation = _STANDALONE_BUILDS.get(key)
    if simulation is None or not simulation.is_built:
        import atexit
        import shutil

        directory = tempfile.mkdtemp(prefix="neurosrnn-sweep-build-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        simulation = Simulation(
            lambda: runner._build({}, 0),
            runner.duration,
            device="cpp_standalone",
            dt=runner.dt,
            directory=directory,
        )
        simulation.build()
        _STANDALONE_BUILDS.clear()  # Brian2's device is global: one live build at a time
        _STANDALONE_BUILDS[key] = simulation
    per_neuron, values = runner._split(point)
    overrides = {f"sweep_neurons.{name}": value for name, value in per_neuron.items()}
    for state, array in runner._initial_values(seed).items():
        overrides[f"sweep_neurons.{state}"] = array
    if "J0" in point or "g" in point:
        unit = runner.neuron_model().coupling_unit
        dimensionless = get_dimensions(unit).is_dimensionless
        J0 = float(np.asarray(values["J0"] if dimensionless else values["J0"] / unit))
        graph = balanced_ei(
            runner.N_excitatory, runner.N_inhibitory, runner.K, J0=J0,
            g=float(values["g"]), seed=int(runner.graph_seed),
        )  # fmt: skip
        # Synapses are created in the CSR order of the graph, so weights line up.
        overrides["sweep_synapses.w"] = graph.weights if dimensionless else graph.weights * unit
    results = simulation.run(overrides, save=False)
    result = {
        "spike_indices": results.i,
        "spike_times": results.t,
        "info": {
            "N": runner.N,
            "duration_s": to_seconds(runner.duration, "duration"),
            "build_directory": simulation.directory,
            "compile_count": simulation.compile_count,
        },
    }
    if runner.record_states:
        recording = results.states["sweep_states"]
        result["state_times"] = recording.t
        result["states"] = {name: recording.values[name] for name in runner.record_states}
    return result


# ---------------------------------------------------------------------------
# SparseProp runner
# ---------------------------------------------------------------------------
def _dimensionless(value, name):
    from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

    if get_dimensions(value) != get_dimensions(1.0):
        raise DimensionMismatchError(
            f"{name} must have units of 1", get_dimensions(value), get_dimensions(1.0)
        )
    return float(value)


def _check_coupling(value, name):
    number = _dimensionless(value, name)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _check_heterogeneity(value, name):
    number = _dimensionless(value, name)
    if not 0 <= number < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {number}")


def _check_rate(value, name):
    _positive_with_units(value, name, "frequency")


def _check_time_constant(value, name):
    _positive_with_units(value, name, "time")


# Sweepable parameter -> its check (raises on a bad value).
_SPARSEPROP_PARAMETERS = {
    "J0": _check_coupling,
    "rate": _check_rate,
    "tau": _check_time_constant,
    "heterogeneity": _check_heterogeneity,
}


@dataclass(frozen=True)
class SparsePropRunner:
    """Run one parameter point of the inhibitory balanced network on the SparseProp engine.

    The network is `neurosrnn.sparseprop.balanced_network` (Engelken 2023, NeurIPS,
    arXiv 2312.17216; Monteforte & Wolf 2010): K random targets per neuron, weight
    :math:`-J_0/\\sqrt{K}`, drive :math:`I_i = \\tau \\sqrt{K} J_0 \\nu_0 (1 + \\eta
    \\sin(2i/N))`. Spike times are exact. The run seed draws the initial phases.
    A point may set ``J0`` (float), ``rate`` (Hz), ``tau`` (second) and
    ``heterogeneity`` (float in [0, 1)).

    Parameters
    ----------
    model : {"theta", "lif"}
    N, K : int
        Network size (>= 2) and out-degree (``K <= N - 1``).
    J0 : float
    rate : brian2 quantity (Hz)
        Target rate :math:`\\nu_0` of the balancing drive.
    tau : brian2 quantity (second)
    heterogeneity : float
    duration : brian2 quantity (second)
        Simulated time per run.
    graph_seed : int
        Seed of the (memory-free) graph.
    """

    model: str = "theta"
    N: int = 1000
    K: int = 50
    J0: float = 1.0
    rate: object = None
    tau: object = None
    heterogeneity: float = 0.0
    duration: object = None
    graph_seed: int = 0
    device: str = field(default="sparseprop", init=False)

    def __post_init__(self):
        from brian2 import Hz, ms, second

        if self.rate is None:
            object.__setattr__(self, "rate", 1 * Hz)
        if self.tau is None:
            object.__setattr__(self, "tau", 10 * ms)
        if self.duration is None:
            object.__setattr__(self, "duration", 1 * second)
        if self.model not in ("theta", "lif"):
            raise ValueError(f"model must be 'theta' or 'lif', got {self.model!r}")
        for name in ("N", "K"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        _check_in_degree(self.K, self.N)
        self.validate_point(
            {"J0": self.J0, "rate": self.rate, "tau": self.tau, "heterogeneity": self.heterogeneity}
        )
        _positive_with_units(self.duration, "duration", "time")

    def __repr__(self):
        return (
            f"<SparsePropRunner {self.model!r} N={self.N}, K={self.K}, J0={self.J0}, "
            f"rate={self.rate}, tau={self.tau}, duration={self.duration}>"
        )

    def identity(self):
        """JSON-able description of everything that determines a run (for run keys)."""
        return _identity(self)

    def sweepable(self):
        return {name: getattr(self, name) for name in _SPARSEPROP_PARAMETERS}

    def validate_point(self, point):
        """Check names, units and ranges of a point."""
        for name, value in point.items():
            if name not in _SPARSEPROP_PARAMETERS:
                raise ValueError(
                    f"unknown sweep parameter {name!r} for the SparseProp network; allowed: "
                    f"{', '.join(sorted(_SPARSEPROP_PARAMETERS))}"
                )
            _SPARSEPROP_PARAMETERS[name](value, name)

    def __call__(self, point, seed):
        from neurosrnn.sparseprop import balanced_network

        values = self.sweepable()
        values.update(point)
        network = balanced_network(
            N=int(self.N),
            K=int(self.K),
            model=self.model,
            J0=float(values["J0"]),
            rate=to_hertz(values["rate"], "rate"),
            tau=to_seconds(values["tau"], "tau"),
            heterogeneity=float(values["heterogeneity"]),
            seed=int(self.graph_seed),
        )
        duration = to_seconds(self.duration, "duration")
        result = network.run(network.initial_state(seed=seed), duration=duration, progress=False)
        return {
            "spike_indices": np.asarray(result.spike_indices, dtype=np.int64),
            "spike_times": np.asarray(result.spike_times, dtype=np.float64),
            "info": {"N": int(self.N), "duration_s": duration},
        }
