"""Tests of the SparseProp heap and of the memory-free row generator's duplicate check."""

import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from neurosrnn.sparseprop._heap import PREFETCH_FROM, heapify, move, prefetch, update
from neurosrnn.sparseprop.topology import (
    RegeneratedConnectivity,
    duplicate_table,
    regenerate_row,
    regenerate_targets,
)


@pytest.mark.parametrize(("N", "K"), [(2, 1), (11, 10), (50, 49), (1000, 100), (10**6, 300)])
def test_k_sized_duplicate_check_draws_the_rows_of_the_stamp_array(N, K):
    stamp = np.full(N, -1, dtype=np.int64)
    table = duplicate_table(K)
    slots = 8
    while slots < 2 * K:
        slots *= 2
    assert table.size >= slots and (table[:slots] == -1).all() and not table[slots:].any()
    expected, row = np.empty(K, dtype=np.int32), np.empty(K, dtype=np.int32)
    for marker, j in enumerate(sorted({*range(min(N, 30)), N - 1})):
        regenerate_targets(7, j, K, N, False, stamp, marker, expected)
        regenerate_row(7, j, K, N, False, table, row)
        assert_array_equal(row, expected)
        assert np.unique(row).size == K and j not in row
    # with multapses the table is not used and the draws are the raw ones
    regenerate_targets(7, 1, K, N, True, stamp, -5, expected)
    regenerate_row(7, 1, K, N, True, table, row)
    assert_array_equal(row, expected)


def test_hash_slots_are_the_lowest_power_of_two_of_the_table_size():
    """`regenerate_row` reads the hash slots off the table's size (its lowest set bit)."""
    for K in range(1, 400):
        table = duplicate_table(K)
        slots = table.size & -table.size
        assert slots >= 2 * K and (table[:slots] == -1).all() and not table[slots:].any(), K
        assert (table.size > slots) == (K <= 362), K  # the bit set of the fast path


def test_bit_set_fast_path_draws_again_after_a_collision_and_leaves_no_bit_set():
    """Rows whose first K draws set a bit twice (a duplicate, or equal low bits) are
    drawn again with the hash set; the others are taken as drawn. Both equal the rows of
    the stamp array, and every row leaves the bit set cleared."""
    N, K = 1 << 14, 100  # K^2 / 2N = 0.3: a duplicate in about a quarter of the rows
    table = duplicate_table(K, N)
    slots = 256
    assert table.size == slots + 2**17 // 32  # the hash slots, then 2^17 >= 8 K^2 bits
    stamp = np.full(N, -1, dtype=np.int64)
    expected, row = np.empty(K, dtype=np.int32), np.empty(K, dtype=np.int32)
    duplicates = 0
    for marker, j in enumerate(range(0, N, 41)):
        regenerate_targets(7, j, K, N, False, stamp, marker, expected)
        regenerate_row(7, j, K, N, False, table, row)
        assert_array_equal(row, expected)
        assert not table[slots:].any()
        raw = np.empty(K, dtype=np.int32)
        regenerate_targets(7, j, K, N, True, stamp, -5, raw)
        duplicates += np.unique(raw).size < K
    assert 50 < duplicates < 200  # both paths were taken (of 400 rows)


@pytest.mark.parametrize(("N", "K"), [(2, 1), (11, 10), (1000, 100), (16383, 300)])
def test_direct_duplicate_check_draws_the_rows_of_the_stamp_array(N, K):
    """Below 2^14 neurons the table holds a mark per neuron (and the row marker)."""
    stamp = np.full(N, -1, dtype=np.int64)
    table = duplicate_table(K, N)
    assert table.shape == (N + 1,)
    assert duplicate_table(K, 1 << 14).shape == duplicate_table(K).shape  # hashed from 2^14 on
    expected, row = np.empty(K, dtype=np.int32), np.empty(K, dtype=np.int32)
    rows = sorted({*range(min(N, 30)), N - 1})
    for marker, j in enumerate(rows):
        regenerate_targets(7, j, K, N, False, stamp, marker, expected)
        regenerate_row(7, j, K, N, False, table, row)
        assert_array_equal(row, expected)
        assert np.unique(row).size == K and j not in row
    assert table[N] == len(rows)  # one marker per row
    # the marker wraps before int32 overflow: the marks are cleared, rows stay exact
    table[N] = 2**31 - 3
    again = rows[:4]
    for marker, j in enumerate(again, start=len(rows)):
        regenerate_targets(7, j, K, N, False, stamp, marker, expected)
        regenerate_row(7, j, K, N, False, table, row)
        assert_array_equal(row, expected)
    assert table[N] == len(again) - 1  # 2^31 - 2, then cleared: 1, 2, ...


