"""Theta neuron and QIF neuron: periods against closed forms, pulse coupling, bad input."""

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, ms, mV
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.models.theta import qif, qif_period, theta, theta_period


@pytest.mark.devices("runtime", "cpp_standalone")
def test_theta_period_is_pi_tau_over_sqrt_drive(device):
    drives = np.array([0.05, 0.1, 0.3, 1.0, 2.0])
    tau_m = np.array([10.0, 10.0, 20.0, 5.0, 10.0])  # ms
    group = theta().make_group(len(drives), tau_m=tau_m * ms, I_ext=drives)
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(800 * ms, namespace={})
    trains = monitor.spike_trains()
    for index, drive in enumerate(drives):
        expected = np.pi * tau_m[index] / np.sqrt(drive)  # ms, Ermentrout & Kopell (1986)
        times = np.asarray(trains[index] / ms)
        assert len(times) >= 4
        mean_isi = (times[-1] - times[0]) / (len(times) - 1)
        # grid error of the mean ISI is at most dt/(n - 1); rk4 error is far smaller
        assert abs(mean_isi - expected) <= 0.1 / (len(times) - 1) + 1e-4 * expected
        np.testing.assert_allclose(theta_period(tau_m[index] * ms, drive) / ms, expected)


def test_theta_silent_for_negative_drive():
    group = theta().make_group(1, I_ext=-0.1)
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(200 * ms, namespace={})
    assert monitor.num_spikes == 0
    # it relaxes to the stable fixed point cos(theta*) = (1 + I)/(1 - I), theta* < 0
    expected = -np.arccos((1 - 0.1) / (1 + 0.1))
    np.testing.assert_allclose(group.theta[0], expected, atol=1e-5)


def test_theta_pulse_coupling_shifts_tan_half_phase_by_weight():
    weights = np.array([0.3, -0.5, 2.0])
    model = theta()
    group = model.make_group(3, I_ext=0.1, initial_values={"theta": np.array([-2.0, 0.5, 1.0])})
    source = SpikeGeneratorGroup(1, [0], [3.0] * ms)
    synapses = Synapses(source, group, "w : 1", on_pre=model.coupling_on_pre)
    synapses.connect()
    synapses.w = weights
    before = StateMonitor(group, "theta", record=True, when="before_synapses")
    after = StateMonitor(group, "theta", record=True, when="after_synapses")
    Network(group, source, synapses, before, after).run(5 * ms, namespace={})
    step = 30
    jump = np.tan(after.theta[:, step] / 2) - np.tan(before.theta[:, step] / 2)
    np.testing.assert_allclose(jump, weights, rtol=1e-10)
    assert np.all(np.abs(after.theta[:, step]) < np.pi)  # a finite pulse never spikes at once


def test_qif_period_with_finite_peak_and_reset():
    drives = np.array([0.1, 0.5, 1.5])
    tau_m, v_peak, v_reset, dt = 10.0, 10.0, -10.0, 0.02
    group = qif().make_group(
        len(drives), dt=dt * ms, tau_m=tau_m * ms, I_ext=drives, v_peak=v_peak, v_reset=v_reset
    )
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(250 * ms, namespace={})
    trains = monitor.spike_trains()
    for index, drive in enumerate(drives):
        root = np.sqrt(drive)
        expected = tau_m / root * (np.arctan(v_peak / root) - np.arctan(v_reset / root))
        isi = np.diff(np.asarray(trains[index] / ms))
        assert len(isi) >= 2
        # the reset drops the overshoot: each interval is the period plus less than one step
        assert np.all(isi >= expected - 1e-3 * dt) and np.all(isi <= expected + dt * 1.001)
        np.testing.assert_allclose(
            qif_period(tau_m * ms, drive, v_peak, v_reset) / ms, expected, rtol=1e-12
        )
        # truncating at finite v_peak and v_reset shortens the ideal pi*tau/sqrt(I)
        assert expected < np.pi * tau_m / root


