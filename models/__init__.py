"""The neurosrnn model library: neuron models, timescale samplers and network recipes.

Neuron models are factories returning a `NeuronModel` (Brian2 equations with units,
threshold, reset, method and per-neuron ``(constant)`` parameters):

========================  ==========================================================
``lif(synapse=...)``      current-based LIF, delta or exponential synapses
``alif()``                SRNN adaptive LIF (Yin, Corradi & Bohte 2021)
``multi_alif(n)``         ALIF with several adaptation traces
``mat()``                 multi-timescale adaptive threshold (Kobayashi et al. 2009)
``theta()``, ``qif()``    theta neuron (phase form) and quadratic integrate-and-fire
``adex()``                adaptive exponential IF (Brette & Gerstner 2005)
========================  ==========================================================

`MODEL_LIBRARY` maps a name to a zero-argument factory (used by the command line).
"""

from functools import partial

from ._base import NeuronModel
from .adex import ADEX_FIRING_PATTERNS, ADEX_RECOMMENDED_DT, adex
from .alif import alif
from .lif import lif
from .multitimescale import mat, multi_alif
from .networks import (
    RecurrentNetwork,
    balanced_ei_network,
    inhibitory_pulse_network,
    recurrent_network,
)
from .srnn import SRNNNetwork, srnn_network
from .theta import qif, qif_period, theta, theta_period
from .timescale_samplers import (
    TimescaleSampler,
    array_timescales,
    constant_timescales,
    gamma_timescales,
    lognormal_timescales,
    normal_values,
    truncated_normal_timescales,
    uniform_timescales,
    uniform_values,
)

#: Name -> zero-argument factory returning a `NeuronModel`.
MODEL_LIBRARY = {
    "lif": partial(lif, synapse="delta"),
    "lif_exponential": partial(lif, synapse="exponential"),
    "alif": alif,
    "mat": mat,
    "multi_alif": multi_alif,
    "theta": theta,
    "qif": qif,
    "adex": adex,
}

__all__ = [
    "MODEL_LIBRARY",
    "uniform_values",
    "normal_values",
    "NeuronModel",
    "lif",
    "alif",
    "multi_alif",
    "mat",
    "theta",
    "qif",
    "theta_period",
    "qif_period",
    "adex",
    "ADEX_FIRING_PATTERNS",
    "ADEX_RECOMMENDED_DT",
    "TimescaleSampler",
    "constant_timescales",
    "truncated_normal_timescales",
    "gamma_timescales",
    "lognormal_timescales",
    "uniform_timescales",
    "array_timescales",
    "RecurrentNetwork",
    "recurrent_network",
    "balanced_ei_network",
    "inhibitory_pulse_network",
    "SRNNNetwork",
    "srnn_network",
]
