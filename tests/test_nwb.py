"""NWB export: exact round trips of spikes, windows, unit metadata and model parameters."""

import datetime
import os

import numpy as np
import pytest
from brian2 import Hz, ms, mV
from numpy.testing import assert_array_equal

from neurosrnn.analysis import SpikeTrains, firing_rates

pynwb = pytest.importorskip("pynwb")
from neurosrnn.nwb import read_nwb, write_nwb  # noqa: E402

START = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=datetime.UTC)


def _spikes(seed=0, N=15, n=600, t_start=0.2, t_stop=2.2):
    """Full-precision random times, three silent neurons, a window not starting at 0."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, N - 3, n)
    t = rng.uniform(t_start, t_stop, n)
    return SpikeTrains(i, t, N, "net", t_start=t_start, t_stop=t_stop)


def test_round_trip_is_exact(tmp_path):
    spikes = _spikes()
    N = spikes.N
    population = np.array(["E"] * 12 + ["I"] * 3)
    tau_m = np.linspace(5, 20, N) * ms
    parameters = {
        "J0": 20 * mV,
        "g": 6.0,
        "K": 100,
        "rate": 3.5 * Hz,
        "model": "lif_delta",
        "plastic": False,
        "delays": [1.5, 2.0] * ms,
    }
    path = write_nwb(
        tmp_path / "run.nwb",
        spikes,
        session_description="balanced network",
        identifier="run-1",
        session_start_time=START,
        unit_metadata={
            "population": population,
            "excitatory": population == "E",
            "tau_m": tau_m,
            "layer": np.arange(N) % 3,
        },  # fmt: skip
        model_parameters=parameters,
    )
    assert os.listdir(tmp_path) == ["run.nwb"]
    contents = read_nwb(path)
    back = contents.spike_trains
    assert back == spikes
    assert (back.N, back.t_start, back.t_stop) == (N, 0.2, 2.2)
    assert back.counts[-3:].sum() == 0  # silent neurons are units too
    assert_array_equal(back.t.view(np.uint64), spikes.t.view(np.uint64))  # to the bit
    assert_array_equal(back.i, spikes.i)
    assert_array_equal(contents.unit_metadata["population"], population)
    assert_array_equal(contents.unit_metadata["excitatory"], population == "E")
    assert_array_equal(contents.unit_metadata["layer"], np.arange(N) % 3)
    assert_array_equal(contents.unit_metadata["tau_m"] / ms, tau_m / ms)
    assert contents.model_parameters["J0"] == 20 * mV
    assert contents.model_parameters["rate"] == 3.5 * Hz
    assert contents.model_parameters["g"] == 6.0 and contents.model_parameters["K"] == 100
    assert contents.model_parameters["model"] == "lif_delta"
    assert contents.model_parameters["plastic"] is False
    assert_array_equal(contents.model_parameters["delays"] / ms, [1.5, 2.0])
    assert contents.identifier == "run-1" and contents.session_start_time == START
    assert contents.session_description == "balanced network"


def test_file_is_standard_nwb_read_by_pynwb(tmp_path):
    """An independent reader (pynwb itself) sees the units and their windows."""
    spikes = _spikes(seed=1)
    path = write_nwb(tmp_path / "x.nwb", spikes, session_description="s", session_start_time=START,
                     model_parameters={"tau": 10 * ms})  # fmt: skip
    with pynwb.NWBHDF5IO(path, "r") as reader:
        nwbfile = reader.read()
        units = nwbfile.units
        assert len(units) == spikes.N
        for k in range(spikes.N):
            assert_array_equal(units.get_unit_spike_times(k), np.sort(spikes.t[spikes.i == k]))
            assert_array_equal(units.get_unit_obs_intervals(k), [[0.2, 2.2]])
        table = nwbfile.processing["neurosrnn"]["model_parameters"]
        assert list(table["parameter"][:]) == ["tau"]
        assert list(table["unit"][:]) == ["s"] and list(table["value"][:]) == ["0.01"]
    # the measures run on what comes back
    rates = firing_rates(read_nwb(path).spike_trains)
    assert_array_equal(rates, spikes.counts / 2.0)


def test_refuses_to_overwrite_and_checks_before_writing(tmp_path):
    spikes = _spikes(seed=2)
    path = tmp_path / "run.nwb"
    write_nwb(path, spikes, session_description="first", session_start_time=START)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_nwb(path, spikes, session_description="second", session_start_time=START)
    bad = [
        ({"unit_metadata": {"population": ["E"] * 3}}, ValueError, "one value per neuron"),
        ({"unit_metadata": {"spike_times": np.zeros(15)}}, ValueError, "spike_times"),
        ({"model_parameters": {"x": object()}}, TypeError, "model_parameters"),
        ({"session_start_time": datetime.datetime(2024, 1, 1)}, ValueError, "timezone"),
        ({"session_description": ""}, ValueError, "session_description"),
    ]
    for kwargs, error, message in bad:
        arguments = {"session_description": "x", "session_start_time": START, **kwargs}
        with pytest.raises(error, match=message):
            write_nwb(path, spikes, overwrite=True, **arguments)
    assert path.read_bytes() == before  # nothing replaced, nothing half-written
    assert os.listdir(tmp_path) == ["run.nwb"]
    write_nwb(path, _spikes(seed=3), session_description="new", session_start_time=START,
              overwrite=True)  # fmt: skip
    assert read_nwb(path).spike_trains == _spikes(seed=3)
    with pytest.raises(ValueError, match="no known end"):
        write_nwb(tmp_path / "open.nwb", SpikeTrains([0], [0.1], 2), session_description="x")
    with pytest.raises(FileNotFoundError, match="no NWB file"):
        read_nwb(tmp_path / "missing.nwb")
