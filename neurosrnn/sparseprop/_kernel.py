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
    ``(model_code, homogeneous, omega, scale, phase_reset, phase_threshold, population,
    tables)``: the model code of `neurosrnn.sparseprop.phase_models` (`THETA`, `LIF` or
    `TABULATED`), True for the phase representation (one speed, ``omega[0]``,
    ``scale[0]``), the per-neuron phase speeds and PTC scales, and for tabulated models
    each neuron's population (int64) and the `neurosrnn.sparseprop.phase_tables.kernel_tables`
    tuple (`empty_kernel_tables` and a 1-element population array for theta and LIF).
``graph``
    ``(indptr, targets, synapse_weights, presynaptic_weights, use_synapse_weights)``: a
    stored CSR graph (``indptr`` int64, ``targets`` int32) with per-synapse weights or
    one weight per presynaptic neuron (shape (N,), or (1,): one weight for all).
``regeneration``
    ``(regenerate, seed, K, multapses, table, row)``: the memory-free mode of
    `neurosrnn.sparseprop.topology.regenerate_row` (``row`` receives the targets,
    ``table``, from `neurosrnn.sparseprop.topology.duplicate_table`, is the
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
``events`` (`simulate_events` only)
    ``(refractory_on, refractory_period, refractory_end, delay_mode, delay, synapse_delay,
    fifo, pending, sizes)``: refractoriness (per-neuron period and end of the current
    refractory period, both on the engine clock), the delay mode (`NO_DELAY`,
    `HOMOGENEOUS_DELAY`, `SYNAPSE_DELAYS`), the delay(s) in clock units, the ring buffer
    ``fifo = (source, arrival, sequence)`` of spikes whose pulses are in flight (one delay
    for all synapses), the binary min-heap ``pending = (arrival, sequence, synapse,
    source)`` of single pulses in flight (one delay per synapse), and ``sizes`` (int64:
    `FIFO_HEAD`, `FIFO_COUNT`, `PENDING_COUNT`).

``inputs`` (`simulate_events_inputs` only)
    ``(times, sources, indptr, targets, weights, cursor)``: spikes of external input
    neurons, sorted by time (``times`` float64, absolute, tau units; ``sources`` int32,
    the input neuron), their fan-out as a CSR graph (``indptr`` int64, ``targets`` int32,
    ``weights`` float64 per synapse), and ``cursor`` (int64, index `INPUT_POINTER`: the
    next input spike; the number delivered so far). `no_inputs` builds an empty group.

Networks without delays, refractoriness and inputs run `simulate`, whose loop is that
of the original algorithm; `simulate_events` adds pulses in flight and refractoriness,
and `simulate_events_inputs` input spikes (`simulate_events` is it without inputs).

Tie rule at one instant (both loops):

- **Delayed pulses** (sum rule, as NEST's ``iaf_psc_delta_ps``): all pulses in flight
  that arrive at one clock value act on each target as one pulse whose weight is their
  sum, then the threshold test; the result does not depend on the order of the tied
  pulses (exact for theta, LIF and tabulated models, whose pulses add in
  :math:`\tan(\theta/2)` or in ``v``; the sum runs in increasing order of weight). Only
  when the next arrival in flight equals the one being delivered are the tied pulses
  gathered (`_deliver_sums`); an arrival without a tie is delivered as before. The
  pulses of one spike's volley to one target through several synapses (multapses) act
  in synapse order when nothing else arrives with them (equal to their sum when their
  weights have one sign, which holds for one weight per presynaptic neuron).
- **Zero-delay pulses** (no delay; NEST has none): a spike's pulses act at once, one by
  one in synapse order (CSR order, or draw order for a memory-free graph); a pulse that
  lifts a neuron to threshold clamps it there and makes it fire at that instant, later
  pulses of the instant still act on it, in order.
- **Input pulses** (`simulate_events_inputs`): an input spike at time ``t`` delivers its
  pulses at ``t`` (no delay). A lone input spike (nothing else arriving at that clock
  value) acts in synapse order, like a lone delayed volley; input spikes at one clock
  value, and input spikes at the clock value of delayed pulses, are gathered with them
  and act as one summed pulse per target (`_deliver_sums`).
- Pulses that arrive at an instant are delivered before any spike at it; spikes at
  equal times fire in order of neuron index (the heap's rule).
- A pulse arriving at a refractory neuron (strictly before the end of its refractory
  period) is ignored; one arriving at the end is delivered (NEST delivers it too), and
  so is one within ``REFRACTORY_END_TOLERANCE * max(1, |end|)`` clock units before the
  end, a floating-point coincidence (see `_listening`).

All state lives in these arrays and is updated in place, so the caller can read it
after every chunk and continue exactly. Times are in units of tau.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from neurosrnn.sparseprop._heap import PREFETCH_FROM, heapify, move, prefetch, sift_down
from neurosrnn.sparseprop.phase_models import (
    TABULATED,
    THETA,
    pulse_phase,
    pulse_phase_and_base,
)
from neurosrnn.sparseprop.phase_tables import table_pulse_phase
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
    "NEEDED_SPACE",
    "PULSE_COUNT",
    "NO_DELAY",
    "HOMOGENEOUS_DELAY",
    "SYNAPSE_DELAYS",
    "FIFO_HEAD",
    "FIFO_COUNT",
    "PENDING_COUNT",
    "REFRACTORY_END_TOLERANCE",
    "clock_to_time",
    "record_samples",
    "simulate",
    "simulate_events",
    "simulate_events_inputs",
    "no_inputs",
    "INPUT_POINTER",
    "pending_heapify",
]

# indices into the `clock` array
OFFSET, TIME_BASE, COMPENSATION = 0, 1, 2
# indices into the `counters` array
SINCE_REBASE, STAMP, TOTAL, SAMPLE_POINTER, REACHED_STOP, SIMULTANEOUS = 0, 1, 2, 3, 4, 5
# set to the buffer size needed when a buffer is full (`simulate_events`: pulses in
# flight; `simulate`: recorded pulses): the loop stops before the spike, the caller
# grows the buffer and calls again
NEEDED_SPACE = 6
# (simulate) rows of the recorded-pulses buffer filled so far
PULSE_COUNT = 7
N_COUNTERS = 8
# delay modes of `simulate_events`
NO_DELAY, HOMOGENEOUS_DELAY, SYNAPSE_DELAYS = 0, 1, 2
# indices into the `sizes` array of the events group
FIFO_HEAD, FIFO_COUNT, PENDING_COUNT = 0, 1, 2
# index into the `cursor` array of the inputs group: the next input spike
INPUT_POINTER = 0
# an arrival within this fraction of max(1, |end|) (clock units) before the end of a
# refractory period counts as arriving at its end (and is delivered), see `_listening`
REFRACTORY_END_TOLERANCE = 2.0**-40
# a sample time this close (relative) after a spike counts as at the spike (the state
# just before it), see `record_samples`: the seconds <-> tau round trip of a spike time
SAMPLE_TIME_TOLERANCE = 2.0**-50


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
def record_samples(neurons, heap, time_base, until, sampling, counters, refractory_end):
    """Write the phases of the sampled neurons at every sample time up to `until`.

    A sample time within `SAMPLE_TIME_TOLERANCE` (relative) after `until` counts as at
    `until`: a spike time reported in seconds and given back as a sample time can come
    back an ulp later in tau units, and its sample is still the state just before
    that spike.

    `time_base` is the compensated time of clock zero; the phase of neuron ``i`` at
    time ``t`` is :math:`\\phi_{th} - (key_i - \\Phi(t))` (phase representation) or
    :math:`\\phi_{th} - \\omega_i (key_i - \\Phi(t))` (time representation), or the
    reset phase while the neuron is refractory (``Phi(t) < refractory_end[i]``;
    `refractory_end` is empty without refractoriness). Advances
    ``counters[SAMPLE_POINTER]``.
    """
    homogeneous, omega = neurons[1], neurons[2]
    phase_reset, phase_threshold = neurons[4], neurons[5]
    held = refractory_end.shape[0] > 0
    keys, _, position = heap
    sample_times, sample_neurons, samples = sampling
    pointer = counters[SAMPLE_POINTER]
    limit = until + SAMPLE_TIME_TOLERANCE * abs(until)
    while pointer < sample_times.shape[0] and sample_times[pointer] <= limit:
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
            if held and clock_value < refractory_end[i]:
                samples[pointer, m] = phase_reset
        pointer += 1
    counters[SAMPLE_POINTER] = pointer


# The helpers of the spike loop come in two forms: on the argument groups (tuples), for
# the event kernels, and on the unpacked arrays (`_reset`, `_target_span`, `_touch`,
# `_closed_form_pulses`), for `simulate`, which unpacks its groups once per call. A
# group bound to the parameter of an inlined helper costs a reference count per array
# in it at every call (the tables of tabulated models alone hold eleven): about 6 % of a
# spike of the theta network at N = 10^3.


@numba.njit(cache=True, inline="always")
def _reset(keys, ids, position, j, clock_value, homogeneous, omega, reset_distance):
    """The heap top ``j`` leaves the reset phase at `clock_value`: its new key, sifted down."""
    if homogeneous:
        keys[0] = clock_value + reset_distance
    else:
        keys[0] = clock_value + reset_distance / omega[j]
    sift_down(keys, ids, position, 0, keys.shape[0])


@numba.njit(cache=True, inline="always")
def _reset_spiker(neurons, heap, j, offset):
    """Reset the spiker ``j`` (the heap top): its key grows by the reset distance."""
    keys, ids, position = heap
    _reset(keys, ids, position, j, offset, neurons[1], neurons[2], neurons[5] - neurons[4])


@numba.njit(cache=True, inline="always")
def _target_span(j, indptr, regenerate, seed, K, multapses, table, row, n_neurons):
    """``(start, count)`` of the targets of ``j``: a CSR slice, or ``row[:K]`` regenerated."""
    if regenerate:
        regenerate_row(seed, j, K, n_neurons, multapses, table, row)
        return 0, K
    start = indptr[j]
    return start, indptr[j + 1] - start


@numba.njit(cache=True, inline="always")
def _targets_of(j, graph, regeneration, counters, n_neurons):
    """``(start, count)`` of the targets of ``j`` (`_target_span` on the groups)."""
    regenerate, seed, K, multapses, table, row = regeneration
    return _target_span(j, graph[0], regenerate, seed, K, multapses, table, row, n_neurons)


@numba.njit(cache=True, inline="always")
def _touch(keys, ids, position, targets, regenerate, row, start, count):
    """Prefetch what the targets' pulses will read, so that their cache misses overlap.

    The pulse loop that follows computes each target's new key (``tan``, ``atan``) and
    moves its entry; a miss met there stalls it, and its mispredicted branches keep the
    misses of different targets from overlapping. This pass only reads each target's
    heap position and prefetches (`_heap.prefetch`: a hint, which holds up no later
    instruction) the target's key. From a heap of `_heap.PREFETCH_FROM` entries on (below
    it the heap sits in the core's caches and the extra hints only cost time), it
    first prefetches the positions themselves, and then also the line of the target's
    children keys and of their ids (a family's four keys share one cache line, and so do
    its four ids, `engine._aligned_view`), where a sift down starts. Three quarters of a
    4-ary heap are leaves, whose children would lie past the end of the arrays: their
    hints go to the heap's last entry instead (a hint cannot fault, but one past the
    arrays still fetches a line or walks the page tables, and competes with the misses
    that matter; `_heap._prefetch_grandchildren` does the same). With the sifts'
    prefetching (`_heap.move`, `_heap.sift_down`) and the bit-set row draw, a spike at
    N = 10^6 cost 1.51x (memory-free) and 1.10x (stored graph) less than with loads
    here, and the clamp for leaves gained about 1.2x more
    (``benchmarks/results/sparseprop_scaling.md``).
    """
    n = keys.shape[0]
    if n < PREFETCH_FROM:
        for k in range(count):
            prefetch(keys, position[row[k] if regenerate else targets[start + k]])
        return
    for k in range(count):
        prefetch(position, row[k] if regenerate else targets[start + k])
    for k in range(count):
        p = position[row[k] if regenerate else targets[start + k]]
        prefetch(keys, p)
        first = min(4 * p + 1, n - 1)  # a leaf's "children": the heap's last line
        prefetch(keys, first)
        prefetch(ids, first)


@numba.njit(cache=True, inline="always")
def _prefetch_row(indptr, targets, j):
    """Prefetch the stored targets of neuron ``j``: the likely next spiker.

    Called once the spiker has been reset, with the new heap top: unless one of the
    spiker's pulses moves another neuron ahead of it, that neuron fires next, and its
    row of a stored graph (``targets[indptr[j]:indptr[j + 1]]``, a random place in an
    array of N K entries) is then already cached when its own spike begins, instead of
    two dependent misses (the row's start, then the row) ahead of everything that spike
    touches. A wrong guess costs a few lines of memory traffic and changes nothing else.
    At N = 10^6, K = 100 a spike cost about 1.07x less (median of 11 interleaved repeats).
    """
    start = indptr[j]
    end = indptr[j + 1]
    for k in range(start, end, 64 // targets.itemsize):  # one hint per 64-byte line
        prefetch(targets, k)
    if end > start:
        prefetch(targets, end - 1)


@numba.njit(cache=True, inline="always")
def _touch_targets(graph, regeneration, heap, start, count):
    """`_touch` on the groups."""
    keys, ids, position = heap
    _touch(keys, ids, position, graph[1], regeneration[0], regeneration[5], start, count)


@numba.njit(cache=True, inline="always")
def _presynaptic_weight(presynaptic_weights, j):
    """Weight of the synapses of neuron ``j``: one per presynaptic neuron, or one for all.

    ``presynaptic_weights`` has shape (N,), or shape (1,) when every neuron has the same
    weight (a scalar coupling: no array of N copies of it).
    """
    return presynaptic_weights[j if presynaptic_weights.shape[0] > 1 else 0]


@numba.njit(cache=True, inline="always")
def _listening(refractory_end, i, offset):
    """Whether a pulse at `offset` just before the refractory end of ``i`` counts as at it.

    Called only when ``offset < refractory_end[i]``. Coincidences that are exact in real
    arithmetic (a pulse of delay ``d`` arriving at the end of a refractory period
    :math:`t_{ref} = 2d` that began at a delayed arrival, ``((t + d) + d) + d`` against
    ``(t + d) + 2d``) can fall a few ulp short of the end in floating point, while NEST
    (integer time steps) sees equality and delivers the pulse. An arrival within
    ``REFRACTORY_END_TOLERANCE * max(1, |end|)`` clock units before the end therefore
    counts as arriving at the end: it is delivered and the refractory period ends at the
    arrival (``refractory_end[i] = offset``).
    """
    end = refractory_end[i]
    if end - offset > REFRACTORY_END_TOLERANCE * max(1.0, abs(end)):
        return False
    refractory_end[i] = offset
    return True


@numba.njit(cache=True, inline="always")
def _closed_form_pulses(
    model, homogeneous, omega, scale, phase_reset, phase_threshold,
    targets, synapse_weights, presynaptic_weights, use_synapse_weights, regenerate, row,
    keys, ids, position, j, start, count, offset, refractory_on, refractory_end,
    pulses, n_pulses,
):  # fmt: skip
    """Move every target of spiker ``j`` along the phase transition curve, in order.

    Theta and LIF models (closed-form PTCs; tabulated models: `_apply_pulses`), on the
    unpacked arrays of the groups. Target ``i`` at phase :math:`\\phi_i` (theta: not below
    the reset) jumps to :math:`g(\\phi_i)` (`neurosrnn.sparseprop.phase_models.pulse_phase`);
    its key becomes the clock plus the new distance to threshold, and its heap entry
    moves (`_heap.move`, compiled into this loop: a call to a compiled sift per target
    cost about 20 % of the spike). With `refractory_on` (a literal False in `simulate`,
    so the test compiles away), a target whose refractory period ends after `offset`
    ignores the pulse (up to the tolerance of `_listening`).

    With a non-empty `pulses` buffer (rows ``n_pulses ..``, room checked by the caller),
    each pulse's ``(phase before, phase after, base)`` is written to the next row
    (`neurosrnn.sparseprop.phase_models.pulse_phase_and_base`: the same arithmetic).
    Returns the number of rows filled.
    """
    n_neurons = keys.shape[0]
    omega0 = omega[0]
    scale0 = scale[0]
    recording = pulses.shape[0] > 0
    for k in range(count):
        i = row[k] if regenerate else targets[start + k]
        if refractory_on:
            if offset < refractory_end[i] and not _listening(refractory_end, i, offset):
                continue
        weight = (
            synapse_weights[start + k]
            if use_synapse_weights
            else _presynaptic_weight(presynaptic_weights, j)
        )
        p = position[i]
        key = keys[p]
        if homogeneous:
            phase = phase_threshold - (key - offset)
            if phase < phase_reset and model == THETA:
                phase = phase_reset
            if recording:
                new_phase = _recorded_pulse(
                    model, phase, weight, scale0, omega0, phase_threshold, pulses, n_pulses
                )
                n_pulses += 1
            else:
                new_phase = pulse_phase(model, phase, weight, scale0, omega0, phase_threshold)
            new_key = offset + (phase_threshold - new_phase)
        else:
            speed = omega[i]
            phase = phase_threshold - speed * (key - offset)
            if phase < phase_reset and model == THETA:
                phase = phase_reset
            if recording:
                new_phase = _recorded_pulse(
                    model, phase, weight, scale[i], speed, phase_threshold, pulses, n_pulses
                )
                n_pulses += 1
            else:
                new_phase = pulse_phase(model, phase, weight, scale[i], speed, phase_threshold)
            new_key = offset + (phase_threshold - new_phase) / speed
        move(keys, ids, position, p, i, key, new_key, n_neurons)
    return n_pulses


@numba.njit(cache=True, inline="always")
def _recorded_pulse(model, phase, weight, scale, omega, phase_threshold, pulses, row):
    """`pulse_phase`, with ``(phase, new phase, base)`` written to ``pulses[row]``."""
    new_phase, base = pulse_phase_and_base(model, phase, weight, scale, omega, phase_threshold)
    pulses[row, 0] = phase
    pulses[row, 1] = new_phase
    pulses[row, 2] = base
    return new_phase


@numba.njit(cache=True, inline="always")
def _apply_pulses(
    neurons, graph, regeneration, heap, j, start, count, offset, refractory_on, refractory_end,
    no_pulses,
):  # fmt: skip
    """`_closed_form_pulses` on the groups, for every model (`no_pulses`: an empty
    (0, 3) float64 array, nothing recorded).

    A tabulated model's target ``i`` jumps to the phase of its population's table
    (`neurosrnn.sparseprop.phase_tables.table_pulse_phase`; one population, table 0, in
    the phase representation); otherwise as in `_closed_form_pulses`.
    """
    model, homogeneous, omega = neurons[0], neurons[1], neurons[2]
    phase_threshold = neurons[5]
    _, targets, synapse_weights, presynaptic_weights, use_synapse_weights = graph
    regenerate, row = regeneration[0], regeneration[5]
    keys, ids, position = heap
    if model != TABULATED:
        _closed_form_pulses(
            model, homogeneous, omega, neurons[3], neurons[4], phase_threshold,
            targets, synapse_weights, presynaptic_weights, use_synapse_weights, regenerate,
            row, keys, ids, position, j, start, count, offset, refractory_on, refractory_end,
            no_pulses, 0,
        )  # fmt: skip
        return
    tables, populations = neurons[7], neurons[6]
    n_neurons = keys.shape[0]
    for k in range(count):
        i = row[k] if regenerate else targets[start + k]
        if refractory_on:
            if offset < refractory_end[i] and not _listening(refractory_end, i, offset):
                continue
        weight = (
            synapse_weights[start + k]
            if use_synapse_weights
            else _presynaptic_weight(presynaptic_weights, j)
        )
        p = position[i]
        key = keys[p]
        if homogeneous:
            new_phase = table_pulse_phase(tables, 0, phase_threshold - (key - offset), weight)
            new_key = offset + (phase_threshold - new_phase)
        else:
            speed = omega[i]
            phase = phase_threshold - speed * (key - offset)
            new_phase = table_pulse_phase(tables, populations[i], phase, weight)
            new_key = offset + (phase_threshold - new_phase) / speed
        move(keys, ids, position, p, i, key, new_key, n_neurons)


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
    pulses,
):
    """Process up to `max_spikes` network spikes or until `stop_time` (tau units).

    See the module docstring for the argument groups. Returns the number of spikes
    processed; ``counters[REACHED_STOP]`` is set when the next spike lies beyond
    `stop_time`.

    `pulses` (float64, shape (M, 3); M = 0 records nothing) receives, from row
    ``counters[PULSE_COUNT]`` on, each pulse's phase before and after it and its base
    (see `_closed_form_pulses`; theta and LIF models). When the next spike's pulses do not
    fit, the loop stops before that spike with ``counters[NEEDED_SPACE]`` set to the
    rows needed.

    Runaway cascades: with excitatory zero-delay pulses a spike can fire its targets at
    the same instant, and they can fire it again, forever, without the clock moving.
    ``counters[SIMULTANEOUS]`` counts the spikes after the first one at the current
    clock value; the loop stops *before* the spike that would make it N (N + 1 spikes
    at one instant, so by pigeonhole some neuron would fire twice with zero interval),
    leaving ``counters[SIMULTANEOUS] == N`` for the caller to report. The check is one
    integer compare per spike; no floating-point operation changes.
    """
    # every group unpacked once, before the loop (see `_reset`)
    model, homogeneous, omega, scale = neurons[0], neurons[1], neurons[2], neurons[3]
    phase_reset, phase_threshold = neurons[4], neurons[5]
    reset_distance = phase_threshold - phase_reset
    indptr, targets, synapse_weights, presynaptic_weights, use_synapse_weights = graph
    regenerate, seed, K, multapses, table, row = regeneration
    keys, ids, position = heap
    record, out_index, out_time = recording
    sampled = sampling[0].shape[0] > 0
    no_ends = sampling[0][:0]  # an empty float64 array: no refractoriness
    offset = clock[OFFSET]
    time_base = clock[TIME_BASE]
    compensation = clock[COMPENSATION]
    n_neurons = keys.shape[0]
    simultaneous = counters[SIMULTANEOUS]
    recording_pulses = pulses.shape[0] > 0
    n_pulses = counters[PULSE_COUNT]
    # a stored graph's rows miss the caches in large networks (`_prefetch_row`)
    prefetch_rows = not regenerate and n_neurons >= PREFETCH_FROM
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
            record_samples(
                neurons, heap, time_base - compensation, until, sampling, counters, no_ends
            )
        if spike_time > stop_time:
            counters[REACHED_STOP] = 1
            break
        if recording_pulses:  # room for this spike's pulses, or stop before it
            needed = n_pulses + (K if regenerate else indptr[j + 1] - indptr[j])
            if needed > pulses.shape[0]:
                counters[NEEDED_SPACE] = needed
                break
        # 2. shift the offset: free evolution of every neuron
        offset = next_clock
        if record:
            out_index[n] = j
            out_time[n] = spike_time
        # 3. reset the spiker
        _reset(keys, ids, position, j, offset, homogeneous, omega, reset_distance)
        if prefetch_rows:
            _prefetch_row(indptr, targets, ids[0])
        # 4. apply the phase transition curve to its targets
        start, count = _target_span(
            j, indptr, regenerate, seed, K, multapses, table, row, n_neurons
        )
        _touch(keys, ids, position, targets, regenerate, row, start, count)
        if model == TABULATED:
            _apply_pulses(
                neurons, graph, regeneration, heap, j, start, count, offset, False, no_ends,
                pulses,
            )  # fmt: skip
        else:
            n_pulses = _closed_form_pulses(
                model, homogeneous, omega, scale, phase_reset, phase_threshold,
                targets, synapse_weights, presynaptic_weights, use_synapse_weights, regenerate,
                row, keys, ids, position, j, start, count, offset, False, no_ends,
                pulses, n_pulses,
            )  # fmt: skip
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
    counters[PULSE_COUNT] = n_pulses
    return n


# --------------------------------------------------------------------------- pulses in flight


@numba.njit(cache=True, inline="always")
def _pending_before(pending, a, b):
    """Whether pending event ``a`` is delivered before ``b``: arrival, then spike, then synapse."""
    arrival, sequence, synapse, _ = pending
    if arrival[a] != arrival[b]:
        return arrival[a] < arrival[b]
    if sequence[a] != sequence[b]:
        return sequence[a] < sequence[b]
    return synapse[a] < synapse[b]


@numba.njit(cache=True, inline="always")
def _pending_swap(pending, a, b):
    arrival, sequence, synapse, source = pending
    arrival[a], arrival[b] = arrival[b], arrival[a]
    sequence[a], sequence[b] = sequence[b], sequence[a]
    synapse[a], synapse[b] = synapse[b], synapse[a]
    source[a], source[b] = source[b], source[a]


@numba.njit(cache=True)
def _pending_sift_down(pending, p, n):
    while True:
        first = 2 * p + 1
        if first >= n:
            return
        best = first
        if first + 1 < n and _pending_before(pending, first + 1, first):
            best = first + 1
        if _pending_before(pending, best, p):
            _pending_swap(pending, best, p)
            p = best
        else:
            return


@numba.njit(cache=True)
def _pending_push(pending, n, arrival_clock, sequence_number, synapse_index, source_neuron):
    """Insert one pulse into the binary min-heap of `n` entries (capacity checked by the caller)."""
    arrival, sequence, synapse, source = pending
    arrival[n] = arrival_clock
    sequence[n] = sequence_number
    synapse[n] = synapse_index
    source[n] = source_neuron
    p = n
    while p > 0:
        parent = (p - 1) // 2
        if _pending_before(pending, p, parent):
            _pending_swap(pending, p, parent)
            p = parent
        else:
            break


@numba.njit(cache=True)
def _pending_pop(pending, n):
    """Remove the top of the heap of `n` entries (the caller has read it)."""
    last = n - 1
    if last > 0:
        _pending_swap(pending, 0, last)
        _pending_sift_down(pending, 0, last)


@numba.njit(cache=True)
def pending_heapify(pending, n):
    """Order the first `n` entries of `pending` as a binary min-heap (O(n))."""
    for p in range(n // 2 - 1, -1, -1):
        _pending_sift_down(pending, p, n)


@numba.njit(cache=True, inline="always")
def _reset_refractory(neurons, heap, j, offset, refractory_period, refractory_end):
    """Reset the spiker ``j`` (the heap top) and hold it at reset for its refractory period.

    Its refractory period ends at ``offset + refractory_period[j]`` (clock units) and its
    next free threshold arrival lies one free period after that.
    """
    keys, ids, position = heap
    end = offset + refractory_period[j]
    refractory_end[j] = end
    _reset(keys, ids, position, j, end, neurons[1], neurons[2], neurons[5] - neurons[4])


@numba.njit(cache=True, inline="always")
def _apply_weight(neurons, heap, i, weight, offset):
    """Move neuron ``i`` along the phase transition curve of one pulse of `weight`."""
    model, homogeneous, omega, scale = neurons[0], neurons[1], neurons[2], neurons[3]
    phase_reset, phase_threshold = neurons[4], neurons[5]
    keys, ids, position = heap
    p = position[i]
    key = keys[p]
    if homogeneous:
        phase = phase_threshold - (key - offset)
        if model == TABULATED:  # one population: table 0
            new_phase = table_pulse_phase(neurons[7], 0, phase, weight)
        else:
            if phase < phase_reset and model == 0:
                phase = phase_reset
            new_phase = pulse_phase(model, phase, weight, scale[0], omega[0], phase_threshold)
        new_key = offset + (phase_threshold - new_phase)
    else:
        speed = omega[i]
        phase = phase_threshold - speed * (key - offset)
        if model == TABULATED:
            new_phase = table_pulse_phase(neurons[7], neurons[6][i], phase, weight)
        else:
            if phase < phase_reset and model == 0:
                phase = phase_reset
            new_phase = pulse_phase(model, phase, weight, scale[i], speed, phase_threshold)
        new_key = offset + (phase_threshold - new_phase) / speed
    move(keys, ids, position, p, i, key, new_key, keys.shape[0])


@numba.njit(cache=True, inline="always")
def _apply_one_pulse(neurons, graph, heap, j, k, offset, refractory_on, refractory_end):
    """Deliver the pulse of synapse ``k`` (CSR index, presynaptic neuron ``j``)."""
    _, targets, synapse_weights, presynaptic_weights, use_synapse_weights = graph
    i = targets[k]
    if refractory_on:
        if offset < refractory_end[i] and not _listening(refractory_end, i, offset):
            return
    weight = (
        synapse_weights[k] if use_synapse_weights else _presynaptic_weight(presynaptic_weights, j)
    )
    _apply_weight(neurons, heap, i, weight, offset)


# --------------------------------------------------------------------------- tied arrivals


@numba.njit(cache=True)
def _room_int(array, needed):
    """`array` itself if it holds `needed` items, else a larger copy."""
    if needed <= array.shape[0]:
        return array
    grown = np.empty(max(needed, 2 * array.shape[0]), dtype=np.int64)
    grown[: array.shape[0]] = array
    return grown


@numba.njit(cache=True)
def _room_float(array, needed):
    """`array` itself if it holds `needed` items, else a larger copy."""
    if needed <= array.shape[0]:
        return array
    grown = np.empty(max(needed, 2 * array.shape[0]))
    grown[: array.shape[0]] = array
    return grown


@numba.njit(cache=True)
def _gather_volley(graph, regeneration, counters, n_neurons, j, tied_targets, tied_weights, n):
    """Append the ``(target, weight)`` pulses of the volley of spiker ``j`` after item `n`.

    Returns the (possibly grown) buffers and the new count.
    """
    _, targets, synapse_weights, presynaptic_weights, use_synapse_weights = graph
    regenerate, row = regeneration[0], regeneration[5]
    start, count = _targets_of(j, graph, regeneration, counters, n_neurons)
    tied_targets = _room_int(tied_targets, n + count)
    tied_weights = _room_float(tied_weights, n + count)
    for k in range(count):
        tied_targets[n + k] = row[k] if regenerate else targets[start + k]
        tied_weights[n + k] = (
            synapse_weights[start + k]
            if use_synapse_weights
            else _presynaptic_weight(presynaptic_weights, j)
        )
    return tied_targets, tied_weights, n + count


@numba.njit(cache=True)
def _deliver_sums(neurons, heap, tied_targets, tied_weights, n, offset, refractory_on, ends):
    """Deliver tied pulses as one pulse per target whose weight is the sum of its pulses.

    The `n` pulses are ordered by (target, weight) and summed in that order, so the
    result does not depend on the order in which they were gathered; a refractory
    target ignores them (as it would each of them).
    """
    by_weight = np.argsort(tied_weights[:n], kind="mergesort")
    by_target = np.argsort(tied_targets[:n][by_weight], kind="mergesort")
    m = 0
    while m < n:
        first = by_weight[by_target[m]]
        i = tied_targets[first]
        total = tied_weights[first]
        m += 1
        while m < n and tied_targets[by_weight[by_target[m]]] == i:
            total += tied_weights[by_weight[by_target[m]]]
            m += 1
        if refractory_on:
            if offset < ends[i] and not _listening(ends, i, offset):
                continue
        _apply_weight(neurons, heap, i, total, offset)


@numba.njit(cache=True, inline="always")
def _input_clock(homogeneous, input_time, time_base, compensation, omega0, offset):
    """The clock value of an input spike at `input_time` (tau units), not before `offset`.

    The inverse of `clock_to_time`: :math:`\\Phi = \\omega (t - t_{base} + c)` (phase
    representation) or :math:`t - t_{base} + c` (time representation). A value a few
    ulp before the clock (an input at the current time) is the current clock.
    """
    if homogeneous:
        clock_value = ((input_time - time_base) + compensation) * omega0
    else:
        clock_value = (input_time - time_base) + compensation
    return clock_value if clock_value > offset else offset


@numba.njit(cache=True)
def no_inputs():
    """An empty ``inputs`` group (no input neurons), of the types the engine passes."""
    return (
        np.zeros(0),
        np.zeros(0, dtype=np.int32),
        np.zeros(1, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros(0),
        np.zeros(1, dtype=np.int64),
    )


@numba.njit(cache=True)
def _apply_input(neurons, heap, inputs, m, offset, refractory_on, refractory_end):
    """Deliver the pulses of input spike `m` one by one, in synapse (CSR) order."""
    sources, indptr, targets, weights = inputs[1], inputs[2], inputs[3], inputs[4]
    source = sources[m]
    for k in range(indptr[source], indptr[source + 1]):
        i = targets[k]
        if refractory_on:
            if offset < refractory_end[i] and not _listening(refractory_end, i, offset):
                continue
        _apply_weight(neurons, heap, i, weights[k], offset)


@numba.njit(cache=True)
def _gather_input(inputs, m, tied_targets, tied_weights, n):
    """Append the ``(target, weight)`` pulses of input spike `m` after item `n`."""
    sources, indptr, targets, weights = inputs[1], inputs[2], inputs[3], inputs[4]
    source = sources[m]
    start = indptr[source]
    count = indptr[source + 1] - start
    tied_targets = _room_int(tied_targets, n + count)
    tied_weights = _room_float(tied_weights, n + count)
    for k in range(count):
        tied_targets[n + k] = targets[start + k]
        tied_weights[n + k] = weights[start + k]
    return tied_targets, tied_weights, n + count


@numba.njit(cache=True)
def _rebase_events(events, offset):
    """Subtract the clock from the refractory ends and the arrivals in flight."""
    refractory_end = events[2]
    fifo, pending, sizes = events[6], events[7], events[8]
    for i in range(refractory_end.shape[0]):
        refractory_end[i] -= offset
    fifo_arrival = fifo[1]
    capacity = fifo_arrival.shape[0]
    head = sizes[FIFO_HEAD]
    for m in range(sizes[FIFO_COUNT]):
        fifo_arrival[(head + m) % capacity] -= offset
    n_pending = sizes[PENDING_COUNT]
    pending_arrival = pending[0]
    for m in range(n_pending):
        pending_arrival[m] -= offset
    # rounding may merge two arrivals: restore the order of (arrival, spike, synapse)
    pending_heapify(pending, n_pending)


@numba.njit(cache=True)
def simulate_events(
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
    events,
):
    """`simulate_events_inputs` without input neurons (`no_inputs`)."""
    return simulate_events_inputs(
        neurons, graph, regeneration, heap, clock, counters, rebase_interval, max_spikes,
        stop_time, recording, sampling, events, no_inputs(),
    )  # fmt: skip


@numba.njit(cache=True)
def simulate_events_inputs(
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
    events,
    inputs,
):
    """`simulate` with synaptic delays, refractoriness and input spikes.

    The ``events`` and ``inputs`` groups are described in the module docstring.

    Each step takes the earlier of the next arrival of pulses in flight and the heap top
    (arrivals first on ties), shifts the offset to it and either delivers the arriving
    pulses or fires the spiker. Costs per spike: the reset, plus

    - no delay: the K pulses at once, O(K log N);
    - one delay for all synapses: one ring-buffer entry (O(1)) at the spike, and the K
      pulses at arrival, O(K log N) (a memory-free graph regenerates the row then);
    - per-synapse delays: K heap insertions of pulses, O(K log P) for P pulses in
      flight, and at each arrival one removal and one update, O(log P + log N).

    Refractoriness adds one comparison per delivered pulse. After `rebase_interval`
    spikes the refractory ends and arrivals are rebased with the keys (O(N + P)), at the
    next event that moves the clock (never inside an instant, so that the pulses sent at
    one instant keep one arrival value).

    A full pulse buffer stops the loop *before* the spike with
    ``counters[NEEDED_SPACE]`` set to the size needed; the caller grows the buffer and
    calls again (nothing is dropped). Runaway cascades stop as in `simulate`
    (``counters[SIMULTANEOUS] == N``); an arrival that moves the clock starts a new
    instant.

    Input spikes are a third sorted stream, merged by one pointer: the next input's
    clock value (`_input_clock`, O(1)) joins the arrivals in flight, so inputs cost
    nothing per network spike beyond one comparison, and O(K_in log N) per input spike
    (K_in its fan-out). An input spike is delivered when its time (tau units, compared
    as given) is not after `stop_time`; ``inputs[5][INPUT_POINTER]`` advances past it.
    """
    homogeneous, omega = neurons[1], neurons[2]
    keys, ids, _ = heap
    record, out_index, out_time = recording
    no_pulses = np.empty((0, 3))  # nothing recorded here (see `simulate`)
    refractory_on, refractory_period, refractory_end = events[0], events[1], events[2]
    delay_mode, delay, synapse_delay = events[3], events[4], events[5]
    fifo, pending, sizes = events[6], events[7], events[8]
    fifo_source, fifo_arrival, fifo_sequence = fifo
    pending_arrival = pending[0]
    indptr, synapse_targets = graph[0], graph[1]
    synapse_weights, presynaptic_weights, use_synapse_weights = graph[2], graph[3], graph[4]
    # pulses arriving together (`_deliver_sums`); grown when needed
    tied_targets = np.empty(64, dtype=np.int64)
    tied_weights = np.empty(64)
    input_times, input_cursor = inputs[0], inputs[5]
    n_inputs = input_times.shape[0]
    pointer = input_cursor[INPUT_POINTER]
    sampled = sampling[0].shape[0] > 0
    ends = refractory_end if refractory_on else refractory_end[:0]
    offset = clock[OFFSET]
    time_base = clock[TIME_BASE]
    compensation = clock[COMPENSATION]
    n_neurons = keys.shape[0]
    fifo_capacity = fifo_source.shape[0]
    simultaneous = counters[SIMULTANEOUS]
    counters[NEEDED_SPACE] = 0
    n = 0
    while n < max_spikes:
        top_key = keys[0]
        arrival = math.inf
        if delay_mode == HOMOGENEOUS_DELAY:
            if sizes[FIFO_COUNT] > 0:
                arrival = fifo_arrival[sizes[FIFO_HEAD]]
        elif delay_mode == SYNAPSE_DELAYS:
            if sizes[PENDING_COUNT] > 0:
                arrival = pending_arrival[0]
        delayed_arrival = arrival
        input_clock = math.inf
        if pointer < n_inputs:
            input_clock = _input_clock(
                homogeneous, input_times[pointer], time_base, compensation, omega[0], offset
            )
            if input_clock < arrival:
                arrival = input_clock
        is_arrival = arrival <= top_key
        next_clock = arrival if is_arrival else top_key
        if next_clock < offset:
            next_clock = offset
        if (
            rebase_interval > 0
            and counters[SINCE_REBASE] >= rebase_interval
            and next_clock > offset
        ):
            # rebase between instants only: a rebase inside an instant would round the
            # arrivals of its spikes' pulses differently (fl(fl(o + d) - o) != d), and
            # pulses sent at one instant must arrive at one clock value (tied pulses)
            _rebase_events(events, offset)
            offset, time_base, compensation = rebase(neurons, heap, offset, time_base, compensation)
            counters[SINCE_REBASE] = 0
            clock[OFFSET] = offset
            clock[TIME_BASE] = time_base
            clock[COMPENSATION] = compensation
            continue
        event_time = clock_to_time(homogeneous, next_clock, time_base, compensation, omega[0])
        if sampled:
            until = event_time if event_time < stop_time else stop_time
            record_samples(neurons, heap, time_base - compensation, until, sampling, counters, ends)
        is_input = is_arrival and input_clock == arrival
        if is_input:  # an input spike is compared with the stop time as given
            past_stop = input_times[pointer] > stop_time
        else:
            past_stop = event_time > stop_time
        if past_stop:
            counters[REACHED_STOP] = 1
            break
        if is_arrival:
            if next_clock > offset:
                simultaneous = -1  # a new instant, no spike at it yet
            offset = next_clock
            if is_input:
                tied = delayed_arrival == arrival
                if not tied and pointer + 1 < n_inputs:
                    tied = arrival == _input_clock(
                        homogeneous, input_times[pointer + 1], time_base, compensation,
                        omega[0], offset,
                    )  # fmt: skip
                if not tied:
                    _apply_input(neurons, heap, inputs, pointer, offset, refractory_on, ends)
                    pointer += 1
                else:
                    # everything arriving at this clock value: one summed pulse per target
                    n_tied = 0
                    if delay_mode == HOMOGENEOUS_DELAY:
                        while sizes[FIFO_COUNT] > 0 and fifo_arrival[sizes[FIFO_HEAD]] == arrival:
                            head = sizes[FIFO_HEAD]
                            j = fifo_source[head]
                            sizes[FIFO_HEAD] = head + 1 if head + 1 < fifo_capacity else 0
                            sizes[FIFO_COUNT] -= 1
                            tied_targets, tied_weights, n_tied = _gather_volley(
                                graph, regeneration, counters, n_neurons, j,
                                tied_targets, tied_weights, n_tied,
                            )  # fmt: skip
                    elif delay_mode == SYNAPSE_DELAYS:
                        while sizes[PENDING_COUNT] > 0 and pending_arrival[0] == arrival:
                            k = pending[2][0]
                            j = pending[3][0]
                            _pending_pop(pending, sizes[PENDING_COUNT])
                            sizes[PENDING_COUNT] -= 1
                            tied_targets = _room_int(tied_targets, n_tied + 1)
                            tied_weights = _room_float(tied_weights, n_tied + 1)
                            tied_targets[n_tied] = synapse_targets[k]
                            tied_weights[n_tied] = (
                                synapse_weights[k]
                                if use_synapse_weights
                                else _presynaptic_weight(presynaptic_weights, j)
                            )
                            n_tied += 1
                    while pointer < n_inputs and arrival == _input_clock(
                        homogeneous, input_times[pointer], time_base, compensation, omega[0],
                        offset,
                    ):  # fmt: skip
                        tied_targets, tied_weights, n_tied = _gather_input(
                            inputs, pointer, tied_targets, tied_weights, n_tied
                        )
                        pointer += 1
                    _deliver_sums(
                        neurons, heap, tied_targets, tied_weights, n_tied, offset, refractory_on,
                        ends,
                    )  # fmt: skip
                input_cursor[INPUT_POINTER] = pointer
                clock[OFFSET] = offset
                counters[SIMULTANEOUS] = simultaneous
                continue
            if delay_mode == HOMOGENEOUS_DELAY:
                head = sizes[FIFO_HEAD]
                j = fifo_source[head]
                head = head + 1 if head + 1 < fifo_capacity else 0
                sizes[FIFO_HEAD] = head
                sizes[FIFO_COUNT] -= 1
                if sizes[FIFO_COUNT] > 0 and fifo_arrival[head] == arrival:
                    # volleys arriving together: one summed pulse per target
                    n_tied = 0
                    while True:
                        tied_targets, tied_weights, n_tied = _gather_volley(
                            graph, regeneration, counters, n_neurons, j,
                            tied_targets, tied_weights, n_tied,
                        )  # fmt: skip
                        if sizes[FIFO_COUNT] == 0 or fifo_arrival[sizes[FIFO_HEAD]] != arrival:
                            break
                        head = sizes[FIFO_HEAD]
                        j = fifo_source[head]
                        sizes[FIFO_HEAD] = head + 1 if head + 1 < fifo_capacity else 0
                        sizes[FIFO_COUNT] -= 1
                    _deliver_sums(
                        neurons, heap, tied_targets, tied_weights, n_tied, offset, refractory_on,
                        ends,
                    )  # fmt: skip
                else:
                    start, count = _targets_of(j, graph, regeneration, counters, n_neurons)
                    _touch_targets(graph, regeneration, heap, start, count)
                    _apply_pulses(
                        neurons, graph, regeneration, heap, j, start, count, offset,
                        refractory_on, ends, no_pulses,
                    )  # fmt: skip
            else:
                k = pending[2][0]
                j = pending[3][0]
                _pending_pop(pending, sizes[PENDING_COUNT])
                sizes[PENDING_COUNT] -= 1
                if sizes[PENDING_COUNT] > 0 and pending_arrival[0] == arrival:
                    # pulses arriving together: one summed pulse per target
                    n_tied = 0
                    while True:
                        tied_targets = _room_int(tied_targets, n_tied + 1)
                        tied_weights = _room_float(tied_weights, n_tied + 1)
                        tied_targets[n_tied] = synapse_targets[k]
                        tied_weights[n_tied] = (
                            synapse_weights[k]
                            if use_synapse_weights
                            else _presynaptic_weight(presynaptic_weights, j)
                        )
                        n_tied += 1
                        if sizes[PENDING_COUNT] == 0 or pending_arrival[0] != arrival:
                            break
                        k = pending[2][0]
                        j = pending[3][0]
                        _pending_pop(pending, sizes[PENDING_COUNT])
                        sizes[PENDING_COUNT] -= 1
                    _deliver_sums(
                        neurons, heap, tied_targets, tied_weights, n_tied, offset, refractory_on,
                        ends,
                    )  # fmt: skip
                else:
                    _apply_one_pulse(neurons, graph, heap, j, k, offset, refractory_on, ends)
            clock[OFFSET] = offset
            counters[SIMULTANEOUS] = simultaneous
            continue
        # a spike of the heap top: room for its pulses first
        j = ids[0]
        if delay_mode == HOMOGENEOUS_DELAY and sizes[FIFO_COUNT] >= fifo_capacity:
            counters[NEEDED_SPACE] = sizes[FIFO_COUNT] + 1
            break
        if delay_mode == SYNAPSE_DELAYS:
            needed = sizes[PENDING_COUNT] + indptr[j + 1] - indptr[j]
            if needed > pending_arrival.shape[0]:
                counters[NEEDED_SPACE] = needed
                break
        if next_clock > offset:
            simultaneous = 0
        else:  # at the current instant
            simultaneous += 1
            if simultaneous >= n_neurons:
                break
        offset = next_clock
        if record:
            out_index[n] = j
            out_time[n] = event_time
        if refractory_on:
            _reset_refractory(neurons, heap, j, offset, refractory_period, refractory_end)
        else:
            _reset_spiker(neurons, heap, j, offset)
        if delay_mode == NO_DELAY:
            start, count = _targets_of(j, graph, regeneration, counters, n_neurons)
            _touch_targets(graph, regeneration, heap, start, count)
            _apply_pulses(
                neurons, graph, regeneration, heap, j, start, count, offset, refractory_on, ends,
                no_pulses,
            )  # fmt: skip
        elif delay_mode == HOMOGENEOUS_DELAY:
            tail = sizes[FIFO_HEAD] + sizes[FIFO_COUNT]
            if tail >= fifo_capacity:
                tail -= fifo_capacity
            fifo_source[tail] = j
            fifo_arrival[tail] = offset + delay
            fifo_sequence[tail] = counters[TOTAL]
            sizes[FIFO_COUNT] += 1
        else:
            for k in range(indptr[j], indptr[j + 1]):
                _pending_push(
                    pending, sizes[PENDING_COUNT], offset + synapse_delay[k], counters[TOTAL], k, j
                )
                sizes[PENDING_COUNT] += 1
        n += 1
        counters[TOTAL] += 1
        counters[SINCE_REBASE] += 1
        clock[OFFSET] = offset
        clock[TIME_BASE] = time_base
        clock[COMPENSATION] = compensation
        counters[SIMULTANEOUS] = simultaneous
    clock[OFFSET] = offset
    clock[TIME_BASE] = time_base
    clock[COMPENSATION] = compensation
    counters[SIMULTANEOUS] = simultaneous
    input_cursor[INPUT_POINTER] = pointer
    return n
