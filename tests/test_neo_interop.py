"""Round trips between neurosrnn spike data and neo SpikeTrains."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from neurosrnn.analysis import SpikeTrains, as_spike_trains, firing_summary, statistics
from neurosrnn.analysis.neo_interop import from_neo, to_neo

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_round_trip_index_time():
    i = np.array([2, 0, 1, 0, 2])
    t = np.array([0.5, 0.1, 0.2, 0.3, 0.05])
    trains = to_neo((i, t), N=4, t_start=0.0, t_stop=1.0, container="list")
    assert isinstance(trains, list) and len(trains) == 4 and trains[3].size == 0
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


def _random_spike_trains(seed=3, N=12, n=400, t_start=0.25, t_stop=1.75):
    """Spikes with full-precision random times, silent neurons and a window not at 0."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, N - 3, n)  # the last 3 neurons stay silent
    t = rng.uniform(t_start, t_stop, n)
    return SpikeTrains(i, t, N, "net", t_start=t_start, t_stop=t_stop)


def _assert_identical(back, spikes):
    assert isinstance(back, SpikeTrains)
    assert back == spikes  # N, window and every spike
    assert back.N == spikes.N and back.t_start == spikes.t_start and back.t_stop == spikes.t_stop
    # times to the bit (equality of floats), in both orders
    np.testing.assert_array_equal(back.t.view(np.uint64), spikes.t.view(np.uint64))
    np.testing.assert_array_equal(back.i, spikes.i)
    np.testing.assert_array_equal(back.times.view(np.uint64), spikes.times.view(np.uint64))


def test_segment_round_trip_is_exact():
    spikes = _random_spike_trains()
    segment = to_neo(spikes)
    assert isinstance(segment, neo.Segment)
    assert len(segment.spiketrains) == 12
    assert segment.annotations["neurosrnn_N"] == 12 and segment.name == "net"
    for k, train in enumerate(segment.spiketrains):
        assert train.annotations["neuron"] == k
        assert train.t_start == 0.25 * pq.s and train.t_stop == 1.75 * pq.s
        np.testing.assert_array_equal(train.magnitude, np.sort(spikes.t[spikes.i == k]))
    assert segment.spiketrains[-1].size == 0
    back = from_neo(segment)
    _assert_identical(back, spikes)
    # the analysis accepts the segment itself
    assert_allclose(statistics.firing_rates(segment), spikes.count() / 1.5)


def test_block_round_trip_is_exact_and_uses_the_annotations():
    spikes = _random_spike_trains(seed=4)
    block = to_neo(spikes, container="block", name="trial")
    assert isinstance(block, neo.Block) and len(block.segments) == 1
    assert block.segments[0].block is block and block.name == "trial"
    _assert_identical(from_neo(block), spikes)
    # neurons found by their annotation, not their position: reverse the trains
    original = block.segments[0]
    reversed_segment = neo.Segment(**original.annotations)
    reversed_segment.spiketrains.extend(list(original.spiketrains)[::-1])
    _assert_identical(from_neo(reversed_segment), spikes)
    # N from the annotation, so trailing silent neurons survive dropping their trains
    without_silent = neo.Segment(**original.annotations)
    without_silent.spiketrains.extend(list(original.spiketrains)[:-3])
    _assert_identical(from_neo(without_silent), spikes)
    summary = firing_summary(block)
    assert_allclose(summary.rates, spikes.count() / 1.5)
    assert summary.window == pytest.approx((0.25, 1.75))


def test_from_neo_block_of_several_segments_needs_a_choice():
    first, second = _random_spike_trains(seed=5), _random_spike_trains(seed=6)
    block = to_neo(first, container="block")
    block.segments.append(to_neo(second))
    with pytest.raises(ValueError, match="2 segments"):
        from_neo(block)
    _assert_identical(from_neo(block, segment=1), second)
    with pytest.raises(ValueError, match="segment must lie"):
        from_neo(block, segment=2)
    with pytest.raises(ValueError, match="container"):
        to_neo(first, container="dict")


def test_from_neo_foreign_segment_without_annotations():
    segment = neo.Segment()
    segment.spiketrains.extend(
        [
            neo.SpikeTrain([30, 10], units="ms", t_start=0, t_stop=50),  # unsorted
            neo.SpikeTrain([0.02], units="s", t_start=0, t_stop=0.05),
        ]
    )
    st = from_neo(segment)
    assert st.N == 2 and st.t_stop == pytest.approx(0.05)
    assert_allclose(st.train(0), [0.01, 0.03])
    np.testing.assert_array_equal(st.i, [0, 1, 0])
    duplicated = [neo.SpikeTrain([0.1], units="s", t_stop=1, neuron=0) for _ in range(2)]
    with pytest.raises(ValueError, match="distinct"):
        from_neo(duplicated)


def test_neo_segment_feeds_as_spike_trains_with_a_window():
    spikes = _random_spike_trains(seed=7)
    part = as_spike_trains(to_neo(spikes), t_start=0.5, t_stop=1.0)
    keep = (spikes.t >= 0.5) & (spikes.t < 1.0)
    np.testing.assert_array_equal(part.t, spikes.t[keep])
    np.testing.assert_array_equal(part.i, spikes.i[keep])
