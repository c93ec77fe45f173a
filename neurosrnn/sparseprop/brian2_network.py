"""The same network as a SparseProp network, built as a clock-driven Brian2 `Network`.

The neurons come from the model library (`neurosrnn.models.theta.theta`,
`neurosrnn.models.lif.lif`), the synapses use the model's ``coupling_on_pre`` and the
graph is the very same `Connectivity` (a memory-free graph is materialised), so the
Brian2 run on any device (runtime, C++ or CUDA standalone) and the exact event-driven
run simulate one network. Spikes of the Brian2 run sit on the ``dt`` grid, so their
times converge to the exact ones at first order in ``dt``.

Mapping of the engine's dimensionless models:

- theta: ``tau_m = tau``, ``I_ext = drive``, weight ``w`` (dimensionless, the same
  number), ``theta`` initialised from the engine state.
- LIF: the normalised voltage ``V`` (reset 0, threshold 1) is
  ``v = V * voltage_scale`` with ``v_reset = v_rest = 0 mV``,
  ``v_threshold = voltage_scale``, ``I_ext = (1 + drive) * voltage_scale``,
  ``tau_ref = 0 ms``, and weights ``w * voltage_scale``.
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
        Not a `SparsePropNetwork`, or a state from another network.
    """
    from neurosrnn.models.lif import lif
    from neurosrnn.models.networks import recurrent_network
    from neurosrnn.models.theta import theta

    if not isinstance(sparseprop_network, SparsePropNetwork):
        raise ValueError(
            f"sparseprop_network must be a SparsePropNetwork, got "
            f"{type(sparseprop_network).__name__}"
        )
    net = sparseprop_network
    if state is not None and not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    initial = None if state is None else net.model_state(state)
    graph = net.weighted_connectivity()
    if net.model.code == 0:
        model = theta()
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
