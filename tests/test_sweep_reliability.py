"""Reliability of sweeps and the results store (issue 13).

- a stored file tells its run key and format version, and `ResultStore.load` checks
  both and that every array of a result is there;
- a sweep file or `run_sweep` call with a bad in-degree, time step, code generation
  target or store path fails before any worker starts or anything is written;
- sweeps sharing one store compute every run once and never delete each other's
  temporary files.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from brian2 import ms, mV
from numpy.testing import assert_array_equal

from neurosrnn.sweep.cli import main as sweep_main
from neurosrnn.sweep.loop import run_one, run_sweep
from neurosrnn.sweep.runners import Brian2NetworkRunner, SparsePropRunner
from neurosrnn.sweep.spec import load_sweep_file
from neurosrnn.sweep.store import (
    FORMAT_VERSION,
    CorruptResultError,
    ResultStore,
    UnsupportedFormatError,
    write_arrays_atomic,
)


def _spikes(seed):
    rng = np.random.default_rng(seed)
    return {
        "spike_indices": rng.integers(0, 10, 20),
        "spike_times": np.sort(rng.uniform(0, 1, 20)),
    }


class _CountingRunner:
    """A runner that records its calls and returns a few spikes (no simulation)."""

    def __init__(self):
        self.calls = []

    def identity(self):
        return {"runner": "counting"}

    def __call__(self, point, seed):
        self.calls.append((dict(point), seed))
        return _spikes(seed)


# ---------------------------------------------------------------- item 1: file identity


def test_file_of_another_format_version_is_refused_and_not_overwritten(tmp_path):
    store = ResultStore(tmp_path)
    path = store.path("run-v")
    write_arrays_atomic(path, _spikes(0), {"format_version": 2, "key": "run-v"})
    with pytest.raises(UnsupportedFormatError, match=r"format version 2.*reads format version"):
        store.load("run-v")
    assert issubclass(UnsupportedFormatError, CorruptResultError)
    assert store.status("run-v") == "unsupported"
    original = path.read_bytes()
    runner = _CountingRunner()
    with pytest.raises(UnsupportedFormatError, match="format version 2"):
        run_one(runner, {"g": 1.0}, 0, store, analysis=None, key="run-v")
    assert runner.calls == [] and path.read_bytes() == original
    for version in (None, "1", True):
        write_arrays_atomic(path, _spikes(0), {"format_version": version, "key": "run-v"})
        with pytest.raises(UnsupportedFormatError, match=f"format version {version!r}"):
            store.load("run-v")


def test_valid_file_copied_under_another_key_is_refused_and_recomputed(tmp_path):
    store = ResultStore(tmp_path)
    store.save("run-a", _spikes(1))
    store.save("run-b", _spikes(2))
    shutil.copyfile(store.path("run-a"), store.path("run-b"))
    expected = f"file {store.path('run-b')} holds run run-a, expected run-b"
    with pytest.raises(CorruptResultError) as caught:
        store.load("run-b")
    assert str(caught.value) == expected
    assert store.status("run-b") == "corrupt"
    # a sweep recomputes the run instead of taking the other point's spikes
    runner = _CountingRunner()
    row = run_one(runner, {"g": 1.0}, 2, store, analysis=None, key="run-b")
    assert row["status"] == "recomputed" and runner.calls == [({"g": 1.0}, 2)]
    assert_array_equal(store.load("run-b")["spike_times"], _spikes(2)["spike_times"])


@pytest.mark.parametrize(
    ("arrays", "missing"),
    [
        ({"spike_indices": np.arange(3)}, "spike_times"),
        ({"spike_times": np.arange(3.0)}, "spike_indices"),
        ({**_spikes(0), "state__v": np.zeros((2, 5))}, "state_times"),
    ],
)
def test_checksummed_file_missing_an_array_is_corrupt(tmp_path, arrays, missing):
    store = ResultStore(tmp_path)
    write_arrays_atomic(store.path("run-m"), arrays, {"format_version": 1, "key": "run-m"})
    with pytest.raises(CorruptResultError, match=f"missing the array '{missing}' of run run-m"):
        store.load("run-m")
    assert store.status("run-m") == "corrupt"


def test_files_written_by_the_current_version_still_load(tmp_path):
    """A file laid out as version 1 has always been (metadata without the newer 'pid')."""
    assert FORMAT_VERSION == 1
    store = ResultStore(tmp_path)
    metadata = {"format_version": 1, "key": "run-old", "parameters": {}, "seed": 3,
                "device": "runtime", "wall_time_s": 0.5, "versions": {}, "host": "h",
                "created": "2024-01-01T00:00:00Z"}  # fmt: skip
    write_arrays_atomic(store.path("run-old"), _spikes(3), metadata)
    loaded = store.load("run-old")
    assert_array_equal(loaded["spike_indices"], _spikes(3)["spike_indices"])
    assert loaded["metadata"]["seed"] == 3 and store.status("run-old") == "complete"
    store.save("run-new", _spikes(4), seed=4)
    metadata = store.load("run-new")["metadata"]
    assert metadata["key"] == "run-new" and metadata["format_version"] == FORMAT_VERSION
    assert metadata["pid"] == os.getpid()


# ---------------------------------------------------------------- item 2: sweep set-up

_NETWORK = """
[sweep]
store = "results"
scheduler = "serial"

