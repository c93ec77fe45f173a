"""Training adaptive spiking recurrent networks (optional extra ``neurosrnn[train]``).

Surrogate-gradient BPTT of ALIF networks with learnable per-neuron time constants
in JAX (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905), bundled or synthetic
data sets, an operation-count energy estimate, and export of trained networks to
Brian2. Importing this package imports JAX lazily only where needed; importing
`neurosrnn` never imports it.

Submodules: `surrogate`, `srnn`, `optim`, `train`, `data`, `energy`, `deploy`, and
`baselines` (LSTM, GRU and vanilla RNN classifiers on equinox; imported on its own,
``from neurosrnn.learning import baselines``, since it imports JAX and equinox).
"""

from .data import (
    Dataset,
    delayed_recall,
    delayed_xor,
    digit_images,
    latency_digits,
    mnist1d,
    sequential_digits,
)
from .deploy import DeployedSRNN, build_project, simulate, simulate_saved, to_brian2
from .energy import ENERGY_PER_OPERATION, energy_ratio, rnn_operations, srnn_operations
from .srnn import SRNNConfig, init_params, predict, run
from .surrogate import SURROGATES, Surrogate
from .train import TrainedSRNN, evaluate, firing_rates

__all__ = [
    "Dataset",
    "delayed_recall",
    "delayed_xor",
    "digit_images",
    "latency_digits",
    "mnist1d",
    "sequential_digits",
    "DeployedSRNN",
    "build_project",
    "simulate",
    "simulate_saved",
    "to_brian2",
    "ENERGY_PER_OPERATION",
    "energy_ratio",
    "rnn_operations",
    "srnn_operations",
    "SRNNConfig",
    "init_params",
    "predict",
    "run",
    "SURROGATES",
    "Surrogate",
    "TrainedSRNN",
    "evaluate",
    "firing_rates",
]

# `train` stays the submodule (the function is `neurosrnn.learning.train.train`).
