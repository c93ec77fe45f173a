"""Spike-train dissimilarities: van Rossum and Victor-Purpura distances of all pairs.

Both are metrics on spike trains with a time-scale parameter: the van Rossum filter
time constant ``tau`` and the Victor-Purpura shift cost ``q`` (about ``2/q`` is the
largest shift cheaper than deleting and inserting a spike). Spike input and windows
follow the conventions of `neurosrnn.analysis.statistics`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from neurosrnn.units import to_hertz, to_seconds

from ._spikes import as_spike_trains

__all__ = ["van_rossum_distances", "victor_purpura_distances"]


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

    Examples
    --------
    >>> from brian2 import ms
    >>> van_rossum_distances([[0.3], [], [0.3]], 10 * ms, t_stop=1.0)
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    >>> van_rossum_distances([[0.3], []], 0.01, normalization="paper", t_stop=1.0).round(4)
    array([[0.    , 0.7071],
           [0.7071, 0.    ]])
    """
    tau = to_seconds(tau, "tau", positive=True)
    if normalization not in ("elephant", "paper"):
        raise ValueError(f"normalization must be 'elephant' or 'paper', got {normalization!r}")
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
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


@numba.njit(cache=True, nogil=True)
def _victor_purpura_infinite_kernel(times, indptr, out):
    """q = inf: n_a + n_b - 2 #(exactly coincident spikes, each used once), any shift costs inf.

    Both trains are sorted, so the largest set of exact matches is found by one merge.
    """
    N = indptr.size - 1
    for i in range(N):
        for j in range(i + 1, N):
            a, a1, b, b1 = indptr[i], indptr[i + 1], indptr[j], indptr[j + 1]
            matches = 0
            while a < a1 and b < b1:
                if times[a] == times[b]:
                    matches += 1
                    a += 1
                    b += 1
                elif times[a] < times[b]:
                    a += 1
                else:
                    b += 1
            value = (indptr[i + 1] - indptr[i]) + (b1 - indptr[j]) - 2.0 * matches
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

    Examples
    --------
    >>> from brian2 import Hz
    >>> victor_purpura_distances([[0.1, 0.4, 0.7], [0.1, 0.5]], 10 * Hz, t_stop=1.0)
    array([[0., 2.],
           [2., 0.]])
    >>> victor_purpura_distances([[0.1, 0.4, 0.7], [0.1, 0.5]], 0.0, t_stop=1.0)
    array([[0., 1.],
           [1., 0.]])
    """
    q = to_hertz(q, "q", nonnegative=True, finite=False)
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    out = np.zeros((st.N, st.N))
    if np.isinf(q):
        # exact: a large finite q would still move spikes closer than 1/q for almost nothing
        _victor_purpura_infinite_kernel(st.times, st.indptr, out)
        return out
    _victor_purpura_kernel(st.times - st.t_start, st.indptr, q, out)
    return out
