"""Catalogue of bad inputs to the public entry points: each is refused at once, by name.

Every case gives the exception type and a fragment of the message that names the
parameter; nothing is simulated or compiled before the error.
"""

import numpy as np
import pytest
from brian2 import ms, mV

from neurosrnn import connectivity
from neurosrnn.analysis import timescales
from neurosrnn.models.lif import lif
from neurosrnn.models.networks import (
    balanced_ei_network,
    inhibitory_pulse_network,
    recurrent_network,
)
from neurosrnn.models.timescale_samplers import gamma_timescales

BAD_SEEDS = [
    pytest.param(-1, ValueError, "seed must be >= 0", id="negative"),
    pytest.param(1.5, TypeError, "seed must be an integer", id="float"),
    pytest.param(2.0, TypeError, "seed must be an integer", id="whole-float"),
    pytest.param("7", TypeError, "seed must be an integer", id="string"),
    pytest.param(True, TypeError, "seed must be an integer", id="bool"),
    pytest.param(2**64, ValueError, "seed must be <=", id="too-large"),
]

SEEDED_CALLS = {
    "fixed_in_degree": lambda seed: connectivity.fixed_in_degree(10, 10, 2, seed=seed),
    "fixed_out_degree": lambda seed: connectivity.fixed_out_degree(10, 10, 2, seed=seed),
    "erdos_renyi": lambda seed: connectivity.erdos_renyi(10, 10, 0.2, seed=seed),
    "balanced_ei": lambda seed: connectivity.balanced_ei(8, 2, 2, J0=1.0, g=4.0, seed=seed),
    "sampler.sample": lambda seed: gamma_timescales(20 * ms, 4).sample(5, seed=seed),
    "recurrent_network": lambda seed: recurrent_network(
        lif(), connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1), seed=seed
    ),
    "balanced_ei_network": lambda seed: balanced_ei_network(
        lif(), 8, 2, 2, J0=0.5 * mV, g=4.0, seed=seed
    ),
    "inhibitory_pulse_network": lambda seed: inhibitory_pulse_network(N=20, K=4, seed=seed),
    "ar1_process": lambda seed: timescales.ar1_process(3.0, 10, seed=seed),
    "ou_process": lambda seed: timescales.ou_process(0.01, 0.001, 0.1, seed=seed),
    "ou_modulated_poisson": lambda seed: timescales.ou_modulated_poisson(
        10.0, 1.0, 0.01, 0.1, seed=seed
    ),
    "branching_process": lambda seed: timescales.branching_process(0.5, 1.0, 10, seed=seed),
    "binomial_subsample": lambda seed: timescales.binomial_subsample([[3]], 0.5, seed=seed),
}


@pytest.mark.parametrize("call", list(SEEDED_CALLS.values()), ids=list(SEEDED_CALLS))
@pytest.mark.parametrize(("seed", "error", "fragment"), BAD_SEEDS)
def test_bad_seed_is_refused_by_name(call, seed, error, fragment):
    with pytest.raises(error, match=fragment):
        call(seed)


@pytest.mark.parametrize("call", list(SEEDED_CALLS.values()), ids=list(SEEDED_CALLS))
def test_good_seeds_still_work(call):
    call(0)
    call(np.int64(3))


def test_generator_seeds_still_work():
    rng = np.random.default_rng(0)
    assert connectivity.fixed_in_degree(10, 10, 2, seed=rng).n_synapses == 20
    assert gamma_timescales(20 * ms, 4).sample(3, seed=rng).shape == (3,)


INDEX_CASES = {
    "indptr-float": (
        lambda: connectivity.Connectivity([0.0, 1.0, 2.0], [1, 0], 2),
        TypeError,
        "indptr must hold integers",
    ),
    "indices-float": (
        lambda: connectivity.Connectivity([0, 1, 2], [1.7, 0.2], 2),
        TypeError,
        "indices must hold integers",
    ),
    "indices-bool": (
        lambda: connectivity.Connectivity([0, 1, 2], [True, False], 2),
        TypeError,
        "indices must hold integers",
    ),
    "record_neurons-float": (
        lambda: recurrent_network(
            lif(),
            connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1),
            record_states=("v",),
            record_neurons=[0.0, 1.5],
        ),
        TypeError,
        "record_neurons must hold integers",
    ),
    "record_neurons-out-of-range": (
        lambda: recurrent_network(
            lif(),
            connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1),
            record_states=("v",),
            record_neurons=[0, 5],
        ),
        ValueError,
        "record_neurons must be <= 4",
    ),
}


@pytest.mark.parametrize(
    ("call", "error", "fragment"), list(INDEX_CASES.values()), ids=list(INDEX_CASES)
)
def test_float_indices_are_refused_by_name(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_integer_indices_still_work():
    graph = connectivity.Connectivity(np.array([0, 1, 2], dtype=np.int32), [1, 0], 2)
    assert graph.n_synapses == 2
    assert connectivity.Connectivity([0, 0], [], 3).n_synapses == 0
