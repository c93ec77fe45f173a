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
    "rate_bin_edges",
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


#: Colours of the populations in a raster: E, I, then matplotlib's cycle.
_POPULATION_COLORS = ("tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple")


def _population_masks(populations, N):
    """``[(label, mask over neurons)]`` from an E/I split or a label -> indices mapping."""
    if isinstance(populations, int | np.integer):
        split = int(populations)
        if not 0 <= split <= N:
            raise ValueError(f"populations (N_excitatory) must lie in [0, N={N}], got {split}")
        index = np.arange(N)
        return [("E", index < split), ("I", index >= split)]
    masks = []
    for label, members in dict(populations).items():
        mask = np.zeros(N, dtype=bool)
        members = np.asarray(members, dtype=np.int64)
        if members.size and (members.min() < 0 or members.max() >= N):
            raise ValueError(f"population {label!r} names neurons outside 0 .. {N - 1}")
        mask[members] = True
        masks.append((str(label), mask))
    return masks


def _population_rows(masks, shown):
    """``[(label, row of each neuron or -1)]``: the first neurons of every population.

    Each population gets a share of the `shown` rows in proportion to its size (at
    least one row for a non-empty population while rows remain); rows run through the
    populations in order. With every neuron shown, rows are the neuron indices.
    """
    N = masks[0][1].size if masks else 0
    rows = []
    if shown >= N:
        for label, mask in masks:
            row_of = np.where(mask, np.arange(N), -1)
            rows.append((label, row_of))
        return rows
    sizes = np.array([mask.sum() for _, mask in masks])
    shares = np.minimum(sizes, np.maximum(np.round(shown * sizes / max(N, 1)), sizes > 0))
    shares = shares.astype(int)
    while shares.sum() > shown:  # rounding up small populations may overshoot
        shares[np.argmax(shares)] -= 1
    first = 0
    for (label, mask), share in zip(masks, shares, strict=True):
        row_of = np.full(N, -1, dtype=np.int64)
        members = np.flatnonzero(mask)[:share]
        row_of[members] = first + np.arange(members.size)
        first += members.size
        rows.append((label, row_of))
    return rows


def raster(
    spikes,
    *,
    ax=None,
    max_neurons=None,
    marker_size=2.0,
    color="k",
    populations=None,
    **window,
):
    """Raster plot: one dot per spike, neuron index against time (seconds).

    When only some neurons are drawn, the title says so (``showing n of N neurons``).

    Parameters
    ----------
    max_neurons : int, optional
        Draw only neurons ``0 .. max_neurons - 1`` (large networks).
    color : color
        Colour of the dots when `populations` is None.
    populations : int or dict, optional
        Colour populations apart, with a legend: an int is the number of excitatory
        neurons (``0 .. n - 1`` are E in blue, the rest I in red); a dict maps a label
        to the indices of its neurons. With `max_neurons`, each population shows its
        first neurons, in proportion to its size, one block of rows after the other.
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
    >>> ax = raster(([0, 3, 5], [0.1, 0.2, 0.3]), N=10, t_stop=1.0, max_neurons=4, populations=2)
    >>> ax.get_title(), [text.get_text() for text in ax.get_legend().get_texts()]
    ('showing 4 of 10 neurons', ['E', 'I'])
    >>> plt.close("all")
    """
    st = as_spike_trains(spikes, **window)
    ax = _axes(ax)
    shown = st.N if max_neurons is None else min(int(max_neurons), st.N)
    if populations is None:
        keep = st.indices < shown
        ax.scatter(st.times[keep], st.indices[keep], s=marker_size, c=color, marker=".",
                   linewidths=0)  # fmt: skip
        ax.set_ylabel("neuron")
    else:
        rows = _population_rows(_population_masks(populations, st.N), shown)
        for k, (label, row_of) in enumerate(rows):
            mine = row_of[st.indices] >= 0
            colour = _POPULATION_COLORS[k % len(_POPULATION_COLORS)]
            ax.scatter(st.times[mine], row_of[st.indices[mine]], s=marker_size, marker=".",
                       linewidths=0, color=colour, label=label)  # fmt: skip
        ax.legend(loc="upper right", markerscale=4, fontsize="small")
        ax.set_ylabel("neuron" if shown == st.N else "neuron (first of each population)")
    if shown < st.N:
        ax.set_title(f"showing {shown} of {st.N} neurons", fontsize="small")
    ax.set_xlim(st.t_start, st.t_stop)
    ax.set_ylim(-0.5, shown - 0.5)
    ax.set_xlabel("time (s)")
    return ax


def rate_bin_edges(rates, duration, *, max_bins=30):
    """Histogram edges for firing rates measured over `duration`: whole spike counts per bin.

    A rate measured over ``T`` is a spike count over ``T``, so it only takes the values
    ``k / T``. Equal-width bins that ignore this hold 0, 1 or 2 of those values and
    draw gaps and spikes that are not in the data. These edges lie half-way between
    the possible values, ``(k - 1/2) / T``, and every bin holds the same whole number
    ``w`` of them (``w = 1`` when the counts span at most `max_bins` values).

    Parameters
    ----------
    rates : array
        Rates in Hz (NaN ignored).
    duration : float
        Measurement window ``T`` in seconds (> 0).
    max_bins : int
        Most bins.

    Returns
    -------
    numpy.ndarray
        Edges in Hz.

    Examples
    --------
    >>> rate_bin_edges([0.0, 2.0, 4.0, 4.0], 0.5)  # counts 0, 1, 2: one bin each
    array([-1.,  1.,  3.,  5.])
    """
    T = float(duration)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"duration must be a finite time > 0 in seconds, got {duration!r}")
    rates = np.asarray(rates, dtype=np.float64)
    counts = np.round(rates[np.isfinite(rates)] * T)
    if counts.size == 0:
        return np.array([-0.5, 0.5]) / T
    low, high = int(counts.min()), int(counts.max())
    width = max(1, int(np.ceil((high - low + 1) / max_bins)))
    n_bins = int(np.ceil((high - low + 1) / width))
    return (low - 0.5 + width * np.arange(n_bins + 1)) / T


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


def summary_figure(spikes, *, summary=None, max_neurons=200, populations=None, **window):
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
        Neurons shown in the raster (its title says how many of N).
    populations : int or dict, optional
        Colour the raster's populations apart (see `raster`; an int is the number of
        excitatory neurons).

    The rate histogram's bins hold whole spike counts (`rate_bin_edges`), so the
    quantisation of rates to ``k / T`` draws no gaps.

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
    raster(st, ax=axes[0, 0], max_neurons=max_neurons, populations=populations)
    axes[0, 1].stairs(rate, edges, fill=True, color="0.4")
    axes[0, 1].set_xlabel("time (s)")
    axes[0, 1].set_ylabel("population rate (Hz)")
    statistic_histogram(
        rates, ax=axes[1, 0], label="firing rate (Hz)", bins=rate_bin_edges(rates, st.duration)
    )
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
