"""Brian2's global device: activate one device (`select_device`) or reset it.

Brian2 keeps one active device and one set of preferences per process. Every switch
goes through `reset_brian_state`, so that several builds in one process work.
"""

from __future__ import annotations

import sys

from brian2 import defaultclock, set_device
from brian2.devices.device import reinit_devices, reset_device

from neurosrnn.devices.cuda import (
    configure_cuda,
    configure_host_compiler,
    import_brian2cuda,
    reset_cuda_detection,
)
from neurosrnn.devices.settings import (
    check_time,
    device_settings,
    restore_preferences,
    set_preference,
)

__all__ = ["select_device", "reset_brian_state"]


def reset_brian_state():
    """Return Brian2 to a clean runtime device.

    Reinitialises every device (forgetting all objects, builds and runs), activates
    the runtime device, restores Brian2's preferences and ``defaultclock.dt`` to
    their initial values, restores the preferences this package changed, and clears
    brian2cuda's cached GPU and CUDA detection. Objects from earlier builds must not
    be used afterwards.
    """
    reinit_devices()
    reset_device("runtime")
    restore_preferences()
    if "brian2cuda" in sys.modules:
        reset_cuda_detection()


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
    settings = device_settings(device, options)
    if dt is not None:
        check_time("dt", dt)
    if settings.name == "cuda_standalone":
        import_brian2cuda()  # before the reset, so that its device is reinitialised too
    reset_brian_state()
    if settings.name == "runtime":
        set_preference("codegen.target", settings.target)
        reset_device("runtime")
    else:
        configure_host_compiler(settings)
        if settings.name == "cpp_standalone":
            set_preference("devices.cpp_standalone.openmp_threads", int(settings.openmp_threads))
        else:
            configure_cuda(settings)
        set_device(settings.name, build_on_run=False)
    if dt is not None:
        defaultclock.dt = dt
    return settings
