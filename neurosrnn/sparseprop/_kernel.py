"""The compiled SparseProp event loop (numba), used by `neurosrnn.sparseprop.engine`.

One network spike is four steps (Engelken 2023, NeurIPS, arXiv:2312.17216):

1. **next spiker**: the neuron ``j`` at the top of the heap reaches threshold first;
2. **shift the offset**: the global clock :math:`\\Phi` moves to its key (free
   evolution of all N neurons at once);
3. **reset** ``j``: its key becomes :math:`\\Phi + (\\phi_{th} - \\phi_{reset})/\\omega_j`;
4. **phase transition curve**: each target ``i`` of ``j`` jumps from :math:`\\phi_i` to
   :math:`g(\\phi_i)` and its key moves in the heap (O(log N)).

Every ``rebase_interval`` spikes the clock is folded into the time base (see
`rebase`). The loop works on a few groups of arrays, packed as tuples so the call
reads like the algorithm:

``neurons``
    ``(model_code, homogeneous, omega, scale, phase_reset, phase_threshold)``: the model
    code of `neurosrnn.sparseprop.phase_models`, True for the phase representation (one
    speed, ``omega[0]``, ``scale[0]``), and the per-neuron phase speeds and PTC scales.
``graph``
    ``(indptr, targets, synapse_weights, presynaptic_weights, use_synapse_weights)``: a
    stored CSR graph (``indptr`` int64, ``targets`` int32) with per-synapse weights or
    one weight per presynaptic neuron.
``regeneration``
    ``(regenerate, seed, K, multapses, table, row)``: the memory-free mode of
    `neurosrnn.sparseprop.topology.regenerate_row` (``row`` receives the targets,
    ``table``, from `neurosrnn.sparseprop.topology.duplicate_table`, is the K-sized
    duplicate check when multapses are excluded).
``heap``
    ``(keys, ids, position)``: the indexed 4-ary min-heap of `neurosrnn.sparseprop._heap`.
``clock``
    float64 array ``[offset, time_base, compensation]`` (indices `OFFSET`, `TIME_BASE`,
    `COMPENSATION`); the time of clock value :math:`\\Phi` is
    ``time_base + (Phi / omega - compensation)`` (phase representation) or
    ``time_base + (Phi - compensation)`` (time representation), see `clock_to_time`.
``counters``
    int64 array (indices `SINCE_REBASE`, `STAMP` (unused, kept for the layout), `TOTAL`,
    `SAMPLE_POINTER`, `REACHED_STOP`, `SIMULTANEOUS`); ``counters[SIMULTANEOUS]`` counts
    the spikes after the first one at the current instant (see `simulate`).
``recording``
    ``(record, out_index, out_time)``: spike buffers of one chunk.
``sampling``
    ``(sample_times, sample_neurons, samples)``: phases of some neurons at given times
    (tau units), written into ``samples[time, neuron]``.

All state lives in these arrays and is updated in place, so the caller can read it
after every chunk and continue exactly. Times are in units of tau.
"""

from __future__ import annotations

import numba

from neurosrnn.sparseprop._heap import heapify, sift_down, sift_up
from neurosrnn.sparseprop.phase_models import pulse_phase
from neurosrnn.sparseprop.topology import regenerate_row

__all__ = [
    "COMPENSATION",
    "OFFSET",
    "REACHED_STOP",
    "SAMPLE_POINTER",
    "SIMULTANEOUS",
    "SINCE_REBASE",
    "STAMP",
    "TIME_BASE",
    "TOTAL",
    "N_COUNTERS",
    "clock_to_time",
    "record_samples",
    "simulate",
]

# indices into the `clock` array
OFFSET, TIME_BASE, COMPENSATION = 0, 1, 2
# indices into the `counters` array
SINCE_REBASE, STAMP, TOTAL, SAMPLE_POINTER, REACHED_STOP, SIMULTANEOUS = 0, 1, 2, 3, 4, 5
N_COUNTERS = 6


@numba.njit(cache=True, inline="always")
def clock_to_time(homogeneous, clock_value, time_base, compensation, omega0):
    """Time (tau units) of clock value `clock_value`.

    Phase representation: :math:`t = t_{base} + (\\Phi/\\omega - c)`; time representation:
    :math:`t = t_{base} + (\\Phi - c)`, where ``c`` is the Kahan compensation of the time
    base.
    """
    if homogeneous:
        return time_base + (clock_value / omega0 - compensation)
    return time_base + (clock_value - compensation)