[network]
model = "lif"
N_excitatory = 40
N_inhibitory = 10
K = 5
J0 = "0.5 mV"
g = 4
duration = "20 ms"
graph_seed = 2
{extra}
[network.parameters]
I_ext = "25 mV"

[parameters]
g = [3, 5]
"""

_SPARSEPROP = """
[sweep]
store = "results"

[sparseprop]
N = 30
K = {K}
duration = "0.1 s"

[parameters]
J0 = [0.5, 1.0]
"""


def _write_sweep(tmp_path, text):
    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _assert_nothing_written(tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.toml"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_NETWORK.format(extra="").replace("K = 5", "K = 50"), r"K must be <= N - 1 = 49"),
        (_NETWORK.format(extra="").replace("K = 5", "K = 51"), r"got K = 51"),
        (_SPARSEPROP.format(K=30), r"K must be <= N - 1 = 29"),
        (_NETWORK.format(extra='dt = "0 ms"'), r"dt must be a time > 0"),
        (_NETWORK.format(extra='dt = "-0.1 ms"'), r"dt must be a time > 0"),
        (_NETWORK.format(extra="dt = nan"), r"dt must be finite"),
        (_NETWORK.format(extra='codegen_target = "cuda"'), r"codegen_target must be one of"),
    ],
)
def test_bad_network_in_sweep_file_fails_before_anything_is_written(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load_sweep_file(_write_sweep(tmp_path, text))
    _assert_nothing_written(tmp_path)


def test_codegen_target_error_lists_the_runtime_targets(tmp_path):
    from neurosrnn.devices import RUNTIME_TARGETS

    with pytest.raises(ValueError) as caught:
        load_sweep_file(_write_sweep(tmp_path, _NETWORK.format(extra='codegen_target = "gpu"')))
    assert all(repr(target) in str(caught.value) for target in RUNTIME_TARGETS)
    assert "'gpu'" in str(caught.value)
    _assert_nothing_written(tmp_path)


def test_bad_runner_arguments_are_refused_at_construction():
    settings = dict(model="lif", N_excitatory=8, N_inhibitory=2, K=3, J0=0.5 * mV, g=4.0,
                    duration=10 * ms)  # fmt: skip
    for dt, match in [(0 * ms, "dt must be a time > 0"), (-1 * ms, "dt must be a time > 0"),
                      (float("nan") * ms, "dt must be a finite time")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            Brian2NetworkRunner(**settings, dt=dt)
    with pytest.raises(ValueError, match="K must be <= N - 1 = 9"):
        Brian2NetworkRunner(**{**settings, "K": 10})
    with pytest.raises(ValueError, match="codegen_target must be one of"):
        Brian2NetworkRunner(**settings, codegen_target="cpp")
    with pytest.raises(ValueError, match="K must be <= N - 1 = 4"):
        SparsePropRunner(N=5, K=5)
    assert Brian2NetworkRunner(**settings, dt=0.05 * ms).dt == 0.05 * ms


def test_store_under_a_file_fails_in_the_sweep_file_before_anything_is_written(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    text = _NETWORK.format(extra="").replace('store = "results"', 'store = "blocker/results"')
    with pytest.raises(ValueError, match=r"\[sweep\] store .*blocker.*is a file"):
        load_sweep_file(_write_sweep(tmp_path, text))
    text = _NETWORK.format(extra="").replace('store = "results"', 'store = "blocker"')
    with pytest.raises(ValueError, match=r"\[sweep\] store .*exists and is not a folder"):
        load_sweep_file(_write_sweep(tmp_path, text))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "sweep.toml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_unwritable_store_fails_in_the_sweep_file(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        text = _NETWORK.format(extra="").replace('store = "results"', 'store = "locked/results"')
        with pytest.raises(PermissionError, match=r"\[sweep\] store"):
            load_sweep_file(_write_sweep(tmp_path, text))
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_run_sweep_refuses_a_store_under_a_file_before_running(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    runner = _CountingRunner()
    for store in (blocker, blocker / "results"):
        with pytest.raises(ValueError, match=r"store .*blocker"):
            run_sweep(runner, [{"g": 1.0}], store=store, scheduler="serial", progress=False)
    assert runner.calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_sweep_command_refuses_a_store_under_a_file(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    code = sweep_main([str(sweep_file), "--store", str(blocker / "results")])
    error = capsys.readouterr().err
    assert code == 2 and "store" in error and "blocker" in error and error.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "sweep.toml"]


def _sweep_cli(argv, capsys):
    """``(exit status, stderr)`` of ``neurosrnn sweep ARGV`` through the main command line."""
    from neurosrnn.cli import main

    code = main(["sweep", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("where", ["table-is-a-folder", "table-under-a-file", "store-is-a-file"])
def test_sweep_command_checks_its_output_locations_before_running(tmp_path, capsys, where):
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    (tmp_path / "afile").write_text("keep me")
    (tmp_path / "afolder").mkdir()
    option, fragment = {
        "table-is-a-folder": (["--table", str(tmp_path / "afolder")], "--table"),
        "table-under-a-file": (["--table", str(tmp_path / "afile" / "t.csv")], "--table"),
        "store-is-a-file": (["--store", str(tmp_path / "afile")], "store"),
    }[where]
    code, error = _sweep_cli([str(sweep_file), *option], capsys)
    assert code == 2 and fragment in error and error.count("\n") == 1
    assert "Traceback" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "afolder", "sweep.toml"]
    assert list((tmp_path / "afolder").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
@pytest.mark.parametrize("option", ["--store", "--table"])
def test_sweep_command_refuses_an_unwritable_output_place(tmp_path, capsys, option):
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        target = locked / ("results" if option == "--store" else "table.csv")
        code, error = _sweep_cli([str(sweep_file), option, str(target)], capsys)
        assert code == 2 and "cannot write" in error and error.count("\n") == 1
        assert list(locked.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["locked", "sweep.toml"]
    finally:
        locked.chmod(0o700)


def test_sweep_command_refuses_zero_workers_instead_of_using_the_file(tmp_path, capsys):
    # "--workers 0" used to fall back silently to the file's value (0 is falsy)
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    code, error = _sweep_cli([str(sweep_file), "--workers", "0"], capsys)
    assert code == 2 and "--workers must be > 0, got 0" in error
    _assert_nothing_written(tmp_path)


class _FailingRunner:
    """Completes the first `n_good` runs, then raises (a run that fails on a worker)."""

    def __init__(self, n_good):
        self.n_good = n_good
        self.calls = 0

    def identity(self):
        return {"runner": "failing", "n_good": self.n_good}

    def __call__(self, point, seed):
        self.calls += 1
        if self.calls > self.n_good:
            raise FloatingPointError("the membrane potential diverged")
        return {**_spikes(seed), "info": {"N": 10, "duration_s": 1.0}}


def _with_runner(monkeypatch, runner):
    """Make ``neurosrnn sweep`` use `runner` for the points of the sweep file."""
    import dataclasses

    import neurosrnn.sweep.cli as sweep_cli

    real_load = sweep_cli.load_sweep_file
    monkeypatch.setattr(
        sweep_cli,
        "load_sweep_file",
        lambda path: dataclasses.replace(real_load(path), runner=runner),
    )


def test_failed_sweep_leaves_no_empty_output_folder(tmp_path, capsys, monkeypatch):
    _with_runner(monkeypatch, _FailingRunner(n_good=0))
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    store, table = tmp_path / "new" / "store", tmp_path / "tables" / "deep" / "t.csv"
    argv = [str(sweep_file), "--store", str(store), "--table", str(table), "--quiet"]
    code, error = _sweep_cli(argv, capsys)
    assert code == 1 and error.count("\n") == 1 and "Traceback" not in error
    assert "FloatingPointError: the membrane potential diverged" in error
    _assert_nothing_written(tmp_path)  # neither new/store nor tables/deep is left


def test_failed_sweep_keeps_completed_runs_and_resumes(tmp_path, capsys, monkeypatch):
    _with_runner(monkeypatch, _FailingRunner(n_good=1))
    sweep_file = _write_sweep(tmp_path, _NETWORK.format(extra=""))
    store = tmp_path / "store"
    code, error = _sweep_cli([str(sweep_file), "--store", str(store), "--quiet"], capsys)
    assert code == 1 and "rerun the same command to resume" in error
    (kept,) = ResultStore(store).keys()
    assert ResultStore(store).status(kept) == "complete"
    assert sorted(p.name for p in store.iterdir()) == [f"{kept}.npz"]  # no lock, no table
    # the rerun computes the missing run only; the completed one is loaded
    runner = _FailingRunner(n_good=1)
    _with_runner(monkeypatch, runner)
    code, error = _sweep_cli([str(sweep_file), "--store", str(store), "--quiet"], capsys)
    assert code == 0 and runner.calls == 1, error
    import pandas as pd

    statuses = pd.read_csv(store / "table.csv").set_index("key")["status"]
    assert statuses[kept] == "skipped" and sorted(statuses) == ["computed", "skipped"]


# ---------------------------------------------------------------- item 3: shared stores

_SHARED_SWEEP = """
import json, os, sys, time
from pathlib import Path
import numpy as np
from neurosrnn.sweep.loop import run_sweep

