"""LIF neuron: f-I curve and PSP shape against closed forms; bad input."""

import numpy as np
import pytest
from brian2 import (
    Network,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    mV,
    second,
)
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.models.lif import lif


def closed_form_period(tau_m, tau_ref, v_rest, v_threshold, v_reset, drive):
    """T = tau_ref + tau_m ln((v_inf - v_reset)/(v_inf - v_threshold)), v_inf = v_rest + drive."""
    v_inf = v_rest + drive
    return tau_ref + tau_m * np.log((v_inf - v_reset) / (v_inf - v_threshold))


@pytest.mark.devices("runtime", "cpp_standalone")
@pytest.mark.parametrize("synapse", ["delta", "exponential"])
def test_lif_firing_rate_matches_f_i_curve(synapse, device):
    drives = np.array([10.0, 20.5, 21.0, 25.0, 35.0, 60.0, 120.0])  # mV; rheobase 20 mV
    model = lif(synapse)
    group = model.make_group(
        len(drives),
        tau_m=12 * ms,
        tau_ref=np.array([2.0, 2.0, 2.0, 0.0, 2.0, 3.0, 1.0]) * ms,
        v_rest=-5 * mV,
        v_threshold=15 * mV,
        v_reset=0 * mV,
        I_ext=drives * mV,
    )
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(400 * ms, namespace={})
    trains = monitor.spike_trains()
    tau_ref = np.array([2.0, 2.0, 2.0, 0.0, 2.0, 3.0, 1.0])
    dt = 0.1
    assert len(trains[0]) == 0  # v_inf = 5 mV below threshold: silent
    for index in range(1, len(drives)):
        expected = closed_form_period(12.0, tau_ref[index], -5.0, 15.0, 0.0, drives[index])
        isi = np.diff(np.asarray(trains[index] / ms))
        assert len(isi) >= 3
        # spikes lie on the dt grid: each interval is within one step of the closed form
        assert np.all(np.abs(isi - expected) <= dt * 1.0001), (index, isi[:3], expected)
        rate = len(isi) / ((trains[index][-1] - trains[index][0]) / second)
        np.testing.assert_allclose(rate, 1000.0 / expected, rtol=dt / expected + 1e-3)


def test_lif_exponential_synapse_psp_is_difference_of_exponentials():
    tau_m, tau_syn, weight = 10.0, 3.0, 2.0  # ms, ms, mV
    model = lif("exponential")
    group = model.make_group(1, tau_m=tau_m * ms, tau_syn=tau_syn * ms, v_threshold=100 * mV)
    source = SpikeGeneratorGroup(1, [0], [5.0] * ms)
    synapses = Synapses(source, group, "w : volt", on_pre=model.coupling_on_pre)
    synapses.connect()
    synapses.w = weight * mV
    monitor = StateMonitor(group, ["v", "I_syn"], record=0, when="end")
    Network(group, source, synapses, monitor).run(60 * ms, namespace={})
    elapsed = np.asarray(monitor.t / ms) - 5.0
    after = elapsed >= -1e-9
    s = elapsed[after]
    expected_v = weight * tau_syn / (tau_syn - tau_m) * (np.exp(-s / tau_syn) - np.exp(-s / tau_m))
    measured_v = np.asarray(monitor.v[0] / mV)
    np.testing.assert_allclose(measured_v[after], expected_v, atol=1e-9)
    np.testing.assert_allclose(measured_v[~after], 0.0, atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(monitor.I_syn[0] / mV)[after], weight * np.exp(-s / tau_syn), atol=1e-9
    )
    # peak time of the difference of exponentials
    peak = tau_m * tau_syn / (tau_m - tau_syn) * np.log(tau_m / tau_syn)
    assert abs(s[np.argmax(measured_v[after])] - peak) <= 0.1


def test_lif_delta_synapse_jump():
    model = lif("delta")
    group = model.make_group(1, tau_m=10 * ms, v_threshold=100 * mV)
    source = SpikeGeneratorGroup(1, [0], [2.0] * ms)
    synapses = Synapses(source, group, "w : volt", on_pre=model.coupling_on_pre)
    synapses.connect()
    synapses.w = 3 * mV
    monitor = StateMonitor(group, "v", record=0, when="end")
    Network(group, source, synapses, monitor).run(30 * ms, namespace={})
    elapsed = np.asarray(monitor.t / ms) - 2.0
    after = elapsed >= -1e-9
    np.testing.assert_allclose(
        np.asarray(monitor.v[0] / mV)[after], 3.0 * np.exp(-elapsed[after] / 10.0), atol=1e-9
    )


def test_lif_suprathreshold_drive_fires_repetitively():
    for synapse in ("delta", "exponential"):
        model = lif(synapse)
        group = model.make_group(1, **{model.drive_parameter: model.suprathreshold_drive})
        monitor = SpikeMonitor(group)
        Network(group, monitor).run(100 * ms, namespace={})
        assert monitor.num_spikes >= 5


def test_lif_rejects_unknown_synapse():
    with pytest.raises(ValueError, match="synapse must be one of"):
        lif("alpha")


def test_lif_rejects_equal_synaptic_and_membrane_time_constants():
    with pytest.raises(ValueError, match="tau_syn must differ from tau_m"):
        lif("exponential").make_group(3, tau_m=10 * ms, tau_syn=np.array([5, 10, 2]) * ms)


def test_lif_zero_refractory_period_allowed_negative_rejected():
    lif().make_group(2, tau_ref=0 * ms)
    with pytest.raises(ValueError, match="tau_ref"):
        lif().make_group(2, tau_ref=-1 * ms)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tau_m=0 * ms), "tau_m"),
        (dict(tau_m=np.nan * ms), "tau_m"),
        (dict(v_threshold=np.array([1, 2]) * mV), "v_threshold"),
        (dict(tau_membrane=10 * ms), "tau_membrane"),
    ],
)
def test_lif_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lif().make_group(3, **kwargs)


def test_lif_rejects_wrong_units():
    with pytest.raises(DimensionMismatchError):
        lif().make_group(3, I_ext=1 * ms)


def test_lif_rejects_non_positive_size():
    with pytest.raises(ValueError, match="N must be a positive integer"):
        lif().make_group(0)


@pytest.mark.parametrize("synapse", ["delta", "exponential"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(v_threshold=10 * mV, v_reset=10 * mV),
        dict(v_threshold=5 * mV),
        dict(v_reset=np.array([0.0, 25.0, 0.0]) * mV),
        dict(v_threshold=np.array([20.0, 20.0, 5.0]) * mV, v_reset=np.array([0, 0, 5]) * mV),
    ],
    ids=["equal", "threshold-below-default-reset", "one-reset-above", "one-equal"],
)
def test_lif_refuses_reset_at_or_above_threshold(synapse, kwargs):
    """v_threshold <= v_reset used to be accepted (the neuron then fires every step)."""
    with pytest.raises(ValueError, match="v_reset must be < v_threshold"):
        lif(synapse).make_group(3, **kwargs)


def test_lif_accepts_reset_below_threshold_per_neuron():
    lif().make_group(3, v_reset=np.array([0.0, 10.0, 19.0]) * mV)
