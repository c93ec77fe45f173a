"""Burst detection by the ISI-threshold rule, against a brute-force run finder."""

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.analysis import bursts as bursts_module


def test_detect_bursts_brute_force():
    rng = np.random.default_rng(6)
    trains = [np.sort(rng.uniform(0, 5, 120)) for _ in range(4)]
    bursts = bursts_module.detect_bursts(trains, 0.02, min_spikes=3, t_stop=5.0)
    expected = []
    for k, train in enumerate(trains):
        run = [train[0]]
        for previous, current in zip(train[:-1], train[1:], strict=True):
            if current - previous <= 0.02:
                run.append(current)
            else:
                if len(run) >= 3:
                    expected.append((k, run[0], run[-1], len(run)))
                run = [current]
        if len(run) >= 3:
            expected.append((k, run[0], run[-1], len(run)))
    assert len(bursts) == len(expected) > 0
    assert_array_equal(bursts.neuron, [e[0] for e in expected])
    assert_allclose(bursts.start, [e[1] for e in expected])
    assert_allclose(bursts.stop, [e[2] for e in expected])
    assert_array_equal(bursts.n_spikes, [e[3] for e in expected])