@numba.njit(cache=True)
def record_samples(neurons, heap, time_base, until, sampling, counters):
    """Write the phases of the sampled neurons at every sample time up to `until`.

    `time_base` is the compensated time of clock zero; the phase of neuron ``i`` at
    time ``t`` is :math:`\\phi_{th} - (key_i - \\Phi(t))` (phase representation) or
    :math:`\\phi_{th} - \\omega_i (key_i - \\Phi(t))` (time representation). Advances
    ``counters[SAMPLE_POINTER]``.
    """
    _, homogeneous, omega, _, _, phase_threshold = neurons
    keys, _, position = heap
    sample_times, sample_neurons, samples = sampling
    pointer = counters[SAMPLE_POINTER]
    while pointer < sample_times.shape[0] and sample_times[pointer] <= until:
        sample_time = sample_times[pointer]
        for m in range(sample_neurons.shape[0]):
            i = sample_neurons[m]
            key = keys[position[i]]
            if homogeneous:
                clock_value = (sample_time - time_base) * omega[0]
                samples[pointer, m] = phase_threshold - (key - clock_value)
            else:
                clock_value = sample_time - time_base
                samples[pointer, m] = phase_threshold - omega[i] * (key - clock_value)
        pointer += 1
    counters[SAMPLE_POINTER] = pointer


@numba.njit(cache=True, inline="always")
def _reset_spiker(neurons, heap, j, offset):
    """Reset the spiker ``j`` (the heap top): its key grows by the reset distance."""
    _, homogeneous, omega, _, phase_reset, phase_threshold = neurons
    keys, ids, position = heap
    reset_distance = phase_threshold - phase_reset
    if homogeneous:
        keys[0] = offset + reset_distance
    else:
        keys[0] = offset + reset_distance / omega[j]
    sift_down(keys, ids, position, 0, keys.shape[0])


@numba.njit(cache=True, inline="always")
def _targets_of(j, graph, regeneration, counters, n_neurons):
    """``(start, count)`` of the targets of ``j``: a CSR slice, or ``row[:K]`` regenerated."""
    indptr = graph[0]
    regenerate, seed, K, multapses, table, row = regeneration
    if regenerate:
        regenerate_row(seed, j, K, n_neurons, multapses, table, row)
        return 0, K
    start = indptr[j]
    return start, indptr[j + 1] - start


@numba.njit(cache=True, inline="always")
def _touch_targets(graph, regeneration, heap, start, count):
    """Load the targets' keys first: independent loads overlap in memory.

    Returns their sum, which is finite for finite keys (the caller tests it, which keeps
    the loads alive).
    """
    targets = graph[1]
    regenerate, row = regeneration[0], regeneration[5]
    keys, _, position = heap
    touched = 0.0
    for k in range(count):
        i = row[k] if regenerate else targets[start + k]
        touched += keys[position[i]]
    return touched


@numba.njit(cache=True, inline="always")
def _apply_pulses(neurons, graph, regeneration, heap, j, start, count, offset):
    """Move every target of spiker ``j`` along the phase transition curve, in order.

    Target ``i`` at phase :math:`\\phi_i` (theta: not below the reset) jumps to
    :math:`g(\\phi_i)` (`neurosrnn.sparseprop.phase_models.pulse_phase`); its key becomes
    the clock plus the new distance to threshold, and its heap entry moves.
    """
    # Unpacked once per spike, not per target: every array bound to a name in compiled
    # code costs reference counts, and so does a call with array arguments; for the same
    # reason the heap move is written out here rather than calling `_heap.update`.
    model, homogeneous, omega, scale, phase_reset, phase_threshold = neurons
    _, targets, synapse_weights, presynaptic_weights, use_synapse_weights = graph
    regenerate, row = regeneration[0], regeneration[5]
    keys, ids, position = heap
    n_neurons = keys.shape[0]
    omega0 = omega[0]
    scale0 = scale[0]
    for k in range(count):
        i = row[k] if regenerate else targets[start + k]
        weight = synapse_weights[start + k] if use_synapse_weights else presynaptic_weights[j]
        p = position[i]
        key = keys[p]
        if homogeneous:
            phase = phase_threshold - (key - offset)
            if phase < phase_reset and model == 0:
                phase = phase_reset
            new_phase = pulse_phase(model, phase, weight, scale0, omega0, phase_threshold)
            new_key = offset + (phase_threshold - new_phase)
        else:
            speed = omega[i]
            phase = phase_threshold - speed * (key - offset)
            if phase < phase_reset and model == 0:
                phase = phase_reset
            new_phase = pulse_phase(model, phase, weight, scale[i], speed, phase_threshold)
            new_key = offset + (phase_threshold - new_phase) / speed
        keys[p] = new_key
        if new_key < key:
            sift_up(keys, ids, position, p)
        elif new_key > key:
            sift_down(keys, ids, position, p, n_neurons)


