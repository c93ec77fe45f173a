"""Activity timescales: autocorrelation fits, the MR estimator, finite-length bias correction.

Estimators
----------
- `autocorrelation` and `direct_timescale`: the sample autocorrelation of a time
  series (trials x time, per-trial or pooled mean removed, 1/L normalisation) and a
  pure exponential fit to it. On trials only a few timescales long this is strongly
  biased downwards (the mean subtraction and the 1/L taper pull the ACF down).
- `corrected_timescale`: fits the sample autocovariance with its *expected value*
  under an exponential covariance, including the exact effect of the per-trial mean
  and the 1/L taper for the given trial length. This removes the finite-length bias
  of the direct fit (the model-based idea behind abcTau, Zeraati, Engel & Levina 2022,
  Nat. Comput. Sci. 2:193, but in closed form instead of by simulation).
- `mr_estimator`: multistep regression (Wilting & Priesemann 2018, Nat. Commun.
  9:2325; Spitzner et al. 2021, PLOS ONE 16:e0249447): slopes ``r_k`` of ``A_{t+k}`` on
  ``A_t`` fitted by ``b m^k``; ``tau = -dt / ln m``. Invariant to binomial subsampling.
- `murray_timescale` / `spike_count_timescales`: Murray et al. 2014 (Nat. Neurosci.
  17:1661): across-trial Pearson correlation of spike counts in pairs of bins,
  averaged by lag, fitted by ``A [exp(-k dt / tau) + B]`` from the first lag where it
  decreases.
- `psd_knee_timescale`: ``tau = 1 / (2 pi f_knee)`` from a Lorentzian fit to the power
  spectrum (Gao et al. 2020, eLife 9:e61277).
- `wieland_timescale`: the autocorrelation time of Wieland et al. 2015 (Phys. Rev. E
  92:040901), as Elephant's ``spike_train_timescale``, for all neurons at once.
- `neuron_timescales`: per-neuron timescales from one long recording (MR or the
  corrected ACF fit), and `timescale_relation` to compare them with a parameter tau.

Fixtures with a known answer
----------------------------
`ar1_process` (also the exact discretisation of an OU process), `ou_process`,
`ou_modulated_poisson`, `branching_process`, `binomial_subsample`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosrnn.units import to_seconds
from neurosrnn.validation import check_seed

from ._spikes import as_spike_trains, bin_indices, count_bins
from .correlation import cross_correlograms
from .statistics import bin_spike_counts

__all__ = [
    "ar1_process",
    "ou_process",
    "ou_modulated_poisson",
    "branching_process",
    "binomial_subsample",
    "autocorrelation",
    "fit_exponential",
    "direct_timescale",
    "corrected_timescale",
    "MRResult",
    "mr_estimator",
    "MurrayResult",
    "murray_timescale",
    "spike_count_timescales",
    "neuron_timescales",
    "wieland_timescale",
    "psd_knee_timescale",
    "timescale_relation",
]


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------
def _rng(seed):
    if seed is None:
        raise ValueError("seed is required (fixtures are always reproducible)")
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed))


def ar1_process(tau_steps, n_steps, *, n_trials=1, sigma=1.0, seed):
    """AR(1) series ``x_{t+1} = a x_t + sigma sqrt(1 - a^2) xi_t`` with ``a = exp(-1/tau_steps)``.

    Stationary from the first step (``x_0 ~ N(0, sigma^2)``); autocorrelation
    ``rho(k) = a^k``, so the timescale is ``tau_steps`` steps.

    Returns
    -------
    ndarray, shape (n_trials, n_steps)

    Examples
    --------
    >>> x = ar1_process(10.0, 50_000, seed=0)
    >>> x.shape
    (1, 50000)
    >>> round(float(autocorrelation(x, 10)[10]), 2)  # exp(-1) = 0.37
    0.39
    """
    if not tau_steps > 0:
        raise ValueError(f"tau_steps must be > 0, got {tau_steps}")
    rng = _rng(seed)
    a = math.exp(-1.0 / tau_steps)
    noise = rng.standard_normal((n_trials, n_steps)) * sigma * math.sqrt(1.0 - a * a)
    noise[:, 0] = rng.standard_normal(n_trials) * sigma
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -a], noise, axis=1)


def ou_process(tau, dt, duration, *, n_trials=1, sigma=1.0, seed):
    """Ornstein-Uhlenbeck process ``dx = -x/tau dt + sigma sqrt(2/tau) dW`` sampled every ``dt``.

    Exact discretisation (AR(1) with ``a = exp(-dt/tau)``); covariance
    ``sigma^2 exp(-|s|/tau)``, Lorentzian spectrum with its knee at ``1/(2 pi tau)``.

    Returns
    -------
    ndarray, shape (n_trials, round(duration / dt))

    Examples
    --------
    >>> from brian2 import ms, second
    >>> x = ou_process(20 * ms, 1 * ms, 10 * second, n_trials=2, seed=0)
    >>> x.shape
    (2, 10000)
    """
    tau = to_seconds(tau, "tau", positive=True)
    dt = to_seconds(dt, "dt", positive=True)
    n_steps = int(round(to_seconds(duration, "duration", positive=True) / dt))
    return ar1_process(tau / dt, n_steps, n_trials=n_trials, sigma=sigma, seed=seed)


def ou_modulated_poisson(
    mean_rate, sd_rate, tau, duration, *, n_neurons=1, n_trials=1, shared=False, dt=0.001, seed
):
    """Doubly stochastic Poisson spikes with rate ``[mu + x(t)]_+``, x an OU process.

    For lags ``k >= 1`` the count autocovariance is proportional to ``exp(-k D / tau)``
    (exact when rectification is negligible); lag 0 has extra Poisson variance.

    Parameters
    ----------
    mean_rate, sd_rate : float
        ``mu`` and the SD of x, in Hz.
    tau : float
        OU timescale (seconds).
    shared : bool
        One rate for all neurons of a trial (default: independent rates).
    dt : float
        Simulation step for the rate (seconds); spike times are uniform within a step.

    Returns
    -------
    list of (i, t) pairs
        One per trial, times in seconds in ``[0, duration)``.

    Examples
    --------
    >>> trials = ou_modulated_poisson(20.0, 5.0, 0.05, 2.0, n_neurons=3, n_trials=2, seed=0)
    >>> len(trials)
    2
    >>> i, t = trials[0]
    >>> bool(t.min() >= 0 and t.max() < 2.0), bool(i.max() < 3)
    (True, True)
    """
    rng = _rng(seed)
    dt = to_seconds(dt, "dt", positive=True)
    tau = to_seconds(tau, "tau", positive=True)
    n_steps = int(round(to_seconds(duration, "duration", positive=True) / dt))
    trials = []
    for trial in range(n_trials):
        n_rates = 1 if shared else n_neurons
        x = ar1_process(tau / dt, n_steps, n_trials=n_rates, sigma=sd_rate, seed=rng)
        rate = np.maximum(mean_rate + x, 0.0)
        if shared:
            rate = np.repeat(rate, n_neurons, axis=0)
        counts = rng.poisson(rate * dt)
        neuron, step = np.nonzero(counts)
        repeats = counts[neuron, step]
        neuron = np.repeat(neuron, repeats)
        times = (np.repeat(step, repeats) + rng.random(neuron.size)) * dt
        trials.append((neuron, times))
        del trial
    return trials


def branching_process(m, h, n_steps, *, n_trials=1, seed):
    """Branching process with immigration ``A_{t+1} ~ Poisson(m A_t + h)``.

    Started at the stationary mean ``h / (1 - m)``; ``r_k = m^k`` and
    ``tau = -1 / ln m`` steps. Binomial subsampling leaves ``m`` unchanged.

    Returns
    -------
    ndarray of int, shape (n_trials, n_steps)

    Examples
    --------
    >>> activity = branching_process(0.9, 10.0, 20_000, seed=0)
    >>> activity.shape, round(float(activity.mean()))  # stationary mean h / (1 - m) = 100
    ((1, 20000), 100)
    """
    if not 0 <= m < 1:
        raise ValueError(f"m must be in [0, 1), got {m}")
    rng = _rng(seed)
    activity = np.empty((n_trials, n_steps), dtype=np.int64)
    current = np.full(n_trials, int(round(h / (1 - m))))
    for step in range(n_steps):
        activity[:, step] = current
        current = rng.poisson(m * current + h)
    return activity


def binomial_subsample(activity, fraction, *, seed):
    """Keep each unit of ``activity`` (counts) independently with probability ``fraction``.

    Examples
    --------
    >>> binomial_subsample([[100, 200, 300]], 0.5, seed=0)
    array([[ 51, 101, 156]])
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return _rng(seed).binomial(np.asarray(activity, dtype=np.int64), fraction)


