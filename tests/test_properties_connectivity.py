"""Property-based tests (hypothesis) of the graph builders of `neurosrnn.connectivity`.

For arbitrary valid sizes, degrees, probabilities, flags, self offsets, seeds and weights,
every builder must give: exact degrees, no self-connections where excluded, indices in
range, no duplicates where multapses are off, rows sorted, CSR arrays consistent with
each other and with a brute-force dense matrix, the same graph for the same seed and a
different one for another seed. Invalid parameters must raise an error naming them.

The profile is deterministic (``derandomize=True``, no deadline).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import (
    Connectivity,
    balanced_ei,
    erdos_renyi,
    fixed_in_degree,
    fixed_out_degree,
)

PROFILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

sizes = st.integers(1, 40)
seeds = st.integers(0, 2**63 - 1)
BUILDERS = {"in": fixed_in_degree, "out": fixed_out_degree}


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def self_offset_in_use(N_pre, N_post, autapses, self_offset):
    """The documented rule: pre i is post i + offset (None: no neuron is in both)."""
    if autapses:
        return None
    if self_offset is None:
        return 0 if N_pre == N_post else None
    return self_offset


def candidates(direction, N_pre, N_post, offset):
    """Distinct partners available to every row (post for 'in', pre for 'out')."""
    if direction == "in":
        rows, choices = N_post, N_pre
        has_self = offset is not None and any(0 <= j - offset < N_pre for j in range(N_post))
    else:
        rows, choices = N_pre, N_post
        has_self = offset is not None and any(0 <= i + offset < N_post for i in range(N_pre))
    del rows
    return choices - has_self


def assert_consistent_csr(graph, N_pre, N_post):
    """CSR invariants, and `to_dense` equal to a brute-force matrix from (sources, targets)."""
    assert graph.N_pre == N_pre and graph.N_post == N_post
    assert graph.indptr.shape == (N_pre + 1,) and graph.indptr[0] == 0
    assert np.all(np.diff(graph.indptr) >= 0)
    assert graph.indptr[-1] == graph.n_synapses == graph.indices.size == graph.sources.size
    assert np.all((graph.indices >= 0) & (graph.indices < N_post))
    assert np.all((graph.sources >= 0) & (graph.sources < N_pre))
    assert graph.out_degrees().sum() == graph.in_degrees().sum() == graph.n_synapses
    assert_array_equal(graph.in_degrees(), np.bincount(graph.targets, minlength=N_post))
    dense = np.zeros((N_pre, N_post))
    values = np.ones(graph.n_synapses) if graph.weights is None else graph.weights
    for source, target, value in zip(graph.sources, graph.targets, values, strict=True):
        dense[source, target] += value
    assert_allclose(graph.to_dense(), dense, rtol=1e-12)
    if graph.weights is not None:
        assert graph.weights.shape == graph.indices.shape
    for i in range(N_pre):  # rows sorted, targets_of consistent
        row = graph.targets_of(i)
        assert np.all(np.diff(row) >= 0)
        assert_array_equal(row, graph.targets[graph.sources == i])


def pairs(graph):
    return list(zip(graph.sources.tolist(), graph.targets.tolist(), strict=True))


def log_number_of_graphs(n_choices, K, n_rows, multapses):
    """log of the number of distinct graphs a fixed-degree rule can draw."""
    if multapses:
        return n_rows * math.log(math.comb(n_choices + K - 1, K)) if n_choices else 0.0
    return n_rows * math.log(math.comb(n_choices, K)) if n_choices >= K else 0.0


# ---------------------------------------------------------------------------------------
# fixed in-degree and fixed out-degree
# ---------------------------------------------------------------------------------------
@st.composite
def fixed_degree_cases(draw):
    direction = draw(st.sampled_from(["in", "out"]))
    N_pre, N_post = draw(sizes), draw(sizes)
    autapses, multapses = draw(st.booleans()), draw(st.booleans())
    self_offset = draw(st.none() | st.integers(-45, 45))
    offset = self_offset_in_use(N_pre, N_post, autapses, self_offset)
    n = candidates(direction, N_pre, N_post, offset)
    K_max = (3 * max(N_pre, N_post) if n >= 1 else 0) if multapses else n
    K = draw(st.integers(0, K_max))
    return direction, N_pre, N_post, K, autapses, multapses, self_offset, offset, n


@PROFILE
@given(case=fixed_degree_cases(), seed=seeds, other=seeds, weight=st.floats(-5, 5))
def test_fixed_degree_builders_exact_degrees_no_forbidden_edges(case, seed, other, weight):
    direction, N_pre, N_post, K, autapses, multapses, self_offset, offset, n = case
    keywords = {"autapses": autapses, "multapses": multapses, "self_offset": self_offset}
    graph = BUILDERS[direction](N_pre, N_post, K, seed=seed, **keywords)
    assert_consistent_csr(graph, N_pre, N_post)
    degrees = graph.in_degrees() if direction == "in" else graph.out_degrees()
    assert_array_equal(degrees, K)
    assert graph.n_synapses == K * (N_post if direction == "in" else N_pre)
    if offset is not None:
        assert np.all(graph.targets != graph.sources.astype(np.int64) + offset)
    if not multapses:
        assert len(set(pairs(graph))) == graph.n_synapses
    # reproducible from the seed, from a Generator seeded alike, and seed-dependent
    assert graph == BUILDERS[direction](N_pre, N_post, K, seed=seed, **keywords)
    generator = BUILDERS[direction](N_pre, N_post, K, seed=np.random.default_rng(seed), **keywords)
    assert generator == BUILDERS[direction](
        N_pre, N_post, K, seed=np.random.default_rng(seed), **keywords
    )
    rows = N_post if direction == "in" else N_pre
    if other != seed and log_number_of_graphs(n, K, rows, multapses) > 40:
        assert graph != BUILDERS[direction](N_pre, N_post, K, seed=other, **keywords)
    # weights keep the structure; the original graph is not changed
    weighted = BUILDERS[direction](N_pre, N_post, K, seed=seed, weights=weight, **keywords)
    assert_array_equal(weighted.indptr, graph.indptr)
    assert_array_equal(weighted.indices, graph.indices)
    assert_array_equal(weighted.weights, np.full(graph.n_synapses, weight))
    per_synapse = np.arange(graph.n_synapses, dtype=float)
    reweighted = weighted.with_weights(per_synapse)
    assert_array_equal(reweighted.weights, per_synapse)
    assert_array_equal(weighted.weights, np.full(graph.n_synapses, weight))
    assert_consistent_csr(reweighted, N_pre, N_post)


@PROFILE
@given(case=fixed_degree_cases(), seed=seeds, extra=st.integers(1, 5))
def test_fixed_degree_too_large_K_without_multapses_raises(case, seed, extra):
    direction, N_pre, N_post, _, autapses, _, self_offset, _, n = case
    K = n + extra
    with pytest.raises(ValueError, match=f"K={K}"):
        BUILDERS[direction](
            N_pre, N_post, K, seed=seed, autapses=autapses, multapses=False, self_offset=self_offset
        )


# ---------------------------------------------------------------------------------------
# Erdos-Renyi
# ---------------------------------------------------------------------------------------
@PROFILE
@given(
    N_pre=sizes,
    N_post=sizes,
    p=st.floats(0, 1) | st.sampled_from([0.0, 1.0]),
    autapses=st.booleans(),
    seed=seeds,
    other=seeds,
)
def test_erdos_renyi_simple_graph_with_plausible_density(N_pre, N_post, p, autapses, seed, other):
    graph = erdos_renyi(N_pre, N_post, p, seed=seed, autapses=autapses)
    assert_consistent_csr(graph, N_pre, N_post)
    assert len(set(pairs(graph))) == graph.n_synapses  # never multapses
    exclude_self = N_pre == N_post and not autapses
    if exclude_self:
        assert np.all(graph.sources != graph.targets)
    n_pairs = N_pre * N_post - (N_pre if exclude_self else 0)
    if p == 0:
        assert graph.n_synapses == 0
    elif p == 1:
        assert graph.n_synapses == n_pairs
    # binomial count: within 6 standard deviations
    assert abs(graph.n_synapses - p * n_pairs) <= 6 * math.sqrt(n_pairs * p * (1 - p)) + 1
    assert graph == erdos_renyi(N_pre, N_post, p, seed=seed, autapses=autapses)
    if other != seed and 0.2 < p < 0.8 and n_pairs >= 100:
        assert graph != erdos_renyi(N_pre, N_post, p, seed=other, autapses=autapses)


@PROFILE
@given(p=st.floats(allow_nan=True) | st.booleans() | st.just("0.5"), seed=seeds)
def test_erdos_renyi_rejects_anything_but_a_probability(p, seed):
    valid = not isinstance(p, bool | str) and 0 <= p <= 1
    if valid:
        assert erdos_renyi(5, 5, p, seed=seed).N_pre == 5
        return
    with pytest.raises(ValueError, match="p must"):
        erdos_renyi(5, 5, p, seed=seed)


# ---------------------------------------------------------------------------------------
# balanced E/I
# ---------------------------------------------------------------------------------------
@st.composite
def balanced_cases(draw):
    N_E, N_I = draw(st.integers(0, 40)), draw(st.integers(1, 40))
    autapses, multapses = draw(st.booleans()), draw(st.booleans())
    N = N_E + N_I
    K = draw(st.integers(1, max(1, N - (not autapses)) if not multapses else 2 * N))
    return N_E, N_I, K, autapses, multapses


@PROFILE
@given(
    case=balanced_cases(),
    J0=st.floats(-10, 10),
    g=st.floats(0, 10),
    seed=seeds,
)
def test_balanced_ei_split_in_degrees_and_signed_weights(case, J0, g, seed):
    N_E, N_I, K, autapses, multapses = case
    N = N_E + N_I
    K_E = int(round(K * N_E / N))
    K_I = K - K_E
    keywords = {"J0": J0, "g": g, "seed": seed, "autapses": autapses, "multapses": multapses}
    feasible = all(
        K_block == 0
        or (N_block - (not autapses) >= 1 and (multapses or K_block <= N_block - (not autapses)))
        for K_block, N_block in ((K_E, N_E), (K_I, N_I))
    )
    if not feasible:
        with pytest.raises(ValueError, match=f"K={K}"):
            balanced_ei(N_E, N_I, K, **keywords)
        return
    graph = balanced_ei(N_E, N_I, K, **keywords)
    assert_consistent_csr(graph, N, N)
    excitatory = graph.sources < N_E
    assert_array_equal(np.bincount(graph.targets[excitatory], minlength=N), K_E)
    assert_array_equal(np.bincount(graph.targets[~excitatory], minlength=N), K_I)
    assert_allclose(graph.weights[excitatory], J0 / math.sqrt(K), rtol=1e-12, atol=1e-300)
    assert_allclose(graph.weights[~excitatory], -g * J0 / math.sqrt(K), rtol=1e-12, atol=1e-300)
    if not autapses:
        assert np.all(graph.sources != graph.targets)
    if not multapses:
        assert len(set(pairs(graph))) == graph.n_synapses
    assert graph == balanced_ei(N_E, N_I, K, **keywords)


# ---------------------------------------------------------------------------------------
# invalid parameters: every builder refuses them with an error naming the parameter
# ---------------------------------------------------------------------------------------
bad_sizes = st.integers(-5, 0) | st.sampled_from([2.0, 3.5, True, "4", None])
bad_degrees = st.integers(-5, -1) | st.sampled_from([1.0, 2.5, True, "2", None])
bad_seeds = st.integers(-(2**40), -1) | st.sampled_from([1.5, "1", None])


@PROFILE
@given(
    builder=st.sampled_from([fixed_in_degree, fixed_out_degree]),
    which=st.sampled_from(["N_pre", "N_post", "K", "seed", "self_offset", "weights"]),
    data=st.data(),
)
def test_fixed_degree_invalid_parameters_raise_named_errors(builder, which, data):
    arguments = {"N_pre": 10, "N_post": 12, "K": 3, "seed": 1, "self_offset": None}
    bad = {
        "N_pre": bad_sizes,
        "N_post": bad_sizes,
        "K": bad_degrees,
        "seed": bad_seeds,
        "self_offset": st.sampled_from([0.5, 2.0, "1"]),
        "weights": st.sampled_from([np.nan, np.inf, [1.0, 2.0], "heavy"]),
    }[which]
    arguments[which] = data.draw(bad)
    with pytest.raises((ValueError, TypeError), match=which):
        builder(
            arguments["N_pre"],
            arguments["N_post"],
            arguments["K"],
            seed=arguments["seed"],
            self_offset=arguments["self_offset"],
            weights=arguments.get("weights"),
        )


@PROFILE
@given(
    which=st.sampled_from(["N_excitatory", "N_inhibitory", "K", "J0", "g", "seed"]),
    data=st.data(),
)
def test_balanced_ei_invalid_parameters_raise_named_errors(which, data):
    arguments = {"N_excitatory": 8, "N_inhibitory": 4, "K": 3, "J0": 1.0, "g": 4.0, "seed": 1}
    bad = {
        "N_excitatory": st.integers(-5, -1) | st.sampled_from([2.0, "4", None]),
        "N_inhibitory": bad_sizes,
        "K": bad_degrees | st.just(0),
        "J0": st.sampled_from([np.nan, np.inf, "1", None, [1.0, 2.0], True]),
        "g": st.sampled_from([-1.0, np.nan, np.inf, "4", None, True]),
        "seed": bad_seeds,
    }[which]
    arguments[which] = data.draw(bad)
    with pytest.raises((ValueError, TypeError), match=which):
        balanced_ei(
            arguments["N_excitatory"],
            arguments["N_inhibitory"],
            arguments["K"],
            J0=arguments["J0"],
            g=arguments["g"],
            seed=arguments["seed"],
        )


# ---------------------------------------------------------------------------------------
# regressions: bad input that used to be accepted silently or failed obscurely
# ---------------------------------------------------------------------------------------
def test_multapses_without_any_candidate_raise_a_named_error():
    """Was numpy's "high <= 0" from inside the sampler."""
    for call in (
        lambda: fixed_in_degree(1, 1, 2, seed=1, multapses=True),
        lambda: fixed_out_degree(1, 1, 1, seed=1, multapses=True),
        lambda: balanced_ei(0, 1, 1, J0=1.0, g=1.0, seed=1, multapses=True),
    ):
        with pytest.raises(ValueError, match="K="):
            call()
    # with autapses the neuron itself is a valid partner
    assert fixed_in_degree(1, 1, 2, seed=1, multapses=True, autapses=True).n_synapses == 2


