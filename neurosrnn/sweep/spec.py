"""Sweep specification files: a small TOML description of a parameter sweep, checked first.

Format
------
::

    [sweep]
    mode = "grid"              # "grid" (default) or "random"
    samples = 16               # random mode: number of points
    sampling_seed = 0          # random mode: seed of the sampler
    seeds = [1, 2]             # each point runs once per seed (default [0])
    store = "sweep-results"    # results store directory (relative to the file)
    workers = 2                # LocalCluster workers
    scheduler = ""             # address of a running Dask scheduler, "serial" or ""

    [network]                  # a balanced E/I network (Brian2NetworkRunner)
    model = "lif"
    device = "runtime"         # or "cpp_standalone" (one build per worker, run_args)
    N_excitatory = 400
    N_inhibitory = 100
    K = 50
    J0 = "0.5 mV"
    g = 5
    duration = "1 s"
    dt = "0.1 ms"
    graph_seed = 1

    [network.parameters]       # fixed per-neuron parameters: values or samplers
    I_ext = "25 mV"
    tau_m = "gamma(10 ms, 4)"  # drawn once from graph_seed, the same in every run

    [network.initial_ranges]   # initial values drawn per run seed
    v = ["0 mV", "20 mV"]

    [parameters]               # grid: a list per parameter
    J0 = ["0.1 mV", "0.2 mV", "0.4 mV"]
    I_ext = ["22 mV", "26 mV"]

Instead of ``[network]``, a ``[sparseprop]`` section runs the inhibitory balanced
network on the exact SparseProp engine (`neurosrnn.sweep.runners.SparsePropRunner`)::

    [sparseprop]
    model = "theta"            # or "lif"
    N = 10000
    K = 100
    J0 = 1.0
    rate = "1 Hz"              # target rate of the balancing drive
    tau = "10 ms"
    heterogeneity = 0.0
    duration = "2 s"
    graph_seed = 0

    [parameters]
    J0 = [0.5, 1, 2]
    heterogeneity = [0.0, 0.2]

In random mode each parameter is ``{low = "...", high = "...", log = false}`` or
``{choices = [...]}``. Values are written as on the command line (one syntax, read by
`neurosrnn.spec_syntax`, which also reads the network spec files of ``neurosrnn run
--spec``): quantities are strings ``"<number> <unit>"`` with any Brian2 unit
(``"10 ms"``, ``"0.5 mV"``, ``"2 nA"``, ``"20 Hz"``, ``"1e-3 second"``, and the SI
symbols ``s``, ``m``, ``V``, ``A``, ``kg``, ``g``); dimensionless values are plain
numbers; ``[network.parameters]`` also takes sampler calls such as
``"gamma(10 ms, 4)"``, ``"lognormal(200 ms, 0.5)"`` or ``"uniform(15 mV, 25 mV)"``,
drawn once per sweep from ``graph_seed`` (in the order of the file).

Validation happens in `load_sweep_file`, before anything runs or is written: unknown
sections, keys, models or parameters, wrong or missing units (Brian2's
``DimensionMismatchError``), empty grids, non-positive sizes, an in-degree ``K``
above ``N - 1``, a time step that is not a positive finite time, a code generation
target outside `neurosrnn.devices.RUNTIME_TARGETS`, a store path that cannot become
a writable folder and malformed values all raise with a message naming the offending
entry and what is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from neurosrnn.spec_syntax import (
    check_keys,
    integer_key,
    parse_network_table,
    parse_quantity,
    required_key,
)
from neurosrnn.sweep.points import grid_points, random_points
from neurosrnn.sweep.runners import Brian2NetworkRunner, SparsePropRunner
from neurosrnn.validation import check_output_folder, seeded_rng

__all__ = ["SweepSpecification", "load_sweep_file", "parse_sweep", "parse_quantity"]

_SWEEP_KEYS = {"mode", "samples", "sampling_seed", "seeds", "store", "workers", "scheduler"}
_NETWORK_KEYS = {
    "model",
    "device",
    "N_excitatory",
    "N_inhibitory",
    "K",
    "J0",
    "g",
    "duration",
    "dt",
    "graph_seed",
    "parameters",
    "initial_ranges",
    "codegen_target",
    "model_options",
}
_SPARSEPROP_KEYS = {
    "model",
    "N",
    "K",
    "J0",
    "rate",
    "tau",
    "heterogeneity",
    "duration",
    "graph_seed",
}
_check_keys = check_keys
_required = required_key
_integer = integer_key


@dataclass
class SweepSpecification:
    """A parsed and validated sweep file.

    Attributes
    ----------
    runner : neurosrnn.sweep.runners.Brian2NetworkRunner or SparsePropRunner
    points : list of dict
        Parameter points (quantities with units).
    seeds : list of int
    store : pathlib.Path
    workers : int
    scheduler : str or None
    mode : str
    """

    runner: object
    points: list
    seeds: list
    store: Path
    workers: int
    scheduler: object
    mode: str

    def __repr__(self):
        names = sorted(self.points[0]) if self.points else []
        return (
            f"<SweepSpecification {self.mode} sweep over {names}: {len(self.points)} point(s) x "
            f"{len(self.seeds)} seed(s), {self.runner!r}>"
        )


def _parse_network(table):
    """`Brian2NetworkRunner` of a ``[network]`` section."""
    _check_keys(table, _NETWORK_KEYS, "network")
    shared = parse_network_table(table, "network")
    if "model" not in shared:
        raise ValueError("[network] needs model = '<name>' (e.g. 'lif')")
    N_excitatory = _integer(table, "N_excitatory", "network")
    N_inhibitory = _integer(table, "N_inhibitory", "network", default=0, minimum=0)
    graph_seed = _integer(table, "graph_seed", "network", default=0, minimum=0)
    initial_ranges = {}
    for name, bounds in table.get("initial_ranges", {}).items():
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ValueError(f"[network.initial_ranges] {name} must be [low, high]")
        initial_ranges[name] = tuple(
            parse_quantity(bound, f"[network.initial_ranges] {name}") for bound in bounds
        )
    return Brian2NetworkRunner(
        model=shared["model"],
        N_excitatory=N_excitatory,
        N_inhibitory=N_inhibitory,
        K=_integer(table, "K", "network"),
        J0=parse_quantity(_required(table, "J0", "network"), "[network] J0"),
        g=shared.get("g", 0.0),
        duration=shared.get("duration", parse_quantity("1 s")),
        parameters=_drawn_parameters(
            shared.get("parameters", {}), N_excitatory + N_inhibitory, graph_seed
        ),
        initial_ranges=initial_ranges,
        graph_seed=graph_seed,
        dt=shared.get("dt"),
        device=table.get("device", "runtime"),
        codegen_target=table.get("codegen_target", "numpy"),
        model_options=dict(table.get("model_options", {})),
    )


def _drawn_parameters(parameters, N, graph_seed):
    """Sampler-valued ``[network.parameters]`` drawn once from `graph_seed`, in file order."""
    from neurosrnn.models.timescale_samplers import TimescaleSampler

    rng = seeded_rng(graph_seed)
    return {
        name: value.sample(N, seed=rng) if isinstance(value, TimescaleSampler) else value
        for name, value in parameters.items()
    }


def _parse_sparseprop(table):
    """`SparsePropRunner` of a ``[sparseprop]`` section."""
    _check_keys(table, _SPARSEPROP_KEYS, "sparseprop")
    values = {
        name: parse_quantity(table[name], f"[sparseprop] {name}")
        for name in ("J0", "rate", "tau", "heterogeneity", "duration")
        if name in table
    }
    return SparsePropRunner(
        model=table.get("model", "theta"),
        N=_integer(table, "N", "sparseprop"),
        K=_integer(table, "K", "sparseprop"),
        graph_seed=_integer(table, "graph_seed", "sparseprop", default=0, minimum=0),
        **values,
    )


def _parse_runner(document):
    """The runner of the one engine section (``[network]`` or ``[sparseprop]``)."""
    if ("network" in document) == ("sparseprop" in document):
        raise ValueError(
            "the sweep file needs exactly one of a [network] section (Brian2) or a "
            "[sparseprop] section (exact event-driven engine)"
        )
    if "network" in document:
        return _parse_network(document["network"])
    return _parse_sparseprop(document["sparseprop"])


def _check_parameter_names(axes, runner):
    if not axes:
        raise ValueError("the [parameters] section is empty: name at least one parameter to sweep")
    allowed = runner.sweepable()
    for name in axes:
        if name not in allowed:
            raise ValueError(
                f"unknown sweep parameter {name!r} for {runner!r}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )


def _grid_from_axes(axes):
    """Points of a grid sweep: ``name = [value, ...]`` per parameter."""
    parsed = {}
    for name, values in axes.items():
        if not isinstance(values, list):
            raise ValueError(f"[parameters] {name} must be a list of values in a grid sweep")
        if not values:
            raise ValueError(f"[parameters] {name} is an empty grid axis; give >= 1 value")
        parsed[name] = [parse_quantity(v, f"[parameters] {name}") for v in values]
    return grid_points(parsed)


def _random_from_ranges(axes, sweep):
    """Points of a random sweep: ``name = {low, high[, log]}`` or ``{choices}``."""
    ranges = {}
    for name, spec in axes.items():
        if not isinstance(spec, dict):
            raise ValueError(
                f"[parameters] {name} must be {{low = ..., high = ...}} or "
                "{choices = [...]} in a random sweep"
            )
        _check_keys(spec, {"low", "high", "log", "choices"}, f"parameters.{name}")
        entry = {k: v for k, v in spec.items() if k == "log"}
        if "choices" in spec:
            entry["choices"] = [parse_quantity(v, f"[parameters] {name}") for v in spec["choices"]]
        for bound in ("low", "high"):
            if bound in spec:
                entry[bound] = parse_quantity(spec[bound], f"[parameters] {name}.{bound}")
        ranges[name] = entry
    return random_points(
        ranges,
        _integer(sweep, "samples", "sweep"),
        seed=_integer(sweep, "sampling_seed", "sweep", default=0, minimum=0),
    )


def _parse_seeds(sweep):
    seeds = sweep.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds:
        raise ValueError("[sweep] seeds must be a non-empty list of integers")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"[sweep] seeds must be integers >= 0, got {seed!r}")
    return list(seeds)


def _parse_scheduler(sweep):
    scheduler = sweep.get("scheduler") or None
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValueError("[sweep] scheduler must be an address string or 'serial'")
    return scheduler


def parse_sweep(document, base_directory="."):
    """Validate a sweep document (the dict read from TOML) and build the sweep.

    The checks run in the order of the file's meaning: sections and keys, the engine
    section (its runner), the mode, the swept parameter names, their values (units
    included, through ``runner.validate_point``), then seeds, store and scheduler.

    Parameters
    ----------
    document : dict
        Parsed TOML (sections ``sweep``, ``network`` or ``sparseprop``, ``parameters``).
    base_directory : str or pathlib.Path
        Relative store paths are taken relative to it.

    Returns
    -------
    SweepSpecification
    """
    _check_keys(document, {"sweep", "network", "sparseprop", "parameters"}, "top level")
    sweep = document.get("sweep", {})
    _check_keys(sweep, _SWEEP_KEYS, "sweep")
    runner = _parse_runner(document)
    mode = sweep.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise ValueError(f"[sweep] mode must be 'grid' or 'random', got {mode!r}")
    axes = document.get("parameters", {})
    _check_parameter_names(axes, runner)
    points = _grid_from_axes(axes) if mode == "grid" else _random_from_ranges(axes, sweep)
    for point in points:
        runner.validate_point(point)
    seeds = _parse_seeds(sweep)
    store = sweep.get("store", "sweep-results")
    if not isinstance(store, str) or not store:
        raise ValueError(f"[sweep] store must be a folder path (a non-empty string), got {store!r}")
    store = Path(store)
    if not store.is_absolute():
        store = Path(base_directory) / store
    check_output_folder(store, "[sweep] store")
    scheduler = _parse_scheduler(sweep)
    return SweepSpecification(
        runner=runner,
        points=points,
        seeds=seeds,
        store=store,
        workers=_integer(sweep, "workers", "sweep", default=2),
        scheduler=scheduler,
        mode=mode,
    )


def load_sweep_file(path):
    """Read and validate a TOML sweep file; see the module docstring for the format.

    Raises
    ------
    ValueError
        Malformed TOML or any invalid entry (a store path under a file included).
    PermissionError
        The store folder cannot be created or written.
    brian2.DimensionMismatchError
        A value with the wrong units.
    FileNotFoundError
        No such file.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        try:
            document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not valid TOML: {error}") from None
    return parse_sweep(document, base_directory=path.parent)
