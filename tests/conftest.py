"""Shared pytest set-up: Brian2 on the numpy target, device reset after each test."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _brian2_clean_state():
    """Run every test on a fresh runtime device with the numpy target.

    Brian2 device state is global: a test that switches to a standalone device and
    fails would otherwise leak it into the next test (../shared/reference/brian2.md).
    """
    import brian2
    from brian2.devices.device import reinit_and_delete, reset_device

    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms
    reset_device("runtime")
    yield
    reinit_and_delete()
    reset_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms
