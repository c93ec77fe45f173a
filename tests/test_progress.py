"""Tests of neurosrnn.progress: one progress convention (tqdm) for the whole package."""

import importlib
import inspect
import io

import numpy as np
import pytest
from tqdm import tqdm

from neurosrnn.progress import progress_bar, progress_enabled


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_automatic_mode_draws_only_on_a_terminal():
    assert progress_enabled(None, _Terminal()) is True
    assert progress_enabled(None, io.StringIO()) is False
    assert progress_enabled(True, io.StringIO()) is True
    assert progress_enabled(False, _Terminal()) is False


def test_forced_bar_has_the_house_format():
    stream = io.StringIO()
    with progress_bar(
        total=10, label="SparseProp", progress=True, unit="spikes", stream=stream
    ) as bar:
        bar.update(10)
    text = stream.getvalue()
    assert "SparseProp [" in text and "10/10 spikes" in text


def test_disabled_bar_writes_nothing():
    stream = io.StringIO()
    for _ in progress_bar(range(5), label="x", progress=False, stream=stream):
        pass
    assert stream.getvalue() == ""


@pytest.mark.parametrize("bad", [1, "yes", 0.5])
def test_progress_must_be_bool_or_none(bad):
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        progress_enabled(bad)


# --------------------------------------------------------------------------- the audit
# Every long-running public function of the package takes ``progress`` with the same
# convention (None by default: a bar only on an interactive terminal; True; False) and
# draws its bar through `neurosrnn.progress.progress_bar`. Each case below names the
# function and runs it on a tiny input.


def _sparseprop_network(model="lif"):
    from neurosrnn.sparseprop import balanced_network

    return balanced_network(60, 6, model=model, rate=5.0, seed=1)


def _tiny_brian2_build():
    from brian2 import Network, ms, mV

    from neurosrnn.models.lif import lif

    def build():
        group = lif().make_group(4, I_ext=[22.0, 24.0, 26.0, 28.0] * mV, tau_ref=0 * ms)
        return Network(group), group

    return build


def _toy_advance(state, n):
    """A deterministic engine for the checkpoint runner: one spike per time unit."""
    clock = float(state["clock"])
    times = clock + np.arange(1.0, n + 1.0)
    return np.zeros(n, dtype=np.int64), times, {"clock": np.array(clock + n)}


def _run_engine(progress, tmp_path):
    network = _sparseprop_network()
    network.run(network.initial_state(seed=1), n_spikes=300, progress=progress)


def _run_sparseprop_lyapunov(progress, tmp_path):
    from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum

    lyapunov_spectrum(
        _sparseprop_network("theta"),
        n_spikes=300,
        m=2,
        n_burn_in_spikes=60,
        n_transient_spikes=60,
        progress=progress,
    )


def _run_qr_lyapunov(progress, tmp_path):
    from neurosrnn.analysis.exponents import qr_lyapunov

    step = np.array([[2.0, -2.0], [2.0, 2.0]])
    qr_lyapunov(lambda q: step @ q, 2, 50, progress=progress)


def _run_map_spectrum(progress, tmp_path):
    from neurosrnn.analysis.lyapunov import map_spectrum

    a, b = 1.4, 0.3
    map_spectrum(
        lambda x: np.array([1 - a * x[0] ** 2 + x[1], b * x[0]]),
        [0.1, 0.1],
        50,
        jacobian=lambda x: np.array([[-2 * a * x[0], 1.0], [b, 0.0]]),
        progress=progress,
    )


def _run_flow_spectrum(progress, tmp_path):
    from neurosrnn.analysis.lyapunov import flow_spectrum

    A = np.array([[0.5, -1.0], [1.0, 0.5]])
    flow_spectrum(lambda x: A @ x, [1.0, 1.0], 0.5, 0.01, jacobian=lambda x: A, progress=progress)


def _run_rate_network_spectrum(progress, tmp_path):
    from neurosrnn.analysis.lyapunov import random_coupling_matrix, rate_network_spectrum

    J = random_coupling_matrix(10, 0.5, seed=1)
    rate_network_spectrum(J, n_steps=50, m=2, n_burn_in=0, n_transient=0, progress=progress)


def _run_two_trajectory_exponent(progress, tmp_path):
    from brian2 import ms

    from neurosrnn.perturbation import two_trajectory_exponent

    two_trajectory_exponent(
        _tiny_brian2_build(), "v", duration=4 * ms, interval=2 * ms, progress=progress
    )


