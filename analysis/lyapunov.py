"""Lyapunov spectra by repeated QR decomposition, and the quantities derived from them.

The tangent dynamics of a map :math:`x_{n+1} = f(x_n)` (or of a flow
:math:`\\dot x = F(x)`) moves an orthonormal set of :math:`m` perturbation vectors
:math:`Q` (shape ``(n, m)``) with the Jacobian. Every few steps the vectors are
re-orthonormalised, :math:`Q R = \\operatorname{qr}(D Q)`, and the logarithms of the
diagonal of :math:`R` are accumulated; the :math:`k`-th exponent is

.. math:: \\lambda_k = \\lim_{T\\to\\infty} \\frac{1}{T} \\sum \\ln |R_{kk}|

(Benettin, Galgani, Giorgilli & Strelcyn 1980, Meccanica 15:9 and 15:21; Shimada &
Nagashima 1979, Prog. Theor. Phys. 61:1605). This module holds

* `qr_lyapunov`, the engine: any tangent propagator, convergence records (running
  estimates) and error bars from contiguous segments of the run;
* `map_spectrum` and `flow_spectrum`: maps and ODE flows given a Jacobian or a
  Jacobian-vector product (flows with a Jacobian use a fourth-order Magnus
  integrator for the tangent dynamics, so the sum of the exponents equals the
  time-averaged divergence to rounding, Liouville's formula);
* rate networks :math:`\\dot h = -h + J \\tanh h` (Engelken, Wolf & Abbott 2023,
  Phys. Rev. Research 5:043044): `rate_network_spectrum`,
  `rate_network_largest_exponent` (two trajectories);
* derived quantities: `kaplan_yorke_dimension`, `ks_entropy`, `entropy_per_spike`,
  `participation_ratio`, and the exact spectrum of products of Gaussian matrices
  `gaussian_product_exponents` (Newman 1986, Commun. Math. Phys. 103:121);
* plots: `plot_spectrum`, `plot_convergence`, `plot_divergence`.

Everything works on plain arrays; nothing here imports a simulator.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import expm
from scipy.special import digamma

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

__all__ = [
    "LyapunovResult",
    "qr_lyapunov",
    "map_spectrum",
    "flow_spectrum",
    "random_coupling_matrix",
    "rate_network_spectrum",
    "rate_network_largest_exponent",
    "gaussian_product_exponents",
    "kaplan_yorke_dimension",
    "ks_entropy",
    "entropy_per_spike",
    "participation_ratio",
    "plot_spectrum",
    "plot_convergence",
    "plot_divergence",
]


# --------------------------------------------------------------------------- result


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

    def __repr__(self):
        shown = ", ".join(f"{value:.4g}" for value in self.exponents[:4])
        more = ", ..." if self.exponents.size > 4 else ""
        return (
            f"<LyapunovResult m={self.exponents.size}: [{shown}{more}] per {self.time_unit}, "
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


class _QRAccumulator:
    """Sums ``ln|R_kk|`` after the transient; keeps segment sums and a thinned record."""

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

    def add(self, log_r, elapsed):
        segment = min(self.count * self.n_segments // self.n_qr, self.n_segments - 1)
        self.total += log_r
        self.time += elapsed
        self.segment_log[segment] += log_r
        self.segment_time[segment] += elapsed
        self.count += 1
        if self.count % self.record_every == 0 or self.count == self.n_qr:
            self.times.append(self.time)
            self.running.append(self.total / self.time if self.time > 0 else self.total * np.nan)

    def result(self, vectors, n_steps, time_unit, info):
        if self.time <= 0:
            raise ValueError("no averaging time accumulated: increase n_steps")
        exponents = self.total / self.time
        used = self.segment_time > 0
        segments = self.segment_log[used] / self.segment_time[used, None]
        if segments.shape[0] >= 2:
            error = segments.std(axis=0, ddof=1) / math.sqrt(segments.shape[0])
        else:
            error = np.full(self.m, np.nan)
        return LyapunovResult(
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
            info=info,
        )


def _log_abs_diag(r):
    diagonal = np.abs(np.diagonal(r))
    with np.errstate(divide="ignore"):
        return np.log(diagonal)


def _blas_threads(n_threads):
    """Limit BLAS threads: many small QR/matmul calls slow down badly when oversubscribed."""
    if n_threads is None or threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n_threads), user_api="blas")


class _Progress:
    """A minimal progress bar on stderr."""

    def __init__(self, total, enabled, label="lyapunov"):
        self.total = max(int(total), 1)
        self.enabled = bool(enabled)
        self.label = label
        self.shown = -1

    def update(self, done):
        if not self.enabled:
            return
        percent = int(100 * done / self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 5)
            sys.stderr.write(f"\r{self.label} [{bar:<20}] {percent:3d}%")
            if done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _check_positive_int(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} integer, got {value!r}")
    return int(value)


def _initial_vectors(dimension, m, seed, initial_vectors):
    if initial_vectors is not None:
        q = np.array(initial_vectors, dtype=float)
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
    progress=False,
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
    progress : bool
        Show a progress bar on stderr.
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
    """
    dimension = _check_positive_int("dimension", dimension)
    n_steps = _check_positive_int("n_steps", n_steps)
    m = dimension if m is None else _check_positive_int("m", m)
    if m > dimension:
        raise ValueError(f"m must be <= dimension ({dimension}), got {m}")
    n_transient = _check_positive_int("n_transient", n_transient, allow_zero=True)
    every = _check_positive_int("reorthonormalize_every", reorthonormalize_every)
    n_segments = _check_positive_int("n_segments", n_segments)
    if not np.isfinite(step_time) or step_time <= 0:
        raise ValueError(f"step_time must be a finite number > 0, got {step_time!r}")
    q = _initial_vectors(dimension, m, seed, initial_vectors)
    accumulator = _QRAccumulator(m, math.ceil(n_steps / every), n_segments, max_records)
    bar = _Progress(n_transient + n_steps, progress)

    def one_step(q):
        out = advance(q)
        return out if isinstance(out, tuple) else (out, step_time)

    with _blas_threads(blas_threads):
        for step in range(n_transient):
            q, _ = one_step(q)
            if (step + 1) % every == 0 or step == n_transient - 1:
                q, _ = np.linalg.qr(q)
            bar.update(step + 1)
        elapsed = 0.0
        for step in range(n_steps):
            q, step_elapsed = one_step(q)
            elapsed += float(step_elapsed)
            if (step + 1) % every == 0 or step == n_steps - 1:
                q, r = np.linalg.qr(q)
                accumulator.add(_log_abs_diag(r), elapsed)
                elapsed = 0.0
            bar.update(n_transient + step + 1)
    return accumulator.result(q, n_steps, time_unit, {})


