"""Sweeps: points, analysis, Dask execution, fault injection, corrupt-file recovery, CLI."""

import itertools
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, ms, mV, second
from brian2.units.fundamentalunits import DimensionMismatchError
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.analysis import cv
from neurosrnn.sweep.analysis import firing_statistics
from neurosrnn.sweep.loop import run_sweep
from neurosrnn.sweep.points import grid_points, random_points
from neurosrnn.sweep.runners import Brian2NetworkRunner
from neurosrnn.sweep.store import ResultStore

# Runners defined here must reach Dask workers, which cannot import this test module.
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _runner(**changes):
    settings = dict(
        model="lif",
        N_excitatory=80,
        N_inhibitory=20,
        K=10,
        J0=0.5 * mV,
        g=5.0,
        duration=60 * ms,
        parameters={"I_ext": 25 * mV},
        initial_ranges={"v": (0 * mV, 20 * mV)},
        graph_seed=1,
    )
    settings.update(changes)
    return Brian2NetworkRunner(**settings)


_POINTS = grid_points({"J0": [0.2 * mV, 0.6 * mV], "I_ext": [22 * mV, 24 * mV, 26 * mV, 28 * mV]})


# ---------------------------------------------------------------- points and analysis


def test_grid_points_is_the_cartesian_product():
    axes = {"a": [1, 2, 3], "b": [10 * ms, 20 * ms], "c": [0.5]}
    expected = [
        {"a": a, "b": b, "c": c} for a, b, c in itertools.product(axes["a"], axes["b"], axes["c"])
    ]
    assert grid_points(axes) == expected
    with pytest.raises(ValueError, match="empty"):
        grid_points({"a": []})
    with pytest.raises(ValueError, match="empty grid"):
        grid_points({})
    with pytest.raises(ValueError, match="sequence"):
        grid_points({"a": 3})


def test_random_points_are_reproducible_and_inside_the_ranges():
    ranges = {"tau_m": {"low": 5 * ms, "high": 20 * ms}, "g": {"choices": [4, 6]}}
    first = random_points(ranges, 200, seed=1)
    assert first == random_points(ranges, 200, seed=1)
    assert first != random_points(ranges, 200, seed=2)
    taus = np.array([p["tau_m"] / ms for p in first])
    assert taus.min() >= 5 and taus.max() < 20
    # uniform on [5, 20): mean 12.5, standard error 15/sqrt(12*200) ~ 0.31
    assert abs(taus.mean() - 12.5) < 4 * 15 / np.sqrt(12 * 200)
    assert {p["g"] for p in first} == {4, 6}
    with pytest.raises(DimensionMismatchError):
        random_points({"x": {"low": 1 * ms, "high": 2 * mV}}, 3, seed=0)
    with pytest.raises(ValueError, match="low < high"):
        random_points({"x": {"low": 2.0, "high": 1.0}}, 3, seed=0)
    with pytest.raises(ValueError, match="n_samples"):
        random_points(ranges, 0, seed=0)


def test_firing_statistics_against_a_per_neuron_loop():
    rng = np.random.default_rng(3)
    N, duration = 30, 2.0
    indices = rng.integers(0, N, 900)
    times = rng.uniform(0, duration, 900)
    stats = firing_statistics(
        {
            "spike_indices": indices,
            "spike_times": times,
            "metadata": {"info": {"N": N, "duration_s": duration}},
        }
    )
    # the package's one ISI CV definition: population SD (ddof=0), NaN below 3 spikes
    cvs = []
    for neuron in range(N):
        own = np.sort(times[indices == neuron])
        if own.size >= 3:
            intervals = np.diff(own)
            cvs.append(np.std(intervals, ddof=0) / np.mean(intervals))
    assert stats["n_spikes"] == 900
    assert_allclose(stats["rate_hz"], 900 / (N * duration))
    assert_allclose(stats["cv_mean"], np.mean(cvs), rtol=1e-10)
    assert stats["cv_mean"] == np.nanmean(cv((indices, times), N=N, t_start=0, t_stop=duration))


