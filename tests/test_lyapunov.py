"""Tests of the general QR Lyapunov engine against analytic and published spectra."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose

from neurosrnn.analysis import lyapunov as ly

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0


def _lorenz(x):
    return np.array([SIGMA * (x[1] - x[0]), x[0] * (RHO - x[2]) - x[1], x[0] * x[1] - BETA * x[2]])


def _lorenz_jacobian(x):
    return np.array([[-SIGMA, SIGMA, 0.0], [RHO - x[2], -1.0, -x[0]], [x[1], x[0], -BETA]])


def _henon(s, a=1.4, b=0.3):
    return np.array([1 - a * s[0] ** 2 + s[1], b * s[0]])


def _henon_jacobian(s, a=1.4, b=0.3):
    return np.array([[-2 * a * s[0], 1.0], [b, 0.0]])


def test_gaussian_matrix_products_match_newman_formula():
    """Every exponent of products of N(0, g^2/N) matrices, N = 50 (Newman 1986)."""
    N, g = 50, 1.5
    rng = np.random.default_rng(7)
    result = ly.qr_lyapunov(
        lambda q: (rng.standard_normal((N, N)) * (g / math.sqrt(N))) @ q,
        N,
        4000,
        n_transient=50,
    )
    exact = ly.gaussian_product_exponents(N, g)
    # published values of the formula for N = 50, g = 1.5
    assert_allclose(exact[:2], [0.3954, 0.3851], atol=5e-5)
    assert np.max(np.abs(result.exponents - exact)) < 0.02
    # the error bars are honest: errors within 5 standard errors
    assert np.all(np.abs(result.exponents - exact) < 5 * result.standard_error + 1e-3)


def test_lorenz_spectrum_and_exact_sum():
    """Lorenz (10, 28, 8/3): (0.906, 0, -14.572); sum = -(sigma + 1 + beta) (Liouville)."""
    result = ly.flow_spectrum(
        _lorenz,
        [1.0, 1.0, 1.0],
        400.0,
        0.01,
        jacobian=_lorenz_jacobian,
        burn_in=10.0,
        transient=5.0,
    )
    assert_allclose(result.exponents, [0.9056, 0.0, -14.5723], atol=0.03)
    assert abs(result.exponents.sum() + (SIGMA + 1 + BETA)) < 1e-6
    assert_allclose(result.kaplan_yorke_dimension, 2.062, atol=0.01)


def test_lorenz_with_jacobian_vector_product():
    """The JVP (Runge-Kutta tangent) path gives the same exponents."""
    result = ly.flow_spectrum(
        _lorenz,
        [1.0, 1.0, 1.0],
        200.0,
        0.01,
        jvp=lambda x, v: _lorenz_jacobian(x) @ v,
        burn_in=10.0,
        transient=5.0,
        m=2,
    )
    assert result.exponents.shape == (2,)
    assert_allclose(result.exponents, [0.9056, 0.0], atol=0.06)


def test_henon_spectrum_and_exact_sum():
    """Henon (1.4, 0.3): (0.419, -1.623); the sum is ln 0.3 (constant determinant)."""
    result = ly.map_spectrum(
        _henon, [0.1, 0.1], 100_000, jacobian=_henon_jacobian, n_burn_in=100, n_transient=10
    )
    assert_allclose(result.exponents, [0.4192, -1.6232], atol=0.01)
    assert abs(result.exponents.sum() - math.log(0.3)) < 1e-9
    assert_allclose(result.kaplan_yorke_dimension, 1.258, atol=0.01)
    assert result.info["state"].shape == (2,)


def test_logistic_map_single_exponent():
    """Logistic map at r = 4: lambda = ln 2 (one-dimensional case, m = 1)."""
    result = ly.map_spectrum(
        lambda x: 4 * x * (1 - x),
        [0.3],
        50_000,
        jacobian=lambda x: np.array([[4 - 8 * x[0]]]),
        n_burn_in=10,
    )
    assert_allclose(result.exponents[0], math.log(2.0), atol=0.01)


def test_reorthonormalizing_less_often_changes_nothing():
    """QR every 5 steps gives the same Henon exponents (within statistics)."""
    result = ly.map_spectrum(
        _henon,
        [0.1, 0.1],
        50_000,
        jacobian=_henon_jacobian,
        n_burn_in=100,
        reorthonormalize_every=5,
    )
    assert_allclose(result.exponents, [0.4192, -1.6232], atol=0.015)
    assert abs(result.exponents.sum() - math.log(0.3)) < 1e-9


def test_rate_network_qr_matches_two_trajectories():
    """Chaotic rate network (g = 2): QR lambda_max equals the two-trajectory estimate."""
    J = ly.random_coupling_matrix(100, 2.0, seed=3)
    spectrum = ly.rate_network_spectrum(J, dt=0.1, n_steps=20_000, m=4, seed=1)
    two = ly.rate_network_largest_exponent(J, dt=0.1, n_steps=20_000, seed=1)
    assert spectrum.exponents[0] > 0
    assert abs(spectrum.exponents[0] - two) < max(4 * spectrum.standard_error[0], 0.01)
    # spectrum ordered up to noise
    assert np.all(np.diff(spectrum.exponents) < 0.01)


def test_rate_network_stable_fixed_point_matches_eigenvalues():
    """Below g = 1 at h = 0 the exponents are ln|eigenvalues| of the constant Jacobian."""
    N, dt = 30, 0.1
    J = ly.random_coupling_matrix(N, 0.5, seed=4)
    result = ly.rate_network_spectrum(
        J, dt=dt, n_steps=8000, h0=np.zeros(N), n_burn_in=0, n_transient=500
    )
    jacobian = (1 - dt) * np.eye(N) + dt * J
    exact = np.sort(np.log(np.abs(np.linalg.eigvals(jacobian))))[::-1] / dt
    assert_allclose(np.sort(result.exponents)[::-1], exact, atol=0.01)


def test_kaplan_yorke_and_entropy_by_hand():
    exponents = np.array([0.5, 0.1, -0.2, -1.0])
    # sum of first three = 0.4 >= 0, adding -1.0 gives < 0: D = 3 + 0.4 / 1.0
    assert_allclose(ly.kaplan_yorke_dimension(exponents), 3.4)
    assert_allclose(ly.kaplan_yorke_dimension(exponents[::-1]), 3.4)  # order-free
    assert ly.kaplan_yorke_dimension([-0.1, -0.2]) == 0.0
    assert ly.kaplan_yorke_dimension([0.1, 0.2]) == 2.0
    assert_allclose(ly.ks_entropy(exponents), 0.6)
    assert_allclose(ly.entropy_per_spike(exponents, total_rate=10.0), 0.6 / (10 * math.log(2)))


def test_participation_ratio_limits():
    assert_allclose(ly.participation_ratio(np.eye(10)[3]), 1.0)
    assert_allclose(ly.participation_ratio(np.ones(10)), 10.0)
    assert_allclose(ly.participation_ratio(np.r_[np.ones(4), np.zeros(6)]), 4.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ly.qr_lyapunov(lambda q: q, 3, 10, m=4), "m must be <= dimension"),
        (lambda: ly.qr_lyapunov(lambda q: q, 3, 0), "n_steps"),
        (lambda: ly.map_spectrum(_henon, [0.1, 0.1], 10), "exactly one of jacobian"),
        (lambda: ly.flow_spectrum(_lorenz, [1, 1, 1], 1.0, -0.1, jacobian=_lorenz_jacobian), "dt"),
        (lambda: ly.kaplan_yorke_dimension([]), "exponents"),
        (lambda: ly.entropy_per_spike([1.0], total_rate=0), "total_rate"),
        (lambda: ly.participation_ratio(np.zeros(3)), "zero"),
        (lambda: ly.random_coupling_matrix(10, -1, seed=0), "g must"),
        (lambda: ly.rate_network_spectrum(np.ones((2, 3))), "square"),
        (lambda: ly.gaussian_product_exponents(0), "N must"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_plots_draw_spectrum_convergence_and_divergence():
    result = ly.map_spectrum(_henon, [0.1, 0.1], 2000, jacobian=_henon_jacobian, n_burn_in=100)
    ax = ly.plot_spectrum(result, label="Henon")
    assert_allclose(ax.lines[0].get_ydata(), result.exponents)
    assert_allclose(ax.lines[0].get_xdata(), [0.5, 1.0])
    ax = ly.plot_convergence(result, n_show=2)
    assert len(ax.lines) == 2
    assert_allclose(ax.lines[0].get_ydata()[-1], result.exponents[0])
    times = np.linspace(0, 1, 5)
    ax = ly.plot_divergence(times, np.exp(np.vstack([times, 2 * times])))
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3
    plt.close("all")


def test_result_repr_and_records():
    result = ly.map_spectrum(_henon, [0.1, 0.1], 3000, jacobian=_henon_jacobian, n_burn_in=100)
    assert "LyapunovResult m=2" in repr(result)
    assert result.running.shape == (result.times.size, 2)
    assert_allclose(result.running[-1], result.exponents)
    assert_allclose(result.log_growth / result.duration, result.exponents)
    assert result.segment_exponents.shape == (10, 2)


def test_variable_step_durations_divide_the_growth():
    """advance may return (Q, elapsed): Henon steps of duration 2 halve the exponents."""
    state = {"x": np.array([0.1, 0.1])}
    for _ in range(100):
        state["x"] = _henon(state["x"])

    def advance(q):
        q = _henon_jacobian(state["x"]) @ q
        state["x"] = _henon(state["x"])
        return q, 2.0

    result = ly.qr_lyapunov(advance, 2, 50_000, time_unit="s")
    assert_allclose(result.exponents, np.array([0.4192, -1.6232]) / 2, atol=0.006)
    assert_allclose(result.duration, 100_000.0)


def test_two_trajectory_exponent_of_rate_network_and_deprecated_name():
    """The new name returns a TwoTrajectoryResult; the old one warns and gives its exponent."""
    J = ly.random_coupling_matrix(50, 2.0, seed=3)
    result = ly.two_trajectory_exponent(J, dt=0.1, n_steps=2000, n_transient=200, seed=1)
    assert isinstance(result, ly.TwoTrajectoryResult)
    assert result.time_unit == "tau"
    assert_allclose(result.interval, 1.0)
    assert result.log_growth.size == 200
    assert_allclose(result.exponent, result.log_growth.sum() / result.duration)
    with pytest.warns(DeprecationWarning, match="two_trajectory_exponent"):
        old = ly.rate_network_largest_exponent(J, dt=0.1, n_steps=2000, n_transient=200, seed=1)
    assert old == result.exponent
    with pytest.warns(DeprecationWarning, match="exponent"):
        assert result.largest_exponent == result.exponent


def test_segment_exponents_and_two_trajectory_result_by_hand():
    segments, error = ly.segment_exponents(np.array([1.0, 1.0, 3.0, 3.0]), 0.5, 2)
    assert_allclose(segments, [2.0, 6.0])
    assert_allclose(error, 2.0)
    _, single = ly.segment_exponents(np.array([1.0, 2.0]), 1.0, 1)
    assert math.isnan(single)
    result = ly.TwoTrajectoryResult.from_log_growth(
        [1.0, 1.0, 3.0, 3.0], 0.5, epsilon=1e-6, n_segments=2, variable="v"
    )
    assert_allclose(result.exponent, 4.0)
    assert_allclose(result.duration, 2.0)
    assert "'v'" in repr(result)


def test_qr_accumulator_external_clock_and_result_subclass():
    """time= replaces the running sum of elapsed; cls= builds a LyapunovResult subclass."""
    summed = ly.QRAccumulator(2, 3, 3, 10)
    clocked = ly.QRAccumulator(2, 3, 3, 10)
    for k, log_r in enumerate(([1.0, -1.0], [2.0, -2.0], [3.0, -3.0])):
        summed.add(np.array(log_r), 0.5)
        clocked.add(np.array(log_r), 0.5, time=0.5 * (k + 1))
    a = summed.result(np.eye(2), 3)
    b = clocked.result(np.eye(2), 3)
    assert_allclose(a.exponents, [4.0, -4.0])
    assert_allclose(b.exponents, a.exponents)
    assert_allclose(b.times, [0.5, 1.0, 1.5])
    assert_allclose(b.segment_exponents, [[2.0, -2.0], [4.0, -4.0], [6.0, -6.0]])

    from dataclasses import dataclass

    @dataclass(kw_only=True, repr=False)
    class Tagged(ly.LyapunovResult):
        tag: str

    tagged = summed.result(np.eye(2), 3, cls=Tagged, tag="x")
    assert isinstance(tagged, ly.LyapunovResult) and tagged.tag == "x"
    assert_allclose(tagged.ks_entropy, 4.0)
    with pytest.raises(ValueError, match="averaging time"):
        ly.QRAccumulator(1, 1, 1, 1).result(np.eye(1), 0)


def test_plots_live_in_their_own_module_and_stay_importable():
    from neurosrnn import analysis
    from neurosrnn.analysis import lyapunov_plots

    assert ly.plot_spectrum is lyapunov_plots.plot_spectrum is analysis.plot_spectrum
    assert ly.plot_convergence is lyapunov_plots.plot_convergence
    assert ly.plot_divergence is lyapunov_plots.plot_divergence
    assert analysis.TwoTrajectoryResult is ly.TwoTrajectoryResult
    assert analysis.QRAccumulator is ly.QRAccumulator
