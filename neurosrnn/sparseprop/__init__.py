"""SparseProp: exact event-driven simulation of sparse pulse-coupled spiking networks.

Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).

- `SparsePropNetwork`: theta (QIF) and LIF networks with delta pulses, phase or time
  representation, stored CSR or memory-free (`RegeneratedConnectivity`) topology.
- `simulate_reference`: the plain O(N)-per-spike algorithm, for checks.
- `balanced_network`: the inhibitory balanced reference network.
- `brian2_network` (module `neurosrnn.sparseprop.brian2_network`): the same network as a
  clock-driven Brian2 `Network`.
- `phase_models`: PTCs g, g', dg/dc and phase <-> state maps (building blocks for the
  exact Lyapunov analysis).
- `lyapunov_spectrum`, `two_trajectory_exponent`: exact event-based Lyapunov spectra
  (Monteforte & Wolf 2010; a `SpikingLyapunovResult`, which is a
  `neurosrnn.analysis.LyapunovResult`) and the two-trajectory estimate (a
  `TwoTrajectoryResult`, as from every engine). `largest_exponent_two_trajectory` is the
  deprecated old name.
"""

from neurosrnn.sparseprop.engine import (
    SparsePropNetwork,
    SparsePropResult,
    SparsePropState,
    balanced_network,
    isi_cv,
)
from neurosrnn.sparseprop.lyapunov import (
    SpikingLyapunovResult,
    TwoTrajectoryResult,
    largest_exponent_two_trajectory,
    lyapunov_spectrum,
    two_trajectory_exponent,
)
from neurosrnn.sparseprop.phase_models import PhaseModel, phase_model
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

__all__ = [
    "SparsePropNetwork",
    "SparsePropResult",
    "SparsePropState",
    "balanced_network",
    "isi_cv",
    "PhaseModel",
    "phase_model",
    "simulate_reference",
    "RegeneratedConnectivity",
    "SpikingLyapunovResult",
    "TwoTrajectoryResult",
    "largest_exponent_two_trajectory",
    "lyapunov_spectrum",
    "two_trajectory_exponent",
]
