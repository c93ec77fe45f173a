"""Checkpoint and resume: generic runs and SparseProp runs killed with SIGKILL."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from neurosrnn.sweep.checkpoint import (
    CheckpointDirectory,
    load_checkpointed_spikes,
    run_with_checkpoints,
    sparseprop_checkpointed_run,
    sparseprop_state_from_arrays,
    sparseprop_state_to_arrays,
)
from neurosrnn.sweep.store import CorruptResultError

# ---------------------------------------------------------------- a toy engine


def _toy_advance(state, n):
    """A random spike generator whose whole state is a PCG64 state plus a clock.

    Continuing is exact by construction, and the one-shot reference below draws the
    same numbers in one go, so it is an independent check of the chunking logic.
    """
    generator = np.random.Generator(np.random.PCG64())
    generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": int(state["rng_state"]), "inc": int(state["rng_inc"])},
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }
    uniforms = generator.random((n, 2))  # row-major: chunking keeps the draw order
    intervals = -0.01 * np.log1p(-uniforms[:, 0])
    neurons = (uniforms[:, 1] * 50).astype(np.int64)
    times = float(state["clock"]) + np.cumsum(intervals)
    raw = generator.bit_generator.state
    new_state = {
        "rng_state": np.array(str(raw["state"]["state"])),
        "rng_inc": np.array(str(raw["state"]["inc"])),
        "has_uint32": np.array(raw["has_uint32"]),
        "uinteger": np.array(raw["uinteger"]),
        "clock": np.array(times[-1] if n else float(state["clock"])),
    }
    return neurons, times, new_state


def _toy_initial_state(seed):
    raw = np.random.PCG64(seed).state
    return {
        "rng_state": np.array(str(raw["state"]["state"])),
        "rng_inc": np.array(str(raw["state"]["inc"])),
        "has_uint32": np.array(raw["has_uint32"]),
        "uinteger": np.array(raw["uinteger"]),
        "clock": np.array(0.0),
    }


def test_chunked_run_equals_one_shot_run(tmp_path):
    reference_indices, reference_times, _ = _toy_advance(_toy_initial_state(5), 1000)
    indices, times, _ = run_with_checkpoints(
        _toy_advance, _toy_initial_state(5), directory=tmp_path, n_spikes=1000, every=137
    )
    assert_array_equal(indices, reference_indices)
    # cumulative sums restart per chunk in the chunked run, so compare with a tolerance
    # for the generic engine; bit-exactness is tested on SparseProp below.
    np.testing.assert_allclose(times, reference_times, rtol=0, atol=1e-12)


def test_interrupted_run_resumes_and_ignores_stale_chunks(tmp_path):
    state0 = _toy_initial_state(7)
    full_indices, full_times, _ = run_with_checkpoints(
        _toy_advance, state0, directory=tmp_path / "full", n_spikes=950, every=100
    )

    class Crash(Exception):
        pass

    def crash_after_three(n_chunks, done):
        if n_chunks == 3:
            raise Crash

    with pytest.raises(Crash):
        run_with_checkpoints(_toy_advance, state0, directory=tmp_path / "cut", n_spikes=950,
                             every=100, on_checkpoint=crash_after_three)  # fmt: skip
    folder = CheckpointDirectory(tmp_path / "cut")
    # a chunk written after the last checkpoint (killed before the state was saved)
    folder.save_chunk(3, np.arange(5), np.arange(5.0))
    indices, times, metadata = load_checkpointed_spikes(tmp_path / "cut")
    assert metadata["n_chunks"] == 3 and indices.size == 300
    resumed_indices, resumed_times, _ = run_with_checkpoints(
        _toy_advance, state0, directory=tmp_path / "cut", n_spikes=950, every=100
    )
    assert_array_equal(resumed_indices, full_indices)
    assert_array_equal(resumed_times, full_times)
    assert folder.read_metadata()["finished"]


def test_resume_with_another_configuration_is_refused(tmp_path):
    run_with_checkpoints(_toy_advance, _toy_initial_state(1), directory=tmp_path, n_spikes=10,
                         every=5, fingerprint={"N": 50})  # fmt: skip
    with pytest.raises(ValueError, match="another run configuration"):
        run_with_checkpoints(_toy_advance, _toy_initial_state(1), directory=tmp_path,
                             n_spikes=10, every=5, fingerprint={"N": 60})  # fmt: skip


def test_corrupt_checkpoint_is_reported(tmp_path):
    run_with_checkpoints(
        _toy_advance, _toy_initial_state(1), directory=tmp_path, n_spikes=10, every=5
    )
    path = CheckpointDirectory(tmp_path).checkpoint_path
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(CorruptResultError):
        run_with_checkpoints(
            _toy_advance, _toy_initial_state(1), directory=tmp_path, n_spikes=10, every=5
        )


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="every"):
        run_with_checkpoints(_toy_advance, {}, directory=tmp_path, n_spikes=10, every=0)
    with pytest.raises(ValueError, match="n_spikes"):
        run_with_checkpoints(_toy_advance, {}, directory=tmp_path, n_spikes=-1, every=3)


# ---------------------------------------------------------------- SparseProp

# The same network is built in the killed subprocess from this text.
_NETWORK_CODE = "balanced_network(N=2000, K=50, seed=3, heterogeneity={heterogeneity})"


def _network(heterogeneity=0.0):
    from neurosrnn.sparseprop import balanced_network

    return balanced_network(N=2000, K=50, seed=3, heterogeneity=heterogeneity)


@pytest.mark.parametrize("heterogeneity", [0.0, 0.3])
def test_sparseprop_state_round_trip_is_exact(heterogeneity):
    network = _network(heterogeneity)
    state = network.run(network.initial_state(seed=1), n_spikes=3000, progress=False).state
    back = sparseprop_state_from_arrays(sparseprop_state_to_arrays(state))
    for item in dataclasses.fields(state):  # every field, exactly, with its type
        original, restored = getattr(state, item.name), getattr(back, item.name)
        assert type(restored) is type(original), item.name
        assert_array_equal(restored, original)
    assert state.n_spikes == 3000


@pytest.mark.parametrize("heterogeneity", [0.0, 0.3])
def test_sparseprop_checkpointed_run_is_bitwise_one_long_run(tmp_path, heterogeneity):
    network = _network(heterogeneity)
    state0 = network.initial_state(seed=4)
    reference = network.run(state0, n_spikes=12_000, progress=False)
    indices, times, final = sparseprop_checkpointed_run(
        network, state0, directory=tmp_path, n_spikes=12_000, every=2_500
    )
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)
    assert_array_equal(final.keys, reference.state.keys)


def test_sparseprop_run_killed_by_sigkill_resumes_bit_for_bit(tmp_path):
    """A subprocess is SIGKILLed mid-run; resuming from its last checkpoint gives the
    spike train of an uninterrupted run, bit for bit."""
    directory = tmp_path / "checkpoints"
    n_total, every = 40_000, 2_000
    script = textwrap.dedent(
        f"""
        import time
        from neurosrnn.sweep.checkpoint import sparseprop_checkpointed_run
        from neurosrnn.sparseprop import balanced_network
        network = {_NETWORK_CODE.format(heterogeneity=0.0)}
        sparseprop_checkpointed_run(
            network, network.initial_state(seed=4), directory={str(directory)!r},
            n_spikes={n_total}, every={every},
            on_checkpoint=lambda chunks, done: time.sleep(0.25),  # slow it down
        )
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    folder = CheckpointDirectory(directory) if directory.exists() else None
    deadline = time.monotonic() + 60
    killed_at = None
    while time.monotonic() < deadline and process.poll() is None:
        if directory.exists():
            folder = CheckpointDirectory(directory)
            try:
                metadata = folder.read_metadata()
            except CorruptResultError:
                metadata = None
            if metadata is not None and metadata["n_chunks"] >= 4:
                os.kill(process.pid, signal.SIGKILL)
                killed_at = metadata["n_chunks"]
                break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert killed_at is not None, process.stderr.read().decode()
    assert process.returncode == -signal.SIGKILL
    metadata = folder.read_metadata()
    assert not metadata["finished"] and metadata["n_spikes"] < n_total

    network = _network()
    state0 = network.initial_state(seed=4)
    indices, times, _ = sparseprop_checkpointed_run(
        network, state0, directory=directory, n_spikes=n_total, every=every
    )
    reference = network.run(state0, n_spikes=n_total, progress=False)
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)