# ---------------------------------------------------------------- the runner itself


def test_runner_matches_a_hand_built_brian2_network():
    """The runner's network, built independently from plain Brian2 objects."""
    import brian2

    runner = _runner(duration=50 * ms)
    point = {"J0": 0.6 * mV, "I_ext": 26 * mV}
    result = runner(point, seed=4)

    from neurosrnn.connectivity import balanced_ei

    graph = balanced_ei(80, 20, 10, J0=0.6, g=5.0, seed=1)
    v0 = 20 * np.random.default_rng(4).uniform(0, 1, 100)
    neurons = brian2.NeuronGroup(
        100,
        "dv/dt = (v_rest - v + I_ext)/tau_m : volt (unless refractory)\n"
        "tau_m : second (constant)\nv_rest : volt (constant)\nI_ext : volt (constant)\n"
        "v_threshold : volt (constant)\nv_reset : volt (constant)\ntau_ref : second (constant)",
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory="tau_ref",
        method="exact",
    )
    neurons.tau_m, neurons.v_rest, neurons.I_ext = 10 * ms, 0 * mV, 26 * mV
    neurons.v_threshold, neurons.v_reset, neurons.tau_ref = 20 * mV, 10 * mV, 2 * ms
    neurons.v = v0 * mV
    synapses = brian2.Synapses(neurons, neurons, "w : volt", on_pre="v_post += w")
    synapses.connect(i=graph.sources, j=graph.targets)
    synapses.w = graph.weights * mV
    monitor = brian2.SpikeMonitor(neurons)
    brian2.Network(neurons, synapses, monitor).run(50 * ms)
    order = np.lexsort((monitor.i[:], monitor.t[:]))
    assert result["spike_indices"].size > 50
    assert_array_equal(result["spike_indices"], np.asarray(monitor.i[:])[order])
    assert_allclose(result["spike_times"], np.asarray(monitor.t[:] / second)[order], atol=1e-12)


def test_bad_points_are_rejected_before_anything_runs(tmp_path):
    runner = _runner()
    with pytest.raises(ValueError, match="unknown sweep parameter 'tau_membrane'"):
        run_sweep(runner, [{"tau_membrane": 10 * ms}], store=tmp_path, scheduler="serial")
    with pytest.raises(DimensionMismatchError):
        run_sweep(runner, [{"tau_m": 10 * mV}], store=tmp_path, scheduler="serial")
    with pytest.raises(DimensionMismatchError):
        run_sweep(runner, [{"J0": 1 * Hz}], store=tmp_path, scheduler="serial")
    with pytest.raises(ValueError, match="duplicate"):
        run_sweep(runner, [{"g": 4.0}, {"g": 4.0}], store=tmp_path, scheduler="serial")
    with pytest.raises(ValueError, match="no parameter points"):
        run_sweep(runner, [], store=tmp_path, scheduler="serial")
    with pytest.raises(ValueError, match="device"):
        _runner(device="gpu")
    assert ResultStore(tmp_path).keys() == []


# ---------------------------------------------------------------- Dask


@dataclass(frozen=True)
class _KillOnceRunner:
    """Wraps a runner; the first call for `victim` SIGKILLs its own worker process."""

    inner: Brian2NetworkRunner
    victim: float
    marker: str

    def identity(self):
        return self.inner.identity()

    def validate_point(self, point):
        self.inner.validate_point(point)

    def __call__(self, point, seed):
        if abs(float(point["I_ext"] / mV) - self.victim) < 1e-9:
            try:
                descriptor = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(descriptor, str(os.getpid()).encode())
                os.close(descriptor)
                os.kill(os.getpid(), signal.SIGKILL)
        return self.inner(point, seed)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _serial_reference(runner, points, seed):
    """The same runs made one by one in this process, without store or Dask."""
    return [runner(point, seed) for point in points]


