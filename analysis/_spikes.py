"""Input normalisation for spike data: one sorted (neuron, time) layout for every measure.

Every analysis function accepts spikes in one of these forms and converts them once:

- a Brian2 ``SpikeMonitor`` (``monitor.i``, ``monitor.t``; ``N`` is the size of the
  recorded group, the default window is ``[0, current time)``);
- a pair ``(i, t)`` of index and time arrays, times in seconds or as a Brian2
  quantity; the pair need not be sorted in any way;
- a sequence of per-neuron spike-time arrays (each sorted, seconds or quantities),
  including neo ``SpikeTrain`` objects (their ``t_start``/``t_stop`` give the default
  window);
- an already normalised `SpikeTrains` (returned as is, or re-windowed).

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

import numba
import numpy as np

from neurosrnn.units import seconds_array, to_seconds

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
    """Spikes of ``N`` neurons in a window, sorted by neuron then time (seconds).

    Parameters
    ----------
    times : array of float, shape (n_spikes,)
        Spike times in seconds, grouped by neuron and sorted within each neuron.
    indptr : array of int, shape (N + 1,)
        Row pointers: neuron ``k`` owns ``times[indptr[k]:indptr[k + 1]]``.
    t_start, t_stop : float
        The half-open analysis window ``[t_start, t_stop)`` in seconds.

    Use `as_spike_trains` to build one from monitors or arrays; this constructor
    trusts its input.
    """

    __slots__ = ("times", "indptr", "t_start", "t_stop")

    def __init__(self, times, indptr, t_start, t_stop):
        self.times = np.ascontiguousarray(times, dtype=np.float64)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.t_start = float(t_start)
        self.t_stop = float(t_stop)

    @property
    def N(self):
        """Number of neurons (including silent ones)."""
        return self.indptr.size - 1

    @property
    def duration(self):
        """Window length ``t_stop - t_start`` in seconds."""
        return self.t_stop - self.t_start

    @property
    def counts(self):
        """Spike count of every neuron in the window, shape (N,)."""
        return np.diff(self.indptr)

    @property
    def indices(self):
        """Neuron index of every spike, shape (n_spikes,)."""
        return np.repeat(np.arange(self.N), self.counts)

    def train(self, k):
        """Spike times (seconds) of neuron ``k``."""
        return self.times[self.indptr[k] : self.indptr[k + 1]]

    def trains(self):
        """List of per-neuron spike-time arrays (views, seconds)."""
        return [self.train(k) for k in range(self.N)]

    def __len__(self):
        return self.N

    def __repr__(self):
        return (
            f"SpikeTrains(N={self.N}, n_spikes={self.times.size}, "
            f"window=[{self.t_start:g} s, {self.t_stop:g} s))"
        )


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
        return SpikeTrains(counting_sort(indices, times, indptr), indptr, t_start, t_stop)
    order = np.lexsort((times, indices))
    return SpikeTrains(times[order], indptr, t_start, t_stop)


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
    spikes : SpikeMonitor, (i, t) pair, sequence of arrays, or SpikeTrains
        See the module docstring.
    N : int, optional
        Number of neurons. Default: the monitored group's size, the number of trains,
        or ``max(i) + 1`` for an ``(i, t)`` pair.
    t_start, t_stop : float or Brian2 quantity, optional
        Analysis window in seconds (half-open). ``t_start`` defaults to 0 (or the
        input's own start); ``t_stop`` defaults to the monitor's current time and is
        required for array input.

    Returns
    -------
    SpikeTrains

    Raises
    ------
    ValueError
        Negative or non-finite times, unsorted per-train arrays, indices outside
        ``[0, N)``, or a missing/empty window.
    """
    t_start_s = to_seconds(t_start, "t_start", allow_none=True)
    t_stop_s = to_seconds(t_stop, "t_stop", allow_none=True)
    if isinstance(spikes, SpikeTrains):
        if N is not None and N != spikes.N:
            raise ValueError(f"N={N} does not match the {spikes.N} trains given")
        if t_start_s is None and t_stop_s is None:
            return spikes
        t_start_s = spikes.t_start if t_start_s is None else t_start_s
        t_stop_s = spikes.t_stop if t_stop_s is None else t_stop_s
        _check_window(t_start_s, t_stop_s)
        return _from_index_time(spikes.indices, spikes.times, spikes.N, t_start_s, t_stop_s)
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
        "spikes must be a Brian2 SpikeMonitor, an (i, t) pair, a sequence of spike-time "
        f"arrays, or a SpikeTrains; got {type(spikes).__name__}"
    )


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
