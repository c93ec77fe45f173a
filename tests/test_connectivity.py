"""Tests for neurosrnn.connectivity: exact degrees, exclusions, E/I scaling, seeding."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import (
    Connectivity,
    balanced_ei,
    erdos_renyi,
    fixed_in_degree,
    fixed_out_degree,
)


def _pair_counts(graph):
    """Brute force: number of synapses for every (pre, post) pair from the edge list."""
    counts = {}
    for pre, post in zip(graph.sources.tolist(), graph.targets.tolist(), strict=True):
        counts[(pre, post)] = counts.get((pre, post), 0) + 1
    return counts


@pytest.mark.parametrize("N, K", [(200, 20), (60, 59), (1000, 150)])
def test_fixed_in_degree_exact_degrees_no_autapses_no_multapses(N, K):
    graph = fixed_in_degree(N, N, K, seed=3)
    assert_array_equal(graph.in_degrees(), np.full(N, K))
    assert graph.n_synapses == N * K
    counts = _pair_counts(graph)
    assert max(counts.values()) == 1
    assert all(pre != post for pre, post in counts)


@pytest.mark.parametrize("N, K", [(200, 20), (40, 39), (1000, 150)])
def test_fixed_out_degree_exact_degrees_no_autapses_no_multapses(N, K):
    graph = fixed_out_degree(N, N, K, seed=4)
    assert_array_equal(graph.out_degrees(), np.full(N, K))
    counts = _pair_counts(graph)
    assert max(counts.values()) == 1
    assert all(pre != post for pre, post in counts)


def test_rows_are_sorted_targets_and_csr_consistent():
    graph = fixed_in_degree(300, 200, 30, seed=5)
    for i in range(graph.N_pre):
        targets = graph.targets_of(i)
        assert np.all(np.diff(targets) > 0)
    # The CSR and the dense matrix describe the same edges (independent construction).
    dense = np.zeros((300, 200))
    for pre, post in zip(graph.sources, graph.targets, strict=True):
        dense[pre, post] += 1
    assert_array_equal(dense, graph.to_dense())
    assert_array_equal(dense.sum(axis=0), np.full(200, 30))


def test_autapses_allowed_when_requested():
    # With autapses allowed and K = N every neuron must connect to itself.
    graph = fixed_in_degree(30, 30, 30, seed=1, autapses=True)
    assert_array_equal(np.diag(graph.to_dense()), np.ones(30))


def test_multapses_allowed_when_requested_with_K_above_N():
    graph = fixed_in_degree(10, 50, 25, seed=2, multapses=True)
    assert_array_equal(graph.in_degrees(), np.full(50, 25))
    assert graph.to_dense().max() > 1  # 25 draws from 10 sources must repeat


def test_in_degree_draws_are_uniform_over_sources():
    # Each allowed source is chosen with probability p = K/(N-1) per draw, so over R
    # graphs a pair count is Binomial(R, p); each column sums to R*K exactly, which
    # removes one degree of freedom per column. The scaled statistic is ~ chi2(dof).
    N, K, R = 50, 10, 200
    graph = fixed_in_degree(N, N, K, seed=11)
    counts = np.zeros((N, N))
    for seed in range(R):
        counts += fixed_in_degree(N, N, K, seed=seed).to_dense()
    off_diagonal = counts[~np.eye(N, dtype=bool)]
    p = K / (N - 1)
    expected = R * p
    chi2 = np.sum((off_diagonal - expected) ** 2 / (expected * (1 - p)))
    dof = N * (N - 2)
    assert abs(chi2 - dof) < 5 * np.sqrt(2 * dof)
    assert graph.n_synapses == N * K


def test_erdos_renyi_density_and_no_autapses():
    N, p = 400, 0.05
    graph = erdos_renyi(N, N, p, seed=7)
    n_pairs = N * (N - 1)
    expected = p * n_pairs
    assert abs(graph.n_synapses - expected) < 5 * np.sqrt(expected * (1 - p))
    counts = _pair_counts(graph)
    assert max(counts.values()) == 1
    assert all(pre != post for pre, post in counts)


def test_erdos_renyi_extreme_probabilities():
    assert erdos_renyi(20, 20, 0.0, seed=1).n_synapses == 0
    full = erdos_renyi(20, 20, 1.0, seed=1)
    assert_array_equal(full.to_dense(), 1 - np.eye(20))


def test_balanced_ei_degrees_and_weight_scaling():
    N_E, N_I, K, J0, g = 400, 100, 50, 2.0, 5.0
    graph = balanced_ei(N_E, N_I, K, J0=J0, g=g, seed=9)
    dense = graph.to_dense()
    K_E = round(K * N_E / (N_E + N_I))
    assert_array_equal((dense[:N_E] != 0).sum(axis=0), np.full(N_E + N_I, K_E))
    assert_array_equal((dense[N_E:] != 0).sum(axis=0), np.full(N_E + N_I, K - K_E))
    assert_allclose(np.unique(dense[:N_E][dense[:N_E] != 0]), [J0 / np.sqrt(K)])
    assert_allclose(np.unique(dense[N_E:][dense[N_E:] != 0]), [-g * J0 / np.sqrt(K)])
    assert_array_equal(np.diag(dense), np.zeros(N_E + N_I))


def test_balanced_ei_purely_inhibitory():
    graph = balanced_ei(0, 100, 10, J0=1.0, g=1.0, seed=1)
    assert np.all(graph.weights < 0)
    assert_array_equal(graph.in_degrees(), np.full(100, 10))


@pytest.mark.parametrize(
    "factory",
    [
        lambda seed: fixed_in_degree(300, 300, 20, seed=seed),
        lambda seed: fixed_out_degree(300, 300, 20, seed=seed),
        lambda seed: erdos_renyi(300, 300, 0.05, seed=seed),
        lambda seed: balanced_ei(240, 60, 20, J0=1.0, g=4.0, seed=seed),
    ],
)
def test_same_seed_same_graph_different_seed_different_graph(factory):
    assert factory(42) == factory(42)
    assert factory(42) != factory(43)


def test_connect_hands_identical_graph_to_brian2():
    from brian2 import NeuronGroup, Synapses, mV

    graph = balanced_ei(40, 10, 10, J0=1.0, g=4.0, seed=2)
    group = NeuronGroup(50, "v : volt")
    synapses = Synapses(group, group, "w : volt")
    graph.connect(synapses, weight_unit=mV)
    dense = np.zeros((50, 50))
    dense[synapses.i[:], synapses.j[:]] = synapses.w[:] / mV
    assert_allclose(dense, graph.to_dense())


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda: fixed_in_degree(10, 10, 10, seed=1), "K=10"),
        (lambda: fixed_out_degree(10, 10, 11, seed=1), "K=11"),
        (lambda: fixed_in_degree(0, 10, 1, seed=1), "N_pre"),
        (lambda: fixed_in_degree(10, -1, 1, seed=1), "N_post"),
        (lambda: fixed_in_degree(10, 10, -1, seed=1), "K must"),
        (lambda: erdos_renyi(10, 10, 1.5, seed=1), "p must"),
        (lambda: erdos_renyi(10, 10, -0.1, seed=1), "p must"),
        (lambda: balanced_ei(10, 10, 5, J0=float("nan"), g=1.0, seed=1), "J0"),
        (lambda: balanced_ei(10, 10, 5, J0=1.0, g=-1.0, seed=1), "g must"),
        (lambda: balanced_ei(10, 10, 25, J0=1.0, g=1.0, seed=1), "K=25"),
        (lambda: Connectivity([0, 2], [0, 5], 3), "indices must lie"),
        (lambda: Connectivity([0, 2], [0, 1], 3, weights=[1.0]), "weights must"),
        (lambda: Connectivity([1, 2], [0], 3), "indptr"),
    ],
)
def test_bad_input_raises_named_error(call, parameter):
    with pytest.raises(ValueError, match=parameter):
        call()


def test_repr_names_sizes_and_rule():
    text = repr(fixed_in_degree(100, 100, 5, seed=1))
    assert "100 -> 100" in text and "500 synapses" in text and "in-degree K=5" in text