# ---------------------------------------------------------------------------------------
# autocorrelation and exponential fits
# ---------------------------------------------------------------------------------------
def _as_trials(x, name="x"):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 3:
        raise ValueError(f"{name} must have shape (n_trials, n_steps >= 3), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def _check_max_lag(max_lag, n_steps, name="max_lag"):
    if not isinstance(max_lag, int | np.integer) or not 1 <= max_lag < n_steps:
        raise ValueError(f"{name} must be an integer in [1, {n_steps - 1}], got {max_lag}")


def _autocovariance(x, max_lag, mean):
    if mean == "trial":
        centred = x - x.mean(axis=1, keepdims=True)
    elif mean == "pooled":
        centred = x - x.mean()
    else:
        raise ValueError(f"mean must be 'trial' or 'pooled', got {mean!r}")
    n_steps = x.shape[1]
    size = 1 << int(math.ceil(math.log2(2 * n_steps)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    covariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, : max_lag + 1]
    return covariance.mean(axis=0) / n_steps


def autocorrelation(x, max_lag, *, mean="trial"):
    """Sample autocorrelation averaged over trials, lags ``0, 1, ..., max_lag`` steps.

    ``c(k) = (1/L) sum_{t < L - k} (x_t - xbar)(x_{t+k} - xbar)`` per trial, averaged over
    trials, divided by ``c(0)``. ``mean='trial'`` removes each trial's mean (biased for
    short trials), ``'pooled'`` one mean over all trials (assumes stationarity).

    Returns
    -------
    ndarray, shape (max_lag + 1,)

    Examples
    --------
    >>> x = ar1_process(5.0, 100_000, seed=1)
    >>> autocorrelation(x, 3).round(2)  # exp(-k / 5)
    array([1.  , 0.81, 0.66, 0.55])
    """
    x = _as_trials(x)
    _check_max_lag(max_lag, x.shape[1])
    covariance = _autocovariance(x, max_lag, mean)
    if covariance[0] <= 0:
        raise ValueError("x is constant: the autocorrelation is undefined")
    return covariance / covariance[0]


def fit_exponential(values, lags, *, offset=False):
    """Least-squares fit of ``A exp(-lag / tau) (+ B)``; returns ``(tau, A, B)``.

    ``tau`` is in the units of ``lags`` and bounded to ``[1e-6, 1000] * max(lags)``;
    NaN if the data do not decay or the fit ends on a bound (tau not identified); all
    three NaN if a value is not finite.
    The offset fit starts from the fit without offset.

    Examples
    --------
    >>> lags = np.arange(10.0)
    >>> tau, A, B = fit_exponential(2.0 * np.exp(-lags / 3.0), lags)
    >>> round(tau, 4), round(A, 4), B
    (3.0, 2.0, 0.0)
    """
    from scipy.optimize import least_squares

    values = np.asarray(values, dtype=np.float64)
    lags = np.asarray(lags, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        # e.g. MR slopes of a train whose counts are constant at some lag: nothing to fit
        return float("nan"), float("nan"), float("nan")
    span = max(float(lags[-1]), 1e-12)
    guess_tau = max((lags[-1] - lags[0]) / 3, span / 10)
    positive = values > 0
    if positive.sum() >= 2:
        slope = np.polyfit(lags[positive], np.log(values[positive]), 1)[0]
        if slope < 0:
            guess_tau = min(-1.0 / slope, 100 * span)
    amplitude = values[0] if values[0] > 0 else max(values.max(), 1e-12)

    def model(params):
        result = params[0] * np.exp(-lags / math.exp(params[1]))
        return result + params[2] if offset else result

    bounds = ([-np.inf, math.log(1e-6 * span)], [np.inf, math.log(1000 * span)])
    # a very steep log-linear guess may fall below the lower bound: start just inside
    start_log_tau = min(max(math.log(guess_tau), bounds[0][1] + 1e-3), bounds[1][1] - 1e-3)
    start = [amplitude, start_log_tau]
    if offset:
        plain = fit_exponential(values, lags, offset=False)
        if np.isfinite(plain[0]):
            start = [plain[1], math.log(min(plain[0], 999 * span))]
        start.append(0.0)
        bounds = (bounds[0] + [-np.inf], bounds[1] + [np.inf])
    fit = least_squares(lambda p: model(p) - values, start, bounds=bounds)
    A, tau = float(fit.x[0]), math.exp(fit.x[1])
    B = float(fit.x[2]) if offset else 0.0
    at_bound = not bounds[0][1] + 1e-6 < fit.x[1] < bounds[1][1] - 1e-6
    if not fit.success or A <= 0 or at_bound:
        # not decaying, or tau pinned at a bound: the data do not identify it
        return float("nan"), A, B
    return float(tau), A, B


def direct_timescale(x, dt, max_lag, *, mean="trial", fit_from=0):
    """Timescale from a pure exponential fit ``exp(-k dt / tau)`` to the sample ACF.

    Biased low on short trials (e.g. AR(1) with true tau = 20 steps: about 7.5 steps
    on trials 5 tau long); see `corrected_timescale`.

    Parameters
    ----------
    x : array, shape (n_trials, n_steps) or (n_steps,)
    dt : float
        Step (seconds, or 1 for steps).
    max_lag : int
        Largest lag used in the fit (steps).
    fit_from : int
        First lag used (1 for spike counts, whose lag 0 holds Poisson variance).

    Returns
    -------
    float
        tau in the units of ``dt``.

    Examples
    --------
    >>> long = ar1_process(10.0, 100_000, seed=2)
    >>> round(direct_timescale(long, 0.001, 30), 4)  # 10 steps of 1 ms
    0.0101
    >>> short = ar1_process(20.0, 100, n_trials=500, seed=3)
    >>> round(direct_timescale(short, 1.0, 20), 1)  # true tau: 20 steps
    8.8
    """
    dt = to_seconds(dt, "dt", positive=True)
    acf = autocorrelation(x, max_lag, mean=mean)
    lags = np.arange(fit_from, max_lag + 1)
    tau, _, _ = fit_exponential(acf[fit_from:], lags)
    return tau * dt


def _expected_autocovariance(a, n_steps, max_lag):
    """E[c(k)] for unit-variance covariance ``a^|d|`` with the per-trial mean removed (1/L)."""
    L = n_steps
    t = np.arange(L, dtype=np.float64)
    if a == 0.0:
        row_sum = np.ones(L)
        gamma = np.zeros(max_lag + 1)
        gamma[0] = 1.0
    else:
        row_sum = (1 - a ** (t + 1)) / (1 - a) + (a - a ** (L - t)) / (1 - a)
        gamma = a ** np.arange(max_lag + 1, dtype=np.float64)
    h = row_sum / L
    H = h.mean()
    cumulative = np.concatenate([[0.0], np.cumsum(h)])
    k = np.arange(max_lag + 1)
    head = cumulative[L - k]  # sum_{t < L - k} h_t
    tail = cumulative[L] - cumulative[k]  # sum_{t >= k} h_t
    return ((L - k) * (gamma + H) - head - tail) / L


def corrected_timescale(x, dt, max_lag, *, fit_from=0, white_noise=False):
    """Timescale with the finite-length bias of the direct ACF fit removed.

    The sample autocovariance ``c(k)`` (per-trial mean removed, 1/L, averaged over
    trials) is fitted by its expectation for a stationary process with covariance
    ``A exp(-|s|/tau)`` (plus ``W delta(s)`` if ``white_noise``, e.g. Poisson count
    noise) observed in trials of length L:
    ``E[c(k)] = (1/L) sum_{t<L-k} [gamma(k) - h_t - h_{t+k} + H]`` with
    ``h_t = (1/L) sum_u gamma(t - u)`` and ``H = mean(h)``, evaluated in closed form.
    The fit is over ``(A, tau[, W])``, lags ``fit_from .. max_lag``. This is
    unbiased to the extent that the process is exponentially correlated; it
    recovers tau within 10 % on AR(1) trials 5 tau long, where the direct fit gives
    less than half (tests/test_timescales.py).

    Returns
    -------
    float
        tau in the units of ``dt``; NaN if the fit ends on a bound (``1e-3`` or
        ``100 L`` steps).

    Examples
    --------
    >>> short = ar1_process(20.0, 100, n_trials=500, seed=3)
    >>> round(corrected_timescale(short, 1.0, 20), 1)  # true tau: 20 steps
    20.8
    """
    from scipy.optimize import least_squares

    dt = to_seconds(dt, "dt", positive=True)
    x = _as_trials(x)
    L = x.shape[1]
    _check_max_lag(max_lag, L)
    observed = _autocovariance(x, max_lag, "trial")
    lags = np.arange(max_lag + 1)
    chosen = lags >= fit_from
    white = _expected_autocovariance(0.0, L, max_lag)
    scale = observed[0] if observed[0] > 0 else 1.0
    start_tau = direct_timescale(x, 1.0, max_lag, fit_from=fit_from)
    start_tau = start_tau * 2 if np.isfinite(start_tau) else max_lag / 3

    def residual(params):
        amplitude, log_tau = params[0], params[1]
        model = amplitude * _expected_autocovariance(math.exp(-1.0 / math.exp(log_tau)), L, max_lag)
        if white_noise:
            model = model + params[2] * white
        return (model - observed / scale)[chosen]

    lower = [0.0, math.log(1e-3)] + ([0.0] if white_noise else [])
    upper = [np.inf, math.log(100.0 * L)] + ([np.inf] if white_noise else [])
    # the direct fit may end outside [1e-3, 100 L] steps: start just inside the bounds
    start_log_tau = min(max(math.log(start_tau), lower[1] + 1e-3), upper[1] - 1e-3)
    start = [1.0, start_log_tau] + ([0.1] if white_noise else [])
    fit = least_squares(residual, start, bounds=(lower, upper))
    if not lower[1] + 1e-6 < fit.x[1] < upper[1] - 1e-6 or not fit.success:
        return float("nan")  # tau pinned at a bound: not identified by the data
    return math.exp(fit.x[1]) * dt


# ---------------------------------------------------------------------------------------
# MR estimator
# ---------------------------------------------------------------------------------------
@dataclass(repr=False)
class MRResult:
    """Result of `mr_estimator`: tau, branching parameter m, amplitude b, the slopes r_k.

    Examples
    --------
    >>> result = mr_estimator(branching_process(0.9, 10.0, 20_000, seed=0), 1.0, 30)
    >>> round(result.m, 2), result.lags.size
    (0.91, 30)
    """

    tau: float
    m: float
    b: float
    offset: float
    lags: np.ndarray
    r: np.ndarray
    dt: float
    mean: str

    def __repr__(self):
        return (
            f"MRResult(tau={self.tau:.4g}, m={self.m:.5f}, b={self.b:.3g}, "
            f"offset={self.offset:.3g}, mean={self.mean!r}, k_max={self.lags[-1]})"
        )


def _regression_slopes(x, k_max, mean):
    slopes = np.empty(k_max)
    if mean == "sm":
        centred = x - x.mean()
    for k in range(1, k_max + 1):
        past, future = x[:, :-k], x[:, k:]
        if mean == "ts":
            past = past - past.mean(axis=1, keepdims=True)
            future = future - future.mean(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_trial = (past * future).sum(axis=1) / (past * past).sum(axis=1)
            slopes[k - 1] = np.nanmean(per_trial)
        else:
            past, future = centred[:, :-k], centred[:, k:]
            slopes[k - 1] = (past * future).sum() / (past * past).sum()
    return slopes


def mr_estimator(activity, dt, k_max, *, mean="ts", offset=False):
    """Multistep-regression (MR) estimate of the timescale (Wilting & Priesemann 2018).

    For ``k = 1 .. k_max`` the linear-regression slope ``r_k`` of ``A_{t+k}`` on ``A_t``
    is computed, then ``r_k = b m^k (+ offset)`` is fitted and
    ``tau = -dt / ln m``. Under binomial subsampling every ``r_k`` is scaled by the same
    factor, so ``b`` changes and ``m`` (hence tau) does not.

    Parameters
    ----------
    activity : array, shape (n_trials, n_steps) or (n_steps,)
        Activity (e.g. population spike counts per bin).
    dt : float
        Bin width (seconds, or 1 for steps).
    k_max : int
        Largest lag (steps); a few tau is a good choice. ``k_max = 1`` (or 2) gives
        the naive estimate ``m = r_1``, which subsampling biases strongly.
    mean : {'ts', 'sm'}
        'ts': slopes per trial with per-trial means, then averaged (biased for short
        trials); 'sm': one stationary mean pooled over trials.
    offset : bool
        Fit a constant offset too (robust to slow non-stationarity).

    Returns
    -------
    MRResult

    Examples
    --------
    >>> activity = branching_process(0.95, 5.0, 50_000, seed=0)
    >>> round(mr_estimator(activity, 1.0, 60).tau, 1)  # -1 / ln(0.95) = 19.5 steps
    20.4
    >>> subsampled = binomial_subsample(activity, 0.1, seed=1)
    >>> round(mr_estimator(subsampled, 1.0, 60).tau, 1)
    21.1
    """
    dt = to_seconds(dt, "dt", positive=True)
    x = _as_trials(activity, "activity")
    if mean not in ("ts", "sm"):
        raise ValueError(f"mean must be 'ts' or 'sm', got {mean!r}")
    _check_max_lag(k_max, x.shape[1] - 1, "k_max")
    slopes = _regression_slopes(x, k_max, mean)
    lags = np.arange(1, k_max + 1)
    if k_max < (4 if offset else 3):
        # too few slopes to fit: the naive estimate m = r_1 (biased under subsampling)
        if offset:
            raise ValueError("k_max must be >= 4 with offset=True")
        r_1 = slopes[0]
        tau_steps = -1.0 / math.log(r_1) if 0 < r_1 < 1 else float("nan")
        b, fitted_offset = 1.0, 0.0
    else:
        tau_steps, b, fitted_offset = fit_exponential(slopes, lags, offset=offset)
    m = math.exp(-1.0 / tau_steps) if np.isfinite(tau_steps) else float("nan")
    return MRResult(
        tau=tau_steps * dt, m=m, b=b, offset=fitted_offset, lags=lags, r=slopes, dt=dt, mean=mean
    )


# ---------------------------------------------------------------------------------------
# Murray et al. 2014
# ---------------------------------------------------------------------------------------
@dataclass(repr=False)
class MurrayResult:
    """Result of `murray_timescale`: tau, fit parameters and the lag-averaged correlations.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> rate = 20.0 * np.exp(0.8 * ar1_process(2.0, 20, n_trials=400, seed=rng))
    >>> result = murray_timescale(rng.poisson(rate * 0.05), 0.05)
    >>> result.lags.size, result.correlation.size
    (19, 19)
    """

    tau: float
    A: float
    B: float
    lags: np.ndarray
    correlation: np.ndarray
    fit_start: int

    def __repr__(self):
        return f"MurrayResult(tau={self.tau:.4g}, A={self.A:.3g}, B={self.B:.3g})"


def _lag_correlations(counts):
    """counts (n_trials, n_units, n_bins) -> (n_units, n_bins - 1) across-trial r by lag."""
    mean = counts.mean(axis=0)
    sd = counts.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (counts - mean) / sd
    n_bins = counts.shape[2]
    out = np.full((counts.shape[1], n_bins - 1), np.nan)
    for k in range(1, n_bins):
        product = (z[:, :, :-k] * z[:, :, k:]).mean(axis=0)
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(product)
            total = np.where(valid, product, 0.0).sum(axis=1)
            number = valid.sum(axis=1)
            out[:, k - 1] = np.where(number > 0, total / np.maximum(number, 1), np.nan)
    return out


def _murray_fit(correlation, bin_size):
    lags = np.arange(1, correlation.size + 1) * bin_size
    start = 0
    finite = np.isfinite(correlation)
    while start + 1 < correlation.size and (
        not finite[start] or (finite[start + 1] and correlation[start + 1] > correlation[start])
    ):
        start += 1
    chosen = slice(start, None)
    usable = np.isfinite(correlation[chosen])
    if usable.sum() < 3:
        return MurrayResult(np.nan, np.nan, np.nan, lags, correlation, start)
    tau, A, B = fit_exponential(correlation[chosen][usable], lags[chosen][usable], offset=True)
    return MurrayResult(tau, A, B / A if A else np.nan, lags, correlation, start)


def murray_timescale(counts, bin_size):
    """Intrinsic timescale of one neuron after Murray et al. 2014 (Nat. Neurosci. 17:1661).

    For every pair of bins ``(i, j)``, the Pearson correlation of the counts across
    trials; averaged over pairs with the same lag ``k = j - i``; then
    ``R(k D) = A [exp(-k D / tau) + B]`` fitted from the first lag at which ``R``
    decreases. Bins with zero variance across trials are skipped.

    Parameters
    ----------
    counts : array, shape (n_trials, n_bins)
        Spike counts (the paper uses 50 ms bins of a baseline period).
    bin_size : float
        Bin width (seconds).

    Returns
    -------
    MurrayResult
        ``tau`` in seconds; ``B`` is the offset relative to ``A`` as in the paper.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> rate = 20.0 * np.exp(0.8 * ar1_process(2.0, 20, n_trials=400, seed=rng))  # tau: 2 bins
    >>> counts = rng.poisson(rate * 0.05)  # 400 trials x 20 bins of 50 ms
    >>> round(murray_timescale(counts, 0.05).tau, 3)
    0.096
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] < 3 or counts.shape[1] < 4:
        raise ValueError(f"counts must have shape (n_trials >= 3, n_bins >= 4), got {counts.shape}")
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    return _murray_fit(_lag_correlations(counts[:, None, :])[0], bin_size)


def spike_count_timescales(trials, bin_size, *, N=None, t_start=None, t_stop=None):
    """Murray timescale of every neuron and of the population from trials of spikes.

    Parameters
    ----------
    trials : sequence of spike inputs
        One per trial, all with the same ``N`` and window (e.g. baseline periods).
    bin_size : float or Brian2 quantity
        Count bin (the paper: 50 ms).

    Returns
    -------
    per_neuron : ndarray, shape (N,)
        tau in seconds (NaN where the fit fails, e.g. silent neurons).
    population : MurrayResult
        From the summed counts of all neurons.

    Examples
    --------
    >>> trials = ou_modulated_poisson(
    ...     40.0, 20.0, 0.1, 1.0, n_neurons=3, n_trials=100, shared=True, seed=4)
    >>> per_neuron, population = spike_count_timescales(trials, 0.05, N=3, t_stop=1.0)
    >>> per_neuron.shape, round(population.tau, 3)
    ((3,), 0.114)
    """
    if len(trials) < 3:
        raise ValueError(f"trials must hold at least 3 trials, got {len(trials)}")
    counts = np.array(
        [bin_spike_counts(t, bin_size, N=N, t_start=t_start, t_stop=t_stop)[0] for t in trials]
    ).astype(np.float64)
    if counts.shape[2] < 4:
        raise ValueError("the window must hold at least 4 bins")
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    correlations = _lag_correlations(counts)
    per_neuron = np.array([_murray_fit(row, bin_size).tau for row in correlations])
    population = _murray_fit(_lag_correlations(counts.sum(axis=1, keepdims=True))[0], bin_size)
    return per_neuron, population


# ---------------------------------------------------------------------------------------
# per-neuron timescales and their relation to parameters
# ---------------------------------------------------------------------------------------
def neuron_timescales(spikes, bin_size, k_max, *, method="mr", N=None, t_start=None, t_stop=None):
    """Activity timescale of every neuron from one recording of binned spike counts.

    Parameters
    ----------
    bin_size : float or Brian2 quantity
        Count bin.
    k_max : int
        Largest lag in bins.
    method : {'mr', 'acf'}
        'mr': `mr_estimator` with offset (robust to rate drifts); 'acf':
        `corrected_timescale` with a white-noise term at lag 0 (Poisson variance).

    Returns
    -------
    ndarray, shape (N,)
        tau in seconds; NaN for neurons with fewer than 10 spikes or a failed fit.

    Raises
    ------
    ValueError
        ``k_max`` outside ``[4, n_bins - 2]`` for 'mr' (the offset fit needs 4 lags)
        or ``[1, n_bins - 1]`` for 'acf' (with at least 3 bins), whatever the spikes.

    Examples
    --------
    >>> (spikes,) = ou_modulated_poisson(50.0, 20.0, 0.05, 100.0, n_neurons=2, seed=5)
    >>> neuron_timescales(spikes, 0.01, 20, N=2, t_stop=100.0).round(3)
    array([0.022, 0.045])
    """
    if method not in ("mr", "acf"):
        raise ValueError(f"method must be 'mr' or 'acf', got {method!r}")
    counts, _ = bin_spike_counts(spikes, bin_size, N=N, t_start=t_start, t_stop=t_stop)
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    # checked here for every neuron, not only when one has enough spikes to be fitted
    n_bins = counts.shape[1]
    # (both estimators need at least 3 bins; MR with an offset needs 4 lags)
    lowest, highest = (4, n_bins - 2) if method == "mr" else (1, n_bins - 1 if n_bins >= 3 else 0)
    if isinstance(k_max, bool) or not isinstance(k_max, int | np.integer):
        raise ValueError(f"k_max must be an integer number of bins, got {k_max!r}")
    if not lowest <= k_max <= highest:
        raise ValueError(
            f"k_max={k_max} must lie in [{lowest}, {highest}] for method={method!r} and "
            f"{n_bins} bins of {bin_size} s"
        )
    result = np.full(counts.shape[0], np.nan)
    for k, row in enumerate(counts):
        if row.sum() < 10:
            continue
        if method == "mr":
            result[k] = mr_estimator(row, bin_size, k_max, offset=True).tau
        else:
            result[k] = corrected_timescale(row, bin_size, k_max, white_noise=True)
    return result


def wieland_timescale(spikes, bin_size, max_tau, *, N=None, t_start=None, t_stop=None):
    """Autocorrelation time of every neuron after Wieland et al. 2015 (Phys. Rev. E 92:040901).

    ``tau_corr = int_{-tau_max}^{tau_max} [C(s) / C(0)]^2 ds`` with the zero-lag delta
    removed, computed exactly as Elephant 1.2.1's ``spike_train_timescale``: the
    binned autocorrelogram with the mean removed, ``C(k) = #pairs(k) - n^2 / B``, is
    taken at lags ``k = 1 .. K`` (``K = max_tau / bin_size``), normalised by its value at
    lag 1 (Elephant's choice for "C(0) without the delta"), squared and integrated
    with the trapezoidal rule, times 2. Sensitive to ``max_tau`` and ``bin_size``.

    Returns
    -------
    ndarray, shape (N,)
        Seconds; NaN for neurons with fewer than 2 spikes.

    Examples
    --------
    >>> (spikes,) = ou_modulated_poisson(50.0, 20.0, 0.05, 100.0, n_neurons=2, seed=5)
    >>> wieland_timescale(spikes, 0.01, 0.1, N=2, t_stop=100.0).round(3)
    array([0.042, 0.048])
    """
    bin_size = to_seconds(bin_size, "bin_size", positive=True)
    max_tau = to_seconds(max_tau, "max_tau", positive=True)
    K = int(round(max_tau / bin_size))
    if not np.isclose(K * bin_size, max_tau) or K < 2:
        raise ValueError(
            f"max_tau must be a multiple (>= 2) of bin_size, got {max_tau} s and {bin_size} s"
        )
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    n_bins = count_bins(st.duration, bin_size)
    bins = bin_indices(st, bin_size)
    n = np.bincount(st.indices[bins < n_bins], minlength=st.N).astype(np.float64)
    self_pairs = np.repeat(np.arange(st.N), 2).reshape(-1, 2)
    _, ccg, _ = cross_correlograms(st, bin_size, K * bin_size, pairs=self_pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Elephant's normalisation by the zero-lag variance cancels in the ratio
        centred = ccg[:, K + 1 :] - (n * n / n_bins)[:, None]
        ratio = centred / centred[:, :1]
        result = 2.0 * np.trapezoid(ratio**2, dx=bin_size, axis=1)
    result[n < 2] = np.nan
    return result


def psd_knee_timescale(x, dt, *, nperseg=None, max_frequency=None):
    """Timescale from the knee of the power spectrum (Gao et al. 2020, eLife 9:e61277).

    An exponentially correlated process has the Lorentzian spectrum
    ``P(f) = A / (1 + (f / f_knee)^2) + B`` (B: white noise, e.g. Poisson variance),
    so ``tau = 1 / (2 pi f_knee)``. The spectrum is Welch's estimate (scipy.signal.welch,
    Hann windows of ``nperseg`` samples, default ``min(n_steps, 1024)``) averaged over
    trials, fitted in log space up to ``max_frequency`` (default: Nyquist). Binning
    at ``dt`` distorts the spectrum near Nyquist, so choose ``dt`` well below tau.

    Returns
    -------
    float
        tau in the units of ``dt``; NaN if the fit fails or the knee is outside the
        resolved frequencies.

    Examples
    --------
    >>> x = ou_process(0.02, 0.001, 100.0, n_trials=4, seed=6)
    >>> round(psd_knee_timescale(x, 0.001), 4)  # true tau: 0.02 s
    0.0201
    """
    from scipy.optimize import least_squares
    from scipy.signal import welch

    x = _as_trials(x)
    dt = to_seconds(dt, "dt", positive=True)
    nperseg = min(x.shape[1], 1024) if nperseg is None else int(nperseg)
    frequencies, power = welch(x, fs=1.0 / dt, nperseg=nperseg, axis=1)
    power = power.mean(axis=0)
    chosen = frequencies > 0
    if max_frequency is not None:
        chosen &= frequencies <= max_frequency
    frequencies, power = frequencies[chosen], power[chosen]
    if frequencies.size < 4 or np.any(power <= 0):
        return float("nan")
    low, high = frequencies[0], frequencies[-1]

    def residual(params):
        amplitude, log_knee, floor = math.exp(params[0]), params[1], math.exp(params[2])
        model = amplitude / (1.0 + (frequencies / math.exp(log_knee)) ** 2) + floor
        return np.log(model) - np.log(power)

    start = [math.log(power[0]), math.log(math.sqrt(low * high)), math.log(power[-1] / 10)]
    bounds = ([-np.inf, math.log(low / 10), -np.inf], [np.inf, math.log(high * 10), np.inf])
    fit = least_squares(residual, start, bounds=bounds)
    knee = math.exp(fit.x[1])
    if not fit.success or not low <= knee <= high:
        return float("nan")
    return 1.0 / (2.0 * math.pi * knee)


def timescale_relation(parameter_tau, activity_tau):
    """How a neuron's parameter tau relates to its measured activity timescale.

    Returns a dict with ``n`` (neurons with both finite and positive), Spearman's
    rho and its p-value, Pearson r of the logs, and the slope and intercept of
    ``log(activity) = slope log(parameter) + intercept`` (slope 1: proportional).

    Examples
    --------
    >>> relation = timescale_relation([0.01, 0.02, 0.03, 0.04], [0.02, 0.04, 0.06, 0.08])
    >>> relation["n"], relation["spearman_rho"], round(relation["slope"], 6)
    (4, 1.0, 1.0)
    """
    from scipy import stats

    parameter_tau = np.asarray(parameter_tau, dtype=np.float64)
    activity_tau = np.asarray(activity_tau, dtype=np.float64)
    if parameter_tau.shape != activity_tau.shape:
        raise ValueError(
            f"parameter_tau and activity_tau must have the same shape, got "
            f"{parameter_tau.shape} and {activity_tau.shape}"
        )
    ok = (
        np.isfinite(parameter_tau)
        & np.isfinite(activity_tau)
        & (parameter_tau > 0)
        & (activity_tau > 0)
    )
    n = int(ok.sum())
    if n < 3:
        nan = float("nan")
        return {
            "n": n,
            "spearman_rho": nan,
            "spearman_p": nan,
            "log_pearson_r": nan,
            "slope": nan,
            "intercept": nan,
        }
    spearman = stats.spearmanr(parameter_tau[ok], activity_tau[ok])
    log_p, log_a = np.log(parameter_tau[ok]), np.log(activity_tau[ok])
    slope, intercept = np.polyfit(log_p, log_a, 1)
    return {
        "n": n,
        "spearman_rho": float(spearman.statistic),
        "spearman_p": float(spearman.pvalue),
        "log_pearson_r": float(np.corrcoef(log_p, log_a)[0, 1]),
        "slope": float(slope),
        "intercept": float(intercept),
    }
