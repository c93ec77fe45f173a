"""Phase representations of the theta (QIF) and LIF neurons used by SparseProp.

Between input pulses every neuron advances its phase at a constant speed,
:math:`d\\phi/dt = \\omega`, from the reset phase :math:`\\phi_r` to the threshold
phase :math:`\\phi_{th}`; a delta pulse maps the phase through the phase transition
curve (PTC) :math:`\\phi^+ = g(\\phi^-)`. Time is measured in units of the membrane
time constant :math:`\\tau` inside the engine.

Theta / QIF neuron (time in units of tau, drive ``I > 0``)
    :math:`dV/dt = V^2 + I`, equivalently the theta neuron
    :math:`d\\theta/dt = (1 - \\cos\\theta) + (1 + \\cos\\theta) I` with
    :math:`V = \\tan(\\theta/2)`. Phase: :math:`V = \\sqrt{I}\\tan(\\phi/2)`,
    :math:`\\omega = 2\\sqrt{I}`, :math:`\\phi_r = -\\pi`, :math:`\\phi_{th} = \\pi`.
    A pulse of weight ``w`` (the theta-form kick, ``tan(theta/2) += w``, the same
    ``w`` as in the Brian2 model's ``on_pre``) has phase constant :math:`c = w/\\sqrt{I}`
    and :math:`g(\\phi) = 2\\arctan(\\tan(\\phi/2) + c)`. **c < 0 is inhibitory.**

LIF neuron (normalised voltage, reset 0, threshold 1, drive ``I > 0``)
    :math:`dV/dt = -V + \\mu` with :math:`\\mu = 1 + I`. Phase:
    :math:`V = \\mu(1 - e^{-\\phi/\\omega})`, :math:`\\omega = 1/\\ln(1 + 1/I)`,
    :math:`\\phi_r = 0`, :math:`\\phi_{th} = 1`. A pulse ``V += w`` has
    :math:`c = -w/\\mu` and :math:`g(\\phi) = -\\omega\\ln(e^{-\\phi/\\omega} + c)`.
    **c > 0 is inhibitory** (the opposite sign convention to the theta neuron). An
    excitatory pulse that lifts ``V`` to threshold or above makes the neuron fire at
    once: the PTC then returns :math:`\\phi_{th}`.

The numba functions here (`theta_ptc`, `lif_ptc`, their derivatives, `pulse_phase`,
`pulse_derivative`) are the building blocks of the engine and of the exact Lyapunov
analysis (single-spike Jacobian entries :math:`d_i = g'(\\phi_i^-)`).

References
----------
Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).
Monteforte M., Wolf F. (2010) Dynamical entropy production in spiking neuron networks
in the balanced state. Phys. Rev. Lett. 105:268104.
Ermentrout G. B., Kopell N. (1986) Parabolic bursting in an excitable system coupled
with a slow oscillation. SIAM J. Appl. Math. 46:233.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

__all__ = [
    "THETA",
    "LIF",
    "TABULATED",
    "PhaseModel",
    "phase_model",
    "theta_ptc",
    "theta_ptc_derivative",
    "theta_ptc_coupling_derivative",
    "lif_ptc",
    "lif_ptc_derivative",
    "lif_ptc_coupling_derivative",
    "pulse_phase",
    "pulse_phase_and_base",
    "pulse_derivative",
]

#: Integer code of the theta (QIF) model in the compiled kernels.
THETA = 0
#: Integer code of the LIF model in the compiled kernels.
LIF = 1
#: Integer code of tabulated models in the compiled kernels.
TABULATED = 2


# --------------------------------------------------------------------------- PTCs


@numba.njit(cache=True, inline="always")
def theta_ptc(phase, c):
    """Theta-neuron PTC :math:`g(\\phi) = 2\\arctan(\\tan(\\phi/2) + c)` (c < 0 inhibits)."""
    return 2.0 * math.atan(math.tan(0.5 * phase) + c)


@numba.njit(cache=True, inline="always")
def theta_ptc_derivative(phase, c):
    """:math:`g'(\\phi) = (1 + \\tan^2(\\phi/2)) / (1 + (\\tan(\\phi/2) + c)^2)`."""
    t = math.tan(0.5 * phase)
    u = t + c
    return (1.0 + t * t) / (1.0 + u * u)


@numba.njit(cache=True, inline="always")
def theta_ptc_coupling_derivative(phase, c):
    """:math:`\\partial g/\\partial c = 2 / (1 + (\\tan(\\phi/2) + c)^2)`."""
    u = math.tan(0.5 * phase) + c
    return 2.0 / (1.0 + u * u)


@numba.njit(cache=True, inline="always")
def lif_ptc(phase, c, omega):
    """LIF PTC :math:`g(\\phi) = -\\omega\\ln(e^{-\\phi/\\omega} + c)` (c > 0 inhibits).

    Returns ``+inf`` when the argument of the logarithm is not positive (the pulse
    crosses threshold); callers clamp the result to the threshold phase.
    """
    argument = math.exp(-phase / omega) + c
    if argument <= 0.0:
        return math.inf
    return -omega * math.log(argument)


@numba.njit(cache=True, inline="always")
def lif_ptc_derivative(phase, c, omega):
    """:math:`g'(\\phi) = e^{-\\phi/\\omega} / (e^{-\\phi/\\omega} + c)`."""
    e = math.exp(-phase / omega)
    return e / (e + c)


@numba.njit(cache=True, inline="always")
def lif_ptc_coupling_derivative(phase, c, omega):
    """:math:`\\partial g/\\partial c = -\\omega / (e^{-\\phi/\\omega} + c)`."""
    return -omega / (math.exp(-phase / omega) + c)


@numba.njit(cache=True, inline="always")
def pulse_phase(model, phase, weight, scale, omega, phase_threshold):
    """Phase after a pulse of `weight` for model code `model` (`THETA` or `LIF`).

    `scale` converts the weight to the PTC constant: ``c = weight * scale`` for theta
    (``scale = 1/sqrt(I)``) and ``c = -weight * scale`` for LIF (``scale = 1/(1 + I)``).
    `omega` is the neuron's phase speed (used by LIF only). The result is clamped to
    `phase_threshold`; a returned value equal to it means "fires now" (LIF only).
    """
    return pulse_phase_and_base(model, phase, weight, scale, omega, phase_threshold)[0]


@numba.njit(cache=True, inline="always")
def pulse_phase_and_base(model, phase, weight, scale, omega, phase_threshold):
    """`pulse_phase` and the pre-pulse state in the variable in which pulses add.

    Returns ``(new_phase, base)`` with :math:`b = \\tan(\\phi/2)` (theta) or
    :math:`b = e^{-\\phi/\\omega}` (LIF): the PTC is :math:`2\\arctan(b + c)` or
    :math:`-\\omega\\ln(b + c)`, so every derivative of the pulse is a rational function of
    ``b`` and ``c`` (:math:`g' = (1 + b^2)/(1 + (b + c)^2)` or :math:`b/(b + c)`), and
    the new phase is that of `theta_ptc` or `lif_ptc` (clamped), bit for bit. The
    engine's and the replay's one PTC (`pulse_phase` is its first half); the exact
    gradients store ``base`` so that their reverse sweep needs no ``tan`` or ``exp``.
    """
    if model == 0:
        base = math.tan(0.5 * phase)
        return 2.0 * math.atan(base + weight * scale), base
    base = math.exp(-phase / omega)
    argument = base - weight * scale
    if argument <= 0.0:
        return phase_threshold, base
    new_phase = -omega * math.log(argument)
    if new_phase >= phase_threshold:
        return phase_threshold, base
    return new_phase, base


@numba.njit(cache=True, inline="always")
def pulse_derivative(model, phase, weight, scale, omega):
    """:math:`d = g'(\\phi^-)` for a pulse of `weight` (see `pulse_phase`)."""
    if model == 0:
        return theta_ptc_derivative(phase, weight * scale)
    return lif_ptc_derivative(phase, -weight * scale, omega)


# --------------------------------------------------------------------------- model description


@dataclass(frozen=True)
class PhaseModel:
    """Phase description of one neuron model: speeds, PTC scales, state conversions.

    Parameters
    ----------
    name : str
        ``"theta"`` or ``"lif"``.
    code : int
        `THETA` or `LIF` (the integer the compiled kernels use).
    phase_reset, phase_threshold : float
        :math:`\\phi_r` and :math:`\\phi_{th}`.
    state_name : str
        Name of the model-form state returned by `phase_to_state` (``"theta"``:
        the angle of the theta neuron; ``"v"``: the LIF voltage normalised to reset 0,
        threshold 1).
    """

    name: str
    code: int
    phase_reset: float
    phase_threshold: float
    state_name: str

    def __repr__(self):
        return (
            f"<PhaseModel {self.name!r}: phase in [{self.phase_reset:g}, "
            f"{self.phase_threshold:g}), state {self.state_name!r}>"
        )

    def check_drive(self, drive):
        """Return `drive` as a float array, raising ValueError unless it is finite and > 0."""
        drive = np.asarray(drive, dtype=float)
        if not np.all(np.isfinite(drive)):
            raise ValueError("drive must be finite (got NaN or inf)")
        if np.any(drive <= 0):
            raise ValueError(
                f"drive must be > 0 for every neuron: the {self.name} phase representation "
                "needs a suprathreshold constant drive (a neuron without it never fires "
                f"and has no phase); got min drive {drive.min():g}"
            )
        return drive

    def omega(self, drive):
        """Phase speed :math:`\\omega` (per unit of tau) for `drive`."""
        drive = self.check_drive(drive)
        if self.code == THETA:
            return 2.0 * np.sqrt(drive)
        return 1.0 / np.log1p(1.0 / drive)

    def pulse_scale(self, drive):
        """Factor converting a weight into the PTC constant (see `pulse_phase`)."""
        drive = self.check_drive(drive)
        if self.code == THETA:
            return 1.0 / np.sqrt(drive)
        return 1.0 / (1.0 + drive)

    def period(self, drive):
        """Free-running inter-spike interval in units of tau."""
        return (self.phase_threshold - self.phase_reset) / self.omega(drive)

    def phase_to_state(self, phase, drive):
        """Model-form state (theta angle, or normalised LIF voltage) of `phase`."""
        phase = np.asarray(phase, dtype=float)
        drive = self.check_drive(drive)
        if self.code == THETA:
            return 2.0 * np.arctan(np.sqrt(drive) * np.tan(0.5 * phase))
        mu = 1.0 + drive
        return mu * -np.expm1(-phase / self.omega(drive))

    def state_to_phase(self, state, drive):
        """Phase of a model-form state (inverse of `phase_to_state`)."""
        state = np.asarray(state, dtype=float)
        drive = self.check_drive(drive)
        if self.code == THETA:
            return 2.0 * np.arctan(np.tan(0.5 * state) / np.sqrt(drive))
        mu = 1.0 + drive
        return -self.omega(drive) * np.log1p(-state / mu)

    def check_phases(self, phases, N, name="initial_phases"):
        """Return `phases` as a length-`N` float array, or raise a ValueError naming `name`."""
        phases = np.array(phases, dtype=float)
        if phases.ndim == 0:
            phases = np.full(N, float(phases))
        if phases.shape != (N,):
            raise ValueError(f"{name} must have one entry per neuron ({N}), got {phases.shape}")
        if not np.all(np.isfinite(phases)):
            raise ValueError(f"{name} must be finite (got NaN or inf)")
        if self.code == THETA:
            bad = (phases < self.phase_reset) | (phases >= self.phase_threshold)
            allowed = "[-pi, pi)"
        else:
            bad = phases >= self.phase_threshold
            allowed = "(-inf, 1) (below threshold)"
        if np.any(bad):
            raise ValueError(
                f"{name} for the {self.name} model must lie in {allowed}; "
                f"{int(bad.sum())} value(s) outside, e.g. {phases[bad][0]!r}"
            )
        return phases


_MODELS = {
    "theta": PhaseModel("theta", THETA, -math.pi, math.pi, "theta"),
    "qif": PhaseModel("theta", THETA, -math.pi, math.pi, "theta"),
    "lif": PhaseModel("lif", LIF, 0.0, 1.0, "v"),
}


def phase_model(name):
    """Return the `PhaseModel` called `name` (``"theta"``, alias ``"qif"``, or ``"lif"``).

    Raises
    ------
    ValueError
        Unknown model name.
    """
    if isinstance(name, PhaseModel):
        return name
    key = str(name).lower()
    if key not in _MODELS:
        raise ValueError(f"model must be one of 'theta', 'qif', 'lif'; got {name!r}")
    return _MODELS[key]
