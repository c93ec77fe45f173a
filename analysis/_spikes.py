"""The package's one spike-train type, `SpikeTrains`, and the input normalisation to it.

A `SpikeTrains` holds the spikes of ``N`` neurons (indices ``i``, times ``t`` in
seconds) and its window ``[t_start, t_stop)``. Every source of spikes converts to it and
every measure accepts it. `as_spike_trains` converts, once, any of:

- a `SpikeTrains` (returned as is, or re-windowed);
- a Brian2 ``SpikeMonitor`` (``monitor.i``, ``monitor.t``; ``N`` is the size of the
  recorded group, the default window is ``[0, current time)``);
- device results (``neurosrnn.results.SimulationResults``, as returned by
  ``Simulation.run`` and ``load_results``): their single spike monitor;
- a ``neurosrnn.sparseprop.SparsePropResult`` (window ``[start_time, stop_time]``; a
  spike exactly at ``stop_time`` is kept by moving ``t_stop`` one float up);
- a sweep store entry or runner result: a mapping with ``spike_indices``,
  ``spike_times`` and ``info`` (or ``metadata["info"]``) giving ``N`` and
  ``duration_s``;
- a neo ``Segment`` or ``Block`` (through `neurosrnn.analysis.neo_interop.from_neo`);
- a pair ``(i, t)`` of index and time arrays, or a mapping with keys ``i`` and ``t``
  (a results ``spikes.npz``), times in seconds or as a Brian2 quantity, in any order;
- a sequence of per-neuron spike-time arrays (each sorted, seconds or quantities),
  including neo ``SpikeTrain`` objects (their ``t_start``/``t_stop`` give the default
  window).

Engines and results are recognised by their attributes, so this module imports none.

The result is a `SpikeTrains`: spike times in seconds sorted by neuron then time,
CSR-style row pointers ``indptr`` so that neuron ``k``'s spikes are
``times[indptr[k]:indptr[k + 1]]``, and an explicit half-open window
``[t_start, t_stop)``. Spikes outside the window are dropped. No per-train objects are
built: one bincount and a counting sort (time-ordered input, as from a monitor) or a
lexsort (any other order).

Bad input raises ``ValueError`` naming the parameter (negative or non-finite times,
unsorted per-train arrays, indices outside ``[0, N)``, non-integer indices, an empty
or reversed window); a quantity with the wrong dimension raises Brian2's
``DimensionMismatchError``.

The measure modules share four helpers from here: `count_bins` and `bin_indices`
(left-closed bins from ``t_start``, partial last bin dropped, edge rounding by
`BIN_TOLERANCE`), `interval_arrays` (ISIs that never bridge neurons) and
`counting_sort` (values regrouped by an integer key, order kept within a group). Times are
converted with `neurosrnn.units`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numba
import numpy as np

from neurosrnn.units import seconds_array, to_seconds
from neurosrnn.validation import int_array

__all__ = [
    "BIN_TOLERANCE",
    "SpikeTrains",
    "as_spike_trains",
    "bin_indices",
    "count_bins",
    "counting_sort",
    "interval_arrays",
]

BIN_TOLERANCE = 1e-8
"""A spike within this fraction of a bin below the next edge is put in the next bin."""


class SpikeTrains:
    """Spikes of ``N`` neurons in the window ``[t_start, t_stop)``: the package's one spike type.

    Every result source converts to it (see `as_spike_trains`): Brian2 monitors, device
    results (`neurosrnn.results`), SparseProp results, sweep store entries, neo objects
    and plain ``(i, t)`` arrays; every measure of ``neurosrnn.analysis`` accepts it.

    Parameters
    ----------
    i : array of int, shape (n_spikes,)
        Neuron index of every spike, in ``[0, N)``.
    t : array of float or Brian2 time quantity, shape (n_spikes,)
        Spike times (seconds if plain numbers), in any order.
    N : int
        Number of neurons, silent ones included.
    name : str, optional
        A label (the monitor's name for device results).
    t_start : float or Brian2 quantity, optional
        Start of the recording window (default 0 s).
    t_stop : float or Brian2 quantity, optional
        End of the window (exclusive). None when unknown: the measures then need an
        explicit ``t_stop``.

    Attributes
    ----------
    i, t : ndarray
        Time order, as a `brian2.SpikeMonitor` records: sorted by time, then index
        (equal arrays for devices that record in different orders).
    times, indptr : ndarray
        Neuron order: neuron ``k``'s spikes are ``times[indptr[k]:indptr[k + 1]]``,
        sorted in time (the layout the measures use).
    N, t_start, t_stop, name

    Notes
    -----
    Each view is built once, on first use (an O(n) counting sort or an O(n log n)
    lexsort), and its arrays are read-only so that the two always agree. ``len()`` is
    the number of spikes. Two `SpikeTrains` are equal when they hold the same spikes of
    the same ``N`` neurons in the same window (the name is not compared).

    The former analysis constructor ``SpikeTrains(times, indptr, t_start, t_stop)``
    (four numbers-and-arrays, the fourth a number) is still accepted; new code uses
    `SpikeTrains.from_csr`.

    Examples
    --------
    >>> spikes = SpikeTrains([1, 0, 1], [0.3, 0.1, 0.2], N=3, t_stop=0.5)
    >>> spikes.i, spikes.t
    (array([0, 1, 1]), array([0.1, 0.2, 0.3]))
    >>> spikes.trains()[1], spikes.count()
    (array([0.2, 0.3]), array([1, 2, 0]))
    >>> len(spikes), spikes.duration
    (3, 0.5)
    """

    __slots__ = ("N", "t_start", "t_stop", "name", "_i", "_t", "_times", "_indptr")

    def __init__(self, i, t, N, name="spikes", *, t_start=0.0, t_stop=None):
        if isinstance(name, numbers.Real) and not isinstance(name, bool | np.bool_):
            # former analysis signature SpikeTrains(times, indptr, t_start, t_stop): trusted
            self._set_csr(i, t, N, name, None)
            return
        N = _check_N(N)
        t_start, t_stop = _window(t_start, t_stop)
        indices = int_array(i, "i", ndim=None)
        # copies: a monitor's arrays may be views of buffers Brian2 reuses after a reset
        times = np.array(seconds_array(t, "t"), dtype=np.float64)
        if indices.ndim != 1 or indices.shape != times.shape:
            raise ValueError(
                f"i and t must be 1-D arrays of equal length, got shapes {indices.shape} and "
                f"{times.shape}"
            )
        if indices.size and (indices.min() < 0 or indices.max() >= N):
            raise ValueError(
                f"spike indices i must lie in [0, {N}) for N={N}, got "
                f"[{indices.min()}, {indices.max()}]"
            )
        _check_times_in_window(times, t_start, t_stop)
        if _is_sorted(indices, times):  # a monitor's order: an O(n) check instead of a sort
            indices = indices.copy()
        else:
            order = np.lexsort((indices, times))
            indices, times = indices[order], times[order]
        self.N, self.t_start, self.t_stop, self.name = N, t_start, t_stop, name
        self._i, self._t = _read_only(indices), _read_only(times)
        self._times = self._indptr = None

    @classmethod
    def from_csr(cls, times, indptr, t_start, t_stop, *, name="spikes", validate=True):
        """Build from the neuron-ordered layout (``times`` grouped by neuron, ``indptr``).

        Parameters
        ----------
        times : array of float, shape (n_spikes,)
            Spike times in seconds, grouped by neuron and sorted within each neuron.
        indptr : array of int, shape (N + 1,)
            Row pointers: ``indptr[0] = 0``, non-decreasing, ``indptr[-1] = n_spikes``.
        t_start, t_stop : float
            Window in seconds (``t_stop`` may be None: unknown).
        name : str
        validate : bool
            Check the layout and the window (O(n)); False trusts the caller.

        Examples
        --------
        >>> SpikeTrains.from_csr([0.1, 0.2, 0.3], [0, 1, 3, 3], 0.0, 0.5).i
        array([0, 1, 1])
        """
        self = cls.__new__(cls)
        if validate:
            t_start, t_stop = _window(t_start, t_stop)
            times = np.asarray(seconds_array(times, "times"), dtype=np.float64)
            indptr = int_array(indptr, "indptr")
            _check_N(indptr.size - 1, "len(indptr) - 1")
            if indptr[0] != 0 or indptr[-1] != times.size or np.any(np.diff(indptr) < 0):
                raise ValueError(
                    f"indptr must start at 0, never decrease and end at len(times)="
                    f"{times.size}, got {indptr[0]} ... {indptr[-1]}"
                )
            if times.ndim != 1:
                raise ValueError(f"times must be 1-D, got shape {times.shape}")
            _check_times_in_window(times, t_start, t_stop)
            within = np.diff(times) >= 0
            within[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < times.size)] - 1] = True
            if not within.all():
                raise ValueError("times must be sorted within each neuron")
        self._set_csr(times, indptr, t_start, t_stop, name)
        return self

    def _set_csr(self, times, indptr, t_start, t_stop, name):
        self._times = _read_only(np.ascontiguousarray(times, dtype=np.float64))
        self._indptr = _read_only(np.ascontiguousarray(indptr, dtype=np.int64))
        self.N = int(self._indptr.size - 1)
        self.t_start = float(t_start)
        self.t_stop = None if t_stop is None else float(t_stop)
        self.name = name
        self._i = self._t = None

    # -- the two views

    def _time_order(self):
        if self._i is None:
            indices = np.repeat(np.arange(self.N, dtype=np.int64), np.diff(self._indptr))
            order = np.lexsort((indices, self._times))
            self._i = _read_only(indices[order])
            self._t = _read_only(self._times[order])

    def _neuron_order(self):
        if self._times is None:
            indptr = np.zeros(self.N + 1, dtype=np.int64)
            np.cumsum(np.bincount(self._i, minlength=self.N), out=indptr[1:])
            self._times = _read_only(counting_sort(self._i, self._t, indptr))
            self._indptr = _read_only(indptr)

    @property
    def i(self):
        """Neuron index of every spike, in time order (int64)."""
        self._time_order()
        return self._i

    @property
    def t(self):
        """Spike times in seconds, in time order (ties by index)."""
        self._time_order()
        return self._t

    @property
    def times(self):
        """Spike times in seconds grouped by neuron (see `indptr`)."""
        self._neuron_order()
        return self._times

    @property
    def indptr(self):
        """Row pointers, shape (N + 1,): neuron ``k`` owns ``times[indptr[k]:indptr[k + 1]]``."""
        self._neuron_order()
        return self._indptr

    # -- derived quantities

    @property
    def n_spikes(self):
        """Total number of spikes."""
        return int((self._t if self._times is None else self._times).size)

    @property
    def duration(self):
        """Window length ``t_stop - t_start`` in seconds (None if `t_stop` is unknown)."""
        return None if self.t_stop is None else self.t_stop - self.t_start

    @property
    def counts(self):
        """Spike count of every neuron, shape (N,)."""
        return np.diff(self.indptr)

    def count(self):
        """Spike count of every neuron, shape (N,) (the same as `counts`)."""
        return self.counts

    @property
    def indices(self):
        """Neuron index of every spike in neuron order (matches `times`)."""
        return np.repeat(np.arange(self.N, dtype=np.int64), self.counts)

    def train(self, k):
        """Spike times (seconds) of neuron ``k``."""
        indptr = self.indptr
        return self._times[indptr[k] : indptr[k + 1]]

    def trains(self):
        """List of ``N`` arrays: the spike times (seconds) of every neuron."""
        return [self.train(k) for k in range(self.N)]

    def __len__(self):
        return self.n_spikes

    def __eq__(self, other):
        if not isinstance(other, SpikeTrains):
            return NotImplemented
        return (
            self.N == other.N
            and self.t_start == other.t_start
            and self.t_stop == other.t_stop
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.times, other.times)
        )

    __hash__ = None

    def __repr__(self):
        stop = "?" if self.t_stop is None else f"{self.t_stop:g} s"
        return (
            f"SpikeTrains(N={self.N}, name={self.name!r}, window=[{self.t_start:g} s, {stop})): "
            f"{self.n_spikes} spikes from {self.N} neurons"
        )


def _read_only(array):
    array.flags.writeable = False
    return array


def _check_N(N, name="N"):
    if isinstance(N, bool) or not isinstance(N, numbers.Integral) or N <= 0:
        raise ValueError(f"{name} must be a positive integer (the number of neurons), got {N!r}")
    return int(N)


def _window(t_start, t_stop):
    """The window ``(t_start, t_stop)`` in seconds, checked (``t_stop`` may be None)."""
    t_start = to_seconds(t_start, "t_start")
    t_stop = to_seconds(t_stop, "t_stop", allow_none=True)
    if t_stop is not None and not t_stop > t_start:
        raise ValueError(f"t_stop must be > t_start, got t_start={t_start}, t_stop={t_stop}")
    return t_start, t_stop


def _check_times_in_window(times, t_start, t_stop):
    if not times.size:
        return
    if not np.all(np.isfinite(times)):
        raise ValueError("spike times t must be finite (found NaN or inf)")
    first, last = times.min(), times.max()
    if first < t_start or (t_stop is not None and last >= t_stop):
        stop = "" if t_stop is None else f"{t_stop} s"
        raise ValueError(
            f"spike times t must lie in the window [t_start, t_stop) = [{t_start} s, {stop}), "
            f"got times from {first} s to {last} s"
        )


def _is_sorted(i, t):
    """Whether spikes are sorted by time and, within a time, by index."""
    if i.size < 2:
        return True
    time_step = np.diff(t)
    return bool(np.all((time_step > 0) | ((time_step == 0) & (np.diff(i) >= 0))))


def _check_window(t_start, t_stop):
    if t_stop is None:
        raise ValueError(
            "t_stop is required for array input (the end of the recording, in seconds "
            "or as a Brian2 time quantity)"
        )
    if not t_stop > t_start:
        raise ValueError(f"t_stop must be > t_start, got t_start={t_start}, t_stop={t_stop}")


def _from_index_time(indices, times, N, t_start, t_stop):
    indices = np.asarray(indices)
    if indices.ndim != 1 or times.ndim != 1 or indices.shape != times.shape:
        raise ValueError(
            f"spike indices and times must be 1-D arrays of equal length, got shapes "
            f"{indices.shape} and {times.shape}"
        )
    if indices.size and not np.issubdtype(indices.dtype, np.integer):
        as_int = indices.astype(np.int64)
        if not np.array_equal(as_int, indices):
            raise ValueError("spike indices must be integers")
        indices = as_int
    indices = indices.astype(np.int64, copy=False)
    if not np.all(np.isfinite(times)):
        raise ValueError("spike times must be finite (found NaN or inf)")
    if times.size and times.min() < 0:
        raise ValueError(f"spike times must be >= 0 s, found {times.min()} s")
    if indices.size and indices.min() < 0:
        raise ValueError(f"spike indices must be >= 0, found {indices.min()}")
    if N is None:
        N = int(indices.max()) + 1 if indices.size else 0
        if N == 0:
            raise ValueError("N is required when there are no spikes")
    elif not isinstance(N, int | np.integer) or N <= 0:
        raise ValueError(f"N must be a positive integer, got {N!r}")
    if indices.size and indices.max() >= N:
        raise ValueError(f"spike indices must be < N={N}, found {indices.max()}")
    keep = (times >= t_start) & (times < t_stop)
    if not keep.all():
        indices, times = indices[keep], times[keep]
    counts = np.bincount(indices, minlength=N)
    indptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    if times.size > 1 and np.all(times[1:] >= times[:-1]):
        # time-ordered input (a SpikeMonitor): a stable counting sort by neuron suffices
        return SpikeTrains.from_csr(
            counting_sort(indices, times, indptr), indptr, t_start, t_stop, validate=False
        )
    order = np.lexsort((times, indices))
    return SpikeTrains.from_csr(times[order], indptr, t_start, t_stop, validate=False)


@numba.njit(cache=True, nogil=True)
def counting_sort(keys, values, pointer):
    """Stable counting sort: ``values`` regrouped by their integer ``keys``.

    Parameters
    ----------
    keys : array of int, shape (n,)
        Group of every value, in ``[0, pointer.size - 1)``.
    values : array, shape (n,)
        What is reordered (spike times, neuron indices, ...).
    pointer : array of int64, shape (n_groups + 1,)
        CSR-style start of each group: ``pointer[0] = 0`` and
        ``pointer[g + 1] - pointer[g]`` is the number of values with key ``g`` (the
        cumulative sum of ``np.bincount(keys)``).

    Returns
    -------
    ndarray, shape (n,)
        ``values`` with group ``g`` in ``[pointer[g], pointer[g + 1])``; within a group the
        input order is kept (so time-ordered input stays time-ordered).

    Examples
    --------
    >>> keys = np.array([1, 0, 1, 0])
    >>> pointer = np.array([0, 2, 4])
    >>> counting_sort(keys, np.array([10.0, 20.0, 30.0, 40.0]), pointer)
    array([20., 40., 10., 30.])
    """
    position = pointer[:-1].copy()
    result = np.empty_like(values)
    for s in range(keys.size):
        result[position[keys[s]]] = values[s]
        position[keys[s]] += 1
    return result


def as_spike_trains(spikes, *, N=None, t_start=None, t_stop=None):
    """Normalise spike input to a `SpikeTrains` in the window ``[t_start, t_stop)``.

    Parameters
    ----------
    spikes : SpikeTrains, SpikeMonitor, results, (i, t) pair, sequence of arrays, neo
        See the module docstring for every accepted form.
    N : int, optional
        Number of neurons. Default: the source's own ``N`` (monitored group size,
        number of trains, ...), else ``max(i) + 1`` for an ``(i, t)`` pair.
    t_start, t_stop : float or Brian2 quantity, optional
        Analysis window in seconds (half-open). Default: the source's own window
        (``t_start`` 0 for arrays; ``t_stop`` the monitor's current time); ``t_stop``
        is required for plain arrays and for a `SpikeTrains` whose end is unknown.

    Returns
    -------
    SpikeTrains
        The input itself when it is a `SpikeTrains` and no window is given; otherwise a
        new one holding the spikes inside the window.

    Raises
    ------
    ValueError
        Negative or non-finite times, unsorted per-train arrays, indices outside
        ``[0, N)``, a missing or empty window, or an input of no supported form.

    Examples
    --------
    >>> st = as_spike_trains(([1, 0, 1], [0.3, 0.1, 0.2]), N=3, t_stop=1.0)
    >>> st.counts, st.train(1)
    (array([1, 2, 0]), array([0.2, 0.3]))
    """
    t_start_s = to_seconds(t_start, "t_start", allow_none=True)
    t_stop_s = to_seconds(t_stop, "t_stop", allow_none=True)
    if isinstance(spikes, SpikeTrains):
        if N is not None and N != spikes.N:
            raise ValueError(f"N={N} does not match the {spikes.N} trains given")
        if t_stop_s is None and spikes.t_stop is None:
            raise ValueError(
                "t_stop is required: these spike trains have no known end (give t_stop, the "
                "end of the recording, in seconds or as a Brian2 time quantity)"
            )
        if t_start_s is None and t_stop_s is None:
            return spikes
        t_start_s = spikes.t_start if t_start_s is None else t_start_s
        t_stop_s = spikes.t_stop if t_stop_s is None else t_stop_s
        _check_window(t_start_s, t_stop_s)
        result = _from_index_time(spikes.indices, spikes.times, spikes.N, t_start_s, t_stop_s)
        result.name = spikes.name
        return result
    converted = _convert_result_object(spikes, N)
    if converted is not None:
        return as_spike_trains(converted, N=N, t_start=t_start_s, t_stop=t_stop_s)
    if hasattr(spikes, "source") and hasattr(spikes, "i") and hasattr(spikes, "t"):
        # Brian2 SpikeMonitor (runtime or standalone after the run)
        if N is None:
            N = len(spikes.source)
        times = seconds_array(spikes.t[:], "monitor.t")
        indices = np.asarray(spikes.i[:])
        if t_stop_s is None:
            t_stop_s = to_seconds(spikes.clock.t, "monitor.clock.t")
        t_start_s = 0.0 if t_start_s is None else t_start_s
        _check_window(t_start_s, t_stop_s)
        return _from_index_time(indices, times, N, t_start_s, t_stop_s)
    if isinstance(spikes, Mapping) and "i" in spikes and "t" in spikes:
        spikes = (spikes["i"], spikes["t"])  # e.g. numpy.load of a results spikes.npz
    if isinstance(spikes, tuple) and len(spikes) == 2:
        indices, times = spikes
        times = seconds_array(times, "spike times")
        t_start_s = 0.0 if t_start_s is None else t_start_s
        _check_window(t_start_s, t_stop_s)
        return _from_index_time(indices, times, N, t_start_s, t_stop_s)
    if isinstance(spikes, list | tuple):
        if spikes and all(
            hasattr(train, "t_stop") and hasattr(train, "t_start") for train in spikes
        ):
            # neo SpikeTrains carry their own window
            if t_start_s is None:
                t_start_s = min(to_seconds(train.t_start, "t_start") for train in spikes)
            if t_stop_s is None:
                t_stop_s = max(to_seconds(train.t_stop, "t_stop") for train in spikes)
        trains = [seconds_array(train, f"spike train {k}") for k, train in enumerate(spikes)]
        if N is not None and N != len(trains):
            raise ValueError(f"N={N} does not match the {len(trains)} trains given")
        if not trains:
            raise ValueError("spikes is an empty sequence of trains")
        for k, train in enumerate(trains):
            if train.ndim != 1:
                raise ValueError(f"spike train {k} must be 1-D, got shape {train.shape}")
            if train.size > 1 and np.any(np.diff(train) < 0):
                raise ValueError(f"spike train {k} is not sorted in time")
        times = np.concatenate(trains) if trains else np.zeros(0)
        indices = np.repeat(np.arange(len(trains)), [train.size for train in trains])
        t_start_s = 0.0 if t_start_s is None else t_start_s
        _check_window(t_start_s, t_stop_s)
        return _from_index_time(indices, times, len(trains), t_start_s, t_stop_s)
    raise ValueError(
        "spikes must be a SpikeTrains, a Brian2 SpikeMonitor, simulation results (device, "
        "SparseProp or sweep store entry), a neo Segment or Block, an (i, t) pair or a "
        f"sequence of spike-time arrays; got {type(spikes).__module__}.{type(spikes).__name__}"
    )


def _window_holding(times, start, stop):
    """``stop``, or the next float above the last spike when a spike lies at ``stop``.

    Engines with exact spike times (SparseProp) may end a run on a spike, so their
    closed interval ``[start, stop]`` becomes the half-open ``[start, nextafter(stop))``.
    """
    if stop is None:
        return None
    if times.size and times.max() >= stop:
        return float(np.nextafter(times.max(), np.inf))
    return float(stop)


def _convert_result_object(spikes, N):
    """A `SpikeTrains` (or None) from a result object of an engine, the store or neo.

    Recognised by duck typing, so that this layer imports no engine: simulation results
    (``spike_trains``), a ``SparsePropResult`` (``spike_indices``, ``spike_times``,
    ``start_time``, ``stop_time``), a sweep store entry or runner result (a mapping with
    ``spike_indices``, ``spike_times`` and ``info``/``metadata["info"]`` holding ``N`` and
    ``duration_s``), a neo ``Segment`` (``spiketrains``) or ``Block`` (``segments``).
    """
    trains = getattr(spikes, "spike_trains", None)
    if isinstance(trains, SpikeTrains):
        return trains
    if all(hasattr(spikes, name) for name in ("spike_indices", "spike_times", "start_time", "N")):
        indices = np.asarray(spikes.spike_indices)
        times = np.asarray(spikes.spike_times, dtype=np.float64)
        n_spikes = getattr(spikes, "n_spikes", times.size)
        if n_spikes != times.size:
            raise ValueError(
                f"this result holds {times.size} of its {n_spikes} spikes: run it with "
                "record_spikes=True to analyse them"
            )
        return SpikeTrains(
            indices.astype(np.int64, copy=False),
            times,
            int(spikes.N),
            "sparseprop",
            t_start=float(spikes.start_time),
            t_stop=_window_holding(times, spikes.start_time, getattr(spikes, "stop_time", None)),
        )
    if isinstance(spikes, Mapping) and "spike_indices" in spikes and "spike_times" in spikes:
        info = spikes.get("info") or (spikes.get("metadata") or {}).get("info") or {}
        indices = np.asarray(spikes["spike_indices"])
        times = np.asarray(spikes["spike_times"], dtype=np.float64)
        size = N if N is not None else info.get("N")
        if size is None:
            raise ValueError("N is required: this result names no network size (no info['N'])")
        duration = info.get("duration_s")
        return SpikeTrains(
            indices.astype(np.int64, copy=False),
            times,
            int(size),
            "run",
            t_stop=_window_holding(times, 0.0, duration),
        )
    if hasattr(spikes, "spiketrains") or hasattr(spikes, "segments"):
        from .neo_interop import from_neo  # neo is imported only there

        return from_neo(spikes)
    return None


# ---------------------------------------------------------------------------------------
# helpers shared by the measure modules (statistics, correlation, synchrony, timescales)
# ---------------------------------------------------------------------------------------
def count_bins(duration, bin_size, name="bin_size"):
    """Number of whole bins of width ``bin_size`` in ``duration`` (seconds).

    ``n = floor(duration / bin_size + BIN_TOLERANCE)``: the partial last bin is dropped,
    and a window that is a multiple of the bin up to rounding keeps its last bin.

    Raises
    ------
    ValueError
        If not even one bin fits (the message names ``name``).
    """
    n_bins = int(math.floor(duration / bin_size + BIN_TOLERANCE))
    if n_bins < 1:
        raise ValueError(f"{name}={bin_size} s is longer than the recording window ({duration} s)")
    return n_bins


def bin_indices(spike_trains, bin_size):
    """Bin index of every spike of a `SpikeTrains`: left-closed bins from ``t_start``.

    ``k = floor((t - t_start) / bin_size + BIN_TOLERANCE)``, so a spike within
    ``BIN_TOLERANCE`` bins below an edge goes into the next bin (floating-point edge
    rounding, as in Elephant's ``BinnedSpikeTrain``). Spikes in the partial last bin get
    the index ``count_bins(...)``; callers drop them.
    """
    return np.floor((spike_trains.times - spike_trains.t_start) / bin_size + BIN_TOLERANCE).astype(
        np.int64
    )


def interval_arrays(spike_trains):
    """Inter-spike intervals of a `SpikeTrains` that never bridge neurons.

    Returns
    -------
    intervals : ndarray
        Every ISI (seconds), grouped by neuron.
    owner : ndarray of int
        The neuron of each interval.
    n_intervals : ndarray of int, shape (N,)
        ``max(n_k - 1, 0)`` for every neuron.
    """
    st = spike_trains
    intervals = np.diff(st.times)
    valid = np.ones(intervals.size, dtype=bool)
    ends = st.indptr[1:-1] - 1  # last spike of each train except the final one
    ends = ends[(ends >= 0) & (ends < intervals.size)]
    valid[ends] = False
    owner = st.indices[:-1][valid] if st.times.size else np.zeros(0, dtype=np.int64)
    return intervals[valid], owner, np.maximum(st.counts - 1, 0)
