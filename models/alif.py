"""Adaptive LIF neuron of the spiking recurrent network (SRNN) of Yin, Corradi & Bohte.

The SRNN (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905-913; 2020, ICONS,
arXiv:2005.11633) uses a discrete-time adaptive LIF neuron. With
:math:`\\alpha = e^{-\\Delta t/\\tau_m}`, :math:`\\rho = e^{-\\Delta t/\\tau_{adp}}` and
input current :math:`I_t` (held over the step), step :math:`t` computes

.. math::

    b_t &= \\rho\\, b_{t-1} + (1 - \\rho)\\, s_{t-1} \\\\
    \\theta_t &= b_0 + \\beta\\, b_t \\\\
    u_t &= \\alpha\\, u_{t-1} + (1 - \\alpha) R_m I_t - \\theta_t\\, s_{t-1} \\\\
    s_t &= H(u_t - \\theta_t)

so a spike is followed by a soft reset by the *next* step's threshold.

This module writes the same neuron in continuous time,

.. math::

    \\tau_m \\frac{dv}{dt} = -v + R_m (I_{ext} + I_{input} + I_{synaptic}),
    \\qquad \\tau_{adp} \\frac{db}{dt} = -b,

with all currents constant within a time step. Brian2's exact integration then
performs the decays :math:`\\alpha` and :math:`\\rho` and the input term
:math:`(1-\\alpha) R_m I` of one step exactly. Because Brian2 applies the reset
*before* the next step's decay, whereas the map applies the spike's effects after
it, the reset pre-divides each jump by the decay that follows:

.. math::

    b \\leftarrow b + (1 - \\rho)/\\rho, \\qquad
    v \\leftarrow v - (b_0 + \\beta \\rho\\, b)/\\alpha

(the second line using the incremented ``b``). After the next decay these are
exactly the :math:`b_t` and :math:`-\\theta_t s_{t-1}` terms of the map, so a group
run with ``dt`` equal to the SRNN step reproduces the map to rounding error.

Currents:

* ``I_ext`` (constant): per-neuron bias or constant drive;
* ``I_input``: a held input current for the step, written by the caller at the
  start of every step (e.g. ``group.run_regularly("I_input = table(t, i)",
  when="start")`` with a `brian2.TimedArray`; `srnn_network` does this);
* ``I_synaptic``: the sum of the weights of the spikes delivered in the previous
  step. Synapses add to it (``on_pre = "I_synaptic_post += w"``) and the group
  zeroes it just before synaptic propagation of every step, so spikes of step
  :math:`t-1` drive step :math:`t`, as :math:`W s_{t-1}` does in the map.
"""

from __future__ import annotations

from brian2 import Equations, ms

from ._base import NeuronModel

__all__ = ["alif", "ALIF_RESET", "ZERO_SYNAPTIC_CURRENT"]

#: Reset of the SRNN ALIF: the map's jumps pre-divided by the decay that follows.
#:
#: The decays are written ``exp(-(dt/tau))``, not ``exp(-dt/tau)``: the two are equal
#: to the last bit (IEEE negation is exact and division is sign-symmetric), but
#: Brian2's loop-invariant optimisation hoists the scalar ``-dt`` of the second form
#: into the scalar block, so ``dt`` would be read there *and* in the per-neuron block
#: (``exp(dt/tau_adp)``). brian2cuda's spike-resetter kernel puts both blocks in one
#: C++ scope, and nvcc rejects the second ``const double dt``. With the parenthesised
#: form ``dt`` is read only in the per-neuron block, on every device.
ALIF_RESET = """
b += exp(dt/tau_adp) - 1
v -= (b0 + beta*exp(-(dt/tau_adp))*b)/exp(-(dt/tau_m))
"""

#: ``(code, when)`` that zeroes the held synaptic current before synaptic propagation.
ZERO_SYNAPTIC_CURRENT = ("I_synaptic = 0", "before_synapses")


def alif():
    """Return the SRNN adaptive LIF neuron (continuous-time form of the discrete map).

    Returns
    -------
    NeuronModel
        States ``v`` (membrane, dimensionless), ``b`` (adaptation trace,
        dimensionless), ``I_input`` and ``I_synaptic`` (held currents);
        subexpression ``adaptive_threshold = b0 + beta*b``. Per-neuron parameters
        ``tau_m``, ``tau_adp`` (second), ``b0``, ``beta``, ``R_m`` and ``I_ext``
        (dimensionless). Integration ``"exact"``, no refractoriness.

    Notes
    -----
    Threshold ``v > b0 + beta*b``; reset `ALIF_RESET`; coupling
    ``I_synaptic_post += w`` with ``I_synaptic`` zeroed every step before synaptic
    propagation (so a spike of weight ``w`` moves ``v`` by :math:`(1-\\alpha) R_m w`
    over the next step, as in the SRNN). Use ``dt`` equal to the SRNN time step
    (e.g. the 1 ms or 4 ms bin), with time constants in seconds
    (:math:`\\tau` in steps times the bin width). Initial state: ``v = 0``,
    ``b = b0`` (the SRNN code starts the trace at :math:`b_{j0}`).

    The model is defined per time step: the spike-triggered jump of ``b`` is
    :math:`1/\\rho - 1 \\approx \\Delta t/\\tau_{adp}` and ``b`` tracks the fraction of
    steps with a spike, so the strength of adaptation scales with ``dt``. With a
    fine physical time step (0.1 ms) and cortical rates the adaptation is weak;
    for physical-time networks prefer `neurosrnn.models.multitimescale.mat` or
    `neurosrnn.models.adex.adex`, or run the ALIF with ``dt`` = the SRNN step.

    Defaults follow the SRNN code: ``beta = 1.8``, ``b0 = 0.01``, ``R_m = 1``;
    ``tau_m = 20 ms`` and ``tau_adp = 200 ms``. Time constants must stay positive
    (the released SRNN checkpoints contain a negative :math:`\\tau_{adp}`, which
    makes :math:`\\rho > 1`); `make_group` rejects them.

    Examples
    --------
    >>> from brian2 import ms
    >>> group = alif().make_group(128, tau_m=20 * ms, tau_adp=150 * ms, dt=1 * ms)  # doctest: +SKIP
    """
    equations = Equations(
        """
        dv/dt = (-v + R_m*(I_ext + I_input + I_synaptic))/tau_m : 1
        db/dt = -b/tau_adp : 1
        adaptive_threshold = b0 + beta*b : 1
        tau_m : second (constant)
        tau_adp : second (constant)
        b0 : 1 (constant)
        beta : 1 (constant)
        R_m : 1 (constant)
        I_ext : 1 (constant)
        I_input : 1
        I_synaptic : 1
        """
    )
    return NeuronModel(
        name="alif",
        equations=equations,
        threshold="v > b0 + beta*b",
        reset=ALIF_RESET,
        method="exact",
        parameters={
            "tau_m": 20 * ms,
            "tau_adp": 200 * ms,
            "b0": 0.01,
            "beta": 1.8,
            "R_m": 1.0,
            "I_ext": 0.0,
        },
        initial_values={"v": 0.0, "b": "b0", "I_input": 0.0, "I_synaptic": 0.0},
        coupling_target="I_synaptic",
        coupling_on_pre="I_synaptic_post += w",
        refractory=False,
        description=(
            "Adaptive LIF of the SRNN (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. "
            "3:905), threshold b0 + beta*b, soft reset, exact reproduction of the "
            "discrete map."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=0.5,
        run_regularly=(ZERO_SYNAPTIC_CURRENT,),
    )