def test_qif_and_theta_agree_through_v_equals_tan_half_theta():
    drive, v_start = 0.2, -1.5
    theta_group = theta().make_group(
        1, I_ext=drive, initial_values={"theta": 2 * np.arctan(v_start)}
    )
    qif_group = qif().make_group(1, I_ext=drive, initial_values={"v": v_start})
    theta_monitor = StateMonitor(theta_group, "theta", record=0)
    qif_monitor = StateMonitor(qif_group, "v", record=0)
    Network(theta_group, qif_group, theta_monitor, qif_monitor).run(10 * ms, namespace={})
    np.testing.assert_allclose(
        np.tan(theta_monitor.theta[0] / 2), qif_monitor.v[0], rtol=1e-6, atol=1e-8
    )


def test_theta_and_qif_suprathreshold_drive_fire_repetitively():
    for model in (theta(), qif()):
        group = model.make_group(1, **{model.drive_parameter: model.suprathreshold_drive})
        monitor = SpikeMonitor(group)
        Network(group, monitor).run(400 * ms, namespace={})
        assert monitor.num_spikes >= 3


@pytest.mark.parametrize("function", [theta_period, qif_period])
@pytest.mark.parametrize("drive", [0.0, -1.0, np.nan])
def test_period_rejects_non_positive_drive(function, drive):
    with pytest.raises(ValueError, match="I_ext"):
        function(10 * ms, drive)


def test_qif_period_rejects_reset_above_peak():
    with pytest.raises(ValueError, match="v_reset"):
        qif_period(10 * ms, 0.1, v_peak=-1.0, v_reset=1.0)


def test_theta_rejects_bad_parameters():
    with pytest.raises(ValueError, match="tau_m"):
        theta().make_group(2, tau_m=-1 * ms)
    with pytest.raises(ValueError, match="tau_m"):
        qif().make_group(2, tau_m=np.array([1.0, np.nan]) * ms)
    with pytest.raises(ValueError, match="I_ext"):
        theta().make_group(2, I_ext=np.ones(3))
    with pytest.raises(ValueError, match="drive"):
        theta().make_group(2, drive=0.1)
    with pytest.raises(DimensionMismatchError):
        theta().make_group(2, I_ext=1 * mV)
    with pytest.raises(ValueError, match="N must be"):
        qif().make_group(-1)


@pytest.mark.parametrize("function", [theta_period, qif_period])
@pytest.mark.parametrize("tau_m", [0 * ms, -5 * ms, np.nan * ms])
def test_period_rejects_bad_time_constant(function, tau_m):
    with pytest.raises(ValueError, match="tau_m"):
        function(tau_m, 0.1)


def test_spike_and_pulse_in_the_same_step_wrap_the_phase_once():
    # Brian2 delivers pulses before resets; arctan already maps the crossed phase
    # back into (-pi, pi), so the reset must not subtract 2 pi a second time.
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, Synapses, defaultclock

    defaultclock.dt = 0.1 * ms
    model = theta()
    group = model.make_group(1, tau_m=10 * ms, I_ext=1.0)
    group.theta = np.pi - 0.01  # crosses pi within the first step (d theta = 0.02)
    source = SpikeGeneratorGroup(1, [0], [0] * ms)
    synapses = Synapses(source, group, "w : 1", on_pre=model.coupling_on_pre)
    synapses.connect()
    synapses.w = -0.3
    monitor = SpikeMonitor(group)
    Network(group, source, synapses, monitor).run(defaultclock.dt)
    assert monitor.num_spikes == 1
    theta_after = float(group.theta[0])
    # Independent expectation: the crossed phase, wrapped once, then the pulse.
    crossed = float(np.pi - 0.01 + 0.02) - 2 * np.pi
    expected = 2 * np.arctan(np.tan(crossed / 2) - 0.3)
    assert -np.pi < theta_after < np.pi
    assert abs(theta_after - expected) < 1e-5


def test_unknown_pulse_timing_rejected():
    with pytest.raises(ValueError, match="pulse_timing"):
        theta(pulse_timing="exact")


@pytest.mark.parametrize(
    "kwargs",
    [dict(v_peak=-10.0), dict(v_reset=10.0), dict(v_reset=np.array([0.0, 12.0]))],
    ids=["equal", "reset-equal", "per-neuron"],
)
def test_qif_refuses_reset_at_or_above_peak(kwargs):
    with pytest.raises(ValueError, match="v_reset must be < v_peak"):
        qif().make_group(2, **kwargs)
