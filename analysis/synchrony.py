"""Population synchrony: the Golomb-Rinzel measure chi of traces and of spike trains.

Spike input and windows follow the conventions of `neurosrnn.analysis.statistics`.
"""

from __future__ import annotations

import math

import numpy as np

from neurosrnn.units import to_seconds

from ._spikes import as_spike_trains, bin_indices, count_bins

__all__ = ["golomb_chi", "spike_synchrony_chi"]


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

    Examples
    --------
    >>> t = np.linspace(0, 1, 200)
    >>> golomb_chi(np.tile(np.sin(2 * np.pi * 5 * t), (4, 1)))
    1.0
    >>> rng = np.random.default_rng(0)
    >>> round(golomb_chi(rng.standard_normal((100, 5000))), 2)
    0.1
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

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> train = np.sort(rng.uniform(0, 5, 100))
    >>> round(spike_synchrony_chi([train] * 4, 0.01, t_stop=5.0), 6)
    1.0
    >>> independent = [np.sort(rng.uniform(0, 5, 100)) for _ in range(16)]
    >>> round(spike_synchrony_chi(independent, 0.01, t_stop=5.0), 2)
    0.24
    """
    from scipy.signal import lfilter

    tau = to_seconds(tau, "tau", positive=True)
    dt = to_seconds(dt, "dt", positive=True)
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    n_bins = count_bins(st.duration, dt, "dt")
    active = np.flatnonzero(st.counts > 0)
    if active.size == 0:
        return float("nan")
    decay = math.exp(-dt / tau)
    bins = bin_indices(st, dt)
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
