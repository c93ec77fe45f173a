"""SparseProp: exact event-driven simulation of sparse pulse-coupled spiking networks.

Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).

- `SparsePropNetwork`: theta (QIF), LIF and tabulated (`PhaseTable`, any 1-D neuron
  dv/dt = f(v), built by `tabulate`) networks with delta pulses, synaptic delays and
  refractory periods, input neurons (`InputSpikes` through an input graph), phase or
  time representation, stored CSR or memory-free
  (`RegeneratedConnectivity`) topology.
- `exact_network` (module `neurosrnn.sparseprop.from_brian2`, imported on first use):
  the exact network of Brian2 equations or a `NeuronModel`.
- `spike_gradients` (module `neurosrnn.sparseprop.gradients`): exact adjoint gradients
  of spike-time and readout losses (`spike_time_loss`, `first_spike_cross_entropy`,
  `readout_mse`, `readout_cross_entropy`, `LeakyReadout`) with respect to every weight,
  the drives, the coupling and the readout, O(K) per spike; `gradient_growth` compares
  the growth of the adjoint with the largest Lyapunov exponent.
- `train_exact`, `exact_loss_function` (module `neurosrnn.sparseprop.training`, imported
  on first use; extra ``train``): a JAX `custom_vjp` bridge to the exact gradients and
  optax training on them, with checkpoints and a progress bar.
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
    InputSpikes,
    SparsePropNetwork,
    SparsePropResult,
    SparsePropState,
    balanced_network,
    isi_cv,
)
from neurosrnn.sparseprop.gradients import (
    GradientGrowth,
    GradientResult,
    LeakyReadout,
    SpikeLoss,
    first_spike_cross_entropy,
    gradient_growth,
    readout_cross_entropy,
    readout_mse,
    spike_gradients,
    spike_time_loss,
)
from neurosrnn.sparseprop.lyapunov import (
    SpikingLyapunovResult,
    TwoTrajectoryResult,
    largest_exponent_two_trajectory,
    lyapunov_spectrum,
    two_trajectory_exponent,
)
from neurosrnn.sparseprop.phase_models import PhaseModel, phase_model
from neurosrnn.sparseprop.phase_tables import PhaseTable, tabulate
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

__all__ = [
    "InputSpikes",
    "SparsePropNetwork",
    "SparsePropResult",
    "SparsePropState",
    "balanced_network",
    "isi_cv",
    "PhaseModel",
    "phase_model",
    "PhaseTable",
    "tabulate",
    "exact_network",
    "simulate_reference",
    "RegeneratedConnectivity",
    "SpikingLyapunovResult",
    "TwoTrajectoryResult",
    "largest_exponent_two_trajectory",
    "lyapunov_spectrum",
    "two_trajectory_exponent",
    "spike_gradients",
    "gradient_growth",
    "GradientResult",
    "GradientGrowth",
    "SpikeLoss",
    "LeakyReadout",
    "spike_time_loss",
    "first_spike_cross_entropy",
    "readout_mse",
    "readout_cross_entropy",
    "train_exact",
    "exact_loss_function",
    "network_parameters",
    "with_parameters",
    "ExactTrainingResult",
]

_TRAINING = frozenset(
    {
        "train_exact",
        "exact_loss_function",
        "network_parameters",
        "with_parameters",
        "ExactTrainingResult",
    }
)


def __getattr__(name):
    # the Brian2 front end imports brian2 and sympy: only when it is asked for
    if name == "exact_network":
        from neurosrnn.sparseprop.from_brian2 import exact_network

        return exact_network
    if name in _TRAINING:
        from neurosrnn.sparseprop import training

        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
