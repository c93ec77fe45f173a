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

from . import _spikes, bursts, correlation, dissimilarity, statistics, summary, synchrony

# (module, the names this alias takes from it): every family's whole public API, and the
# spike-train container from `_spikes`.
_FAMILIES = (statistics, correlation, dissimilarity, synchrony, bursts, summary)
_SOURCES = [
    (_spikes, ["SpikeTrains", "as_spike_trains"]),
    *((family, family.__all__) for family in _FAMILIES),
]

__all__ = [name for _, names in _SOURCES for name in names]
globals().update({name: getattr(module, name) for module, names in _SOURCES for name in names})

warnings.warn(
    "neurosrnn.analysis.firing is deprecated: import from neurosrnn.analysis, or from "
    "neurosrnn.analysis.statistics, .correlation, .dissimilarity, .synchrony, .bursts "
    "and .summary",
    DeprecationWarning,
    stacklevel=2,
)
