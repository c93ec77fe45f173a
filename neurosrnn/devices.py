"""Run one Brian2 network on the runtime, C++ standalone or CUDA standalone device.

Brian2 simulates a network either from Python (the *runtime* device, generating
numpy or Cython code for every object), or by writing a complete C++ project
(*cpp_standalone*) or CUDA project (*cuda_standalone*, from the optional
``brian2cuda`` package) that is compiled once and run as a separate binary
(Stimberg, Brette & Goodman 2019, eLife 8:e47314; Alevi et al. 2022, Front.
Neuroinform. 16:883700). The same model code runs on all three devices without
edits; this module hides the device plumbing:

- `select_device` resets Brian2's global device state and activates one device with
  its preferences (code generation target, OpenMP threads, CUDA cross-compilation).
- `Simulation` builds a network once and runs it as often as needed with new values
  of per-neuron parameters and initial states. On the standalone devices the new
  values go to the compiled binary through Brian2's ``run_args``, so a parameter
  sweep compiles exactly once. Every override is checked in Python first (name,
  units, length, finiteness), because the binary silently keeps the old value when
  an array has the wrong length.
- `reset_brian_state` returns to a clean runtime device; several builds in one
  process work because every switch goes through it.

CUDA without a GPU
------------------
Generating and compiling a CUDA project only needs ``nvcc``. The package sets
``detect_gpus = False`` with an explicit ``gpu_id`` and ``compute_capability``
(default 9.0, H100/H200), compiles host and device code as C++17 (needed by the
Thrust/CUB headers of CUDA >= 13), and points the compiler at the cuRAND headers and
library of the ``nvidia-curand`` wheel (through a ``libcurand.so`` link in a cache
folder of ours). Asking to *run* a CUDA project on a machine without an NVIDIA GPU
raises `GPUNotAvailableError` with one clear message.

Examples
--------
>>> from brian2 import ms, mV
>>> from neurosrnn.models.lif import lif
>>> from neurosrnn.models.networks import balanced_ei_network
>>> def build():
...     return balanced_ei_network(lif(), 80, 20, 10, J0=1 * mV, g=5, seed=1,
...                                parameters={"I_ext": 25 * mV})
>>> simulation = Simulation(build, 100 * ms, device="cpp_standalone",
...                         directory="lif_project")  # doctest: +SKIP
>>> results = [simulation.run({"I_ext": drive * mV}) for drive in (22, 25, 28)]
... # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from brian2 import (
    Network,
    NeuronGroup,
    Quantity,
    Synapses,
    defaultclock,
    device,
    get_logger,
    prefs,
    second,
    set_device,
)
from brian2.core.variables import ArrayVariable
from brian2.devices.device import reinit_devices, reset_device
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

from neurosrnn.progress import progress_bar
from neurosrnn.results import SimulationResults, write_json_atomic

__all__ = [
    "DEVICES",
    "RUNTIME_TARGETS",
    "DEFAULT_COMPUTE_CAPABILITY",
    "DeviceSettings",
    "GPUNotAvailableError",
    "CUDAToolkitNotFoundError",
    "Simulation",
    "select_device",
    "reset_brian_state",
    "find_nvcc",
    "find_gpus",
    "cuda_available",
    "check_can_run",
    "resolve_overrides",
    "set_preference",
    "user_variables",
]

logger = get_logger(__name__)

#: Devices accepted by `select_device` and `Simulation`.
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")
#: Code generation targets of the runtime device.
RUNTIME_TARGETS = ("auto", "numpy", "cython")
#: Compute capability CUDA code is compiled for when no GPU is present (H100/H200).
DEFAULT_COMPUTE_CAPABILITY = 9.0

#: Name of the file a standalone build writes into its project folder, describing
#: the monitors so that results of a binary run elsewhere can be loaded.
MANIFEST_NAME = "neurosrnn_manifest.json"

# Preferences this module changes, with their values before the first change.
_saved_preferences = {}


class GPUNotAvailableError(RuntimeError):
    """A CUDA binary was asked to run on a machine without a usable NVIDIA GPU."""


class CUDAToolkitNotFoundError(RuntimeError):
    """``nvcc`` (the CUDA compiler) was not found."""


# ----------------------------------------------------------------------------- device state


@dataclass(frozen=True)
class DeviceSettings:
    """The device and its options, as activated by `select_device`.

    Parameters
    ----------
    name : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device.
    target : {"auto", "numpy", "cython"}
        Code generation target of the runtime device (ignored by standalone devices).
    openmp_threads : int
        OpenMP threads of a C++ standalone binary (0: no OpenMP code).
    compute_capability : float or None
        CUDA compute capability to compile for (None: the GPU's own when one is
        present, else `DEFAULT_COMPUTE_CAPABILITY`).
    gpu_id : int
        Index of the GPU to run on.
    portable : bool
        Compile host code without ``-march=native``, so that the binary runs on
        another CPU (e.g. a cluster node or a GPU host). Always the case for
        ``cuda_standalone`` on a machine without a GPU.
    """

    name: str = "runtime"
    target: str = "auto"
    openmp_threads: int = 0
    compute_capability: float | None = None
    gpu_id: int = 0
    portable: bool = False

    def __post_init__(self):
        if self.name not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.name!r}")
        if self.target not in RUNTIME_TARGETS:
            raise ValueError(f"target must be one of {RUNTIME_TARGETS}, got {self.target!r}")
        if (
            isinstance(self.openmp_threads, bool)
            or not isinstance(self.openmp_threads, int | np.integer)
            or self.openmp_threads < 0
        ):
            raise ValueError(
                f"openmp_threads must be an integer >= 0 (0: no OpenMP), got "
                f"{self.openmp_threads!r}"
            )
        if self.openmp_threads and self.name != "cpp_standalone":
            raise ValueError(
                f"openmp_threads applies only to device 'cpp_standalone', not {self.name!r}"
            )
        if self.compute_capability is not None:
            _check_compute_capability(self.compute_capability)
        if (
            isinstance(self.gpu_id, bool)
            or not isinstance(self.gpu_id, int | np.integer)
            or self.gpu_id < 0
        ):
            raise ValueError(f"gpu_id must be an integer >= 0, got {self.gpu_id!r}")

    @property
    def is_standalone(self):
        """Whether the device writes and compiles a standalone project."""
        return self.name != "runtime"

    def describe(self):
        """A short human-readable description, e.g. ``"cpp_standalone (1 thread)"``."""
        if self.name == "runtime":
            return f"runtime ({self.target} target)"
        if self.name == "cpp_standalone":
            threads = self.openmp_threads or 1
            return f"cpp_standalone ({threads} thread{'s' if threads > 1 else ''})"
        capability = self.compute_capability or DEFAULT_COMPUTE_CAPABILITY
        return f"cuda_standalone (compute capability {capability}, GPU {self.gpu_id})"

    def as_dict(self):
        """The settings as a JSON-serialisable dictionary."""
        return {
            "device": self.name,
            "target": self.target,
            "openmp_threads": int(self.openmp_threads),
            "compute_capability": self.compute_capability,
            "gpu_id": int(self.gpu_id),
            "portable": bool(self.portable),
        }


def _check_compute_capability(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not 3.5 <= number < 20:
        raise ValueError(
            f"compute_capability must be a number like 9.0 (major.minor, >= 3.5; nvcc 13 "
            f"accepts 7.5 to 12.1), got {value!r}"
        )
    if round(number * 10) != number * 10:
        raise ValueError(
            f"compute_capability must have one decimal (major.minor, e.g. 8.6), got {value!r}"
        )


def set_preference(name, value):
    """Set a Brian2 preference, remembering its first value for `reset_brian_state`.

    The one way the package changes ``brian2.prefs``: `reset_brian_state` restores
    every preference set here.
    """
    if name not in _saved_preferences:
        _saved_preferences[name] = prefs[name]
    prefs[name] = value


def reset_brian_state():
    """Return Brian2 to a clean runtime device.

    Reinitialises every device (forgetting all objects, builds and runs), activates
    the runtime device, restores Brian2's preferences and ``defaultclock.dt`` to
    their initial values, restores the preferences this module changed, and clears
    brian2cuda's cached GPU and CUDA detection. Objects from earlier builds must not
    be used afterwards.
    """
    reinit_devices()
    reset_device("runtime")
    for name, value in _saved_preferences.items():
        try:
            prefs[name] = value
        except KeyError:  # a brian2cuda preference while brian2cuda is not imported
            pass
    _saved_preferences.clear()
    if "brian2cuda" in sys.modules:
        _reset_cuda_detection()


def select_device(device="runtime", *, dt=None, **options):
    """Reset Brian2's global state and activate `device`.

    Parameters
    ----------
    device : {"runtime", "cpp_standalone", "cuda_standalone"} or DeviceSettings
        The device; ``"cuda_standalone"`` imports the optional ``brian2cuda``
        package (``pip install neurosrnn[cuda]``).
    dt : brian2 quantity, optional
        ``defaultclock.dt`` to set after the reset (default: Brian2's 0.1 ms).
    **options
        Fields of `DeviceSettings`: ``target`` (runtime: ``"auto"``, ``"numpy"`` or
        ``"cython"``), ``openmp_threads`` (cpp_standalone), ``compute_capability``
        and ``gpu_id`` (cuda_standalone), ``portable``.

    Returns
    -------
    DeviceSettings

    Raises
    ------
    ValueError
        Unknown device or option, or an invalid option value.
    ImportError
        ``cuda_standalone`` without ``brian2cuda`` installed.

    Notes
    -----
    Standalone devices are activated with ``build_on_run=False``; `Simulation`
    calls ``device.build`` itself with the project directory (Brian2 ignores a
    directory given to ``set_device`` when ``build`` is called explicitly).
    """
    if isinstance(device, DeviceSettings):
        if options:
            raise ValueError("give either a DeviceSettings or keyword options, not both")
        settings = device
    else:
        allowed = set(DeviceSettings.__dataclass_fields__) - {"name"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(f"Unknown device option(s) {unknown}; allowed: {sorted(allowed)}")
        settings = DeviceSettings(name=device, **options)
    if dt is not None:
        _check_time("dt", dt)
    if settings.name == "cuda_standalone":
        _import_brian2cuda()  # before the reset, so that its device is reinitialised too
    reset_brian_state()
    if settings.name == "runtime":
        set_preference("codegen.target", settings.target)
        reset_device("runtime")
    else:
        _configure_host_compiler(settings)
        if settings.name == "cpp_standalone":
            set_preference("devices.cpp_standalone.openmp_threads", int(settings.openmp_threads))
        else:
            _configure_cuda(settings)
        set_device(settings.name, build_on_run=False)
    if dt is not None:
        defaultclock.dt = dt
    return settings


def _configure_host_compiler(settings):
    args = list(prefs["codegen.cpp.extra_compile_args_gcc"])
    # A CUDA binary compiled where there is no GPU will run on another machine's CPU.
    if settings.portable or (settings.name == "cuda_standalone" and not find_gpus()):
        args = [arg for arg in args if not arg.startswith("-march=")]
    if settings.name == "cuda_standalone":
        # Host flags are forwarded to nvcc; CUDA >= 13's Thrust/CUB need C++17.
        args = ["-std=c++17" if arg.startswith("-std=") else arg for arg in args]
    set_preference("codegen.cpp.extra_compile_args_gcc", args)


def _check_time(name, value):
    if get_dimensions(value) != get_dimensions(second):
        raise DimensionMismatchError(
            f"{name} must be a time (e.g. 0.1*ms)", get_dimensions(value), get_dimensions(second)
        )
    if not float(value / second) > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


# ----------------------------------------------------------------------------- CUDA support


def _import_brian2cuda():
    try:
        import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
    except ImportError as error:
        raise ImportError(
            "device 'cuda_standalone' needs the optional package brian2cuda: "
            "pip install 'neurosrnn[cuda]'"
        ) from error


def _reset_cuda_detection():
    from brian2cuda.utils.gputools import reset_cuda_installation, reset_gpu_selection

    reset_cuda_installation()
    reset_gpu_selection()


def find_nvcc():
    """Return the path of the ``nvcc`` CUDA compiler, or None when there is none.

    Looks at ``PATH``, then ``$CUDA_PATH/bin``, ``/usr/local/cuda/bin`` and
    ``/opt/cuda/bin``.
    """
    found = shutil.which("nvcc")
    if found:
        return found
    for root in (os.environ.get("CUDA_PATH", ""), "/usr/local/cuda", "/opt/cuda"):
        candidate = os.path.join(root, "bin", "nvcc") if root else ""
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_gpus():
    """Return the NVIDIA GPUs visible here (lines of ``nvidia-smi -L``); empty if none."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        output = subprocess.run(
            [executable, "-L"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if output.returncode != 0:
        return []
    return [line.strip() for line in output.stdout.splitlines() if line.startswith("GPU")]


def cuda_available():
    """Whether CUDA projects can be compiled here (``brian2cuda`` and ``nvcc`` present)."""
    try:
        import brian2cuda  # noqa: F401
    except ImportError:
        return False
    return find_nvcc() is not None


def _curand_folders():
    """Include and library folders of the ``nvidia-curand`` wheel, or None."""
    import importlib.util

    spec = importlib.util.find_spec("nvidia")
    if spec is None or spec.submodule_search_locations is None:
        return None
    for root in spec.submodule_search_locations:
        for sub in ("cu13", "cu12", "curand", "cu11"):
            include = os.path.join(root, sub, "include")
            lib = os.path.join(root, sub, "lib")
            if os.path.isfile(os.path.join(include, "curand.h")) and os.path.isdir(lib):
                libraries = sorted(
                    name for name in os.listdir(lib) if name.startswith("libcurand.so")
                )
                if libraries:
                    return include, lib, os.path.join(lib, libraries[0])
    return None


def _cache_folder():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neurosrnn")


def _curand_link_folder(library):
    """A cache folder holding a ``libcurand.so`` link to `library` (made atomically)."""
    key = hashlib.sha1(os.path.realpath(library).encode()).hexdigest()[:12]
    folder = os.path.join(_cache_folder(), f"curand-{key}")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "libcurand.so")
    if os.path.realpath(link) != os.path.realpath(library):
        temporary = f"{link}.{os.getpid()}.tmp"
        if os.path.lexists(temporary):
            os.remove(temporary)
        os.symlink(os.path.realpath(library), temporary)
        os.replace(temporary, link)
    return folder


def _configure_cuda(settings):
    nvcc = find_nvcc()
    if nvcc is None:
        raise CUDAToolkitNotFoundError(
            "device 'cuda_standalone' needs the CUDA compiler nvcc: install the CUDA toolkit "
            "and put nvcc on PATH (or set CUDA_PATH)"
        )
    _reset_cuda_detection()
    backend = "devices.cuda_standalone.cuda_backend."
    gpus = find_gpus()
    if settings.compute_capability is None and gpus:
        set_preference(backend + "detect_gpus", True)
        set_preference(backend + "gpu_id", int(settings.gpu_id))
        set_preference(backend + "compute_capability", None)
    else:
        capability = settings.compute_capability or DEFAULT_COMPUTE_CAPABILITY
        set_preference(backend + "detect_gpus", False)
        set_preference(backend + "gpu_id", int(settings.gpu_id))
        set_preference(backend + "compute_capability", float(capability))
    set_preference(backend + "cuda_path", os.path.dirname(os.path.dirname(nvcc)))
    nvcc_args = [arg for arg in prefs[backend + "extra_compile_args_nvcc"] if arg != "-std=c++17"]
    # brian2cuda's makefile passes -std=c++11 first; nvcc keeps the last -std.
    set_preference(backend + "extra_compile_args_nvcc", nvcc_args + ["-std=c++17"])
    curand = _curand_folders()
    if curand is not None:
        include, lib, library = curand
        link_folder = _curand_link_folder(library)
        set_preference(
            "codegen.cpp.include_dirs", list(prefs["codegen.cpp.include_dirs"]) + [include]
        )
        set_preference(
            "codegen.cpp.library_dirs", list(prefs["codegen.cpp.library_dirs"]) + [link_folder]
        )
        set_preference(
            "codegen.cpp.runtime_library_dirs",
            list(prefs["codegen.cpp.runtime_library_dirs"]) + [lib],
        )
    else:
        logger.warn(
            "nvidia-curand wheel not found; compiling CUDA code needs curand.h from the "
            "CUDA toolkit (pip install nvidia-curand)",
            name_suffix="no_curand",
        )


def check_can_run(settings, directory=None):
    """Raise `GPUNotAvailableError` if `settings` is CUDA and this machine has no GPU.

    Call it before an expensive CUDA build whose binary must run here.
    """
    if isinstance(settings, str):
        settings = DeviceSettings(name=settings)
    if settings.name != "cuda_standalone" or find_gpus():
        return
    where = f"The project in {directory}" if directory else "A CUDA project built here"
    raise GPUNotAvailableError(
        "cannot run a cuda_standalone binary: no NVIDIA GPU found on this machine "
        f"(nvidia-smi is missing or lists no GPU). {where} can be copied to a machine with "
        f"a GPU of compute capability {settings.compute_capability or DEFAULT_COMPUTE_CAPABILITY}"
        " and run there with ./main; to only generate and compile here, build without running"
    )


# ----------------------------------------------------------------------------- overrides


def _state_groups(network):
    return [obj for obj in network.objects if isinstance(obj, NeuronGroup | Synapses)]


def user_variables(group):
    """Names of the state variables a user may set: those declared in its equations."""
    equations = getattr(group, "user_equations", group.equations)  # without lastspike etc.
    names = []
    for name in equations.names:
        if name in equations.subexpr_names or name in ("lastspike", "not_refractory"):
            continue
        if isinstance(group.variables.get(name), ArrayVariable):
            names.append(name)
    return names


def resolve_overrides(network, overrides, *, default_group=None):
    """Check new values for state variables and parameters of `network`.

    Parameters
    ----------
    network : brian2.Network
    overrides : dict
        ``"group.variable"`` or ``"variable"`` -> value. A bare ``"variable"`` refers
        to `default_group` when given and holding it, else to the only group of the
        network that has it. Values are scalars or arrays with one value per neuron
        (or synapse), with the units of the variable.
    default_group : brian2.NeuronGroup, optional
        Group that bare names refer to first.

    Returns
    -------
    list of tuple
        ``(group, variable_name, value)`` with every value checked.

    Raises
    ------
    ValueError
        Unknown group or variable (the message lists what is allowed), an ambiguous
        bare name, an array of the wrong length or dimension, a non-finite value, a
        non-integer value for an integer variable, or a time constant ``tau*`` <= 0.
    brian2.DimensionMismatchError
        A value with the wrong units.
    """
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a dict of name -> value, got {type(overrides)}")
    groups = {group.name: group for group in _state_groups(network)}
    resolved = []
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"override names must be non-empty strings, got {key!r}")
        group, name = _find_variable(groups, key, default_group)
        resolved.append((group, name, _check_value(group, name, key, value)))
    return resolved


