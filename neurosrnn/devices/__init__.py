"""Run one Brian2 network on the runtime, C++ standalone or CUDA standalone device.

Brian2 simulates a network either from Python (the *runtime* device, generating
numpy or Cython code for every object), or by writing a complete C++ project
(*cpp_standalone*) or CUDA project (*cuda_standalone*, from the optional
``brian2cuda`` package) that is compiled once and run as a separate binary
(Stimberg, Brette & Goodman 2019, eLife 8:e47314; Alevi et al. 2022, Front.
Neuroinform. 16:883700). The same model code runs on all three devices without
edits; this package hides the device plumbing:

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

Modules (lower ones never import higher ones)
---------------------------------------------
``settings``
    device names, `DeviceSettings`, `set_preference` and argument checks;
``cuda``
    ``nvcc``/GPU detection, brian2cuda and cuRAND configuration, `check_can_run`;
``overrides``
    `user_variables` and `resolve_overrides`: values checked before a run;
``selection``
    `select_device` and `reset_brian_state` (Brian2's global device);
``simulation``
    `Simulation`.

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

from neurosrnn.devices.cuda import (
    CUDAToolkitNotFoundError,
    GPUNotAvailableError,
    check_can_run,
    cuda_available,
    find_gpus,
    find_nvcc,
)
from neurosrnn.devices.overrides import resolve_overrides, user_variables
from neurosrnn.devices.selection import reset_brian_state, select_device
from neurosrnn.devices.settings import (
    DEFAULT_COMPUTE_CAPABILITY,
    DEVICES,
    RUNTIME_TARGETS,
    DeviceSettings,
    set_preference,
)
from neurosrnn.devices.simulation import MANIFEST_NAME, Simulation

__all__ = [
    "DEVICES",
    "RUNTIME_TARGETS",
    "DEFAULT_COMPUTE_CAPABILITY",
    "MANIFEST_NAME",
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
