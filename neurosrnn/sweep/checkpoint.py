"""Checkpoint and resume of long event-driven runs.

A long run is cut into chunks of at most `every` network spikes. After each chunk
the spikes of that chunk go to their own file, and then the full engine state goes
to the checkpoint file; both are written atomically and checksummed with
`neurosrnn.sweep.store.write_arrays_atomic`. A process killed at any point (SIGKILL
included) leaves a directory from which `run_with_checkpoints` resumes: it loads
the last verified checkpoint, ignores chunk files written after it, and carries on.
Because the engine continues exactly from a saved state (phases, heap, global
offset, RNG or counter state), the resumed spike train is identical, bit for bit,
to that of an uninterrupted run.

Directory layout
----------------
- ``checkpoint.npz``: the engine state as arrays ``state__<name>``, and metadata
  with the format version, the number of chunks written, the spike count, whether
  the run finished, and a fingerprint of the run configuration (resuming with
  another configuration is refused).
- ``chunk-000000.npz``, ``chunk-000001.npz``, ...: ``spike_indices`` (int64) and
  ``spike_times`` (float64, seconds) of each chunk; its metadata holds the format
  version, its own chunk number and a digest of the run's fingerprint, so a chunk
  copied under another number or from another run's directory is refused.
- ``.tmp-checkpoint-*checkpoint.npz``, ``.tmp-chunk-NNNNNN-*chunk-NNNNNN.npz``:
  temporaries of a write in flight. A killed run may leave them; the next run in the
  directory deletes them (only these names) before it writes anything.

Every file is verified when read: a truncated or altered file, a chunk that is
missing, misplaced or of another run, or chunks that do not add up to the spike count
of the checkpoint raise `neurosrnn.sweep.store.CorruptResultError`; a file of another
format version (`CHECKPOINT_FORMAT_VERSION`) raises its subclass
`neurosrnn.sweep.store.UnsupportedFormatError`. Files written before the version field
existed are version 1.

Resuming is refused, before anything is written, when the fingerprint differs (the
error names the fingerprint keys that differ) or when the directory already holds
more spikes than the `n_spikes` asked for: only the state at the end of the saved
spikes is kept, so the state after fewer spikes cannot be returned. The saved spikes
themselves stay readable with `load_checkpointed_spikes`.

The SparseProp engine (Engelken 2023, NeurIPS, arXiv 2312.17216) plugs in through
`sparseprop_checkpointed_run`; any other engine that can advance a state given as a
dict of arrays by a number of spikes can use `run_with_checkpoints` directly. (The
exact Lyapunov spectrum of `neurosrnn.sparseprop.lyapunov` runs as one call without
an exposed intermediate state, so it cannot be checkpointed yet: it would need the
tangent vectors Q, the running sums and the kernel state as a resumable state.)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from neurosrnn.progress import progress_bar
from neurosrnn.sweep.store import (
    CorruptResultError,
    UnsupportedFormatError,
    canonical_json,
    read_verified_arrays,
    write_arrays_atomic,
)
from neurosrnn.validation import check_output_folder

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CheckpointDirectory",
    "run_with_checkpoints",
    "load_checkpointed_spikes",
    "sparseprop_checkpointed_run",
    "sparseprop_state_to_arrays",
    "sparseprop_state_from_arrays",
]

_STATE_PREFIX = "state__"

#: Format version written into checkpoint and chunk files; others are refused on reading.
CHECKPOINT_FORMAT_VERSION = 1
_SUPPORTED_CHECKPOINT_VERSIONS = (1,)
_CHECKPOINT_KEYS = ("n_chunks", "n_spikes", "finished", "fingerprint")


def _fingerprint_digest(fingerprint_text):
    """Short digest of a run's fingerprint text, stored in each of its chunk files."""
    return hashlib.sha256(str(fingerprint_text).encode("utf-8")).hexdigest()[:32]


def _check_version(path, metadata):
    """Raise `UnsupportedFormatError` unless `metadata` is of a supported format version."""
    version = metadata.get("format_version", 1) if isinstance(metadata, dict) else None
    if isinstance(version, bool) or version not in _SUPPORTED_CHECKPOINT_VERSIONS:
        supported = ", ".join(str(v) for v in _SUPPORTED_CHECKPOINT_VERSIONS)
        raise UnsupportedFormatError(
            f"{path} has checkpoint format version {version!r}; this neurosrnn reads format "
            f"version(s) {supported} (current {CHECKPOINT_FORMAT_VERSION})"
        )


