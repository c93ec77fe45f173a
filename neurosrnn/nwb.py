"""Spike trains, unit metadata and model parameters in NWB files (extra ``neurosrnn[nwb]``).

`write_nwb` stores a `SpikeTrains` (any spike source `neurosrnn.analysis.as_spike_trains`
accepts) in a Neurodata Without Borders file [1]_; `read_nwb` gives it back with the
metadata, bit for bit.

Layout
------
``/units`` (the NWB ``Units`` table)
    One unit per neuron, silent ones included; the unit ``id`` is the neuron index.
    ``spike_times`` holds each neuron's spikes in seconds (float64, sorted), and
    ``obs_intervals`` the recording window ``[[t_start, t_stop]]`` of every unit (the
    window is half-open here: no spike lies at ``t_stop``). Each entry of
    ``unit_metadata`` (population, E/I label, per-neuron parameters, ...) is a further
    column; a Brian2 quantity is stored in SI units, its unit and dimensions in the
    column description.
``/processing/neurosrnn/model_parameters`` (a ``DynamicTable``)
    One row per model parameter: ``parameter`` (the name), ``value`` (JSON: a number,
    bool, string or nested list, in SI units), ``unit`` (the SI unit as text, such as
    ``"V"`` or ``"Hz"``; empty when dimensionless) and ``dimensions`` (JSON list of the
    seven SI exponents, which `read_nwb` turns back into a Brian2 quantity).

The file is assembled in memory and written with `neurosrnn.atomic.atomic_write`: a
reader sees no file or the complete one, and a failure leaves nothing behind. pynwb is
imported on first use.

References
----------
.. [1] Rübel O, Tritt A, Ly R, et al. (2022). The Neurodata Without Borders ecosystem
   for neurophysiological data science. eLife 11:e78362.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from neurosrnn.analysis import SpikeTrains, as_spike_trains
from neurosrnn.atomic import atomic_write
from neurosrnn.units import is_quantity
from neurosrnn.validation import check_output_folder

__all__ = ["NWBContents", "read_nwb", "write_nwb"]

_MODULE = "neurosrnn"
_PARAMETERS = "model_parameters"
_DIMENSIONS = re.compile(r"dimensions: (\[[^\]]*\])")


def _pynwb():
    try:
        import h5py
        import pynwb
        from hdmf.common import DynamicTable, ElementIdentifiers, VectorData, VectorIndex
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pynwb is needed to read and write NWB files: pip install 'neurosrnn[nwb]'"
        ) from error
    return h5py, pynwb, DynamicTable, ElementIdentifiers, VectorData, VectorIndex


@dataclass
class NWBContents:
    """What `read_nwb` returns.

    Attributes
    ----------
    spike_trains : SpikeTrains
        The spikes, ``N`` (one neuron per unit) and the window.
    unit_metadata : dict
        Column name -> array of length ``N`` (a Brian2 quantity where one was written).
    model_parameters : dict
        Name -> value (a Brian2 quantity when it has a unit; a number, bool, string or
        array otherwise).
    session_description, identifier : str
    session_start_time : datetime.datetime
    """

    spike_trains: SpikeTrains
    unit_metadata: dict = field(default_factory=dict)
    model_parameters: dict = field(default_factory=dict)
    session_description: str = ""
    identifier: str = ""
    session_start_time: datetime.datetime | None = None


def write_nwb(
    path,
    spikes,
    *,
    session_description,
    identifier=None,
    session_start_time=None,
    unit_metadata=None,
    model_parameters=None,
    overwrite=False,
):
    """Write spike trains, unit metadata and model parameters to an NWB file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (``.nwb`` by convention).
    spikes : SpikeTrains or any spike source
        Anything `neurosrnn.analysis.as_spike_trains` accepts (device or SparseProp
        results, a monitor, a neo Segment, ...), with a known window end.
    session_description : str
        What was simulated (required by NWB).
    identifier : str, optional
        Unique file identifier (default: a random UUID).
    session_start_time : datetime.datetime, optional
        Timezone-aware start of the session (default: now, UTC).
    unit_metadata : dict, optional
        Column name -> ``N`` values (str, int, float, bool or a Brian2 quantity), e.g.
        ``{"population": ["E"] * 800 + ["I"] * 200}``.
    model_parameters : dict, optional
        Parameter name -> value: a number, bool, string, Brian2 quantity, or an array
        of them (e.g. ``{"tau_m": 10 * ms, "J0": 20 * mV, "g": 6.0}``).
    overwrite : bool
        Replace an existing file (default: refuse).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    FileExistsError
        `path` exists and `overwrite` is False.
    ValueError, TypeError
        Bad arguments, all checked before anything is written.
    ImportError
        pynwb is not installed.

    Examples
    --------
    >>> import tempfile
    >>> from brian2 import ms
    >>> spikes = SpikeTrains([0, 2, 0], [0.01, 0.02, 0.03], 3, t_stop=0.1)
    >>> path = write_nwb(
    ...     os.path.join(tempfile.mkdtemp(), "run.nwb"), spikes, session_description="demo",
    ...     unit_metadata={"population": ["E", "E", "I"]},
    ...     model_parameters={"tau_m": 10 * ms, "g": 6.0},
    ... )
    >>> contents = read_nwb(path)
    >>> contents.spike_trains == spikes
    True
    >>> contents.model_parameters
    {'tau_m': 10. * msecond, 'g': 6.0}
    >>> contents.unit_metadata["population"]
    array(['E', 'E', 'I'], dtype='<U1')
    """
    h5py, pynwb, DynamicTable, ElementIdentifiers, VectorData, VectorIndex = _pynwb()
    path = _check_path(path, overwrite)
    if not isinstance(session_description, str) or not session_description.strip():
        raise ValueError(
            f"session_description must be a non-empty string, got {session_description!r}"
        )
    if identifier is None:
        identifier = str(uuid.uuid4())
    elif not isinstance(identifier, str) or not identifier:
        raise ValueError(f"identifier must be a non-empty string, got {identifier!r}")
    session_start_time = _check_start_time(session_start_time)
    st = spikes if isinstance(spikes, SpikeTrains) else as_spike_trains(spikes)
    if st.t_stop is None:
        raise ValueError(
            "spikes have no known end: give one with as_spike_trains(spikes, t_stop=...)"
        )
    columns = _unit_columns(unit_metadata, st.N, VectorData)
    parameters = _parameter_rows(model_parameters)

    spike_times = VectorData(
        name="spike_times", description="spike times in seconds", data=st.times.copy()
    )
    obs_intervals = VectorData(
        name="obs_intervals",
        description="the recording window [t_start, t_stop) in seconds",
        data=np.tile([st.t_start, st.t_stop], (st.N, 1)),
    )
    units = pynwb.misc.Units(
        name="units",
        description=f"neurosrnn spike trains {st.name!r}: one unit per neuron (id = index)",
        id=ElementIdentifiers(name="id", data=np.arange(st.N)),
        columns=[
            spike_times,
            VectorIndex(name="spike_times_index", data=st.indptr[1:].copy(), target=spike_times),
            obs_intervals,
            VectorIndex(
                name="obs_intervals_index", data=np.arange(1, st.N + 1), target=obs_intervals
            ),
            *columns,
        ],
    )
    nwbfile = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier,
        session_start_time=session_start_time,
    )
    nwbfile.units = units
    if parameters:
        table = DynamicTable(
            name=_PARAMETERS,
            description="model parameters: value as JSON in SI units, unit, SI dimensions",
            columns=[
                VectorData(name=column, description=column, data=[row[k] for row in parameters])
                for k, column in enumerate(("parameter", "value", "unit", "dimensions"))
            ],
        )
        module = nwbfile.create_processing_module(name=_MODULE, description="neurosrnn model")
        module.add(table)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file, pynwb.NWBHDF5IO(file=h5file, mode="w") as writer:
        writer.write(nwbfile)
    with atomic_write(path) as stream:
        stream.write(buffer.getbuffer())
    return path


def read_nwb(path):
    """Read an NWB file written by `write_nwb` (or any NWB file with a Units table).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    NWBContents
        The spike trains (neuron ``k`` is the unit with id ``k``; for foreign files the
        unit in row ``k``, its id then in ``unit_metadata["unit_id"]``), the unit
        metadata columns and the model parameters. The window comes from the units'
        ``obs_intervals`` (default ``t_start`` 0 and an unknown end).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file has no Units table.
    """
    h5py, pynwb, *_ = _pynwb()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no NWB file at {path!r}")
    with pynwb.NWBHDF5IO(path, mode="r") as reader:
        nwbfile = reader.read()
        units = nwbfile.units
        if units is None:
            raise ValueError(f"{path} holds no Units table (no spike trains)")
        ids = np.asarray(units.id.data[:], dtype=np.int64)
        N = ids.size
        if "spike_times" in units.colnames:
            times = np.asarray(units.spike_times.data[:], dtype=np.float64)
            ends = np.asarray(units["spike_times_index"].data[:], dtype=np.int64)
        else:
            times, ends = np.zeros(0), np.zeros(N, dtype=np.int64)
        t_start, t_stop = 0.0, None
        if "obs_intervals" in units.colnames and N:
            intervals = np.asarray(units.obs_intervals.data[:], dtype=np.float64)
            t_start, t_stop = float(intervals[:, 0].min()), float(intervals[:, 1].max())
        metadata = {
            column: _read_column(units[column])
            for column in units.colnames
            if column not in ("spike_times", "obs_intervals")
        }
        parameters = {}
        if (
            _MODULE in nwbfile.processing
            and _PARAMETERS in nwbfile.processing[_MODULE].data_interfaces
        ):
            table = nwbfile.processing[_MODULE][_PARAMETERS]
            for name, value, _unit, dims in zip(
                table["parameter"][:],
                table["value"][:],
                table["unit"][:],
                table["dimensions"][:],
                strict=True,
            ):
                parameters[str(name)] = _decode_parameter(value, dims)
        contents = dict(
            session_description=nwbfile.session_description,
            identifier=nwbfile.identifier,
            session_start_time=nwbfile.session_start_time,
        )
    indptr = np.concatenate([[0], ends]).astype(np.int64)
    if not np.array_equal(ids, np.arange(N)):
        metadata["unit_id"] = ids
    # a spike at a foreign file's t_stop (NWB intervals are closed) is kept
    if t_stop is not None and times.size and times.max() >= t_stop:
        t_stop = float(np.nextafter(times.max(), np.inf))
    # foreign files need not sort the spikes of a unit (ours are sorted: no change)
    owner = np.repeat(np.arange(N), np.diff(indptr))
    times = times[np.lexsort((times, owner))]
    spike_trains = SpikeTrains.from_csr(times, indptr, t_start, t_stop, name="units")
    return NWBContents(spike_trains, metadata, parameters, **contents)


# ----------------------------------------------------------------------------- helpers


def _check_path(path, overwrite):
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path, got {path!r}")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"path {path!r} is a folder, not a file")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists: pass overwrite=True to replace it")
    check_output_folder(os.path.dirname(os.path.abspath(path)), "path")
    return path


def _check_start_time(value):
    if value is None:
        return datetime.datetime.now(datetime.UTC)
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"session_start_time must be a datetime.datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"session_start_time must be timezone-aware (e.g. tzinfo=datetime.UTC), got {value}"
        )
    return value


def _si(value):
    """``(magnitude in SI units, unit text, 7 SI exponents)`` of a number or quantity."""
    if is_quantity(value):
        from brian2 import Quantity
        from brian2.units.fundamentalunits import get_dimensions, get_unit

        dims = get_dimensions(value)
        magnitude = np.asarray(value / Quantity(1, dim=dims), dtype=np.float64)
        unit = "" if dims.is_dimensionless else str(get_unit(dims))
        return magnitude, unit, [float(x) for x in dims._dims]
    return value, "", [0.0] * 7


def _unit_columns(unit_metadata, N, VectorData):
    """Checked Units columns of `unit_metadata` (name -> N values)."""
    if unit_metadata is None:
        return []
    if not isinstance(unit_metadata, Mapping):
        raise TypeError(f"unit_metadata must be a dict of columns, got {unit_metadata!r}")
    from pynwb.misc import Units

    reserved = {spec["name"] for spec in Units.__columns__} | {"id", "unit_id"}
    columns = []
    for name, values in unit_metadata.items():
        if not isinstance(name, str) or not name or name in reserved or name.endswith("_index"):
            raise ValueError(
                f"unit_metadata name {name!r} must be a non-empty string, not ending in "
                f"'_index' and not one of {sorted(reserved)}"
            )
        magnitude, unit, dims = _si(values)
        array = np.asarray(magnitude)
        if array.shape != (N,):
            raise ValueError(
                f"unit_metadata[{name!r}] must hold one value per neuron (N={N}), got shape "
                f"{array.shape}"
            )
        if array.dtype.kind not in "biufU":
            raise TypeError(
                f"unit_metadata[{name!r}] must hold str, int, float or bool values, got "
                f"dtype {array.dtype}"
            )
        description = f"{name} (neurosrnn unit metadata)"
        if unit:
            description += f"; SI unit: {unit}; dimensions: {json.dumps(dims)}"
        data = array.astype(str).tolist() if array.dtype.kind == "U" else array
        columns.append(VectorData(name=name, description=description, data=data))
    return columns


def _read_column(column):
    """A Units column as an array (a Brian2 quantity where a unit was written)."""
    values = column[:]
    if isinstance(values, list):
        values = np.asarray(values, dtype=object)
    array = np.asarray(values)
    if array.dtype.kind in "OS":
        array = array.astype(str)
    found = _DIMENSIONS.search(getattr(column, "description", "") or "")
    if found:
        return _with_dimensions(array, json.loads(found.group(1)))
    return array


def _with_dimensions(magnitude, dims):
    if not any(dims):
        return magnitude
    from brian2 import Quantity
    from brian2.units.fundamentalunits import get_or_create_dimension

    return Quantity(magnitude, dim=get_or_create_dimension(list(dims)))


def _parameter_rows(model_parameters):
    """``(name, JSON value, unit, JSON dimensions)`` rows, checked."""
    if model_parameters is None:
        return []
    if not isinstance(model_parameters, Mapping):
        raise TypeError(f"model_parameters must be a dict, got {model_parameters!r}")
    rows = []
    for name, value in model_parameters.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"model parameter names must be non-empty strings, got {name!r}")
        magnitude, unit, dims = _si(value)
        if isinstance(magnitude, np.ndarray | np.generic):
            magnitude = magnitude.tolist()
        try:
            text = json.dumps(magnitude, allow_nan=True)
        except TypeError:
            raise TypeError(
                f"model_parameters[{name!r}] must be a number, bool, string, Brian2 "
                f"quantity or an array of them, got {type(value).__name__}"
            ) from None
        rows.append((name, text, unit, json.dumps(dims)))
    return rows


def _decode_parameter(text, dims):
    value = json.loads(text)
    dims = json.loads(dims)
    if isinstance(value, list):
        value = np.asarray(value)
    return _with_dimensions(value, dims) if any(dims) else value
