"""Surrogate gradients: Heaviside forward, documented backward curves."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, optimize
from scipy.stats import norm

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning.surrogate import SURROGATES, Surrogate, get_surrogate  # noqa: E402


def _reference_curve(name, x):
    """Curves written out from the reference note (srnn_and_coding.md, section 2)."""
    if name == "multi_gaussian":
        sigma, h, s, gamma = 0.5, 0.15, 6.0, 0.5
        return gamma * (
            (1 + h) * norm.pdf(x, 0, sigma)
            - h * norm.pdf(x, sigma, s * sigma)
            - h * norm.pdf(x, -sigma, s * sigma)
        )
    if name == "gaussian":
        return 0.5 * norm.pdf(x, 0, 0.5)
    return 0.5 * np.maximum(0.0, 1.0 - np.abs(x))


@pytest.mark.parametrize("name", SURROGATES)
def test_forward_is_heaviside_and_backward_is_the_curve(name):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 2, 200), [0.0, -0.0, 1e-300, -1e-300]])
    spike = Surrogate(name).spike_function()
    assert_array_equal(np.asarray(spike(x)), (x > 0).astype(float))
    grad = jax.vmap(jax.grad(spike))(x)
    assert_allclose(np.asarray(grad), _reference_curve(name, x), rtol=1e-12, atol=1e-15)


def test_multi_gaussian_shape_numbers():
    sg = Surrogate("multi_gaussian")
    assert_allclose(sg.derivative(0.0), 0.439, atol=5e-4)
    assert_allclose(Surrogate("gaussian").derivative(0.0), 0.399, atol=5e-4)
    crossing = optimize.brentq(sg.derivative, 0.5, 2.0)
    assert_allclose(crossing, 1.27, atol=5e-3)
    res = optimize.minimize_scalar(sg.derivative, bounds=(1.3, 4.0), method="bounded")
    assert_allclose(res.x, 1.86, atol=0.01)
    assert_allclose(res.fun, -0.0159, atol=2e-4)
    area = integrate.quad(sg.derivative, -np.inf, np.inf)[0]
    assert_allclose(area, 0.5 * (1 - 0.15), rtol=1e-9)


@pytest.mark.parametrize("name", SURROGATES)
def test_antiderivative_integrates_the_curve(name):
    sg = Surrogate(name)
    for x in (-3.0, -0.7, 0.0, 0.3, 2.5):
        expected = integrate.quad(sg.derivative, -np.inf, x, limit=200)[0]
        assert_allclose(sg.antiderivative(x), expected, atol=1e-9)
    smooth = sg.spike_function(smooth=True)
    x = np.linspace(-3, 3, 41)
    assert_allclose(np.asarray(smooth(x)), sg.antiderivative(x), atol=1e-12)
    assert_allclose(np.asarray(jax.vmap(jax.grad(smooth))(x)), sg.derivative(x), atol=1e-12)


def test_parameters_and_errors():
    sg = Surrogate("gaussian", {"sigma": 1.0, "gamma": 1.0})
    assert_allclose(sg.derivative(0.3), norm.pdf(0.3), rtol=1e-12)
    assert "sigma=1" in repr(sg)
    assert get_surrogate("linear") == Surrogate("linear")
    with pytest.raises(ValueError, match="Unknown surrogate"):
        Surrogate("sigmoid")
    with pytest.raises(ValueError, match="Unknown parameter"):
        Surrogate("linear", {"sigma": 1.0})
    with pytest.raises(ValueError, match="must be > 0"):
        Surrogate("gaussian", {"sigma": 0.0})
    with pytest.raises(ValueError, match="surrogate must be"):
        get_surrogate(3)