class CheckpointDirectory:
    """Files of one checkpointed run (see the module docstring for the layout).

    Parameters
    ----------
    directory : str or pathlib.Path
        Created if missing.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self):
        info = self.read_metadata()
        if info is None:
            return f"<CheckpointDirectory {str(self.directory)!r}: no checkpoint>"
        return (
            f"<CheckpointDirectory {str(self.directory)!r}: {info['n_chunks']} chunk(s), "
            f"{info['n_spikes']} spikes, finished={info['finished']}>"
        )

    @property
    def checkpoint_path(self):
        return self.directory / "checkpoint.npz"

    def chunk_path(self, number):
        return self.directory / f"chunk-{number:06d}.npz"

    def save_checkpoint(self, state, *, n_chunks, n_spikes, finished, fingerprint):
        """Write the state and the bookkeeping atomically."""
        arrays = {_STATE_PREFIX + name: np.asarray(value) for name, value in state.items()}
        metadata = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "n_chunks": int(n_chunks),
            "n_spikes": int(n_spikes),
            "finished": bool(finished),
            "fingerprint": fingerprint,
        }
        write_arrays_atomic(self.checkpoint_path, arrays, metadata)

    def load_checkpoint(self):
        """``(state, metadata)`` of the last checkpoint, or None if there is none.

        Raises `CorruptResultError` if the checkpoint file fails verification or lacks
        an entry, `UnsupportedFormatError` if it is of another format version.
        """
        path = self.checkpoint_path
        try:
            arrays, metadata = read_verified_arrays(path)
        except FileNotFoundError:
            return None
        _check_version(path, metadata)
        missing = [name for name in _CHECKPOINT_KEYS if name not in metadata]
        if missing:
            raise CorruptResultError(f"{path} lacks the checkpoint entries {missing}")
        state = {
            name[len(_STATE_PREFIX) :]: value
            for name, value in arrays.items()
            if name.startswith(_STATE_PREFIX)
        }
        return state, metadata

    def read_metadata(self):
        loaded = self.load_checkpoint() if self.checkpoint_path.exists() else None
        return None if loaded is None else loaded[1]

    def save_chunk(self, number, spike_indices, spike_times, *, fingerprint=None):
        """Write the spikes of chunk `number`; `fingerprint` (its JSON text) names the run."""
        metadata = {"format_version": CHECKPOINT_FORMAT_VERSION, "chunk": int(number)}
        if fingerprint is not None:
            metadata["run"] = _fingerprint_digest(fingerprint)
        write_arrays_atomic(
            self.chunk_path(number),
            {
                "spike_indices": np.asarray(spike_indices, dtype=np.int64),
                "spike_times": np.asarray(spike_times, dtype=np.float64),
            },
            metadata,
        )

    def _load_chunk(self, number, run):
        """Verified spike arrays of chunk `number` of the run with fingerprint digest `run`."""
        path = self.chunk_path(number)
        try:
            arrays, metadata = read_verified_arrays(path)
        except FileNotFoundError:
            raise CorruptResultError(
                f"{path} is missing: the checkpoint in {self.directory} lists it"
            ) from None
        _check_version(path, metadata)
        if metadata.get("chunk") != number:
            raise CorruptResultError(
                f"{path} holds chunk {metadata.get('chunk')!r}, expected {number} (a misplaced "
                "or copied file)"
            )
        if run is not None and metadata.get("run", run) != run:
            raise CorruptResultError(
                f"{path} belongs to another run than the checkpoint in {self.directory} "
                "(a file copied from another directory)"
            )
        for name in ("spike_indices", "spike_times"):
            if name not in arrays:
                raise CorruptResultError(f"{path} is missing the array {name!r}")
        return arrays["spike_indices"], arrays["spike_times"]

    def load_spikes(self, n_chunks=None):
        """Concatenated spikes of the first `n_chunks` chunks (default: per checkpoint).

        Each chunk is verified (`CorruptResultError` for a missing, truncated, altered,
        misplaced or foreign one); with all the checkpoint's chunks, their spikes must add
        up to its spike count.
        """
        metadata = self.read_metadata()
        if n_chunks is None:
            n_chunks = 0 if metadata is None else metadata["n_chunks"]
        run = None if metadata is None else _fingerprint_digest(metadata["fingerprint"])
        indices, times = [np.zeros(0, np.int64)], [np.zeros(0, np.float64)]
        for number in range(n_chunks):
            chunk_indices, chunk_times = self._load_chunk(number, run)
            indices.append(chunk_indices)
            times.append(chunk_times)
        indices, times = np.concatenate(indices), np.concatenate(times)
        if metadata is not None and n_chunks == metadata["n_chunks"]:
            if indices.size != metadata["n_spikes"]:
                raise CorruptResultError(
                    f"the {n_chunks} chunk file(s) in {self.directory} hold {indices.size} "
                    f"spikes, the checkpoint {metadata['n_spikes']}"
                )
        return indices, times


# temporaries of `write_arrays_atomic` for this directory's own files:
# ".tmp-checkpoint-<random>checkpoint.npz" and ".tmp-chunk-NNNNNN-<random>chunk-NNNNNN.npz"
_OWN_TEMPORARY = re.compile(r"\.tmp-(checkpoint|chunk-\d{6,})-.*\1\.npz")


def _remove_stale_temporaries(folder):
    """Delete temporaries that a killed writer of this directory left behind.

    Only names that `write_arrays_atomic` gives to ``checkpoint.npz`` and the chunk
    files are touched; anything else in the directory is left alone. One directory
    belongs to one run at a time, so no write of another process is in flight.
    """
    for path in folder.directory.iterdir():
        if _OWN_TEMPORARY.fullmatch(path.name) and path.is_file():
            try:
                path.unlink()
            except FileNotFoundError:  # removed meanwhile
                continue


def _differing_fields(saved_text, new_text):
    """Top-level keys whose values differ between two fingerprints (JSON texts)."""
    try:
        saved, new = json.loads(saved_text), json.loads(new_text)
    except (TypeError, ValueError):
        return []
    if not isinstance(saved, dict) or not isinstance(new, dict):
        return []
    return sorted(key for key in saved.keys() | new.keys() if saved.get(key) != new.get(key))


def _start_or_resume(folder, initial_state, fingerprint_text, n_spikes):
    """``(state, n_chunks, n_spikes_done)``: the last verified checkpoint, or a fresh start.

    A fresh start writes its initial state as checkpoint 0 at once, so a run killed
    during its first chunk resumes like any other. A checkpoint of another
    configuration, or one that holds more than `n_spikes` spikes, or whose chunk files
    fail verification, is refused before anything is written.
    """
    loaded = folder.load_checkpoint()
    if loaded is None:
        _remove_stale_temporaries(folder)
        state = {name: np.asarray(value) for name, value in initial_state.items()}
        folder.save_checkpoint(
            state, n_chunks=0, n_spikes=0, finished=False, fingerprint=fingerprint_text
        )
        return state, 0, 0
    state, metadata = loaded
    if metadata["fingerprint"] != fingerprint_text:
        differing = _differing_fields(metadata["fingerprint"], fingerprint_text)
        detail = f" (differs: {', '.join(differing)})" if differing else ""
        raise ValueError(
            f"fingerprint mismatch: the network or state differs from the one that wrote "
            f"{folder.directory}{detail}; the checkpoint belongs to another run "
            "configuration: use a new directory or delete it"
        )
    if metadata["n_spikes"] > n_spikes:
        raise ValueError(
            f"n_spikes={n_spikes} is smaller than the {metadata['n_spikes']} spikes already "
            f"saved in {folder.directory}, and the state after {n_spikes} spikes was not "
            f"saved; pass n_spikes >= {metadata['n_spikes']}, take the first {n_spikes} "
            "spikes from load_checkpointed_spikes, or use a new directory"
        )
    folder.load_spikes(metadata["n_chunks"])  # every saved chunk verified before any write
    _remove_stale_temporaries(folder)
    return state, metadata["n_chunks"], metadata["n_spikes"]


def run_with_checkpoints(advance, initial_state, *, directory, n_spikes, every, fingerprint=None,
                         on_checkpoint=None, progress=None):  # fmt: skip
    """Run an engine in chunks of `every` spikes, checkpointing after each chunk.

    If `directory` already holds a verified checkpoint with the same `fingerprint`,
    the run resumes from it (`initial_state` is then not used).

    Parameters
    ----------
    advance : callable
        ``advance(state, n) -> (spike_indices, spike_times, new_state)``: continue
        the run from `state` (a dict of arrays) by exactly `n` network spikes.
        Continuing must be exact: advancing by ``a`` then ``b`` spikes must give the
        same spikes and state as advancing by ``a + b``.
    initial_state : dict of str -> array_like
        State at the start of the run.
    directory : str or pathlib.Path
        Checkpoint directory.
    n_spikes : int
        Total number of network spikes of the run (> 0).
    every : int
        Checkpoint interval in spikes (> 0).
    fingerprint : JSON-serialisable, optional
        Identity of the run configuration; a checkpoint with another fingerprint
        raises ValueError instead of being resumed (for a dict, the error names the
        keys that differ).
    on_checkpoint : callable, optional
        ``on_checkpoint(n_chunks, n_spikes_done)`` after each checkpoint is written.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.

    Returns
    -------
    spike_indices, spike_times : numpy.ndarray
        All spikes of the run (from every chunk, resumed or not).
    state : dict
        Final state.

    Raises
    ------
    ValueError
        `n_spikes` or `every` not a positive integer; a `directory` on or under a
        file (PermissionError where it cannot be written); a checkpoint with another
        fingerprint ("fingerprint mismatch"); or a checkpoint holding more than
        `n_spikes` spikes (its state after `n_spikes` spikes was not saved). Nothing is
        written in these cases.
    CorruptResultError
        A checkpoint or chunk file fails verification (truncated, altered, missing,
        misplaced, of another run); its subclass `UnsupportedFormatError` for a file of
        another format version.
    """
    for name, value in (("n_spikes", n_spikes), ("every", every)):
        if not isinstance(value, int | np.integer) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    check_output_folder(directory, "directory")
    fingerprint_text = canonical_json(fingerprint)  # a fingerprint that is not JSON: refused here
    folder = CheckpointDirectory(directory)
    state, n_chunks, done = _start_or_resume(folder, initial_state, fingerprint_text, n_spikes)
    with progress_bar(total=n_spikes, initial=done, label="checkpointed run", unit="spikes",
                      progress=progress) as bar:  # fmt: skip
        while done < n_spikes:
            step = int(min(every, n_spikes - done))
            indices, times, state = advance(state, step)
            indices = np.asarray(indices, dtype=np.int64)
            if indices.shape[0] != step:
                raise RuntimeError(f"advance returned {indices.shape[0]} spikes, {step} expected")
            folder.save_chunk(n_chunks, indices, times, fingerprint=fingerprint_text)
            n_chunks += 1
            done += step
            state = {name: np.asarray(value) for name, value in state.items()}
            folder.save_checkpoint(
                state,
                n_chunks=n_chunks,
                n_spikes=done,
                finished=done >= n_spikes,
                fingerprint=fingerprint_text,
            )
            bar.update(step)
            if on_checkpoint is not None:
                on_checkpoint(n_chunks, done)
    spike_indices, spike_times = folder.load_spikes(n_chunks)
    return spike_indices, spike_times, state


def load_checkpointed_spikes(directory):
    """Spikes saved so far in a checkpoint directory: ``(indices, times, metadata)``.

    Reads only: a directory that does not exist is not created (FileNotFoundError).
    """
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"no checkpoint directory {str(directory)!r}")
    folder = CheckpointDirectory(directory)
    metadata = folder.read_metadata()
    if metadata is None:
        raise FileNotFoundError(f"no checkpoint in {directory}")
    indices, times = folder.load_spikes(metadata["n_chunks"])
    return indices, times, metadata


# ---------------------------------------------------------------------------
# SparseProp
# ---------------------------------------------------------------------------
def sparseprop_state_to_arrays(state):
    """A `neurosrnn.sparseprop.SparsePropState` as a dict of numpy arrays (exact).

    Every field is kept with its full float64 / int64 value (array fields with their
    own dtype: the sources and synapses of pulses in flight are integers), so the state
    read back by `sparseprop_state_from_arrays` continues the run bit for bit.
    """
    import dataclasses

    arrays = {}
    for item in dataclasses.fields(state):
        value = getattr(state, item.name)
        if isinstance(value, str):
            arrays[item.name] = np.array(value)
        elif isinstance(value, bool | int | np.integer):
            arrays[item.name] = np.array(value, dtype=np.int64)
        elif isinstance(value, np.ndarray) and value.dtype.kind in "iu":
            arrays[item.name] = np.array(value, dtype=np.int64)
        else:
            arrays[item.name] = np.array(value, dtype=np.float64)
    return arrays


def sparseprop_state_from_arrays(arrays):
    """Inverse of `sparseprop_state_to_arrays`.

    A field with a default that the arrays lack keeps its default: states saved before
    the refractory ends and pulses in flight were fields (networks without delays or
    refractoriness, for which they are empty) are read as they were.
    """
    import dataclasses

    from neurosrnn.sparseprop import SparsePropState

    values = {}
    for item in dataclasses.fields(SparsePropState):
        if item.name not in arrays:
            if _has_default(item):
                continue
            raise ValueError(f"checkpointed SparseProp state lacks field {item.name!r}")
        array = np.asarray(arrays[item.name])
        if array.dtype.kind == "U":
            values[item.name] = str(array)
        elif array.ndim == 0 and array.dtype.kind in "iu":
            values[item.name] = int(array)
        elif array.ndim == 0:
            values[item.name] = float(array)
        elif item.name == "pending_source":
            values[item.name] = array.astype(np.int32)
        else:
            values[item.name] = array.copy()
    return SparsePropState(**values)


def _has_default(item):
    """Whether the dataclass field `item` has a default value or factory."""
    import dataclasses

    return (
        item.default is not dataclasses.MISSING or item.default_factory is not dataclasses.MISSING
    )


def _at_default(item, value):
    """Whether `value` is the (empty-array) default of the dataclass field `item`."""
    import dataclasses

    if item.default_factory is dataclasses.MISSING:
        return False
    return isinstance(value, np.ndarray) and value.size == 0


def _sha256(*arrays):
    """SHA-256 (hex) over the dtype, shape and bytes of each array in turn."""
    import hashlib

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _sparseprop_graph_identity(graph):
    """What fixes the synapses: the generator's parameters, or the stored CSR arrays."""
    from neurosrnn.sparseprop import RegeneratedConnectivity

    weights = None if graph.weights is None else np.asarray(graph.weights, dtype=np.float64)
    if isinstance(graph, RegeneratedConnectivity):
        identity = {
            "kind": "regenerated",
            "N": graph.N,
            "K": graph.K,
            "seed": graph.seed,
            "multapses": graph.multapses,
        }
    else:
        identity = {
            "kind": "stored",
            "N_pre": int(graph.N_pre),
            "N_post": int(graph.N_post),
            "csr_sha256": _sha256(
                np.asarray(graph.indptr, dtype=np.int64), np.asarray(graph.indices, dtype=np.int64)
            ),
        }
    identity["weights_sha256"] = None if weights is None else _sha256(weights)
    return identity


