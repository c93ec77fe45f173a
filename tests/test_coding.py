"""Input codes: direct, rate, latency, hybrid; Brian2 inputs."""

import brian2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from scipy.stats import norm

from neurosrnn.coding import (
    CODINGS,
    as_spike_generator,
    as_timed_array,
    encode,
    latency_thresholds,
)


def _latency_loop(x, thresholds):
    """The ASNN rule written as a loop: emit where the remaining value >= z, then zero it."""
    remaining = x.copy()
    frames = np.zeros((len(thresholds), x.size))
    for step, z in enumerate(thresholds):
        for k in range(x.size):
            if remaining[k] > 0 and remaining[k] >= z:
                frames[step, k] = 1.0
                remaining[k] = 0.0
    return frames


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    x = rng.random((6, 20))
    x[:, :3] = [0.0, 1.0, 0.5]  # edge values
    return x


def test_direct_repeats_the_input(images):
    frames = encode(images, "direct", 5)
    assert frames.shape == (6, 5, 20)
    for t in range(5):
        assert_array_equal(frames[:, t], images)
    assert encode(images[0], "direct", 2).shape == (2, 20)


def test_rate_code_is_bernoulli_with_the_pixel_probability(images):
    frames = encode(images, "rate", 4000, seed=1)
    assert set(np.unique(frames)) <= {0.0, 1.0}
    # 4000 draws: standard error <= 0.008
    assert_allclose(frames.mean(axis=1), images, atol=0.04)
    assert_array_equal(frames, encode(images, "rate", 4000, seed=1))
    assert not np.array_equal(frames, encode(images, "rate", 4000, seed=2))


@pytest.mark.parametrize("T", [1, 2, 4, 7])
def test_latency_matches_the_loop(images, T):
    frames = encode(images, "latency", T)
    z = 1 - (np.arange(T) + 1) / T
    for x, got in zip(images, frames, strict=True):
        assert_array_equal(got, _latency_loop(x, z))
    # one spike per non-zero pixel, none for zeros; brighter fires no later
    assert_array_equal(frames.sum(axis=1), (images > 0).astype(float))
    first = np.argmax(frames, axis=1)
    bright, dim = images[:, 1], images[:, 2]
    assert np.all(first[:, 1] <= first[:, 2]) and np.all(bright > dim)


def test_hybrid_has_analog_first_frame_then_latency(images):
    T = 7
    frames = encode(images, "hybrid", T)
    assert frames.shape == (6, T, 40)
    assert_array_equal(frames[:, 0, :20], images)
    assert np.all(frames[:, 1:, :20] == 0) and np.all(frames[:, 0, 20:] == 0)
    z = np.arange(T - 1, 0, -1) / T  # 6/7 ... 1/7
    for x, got in zip(images, frames, strict=True):
        assert_array_equal(got[1:, 20:], _latency_loop(x, z))
    # pixels below 1/T never spike
    assert np.all(frames[:, :, 20:].sum(axis=1)[images < 1 / T] == 0)
    overlaid = encode(images, "hybrid", T, separate_channels=False)
    assert_array_equal(overlaid, frames[:, :, :20] + frames[:, :, 20:])


def test_equal_frequency_thresholds():
    T = 5
    z = latency_thresholds(T, "equal_frequency")
    assert z[-1] == 0 and np.all(np.diff(z) < 0)
    # mass of sigmoid(N(0, 1)) above z_0, between z_0 and z_1, ... is 1/T each
    upper = np.concatenate([[1.0], z[:-1]])
    lower = np.concatenate([z[:-1], [0.0]])
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    with np.errstate(divide="ignore"):
        mass = norm.cdf(logit(upper)) - norm.cdf(logit(lower))
    assert_allclose(mass, np.full(T, 1 / T), atol=1e-12)
    assert_allclose(z[:-1], expit(norm.ppf(1 - np.arange(1, T) / T)))
    x = np.random.default_rng(0).random((3, 10))
    custom = encode(x, "latency", T, thresholds=z)
    assert_array_equal(custom, encode(x, "latency", T, thresholds="equal_frequency"))


def test_spike_generator_fires_the_frames():
    frames = encode(np.random.default_rng(3).random((1, 12)), "rate", 30, seed=4)[0]
    dt = 1 * brian2.ms
    generator = as_spike_generator(frames, dt)
    monitor = brian2.SpikeMonitor(generator)
    brian2.Network(generator, monitor).run(30 * dt)
    got = np.zeros_like(frames)
    got[np.round(np.asarray(monitor.t / dt)).astype(int), np.asarray(monitor.i)] = 1
    assert_array_equal(got, frames)
    assert frames.sum() > 50


def test_timed_array_holds_each_frame_for_one_step():
    frames = encode(np.random.default_rng(5).random((1, 4)), "hybrid", 6)[0]
    dt = 0.5 * brian2.ms
    table = as_timed_array(frames, dt)
    group = brian2.NeuronGroup(8, "x : 1", dt=dt)
    group.run_regularly("x = table(t, i)", when="start")
    monitor = brian2.StateMonitor(group, "x", record=True, dt=dt)
    brian2.Network(group, monitor).run(6 * dt, namespace={"table": table})
    assert_allclose(np.asarray(monitor.x).T, frames)


def test_errors(images):
    with pytest.raises(ValueError, match="Unknown coding"):
        encode(images, "phase", 4)
    with pytest.raises(ValueError, match="T \\(number of time steps\\)"):
        encode(images, "direct", 0)
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        encode(images * 2, "rate", 3)
    with pytest.raises(ValueError, match="thresholds must have length 3"):
        encode(images, "latency", 3, thresholds=[0.5, 0.1])
    with pytest.raises(ValueError, match="non-increasing"):
        encode(images, "latency", 3, thresholds=[0.1, 0.5, 0.0])
    with pytest.raises(ValueError, match="binary frames"):
        as_spike_generator(encode(images[0], "direct", 3), 1 * brian2.ms)
    with pytest.raises(ValueError, match="one sample"):
        as_timed_array(encode(images, "direct", 3), 1 * brian2.ms)
    with pytest.raises(brian2.DimensionMismatchError):
        as_timed_array(encode(images[0], "direct", 3), 1 * brian2.mV)
    with pytest.raises(ValueError, match="kind"):
        latency_thresholds(3, "log")
    assert CODINGS == ("direct", "rate", "latency", "hybrid")
