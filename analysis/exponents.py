"""Lyapunov exponents: result types, the one QR (Benettin) accumulator, derived quantities.

The tangent dynamics of a map :math:`x_{n+1} = f(x_n)` (or of a flow
:math:`\\dot x = F(x)`) moves an orthonormal set of :math:`m` perturbation vectors
:math:`Q` (shape ``(n, m)``) with the Jacobian. Every few steps the vectors are
re-orthonormalised, :math:`Q R = \\operatorname{qr}(D Q)`, and the logarithms of the
diagonal of :math:`R` are accumulated; the :math:`k`-th exponent is

.. math:: \\lambda_k = \\lim_{T\\to\\infty} \\frac{1}{T} \\sum \\ln |R_{kk}|

(Benettin, Galgani, Giorgilli & Strelcyn 1980, Meccanica 15:9 and 15:21; Shimada &
Nagashima 1979, Prog. Theor. Phys. 61:1605). This module is the bottom of every chaos
measure in the package:

* `LyapunovResult` (a spectrum with its convergence record, Kaplan-Yorke dimension and
  KS entropy) and `TwoTrajectoryResult` (the largest exponent from a renormalised pair of
  trajectories, on any engine);
* `QRAccumulator`, the one Benettin accumulator (log-sums, running estimates, segment
  error bars), used by the spectra of maps, flows and rate networks
  (`neurosrnn.analysis.lyapunov`) and by the exact spiking spectrum
  (`neurosrnn.sparseprop.lyapunov`); `segment_exponents` for two-trajectory growth;
* `qr_lyapunov`, the engine for any tangent propagator;
* derived quantities: `kaplan_yorke_dimension`, `ks_entropy`, `entropy_per_spike`,
  `participation_ratio`.

Everything works on plain arrays; nothing here imports a simulator. All names are also
importable from `neurosrnn.analysis.lyapunov` and `neurosrnn.analysis`.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from neurosrnn.progress import progress_bar

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

__all__ = [
    "LyapunovResult",
    "TwoTrajectoryResult",
    "QRAccumulator",
    "segment_exponents",
    "limit_blas_threads",
    "initial_tangent_vectors",
    "check_positive_int",
    "qr_lyapunov",
    "kaplan_yorke_dimension",
    "ks_entropy",
    "entropy_per_spike",
    "participation_ratio",
]


# --------------------------------------------------------------------------- results


@dataclass
class LyapunovResult:
    """Lyapunov exponents with their convergence record.

    Attributes
    ----------
    exponents : ndarray, shape (m,)
        Estimates in the order the QR procedure produces them (largest first up to
        statistical noise), per unit of `time_unit`.
    standard_error : ndarray, shape (m,)
        Standard error of each exponent from `segment_exponents`
        (``std(ddof=1) / sqrt(n_segments)``); NaN with fewer than two segments.
    segment_exponents : ndarray, shape (n_segments, m)
        Exponents measured on contiguous, non-overlapping parts of the run.
    times : ndarray, shape (n_records,)
        Averaging time (after the transient) at each recorded re-orthonormalisation.
    running : ndarray, shape (n_records, m)
        Running estimates at `times`; plot them to judge convergence.
    duration : float
        Total averaging time.
    log_growth : ndarray, shape (m,)
        Accumulated :math:`\\sum \\ln |R_{kk}|` (``exponents * duration``).
    vectors : ndarray, shape (n, m)
        Final orthonormal vectors; column 0 approximates the first (backward)
        Lyapunov vector.
    n_steps : int
        Steps (map iterations, integration steps or spikes) averaged over.
    time_unit : str
        Unit of `times`, `duration` and the exponents' denominator.
    info : dict
        Method-specific extras (e.g. the final state).

    Examples
    --------
    A rotation by 45 degrees scaled by :math:`2\\sqrt 2` stretches every direction
    equally, so both exponents are :math:`\\ln 2\\sqrt 2`:

    >>> step = np.array([[2.0, -2.0], [2.0, 2.0]])
    >>> result = qr_lyapunov(lambda q: step @ q, 2, 100)
    >>> np.round(result.exponents, 6)
    array([1.039721, 1.039721])
    >>> result.kaplan_yorke_dimension, round(result.ks_entropy, 6)
    (2.0, 2.079442)
    """

    exponents: np.ndarray
    standard_error: np.ndarray
    segment_exponents: np.ndarray
    times: np.ndarray
    running: np.ndarray
    duration: float
    log_growth: np.ndarray
    vectors: np.ndarray
    n_steps: int
    time_unit: str = "step"
    info: dict = field(default_factory=dict)

    def _leading_exponents(self):
        """The first four exponents for a repr: ``"m=M: [a, b, c, d, ...]"``."""
        shown = ", ".join(f"{value:.4g}" for value in self.exponents[:4])
        more = ", ..." if self.exponents.size > 4 else ""
        return f"m={self.exponents.size}: [{shown}{more}]"

    def __repr__(self):
        return (
            f"<LyapunovResult {self._leading_exponents()} per {self.time_unit}, "
            f"averaged over {self.duration:.4g} {self.time_unit} ({self.n_steps} steps)>"
        )

    @property
    def kaplan_yorke_dimension(self):
        """Kaplan-Yorke dimension of the measured exponents (see `kaplan_yorke_dimension`)."""
        return kaplan_yorke_dimension(self.exponents)

    @property
    def ks_entropy(self):
        """Sum of the positive exponents (see `ks_entropy`)."""
        return ks_entropy(self.exponents)


@dataclass
class TwoTrajectoryResult:
    """Largest Lyapunov exponent from a reference and a renormalised perturbed trajectory.

    The one result of the two-trajectory estimates of every engine: rate networks
    (`two_trajectory_exponent` here), exact spiking networks
    (`neurosrnn.sparseprop.two_trajectory_exponent`) and Brian2 networks
    (`neurosrnn.perturbation.two_trajectory_exponent`). Build it from the per-interval
    log growth with `from_log_growth`.

    Attributes
    ----------
    exponent : float
        :math:`\\lambda_{max} = \\sum_k \\ln(d_k/\\epsilon) / (n \\Delta)`, per `time_unit`
        (a finite-size exponent when `epsilon` is not small).
    standard_error : float
        From contiguous segments of the run (`segment_exponents`); NaN with one segment.
    segment_exponents : ndarray
        Per-segment estimates.
    log_growth : ndarray
        :math:`\\ln(d_k/\\epsilon)` of every renormalisation interval averaged over.
    interval : float
        Renormalisation interval :math:`\\Delta`.
    duration : float
        Averaging time :math:`n \\Delta`.
    epsilon : float
        Size of the perturbation (units of the perturbed variable).
    variable : str or None
        Perturbed state variable, where the engine names one (Brian2 networks).
    time_unit : str
        Unit of `interval`, `duration` and the exponent's denominator.
    info : dict
        Engine-specific extras.

    Examples
    --------
    >>> result = TwoTrajectoryResult.from_log_growth(
    ...     np.log([2.0, 2.0, 2.0, 2.0]), 0.5, epsilon=1e-8, n_segments=2)
    >>> round(result.exponent, 6), result.duration, result.segment_exponents.size
    (1.386294, 2.0, 2)
    """

    exponent: float
    standard_error: float
    segment_exponents: np.ndarray
    log_growth: np.ndarray
    interval: float
    duration: float
    epsilon: float
    variable: str | None = None
    time_unit: str = "s"
    info: dict = field(default_factory=dict)

    @classmethod
    def from_log_growth(
        cls, log_growth, interval, *, epsilon, n_segments=10, variable=None, time_unit="s"
    ):
        """The result of the growth factors :math:`\\ln(d_k/\\epsilon)` of equal intervals.

        Parameters
        ----------
        log_growth : array
            :math:`\\ln(d_k/\\epsilon)` of consecutive renormalisation intervals.
        interval : float
            Interval length :math:`\\Delta`.
        epsilon : float
            Perturbation size.
        n_segments : int
            Contiguous segments for the error bar (see `segment_exponents`).
        variable : str, optional
            Perturbed state variable.
        time_unit : str
            Unit of `interval`.

        Returns
        -------
        TwoTrajectoryResult
        """
        log_growth = np.asarray(log_growth, dtype=float)
        segments, error = segment_exponents(log_growth, interval, n_segments)
        duration = log_growth.size * interval
        return cls(
            exponent=float(log_growth.sum() / duration),
            standard_error=error,
            segment_exponents=segments,
            log_growth=log_growth,
            interval=interval,
            duration=duration,
            epsilon=float(epsilon),
            variable=variable,
            time_unit=time_unit,
        )

    @property
    def largest_exponent(self):
        """Deprecated alias of `exponent`."""
        warnings.warn(
            "TwoTrajectoryResult.largest_exponent is deprecated; use .exponent",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.exponent

    def __repr__(self):
        variable = f"{self.variable!r}, " if self.variable is not None else ""
        return (
            f"<TwoTrajectoryResult lambda_max = {self.exponent:.4g} +- "
            f"{self.standard_error:.2g} per {self.time_unit} ({variable}epsilon={self.epsilon:g}, "
            f"{self.log_growth.size} intervals of {self.interval:g} {self.time_unit})>"
        )


def segment_exponents(log_growth, interval, n_segments):
    """Growth rates of contiguous segments of a run and the standard error of their mean.

    The two-trajectory estimates measure :math:`\\ln(d_k/\\epsilon)` over consecutive
    intervals of length :math:`\\Delta`. The run is cut into `n_segments` contiguous
    parts; part :math:`s` with :math:`n_s` intervals gives
    :math:`\\lambda_s = \\sum_{k \\in s} \\ln(d_k/\\epsilon) / (n_s \\Delta)`, and the error
    bar is :math:`\\operatorname{std}(\\lambda_s) / \\sqrt{n_{seg}}` (``ddof=1``), which is
    honest when the segments are longer than the correlation time of the growth
    factors (Benettin et al. 1980).

    Parameters
    ----------
    log_growth : ndarray
        :math:`\\ln(d/\\epsilon)` of consecutive intervals of equal length.
    interval : float
        Interval length.
    n_segments : int
        Number of contiguous segments (clipped to ``[1, log_growth.size]``).

    Returns
    -------
    segments : ndarray
        Growth rate of every segment (per unit of `interval`).
    standard_error : float
        ``std(segments, ddof=1) / sqrt(n)``; NaN with a single segment.

    Examples
    --------
    >>> segments, error = segment_exponents(np.array([1.0, 1.0, 3.0, 3.0]), 0.5, 2)
    >>> segments, float(error)
    (array([2., 6.]), 2.0)
    """
    log_growth = np.asarray(log_growth, dtype=float)
    n_segments = max(1, min(int(n_segments), log_growth.size))
    parts = np.array_split(log_growth, n_segments)
    segments = np.array([part.sum() / (part.size * interval) for part in parts])
    error = float(segments.std(ddof=1) / math.sqrt(n_segments)) if n_segments > 1 else math.nan
    return segments, error


# --------------------------------------------------------------------------- accumulator


class QRAccumulator:
    """The Benettin accumulator: log-sums of QR diagonals, running estimates, error bars.

    Algorithm (Benettin, Galgani, Giorgilli & Strelcyn 1980, Meccanica 15:9 and 15:21;
    Shimada & Nagashima 1979, Prog. Theor. Phys. 61:1605): tangent vectors :math:`Q`
    are moved by the Jacobians of the dynamics; every few steps they are
    re-orthonormalised, :math:`Q R = \\operatorname{qr}(Q)` (`orthonormalize`), and
    the caller passes :math:`\\ln|R_{kk}|` with the time elapsed since the last QR step
    to `add`. The accumulator keeps

    * the totals :math:`S_k = \\sum \\ln|R_{kk}|` and the averaging time :math:`T`
      (exponents :math:`\\lambda_k = S_k / T`);
    * the sums of `n_segments` contiguous parts of the run (by QR-step index), whose
      exponents give the standard error ``std(ddof=1) / sqrt(n_segments)``;
    * running estimates :math:`S_k(t)/t` at (at most) `max_records` QR steps.

    Every Lyapunov spectrum of the package goes through it: `qr_lyapunov` (maps,
    flows, rate networks) and the exact spiking spectrum
    `neurosrnn.sparseprop.lyapunov_spectrum`, whose numba event loop moves the vectors
    between QR steps.

    Parameters
    ----------
    m : int
        Number of exponents.
    n_qr : int
        Number of QR steps that will be added (sets the segments and the records).
    n_segments : int
        Contiguous segments for the error bars (clipped to ``[1, n_qr]``).
    max_records : int
        At most this many running estimates are kept.

    Examples
    --------
    A linear map with growth factors 2 and 1/2 per step:

    >>> accumulator = QRAccumulator(m=2, n_qr=4, n_segments=2, max_records=10)
    >>> q = np.eye(2)
    >>> for _ in range(4):
    ...     q, log_r = QRAccumulator.orthonormalize(np.diag([2.0, 0.5]) @ q)
    ...     accumulator.add(log_r, elapsed=1.0)
    >>> result = accumulator.result(q, n_steps=4)
    >>> np.round(result.exponents, 6), result.times
    (array([ 0.693147, -0.693147]), array([1., 2., 3., 4.]))
    """

    def __init__(self, m, n_qr, n_segments, max_records):
        self.m = m
        self.n_qr = max(int(n_qr), 1)
        self.n_segments = max(1, min(int(n_segments), self.n_qr))
        self.total = np.zeros(m)
        self.time = 0.0
        self.count = 0
        self.segment_log = np.zeros((self.n_segments, m))
        self.segment_time = np.zeros(self.n_segments)
        self.record_every = max(1, math.ceil(self.n_qr / max(int(max_records), 1)))
        self.times = []
        self.running = []

    @staticmethod
    def orthonormalize(q):
        """One QR step: ``(Q', ln|diag R|)`` with :math:`Q' R = Q` (zeros give ``-inf``)."""
        q, r = np.linalg.qr(q)
        with np.errstate(divide="ignore"):
            return q, np.log(np.abs(np.diagonal(r)))

    def add(self, log_r, elapsed, *, time=None):
        """Add one QR step's :math:`\\ln|R_{kk}|` after `elapsed` time.

        Parameters
        ----------
        log_r : ndarray, shape (m,)
            Logarithms of the absolute diagonal of R.
        elapsed : float
            Time since the previous QR step.
        time : float, optional
            Total averaging time now, when the caller reads it from its own clock
            (default: the running sum of `elapsed`).
        """
        segment = min(self.count * self.n_segments // self.n_qr, self.n_segments - 1)
        self.total += log_r
        self.time = self.time + elapsed if time is None else time
        self.segment_log[segment] += log_r
        self.segment_time[segment] += elapsed
        self.count += 1
        if self.count % self.record_every == 0 or self.count == self.n_qr:
            self.times.append(self.time)
            self.running.append(self.total / self.time if self.time > 0 else self.total * np.nan)

    def result(self, vectors, n_steps, time_unit="step", info=None, *, cls=None, **extra):
        """The accumulated exponents as a `LyapunovResult` (or subclass `cls`).

        Parameters
        ----------
        vectors : ndarray
            Final orthonormal vectors.
        n_steps : int
            Steps averaged over.
        time_unit : str
            Unit of the averaging time.
        info : dict, optional
            Method-specific extras.
        cls : type, optional
            A subclass of `LyapunovResult` to build (default `LyapunovResult`);
            `extra` holds its additional fields.

        Raises
        ------
        ValueError
            No averaging time was accumulated.
        """
        if self.time <= 0:
            raise ValueError("no averaging time accumulated: increase n_steps")
        exponents = self.total / self.time
        used = self.segment_time > 0
        segments = self.segment_log[used] / self.segment_time[used, None]
        if segments.shape[0] >= 2:
            error = segments.std(axis=0, ddof=1) / math.sqrt(segments.shape[0])
        else:
            error = np.full(self.m, np.nan)
        return (LyapunovResult if cls is None else cls)(
            exponents=exponents,
            standard_error=error,
            segment_exponents=segments,
            times=np.asarray(self.times),
            running=np.asarray(self.running).reshape(-1, self.m),
            duration=self.time,
            log_growth=self.total.copy(),
            vectors=vectors,
            n_steps=n_steps,
            time_unit=time_unit,
            info={} if info is None else info,
            **extra,
        )


def limit_blas_threads(n_threads):
    """Context manager limiting BLAS threads (None: leave the setting alone).

    Thousands of small QR and matrix products are slower, often much slower, with
    several BLAS threads on a busy machine. Needs `threadpoolctl` (else a no-op).

    Examples
    --------
    >>> with limit_blas_threads(1):
    ...     _ = np.linalg.qr(np.eye(3))
    """
    if n_threads is None or threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n_threads), user_api="blas")


def check_positive_int(name, value, allow_zero=False):
    """`value` as an int > 0 (>= 0 with `allow_zero`); ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} integer, got {value!r}")
    return int(value)


def initial_tangent_vectors(dimension, m, seed, vectors=None):
    """Orthonormal ``(dimension, m)`` start vectors: random from `seed`, or `vectors`.

    The QR factor of a standard normal matrix from ``numpy.random.default_rng(seed)``
    (or of `vectors`, checked for shape).

    Examples
    --------
    >>> q = initial_tangent_vectors(4, 2, seed=0)
    >>> q.shape, np.allclose(q.T @ q, np.eye(2))
    ((4, 2), True)
    """
    if vectors is not None:
        q = np.array(vectors, dtype=float)
        if q.shape != (dimension, m):
            raise ValueError(
                f"initial_vectors must have shape (dimension, m) = ({dimension}, {m}), "
                f"got {q.shape}"
            )
    else:
        q = np.random.default_rng(seed).standard_normal((dimension, m))
    q, _ = np.linalg.qr(q)
    return q


# --------------------------------------------------------------------------- engine


def qr_lyapunov(
    advance,
    dimension,
    n_steps,
    *,
    m=None,
    n_transient=0,
    reorthonormalize_every=1,
    step_time=1.0,
    n_segments=10,
    seed=0,
    initial_vectors=None,
    max_records=1000,
    time_unit="step",
    progress=None,
    blas_threads=1,
):
    """Lyapunov exponents of any tangent dynamics by repeated QR (Benettin et al. 1980).

    Parameters
    ----------
    advance : callable
        ``advance(Q) -> Q_new`` or ``-> (Q_new, elapsed)``: advance the system by one
        step and apply that step's Jacobian to the ``(dimension, m)`` matrix ``Q``.
        The state lives in the caller's closure. Return ``elapsed`` when steps have
        different durations (e.g. one network spike); otherwise `step_time` is used.
    dimension : int
        Dimension of the tangent space.
    n_steps : int
        Number of steps averaged over (after the transient).
    m : int, optional
        Number of exponents (default: `dimension`).
    n_transient : int
        Steps run first and discarded, so that the vectors align with the
        Lyapunov directions.
    reorthonormalize_every : int
        Steps between QR decompositions. Larger is cheaper but must stay below the
        ratio of the growth rates, or the vectors collapse onto the first one.
    step_time : float
        Duration of one step (e.g. ``dt`` of a flow), when `advance` does not return it.
    n_segments : int
        Number of contiguous segments for the error bars.
    seed : int
        Seed for the random initial vectors.
    initial_vectors : array, shape (dimension, m), optional
        Initial vectors instead of random ones (orthonormalised first).
    max_records : int
        At most this many running estimates are kept.
    time_unit : str
        Name of the time unit, for display.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    blas_threads : int or None
        BLAS threads during the run (default 1: thousands of small QR and matrix
        products are slower, often much slower, with several threads on a busy
        machine); None leaves the setting alone. Needs `threadpoolctl`.

    Returns
    -------
    LyapunovResult

    Raises
    ------
    ValueError
        Non-positive sizes or ``m > dimension``.

    Notes
    -----
    With :math:`Q_k R_k = D_k Q_{k-1}` the product of Jacobians factorises as
    :math:`D_n \\cdots D_1 Q_0 = Q_n R_n \\cdots R_1`, so
    :math:`\\sum_k \\ln|(R_k)_{ii}|` is the growth of the :math:`i`-dimensional volume
    divided by that of the :math:`(i-1)`-dimensional one (Shimada & Nagashima 1979,
    Prog. Theor. Phys. 61:1605). With :math:`m` equal to the dimension the sum over
    all exponents is :math:`\\ln|\\det|` of the product, exact at any finite time.

    Examples
    --------
    Products of random rotations scaled by 3: both exponents are :math:`\\ln 3`.

    >>> rng = np.random.default_rng(0)
    >>> def advance(q):
    ...     angle = rng.uniform(0, 2 * np.pi)
    ...     c, s = np.cos(angle), np.sin(angle)
    ...     return 3.0 * np.array([[c, -s], [s, c]]) @ q
    >>> result = qr_lyapunov(advance, 2, 500, n_segments=5)
    >>> np.allclose(result.exponents, np.log(3.0)), result.segment_exponents.shape
    (True, (5, 2))
    """
    dimension, n_steps, m, n_transient, every, n_segments = _check_qr_counts(
        dimension, n_steps, m, n_transient, reorthonormalize_every, n_segments
    )
    if not np.isfinite(step_time) or step_time <= 0:
        raise ValueError(f"step_time must be a finite number > 0, got {step_time!r}")
    q = initial_tangent_vectors(dimension, m, seed, initial_vectors)
    accumulator = QRAccumulator(m, math.ceil(n_steps / every), n_segments, max_records)

    def one_step(q):
        out = advance(q)
        return out if isinstance(out, tuple) else (out, step_time)

    bar = progress_bar(
        total=n_transient + n_steps, label="lyapunov", progress=progress, unit="steps"
    )
    with limit_blas_threads(blas_threads), bar:
        for step in range(n_transient):
            q, _ = one_step(q)
            if (step + 1) % every == 0 or step == n_transient - 1:
                q, _ = np.linalg.qr(q)
            bar.update(1)
        elapsed = 0.0
        for step in range(n_steps):
            q, step_elapsed = one_step(q)
            elapsed += float(step_elapsed)
            if (step + 1) % every == 0 or step == n_steps - 1:
                q, log_r = QRAccumulator.orthonormalize(q)
                accumulator.add(log_r, elapsed)
                elapsed = 0.0
            bar.update(1)
    return accumulator.result(q, n_steps, time_unit, {})


def _check_qr_counts(dimension, n_steps, m, n_transient, every, n_segments):
    dimension = check_positive_int("dimension", dimension)
    n_steps = check_positive_int("n_steps", n_steps)
    m = dimension if m is None else check_positive_int("m", m)
    if m > dimension:
        raise ValueError(f"m must be <= dimension ({dimension}), got {m}")
    n_transient = check_positive_int("n_transient", n_transient, allow_zero=True)
    every = check_positive_int("reorthonormalize_every", every)
    n_segments = check_positive_int("n_segments", n_segments)
    return dimension, n_steps, m, n_transient, every, n_segments


# --------------------------------------------------------------------------- derived


def _check_exponents(exponents):
    exponents = np.asarray(exponents, dtype=float)
    if exponents.ndim != 1 or exponents.size == 0 or not np.all(np.isfinite(exponents)):
        raise ValueError("exponents must be a non-empty 1-D array of finite numbers")
    return exponents


def kaplan_yorke_dimension(exponents):
    """Kaplan-Yorke (Lyapunov) dimension of a spectrum.

    .. math:: D_{KY} = k + \\frac{\\sum_{i \\le k} \\lambda_i}{|\\lambda_{k+1}|},

    with the exponents sorted in decreasing order and :math:`k` the largest index
    with :math:`\\sum_{i\\le k} \\lambda_i \\ge 0` (Kaplan & Yorke 1979, Lecture
    Notes in Mathematics 730:204).

    Parameters
    ----------
    exponents : array
        Lyapunov exponents (any order; sorted here).

    Returns
    -------
    float
        0 if :math:`\\lambda_1 < 0`; the number of exponents if the sum of all is
        non-negative (the measured part of the spectrum does not close the volume).

    Examples
    --------
    >>> round(float(kaplan_yorke_dimension([0.5, 0.1, -0.2, -1.0])), 6)  # 3 + 0.4 / 1.0
    3.4
    """
    values = np.sort(_check_exponents(exponents))[::-1]
    cumulative = np.cumsum(values)
    if cumulative[0] < 0:
        return 0.0
    non_negative = np.flatnonzero(cumulative >= 0)
    k = int(non_negative[-1]) + 1
    if k == values.size:
        return float(k)
    return k + cumulative[k - 1] / abs(values[k])


def ks_entropy(exponents):
    """Kolmogorov-Sinai entropy rate estimated as the sum of positive exponents.

    By Pesin's identity (Pesin 1977, Russ. Math. Surv. 32:55) this equals the
    entropy rate for SRB measures; in general it is an upper bound (Ruelle 1978).
    Units: nats per unit of the exponents' time.

    Examples
    --------
    >>> round(ks_entropy([0.5, 0.1, -0.2, -1.0]), 6)
    0.6
    """
    values = _check_exponents(exponents)
    return float(values[values > 0].sum())


def entropy_per_spike(exponents, total_rate):
    """Entropy production per network spike, in bits.

    .. math:: h = \\frac{\\sum_i \\lambda_i^+}{\\ln 2 \\; N \\bar\\nu}

    (Monteforte & Wolf 2010, Phys. Rev. Lett. 105:268104).

    Parameters
    ----------
    exponents : array
        Exponents in 1/s.
    total_rate : float
        Network spike rate :math:`N \\bar\\nu` in spikes/s (> 0).

    Returns
    -------
    float
        Bits per spike.

    Examples
    --------
    >>> round(entropy_per_spike([2.0 * np.log(2.0), -5.0], total_rate=4.0), 6)
    0.5
    """
    if not np.isfinite(total_rate) or total_rate <= 0:
        raise ValueError(f"total_rate must be a finite number > 0 (spikes/s), got {total_rate!r}")
    return ks_entropy(exponents) / (math.log(2.0) * total_rate)


def participation_ratio(vector):
    """Participation ratio :math:`(\\sum v_i^2)^2 / \\sum v_i^4` of a vector.

    It counts how many components carry the vector: 1 for a unit vector along one
    axis, :math:`N` for a vector spread evenly over :math:`N` components. Divide by
    :math:`N` for the fraction of neurons taking part in the first Lyapunov vector
    (Monteforte & Wolf 2010).

    Examples
    --------
    >>> participation_ratio(np.ones(10)), participation_ratio(np.eye(10)[3])
    (10.0, 1.0)
    """
    vector = np.asarray(vector, dtype=float)
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        raise ValueError("vector must be a non-empty 1-D array of finite numbers")
    squares = vector**2
    denominator = float(np.sum(squares**2))
    if denominator == 0:
        raise ValueError("vector must not be zero")
    return float(np.sum(squares) ** 2 / denominator)