def test_materialised_graph_rows_are_the_regenerated_rows():
    graph = RegeneratedConnectivity(500, 40, seed=5)
    stored = graph.materialize()
    table, row = duplicate_table(40), np.empty(40, dtype=np.int32)
    for j in (0, 17, 499):
        regenerate_row(5, j, 40, 500, False, table, row)
        assert_array_equal(np.sort(row), stored.indices[stored.indptr[j] : stored.indptr[j + 1]])


# heap sizes below and above the one from which the sifts prefetch (PREFETCH_FROM)
_HEAP_SIZES = [1000, PREFETCH_FROM + 3]


@pytest.mark.parametrize("n", _HEAP_SIZES)
def test_heap_pops_in_key_then_index_order_after_random_updates(n):
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 50, n).astype(float)  # many equal keys: ties by index
    heap_key, heap_id = keys.copy(), np.arange(n, dtype=np.int32)
    position = np.empty(n, dtype=np.int32)
    heapify(heap_key, heap_id, position)
    for _ in range(5000):
        i = int(rng.integers(n))
        keys[i] = float(rng.integers(0, 50))
        update(heap_key, heap_id, position, position[i], keys[i], n)
    assert_array_equal(heap_id[position], np.arange(n))
    order = []
    while heap_key[0] < np.inf:  # pop: the top's key becomes +inf and sinks
        order.append(int(heap_id[0]))
        update(heap_key, heap_id, position, 0, np.inf, n)
    assert_array_equal(order, np.lexsort((np.arange(n), keys)))


@pytest.mark.parametrize("n", _HEAP_SIZES)
def test_inlined_move_leaves_the_heap_of_update_entry_for_entry(n):
    """`move` repeats the sifts' loops (for speed); both heaps stay identical throughout."""
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 50, n).astype(float)  # many equal keys: ties by index
    a_key, a_id = keys.copy(), np.arange(n, dtype=np.int32)
    a_position = np.empty(n, dtype=np.int32)
    heapify(a_key, a_id, a_position)
    b_key, b_id, b_position = a_key.copy(), a_id.copy(), a_position.copy()
    for step in range(5000):
        i = int(rng.integers(n))
        new_key = float(rng.integers(0, 50)) if step % 7 else np.inf
        p = a_position[i]
        update(a_key, a_id, a_position, p, new_key, n)
        move(b_key, b_id, b_position, p, i, b_key[p], new_key, n)
        if n < PREFETCH_FROM or step % 500 == 0:
            assert_array_equal(b_id, a_id)
    assert_array_equal(b_key, a_key)
    assert_array_equal(b_position, a_position)


def test_prefetch_is_a_hint_that_neither_reads_nor_faults():
    import numba

    @numba.njit
    def prefetched_sum(values, indices):
        total = 0.0
        for i in indices:
            prefetch(values, i)  # far outside the array too: a hint reads nothing
            if 0 <= i < values.shape[0]:
                total += values[i]
        return total

    values = np.arange(10.0)
    indices = np.array([3, -(2**40), 2**40, 9, 10])
    assert prefetched_sum(values, indices) == 12.0
    assert prefetched_sum(values[::2], np.array([1, 4])) == 10.0  # strided view
    # int32 indices (the engine's positions and targets), also into a 2-D array's column
    table = np.arange(20.0).reshape(10, 2)
    assert prefetched_sum(values, np.array([3, 9], np.int32)) == 12.0
    assert prefetched_sum(table[:, 0], np.array([1, 4], np.int32)) == 10.0


def test_heapify_neurons_equals_identity_ids_then_heapify():
    from neurosrnn.sparseprop._heap import heapify_neurons

    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 1000, 4097):
        keys = rng.integers(0, 50, n).astype(float)  # many ties: broken by neuron index
        ids, position = np.empty(n, np.int32), np.empty(n, np.int32)
        expected_keys, expected_ids = keys.copy(), np.arange(n, dtype=np.int32)
        expected_position = np.empty(n, np.int32)
        heapify(expected_keys, expected_ids, expected_position)
        heapify_neurons(keys, ids, position)
        assert_array_equal(keys, expected_keys)
        assert_array_equal(ids, expected_ids)
        assert_array_equal(position, expected_position)
        assert_array_equal(ids[position], np.arange(n))
        # heap order on (key, index), checked by brute force against every parent
        children = np.arange(1, n)
        parents = (children - 1) // 4
        assert np.all(
            (keys[parents] < keys[children])
            | ((keys[parents] == keys[children]) & (ids[parents] < ids[children]))
        )