@numba.njit(cache=True)
def rebase(neurons, heap, offset, time_base, compensation):
    """Subtract the clock from all keys and fold it into the time base.

    The time base is a compensated (Kahan) sum: identical increments would otherwise
    round the same way every time and bias it systematically. Returns the new
    ``(offset, time_base, compensation)``, with ``offset = 0``.
    """
    homogeneous, omega = neurons[1], neurons[2]
    keys, ids, position = heap
    for p in range(keys.shape[0]):
        keys[p] -= offset
    increment = (offset / omega[0] if homogeneous else offset) - compensation
    new_base = time_base + increment
    compensation = (new_base - time_base) - increment
    heapify(keys, ids, position)
    return 0.0, new_base, compensation


@numba.njit(cache=True)
def simulate(
    neurons,
    graph,
    regeneration,
    heap,
    clock,
    counters,
    rebase_interval,
    max_spikes,
    stop_time,
    recording,
    sampling,
):
    """Process up to `max_spikes` network spikes or until `stop_time` (tau units).

    See the module docstring for the argument groups. Returns the number of spikes
    processed; ``counters[REACHED_STOP]`` is set when the next spike lies beyond
    `stop_time`.

    Runaway cascades: with excitatory zero-delay pulses a spike can fire its targets at
    the same instant, and they can fire it again, forever, without the clock moving.
    ``counters[SIMULTANEOUS]`` counts the spikes after the first one at the current
    clock value; the loop stops *before* the spike that would make it N (N + 1 spikes
    at one instant, so by pigeonhole some neuron would fire twice with zero interval),
    leaving ``counters[SIMULTANEOUS] == N`` for the caller to report. The check is one
    integer compare per spike; no floating-point operation changes.
    """
    homogeneous, omega = neurons[1], neurons[2]
    keys, ids, _ = heap
    record, out_index, out_time = recording
    sampled = sampling[0].shape[0] > 0
    offset = clock[OFFSET]
    time_base = clock[TIME_BASE]
    compensation = clock[COMPENSATION]
    n_neurons = keys.shape[0]
    simultaneous = counters[SIMULTANEOUS]
    n = 0
    while n < max_spikes:
        # 1. next spiker: the heap top
        top_key = keys[0]
        j = ids[0]
        if top_key > offset:
            next_clock = top_key
            simultaneous = 0
        else:  # at the current instant: a zero-delay cascade
            next_clock = offset
            simultaneous += 1
            if simultaneous >= n_neurons:
                break
        spike_time = clock_to_time(homogeneous, next_clock, time_base, compensation, omega[0])
        if sampled:
            until = spike_time if spike_time < stop_time else stop_time
            record_samples(neurons, heap, time_base - compensation, until, sampling, counters)
        if spike_time > stop_time:
            counters[REACHED_STOP] = 1
            break
        # 2. shift the offset: free evolution of every neuron
        offset = next_clock
        if record:
            out_index[n] = j
            out_time[n] = spike_time
        # 3. reset the spiker
        _reset_spiker(neurons, heap, j, offset)
        # 4. apply the phase transition curve to its targets
        start, count = _targets_of(j, graph, regeneration, counters, keys.shape[0])
        touched = _touch_targets(graph, regeneration, heap, start, count)
        if touched != touched:  # never true for finite keys
            break
        _apply_pulses(neurons, graph, regeneration, heap, j, start, count, offset)
        n += 1
        counters[TOTAL] += 1
        counters[SINCE_REBASE] += 1
        if rebase_interval > 0 and counters[SINCE_REBASE] >= rebase_interval:
            offset, time_base, compensation = rebase(neurons, heap, offset, time_base, compensation)
            counters[SINCE_REBASE] = 0
        clock[OFFSET] = offset
        clock[TIME_BASE] = time_base
        clock[COMPENSATION] = compensation
    clock[OFFSET] = offset
    clock[TIME_BASE] = time_base
    clock[COMPENSATION] = compensation
    counters[SIMULTANEOUS] = simultaneous
    return n
