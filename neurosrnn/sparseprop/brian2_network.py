"""The same network as a SparseProp network, built as a clock-driven Brian2 `Network`.

The neurons come from the model library (`neurosrnn.models.theta.theta`,
`neurosrnn.models.lif.lif`), the synapses use the model's ``coupling_on_pre`` and the
graph is the very same `Connectivity` (a memory-free graph is materialised), so the
Brian2 run on any device (runtime, C++ or CUDA standalone) and the exact event-driven
run simulate one network. Spikes of the Brian2 run sit on the ``dt`` grid, so their
times converge to the exact ones at first order in ``dt``.

Mapping of the engine's dimensionless models:

- theta: ``tau_m = tau``, ``I_ext = drive``, weight ``w`` (dimensionless, the same
  number), ``theta`` initialised from the engine state. Pulses are timed between grid
  points by default (``pulse_timing="interpolated"``, see below).
- LIF: the normalised voltage ``V`` (reset 0, threshold 1) is
  ``v = V * voltage_scale`` with ``v_reset = v_rest = 0 mV``,
  ``v_threshold = voltage_scale``, ``I_ext = (1 + drive) * voltage_scale``,
  ``tau_ref = 0 ms``, and weights ``w * voltage_scale``.

Pulse timing and chaos
----------------------
In a clock-driven run a pulse reaches its targets in the step in which the presynaptic
threshold was crossed (``pulse_timing="grid"``). A shift of a spike time smaller than
``dt`` then never reaches the targets, so the spike-time term of the single-spike
Jacobian is missing and small perturbations are rounded away: grid timing makes a
chaotic theta network look stable. With the inhibitory balanced theta network
(N = 200, K = 20) the clock-driven two-trajectory Lyapunov exponent is
-2.5 /s with grid timing, +14.6 /s with interpolated timing, and the exact value is
+14.5 /s. The Brian2 counterpart of an exact network therefore uses
``pulse_timing="interpolated"`` (`neurosrnn.models.theta.theta`): the presynaptic
overshoot gives the time since the crossing, and the target is moved back by it,
kicked, and moved forward on its exact free flow (Hansel, Mato & Meunier 1998, Neural
Comput. 10:467). Grid timing stays available for speed comparisons with the plain model.
"""

from __future__ import annotations

from brian2 import ms, mV, second, volt

from neurosrnn.sparseprop.engine import SparsePropNetwork, SparsePropState

__all__ = ["brian2_network"]


def brian2_network(
    sparseprop_network,
    state=None,
    *,
    dt=None,
    voltage_scale=10 * mV,
    pulse_timing="interpolated",
    name="sparseprop",
):
    """Build `sparseprop_network` as a clock-driven Brian2 network.

    Parameters
    ----------
    sparseprop_network : SparsePropNetwork
        The exact network (model, graph, weights, drive, tau).
    state : SparsePropState, optional
        Initial state (its model-form state at its current time is used; Brian2 time
        starts at 0). Default: every neuron at the model's default initial value.
    dt : brian2 time quantity, optional
        Time step of the neurons and synapses (default ``defaultclock.dt``).
    voltage_scale : brian2 voltage
        LIF only: the voltage of the threshold above reset.
    pulse_timing : {"interpolated", "grid"}
        Theta only. ``"interpolated"`` (default): each pulse acts at the sub-step time
        of its presynaptic threshold crossing, so spike-time differences smaller than
        ``dt`` reach the targets, as in the exact run. ``"grid"``: pulses act at the
        step of the spike; perturbations smaller than ``dt`` are lost, which hides
        chaos (a negative clock-driven Lyapunov exponent, -2.5 /s, where the exact one
        is +14.5 /s; see the module notes). LIF pulses are always on the grid.
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    neurosrnn.models.RecurrentNetwork
        With ``.network``, ``.neurons``, ``.synapses``, ``.spike_monitor`` and
        ``.spikes()`` (indices and times in seconds).

    Raises
    ------
    ValueError
        Not a `SparsePropNetwork`, a state from another network, or an unknown
        `pulse_timing`.

    Examples
    --------
    >>> from brian2 import ms
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(100, 10, model="theta", rate=10.0, memory_free=False)
    >>> built = brian2_network(net, net.initial_state(seed=1), dt=0.01 * ms)
    >>> built.model.name
    'theta_interpolated'
    """
    from neurosrnn.models.lif import lif
    from neurosrnn.models.networks import recurrent_network
    from neurosrnn.models.theta import theta

    if not isinstance(sparseprop_network, SparsePropNetwork):
        raise ValueError(
            f"sparseprop_network must be a SparsePropNetwork, got "
            f"{type(sparseprop_network).__name__}"
        )
    if pulse_timing not in ("interpolated", "grid"):
        raise ValueError(f"pulse_timing must be 'interpolated' or 'grid', got {pulse_timing!r}")
    net = sparseprop_network
    if state is not None and not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    initial = None if state is None else net.model_state(state)
    graph = net.weighted_connectivity()
    if net.model.code == 0:
        model = theta(pulse_timing=pulse_timing)
        parameters = {"tau_m": net.tau * second, "I_ext": net.drive}
        initial_values = None if initial is None else {"theta": initial}
    else:
        model = lif("delta")
        parameters = {
            "tau_m": net.tau * second,
            "v_rest": 0 * mV,
            "v_reset": 0 * mV,
            "v_threshold": voltage_scale,
            "I_ext": (1.0 + net.drive) * voltage_scale,
            "tau_ref": 0 * ms,
        }
        initial_values = None if initial is None else {"v": initial * voltage_scale}
        # Engine weights are jumps of the normalised voltage; Brian2's are in volt.
        graph = graph.with_weights(graph.weights * float(voltage_scale / volt))
    return recurrent_network(
        model, graph, parameters=parameters, initial_values=initial_values, dt=dt, name=name
    )
