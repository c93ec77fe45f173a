"""Timescale estimators on fixtures with a known answer (AR(1), OU, branching process)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from neurosrnn.analysis import timescales
from neurosrnn.analysis.statistics import bin_spike_counts


def test_ar1_fixture_has_the_stated_autocorrelation():
    x = timescales.ar1_process(10.0, 20000, n_trials=20, sigma=2.0, seed=0)
    assert_allclose(x.var(), 4.0, rtol=0.05)
    acf = timescales.autocorrelation(x, 30, mean="pooled")
    assert_allclose(acf[[1, 5, 10, 20]], np.exp(-np.array([1, 5, 10, 20]) / 10.0), atol=0.02)


def test_ou_fixture_is_the_exact_ar1_discretisation():
    x = timescales.ou_process(0.05, 0.005, 100.0, n_trials=10, seed=1)
    assert x.shape == (10, 20000)
    tau = timescales.direct_timescale(x, 0.005, 40, mean="pooled")
    assert_allclose(tau, 0.05, rtol=0.05)


def test_autocorrelation_matches_brute_force():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 50))
    acf = timescales.autocorrelation(x, 10)
    centred = x - x.mean(axis=1, keepdims=True)
    expected = np.array(
        [np.mean([(c[: 50 - k] * c[k:]).sum() / 50 for c in centred]) for k in range(11)]
    )
    assert_allclose(acf, expected / expected[0], rtol=1e-10)


def test_expected_autocovariance_matches_matrix_formula():
    """Closed form of E[c(k)] equals trace_k(C G C)/L with C the centring matrix."""
    L, a = 40, math.exp(-1 / 7)
    G = a ** np.abs(np.subtract.outer(np.arange(L), np.arange(L)))
    C = np.eye(L) - 1.0 / L
    M = C @ G @ C
    expected = [np.trace(M, k) / L for k in range(15)]
    assert_allclose(timescales._expected_autocovariance(a, L, 14), expected, rtol=1e-12)


def test_bias_correction_on_short_trials():
    """AR(1), tau = 20 steps, trials 5 tau long: direct fit < tau/2, corrected within 10 %."""
    x = timescales.ar1_process(20.0, 100, n_trials=2000, seed=3)
    direct = timescales.direct_timescale(x, 1.0, 50)
    corrected = timescales.corrected_timescale(x, 1.0, 50)
    assert direct < 10.0  # the reference reports about 7.5 steps
    assert_allclose(corrected, 20.0, rtol=0.1)


def test_direct_fit_is_unbiased_on_long_trials():
    x = timescales.ar1_process(20.0, 5000, n_trials=20, seed=4)
    assert_allclose(timescales.direct_timescale(x, 1.0, 60), 20.0, rtol=0.08)


def test_mr_estimator_invariant_to_subsampling():
    """Branching process m = 0.98 (tau = 49.5 steps), 10 trials x 2e4 steps, 5 % subsampling."""
    true_tau = -1 / math.log(0.98)
    full = timescales.branching_process(0.98, 2.0, 20000, n_trials=10, seed=5)
    sampled = timescales.binomial_subsample(full, 0.05, seed=6)
    result_full = timescales.mr_estimator(full, 1.0, 200)
    result_sampled = timescales.mr_estimator(sampled, 1.0, 200)
    assert_allclose(result_full.tau, true_tau, rtol=0.15)
    assert_allclose(result_sampled.tau, result_full.tau, rtol=0.1)
    assert result_sampled.b < 0.8 * result_full.b  # the amplitude carries the subsampling
    naive = timescales.mr_estimator(sampled, 1.0, 1)
    assert naive.tau < 0.1 * true_tau  # lag-1 regression alone: a few steps
    assert "MRResult" in repr(result_full)


def test_mr_stationary_mean_on_short_trials():
    x = timescales.ar1_process(20.0, 100, n_trials=200, seed=7)
    trial_mean = timescales.mr_estimator(x, 1.0, 40, mean="ts").tau
    stationary = timescales.mr_estimator(x, 1.0, 40, mean="sm").tau
    assert trial_mean < 10.0
    assert_allclose(stationary, 20.0, rtol=0.15)


def test_ou_modulated_poisson_timescale():
    """Rate 10 +- 6 Hz, tau 50 ms, 5 ms bins: MR (with offset) and corrected ACF find 50 ms."""
    (trial,) = timescales.ou_modulated_poisson(
        10.0, 6.0, 0.05, 100.0, n_neurons=50, shared=True, seed=8
    )
    counts, _ = bin_spike_counts(trial, 0.005, N=50, t_stop=100.0)
    population = counts.sum(axis=0)
    assert_allclose(population.mean() / 0.005 / 50, 10.0, rtol=0.05)
    mr = timescales.mr_estimator(population, 0.005, 50, offset=True)
    assert_allclose(mr.tau, 0.05, rtol=0.15)
    corrected = timescales.corrected_timescale(population, 0.005, 50, white_noise=True)
    assert_allclose(corrected, 0.05, rtol=0.15)
    assert_allclose(timescales.psd_knee_timescale(population, 0.005), 0.05, rtol=0.15)


def test_murray_timescale_on_trials():
    """Baseline trials of 2 s, 50 ms bins, shared OU rate with tau = 100 ms."""
    trials = timescales.ou_modulated_poisson(
        10.0, 6.0, 0.1, 2.0, n_neurons=20, n_trials=600, shared=True, seed=9
    )
    per_neuron, population = timescales.spike_count_timescales(trials, 0.05, N=20, t_stop=2.0)
    assert per_neuron.shape == (20,)
    assert_allclose(population.tau, 0.1, rtol=0.2)
    assert_allclose(np.nanmedian(per_neuron), 0.1, rtol=0.25)
    counts = np.array([bin_spike_counts(t, 0.05, N=20, t_stop=2.0)[0].sum(axis=0) for t in trials])
    single = timescales.murray_timescale(counts, 0.05)
    assert_allclose(single.tau, population.tau, rtol=1e-10)


def test_lag_correlations_brute_force():
    rng = np.random.default_rng(10)
    counts = rng.poisson(3.0, size=(30, 6)).astype(float)
    result = timescales._lag_correlations(counts[:, None, :])[0]
    for k in range(1, 6):
        values = [np.corrcoef(counts[:, i], counts[:, i + k])[0, 1] for i in range(6 - k)]
        assert_allclose(result[k - 1], np.mean(values), rtol=1e-10)


def test_neuron_timescales_track_parameter_tau():
    taus = np.array([0.02, 0.05, 0.1, 0.2])
    trials = [
        timescales.ou_modulated_poisson(
            10.0, 6.0, tau, 100.0, n_neurons=30, shared=True, seed=20 + k
        )[0]
        for k, tau in enumerate(taus)
    ]
    # one "neuron" per tau: the 30 trains sharing that rate are pooled into one index
    indices = np.concatenate([np.full(t[0].size, k) for k, t in enumerate(trials)])
    times = np.concatenate([t[1] for t in trials])
    measured = timescales.neuron_timescales((indices, times), 0.005, 100, N=4, t_stop=100.0)
    assert_allclose(measured, taus, rtol=0.3)
    relation = timescales.timescale_relation(taus, measured)
    assert relation["spearman_rho"] == pytest.approx(1.0)
    assert_allclose(relation["slope"], 1.0, atol=0.2)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_wieland_timescale_matches_elephant():
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import spike_train_timescale

    rng = np.random.default_rng(11)
    trains = [np.round(np.sort(rng.uniform(0, 5, rng.poisson(80))), 4) for _ in range(5)]
    trains.append(np.array([1.0]))
    ours = timescales.wieland_timescale(trains, 0.001, 0.02, t_stop=5.0)
    with pytest.warns(UserWarning):
        expected = [
            spike_train_timescale(
                BinnedSpikeTrain(neo.SpikeTrain(t, units="s", t_stop=5.0), bin_size=1 * pq.ms),
                20 * pq.ms,
            )
            for t in trains
        ]
    assert_allclose(ours[:5], [float(e.rescale("s").magnitude) for e in expected[:5]], rtol=1e-10)
    assert np.isnan(ours[5]) and np.isnan(expected[5])
    # the docstring example of Elephant: 14.11 ms
    example = timescales.wieland_timescale(
        [np.array([1, 5, 7, 8]) * 1e-3], 0.001, 0.005, t_stop=0.01
    )
    assert_allclose(example, [0.014111111111111], rtol=1e-10)
    with pytest.raises(ValueError, match="multiple"):
        timescales.wieland_timescale(trains, 0.001, 0.0205, t_stop=5.0)


def test_psd_knee_on_ou_process():
    """OU: Lorentzian spectrum with its knee at 1/(2 pi tau)."""
    x = timescales.ou_process(0.05, 0.001, 200.0, n_trials=2, seed=12)
    assert_allclose(timescales.psd_knee_timescale(x, 0.001), 0.05, rtol=0.1)


def test_bad_input():
    with pytest.raises(ValueError, match="max_lag"):
        timescales.autocorrelation(np.zeros((2, 10)) + np.arange(10), 10)
    with pytest.raises(ValueError, match="constant"):
        timescales.autocorrelation(np.ones((2, 10)), 3)
    with pytest.raises(ValueError, match="mean"):
        timescales.mr_estimator(np.arange(20.0), 1.0, 5, mean="x")
    with pytest.raises(ValueError, match="finite"):
        timescales.autocorrelation(np.array([1.0, np.nan, 2.0, 3.0]), 2)
    with pytest.raises(ValueError, match="seed"):
        timescales.ar1_process(5.0, 10, seed=None)
    with pytest.raises(ValueError, match="m must be"):
        timescales.branching_process(1.2, 1.0, 10, seed=0)
    with pytest.raises(ValueError, match="same shape"):
        timescales.timescale_relation([1.0, 2.0], [1.0])


@pytest.mark.parametrize("dt", [0.0, -0.001, float("nan"), float("inf")])
@pytest.mark.parametrize(
    "estimate",
    [
        lambda x, dt: timescales.direct_timescale(x, dt, 5),
        lambda x, dt: timescales.corrected_timescale(x, dt, 5),
        lambda x, dt: timescales.mr_estimator(x, dt, 5),
        lambda x, dt: timescales.psd_knee_timescale(x, dt),
        lambda x, dt: timescales.ou_process(0.01, dt, 1.0, seed=0),
        lambda x, dt: timescales.ou_modulated_poisson(10.0, 1.0, 0.01, 1.0, dt=dt, seed=0),
    ],
    ids=["direct", "corrected", "mr", "psd_knee", "ou_process", "ou_modulated_poisson"],
)
def test_dt_must_be_a_positive_finite_time(estimate, dt):
    """dt of 0, negative or NaN used to give 0, a negative tau or NaN silently."""
    x = timescales.ar1_process(3.0, 200, n_trials=2, seed=0)
    with pytest.raises(ValueError, match="dt must be a finite time|dt must be a time > 0"):
        estimate(x, dt)


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)]
)
def test_fixture_seed_is_validated(seed, error):
    with pytest.raises(error, match="seed"):
        timescales.ar1_process(5.0, 10, seed=seed)
    with pytest.raises(error, match="seed"):
        timescales.branching_process(0.5, 1.0, 10, seed=seed)
    with pytest.raises(error, match="seed"):
        timescales.binomial_subsample([[3, 4]], 0.5, seed=seed)
