"""Plain O(N)-per-spike event-based simulation: the exactness reference for SparseProp.

All phases live in one array. For every network spike: find the next neuron to reach
threshold (argmax of phase, or argmin of time to threshold with per-neuron speeds),
advance all N phases to that moment, reset the spiker, and apply the phase transition
curve to its targets, vectorised with numpy. Ties are broken by the lowest neuron
index, as in the heap engine. Cost O(N + K) per spike (Engelken 2023, NeurIPS,
arXiv:2312.17216, section "conventional event-based simulation").

The code shares no arithmetic with the heap kernel (it stores absolute phases and
evaluates the PTCs with numpy), so agreement is an independent check.
"""

from __future__ import annotations

import time

import numpy as np

from neurosrnn.sparseprop.engine import SparsePropNetwork, SparsePropResult, SparsePropState
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

__all__ = ["simulate_reference"]


def _pulse(model_code, phases, weights, scale, omega, phase_reset, phase_threshold):
    if model_code == 0:
        phases = np.maximum(phases, phase_reset)
        return 2.0 * np.arctan(np.tan(0.5 * phases) + weights * scale)
    argument = np.exp(-phases / omega) - weights * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        new = np.where(argument > 0, -omega * np.log(np.where(argument > 0, argument, 1.0)), np.inf)
    return np.minimum(new, phase_threshold)


def simulate_reference(network, phases, n_spikes=None, duration=None):
    """Simulate `network` from `phases` with the O(N)-per-spike event-based algorithm.

    Parameters
    ----------
    network : SparsePropNetwork
        The network (a memory-free graph is materialised first).
    phases : array of shape (N,)
        Initial phases (as for `SparsePropNetwork.initial_state`).
    n_spikes : int, optional
        Number of spikes.
    duration : float, optional
        Simulated time in seconds. At least one of `n_spikes` and `duration` is needed.

    Returns
    -------
    SparsePropResult
        Spike indices, exact spike times (s); ``state`` holds the final phases in its
        ``keys`` as a phase-representation state started at time 0 (so
        ``network.phases(result.state)`` works for phase-representation networks).
    """
    if not isinstance(network, SparsePropNetwork):
        raise ValueError("network must be a SparsePropNetwork")
    if n_spikes is None and duration is None:
        raise ValueError("give n_spikes and/or duration")
    model = network.model
    phases = model.check_phases(phases, network.N).copy()
    graph = network.connectivity
    if isinstance(graph, RegeneratedConnectivity):
        graph = graph.materialize()
    indptr, indices = graph.indptr, graph.indices
    if graph.weights is not None:
        synapse_weights = graph.weights
    else:
        presynaptic = network.coupling if network.coupling is not None else graph.weights
        synapse_weights = np.repeat(presynaptic, np.diff(indptr))
    omega = network.omega
    scale = network.scale
    homogeneous = network.representation == "phase"
    omega0 = omega[0]
    phase_reset, phase_threshold = model.phase_reset, model.phase_threshold
    t = 0.0
    stop = np.inf if duration is None else duration / network.tau
    limit = np.iinfo(np.int64).max if n_spikes is None else int(n_spikes)
    out_index, out_time = [], []
    started = time.perf_counter()
    while len(out_index) < limit:
        if homogeneous:
            j = int(np.argmax(phases))
            advance = max(phase_threshold - phases[j], 0.0)
            step = advance / omega0
            if t + step > stop:
                phases += (stop - t) * omega0
                t = stop
                break
            phases += advance
        else:
            remaining = (phase_threshold - phases) / omega
            j = int(np.argmin(remaining))
            step = max(remaining[j], 0.0)
            if t + step > stop:
                phases += (stop - t) * omega
                t = stop
                break
            phases += omega * step
        t += step
        out_index.append(j)
        out_time.append(t)
        phases[j] = phase_reset
        start, end = indptr[j], indptr[j + 1]
        targets = indices[start:end]
        weights = synapse_weights[start:end]
        if np.unique(targets).size == targets.size:
            phases[targets] = _pulse(
                model.code,
                phases[targets],
                weights,
                scale[targets],
                omega[targets],
                phase_reset,
                phase_threshold,
            )
        else:  # multapses: pulses to one neuron apply one after the other
            for target, weight in zip(targets, weights, strict=True):
                phases[target] = _pulse(
                    model.code,
                    phases[target],
                    weight,
                    scale[target],
                    omega[target],
                    phase_reset,
                    phase_threshold,
                )
    final = SparsePropState(
        keys=phase_threshold - phases,
        offset=0.0,
        time_base=t,
        time=t,
        n_spikes=len(out_index),
        representation="phase",
        tau=network.tau,
    )
    return SparsePropResult(
        spike_indices=np.asarray(out_index, dtype=np.int32),
        spike_times=np.asarray(out_time) * network.tau,
        state=final,
        start_time=0.0,
        stop_time=t * network.tau,
        n_spikes=len(out_index),
        N=network.N,
        wall_time=time.perf_counter() - started,
    )
