"""Round trips between neurosrnn spike data and neo SpikeTrains."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from neurosrnn.analysis import statistics
from neurosrnn.analysis.neo_interop import from_neo, to_neo

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_round_trip_index_time():
    i = np.array([2, 0, 1, 0, 2])
    t = np.array([0.5, 0.1, 0.2, 0.3, 0.05])
    trains = to_neo((i, t), N=4, t_start=0.0, t_stop=1.0)
    assert len(trains) == 4 and trains[3].size == 0
    assert all(train.t_stop == 1.0 * pq.s for train in trains)
    assert_allclose(trains[0].magnitude, [0.1, 0.3])
    assert trains[2].annotations["neuron"] == 2
    back = from_neo(trains)
    assert back.N == 4 and back.t_stop == 1.0
    assert_allclose(back.train(2), [0.05, 0.5])


def test_from_neo_rescales_units_and_feeds_statistics():
    trains = [
        neo.SpikeTrain([10, 30, 70, 90], units="ms", t_start=0, t_stop=100),
        neo.SpikeTrain([0.02, 0.05], units="s", t_start=0, t_stop=0.1),
    ]
    st = from_neo(trains)
    assert_allclose(st.train(0), [0.01, 0.03, 0.07, 0.09])
    assert_allclose(statistics.firing_rates(st), [40.0, 20.0])
    assert_allclose(statistics.firing_rates(trains[0:1]), [40.0])  # quantities accepted directly


def test_from_neo_rejects_other_objects():
    with pytest.raises(ValueError, match="not a neo.SpikeTrain"):
        from_neo([np.array([0.1])])
    with pytest.raises(ValueError, match="empty"):
        from_neo([])
