"""Simulation results from any device as the same Python objects, saved atomically.

Spikes and monitored state variables come back as `SimulationResults` whatever
produced them: a runtime simulation (numpy or Cython target), a C++ or CUDA
standalone binary run from Python, or a standalone project compiled and run
elsewhere (`load_standalone_results` reads the binary's raw output with the
manifest written at build time, without Brian2's device).

Results format (a folder)
-------------------------
``metadata.json``
    ``{"format": "neurosrnn-results", "format_version": 2, "spike_monitors":
    {name: {"N": size of the recorded group, "n_spikes": ..., "t_start": 0.0,
    "t_stop": end of the run in seconds or null, "i": "i", "t": "t"}}, "state_monitors":
    {name: {"variables": {var: {"dimensions": [7 SI exponents], "unit": "V"}}}},
    ...}`` plus the run's metadata: device settings, duration and dt in seconds,
    parameter overrides, wall time, package versions.
``spikes.npz``
    Every spike once: with a single spike monitor, ``i`` (int64 neuron indices) and
    ``t`` (float64 spike times in seconds), sorted by time, then index; with several,
    ``M.i`` and ``M.t`` for every monitor ``M``. The ``i``/``t`` entries of
    ``spike_monitors`` name the arrays. Format version 1 stored ``M.i``/``M.t`` and,
    for a single monitor, the same spikes again as ``i``/``t``; it is still read.
``states.npz``
    For every state monitor ``M``: ``M.t`` (seconds), ``M.record`` (recorded
    indices) and ``M.<var>`` (shape ``(len(record), len(t))``, SI units without
    prefix: volt, amp, second, ...).

Every file is written to a temporary name in the same folder and moved into place
with `os.replace`, so a reader never sees a partial file.

Spikes come back as `SpikeTrains`, the package's one spike-train type (this module
re-exports `neurosrnn.analysis.SpikeTrains`), with the run's window ``[0, duration)``,
so ``firing_summary(load_results(folder).spike_trains)`` works as it stands.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from brian2 import Quantity, SpikeMonitor, StateMonitor
from brian2.units.fundamentalunits import get_dimensions, get_or_create_dimension, get_unit

from neurosrnn.analysis import SpikeTrains
from neurosrnn.atomic import atomic_write
from neurosrnn.units import seconds_array, to_seconds

__all__ = [
    "RESULTS_FORMAT_VERSION",
    "MANIFEST_NAME",
    "SpikeTrains",
    "StateRecording",
    "SimulationResults",
    "load_results",
    "load_standalone_results",
    "write_json_atomic",
    "write_npz_atomic",
    "save_figure_atomic",
]

#: Version of the results folder format (``metadata.json`` field ``format_version``).
RESULTS_FORMAT_VERSION = 2
#: Name of the file a standalone build writes into its project folder, describing
#: the monitors so that results of a binary run elsewhere can be loaded.
MANIFEST_NAME = "neurosrnn_manifest.json"


# ----------------------------------------------------------------------------- atomic writes


def _json_default(value):
    """JSON encoding of numpy scalars and arrays and of paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json_atomic(path, data):
    """Write `data` as JSON to `path` atomically (temporary file, then `os.replace`).

    Numpy scalars and arrays and paths are converted to plain JSON values.
    """
    with atomic_write(path, "w") as stream:
        json.dump(data, stream, indent=2, sort_keys=True, default=_json_default)
        stream.write("\n")


def write_npz_atomic(path, arrays):
    """Write `arrays` (name -> array) as an uncompressed ``.npz`` to `path` atomically."""
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


def save_figure_atomic(figure, path, dpi=110):
    """Save a matplotlib `figure` as PNG to `path` atomically."""
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", dpi=dpi)


# ----------------------------------------------------------------------------- containers


class StateRecording:
    """Recorded state variables of one group.

    Parameters
    ----------
    t : array of float
        Recording times in seconds.
    record : array of int
        Indices of the recorded neurons (or synapses).
    values : dict
        Variable name -> array of shape ``(len(record), len(t))`` in SI units.
    dimensions : dict
        Variable name -> Brian2 `Dimension` (or 7 SI exponents).
    name : str
        Name of the monitor.

    Examples
    --------
    ``recording.v`` gives the membrane potential with units; ``recording.values["v"]``
    the plain numbers in volt.
    """

    def __init__(self, t, record, values, dimensions, name="states"):
        self.t = np.array(t, dtype=np.float64)
        self.record = np.array(record, dtype=np.int64)
        self.values = {}
        self.dimensions = {}
        for variable, array in values.items():
            array = np.array(array, dtype=np.float64)
            if array.shape != (self.record.size, self.t.size):
                raise ValueError(
                    f"state {variable!r} must have shape {(self.record.size, self.t.size)}, "
                    f"got {array.shape}"
                )
            self.values[variable] = array
            dims = dimensions[variable]
            if not hasattr(dims, "_dims"):
                dims = get_or_create_dimension(list(dims))
            self.dimensions[variable] = dims
        self.name = name

    def __repr__(self):
        return (
            f"<StateRecording {self.name!r}: {sorted(self.values)} of {self.record.size} "
            f"element(s) at {self.t.size} time(s)>"
        )

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return Quantity(values[name], dim=self.dimensions[name])
        raise AttributeError(name)