# Spikes of the unmodified engine (revision 69284d9) on these networks: SHA-256 of the
# 20000 spike indices (int64) then times (float64, seconds), the last index and the last
# time as a float hex. Any change to the heap or the kernel's hot loop must keep them:
# the spike order (ties by lowest index) and the key arithmetic are exact by design.
_RECORDED_SPIKES = {
    "theta_free": (
        "1c2bcbb7be5ca35a332267719fe5e009c988b42c95dbe97648811a51e829308d",
        539,
        "0x1.bd0ebdc155f7ep+2",
    ),
    "theta_stored": (
        "1c2bcbb7be5ca35a332267719fe5e009c988b42c95dbe97648811a51e829308d",
        539,
        "0x1.bd0ebdc155f7ep+2",
    ),
    "lif_hetero_stored": (
        "c5f1381c63636f8a9225fbc16aa84282a34ba598763a689187e5193b6ca4da69",
        1816,
        "0x1.0c3ebd9f3aaafp+1",
    ),
    "theta_delay_refractory": (
        "c0ecef1a8ca45523e6794def4ffc493a14504795f1716aa45faae4c88613fc72",
        1470,
        "0x1.bc726605cca51p+2",
    ),
}


def _recorded_network(name):
    import math

    from neurosrnn.sparseprop.engine import SparsePropNetwork, balanced_network
    from neurosrnn.sparseprop.topology import RegeneratedConnectivity as Graph

    if name == "theta_free":
        return balanced_network(2000, 50, memory_free=True, seed=3)
    if name == "theta_stored":
        return balanced_network(2000, 50, memory_free=False, seed=3)
    if name == "lif_hetero_stored":
        return balanced_network(2000, 50, model="lif", heterogeneity=0.3, memory_free=False, seed=3)
    return SparsePropNetwork(
        "theta",
        Graph(2000, 50, seed=3),
        drive=0.01 * math.sqrt(50),
        tau=0.01,
        coupling=-1 / math.sqrt(50),
        delay=0.001,
        refractory=0.002,
    )


@pytest.mark.parametrize("name", sorted(_RECORDED_SPIKES))
def test_spikes_are_bit_identical_to_the_recorded_engine(name):
    import hashlib

    network = _recorded_network(name)
    result = network.run(network.initial_state(seed=4), n_spikes=20_000, progress=False)
    indices = np.asarray(result.spike_indices, dtype=np.int64)
    times = np.asarray(result.spike_times, dtype=np.float64)
    digest, last_index, last_time = _RECORDED_SPIKES[name]
    assert indices.size == 20_000
    assert int(indices[-1]) == last_index
    assert float(times[-1]).hex() == last_time
    assert hashlib.sha256(indices.tobytes() + times.tobytes()).hexdigest() == digest


@pytest.mark.parametrize("memory_free", [True, False], ids=["memory_free", "stored"])
def test_the_benchmark_reference_heap_gives_the_engine_spikes(memory_free):
    """The plain record heap of benchmarks/reference_heap.py (an independent heap and
    event loop with the engine's arithmetic) fires the same spikes, bit for bit."""
    import importlib.util
    from pathlib import Path

    from neurosrnn.sparseprop.engine import balanced_network

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "reference_heap.py"
    spec = importlib.util.spec_from_file_location("reference_heap", path)
    reference_heap = importlib.util.module_from_spec(spec)
    # registered under its name: numba's on-disk cache of its kernels (written by this
    # test or by the benchmark scripts, which import it from benchmarks/) re-imports the
    # module by that name when it loads them
    sys.modules.setdefault("reference_heap", reference_heap)
    spec.loader.exec_module(sys.modules["reference_heap"])
    reference_heap = sys.modules["reference_heap"]
    network = balanced_network(2000, 50, memory_free=memory_free, seed=5)
    state = network.initial_state(seed=6)
    reference = reference_heap.ReferenceHeapNetwork(network, state)
    indices, times = reference.run(5000, record=True)
    result = network.run(state, n_spikes=5000, progress=False)
    assert_array_equal(indices, result.spike_indices)
    assert_array_equal(times, result.spike_times)
