"""Tests of neurosrnn.results: containers, atomic files, loading from any device."""

import json
import os

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, ms, mV, second, volt

from neurosrnn.results import (
    SimulationResults,
    SpikeTrains,
    StateRecording,
    load_results,
    load_standalone_results,
    write_json_atomic,
    write_npz_atomic,
)


def _random_spikes(seed=0, n=500, N=20):
    rng = np.random.default_rng(seed)
    return rng.integers(0, N, n), np.round(rng.uniform(0, 1, n), 4), N


def test_spike_trains_sort_by_time_then_index_and_count():
    i, t, N = _random_spikes()
    trains = SpikeTrains(i, t, N, "spikes")
    order = sorted(range(len(i)), key=lambda k: (t[k], i[k]))  # brute force
    np.testing.assert_array_equal(trains.i, i[order])
    np.testing.assert_array_equal(trains.t, t[order])
    np.testing.assert_array_equal(trains.count(), [np.sum(i == k) for k in range(N)])
    for k, times in enumerate(trains.trains()):
        np.testing.assert_array_equal(times, np.sort(t[i == k]))
    # Same spikes in another order (as brian2cuda may record them) compare equal.
    shuffled = np.random.default_rng(1).permutation(len(i))
    assert SpikeTrains(i[shuffled], t[shuffled], N) == trains
    assert "500 spikes from 20 neurons" in repr(trains)


def test_spike_trains_accept_quantities_and_reject_bad_input():
    trains = SpikeTrains([1, 0], [2, 1] * ms, 2)
    np.testing.assert_array_equal(trains.t, [0.001, 0.002])
    with pytest.raises(ValueError, match="equal length"):
        SpikeTrains([0, 1], [0.1], 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        SpikeTrains([0, 2], [0.1, 0.2], 2)


def test_state_recording_gives_quantities_and_checks_shapes():
    values = np.arange(6.0).reshape(2, 3) * 1e-3
    recording = StateRecording([0, 0.1, 0.2], [4, 7], {"v": values}, {"v": volt.dim})
    np.testing.assert_allclose(recording.v / mV, values * 1e3)
    with pytest.raises(AttributeError):
        recording.w  # noqa: B018
    with pytest.raises(ValueError, match="shape"):
        StateRecording([0, 0.1], [4, 7], {"v": values}, {"v": volt.dim})


def test_save_and_load_round_trip_is_exact_and_atomic(tmp_path):
    i, t, N = _random_spikes()
    values = np.random.default_rng(2).normal(size=(3, 5))
    results = SimulationResults(
        {"spikes": SpikeTrains(i, t, N, "spikes")},
        {"states": StateRecording(np.arange(5) * 1e-4, [0, 3, 9], {"v": values}, {"v": volt.dim})},
        {"device": {"device": "runtime"}, "note": "test"},
    )
    results.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["metadata.json", "spikes.npz", "states.npz"]
    loaded = load_results(tmp_path)
    assert loaded.spikes["spikes"] == results.spikes["spikes"]
    np.testing.assert_array_equal(loaded.states["states"].values["v"], values)
    np.testing.assert_array_equal(loaded.states["states"].record, [0, 3, 9])
    np.testing.assert_allclose(loaded.states["states"].v / volt, values)
    assert loaded.metadata["note"] == "test"
    # The documented plain format: spikes.npz holds i and t in seconds.
    with np.load(tmp_path / "spikes.npz") as arrays:
        np.testing.assert_array_equal(arrays["i"], results.i)
        np.testing.assert_array_equal(arrays["t"], results.t)
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["format"] == "neurosrnn-results"
    assert metadata["state_monitors"]["states"]["variables"]["v"]["unit"] == "V"


def test_atomic_writes_leave_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "data.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["data.json"]
    write_npz_atomic(tmp_path / "x.npz", {"x": np.arange(3)})
    with np.load(tmp_path / "x.npz") as arrays:
        np.testing.assert_array_equal(arrays["x"], [0, 1, 2])


def test_load_results_rejects_other_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="metadata.json"):
        load_results(tmp_path)
    write_json_atomic(tmp_path / "metadata.json", {"format": "other"})
    with pytest.raises(ValueError, match="not a neurosrnn results"):
        load_results(tmp_path)
    write_json_atomic(
        tmp_path / "metadata.json", {"format": "neurosrnn-results", "format_version": 99}
    )
    with pytest.raises(ValueError, match="format version 99"):
        load_results(tmp_path)
    with pytest.raises(FileNotFoundError, match="neurosrnn_manifest"):
        load_standalone_results(tmp_path)