def _find_variable(groups, key, default_group):
    if "." in key:
        group_name, name = key.split(".", 1)
        if group_name not in groups:
            raise ValueError(
                f"Unknown group {group_name!r} in override {key!r}; groups: {sorted(groups)}"
            )
        group = groups[group_name]
        allowed = user_variables(group)
        if name not in allowed:
            raise ValueError(
                f"Unknown parameter {name!r} of group {group_name!r} in override {key!r}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        return group, name
    if default_group is not None and key in user_variables(default_group):
        return default_group, key
    owners = [group for group in groups.values() if key in user_variables(group)]
    if len(owners) == 1:
        return owners[0], key
    if not owners:
        allowed = sorted({f"{g.name}.{n}" for g in groups.values() for n in user_variables(g)})
        raise ValueError(f"Unknown parameter {key!r}; allowed: {', '.join(allowed)}")
    raise ValueError(
        f"Parameter {key!r} is ambiguous (groups {sorted(g.name for g in owners)}); "
        f"write it as 'group.{key}'"
    )


def _group_size(group):
    try:
        return int(len(group))
    except NotImplementedError:
        return None


def _check_value(group, name, key, value):
    variable = group.variables[name]
    unit_dimensions = variable.dim
    if get_dimensions(value) != unit_dimensions:
        expected = Quantity(1, dim=unit_dimensions)
        raise DimensionMismatchError(
            f"Override {key!r} must have the units of {expected.dimensions!s} (e.g. {expected!r})",
            get_dimensions(value),
            unit_dimensions,
        )
    raw = np.asarray(value / Quantity(1, dim=unit_dimensions) if isinstance(value, Quantity)
                     else value)  # fmt: skip
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"Override {key!r} must be numeric, got {value!r}")
    array = raw.astype(float)
    if variable.scalar and array.ndim != 0:
        raise ValueError(f"Override {key!r} is a shared variable: give one scalar value")
    if array.ndim > 1:
        raise ValueError(f"Override {key!r} must be a scalar or a 1-D array, got {array.shape}")
    if array.ndim == 1:
        size = _group_size(group)
        if size is None:
            raise ValueError(
                f"Override {key!r}: the size of {group.name!r} is not known before the run "
                "(connections drawn in the binary); give a scalar"
            )
        if array.shape[0] != size:
            raise ValueError(
                f"Override {key!r} must be a scalar or an array of length {size} (one value "
                f"per element of {group.name!r}), got length {array.shape[0]}"
            )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Override {key!r} must be finite (got NaN or inf)")
    if np.dtype(variable.dtype).kind in "biu" and not np.all(array == np.round(array)):
        raise ValueError(f"Override {key!r} is an integer variable; got non-integer values")
    if name.startswith("tau") and name != "tau_ref" and np.any(array <= 0):
        raise ValueError(f"Override {key!r}: time constants must be > 0")
    if name == "tau_ref" and np.any(array < 0):
        raise ValueError(f"Override {key!r}: the refractory period must be >= 0")
    return value