def _run_finite_size_lyapunov(progress, tmp_path):
    from brian2 import ms

    from neurosrnn.perturbation import finite_size_lyapunov

    finite_size_lyapunov(
        _tiny_brian2_build(), "v", epsilons=[1e-6], interval=2 * ms, n_intervals=2,
        progress=progress,
    )  # fmt: skip


def _run_divergence_curve(progress, tmp_path):
    from brian2 import ms

    from neurosrnn.perturbation import divergence_curve

    divergence_curve(
        _tiny_brian2_build(), "v", perturbation=np.full(4, 1e-4), duration=4 * ms,
        sample_interval=2 * ms, progress=progress,
    )  # fmt: skip


def _run_extra_spike_experiment(progress, tmp_path):
    from brian2 import ms, mV

    from neurosrnn.perturbation import extra_spike_experiment

    extra_spike_experiment(
        _tiny_brian2_build(), "v", neuron=0, spike_value=30 * mV, duration=4 * ms,
        sample_interval=2 * ms, progress=progress,
    )  # fmt: skip


def _run_sparseprop_two_trajectory(progress, tmp_path):
    from neurosrnn.sparseprop.lyapunov import two_trajectory_exponent

    network = _sparseprop_network()
    two_trajectory_exponent(
        network, duration=20 * network.tau, interval=5 * network.tau, burn_in=0.0,
        transient=0.0, n_segments=2, progress=progress,
    )  # fmt: skip


def _run_with_checkpoints(progress, tmp_path):
    from neurosrnn.sweep.checkpoint import run_with_checkpoints

    run_with_checkpoints(
        _toy_advance, {"clock": np.array(0.0)}, directory=tmp_path / "toy", n_spikes=30,
        every=10, progress=progress,
    )  # fmt: skip


def _run_sparseprop_checkpointed(progress, tmp_path):
    from neurosrnn.sweep.checkpoint import sparseprop_checkpointed_run

    network = _sparseprop_network()
    sparseprop_checkpointed_run(
        network, network.initial_state(seed=1), directory=tmp_path / "sparseprop",
        n_spikes=200, every=100, progress=progress,
    )  # fmt: skip


def _run_sweep(progress, tmp_path):
    from brian2 import ms

    from neurosrnn.sweep import SparsePropRunner, grid_points, run_sweep

    runner = SparsePropRunner("lif", N=40, K=4, duration=20 * ms)
    points = grid_points({"J0": [0.5, 1.0]})
    run_sweep(runner, points, store=tmp_path / "store", scheduler="serial", progress=progress)


def _run_device_sweep(progress, tmp_path):
    from brian2 import Network, ms, mV

    from neurosrnn.devices import Simulation
    from neurosrnn.models.lif import lif

    def build():
        return Network(lif().make_group(3, I_ext=25 * mV))

    with Simulation(build, 2 * ms, device="runtime", target="numpy") as simulation:
        simulation.sweep([{"I_ext": 22 * mV}, {"I_ext": 30 * mV}], progress=progress)


def _run_train(progress, tmp_path):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    from neurosrnn.learning import srnn, train

    config = srnn.SRNNConfig(
        n_in=2, hidden=(3,), n_out=2, tau_m_init=(4.0, 1.0), tau_adp_init=(10.0, 3.0),
        tau_out_init=(3.0, 1.0),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 5, 2)), rng.integers(0, 2, 4)
    train.train(config, x, y, epochs=2, batch_size=4, progress=progress)


def _simulation_sweep():
    from neurosrnn.devices import Simulation

    return Simulation.sweep


def _engine_run():
    from neurosrnn.sparseprop.engine import SparsePropNetwork

    return SparsePropNetwork.run


def _function(module, name):
    return lambda: getattr(importlib.import_module(module), name)


