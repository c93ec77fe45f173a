"""Summaries of per-neuron parameter heterogeneity (time constants, thresholds, ...).

Follows what the literature reports for heterogeneous spiking networks: histograms
plus maximum-likelihood Gamma and lognormal fits with location 0 and goodness of fit
(Perez-Nieves et al. 2021, Nat. Commun. 12:5791), the coefficient of variation and the
SD of log values, quantiles, and the Wasserstein distance to a reference distribution
or between the values before and after training (Yin, Corradi & Bohte 2021, Nat. Mach.
Intell. 3:905 report only histograms).

Values may carry Brian2 units: they are converted to SI base units (seconds for
time constants) and the summary records the unit name it was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ParameterSummary",
    "summarize_parameter",
    "DistributionFit",
    "fit_distributions",
    "wasserstein_distance",
    "compare_parameters",
]


def _values(values, name="values"):
    unit = ""
    if hasattr(values, "dim") and hasattr(values, "has_same_dimensions"):
        from brian2.units.fundamentalunits import get_dimensions, get_unit

        unit = str(get_unit(get_dimensions(values)))
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size < 2:
        raise ValueError(f"{name} must hold at least 2 values, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return values, unit


@dataclass(repr=False)
class ParameterSummary:
    """Location, spread and shape of one per-neuron parameter (SI units).

    Examples
    --------
    >>> summary = summarize_parameter([0.01, 0.02, 0.03])
    >>> summary
    ParameterSummary(n=3, mean=0.02, sd=0.01, cv=0.5, log_sd=0.556, median=0.02)
    >>> summary.as_dict()["q50"]
    0.02
    """

    n: int
    mean: float
    sd: float
    cv: float
    log_sd: float
    median: float
    quantiles: dict
    minimum: float
    maximum: float
    unit: str

    def as_dict(self):
        """The fields as a flat dict (quantiles as ``q05`` etc.)."""
        flat = {key: getattr(self, key) for key in ("n", "mean", "sd", "cv", "log_sd")}
        flat.update({f"q{int(round(q * 100)):02d}": v for q, v in self.quantiles.items()})
        flat.update(minimum=self.minimum, maximum=self.maximum)
        return flat

    def __repr__(self):
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"ParameterSummary(n={self.n}, mean={self.mean:.4g}{unit}, sd={self.sd:.3g}{unit}, "
            f"cv={self.cv:.3g}, log_sd={self.log_sd:.3g}, median={self.median:.4g}{unit})"
        )


def summarize_parameter(values, *, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), ddof=1):
    """Mean, SD, CV = SD/mean, SD of the natural log (NaN if any value <= 0), quantiles.

    Parameters
    ----------
    values : array or Brian2 quantity
        One value per neuron.
    ddof : int
        For the SDs (default 1, the sample SD).

    Returns
    -------
    ParameterSummary

    Examples
    --------
    >>> from brian2 import ms
    >>> summary = summarize_parameter([10, 20, 30] * ms)
    >>> round(summary.mean, 6), round(summary.cv, 6), summary.unit
    (0.02, 0.5, 's')
    """
    values, unit = _values(values)
    mean = float(values.mean())
    sd = float(values.std(ddof=ddof))
    log_sd = float(np.log(values).std(ddof=ddof)) if np.all(values > 0) else float("nan")
    q = np.quantile(values, quantiles)
    return ParameterSummary(
        n=values.size,
        mean=mean,
        sd=sd,
        cv=sd / mean if mean != 0 else float("nan"),
        log_sd=log_sd,
        median=float(np.median(values)),
        quantiles={float(p): float(v) for p, v in zip(quantiles, q, strict=True)},
        minimum=float(values.min()),
        maximum=float(values.max()),
        unit=unit,
    )


@dataclass(repr=False)
class DistributionFit:
    """A maximum-likelihood fit (location 0) with its goodness of fit.

    Examples
    --------
    >>> fits = fit_distributions([0.9, 1.1, 1.0, 1.3, 0.8, 1.2])
    >>> fits["lognormal"].name, sorted(fits["lognormal"].parameters)
    ('lognormal', ['mu', 'sigma'])
    """

    name: str
    parameters: dict
    log_likelihood: float
    aic: float
    ks_statistic: float
    ks_pvalue: float
    chi2_statistic: float
    chi2_pvalue: float
    frozen: object

    def __repr__(self):
        parameters = ", ".join(f"{k}={v:.4g}" for k, v in self.parameters.items())
        return (
            f"DistributionFit({self.name}: {parameters}; AIC={self.aic:.4g}, "
            f"KS={self.ks_statistic:.3g} (p={self.ks_pvalue:.3g}), "
            f"chi2 p={self.chi2_pvalue:.3g})"
        )


def _chi2_goodness(values, frozen, n_parameters, n_bins):
    """Pearson chi^2 on equal-probability bins of the fitted distribution."""
    from scipy import stats

    edges = frozen.ppf(np.linspace(0, 1, n_bins + 1))
    observed = np.histogram(values, bins=np.concatenate([[-np.inf], edges[1:-1], [np.inf]]))[0]
    expected = np.full(n_bins, values.size / n_bins)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = n_bins - 1 - n_parameters
    return statistic, float(stats.chi2.sf(statistic, dof)) if dof > 0 else float("nan")


def fit_distributions(values, *, n_bins=None):
    """Maximum-likelihood Gamma and lognormal fits (location 0), as Perez-Nieves et al. 2021.

    Gamma: shape ``k`` and scale ``theta``; lognormal: ``mu`` and ``sigma`` of
    ``log(values)`` (closed-form MLE, ddof 0). Each fit reports the log-likelihood,
    AIC = 2 p - 2 log L, the Kolmogorov-Smirnov statistic and p-value (optimistic,
    since the parameters are fitted), and Pearson's chi^2 on ``n_bins``
    equal-probability bins (default ``max(5, n // 10)`` capped at 30, with
    ``n_bins - 3`` degrees of freedom).

    Returns
    -------
    dict
        ``{'gamma': DistributionFit, 'lognormal': DistributionFit}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = rng.gamma(4.0, 0.005, size=2000)  # shape 4, scale 5 ms
    >>> fits = fit_distributions(values)
    >>> round(fits["gamma"].parameters["shape"], 1), round(fits["gamma"].parameters["scale"], 4)
    (4.0, 0.005)
    >>> bool(fits["gamma"].aic < fits["lognormal"].aic)
    True
    """
    from scipy import stats

    values, _ = _values(values)
    if np.any(values <= 0):
        raise ValueError("values must be > 0 for Gamma and lognormal fits")
    if n_bins is None:
        n_bins = int(min(30, max(5, values.size // 10)))
    fits = {}
    shape, _, scale = stats.gamma.fit(values, floc=0)
    logs = np.log(values)
    mu, sigma = float(logs.mean()), float(logs.std())
    candidates = {
        "gamma": ({"shape": shape, "scale": scale}, stats.gamma(shape, loc=0, scale=scale)),
        "lognormal": ({"mu": mu, "sigma": sigma}, stats.lognorm(sigma, loc=0, scale=math.exp(mu))),
    }
    for name, (parameters, frozen) in candidates.items():
        log_likelihood = float(frozen.logpdf(values).sum())
        ks = stats.kstest(values, frozen.cdf)
        chi2_statistic, chi2_pvalue = _chi2_goodness(values, frozen, 2, n_bins)
        fits[name] = DistributionFit(
            name=name,
            parameters={k: float(v) for k, v in parameters.items()},
            log_likelihood=log_likelihood,
            aic=4.0 - 2.0 * log_likelihood,
            ks_statistic=float(ks.statistic),
            ks_pvalue=float(ks.pvalue),
            chi2_statistic=chi2_statistic,
            chi2_pvalue=chi2_pvalue,
            frozen=frozen,
        )
    return fits


def wasserstein_distance(values_a, values_b, *, log=False):
    """First Wasserstein (earth mover's) distance between two empirical distributions.

    ``W1 = int |F_a(x) - F_b(x)| dx`` (scipy.stats.wasserstein_distance); with ``log``,
    between the distributions of ``log(values)`` (scale-free, natural for timescales).

    Examples
    --------
    >>> wasserstein_distance([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    1.0
    >>> round(wasserstein_distance([1.0, 10.0], [2.0, 20.0], log=True), 4)  # ln 2
    0.6931
    """
    from scipy import stats

    a, _ = _values(values_a, "values_a")
    b, _ = _values(values_b, "values_b")
    if log:
        if np.any(a <= 0) or np.any(b <= 0):
            raise ValueError("log=True needs positive values")
        a, b = np.log(a), np.log(b)
    return float(stats.wasserstein_distance(a, b))


def compare_parameters(before, after, *, label="parameter", figure=False, reference=None):
    """Before/after comparison of a per-neuron parameter (e.g. tau_m before and after training).

    Returns
    -------
    dict
        ``before`` and ``after`` (`ParameterSummary`), ``wasserstein`` and
        ``wasserstein_log`` distances, the two-sample KS statistic and p-value, the
        Gamma/lognormal fits of both if all values are positive, and ``figure``
        (`plotting.parameter_comparison_figure`) if requested.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> before = rng.lognormal(np.log(0.02), 0.3, 500)
    >>> result = compare_parameters(before, 2 * before)
    >>> round(result["wasserstein_log"], 4), result["figure"] is None  # ln 2
    (0.6931, True)
    """
    from scipy import stats

    a, _ = _values(before, "before")
    b, _ = _values(after, "after")
    positive = bool(np.all(a > 0) and np.all(b > 0))
    ks = stats.ks_2samp(a, b)
    result = {
        "before": summarize_parameter(before),
        "after": summarize_parameter(after),
        "wasserstein": wasserstein_distance(a, b),
        "wasserstein_log": wasserstein_distance(a, b, log=True) if positive else float("nan"),
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "fits_before": fit_distributions(a) if positive else None,
        "fits_after": fit_distributions(b) if positive else None,
        "figure": None,
    }
    if figure:
        from .plotting import parameter_comparison_figure

        result["figure"] = parameter_comparison_figure(
            a, b, label=label, log=positive, reference=reference
        )
    return result
