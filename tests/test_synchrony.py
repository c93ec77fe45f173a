"""Synchrony chi: identical and independent traces, chunked spike filtering."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from neurosrnn.analysis import statistics, synchrony


def test_chi_identical_traces_is_one():
    trace = np.sin(np.linspace(0, 20, 500))
    assert synchrony.golomb_chi(np.tile(trace, (7, 1))) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("N", [4, 16, 64, 256])
def test_chi_independent_traces_scales_as_inverse_sqrt_n(N):
    rng = np.random.default_rng(N)
    traces = rng.standard_normal((N, 20000))
    assert_allclose(synchrony.golomb_chi(traces), 1 / math.sqrt(N), rtol=0.1)


def test_spike_synchrony_chi_identical_and_independent():
    rng = np.random.default_rng(1)
    train = np.sort(rng.uniform(0, 20, 400))
    assert synchrony.spike_synchrony_chi([train] * 5, 0.01, t_stop=20.0) == pytest.approx(1.0)
    independent = [np.sort(rng.uniform(0, 20, 400)) for _ in range(25)]
    assert_allclose(synchrony.spike_synchrony_chi(independent, 0.01, t_stop=20.0), 0.2, rtol=0.15)


def test_spike_synchrony_chi_chunks_match_dense_traces():
    from scipy.signal import lfilter

    rng = np.random.default_rng(14)
    trains = [np.sort(rng.uniform(0, 2, rng.integers(1, 30))) for _ in range(11)]
    counts, _ = statistics.bin_spike_counts(trains, 0.001, t_stop=2.0)
    traces = lfilter([1.0], [1.0, -math.exp(-0.001 / 0.02)], counts.astype(float), axis=1)
    expected = synchrony.golomb_chi(traces)
    chunked = synchrony.spike_synchrony_chi(trains, 0.02, t_stop=2.0, chunk_size=3)
    assert_allclose(chunked, expected, rtol=1e-10)
