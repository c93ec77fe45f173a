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

from neurosrnn.sparseprop.engine import (
    SparsePropNetwork,
    SparsePropResult,
    SparsePropState,
    checked_stop_condition,
    runaway_cascade_message,
)

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
        Number of spikes (>= 0).
    duration : float or brian2 time quantity, optional
        Simulated time (seconds if a float, >= 0). At least one of `n_spikes` and
        `duration` is needed; both are checked exactly as by `SparsePropNetwork.run`.

    Returns
    -------
    SparsePropResult
        Spike indices, exact spike times (s); ``state`` holds the final phases in its
        ``keys`` as a phase-representation state started at time 0 (so
        ``network.phases(result.state)`` works for phase-representation networks).

    Raises
    ------
    ValueError
        No stop condition, a negative or non-integer `n_spikes`, a negative
        `duration`, or bad phases.
    RuntimeError
        A runaway zero-delay cascade: more than N spikes at one instant (as in the
        engine, see `neurosrnn.sparseprop._kernel.simulate`).
    """
    if not isinstance(network, SparsePropNetwork):
        raise ValueError("network must be a SparsePropNetwork")
    duration, limit = checked_stop_condition(duration, n_spikes)
    phases = network.model.check_phases(phases, network.N).copy()
    graph = network.weighted_connectivity()
    stop = np.inf if duration is None else duration / network.tau
    started = time.perf_counter()
    spikes = []
    end_time = _event_loop(network, graph, phases, stop, limit, spikes)
    return _result(network, phases, end_time, spikes, time.perf_counter() - started)


def _event_loop(network, graph, phases, stop, limit, spikes):
    """Advance `phases` in place spike by spike, appending ``(neuron, time)`` to `spikes`.

    Stops after `limit` spikes or at time `stop` (tau units); returns the end time.
    Raises RuntimeError before the (N + 1)-th spike at one instant (a runaway cascade).
    """
    indptr, indices, synapse_weights = graph.indptr, graph.indices, graph.weights
    model = network.model
    # one speed (phase representation) or one per neuron
    speeds = network.omega[0] if network.representation == "phase" else network.omega
    t = 0.0
    simultaneous = 0  # spikes after the first one at the current instant
    while len(spikes) < limit:
        j, step, shift = _next_spiker(network, phases)
        if t + step > stop:
            phases += (stop - t) * speeds
            return stop
        if step > 0:
            simultaneous = 0
        elif spikes:
            simultaneous += 1
            if simultaneous >= network.N:
                raise RuntimeError(runaway_cascade_message(network.N, t * network.tau))
        # free evolution up to the spike, reset, pulses to the targets
        phases += shift
        t += step
        spikes.append((j, t))
        phases[j] = model.phase_reset
        start, end = indptr[j], indptr[j + 1]
        _apply_pulses(network, phases, indices[start:end], synapse_weights[start:end])
    return t


def _next_spiker(network, phases):
    """The next neuron to reach threshold, the time until then, and the phase shift.

    Ties go to the lowest index. In the phase representation the shift is the spiker's
    distance to threshold (one scalar); in the time representation it is
    :math:`\\omega_i` times the step for every neuron.
    """
    phase_threshold = network.model.phase_threshold
    if network.representation == "phase":
        j = int(np.argmax(phases))
        advance = max(phase_threshold - phases[j], 0.0)
        return j, advance / network.omega[0], advance
    remaining = (phase_threshold - phases) / network.omega
    j = int(np.argmin(remaining))
    step = max(remaining[j], 0.0)
    return j, step, network.omega * step


def _apply_pulses(network, phases, targets, weights):
    """Move the targets' phases along the phase transition curve (in place).

    Pulses to the same neuron (multapses) apply one after the other.
    """
    model = network.model
    scale, omega = network.scale, network.omega
    if np.unique(targets).size == targets.size:
        phases[targets] = _pulse(
            model.code,
            phases[targets],
            weights,
            scale[targets],
            omega[targets],
            model.phase_reset,
            model.phase_threshold,
        )
        return
    for target, weight in zip(targets, weights, strict=True):
        phases[target] = _pulse(
            model.code,
            phases[target],
            weight,
            scale[target],
            omega[target],
            model.phase_reset,
            model.phase_threshold,
        )


def _result(network, phases, end_time, spikes, wall_time):
    """The `SparsePropResult`, with the final phases as a phase-representation state."""
    spike_indices = np.array([j for j, _ in spikes], dtype=np.int32)
    spike_times = np.array([t for _, t in spikes], dtype=float)
    final = SparsePropState(
        keys=network.model.phase_threshold - phases,
        offset=0.0,
        time_base=end_time,
        time=end_time,
        n_spikes=len(spikes),
        representation="phase",
        tau=network.tau,
    )
    return SparsePropResult(
        spike_indices=spike_indices,
        spike_times=spike_times * network.tau,
        state=final,
        start_time=0.0,
        stop_time=end_time * network.tau,
        n_spikes=len(spikes),
        N=network.N,
        wall_time=wall_time,
    )