@pytest.mark.slow
def test_dask_sweep_equals_runs_made_one_by_one(tmp_path, dask_client):
    runner = _runner()
    table = run_sweep(runner, _POINTS, seeds=[7], store=tmp_path, scheduler=dask_client,
                      progress=False)  # fmt: skip
    assert len(table) == 8 and set(table["status"]) == {"computed"}
    workers = set(dask_client.scheduler_info()["workers"])
    assert len(workers) == 2
    store = ResultStore(tmp_path)
    for row, point, reference in zip(
        table.itertuples(), _POINTS, _serial_reference(runner, _POINTS, 7), strict=True
    ):
        stored = store.load(row.key)
        assert_array_equal(stored["spike_indices"], reference["spike_indices"])
        assert_array_equal(stored["spike_times"], reference["spike_times"])
        assert row.I_ext == pytest.approx(float(point["I_ext"] / mV) * 1e-3)
        n_spikes = reference["spike_indices"].size
        assert row.n_spikes == n_spikes
        assert row.rate_hz == pytest.approx(n_spikes / (100 * 0.06))
    # more drive, more spikes (the sweep varies something real)
    rates = table.set_index(["J0", "I_ext"])["rate_hz"]
    assert rates.loc[(0.2e-3, 0.028)] > rates.loc[(0.2e-3, 0.022)]


@pytest.mark.slow
def test_worker_killed_mid_sweep(tmp_path, dask_client):
    marker = tmp_path / "killed.pid"
    runner = _KillOnceRunner(_runner(), victim=24.0, marker=str(marker))
    store_directory = tmp_path / "store"
    # connect by address, as to a scheduler started elsewhere
    address = dask_client.scheduler.address
    table = run_sweep(runner, _POINTS, seeds=[3], store=store_directory, scheduler=address,
                      progress=False)  # fmt: skip
    killed_pid = int(marker.read_text())
    assert killed_pid != os.getpid()  # a worker process died, not this one
    store = ResultStore(store_directory)
    # every run exactly once: one row and one verified file per run, nothing else
    assert len(table) == 8 and table["key"].is_unique
    assert store.keys() == sorted(table["key"])
    assert sorted(p.name for p in store_directory.iterdir()) == sorted(
        f"{key}.npz" for key in table["key"]
    )
    assert store.temporary_files() == []
    assert set(store.verify_all().values()) == {"complete"}
    references = _serial_reference(runner.inner, _POINTS, 3)
    for key, reference in zip(table["key"], references, strict=True):
        assert_array_equal(store.load(key)["spike_times"], reference["spike_times"])
    # the cluster got its worker back
    dask_client.wait_for_workers(2, timeout=30)


@dataclass(frozen=True)
class _FailingRunner:
    def __call__(self, point, seed):
        raise ZeroDivisionError("model blew up")


def test_a_failing_run_names_its_point(tmp_path):
    with pytest.raises(RuntimeError, match=r"failed \(point \{'g': 3.0\}, seed 4\).*blew up"):
        run_sweep(_FailingRunner(), [{"g": 3.0}], seeds=[4], store=tmp_path, scheduler="serial")
    assert ResultStore(tmp_path).keys() == []


