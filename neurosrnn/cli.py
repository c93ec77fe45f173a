"""The ``neurosrnn`` command line: list models, build standalone projects, run simulations.

Commands
--------
``neurosrnn list``
    The neuron models of the library with their parameters and defaults.
``neurosrnn build MODEL --device cpp_standalone|cuda_standalone --out DIR``
    Write (and by default compile) a self-contained standalone project of a
    balanced E/I network of MODEL into DIR. Run it anywhere with ``./main`` (or
    ``make && ./main`` after copying it to another machine, best built with
    ``--portable``); `neurosrnn.results.load_standalone_results` reads its output.
``neurosrnn run MODEL --device runtime|cpp_standalone|cuda_standalone --duration T --out DIR``
    Simulate and write the results into DIR (format: `neurosrnn.results`):
    ``spikes.npz`` (``i``: neuron indices, ``t``: spike times in seconds),
    ``states.npz`` and ``metadata.json``. ``--sweep NAME=V1,V2,...`` compiles once
    and writes one folder per value (``DIR/run_000``, ...), listed in
    ``DIR/sweep.json``.

The network
-----------
By default ``run`` and ``build`` simulate the README's Quick start network: a balanced
E/I network (1000 neurons, 80 % excitatory, K = 100) with heterogeneous membrane time
constants and random initial values drawn from ``--seed``; for ``mat`` exactly
``J0 = 20 mV``, ``g = 6``, ``tau_m = gamma(10 ms, 4)``, ``I_ext = 20 mV`` and
``v = uniform(0 mV, 20 mV)``, and the same recipe adapted to every other model
(`network_defaults`). So ::

    neurosrnn run mat --device runtime --duration 1s --seed 1 --out results/mat

gives the spike trains of ::

    balanced_ei_network(mat(), 800, 200, K=100, J0=20 * mV, g=6.0, seed=1,
                        parameters={"tau_m": gamma_timescales(10 * ms, shape=4),
                                    "I_ext": 20 * mV},
                        initial_values={"v": uniform_values(0 * mV, 20 * mV)})

Per-neuron parameters and initial values are set with ``--set NAME=VALUE``: a value
(``--set tau_m=20ms``, ``--set I_ext=25*mV``) or a sampler drawn from the seed
(``--set tau_m=gamma(10ms, 4)``, ``--set v=uniform(-70mV, -50mV)``,
``lognormal(median, sigma)``, ``normal(mean, std[, minimum, maximum])``; syntax:
`neurosrnn.spec_syntax`). Samplers are drawn parameters first, then initial values,
each in the order of the defaults, then the spec file, then ``--set``.

``--spec FILE`` reads a network spec file, TOML in the syntax of the sweep files'
``[network]`` section (`neurosrnn.sweep.spec`)::

    [network]
    model = "mat"
    N_excitatory = 800
    N_inhibitory = 200
    K = 100
    J0 = "20 mV"
    g = 6
    seed = 1
    duration = "1 s"
    dt = "0.1 ms"

    [network.parameters]
    tau_m = "gamma(10 ms, 4)"
    I_ext = "20 mV"

    [network.initial_values]
    v = "uniform(0 mV, 20 mV)"

Options on the command line override the file, which overrides the defaults.

After a run the command warns (on stderr, exit status 0) when the network fired in
lockstep: a spike-train synchrony chi above 0.9, or spikes at fewer distinct times than
1 % of the spikes (or of the time steps). (The Quick start network itself fires in
population bursts, chi about 0.5, and passes.)

Bad model names, unknown parameters and bad values end the command with exit status
2 and a one-line message.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys

__all__ = [
    "main",
    "build_parser",
    "parse_quantity",
    "resolve_model",
    "model_library",
    "network_defaults",
    "SYNCHRONY_WARNING_CHI",
]

#: Synchrony chi above which ``run`` warns that the network fired in lockstep.
SYNCHRONY_WARNING_CHI = 0.9
_SYNCHRONY_TAU = 0.01  # s, filter of the spike trains for chi

# The Quick start network per model of the library, in the spec syntax: mat is the
# README's Quick start; the others follow the same recipe (heterogeneous tau_m, a drive
# near threshold, initial values spread between reset and threshold).
_QUICK_START = {
    "J0": "20 mV",
    "g": 6,
    "parameters": {"tau_m": "gamma(10 ms, 4)", "I_ext": "20 mV"},
    "initial_values": {"v": "uniform(0 mV, 20 mV)"},
}
_LIF = dict(_QUICK_START, parameters={"tau_m": "gamma(10 ms, 4)", "I_ext": "30 mV"})
_ALIF = {"J0": "0.01", "g": 6, "parameters": {"tau_m": "gamma(20 ms, 4)", "I_ext": "0.02"},
         "initial_values": {"v": "uniform(0, 0.01)"}}  # fmt: skip
_NETWORK_DEFAULTS = {
    "mat": _QUICK_START,
    "lif": _LIF,
    "lif_exponential": _LIF,
    "alif": _ALIF,
    "multi_alif": _ALIF,
}
# Initial values of the other models: spread between reset (or rest) and threshold.
_INITIAL_VALUES = {
    "theta": {"theta": "uniform(-3.14159, 3.14159)"},
    "qif": {"v": "uniform(-10, 10)"},
    "adex": {"V": "uniform(-70 mV, -50 mV)"},
}


class CommandLineError(Exception):
    """A user error: reported as one line, exit status 2."""


def parse_quantity(text):
    """Parse ``"20ms"``, ``"20 ms"``, ``"20*ms"``, ``"-55 mV"`` or ``"0.5"`` into a value.

    The command line's reader of `neurosrnn.spec_syntax.parse_quantity` (the one syntax
    of values on the command line and in spec files).

    Parameters
    ----------
    text : str

    Returns
    -------
    brian2.Quantity or float

    Raises
    ------
    ValueError
        Not a number optionally followed by a Brian2 unit expression.

    Examples
    --------
    >>> parse_quantity("25*mV")
    25. * mvolt
    """
    from neurosrnn.spec_syntax import parse_quantity as parse

    return parse(text, "value")


def _parse_assignment(text, option):
    if "=" not in text:
        raise CommandLineError(f"{option} expects NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    name = name.strip()
    if not name:
        raise CommandLineError(f"{option} expects NAME=VALUE, got {text!r}")
    return name, value


def model_library():
    """Model name -> zero-argument factory returning a `NeuronModel`.

    ``neurosrnn.models.MODEL_LIBRARY`` when available, else the models importable
    from ``neurosrnn.models``.
    """
    try:
        from neurosrnn.models import MODEL_LIBRARY

        return dict(MODEL_LIBRARY)
    except ImportError:
        from neurosrnn.models.lif import lif

        return {"lif": lif, "lif_exponential": lambda: lif("exponential")}


def resolve_model(name):
    """Return the `NeuronModel` called `name` (one place to extend the lookup).

    Raises
    ------
    CommandLineError
        Unknown name; the message lists the available models.
    """
    library = model_library()
    if name not in library:
        raise CommandLineError(
            f"unknown model {name!r}; available: {', '.join(sorted(library))} "
            "(see 'neurosrnn list')"
        )
    return library[name]()


def _default_coupling(model):
    """A moderate ``J0`` for a model without an entry in the defaults table.

    A tenth of its suprathreshold drive when that has the coupling's units, else
    1 mV for a voltage coupling, else 0.1 of the coupling unit.
    """
    from brian2 import mV, volt
    from brian2.units.fundamentalunits import get_dimensions

    unit = model.coupling_unit
    drive = model.suprathreshold_drive
    if drive is not None and get_dimensions(drive) == get_dimensions(unit):
        return 0.1 * drive
    if get_dimensions(unit) == get_dimensions(volt):
        return 1 * mV
    return 0.1 * unit


def network_defaults(name):
    """The default network of the library model `name`, in the spec syntax.

    For ``mat`` this is the README's Quick start network; the other models follow the
    same recipe (a gamma-distributed membrane time constant with shape 4, a drive near
    threshold, initial values spread between reset and threshold, ``g = 6``). A model
    without an entry gets its suprathreshold drive, a tenth of it as ``J0`` and
    gamma-distributed ``tau_m`` around its default.

    Parameters
    ----------
    name : str
        A key of `neurosrnn.models.MODEL_LIBRARY`.

    Returns
    -------
    dict
        ``J0``, ``g``, ``parameters`` and ``initial_values`` (name -> value text), as
        in a network spec file.

    Examples
    --------
    >>> network_defaults("mat")["parameters"]
    {'tau_m': 'gamma(10 ms, 4)', 'I_ext': '20 mV'}
    """
    if name in _NETWORK_DEFAULTS:
        defaults = _NETWORK_DEFAULTS[name]
        return {
            "J0": defaults["J0"],
            "g": defaults["g"],
            "parameters": dict(defaults["parameters"]),
            "initial_values": dict(defaults["initial_values"]),
        }
    model = resolve_model(name)
    parameters = {}
    if "tau_m" in model.parameters:
        parameters["tau_m"] = f"gamma({model.parameters['tau_m']!s}, 4)"
    if model.suprathreshold_drive is not None:
        parameters[model.drive_parameter] = str(model.suprathreshold_drive)
    return {
        "J0": str(_default_coupling(model)),
        "g": 6,
        "parameters": parameters,
        "initial_values": dict(_INITIAL_VALUES.get(name, {})),
    }


def _read_spec(path):
    """The ``[network]`` table of a network spec file, parsed (see the module docstring)."""
    import tomllib

    from neurosrnn.spec_syntax import check_keys, integer_key, parse_network_table

    if not os.path.isfile(path):
        raise CommandLineError(f"--spec file {path!r} does not exist")
    with open(path, "rb") as handle:
        try:
            document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise CommandLineError(f"--spec {path} is not valid TOML: {error}") from None
    check_keys(document, {"network"}, f"top level of {path}")
    table = document.get("network", {})
    check_keys(table, _SPEC_KEYS, "network")
    spec = parse_network_table(table, "network")
    if "seed" in table:
        spec["seed"] = integer_key(table, "seed", "network", minimum=0)
    if "N_excitatory" in spec and "N_inhibitory" not in spec:
        spec["N_inhibitory"] = 0
    if "N_inhibitory" in spec and "N_excitatory" not in spec:
        raise ValueError("[network] N_inhibitory needs N_excitatory")
    return spec


_SPEC_KEYS = {
    "model",
    "N_excitatory",
    "N_inhibitory",
    "K",
    "J0",
    "g",
    "seed",
    "duration",
    "dt",
    "parameters",
    "initial_values",
}


def _apply_spec(args):
    """Fill the options not given on the command line from ``--spec`` (in place)."""
    args.spec_values = _read_spec(args.spec) if getattr(args, "spec", None) else {}
    spec = args.spec_values
    if args.model is None:
        args.model = spec.get("model")
    for option in ("duration", "dt", "K", "J0", "g", "seed"):
        if getattr(args, option, None) is None and option in spec:
            setattr(args, option, spec[option])


def _network_sizes(args):
    """``(N_excitatory, N_inhibitory)`` from the options, the spec file, or 800 and 200."""
    spec = args.spec_values
    if args.N is None and args.excitatory_fraction is None and "N_excitatory" in spec:
        return spec["N_excitatory"], spec["N_inhibitory"]
    N = (
        args.N
        if args.N is not None
        else spec.get("N_excitatory", 800) + spec.get("N_inhibitory", 200)
    )
    fraction = 0.8 if args.excitatory_fraction is None else args.excitatory_fraction
    if not 0 <= fraction <= 1:
        raise CommandLineError(f"--excitatory-fraction must lie in [0, 1], got {fraction}")
    N_excitatory = int(round(N * fraction))
    return N_excitatory, N - N_excitatory


class _Network:
    """The resolved network of a ``run`` or ``build`` command (all values checked)."""

    def __init__(self, model, args, parameters, initial_values, defaults):
        from neurosrnn.spec_syntax import parse_quantity as parse

        self.model = model
        self.N_excitatory, self.N_inhibitory = _network_sizes(args)
        self.N = self.N_excitatory + self.N_inhibitory
        self.K = args.K if args.K is not None else 100
        self.J0 = args.J0 if args.J0 is not None else parse(defaults["J0"], "J0")
        self.g = float(args.g if args.g is not None else defaults["g"])
        self.seed = args.seed if args.seed is not None else 0
        self.parameters = parameters
        self.initial_values = initial_values
        self.record = tuple(args.record)

    def build(self):
        from neurosrnn.models.networks import balanced_ei_network

        return balanced_ei_network(
            self.model,
            self.N_excitatory,
            self.N_inhibitory,
            self.K,
            J0=self.J0,
            g=self.g,
            seed=self.seed,
            parameters=self.parameters,
            initial_values=self.initial_values,
            record_states=self.record,
            name="network",
        )

    def description(self):
        return {
            "model": self.model.name,
            "network": "balanced_ei",
            "N_excitatory": self.N_excitatory,
            "N_inhibitory": self.N_inhibitory,
            "K": self.K,
            "J0": str(self.J0),
            "g": self.g,
            "seed": self.seed,
            "parameters": {name: str(value) for name, value in self.parameters.items()},
            "initial_values": {name: str(value) for name, value in self.initial_values.items()},
        }


def _checked_values(model, N, seed, args, defaults):
    """Parameters and initial values: defaults, then ``--spec``, then ``--set``; checked.

    Returns ``(parameters, initial_values)``, dicts of values and samplers in draw
    order. Samplers are drawn here once with the network's seed (as the build will)
    so that bad values are refused before anything is built.
    """
    from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

    from neurosrnn.models.timescale_samplers import TimescaleSampler
    from neurosrnn.spec_syntax import parse_value
    from neurosrnn.validation import seeded_rng

    parameters = {k: parse_value(v, k) for k, v in defaults["parameters"].items()}
    initial_values = {k: parse_value(v, k) for k, v in defaults["initial_values"].items()}
    parameters.update(args.spec_values.get("parameters", {}))
    initial_values.update(args.spec_values.get("initial_values", {}))
    for name in {*args.spec_values.get("initial_values", {}), *args.spec_values.get(
        "parameters", {}
    )}:  # fmt: skip
        _check_settable(model, name, "[network] of --spec")
    for text in args.set:
        name, raw = _parse_assignment(text, "--set")
        _check_settable(model, name, "--set")
        value = parse_value(raw.strip(), f"--set {name}")
        (parameters if name in model.parameters else initial_values)[name] = value
    states = {s: model.equations[s].dim for s in model.equations.names}
    for name, value in initial_values.items():
        if name in model.parameters:
            raise CommandLineError(f"{name!r} is a parameter of model {model.name!r}, not a state")
        dimension = value.unit.dim if isinstance(value, TimescaleSampler) else None
        if dimension is None:
            dimension = get_dimensions(value)
        if dimension != states[name]:
            raise DimensionMismatchError(
                f"initial value of {name!r} for model {model.name!r} has the wrong units",
                dimension,
                states[name],
            )
    if model.drive_parameter not in parameters and model.suprathreshold_drive is not None:
        parameters[model.drive_parameter] = model.suprathreshold_drive
    rng = seeded_rng(seed)
    drawn = {
        name: value.sample(N, seed=rng) if isinstance(value, TimescaleSampler) else value
        for name, value in parameters.items()
    }
    model.validate_parameters(N, drawn)
    return parameters, initial_values


def _check_settable(model, name, option):
    """Raise unless `name` is a parameter or a state variable of `model`."""
    if name in model.parameters or name in model.equations.names:
        return
    raise CommandLineError(
        f"unknown parameter {name!r} for model {model.name!r} in {option}; allowed: "
        f"parameters {', '.join(sorted(model.parameters))}; initial values of "
        f"{', '.join(sorted(set(model.equations.names) - set(model.parameters)))}"
    )


def _checked_sweep(model, N, text):
    name, raw = _parse_assignment(text, "--sweep")
    if name not in model.parameters:
        raise CommandLineError(
            f"unknown parameter {name!r} for model {model.name!r}; allowed: "
            f"{', '.join(sorted(model.parameters))}"
        )
    values = []
    for item in raw.split(","):
        try:
            values.append(parse_quantity(item))
        except ValueError as error:
            raise CommandLineError(f"--sweep {name}: {error}") from None
    for value in values:
        model.validate_parameters(N, {name: value})
    return name, values


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _time(text):
    """A positive time with a unit (``1s``, ``200ms``) as a Brian2 quantity."""
    from brian2.units.fundamentalunits import DimensionMismatchError

    from neurosrnn.units import is_quantity, to_seconds

    try:
        value = parse_quantity(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    expected = f"expected a positive time such as 1s or 200ms, got {text!r}"
    if not is_quantity(value):  # a bare number: no unit
        raise argparse.ArgumentTypeError(expected)
    try:
        to_seconds(value, "time", positive=True, finite=False)
    except (ValueError, DimensionMismatchError):
        raise argparse.ArgumentTypeError(expected) from None
    return value


def _coupling(text):
    try:
        return parse_quantity(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"neurosrnn: error: {message}\n")


def _add_network_options(parser):
    group = parser.add_argument_group(
        "network (by default the README's Quick start network of the model; "
        "see 'neurosrnn list --verbose')"
    )
    group.add_argument(
        "--spec",
        metavar="FILE",
        default=None,
        help="network spec file (TOML, the [network] syntax of the sweep files); options "
        "given here override it",
    )
    group.add_argument("--N", type=_positive_int, default=None, help="number of neurons (1000)")
    group.add_argument(
        "--K", type=_positive_int, default=None, help="in-degree of every neuron (100)"
    )
    group.add_argument(
        "--excitatory-fraction",
        type=float,
        default=None,
        help="fraction of excitatory neurons (0.8)",
    )
    group.add_argument(
        "--J0",
        type=_coupling,
        default=None,
        help="coupling before 1/sqrt(K) scaling, in the model's coupling unit (e.g. 2mV); "
        "default: the model's Quick start value (20mV for mat)",
    )
    group.add_argument("--g", type=float, default=None, help="relative inhibition g (6)")
    group.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="seed of the graph, the samplers and the random initial values (0)",
    )
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a per-neuron parameter or an initial value: a value (tau_m=20ms) or a "
        "sampler drawn from --seed (tau_m=gamma(10ms, 4), v=uniform(-70mV, -50mV), "
        "lognormal(median, sigma), normal(mean, std[, minimum, maximum])); repeatable",
    )
    group.add_argument(
        "--record",
        action="append",
        default=[],
        metavar="STATE",
        help="record this state variable of the first 10 neurons (repeatable)",
    )
    group.add_argument("--dt", type=_time, default=None, help="time step (0.1ms)")


def _add_device_options(parser, devices, required=True):
    group = parser.add_argument_group("device")
    group.add_argument("--device", choices=devices, required=required, help="Brian2 device")
    group.add_argument(
        "--target",
        choices=("auto", "numpy", "cython"),
        default="auto",
        help="code generation target of the runtime device (auto)",
    )
    group.add_argument(
        "--openmp-threads",
        type=int,
        default=0,
        help="OpenMP threads of a cpp_standalone binary (0: no OpenMP)",
    )
    group.add_argument(
        "--compute-capability",
        type=float,
        default=None,
        help="CUDA compute capability to compile for (default: the GPU's, else 9.0)",
    )
    group.add_argument("--gpu-id", type=int, default=0, help="GPU to run on (0)")
    group.add_argument(
        "--portable",
        action="store_true",
        help="compile without -march=native so the binary runs on other CPUs",
    )


def _add_trained_options(parser):
    group = parser.add_argument_group("trained SRNN (instead of MODEL)")
    group.add_argument(
        "--trained",
        metavar="STEM",
        help="a network saved by neurosrnn.learning (TrainedSRNN.save: STEM.npz + STEM.json)",
    )
    group.add_argument(
        "--inputs",
        metavar="FILE",
        help="inputs of the trained network: .npy of shape (samples, T, n_in), or .npz "
        "with x (and labels y, to report the accuracy)",
    )


def _check_model_or_trained(args):
    """Exactly one of MODEL and --trained; --inputs with --trained only.

    Reads ``--spec`` first: the file may name the model and the duration.
    """
    if args.trained is not None and getattr(args, "spec", None):
        raise CommandLineError("--spec describes a network of a MODEL, not a --trained one")
    _apply_spec(args)
    if args.trained is None and args.model is None:
        raise CommandLineError(
            "give a MODEL (see 'neurosrnn list'), a --spec file naming one, or --trained STEM"
        )
    if args.trained is not None and args.model is not None:
        raise CommandLineError("give either MODEL or --trained, not both")
    if args.trained is not None and args.inputs is None:
        raise CommandLineError("--trained needs --inputs FILE")
    if args.trained is None and args.inputs is not None:
        raise CommandLineError("--inputs is only used with --trained")
    if args.command == "build" and args.duration is None:
        args.duration = _time("1s")
    if args.trained is None and args.duration is None:
        raise CommandLineError("--duration is required with MODEL (e.g. --duration 1s)")
    if args.trained is not None and getattr(args, "sweep", None):
        raise CommandLineError("--sweep is not available with --trained")


def _check_folder_option(path, option):
    """Check that `path` can become the folder of `option`, writing nothing; return it."""
    from neurosrnn.validation import check_output_folder

    try:
        return check_output_folder(path, option)
    except (TypeError, ValueError, PermissionError) as error:
        raise CommandLineError(str(error)) from None


@contextlib.contextmanager
def _removed_on_failure(*paths):
    """Remove the folders among `paths` that the block created, if the block fails.

    Folders that existed before are left as they are, so a failed command never
    deletes anything of the user's and never leaves an empty or partial output folder.
    """
    created = [os.path.abspath(p) for p in paths if p is not None and not os.path.lexists(p)]
    try:
        yield
    except BaseException:
        for path in created:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
        raise


def _load_inputs(path):
    import numpy as np

    if not os.path.exists(path):
        raise CommandLineError(f"--inputs file {path!r} does not exist")
    if path.endswith(".npz"):
        with np.load(path) as archive:
            if "x" not in archive.files:
                raise CommandLineError(f"--inputs {path!r} must hold an array named 'x'")
            return np.array(archive["x"])
    return np.load(path)


def _command_build_trained(args, settings, out):
    from neurosrnn.learning import deploy
    from neurosrnn.learning.train import TrainedSRNN

    trained = TrainedSRNN.load(args.trained)
    x = _load_inputs(args.inputs)
    simulation, _ = deploy.build_project(
        trained, x, args.out, device=settings, compile=not args.no_compile
    )
    simulation.close()
    out.write(
        f"{settings.describe()} project of trained network {args.trained!r} on {len(x)} "
        f"input sample(s) written to {args.out}\n"
    )
    return 0


def _command_run_trained(args, settings, out):
    from neurosrnn.devices import check_can_run
    from neurosrnn.learning import deploy

    check_can_run(settings)
    summary = deploy.simulate_saved(args.trained, args.inputs, args.out, device=settings)
    accuracy = f", accuracy {summary['accuracy']:.4f}" if "accuracy" in summary else ""
    out.write(
        f"{summary['n_samples']} sample(s) of trained network {args.trained!r}{accuracy}; "
        f"predictions, spikes and summary.json written to {args.out}\n"
    )
    return 0


def build_parser():
    """The `argparse` parser of the ``neurosrnn`` command."""
    parser = _Parser(
        prog="neurosrnn",
        description="Adaptive multi-timescale spiking recurrent networks on Brian2.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    listing = commands.add_parser("list", help="list the neuron models of the library")
    listing.add_argument("--verbose", action="store_true", help="also show each description")
    _add_build_command(commands)
    _add_run_command(commands)
    from neurosrnn.sweep.cli import add_sweep_subcommand

    add_sweep_subcommand(commands)
    return parser


def _add_build_command(commands):
    """The ``neurosrnn build`` subcommand."""
    build = commands.add_parser(
        "build",
        help="write a standalone C++/CUDA project",
        description="Write a self-contained standalone project of a balanced E/I network "
        "of MODEL into --out; run it with ./main in that folder.",
    )
    build.add_argument(
        "model", metavar="MODEL", nargs="?", help="model name (see 'neurosrnn list')"
    )
    _add_trained_options(build)
    _add_device_options(build, ("cpp_standalone", "cuda_standalone"))
    build.add_argument("--out", required=True, help="project folder")
    build.add_argument("--duration", type=_time, default=None, help="simulated time (1s)")
    build.add_argument("--no-compile", action="store_true", help="only generate the sources")
    _add_network_options(build)


def _add_run_command(commands):
    """The ``neurosrnn run`` subcommand."""
    run = commands.add_parser(
        "run",
        help="simulate and write results",
        description="Simulate a balanced E/I network of MODEL and write spikes.npz "
        "(i: indices, t: times in seconds), states.npz and metadata.json into --out.",
    )
    run.add_argument("model", metavar="MODEL", nargs="?", help="model name (see 'neurosrnn list')")
    _add_trained_options(run)
    _add_device_options(run, ("runtime", "cpp_standalone", "cuda_standalone"))
    run.add_argument("--duration", type=_time, help="simulated time, e.g. 1s (required with MODEL)")
    run.add_argument("--out", required=True, help="results folder")
    run.add_argument(
        "--build-dir",
        default=None,
        help="standalone project folder (default: OUT/project)",
    )
    run.add_argument(
        "--sweep",
        default=None,
        metavar="NAME=V1,V2,...",
        help="run once per value (standalone: compiled once), results in OUT/run_000, ...",
    )
    progress = run.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="show progress"
    )
    progress.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="hide progress (default: shown when stderr is a terminal)",
    )
    _add_network_options(run)


def _device_options(args):
    from neurosrnn.devices import DeviceSettings

    return DeviceSettings(
        name=args.device,
        target=args.target,
        openmp_threads=args.openmp_threads,
        compute_capability=args.compute_capability,
        gpu_id=args.gpu_id,
        portable=args.portable,
    )


def _command_list(args, out):
    from brian2.units.fundamentalunits import Quantity

    for name, factory in sorted(model_library().items()):
        model = factory()
        parameters = ", ".join(
            f"{key}={value!s}" if isinstance(value, Quantity) else f"{key}={value!r}"
            for key, value in model.parameters.items()
        )
        # a variant's NeuronModel carries a suffix (lif -> lif_delta): say so
        alias = f" (NeuronModel {model.name!r})" if model.name != name else ""
        out.write(f"{name}: {parameters}{alias}\n")
        if args.verbose and model.description:
            out.write(f"    {model.description}\n")
        if args.verbose:
            defaults = network_defaults(name)
            values = {**defaults["parameters"], **defaults["initial_values"]}
            settings = ", ".join(f"{key}={value}" for key, value in values.items())
            out.write(
                f"    run/build network: J0={defaults['J0']}, g={defaults['g']}, {settings}\n"
            )
    return 0


def _prepare(args):
    """Model, resolved network and device settings of a ``run``/``build`` command."""
    model = resolve_model(args.model)
    unknown = sorted(set(args.record) - set(model.equations.names))
    if unknown:
        raise CommandLineError(
            f"--record {unknown[0]!r} is not a state of model {model.name!r}; allowed: "
            f"{', '.join(sorted(model.equations.names))}"
        )
    defaults = network_defaults(args.model)
    N_excitatory, N_inhibitory = _network_sizes(args)
    seed = args.seed if args.seed is not None else 0
    parameters, initial_values = _checked_values(
        model, N_excitatory + N_inhibitory, seed, args, defaults
    )
    network = _Network(model, args, parameters, initial_values, defaults)
    settings = _device_options(args)
    return network, settings


def _command_build(args, out):
    from neurosrnn.devices import Simulation

    _check_model_or_trained(args)
    _check_folder_option(args.out, "--out")
    if args.trained is not None:
        with _removed_on_failure(args.out):
            return _command_build_trained(args, _device_options(args), out)
    network, settings = _prepare(args)
    simulation = Simulation(
        network.build, args.duration, device=settings, directory=args.out, dt=args.dt,
        metadata={"command": "build", **network.description()},
    )  # fmt: skip
    try:
        with _removed_on_failure(args.out):
            simulation.build(compile=not args.no_compile)
    finally:
        simulation.close()
    action = "generated" if args.no_compile else "generated and compiled"
    command = "make && ./main" if args.no_compile else "./main"
    out.write(
        f"{settings.describe()} project of {network.model.name!r} {action} in {args.out}; "
        "run it with "
        f"'cd {args.out} && {command}' (results in {args.out}/results; read them with "
        "neurosrnn.results.load_standalone_results)\n"
    )
    return 0


def _command_run(args, out):
    from neurosrnn.devices import Simulation, check_can_run

    _check_model_or_trained(args)
    _check_folder_option(args.out, "--out")
    if args.build_dir is not None:
        _check_folder_option(args.build_dir, "--build-dir")
    if args.trained is not None:
        with _removed_on_failure(args.out):
            return _command_run_trained(args, _device_options(args), out)
    network, settings = _prepare(args)
    sweep = _checked_sweep(network.model, network.N, args.sweep) if args.sweep else None
    check_can_run(settings)  # before a CUDA compile that could not run here
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    directory = args.build_dir or os.path.join(args.out, "project")
    simulation = Simulation(
        network.build,
        args.duration,
        device=settings,
        directory=directory if settings.is_standalone else None,
        dt=args.dt,
        report="stderr" if progress else None,
        metadata={"command": "run", **network.description()},
    )
    check = _SynchronyCheck(network.N, args.duration, args.dt)
    # the output folder is created by the first write; a failed run removes what it created
    try:
        with _removed_on_failure(args.out, args.build_dir):
            simulation.build()
            if sweep is None:
                return _run_once(simulation, args.out, out, check)
            return _run_sweep(simulation, sweep, args.out, out, check, progress=args.progress)
    finally:
        simulation.close()


class _SynchronyCheck:
    """The warning of a run whose neurons fire in lockstep (see the module docstring)."""

    def __init__(self, N, duration, dt):
        from neurosrnn.units import to_seconds

        self.N = N
        self.duration = to_seconds(duration, "duration")
        self.dt = 1e-4 if dt is None else to_seconds(dt, "dt")

    def message(self, i, t):
        """The warning text for spikes ``(i, t)`` (t in seconds), or None if asynchronous."""
        import numpy as np

        from neurosrnn.analysis.synchrony import spike_synchrony_chi

        t = np.asarray(t, dtype=float)
        if t.size < 2:
            return None
        steps = max(1, int(round(self.duration / self.dt)))
        distinct = np.unique(np.round(t / self.dt)).size
        chi = spike_synchrony_chi(
            (np.asarray(i), t), _SYNCHRONY_TAU, dt=0.001, N=self.N, t_start=0.0,
            t_stop=self.duration,
        )  # fmt: skip
        lockstep = distinct < 0.01 * min(t.size, steps)
        if not (chi > SYNCHRONY_WARNING_CHI or lockstep):
            return None
        return (
            f"the network fired in lockstep ({t.size} spikes at {distinct} distinct times, "
            f"synchrony chi = {chi:.2f}); randomise the initial values (e.g. --set "
            "v=uniform(0mV, 20mV)) or draw heterogeneous parameters (e.g. --set "
            "tau_m=gamma(10ms, 4))"
        )

    def warn(self, i, t, prefix=""):
        message = self.message(i, t)
        if message is not None:
            sys.stderr.write(f"neurosrnn: warning: {prefix}{message}\n")
        return message


def _run_once(simulation, folder, out, check):
    """One run of a built `simulation`, results saved into `folder`."""
    results = simulation.run(save=False)
    results.save(folder)
    out.write(f"{len(results.i)} spikes written to {os.path.join(folder, 'spikes.npz')}\n")
    check.warn(results.i, results.t)
    return 0


def _run_sweep(simulation, sweep, folder, out, check, progress=None):
    """One run per value of ``sweep = (name, values)``: ``folder/run_<k>`` + ``sweep.json``.

    Every value was checked by `_checked_sweep` before the build.
    """
    from neurosrnn.progress import progress_bar
    from neurosrnn.results import write_json_atomic

    name, values = sweep
    listing = []
    runs = progress_bar(values, label=f"sweep {name}", unit="runs", progress=progress)
    for index, value in enumerate(runs):
        results = simulation.run({name: value}, save=False)
        results.metadata["sweep"] = {name: str(value)}
        results.save(os.path.join(folder, f"run_{index:03d}"))
        check.warn(results.i, results.t, f"run_{index:03d} ({name} = {value}): ")
        listing.append({"folder": f"run_{index:03d}", name: str(value), "spikes": len(results.i)})
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(
        os.path.join(folder, "sweep.json"),
        {"parameter": name, "runs": listing, "compilations": simulation.compile_count},
    )
    out.write(
        f"{len(values)} runs of {name} written to {folder}/run_000..run_{len(values) - 1:03d} "
        f"({simulation.compile_count} compilation(s))\n"
    )
    return 0


def main(argv=None, out=None):
    """Entry point of the ``neurosrnn`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).
    out : file, optional
        Stream for normal output (default: stdout).
    """
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    from brian2 import BrianLogger

    if not getattr(args, "verbose", False):
        BrianLogger.log_level_warn()  # Brian2/brian2cuda log every preference at INFO
    from neurosrnn.sweep.cli import sweep_command

    commands = {
        "list": _command_list,
        "build": _command_build,
        "run": _command_run,
        "sweep": sweep_command,
    }
    from brian2.units.fundamentalunits import DimensionMismatchError

    from neurosrnn.devices import CUDAToolkitNotFoundError, GPUNotAvailableError

    try:
        return commands[args.command](args, out)
    except (CommandLineError, ValueError, DimensionMismatchError) as error:
        sys.stderr.write(f"neurosrnn: error: {_one_line(error)}\n")
        return 2
    except (GPUNotAvailableError, CUDAToolkitNotFoundError, ImportError) as error:
        sys.stderr.write(f"neurosrnn: error: {_one_line(error)}\n")
        return 1


def _one_line(error):
    return " ".join(str(error).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
