"""Device settings, Brian2 preferences and argument checks shared by the device layer.

The lowest module of `neurosrnn.devices`: it imports nothing else of the package but
`neurosrnn.units`. It holds the names of the devices, the `DeviceSettings` record that
`neurosrnn.devices.select_device` activates, and the one way the package changes a
Brian2 preference (`set_preference`), so that `restore_preferences` can undo every
change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from brian2 import prefs, second
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

from neurosrnn.units import is_quantity, to_seconds

__all__ = [
    "DEVICES",
    "RUNTIME_TARGETS",
    "DEFAULT_COMPUTE_CAPABILITY",
    "DeviceSettings",
    "device_settings",
    "check_time",
    "set_preference",
    "restore_preferences",
]

#: Devices accepted by `select_device` and `Simulation`.
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")
#: Code generation targets of the runtime device.
RUNTIME_TARGETS = ("auto", "numpy", "cython")
#: Compute capability CUDA code is compiled for when no GPU is present (H100/H200).
DEFAULT_COMPUTE_CAPABILITY = 9.0

# Preferences changed through `set_preference`, with their values before the first change.
_saved_preferences = {}


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
        if not _is_count(self.openmp_threads):
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
        if not _is_count(self.gpu_id):
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


def _is_count(value):
    """Whether `value` is an integer >= 0 (a bool is not)."""
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= 0


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


def device_settings(device, options):
    """The `DeviceSettings` of a device name plus keyword options, or given ready-made.

    Parameters
    ----------
    device : str or DeviceSettings
        A device name (see `DEVICES`) or complete settings.
    options : dict
        `DeviceSettings` fields other than ``name``; must be empty when `device` is
        already a `DeviceSettings`.

    Returns
    -------
    DeviceSettings

    Raises
    ------
    ValueError
        Options next to a `DeviceSettings`, an unknown option (the message lists the
        allowed ones), or an invalid value.
    """
    if isinstance(device, DeviceSettings):
        if options:
            raise ValueError("give either a DeviceSettings or keyword options, not both")
        return device
    allowed = set(DeviceSettings.__dataclass_fields__) - {"name"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"Unknown device option(s) {unknown}; allowed: {sorted(allowed)}")
    return DeviceSettings(name=device, **options)


def check_time(name, value):
    """Check that `value` is a positive Brian2 time (a duration or a time step).

    Parameters
    ----------
    name : str
        Parameter name for the error message.
    value : brian2 quantity
        Plain numbers are refused: Brian2 needs a quantity.

    Raises
    ------
    brian2.DimensionMismatchError
        Not a Brian2 time.
    ValueError
        Not > 0 (``"<name> must be > 0"``).
    """
    if not is_quantity(value) or get_dimensions(value) != get_dimensions(second):
        raise DimensionMismatchError(
            f"{name} must be a time (e.g. 0.1*ms)", get_dimensions(value), get_dimensions(second)
        )
    if not to_seconds(value, name, finite=False) > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def set_preference(name, value):
    """Set a Brian2 preference, remembering its first value for `restore_preferences`.

    The one way the package changes ``brian2.prefs``: `reset_brian_state` (through
    `restore_preferences`) restores every preference set here.
    """
    if name not in _saved_preferences:
        _saved_preferences[name] = prefs[name]
    prefs[name] = value


def restore_preferences():
    """Give every preference changed by `set_preference` its value before the first change.

    A brian2cuda preference is skipped when brian2cuda is no longer registered.
    """
    for name, value in _saved_preferences.items():
        try:
            prefs[name] = value
        except KeyError:  # a brian2cuda preference while brian2cuda is not imported
            pass
    _saved_preferences.clear()
