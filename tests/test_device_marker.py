"""The ``devices`` marker of conftest.py: one test body, run on each Brian2 device."""

import brian2
import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, ms

_DEVICE_CLASSES = {"runtime": "RuntimeDevice", "cpp_standalone": "CPPStandaloneDevice"}


@pytest.mark.devices("runtime", "cpp_standalone")
def test_devices_marker_runs_the_body_on_each_device(device, tmp_path):
    # dv/dt = (2 - v)/tau from 0, threshold 1, reset 0: period tau ln 2 = 6.93 ms, and
    # spikes land on the 0.1 ms grid, so each interval is within one step of it.
    group = NeuronGroup(
        1, "dv/dt = (2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact"
    )
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(50 * ms, namespace={})
    assert brian2.get_device().__class__.__name__ == _DEVICE_CLASSES[device]
    if device == "cpp_standalone":
        assert brian2.get_device().has_been_run
        assert (tmp_path / "cpp_standalone" / "main.cpp").is_file()
    isi = np.diff(np.asarray(monitor.t / ms))
    assert len(isi) == 6
    np.testing.assert_allclose(isi, 10 * np.log(2), atol=0.1 + 1e-9)


def test_device_fixture_without_marker_is_the_runtime_device(device):
    assert device == "runtime"
    assert brian2.get_device().__class__.__name__ == "RuntimeDevice"
