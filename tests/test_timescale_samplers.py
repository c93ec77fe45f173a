"""Tests for the per-neuron time-constant samplers (models/timescale_samplers.py)."""

import numpy as np
import pytest
from brian2 import DimensionMismatchError, ms, mV, second
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from neurosrnn.models.timescale_samplers import (
    array_timescales,
    constant_timescales,
    gamma_timescales,
    lognormal_timescales,
    truncated_normal_timescales,
    uniform_timescales,
)

N = 20_000


def _seconds(x):
    return np.asarray(x / second)


def test_constant():
    assert_array_equal(_seconds(constant_timescales(5 * ms).sample(7, seed=1)), np.full(7, 0.005))


@pytest.mark.parametrize(
    "sampler, reference",
    [
        (gamma_timescales(20 * ms, 4), stats.gamma(4, scale=0.02 / 4)),
        (lognormal_timescales(20 * ms, 0.5), stats.lognorm(0.5, scale=0.02)),
        (uniform_timescales(5 * ms, 15 * ms), stats.uniform(0.005, 0.01)),
        (
            truncated_normal_timescales(20 * ms, 10 * ms, 5 * ms),
            stats.truncnorm((0.005 - 0.02) / 0.01, np.inf, loc=0.02, scale=0.01),
        ),
    ],
)
def test_samples_follow_their_distribution(sampler, reference):
    values = _seconds(sampler.sample(N, seed=3))
    # Kolmogorov-Smirnov against scipy's independent implementation of the distribution.
    assert stats.kstest(values, reference.cdf).pvalue > 1e-3
    assert_allclose(sampler.mean, reference.mean(), rtol=1e-9)
    assert np.all(values > 0)


def test_truncated_normal_respects_minimum():
    values = _seconds(truncated_normal_timescales(5 * ms, 5 * ms, 2 * ms).sample(N, seed=1))
    assert values.min() >= 0.002


def test_same_seed_same_values_different_seed_different_values():
    sampler = gamma_timescales(20 * ms, 2)
    assert_array_equal(sampler.sample(100, seed=5), sampler.sample(100, seed=5))
    assert not np.array_equal(sampler.sample(100, seed=5), sampler.sample(100, seed=6))


def test_array_sampler_returns_values_and_checks_length():
    values = np.array([1.0, 2.0, 3.0]) * ms
    assert_allclose(_seconds(array_timescales(values).sample(3)), [0.001, 0.002, 0.003])
    with pytest.raises(ValueError, match="N=4"):
        array_timescales(values).sample(4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: constant_timescales(0 * ms), "value"),
        (lambda: constant_timescales(-1 * ms), "value"),
        (lambda: gamma_timescales(float("nan") * ms, 2), "mean"),
        (lambda: gamma_timescales(10 * ms, 0), "shape"),
        (lambda: lognormal_timescales(-1 * ms, 0.3), "median"),
        (lambda: lognormal_timescales(10 * ms, -0.3), "sigma"),
        (lambda: uniform_timescales(10 * ms, 5 * ms), "high"),
        (lambda: uniform_timescales(0 * ms, 5 * ms), "low"),
        (lambda: truncated_normal_timescales(10 * ms, 1 * ms, 0 * ms), "minimum"),
        (lambda: truncated_normal_timescales(10 * ms, -1 * ms, 1 * ms), "std"),
        (lambda: truncated_normal_timescales(1 * ms, 1 * ms, 100 * ms), "minimum"),
        (lambda: array_timescales(np.array([1.0, -1.0]) * ms), "values"),
        (lambda: array_timescales(np.array([1.0, np.nan]) * ms), "values"),
        (lambda: gamma_timescales(10 * ms, 2).sample(0), "N must"),
    ],
)
def test_impossible_values_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_wrong_units_rejected():
    with pytest.raises(DimensionMismatchError):
        gamma_timescales(10 * mV, 2)
    with pytest.raises(DimensionMismatchError):
        array_timescales(np.array([1.0, 2.0]) * mV)


def test_repr_names_distribution():
    assert "gamma" in repr(gamma_timescales(10 * ms, 2)) and "shape=2" in repr(
        gamma_timescales(10 * ms, 2)
    )


def test_value_samplers_take_any_sign_and_follow_their_distributions():
    from neurosrnn.models.timescale_samplers import normal_values, uniform_values

    v = np.asarray(uniform_values(-70 * mV, -50 * mV).sample(N, seed=3) / mV)
    assert stats.kstest(v, stats.uniform(-70, 20).cdf).pvalue > 1e-3
    bounded = normal_values(-60 * mV, 5 * mV, minimum=-62 * mV, maximum=-50 * mV)
    w = np.asarray(bounded.sample(N, seed=4) / mV)
    reference = stats.truncnorm(-2 / 5, 10 / 5, loc=-60, scale=5)
    assert w.min() >= -62 and w.max() <= -50
    assert stats.kstest(w, reference.cdf).pvalue > 1e-3
    free = np.asarray(normal_values(0.0, 2.0).sample(N, seed=5))
    assert stats.kstest(free, stats.norm(0, 2).cdf).pvalue > 1e-3
    with pytest.raises(DimensionMismatchError):
        uniform_values(0 * mV, 1 * ms)
    with pytest.raises(ValueError, match="high"):
        uniform_values(1 * mV, 0 * mV)
    with pytest.raises(ValueError, match="6 std"):
        normal_values(0 * mV, 1 * mV, minimum=10 * mV)
