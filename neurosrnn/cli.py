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

Parameters are set with ``--set NAME=VALUE`` (e.g. ``--set tau_m=20ms``,
``--set I_ext=25*mV``). Bad model names, unknown parameters and bad values end the
command with exit status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sys

__all__ = ["main", "build_parser", "parse_quantity", "resolve_model", "model_library"]

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(?:\*?\s*([A-Za-z][A-Za-z0-9]*))?\s*$")


class CommandLineError(Exception):
    """A user error: reported as one line, exit status 2."""


def parse_quantity(text):
    """Parse ``"20ms"``, ``"20 ms"``, ``"20*ms"``, ``"-55 mV"`` or ``"0.5"`` into a value.

    Parameters
    ----------
    text : str

    Returns
    -------
    brian2.Quantity or float

    Raises
    ------
    ValueError
        Not a number optionally followed by one Brian2 unit name.
    """
    import brian2.units as units
    from brian2.units.fundamentalunits import Unit

    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(
            f"cannot read {text!r} as a value: write a number with an optional unit, "
            "e.g. 20ms, 25*mV, 0.5"
        )
    number, unit_name = float(match.group(1)), match.group(2)
    if unit_name is None:
        return number
    unit = {"s": units.second, "sec": units.second}.get(unit_name)
    if unit is None:
        unit = getattr(units, unit_name, None)
    if not isinstance(unit, Unit):
        raise ValueError(f"unknown unit {unit_name!r} in {text!r} (e.g. ms, second, mV, nA, Hz)")
    return number * unit


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
    """A moderate ``J0`` for `model`.

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


def _network_builder(model, args, parameters):
    """The callable building the CLI's balanced E/I network of `model`."""
    from neurosrnn.models.networks import balanced_ei_network

    N_excitatory = int(round(args.N * args.excitatory_fraction))
    N_inhibitory = args.N - N_excitatory
    J0 = args.J0 if args.J0 is not None else _default_coupling(model)

    def build():
        return balanced_ei_network(
            model,
            N_excitatory,
            N_inhibitory,
            args.K,
            J0=J0,
            g=args.g,
            seed=args.seed,
            parameters=parameters,
            record_states=tuple(args.record),
            name="network",
        )

    description = {
        "model": model.name,
        "network": "balanced_ei",
        "N_excitatory": N_excitatory,
        "N_inhibitory": N_inhibitory,
        "K": args.K,
        "J0": str(J0),
        "g": args.g,
        "seed": args.seed,
        "parameters": {name: str(value) for name, value in parameters.items()},
    }
    return build, description


def _checked_parameters(model, N, assignments):
    """Parse and check ``--set`` values against the model (before any build)."""
    values = {}
    for text in assignments:
        name, raw = _parse_assignment(text, "--set")
        if name not in model.parameters:
            raise CommandLineError(
                f"unknown parameter {name!r} for model {model.name!r}; allowed: "
                f"{', '.join(sorted(model.parameters))}"
            )
        try:
            values[name] = parse_quantity(raw)
        except ValueError as error:
            raise CommandLineError(f"--set {name}: {error}") from None
    if model.drive_parameter not in values and model.suprathreshold_drive is not None:
        values[model.drive_parameter] = model.suprathreshold_drive
    return model.validate_parameters(N, values)


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
    group = parser.add_argument_group("network (a balanced E/I network of the model)")
    group.add_argument("--N", type=_positive_int, default=1000, help="number of neurons (1000)")
    group.add_argument(
        "--K", type=_positive_int, default=100, help="in-degree of every neuron (100)"
    )
    group.add_argument(
        "--excitatory-fraction",
        type=float,
        default=0.8,
        help="fraction of excitatory neurons (0.8)",
    )
    group.add_argument(
        "--J0",
        type=_coupling,
        default=None,
        help="coupling before 1/sqrt(K) scaling, in the model's coupling unit (e.g. 2mV); "
        "default: a tenth of the model's suprathreshold drive",
    )
    group.add_argument("--g", type=float, default=5.0, help="relative inhibition g (5)")
    group.add_argument("--seed", type=int, default=0, help="seed of the graph (0)")
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="per-neuron parameter value for every neuron, e.g. --set tau_m=20ms "
        "(repeatable); default drive: the model's suprathreshold drive",
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
    """Exactly one of MODEL and --trained; --inputs with --trained only."""
    if args.trained is None and args.model is None:
        raise CommandLineError("give a MODEL (see 'neurosrnn list') or --trained STEM")
    if args.trained is not None and args.model is not None:
        raise CommandLineError("give either MODEL or --trained, not both")
    if args.trained is not None and args.inputs is None:
        raise CommandLineError("--trained needs --inputs FILE")
    if args.trained is None and args.inputs is not None:
        raise CommandLineError("--inputs is only used with --trained")
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
    build.add_argument("--duration", type=_time, default=_time("1s"), help="simulated time (1s)")
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
        out.write(f"{name}: {parameters}\n")
        if args.verbose and model.description:
            out.write(f"    {model.description}\n")
    return 0