# --------------------------------------------------------------------------- maps


def _tangent_operator(jacobian, jvp, name):
    if (jacobian is None) == (jvp is None):
        raise ValueError(f"{name}: give exactly one of jacobian= or jvp=")


def map_spectrum(
    step,
    x0,
    n_steps,
    *,
    jacobian=None,
    jvp=None,
    m=None,
    n_burn_in=0,
    n_transient=0,
    reorthonormalize_every=1,
    n_segments=10,
    seed=0,
    progress=False,
):
    """Lyapunov exponents (per iteration) of a map :math:`x_{n+1} = f(x_n)`.

    Parameters
    ----------
    step : callable
        ``step(x) -> x_next``.
    x0 : array
        Initial state.
    n_steps : int
        Iterations averaged over.
    jacobian : callable, optional
        ``jacobian(x) -> (n, n)`` array :math:`\\partial f/\\partial x` at ``x``.
    jvp : callable, optional
        ``jvp(x, V) -> J(x) @ V`` for an ``(n, m)`` matrix ``V`` (give this instead of
        `jacobian` for large systems).
    m : int, optional
        Number of exponents (default: all).
    n_burn_in : int
        Iterations of the state alone before the tangent dynamics starts.
    n_transient, reorthonormalize_every, n_segments, seed, progress
        As in `qr_lyapunov`.

    Returns
    -------
    LyapunovResult
        Exponents per iteration; ``info["state"]`` is the final state.

    Examples
    --------
    Hénon map, :math:`(x, y) \\mapsto (1 - a x^2 + y, b x)`:

    >>> a, b = 1.4, 0.3
    >>> result = map_spectrum(
    ...     lambda s: np.array([1 - a * s[0] ** 2 + s[1], b * s[0]]), [0.1, 0.1], 20000,
    ...     jacobian=lambda s: np.array([[-2 * a * s[0], 1.0], [b, 0.0]]), n_burn_in=100)
    >>> np.round(result.exponents, 2)  # doctest: +SKIP
    array([ 0.42, -1.62])
    """
    _tangent_operator(jacobian, jvp, "map_spectrum")
    x = np.array(x0, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x0 must be a finite 1-D array")
    for _ in range(_check_positive_int("n_burn_in", n_burn_in, allow_zero=True)):
        x = np.asarray(step(x), dtype=float)
    state = {"x": x}

    def advance(q):
        x_now = state["x"]
        q = jacobian(x_now) @ q if jacobian is not None else np.asarray(jvp(x_now, q))
        state["x"] = np.asarray(step(x_now), dtype=float)
        return q

    result = qr_lyapunov(
        advance,
        x.size,
        n_steps,
        m=m,
        n_transient=n_transient,
        reorthonormalize_every=reorthonormalize_every,
        n_segments=n_segments,
        seed=seed,
        time_unit="iteration",
        progress=progress,
    )
    result.info["state"] = state["x"]
    return result


# --------------------------------------------------------------------------- flows

_GAUSS_OFFSET = math.sqrt(3.0) / 6.0


def _rk4(rhs, x, dt, k1):
    k2 = rhs(x + 0.5 * dt * k1)
    k3 = rhs(x + 0.5 * dt * k2)
    k4 = rhs(x + dt * k3)
    return x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _hermite(x0, x1, f0, f1, dt, s):
    """Cubic Hermite interpolation at fraction `s` of a step (fourth-order accurate)."""
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * x0 + h10 * dt * f0 + h01 * x1 + h11 * dt * f1


def flow_spectrum(
    rhs,
    x0,
    duration,
    dt,
    *,
    jacobian=None,
    jvp=None,
    m=None,
    burn_in=0.0,
    transient=0.0,
    reorthonormalize_every=1,
    n_segments=10,
    seed=0,
    progress=False,
):
    """Lyapunov exponents (per unit time) of an ODE flow :math:`\\dot x = F(x)`.

    The state is integrated with the classical fourth-order Runge-Kutta method.
    The tangent dynamics :math:`\\dot Q = J(x(t)) Q` is integrated

    * with `jacobian`: by the fourth-order Magnus method, one matrix exponential
      per step, :math:`Q \\leftarrow \\exp(\\Omega) Q` with
      :math:`\\Omega = \\tfrac{h}{2}(A_1 + A_2) + \\tfrac{\\sqrt 3}{12} h^2 [A_2, A_1]`,
      :math:`A_{1,2}` the Jacobian at the Gauss points (state from cubic Hermite
      interpolation). Since :math:`\\det e^{\\Omega} = e^{\\operatorname{tr}\\Omega}`,
      the sum of the exponents equals the Gauss-quadrature average of
      :math:`\\operatorname{tr} J` to rounding (Liouville's formula);
    * with `jvp`: by the same Runge-Kutta stages as the state (for large systems).

    Parameters
    ----------
    rhs : callable
        ``rhs(x) -> dx/dt``.
    x0 : array
        Initial state.
    duration : float
        Averaging time.
    dt : float
        Integration step.
    jacobian : callable, optional
        ``jacobian(x) -> (n, n)`` array.
    jvp : callable, optional
        ``jvp(x, V) -> J(x) @ V`` for an ``(n, m)`` matrix ``V``.
    m : int, optional
        Number of exponents (default: all).
    burn_in : float
        Time integrated before the tangent dynamics starts.
    transient : float
        Time of tangent dynamics discarded from the average.
    reorthonormalize_every, n_segments, seed, progress
        As in `qr_lyapunov` (`reorthonormalize_every` counts steps).

    Returns
    -------
    LyapunovResult
        Exponents per unit time; ``info["state"]`` is the final state.

    References
    ----------
    Magnus W (1954), Commun. Pure Appl. Math. 7:649; Iserles A & Nørsett SP (1999),
    Phil. Trans. R. Soc. A 357:983 (fourth-order Magnus integrator).
    """
    _tangent_operator(jacobian, jvp, "flow_spectrum")
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    for name, value in (("duration", duration), ("burn_in", burn_in), ("transient", transient)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt={dt}, got {duration!r}")
    x = np.array(x0, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x0 must be a finite 1-D array")
    for _ in range(int(round(burn_in / dt))):
        x = _rk4(rhs, x, dt, rhs(x))
    state = {"x": x, "f": np.asarray(rhs(x), dtype=float)}
    commutator_factor = math.sqrt(3.0) / 12.0 * dt * dt

    def advance_magnus(q):
        x_now, f_now = state["x"], state["f"]
        x_next = _rk4(rhs, x_now, dt, f_now)
        f_next = np.asarray(rhs(x_next), dtype=float)
        a1 = jacobian(_hermite(x_now, x_next, f_now, f_next, dt, 0.5 - _GAUSS_OFFSET))
        a2 = jacobian(_hermite(x_now, x_next, f_now, f_next, dt, 0.5 + _GAUSS_OFFSET))
        omega = 0.5 * dt * (a1 + a2) + commutator_factor * (a2 @ a1 - a1 @ a2)
        state["x"], state["f"] = x_next, f_next
        return expm(omega) @ q

    def advance_rk4(q):
        x_now, f_now = state["x"], state["f"]
        k1 = f_now
        l1 = jvp(x_now, q)
        x2 = x_now + 0.5 * dt * k1
        k2 = rhs(x2)
        l2 = jvp(x2, q + 0.5 * dt * l1)
        x3 = x_now + 0.5 * dt * k2
        k3 = rhs(x3)
        l3 = jvp(x3, q + 0.5 * dt * l2)
        x4 = x_now + dt * k3
        k4 = rhs(x4)
        l4 = jvp(x4, q + dt * l3)
        x_next = x_now + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        state["x"], state["f"] = x_next, np.asarray(rhs(x_next), dtype=float)
        return q + dt / 6.0 * (l1 + 2 * l2 + 2 * l3 + l4)

    result = qr_lyapunov(
        advance_magnus if jacobian is not None else advance_rk4,
        x.size,
        n_steps,
        m=m,
        n_transient=int(round(transient / dt)),
        reorthonormalize_every=reorthonormalize_every,
        step_time=dt,
        n_segments=n_segments,
        seed=seed,
        time_unit="time",
        progress=progress,
    )
    result.info["state"] = state["x"]
    return result


# --------------------------------------------------------------------------- rate networks


def random_coupling_matrix(N, g, *, seed, autapses=False):
    """Gaussian coupling :math:`J_{ij} \\sim \\mathcal N(0, g^2/N)` of a rate network.

    Parameters
    ----------
    N : int
        Number of units.
    g : float
        Gain (>= 0); the fixed point :math:`h = 0` loses stability at :math:`g = 1`
        (Sompolinsky, Crisanti & Sommers 1988, Phys. Rev. Lett. 61:259).
    seed : int
        Random seed.
    autapses : bool
        Keep the diagonal (default: set to zero, as in Engelken et al. 2023).

    Returns
    -------
    ndarray, shape (N, N)
    """
    N = _check_positive_int("N", N)
    if not np.isfinite(g) or g < 0:
        raise ValueError(f"g must be a finite number >= 0, got {g!r}")
    coupling = np.random.default_rng(seed).standard_normal((N, N)) * (g / math.sqrt(N))
    if not autapses:
        np.fill_diagonal(coupling, 0.0)
    return coupling


def _check_coupling(J):
    J = np.asarray(J, dtype=float)
    if J.ndim != 2 or J.shape[0] != J.shape[1] or not np.all(np.isfinite(J)):
        raise ValueError("J must be a finite square matrix")
    return J


def _check_dt(dt):
    if not np.isfinite(dt) or not 0 < dt <= 1:
        raise ValueError(f"dt must be in (0, 1] (units of the rate time constant), got {dt!r}")


def _rate_burn_in(J, h0, dt, n_burn_in, seed):
    N = J.shape[0]
    if h0 is None:
        h = np.random.default_rng(seed).standard_normal(N)
    else:
        h = np.array(h0, dtype=float)
        if h.shape != (N,):
            raise ValueError(f"h0 must have shape ({N},), got {h.shape}")
    for _ in range(_check_positive_int("n_burn_in", n_burn_in, allow_zero=True)):
        h = (1 - dt) * h + dt * (J @ np.tanh(h))
    return h


def rate_network_spectrum(
    J,
    *,
    dt=0.1,
    n_steps=10000,
    m=None,
    h0=None,
    n_burn_in=1000,
    n_transient=1000,
    reorthonormalize_every=1,
    n_segments=10,
    seed=0,
    progress=False,
):
    """Lyapunov spectrum of the rate network :math:`\\dot h = -h + J \\tanh h`.

    The network is iterated as the Euler map
    :math:`h \\leftarrow (1 - \\Delta t) h + \\Delta t \\, J \\tanh h`, whose Jacobian
    is :math:`D = (1 - \\Delta t) I + \\Delta t \\, J \\, \\mathrm{diag}(\\mathrm{sech}^2 h)`
    (Engelken, Wolf & Abbott 2023, Phys. Rev. Research 5:043044, arXiv:2006.02427).
    Exponents are per unit of the rate time constant (``log growth / (steps * dt)``).

    Parameters
    ----------
    J : array, shape (N, N)
        Coupling matrix (`random_coupling_matrix`).
    dt : float
        Time step in units of the time constant, in (0, 1].
    n_steps : int
        Steps averaged over.
    m : int, optional
        Number of exponents (default: N).
    h0 : array, optional
        Initial state (default: standard normal, from `seed`).
    n_burn_in : int
        Steps of the state alone first.
    n_transient, reorthonormalize_every, n_segments, seed, progress
        As in `qr_lyapunov`.

    Returns
    -------
    LyapunovResult
        ``info["state"]`` is the final state.
    """
    J = _check_coupling(J)
    _check_dt(dt)
    h = _rate_burn_in(J, h0, dt, n_burn_in, seed)
    state = {"h": h}

    def advance(q):
        h_now = state["h"]
        gain = 1.0 - np.tanh(h_now) ** 2
        q = (1 - dt) * q + dt * (J @ (gain[:, None] * q))
        state["h"] = (1 - dt) * h_now + dt * (J @ np.tanh(h_now))
        return q

    result = qr_lyapunov(
        advance,
        J.shape[0],
        n_steps,
        m=m,
        n_transient=n_transient,
        reorthonormalize_every=reorthonormalize_every,
        step_time=dt,
        n_segments=n_segments,
        seed=seed,
        time_unit="tau",
        progress=progress,
    )
    result.info["state"] = state["h"]
    return result


def rate_network_largest_exponent(
    J,
    *,
    dt=0.1,
    n_steps=10000,
    epsilon=1e-8,
    renormalize_every=10,
    h0=None,
    n_burn_in=1000,
    n_transient=1000,
    seed=0,
):
    """Largest Lyapunov exponent of the rate network from two nearby trajectories.

    A copy of the state displaced by `epsilon` in a random direction is iterated
    alongside the reference; every `renormalize_every` steps the distance
    :math:`d` is measured, :math:`\\ln(d/\\epsilon)` is accumulated and the
    displacement is rescaled back to :math:`\\epsilon`. This needs no Jacobian and
    so checks `rate_network_spectrum` independently.

    Parameters
    ----------
    J : array, shape (N, N)
        Coupling matrix.
    dt : float
        Time step, in (0, 1].
    n_steps : int
        Steps averaged over.
    epsilon : float
        Size of the displacement (> 0, small enough to stay linear).
    renormalize_every : int
        Steps between renormalisations.
    h0, n_burn_in, seed
        As in `rate_network_spectrum`.
    n_transient : int
        Steps with renormalisation discarded from the average (the displacement
        aligns with the leading direction).

    Returns
    -------
    float
        :math:`\\lambda_{max}` per unit of the time constant.
    """
    J = _check_coupling(J)
    _check_dt(dt)
    if not np.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    every = _check_positive_int("renormalize_every", renormalize_every)
    n_steps = _check_positive_int("n_steps", n_steps)
    n_transient = _check_positive_int("n_transient", n_transient, allow_zero=True)
    h = _rate_burn_in(J, h0, dt, n_burn_in, seed)
    direction = np.random.default_rng(seed + 1).standard_normal(h.size)
    other = h + epsilon * direction / np.linalg.norm(direction)
    total, counted = 0.0, 0
    for step in range(n_transient + n_steps):
        h = (1 - dt) * h + dt * (J @ np.tanh(h))
        other = (1 - dt) * other + dt * (J @ np.tanh(other))
        if (step + 1) % every == 0:
            distance = np.linalg.norm(other - h)
            if step >= n_transient:
                total += math.log(distance / epsilon)
                counted += every
            other = h + (epsilon / distance) * (other - h)
    return total / (counted * dt)


# --------------------------------------------------------------------------- references


def gaussian_product_exponents(N, g=1.0):
    """Exact Lyapunov exponents of products of i.i.d. Gaussian matrices.

    For matrices with i.i.d. entries :math:`\\mathcal N(0, g^2/N)`,

    .. math:: \\lambda_i = \\ln g + \\tfrac12 \\left[\\ln\\frac{2}{N}
              + \\psi\\!\\left(\\frac{N - i + 1}{2}\\right)\\right], \\quad i = 1..N,

    with :math:`\\psi` the digamma function (Newman 1986, Commun. Math. Phys.
    103:121).

    Parameters
    ----------
    N : int
        Matrix size.
    g : float
        Gain (> 0).

    Returns
    -------
    ndarray, shape (N,)
        Exponents per matrix product, in decreasing order.
    """
    N = _check_positive_int("N", N)
    if not np.isfinite(g) or g <= 0:
        raise ValueError(f"g must be a finite number > 0, got {g!r}")
    index = np.arange(1, N + 1)
    return math.log(g) + 0.5 * (math.log(2.0 / N) + digamma((N - index + 1) / 2.0))


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
    """
    vector = np.asarray(vector, dtype=float)
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        raise ValueError("vector must be a non-empty 1-D array of finite numbers")
    squares = vector**2
    denominator = float(np.sum(squares**2))
    if denominator == 0:
        raise ValueError("vector must not be zero")
    return float(np.sum(squares) ** 2 / denominator)


# --------------------------------------------------------------------------- plots


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.5, 3.2))
    return ax


def plot_spectrum(exponents, *, errors=None, normalize_index=True, ax=None, label=None, **kwargs):
    """Plot a Lyapunov spectrum :math:`\\lambda_i` against :math:`i/N` (or :math:`i`).

    Parameters
    ----------
    exponents : array or LyapunovResult-like
        Exponents, or any object with an ``exponents`` attribute (then its
        ``standard_error`` is used for `errors` when present).
    errors : array, optional
        Error bars.
    normalize_index : bool
        Plot against :math:`i/N` (extensive chaos collapses across sizes) where
        :math:`N` is the number of exponents, or against :math:`i`. Pass an integer
        to divide by that :math:`N` instead (partial spectra).
    ax : matplotlib Axes, optional
    label : str, optional
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib Axes
    """
    if hasattr(exponents, "exponents"):
        if errors is None:
            errors = getattr(exponents, "standard_error", None)
        exponents = exponents.exponents
    values = _check_exponents(exponents)
    ax = _axes(ax)
    index = np.arange(1, values.size + 1, dtype=float)
    if normalize_index is True:
        index /= values.size
        ax.set_xlabel("i / N")
    elif normalize_index:
        index /= float(normalize_index)
        ax.set_xlabel("i / N")
    else:
        ax.set_xlabel("index i")
    (line,) = ax.plot(index, values, label=label, **kwargs)
    if errors is not None and np.all(np.isfinite(errors)):
        errors = np.asarray(errors, dtype=float)
        ax.fill_between(index, values - errors, values + errors, alpha=0.3, color=line.get_color())
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_ylabel("Lyapunov exponent λ_i")
    if label is not None:
        ax.legend(frameon=False)
    return ax


def plot_convergence(times, running=None, *, n_show=5, ax=None, time_unit=None):
    """Plot running estimates of the leading exponents against averaging time.

    Parameters
    ----------
    times : array or LyapunovResult-like
        Averaging times, or an object with ``times``, ``running`` and
        ``time_unit`` attributes.
    running : array, shape (n_records, m), optional
        Running estimates (required if `times` is an array).
    n_show : int
        Number of leading exponents shown.
    ax : matplotlib Axes, optional
    time_unit : str, optional
        Axis label unit.

    Returns
    -------
    matplotlib Axes
    """
    if hasattr(times, "running"):
        time_unit = time_unit or getattr(times, "time_unit", None)
        running = times.running
        times = times.times
    times = np.asarray(times, dtype=float)
    running = np.asarray(running, dtype=float)
    if running.ndim != 2 or running.shape[0] != times.size:
        raise ValueError("running must have shape (len(times), m)")
    ax = _axes(ax)
    for k in range(min(_check_positive_int("n_show", n_show), running.shape[1])):
        ax.plot(times, running[:, k], label=f"λ_{k + 1}")
    ax.set_xlabel(f"averaging time ({time_unit})" if time_unit else "averaging time")
    ax.set_ylabel("running estimate")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_divergence(times, distances, *, ax=None, label=None, time_unit="s", log=True):
    """Plot perturbation distance against time (log scale: exponential growth is a line).

    Parameters
    ----------
    times : array
        Times.
    distances : array, shape (n,) or (n_trials, n)
        Distances; several trials are drawn as thin lines with their geometric mean.
    ax : matplotlib Axes, optional
    label : str, optional
    time_unit : str
        Axis label unit.
    log : bool
        Logarithmic distance axis.

    Returns
    -------
    matplotlib Axes
    """
    times = np.asarray(times, dtype=float)
    distances = np.asarray(distances, dtype=float)
    if distances.shape[-1] != times.size:
        raise ValueError("distances must have times.size entries along its last axis")
    ax = _axes(ax)
    if distances.ndim == 2:
        for trial in distances:
            ax.plot(times, trial, color="0.7", lw=0.6)
        with np.errstate(divide="ignore"):
            mean = np.exp(np.mean(np.log(distances), axis=0))
        ax.plot(times, mean, label=label, lw=1.5)
    else:
        ax.plot(times, distances, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("distance")
    if label is not None:
        ax.legend(frameon=False)
    return ax
