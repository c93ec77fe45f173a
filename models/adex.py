"""Adaptive exponential integrate-and-fire (AdEx) neuron and its firing patterns.

.. math::

    C \\frac{dV}{dt} &= -g_L (V - E_L) + g_L \\Delta_T e^{(V - V_T)/\\Delta_T} - w + I_{ext} \\\\
    \\tau_w \\frac{dw}{dt} &= a (V - E_L) - w

When :math:`V > V_{peak}`: :math:`V \\leftarrow V_{reset}`, :math:`w \\leftarrow w + b`.

References
----------
Brette R & Gerstner W (2005), Adaptive exponential integrate-and-fire model as an
effective description of neuronal activity, J. Neurophysiol. 94:3637-3642.
Naud R, Marcille N, Clopath C & Gerstner W (2008), Firing patterns in the adaptive
exponential integrate-and-fire model, Biol. Cybern. 99:335-347 (Table 1:
parameters of the firing patterns of their Fig. 4).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, ms, mV, nS, pA, pF

from ._base import NeuronModel

__all__ = ["adex", "ADEX_FIRING_PATTERNS", "ADEX_RECOMMENDED_DT"]

#: Time step recommended with ``method="euler"``. Measured against a 0.005 ms
#: reference for the sets of `ADEX_FIRING_PATTERNS` (600 ms; the chaotic
#: "irregular" set excluded): at 0.05 ms each pattern keeps its type, spike counts
#: differ by at most 1, intervals above 20 ms are within 3.5 % and intra-burst
#: intervals within 7 %; 0.01 ms brings both below 1 %.
ADEX_RECOMMENDED_DT = 0.05 * ms


def _check_adex_parameters(model_name, values):
    """Reject non-positive C, g_L, Delta_T and a reset at or above the spike cut."""
    for name in ("C", "g_L", "Delta_T"):
        if np.any(np.asarray(values[name], dtype=float) <= 0):
            raise ValueError(f"Model {model_name!r}: {name} must be > 0 for every neuron")
    if np.any(
        np.asarray(values["V_reset"], dtype=float) >= np.asarray(values["V_peak"], dtype=float)
    ):
        raise ValueError(f"Model {model_name!r}: V_reset must be < V_peak for every neuron")


def _pattern(C, g_L, E_L, V_T, Delta_T, a, tau_w, b, V_reset, I_ext):
    return {
        "C": C * pF,
        "g_L": g_L * nS,
        "E_L": E_L * mV,
        "V_T": V_T * mV,
        "Delta_T": Delta_T * mV,
        "a": a * nS,
        "tau_w": tau_w * ms,
        "b": b * pA,
        "V_reset": V_reset * mV,
        "I_ext": I_ext * pA,
    }


#: Firing-pattern parameter sets of Naud et al. (2008), Table 1 (step current
#: ``I_ext`` included; ``V_peak`` keeps its default 0 mV). Pattern name ->
#: keyword arguments for ``adex().make_group``. Start from ``V = E_L``, ``w = 0``.
ADEX_FIRING_PATTERNS = {
    "tonic": _pattern(200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
    "adapting": _pattern(200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
    "initial_burst": _pattern(130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
    "regular_bursting": _pattern(200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
    "delayed_accelerating": _pattern(200, 12, -70, -50, 2, -10, 300, 0, -58, 300),
    "delayed_regular_bursting": _pattern(100, 10, -65, -50, 2, -10, 90, 30, -47, 110),
    "irregular": _pattern(100, 12, -60, -50, 2, -11, 130, 30, -48, 160),
}


def adex():
    """Return the AdEx neuron (Brette & Gerstner 2005).

    Returns
    -------
    NeuronModel
        States ``V`` (volt) and ``w`` (amp); per-neuron parameters ``C`` (farad),
        ``g_L`` (siemens), ``E_L``, ``V_T``, ``Delta_T``, ``V_reset``, ``V_peak``
        (volt), ``tau_w`` (second), ``a`` (siemens), ``b`` and ``I_ext`` (amp).
        Integration ``"euler"``.

    Notes
    -----
    The exponential term makes the equations stiff near the spike, so they are
    integrated with forward Euler at a small step: use ``dt <=``
    `ADEX_RECOMMENDED_DT` (0.05 ms). Defaults are the "tonic" set of
    `ADEX_FIRING_PATTERNS` without drive, with ``V_peak = 0 mV`` (a spike is cut
    there; beyond :math:`V_T + 5\\Delta_T` the upswing takes a small fraction of a
    millisecond, so the exact cut hardly changes spike times). Synaptic weights
    act as voltage jumps, ``on_pre = "V_post += weight"`` with ``weight`` in volt (the
    weight is not called ``w``, which is the adaptation current here).

    The parameter sets of Naud et al. (2008) are in `ADEX_FIRING_PATTERNS`:

    >>> group = adex().make_group(1, **ADEX_FIRING_PATTERNS["adapting"])  # doctest: +SKIP
    """
    equations = Equations(
        """
        dV/dt = (-g_L*(V - E_L) + g_L*Delta_T*exp((V - V_T)/Delta_T) - w + I_ext)/C : volt
        dw/dt = (a*(V - E_L) - w)/tau_w : amp
        C : farad (constant)
        g_L : siemens (constant)
        E_L : volt (constant)
        V_T : volt (constant)
        Delta_T : volt (constant)
        V_reset : volt (constant)
        V_peak : volt (constant)
        tau_w : second (constant)
        a : siemens (constant)
        b : amp (constant)
        I_ext : amp (constant)
        """
    )
    parameters = dict(ADEX_FIRING_PATTERNS["tonic"])
    parameters["I_ext"] = 0 * pA
    parameters["V_peak"] = 0 * mV
    return NeuronModel(
        name="adex",
        equations=equations,
        threshold="V > V_peak",
        reset="V = V_reset\nw += b",
        method="euler",
        parameters=parameters,
        initial_values={"V": "E_L", "w": 0 * pA},
        coupling_target="V",
        coupling_on_pre="V_post += weight",
        weight_variable="weight",
        refractory=False,
        description=(
            "Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005, J. "
            "Neurophysiol. 94:3637); firing patterns of Naud et al. 2008 (Biol. Cybern. "
            "99:335) in ADEX_FIRING_PATTERNS."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=500 * pA,
        validators=(_check_adex_parameters,),
    )
