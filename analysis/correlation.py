"""Pairwise correlation of spike trains: count correlations, correlograms, STTC.

- `spike_count_correlation`: Pearson correlation of binned counts (all pairs);
- `cross_correlograms`: binned cross-correlograms of many pairs, and
  `shift_predictor`, their trial-shuffled baseline;
- `spike_time_tiling_coefficient` / `sttc_matrix`: the rate-independent STTC.

Spike input, windows and binning follow the conventions of
`neurosrnn.analysis.statistics`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from neurosrnn.units import to_seconds
from neurosrnn.validation import int_array

from ._spikes import (
    SpikeTrains,
    as_spike_trains,
    bin_indices,
    count_bins,
    counting_sort,
    interval_arrays,
)

__all__ = [
    "spike_count_correlation",
    "cross_correlograms",
    "shift_predictor",
    "spike_time_tiling_coefficient",
    "sttc_matrix",
]


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

    Examples
    --------
    >>> trains = [[0.1, 0.6, 0.7], [0.15, 0.65, 0.8], [0.3]]
    >>> spike_count_correlation(trains, 0.25, t_stop=1.0).round(3)
    array([[ 1.   ,  0.522, -0.522],
           [ 0.522,  1.   , -1.   ],
           [-0.522, -1.   ,  1.   ]])
    """
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    n_bins = count_bins(st.duration, bin_size)
    bins = bin_indices(st, bin_size)
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
        _shared_bin_pairs(counting_sort(bins, owners, bin_pointer), bin_pointer, shared)
        product = np.empty((st.N, st.N))
        _covariance_to_correlation(shared, counts, float(n_bins), product)
        return product
    flat = owners * n_bins + bins
    dense = np.bincount(flat, minlength=st.N * n_bins).reshape(st.N, n_bins).astype(np.float64)
    product = np.triu(dense @ dense.T)
    _covariance_to_correlation(product, counts, float(n_bins), product)
    return product


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
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (n_pairs, 2), got {pairs.shape}")
    pairs = int_array(pairs, "pairs", ndim=2)
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

    Examples
    --------
    >>> from brian2 import ms
    >>> trains = [[0.1, 0.5], [0.12, 0.52]]
    >>> lags, ccg, pairs = cross_correlograms(trains, 10 * ms, 30 * ms, t_stop=1.0)
    >>> lags.round(3)
    array([-0.03, -0.02, -0.01,  0.  ,  0.01,  0.02,  0.03])
    >>> ccg
    array([[0, 0, 0, 0, 0, 2, 0]], dtype=int32)
    >>> pairs
    array([[0, 1]])
    """
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    max_lag = to_seconds(max_lag, "max_lag", nonnegative=True)
    if bin_size > max_lag:
        raise ValueError(
            f"bin_size ({bin_size} s) must not exceed max_lag ({max_lag} s): the correlogram "
            "would hold only the zero-lag bin"
        )
    if normalization not in ("counts", "per_spike", "rate"):
        raise ValueError(
            f"normalization must be 'counts', 'per_spike' or 'rate', got {normalization!r}"
        )
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    n_bins = count_bins(st.duration, bin_size)
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
    bins = bin_indices(st, bin_size)
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

    Examples
    --------
    >>> trials = [[[0.1], [0.12]], [[0.11], [0.13]]]
    >>> lags, predictor, pairs = shift_predictor(trials, 0.01, 0.03, t_stop=1.0)
    >>> predictor
    array([[0. , 0. , 0. , 0. , 0.5, 0. , 0.5]])
    """
    if len(trials) < 2:
        raise ValueError(f"trials must hold at least 2 trials, got {len(trials)}")
    normalised = [as_spike_trains(trial, N=N, t_start=t_start, t_stop=t_stop) for trial in trials]
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
    intervals, owner, _ = interval_arrays(st)
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

    Examples
    --------
    >>> trains = [[0.1, 0.5, 0.9], [0.102, 0.503, 0.9], [0.3]]
    >>> sttc_matrix(trains, 0.005, t_stop=1.0).round(3)
    array([[ 1.  ,  1.  , -0.02],
           [ 1.  ,  1.  , -0.02],
           [-0.02, -0.02,  1.  ]])
    """
    dt = to_seconds(dt, "dt", positive=True)
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
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

    ``STTC = 1/2 [(P_A - T_B) / (1 - P_A T_B) + (P_B - T_A) / (1 - P_B T_A)]``
    (Cutts & Eglen 2014, J. Neurosci. 34:14288): 1 for identical trains, about 0 for
    independent ones whatever their rates.

    Returns
    -------
    float
        NaN if either train is empty.

    Examples
    --------
    >>> from brian2 import ms
    >>> value = spike_time_tiling_coefficient([0.5], [0.512], 5 * ms, t_start=0.0, t_stop=1.0)
    >>> round(value, 6)
    -0.01
    """
    return float(
        sttc_matrix([train_a, train_b], dt, pairs=[(0, 1)], t_start=t_start, t_stop=t_stop)[0]
    )
