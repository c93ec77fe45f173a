"""Tests of the one value syntax of the command line and the spec files (neurosrnn.spec_syntax)."""

import numpy as np
import pytest
from brian2 import DimensionMismatchError, ms, mV, second, volt

from neurosrnn.models.timescale_samplers import (
    TimescaleSampler,
    gamma_timescales,
    lognormal_timescales,
    normal_values,
    truncated_normal_timescales,
    uniform_values,
)
from neurosrnn.spec_syntax import parse_network_table, parse_quantity, parse_value


def _draws(sampler, seed=7, N=50):
    return np.asarray(sampler.sample(N, seed=seed))


@pytest.mark.parametrize(
    "text, reference",
    [
        ("gamma(10ms, 4)", gamma_timescales(10 * ms, 4)),
        ("gamma(mean=10 ms, shape=4)", gamma_timescales(10 * ms, 4)),
        ("lognormal(200ms, 0.5)", lognormal_timescales(200 * ms, 0.5)),
        ("uniform(-70mV, -50mV)", uniform_values(-70 * mV, -50 * mV)),
        ("uniform(low=-70*mV, high=-50*mV)", uniform_values(-70 * mV, -50 * mV)),
        ("normal(-60 mV, 5 mV)", normal_values(-60 * mV, 5 * mV)),
        ("normal(-60mV, 5mV, maximum=-55mV)", normal_values(-60 * mV, 5 * mV, maximum=-55 * mV)),
        (
            "truncated_normal(20ms, 10ms, 5ms)",
            truncated_normal_timescales(20 * ms, 10 * ms, 5 * ms),
        ),
    ],
)
def test_sampler_calls_give_the_samplers_of_the_library(text, reference):
    sampler = parse_value(text, "x")
    assert isinstance(sampler, TimescaleSampler)
    assert sampler.kind == reference.kind and repr(sampler) == repr(reference)
    np.testing.assert_array_equal(_draws(sampler), _draws(reference))


def test_draws_follow_numpy_with_the_same_seed():
    # independent reference: numpy's generator with the documented parametrisations
    rng = np.random.default_rng(7)
    np.testing.assert_allclose(_draws(parse_value("gamma(10ms, 4)")), rng.gamma(4, 0.0025, 50))
    rng = np.random.default_rng(7)
    np.testing.assert_allclose(
        _draws(parse_value("uniform(-70mV, -50mV)")), rng.uniform(-0.07, -0.05, 50)
    )


def test_values_and_constants():
    assert parse_value("20ms", "x") == 20 * ms
    assert parse_value("25*mV", "x") == 25 * mV
    assert parse_value(" -55 mV ", "x") == -55 * mV
    assert parse_value("constant(20 mV)", "x") == 20 * mV
    assert parse_value("2 mV/ms", "x") == 2 * volt / second
    assert parse_value(6, "g") == 6.0
    assert parse_quantity("1.5e-3 sec") == 1.5 * ms


@pytest.mark.parametrize(
    "text, error, message",
    [
        (
            "gamma(10ms)",
            ValueError,
            "tau_m: wrong arguments in 'gamma(10ms)'; write gamma(mean, shape)",
        ),
        ("gamma(10ms, 4, 1)", ValueError, "tau_m: too many arguments"),
        ("gamma(shape=4, 10ms)", ValueError, "tau_m: positional argument after a keyword"),
        ("gamma(10ms, scale=4)", ValueError, "tau_m: gamma() has no argument 'scale'"),
        ("gamma(10ms, mean=4ms)", ValueError, "tau_m: gamma() got 'mean' twice"),
        ("poisson(3)", ValueError, "tau_m: unknown sampler 'poisson'"),
        ("gamma(10ms, 4", ValueError, "tau_m: cannot read"),
        ("gamma(10 furlongs, 4)", ValueError, "unknown unit 'furlongs'"),
        ("gamma(10mV, 4)", DimensionMismatchError, "tau_m"),
        ("uniform(1ms, 2mV)", DimensionMismatchError, "tau_m"),
        ("gamma(10ms, -1)", ValueError, "tau_m: 'gamma(10ms, -1)': shape must be"),
        ("__import__('os')", ValueError, "unknown sampler '__import__'"),
        ("10 ms + 1", ValueError, "tau_m"),
    ],
)
def test_bad_syntax_names_the_parameter(text, error, message):
    with pytest.raises(error) as info:
        parse_value(text, "tau_m")
    assert message in str(info.value)


def test_network_table_reads_values_and_samplers():
    table = {
        "model": "mat",
        "N_excitatory": 8,
        "K": 2,
        "J0": "20 mV",
        "g": 6,
        "duration": "1 s",
        "parameters": {"tau_m": "gamma(10 ms, 4)", "I_ext": "20 mV"},
        "initial_values": {"v": "uniform(0 mV, 20 mV)"},
    }
    parsed = parse_network_table(table)
    assert parsed["J0"] == 20 * mV and parsed["g"] == 6.0 and parsed["duration"] == 1 * second
    assert list(parsed["parameters"]) == ["tau_m", "I_ext"]
    assert parsed["parameters"]["tau_m"].kind == "gamma"
    assert parsed["initial_values"]["v"].kind == "uniform"
    with pytest.raises(ValueError, match=r"\[network.parameters\] tau_m"):
        parse_network_table({"parameters": {"tau_m": "gamma(10 ms, 4)"}}, samplers=False)
    with pytest.raises(ValueError, match="K must be an integer >= 1"):
        parse_network_table({"K": 0})
