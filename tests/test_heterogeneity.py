"""Parameter heterogeneity summaries: analytic MLEs, known distributions, brute force."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import special

from neurosrnn.analysis import heterogeneity


def test_summary_matches_numpy_definitions():
    rng = np.random.default_rng(0)
    values = rng.gamma(3.0, 20e-3 / 3.0, size=500)
    summary = heterogeneity.summarize_parameter(values)
    assert summary.n == 500
    assert_allclose(summary.mean, values.mean())
    assert_allclose(summary.cv, values.std(ddof=1) / values.mean())
    assert_allclose(summary.log_sd, np.log(values).std(ddof=1))
    assert_allclose(summary.quantiles[0.25], np.quantile(values, 0.25))
    # population values of a Gamma(3): CV = 1/sqrt(3)
    assert_allclose(summary.cv, 1 / math.sqrt(3), rtol=0.1)
    assert "ParameterSummary" in repr(summary)


def test_summary_keeps_brian2_unit_name():
    import brian2 as b2

    summary = heterogeneity.summarize_parameter(np.array([10.0, 20.0, 30.0]) * b2.ms)
    assert_allclose(summary.mean, 0.02)
    assert summary.unit == "s"


def test_gamma_and_lognormal_fits_are_maximum_likelihood():
    rng = np.random.default_rng(1)
    values = rng.gamma(3.0, 20e-3 / 3.0, size=2000)
    fits = heterogeneity.fit_distributions(values)
    gamma, lognormal = fits["gamma"], fits["lognormal"]
    # Gamma MLE (location 0) solves log k - digamma(k) = log(mean) - mean(log)
    k = gamma.parameters["shape"]
    assert_allclose(
        math.log(k) - special.digamma(k), math.log(values.mean()) - np.log(values).mean(), rtol=1e-4
    )
    assert_allclose(k * gamma.parameters["scale"], values.mean(), rtol=1e-4)
    assert_allclose(k, 3.0, rtol=0.1)
    # lognormal MLE in closed form
    assert_allclose(lognormal.parameters["mu"], np.log(values).mean())
    assert_allclose(lognormal.parameters["sigma"], np.log(values).std())
    # goodness of fit: Gamma data prefer the Gamma fit
    assert gamma.aic < lognormal.aic
    assert gamma.ks_pvalue > 0.01
    assert lognormal.chi2_pvalue < gamma.chi2_pvalue
    assert "DistributionFit(gamma" in repr(gamma)


def test_wasserstein_brute_force_and_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(size=300)
    b = rng.normal(size=300) * 2 + 1
    assert_allclose(
        heterogeneity.wasserstein_distance(a, b), np.abs(np.sort(a) - np.sort(b)).mean()
    )
    assert_allclose(heterogeneity.wasserstein_distance(a, a + 0.7), 0.7)
    positive = np.exp(a)
    assert_allclose(heterogeneity.wasserstein_distance(positive, positive * math.e, log=True), 1.0)


def test_compare_parameters_before_after():
    rng = np.random.default_rng(3)
    before = np.full(200, 20e-3) + rng.normal(0, 1e-4, 200)
    after = rng.gamma(3.0, 20e-3 / 3.0, size=200)
    result = heterogeneity.compare_parameters(before, after, label="tau_m (s)", figure=True)
    assert result["after"].cv > 10 * result["before"].cv
    assert result["ks_pvalue"] < 1e-6
    assert result["fits_after"]["gamma"].parameters["shape"] > 1
    assert len(result["figure"].axes) == 1
    assert result["wasserstein"] == pytest.approx(heterogeneity.wasserstein_distance(before, after))


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        heterogeneity.summarize_parameter([1.0])
    with pytest.raises(ValueError, match="finite"):
        heterogeneity.summarize_parameter([1.0, np.nan])
    with pytest.raises(ValueError, match="> 0"):
        heterogeneity.fit_distributions([1.0, -1.0, 2.0])
    assert math.isnan(heterogeneity.summarize_parameter([-1.0, 1.0]).log_sd)
