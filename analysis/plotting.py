"""Plotting helpers for spike data, firing statistics and parameter heterogeneity.

All functions draw with matplotlib on given axes (or make a new figure) and return
the figure or axes; nothing is shown or saved. Spike input is any form accepted by
`neurosrnn.analysis._spikes.as_spike_trains`.
"""

from __future__ import annotations

import numpy as np

from ._spikes import as_spike_trains
from .statistics import cv, firing_rates, time_histogram
from .synchrony import spike_synchrony_chi

__all__ = [
    "raster",
    "population_rate_plot",
    "statistic_histogram",
    "summary_figure",
    "parameter_comparison_figure",
    "timescale_scatter",
]


#: Defaults of the summary measures, shared by `summary_figure` and
#: `neurosrnn.analysis.summary.firing_summary` so a figure drawn from raw spikes shows the
#: same numbers as the summary: population-rate bin and chi filter time constant (s).
SUMMARY_BIN_SIZE = 0.005
SUMMARY_CHI_TAU = 0.01


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def raster(spikes, *, ax=None, max_neurons=None, marker_size=2.0, color="k", **window):
    """Raster plot: one dot per spike, neuron index against time (seconds).

    Parameters
    ----------
    max_neurons : int, optional
        Draw only neurons ``0 .. max_neurons - 1`` (large networks).
    **window
        ``N``, ``t_start``, ``t_stop`` as for `as_spike_trains`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = raster(([0, 1, 1], [0.1, 0.2, 0.3]), t_stop=1.0)
    >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.collections[0].get_offsets())
    ('time (s)', 'neuron', 3)
    >>> plt.close("all")
    """
    st = as_spike_trains(spikes, **window)
    ax = _axes(ax)
    indices, times = st.indices, st.times
    if max_neurons is not None:
        keep = indices < max_neurons
        indices, times = indices[keep], times[keep]
    ax.scatter(times, indices, s=marker_size, c=color, marker=".", linewidths=0)
    ax.set_xlim(st.t_start, st.t_stop)
    ax.set_ylim(-0.5, (st.N if max_neurons is None else min(max_neurons, st.N)) - 0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    return ax


def population_rate_plot(spikes, *, bin_size=0.005, ax=None, **window):
    """Population rate histogram (Hz) against time; see `statistics.time_histogram`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = population_rate_plot([[0.01, 0.02], [0.015]], bin_size=0.01, t_stop=0.03)
    >>> ax.patches[0].get_data().values
    array([  0., 100.,  50.])
    >>> plt.close("all")
    """
    edges, rate = time_histogram(spikes, bin_size, output="rate", **window)
    ax = _axes(ax)
    ax.stairs(rate, edges, fill=True, color="0.4")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("population rate (Hz)")
    return ax


def statistic_histogram(values, *, ax=None, bins=30, label="", log=False, what="neurons"):
    """Histogram of a per-neuron (or per-pair: ``what="pairs"``) statistic, ignoring NaN.

    The number of NaN values left out is shown in the title.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = statistic_histogram([1.0, np.nan, 2.0, 2.5], label="CV")
    >>> ax.get_title()
    '1 neurons excluded (NaN)'
    >>> plt.close("all")
    """
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    ax = _axes(ax)
    if log:
        finite = finite[finite > 0]
        if finite.size:
            bins = np.geomspace(finite.min(), finite.max() * 1.0001, bins + 1)
        ax.set_xscale("log")
    ax.hist(finite, bins=bins, color="0.5", edgecolor="k", linewidth=0.3)
    excluded = values.size - finite.size
    ax.set_xlabel(label)
    ax.set_ylabel(what)
    if excluded:
        ax.set_title(f"{excluded} {what} excluded (NaN)", fontsize="small")
    return ax


def summary_figure(spikes, *, summary=None, max_neurons=200, **window):
    """Four panels: raster, population rate, rate histogram, CV histogram.

    Parameters
    ----------
    spikes : FiringSummary or spike input
        A `FiringSummary` (from `neurosrnn.analysis.summary.firing_summary`) is drawn as
        is; for any other spike input the four drawn measures are computed here with
        `firing_summary`'s defaults (population rate in 5 ms bins, ISI CV, rates, chi of
        trains filtered with 10 ms). Plotting sits above the measures and below
        `summary`, so it never imports `summary`.
    summary : FiringSummary, optional
        Statistics already computed for ``spikes`` (spike input only).
    max_neurons : int
        Neurons shown in the raster.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> trains = [np.sort(rng.uniform(0, 1, 20)) for _ in range(5)]
    >>> figure = summary_figure(trains, t_stop=1.0)
    >>> len(figure.axes)
    4
    >>> plt.close(figure)
    """
    import matplotlib.pyplot as plt

    if hasattr(spikes, "population_rate") and hasattr(spikes, "spike_trains"):
        summary = spikes  # a FiringSummary
        if summary.spike_trains is None:
            raise ValueError("the FiringSummary holds no spike_trains to draw the raster from")
        st = summary.spike_trains
    else:
        st = as_spike_trains(spikes, **window)
    if summary is not None:
        rates, cvs, chi = summary.rates, summary.cv, summary.chi
        edges, rate = summary.population_rate
    else:
        rates, cvs = firing_rates(st), cv(st)
        chi = spike_synchrony_chi(st, SUMMARY_CHI_TAU, dt=min(0.001, SUMMARY_BIN_SIZE))
        edges, rate = time_histogram(st, SUMMARY_BIN_SIZE, output="rate")
    figure, axes = plt.subplots(2, 2, figsize=(10, 6), layout="constrained")
    raster(st, ax=axes[0, 0], max_neurons=max_neurons)
    axes[0, 1].stairs(rate, edges, fill=True, color="0.4")
    axes[0, 1].set_xlabel("time (s)")
    axes[0, 1].set_ylabel("population rate (Hz)")
    statistic_histogram(rates, ax=axes[1, 0], label="firing rate (Hz)")
    statistic_histogram(cvs, ax=axes[1, 1], label="CV of ISI")
    figure.suptitle(f"N = {st.N}, chi = {chi:.3f}")
    return figure


def parameter_comparison_figure(before, after, *, label="parameter", log=True, reference=None):
    """Histograms of a per-neuron parameter before and after (e.g. training), overlaid.

    Parameters
    ----------
    before, after : array
        Per-neuron values (units are stripped).
    log : bool
        Log-spaced bins (timescales).
    reference : array, optional
        A third distribution to overlay (e.g. experimental data).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> tau = rng.lognormal(np.log(0.02), 0.3, 200)
    >>> figure = parameter_comparison_figure(tau, 1.5 * tau, label="tau_m (s)")
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['before', 'after']
    >>> plt.close(figure)
    """
    import matplotlib.pyplot as plt

    sets = [("before", np.asarray(before, float)), ("after", np.asarray(after, float))]
    if reference is not None:
        sets.append(("reference", np.asarray(reference, float)))
    pooled = np.concatenate([values[np.isfinite(values)] for _, values in sets])
    if log:
        pooled = pooled[pooled > 0]
        bins = np.geomspace(pooled.min(), pooled.max() * 1.0001, 31)
    else:
        bins = np.linspace(pooled.min(), pooled.max(), 31)
    figure, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for name, values in sets:
        ax.hist(values, bins=bins, histtype="step", linewidth=1.5, label=name)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("neurons")
    ax.legend()
    return figure


def timescale_scatter(parameter_tau, activity_tau, *, ax=None, label="parameter tau (s)"):
    """Scatter of each neuron's activity timescale against its parameter tau (log-log).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = timescale_scatter([0.01, 0.02, np.nan], [0.012, 0.03, 0.1])
    >>> ax.collections[0].get_offsets().shape
    (2, 2)
    >>> plt.close("all")
    """
    parameter_tau = np.asarray(parameter_tau, dtype=np.float64)
    activity_tau = np.asarray(activity_tau, dtype=np.float64)
    ax = _axes(ax)
    ok = np.isfinite(parameter_tau) & np.isfinite(activity_tau)
    ax.scatter(parameter_tau[ok], activity_tau[ok], s=8, color="k")
    if ok.any():
        low = min(parameter_tau[ok].min(), activity_tau[ok].min())
        high = max(parameter_tau[ok].max(), activity_tau[ok].max())
        ax.plot([low, high], [low, high], color="0.6", linestyle="--", label="identity")
        ax.legend()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("activity timescale (s)")
    return ax
