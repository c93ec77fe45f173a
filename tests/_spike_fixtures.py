"""Spike trains shared by the tests of the analysis measures (imported, not collected).

A test module gets the fixtures ``grid_trains`` and ``neo_trains`` with
``pytest_plugins = ["_spike_fixtures"]`` (importing fixtures by name would shadow them in
every test signature). The module holds no assertions, so pytest need not rewrite it:
PYTEST_DONT_REWRITE (it is imported before pytest loads it as a plugin).
"""

import numpy as np
import pytest

T_STOP = 4.0


def poisson_grid_trains():
    """10 Poisson-like trains on a 0.1 ms grid (like Brian2 output), rates 5-40 Hz.

    Times on a grid keep pairwise distances away from the STTC window edge, so
    Elephant's relative tolerance (1e-5 |t|) cannot change the result here.
    """
    rng = np.random.default_rng(12)
    trains = []
    for rate in np.linspace(5, 40, 10):
        steps = rng.choice(int(T_STOP * 1e4), size=rng.poisson(rate * T_STOP), replace=False)
        trains.append(np.sort(steps) * 1e-4)
    trains[3] = np.sort(np.concatenate([trains[3], trains[5][::2] + 2e-3]))  # correlated pair
    trains[3] = trains[3][trains[3] < T_STOP]
    return trains


def as_neo_trains(trains):
    """The same trains as neo SpikeTrains on ``[0, T_STOP)`` (needs neo)."""
    import neo

    return [neo.SpikeTrain(t, units="s", t_start=0, t_stop=T_STOP) for t in trains]


@pytest.fixture(scope="module")
def grid_trains():
    """`poisson_grid_trains`, built once per test module."""
    return poisson_grid_trains()


@pytest.fixture(scope="module")
def neo_trains(grid_trains):
    """`grid_trains` as neo SpikeTrains (needs neo)."""
    return as_neo_trains(grid_trains)
