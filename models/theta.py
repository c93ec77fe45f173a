"""Theta neuron (phase form) and quadratic integrate-and-fire neuron (voltage form).

Both describe the normal form of a type-I (saddle-node on invariant circle)
neuron, in units of the membrane time constant :math:`\\tau_m`:

* QIF, voltage form: :math:`\\tau_m \\, dV/dt = V^2 + I_{ext}`, a spike when
  :math:`V \\to +\\infty`, reset to :math:`-\\infty`.
* Theta neuron, phase form, with :math:`V = \\tan(\\theta/2)`:
  :math:`\\tau_m \\, d\\theta/dt = (1 - \\cos\\theta) + (1 + \\cos\\theta) I_{ext}`,
  a spike when :math:`\\theta` crosses :math:`\\pi`.

For :math:`I_{ext} > 0` both fire periodically with period
:math:`T = \\pi \\tau_m / \\sqrt{I_{ext}}`.

A presynaptic pulse of weight :math:`J` (dimensionless) makes :math:`V` jump by
:math:`J`; in the phase form this is
:math:`\\theta^+ = 2 \\arctan(\\tan(\\theta^-/2) + J)`, which maps
:math:`(-\\pi, \\pi)` into itself (a finite pulse never causes a spike at once).
This is the model the exact event-driven SparseProp engine simulates. Careful: the
SparseProp *uniform-phase* form uses :math:`V = \\sqrt{I_{ext}} \\tan(\\phi/2)`, whose
pulse constant is :math:`c = J/\\sqrt{I_{ext}}`; pass :math:`J`, not :math:`c`, as the
weight here.

References
----------
Ermentrout GB & Kopell N (1986), SIAM J. Appl. Math. 46:233-253 (theta neuron);
Latham PE, Richmond BJ, Nelson PG & Nirenberg S (2000), J. Neurophysiol.
83:808-827 (QIF); Engelken R (2023), NeurIPS, arXiv:2312.17216 (SparseProp).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, ms

from ._base import NeuronModel, threshold_above_reset

__all__ = ["theta", "qif", "qif_period", "theta_period", "THETA_ON_PRE_INTERPOLATED"]


#: Pulse coupling with sub-step spike timing (see `theta`, ``pulse_timing="interpolated"``).
THETA_ON_PRE_INTERPOLATED = """
since_crossing = tau_m_pre/sqrt(I_ext_pre)*(arctan(tan(theta_pre/2)/sqrt(I_ext_pre)) + pi/2)
angle = arctan(tan(theta_post/2)/sqrt(I_ext_post)) - sqrt(I_ext_post)*since_crossing/tau_m_post
angle = arctan(tan(angle) + w/sqrt(I_ext_post)) + sqrt(I_ext_post)*since_crossing/tau_m_post
theta_post = 2*arctan(sqrt(I_ext_post)*tan(angle))
"""

_PULSE_TIMINGS = ("grid", "interpolated")


def theta(pulse_timing="grid"):
    """Return the theta neuron in phase form, with pulse coupling.

    Parameters
    ----------
    pulse_timing : {"grid", "interpolated"}
        ``"grid"``: a pulse acts at the time step of the presynaptic spike,
        ``theta_post = 2*arctan(tan(theta_post/2) + w)``. ``"interpolated"``: the
        presynaptic overshoot past :math:`\\pi` gives the time since its threshold
        crossing (from the exact free flow, :math:`V = \\sqrt{I}\\tan a`); the
        postsynaptic neuron is moved back by that time on its own free flow, kicked
        (:math:`V \\to V + w`) and moved forward again (`THETA_ON_PRE_INTERPOLATED`).
        Spike-time shifts smaller than ``dt`` then reach the targets, which
        clock-driven perturbation measures of chaos need (Hansel, Mato & Meunier
        1998, Neural Comput. 10:467). Needs ``I_ext > 0`` for every neuron.

    Returns
    -------
    NeuronModel
        State ``theta`` (dimensionless phase in :math:`(-\\pi, \\pi]`); per-neuron
        parameters ``tau_m`` (second) and ``I_ext`` (dimensionless).

    Notes
    -----
    .. math::

        \\tau_m \\frac{d\\theta}{dt} = (1 - \\cos\\theta) + (1 + \\cos\\theta) I_{ext}

    A spike is emitted when :math:`\\theta > \\pi`; the reset subtracts
    :math:`2\\pi`, so the overshoot of the last step is kept and the mean period
    has no grid bias. A pulse of weight ``w`` acts as
    ``theta_post = 2*arctan(tan(theta_post/2) + w)``. Brian2 delivers pulses before
    resets, and ``arctan`` already maps a phase past :math:`\\pi` back into
    :math:`(-\\pi, \\pi)`; the reset therefore subtracts :math:`2\\pi` only while
    :math:`\\theta > \\pi` (``theta -= 2*pi*int(theta > pi)``), so a neuron that
    spikes and receives a pulse in the same step is wrapped once, not twice.
    Integration uses ``"rk4"``; keep ``dt`` well below the period
    (``dt <= tau_m/100`` gives period errors below 1e-4 relative for
    :math:`I_{ext} \\le 1`). Period: `theta_period`.

    References: Ermentrout & Kopell (1986), SIAM J. Appl. Math. 46:233.
    """
    if pulse_timing not in _PULSE_TIMINGS:
        raise ValueError(f"pulse_timing must be one of {_PULSE_TIMINGS}, got {pulse_timing!r}")
    equations = Equations(
        """
        dtheta/dt = ((1 - cos(theta)) + (1 + cos(theta))*I_ext)/tau_m : 1
        tau_m : second (constant)
        I_ext : 1 (constant)
        """
    )
    return NeuronModel(
        name="theta" if pulse_timing == "grid" else "theta_interpolated",
        equations=equations,
        threshold="theta > pi",
        reset="theta -= 2*pi*int(theta > pi)",
        method="rk4",
        parameters={"tau_m": 10 * ms, "I_ext": 0.1},
        initial_values={"theta": -np.pi / 2},
        coupling_target="theta",
        coupling_on_pre=(
            THETA_ON_PRE_INTERPOLATED
            if pulse_timing == "interpolated"
            else "theta_post = 2*arctan(tan(theta_post/2) + w)"
        ),
        refractory=False,
        description=(
            "Theta neuron (Ermentrout & Kopell 1986), phase form of the quadratic "
            "integrate-and-fire neuron, with pulse coupling V -> V + w, V = tan(theta/2)."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=0.1,
    )


def qif():
    """Return the quadratic integrate-and-fire neuron in voltage form.

    Returns
    -------
    NeuronModel
        State ``v`` (dimensionless); per-neuron parameters ``tau_m`` (second),
        ``I_ext``, ``v_peak`` and ``v_reset`` (dimensionless).

    Notes
    -----
    .. math::

        \\tau_m \\frac{dv}{dt} = v^2 + I_{ext}

    The ideal model spikes at :math:`v = +\\infty` and resets to :math:`-\\infty`;
    here a spike is emitted when :math:`v > v_{peak}` and ``v`` is set to
    :math:`v_{reset}` (defaults :math:`\\pm 10`). This truncation shortens the period
    from :math:`\\pi\\tau_m/\\sqrt{I}` to

    .. math::

        T = \\frac{\\tau_m}{\\sqrt{I}} \\left[\\arctan\\frac{v_{peak}}{\\sqrt{I}}
        - \\arctan\\frac{v_{reset}}{\\sqrt{I}}\\right]

    (`qif_period`); for :math:`v_{peak} = -v_{reset} = 10` and :math:`I = 0.1` the
    relative error is 2 %. Larger :math:`v_{peak}` needs a smaller ``dt``
    (:math:`dv/dt \\approx v_{peak}^2/\\tau_m` near the peak): with ``rk4`` keep
    ``dt <= tau_m / (10 v_peak)``. Spikes fall on the grid and the reset discards
    the overshoot, so each period is lengthened by up to one ``dt``. For exact
    periods use `theta`.

    References: Latham et al. (2000), J. Neurophysiol. 83:808.
    """
    equations = Equations(
        """
        dv/dt = (v**2 + I_ext)/tau_m : 1
        tau_m : second (constant)
        I_ext : 1 (constant)
        v_peak : 1 (constant)
        v_reset : 1 (constant)
        """
    )
    return NeuronModel(
        name="qif",
        equations=equations,
        threshold="v > v_peak",
        reset="v = v_reset",
        method="rk4",
        parameters={"tau_m": 10 * ms, "I_ext": 0.1, "v_peak": 10.0, "v_reset": -10.0},
        initial_values={"v": 0.0},
        coupling_target="v",
        coupling_on_pre="v_post += w",
        refractory=False,
        description=(
            "Quadratic integrate-and-fire neuron (Latham et al. 2000) with finite peak and "
            "reset values, pulse coupling v -> v + w."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=0.1,
        validators=(threshold_above_reset("v_peak", "v_reset"),),
    )


def _check_period_arguments(tau_m, I_ext, neuron):
    """Check `tau_m` and the drive of a periodic neuron; return `I_ext` as a float array."""
    values = np.asarray(tau_m, dtype=float)
    if np.any(~np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"tau_m must be finite and > 0, got {tau_m!r}")
    I_ext = np.asarray(I_ext, dtype=float)
    if np.any(~np.isfinite(I_ext)) or np.any(I_ext <= 0):
        raise ValueError(f"I_ext must be finite and > 0 for a periodic {neuron} neuron")
    return I_ext


def theta_period(tau_m, I_ext):
    """Return the firing period :math:`\\pi \\tau_m / \\sqrt{I_{ext}}` of the theta neuron.

    Parameters
    ----------
    tau_m : brian2 quantity or float
        Membrane time constant (> 0).
    I_ext : float or array
        Dimensionless drive (> 0).

    Returns
    -------
    Same type as ``tau_m``

    Raises
    ------
    ValueError
        Non-positive or non-finite `tau_m` or `I_ext`.
    """
    I_ext = _check_period_arguments(tau_m, I_ext, "theta")
    return np.pi * tau_m / np.sqrt(I_ext)


def qif_period(tau_m, I_ext, v_peak=10.0, v_reset=-10.0):
    """Return the period of the QIF neuron with finite peak and reset values.

    Parameters
    ----------
    tau_m : brian2 quantity or float
        Membrane time constant (> 0).
    I_ext : float or array
        Dimensionless drive (> 0).
    v_peak, v_reset : float
        Spike and reset values (``v_reset < v_peak``).

    Returns
    -------
    Same type as ``tau_m``
        The period

        .. math::

            T = \\frac{\\tau_m}{\\sqrt{I}} \\left[\\arctan\\frac{v_{peak}}{\\sqrt{I}}
            - \\arctan\\frac{v_{reset}}{\\sqrt{I}}\\right].

    Raises
    ------
    ValueError
        Non-positive or non-finite `tau_m` or `I_ext`, or ``v_reset >= v_peak``.
    """
    I_ext = _check_period_arguments(tau_m, I_ext, "QIF")
    if not v_reset < v_peak:
        raise ValueError(f"v_reset must be < v_peak, got v_reset={v_reset}, v_peak={v_peak}")
    root = np.sqrt(I_ext)
    return tau_m / root * (np.arctan(v_peak / root) - np.arctan(v_reset / root))
