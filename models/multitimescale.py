"""Neurons with multi-timescale adaptive thresholds: MAT and the multi-variable ALIF.

* `mat`: the multi-timescale adaptive threshold model of Kobayashi, Tsubo &
  Shinomoto (2009), Front. Comput. Neurosci. 3:9. A non-resetting leaky membrane
  and a threshold made of a resting level plus two exponentially decaying
  components (10 ms and 200 ms) that jump at every spike.
* `multi_alif`: the SRNN adaptive LIF (`neurosrnn.models.alif.alif`) with several
  adaptation traces :math:`b_k`, each with its own time constant, and threshold
  :math:`b_0 + \\sum_k \\beta_k b_k`. With one trace it is the SRNN ALIF.
"""

from __future__ import annotations

from brian2 import Equations, ms, mV

from ._base import NeuronModel, check_positive_int
from .alif import ZERO_SYNAPTIC_CURRENT

__all__ = ["mat", "multi_alif"]


def mat():
    """Return the multi-timescale adaptive threshold (MAT) neuron.

    Returns
    -------
    NeuronModel
        States ``v`` (volt, relative to rest, never reset), ``theta_1`` and
        ``theta_2`` (volt, threshold components); subexpression
        ``adaptive_threshold = omega + theta_1 + theta_2``. Per-neuron parameters
        ``tau_m``, ``tau_1``, ``tau_2``, ``tau_ref`` (second), ``omega``,
        ``alpha_1``, ``alpha_2``, ``I_ext`` (volt: the drive as a voltage
        :math:`R I`). Integration ``"exact"``.

    Notes
    -----
    .. math::

        \\tau_m \\frac{dv}{dt} &= -v + I_{ext} \\\\
        \\theta(t) &= \\omega + \\sum_{k=1}^{2} \\theta_k(t), \\qquad
        \\theta_k(t) = \\sum_{j} \\alpha_k e^{-(t - t_j)/\\tau_k}

    A spike is emitted when :math:`v > \\theta` outside the refractory period
    (2 ms); it adds :math:`\\alpha_k` to each :math:`\\theta_k` and leaves
    :math:`v` untouched. Synaptic weights ``w`` (volt) make ``v`` jump.

    Defaults: :math:`\\tau_m = 5` ms, :math:`\\tau_1 = 10` ms, :math:`\\tau_2 =
    200` ms, refractory 2 ms (fixed in the paper), and the regular-spiking values
    :math:`\\alpha_1 = 37` mV, :math:`\\alpha_2 = 2` mV, :math:`\\omega = 19` mV
    (the defaults of NEST's ``mat2_psc_exp``, which implements this paper; other
    cell types differ in :math:`\\alpha_1, \\alpha_2, \\omega` only).

    References: Kobayashi R, Tsubo Y & Shinomoto S (2009), Made-to-order spiking
    neuron model equipped with a multi-timescale adaptive threshold, Front.
    Comput. Neurosci. 3:9.
    """
    equations = Equations(
        """
        dv/dt = (-v + I_ext)/tau_m : volt
        dtheta_1/dt = -theta_1/tau_1 : volt
        dtheta_2/dt = -theta_2/tau_2 : volt
        adaptive_threshold = omega + theta_1 + theta_2 : volt
        tau_m : second (constant)
        tau_1 : second (constant)
        tau_2 : second (constant)
        tau_ref : second (constant)
        omega : volt (constant)
        alpha_1 : volt (constant)
        alpha_2 : volt (constant)
        I_ext : volt (constant)
        """
    )
    return NeuronModel(
        name="mat",
        equations=equations,
        threshold="v > omega + theta_1 + theta_2",
        reset="theta_1 += alpha_1\ntheta_2 += alpha_2",
        method="exact",
        parameters={
            "tau_m": 5 * ms,
            "tau_1": 10 * ms,
            "tau_2": 200 * ms,
            "tau_ref": 2 * ms,
            "omega": 19 * mV,
            "alpha_1": 37 * mV,
            "alpha_2": 2 * mV,
            "I_ext": 0 * mV,
        },
        initial_values={"v": 0 * mV, "theta_1": 0 * mV, "theta_2": 0 * mV},
        coupling_target="v",
        coupling_on_pre="v_post += w",
        refractory="tau_ref",
        description=(
            "Multi-timescale adaptive threshold neuron (Kobayashi, Tsubo & Shinomoto 2009, "
            "Front. Comput. Neurosci. 3:9): non-resetting membrane, threshold omega plus "
            "two decaying spike-triggered components."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=30 * mV,
    )


def multi_alif(n_adaptation=3):
    """Return the SRNN adaptive LIF with several adaptation variables.

    Parameters
    ----------
    n_adaptation : int
        Number of adaptation traces :math:`b_1, \\dots, b_n` (>= 1).

    Returns
    -------
    NeuronModel
        States ``v``, ``b_1`` ... ``b_n``, ``I_input``, ``I_synaptic``
        (dimensionless); subexpression ``adaptive_threshold``. Per-neuron
        parameters ``tau_m``, ``tau_adaptation_1`` ... ``tau_adaptation_n``
        (second), ``b0``, ``beta_1`` ... ``beta_n``, ``R_m``, ``I_ext``.

    Raises
    ------
    ValueError
        `n_adaptation` not a positive integer.

    Notes
    -----
    The discrete map generalises the SRNN ALIF (`neurosrnn.models.alif.alif`):
    with :math:`\\rho_k = e^{-\\Delta t/\\tau_k}`,

    .. math::

        b_{k,t} &= \\rho_k b_{k,t-1} + (1 - \\rho_k) s_{t-1} \\\\
        \\theta_t &= b_0 + \\sum_k \\beta_k b_{k,t} \\\\
        u_t &= \\alpha u_{t-1} + (1 - \\alpha) R_m I_t - \\theta_t s_{t-1}.

    In continuous time each trace decays, :math:`\\tau_k db_k/dt = -b_k`, and a
    spike at :math:`t_j` adds :math:`e^{\\Delta t/\\tau_k} - 1` (the map's jump
    pre-divided by the next decay), so after spikes at times :math:`t_j`

    .. math::

        b_k(t) = b_k(0) e^{-t/\\tau_k} + \\sum_{t_j \\le t}
        (e^{\\Delta t/\\tau_k} - 1) e^{-(t - t_j)/\\tau_k}.

    The reset then subtracts
    :math:`(b_0 + \\sum_k \\beta_k \\rho_k b_k)/\\alpha` from ``v``. Currents,
    coupling, the dependence on ``dt`` and defaults are those of `alif`; the
    default traces have time constants 20 ms, 200 ms, 2 s, ... (a factor 10
    apart) and
    :math:`\\beta_k = 1.8/n`. A multi-timescale threshold of this kind was
    proposed by Kobayashi et al. (2009); the SRNN form is from Yin, Corradi &
    Bohte (2021), Nat. Mach. Intell. 3:905.
    """
    n = check_positive_int(n_adaptation, "n_adaptation")
    indices = range(1, n + 1)
    return NeuronModel(
        name=f"multi_alif_{n}",
        equations=_multi_alif_equations(indices),
        threshold=f"v > b0 + {_threshold_sum(indices)}",
        reset=_multi_alif_reset(indices),
        method="exact",
        parameters=_multi_alif_parameters(indices),
        initial_values={"v": 0.0, "I_input": 0.0, "I_synaptic": 0.0}
        | {f"b_{k}": "b0" for k in indices},
        coupling_target="I_synaptic",
        coupling_on_pre="I_synaptic_post += w",
        refractory=False,
        description=(
            f"SRNN adaptive LIF with {n} adaptation traces, threshold b0 + sum_k beta_k*b_k "
            "(Yin, Corradi & Bohte 2021; Kobayashi et al. 2009)."
        ),
        drive_parameter="I_ext",
        suprathreshold_drive=0.5,
        run_regularly=(ZERO_SYNAPTIC_CURRENT,),
    )


def _threshold_sum(indices):
    return " + ".join(f"beta_{k}*b_{k}" for k in indices)


def _multi_alif_equations(indices):
    """ALIF equations with one decaying trace ``b_k`` per index and the summed threshold."""
    lines = [
        "dv/dt = (-v + R_m*(I_ext + I_input + I_synaptic))/tau_m : 1",
        *(f"db_{k}/dt = -b_{k}/tau_adaptation_{k} : 1" for k in indices),
        f"adaptive_threshold = b0 + {_threshold_sum(indices)} : 1",
        "tau_m : second (constant)",
        *(f"tau_adaptation_{k} : second (constant)" for k in indices),
        "b0 : 1 (constant)",
        *(f"beta_{k} : 1 (constant)" for k in indices),
        "R_m : 1 (constant)",
        "I_ext : 1 (constant)",
        "I_input : 1",
        "I_synaptic : 1",
    ]
    return Equations("\n".join(lines))


def _multi_alif_reset(indices):
    """Jump of every trace, then the soft reset by the decayed threshold (see `multi_alif`).

    Decays are written ``exp(-(dt/tau))`` (bit-identical to ``exp(-dt/tau)``) so that
    Brian2 does not hoist ``-dt`` out of the per-neuron code: brian2cuda's resetter
    would then declare ``dt`` twice in one scope (see `neurosrnn.models.alif.ALIF_RESET`).
    """
    decayed_sum = " + ".join(f"beta_{k}*exp(-(dt/tau_adaptation_{k}))*b_{k}" for k in indices)
    return "\n".join(
        [
            *(f"b_{k} += exp(dt/tau_adaptation_{k}) - 1" for k in indices),
            f"v -= (b0 + {decayed_sum})/exp(-(dt/tau_m))",
        ]
    )


def _multi_alif_parameters(indices):
    """Defaults: traces 20 ms, 200 ms, 2 s, ...; ``beta_k = 1.8/n``; rest as in `alif`."""
    n = len(indices)
    parameters = {"tau_m": 20 * ms}
    parameters.update({f"tau_adaptation_{k}": 20 * ms * 10 ** (k - 1) for k in indices})
    parameters["b0"] = 0.01
    parameters.update({f"beta_{k}": 1.8 / n for k in indices})
    parameters["R_m"] = 1.0
    parameters["I_ext"] = 0.0
    return parameters