def _sparseprop_fingerprint(network, state):
    """Everything that fixes the spike train: the dynamics, the graph and the start state.

    Model, N, tau, representation, drive, coupling, rebase interval (it changes the
    rounding), the graph (generator seed and parameters, or a digest of the CSR
    arrays, with the weights), the delays, refractory periods and phase tables (if any)
    and every field of the initial state (empty refractory ends and pulses in flight
    left out, so runs without them keep the fingerprint they had before these fields
    existed). Arrays enter as SHA-256 digests, so the fingerprint stays small. A resumed
    run is compared key by key, and the error names the keys that differ.
    """
    import dataclasses

    coupling = network.coupling
    initial = {}
    for item in dataclasses.fields(state):
        value = getattr(state, item.name)
        if _at_default(item, value):
            continue
        if isinstance(value, np.ndarray):
            initial[item.name] = _sha256(np.asarray(value, dtype=np.float64))
        elif isinstance(value, str):
            initial[item.name] = value
        elif isinstance(value, bool | int | np.integer):
            initial[item.name] = int(value)
        else:
            initial[item.name] = repr(float(value))  # exact, also for non-finite values
    fingerprint = {
        "model": [
            network.model.name,
            int(network.model.code),
            repr(float(network.model.phase_reset)),
            repr(float(network.model.phase_threshold)),
        ],
        "N": int(network.N),
        "tau": repr(float(network.tau)),
        "representation": network.representation,
        "drive_sha256": _sha256(np.asarray(network.drive, dtype=np.float64)),
        "coupling_sha256": None
        if coupling is None
        else _sha256(np.asarray(coupling, dtype=np.float64)),
        "rebase_interval": int(network.rebase_interval),
        "graph": _sparseprop_graph_identity(network.connectivity),
        "initial_state": initial,
    }
    delay = getattr(network, "delay", None)
    if delay is not None:
        fingerprint["delay_sha256"] = _sha256(np.atleast_1d(np.asarray(delay, dtype=np.float64)))
    refractory = getattr(network, "refractory", None)
    if refractory is not None:
        fingerprint["refractory_sha256"] = _sha256(np.asarray(refractory, dtype=np.float64))
    tables = getattr(network, "tables", None)
    if tables:
        fingerprint["tables_sha256"] = _sha256(
            np.asarray(network.populations, dtype=np.int64),
            *(
                np.asarray(getattr(table, name), dtype=np.float64)
                for table in tables
                for name in (
                    "period",
                    "v_reset",
                    "v_threshold",
                    "v_min",
                    "v_breaks",
                    "v_phase_coefficients",
                    "v_slope_coefficients",
                    "phase_breaks",
                    "phase_coefficients",
                )
            ),
        )
    return fingerprint


