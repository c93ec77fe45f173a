"""One-call firing summary: per-neuron statistics and population measures as numbers.

`firing_summary` computes; it draws only when asked (``figure=True``), through
`neurosrnn.analysis.plotting.summary_figure`, which also takes a `FiringSummary`
directly. Layers inside the package: the measures < `plotting` < `summary` (plotting
never imports this module). Spike input and windows follow the conventions of
`neurosrnn.analysis.statistics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosrnn.units import to_seconds

from ._spikes import SpikeTrains, as_spike_trains
from .bursts import detect_bursts
from .plotting import SUMMARY_BIN_SIZE, SUMMARY_CHI_TAU, summary_figure
from .statistics import cv, cv2, fano_factor, firing_rates, lv, time_histogram
from .synchrony import spike_synchrony_chi

__all__ = ["FiringSummary", "firing_summary"]


def _nan_mean(values):
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else np.nan


@dataclass(repr=False)
class FiringSummary:
    """Per-neuron statistics and population figures from `firing_summary`.

    Attributes
    ----------
    rates, cv, cv2, lv, fano, burst_fraction : ndarray, shape (N,)
        Per-neuron rate (Hz), ISI CV, CV2, LV, per-train Fano factor and fraction of
        spikes in bursts (NaN where a neuron has too few spikes).
    population_rate : tuple
        ``(edges, rate)`` of the population histogram (seconds, Hz).
    chi : float
        Golomb synchrony of the exponentially filtered trains.
    window : tuple
        ``(t_start, t_stop)`` in seconds.
    figure : matplotlib.figure.Figure or None
        Only with ``firing_summary(..., figure=True)``.
    spike_trains : SpikeTrains or None
        The normalised spikes the numbers were computed from (for the raster of
        `neurosrnn.analysis.plotting.summary_figure`).

    Examples
    --------
    >>> summary = firing_summary([[0.1, 0.3, 0.6, 0.8], [0.2, 0.5]], t_stop=1.0)
    >>> summary.rates
    array([4., 2.])
    >>> summary.n_excluded_isi
    1
    """

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
    spike_trains: SpikeTrains | None = field(default=None)

    @property
    def n_excluded_isi(self):
        """Neurons with fewer than 3 spikes (NaN in cv, cv2, lv)."""
        return int(np.isnan(self.cv).sum())

    def table(self):
        """Population means (NaN-aware) of the per-neuron statistics, as a dict.

        Examples
        --------
        >>> summary = firing_summary([[0.1, 0.3, 0.6, 0.8], [0.2, 0.5]], t_stop=1.0)
        >>> summary.table()["mean rate (Hz)"], summary.table()["excluded (< 3 spikes)"]
        (3.0, 1)
        """
        with np.errstate(invalid="ignore"):
            return {
                "N": self.rates.size,
                "mean rate (Hz)": float(np.mean(self.rates)),
                "mean CV": _nan_mean(self.cv),
                "mean CV2": _nan_mean(self.cv2),
                "mean LV": _nan_mean(self.lv),
                "mean Fano": _nan_mean(self.fano),
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
    bin_size=SUMMARY_BIN_SIZE,
    fano_window=0.1,
    chi_tau=SUMMARY_CHI_TAU,
    burst_max_isi=0.01,
    figure=False,
    N=None,
    t_start=None,
    t_stop=None,
):
    """All single-neuron statistics and population measures in one call.

    Rates, ISI CV, CV2 and LV (`neurosrnn.analysis.statistics`), the per-train Fano
    factor (windows of ``fano_window``), the population rate (``bin_size`` histogram,
    Hz), the Golomb chi of exponentially filtered trains (``chi_tau``; Golomb &
    Rinzel 1993, Phys. Rev. E 48:4810) and the fraction of spikes in bursts
    (``burst_max_isi``, 3 spikes). Returns numbers only; with ``figure=True`` it also
    draws the 4-panel figure of `neurosrnn.analysis.plotting.summary_figure` (raster,
    population rate, rate and CV histograms) into ``summary.figure``.

    Parameters
    ----------
    figure : bool
        Draw the summary figure (default False: no matplotlib figure is made).

    Returns
    -------
    FiringSummary

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> trains = [np.sort(rng.uniform(0, 2, 40)) for _ in range(5)]
    >>> summary = firing_summary(trains, t_stop=2.0)
    >>> summary.rates
    array([20., 20., 20., 20., 20.])
    >>> summary.figure is None
    True
    """
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    fano_window_s = to_seconds(fano_window, "fano_window", positive=True)
    bin_size_s = to_seconds(bin_size, "bin_size", positive=True)
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
        chi=spike_synchrony_chi(st, chi_tau, dt=min(0.001, bin_size_s)),
        burst_fraction=detect_bursts(st, burst_max_isi).fraction_in_bursts(st.counts),
        window=(st.t_start, st.t_stop),
        spike_trains=st,
    )
    if figure:
        summary.figure = summary_figure(summary)
    return summary
