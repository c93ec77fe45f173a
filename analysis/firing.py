"""Firing statistics on Brian2 spike data, vectorised across neurons.

Every function takes spikes as a Brian2 ``SpikeMonitor``, an ``(i, t)`` pair (seconds
or Brian2 quantities), a list of per-neuron spike-time arrays, or a `SpikeTrains`
(see `neurosrnn.analysis._spikes.as_spike_trains`), plus an explicit half-open window
``[t_start, t_stop)``. Input is grouped by neuron once; no per-train objects are made.

Conventions (shared by all functions here)
------------------------------------------
- Times are in seconds, rates in Hz. Spikes outside the window are ignored.
- Intervals never bridge neurons, windows or trials. With ``n`` spikes there are
  ``m = n - 1`` inter-spike intervals (ISIs).
- Binning: bins are left-closed ``[t_start + k b, t_start + (k + 1) b)``; a partial
  last bin is dropped. A spike within ``1e-8`` bins of the next edge is put in the
  next bin (floating-point edge rounding, as in Elephant's ``BinnedSpikeTrain``).
- Too few spikes for a measure gives NaN for that neuron (never an error, never a
  silent number); `firing_summary` reports how many neurons were excluded.
- Definitions match Elephant 1.2.1 where Elephant has the measure (tests compare to
  1e-10), except the STTC, where Elephant 1.2.1 is not shift-invariant (see
  `spike_time_tiling_coefficient`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from ._spikes import SpikeTrains, _positive_seconds, _scalar_seconds, as_spike_trains

__all__ = [
    "SpikeTrains",
    "as_spike_trains",
    "firing_rates",
    "interspike_intervals",
    "cv",
    "cv2",
    "lv",
    "lvr",
    "fano_factor",
    "fano_factor_across_trials",
    "bin_spike_counts",
    "spike_count_correlation",
    "cross_correlograms",
    "shift_predictor",
    "spike_time_tiling_coefficient",
    "sttc_matrix",
    "van_rossum_distances",
    "victor_purpura_distances",
    "time_histogram",
    "psth",
    "kernel_rate",
    "optimal_kernel_bandwidth",
    "golomb_chi",
    "spike_synchrony_chi",
    "Bursts",
    "detect_bursts",
    "FiringSummary",
    "firing_summary",
]

_BIN_TOLERANCE = 1e-8


def _spikes(spikes, N=None, t_start=None, t_stop=None):
    return as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)


# ---------------------------------------------------------------------------------------
# single-train statistics
# ---------------------------------------------------------------------------------------
def firing_rates(spikes, *, N=None, t_start=None, t_stop=None):
    """Mean firing rate of every neuron, ``nu_k = n_k / (t_stop - t_start)`` in Hz.

    Parameters
    ----------
    spikes : SpikeMonitor, (i, t) pair, list of arrays or SpikeTrains
        Spike data.
    N : int, optional
        Number of neurons (silent neurons get rate 0).
    t_start, t_stop : float or Brian2 quantity, optional
        Window ``[t_start, t_stop)`` in seconds.

    Returns
    -------
    ndarray, shape (N,)
        Rates in Hz (same as Elephant's ``mean_firing_rate`` with explicit window).
    """
    st = _spikes(spikes, N, t_start, t_stop)
    return st.counts / st.duration


def _isi_arrays(st):
    """ISIs within trains (seconds) and the neuron owning each, plus per-neuron counts."""
    counts = st.counts
    intervals = np.diff(st.times)
    valid = np.ones(intervals.size, dtype=bool)
    ends = st.indptr[1:-1] - 1  # last spike of each train except the final one
    ends = ends[(ends >= 0) & (ends < intervals.size)]
    valid[ends] = False
    owner = st.indices[:-1][valid] if st.times.size else np.zeros(0, dtype=np.int64)
    return intervals[valid], owner, np.maximum(counts - 1, 0)


def interspike_intervals(spikes, *, N=None, t_start=None, t_stop=None):
    """Inter-spike intervals of every neuron (seconds), never bridging neurons.

    Returns
    -------
    list of ndarray
        ``isi[k]`` holds the ``n_k - 1`` intervals of neuron ``k``.
    """
    st = _spikes(spikes, N, t_start, t_stop)
    intervals, _, n_isi = _isi_arrays(st)
    return np.split(intervals, np.cumsum(n_isi)[:-1])


@numba.njit(cache=True, nogil=True)
def _isi_statistics(times, indptr, R, ddof, which):
    """One pass per neuron: which = 0 CV, 1 CV2, 2 LV, 3 LvR; NaN below 2 ISIs."""
    N = indptr.size - 1
    out = np.full(N, np.nan)
    for k in range(N):
        first, last = indptr[k], indptr[k + 1]
        m = last - first - 1  # number of ISIs
        if m < 2:
            continue
        if which == 0:
            mean = (times[last - 1] - times[first]) / m
            squares = 0.0
            for a in range(first, last - 1):
                deviation = times[a + 1] - times[a] - mean
                squares += deviation * deviation
            if m - ddof > 0 and mean > 0:
                out[k] = math.sqrt(squares / (m - ddof)) / mean
            continue
        total = 0.0
        for a in range(first, last - 2):
            previous = times[a + 1] - times[a]
            following = times[a + 2] - times[a + 1]
            both = previous + following
            if which == 1:
                total += 2.0 * abs(following - previous) / both
            elif which == 2:
                ratio = (previous - following) / both
                total += 3.0 * ratio * ratio
            else:
                total += (
                    3.0
                    * (1.0 - 4.0 * previous * following / (both * both))
                    * (1.0 + 4.0 * R / both)
                )
        out[k] = total / (m - 1)
    return out


def cv(spikes, *, ddof=0, N=None, t_start=None, t_stop=None):
    """Coefficient of variation of the ISIs of every neuron, ``CV = SD(I) / mean(I)``.

    Poisson: 1; periodic: 0; gamma renewal with shape kappa: ``1/sqrt(kappa)``.

    Parameters
    ----------
    spikes, N, t_start, t_stop
        Spike data and window (see `firing_rates`).
    ddof : int
        Delta degrees of freedom of the SD. Default 0, identical to Elephant's
        ``cv(isi(train))`` (``scipy.stats.variation``).

    Returns
    -------
    ndarray, shape (N,)
        CV per neuron; NaN for neurons with fewer than 2 ISIs (3 spikes).
    """
    st = _spikes(spikes, N, t_start, t_stop)
    return _isi_statistics(st.times, st.indptr, 0.0, float(ddof), 0)


def cv2(spikes, *, N=None, t_start=None, t_stop=None):
    """Local coefficient of variation CV2 (Holt et al. 1996, J. Neurophysiol. 75:1806).

    ``CV2 = 1/(m-1) sum_k 2 |I_{k+1} - I_k| / (I_{k+1} + I_k)`` over the ``m`` ISIs of
    a neuron. Poisson: 1. Robust to slow rate changes. Same as Elephant's ``cv2``.

    Returns
    -------
    ndarray, shape (N,)
        NaN for neurons with fewer than 2 ISIs.
    """
    st = _spikes(spikes, N, t_start, t_stop)
    return _isi_statistics(st.times, st.indptr, 0.0, 0.0, 1)


def lv(spikes, *, N=None, t_start=None, t_stop=None):
    """Local variation LV (Shinomoto et al. 2003, Neural Comput. 15:2823).

    ``LV = 3/(m-1) sum_k ((I_k - I_{k+1}) / (I_k + I_{k+1}))^2``. Poisson: 1,
    periodic: 0, gamma(kappa): ``3/(2 kappa + 1)``. Same as Elephant's ``lv``.

    Returns
    -------
    ndarray, shape (N,)
        NaN for neurons with fewer than 2 ISIs.
    """
    st = _spikes(spikes, N, t_start, t_stop)
    return _isi_statistics(st.times, st.indptr, 0.0, 0.0, 2)


def lvr(spikes, *, R=0.005, N=None, t_start=None, t_stop=None):
    """Revised local variation LvR (Shinomoto et al. 2009, PLoS Comput. Biol. 5:e1000433).

    ``LvR = 3/(m-1) sum_k (1 - 4 I_k I_{k+1} / (I_k + I_{k+1})^2)
    (1 + 4 R / (I_k + I_{k+1}))``. With ``R = 0`` it equals `lv`.

    Parameters
    ----------
    R : float or Brian2 quantity
        Refractoriness constant, in **seconds** for plain numbers (default 5 ms). Unlike
        Elephant, unitless input is never taken as milliseconds.

    Returns
    -------
    ndarray, shape (N,)
        NaN for neurons with fewer than 2 ISIs.
    """
    R = _scalar_seconds(R, "R")
    if R < 0:
        raise ValueError(f"R must be >= 0 s, got {R}")
    st = _spikes(spikes, N, t_start, t_stop)
    return _isi_statistics(st.times, st.indptr, R, 0.0, 3)


def _n_bins(duration, bin_size, name="bin_size"):
    n_bins = int(math.floor(duration / bin_size + _BIN_TOLERANCE))
    if n_bins < 1:
        raise ValueError(f"{name}={bin_size} s is longer than the recording window ({duration} s)")
    return n_bins


def _bin_indices(st, bin_size):
    """Bin index of every spike (left-closed bins from t_start, edge-rounded)."""
    return np.floor((st.times - st.t_start) / bin_size + _BIN_TOLERANCE).astype(np.int64)


def bin_spike_counts(spikes, bin_size, *, N=None, t_start=None, t_stop=None):
    """Spike counts of every neuron in consecutive bins of width ``bin_size``.

    Bins are left-closed from ``t_start``; the partial last bin is dropped.

    Returns
    -------
    counts : ndarray of int, shape (N, n_bins)
    edges : ndarray, shape (n_bins + 1,)
        Bin edges in seconds.
    """
    bin_size = _positive_seconds(bin_size, "bin_size")
    st = _spikes(spikes, N, t_start, t_stop)
    n_bins = _n_bins(st.duration, bin_size)
    bins = _bin_indices(st, bin_size)
    keep = bins < n_bins
    flat = st.indices[keep] * n_bins + bins[keep]
    counts = np.bincount(flat, minlength=st.N * n_bins).reshape(st.N, n_bins)
    edges = st.t_start + bin_size * np.arange(n_bins + 1)
    return counts, edges


def fano_factor(spikes, window, *, ddof=0, N=None, t_start=None, t_stop=None):
    """Per-train Fano factor from counting windows: ``F(T_w) = Var(n) / mean(n)``.

    Definition (b) of the reference: each neuron's recording is cut into
    consecutive windows of width ``window`` (left-closed, partial last window
    dropped) and the variance (``ddof``, default 0) over the mean of its window
    counts is taken. Poisson: 1 for every ``T_w``; stationary renewal process:
    ``F(T_w -> inf) -> CV^2``. For the across-trial Fano factor (Elephant's
    ``fanofactor``) use `fano_factor_across_trials`.

    Returns
    -------
    ndarray, shape (N,)
        NaN for silent neurons or fewer than 2 windows.
    """
    counts, _ = bin_spike_counts(spikes, window, N=N, t_start=t_start, t_stop=t_stop)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = counts.mean(axis=1)
        result = counts.var(axis=1, ddof=ddof) / mean
    if counts.shape[1] < 2:
        result[:] = np.nan
    result[mean == 0] = np.nan
    return result


def fano_factor_across_trials(trials, *, N=None, t_start=None, t_stop=None, ddof=0):
    """Across-trial Fano factor of every neuron: ``F = Var_trials(n) / mean_trials(n)``.

    Definition (a) of the reference, as Elephant's ``fanofactor`` applied to one
    neuron's trains over trials: the count of each neuron in the window of each
    trial, variance with ``ddof`` (default 0, as Elephant) over the mean.

    Parameters
    ----------
    trials : sequence of spike inputs
        One entry per trial (monitor, ``(i, t)`` pair, list of arrays or
        SpikeTrains), all with the same ``N`` and window length.

    Returns
    -------
    ndarray, shape (N,)
        NaN for neurons silent in every trial.
    """
    if len(trials) < 2:
        raise ValueError(f"trials must hold at least 2 trials, got {len(trials)}")
    counts = np.array([_spikes(trial, N, t_start, t_stop).counts for trial in trials])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = counts.mean(axis=0)
        result = counts.var(axis=0, ddof=ddof) / mean
    result[mean == 0] = np.nan
    return result


# ---------------------------------------------------------------------------------------
# pairwise measures
# ---------------------------------------------------------------------------------------
def spike_count_correlation(spikes, bin_size, *, N=None, t_start=None, t_stop=None):
    """Within-recording spike-count correlation matrix (Pearson r of binned counts).

    ``r_sc[i, j]`` is the Pearson correlation of the count series of neurons ``i`` and
    ``j`` in bins of ``bin_size`` (de la Rocha et al. 2007, Nature 448:802; Cohen &
    Kohn 2011, Nat. Neurosci. 14:811: the value depends on bin width and rate). All
    pairs come from ``cov = (X X^T - n n^T / B) / B`` with X the N x B count matrix and
    n the spike counts; ``X X^T`` counts the spike pairs that share a bin (a numba
    loop over bins when activity is sparse, a dense product otherwise). Same as Elephant's
    ``correlation_coefficient(BinnedSpikeTrain(...))``.

    Returns
    -------
    ndarray, shape (N, N)
        NaN rows and columns for neurons with constant counts (e.g. silent).
    """
    bin_size = _positive_seconds(bin_size, "bin_size")
    st = _spikes(spikes, N, t_start, t_stop)
    n_bins = _n_bins(st.duration, bin_size)
    bins = _bin_indices(st, bin_size)
    keep = bins < n_bins
    bins, owners = bins[keep], st.indices[keep]
    counts = np.bincount(owners, minlength=st.N).astype(np.float64)
    per_bin = np.bincount(bins, minlength=n_bins)
    pairs_per_bin = float(np.square(per_bin, dtype=np.float64).sum())
    if pairs_per_bin < 0.25 * st.N * st.N * n_bins and pairs_per_bin < 2**31:
        # sparse activity: accumulate spike pairs that share a bin (exact int32 counts);
        # the counting sort keeps neurons ascending within each bin
        bin_pointer = np.zeros(n_bins + 1, dtype=np.int64)
        np.cumsum(per_bin, out=bin_pointer[1:])
        shared = np.zeros((st.N, st.N), dtype=np.int32)
        _shared_bin_pairs(_counting_sort(bins, owners, bin_pointer), bin_pointer, shared)
        product = np.empty((st.N, st.N))
        _covariance_to_correlation(shared, counts, float(n_bins), product)
        return product
    flat = owners * n_bins + bins
    dense = np.bincount(flat, minlength=st.N * n_bins).reshape(st.N, n_bins).astype(np.float64)
    product = np.triu(dense @ dense.T)
    _covariance_to_correlation(product, counts, float(n_bins), product)
    return product


@numba.njit(cache=True, nogil=True)
def _counting_sort(bins, owners, bin_pointer):
    """Owners reordered by bin (stable: the input order is kept within a bin)."""
    position = bin_pointer[:-1].copy()
    result = np.empty_like(owners)
    for s in range(bins.size):
        result[position[bins[s]]] = owners[s]
        position[bins[s]] += 1
    return result


@numba.njit(cache=True, nogil=True)
def _shared_bin_pairs(owners, bin_pointer, product):
    """product[i, j] += number of spike pairs (i, j) sharing a bin (upper triangle + diagonal).

    ``owners`` must be sorted within each bin, so ``r > s`` implies ``owners[r] >= owners[s]``;
    the diagonal counts ordered pairs (``sum_b count_b^2``).
    """
    for b in range(bin_pointer.size - 1):
        for s in range(bin_pointer[b], bin_pointer[b + 1]):
            i = owners[s]
            product[i, i] += 1
            for r in range(s + 1, bin_pointer[b + 1]):
                j = owners[r]
                product[i, j] += 2 if i == j else 1


@numba.njit(cache=True, nogil=True)
def _covariance_to_correlation(product, counts, n_bins, out):
    """Upper triangle of X X^T -> full Pearson correlation matrix in ``out`` (NaN if silent)."""
    N = counts.size
    norm = np.empty(N)
    for i in range(N):
        variance = product[i, i] - counts[i] * counts[i] / n_bins
        norm[i] = math.sqrt(variance) if variance > 0 else np.nan
    for i in range(N):
        for j in range(i, N):
            value = (product[i, j] - counts[i] * counts[j] / n_bins) / (norm[i] * norm[j])
            value = min(max(value, -1.0), 1.0) if value == value else value
            out[i, j] = value
            out[j, i] = value


def _pairs_array(pairs, N):
    if pairs is None:
        first, second = np.triu_indices(N, 1)
        return np.stack([first, second], axis=1).astype(np.int64)
    pairs = np.asarray(pairs, dtype=np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_pairs, 2), got {pairs.shape}")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= N):
        raise ValueError(f"pairs must hold neuron indices in [0, {N})")
    return pairs


@numba.njit(cache=True, nogil=True)
def _ccg_kernel(bins, indptr, pairs, max_lag, out):
    for p in range(pairs.shape[0]):
        i = pairs[p, 0]
        j = pairs[p, 1]
        start_j = indptr[j]
        stop_j = indptr[j + 1]
        for a in range(indptr[i], indptr[i + 1]):
            reference = bins[a]
            while start_j < stop_j and bins[start_j] < reference - max_lag:
                start_j += 1
            b = start_j
            while b < stop_j and bins[b] <= reference + max_lag:
                out[p, bins[b] - reference + max_lag] += 1
                b += 1


def cross_correlograms(
    spikes,
    bin_size,
    max_lag,
    *,
    pairs=None,
    normalization="counts",
    border_correction=False,
    N=None,
    t_start=None,
    t_stop=None,
    max_bytes=2_000_000_000,
):
    """Cross-correlograms of many pairs: ``C_ij[k] = #{(a, b): bin(t_j^b) - bin(t_i^a) = k}``.

    Spikes are binned (``bin_size``, left-closed from ``t_start``, partial last bin
    dropped) and every pair of spikes whose bin indices differ by
    ``k in [-K, K]`` (``K = round(max_lag / bin_size)``) is counted: positive lags mean
    ``j`` fires after ``i``. With ``normalization='counts'`` this is exactly Elephant's
    ``cross_correlation_histogram(BinnedSpikeTrain(i), BinnedSpikeTrain(j),
    window=[-K, K])`` (Eggermont 2010, in *Analysis of Parallel Spike Trains*). One
    two-pointer sweep per pair: O(n_i + n_j + #pairs within the window).

    Parameters
    ----------
    bin_size, max_lag : float or Brian2 quantity
        Bin width and the largest lag (seconds).
    pairs : array of int, shape (n_pairs, 2), optional
        Pairs ``(i, j)`` to compute; default all ``i < j`` in ``np.triu_indices`` order.
    normalization : {'counts', 'per_spike', 'rate'}
        Raw pair counts; divided by ``n_i`` (reference spikes); or divided by
        ``n_i * bin_size`` (Hz, the rate of ``j`` around a spike of ``i``).
    border_correction : bool
        Multiply lag ``k`` by ``n_bins / (n_bins - |k|)`` (as Elephant's option).
    max_bytes : int
        Refuse to allocate a larger output (ValueError): pass fewer ``pairs``.

    Returns
    -------
    lags : ndarray, shape (2K + 1,)
        Lag centres in seconds.
    ccg : ndarray, shape (n_pairs, 2K + 1)
        int32 counts, or float for the other normalisations.
    pairs : ndarray, shape (n_pairs, 2)
    """
    bin_size = _positive_seconds(bin_size, "bin_size")
    max_lag = _scalar_seconds(max_lag, "max_lag")
    if max_lag is None or max_lag < 0:
        raise ValueError(f"max_lag must be >= 0 s, got {max_lag}")
    if normalization not in ("counts", "per_spike", "rate"):
        raise ValueError(
            f"normalization must be 'counts', 'per_spike' or 'rate', got {normalization!r}"
        )
    st = _spikes(spikes, N, t_start, t_stop)
    n_bins = _n_bins(st.duration, bin_size)
    K = int(round(max_lag / bin_size))
    if K >= n_bins:
        raise ValueError(f"max_lag={max_lag} s must be shorter than the window ({st.duration} s)")
    pairs = _pairs_array(pairs, st.N)
    n_bytes = pairs.shape[0] * (2 * K + 1) * (4 if normalization == "counts" else 8)
    if n_bytes > max_bytes:
        raise ValueError(
            f"the correlograms would take {n_bytes / 1e9:.1f} GB (max_bytes={max_bytes}); "
            "pass fewer pairs or a smaller max_lag"
        )
    bins = _bin_indices(st, bin_size)
    # spikes in the dropped partial last bin are removed, as in Elephant
    keep = bins < n_bins
    if not keep.all():
        st = SpikeTrains(st.times[keep], _reindex(st.indptr, keep), st.t_start, st.t_stop)
        bins = bins[keep]
    out = np.zeros((pairs.shape[0], 2 * K + 1), dtype=np.int32)
    _ccg_kernel(bins, st.indptr, pairs, K, out)
    lags = np.arange(-K, K + 1) * bin_size
    result = out
    if border_correction:
        result = out * (n_bins / (n_bins - np.abs(np.arange(-K, K + 1))))
    if normalization != "counts":
        reference = st.counts[pairs[:, 0]].astype(np.float64)
        if normalization == "rate":
            reference = reference * bin_size
        with np.errstate(invalid="ignore", divide="ignore"):
            result = result / reference[:, None]
    return lags, result, pairs


def shift_predictor(trials, bin_size, max_lag, *, pairs=None, N=None, t_start=None, t_stop=None):
    """Shift-predictor baseline for trial-based cross-correlograms (Perkel et al. 1967).

    The correlogram of neuron ``i`` in trial ``k`` against neuron ``j`` in trial
    ``k + 1`` (cyclically), averaged over the ``n`` trial shifts: what stimulus locking
    alone produces. Subtract it from the trial-averaged `cross_correlograms` to keep
    the correlation not explained by the shared stimulus. Each trial is re-referenced
    to its own window start; all trials must have the same window length.
    (Perkel, Gerstein & Moore 1967, Biophys. J. 7:419.)

    Returns
    -------
    lags : ndarray
        Seconds.
    predictor : ndarray, shape (n_pairs, 2K + 1)
        Mean counts per trial.
    pairs : ndarray, shape (n_pairs, 2)
    """
    if len(trials) < 2:
        raise ValueError(f"trials must hold at least 2 trials, got {len(trials)}")
    normalised = [_spikes(trial, N, t_start, t_stop) for trial in trials]
    first = normalised[0]
    for trial in normalised[1:]:
        if trial.N != first.N or not np.isclose(trial.duration, first.duration):
            raise ValueError("all trials must have the same N and window length")
    pairs = _pairs_array(pairs, first.N)
    total = None
    for k, trial in enumerate(normalised):
        following = normalised[(k + 1) % len(normalised)]
        times = np.concatenate([trial.times - trial.t_start, following.times - following.t_start])
        indptr = np.concatenate([trial.indptr, following.indptr[1:] + trial.indptr[-1]])
        combined = SpikeTrains(times, indptr, 0.0, first.duration)
        shifted_pairs = pairs + np.array([0, first.N])
        lags, ccg, _ = cross_correlograms(combined, bin_size, max_lag, pairs=shifted_pairs)
        total = ccg.astype(np.float64) if total is None else total + ccg
    return lags, total / len(normalised), pairs


def _reindex(indptr, keep):
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return kept_before[indptr]


def _tiled_fraction(st, dt):
    """T_A of every train: covered fraction of the window by [t - dt, t + dt], clipped."""
    intervals, owner, _ = _isi_arrays(st)
    covered = np.bincount(owner, weights=np.minimum(intervals, 2 * dt), minlength=st.N)
    covered = covered.astype(np.float64)
    nonempty = st.counts > 0
    first = st.times[st.indptr[:-1][nonempty]]
    last = st.times[st.indptr[1:][nonempty] - 1]
    covered[nonempty] += np.minimum(first - st.t_start, dt) + np.minimum(st.t_stop - last, dt)
    return covered / st.duration


@numba.njit(cache=True, nogil=True, inline="always")
def _fraction_near(times, a0, a1, b0, b1, dt):
    """Fraction of spikes in times[a0:a1] with a spike of times[b0:b1] within +-dt."""
    hits = 0
    b = b0
    for a in range(a0, a1):
        low = times[a] - dt
        while b < b1 and times[b] < low:
            b += 1
        if b < b1 and times[b] <= times[a] + dt:
            hits += 1
    return hits / (a1 - a0)


@numba.njit(cache=True, nogil=True)
def _sttc_term(P, T):
    if P * T == 1.0:
        return 1.0
    return (P - T) / (1.0 - P * T)


@numba.njit(cache=True, nogil=True)
def _sttc_kernel(times, indptr, pairs, tiled, dt, out):
    for p in range(pairs.shape[0]):
        i = pairs[p, 0]
        j = pairs[p, 1]
        i0, i1, j0, j1 = indptr[i], indptr[i + 1], indptr[j], indptr[j + 1]
        if i1 == i0 or j1 == j0:
            out[p] = np.nan
            continue
        P_i = _fraction_near(times, i0, i1, j0, j1, dt)
        P_j = _fraction_near(times, j0, j1, i0, i1, dt)
        out[p] = 0.5 * (_sttc_term(P_i, tiled[j]) + _sttc_term(P_j, tiled[i]))


def sttc_matrix(spikes, dt, *, pairs=None, N=None, t_start=None, t_stop=None):
    """Spike time tiling coefficient of all pairs (Cutts & Eglen 2014, J. Neurosci. 34:14288).

    ``STTC = 1/2 [(P_A - T_B) / (1 - P_A T_B) + (P_B - T_A) / (1 - P_B T_A)]``, where
    ``T_A`` is the fraction of the window ``[t_start, t_stop)`` covered by the union of
    ``[t - dt, t + dt]`` around A's spikes (clipped to the window) and ``P_A`` the
    fraction of A's spikes with a B spike within ``+-dt`` (inclusive). A term with
    ``P T = 1`` (0/0) is 1 (Elephant's convention); an empty train gives NaN.
    Only time differences enter, so the value is invariant to shifting all spikes and
    the window together (Elephant 1.2.1 is not: its tolerance grows with absolute
    time). Two-pointer sweeps: O(n_A + n_B) per pair.

    Parameters
    ----------
    dt : float or Brian2 quantity
        Synchrony window (seconds).
    pairs : array of int, shape (n_pairs, 2), optional
        If given, return one value per pair instead of the matrix.

    Returns
    -------
    ndarray, shape (N, N) (diagonal 1, NaN for empty trains) or (n_pairs,)
    """
    dt = _positive_seconds(dt, "dt")
    st = _spikes(spikes, N, t_start, t_stop)
    tiled = _tiled_fraction(st, dt)
    matrix = pairs is None
    pairs = _pairs_array(pairs, st.N)
    values = np.empty(pairs.shape[0])
    _sttc_kernel(st.times, st.indptr, pairs, tiled, dt, values)
    if not matrix:
        return values
    result = np.eye(st.N)
    result[pairs[:, 0], pairs[:, 1]] = values
    result[pairs[:, 1], pairs[:, 0]] = values
    result[st.counts == 0, :] = np.nan
    result[:, st.counts == 0] = np.nan
    return result


def spike_time_tiling_coefficient(train_a, train_b, dt, *, t_start, t_stop):
    """STTC of two spike trains (seconds or Brian2 quantities); see `sttc_matrix`.

    Returns
    -------
    float
        NaN if either train is empty.
    """
    return float(
        sttc_matrix([train_a, train_b], dt, pairs=[(0, 1)], t_start=t_start, t_stop=t_stop)[0]
    )


@numba.njit(cache=True, nogil=True)
def _exponential_markage(x, indptr, forward, backward, self_term):
    for k in range(indptr.size - 1):
        a0, a1 = indptr[k], indptr[k + 1]
        if a1 == a0:
            self_term[k] = 0.0
            continue
        forward[a0] = 1.0
        for a in range(a0 + 1, a1):
            forward[a] = 1.0 + forward[a - 1] * math.exp(x[a - 1] - x[a])
        backward[a1 - 1] = 1.0
        for a in range(a1 - 2, a0 - 1, -1):
            backward[a] = 1.0 + backward[a + 1] * math.exp(x[a] - x[a + 1])
        total = 0.0
        for a in range(a0, a1):
            total += forward[a] - 1.0
        self_term[k] = (a1 - a0) + 2.0 * total


@numba.njit(cache=True, nogil=True)
def _van_rossum_kernel(x, indptr, forward, backward, self_term, out):
    N = indptr.size - 1
    for i in range(N):
        i0, i1 = indptr[i], indptr[i + 1]
        for j in range(i + 1, N):
            j0, j1 = indptr[j], indptr[j + 1]
            cross = 0.0
            b = j0  # first spike of j later than the current spike of i
            for a in range(i0, i1):
                while b < j1 and x[b] <= x[a]:
                    b += 1
                if b > j0:
                    cross += math.exp(x[b - 1] - x[a]) * forward[b - 1]
                if b < j1:
                    cross += math.exp(x[a] - x[b]) * backward[b]
            value = self_term[i] + self_term[j] - 2.0 * cross
            out[i, j] = value
            out[j, i] = value


def van_rossum_distances(
    spikes, tau, *, normalization="elephant", N=None, t_start=None, t_stop=None
):
    """van Rossum distance between all pairs of trains (van Rossum 2001, Neural Comput. 13:751).

    With ``f(t) = sum_k H(t - t_k) exp(-(t - t_k)/tau)``, the paper defines
    ``D^2 = (1/tau) int (f_a - f_b)^2 dt``, whose closed form is
    ``D^2 = 1/2 [sum_kl e^{-|a_k - a_l|/tau} + sum_kl e^{-|b_k - b_l|/tau}
    - 2 sum_kl e^{-|a_k - b_l|/tau}]``.

    Normalisation: ``'elephant'`` (default) multiplies by sqrt(2), as Elephant's
    ``van_rossum_distance`` (one spike vs none gives 1; ``tau -> 0`` gives
    ``sqrt(n_a + n_b)``, ``tau -> inf`` gives ``|n_a - n_b|``); ``'paper'`` keeps the
    paper's value (``1/sqrt(2)`` for one spike vs none). Computed with running
    exponential sums on sorted trains (Houghton & Kreuz 2012, Network 23:48):
    O(n_a + n_b) per pair, self terms once per train.

    Returns
    -------
    ndarray, shape (N, N)
    """
    tau = _positive_seconds(tau, "tau")
    if normalization not in ("elephant", "paper"):
        raise ValueError(f"normalization must be 'elephant' or 'paper', got {normalization!r}")
    st = _spikes(spikes, N, t_start, t_stop)
    x = (st.times - st.t_start) / tau
    forward = np.empty_like(x)
    backward = np.empty_like(x)
    self_term = np.empty(st.N)
    _exponential_markage(x, st.indptr, forward, backward, self_term)
    squared = np.zeros((st.N, st.N))
    _van_rossum_kernel(x, st.indptr, forward, backward, self_term, squared)
    np.maximum(squared, 0.0, out=squared)
    if normalization == "paper":
        squared *= 0.5
    return np.sqrt(squared)


@numba.njit(cache=True, nogil=True)
def _victor_purpura_pair(times, a0, a1, b0, b1, q, row):
    n_b = b1 - b0
    for l in range(n_b + 1):
        row[l] = l
    for a in range(a0, a1):
        diagonal = row[0]
        row[0] = a - a0 + 1
        for l in range(1, n_b + 1):
            above = row[l]
            shift = diagonal + q * abs(times[a] - times[b0 + l - 1])
            value = min(above + 1.0, row[l - 1] + 1.0)
            row[l] = min(value, shift)
            diagonal = above
    return row[n_b]


@numba.njit(cache=True, nogil=True)
def _victor_purpura_pair_matching(times, a0, a1, b0, b1, q, tree, values):
    """VP distance as n_a + n_b - (best gain of a monotone matching), gain 2 - q |dt| > 0.

    Only pairs closer than 2/q can gain; they are visited with a two-pointer sweep
    and chained with a Fenwick tree of prefix maxima over b (O(E log n_b) for E
    candidate pairs).
    """
    n_b = b1 - b0
    for l in range(n_b + 1):
        tree[l] = 0.0
    reach = 2.0 / q
    start = b0
    best = 0.0
    for a in range(a0, a1):
        while start < b1 and times[a] - times[start] >= reach:
            start += 1
        # queries for this spike of a first (two matches of one spike are not allowed)
        stop = start
        while stop < b1 and times[stop] - times[a] < reach:
            stop += 1
        if stop == start:
            continue
        for b in range(start, stop):
            position = b - b0  # prefix max over b' < b, i.e. tree indices <= position
            prefix = 0.0
            index = position
            while index > 0:
                if tree[index] > prefix:
                    prefix = tree[index]
                index -= index & (-index)
            values[b - start] = prefix + 2.0 - q * abs(times[a] - times[b])
        for b in range(start, stop):
            value = values[b - start]
            if value > best:
                best = value
            index = b - b0 + 1
            while index <= n_b:
                if value > tree[index]:
                    tree[index] = value
                index += index & (-index)
    return (a1 - a0) + (b1 - b0) - best


@numba.njit(cache=True, nogil=True)
def _victor_purpura_kernel(times, indptr, q, out):
    N = indptr.size - 1
    longest = 0
    for k in range(N):
        longest = max(longest, indptr[k + 1] - indptr[k])
    row = np.empty(longest + 1)
    values = np.empty(longest + 1)
    for i in range(N):
        for j in range(i + 1, N):
            i0, i1, j0, j1 = indptr[i], indptr[i + 1], indptr[j], indptr[j + 1]
            # expected candidate pairs within 2/q against the dense table size
            span = (
                max(times[i1 - 1], times[j1 - 1]) - min(times[i0], times[j0])
                if (i1 > i0 and j1 > j0)
                else 0.0
            )
            sparse = q > 0 and 8.0 / q < span
            if sparse:
                value = _victor_purpura_pair_matching(times, i0, i1, j0, j1, q, row, values)
            else:
                value = _victor_purpura_pair(times, i0, i1, j0, j1, q, row)
            out[i, j] = value
            out[j, i] = value


def victor_purpura_distances(spikes, q, *, N=None, t_start=None, t_stop=None):
    """Victor-Purpura distance between all pairs (Victor & Purpura 1996, J. Neurophysiol. 76:1310).

    The minimum total cost of turning train a into train b, where inserting or
    deleting a spike costs 1 and moving one by ``dt`` costs ``q |dt|``, by the dynamic
    programme ``G[k, l] = min(G[k-1, l] + 1, G[k, l-1] + 1, G[k-1, l-1] + q |a_k - b_l|)``.
    ``q = 0`` gives ``|n_a - n_b|``; ``q -> inf`` gives ``n_a + n_b - 2 #coincidences``.
    Same as Elephant's ``victor_purpura_distance(cost_factor=q)``. When ``2/q`` is short
    compared with the trains, the equivalent form ``n_a + n_b - max_M sum_{(k,l) in M}
    (2 - q |a_k - b_l|)`` over monotone matchings M of spikes closer than ``2/q`` is
    used (only those pairs can beat a deletion plus an insertion), which visits only
    the candidate pairs instead of the full ``n_a x n_b`` table.

    Parameters
    ----------
    q : float or Brian2 quantity
        Cost per second of shift, in Hz (1/s). Required (no default, since the
        distance depends entirely on it).

    Returns
    -------
    ndarray, shape (N, N)
    """
    q = _frequency_hz(q, "q")
    if q < 0:
        raise ValueError(f"q must be >= 0 Hz, got {q}")
    st = _spikes(spikes, N, t_start, t_stop)
    out = np.zeros((st.N, st.N))
    if np.isinf(q):
        q = 1e300
    _victor_purpura_kernel(st.times - st.t_start, st.indptr, q, out)
    return out


def _frequency_hz(value, name):
    if hasattr(value, "dim") and hasattr(value, "has_same_dimensions"):
        from brian2 import Hz
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        if get_dimensions(value) != Hz.dim:
            raise DimensionMismatchError(f"{name} must have dimensions of frequency (Hz)")
    value = np.asarray(value, dtype=np.float64)
    if value.ndim != 0 or np.isnan(value):
        raise ValueError(f"{name} must be a scalar frequency in Hz, got {value}")
    return float(value)


# ---------------------------------------------------------------------------------------
# population rate
# ---------------------------------------------------------------------------------------
def time_histogram(spikes, bin_size, *, output="rate", N=None, t_start=None, t_stop=None):
    """Population spike histogram, as Elephant's ``time_histogram``.

    ``output='counts'``: spikes of all neurons per bin; ``'mean'``: counts / N;
    ``'rate'``: counts / (N * bin_size), the population rate in Hz. Bins as in
    `bin_spike_counts`.

    Returns
    -------
    edges : ndarray, shape (n_bins + 1,)
    values : ndarray, shape (n_bins,)
    """
    if output not in ("counts", "mean", "rate"):
        raise ValueError(f"output must be 'counts', 'mean' or 'rate', got {output!r}")
    bin_size = _positive_seconds(bin_size, "bin_size")
    st = _spikes(spikes, N, t_start, t_stop)
    n_bins = _n_bins(st.duration, bin_size)
    bins = _bin_indices(st, bin_size)
    counts = np.bincount(bins[bins < n_bins], minlength=n_bins)
    edges = st.t_start + bin_size * np.arange(n_bins + 1)
    if output == "counts":
        return edges, counts
    if output == "mean":
        return edges, counts / st.N
    return edges, counts / (st.N * bin_size)


def psth(trials, bin_size, *, neurons=None, N=None, t_start=None, t_stop=None):
    """Peri-stimulus time histogram: mean rate (Hz) across trials and neurons.

    Each trial is binned from its own ``t_start`` (so trials are aligned), counts are
    summed over the chosen ``neurons`` and trials and divided by
    ``n_trials * n_neurons * bin_size``.

    Parameters
    ----------
    trials : sequence of spike inputs
        One entry per trial.
    neurons : array of int, optional
        Neurons to include (default all).

    Returns
    -------
    times : ndarray
        Bin start times relative to the trial start (seconds).
    rate : ndarray
        Hz.
    """
    if len(trials) < 1:
        raise ValueError("trials must hold at least one trial")
    total = None
    for trial in trials:
        counts, edges = bin_spike_counts(trial, bin_size, N=N, t_start=t_start, t_stop=t_stop)
        chosen = counts if neurons is None else counts[np.asarray(neurons)]
        summed = chosen.sum(axis=0)
        if total is None:
            total, n_neurons, first_edges = summed.astype(np.float64), chosen.shape[0], edges
        elif summed.size != total.size:
            raise ValueError("all trials must have the same window length")
        else:
            total += summed
    bin_size = first_edges[1] - first_edges[0]
    return first_edges[:-1] - first_edges[0], total / (len(trials) * n_neurons * bin_size)


def kernel_rate(
    spikes,
    sigma,
    sampling_period,
    *,
    per_neuron=False,
    cutoff=5.0,
    N=None,
    t_start=None,
    t_stop=None,
):
    """Rate estimate by Gaussian kernel smoothing (Nawrot et al. 1999, J. Neurosci. Methods 94:81).

    ``r(t) = (1/N) sum_spikes k_sigma(t - t_s)`` with the normalised Gaussian
    ``k_sigma(x) = exp(-x^2 / (2 sigma^2)) / (sqrt(2 pi) sigma)``, truncated at
    ``cutoff * sigma``, evaluated at bin centres of width ``sampling_period``
    (spikes are first put on that grid, so the error is at most half a sampling
    period). No edge correction: the estimate drops near the window edges. Choose
    ``sigma`` with `optimal_kernel_bandwidth` (Shimazaki & Shinomoto 2010).
    Equal to Elephant's ``instantaneous_rate(trains, sampling_period,
    GaussianKernel(sigma), cutoff=cutoff)`` (``per_neuron``; ``pool_spike_trains=True``
    for the population) when ``cutoff * sigma / sampling_period`` is an integer;
    otherwise Elephant samples the kernel on a slightly stretched grid, while here
    the offsets are exact multiples of the sampling period. Elephant labels sample
    ``k`` with the bin start, here with the bin centre.

    Returns
    -------
    times : ndarray, shape (n_bins,)
        Bin centres (seconds).
    rate : ndarray, shape (n_bins,) or (N, n_bins)
        Hz; population mean unless ``per_neuron``.
    """
    from scipy.signal import oaconvolve

    sigma = _positive_seconds(sigma, "sigma")
    sampling_period = _positive_seconds(sampling_period, "sampling_period")
    st = _spikes(spikes, N, t_start, t_stop)
    half = int(math.ceil(cutoff * sigma / sampling_period))
    offsets = np.arange(-half, half + 1) * sampling_period
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2) / (math.sqrt(2 * math.pi) * sigma)
    if per_neuron:
        counts, edges = bin_spike_counts(st, sampling_period)
        rate = oaconvolve(counts.astype(np.float64), kernel[None, :], mode="same", axes=1)
    else:
        edges, counts = time_histogram(st, sampling_period, output="counts")
        rate = np.convolve(counts.astype(np.float64), kernel, mode="same") / st.N
    return 0.5 * (edges[:-1] + edges[1:]), rate


@numba.njit(cache=True, nogil=True)
def _bandwidth_cost(times, widths, out):
    n = times.size
    for w_index in range(widths.size):
        w = widths[w_index]
        reach = 10.0 * w
        pair_sum = 0.0
        for a in range(n):
            for b in range(a + 1, n):
                difference = times[b] - times[a]
                if difference > reach:
                    break
                d2 = difference * difference
                pair_sum += math.exp(-d2 / (4.0 * w * w)) / (2.0 * math.sqrt(math.pi) * w)
                pair_sum -= 2.0 * math.exp(-d2 / (2.0 * w * w)) / (math.sqrt(2.0 * math.pi) * w)
        out[w_index] = n / (2.0 * math.sqrt(math.pi) * w) + 2.0 * pair_sum


def optimal_kernel_bandwidth(
    spikes, *, widths=None, N=None, t_start=None, t_stop=None, max_spikes=200_000
):
    """Gaussian kernel width minimising the Shimazaki-Shinomoto (2010) cost.

    Shimazaki & Shinomoto 2010, J. Comput. Neurosci. 29:171.

    For the pooled spike times, ``C(w) = sum_{i,j} int k_w(t - t_i) k_w(t - t_j) dt
    - 2 sum_{i != j} k_w(t_i - t_j)`` (an unbiased estimate of the integrated squared
    error up to a constant) is evaluated on ``widths`` and minimised; for the
    Gaussian kernel the first term is ``k_{sqrt(2) w}(t_i - t_j)``. Pairs further apart
    than ``10 w`` are skipped (their terms are below 1e-10 of the peak). Unlike
    Elephant 1.2.1 (issue #461), no fixed 1000-point grid is used.

    Parameters
    ----------
    widths : array of float, optional
        Candidate widths in seconds; default 40 log-spaced values between
        ``2 * median ISI of the pooled train`` / 10 and the window length / 10.

    Returns
    -------
    best : float
        Optimal width (seconds).
    widths, cost : ndarray
        The candidates and their cost.
    """
    st = _spikes(spikes, N, t_start, t_stop)
    times = np.sort(st.times)
    if times.size < 2:
        raise ValueError("optimal_kernel_bandwidth needs at least 2 spikes")
    if times.size > max_spikes:
        raise ValueError(f"{times.size} pooled spikes exceed max_spikes={max_spikes}")
    if widths is None:
        step = max(float(np.median(np.diff(times))), 1e-6)
        widths = np.geomspace(step / 5, st.duration / 10, 40)
    widths = np.asarray(widths, dtype=np.float64)
    if widths.ndim != 1 or widths.size == 0 or np.any(widths <= 0):
        raise ValueError("widths must be a non-empty 1-D array of positive times (seconds)")
    cost = np.empty(widths.size)
    _bandwidth_cost(times, widths, cost)
    return float(widths[np.argmin(cost)]), widths, cost


# ---------------------------------------------------------------------------------------
# synchrony
# ---------------------------------------------------------------------------------------
def golomb_chi(traces, *, ddof=0):
    """Golomb synchrony measure chi of membrane-potential-like traces.

    Golomb & Rinzel 1993, Phys. Rev. E 48:4810; Golomb 2007, Scholarpedia 2:1347.

    ``chi^2 = Var_t[Vbar(t)] / ((1/N) sum_i Var_t[V_i(t)])`` with the population mean
    ``Vbar = (1/N) sum_i V_i``; both variances over time on the same grid with the same
    ``ddof``. Identical traces give 1; N independent traces of equal variance give
    ``chi ~ 1/sqrt(N)``.

    Parameters
    ----------
    traces : array, shape (N, n_times)
        One row per neuron (e.g. ``StateMonitor.v``, units are stripped).

    Returns
    -------
    float
        NaN if every trace is constant.
    """
    traces = np.asarray(traces, dtype=np.float64)
    if traces.ndim != 2 or traces.shape[1] < 2:
        raise ValueError(f"traces must have shape (N, n_times >= 2), got {traces.shape}")
    population = traces.mean(axis=0).var(ddof=ddof)
    single = traces.var(axis=1, ddof=ddof).mean()
    if single == 0:
        return float("nan")
    return float(np.sqrt(population / single))


def spike_synchrony_chi(
    spikes, tau, *, dt=0.001, N=None, t_start=None, t_stop=None, chunk_size=256
):
    """Golomb chi of spike trains filtered with a causal exponential kernel.

    Each train is binned at ``dt`` and filtered with ``V(t) = sum_k exp(-(t - t_k)/tau)
    H(t - t_k)`` (exact recursion on the grid); then `golomb_chi` of the filtered
    traces (ddof 0). Neurons without spikes are left out (their variance is 0).
    Neurons are processed ``chunk_size`` at a time, so memory stays at
    ``chunk_size x n_bins`` floats for any N.

    Returns
    -------
    float
        NaN if no neuron spiked.
    """
    from scipy.signal import lfilter

    tau = _positive_seconds(tau, "tau")
    dt = _positive_seconds(dt, "dt")
    st = _spikes(spikes, N, t_start, t_stop)
    n_bins = _n_bins(st.duration, dt, "dt")
    active = np.flatnonzero(st.counts > 0)
    if active.size == 0:
        return float("nan")
    decay = math.exp(-dt / tau)
    bins = _bin_indices(st, dt)
    owners = st.indices
    total_trace = np.zeros(n_bins)
    variance_sum = 0.0
    for first in range(0, active.size, chunk_size):
        chunk = active[first : first + chunk_size]
        row_of = np.full(st.N, -1, dtype=np.int64)
        row_of[chunk] = np.arange(chunk.size)
        rows = row_of[owners]
        keep = (rows >= 0) & (bins < n_bins)
        counts = np.zeros((chunk.size, n_bins))
        np.add.at(counts, (rows[keep], bins[keep]), 1.0)
        traces = lfilter([1.0], [1.0, -decay], counts, axis=1)
        total_trace += traces.sum(axis=0)
        variance_sum += float(traces.var(axis=1).sum())
    population = (total_trace / active.size).var()
    if variance_sum == 0:
        return float("nan")
    return float(np.sqrt(population / (variance_sum / active.size)))


# ---------------------------------------------------------------------------------------
# bursts
# ---------------------------------------------------------------------------------------
@dataclass(repr=False)
class Bursts:
    """Bursts found by `detect_bursts`: one entry per burst, sorted by neuron then time."""

    neuron: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    n_spikes: np.ndarray
    N: int
    duration: float
    max_isi: float
    min_spikes: int

    @property
    def burst_rate(self):
        """Bursts per second of every neuron (Hz)."""
        return np.bincount(self.neuron, minlength=self.N) / self.duration

    def fraction_in_bursts(self, counts):
        """Fraction of each neuron's spikes that belong to a burst (NaN if silent)."""
        in_bursts = np.bincount(self.neuron, weights=self.n_spikes, minlength=self.N)
        with np.errstate(invalid="ignore", divide="ignore"):
            return in_bursts / np.asarray(counts)

    def __len__(self):
        return self.neuron.size

    def __repr__(self):
        return (
            f"Bursts(n_bursts={len(self)}, N={self.N}, max_isi={self.max_isi:g} s, "
            f"min_spikes={self.min_spikes})"
        )


def detect_bursts(spikes, max_isi, *, min_spikes=3, N=None, t_start=None, t_stop=None):
    """Bursts by the ISI-threshold (max-interval) rule.

    A burst is a maximal run of at least ``min_spikes`` spikes of one neuron whose
    consecutive ISIs are all ``<= max_isi`` (the simplest of the methods compared by
    Cotterill et al. 2016, J. Neurophysiol. 116:306; e.g. Chiappalone et al. 2005,
    Brain Res. 1093:41). Runs never cross neurons.

    Returns
    -------
    Bursts
    """
    max_isi = _positive_seconds(max_isi, "max_isi")
    if min_spikes < 2:
        raise ValueError(f"min_spikes must be >= 2, got {min_spikes}")
    st = _spikes(spikes, N, t_start, t_stop)
    n = st.times.size
    link = np.zeros(max(n - 1, 0), dtype=bool)
    if n > 1:
        link = np.diff(st.times) <= max_isi
        boundary = st.indptr[1:-1] - 1
        boundary = boundary[(boundary >= 0) & (boundary < n - 1)]
        link[boundary] = False
    padded = np.concatenate([[0], link.astype(np.int8), [0]])
    change = np.diff(padded)
    run_start = np.flatnonzero(change == 1)  # first spike of the run
    run_stop = np.flatnonzero(change == -1)  # last spike of the run
    n_spikes = run_stop - run_start + 1
    keep = n_spikes >= min_spikes
    run_start, run_stop, n_spikes = run_start[keep], run_stop[keep], n_spikes[keep]
    owner = st.indices
    return Bursts(
        neuron=owner[run_start] if n else np.zeros(0, dtype=np.int64),
        start=st.times[run_start],
        stop=st.times[run_stop],
        n_spikes=n_spikes,
        N=st.N,
        duration=st.duration,
        max_isi=max_isi,
        min_spikes=min_spikes,
    )


# ---------------------------------------------------------------------------------------
# one-call summary
# ---------------------------------------------------------------------------------------
@dataclass(repr=False)
class FiringSummary:
    """Per-neuron statistics and population figures from `firing_summary`."""

    rates: np.ndarray
    cv: np.ndarray
    cv2: np.ndarray
    lv: np.ndarray
    fano: np.ndarray
    population_rate: tuple
    chi: float
    burst_fraction: np.ndarray
    window: tuple
    figure: object = field(default=None)

    @property
    def n_excluded_isi(self):
        """Neurons with fewer than 3 spikes (NaN in cv, cv2, lv)."""
        return int(np.isnan(self.cv).sum())

    def table(self):
        """Population means (NaN-aware) of the per-neuron statistics, as a dict."""
        with np.errstate(invalid="ignore"):
            return {
                "N": self.rates.size,
                "mean rate (Hz)": float(np.mean(self.rates)),
                "mean CV": float(np.nanmean(self.cv)) if np.any(~np.isnan(self.cv)) else np.nan,
                "mean CV2": float(np.nanmean(self.cv2)) if np.any(~np.isnan(self.cv2)) else np.nan,
                "mean LV": float(np.nanmean(self.lv)) if np.any(~np.isnan(self.lv)) else np.nan,
                "mean Fano": float(np.nanmean(self.fano))
                if np.any(~np.isnan(self.fano))
                else np.nan,
                "chi": self.chi,
                "excluded (< 3 spikes)": self.n_excluded_isi,
            }

    def __repr__(self):
        items = ", ".join(
            f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
            for key, value in self.table().items()
        )
        return f"FiringSummary({items})"


def firing_summary(
    spikes,
    *,
    bin_size=0.005,
    fano_window=0.1,
    chi_tau=0.01,
    burst_max_isi=0.01,
    figure=True,
    N=None,
    t_start=None,
    t_stop=None,
):
    """All single-neuron statistics and population measures in one call, with a figure.

    Rates, CV, CV2, LV, per-train Fano factor (windows of ``fano_window``), the
    population rate (``bin_size`` histogram, Hz), Golomb chi of exponentially
    filtered trains (``chi_tau``), the fraction of spikes in bursts
    (``burst_max_isi``, 3 spikes) and, if ``figure``, a 4-panel figure (raster,
    population rate, rate and CV histograms; `neurosrnn.analysis.plotting.summary_figure`).

    Returns
    -------
    FiringSummary
    """
    st = _spikes(spikes, N, t_start, t_stop)
    fano_window_s = _positive_seconds(fano_window, "fano_window")
    fano = (
        fano_factor(st, fano_window_s)
        if st.duration >= 2 * fano_window_s
        else np.full(st.N, np.nan)
    )
    summary = FiringSummary(
        rates=firing_rates(st),
        cv=cv(st),
        cv2=cv2(st),
        lv=lv(st),
        fano=fano,
        population_rate=time_histogram(st, bin_size, output="rate"),
        chi=spike_synchrony_chi(st, chi_tau, dt=min(0.001, _positive_seconds(bin_size, "b"))),
        burst_fraction=detect_bursts(st, burst_max_isi).fraction_in_bursts(st.counts),
        window=(st.t_start, st.t_stop),
    )
    if figure:
        from .plotting import summary_figure

        summary.figure = summary_figure(st, summary=summary)
    return summary