def test_from_network_matches_the_monitors_on_runtime():
    group = NeuronGroup(
        5,
        "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (constant)",
        threshold="v > 1",
        reset="v = 0",
        method="exact",
        name="cells",
    )
    group.I = np.linspace(1.2, 2.0, 5)
    spikes = SpikeMonitor(group, name="cell_spikes")
    states = StateMonitor(group, "v", record=[1, 3], name="cell_states")
    network = Network(group, spikes, states)
    network.run(30 * ms, namespace={})
    results = SimulationResults.from_network(network, metadata={"device": "runtime"})
    trains = results.spike_trains
    assert len(trains) == spikes.num_spikes > 0
    np.testing.assert_array_equal(np.sort(trains.t), np.sort(spikes.t / second))
    recording = results.states["cell_states"]
    np.testing.assert_array_equal(recording.record, [1, 3])
    np.testing.assert_array_equal(recording.values["v"], states.v)
    np.testing.assert_array_equal(recording.t, states.t / second)
    # Independent check of the first spike: v(t) = I (1 - exp(-t/tau)) crosses 1.
    first = trains.t[trains.i == 4][0]
    expected = -10e-3 * np.log(1 - 1 / 2.0)
    assert expected - 1e-4 <= first <= expected + 1e-12


def test_spikes_npz_stores_every_spike_once_and_keeps_the_window(tmp_path):
    i, t, N = _random_spikes()
    one = SpikeTrains(i, t, N, "spikes", t_start=0.0, t_stop=1.5)
    SimulationResults({"spikes": one}).save(tmp_path / "one")
    with np.load(tmp_path / "one" / "spikes.npz") as arrays:
        assert sorted(arrays.files) == ["i", "t"]  # the documented plain layout, once
    loaded = load_results(tmp_path / "one").spike_trains
    assert loaded == one and loaded.t_stop == 1.5
    other = SpikeTrains(i[:7], t[:7], N, "other")  # no known end
    SimulationResults({"spikes": one, "other": other}).save(tmp_path / "two")
    with np.load(tmp_path / "two" / "spikes.npz") as arrays:
        assert sorted(arrays.files) == ["other.i", "other.t", "spikes.i", "spikes.t"]
    loaded = load_results(tmp_path / "two")
    assert loaded.spikes["spikes"] == one and loaded.spikes["other"] == other
    assert loaded.spikes["other"].t_stop is None


def test_load_results_reads_format_1_files(tmp_path):
    """Format 1 (written by the test, as version 1 wrote it): every spike twice."""
    i, t, N = _random_spikes(seed=3)
    order = np.lexsort((i, t))
    metadata = {
        "format": "neurosrnn-results",
        "format_version": 1,
        "spike_monitors": {"spikes": {"N": N, "n_spikes": int(i.size)}},
        "state_monitors": {},
        "duration_s": 1.0,
    }
    arrays = {"spikes.i": i[order], "spikes.t": t[order], "i": i[order], "t": t[order]}
    write_json_atomic(tmp_path / "metadata.json", metadata)
    write_npz_atomic(tmp_path / "spikes.npz", arrays)
    write_npz_atomic(tmp_path / "states.npz", {})
    loaded = load_results(tmp_path).spike_trains
    assert loaded == SpikeTrains(i, t, N, t_stop=1.0)  # the window from duration_s
    np.testing.assert_array_equal(loaded.i, i[order])
    np.testing.assert_array_equal(loaded.t, t[order])
    # a duration that does not hold every spike gives an unknown end, not an error
    metadata["duration_s"] = 0.5
    write_json_atomic(tmp_path / "metadata.json", metadata)
    assert load_results(tmp_path).spike_trains.t_stop is None
