"""Parameter sweeps on dask.distributed, with a verified results store.

A sweep is a list of parameter points (a grid or a random sample), each run for one
or more seeds by a *runner*: any picklable callable ``runner(point, seed) -> result``
returning the spikes (and optionally monitored states) of one simulation. Two
runners ship with the package:

- `Brian2NetworkRunner`: a balanced E/I network of any model of the library
  (`neurosrnn.models.networks.balanced_ei_network`) on Brian2's runtime device, or
  on ``cpp_standalone`` where each worker builds the project once and runs it many
  times with ``run_args`` (per-neuron parameters and the coupling change without
  recompiling).
- `SparsePropRunner`: the inhibitory balanced network on the exact event-driven
  SparseProp engine (`neurosrnn.sparseprop`).

Each run goes through `neurosrnn.store.ResultStore`: a run whose file is present
and verified is not recomputed; a missing, truncated or altered file is
(re)computed and written atomically. The analysis function is applied to the
stored result on the worker, and one row per run is gathered into a
`pandas.DataFrame`.

Execution
---------
``run_sweep(..., scheduler=None)`` starts a `distributed.LocalCluster` with
`n_workers` single-threaded worker processes; ``scheduler="tcp://host:8786"``
connects to a running scheduler; a `distributed.Client` may be passed as well;
``scheduler="serial"`` runs everything in the calling process, one run after the
other (no Dask). If a worker dies mid-run, Dask reschedules its task on another
worker; since each run writes only its own file through a rename, the store ends up
with every run exactly once.

Slurm
-----
With ``dask-jobqueue`` (``pip install dask-jobqueue``)::

    from dask_jobqueue import SLURMCluster
    from distributed import Client
    cluster = SLURMCluster(cores=1, processes=1, memory="4GB", walltime="02:00:00",
                           job_extra_directives=["--partition=compute"])
    cluster.scale(jobs=32)          # 32 single-core Slurm jobs, one Dask worker each
    client = Client(cluster)
    table = run_sweep(runner, points, store="/shared/fs/results", scheduler=client)

The store directory must be on a file system every worker sees (rename is atomic
within one file system). Workers need the same Python environment (``pip install
neurosrnn[sweep]``). On the command line, start the scheduler and workers
(``dask scheduler``, ``srun dask worker ADDRESS --nthreads 1``) and pass
``--scheduler ADDRESS`` to ``neurosrnn sweep``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosrnn._atomic import atomic_write
from neurosrnn.store import (
    ResultStore,
    _to_jsonable,
    canonical_json,
    run_key,
)

__all__ = [
    "grid_points",
    "random_points",
    "firing_statistics",
    "Brian2NetworkRunner",
    "SparsePropRunner",
    "run_sweep",
    "run_one",
    "add_sweep_subcommand",
    "sweep_command",
]


# ---------------------------------------------------------------------------
# Parameter points
# ---------------------------------------------------------------------------
def _is_quantity(value):
    cls = type(value)
    return cls.__name__ == "Quantity" and cls.__module__.startswith("brian2")


def grid_points(axes):
    """Cartesian product of parameter values, in row-major order (last axis fastest).

    Parameters
    ----------
    axes : dict of str -> sequence
        Parameter name -> values (Brian2 quantities, floats, ints). Each sequence
        must be non-empty; a Brian2 array quantity counts as a sequence.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> grid_points({"a": [1, 2], "b": [10, 20, 30]})[:2]
    [{'a': 1, 'b': 10}, {'a': 1, 'b': 20}]
    """
    if not isinstance(axes, dict) or not axes:
        raise ValueError("a grid needs at least one parameter axis (got an empty grid)")
    values = []
    for name, axis in axes.items():
        if isinstance(axis, str) or np.ndim(axis) == 0:
            raise ValueError(f"grid axis {name!r} must be a sequence of values, got {axis!r}")
        items = list(axis)
        if not items:
            raise ValueError(f"grid axis {name!r} is empty; give at least one value")
        values.append(items)
    names = list(axes)
    return [
        dict(zip(names, combination, strict=True)) for combination in itertools.product(*values)
    ]


def random_points(ranges, n_samples, *, seed):
    """Independent random parameter points.

    Parameters
    ----------
    ranges : dict of str -> dict
        Parameter name -> ``{"low": a, "high": b}`` (uniform on [a, b)) or
        ``{"low": a, "high": b, "log": True}`` (log-uniform, a > 0), or
        ``{"choices": [...]}`` (uniform choice). ``a`` and ``b`` may be Brian2
        quantities with the same units.
    n_samples : int
        Number of points (> 0).
    seed : int
        Seed of the sampler (numpy `default_rng`).

    Returns
    -------
    list of dict
    """
    if not isinstance(n_samples, int | np.integer) or n_samples <= 0:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not isinstance(ranges, dict) or not ranges:
        raise ValueError("a random sweep needs at least one parameter range (got none)")
    rng = np.random.default_rng(seed)
    columns = {}
    for name, spec in ranges.items():
        if not isinstance(spec, dict):
            raise ValueError(f"range of {name!r} must be a dict with low/high or choices")
        if "choices" in spec:
            choices = list(spec["choices"])
            if not choices:
                raise ValueError(f"choices of {name!r} are empty")
            picks = rng.integers(0, len(choices), n_samples)
            columns[name] = [choices[k] for k in picks]
            continue
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"range of {name!r} needs 'low' and 'high' (or 'choices')")
        low, high = spec["low"], spec["high"]
        unit = None
        if _is_quantity(low) or _is_quantity(high):
            from brian2.units.fundamentalunits import (
                DimensionMismatchError,
                get_dimensions,
                get_unit,
            )

            if get_dimensions(low) != get_dimensions(high):
                raise DimensionMismatchError(
                    f"low and high of {name!r} must have the same units",
                    get_dimensions(low),
                    get_dimensions(high),
                )
            unit = get_unit(get_dimensions(low))
            low, high = float(low / unit), float(high / unit)
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"range of {name!r} must have finite low < high, got {low}, {high}")
        if spec.get("log", False):
            if low <= 0:
                raise ValueError(f"log-uniform range of {name!r} needs low > 0")
            samples = np.exp(rng.uniform(np.log(low), np.log(high), n_samples))
        else:
            samples = rng.uniform(low, high, n_samples)
        columns[name] = [float(s) if unit is None else float(s) * unit for s in samples]
    return [{name: columns[name][k] for name in ranges} for k in range(n_samples)]


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------
def firing_statistics(result):
    """Mean firing rate and mean ISI coefficient of variation of one run.

    .. math::

        \\bar\\nu = \\frac{n_{spikes}}{N T}, \\qquad
        \\overline{CV} = \\left\\langle \\frac{\\sigma(ISI_i)}{\\langle ISI_i \\rangle}
        \\right\\rangle_{i:\\, n_i \\geq 3}

    Parameters
    ----------
    result : dict
        A stored run (``spike_indices``, ``spike_times`` in seconds and metadata
        ``info`` with ``N`` and ``duration_s``).

    Returns
    -------
    dict
        ``rate_hz``, ``cv_mean`` (NaN when no neuron fired 3 times), ``n_spikes``.
    """
    info = result["metadata"]["info"]
    N, duration = int(info["N"]), float(info["duration_s"])
    indices = np.asarray(result["spike_indices"], dtype=np.int64)
    times = np.asarray(result["spike_times"], dtype=float)
    order = np.lexsort((times, indices))
    indices, times = indices[order], times[order]
    intervals = np.diff(times)
    same = indices[1:] == indices[:-1]
    intervals, owners = intervals[same], indices[1:][same]
    counts = np.bincount(owners, minlength=N)
    sums = np.bincount(owners, weights=intervals, minlength=N)
    squares = np.bincount(owners, weights=intervals**2, minlength=N)
    valid = counts >= 2
    cv_mean = float("nan")
    if np.any(valid):
        mean = sums[valid] / counts[valid]
        variance = np.maximum(squares[valid] / counts[valid] - mean**2, 0.0)
        # sample standard deviation (n - 1), as in the usual CV estimate
        variance *= counts[valid] / np.maximum(counts[valid] - 1, 1)
        cv_mean = float(np.mean(np.sqrt(variance) / mean))
    return {
        "rate_hz": float(indices.size / (N * duration)),
        "cv_mean": cv_mean,
        "n_spikes": int(indices.size),
    }


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
        Network size and in-degree.
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
    dt : brian2 quantity
        Time step.
    device : {"runtime", "cpp_standalone"}
        Brian2 device. ``cpp_standalone`` builds once per worker process and reuses
        the binary with ``run_args`` for every point.
    codegen_target : str
        Runtime code generation target (``"numpy"`` needs no compiler).
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
        if self.device not in ("runtime", "cpp_standalone"):
            raise ValueError(f"device must be 'runtime' or 'cpp_standalone', got {self.device!r}")
        for name in ("N_excitatory", "K"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.N_inhibitory, int | np.integer) or self.N_inhibitory < 0:
            raise ValueError(f"N_inhibitory must be an integer >= 0, got {self.N_inhibitory!r}")
        from brian2 import second
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        if get_dimensions(self.duration) != second.dim:
            raise DimensionMismatchError(
                "duration must be a time", get_dimensions(self.duration), second.dim
            )
        if not float(self.duration / second) > 0:
            raise ValueError(f"duration must be > 0, got {self.duration!r}")
        model = self.neuron_model()
        model.validate_parameters(self.N, dict(self.parameters))
        self._check_value("J0", self.J0, model)
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
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["runner"] = type(self).__name__
        return json.loads(canonical_json(fields))

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
        from brian2 import second

        indices, times = network.spikes()
        order = np.lexsort((indices, times))  # by time, then index (as on every device)
        indices, times = indices[order], times[order]
        result = {
            "spike_indices": indices,
            "spike_times": times,
            "info": {"N": N, "duration_s": float(self.duration / second)},
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
            "duration_s": float(runner.duration / _second()),
            "build_directory": simulation.directory,
            "compile_count": simulation.compile_count,
        },
    }
    if runner.record_states:
        recording = results.states["sweep_states"]
        result["state_times"] = recording.t
        result["states"] = {name: recording.values[name] for name in runner.record_states}
    return result


def _second():
    from brian2 import second

    return second


# ---------------------------------------------------------------------------
# SparseProp runner
# ---------------------------------------------------------------------------
_SPARSEPROP_PARAMETERS = {"J0": None, "rate": "Hz", "tau": "second", "heterogeneity": None}


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
        self.validate_point(
            {"J0": self.J0, "rate": self.rate, "tau": self.tau, "heterogeneity": self.heterogeneity}
        )
        self._check_time("duration", self.duration)

    @staticmethod
    def _check_time(name, value):
        from brian2 import second
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        if get_dimensions(value) != second.dim:
            raise DimensionMismatchError(
                f"{name} must be a time", get_dimensions(value), second.dim
            )
        if not float(value / second) > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")

    def __repr__(self):
        return (
            f"<SparsePropRunner {self.model!r} N={self.N}, K={self.K}, J0={self.J0}, "
            f"rate={self.rate}, tau={self.tau}, duration={self.duration}>"
        )

    def identity(self):
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["runner"] = type(self).__name__
        return json.loads(canonical_json(fields))

    def sweepable(self):
        return {name: getattr(self, name) for name in _SPARSEPROP_PARAMETERS}

    def validate_point(self, point):
        """Check names, units and ranges of a point."""
        from brian2 import Hz, second
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        for name, value in point.items():
            if name not in _SPARSEPROP_PARAMETERS:
                raise ValueError(
                    f"unknown sweep parameter {name!r} for the SparseProp network; allowed: "
                    f"{', '.join(sorted(_SPARSEPROP_PARAMETERS))}"
                )
            unit = {"Hz": Hz, "second": second, None: None}[_SPARSEPROP_PARAMETERS[name]]
            expected = get_dimensions(1.0) if unit is None else unit.dim
            if get_dimensions(value) != expected:
                raise DimensionMismatchError(
                    f"{name} must have units of {unit if unit is not None else 1}",
                    get_dimensions(value),
                    expected,
                )
            number = float(value if unit is None else value / unit)
            if name == "heterogeneity":
                if not 0 <= number < 1:
                    raise ValueError(f"heterogeneity must lie in [0, 1), got {number}")
            elif not (math.isfinite(number) and number > 0):
                raise ValueError(f"{name} must be > 0, got {value!r}")

    def __call__(self, point, seed):
        from brian2 import Hz, second

        from neurosrnn.sparseprop import balanced_network

        values = self.sweepable()
        values.update(point)
        network = balanced_network(
            N=int(self.N),
            K=int(self.K),
            model=self.model,
            J0=float(values["J0"]),
            rate=float(values["rate"] / Hz),
            tau=float(values["tau"] / second),
            heterogeneity=float(values["heterogeneity"]),
            seed=int(self.graph_seed),
        )
        duration = float(self.duration / second)
        result = network.run(network.initial_state(seed=seed), duration=duration, progress=False)
        return {
            "spike_indices": np.asarray(result.spike_indices, dtype=np.int64),
            "spike_times": np.asarray(result.spike_times, dtype=np.float64),
            "info": {"N": int(self.N), "duration_s": duration},
        }


# ---------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------
def _point_record(point):
    """Point as a JSON-able dict (quantities in SI units) for metadata and tables."""
    return {name: _to_jsonable(value) for name, value in point.items()}


def _si_value(value):
    if _is_quantity(value):
        return float(np.asarray(value)) if np.ndim(value) == 0 else np.asarray(value)
    return value


def _runner_identity(runner):
    identity = getattr(runner, "identity", None)
    if callable(identity):
        return identity()
    return {"runner": getattr(runner, "__qualname__", repr(runner))}


def run_one(runner, point, seed, store, analysis=firing_statistics, key=None):
    """Run (or load) one point and return its table row; used by every executor.

    The stored file is verified first: if complete, the run is skipped; if corrupt
    it is deleted and recomputed. The analysis is always applied to the verified
    stored result, so a fresh run and a skipped one give identical rows.
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if key is None:
        key = run_key({"runner": _runner_identity(runner), "point": point, "seed": seed})
    state = store.status(key)
    status = "skipped"
    wall_time = None
    if state != "complete":
        if state == "corrupt":
            store.discard(key)
        start = time.perf_counter()
        result = runner(point, seed)
        wall_time = time.perf_counter() - start
        info = result.pop("info", {})
        store.save(
            key,
            result,
            parameters=_point_record(point),
            seed=seed,
            device=getattr(runner, "device", type(runner).__name__),
            wall_time=wall_time,
            extra_metadata={"info": info, "runner": _runner_identity(runner)},
        )
        status = "recomputed" if state == "corrupt" else "computed"
    stored = store.load(key)
    row = {"key": key, "seed": seed, "status": status}
    row.update({name: _si_value(value) for name, value in point.items()})
    row["wall_time_s"] = stored["metadata"]["wall_time_s"]
    if analysis is not None:
        row.update(analysis(stored))
    return row


