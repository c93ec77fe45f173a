"""Tests of neurosrnn.devices: device selection, overrides, standalone sweeps, CUDA builds."""

import os
import shutil
import subprocess
import sys

import brian2
import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, ms, mV
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.connectivity import fixed_in_degree
from neurosrnn.devices import (
    DeviceSettings,
    GPUNotAvailableError,
    Simulation,
    cuda_available,
    find_gpus,
    find_nvcc,
    reset_brian_state,
    resolve_overrides,
    select_device,
)
from neurosrnn.models.lif import lif

HAVE_NVCC = find_nvcc() is not None and cuda_available()
HAVE_GPU = bool(find_gpus())


# ----------------------------------------------------------------------------- helpers

N = 30


def _lif_network(drive=25 * mV, tau_m=10 * ms, coupled=True):
    """Small deterministic LIF network (explicit graph, graded drive, no noise)."""
    model = lif()
    neurons = model.make_group(
        N,
        name="neurons",
        I_ext=drive * np.linspace(1.0, 1.5, N),
        tau_m=tau_m,
        initial_values={"v": np.linspace(0, 15, N) * mV},
    )
    objects = [neurons, SpikeMonitor(neurons, name="spikes")]
    if coupled:
        graph = fixed_in_degree(N, N, 6, seed=3).with_weights(-1.5)
        synapses = Synapses(neurons, neurons, "w : volt", on_pre=model.coupling_on_pre)
        graph.connect(synapses, weight_unit=mV)
        objects.append(synapses)
    return Network(*objects)


def _analytic_lif_spike_times(drive, tau_m, v0, duration, dt, v_threshold=20.0, v_reset=10.0,
                              tau_ref=2.0):  # fmt: skip
    """Spike times (ms) of an uncoupled LIF (v_rest = 0) as Brian2 records them.

    The membrane reaches threshold from ``v`` after ``tau ln((v_inf - v)/(v_inf -
    v_th))`` (exact solution). Brian2 integrates over a step, then tests ``v >
    v_threshold``, and stamps the spike with the step's start: a crossing at time
    ``T`` is recorded at ``floor(T/dt) dt``. After a spike at ``t_s``, ``v`` is held
    at ``v_reset`` until ``t_s + tau_ref``, where integration restarts.
    """
    v_inf = drive
    period = tau_m * np.log((v_inf - v_reset) / (v_inf - v_threshold))
    crossing = tau_m * np.log((v_inf - v0) / (v_inf - v_threshold))
    times = []
    while True:
        t = np.floor(crossing / dt) * dt
        if t >= duration - 1e-9:
            return np.array(times)
        times.append(t)
        crossing = t + tau_ref + period


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "options, message",
    [
        ({"name": "gpu"}, "device must be one of"),
        ({"name": "runtime", "target": "weave"}, "target must be one of"),
        ({"name": "cpp_standalone", "openmp_threads": -1}, "openmp_threads"),
        ({"name": "runtime", "openmp_threads": 2}, "applies only to device 'cpp_standalone'"),
        ({"name": "cuda_standalone", "compute_capability": 2.0}, "compute_capability"),
        ({"name": "cuda_standalone", "compute_capability": 8.65}, "one decimal"),
        ({"name": "cuda_standalone", "compute_capability": "sm90"}, "compute_capability"),
        ({"name": "cuda_standalone", "gpu_id": -1}, "gpu_id"),
    ],
)
def test_device_settings_reject_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        DeviceSettings(**options)


def test_select_device_rejects_unknown_option_and_bad_dt():
    with pytest.raises(ValueError, match="Unknown device option"):
        select_device("cpp_standalone", threads=2)
    with pytest.raises(DimensionMismatchError):
        select_device("runtime", dt=0.1 * mV)


