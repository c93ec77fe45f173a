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
