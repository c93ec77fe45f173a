"""Plotting helpers draw the data they are given."""

import matplotlib.pyplot as plt
import numpy as np
from numpy.testing import assert_allclose

from neurosrnn.analysis import plotting


def test_raster_draws_every_spike():
    i = np.array([0, 1, 1, 2])
    t = np.array([0.1, 0.2, 0.3, 0.4])
    ax = plotting.raster((i, t), t_stop=1.0)
    offsets = ax.collections[0].get_offsets()
    assert_allclose(offsets[:, 0], [0.1, 0.2, 0.3, 0.4])
    assert_allclose(offsets[:, 1], [0, 1, 1, 2])
    plt.close("all")


def test_population_rate_plot_values():
    trains = [np.array([0.01, 0.02]), np.array([0.015])]
    ax = plotting.population_rate_plot(trains, bin_size=0.01, t_stop=0.03)
    values = ax.patches[0].get_data().values
    assert_allclose(values, [0.0, 100.0, 50.0])  # spikes / (N * bin), left-closed bins
    plt.close("all")


def test_histogram_counts_nan():
    ax = plotting.statistic_histogram([1.0, np.nan, 2.0, 2.5], label="CV")
    assert sum(patch.get_height() for patch in ax.patches) == 3
    assert "1 neurons excluded" in ax.get_title()
    plt.close("all")


def test_summary_and_timescale_figures():
    rng = np.random.default_rng(0)
    trains = [np.sort(rng.uniform(0, 1, 20)) for _ in range(5)]
    figure = plotting.summary_figure(trains, t_stop=1.0)
    assert len(figure.axes) == 4
    ax = plotting.timescale_scatter([0.01, 0.02, np.nan], [0.012, 0.03, 0.1])
    assert ax.collections[0].get_offsets().shape == (2, 2)
    plt.close("all")


# --- figures a scientist would show (issue 14) ----------------------------------------


def test_rate_histogram_bins_hold_whole_spike_counts():
    """Rates are counts / T; equal-width bins ignoring that drew empty bins between values."""
    rng = np.random.default_rng(2)
    T = 0.5
    counts = np.concatenate([np.arange(3, 41), rng.integers(3, 41, 300)])  # 38 values: width 2
    rates = counts / T
    edges = plotting.rate_bin_edges(rates, T)
    offsets = edges * T + 0.5  # in spike counts: whole numbers at every edge
    assert_allclose(offsets, np.round(offsets), atol=1e-9)
    widths = np.diff(np.round(offsets))
    assert np.all(widths == widths[0]) and widths[0] >= 1
    assert edges[0] < rates.min() and edges[-1] > rates.max()
    histogram, _ = np.histogram(rates, bins=edges)
    # every count between the extremes occurs, so no bin between them may be empty
    assert np.all(histogram > 0)
    # brute-force reference: the histogram of the integer counts, grouped `width` at a time
    width = int(widths[0])
    by_count = np.bincount(counts - counts.min(), minlength=width * histogram.size)
    assert_allclose(histogram, by_count.reshape(-1, width).sum(axis=1))


def test_summary_figure_uses_count_bins_for_rates():
    rng = np.random.default_rng(4)
    trains = [np.sort(rng.uniform(0, 1, rng.poisson(12))) for _ in range(300)]
    figure = plotting.summary_figure(trains, t_stop=1.0)
    heights = [patch.get_height() for patch in figure.axes[2].patches]
    lefts = np.array([patch.get_x() for patch in figure.axes[2].patches])
    assert_allclose(lefts + 0.5, np.round(lefts + 0.5), atol=1e-9)  # T = 1 s: k - 1/2
    assert sum(heights) == 300
    plt.close("all")


def test_raster_says_how_many_neurons_it_shows_and_colours_populations():
    i = np.array([0, 3, 5, 9])
    t = np.array([0.1, 0.2, 0.3, 0.4])
    ax = plotting.raster((i, t), N=10, t_stop=1.0, max_neurons=6, populations=4)
    assert ax.get_title() == "showing 6 of 10 neurons"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["E", "I"]
    excitatory, inhibitory = ax.collections
    # 6 rows shared 4:6 -> E neurons 0, 1 in rows 0, 1; I neurons 4..7 in rows 2..5
    assert_allclose(excitatory.get_offsets()[:, 1], [0])  # neuron 3 is not shown
    assert_allclose(inhibitory.get_offsets()[:, 1], [3])  # neuron 5; neuron 9 is not shown
    assert_allclose(inhibitory.get_offsets()[:, 0], [0.3])
    assert not np.allclose(excitatory.get_facecolor(), inhibitory.get_facecolor())
    full = plotting.raster((i, t), N=10, t_stop=1.0, populations={"A": [0, 9], "B": [3, 5]})
    assert full.get_title() == ""
    assert_allclose(full.collections[0].get_offsets()[:, 1], [0, 9])
    plt.close("all")


def test_lyapunov_labels_use_mathtext_not_a_literal_underscore():
    from neurosrnn.analysis.lyapunov_plots import plot_convergence, plot_spectrum

    ax = plot_spectrum(np.array([0.5, 0.0, -1.0]))
    assert "λ_i" not in ax.get_ylabel() and r"$\lambda_i$" in ax.get_ylabel()
    ax = plot_convergence(np.array([1.0, 2.0]), np.array([[0.5, -1.0], [0.4, -1.1]]), n_show=2)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [r"$\lambda_{1}$", r"$\lambda_{2}$"]
    plt.close("all")