def test_corrupt_files_are_detected_and_recomputed(tmp_path):
    runner = _runner(duration=50 * ms)
    points = _POINTS[:4]
    first = run_sweep(runner, points, seeds=[1, 2], store=tmp_path, scheduler="serial",
                      progress=False)  # fmt: skip
    assert set(first["status"]) == {"computed"}
    store = ResultStore(tmp_path)
    truncated, altered = first["key"][0], first["key"][5]
    path = store.path(truncated)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with np.load(store.path(altered)) as archive:
        contents = {name: archive[name] for name in archive.files}
    contents["spike_times"] = contents["spike_times"] * 1.5  # e.g. a bad copy
    np.savez(store.path(altered), **contents)
    assert store.status(truncated) == store.status(altered) == "corrupt"

    second = run_sweep(runner, points, seeds=[1, 2], store=tmp_path, scheduler="serial",
                       progress=False)  # fmt: skip
    status = dict(zip(second["key"], second["status"], strict=True))
    assert status.pop(truncated) == "recomputed" and status.pop(altered) == "recomputed"
    assert set(status.values()) == {"skipped"}
    columns = ["key", "rate_hz", "cv_mean", "n_spikes"]
    assert second[columns].equals(first[columns])
    assert set(store.verify_all().values()) == {"complete"}
    # a changed runner configuration maps to new keys instead of reusing old files
    other = run_sweep(_runner(duration=40 * ms), points[:1], store=tmp_path, scheduler="serial",
                      progress=False)  # fmt: skip
    assert other["status"][0] == "computed" and other["key"][0] not in set(first["key"])


# ---------------------------------------------------------------- command line


def test_sweep_command_line(tmp_path, capsys):
    from neurosrnn.sweep.cli import main as _main

    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(
        """
[sweep]
store = "results"
seeds = [5]

[network]
model = "lif"
N_excitatory = 40
N_inhibitory = 10
K = 5
J0 = "0.5 mV"
g = 4
duration = "30 ms"

[network.parameters]
I_ext = "25 mV"

[network.initial_ranges]
v = ["0 mV", "20 mV"]

[parameters]
I_ext = ["22 mV", "26 mV"]
g = [3, 5]
"""
    )
    assert _main([str(sweep_file), "--scheduler", "serial", "--quiet"]) == 0
    import pandas as pd

    table = pd.read_csv(tmp_path / "results" / "table.csv")
    assert len(table) == 4 and set(table["status"]) == {"computed"}
    assert_allclose(sorted(set(table["I_ext"])), [0.022, 0.026])
    assert ResultStore(tmp_path / "results").keys() == sorted(table["key"])
    assert "4 run(s)" in capsys.readouterr().out

    bad = tmp_path / "bad.toml"
    bad.write_text(sweep_file.read_text().replace('I_ext = ["22 mV"', 'I_ext = ["22 ms"'))
    assert _main([str(bad), "--scheduler", "serial"]) == 2
    assert "I_ext" in capsys.readouterr().err
    assert _main([str(sweep_file), "--dry-run"]) == 0
    assert "4 run(s)" in capsys.readouterr().out


# ---------------------------------------------------------------- cpp_standalone


@pytest.mark.standalone
@pytest.mark.slow
def test_standalone_sweep_builds_once_and_matches_runtime(tmp_path):
    import shutil

    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("no C++ compiler")
    from neurosrnn.sweep.runners import clear_standalone_builds

    standalone = _runner(device="cpp_standalone", duration=50 * ms, record_states=("v",))
    runtime = _runner(duration=50 * ms, record_states=("v",))
    points = _POINTS[::2]
    table = run_sweep(standalone, points, seeds=[2], store=tmp_path, scheduler="serial",
                      progress=False)  # fmt: skip
    store = ResultStore(tmp_path)
    build_directories = set()
    for key, point in zip(table["key"], points, strict=True):
        stored = store.load(key)
        build_directories.add(stored["metadata"]["info"]["build_directory"])
        assert stored["metadata"]["info"]["compile_count"] == 1
        reference = runtime(point, 2)
        assert_array_equal(stored["spike_indices"], reference["spike_indices"])
        assert_allclose(stored["spike_times"], reference["spike_times"], rtol=1e-12, atol=0)
        assert_allclose(stored["states"]["v"], reference["states"]["v"], rtol=1e-9, atol=1e-15)
    assert len(build_directories) == 1  # one build for all runs
    assert Path(build_directories.pop()).exists()
    clear_standalone_builds()


