"""Lyapunov spectra of maps, flows and rate networks; the chaos API in one namespace.

Every spectrum here is a QR (Benettin) computation; the method, its formula and its
references are described in `neurosrnn.analysis.exponents`, where the results, the
accumulator, the QR engine and the derived quantities live. They are re-exported here,
so this module is the one namespace of the chaos API:

* from `neurosrnn.analysis.exponents`: `LyapunovResult`, `TwoTrajectoryResult`,
  `QRAccumulator` (also used by the exact spiking spectrum of
  `neurosrnn.sparseprop.lyapunov`), `segment_exponents`, `qr_lyapunov`;
* `map_spectrum` and `flow_spectrum`: maps and ODE flows given a Jacobian or a
  Jacobian-vector product (flows with a Jacobian use a fourth-order Magnus
  integrator for the tangent dynamics, so the sum of the exponents equals the
  time-averaged divergence to rounding, Liouville's formula);
* rate networks :math:`\\dot h = -h + J \\tanh h` (Engelken, Wolf & Abbott 2023,
  Phys. Rev. Research 5:043044): `random_coupling_matrix`, `rate_network_spectrum`
  and `two_trajectory_exponent` (two trajectories; the name is shared with the
  spiking and Brian2 engines, `neurosrnn.sparseprop.two_trajectory_exponent` and
  `neurosrnn.perturbation.two_trajectory_exponent`);
* derived quantities (`kaplan_yorke_dimension`, `ks_entropy`, `entropy_per_spike` and
  `participation_ratio` from `exponents`), and the exact spectrum of products of
  Gaussian matrices `gaussian_product_exponents` (Newman 1986, Commun. Math. Phys.
  103:121);
* plots (defined in `neurosrnn.analysis.lyapunov_plots`): `plot_spectrum`,
  `plot_convergence`, `plot_divergence`.

Everything works on plain arrays; nothing here imports a simulator.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.linalg import expm
from scipy.special import digamma

from . import exponents, lyapunov_plots
from .exponents import TwoTrajectoryResult, check_positive_int, qr_lyapunov

# One namespace for chaos: the public names of `exponents` (but its argument check), the
# measures defined here and the plots of `lyapunov_plots`.
_REEXPORTED = {
    **{name: getattr(exponents, name) for name in exponents.__all__},
    **{name: getattr(lyapunov_plots, name) for name in lyapunov_plots.__all__},
}
del _REEXPORTED["check_positive_int"]
globals().update(_REEXPORTED)

__all__ = [
    *_REEXPORTED,
    "map_spectrum",
    "flow_spectrum",
    "random_coupling_matrix",
    "rate_network_spectrum",
    "two_trajectory_exponent",
    "rate_network_largest_exponent",
    "gaussian_product_exponents",
]

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
    progress=None,
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
    >>> bool(abs(result.exponents[0] - 0.419) < 0.02), round(float(result.exponents.sum()), 6)
    (True, -1.203973)
    """
    _tangent_operator(jacobian, jvp, "map_spectrum")
    x = np.array(x0, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x0 must be a finite 1-D array")
    for _ in range(check_positive_int("n_burn_in", n_burn_in, allow_zero=True)):
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
    progress=None,
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

    Examples
    --------
    A linear flow :math:`\\dot x = A x` that rotates and grows at rate 0.5 in every
    direction:

    >>> A = np.array([[0.5, -1.0], [1.0, 0.5]])
    >>> result = flow_spectrum(lambda x: A @ x, [1.0, 1.0], 5.0, 0.01, jacobian=lambda x: A)
    >>> np.round(result.exponents, 6)
    array([0.5, 0.5])
    """
    _tangent_operator(jacobian, jvp, "flow_spectrum")
    n_steps = _check_flow_times(duration, dt, burn_in, transient)
    x = np.array(x0, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x0 must be a finite 1-D array")
    for _ in range(int(round(burn_in / dt))):
        x = _rk4(rhs, x, dt, rhs(x))
    state = {"x": x, "f": np.asarray(rhs(x), dtype=float)}
    if jacobian is not None:
        advance = _magnus_tangent_step(rhs, jacobian, dt, state)
    else:
        advance = _rk4_tangent_step(rhs, jvp, dt, state)
    result = qr_lyapunov(
        advance,
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


def _check_flow_times(duration, dt, burn_in, transient):
    """Check the times of `flow_spectrum`; return the number of averaged steps."""
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    for name, value in (("duration", duration), ("burn_in", burn_in), ("transient", transient)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt={dt}, got {duration!r}")
    return n_steps


def _magnus_tangent_step(rhs, jacobian, dt, state):
    """One RK4 step of the state and one fourth-order Magnus step of the vectors."""
    commutator_factor = math.sqrt(3.0) / 12.0 * dt * dt

    def advance(q):
        x_now, f_now = state["x"], state["f"]
        x_next = _rk4(rhs, x_now, dt, f_now)
        f_next = np.asarray(rhs(x_next), dtype=float)
        a1 = jacobian(_hermite(x_now, x_next, f_now, f_next, dt, 0.5 - _GAUSS_OFFSET))
        a2 = jacobian(_hermite(x_now, x_next, f_now, f_next, dt, 0.5 + _GAUSS_OFFSET))
        omega = 0.5 * dt * (a1 + a2) + commutator_factor * (a2 @ a1 - a1 @ a2)
        state["x"], state["f"] = x_next, f_next
        return expm(omega) @ q

    return advance


def _rk4_tangent_step(rhs, jvp, dt, state):
    """One RK4 step of the state and, with the same stages, of the vectors."""

    def advance(q):
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

    return advance


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

    Examples
    --------
    >>> J = random_coupling_matrix(400, 2.0, seed=0)
    >>> J.shape, float(J[0, 0]), bool(abs(J.std() * np.sqrt(400) - 2.0) < 0.05)
    ((400, 400), 0.0, True)
    """
    N = check_positive_int("N", N)
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
    for _ in range(check_positive_int("n_burn_in", n_burn_in, allow_zero=True)):
        h = _rate_step(J, h, dt)
    return h


def _rate_step(J, h, dt):
    """One Euler step :math:`h \\leftarrow (1 - \\Delta t) h + \\Delta t\\, J \\tanh h`."""
    return (1 - dt) * h + dt * (J @ np.tanh(h))


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
    progress=None,
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

    Examples
    --------
    Below :math:`g = 1` the network decays to :math:`h = 0`, where every exponent is
    negative:

    >>> J = random_coupling_matrix(20, 0.5, seed=1)
    >>> result = rate_network_spectrum(J, n_steps=2000, m=3, n_burn_in=200)
    >>> result.time_unit, bool(np.all(result.exponents < 0))
    ('tau', True)
    """
    J = _check_coupling(J)
    _check_dt(dt)
    h = _rate_burn_in(J, h0, dt, n_burn_in, seed)
    state = {"h": h}

    def advance(q):
        h_now = state["h"]
        gain = 1.0 - np.tanh(h_now) ** 2
        q = (1 - dt) * q + dt * (J @ (gain[:, None] * q))
        state["h"] = _rate_step(J, h_now, dt)
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


def two_trajectory_exponent(
    J,
    *,
    dt=0.1,
    n_steps=10000,
    epsilon=1e-8,
    renormalize_every=10,
    h0=None,
    n_burn_in=1000,
    n_transient=1000,
    n_segments=10,
    seed=0,
):
    """Largest Lyapunov exponent of the rate network from two nearby trajectories.

    A copy of the state displaced by `epsilon` in a random direction is iterated
    alongside the reference; every `renormalize_every` steps the distance
    :math:`d` is measured, :math:`\\ln(d/\\epsilon)` is recorded and the
    displacement is rescaled back to :math:`\\epsilon` (Benettin, Galgani & Strelcyn
    1976, Phys. Rev. A 14:2338). This needs no Jacobian and so checks
    `rate_network_spectrum` independently. The same estimate for spiking networks is
    `neurosrnn.sparseprop.two_trajectory_exponent` (exact, SparseProp) and
    `neurosrnn.perturbation.two_trajectory_exponent` (any Brian2 network).

    Parameters
    ----------
    J : array, shape (N, N)
        Coupling matrix.
    dt : float
        Time step, in (0, 1].
    n_steps : int
        Steps simulated after the transient; whole renormalisation intervals among
        them are averaged over.
    epsilon : float
        Size of the displacement (> 0, small enough to stay linear).
    renormalize_every : int
        Steps between renormalisations.
    h0, n_burn_in, seed
        As in `rate_network_spectrum` (the displacement direction uses ``seed + 1``).
    n_transient : int
        Steps with renormalisation discarded from the average (the displacement
        aligns with the leading direction).
    n_segments : int
        Contiguous segments for the error bar.

    Returns
    -------
    TwoTrajectoryResult
        :math:`\\lambda_{max}` per unit of the time constant (``time_unit="tau"``).

    Examples
    --------
    >>> J = random_coupling_matrix(100, 2.0, seed=3)
    >>> result = two_trajectory_exponent(J, n_steps=5000, seed=1)
    >>> bool(result.exponent > 0), result.interval, result.time_unit
    (True, 1.0, 'tau')
    """
    J = _check_coupling(J)
    _check_dt(dt)
    if not np.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    every = check_positive_int("renormalize_every", renormalize_every)
    n_steps = check_positive_int("n_steps", n_steps)
    n_transient = check_positive_int("n_transient", n_transient, allow_zero=True)
    h = _rate_burn_in(J, h0, dt, n_burn_in, seed)
    direction = np.random.default_rng(seed + 1).standard_normal(h.size)
    other = h + epsilon * direction / np.linalg.norm(direction)
    growth = []
    for step in range(n_transient + n_steps):
        h = _rate_step(J, h, dt)
        other = _rate_step(J, other, dt)
        if (step + 1) % every == 0:
            distance = np.linalg.norm(other - h)
            if step >= n_transient:
                growth.append(math.log(distance / epsilon))
            other = h + (epsilon / distance) * (other - h)
    if not growth:
        raise ValueError(f"n_steps ({n_steps}) must cover at least one renormalisation interval")
    return TwoTrajectoryResult.from_log_growth(
        growth, every * dt, epsilon=epsilon, n_segments=n_segments, time_unit="tau"
    )


def rate_network_largest_exponent(J, **kwargs):
    """Deprecated: ``two_trajectory_exponent(J, **kwargs).exponent``.

    Takes the arguments of `two_trajectory_exponent` and returns
    :math:`\\lambda_{max}` as a float (per unit of the time constant).
    """
    warnings.warn(
        "neurosrnn.analysis.rate_network_largest_exponent is deprecated; use "
        "neurosrnn.analysis.lyapunov.two_trajectory_exponent(J, ...).exponent",
        DeprecationWarning,
        stacklevel=2,
    )
    return two_trajectory_exponent(J, **kwargs).exponent


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

    Examples
    --------
    >>> np.round(gaussian_product_exponents(50, 1.5)[:2], 4)
    array([0.3954, 0.3851])
    """
    N = check_positive_int("N", N)
    if not np.isfinite(g) or g <= 0:
        raise ValueError(f"g must be a finite number > 0, got {g!r}")
    index = np.arange(1, N + 1)
    return math.log(g) + 0.5 * (math.log(2.0 / N) + digamma((N - index + 1) / 2.0))
