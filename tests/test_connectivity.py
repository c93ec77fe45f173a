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


# --------------------------------------------------------------------------- scipy.sparse


def _edge_table(graph):
    """Brute force: {(pre, post): summed weight} from the graph's edge list."""
    weights = np.ones(graph.n_synapses) if graph.weights is None else graph.weights
    table = {}
    for pre, post, weight in zip(graph.sources, graph.targets, weights, strict=True):
        table[(int(pre), int(post))] = table.get((int(pre), int(post)), 0.0) + float(weight)
    return table


def _matrix_table(matrix):
    """Brute force: {(row, col): summed value} from the stored entries of a sparse matrix."""
    coo = matrix.tocoo()
    table = {}
    for row, col, value in zip(coo.row, coo.col, coo.data, strict=True):
        table[(int(row), int(col))] = table.get((int(row), int(col)), 0.0) + float(value)
    return table


@pytest.mark.parametrize(
    "graph",
    [
        fixed_in_degree(70, 40, 9, seed=21, weights=np.linspace(-1.0, 2.0, 40 * 9)),
        balanced_ei(80, 20, 10, J0=1.5, g=4.0, seed=22),
        erdos_renyi(50, 50, 0.1, seed=23),
        fixed_out_degree(5, 8, 0, seed=24),
    ],
    ids=["weighted-nonsquare", "balanced", "unweighted", "empty"],
)
def test_graph_to_scipy_to_graph_round_trip_is_exact(graph):
    from scipy import sparse

    matrix = graph.to_scipy()
    assert isinstance(matrix, sparse.csr_array)
    assert matrix.shape == (graph.N_pre, graph.N_post)
    assert matrix.dtype == np.float64
    # same CSR rows as the graph, and the same edges as its brute-force edge list
    assert_array_equal(matrix.indptr, graph.indptr)
    assert_array_equal(matrix.indices, graph.indices)
    expected_weights = np.ones(graph.n_synapses) if graph.weights is None else graph.weights
    assert_array_equal(matrix.data, expected_weights)
    assert _matrix_table(matrix) == _edge_table(graph)

    back = Connectivity.from_scipy(matrix)
    assert (back.N_pre, back.N_post) == (graph.N_pre, graph.N_post)
    assert_array_equal(back.indptr, graph.indptr)
    assert_array_equal(back.indices, graph.indices)
    assert_array_equal(back.weights, expected_weights)
    if graph.weights is not None:
        assert back == graph
    else:
        # the boolean pattern is the way back to an unweighted graph
        assert Connectivity.from_scipy(matrix.astype(bool)) == graph


@pytest.mark.parametrize("format", ["csr", "csc", "coo", "lil", "dok"])
def test_scipy_to_graph_to_scipy_round_trip_is_exact(format):
    from scipy import sparse

    rng = np.random.default_rng(31)
    source = sparse.random_array((37, 53), density=0.2, format="csr", rng=rng)
    source.data = rng.normal(size=source.nnz)
    source.data[:3] = 0.0  # explicitly stored zeros are synapses of weight 0
    matrix = source.asformat(format)

    graph = Connectivity.from_scipy(matrix)
    assert (graph.N_pre, graph.N_post, graph.n_synapses) == (37, 53, source.nnz)
    assert _edge_table(graph) == _matrix_table(source)
    for i in range(graph.N_pre):  # presynaptic CSR rows, sorted as the class defines them
        assert np.all(np.diff(graph.targets_of(i)) > 0)

    again = graph.to_scipy(format)
    assert again.format == format
    canonical_source, canonical_again = source.tocsr(), again.tocsr()
    canonical_source.sort_indices()
    canonical_again.sort_indices()
    assert_array_equal(canonical_again.indptr, canonical_source.indptr)
    assert_array_equal(canonical_again.indices, canonical_source.indices)
    assert_array_equal(canonical_again.data, canonical_source.data)


@pytest.mark.parametrize("format", ["csr", "csc", "coo", "bsr", "dia", "dok", "lil"])
def test_to_scipy_every_format_holds_the_dense_matrix(format):
    graph = balanced_ei(16, 4, 5, J0=1.0, g=3.0, seed=25)
    matrix = graph.to_scipy(format)
    assert matrix.format == format
    assert_array_equal(matrix.toarray(), graph.to_dense())


