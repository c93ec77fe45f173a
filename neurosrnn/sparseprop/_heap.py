"""Indexed 4-ary min-heap with keys stored inline, for the SparseProp kernels.

Three arrays describe the heap: ``heap_key[p]`` (float64) and ``heap_id[p]`` (int32)
hold the key and neuron at heap position ``p``; ``position[i]`` is the heap position
of neuron ``i``. Entries are ordered by ``(key, neuron index)`` so ties are broken by
the lowest index, deterministically. A 4-ary heap is half as deep as a binary heap
and the four children of a node are contiguous: with the arrays aligned as the engine
allocates them (`engine._aligned_view`), the four keys of a family share one cache line
and so do their four ids, which keeps the number of cache misses per update low for
large networks. `move` takes the neuron from its caller rather than from ``heap_id``.
From `PREFETCH_FROM` entries on, the sifts down `prefetch` the grandchildren of each
node they visit, so that the misses of successive levels overlap.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "before",
    "heapify",
    "heapify_neurons",
    "move",
    "prefetch",
    "PREFETCH_FROM",
    "sift_down",
    "sift_up",
    "update",
]

_ARITY = 4
# from this heap size on the sifts down prefetch a node's grandchildren while they
# compare its children (`prefetch`); the kernels' touch passes use the same size
PREFETCH_FROM = 2**18


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to bring the cache line of ``array[index]`` closer (``llvm.prefetch``).

    A hint, compiled into the calling numba function: unlike a load it neither waits for
    the data nor holds up the instructions that follow, and an index outside the array
    reads nothing and cannot fault. The event kernels prefetch the heap entries a spike
    will touch before they work on them, so that the cache misses of its targets overlap.
    """
    if not (isinstance(array, types.Array) and array.ndim == 1):
        return None
    if not isinstance(index, types.Integer):
        return None
    signature = types.void(array, index)

    def codegen(context, builder, sig, args):
        array_type = sig.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        # the index as a machine word: strided views multiply it by their int64 stride
        item = context.cast(builder, args[1], sig.args[1], types.intp)
        address = cgutils.get_item_pointer2(
            context, builder, view.data, cgutils.unpack_tuple(builder, view.shape),
            cgutils.unpack_tuple(builder, view.strides), array_type.layout, [item],
            wraparound=False, boundscheck=False,
        )  # fmt: skip
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read (0), keep in all cache levels (3), data cache (1)
        builder.call(function, [builder.bitcast(address, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return signature, codegen


@numba.njit(cache=True, inline="always")
def before(key_a, id_a, key_b, id_b):
    """Whether entry ``(key_a, id_a)`` precedes ``(key_b, id_b)``: smaller key, then index."""
    return key_a < key_b or (key_a == key_b and id_a < id_b)


@numba.njit(cache=True, inline="always")
def _prefetch_grandchildren(heap_key, heap_id, p, n):
    """Prefetch the 16 grandchildren of `p`: their keys and ids, two cache lines each.

    While a sift down compares the four children of `p`, the family it moves to next is
    already on its way: it is one of the four families below, whose keys fill two whole
    lines and whose 64 bytes of ids straddle two (`engine._aligned_view`). Which family
    becomes known only after the comparison, so all four are asked for; the misses of
    successive levels then overlap instead of following each other.

    Where `p` has no grandchildren in a heap of `n` (>= 16) entries, the hints fall on
    the heap's last 16 entries, which stay cached, instead of on memory past the arrays:
    a hint there cannot fault but still fetches a line (or walks the page tables) and
    competes with the misses that matter. With the same clamp in `_kernel._touch`, a
    spike at N = 10^6 cost about 1.2x less.
    """
    grandchildren = min(16 * p + 5, n - 16)
    prefetch(heap_key, grandchildren)
    prefetch(heap_key, grandchildren + 8)
    prefetch(heap_id, grandchildren)
    prefetch(heap_id, grandchildren + 15)


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
        if n >= PREFETCH_FROM:
            _prefetch_grandchildren(heap_key, heap_id, p, n)
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
            if n >= PREFETCH_FROM:
                _prefetch_grandchildren(heap_key, heap_id, p, n)
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