def sparseprop_checkpointed_run(network, state, *, directory, n_spikes, every, progress=None,
                                on_checkpoint=None):  # fmt: skip
    """A long SparseProp run with a checkpoint every `every` spikes; resumes if possible.

    Parameters
    ----------
    network : neurosrnn.sparseprop.SparsePropNetwork
    state : neurosrnn.sparseprop.SparsePropState
        Initial state. When `directory` holds a checkpoint of the same network and
        initial state, the run continues from that checkpoint instead. "The same"
        means the same fingerprint: model, N, tau, representation, drive, coupling,
        rebase interval, graph (generator seed and parameters, or a digest of the
        stored CSR arrays, with the weights) and every field of the initial state.
    directory : str or pathlib.Path
        Checkpoint directory (see `CheckpointDirectory`).
    n_spikes : int
        Total network spikes.
    every : int
        Spikes between checkpoints.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    on_checkpoint : callable, optional
        ``on_checkpoint(n_chunks, n_spikes_done)`` after each checkpoint.

    Returns
    -------
    spike_indices : numpy.ndarray of int64
    spike_times : numpy.ndarray of float64
        Exact spike times in seconds, identical to those of one uninterrupted
        ``network.run(state, n_spikes=n_spikes)``.
    state : neurosrnn.sparseprop.SparsePropState
        Final state.

    Raises
    ------
    ValueError
        See `run_with_checkpoints`: another network or initial state ("fingerprint
        mismatch: the network or state differs from the one that wrote <directory>
        (differs: ...)"), or fewer spikes than the directory already holds.

    Notes
    -----
    The saved state holds the heap keys (the phase or next-spike-time of every
    neuron), the global clock offset and time base, the rebase counter and the
    spike count: everything the engine needs to repeat the arithmetic of one long
    run (Engelken 2023, NeurIPS, arXiv 2312.17216). The heap layout itself is
    rebuilt from the keys with a deterministic tie rule, and the memory-free
    topology regenerates targets from a counter-based hash of (seed, neuron,
    k), so there is no random-number state to save.
    """

    def advance(arrays, count):
        result = network.run(sparseprop_state_from_arrays(arrays), n_spikes=count, progress=False)
        if result.interrupted:
            raise KeyboardInterrupt
        return result.spike_indices, result.spike_times, sparseprop_state_to_arrays(result.state)

    indices, times, final = run_with_checkpoints(
        advance,
        sparseprop_state_to_arrays(state),
        directory=directory,
        n_spikes=n_spikes,
        every=every,
        fingerprint=_sparseprop_fingerprint(network, state),
        on_checkpoint=on_checkpoint,
        progress=progress,
    )
    return indices, times, sparseprop_state_from_arrays(final)