def test_select_device_sets_and_reset_restores_state():
    select_device("runtime", target="numpy", dt=0.05 * ms)
    assert brian2.prefs.codegen.target == "numpy"
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"
    np.testing.assert_allclose(float(brian2.defaultclock.dt / ms), 0.05)
    settings = select_device("cpp_standalone", openmp_threads=0, portable=True)
    assert brian2.get_device().__class__.__name__ == "CPPStandaloneDevice"
    assert not any(a.startswith("-march") for a in brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    assert settings.describe() == "cpp_standalone (1 thread)"
    np.testing.assert_allclose(float(brian2.defaultclock.dt / ms), 0.1)  # reset to default
    reset_brian_state()
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"
    assert any(a.startswith("-march") for a in brian2.prefs.codegen.cpp.extra_compile_args_gcc)


@pytest.mark.skipif(not HAVE_NVCC, reason="needs brian2cuda and nvcc")
def test_cuda_preferences_cross_compile_without_gpu():
    before = list(brian2.prefs.codegen.cpp.include_dirs)
    select_device("cuda_standalone", compute_capability=8.6)
    backend = brian2.prefs.devices.cuda_standalone.cuda_backend
    assert backend.detect_gpus is False
    assert backend.gpu_id == 0
    assert backend.compute_capability == 8.6
    assert backend.extra_compile_args_nvcc[-1] == "-std=c++17"
    assert "-std=c++17" in brian2.prefs.codegen.cpp.extra_compile_args_gcc
    assert "-std=c++11" not in brian2.prefs.codegen.cpp.extra_compile_args_gcc
    include = [d for d in brian2.prefs.codegen.cpp.include_dirs if d not in before]
    assert include and os.path.isfile(os.path.join(include[0], "curand.h"))
    link_folder = brian2.prefs.codegen.cpp.library_dirs[-1]
    link = os.path.join(link_folder, "libcurand.so")
    assert os.path.realpath(link).startswith(
        os.path.realpath(brian2.prefs.codegen.cpp.runtime_library_dirs[-1])
    )
    reset_brian_state()
    assert brian2.prefs.codegen.cpp.include_dirs == before
    assert "-std=c++17" not in brian2.prefs.codegen.cpp.extra_compile_args_gcc


# ----------------------------------------------------------------------------- overrides


def test_resolve_overrides_checks_names_units_lengths_and_values():
    network = _lif_network()
    neurons = network["neurons"]
    resolved = resolve_overrides(network, {"tau_m": 5 * ms, "neurons.I_ext": np.ones(N) * mV})
    assert [(g.name, n) for g, n, _ in resolved] == [("neurons", "tau_m"), ("neurons", "I_ext")]
    cases = [
        ({"nonsense": 1 * ms}, ValueError, "Unknown parameter 'nonsense'"),
        ({"other.tau_m": 1 * ms}, ValueError, "Unknown group 'other'"),
        ({"neurons.lastspike": 1 * ms}, ValueError, "allowed: I_ext"),
        ({"tau_m": np.ones(N - 1) * ms}, ValueError, "length 30"),
        ({"tau_m": np.ones((2, N)) * ms}, ValueError, "1-D"),
        ({"tau_m": np.nan * ms}, ValueError, "finite"),
        ({"tau_m": 0 * ms}, ValueError, "> 0"),
        ({"tau_ref": -1 * ms}, ValueError, ">= 0"),
        ({"tau_m": 5 * mV}, DimensionMismatchError, "tau_m"),
        ({"v": 5}, DimensionMismatchError, "'v'"),
    ]
    for overrides, error, message in cases:
        with pytest.raises(error, match=message):
            resolve_overrides(network, overrides, default_group=neurons)
    # A variable present in two groups must be qualified.
    other = NeuronGroup(3, "tau_m : second (constant)", name="other")
    with pytest.raises(ValueError, match="ambiguous"):
        resolve_overrides(Network(neurons, other), {"tau_m": 1 * ms})


# ----------------------------------------------------------------------------- runtime


def test_runtime_runs_match_the_analytic_lif_spike_times():
    """Uncoupled LIF neurons: each run with new values reproduces the analytic times."""
    simulation = Simulation(
        lambda: _lif_network(coupled=False), 60 * ms, device="runtime", target="numpy"
    )
    v0 = np.linspace(0, 15, N)
    for drive, tau_m in ((25.0, 10.0), (40.0, 4.0), (30.0, 20.0)):
        drives = drive * np.linspace(1.0, 1.5, N)
        results = simulation.run({"I_ext": drives * mV, "tau_m": tau_m * ms})
        trains = results.spike_trains.trains()
        for k in (0, N // 2, N - 1):
            expected = _analytic_lif_spike_times(drives[k], tau_m, v0[k], 60.0, 0.1)
            np.testing.assert_allclose(trains[k] * 1e3, expected, atol=1e-9)
    assert simulation.compile_count == 0
    assert len(simulation.run_seconds) == 3
    simulation.close()


def test_simulation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="callable"):
        Simulation(None, 10 * ms)
    with pytest.raises(DimensionMismatchError):
        Simulation(_lif_network, 10 * mV)
    with pytest.raises(ValueError, match="duration must be > 0"):
        Simulation(_lif_network, 0 * ms)
    with pytest.raises(ValueError, match="report"):
        Simulation(_lif_network, 10 * ms, report="bar")
    with pytest.raises(ValueError, match="Unknown device option"):
        Simulation(_lif_network, 10 * ms, threads=3)
    simulation = Simulation(lambda: 42, 10 * ms, device="runtime", target="numpy")
    with pytest.raises(ValueError, match="brian2.Network"):
        simulation.build()


# ----------------------------------------------------------------------------- standalone


def _runtime_reference(drive, tau_m, duration):
    simulation = Simulation(
        lambda: _lif_network(drive=drive, tau_m=tau_m), duration, device="runtime",
        target="numpy",
    )  # fmt: skip
    results = simulation.build().run()
    simulation.close()
    return results


@pytest.mark.slow
@pytest.mark.standalone
def test_sweep_compiles_once_and_every_run_is_correct(tmp_path):
    """Five run_args runs of one binary equal five separate runtime simulations."""
    duration = 100 * ms
    sweep = [(22 * mV, 10 * ms), (25 * mV, 10 * ms), (30 * mV, 10 * ms), (25 * mV, 5 * ms),
             (35 * mV, 15 * ms)]  # fmt: skip
    references = [_runtime_reference(drive, tau_m, duration) for drive, tau_m in sweep]

    project = tmp_path / "project"
    simulation = Simulation(_lif_network, duration, device="cpp_standalone", directory=project)
    simulation.build()
    binary = project / "main"
    stamp = (binary.stat().st_mtime_ns, binary.stat().st_ino)
    override_sets = [
        {"I_ext": drive * np.linspace(1.0, 1.5, N), "tau_m": tau_m} for drive, tau_m in sweep
    ]
    runs = simulation.sweep(override_sets, results_root=tmp_path / "sweep")
    assert simulation.compile_count == 1
    assert (binary.stat().st_mtime_ns, binary.stat().st_ino) == stamp
    for k, (results, reference) in enumerate(zip(runs, references, strict=True)):
        assert (tmp_path / "sweep" / f"run_{k:03d}" / "spikes.npz").is_file()
        assert len(reference.i) > N
        np.testing.assert_array_equal(results.i, reference.i)
        np.testing.assert_allclose(results.t, reference.t, rtol=1e-12, atol=0)
    # The overrides took effect: the runs differ from each other.
    counts = {len(results.i) for results in runs}
    assert len(counts) >= 4

    # A wrong-length array is refused in Python before the binary runs.
    with pytest.raises(ValueError, match="length 30"):
        simulation.run({"I_ext": np.ones(N + 1) * mV}, results_directory=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    assert simulation.compile_count == 1

    # A second build in the same process works and closes the first simulation.
    other = Simulation(
        lambda: _lif_network(coupled=False), duration, device="cpp_standalone",
        directory=tmp_path / "other",
    )  # fmt: skip
    uncoupled = other.build().run()
    with pytest.raises(RuntimeError, match="closed"):
        simulation.run()
    v0 = np.linspace(0, 15, N)
    drives = 25 * np.linspace(1.0, 1.5, N)
    for k in (0, N - 1):
        expected = _analytic_lif_spike_times(drives[k], 10.0, v0[k], 100.0, 0.1)
        np.testing.assert_allclose(uncoupled.spike_trains.trains()[k] * 1e3, expected, atol=1e-9)
    # Rebuilding the first project (unchanged code: make has nothing to do) works too.
    again = simulation.build().run({"I_ext": 30 * mV * np.linspace(1.0, 1.5, N)})
    np.testing.assert_array_equal(again.i, references[2].i)
    simulation.close()


@pytest.mark.skipif(not HAVE_NVCC, reason="needs brian2cuda and nvcc")
@pytest.mark.skipif(HAVE_GPU, reason="checks the error on a machine without a GPU")
def test_cuda_run_without_gpu_gives_one_clear_error(tmp_path):
    simulation = Simulation(
        lambda: _lif_network(coupled=False), 10 * ms, device="cuda_standalone",
        directory=tmp_path / "cuda",
    )  # fmt: skip
    simulation.build(compile=False)
    assert (tmp_path / "cuda" / "makefile").is_file()
    with pytest.raises(GPUNotAvailableError, match="no NVIDIA GPU found"):
        simulation.run()
    simulation.close()


@pytest.mark.slow
@pytest.mark.cuda_compile
@pytest.mark.skipif(not HAVE_NVCC, reason="needs brian2cuda and nvcc")
def test_cuda_standalone_compiles_a_1000_neuron_network(tmp_path):
    from neurosrnn.models.networks import balanced_ei_network

    def build():
        return balanced_ei_network(
            lif(), 800, 200, 50, J0=2 * mV, g=5.0, seed=1, parameters={"I_ext": 30 * mV}
        )

    project = tmp_path / "cuda_project"
    simulation = Simulation(build, 100 * ms, device="cuda_standalone", directory=project)
    simulation.build()
    binary = project / "main"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert binary.read_bytes()[:4] == b"\x7fELF"
    assert simulation.compile_count == 1
    makefile = (project / "makefile").read_text()
    assert "sm_90" in makefile and "-std=c++17" in makefile
    if shutil.which("ldd"):
        linked = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
        assert "libcurand" in linked and "not found" not in linked
    if not HAVE_GPU:
        with pytest.raises(GPUNotAvailableError):
            simulation.run()
    else:  # pragma: no cover - only on a GPU machine
        assert len(simulation.run().i) > 0
    simulation.close()
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"


def test_importing_the_device_layer_does_not_import_brian2cuda():
    code = (
        "import sys, neurosrnn, neurosrnn.devices, neurosrnn.results, neurosrnn.cli; "
        "assert 'brian2cuda' not in sys.modules, 'brian2cuda imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_close_deletes_only_a_temporary_project_folder(tmp_path):
    temporary = Simulation(_lif_network, 10 * ms, device="cpp_standalone")
    temporary.build(compile=False)
    folder = temporary.directory
    assert os.path.isfile(os.path.join(folder, "main.cpp"))
    temporary.close()
    assert not os.path.exists(folder)
    named = Simulation(_lif_network, 10 * ms, device="cpp_standalone", directory=tmp_path / "p")
    named.build(compile=False)
    named.close()
    assert (tmp_path / "p" / "main.cpp").is_file()
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"


# ----------------------------------------------------------------------------- package layout

_OLD_DEVICES_ALL = (
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
)


def test_every_name_of_the_old_devices_module_still_imports():
    import neurosrnn.devices as devices
    from neurosrnn.devices import MANIFEST_NAME
    from neurosrnn.results import MANIFEST_NAME as results_manifest_name

    assert set(_OLD_DEVICES_ALL) <= set(devices.__all__)
    for name in _OLD_DEVICES_ALL:
        assert getattr(devices, name) is not None
    assert MANIFEST_NAME == results_manifest_name == "neurosrnn_manifest.json"


def test_device_modules_import_no_private_names_of_each_other():
    import ast
    import pathlib

    import neurosrnn.devices as devices

    for path in pathlib.Path(devices.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neurosrnn"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"


@pytest.mark.parametrize("method", ["run", "sweep"])
def test_cuda_run_without_gpu_fails_before_building(tmp_path, monkeypatch, method):
    """run() used to build and compile (minutes) before finding that there is no GPU."""
    import neurosrnn.devices.cuda as cuda

    monkeypatch.setattr(cuda, "find_gpus", lambda: [])
    calls = []

    def build_network():
        calls.append(1)
        return _lif_network(coupled=False)

    project = tmp_path / "cuda"
    simulation = Simulation(build_network, 10 * ms, device="cuda_standalone", directory=project)
    with pytest.raises(GPUNotAvailableError, match="no NVIDIA GPU found"):
        if method == "run":
            simulation.run()
        else:
            simulation.sweep([{}])
    assert calls == [], "the network was built before the GPU check"
    assert not project.exists()
    assert simulation.compile_count == 0 and not simulation.is_built
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"
    simulation.close()
