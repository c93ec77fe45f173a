"""Results store: one verified file per run, written atomically.

Every run of a sweep (or any simulation the user wants to keep) goes into one NPZ
file in the store directory. A file is either complete and verified, or it is
treated as absent and the run is recomputed: nothing is ever half-written in place.

File format (version 1)
-----------------------
``<directory>/<key>.npz`` is an uncompressed NumPy ``.npz`` archive (a zip file, read
with ``numpy.load(allow_pickle=False)``) holding

- ``spike_indices`` (int64) and ``spike_times`` (float64, seconds): the spikes;
- ``state_times`` (float64, seconds) and ``state__<name>`` (float64, SI units,
  shape ``(n_recorded, n_times)``) for monitored state variables, when recorded;
- any further array the run returned under ``arrays``;
- ``__metadata__``: UTF-8 JSON (a uint8 array) with the parameters (value in SI
  units and the unit), seed, package versions, device, wall time, host, process id,
  creation time, the format version (``format_version``) and the run key (``key``);
- ``__checksum__``: the SHA-256 digest (hex, as a uint8 array) of every other entry:
  for each name in sorted order the name, the dtype string, the shape and the raw
  C-ordered bytes, then the metadata bytes.

Since the key and the format version sit in the checksummed metadata, a file tells
which run it holds: `ResultStore.load` refuses a file of another format version
(`UnsupportedFormatError`), a valid file copied under another run's name ("file
<path> holds run <k1>, expected <k2>") and a file without one of the arrays every
result has (``spike_indices``, ``spike_times``, and ``state_times`` when states are
stored), all as `CorruptResultError`. Version 1 files always carried the key and the
version, so the format is unchanged and every file written so far still loads.

Writing goes to a hidden temporary file ``.tmp-<key>-<pid>-<random><key>.npz`` in the
same directory (the writer's process id and a unique token), which is flushed,
fsynced and then renamed over the final name with `os.replace` (atomic on POSIX file
systems). A process killed while writing leaves at most a temporary file, never a
partial result. Reading a file recomputes the digest; a truncated file (bad zip
structure or CRC) or altered content (digest mismatch) is reported as corrupt.

Concurrency
-----------
A writer holds the run's lock file ``.lock-<key>`` (`filelock`, an OS-level lock that
the kernel releases when the process dies) from the claim of the run to the rename
(`ResultStore.claim`; `ResultStore.save` takes it too). Several sweeps sharing one
store therefore compute each run once: the second finds the result present once it
gets the lock, and loads it. `ResultStore.remove_temporary_files` removes only
temporary files whose run lock is free (their writer is gone), never a write in
flight in another process. The lock file is removed by its last holder on release,
so a finished store holds only result files.

The run key is a digest of a canonical JSON form of the run's identity (the
runner's configuration, the parameter point and the seed), so the same run always
maps to the same file, and a re-run of a sweep finds what is already there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import socket
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np

from neurosrnn.atomic import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "SUPPORTED_FORMAT_VERSIONS",
    "CorruptResultError",
    "UnsupportedFormatError",
    "ResultStore",
    "canonical_json",
    "to_jsonable",
    "run_key",
    "package_versions",
    "write_arrays_atomic",
    "read_verified_arrays",
]

FORMAT_VERSION = 1
#: Result format versions `ResultStore.load` reads.
SUPPORTED_FORMAT_VERSIONS = (1,)
_METADATA = "__metadata__"
_CHECKSUM = "__checksum__"
_STATE_PREFIX = "state__"
_TEMPORARY_PREFIX = ".tmp-"
_LOCK_PREFIX = ".lock-"
# ".tmp-<key>-<pid>-<token><key>.npz": the key is repeated as the suffix (see `_temporary_key`)
_TEMPORARY_NAME = re.compile(r"^\.tmp-(?P<key>.+?)-(?:\d+-)?[A-Za-z0-9_]+(?P=key)\.npz$")


class CorruptResultError(ValueError):
    """A result or checkpoint file that is truncated, altered, misplaced or unreadable."""


class UnsupportedFormatError(CorruptResultError):
    """A result file of a format version this neurosrnn does not read (e.g. a newer one)."""


def to_jsonable(value):
    """Convert parameters (Brian2 quantities, numpy scalars/arrays) to JSON values.

    A quantity with units becomes ``{"value": <SI float or list>, "unit": "<SI unit>"}``
    so that ``10*ms`` and ``0.01*second`` give the same canonical form; a dimensionless
    quantity becomes its number. Dicts and sequences are converted item by item, numpy
    scalars and arrays become Python numbers and lists, non-finite floats their
    ``repr`` (JSON has no NaN), and anything else its ``repr``.

    Parameters
    ----------
    value : object
        A parameter value, point or metadata tree.

    Returns
    -------
    object
        A tree of dicts, lists, str, int, float, bool and None.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"n": np.int64(3), "x": np.array([0.5, np.inf])})
    {'n': 3, 'x': [0.5, 'inf']}
    """
    from_quantity = _quantity_parts(value)
    if from_quantity is not None:
        return from_quantity
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        if not math.isfinite(value):
            return repr(value)
        return value
    if value is None or isinstance(value, int | str):
        return value
    return repr(value)


def _quantity_parts(value):
    """``{"value", "unit"}`` for a Brian2 quantity with units, else None (no brian2 import)."""
    cls = type(value)
    if cls.__name__ != "Quantity" or not cls.__module__.startswith("brian2"):
        return None
    dimensions = value.dim
    if dimensions.is_dimensionless:
        return to_jsonable(np.asarray(value))
    from brian2.units.fundamentalunits import get_unit

    return {"value": to_jsonable(np.asarray(value).tolist()), "unit": str(get_unit(dimensions))}


def canonical_json(value):
    """Deterministic JSON text of `value` (sorted keys, quantities in SI units)."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))