def _describe_value(value):
    array = np.asarray(value)
    if array.ndim == 0:
        return str(value)
    return f"array of {array.shape[0]} values, mean {np.mean(value)!s}"


# ----------------------------------------------------------------------------- simulation


_active_simulation = None


class Simulation:
    """A network built once on one device and run as often as needed.

    Parameters
    ----------
    build_network : callable
        Called without arguments after the device is selected; creates the Brian2
        objects and returns a `brian2.Network` or an object with a ``network``
        attribute (e.g. `neurosrnn.models.networks.RecurrentNetwork`). All objects
        must be created inside it (Brian2 binds objects to the active device).
    duration : brian2 quantity
        Simulated time of every run.
    device : str or DeviceSettings
        ``"runtime"``, ``"cpp_standalone"`` or ``"cuda_standalone"``.
    directory : str, optional
        Standalone project folder. Brian2 writes the C++/CUDA sources, the makefile
        and the binary ``main`` there. Default: a new temporary folder, deleted with
        everything in it (including default results folders) by `close`.
    dt : brian2 quantity, optional
        Time step (default 0.1 ms).
    namespace : dict, optional
        External constants the model code refers to (units are always available).
    report : {None, "text", "stderr"}
        Progress report: printed by Brian2 (runtime) or by the binary (standalone).
    report_period : brian2 quantity
        Wall-clock time between progress reports.
    metadata : dict, optional
        JSON-serialisable entries added to the metadata of every result.
    **device_options
        `DeviceSettings` fields (``target``, ``openmp_threads``,
        ``compute_capability``, ``gpu_id``, ``portable``).

    Attributes
    ----------
    settings : DeviceSettings
    network : brian2.Network or None
        The built network (None before `build`).
    compile_count : int
        How many times the project was compiled (1 after a standalone build,
        however many runs follow).
    build_seconds : float
        Wall time of the build (code generation and compilation).
    run_seconds : list of float
        Wall time of each run.

    Notes
    -----
    Brian2's device is global, so only one simulation is usable at a time: building
    a new one resets Brian2 and closes the previous one.

    On standalone devices the overrides of `run` are applied through ``run_args``
    when the binary starts, after the initial values set at build time: an initial
    value written as an expression of a parameter (e.g. ``v = "v_rest"``) uses the
    build-time parameter. The runtime device applies them at the same point
    (after restoring the initial state), so both give the same result.
    """

    def __init__(
        self,
        build_network,
        duration,
        *,
        device="runtime",
        directory=None,
        dt=None,
        namespace=None,
        report=None,
        report_period=10 * second,
        metadata=None,
        **device_options,
    ):
        if not callable(build_network):
            raise ValueError("build_network must be a callable returning a brian2.Network")
        _check_time("duration", duration)
        if dt is not None:
            _check_time("dt", dt)
        if report not in (None, "text", "stdout", "stderr"):
            raise ValueError(f"report must be None, 'text' or 'stderr', got {report!r}")
        if isinstance(device, DeviceSettings):
            if device_options:
                raise ValueError("give either a DeviceSettings or keyword options, not both")
            self.settings = device
        else:
            allowed = set(DeviceSettings.__dataclass_fields__) - {"name"}
            unknown = sorted(set(device_options) - allowed)
            if unknown:
                raise ValueError(f"Unknown device option(s) {unknown}; allowed: {sorted(allowed)}")
            self.settings = DeviceSettings(name=device, **device_options)
        if metadata is not None:
            json.dumps(metadata)  # fail early on non-serialisable metadata
        self.build_network = build_network
        self.duration = duration
        self.directory = None if directory is None else os.path.abspath(directory)
        self.dt = dt
        self.namespace = dict(namespace or {})
        self.report = report
        self.report_period = report_period
        self.metadata = dict(metadata or {})
        self.network = None
        self.built_object = None
        self.compile_count = 0
        self.build_seconds = None
        self.run_seconds = []
        self._closed = False
        self._run_count = 0
        self._owns_directory = False

    def __repr__(self):
        state = "closed" if self._closed else ("built" if self.network else "not built")
        where = f", directory={self.directory!r}" if self.directory else ""
        return (
            f"<Simulation on {self.settings.describe()}, duration {self.duration!s}, "
            f"{state}, {self._run_count} run(s){where}>"
        )

    # -- building

    @property
    def is_built(self):
        """Whether `build` has been called (and the simulation was not closed)."""
        return self.network is not None and not self._closed

    def build(self, compile=True):
        """Select the device, create the network and (standalone) generate and compile it.

        Parameters
        ----------
        compile : bool
            Standalone only: compile the project (False: generate sources only).

        Returns
        -------
        Simulation
            ``self``.
        """
        global _active_simulation
        if _active_simulation is not None and _active_simulation is not self:
            _active_simulation._closed = True
        self._closed = False
        _active_simulation = self
        start = time.perf_counter()
        select_device(self.settings, dt=self.dt)
        built = self.build_network()
        network = built if isinstance(built, Network) else getattr(built, "network", None)
        if not isinstance(network, Network):
            raise ValueError(
                "build_network must return a brian2.Network or an object with a 'network' "
                f"attribute, got {type(built).__name__}"
            )
        self.built_object = built
        self.network = network
        if self.settings.is_standalone:
            if self.directory is None:
                self.directory = tempfile.mkdtemp(prefix="neurosrnn_standalone_")
                self._owns_directory = True
            os.makedirs(self.directory, exist_ok=True)
            network.run(
                self.duration,
                report=self.report,
                report_period=self.report_period,
                namespace=self.namespace,
            )
            device.build(
                directory=self.directory,
                compile=compile,
                run=False,
                with_output=False,
            )
            if compile:
                self.compile_count += 1
            self._write_manifest()
        else:
            network.store("neurosrnn_initial_state")
        self.compiled = bool(compile) or not self.settings.is_standalone
        self.build_seconds = time.perf_counter() - start
        return self

    def _write_manifest(self):
        monitors = SimulationResults.describe_monitors(self.network, device)
        manifest = {
            "format": "neurosrnn-standalone-project",
            "format_version": 1,
            "device": self.settings.as_dict(),
            "duration_s": float(self.duration / second),
            "dt_s": float(defaultclock.dt / second),
            "monitors": monitors,
            "groups": {group.name: _group_size(group) for group in _state_groups(self.network)},
            "metadata": self.metadata,
        }
        write_json_atomic(os.path.join(self.directory, MANIFEST_NAME), manifest)

    def _check_usable(self):
        if self._closed:
            raise RuntimeError(
                "This simulation was closed (another simulation was built since, and Brian2's "
                "device is global); call build() again"
            )
        if self.network is None:
            self.build()

    # -- running

    def run(self, overrides=None, results_directory=None, save=True):
        """Run the simulation, optionally with new parameter or initial values.

        Parameters
        ----------
        overrides : dict, optional
            ``"group.variable"`` (or bare ``"variable"`` of the neuron group) -> value
            (scalar or one value per neuron, with units). See `resolve_overrides`.
        results_directory : str, optional
            Folder for this run's results: the binary's raw files (standalone) plus
            ``spikes.npz``, ``states.npz`` and ``metadata.json``. Default: standalone
            ``<directory>/results/run_<k>``; runtime: nothing is written.
        save : bool
            Write ``spikes.npz``, ``states.npz`` and ``metadata.json`` into
            `results_directory`.

        Returns
        -------
        SimulationResults

        Raises
        ------
        ValueError, brian2.DimensionMismatchError
            Invalid overrides (checked before anything runs).
        GPUNotAvailableError
            ``cuda_standalone`` on a machine without an NVIDIA GPU.
        RuntimeError
            The simulation was closed, or a standalone project was not compiled.
        """
        self._check_usable()
        resolved = resolve_overrides(self.network, overrides, default_group=self._default_group())
        check_can_run(self.settings, self.directory)
        if self.settings.is_standalone and not self.compiled:
            raise RuntimeError("this standalone project was built with compile=False")
        if results_directory is None and self.settings.is_standalone:
            results_directory = os.path.join(
                self.directory, "results", f"run_{self._run_count:03d}"
            )
        if results_directory is not None:
            results_directory = os.path.abspath(results_directory)
            os.makedirs(results_directory, exist_ok=True)
        start = time.perf_counter()
        if self.settings.is_standalone:
            run_args = {getattr(group, name): value for group, name, value in resolved}
            relative = os.path.relpath(results_directory, self.directory)
            device.run(
                directory=self.directory,
                results_directory=relative,
                with_output=False,
                run_args=run_args,
            )
        else:
            self.network.restore("neurosrnn_initial_state")
            for group, name, value in resolved:
                setattr(group, name, value)
            self.network.run(
                self.duration,
                report=self.report,
                report_period=self.report_period,
                namespace=self.namespace,
            )
        elapsed = time.perf_counter() - start
        self.run_seconds.append(elapsed)
        self._run_count += 1
        metadata = dict(self.metadata)
        metadata.update(
            {
                "device": self.settings.as_dict(),
                "duration_s": float(self.duration / second),
                "dt_s": float(defaultclock.dt / second),
                "overrides": {
                    f"{group.name}.{name}": _describe_value(value)
                    for group, name, value in resolved
                },
                "run_seconds": elapsed,
            }
        )
        results = SimulationResults.from_network(self.network, metadata=metadata)
        if save and results_directory is not None:
            results.save(results_directory)
        return results

    def sweep(self, override_sets, results_root=None, *, progress=None):
        """Run once per entry of `override_sets`, each in its own results folder.

        Parameters
        ----------
        override_sets : sequence of dict
            One `overrides` dictionary per run; all are checked before the first run.
        results_root : str, optional
            Parent folder; run ``k`` writes to ``results_root/run_<k>`` (default:
            standalone ``<directory>/results``; runtime: nothing is written).
        progress : bool or None
            Progress bar over the runs (see `neurosrnn.progress`; None: on a terminal).

        Returns
        -------
        list of SimulationResults
        """
        self._check_usable()
        override_sets = list(override_sets)
        for overrides in override_sets:
            resolve_overrides(self.network, overrides, default_group=self._default_group())
        results = []
        for index, overrides in enumerate(
            progress_bar(override_sets, label="sweep", unit="runs", progress=progress)
        ):
            folder = None
            if results_root is not None:
                folder = os.path.join(results_root, f"run_{index:03d}")
            elif self.settings.is_standalone:
                folder = os.path.join(self.directory, "results", f"sweep_{index:03d}")
            results.append(self.run(overrides, results_directory=folder))
        return results

    def _default_group(self):
        neurons = getattr(self.built_object, "neurons", None)
        if isinstance(neurons, NeuronGroup):
            return neurons
        groups = [obj for obj in self.network.objects if isinstance(obj, NeuronGroup)]
        return groups[0] if len(groups) == 1 else None

    def close(self):
        """Reset Brian2 to a clean runtime device; this simulation can be built again.

        A temporary project folder created by `build` is deleted.
        """
        global _active_simulation
        if _active_simulation is self:
            _active_simulation = None
            reset_brian_state()
        self._closed = True
        self.network = None
        if self._owns_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
            self._owns_directory = False

    def __enter__(self):
        if not self.is_built:
            self.build()
        return self

    def __exit__(self, *exc_info):
        self.close()
