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

from dataclasses import dataclass

import numpy as np
from brian2 import Network, SpikeMonitor, Synapses, ms, mV, second

from neurosrnn.connectivity import Connectivity
from neurosrnn.sparseprop.engine import SparsePropNetwork, SparsePropState
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

__all__ = ["Brian2Network", "brian2_network"]


@dataclass
class Brian2Network:
    """A Brian2 network equivalent to a `SparsePropNetwork`.

    Attributes
    ----------
    network : brian2.Network
        Holds `neurons`, `synapses` and `spike_monitor`; call ``network.run(duration)``.
    neurons : brian2.NeuronGroup
    synapses : brian2.Synapses
    spike_monitor : brian2.SpikeMonitor or None
    model_name : str
        ``"theta"`` or ``"lif"``.
    """

    network: Network
    neurons: object
    synapses: object
    spike_monitor: object
    model_name: str

    def __repr__(self):
        return (
            f"<Brian2Network {self.model_name}: {self.neurons.N} neurons, "
            f"{len(self.synapses)} synapses>"
        )

    def spikes(self):
        """Spike indices and times in seconds, ordered by time (then index)."""
        if self.spike_monitor is None:
            raise ValueError("this network was built with record_spikes=False")
        indices = np.asarray(self.spike_monitor.i[:], dtype=np.int32)
        times = np.asarray(self.spike_monitor.t[:] / second)
        order = np.lexsort((indices, times))
        return indices[order], times[order]


def _graph_with_weights(sparseprop_network):
    graph = sparseprop_network.connectivity
    if isinstance(graph, RegeneratedConnectivity):
        graph = graph.materialize()
    if graph.weights is None:
        weights = np.repeat(sparseprop_network.coupling, np.diff(graph.indptr))
        graph = Connectivity(graph.indptr, graph.indices, graph.N_post, weights)
    return graph


def brian2_network(
    sparseprop_network,
    state=None,
    *,
    dt=None,
    record_spikes=True,
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
    record_spikes : bool
        Add a `SpikeMonitor`.
    voltage_scale : brian2 voltage
        LIF only: the voltage of the threshold above reset.
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    Brian2Network

    Raises
    ------
    ValueError
        Not a `SparsePropNetwork`, or a state from another network.
    """
    from neurosrnn.models.lif import lif
    from neurosrnn.models.theta import theta

    if not isinstance(sparseprop_network, SparsePropNetwork):
        raise ValueError(
            f"sparseprop_network must be a SparsePropNetwork, got "
            f"{type(sparseprop_network).__name__}"
        )
    net = sparseprop_network
    N = net.N
    group_kwargs = {"name": f"{name}_neurons"}
    if dt is not None:
        group_kwargs["dt"] = dt
    if state is not None:
        if not isinstance(state, SparsePropState):
            raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
        initial = net.model_state(state)
    else:
        initial = None
    if net.model.code == 0:
        model = theta()
        neurons = model.make_group(N, tau_m=net.tau * second, I_ext=net.drive, **group_kwargs)
        if initial is not None:
            neurons.theta = initial
        weight_unit = None
        weight_declaration = "w : 1"
    else:
        model = lif("delta")
        neurons = model.make_group(
            N,
            tau_m=net.tau * second,
            v_rest=0 * mV,
            v_reset=0 * mV,
            v_threshold=voltage_scale,
            I_ext=(1.0 + net.drive) * voltage_scale,
            tau_ref=0 * ms,
            **group_kwargs,
        )
        if initial is not None:
            neurons.v = initial * voltage_scale
        weight_unit = voltage_scale
        weight_declaration = "w : volt"
    synapse_kwargs = {"name": f"{name}_synapses"}
    if dt is not None:
        synapse_kwargs["dt"] = dt
    synapses = Synapses(
        neurons, neurons, model=weight_declaration, on_pre=model.coupling_on_pre, **synapse_kwargs
    )
    _graph_with_weights(net).connect(synapses, weight_unit=weight_unit)
    objects = [neurons, synapses]
    monitor = None
    if record_spikes:
        monitor = SpikeMonitor(neurons, name=f"{name}_spikes")
        objects.append(monitor)
    return Brian2Network(
        network=Network(*objects),
        neurons=neurons,
        synapses=synapses,
        spike_monitor=monitor,
        model_name=net.model.name,
    )
