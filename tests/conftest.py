"""Shared pytest set-up: Brian2 on the numpy target, device reset after each test.

Tests written once for several Brian2 devices
---------------------------------------------
A model test that takes the ``device`` fixture and carries the ``devices`` marker runs
once per device named in the marker (like Brian2's own ``standalone_compatible``
tests)::

    @pytest.mark.devices("runtime", "cpp_standalone")
    def test_period(device):
        group = theta().make_group(3, I_ext=[0.1, 0.3, 1.0])
        monitor = SpikeMonitor(group)
        Network(group, monitor).run(200 * ms, namespace={})
        ...  # assertions on monitor, as on the runtime device

On ``cpp_standalone`` the fixture activates the device through
`neurosrnn.devices.select_device` and lets Brian2 build, compile and run the project
at the (single) ``run`` call (``build_on_run``), in the test's own ``tmp_path`` (so
``pytest -n`` workers never share a build folder); afterwards
`neurosrnn.devices.reset_brian_state` restores the runtime device. The standalone
variants are marked ``slow`` and ``standalone``. Without the marker, the ``device``
fixture is the runtime device. A standalone test may call ``run`` only once.
"""

import gc

import matplotlib
import pytest

matplotlib.use("Agg")

#: Devices the ``devices`` marker accepts, with the marks of their test variants.
DEVICE_MARKS = {
    "runtime": (),
    "cpp_standalone": (pytest.mark.slow, pytest.mark.standalone),
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "devices(*names): run the test once per Brian2 device (runtime, cpp_standalone); "
        "the test takes the `device` fixture",
    )


def pytest_generate_tests(metafunc):
    """Parametrise the ``device`` fixture over the devices of the ``devices`` marker."""
    marker = metafunc.definition.get_closest_marker("devices")
    if marker is None:
        return
    names = marker.args
    if not names or any(name not in DEVICE_MARKS for name in names):
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: @pytest.mark.devices takes one or more of "
            f"{sorted(DEVICE_MARKS)}, got {names!r}"
        )
    if "device" not in metafunc.fixturenames:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: a test marked with @pytest.mark.devices must take "
            "the `device` fixture"
        )
    metafunc.parametrize(
        "device",
        [pytest.param(name, marks=DEVICE_MARKS[name], id=name) for name in names],
        indirect=True,
    )


@pytest.fixture
def device(request, tmp_path):
    """Name of the active Brian2 device: ``"runtime"`` or ``"cpp_standalone"``.

    For ``cpp_standalone`` the project is built into ``tmp_path / "cpp_standalone"`` at
    the first ``run``; the device is reset after the test.
    """
    name = getattr(request, "param", "runtime")
    if name == "runtime":
        yield name  # `_brian2_clean_state` has set the runtime device up
        return
    import brian2

    from neurosrnn.devices import reset_brian_state, select_device

    select_device(name, dt=brian2.defaultclock.dt)
    active = brian2.get_device()
    active.build_on_run = True
    active.build_options = {"directory": str(tmp_path / name), "with_output": False}
    try:
        yield name
    finally:
        reset_brian_state()


@pytest.fixture(scope="module", autouse=True)
def _frozen_heap():
    """Keep the per-test Brian2 reset below fast.

    That reset ends in a full `gc.collect`, which walks every object of the imported
    modules (about 0.2 s once brian2, JAX and matplotlib are loaded). The objects alive
    when a test module starts are moved out of the collector's sight (`gc.freeze`) and
    handed back at its end; objects the tests create are collected as usual.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


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


@pytest.fixture(scope="session", autouse=True)
def _private_cache_folder(tmp_path_factory):
    """Point the package's disk caches (phase tables) at a folder of this test session.

    Tests and the tutorials they execute (whose kernels inherit the environment) then
    never read or write the user's ``~/.cache``.
    """
    import os

    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
