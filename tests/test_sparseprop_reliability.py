"""Regression tests of issue 13 for the SparseProp engine and its checkpoints.

Every bad input is named before any work starts, and nothing returns silently wrong
results: resumed checkpoints of another network, a shorter run than the directory
holds, stale temporaries, sample times in the past, runaway zero-delay cascades and
bad seeds or degrees.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from neurosrnn.connectivity import Connectivity, fixed_out_degree
from neurosrnn.sparseprop import RegeneratedConnectivity, SparsePropNetwork, balanced_network
from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sweep.checkpoint import (
    CHECKPOINT_FORMAT_VERSION,
    CheckpointDirectory,
    load_checkpointed_spikes,
    run_with_checkpoints,
    sparseprop_checkpointed_run,
)
from neurosrnn.sweep.store import (
    CorruptResultError,
    UnsupportedFormatError,
    read_verified_arrays,
    write_arrays_atomic,
)

TAU = 0.01


def _theta(graph_seed=3, coupling=-0.1, drive=0.2, tau=TAU, rebase_interval=None):
    graph = RegeneratedConnectivity(300, 20, seed=graph_seed)
    return SparsePropNetwork(
        "theta", graph, drive=drive, tau=tau, coupling=coupling, rebase_interval=rebase_interval
    )


def _snapshot(directory):
    """Names, sizes and modification times of the files in `directory`."""
    return {
        path.name: (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.iterdir())
    }


# --------------------------------------------------------------------------- item 1


@pytest.mark.parametrize(
    ("changed", "differs"),
    [
        (dict(coupling=-0.2), "coupling"),
        (dict(drive=0.3), "drive"),
        (dict(graph_seed=4), "graph"),
        (dict(tau=0.02), "tau"),
        (dict(rebase_interval=7), "rebase_interval"),
    ],
)
def test_resume_with_another_network_is_refused_and_names_what_differs(tmp_path, changed, differs):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=600, every=200)
    before = _snapshot(tmp_path)
    other = _theta(**changed)
    with pytest.raises(ValueError, match="fingerprint mismatch") as error:
        sparseprop_checkpointed_run(
            other, other.initial_state(seed=1), directory=tmp_path, n_spikes=900, every=200
        )
    assert differs in str(error.value) and str(tmp_path) in str(error.value)
    assert _snapshot(tmp_path) == before  # nothing written


def test_resume_with_other_stored_weights_or_initial_state_is_refused(tmp_path):
    graph = fixed_out_degree(200, 200, 10, seed=2)
    weights = np.full(graph.indices.size, -0.1)

    def network(weights):
        weighted = Connectivity(graph.indptr, graph.indices, 200, weights)
        return SparsePropNetwork("lif", weighted, drive=0.5, tau=TAU)

    first = network(weights)
    state = first.initial_state(seed=1)
    sparseprop_checkpointed_run(first, state, directory=tmp_path, n_spikes=400, every=100)
    changed = weights.copy()
    changed[17] = -0.2
    other = network(changed)
    with pytest.raises(ValueError, match="fingerprint mismatch.*graph"):
        sparseprop_checkpointed_run(other, state, directory=tmp_path, n_spikes=500, every=100)
    with pytest.raises(ValueError, match="fingerprint mismatch.*initial_state"):
        sparseprop_checkpointed_run(
            first, first.initial_state(seed=2), directory=tmp_path, n_spikes=500, every=100
        )


def test_resume_with_the_same_network_continues(tmp_path):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=600, every=200)
    same = _theta()  # rebuilt from the same parameters
    indices, times, final = sparseprop_checkpointed_run(
        same, same.initial_state(seed=1), directory=tmp_path, n_spikes=1000, every=200
    )
    reference = network.run(state, n_spikes=1000, progress=False)
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)
    assert_array_equal(final.keys, reference.state.keys)


# ------------------------------------------------- damaged, misplaced, other-version files


def _truncate(path, _):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_byte(path, _):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_version(path, _):
    # a consistent, checksummed file that says it has another format version
    arrays, metadata = read_verified_arrays(path)
    write_arrays_atomic(path, arrays, {**metadata, "format_version": CHECKPOINT_FORMAT_VERSION + 1})


def _copy_from(name):
    def copy(path, other_directory):
        path.write_bytes((other_directory / name).read_bytes())

    return copy


def _remove(path, _):
    path.unlink()


_DAMAGES = {
    "checkpoint-truncated": ("checkpoint.npz", _truncate, CorruptResultError, "unreadable"),
    "checkpoint-altered": ("checkpoint.npz", _flip_byte, CorruptResultError, "checkpoint.npz"),
    "checkpoint-other-version": (
        "checkpoint.npz",
        _other_version,
        UnsupportedFormatError,
        "checkpoint format version 2",
    ),
    "checkpoint-of-another-run": (
        "checkpoint.npz",
        _copy_from("checkpoint.npz"),
        ValueError,
        "fingerprint mismatch",
    ),
    "chunk-truncated": ("chunk-000001.npz", _truncate, CorruptResultError, "unreadable"),
    "chunk-altered": ("chunk-000001.npz", _flip_byte, CorruptResultError, "chunk-000001"),
    "chunk-other-version": (
        "chunk-000001.npz",
        _other_version,
        UnsupportedFormatError,
        "checkpoint format version 2",
    ),
    "chunk-under-another-number": (
        "chunk-000001.npz",
        lambda path, _: path.write_bytes((path.parent / "chunk-000000.npz").read_bytes()),
        CorruptResultError,
        "holds chunk 0, expected 1",
    ),
    "chunk-of-another-run": (
        "chunk-000001.npz",
        _copy_from("chunk-000001.npz"),
        CorruptResultError,
        "belongs to another run",
    ),
    "chunk-missing": ("chunk-000002.npz", _remove, CorruptResultError, "is missing"),
}


@pytest.mark.parametrize(
    ("name", "damage", "error", "fragment"), list(_DAMAGES.values()), ids=list(_DAMAGES)
)
def test_damaged_checkpoint_files_are_refused_before_anything_is_written(
    tmp_path, name, damage, error, fragment
):
    network, other = _theta(), _theta(drive=0.3)
    state = network.initial_state(seed=1)
    directory, other_directory = tmp_path / "run", tmp_path / "other"
    sparseprop_checkpointed_run(network, state, directory=directory, n_spikes=600, every=200)
    sparseprop_checkpointed_run(
        other, other.initial_state(seed=1), directory=other_directory, n_spikes=600, every=200
    )
    damage(directory / name, other_directory)
    before = _snapshot(directory)
    with pytest.raises(error, match=fragment):  # resuming (and continuing) the run
        sparseprop_checkpointed_run(network, state, directory=directory, n_spikes=1000, every=200)
    assert _snapshot(directory) == before  # nothing written, nothing removed
    if error is not ValueError:  # reading the saved spikes refuses them as well
        with pytest.raises(error, match=fragment):
            load_checkpointed_spikes(directory)
        assert _snapshot(directory) == before


def test_chunks_that_do_not_add_up_to_the_checkpoint_are_refused(tmp_path):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=600, every=200)
    folder = CheckpointDirectory(tmp_path)
    indices, times = folder.load_spikes(1)
    fingerprint = folder.read_metadata()["fingerprint"]
    folder.save_chunk(1, indices[:150], times[:150], fingerprint=fingerprint)
    with pytest.raises(CorruptResultError, match="hold 550 spikes, the checkpoint 600"):
        load_checkpointed_spikes(tmp_path)


def test_checkpoints_written_before_the_version_field_still_resume(tmp_path):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=400, every=200)
    for path in sorted(tmp_path.glob("*.npz")):  # as the earlier layout wrote them
        arrays, metadata = read_verified_arrays(path)
        metadata.pop("format_version")
        metadata.pop("run", None)
        write_arrays_atomic(path, arrays, metadata)
    indices, times, _ = sparseprop_checkpointed_run(
        network, state, directory=tmp_path, n_spikes=600, every=200
    )
    reference = network.run(state, n_spikes=600, progress=False)
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)


# ------------------------------------------------- SIGKILL and resume, synchronised on files

_KILLED_RUN = """
import os, signal, sys, time
from pathlib import Path
from neurosrnn.sparseprop import RegeneratedConnectivity, SparsePropNetwork
from neurosrnn.sweep.checkpoint import sparseprop_checkpointed_run

directory, where, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
graph = RegeneratedConnectivity(300, 20, seed=3)
network = SparsePropNetwork("theta", graph, drive=0.2, tau=0.01, coupling=-0.1)

if where == "inside-a-write":
    # killed between writing a temporary file and renaming it: the 6th rename is the
    # chunk file of the third chunk (renames: checkpoint 0, then chunk + checkpoint per chunk)
    real_replace, renames = os.replace, []

    def replace(source, target):
        renames.append(target)
        if len(renames) == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(source, target)

    os.replace = replace


def block_after_three(n_chunks, done):
    if where == "between-chunks" and n_chunks == 3:
        marker.touch()  # the parent kills us now; this wait ends only by the kill
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.05)


sparseprop_checkpointed_run(network, network.initial_state(seed=1), directory=directory,
                            n_spikes=2000, every=200, on_checkpoint=block_after_three)
"""


@pytest.mark.parametrize("where", ["between-chunks", "inside-a-write"])
def test_sigkilled_checkpointed_run_resumes_bit_for_bit(tmp_path, where):
    directory, marker = tmp_path / "run", tmp_path / "blocked"
    script = tmp_path / "killed_run.py"
    script.write_text(_KILLED_RUN)
    process = subprocess.Popen(
        [sys.executable, str(script), str(directory), where, str(marker)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if where == "between-chunks":
            deadline = time.monotonic() + 120  # only a real hang gets here
            while not marker.exists():
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the run never reached its third checkpoint"
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()
    saved = CheckpointDirectory(directory).read_metadata()
    assert saved["n_chunks"] == (3 if where == "between-chunks" else 2)
    assert not saved["finished"]
    if where == "inside-a-write":  # the temporary file of the chunk being renamed
        assert [p.name for p in directory.iterdir() if p.name.startswith(".tmp-chunk-000002")]

    network = _theta()
    state = network.initial_state(seed=1)
    indices, times, final = sparseprop_checkpointed_run(
        network, state, directory=directory, n_spikes=2000, every=200
    )
    reference = network.run(state, n_spikes=2000, progress=False)
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)
    assert_array_equal(final.keys, reference.state.keys)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        ["checkpoint.npz", *(f"chunk-{n:06d}.npz" for n in range(10))]
    )  # no temporary left behind


# --------------------------------------------------------------------------- item 2


def test_fewer_spikes_than_the_directory_holds_is_refused(tmp_path):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=600, every=200)
    before = _snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"n_spikes=300 .*600 spikes"):
        sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=300, every=200)
    assert _snapshot(tmp_path) == before
    # exactly as many as it holds: the saved run, unchanged
    indices, _, final = sparseprop_checkpointed_run(
        network, state, directory=tmp_path, n_spikes=600, every=200
    )
    assert indices.size == 600 and final.n_spikes == 600


def test_generic_run_with_fewer_spikes_than_saved_is_refused(tmp_path):
    def advance(state, n):
        clock = float(state["clock"])
        times = clock + np.arange(1, n + 1, dtype=float)
        return np.zeros(n, np.int64), times, {"clock": np.array(times[-1])}

    run_with_checkpoints(advance, {"clock": np.array(0.0)}, directory=tmp_path, n_spikes=50,
                         every=20)  # fmt: skip
    with pytest.raises(ValueError, match=r"n_spikes=30 .*50 spikes"):
        run_with_checkpoints(advance, {"clock": np.array(0.0)}, directory=tmp_path,
                             n_spikes=30, every=20)  # fmt: skip


# --------------------------------------------------------------------------- item 3


def test_stale_temporaries_of_the_writer_are_removed_on_resume(tmp_path):
    network = _theta()
    state = network.initial_state(seed=1)
    sparseprop_checkpointed_run(network, state, directory=tmp_path, n_spikes=400, every=200)
    # what a run killed while writing leaves (names as `write_arrays_atomic` makes them)
    stale = [
        tmp_path / ".tmp-chunk-000002-k3j1x9bwchunk-000002.npz",
        tmp_path / ".tmp-checkpoint-a8f0_2qlcheckpoint.npz",
        tmp_path / ".tmp-chunk-000003-4242-x7_q1fzachunk-000003.npz",  # with the writer's pid
    ]
    foreign = [tmp_path / ".tmp-results-abc.npz", tmp_path / "notes.txt"]
    for path in stale + foreign:
        path.write_bytes(b"partial")
    indices, times, _ = sparseprop_checkpointed_run(
        network, state, directory=tmp_path, n_spikes=800, every=200
    )
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in foreign)  # not ours: left alone
    reference = network.run(state, n_spikes=800, progress=False)
    assert_array_equal(indices, reference.spike_indices)
    assert_array_equal(times, reference.spike_times)
    assert CheckpointDirectory(tmp_path).read_metadata()["n_chunks"] == 4


# --------------------------------------------------------------------------- item 4


def test_sample_times_before_the_state_time_are_refused():
    network = _theta()
    later = network.run(network.initial_state(seed=1), duration=0.05, progress=False).state
    with pytest.raises(ValueError, match=r"sample_times .*0\.05"):
        network.run(later, duration=0.01, sample_neurons=[0], sample_times=[0.0, 0.055])
    # the state's own time is allowed, also when written as a product of floats
    result = network.run(
        later, duration=0.01, sample_neurons=[0], sample_times=[later.time_seconds, 0.055]
    )
    assert np.all(np.isfinite(result.samples))


# --------------------------------------------------------------------------- item 5


def test_reference_checks_n_spikes_and_duration_like_the_engine():
    network = _theta()
    phases = network.phases(network.initial_state(seed=1))
    with pytest.raises(ValueError, match="n_spikes must be >= 0, got -1"):
        simulate_reference(network, phases, n_spikes=-1)
    with pytest.raises(ValueError, match="n_spikes must be a non-negative integer"):
        simulate_reference(network, phases, n_spikes=2.5)
    with pytest.raises(ValueError, match="duration"):
        simulate_reference(network, phases, duration=-0.1)
    with pytest.raises(ValueError, match="stop condition"):
        simulate_reference(network, phases)
    from brian2 import ms

    assert simulate_reference(network, phases, duration=5 * ms).stop_time == pytest.approx(0.005)
    assert simulate_reference(network, phases, n_spikes=0).n_spikes == 0


# --------------------------------------------------------------------------- item 6


def _excitatory_lif():
    # every pulse carries a neuron from reset past threshold: once one neuron fires,
    # the zero-delay cascade never ends
    graph = RegeneratedConnectivity(200, 10, seed=1)
    return SparsePropNetwork("lif", graph, drive=0.5, tau=TAU, coupling=1.5)


def test_runaway_cascade_is_stopped_by_the_engine():
    network = _excitatory_lif()
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"runaway cascade: more than N = 200 spikes at t = "):
        network.run(network.initial_state(seed=1), n_spikes=10**7, duration=1.0, progress=False)
    assert time.perf_counter() - started < 10


def test_runaway_cascade_is_stopped_by_the_reference():
    network = _excitatory_lif()
    phases = network.phases(network.initial_state(seed=1))
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"runaway cascade: more than N = 200 spikes at t = "):
        simulate_reference(network, phases, n_spikes=20_000, duration=1.0)
    assert time.perf_counter() - started < 10


def _excitatory_theta():
    # all-to-all pulses so strong that tan(phase/2) + c rounds to infinity: every target is
    # put at pi (threshold) and fires at the same instant, and fires the spiker again.
    # LIF with excitatory weights is refused by the spectrum, theta is not.
    graph = fixed_out_degree(20, 20, 19, seed=1, weights=1e20)
    return SparsePropNetwork("theta", graph, drive=0.5, tau=TAU)


_THETA_CASCADE_RUNS = {
    "engine": lambda network: network.run(
        network.initial_state(seed=1), n_spikes=10**5, progress=False
    ),
    "reference": lambda network: simulate_reference(
        network, network.phases(network.initial_state(seed=1)), n_spikes=10**5, duration=1.0
    ),
    # the spectrum's own event loop: in the burn-in (no tangent vectors) ...
    "lyapunov-burn-in": lambda network: lyapunov_spectrum(
        network, n_spikes=10, m=2, seed=1, n_burn_in_spikes=10**5
    ),
    # ... and in the averaging window (tangent vectors and recorded spikes)
    "lyapunov-averaging": lambda network: lyapunov_spectrum(
        network,
        n_spikes=10**5,
        m=2,
        seed=1,
        n_burn_in_spikes=0,
        n_transient_spikes=0,
        record_spikes=True,
    ),
}


@pytest.mark.parametrize("run", list(_THETA_CASCADE_RUNS.values()), ids=list(_THETA_CASCADE_RUNS))
def test_theta_runaway_cascade_is_stopped_by_every_event_loop(run):
    # before the fix the spectrum processed all 10**5 spikes at one instant and returned
    # exponents of -6e9 1/s; now each loop stops at the (N + 1)-th spike of the instant
    network = _excitatory_theta()
    with pytest.raises(RuntimeError, match=r"runaway cascade: more than N = 20 spikes at t = \d"):
        run(network)


def test_lyapunov_cascade_check_leaves_ordinary_simultaneous_spikes_alone():
    # an inhibitory theta network never puts two spikes on one instant by a pulse, and the
    # spectrum's spikes still match the engine's one for one
    graph = fixed_out_degree(30, 30, 5, seed=2, weights=-0.3)
    network = SparsePropNetwork("theta", graph, drive=0.5, tau=TAU)
    state = network.initial_state(seed=4)
    ours = lyapunov_spectrum(
        network,
        n_spikes=300,
        m=1,
        state=state,
        n_burn_in_spikes=0,
        n_transient_spikes=0,
        record_spikes=True,
    )
    engine = network.run(state, n_spikes=300, progress=False)
    assert_array_equal(ours.spike_indices, engine.spike_indices)


def test_finite_simultaneous_volleys_still_run():
    # a strong but finite volley: 0 fires 1 and 2 at the same instant, nothing more
    graph = Connectivity([0, 2, 2, 2, 2], [1, 2], 4, weights=[0.9, 0.9])
    network = SparsePropNetwork("lif", graph, drive=0.5, tau=TAU)
    state = network.initial_state(model_state=[0.99, 0.5, 0.2, 0.0])
    assert network.run(state, n_spikes=50, progress=False).n_spikes == 50


# --------------------------------------------------------------------------- item 7


def test_balanced_network_checks_seed_N_and_K_before_building():
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        balanced_network(100, 10, seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        balanced_network(100, 10, seed=1.5)
    with pytest.raises(ValueError, match="K must be >= 1, got 0"):
        balanced_network(100, 0)
    with pytest.raises(ValueError, match="K must be <= 99"):
        balanced_network(100, 100)
    with pytest.raises(TypeError, match="N must be an integer"):
        balanced_network(100.0, 10)


def test_initial_state_and_graph_seeds_are_checked():
    network = _theta()
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        network.initial_state(seed=-1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        network.initial_state(seed=2.0)
    with pytest.raises(ValueError, match="seed must be >= 0, got -5"):
        RegeneratedConnectivity(100, 5, seed=-5)
