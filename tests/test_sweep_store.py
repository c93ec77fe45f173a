"""Tests of the results store: round trip, checksum, corruption detection, atomic writes."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from brian2 import ms, mV, second
from numpy.testing import assert_array_equal

from neurosrnn.sweep.store import (
    CorruptResultError,
    ResultStore,
    canonical_json,
    read_verified_arrays,
    run_key,
    write_arrays_atomic,
)


def _example_result(seed=0):
    rng = np.random.default_rng(seed)
    n = 500
    return {
        "spike_indices": rng.integers(0, 100, n),
        "spike_times": np.sort(rng.uniform(0, 1, n)),
        "state_times": np.arange(20) * 1e-4,
        "states": {"v": rng.normal(size=(3, 20))},
        "arrays": {"weights": rng.normal(size=7)},
    }


def test_round_trip_keeps_every_array_and_the_metadata(tmp_path):
    store = ResultStore(tmp_path)
    result = _example_result()
    store.save("run-a", result, parameters={"tau_m": 10 * ms}, seed=3, device="runtime",
               wall_time=1.5)  # fmt: skip
    loaded = store.load("run-a")
    assert_array_equal(loaded["spike_indices"], result["spike_indices"])
    assert_array_equal(loaded["spike_times"], result["spike_times"])
    assert_array_equal(loaded["states"]["v"], result["states"]["v"])
    assert_array_equal(loaded["state_times"], result["state_times"])
    assert_array_equal(loaded["arrays"]["weights"], result["arrays"]["weights"])
    metadata = loaded["metadata"]
    assert metadata["seed"] == 3
    assert metadata["device"] == "runtime"
    assert metadata["parameters"]["tau_m"] == {"value": 0.01, "unit": "s"}
    import brian2

    assert metadata["versions"]["brian2"] == brian2.__version__
    assert metadata["versions"]["numpy"] == np.__version__
    assert store.status("run-a") == "complete"
    assert store.keys() == ["run-a"]


def test_stored_checksum_matches_an_independent_digest(tmp_path):
    """Recompute the documented digest with hashlib straight from the zip members."""
    arrays = {"b": np.arange(5, dtype=np.int64), "a": np.linspace(0, 1, 3)}
    path = tmp_path / "x.npz"
    digest = write_arrays_atomic(path, arrays, {"k": 1})
    with np.load(path) as archive:
        metadata_bytes = archive["__metadata__"].tobytes()
        stored = archive["__checksum__"].tobytes().decode()
    hasher = hashlib.sha256()
    for name in ("a", "b"):
        array = arrays[name]
        hasher.update(name.encode() + b"\0" + array.dtype.str.encode() + b"\0")
        hasher.update(str(array.shape).encode() + b"\0" + array.tobytes())
    hasher.update(metadata_bytes)
    assert stored == digest == hasher.hexdigest()
    assert json.loads(metadata_bytes) == {"k": 1}


def test_truncated_file_is_detected(tmp_path):
    store = ResultStore(tmp_path)
    store.save("run-t", _example_result())
    path = store.path("run-t")
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    assert store.status("run-t") == "corrupt"
    with pytest.raises(CorruptResultError):
        store.load("run-t")


def test_flipped_byte_is_detected(tmp_path):
    store = ResultStore(tmp_path)
    store.save("run-f", _example_result())
    path = store.path("run-f")
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert store.status("run-f") == "corrupt"


def test_consistently_rewritten_archive_fails_the_checksum(tmp_path):
    """A valid zip whose data was changed (zip CRCs fine) is caught by the digest."""
    store = ResultStore(tmp_path)
    store.save("run-c", _example_result())
    path = store.path("run-c")
    with np.load(path) as archive:
        contents = {name: archive[name] for name in archive.files}
    contents["spike_times"] = contents["spike_times"] + 1e-12
    np.savez(path, **contents)
    read = np.load(path)  # the archive itself is valid
    assert read["spike_times"].shape == contents["spike_times"].shape
    read.close()
    assert store.status("run-c") == "corrupt"
    with pytest.raises(CorruptResultError, match="checksum"):
        read_verified_arrays(path)


def test_missing_file_status(tmp_path):
    store = ResultStore(tmp_path)
    assert store.status("run-none") == "missing"
    with pytest.raises(FileNotFoundError):
        store.load("run-none")


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    store.save("run-o", _example_result(1))
    original = store.path("run-o").read_bytes()

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("neurosrnn.atomic.os.replace", broken_replace)
    with pytest.raises(OSError):
        store.save("run-o", _example_result(2))
    with pytest.raises(OSError):
        store.save("run-new", _example_result(2))
    monkeypatch.undo()
    assert store.path("run-o").read_bytes() == original
    assert store.status("run-new") == "missing"
    assert store.temporary_files() == []


def test_killed_writer_leaves_only_a_temporary_file(tmp_path):
    """SIGKILL between writing and renaming: the final name never holds a partial file."""
    store = ResultStore(tmp_path)
    store.save("run-k", _example_result(1))
    original = store.path("run-k").read_bytes()
    script = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        import neurosrnn.sweep.store as store_module
        os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)  # used by the store
        store = store_module.ResultStore({str(tmp_path)!r})
        result = {{"spike_indices": np.arange(10), "spike_times": np.arange(10.0)}}
        store.save("run-k", result)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert process.returncode == -9
    assert len(store.temporary_files()) == 1
    assert store.keys() == ["run-k"]
    assert store.path("run-k").read_bytes() == original
    assert store.status("run-k") == "complete"
    assert store.remove_temporary_files(keys=["run-other"]) == 0
    assert store.remove_temporary_files(keys=["run-k"]) == 1
    assert store.temporary_files() == []


def test_run_key_is_unit_invariant_and_seed_sensitive():
    assert run_key({"tau_m": 10 * ms, "seed": 1}) == run_key({"tau_m": 0.01 * second, "seed": 1})
    assert run_key({"tau_m": 10 * ms, "seed": 1}) != run_key({"tau_m": 10 * ms, "seed": 2})
    assert run_key({"v": 1 * mV}) != run_key({"v": 1e-3})
    assert canonical_json({"b": 1, "a": 2.0}) == '{"a":2.0,"b":1}'


def test_bad_input_is_refused(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(ValueError, match="spike_times"):
        store.save("run-x", {"spike_indices": np.arange(3)})
    with pytest.raises(ValueError, match="same length"):
        store.save("run-x", {"spike_indices": np.arange(3), "spike_times": np.arange(4.0)})
    with pytest.raises(ValueError, match="object"):
        write_arrays_atomic(tmp_path / "o.npz", {"a": np.array([{}], dtype=object)}, {})
    with pytest.raises(ValueError, match="invalid run key"):
        store.path("../escape")
    assert not os.listdir(tmp_path)
