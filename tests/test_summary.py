"""firing_summary: numbers by default, a figure only when asked."""

import numpy as np
from numpy.testing import assert_allclose

from neurosrnn.analysis import plotting, summary


def _trains():
    rng = np.random.default_rng(7)
    trains = [np.sort(rng.uniform(0, 2, rng.integers(0, 40))) for _ in range(20)]
    trains[0] = np.array([0.5])
    return trains


def test_firing_summary_and_figure():
    import matplotlib.pyplot as plt

    trains = _trains()
    result = summary.firing_summary(trains, t_stop=2.0, figure=True)
    assert_allclose(result.rates, [len(t) / 2.0 for t in trains])
    assert result.n_excluded_isi == sum(len(t) < 3 for t in trains)
    assert len(result.figure.axes) == 4
    assert "FiringSummary" in repr(result)
    plt.close("all")


def test_firing_summary_draws_nothing_by_default():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    result = summary.firing_summary(_trains(), t_stop=2.0)
    assert result.figure is None
    assert plt.get_fignums() == before


def test_summary_figure_takes_a_firing_summary():
    import matplotlib.pyplot as plt

    result = summary.firing_summary(_trains(), t_stop=2.0)
    figure = plotting.summary_figure(result)
    assert len(figure.axes) == 4
    assert result.figure is None
    plt.close("all")