def _prepare(args):
    if not 0 <= args.excitatory_fraction <= 1:
        raise CommandLineError(
            f"--excitatory-fraction must lie in [0, 1], got {args.excitatory_fraction}"
        )
    model = resolve_model(args.model)
    unknown = sorted(set(args.record) - set(model.equations.names))
    if unknown:
        raise CommandLineError(
            f"--record {unknown[0]!r} is not a state of model {model.name!r}; allowed: "
            f"{', '.join(sorted(model.equations.names))}"
        )
    parameters = _checked_parameters(model, args.N, args.set)
    settings = _device_options(args)
    return model, parameters, settings


def _command_build(args, out):
    from neurosrnn.devices import Simulation

    _check_model_or_trained(args)
    _check_folder_option(args.out, "--out")
    if args.trained is not None:
        with _removed_on_failure(args.out):
            return _command_build_trained(args, _device_options(args), out)
    model, parameters, settings = _prepare(args)
    build, description = _network_builder(model, args, parameters)
    simulation = Simulation(
        build, args.duration, device=settings, directory=args.out, dt=args.dt,
        metadata={"command": "build", **description},
    )  # fmt: skip
    try:
        with _removed_on_failure(args.out):
            simulation.build(compile=not args.no_compile)
    finally:
        simulation.close()
    action = "generated" if args.no_compile else "generated and compiled"
    command = "make && ./main" if args.no_compile else "./main"
    out.write(
        f"{settings.describe()} project of {model.name!r} {action} in {args.out}; run it with "
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
    model, parameters, settings = _prepare(args)
    sweep = _checked_sweep(model, args.N, args.sweep) if args.sweep else None
    check_can_run(settings)  # before a CUDA compile that could not run here
    build, description = _network_builder(model, args, parameters)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    directory = args.build_dir or os.path.join(args.out, "project")
    simulation = Simulation(
        build,
        args.duration,
        device=settings,
        directory=directory if settings.is_standalone else None,
        dt=args.dt,
        report="stderr" if progress else None,
        metadata={"command": "run", **description},
    )
    # the output folder is created by the first write; a failed run removes what it created
    try:
        with _removed_on_failure(args.out, args.build_dir):
            simulation.build()
            if sweep is None:
                return _run_once(simulation, args.out, out)
            return _run_sweep(simulation, sweep, args.out, out, progress=args.progress)
    finally:
        simulation.close()


def _run_once(simulation, folder, out):
    """One run of a built `simulation`, results saved into `folder`."""
    results = simulation.run(save=False)
    results.save(folder)
    out.write(f"{len(results.i)} spikes written to {os.path.join(folder, 'spikes.npz')}\n")
    return 0


def _run_sweep(simulation, sweep, folder, out, progress=None):
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