def run_key(identity):
    """File key of a run: ``"run-"`` + the first 20 hex digits of SHA-256(canonical JSON)."""
    digest = hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()
    return "run-" + digest[:20]


def package_versions():
    """Versions of Python, numpy, brian2 and neurosrnn (those already importable)."""
    import importlib.metadata

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("brian2", "neurosrnn", "numba", "dask", "distributed"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _digest(arrays, metadata_bytes):
    hasher = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        hasher.update(name.encode("utf-8") + b"\0")
        hasher.update(array.dtype.str.encode("ascii") + b"\0")
        hasher.update(repr(array.shape).encode("ascii") + b"\0")
        hasher.update(array.tobytes())
    hasher.update(metadata_bytes)
    return hasher.hexdigest()


def _check_array_name(name):
    if not isinstance(name, str) or not name or name.startswith("__") or "/" in name:
        raise ValueError(
            f"array name {name!r} is not allowed: use a non-empty str without '/' that "
            "does not start with '__'"
        )


def write_arrays_atomic(path, arrays, metadata):
    """Write `arrays` and `metadata` to `path` as a checksummed NPZ, atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        Final file name (should end in ``.npz``).
    arrays : dict of str -> array_like
        Numeric arrays (object arrays are refused).
    metadata : dict
        JSON-serialisable after `canonical_json`-style conversion.

    Returns
    -------
    str
        The SHA-256 digest stored in the file.
    """
    path = Path(path)
    checked = {}
    for name, value in arrays.items():
        _check_array_name(name)
        array = np.asarray(value)
        if array.dtype == object:
            raise ValueError(f"array {name!r} has dtype object; only numeric arrays are stored")
        checked[name] = array
    metadata_bytes = json.dumps(to_jsonable(metadata), sort_keys=True).encode("utf-8")
    checksum = _digest(checked, metadata_bytes)
    payload = dict(checked)
    payload[_METADATA] = np.frombuffer(metadata_bytes, dtype=np.uint8)
    payload[_CHECKSUM] = np.frombuffer(checksum.encode("ascii"), dtype=np.uint8)
    prefix = f"{_TEMPORARY_PREFIX}{path.stem}-{os.getpid()}-"
    with atomic_write(path, prefix=prefix, fsync=True) as handle:
        np.savez(handle, **payload)
    return checksum


def read_verified_arrays(path):
    """Read a file written by `write_arrays_atomic` and verify its checksum.

    Returns
    -------
    arrays : dict of str -> numpy.ndarray
    metadata : dict

    Raises
    ------
    FileNotFoundError
        No such file.
    CorruptResultError
        Truncated or unreadable archive, missing checksum, or checksum mismatch.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise CorruptResultError(
            f"{path} is unreadable ({type(error).__name__}: {error})"
        ) from None
    if _CHECKSUM not in contents or _METADATA not in contents:
        raise CorruptResultError(f"{path} has no checksum or metadata entry")
    stored = contents.pop(_CHECKSUM).tobytes().decode("ascii", errors="replace")
    metadata_bytes = contents.pop(_METADATA).tobytes()
    if _digest(contents, metadata_bytes) != stored:
        raise CorruptResultError(f"{path}: checksum mismatch (the file was altered)")
    try:
        metadata = json.loads(metadata_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptResultError(f"{path}: metadata is not valid JSON ({error})") from None
    return contents, metadata


def _result_to_arrays(result):
    """Flatten a run-result dict into named arrays (see the module docstring)."""
    if not isinstance(result, dict):
        raise ValueError(f"a run result must be a dict, got {type(result).__name__}")
    for required in ("spike_indices", "spike_times"):
        if required not in result:
            raise ValueError(f"a run result must contain {required!r}")
    arrays = {
        "spike_indices": np.asarray(result["spike_indices"], dtype=np.int64),
        "spike_times": np.asarray(result["spike_times"], dtype=np.float64),
    }
    if arrays["spike_indices"].shape != arrays["spike_times"].shape:
        raise ValueError("spike_indices and spike_times must have the same length")
    states = result.get("states") or {}
    if states:
        if "state_times" not in result:
            raise ValueError("a result with 'states' must contain 'state_times'")
        arrays["state_times"] = np.asarray(result["state_times"], dtype=np.float64)
    for name, values in states.items():
        arrays[_STATE_PREFIX + name] = np.asarray(values, dtype=np.float64)
    for name, values in (result.get("arrays") or {}).items():
        if name in arrays or name.startswith(_STATE_PREFIX):
            raise ValueError(f"extra array name {name!r} clashes with a reserved name")
        arrays[name] = np.asarray(values)
    return arrays


def _check_result_file(path, key, arrays, metadata):
    """Raise unless `arrays`/`metadata` read from `path` are a supported result of run `key`."""
    version = metadata.get("format_version") if isinstance(metadata, dict) else None
    if isinstance(version, bool) or version not in SUPPORTED_FORMAT_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
        raise UnsupportedFormatError(
            f"{path} has result format version {version!r}; this neurosrnn reads format "
            f"version(s) {supported} (current {FORMAT_VERSION})"
        )
    stored_key = metadata.get("key")
    if stored_key != key:
        raise CorruptResultError(f"file {path} holds run {stored_key}, expected {key}")
    required = ["spike_indices", "spike_times"]
    if any(name.startswith(_STATE_PREFIX) for name in arrays):
        required.append("state_times")
    for name in required:
        if name not in arrays:
            raise CorruptResultError(f"{path} is missing the array {name!r} of run {key}")


def _arrays_to_result(arrays, metadata):
    result = {
        "spike_indices": arrays.pop("spike_indices"),
        "spike_times": arrays.pop("spike_times"),
        "states": {},
        "arrays": {},
        "metadata": metadata,
    }
    if "state_times" in arrays:
        result["state_times"] = arrays.pop("state_times")
    for name in list(arrays):
        if name.startswith(_STATE_PREFIX):
            result["states"][name[len(_STATE_PREFIX) :]] = arrays.pop(name)
    result["arrays"] = arrays
    return result


class ResultStore:
    """A directory of verified run files, one per run key.

    Parameters
    ----------
    directory : str or pathlib.Path
        Created if missing (ValueError, naming it, when it is or lies under a file).
        Safe to share between processes and hosts on a shared file system: each run
        writes only its own key, through a rename.

    Examples
    --------
    >>> store = ResultStore(tmp_path)  # doctest: +SKIP
    >>> key = run_key({"tau_m": 10 * ms, "seed": 1})  # doctest: +SKIP
    >>> store.save(key, {"spike_indices": i, "spike_times": t}, parameters={...})  # doctest: +SKIP
    >>> store.status(key)  # doctest: +SKIP
    'complete'
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"directory {str(directory)!r} exists and is not a folder")
        try:  # an existing store that cannot be written still loads
            self.directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as error:
            raise ValueError(
                f"directory {str(directory)!r} cannot be created: a part of it is a file "
                f"({error.strerror})"
            ) from None
        self._locks = {}

    def __repr__(self):
        return f"<ResultStore {str(self.directory)!r}: {len(self.keys())} run file(s)>"

    def __reduce__(self):
        return (ResultStore, (str(self.directory),))

    def path(self, key):
        """File name of run `key`."""
        if not isinstance(key, str) or not key or "/" in key or key.startswith("."):
            raise ValueError(f"invalid run key {key!r}")
        return self.directory / f"{key}.npz"

    def _lock_path(self, key):
        self.path(key)  # checks the key
        return self.directory / f"{_LOCK_PREFIX}{key}"

    def _lock(self, key):
        """This store object's `filelock.FileLock` of run `key` (reentrant in a thread)."""
        from filelock import FileLock

        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = FileLock(self._lock_path(key))
        return lock

    @contextlib.contextmanager
    def claim(self, key, timeout=-1):
        """Hold the lock of run `key` (other processes wait; reentrant in this thread).

        Whoever computes or writes run `key` holds it until the file is renamed into
        place, so a second process that waits for the claim finds the result present
        afterwards (check `status` again inside the block). The last release of this
        process removes the lock file.

        Parameters
        ----------
        key : str
            Run key.
        timeout : float
            Seconds to wait (-1: forever; 0: fail at once if held elsewhere).

        Raises
        ------
        filelock.Timeout
            The lock is held elsewhere after `timeout` seconds.
        """
        lock = self._lock(key)
        lock_path = self._lock_path(key)
        while True:
            lock.acquire(timeout=timeout)
            if lock.lock_counter > 1 or lock_path.exists():
                break
            # The previous holder removed the file after we opened it: ours is stale.
            lock.release()
        try:
            yield lock
        finally:
            if lock.lock_counter == 1:
                with contextlib.suppress(OSError):
                    lock_path.unlink()  # while held, so nobody holds a lock on a removed file
            lock.release()

    def keys(self):
        """Keys of every run file present (verified or not), sorted."""
        return sorted(
            p.stem for p in self.directory.glob("*.npz") if not p.name.startswith(_TEMPORARY_PREFIX)
        )

    def temporary_files(self):
        """Left-over temporary files of interrupted writes."""
        return sorted(self.directory.glob(f"{_TEMPORARY_PREFIX}*"))

    def remove_temporary_files(self, keys=None, older_than=0.0):
        """Delete left-over temporary files of interrupted writes; return how many.

        A temporary file is removed only while its run's lock is free, that is when
        its writer is gone (killed) or it is this process's own: a write in flight in
        another process (which holds the lock) is never touched. Stale lock files of
        the same runs go too.

        Parameters
        ----------
        keys : iterable of str, optional
            Only temporary files of these run keys (default: all).
        older_than : float
            Only files last modified at least this many seconds ago.
        """
        from filelock import Timeout

        now = time.time()
        removed = 0
        wanted = None if keys is None else set(keys)
        for path in self.temporary_files():
            key = _temporary_key(path.name)
            if key is None or (wanted is not None and key not in wanted):
                continue
            try:
                if now - path.stat().st_mtime < older_than:
                    continue
                with self.claim(key, timeout=0):
                    path.unlink()
                    removed += 1
            except (FileNotFoundError, Timeout):
                continue
        for key in sorted(wanted if wanted is not None else self._lock_keys()):
            with contextlib.suppress(Timeout, OSError, ValueError):
                if self._lock_path(key).exists():
                    with self.claim(key, timeout=0):
                        pass  # the release removes the lock file of a killed writer
        return removed

    def _lock_keys(self):
        return [p.name[len(_LOCK_PREFIX) :] for p in self.directory.glob(f"{_LOCK_PREFIX}*")]

    def status(self, key):
        """``"missing"``, ``"complete"`` (verified), ``"corrupt"`` or ``"unsupported"``.

        ``"corrupt"``: truncated, altered, holding another run or missing an array;
        ``"unsupported"``: a result of another format version (`UnsupportedFormatError`
        on `load`), which a sweep does not overwrite.
        """
        try:
            self.load(key)
        except FileNotFoundError:
            return "missing"
        except UnsupportedFormatError:
            return "unsupported"
        except CorruptResultError:
            return "corrupt"
        return "complete"

    def save(self, key, result, *, parameters=None, seed=None, device=None, wall_time=None,
             extra_metadata=None):  # fmt: skip
        """Write one run atomically; returns the file path.

        Parameters
        ----------
        key : str
            Run key (see `run_key`).
        result : dict
            ``spike_indices``, ``spike_times`` (seconds); optionally ``states``
            (name -> array in SI units, shape (n_recorded, n_times)) with
            ``state_times``, and ``arrays`` (name -> further numeric arrays).
        parameters, seed, device, wall_time, extra_metadata
            Recorded in the metadata with package versions, host and time.
        """
        arrays = _result_to_arrays(result)
        metadata = {
            "format_version": FORMAT_VERSION,
            "key": key,
            "parameters": parameters or {},
            "seed": seed,
            "device": device,
            "wall_time_s": wall_time,
            "versions": package_versions(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if extra_metadata:
            metadata.update(extra_metadata)
        path = self.path(key)
        with self.claim(key):
            write_arrays_atomic(path, arrays, metadata)
        return path

    def load(self, key):
        """Load and verify run `key`: a result dict with a ``metadata`` entry.

        Raises
        ------
        FileNotFoundError
            No file for `key`.
        UnsupportedFormatError
            The file has a format version other than `SUPPORTED_FORMAT_VERSIONS`.
        CorruptResultError
            Truncated or altered, holding another run's key, or missing an array.
        """
        path = self.path(key)
        arrays, metadata = read_verified_arrays(path)
        _check_result_file(path, key, arrays, metadata)
        return _arrays_to_result(arrays, metadata)

    def discard(self, key):
        """Delete run `key` if present."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            pass

    def verify_all(self):
        """Map every key present to its status (`status`: complete, corrupt or unsupported)."""
        return {key: self.status(key) for key in self.keys()}


def _temporary_key(name):
    """Run key of a temporary file name ``.tmp-<key>-[<pid>-]<token><key>.npz``, else None."""
    match = _TEMPORARY_NAME.match(name)
    return None if match is None else match.group("key")
