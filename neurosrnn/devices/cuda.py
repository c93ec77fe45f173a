"""CUDA support: finding ``nvcc`` and GPUs, configuring brian2cuda, cuRAND from a wheel.

Generating and compiling a CUDA project only needs ``nvcc``. `configure_cuda` sets
``detect_gpus = False`` with an explicit ``gpu_id`` and ``compute_capability``
(default `DEFAULT_COMPUTE_CAPABILITY`, 9.0: H100/H200) when no GPU is present,
compiles host and device code as C++17 (needed by the Thrust/CUB headers of
CUDA >= 13), and points the compiler at the cuRAND headers and library of the
``nvidia-curand`` wheel (through a ``libcurand.so`` link in a cache folder of ours).
Asking to *run* a CUDA project on a machine without an NVIDIA GPU raises
`GPUNotAvailableError` with one clear message (`check_can_run`).

brian2cuda is optional and imported only by the functions that need it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess

from brian2 import get_logger, prefs

from neurosrnn.devices.settings import DEFAULT_COMPUTE_CAPABILITY, DeviceSettings, set_preference

__all__ = [
    "GPUNotAvailableError",
    "CUDAToolkitNotFoundError",
    "find_nvcc",
    "find_gpus",
    "cuda_available",
    "check_can_run",
    "import_brian2cuda",
    "reset_cuda_detection",
    "configure_host_compiler",
    "configure_cuda",
]

logger = get_logger(__name__)

_BACKEND = "devices.cuda_standalone.cuda_backend."


class GPUNotAvailableError(RuntimeError):
    """A CUDA binary was asked to run on a machine without a usable NVIDIA GPU."""


class CUDAToolkitNotFoundError(RuntimeError):
    """``nvcc`` (the CUDA compiler) was not found."""


# ----------------------------------------------------------------------------- detection


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


def check_can_run(settings, directory=None):
    """Raise `GPUNotAvailableError` if `settings` is CUDA and this machine has no GPU.

    Call it before an expensive CUDA build whose binary must run here.

    Parameters
    ----------
    settings : DeviceSettings or str
        The device (a name stands for its default settings).
    directory : str, optional
        The project folder, named in the message.
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


# ----------------------------------------------------------------------------- brian2cuda


def import_brian2cuda():
    """Import brian2cuda, which registers the ``cuda_standalone`` device.

    Raises
    ------
    ImportError
        brian2cuda is not installed; the message names the extra to install.
    """
    try:
        import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
    except ImportError as error:
        raise ImportError(
            "device 'cuda_standalone' needs the optional package brian2cuda: "
            "pip install 'neurosrnn[cuda]'"
        ) from error


def reset_cuda_detection():
    """Forget brian2cuda's cached CUDA installation and GPU selection (brian2cuda imported)."""
    from brian2cuda.utils.gputools import reset_cuda_installation, reset_gpu_selection

    reset_cuda_installation()
    reset_gpu_selection()


# ----------------------------------------------------------------------------- configuration


def configure_host_compiler(settings):
    """Set the host compiler flags of a standalone build of `settings`.

    Drops ``-march=...`` for a portable binary (and for a CUDA binary compiled where
    there is no GPU, which will run on another machine's CPU); compiles host code of a
    CUDA project as C++17 (the flags are forwarded to nvcc; CUDA >= 13's Thrust/CUB
    need it).
    """
    args = list(prefs["codegen.cpp.extra_compile_args_gcc"])
    if settings.portable or (settings.name == "cuda_standalone" and not find_gpus()):
        args = [arg for arg in args if not arg.startswith("-march=")]
    if settings.name == "cuda_standalone":
        args = ["-std=c++17" if arg.startswith("-std=") else arg for arg in args]
    set_preference("codegen.cpp.extra_compile_args_gcc", args)


def configure_cuda(settings):
    """Set brian2cuda's preferences for `settings` (``cuda_standalone``).

    With a GPU and no explicit compute capability, brian2cuda detects the GPU;
    otherwise it compiles for ``settings.compute_capability`` (default
    `DEFAULT_COMPUTE_CAPABILITY`) without looking for one.

    Raises
    ------
    CUDAToolkitNotFoundError
        No ``nvcc``.
    """
    nvcc = find_nvcc()
    if nvcc is None:
        raise CUDAToolkitNotFoundError(
            "device 'cuda_standalone' needs the CUDA compiler nvcc: install the CUDA toolkit "
            "and put nvcc on PATH (or set CUDA_PATH)"
        )
    reset_cuda_detection()
    if settings.compute_capability is None and find_gpus():
        set_preference(_BACKEND + "detect_gpus", True)
        set_preference(_BACKEND + "gpu_id", int(settings.gpu_id))
        set_preference(_BACKEND + "compute_capability", None)
    else:
        capability = settings.compute_capability or DEFAULT_COMPUTE_CAPABILITY
        set_preference(_BACKEND + "detect_gpus", False)
        set_preference(_BACKEND + "gpu_id", int(settings.gpu_id))
        set_preference(_BACKEND + "compute_capability", float(capability))
    set_preference(_BACKEND + "cuda_path", os.path.dirname(os.path.dirname(nvcc)))
    nvcc_args = [arg for arg in prefs[_BACKEND + "extra_compile_args_nvcc"] if arg != "-std=c++17"]
    # brian2cuda's makefile passes -std=c++11 first; nvcc keeps the last -std.
    set_preference(_BACKEND + "extra_compile_args_nvcc", nvcc_args + ["-std=c++17"])
    _configure_curand()


def _configure_curand():
    """Add the cuRAND headers and library of the ``nvidia-curand`` wheel to the build."""
    curand = _curand_folders()
    if curand is None:
        logger.warn(
            "nvidia-curand wheel not found; compiling CUDA code needs curand.h from the "
            "CUDA toolkit (pip install nvidia-curand)",
            name_suffix="no_curand",
        )
        return
    include, lib, library = curand
    link_folder = _curand_link_folder(library)
    set_preference("codegen.cpp.include_dirs", list(prefs["codegen.cpp.include_dirs"]) + [include])
    set_preference(
        "codegen.cpp.library_dirs", list(prefs["codegen.cpp.library_dirs"]) + [link_folder]
    )
    set_preference(
        "codegen.cpp.runtime_library_dirs",
        list(prefs["codegen.cpp.runtime_library_dirs"]) + [lib],
    )


def _curand_folders():
    """Include and library folders of the ``nvidia-curand`` wheel, or None."""
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
