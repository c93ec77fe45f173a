"""Deprecated: the firing measures now live in one module per family.

- `neurosrnn.analysis.statistics`: rates, ISIs, CV, CV2, LV, LvR, Fano factors, binned
  counts, time histogram, PSTH, kernel rates, optimal bandwidth;
- `neurosrnn.analysis.bursts`: `Bursts`, `detect_bursts`;
- `neurosrnn.analysis.correlation`: count correlation, cross-correlograms, shift
  predictor, STTC;
- `neurosrnn.analysis.dissimilarity`: van Rossum and Victor-Purpura distances;
- `neurosrnn.analysis.synchrony`: Golomb chi;
- `neurosrnn.analysis.summary`: `FiringSummary`, `firing_summary` (which no longer draws
  unless ``figure=True``).

Every name is also importable from `neurosrnn.analysis`. This module re-exports them
and warns at import.
"""

from __future__ import annotations

import warnings

from ._spikes import SpikeTrains, as_spike_trains
from .bursts import Bursts, detect_bursts
from .correlation import (
    cross_correlograms,
    shift_predictor,
    spike_count_correlation,
    spike_time_tiling_coefficient,
    sttc_matrix,
)
from .dissimilarity import van_rossum_distances, victor_purpura_distances
from .statistics import (
    bin_spike_counts,
    cv,
    cv2,
    fano_factor,
    fano_factor_across_trials,
    firing_rates,
    interspike_intervals,
    kernel_rate,
    lv,
    lvr,
    optimal_kernel_bandwidth,
    psth,
    time_histogram,
)
from .summary import FiringSummary, firing_summary
from .synchrony import golomb_chi, spike_synchrony_chi

warnings.warn(
    "neurosrnn.analysis.firing is deprecated: import from neurosrnn.analysis, or from "
    "neurosrnn.analysis.statistics, .correlation, .dissimilarity, .synchrony, .bursts "
    "and .summary",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
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
