"""A plain 4-ary heap with inline keys and a theta-network event loop, for benchmarks only.

This is the yardstick of ``sparseprop_scaling.py``: a straightforward indexed 4-ary
min-heap whose slots hold ``(key, neuron)`` together (one 16-byte record per slot, no
alignment tricks, separate sift functions), and the SparseProp event loop of an
inhibitory theta network in the phase representation written on top of it. It is not
part of the package and shares only the phase transition curve
(`neurosrnn.sparseprop.phase_models.pulse_phase`) and the memory-free target generator
(`neurosrnn.sparseprop.topology.regenerate_targets`) with the engine, so that both
simulate the same network.

It repeats the engine's arithmetic exactly (key of a target
:math:`\\Phi + \\phi_{th} - g(\\phi_{th} - (k - \\Phi))`, rebase every
``rebase_interval`` spikes with a compensated time base, ties broken by the lowest
neuron index), so both produce bit-identical spikes from the same state; the benchmark
checks that before it compares their speed.
"""

from __future__ import annotations

import numba
import numpy as np

from neurosrnn.sparseprop.phase_models import pulse_phase
from neurosrnn.sparseprop.topology import regenerate_targets

__all__ = ["ReferenceHeapNetwork"]

ENTRY = np.dtype([("key", np.float64), ("neuron", np.int64)])


@numba.njit(cache=True)
def _precedes(key_a, id_a, key_b, id_b):
    return key_a < key_b or (key_a == key_b and id_a < id_b)


@numba.njit(cache=True)
def _sift_up(heap, position, p):
    entry_key = heap[p].key
    entry_id = heap[p].neuron
    while p > 0:
        parent = (p - 1) >> 2
        if _precedes(entry_key, entry_id, heap[parent].key, heap[parent].neuron):
            heap[p].key = heap[parent].key
            heap[p].neuron = heap[parent].neuron
            position[heap[p].neuron] = p
            p = parent
        else:
            break
    heap[p].key = entry_key
    heap[p].neuron = entry_id
    position[entry_id] = p


@numba.njit(cache=True)
def _sift_down(heap, position, p):
    n = heap.shape[0]
    entry_key = heap[p].key
    entry_id = heap[p].neuron
    while True:
        child = 4 * p + 1
        if child >= n:
            break
        best = child
        for c in range(child + 1, min(child + 4, n)):
            if _precedes(heap[c].key, heap[c].neuron, heap[best].key, heap[best].neuron):
                best = c
        if _precedes(heap[best].key, heap[best].neuron, entry_key, entry_id):
            heap[p].key = heap[best].key
            heap[p].neuron = heap[best].neuron
            position[heap[p].neuron] = p
            p = best
        else:
            break
    heap[p].key = entry_key
    heap[p].neuron = entry_id
    position[entry_id] = p


