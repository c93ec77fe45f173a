"""AdEx neuron: published firing patterns (Naud et al. 2008) recognised from ISI sequences."""

import numpy as np
import pytest
from brian2 import Network, Quantity, SpikeMonitor, get_dimensions, ms, mV, nS, pA, pF
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.models.adex import ADEX_FIRING_PATTERNS, ADEX_RECOMMENDED_DT, adex

PATTERNS = ["tonic", "adapting", "initial_burst", "regular_bursting"]


@pytest.fixture(scope="module")
def interspike_intervals():
    """ISIs (ms) of one neuron per pattern, simulated together in one group (600 ms step)."""
    import brian2

    brian2.prefs.codegen.target = "numpy"
    keys = list(ADEX_FIRING_PATTERNS["tonic"])
    parameters = {
        key: Quantity(
            np.array([float(ADEX_FIRING_PATTERNS[name][key]) for name in PATTERNS]),
            dim=get_dimensions(ADEX_FIRING_PATTERNS["tonic"][key]),
        )
        for key in keys
    }
    group = adex().make_group(len(PATTERNS), dt=ADEX_RECOMMENDED_DT, **parameters)
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(600 * ms, namespace={})
    trains = monitor.spike_trains()
    return {name: np.diff(np.asarray(trains[k] / ms)) for k, name in enumerate(PATTERNS)}


def test_adex_tonic_spiking_has_constant_isis(interspike_intervals):
    isi = interspike_intervals["tonic"]
    assert len(isi) > 20
    steady = isi[10:]
    assert steady.max() / steady.min() - 1 < 0.02  # constant
    assert isi[-1] / isi[0] < 1.15  # no marked adaptation


def test_adex_adapting_isis_increase_then_settle(interspike_intervals):
    isi = interspike_intervals["adapting"]
    assert len(isi) >= 6
    assert np.all(np.diff(isi) >= -0.1)  # non-decreasing (within one step)
    assert isi[-1] / isi[0] > 3  # strong adaptation
    assert isi[-3:].max() / isi[-3:].min() - 1 < 0.02  # then constant


def test_adex_initial_burst_then_regular(interspike_intervals):
    isi = interspike_intervals["initial_burst"]
    steady = np.median(isi[-5:])
    assert isi[0] < 0.2 * steady and isi[1] < 0.2 * steady  # burst at onset
    assert np.all(isi[3:] > 0.5 * steady)  # no further bursts
    assert isi[-5:].max() / isi[-5:].min() - 1 < 0.02


def test_adex_regular_bursting_has_bimodal_isis(interspike_intervals):
    isi = interspike_intervals["regular_bursting"]
    order = np.sort(isi)
    gaps = order[1:] / order[:-1]
    split = np.argmax(gaps)
    short, long = order[: split + 1], order[split + 1 :]
    assert gaps[split] > 5  # two well-separated clusters
    assert len(long) >= 3 and len(short) >= len(long)  # bursts recur
    # within each cluster the intervals are tight
    assert short.max() / short.min() < 3 and long.max() / long.min() < 1.2


def test_adex_pattern_sets_have_model_parameters():
    names = set(adex().parameters)
    for name, parameters in ADEX_FIRING_PATTERNS.items():
        assert set(parameters) <= names, name
    # spot check against Naud et al. (2008), Table 1 (adapting: C 200 pF, g_L 12 nS, b 60 pA)
    adapting = ADEX_FIRING_PATTERNS["adapting"]
    assert adapting["C"] == 200 * pF and adapting["g_L"] == 12 * nS and adapting["b"] == 60 * pA


def test_adex_suprathreshold_drive_fires_repetitively():
    model = adex()
    group = model.make_group(1, dt=ADEX_RECOMMENDED_DT, I_ext=model.suprathreshold_drive)
    monitor = SpikeMonitor(group)
    Network(group, monitor).run(100 * ms, namespace={})
    assert monitor.num_spikes >= 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(C=0 * pF), "C"),
        (dict(g_L=-1 * nS), "g_L"),
        (dict(Delta_T=0 * mV), "Delta_T"),
        (dict(V_reset=10 * mV), "V_reset"),
        (dict(tau_w=0 * ms), "tau_w"),
        (dict(tau_w=np.nan * ms), "tau_w"),
        (dict(a=np.ones(3) * nS), "a"),
        (dict(gamma=1.0), "gamma"),
    ],
)
def test_adex_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        adex().make_group(2, **kwargs)


def test_adex_rejects_wrong_units_and_size():
    with pytest.raises(DimensionMismatchError):
        adex().make_group(2, I_ext=1 * mV)
    with pytest.raises(ValueError, match="N must be"):
        adex().make_group(0)