def _progress_bar(done, total, stream=None, width=30):
    stream = stream or sys.stderr
    filled = int(round(width * done / total)) if total else width
    stream.write(f"\rsweep [{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs")
    if done >= total:
        stream.write("\n")
    stream.flush()


def _failure_message(key, point, seed, error):
    return (
        f"sweep run {key} failed (point {_point_record(point)}, seed {seed}): "
        f"{type(error).__name__}: {error}"
    )


def _open_client(scheduler, n_workers):
    """``(client, owned_objects)`` for a scheduler argument of `run_sweep`."""
    import logging

    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, []
    if isinstance(scheduler, str):
        client = Client(scheduler)
        return client, [client]
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    return client, [client, cluster]


def run_sweep(runner, points, *, store, seeds=(0,), analysis=firing_statistics, scheduler=None,
              n_workers=2, progress=True, validate=True):  # fmt: skip
    """Run every point for every seed and gather one row per run into a table.

    Parameters
    ----------
    runner : callable
        ``runner(point, seed) -> result`` (picklable for Dask). A ``validate_point``
        method, if present, checks each point before anything runs; an ``identity``
        method gives the configuration that goes into the run keys.
    points : list of dict
        Parameter points (e.g. from `grid_points` or `random_points`); must be
        distinct.
    store : str, pathlib.Path or ResultStore
        Results store directory.
    seeds : sequence of int
        Each point runs once per seed.
    analysis : callable or None
        ``analysis(stored_result) -> dict`` of scalars, applied on the worker.
    scheduler : None, "serial", str or distributed.Client
        None: a LocalCluster of `n_workers` processes; "serial": in this process,
        no Dask; an address: an existing scheduler; a Client: use it.
    n_workers : int
        Workers of the LocalCluster.
    progress : bool
        Progress bar on stderr.
    validate : bool
        Call ``runner.validate_point`` on every point first.

    Returns
    -------
    pandas.DataFrame
        One row per (point, seed), in the order of `points` then `seeds`: ``key``,
        ``seed``, ``status`` (``computed``, ``skipped`` or ``recomputed``), the
        parameter values (SI units), ``wall_time_s`` and the analysis columns.
        ``table.attrs["store"]`` is the store directory.
    """
    import pandas as pd

    points = list(points)
    if not points:
        raise ValueError("the sweep has no parameter points")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    if not isinstance(n_workers, int | np.integer) or n_workers <= 0:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    if validate and hasattr(runner, "validate_point"):
        for point in points:
            runner.validate_point(point)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    identity = _runner_identity(runner)
    tasks = []
    for point in points:
        for seed in seeds:
            key = run_key({"runner": identity, "point": point, "seed": seed})
            tasks.append((key, point, seed))
    keys = [task[0] for task in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("the sweep has duplicate (point, seed) pairs; make points distinct")

    rows = {}
    if progress:
        _progress_bar(0, len(tasks))
    if scheduler == "serial":
        for key, point, seed in tasks:
            try:
                rows[key] = run_one(runner, point, seed, store, analysis, key)
            except Exception as error:
                raise RuntimeError(_failure_message(key, point, seed, error)) from error
            if progress:
                _progress_bar(len(rows), len(tasks))
    else:
        from distributed import as_completed

        client, owned = _open_client(scheduler, n_workers)
        try:
            futures = [
                client.submit(
                    run_one,
                    runner,
                    point,
                    seed,
                    str(store.directory),
                    analysis,
                    key,
                    key=f"neurosrnn-sweep-{key}",
                    pure=False,
                    retries=2,
                )  # fmt: skip
                for key, point, seed in tasks
            ]
            by_future = {future.key: task for future, task in zip(futures, tasks, strict=True)}
            for future in as_completed(futures):
                try:
                    row = future.result()
                except Exception as error:
                    key, point, seed = by_future[future.key]
                    raise RuntimeError(_failure_message(key, point, seed, error)) from error
                rows[row["key"]] = row
                if progress:
                    _progress_bar(len(rows), len(tasks))
        finally:
            for item in owned:
                item.close()
    # Every run of this sweep finished: its temporary files left by killed writers can go.
    store.remove_temporary_files(keys=keys)
    table = pd.DataFrame([rows[key] for key in keys])
    table.attrs["store"] = str(store.directory)
    return table


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def add_sweep_subcommand(subparsers):
    """Register ``neurosrnn sweep FILE`` on an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep described by a TOML sweep file",
        description=(
            "Run a grid or random parameter sweep described by a TOML sweep file "
            "(see neurosrnn.sweep_file for the format) on a Dask LocalCluster or an "
            "existing scheduler. Runs already complete in the store are skipped; "
            "corrupt ones are recomputed. Writes one CSV table with a row per run."
        ),
    )
    parser.add_argument("sweep_file", type=Path, help="TOML sweep file")
    parser.add_argument(
        "--store", type=Path, default=None, help="results store directory (overrides the file)"
    )
    parser.add_argument(
        "--table", type=Path, default=None, help="CSV table to write (default: STORE/table.csv)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (overrides the file)"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler, or 'serial' to run in this process",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate the file and list the runs only"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=sweep_command)
    return parser


def sweep_command(arguments, out=None):
    """Handler of ``neurosrnn sweep``; returns the process exit status.

    `out` is the stream for normal output (default: stdout); errors go to stderr.
    """
    out = out or sys.stdout
    from neurosrnn.sweep_file import load_sweep_file

    try:
        spec = load_sweep_file(arguments.sweep_file)
    except (ValueError, OSError) as error:
        print(f"neurosrnn sweep: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # DimensionMismatchError and friends
        if type(error).__name__ == "DimensionMismatchError":
            print(f"neurosrnn sweep: error: {error}", file=sys.stderr)
            return 2
        raise
    store = arguments.store or spec.store
    workers = arguments.workers or spec.workers
    if workers <= 0:
        print("neurosrnn sweep: error: --workers must be > 0", file=sys.stderr)
        return 2
    scheduler = arguments.scheduler or spec.scheduler
    n_runs = len(spec.points) * len(spec.seeds)
    if arguments.dry_run:
        print(f"{spec!r}\n{n_runs} run(s) into {store}", file=out)
        return 0
    table = run_sweep(
        spec.runner,
        spec.points,
        seeds=spec.seeds,
        store=store,
        scheduler=scheduler,
        n_workers=workers,
        progress=not arguments.quiet,
    )
    table_path = Path(arguments.table or Path(store) / "table.csv")
    with atomic_write(table_path, "w") as handle:
        table.to_csv(handle, index=False)
    counts = table["status"].value_counts().to_dict()
    print(f"{len(table)} run(s): {counts}; table written to {table_path}", file=out)
    return 0


def _main(argv=None):
    """``python -m neurosrnn.sweep FILE ...`` (same options as ``neurosrnn sweep``)."""
    parser = argparse.ArgumentParser(prog="neurosrnn")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sweep_subcommand(subparsers)
    arguments = parser.parse_args(["sweep", *(argv if argv is not None else sys.argv[1:])])
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(_main())
