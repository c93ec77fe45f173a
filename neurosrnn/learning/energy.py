"""Operation-count energy estimate of SRNNs against classical recurrent networks.

Method of the SRNN papers (Yin, Corradi & Bohte 2020, ICONS, arXiv:2005.11633;
2021, Nat. Mach. Intell. 3:905): count the operations of one time step and weigh
them with per-operation energies of a 45 nm process (Horowitz 2014, ISSCC, "Computing's
energy problem"). A dense recurrent network performs multiply-accumulates (MACs); a
spiking network performs an accumulate (AC) per *delivered spike* plus a few MACs per
neuron for its state update.

Per step, with layer sizes ``N_l`` and inputs ``I_l``:

.. math::
    E_{RNN} = E_{MAC}\\, G \\sum_l N_l (I_l + N_l) \\;[+\\ E_{MAC} N_L C \\text{ readout}],
    \\qquad G = 1\\ (\\text{RNN}),\\ 3\\ (\\text{GRU}),\\ 4\\ (\\text{LSTM}),

    E_{SRNN} = E_{AC} \\sum_{\\text{projections}} r_{pre} N_{pre} N_{post}
             + E_{MAC}\\, k \\sum_l N_l,

where ``r_pre`` is the measured spike probability per neuron per step of the source
(the input's, for the input projection) and ``k`` the MACs of one neuron update
(about 2 for LIF, 4 for ALIF: membrane, input, trace, threshold). The per-op energy
sets are parameters: ``"float32"`` (MAC 4.6 pJ, AC 0.9 pJ) by default, ``"int32"``
(MAC 3.2 pJ, AC 0.1 pJ). The original papers' exact set is not verified; name the
set when quoting a ratio.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ENERGY_PER_OPERATION", "rnn_operations", "srnn_operations", "energy_ratio"]

#: Energies per operation in joules (45 nm, Horowitz 2014).
ENERGY_PER_OPERATION = {
    "float32": {"mac": 4.6e-12, "ac": 0.9e-12},
    "int32": {"mac": 3.2e-12, "ac": 0.1e-12},
}

_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _sizes(n_in, hidden):
    if not isinstance(n_in, int | np.integer) or n_in < 1:
        raise ValueError(f"n_in must be a positive integer, got {n_in!r}")
    hidden = [int(h) for h in np.atleast_1d(hidden)]
    if not hidden or min(hidden) < 1:
        raise ValueError(f"hidden must be a non-empty list of positive sizes, got {hidden}")
    return int(n_in), hidden


def rnn_operations(n_in, hidden, n_out=0, kind="lstm"):
    """MACs per step of a dense RNN, GRU or LSTM stack (+ dense readout).

    Parameters
    ----------
    n_in : int
    hidden : list of int
        Layer sizes.
    n_out : int
        Readout size (``N_L n_out`` MACs; 0 to leave it out).
    kind : {"rnn", "gru", "lstm"}

    Returns
    -------
    dict
        ``{"mac": float, "ac": 0.0}``.
    """
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {tuple(_GATES)}, got {kind!r}")
    n_in, hidden = _sizes(n_in, hidden)
    macs = 0
    pre = n_in
    for n in hidden:
        macs += _GATES[kind] * n * (pre + n)
        pre = n
    macs += pre * int(n_out)
    return {"mac": float(macs), "ac": 0.0}


def srnn_operations(
    n_in,
    hidden,
    n_out,
    rates,
    input_rate,
    recurrent=True,
    macs_per_neuron=4,
    readout_macs_per_unit=0,
):
    """ACs and MACs per step of a spiking recurrent network.

    Parameters
    ----------
    n_in : int
    hidden : list of int
    n_out : int
        Readout size (its input projection counts as ACs of the last layer's spikes).
    rates : list of float
        Measured spike probability per neuron per step of each hidden layer.
    input_rate : float
        Mean non-zero fraction of the input per step (1 for analog input, where the
        input projection is really MACs: then pass ``input_rate=0`` and count the
        input MACs yourself, or accept the AC approximation).
    recurrent : bool
        Count the recurrent projections.
    macs_per_neuron : float
        ``k``: MACs per hidden neuron update (≈2 LIF, ≈4 ALIF).
    readout_macs_per_unit : float
        MACs per readout unit per step (1–2 for a leaky integrator; 0 as in the
        worked example of the method).

    Returns
    -------
    dict
        ``{"mac": float, "ac": float}``.
    """
    n_in, hidden = _sizes(n_in, hidden)
    rates = [float(r) for r in np.atleast_1d(rates)]
    if len(rates) != len(hidden):
        raise ValueError(f"rates needs one value per hidden layer ({len(hidden)}), got {rates}")
    for r in [*rates, float(input_rate)]:
        if not 0 <= r <= 1:
            raise ValueError(f"rates and input_rate are spike probabilities in [0, 1], got {r}")
    acs = input_rate * n_in * hidden[0]
    for l, n in enumerate(hidden):
        if recurrent:
            acs += rates[l] * n * n
        target = hidden[l + 1] if l + 1 < len(hidden) else int(n_out)
        acs += rates[l] * n * target
    macs = macs_per_neuron * sum(hidden) + readout_macs_per_unit * int(n_out)
    return {"mac": float(macs), "ac": float(acs)}


def _energy(ops, constants):
    if isinstance(constants, str):
        if constants not in ENERGY_PER_OPERATION:
            raise ValueError(
                f"constants must be one of {tuple(ENERGY_PER_OPERATION)} or a dict "
                f"{{'mac': J, 'ac': J}}, got {constants!r}"
            )
        constants = ENERGY_PER_OPERATION[constants]
    return ops["mac"] * constants["mac"] + ops["ac"] * constants["ac"]


def energy_ratio(reference_ops, srnn_ops, constants="float32"):
    """Energy per step of each operation count and their ratio.

    Parameters
    ----------
    reference_ops, srnn_ops : dict
        Outputs of `rnn_operations` and `srnn_operations`.
    constants : {"float32", "int32"} or dict
        Per-operation energies in joules (keys ``"mac"``, ``"ac"``).

    Returns
    -------
    dict
        ``reference_joules``, ``srnn_joules`` (per step) and ``ratio``
        (reference / SRNN).
    """
    e_ref = _energy(reference_ops, constants)
    e_srnn = _energy(srnn_ops, constants)
    return {
        "reference_joules": e_ref,
        "srnn_joules": e_srnn,
        "ratio": e_ref / e_srnn if e_srnn > 0 else float("inf"),
    }
