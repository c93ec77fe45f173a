"""neurosrnn.analysis.firing: a deprecated alias of the per-family measure modules."""

import importlib
import subprocess
import sys

import pytest

from neurosrnn import analysis

FIRING_NAMES = [
    "SpikeTrains",
    "as_spike_trains",
    "firing_rates",
    "interspike_intervals",
    "cv",
    "cv2",
    "lv",
    "lvr",
    "fano_factor",
    "fano_factor_across_trials",
    "bin_spike_counts",
    "spike_count_correlation",
    "cross_correlograms",
    "shift_predictor",
    "spike_time_tiling_coefficient",
    "sttc_matrix",
    "van_rossum_distances",
    "victor_purpura_distances",
    "time_histogram",
    "psth",
    "kernel_rate",
    "optimal_kernel_bandwidth",
    "golomb_chi",
    "spike_synchrony_chi",
    "Bursts",
    "detect_bursts",
    "FiringSummary",
    "firing_summary",
]


def test_firing_module_warns_and_reexports_every_name():
    sys.modules.pop("neurosrnn.analysis.firing", None)
    with pytest.warns(DeprecationWarning, match="neurosrnn.analysis.firing is deprecated"):
        firing = importlib.import_module("neurosrnn.analysis.firing")
    assert sorted(firing.__all__) == sorted(FIRING_NAMES)
    for name in FIRING_NAMES:
        assert getattr(firing, name) is getattr(analysis, name), name


def test_package_does_not_import_the_deprecated_module():
    code = "import sys, neurosrnn.analysis; print('neurosrnn.analysis.firing' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