store, counter, start = sys.argv[1], sys.argv[2], Path(sys.argv[3])


class Runner:
    def identity(self):
        return {{"runner": "shared-store-test"}}

    def __call__(self, point, seed):
        with open(counter, "a") as handle:  # one line per computation
            handle.write(json.dumps([point["g"], seed, os.getpid()]) + "\\n")
        time.sleep(0.15)
        rng = np.random.default_rng(int(point["g"] * 10) + seed)
        return {{"spike_indices": rng.integers(0, 5, 10),
                 "spike_times": np.sort(rng.uniform(0, 1, 10))}}


while not start.exists():  # start both sweeps together
    time.sleep(0.01)
points = [{{"g": float(g)}} for g in range({n_points})]
table = run_sweep(Runner(), points, store=store, scheduler="serial", progress=False,
                  analysis=None)
print(json.dumps(list(table["status"])))
"""


def test_two_sweeps_on_one_store_compute_every_run_once(tmp_path):
    store_directory, counter, start = tmp_path / "store", tmp_path / "calls", tmp_path / "go"
    script = tmp_path / "sweep_script.py"
    script.write_text(_SHARED_SWEEP.format(n_points=8))
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(store_directory), str(counter), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)
    start.touch()
    outputs = [process.communicate(timeout=240) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    calls = [tuple(json.loads(line)[:2]) for line in counter.read_text().splitlines()]
    assert sorted(calls) == [(float(g), 0) for g in range(8)]  # each run computed once
    statuses = [status for stdout, _ in outputs for status in json.loads(stdout)]
    assert statuses.count("computed") == 8 and statuses.count("skipped") == 8
    store = ResultStore(store_directory)
    assert len(store.keys()) == 8 and set(store.verify_all().values()) == {"complete"}
    writers = {json.loads(line)[2] for line in counter.read_text().splitlines()}
    assert {store.load(key)["metadata"]["pid"] for key in store.keys()} <= writers
    assert sorted(p.name for p in store_directory.iterdir()) == sorted(
        f"{key}.npz" for key in store.keys()
    )  # no temporary or lock file left behind


_HOLD_CLAIM = """
import sys, time
from pathlib import Path
from neurosrnn.sweep.store import ResultStore