def test_to_scipy_refuses_multapses_unless_allowed_then_sums_them():
    graph = fixed_in_degree(10, 50, 25, seed=2, multapses=True, weights=0.25)
    indices_before, weights_before = graph.indices.copy(), graph.weights.copy()
    n_pairs = len(_edge_table(graph))
    assert n_pairs < graph.n_synapses
    with pytest.raises(ValueError, match=f"multapses \\({graph.n_synapses - n_pairs} synapses"):
        graph.to_scipy()
    matrix = graph.to_scipy(allow_multapses=True)
    assert matrix.nnz == n_pairs
    assert_array_equal(matrix.toarray(), graph.to_dense())
    merged = Connectivity.from_scipy(matrix)
    assert merged.n_synapses == n_pairs
    assert_array_equal(merged.to_dense(), graph.to_dense())
    # the conversion worked on a copy
    assert_array_equal(graph.indices, indices_before)
    assert_array_equal(graph.weights, weights_before)


def test_from_scipy_sums_duplicate_entries_as_scipy_does():
    from scipy import sparse

    matrix = sparse.coo_array(([1.0, 2.0, 4.0, -1.0], ([1, 1, 0, 1], [2, 2, 1, 0])), shape=(2, 3))
    graph = Connectivity.from_scipy(matrix)
    assert_array_equal(graph.indptr, [0, 1, 3])
    assert_array_equal(graph.indices, [1, 0, 2])
    assert_array_equal(graph.weights, [4.0, -1.0, 3.0])
    assert_array_equal(graph.to_dense(), matrix.toarray())


def test_from_scipy_accepts_legacy_matrix_and_integer_values():
    from scipy import sparse

    matrix = sparse.csc_matrix(np.array([[0, 3], [-2, 0], [0, 0]], dtype=np.int16))
    graph = Connectivity.from_scipy(matrix, description="hand-made")
    assert graph.weights.dtype == np.float64
    assert_array_equal(graph.to_dense(), [[0.0, 3.0], [-2.0, 0.0], [0.0, 0.0]])
    assert repr(graph) == "<Connectivity 3 -> 2 neurons, 2 synapses, weighted, hand-made>"
    assert "from scipy.sparse csc_matrix" in repr(Connectivity.from_scipy(matrix))


def _bad_scipy_call(case):
    from scipy import sparse

    nan_matrix = sparse.csr_array(np.array([[0.0, np.nan], [1.0, 0.0]]))
    inf_matrix = sparse.coo_array(([np.inf], ([0], [0])), shape=(1, 1))
    false_entry = sparse.csr_array(
        (np.array([True, False]), np.array([0, 1]), np.array([0, 2])), shape=(1, 2)
    )
    calls = {
        "dense": lambda: Connectivity.from_scipy(np.eye(3)),
        "list": lambda: Connectivity.from_scipy([[0.0, 1.0]]),
        "complex": lambda: Connectivity.from_scipy(sparse.csr_array(np.eye(2) * 1j)),
        "description": lambda: Connectivity.from_scipy(sparse.csr_array(np.eye(2)), description=3),
        "nan": lambda: Connectivity.from_scipy(nan_matrix),
        "inf": lambda: Connectivity.from_scipy(inf_matrix),
        "false": lambda: Connectivity.from_scipy(false_entry),
        "no columns": lambda: Connectivity.from_scipy(sparse.csr_array((3, 0))),
        "1-D": lambda: Connectivity.from_scipy(sparse.coo_array(np.array([1.0, 0.0]))),
        "format": lambda: erdos_renyi(5, 5, 0.5, seed=1).to_scipy("dense"),
        "allow": lambda: erdos_renyi(5, 5, 0.5, seed=1).to_scipy(allow_multapses="yes"),
    }
    return calls[case]


@pytest.mark.parametrize(
    "case, error, message",
    [
        ("dense", TypeError, "matrix must be a scipy.sparse array or matrix, got numpy.ndarray"),
        ("list", TypeError, "matrix must be a scipy.sparse array or matrix, got builtins.list"),
        ("complex", TypeError, "real numbers or booleans, got dtype complex128"),
        ("description", TypeError, "description must be a string or None, got 3"),
        ("nan", ValueError, "finite weights, found 1 NaN or infinite"),
        ("inf", ValueError, "finite weights, found 1 NaN or infinite"),
        ("false", ValueError, "stores 1 False entries"),
        ("no columns", ValueError, r"at least one column \(N_post\), got shape \(3, 0\)"),
        ("1-D", ValueError, r"matrix must be 2-D \(N_pre, N_post\), got shape \(2,\)"),
        ("format", ValueError, "format must be one of 'csr'.*got 'dense'"),
        ("allow", TypeError, "allow_multapses must be True or False, got 'yes'"),
    ],
)
def test_scipy_conversion_bad_input_names_the_problem(case, error, message):
    call = _bad_scipy_call(case)
    with pytest.raises(error, match=message):
        call()
