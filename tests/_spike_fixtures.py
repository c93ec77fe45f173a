"""Spike trains shared by the tests of the analysis measures (imported, not collected)."""

import numpy as np

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