store, ready, done = ResultStore(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
with store.claim("run-x"):
    temporary = store.directory / f".tmp-run-x-{{__import__('os').getpid()}}-abcd1234run-x.npz"
    temporary.write_bytes(b"half written")
    ready.touch()
    while not done.exists():
        time.sleep(0.01)
"""


def test_cleanup_leaves_a_write_in_flight_in_another_process_alone(tmp_path):
    store = ResultStore(tmp_path / "store")
    ready, done = tmp_path / "ready", tmp_path / "done"
    script = tmp_path / "hold.py"
    script.write_text(_HOLD_CLAIM.format())
    process = subprocess.Popen(
        [sys.executable, str(script), str(store.directory), str(ready), str(done)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        (temporary,) = store.temporary_files()
        assert store.remove_temporary_files() == 0
        assert store.remove_temporary_files(keys=["run-x"]) == 0
        assert temporary.exists()
    finally:
        done.touch()
        process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read()
    # the writer is gone without renaming: its temporary file is now stale
    assert store.remove_temporary_files(keys=["run-x"]) == 1
    assert list(store.directory.iterdir()) == []


def test_temporary_names_carry_the_writer_pid_and_the_key(tmp_path, monkeypatch):
    from neurosrnn.sweep.store import _temporary_key

    seen = []
    real_replace = os.replace

    def spy(source, target):
        seen.append(os.path.basename(source))
        real_replace(source, target)

    monkeypatch.setattr("neurosrnn.atomic.os.replace", spy)
    ResultStore(tmp_path).save("run-a-b", _spikes(0))
    (name,) = seen
    assert name.startswith(f".tmp-run-a-b-{os.getpid()}-") and name.endswith("run-a-b.npz")
    assert _temporary_key(name) == "run-a-b"
    assert _temporary_key(".tmp-run-a-xyz12345run-a.npz") == "run-a"  # written before pids
    assert _temporary_key("run-a.npz") is None


# ---------------------------------------------------------------- kill -9 of a running sweep

_FAULT_RUNNER = """
import time
from pathlib import Path

import numpy as np


class FaultRunner:
    # cheap deterministic runs; with `block` set, the run of g = block_g signals through
    # that file and then waits (until the parent kills the process)

    def __init__(self, block=None, block_g=None):
        self.block, self.block_g = block, block_g

    def identity(self):
        return {"runner": "fault-runner"}

    def __call__(self, point, seed):
        if self.block is not None and point["g"] == self.block_g:
            Path(self.block).touch()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                time.sleep(0.05)
        rng = np.random.default_rng([int(point["g"] * 10), seed])
        indices = rng.integers(0, 5, 40)
        times = np.sort(rng.uniform(0, 1, 40))
        return {"spike_indices": indices, "spike_times": times,
                "info": {"N": 5, "duration_s": 1.0}}
"""

_KILLED_SWEEP = """
import sys
sys.path.insert(0, sys.argv[1])
from fault_runner import FaultRunner
from neurosrnn.sweep.loop import run_sweep

points = [{"g": float(g)} for g in range(6)]
run_sweep(FaultRunner(block=sys.argv[3], block_g=3.0), points, seeds=[0, 1], store=sys.argv[2],
          scheduler="serial", progress=False)
"""


def test_sweep_killed_mid_run_resumes_to_the_uninterrupted_table(tmp_path, monkeypatch):
    (tmp_path / "fault_runner.py").write_text(_FAULT_RUNNER)
    script = tmp_path / "killed_sweep.py"
    script.write_text(_KILLED_SWEEP)
    store, marker = tmp_path / "store", tmp_path / "blocked"
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(store), str(marker)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # only a real hang gets here
        while not marker.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the sweep never reached the blocking run"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # kill -9 while it holds the claim of a run
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(ResultStore(store).keys()) == 6  # points 0, 1, 2 with both seeds

    monkeypatch.syspath_prepend(str(tmp_path))
    from fault_runner import FaultRunner

    points = [{"g": float(g)} for g in range(6)]
    resumed = run_sweep(FaultRunner(), points, seeds=[0, 1], store=store, scheduler="serial",
                        progress=False)  # fmt: skip
    reference = run_sweep(FaultRunner(), points, seeds=[0, 1], store=tmp_path / "reference",
                          scheduler="serial", progress=False)  # fmt: skip
    assert list(resumed["status"]) == ["skipped"] * 6 + ["computed"] * 6
    columns = [c for c in reference.columns if c not in ("status", "wall_time_s")]
    assert resumed[columns].equals(reference[columns])
    for key in reference["key"]:
        ours, theirs = ResultStore(store).load(key), ResultStore(tmp_path / "reference").load(key)
        assert_array_equal(ours["spike_indices"], theirs["spike_indices"])
        assert_array_equal(ours["spike_times"], theirs["spike_times"])
    # the killed process's lock file is gone, and nothing else is left behind
    assert sorted(p.name for p in store.iterdir()) == sorted(f"{k}.npz" for k in resumed["key"])