def test_fixed_out_degree_accepts_K_zero():
    """Was ZeroDivisionError from np.arange(0, 0, 0) (fixed_in_degree already worked)."""
    for builder in (fixed_in_degree, fixed_out_degree):
        graph = builder(4, 6, 0, seed=1)
        assert graph.n_synapses == 0 and graph.indptr.shape == (5,)


def test_self_offset_must_be_an_integer():
    """A float offset was silently truncated (2.7 -> 2)."""
    with pytest.raises(TypeError, match="self_offset"):
        fixed_in_degree(5, 8, 2, seed=1, self_offset=2.7)
    assert fixed_in_degree(5, 8, 2, seed=1, self_offset=np.int64(2)) == fixed_in_degree(
        5, 8, 2, seed=1, self_offset=2
    )


def test_probability_and_weights_are_checked():
    """p=True was taken as 1, np.int64(1) refused; NaN weights were accepted."""
    with pytest.raises(ValueError, match="p must"):
        erdos_renyi(5, 5, True, seed=1)
    assert erdos_renyi(5, 5, np.int64(1), seed=1).n_synapses == 20
    with pytest.raises(ValueError, match="weights must be finite"):
        fixed_in_degree(5, 5, 2, seed=1, weights=np.nan)
    with pytest.raises(ValueError, match=r"weights must be a scalar or have one entry"):
        fixed_in_degree(5, 5, 2, seed=1, weights=[1.0, 2.0])
    graph = fixed_in_degree(5, 5, 2, seed=1)
    with pytest.raises(ValueError, match="weights must be finite"):
        graph.with_weights(np.full(graph.n_synapses, np.inf))


def test_balanced_ei_infeasible_split_names_the_population():
    """K <= N - 1 but the E/I split asks for more inputs than one population has."""
    with pytest.raises(ValueError, match=r"K=10 asks for 1 inputs from the N_inhibitory=1"):
        balanced_ei(10, 1, 10, J0=1.0, g=1.0, seed=1)
    with pytest.raises(ValueError, match=r"K=11 asks for 2 inputs from the N_excitatory=2"):
        balanced_ei(2, 10, 11, J0=1.0, g=1.0, seed=1)


def test_connectivity_round_trip_through_explicit_arrays():
    graph = fixed_in_degree(7, 9, 3, seed=5, weights=0.5)
    copy = Connectivity(graph.indptr, graph.indices, graph.N_post, graph.weights)
    assert copy == graph