@numba.njit(cache=True)
def _heapify(heap, position):
    n = heap.shape[0]
    for p in range(n):
        position[heap[p].neuron] = p
    for p in range((n - 2) // 4, -1, -1):
        _sift_down(heap, position, p)


@numba.njit(cache=True)
def _loop(heap, position, clock, counters, graph, regeneration, drive, n_spikes, out):
    """`n_spikes` spikes of the theta network; ``clock = [offset, time_base, compensation]``.

    ``counters = [since_rebase, rebase_interval, stamp]``; ``graph = (indptr, targets,
    presynaptic_weights)``; ``regeneration = (regenerate, seed, K, stamp, row)``;
    ``drive = (omega, scale, phase_reset, phase_threshold)``; ``out = (record, indices,
    times)`` (times in tau units).
    """
    indptr, targets, weights = graph
    regenerate, seed, K, stamp, row = regeneration
    omega, scale, phase_reset, phase_threshold = drive
    record, out_index, out_time = out
    n = heap.shape[0]
    offset, time_base, compensation = clock[0], clock[1], clock[2]
    reset_distance = phase_threshold - phase_reset
    for s in range(n_spikes):
        top = heap[0].key
        j = heap[0].neuron
        if top > offset:
            offset = top
        if record:
            out_index[s] = j
            out_time[s] = time_base + (offset / omega - compensation)
        heap[0].key = offset + reset_distance
        _sift_down(heap, position, 0)
        if regenerate:
            counters[2] += 1
            regenerate_targets(seed, j, K, n, False, stamp, counters[2], row)
            start, count = 0, K
        else:
            start, count = indptr[j], indptr[j + 1] - indptr[j]
        weight = weights[j]
        for k in range(count):
            i = row[k] if regenerate else targets[start + k]
            p = position[i]
            key = heap[p].key
            phase = phase_threshold - (key - offset)
            if phase < phase_reset:
                phase = phase_reset
            new_key = offset + (
                phase_threshold - pulse_phase(0, phase, weight, scale, omega, phase_threshold)
            )
            heap[p].key = new_key
            if new_key < key:
                _sift_up(heap, position, p)
            elif new_key > key:
                _sift_down(heap, position, p)
        counters[0] += 1
        if counters[1] > 0 and counters[0] >= counters[1]:
            for p in range(n):
                heap[p].key -= offset
            increment = offset / omega - compensation
            new_base = time_base + increment
            compensation = (new_base - time_base) - increment
            time_base = new_base
            offset = 0.0
            _heapify(heap, position)
            counters[0] = 0
    clock[0], clock[1], clock[2] = offset, time_base, compensation


class ReferenceHeapNetwork:
    """The theta network of a phase-representation `SparsePropNetwork` on the plain heap.

    Parameters
    ----------
    network : neurosrnn.sparseprop.SparsePropNetwork
        A theta network with one drive (phase representation), unweighted graph with a
        coupling per presynaptic neuron, stored or memory-free (without multapses).
    state : neurosrnn.sparseprop.SparsePropState
        Start state; the set-up (copy and heap construction, O(N)) happens here.
    """

    def __init__(self, network, state):
        if network.model.code != 0 or network.representation != "phase":
            raise ValueError("the reference heap runs theta networks in the phase representation")
        graph = network.connectivity
        self.regenerate = hasattr(graph, "seed") and not hasattr(graph, "indptr")
        if network.coupling is None:
            raise ValueError("the reference heap needs an unweighted graph with a coupling")
        if self.regenerate and graph.multapses:
            raise ValueError("the reference heap excludes multapses")
        N = network.N
        self.N = N
        self.heap = np.empty(N, dtype=ENTRY)
        self.heap["key"] = state.keys
        self.heap["neuron"] = np.arange(N)
        self.position = np.empty(N, dtype=np.int64)
        _heapify(self.heap, self.position)
        self.clock = np.array([state.offset, state.time_base, state.time_base_compensation])
        self.counters = np.array([state.spikes_since_rebase, network.rebase_interval, 0])
        if self.regenerate:
            self.graph = (np.zeros(1, np.int64), np.zeros(1, np.int32), network.coupling.copy())
            self.regeneration = (
                True,
                graph.seed,
                graph.K,
                np.full(N, -1, dtype=np.int64),
                np.zeros(graph.K, dtype=np.int32),
            )
        else:
            # the network's own index arrays (no copy: 10^8 indices at N = 10^6) and one
            # coupling per presynaptic neuron (the network keeps a uniform one as a single
            # value, read here as an array of N)
            coupling = np.asarray(network.coupling, dtype=float)
            self.graph = (network._graph[0], network._graph[1], coupling)
            self.regeneration = (False, 0, 0, np.zeros(1, np.int64), np.zeros(1, np.int32))
        self.drive = (
            float(network.omega[0]),
            float(network.scale[0]),
            float(network.model.phase_reset),
            float(network.model.phase_threshold),
        )
        self.tau = network.tau

    def run(self, n_spikes, record=False):
        """Advance `n_spikes` spikes; ``(indices, times in seconds)`` when `record`."""
        size = n_spikes if record else 1
        out = (record, np.empty(size, dtype=np.int32), np.empty(size))
        _loop(
            self.heap,
            self.position,
            self.clock,
            self.counters,
            self.graph,
            self.regeneration,
            self.drive,
            n_spikes,
            out,
        )
        if record:
            return out[1], out[2] * self.tau
        return None