#: (id, function getter, tiny run taking (progress, tmp_path), label of its bar)
LONG_RUNNING = [
    ("sparseprop-run", _engine_run, _run_engine, "SparseProp"),
    ("sparseprop-lyapunov", _function("neurosrnn.sparseprop.lyapunov", "lyapunov_spectrum"),
     _run_sparseprop_lyapunov, None),
    ("sparseprop-two-trajectory", _function("neurosrnn.sparseprop.lyapunov",
                                            "two_trajectory_exponent"),
     _run_sparseprop_two_trajectory, "two-trajectory"),
    ("qr-lyapunov", _function("neurosrnn.analysis.exponents", "qr_lyapunov"),
     _run_qr_lyapunov, None),
    ("map-spectrum", _function("neurosrnn.analysis.lyapunov", "map_spectrum"),
     _run_map_spectrum, None),
    ("flow-spectrum", _function("neurosrnn.analysis.lyapunov", "flow_spectrum"),
     _run_flow_spectrum, None),
    ("rate-network-spectrum", _function("neurosrnn.analysis.lyapunov", "rate_network_spectrum"),
     _run_rate_network_spectrum, None),
    ("two-trajectory", _function("neurosrnn.perturbation", "two_trajectory_exponent"),
     _run_two_trajectory_exponent, None),
    ("finite-size", _function("neurosrnn.perturbation", "finite_size_lyapunov"),
     _run_finite_size_lyapunov, None),
    ("divergence-curve", _function("neurosrnn.perturbation", "divergence_curve"),
     _run_divergence_curve, None),
    ("extra-spike", _function("neurosrnn.perturbation", "extra_spike_experiment"),
     _run_extra_spike_experiment, None),
    ("checkpoints", _function("neurosrnn.sweep.checkpoint", "run_with_checkpoints"),
     _run_with_checkpoints, None),
    ("sparseprop-checkpointed", _function("neurosrnn.sweep.checkpoint",
                                          "sparseprop_checkpointed_run"),
     _run_sparseprop_checkpointed, None),
    ("sweep", _function("neurosrnn.sweep.loop", "run_sweep"), _run_sweep, "sweep"),
    ("device-sweep", _simulation_sweep, _run_device_sweep, "sweep"),
    ("train", _function("neurosrnn.learning.train", "train"), _run_train, None),
]  # fmt: skip


class _RecordedBar(tqdm):
    """The tqdm class `progress_bar` uses, recording every bar it makes."""

    made = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enabled = not self.disable  # (close() sets disable)
        _RecordedBar.made.append(self)


@pytest.fixture
def recorded_bars(monkeypatch):
    """Bars made through `neurosrnn.progress.progress_bar` during the test (none else).

    ``recorded_bars.progress_arguments`` lists the ``progress`` values it was given.
    """
    import neurosrnn.progress

    class Bars(list):
        pass

    bars = Bars()
    bars.progress_arguments = []
    real_enabled = neurosrnn.progress.progress_enabled

    def recording_enabled(progress, stream=None):
        bars.progress_arguments.append(progress)
        return real_enabled(progress, stream)

    monkeypatch.setattr(_RecordedBar, "made", bars)
    monkeypatch.setattr(neurosrnn.progress, "tqdm", _RecordedBar)
    monkeypatch.setattr(neurosrnn.progress, "progress_enabled", recording_enabled)
    return bars


@pytest.mark.parametrize(
    "get_function", [pytest.param(case[1], id=case[0]) for case in LONG_RUNNING]
)
def test_long_running_functions_take_progress_keyword_defaulting_to_automatic(get_function):
    parameter = inspect.signature(get_function()).parameters.get("progress")
    assert parameter is not None, "no progress= parameter"
    assert parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    assert parameter.default is None, (
        f"progress defaults to {parameter.default!r}; the package's convention is None "
        "(a bar only on an interactive terminal)"
    )


@pytest.mark.parametrize(
    "run, label", [pytest.param(case[2], case[3], id=case[0]) for case in LONG_RUNNING]
)
def test_long_running_functions_draw_the_package_bar(run, label, recorded_bars, tmp_path,
                                                     capsys):  # fmt: skip
    # progress=True reaches progress_bar unchanged and gives at least one enabled bar,
    # made by progress_bar, that advanced and was drawn on stderr in the house format.
    # (progress=None then means what progress_bar makes of it: see the tests above.)
    run(True, tmp_path)
    assert True in recorded_bars.progress_arguments
    shown = [bar for bar in recorded_bars if bar.enabled]
    assert shown, "progress=True drew no bar through neurosrnn.progress.progress_bar"
    assert all(bar.n > 0 for bar in shown)
    err = capsys.readouterr().err
    for bar in shown:
        assert f"{bar.desc} [" in err or f"{bar.desc} {bar.n}" in err
    if label is not None:
        assert any(bar.desc.startswith(label) for bar in shown)