# ---------------------------------------------------------------- SparseProp


def test_sparseprop_sweep_matches_direct_engine_runs(tmp_path):
    from neurosrnn.sparseprop import balanced_network
    from neurosrnn.sweep.runners import SparsePropRunner

    runner = SparsePropRunner(N=500, K=20, duration=0.5 * second, graph_seed=2)
    points = grid_points({"J0": [0.5, 1.0], "heterogeneity": [0.0, 0.3]})
    table = run_sweep(runner, points, seeds=[9], store=tmp_path, scheduler="serial",
                      progress=False)  # fmt: skip
    store = ResultStore(tmp_path)
    for key, point in zip(table["key"], points, strict=True):
        network = balanced_network(N=500, K=20, J0=point["J0"], rate=1.0, tau=0.01,
                                   heterogeneity=point["heterogeneity"], seed=2)  # fmt: skip
        direct = network.run(network.initial_state(seed=9), duration=0.5, progress=False)
        stored = store.load(key)
        assert_array_equal(stored["spike_indices"], direct.spike_indices)
        assert_array_equal(stored["spike_times"], direct.spike_times)
    with pytest.raises(ValueError, match="unknown sweep parameter 'coupling'"):
        runner.validate_point({"coupling": 1.0})
    with pytest.raises(DimensionMismatchError):
        runner.validate_point({"rate": 3 * ms})
    with pytest.raises(ValueError, match="heterogeneity"):
        runner.validate_point({"heterogeneity": 1.5})


def test_importing_the_sweep_modules_does_not_import_dask_or_pandas():
    import subprocess

    code = (
        "import sys, neurosrnn, neurosrnn.sweep, neurosrnn.store, neurosrnn.checkpoint, "
        "neurosrnn.sweep_file, neurosrnn.sweep.cli; "
        "print(sorted(m for m in ('dask', 'distributed', 'pandas') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_sweep_process_killed_while_writing_leaves_no_partial_file(tmp_path):
    """SIGKILL inside the third file write (between writing and renaming); the re-run
    completes every run exactly once and clears the left-over temporary file."""
    import subprocess
    import textwrap

    script = textwrap.dedent(
        f"""
        import os, signal
        from brian2 import mV, ms
        from neurosrnn.sweep import Brian2NetworkRunner, grid_points, run_sweep
        real_replace, calls = os.replace, []
        def replace(source, target):
            calls.append(target)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            real_replace(source, target)
        os.replace = replace  # the store renames through os.replace
        runner = Brian2NetworkRunner("lif", 40, 10, 5, J0=0.5 * mV, g=4.0, duration=20 * ms,
                                     initial_ranges={{"v": (0 * mV, 20 * mV)}}, graph_seed=1)
        points = grid_points({{"I_ext": [22 * mV, 24 * mV, 26 * mV, 28 * mV]}})
        run_sweep(runner, points, store={str(tmp_path)!r}, scheduler="serial", progress=False)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert process.returncode == -signal.SIGKILL, process.stderr
    store = ResultStore(tmp_path)
    assert len(store.keys()) == 2 and len(store.temporary_files()) == 1
    runner = Brian2NetworkRunner("lif", 40, 10, 5, J0=0.5 * mV, g=4.0, duration=20 * ms,
                                 initial_ranges={"v": (0 * mV, 20 * mV)}, graph_seed=1)  # fmt: skip
    points = grid_points({"I_ext": [22 * mV, 24 * mV, 26 * mV, 28 * mV]})
    table = run_sweep(runner, points, store=tmp_path, scheduler="serial", progress=False)
    assert list(table["status"]) == ["skipped", "skipped", "computed", "computed"]
    assert store.keys() == sorted(table["key"]) and store.temporary_files() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{k}.npz" for k in table["key"])
    for key, point in zip(table["key"], points, strict=True):
        assert_array_equal(store.load(key)["spike_times"], runner(point, 0)["spike_times"])
