"""Tests of the SparseProp heap and of the memory-free row generator's duplicate check."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from neurosrnn.sparseprop._heap import heapify, update
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
    assert table.size >= 2 * K and table.size & (table.size - 1) == 0
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


def test_materialised_graph_rows_are_the_regenerated_rows():
    graph = RegeneratedConnectivity(500, 40, seed=5)
    stored = graph.materialize()
    table, row = duplicate_table(40), np.empty(40, dtype=np.int32)
    for j in (0, 17, 499):
        regenerate_row(5, j, 40, 500, False, table, row)
        assert_array_equal(np.sort(row), stored.indices[stored.indptr[j] : stored.indptr[j + 1]])


def test_heap_pops_in_key_then_index_order_after_random_updates():
    rng = np.random.default_rng(3)
    n = 1000
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
