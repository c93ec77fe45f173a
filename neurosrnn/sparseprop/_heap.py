"""Indexed 4-ary min-heap with keys stored inline, for the SparseProp kernels.

Three arrays describe the heap: ``heap_key[p]`` (float64) and ``heap_id[p]`` (int32)
hold the key and neuron at heap position ``p``; ``position[i]`` is the heap position
of neuron ``i``. Entries are ordered by ``(key, neuron index)`` so ties are broken by
the lowest index, deterministically. A 4-ary heap is half as deep as a binary heap
and the four children of a node are contiguous: with the arrays aligned as the engine
allocates them (`engine._aligned_view`), the four keys of a family share one cache line
and so do their four ids, which keeps the number of cache misses per update low for
large networks. `move` takes the neuron from its caller rather than from ``heap_id``.
"""

from __future__ import annotations

import numba

__all__ = ["before", "heapify", "heapify_neurons", "move", "sift_down", "sift_up", "update"]

_ARITY = 4


@numba.njit(cache=True, inline="always")
def before(key_a, id_a, key_b, id_b):
    """Whether entry ``(key_a, id_a)`` precedes ``(key_b, id_b)``: smaller key, then index."""
    return key_a < key_b or (key_a == key_b and id_a < id_b)


@numba.njit(cache=True)
def sift_up(heap_key, heap_id, position, p):
    """Move the entry at heap position `p` towards the root until its parent precedes it."""
    key = heap_key[p]
    neuron = heap_id[p]
    while p > 0:
        parent = (p - 1) // _ARITY
        parent_key = heap_key[parent]
        parent_id = heap_id[parent]
        if before(key, neuron, parent_key, parent_id):
            heap_key[p] = parent_key
            heap_id[p] = parent_id
            position[parent_id] = p
            p = parent
        else:
            break
    heap_key[p] = key
    heap_id[p] = neuron
    position[neuron] = p


@numba.njit(cache=True)
def sift_down(heap_key, heap_id, position, p, n):
    """Move the entry at `p` towards the leaves until it precedes its children (heap size `n`)."""
    key = heap_key[p]
    neuron = heap_id[p]
    while True:
        first = _ARITY * p + 1
        if first >= n:
            break
        best = first
        best_key = heap_key[first]
        best_id = heap_id[first]
        last = min(first + _ARITY, n)
        for child in range(first + 1, last):
            child_key = heap_key[child]
            child_id = heap_id[child]
            if before(child_key, child_id, best_key, best_id):
                best = child
                best_key = child_key
                best_id = child_id
        if before(best_key, best_id, key, neuron):
            heap_key[p] = best_key
            heap_id[p] = best_id
            position[best_id] = p
            p = best
        else:
            break
    heap_key[p] = key
    heap_id[p] = neuron
    position[neuron] = p


@numba.njit(cache=True, inline="always")
def move(heap_key, heap_id, position, p, neuron, old_key, new_key, n):
    """Give `neuron`, at heap position `p` with key `old_key`, the key `new_key`, in order.

    The two-way sift of `update` compiled into the caller (inlined), for the per-target
    loop of the event kernels: the same comparisons and moves as `sift_up` (a smaller
    key) or `sift_down` (a larger one), so the heap ends in the same state bit for bit.
    A call to a compiled sift passes 23 machine words (three arrays) and keeps the
    compiler from scheduling the caller's loop around it; inlined, one pulse costs
    about 20 % less at N = 10^3 - 10^6 (``benchmarks/results/sparseprop_scaling.md``).

    The heap size `n` bounds the children of a sift down; `heap_key[p]` need not hold
    `old_key` on entry (it is overwritten). The caller passes `neuron` (``heap_id[p]``),
    which it knows: reading it back from `heap_id` is a cache miss per target in large
    networks (a 4-byte id in a 4 N-byte array), and the computation of the new key that
    precedes the move keeps that miss from overlapping with those of other targets.

    Its two loops repeat those of `sift_up` and `sift_down` on purpose: with the loops in
    shared inlined helpers (called here and from the sifts) the engine ran 2.3 times
    slower per spike (numba 0.68; measured with ``sparseprop_scaling.py --baseline``).
    """
    if new_key < old_key:
        while p > 0:
            parent = (p - 1) >> 2
            parent_key = heap_key[parent]
            parent_id = heap_id[parent]
            if before(new_key, neuron, parent_key, parent_id):
                heap_key[p] = parent_key
                heap_id[p] = parent_id
                position[parent_id] = p
                p = parent
            else:
                break
    elif new_key > old_key:
        while True:
            first = _ARITY * p + 1
            if first >= n:
                break
            best = first
            best_key = heap_key[first]
            best_id = heap_id[first]
            for child in range(first + 1, min(first + _ARITY, n)):
                child_key = heap_key[child]
                child_id = heap_id[child]
                if before(child_key, child_id, best_key, best_id):
                    best = child
                    best_key = child_key
                    best_id = child_id
            if before(best_key, best_id, new_key, neuron):
                heap_key[p] = best_key
                heap_id[p] = best_id
                position[best_id] = p
                p = best
            else:
                break
    heap_key[p] = new_key
    heap_id[p] = neuron
    position[neuron] = p


@numba.njit(cache=True)
def update(heap_key, heap_id, position, p, new_key, n):
    """Set the key at heap position `p` and restore the heap order (heap size `n`).

    Hot loops should call `move` instead, which is compiled into them: each compiled call
    with array arguments costs argument passing and reference counting.
    """
    old_key = heap_key[p]
    heap_key[p] = new_key
    if new_key < old_key:
        sift_up(heap_key, heap_id, position, p)
    elif new_key > old_key:
        sift_down(heap_key, heap_id, position, p, n)


@numba.njit(cache=True)
def heapify(heap_key, heap_id, position):
    """Floyd's bottom-up heap construction, O(n); `position` is rewritten."""
    n = heap_key.shape[0]
    for p in range(n):
        position[heap_id[p]] = p
    for p in range((n - 2) // _ARITY, -1, -1):
        sift_down(heap_key, heap_id, position, p, n)


@numba.njit(cache=True)
def heapify_neurons(heap_key, heap_id, position):
    """Heap of neurons ``0 .. n-1`` whose keys are ``heap_key`` (in neuron order), in place.

    Fills ``heap_id`` with the identity and runs Floyd's construction (`heapify`) on the
    same arrays: O(n) time and no temporary array, so a heap of 10^8 neurons is built in
    the 16 bytes per neuron of its three arrays. Equivalent to
    ``heap_id[:] = np.arange(n); heapify(heap_key, heap_id, position)``.

    Examples
    --------
    >>> import numpy as np
    >>> keys = np.array([3.0, 1.0, 2.0])
    >>> ids, position = np.empty(3, np.int32), np.empty(3, np.int32)
    >>> heapify_neurons(keys, ids, position)
    >>> int(ids[0]), float(keys[0])
    (1, 1.0)
    """
    for p in range(heap_key.shape[0]):
        heap_id[p] = p
    heapify(heap_key, heap_id, position)