class SimulationResults:
    """Spikes, recorded states and metadata of one simulation run.

    Parameters
    ----------
    spikes : dict
        Monitor name -> `SpikeTrains` (`neurosrnn.analysis.SpikeTrains`).
    states : dict
        Monitor name -> `StateRecording`.
    metadata : dict
        JSON-serialisable description of the run.

    Attributes
    ----------
    i, t : numpy.ndarray
        Indices and times (s) of the only spike monitor (ValueError if there are
        several: use ``spikes[name]``).
    """

    def __init__(self, spikes=None, states=None, metadata=None):
        self.spikes = dict(spikes or {})
        self.states = dict(states or {})
        self.metadata = dict(metadata or {})

    def __repr__(self):
        spikes = ", ".join(f"{name}: {len(s)} spikes" for name, s in self.spikes.items())
        states = ", ".join(self.states)
        device = self.metadata.get("device", {})
        device = device.get("device", "?") if isinstance(device, dict) else device
        return f"<SimulationResults from {device}: [{spikes}] states [{states}]>"

    # -- access

    @property
    def spike_trains(self):
        """The `SpikeTrains` of the only spike monitor."""
        if len(self.spikes) != 1:
            raise ValueError(
                f"results hold {len(self.spikes)} spike monitors ({sorted(self.spikes)}); "
                "use results.spikes[name]"
            )
        return next(iter(self.spikes.values()))

    @property
    def i(self):
        """Spike indices of the only spike monitor."""
        return self.spike_trains.i

    @property
    def t(self):
        """Spike times (s) of the only spike monitor."""
        return self.spike_trains.t

    # -- construction

    @classmethod
    def from_monitors(cls, monitors, metadata=None):
        """Collect `brian2.SpikeMonitor` and `brian2.StateMonitor` objects after a run.

        Works on every device: Brian2 reads standalone results from the binary's
        results folder. The spike window is ``[0, metadata["duration_s"])`` when the
        metadata give the run's duration (as `neurosrnn.devices.Simulation` does), else
        ``[0, current time of the monitor's clock)``.
        """
        spikes, states = {}, {}
        duration = (metadata or {}).get("duration_s")
        for monitor in monitors:
            if isinstance(monitor, SpikeMonitor) and monitor.record:
                times = np.array(monitor.t_[:], dtype=np.float64)
                stop = _stop_holding(times, duration)
                if stop is None:
                    stop = _stop_holding(times, _clock_time(monitor))
                spikes[monitor.name] = SpikeTrains(
                    monitor.i[:], times, monitor.source.N, monitor.name, t_stop=stop
                )
            elif isinstance(monitor, StateMonitor):
                states[monitor.name] = _state_recording(monitor)
        return cls(spikes, states, metadata)

    @classmethod
    def from_network(cls, network, metadata=None):
        """Collect every spike and state monitor of a `brian2.Network` after a run."""
        monitors = [obj for obj in network.objects if isinstance(obj, SpikeMonitor | StateMonitor)]
        return cls.from_monitors(sorted(monitors, key=lambda m: m.name), metadata)

    @staticmethod
    def describe_monitors(network, device):
        """Manifest entries locating each monitor's raw output files of a standalone build."""
        entries = {"spike_monitors": {}, "state_monitors": {}}
        for monitor in sorted(network.objects, key=lambda obj: obj.name):
            if isinstance(monitor, SpikeMonitor) and monitor.record:
                entries["spike_monitors"][monitor.name] = {
                    "N": int(monitor.source.N),
                    "i": device.get_array_filename(monitor.variables["i"]),
                    "t": device.get_array_filename(monitor.variables["t"]),
                    "i_dtype": np.dtype(monitor.variables["i"].dtype).str,
                }
            elif isinstance(monitor, StateMonitor):
                entries["state_monitors"][monitor.name] = {
                    "t": device.get_array_filename(monitor.variables["t"]),
                    "record": [int(k) for k in _recorded_indices(monitor)],
                    "variables": {
                        variable: {
                            "file": device.get_array_filename(monitor.variables[variable]),
                            "dtype": np.dtype(monitor.variables[variable].dtype).str,
                            "dimensions": _dims_list(monitor.source.variables[variable].dim),
                        }
                        for variable in monitor.record_variables
                    },
                }
        return entries

    # -- files

    def save(self, directory):
        """Write ``spikes.npz``, ``states.npz`` and ``metadata.json`` into `directory`.

        Each file is written atomically. Returns the folder path.
        """
        os.makedirs(directory, exist_ok=True)
        spike_arrays = self._spike_arrays()
        state_arrays, state_description = self._state_arrays()
        metadata = _versions()
        metadata.update(self.metadata)
        metadata.update(
            {
                "format": "neurosrnn-results",
                "format_version": RESULTS_FORMAT_VERSION,
                "spike_monitors": {
                    name: {
                        "N": trains.N,
                        "n_spikes": len(trains),
                        "t_start": trains.t_start,
                        "t_stop": trains.t_stop,
                        **dict(zip("it", self._spike_array_names(name), strict=True)),
                    }
                    for name, trains in self.spikes.items()
                },
                "state_monitors": state_description,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        write_npz_atomic(os.path.join(directory, "spikes.npz"), spike_arrays)
        write_npz_atomic(os.path.join(directory, "states.npz"), state_arrays)
        write_json_atomic(os.path.join(directory, "metadata.json"), metadata)
        return directory

    def _spike_array_names(self, name):
        """Names of monitor `name`'s arrays in ``spikes.npz``: plain ``i``/``t`` if alone."""
        if len(self.spikes) == 1:
            return "i", "t"
        return f"{name}.i", f"{name}.t"

    def _spike_arrays(self):
        """``spikes.npz`` content: every spike once (see the module docstring)."""
        arrays = {}
        for name, trains in self.spikes.items():
            i_name, t_name = self._spike_array_names(name)
            arrays[i_name] = trains.i
            arrays[t_name] = trains.t
        return arrays

    def _state_arrays(self):
        """``states.npz`` content and the ``state_monitors`` entry of ``metadata.json``."""
        arrays, description = {}, {}
        for name, recording in self.states.items():
            arrays[f"{name}.t"] = recording.t
            arrays[f"{name}.record"] = recording.record
            description[name] = {"variables": {}}
            for variable, values in recording.values.items():
                arrays[f"{name}.{variable}"] = values
                dims = recording.dimensions[variable]
                description[name]["variables"][variable] = {
                    "dimensions": _dims_list(dims),
                    "unit": str(get_unit(dims)) if not dims.is_dimensionless else "1",
                }
        return arrays, description

    @classmethod
    def load(cls, directory):
        """Read a results folder written by `save` (see the module docstring)."""
        return load_results(directory)


def _recorded_indices(monitor):
    """Indices recorded by a state monitor (``record=True`` means every element)."""
    if isinstance(monitor.record, bool):
        return np.arange(monitor.source.N)
    return np.asarray(monitor.record, dtype=np.int64)


def _state_recording(monitor):
    """The `StateRecording` of a `brian2.StateMonitor` after a run (values in SI units)."""
    values, dimensions = {}, {}
    for variable in monitor.record_variables:
        data = getattr(monitor, variable)
        dims = get_dimensions(data)
        values[variable] = np.asarray(
            data / Quantity(1, dim=dims) if isinstance(data, Quantity) else data
        )
        dimensions[variable] = monitor.source.variables[variable].dim
    return StateRecording(
        seconds_array(monitor.t[:], f"{monitor.name}.t"),
        _recorded_indices(monitor),
        values,
        dimensions,
        monitor.name,
    )


def _clock_time(monitor):
    """The current time (s) of a monitor's clock, or None where the device cannot tell."""
    try:
        return to_seconds(monitor.clock.t, f"{monitor.name}.clock.t")
    except Exception:  # noqa: BLE001 - a standalone device may not expose it: no window end
        return None


def _stop_holding(times, stop):
    """`stop` (s) if every spike lies before it, else None (the window end is unknown)."""
    if stop is None:
        return None
    stop = float(stop)
    if stop <= 0 or (times.size and times.max() >= stop):
        return None
    return stop


def _window_of(info, metadata, times):
    """``(t_start, t_stop)`` of a stored monitor; format 1 files give the run duration."""
    if "t_stop" in info:
        return info.get("t_start", 0.0), info["t_stop"]
    return 0.0, _stop_holding(times, metadata.get("duration_s"))


def _dims_list(dims):
    return [float(x) for x in dims._dims]


def _versions():
    import brian2

    from neurosrnn._version import __version__

    return {"neurosrnn_version": __version__, "brian2_version": brian2.__version__}


def load_results(directory):
    """Load a results folder (``metadata.json``, ``spikes.npz``, ``states.npz``).

    Parameters
    ----------
    directory : str

    Returns
    -------
    SimulationResults

    Raises
    ------
    FileNotFoundError
        No ``metadata.json`` in `directory`.
    ValueError
        A folder of another format or a newer format version.
    """
    metadata_path = os.path.join(directory, "metadata.json")
    if not os.path.isfile(metadata_path):
        raise FileNotFoundError(f"no neurosrnn results in {directory!r} (metadata.json missing)")
    with open(metadata_path) as stream:
        metadata = json.load(stream)
    if metadata.get("format") != "neurosrnn-results":
        raise ValueError(f"{metadata_path} is not a neurosrnn results file")
    if metadata.get("format_version", 0) > RESULTS_FORMAT_VERSION:
        raise ValueError(
            f"{metadata_path} has format version {metadata['format_version']}; this "
            f"neurosrnn reads up to {RESULTS_FORMAT_VERSION}"
        )
    spikes, states = {}, {}
    with np.load(os.path.join(directory, "spikes.npz")) as arrays:
        for name, info in metadata.get("spike_monitors", {}).items():
            # format 1 always has "M.i"/"M.t" (and "i"/"t" again for a single monitor)
            times = arrays[info.get("t", f"{name}.t")]
            t_start, t_stop = _window_of(info, metadata, times)
            spikes[name] = SpikeTrains(
                arrays[info.get("i", f"{name}.i")],
                times,
                info["N"],
                name,
                t_start=t_start,
                t_stop=t_stop,
            )
    with np.load(os.path.join(directory, "states.npz")) as arrays:
        for name, info in metadata.get("state_monitors", {}).items():
            variables = info["variables"]
            states[name] = StateRecording(
                arrays[f"{name}.t"],
                arrays[f"{name}.record"],
                {variable: arrays[f"{name}.{variable}"] for variable in variables},
                {variable: variables[variable]["dimensions"] for variable in variables},
                name,
            )
    return SimulationResults(spikes, states, metadata)


def load_standalone_results(project_directory, results_directory="results"):
    """Load the raw output of a standalone binary, without Brian2's device.

    For projects built by `neurosrnn.devices.Simulation` (or ``neurosrnn build``) and
    run anywhere with ``./main`` (optionally ``./main --results_dir DIR``): the
    manifest the build wrote (``neurosrnn_manifest.json``) names each monitor's raw
    files.

    Parameters
    ----------
    project_directory : str
        The standalone project folder.
    results_directory : str
        Folder of the binary's raw output, relative to `project_directory` (the
        binary's default ``results``) or absolute.

    Returns
    -------
    SimulationResults
    """
    manifest_path = os.path.join(project_directory, MANIFEST_NAME)
    if not os.path.isfile(manifest_path):
        raise FileNotFoundError(
            f"{project_directory!r} has no {MANIFEST_NAME}: not a project built by neurosrnn"
        )
    with open(manifest_path) as stream:
        manifest = json.load(stream)
    folder = os.path.join(project_directory, results_directory)
    spikes = {
        name: _read_raw_spikes(folder, name, info, manifest.get("duration_s"))
        for name, info in manifest["monitors"]["spike_monitors"].items()
    }
    states = {
        name: _read_raw_states(folder, name, info)
        for name, info in manifest["monitors"]["state_monitors"].items()
    }
    metadata = dict(manifest.get("metadata", {}))
    metadata.update(
        {
            "device": manifest.get("device", {}),
            "duration_s": manifest.get("duration_s"),
            "dt_s": manifest.get("dt_s"),
            "loaded_from": os.path.abspath(folder),
        }
    )
    return SimulationResults(spikes, states, metadata)


def _read_raw_spikes(folder, name, info, duration):
    """`SpikeTrains` from a standalone binary's raw ``i`` and ``t`` files."""
    i = np.fromfile(os.path.join(folder, info["i"]), dtype=np.dtype(info["i_dtype"]))
    t = np.fromfile(os.path.join(folder, info["t"]), dtype=np.float64)
    return SpikeTrains(i, t, info["N"], name, t_stop=_stop_holding(t, duration))


def _read_raw_states(folder, name, info):
    """`StateRecording` from a standalone binary's raw state monitor files."""
    t = np.fromfile(os.path.join(folder, info["t"]), dtype=np.float64)
    record = np.asarray(info["record"], dtype=np.int64)
    values, dimensions = {}, {}
    for variable, entry in info["variables"].items():
        raw = np.fromfile(os.path.join(folder, entry["file"]), dtype=np.dtype(entry["dtype"]))
        # Brian2 writes 2-D monitor arrays row by row: one row per time step.
        values[variable] = raw.reshape(t.size, record.size).T
        dimensions[variable] = entry["dimensions"]
    return StateRecording(t, record, values, dimensions, name)
