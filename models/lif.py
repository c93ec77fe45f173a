"""Current-based leaky integrate-and-fire (LIF) neuron.

The membrane obeys

.. math::

    \\tau_m \\frac{dv}{dt} = v_{rest} - v + I_{ext} \\; [+ I_{syn}],

where the drive :math:`I_{ext}` is written as a voltage (the product :math:`R I` of
membrane resistance and current). When :math:`v > v_{threshold}` the neuron spikes,
:math:`v` is set to :math:`v_{reset}` and clamped there for :math:`\\tau_{ref}`.

Two synapse types are offered:

* ``"delta"``: a presynaptic spike of weight ``w`` (volt) makes ``v`` jump by ``w``;
* ``"exponential"``: it makes the synaptic current :math:`I_{syn}` (volt) jump by
  ``w``; :math:`I_{syn}` then decays with :math:`\\tau_{syn}`, so the postsynaptic
  potential is a difference of exponentials.

References
----------
Lapicque L (1907), J. Physiol. Pathol. Gen. 9:620-635; Burkitt AN (2006), Biol.
Cybern. 95:1-19 (review); Tuckwell HC (1988), Introduction to Theoretical
Neurobiology, Cambridge University Press (f-I curve).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, ms, mV

from ._base import NeuronModel, threshold_above_reset

__all__ = ["lif", "LIF_SYNAPSE_TYPES"]

#: Synapse types accepted by `lif`.
LIF_SYNAPSE_TYPES = ("delta", "exponential")

_MEMBRANE = """
dv/dt = (v_rest - v + I_ext{synaptic})/tau_m : volt (unless refractory)
tau_m : second (constant)
v_rest : volt (constant)
v_threshold : volt (constant)
v_reset : volt (constant)
I_ext : volt (constant)
tau_ref : second (constant)
"""

_EXPONENTIAL_SYNAPSE = """
dI_syn/dt = -I_syn/tau_syn : volt
tau_syn : second (constant)
"""


def _check_distinct_time_constants(model_name, values):
    """Reject ``tau_syn == tau_m``, where the exact propagator is singular."""
    tau_m = np.asarray(values["tau_m"], dtype=float)
    tau_syn = np.asarray(values["tau_syn"], dtype=float)
    if np.any(np.abs(tau_m - tau_syn) <= 1e-6 * np.maximum(tau_m, tau_syn)):
        raise ValueError(
            f"Model {model_name!r}: tau_syn must differ from tau_m for every neuron (by more "
            "than 1e-6 relative); the exact propagator of the exponential-synapse LIF is "
            "singular when they are equal"
        )


def lif(synapse="delta"):
    """Return the current-based LIF neuron model.

    Parameters
    ----------
    synapse : {"delta", "exponential"}
        ``"delta"``: a spike of weight ``w`` (volt) adds ``w`` to ``v``.
        ``"exponential"``: it adds ``w`` to the synaptic current ``I_syn`` (volt),
        which decays with ``tau_syn``.

    Returns
    -------
    NeuronModel
        State ``v`` (and ``I_syn``); per-neuron parameters ``tau_m``, ``v_rest``,
        ``v_threshold``, ``v_reset``, ``I_ext`` (volt), ``tau_ref`` (and ``tau_syn``).
        Integration method ``"exact"``.

    Raises
    ------
    ValueError
        Unknown `synapse`.

    Notes
    -----
    With constant drive and :math:`v_\\infty = v_{rest} + I_{ext} > v_{threshold}`,
    the neuron fires periodically with period

    .. math::

        T = \\tau_{ref} + \\tau_m \\ln \\frac{v_\\infty - v_{reset}}{v_\\infty - v_{threshold}}.

    For the exponential synapse, a weight ``w`` arriving at rest gives the
    postsynaptic potential

    .. math::

        v(t) - v_{rest} = w \\frac{\\tau_{syn}}{\\tau_{syn} - \\tau_m}
        \\left(e^{-t/\\tau_{syn}} - e^{-t/\\tau_m}\\right),

    which is singular for :math:`\\tau_{syn} = \\tau_m`; such groups are rejected.
    Spikes fall on the time grid, so measured periods exceed :math:`T` by up to
    one ``dt``.

    Examples
    --------
    >>> from brian2 import mV, ms
    >>> model = lif("exponential")
    >>> group = model.make_group(100, tau_m=20 * ms, I_ext=25 * mV)  # doctest: +SKIP
    """
    if synapse not in LIF_SYNAPSE_TYPES:
        raise ValueError(f"synapse must be one of {LIF_SYNAPSE_TYPES}, got {synapse!r}")
    parameters = {
        "tau_m": 10 * ms,
        "v_rest": 0 * mV,
        "v_threshold": 20 * mV,
        "v_reset": 10 * mV,
        "I_ext": 0 * mV,
        "tau_ref": 2 * ms,
    }
    if synapse == "delta":
        equations = Equations(_MEMBRANE.format(synaptic=""))
        coupling_target = "v"
        validators = (threshold_above_reset("v_threshold", "v_reset"),)
        initial_values = {"v": "v_rest"}
    else:
        equations = Equations(_MEMBRANE.format(synaptic=" + I_syn") + _EXPONENTIAL_SYNAPSE)
        parameters["tau_syn"] = 5 * ms
        coupling_target = "I_syn"
        validators = (
            threshold_above_reset("v_threshold", "v_reset"),
            _check_distinct_time_constants,
        )
        initial_values = {"v": "v_rest", "I_syn": 0 * mV}
    return NeuronModel(
        name=f"lif_{synapse}",
        equations=equations,
        threshold="v > v_threshold",
        reset="v = v_reset",
        method="exact",
        parameters=parameters,
        initial_values=initial_values,
        coupling_target=coupling_target,
        coupling_on_pre=f"{coupling_target}_post += w",
        refractory="tau_ref",
        description=(
            f"Current-based leaky integrate-and-fire neuron with {synapse} synapses "
            "(Lapicque 1907; Burkitt 2006)."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=30 * mV,
        validators=validators,
    )
