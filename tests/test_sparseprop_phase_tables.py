"""Tests of the tabulated phase maps (`neurosrnn.sparseprop.phase_tables`).

References: the EIF against scipy's DOP853 (rtol 1e-13) and 30-digit mpmath quadrature;
the LIF and QIF against the closed forms of `neurosrnn.sparseprop.phase_models`.
"""

import json
import os

import mpmath
import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import quad, solve_ivp
from scipy.optimize import brentq

from neurosrnn.sparseprop.phase_models import (
    TABULATED,
    lif_ptc,
    lif_ptc_coupling_derivative,
    lif_ptc_derivative,
    theta_ptc,
    theta_ptc_coupling_derivative,
    theta_ptc_derivative,
)
from neurosrnn.sparseprop.phase_tables import (
    CLAMPS,
    PhaseTable,
    clamp_count,
    empty_kernel_tables,
    kernel_tables,
    table_phase_of,
    table_pulse_derivative,
    table_pulse_phase,
    table_pulse_weight_derivative,
    table_v_of,
    tabulate,
)

TAU = 0.01  # s
# EIF of SparseProp (dimensionless voltage): tau dV/dt = -V + D exp(V/D) + I
DELTA, EIF_DRIVE = 0.1, 0.1
EIF_RESET, EIF_SPIKE, EIF_MIN = -1.0, 1000.0, -5.0
# LIF: tau dv/dt = mu - v, reset 0, threshold 1 (phase_models' normalised LIF, drive I)
LIF_DRIVE = 0.5
LIF_MU = 1.0 + LIF_DRIVE
# QIF: tau dv/dt = v^2 + I, reset -R, spike at +R (the theta neuron for R -> inf)
QIF_DRIVE, QIF_R = 1.0, 1e4


def eif_rate(v):
    return (-v + DELTA * np.exp(v / DELTA) + EIF_DRIVE) / TAU


def lif_rate(v):
    return (LIF_MU - v) / TAU


def qif_rate(v):
    return (v * v + QIF_DRIVE) / TAU


@pytest.fixture(scope="module")
def eif():
    return tabulate(
        eif_rate, v_reset=EIF_RESET, v_threshold=EIF_SPIKE, v_min=EIF_MIN, name="eif", cache=False
    )


@pytest.fixture(scope="module")
def lif():
    return tabulate(lif_rate, v_reset=0.0, v_threshold=1.0, v_min=-2.0, name="lif", cache=False)


@pytest.fixture(scope="module")
def qif():
    return tabulate(
        qif_rate, v_reset=-QIF_R, v_threshold=QIF_R, v_min=-2 * QIF_R, name="qif", cache=False
    )


# --------------------------------------------------------------------------- EIF references


class _EIFReference:
    """The EIF by direct integration, independent of the Chebyshev tables.

    Forward: DOP853 on dV/dt = f(V) from reset up to V = 1; past it the variable
    u = exp(-(V - 1)/D) (du/dt = -(u (I - V)/D + e^{1/D})/tau, smooth up to the spike at
    u = e^{-9990} ~ 0), whose time is a quad over u. Time to threshold from x: DOP853 on
    dt/dV = 1/f(V) from v_min to 1 (dense), plus the u part.
    """

    def __init__(self):
        options = dict(method="DOP853", rtol=1e-13, atol=1e-16, dense_output=True)

        def reach_one(t, v):
            return v[0] - 1.0

        reach_one.terminal = True
        forward = solve_ivp(lambda t, v: eif_rate(v), [0.0, 1.0], [EIF_RESET], **options,
                            events=reach_one)  # fmt: skip
        self.switch_time = forward.t_events[0][0]
        self.forward = forward.sol
        self.tail = self.u_time(1.0)
        self.period = self.switch_time + self.tail
        backward = solve_ivp(lambda v, t: 1.0 / eif_rate(v), [EIF_MIN, 1.0], [0.0], **options)
        self.time_to_one = backward.y[0, -1]
        self.backward = backward.sol

    @staticmethod
    def _du_integrand(u):
        if u == 0.0:
            return TAU * np.exp(-1.0 / DELTA)
        v = 1.0 - DELTA * np.log(u)
        return TAU / (u * (EIF_DRIVE - v) / DELTA + np.exp(1.0 / DELTA))

    def u_time(self, u0):
        """Time from u0 = exp(-(V - 1)/D) to the spike."""
        return quad(self._du_integrand, 0.0, u0, epsabs=1e-300, epsrel=1e-13, limit=200)[0]

    def v_at_phase(self, phase):
        phase = np.asarray(phase, dtype=float)
        v = np.empty_like(phase)
        early = phase * self.period <= self.switch_time
        v[early] = self.forward(phase[early] * self.period)[0]
        for i in np.flatnonzero(~early):
            remaining = (1.0 - phase[i]) * self.period
            u = brentq(lambda u, r=remaining: self.u_time(u) - r, 0.0, 1.0, xtol=1e-300)
            v[i] = 1.0 - DELTA * np.log(u)
        return v

    def phase_at_v(self, x):
        x = np.asarray(x, dtype=float)
        phase = np.ones_like(x)  # x >= spike voltage: fires now
        low = x <= 1.0
        remaining = self.time_to_one - self.backward(x[low])[0] + self.tail
        phase[low] = 1.0 - remaining / self.period
        for i in np.flatnonzero(~low & (x < EIF_SPIKE)):
            phase[i] = 1.0 - self.u_time(np.exp(-(x[i] - 1.0) / DELTA)) / self.period
        return phase


@pytest.fixture(scope="module")
def eif_reference():
    return _EIFReference()


def _eif_pairs(seed, n=1000):
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0.0, 1.0, n)
    weight = rng.uniform(-1.5, 1.0, n)  # both signs, v + w stays well below the spike
    weight[:30] = rng.uniform(1000.0, 1100.0, 30)  # crosses the spike voltage: fires now
    weight[30:80] = rng.uniform(1.0, 2.5, 50)  # past V = 1 but below 1000: spikes very soon
    return phase, weight


def test_eif_ptc_matches_solve_ivp(eif, eif_reference):
    phase, weight = _eif_pairs(seed=12)
    v = eif_reference.v_at_phase(phase)
    expected = eif_reference.phase_at_v(v + weight)
    got = eif.ptc(phase, weight)
    fires = v + weight >= EIF_SPIKE
    assert fires.sum() == 30 and (~fires & (v + weight > 1.0)).sum() >= 40
    assert_array_equal(got[fires], 1.0)
    # measured: 7e-13, the error of the DOP853 reference (mpmath below: 1e-15)
    assert_allclose(got, expected, rtol=0, atol=1e-11)
    assert_allclose(eif.period, eif_reference.period, rtol=1e-13)
    assert_allclose(eif.v_of(phase), v, rtol=0, atol=1e-11)


def test_eif_ptc_matches_mpmath(eif):
    mpmath.mp.dps = 30
    delta, drive, tau = (mpmath.mpf(x) for x in ("0.1", "0.1", "0.01"))

    def inverse_rate(v):
        return tau / (-v + delta * mpmath.exp(v / delta) + drive)

    knots = [EIF_MIN, -1, 0, 1, 2, 5, 10, 100, EIF_SPIKE]

    def time_between(a, b):
        inner = [k for k in knots if a < k < b]
        return mpmath.quad(inverse_rate, [a, *inner, b])

    period = time_between(EIF_RESET, EIF_SPIKE)
    assert abs(float(period) / eif.period - 1.0) < 4e-16
    assert_allclose(eif.phase_min, float(-time_between(EIF_MIN, EIF_RESET) / period), atol=1e-15)
    assert eif.error_bound < 1e-12
    rng = np.random.default_rng(3)
    for phase, weight in zip(rng.uniform(0, 1, 6), rng.uniform(-1.5, 0.8, 6), strict=True):
        v = float(eif.v_of(phase))
        target = mpmath.mpf(float(phase))
        exact_v = mpmath.findroot(lambda x, p=target: time_between(EIF_RESET, x) / period - p, v)
        after = exact_v + weight
        exact = float(1 - time_between(after, EIF_SPIKE) / period)
        conditioning = 1.0 + float(eif.ptc_derivative(phase, weight))
        assert abs(float(eif.ptc(phase, weight)) - exact) <= 1e-14 * conditioning
        assert abs(float(eif.ptc(phase, weight)) - exact) <= eif.error_bound * conditioning


# --------------------------------------------------------------------------- closed forms


def test_lif_table_matches_closed_form(lif):
    rng = np.random.default_rng(4)
    omega = 1.0 / np.log1p(1.0 / LIF_DRIVE)
    assert_allclose(lif.period, TAU / omega, rtol=1e-14)
    assert_allclose(lif.phase_min, -omega * np.log1p(2.0 / LIF_MU), rtol=1e-14)
    phase = rng.uniform(0.8 * lif.phase_min, 1.0, 1000)
    weight = rng.uniform(-1.0, 1.0, 1000)
    c = -weight / LIF_MU
    closed = np.array([lif_ptc(p, ci, omega) for p, ci in zip(phase, c, strict=True)])
    fires = closed >= 1.0
    v = LIF_MU * -np.expm1(-phase / omega)
    clamped = v + weight < lif.v_min
    assert 100 < fires.sum() < 900 and clamped.sum() > 0
    expected = np.where(fires, 1.0, np.where(clamped, lif.phase_min, closed))
    assert_allclose(lif.ptc(phase, weight), expected, rtol=0, atol=1e-12)
    assert_array_equal(lif.ptc(phase, weight)[fires], 1.0)
    flat = fires | clamped
    derivative = [lif_ptc_derivative(p, ci, omega) for p, ci in zip(phase, c, strict=True)]
    assert_allclose(lif.ptc_derivative(phase, weight), np.where(flat, 0.0, derivative), rtol=1e-12)
    by_coupling = [
        lif_ptc_coupling_derivative(p, ci, omega) for p, ci in zip(phase, c, strict=True)
    ]
    assert_allclose(
        lif.ptc_weight_derivative(phase, weight),
        np.where(flat, 0.0, -np.array(by_coupling) / LIF_MU),
        rtol=1e-12,
    )
    assert_allclose(lif.v_of(phase), v, rtol=0, atol=1e-14)


def _theta_phase(v):
    return 2.0 * np.arctan(v / np.sqrt(QIF_DRIVE))


def test_qif_table_matches_theta_closed_form(qif):
    theta_reset, theta_spike = _theta_phase(-QIF_R), _theta_phase(QIF_R)
    span = theta_spike - theta_reset
    assert_allclose(qif.period, TAU * span / (2.0 * np.sqrt(QIF_DRIVE)), rtol=1e-14)
    rng = np.random.default_rng(5)
    phase = rng.uniform(qif.phase_min, 1.0, 1000)
    phase[:100] = 1.0 - 10.0 ** -rng.uniform(5.0, 13.0, 100)  # v near the spike at R
    weight = rng.uniform(-3.0, 3.0, 1000)
    theta = theta_reset + phase * span
    c = weight / np.sqrt(QIF_DRIVE)
    after = np.array([theta_ptc(t, ci) for t, ci in zip(theta, c, strict=True)])
    fires = after >= theta_spike
    assert 10 < fires.sum() < 100
    expected = np.where(fires, 1.0, (after - theta_reset) / span)
    assert_allclose(qif.ptc(phase, weight), expected, rtol=0, atol=1e-12)
    derivative = [theta_ptc_derivative(t, ci) for t, ci in zip(theta, c, strict=True)]
    assert_allclose(qif.ptc_derivative(phase, weight), np.where(fires, 0.0, derivative), rtol=1e-11)
    by_coupling = [theta_ptc_coupling_derivative(t, ci) for t, ci in zip(theta, c, strict=True)]
    expected_weight = np.where(fires, 0.0, np.array(by_coupling) / np.sqrt(QIF_DRIVE) / span)
    assert_allclose(qif.ptc_weight_derivative(phase, weight), expected_weight, rtol=1e-11)


# --------------------------------------------------------------------------- derivatives


def test_eif_derivatives_match_finite_differences_and_rate(eif):
    rng = np.random.default_rng(6)
    phase = rng.uniform(0.0, 0.99, 200)
    weight = rng.uniform(-1.0, 0.5, 200)
    v = eif.v_of(phase)
    analytic = eif_rate(v) / eif_rate(v + weight)  # F(V)/F(V + J)
    assert_allclose(eif.ptc_derivative(phase, weight), analytic, rtol=1e-12)
    assert_allclose(
        eif.ptc_weight_derivative(phase, weight),
        1.0 / (eif.period * eif_rate(v + weight)),
        rtol=1e-12,
    )
    h = 1e-6
    by_phase = (eif.ptc(phase + h, weight) - eif.ptc(phase - h, weight)) / (2 * h)
    by_weight = (eif.ptc(phase, weight + h) - eif.ptc(phase, weight - h)) / (2 * h)
    assert_allclose(eif.ptc_derivative(phase, weight), by_phase, rtol=1e-7)
    assert_allclose(eif.ptc_weight_derivative(phase, weight), by_weight, rtol=1e-7)
    assert_allclose(eif.phase_slope(v), 1.0 / (eif.period * eif_rate(v)), rtol=1e-13)


# --------------------------------------------------------------------------- maps and edges


@pytest.mark.parametrize("which", ["eif", "lif", "qif"])
def test_round_trip_and_end_points(which, request):
    table = request.getfixturevalue(which)
    top = 3.0 if which == "eif" else table.v_threshold  # EIF: phase is 1.0 in float64 past ~3.6
    v = np.linspace(table.v_min, top, 3001)
    phase = table.phase_of(v)
    assert np.all(np.diff(phase) >= 0)
    back = table.v_of(phase)
    # |v error| in phase units, plus the float64 resolution of v
    slack = 2 * table.error_bound + 4e-16 * np.abs(v) * table.phase_slope(v)
    assert np.all(np.abs(back - v) * table.phase_slope(v) <= slack)
    p = np.linspace(table.phase_min, np.nextafter(1.0, 0.0), 3001)
    assert np.max(np.abs(table.phase_of(table.v_of(p)) - p)) <= table.error_bound
    assert table.error_bound < 1e-13
    assert abs(float(table.phase_of(table.v_reset))) < 1e-15
    assert float(table.phase_of(table.v_threshold)) == 1.0
    assert float(table.phase_of(table.v_min)) == pytest.approx(table.phase_min, abs=1e-15)
    assert float(table.phase_of(table.v_min - 1.0)) == table.phase_min
    assert float(table.v_of(1.0)) == table.v_threshold
    assert float(table.v_of(table.phase_min)) == table.v_min
    assert float(table.v_of(0.0)) == pytest.approx(table.v_reset, rel=1e-13, abs=1e-13)


def test_fires_now_and_clamp(eif):
    packed = kernel_tables([eif])
    v = float(eif.v_of(0.3))
    fire_weight = EIF_SPIKE - v
    assert float(eif.ptc(0.3, fire_weight)) == 1.0
    assert table_pulse_phase(packed, 0, 0.3, fire_weight) == 1.0
    assert table_pulse_phase(packed, 0, 0.3, 2000.0) == 1.0
    assert float(eif.ptc_derivative(0.3, fire_weight)) == 0.0
    assert table_pulse_derivative(packed, 0, 0.3, fire_weight) == 0.0
    assert table_pulse_weight_derivative(packed, 0, 0.3, fire_weight) == 0.0
    assert clamp_count(packed) == 0
    below = EIF_MIN - v - 0.5
    assert table_pulse_phase(packed, 0, 0.3, below) == eif.phase_min
    assert table_pulse_phase(packed, 0, 0.3, below) == eif.phase_min
    assert clamp_count(packed) == 2 and packed[CLAMPS][0] == 2
    assert float(eif.ptc(0.3, below)) == eif.phase_min
    assert table_pulse_derivative(packed, 0, 0.3, below) == 0.0
    # just above v_min: no clamp
    table_pulse_phase(packed, 0, 0.3, EIF_MIN - v + 1e-9)
    assert clamp_count(packed) == 2


# --------------------------------------------------------------------------- numba kernels


@numba.njit
def _kernel_values(tables, populations, phases, weights):
    out = np.empty((5, phases.shape[0]))
    for i in range(phases.shape[0]):
        p = populations[i]
        out[0, i] = table_pulse_phase(tables, p, phases[i], weights[i])
        out[1, i] = table_pulse_derivative(tables, p, phases[i], weights[i])
        out[2, i] = table_pulse_weight_derivative(tables, p, phases[i], weights[i])
        out[3, i] = table_v_of(tables, p, phases[i])
        out[4, i] = table_phase_of(tables, p, out[3, i] + weights[i])
    return out


def test_numba_kernels_match_methods(eif, lif, qif):
    tables = [eif, lif, qif]
    packed = kernel_tables(tables)
    assert numba.typeof(packed) == numba.typeof(empty_kernel_tables())
    rng = np.random.default_rng(7)
    n = 3000
    populations = rng.integers(0, 3, n)
    phases = rng.uniform(-0.3, 1.0, n)
    weights = rng.uniform(-2.0, 2.0, n)
    weights[:20] = -1e5  # clamped in every population
    values = _kernel_values(packed, populations, phases, weights)
    clamps = 0
    for k, table in enumerate(tables):
        mine = populations == k
        p = np.maximum(phases[mine], table.phase_min)
        w = weights[mine]
        assert_allclose(values[0, mine], table.ptc(p, w), rtol=0, atol=1e-15)
        assert_allclose(values[1, mine], table.ptc_derivative(p, w), rtol=1e-14)
        assert_allclose(values[2, mine], table.ptc_weight_derivative(p, w), rtol=1e-14)
        v = table.v_of(p)
        assert_allclose(values[3, mine], v, rtol=1e-15, atol=1e-15)
        assert_allclose(values[4, mine], table.phase_of(v + w), rtol=0, atol=1e-15)
        clamps += int(np.sum(v + w < table.v_min))
    assert clamps >= 20 and clamp_count(packed) == clamps


def test_kernel_tables_layout(eif, lif):
    packed = kernel_tables([eif, lif, eif])
    assert len(packed) == 13 and CLAMPS == 12
    assert_array_equal(packed[0][:, 0], [eif.period, lif.period, eif.period])
    assert packed[1].dtype == np.int64 and packed[1][-1] == 2 * eif.n_pieces[0] + lif.n_pieces[0]
    assert packed[CLAMPS].dtype == np.int64 and packed[CLAMPS].shape == (1,)
    assert TABULATED == 2
    with pytest.raises(ValueError, match=r"tables\[1\] must be a PhaseTable"):
        kernel_tables([eif, "lif"])


# --------------------------------------------------------------------------- cache


class _Counting:
    def __init__(self, rate):
        self.rate, self.calls = rate, 0

    def __call__(self, v):
        self.calls += 1
        return self.rate(v)


def _cached(rate, tmp_path, key="lif: (1.5 - v) / tau, tau = 10 ms"):
    return tabulate(rate, v_reset=0.0, v_threshold=1.0, v_min=-2.0, cache_dir=tmp_path, key=key)


def _assert_same_table(a, b):
    for name, array in a._arrays().items():
        assert_array_equal(array, b._arrays()[name])


def test_cache_hit_returns_identical_arrays(tmp_path):
    first_rate = _Counting(lif_rate)
    first = _cached(first_rate, tmp_path)
    assert first_rate.calls > 0
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and len(files[0].stem) == 64
    second_rate = _Counting(lif_rate)
    second = _cached(second_rate, tmp_path)
    assert second_rate.calls == 0
    _assert_same_table(first, second)
    assert second.error_bound == first.error_bound
    other_rate = _Counting(lif_rate)
    _cached(other_rate, tmp_path, key={"equations": "other", "tau": np.float64(0.01)})
    assert other_rate.calls > 0 and len(list(tmp_path.glob("*.npz"))) == 2
    # no key: nothing cached
    tabulate(lif_rate, v_reset=0.0, v_threshold=1.0, v_min=-1.0, cache_dir=tmp_path / "none")
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("damage", ["garbage", "version", "shape", "nan"])
def test_bad_cache_file_is_recomputed(tmp_path, damage):
    fresh = _cached(lif_rate, tmp_path)
    (path,) = tmp_path.glob("*.npz")
    if damage == "garbage":
        path.write_bytes(b"not a zip file")
    else:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if damage == "version":
            arrays["format_version"] = np.array(0)
        elif damage == "shape":
            arrays["phase_coefficients"] = arrays["phase_coefficients"][:, :5]
        else:
            arrays["v_phase_coefficients"] = arrays["v_phase_coefficients"] * np.nan
        np.savez(path, **arrays)
    rate = _Counting(lif_rate)
    again = _cached(rate, tmp_path)
    assert rate.calls > 0
    _assert_same_table(fresh, again)
    rate = _Counting(lif_rate)
    _cached(rate, tmp_path)  # rewritten: a hit again
    assert rate.calls == 0


# --------------------------------------------------------------------------- bad inputs


def test_fixed_point_is_located():
    drive = -0.2  # below rheobase (-DELTA): a stable fixed point near v = -0.2

    def subthreshold(v):
        return (-v + DELTA * np.exp(v / DELTA) + drive) / TAU

    expected = brentq(lambda v: -v + DELTA * np.exp(v / DELTA) + drive, -1.0, 0.0, xtol=1e-14)
    with pytest.raises(ValueError, match="fixed point near v = ") as error:
        tabulate(subthreshold, v_reset=-1.0, v_threshold=1000.0, v_min=-5.0, cache=False)
    location = float(str(error.value).split("fixed point near v = ")[1].split(",")[0])
    assert location == pytest.approx(expected, abs=1e-9)
    assert "rate must be > 0 on [v_min, v_threshold]" in str(error.value)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"v_min": 0.0}, "v_min must be < v_reset"),
        ({"v_reset": 1.0}, "v_threshold must be > v_reset"),
        ({"v_threshold": float("inf")}, "v_threshold must be finite"),
        ({"v_reset": float("nan")}, "v_reset must be finite"),
        ({"v_min": "low"}, "v_min must be a real number"),
        ({"rate": 3.0}, "rate must be a callable"),
        ({"rate": lambda v: np.full(v.shape, np.nan)}, "rate returned NaN"),
        ({"rate": lambda v: np.ones(3)}, "rate must be vectorised"),
        ({"rate": lambda v: 0.3 - v}, r"fixed point near v = 0\.3"),
        ({"tolerance": 0.1}, "tolerance must be in"),
        ({"key": object()}, "key must be a str or a JSON-able"),
    ],
)
def test_bad_inputs(changes, match, tmp_path):
    arguments = dict(rate=lif_rate, v_reset=0.0, v_threshold=1.0, v_min=-1.0, cache=False)
    if "key" in changes:
        arguments.update(cache=True, cache_dir=tmp_path)
    arguments.update(changes)
    rate = arguments.pop("rate")
    with pytest.raises(ValueError, match=match):
        tabulate(rate, **arguments)
    assert not list(tmp_path.iterdir())


def test_quantities_and_cache_folder_rejected(tmp_path):
    from brian2 import mV

    with pytest.raises(ValueError, match="v_reset must be a plain number"):
        tabulate(lif_rate, v_reset=0 * mV, v_threshold=1.0, v_min=-1.0, cache=False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="cache_dir"):
        tabulate(lif_rate, v_reset=0.0, v_threshold=1.0, v_min=-1.0, cache_dir=blocker, key="k")


def test_repr_and_key_forms(eif, tmp_path):
    text = repr(eif)
    assert text.startswith("<PhaseTable 'eif'") and "period 0.0298901 s" in text
    assert isinstance(eif, PhaseTable)
    key = {"equations": "dv/dt = (mu - v)/tau", "mu": np.float64(1.5), "grid": np.arange(3)}
    tabulate(lif_rate, v_reset=0.0, v_threshold=1.0, v_min=-2.0, cache_dir=tmp_path, key=key)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    assert json.dumps(key, default=lambda item: item.tolist())  # the key is JSON-able
    assert os.path.isdir(tmp_path)


@numba.njit
def _kernel_maps(tables, population, voltages, phases):
    out = np.empty((2, voltages.shape[0]))
    for i in range(voltages.shape[0]):
        out[0, i] = table_phase_of(tables, population, voltages[i])
        out[1, i] = table_v_of(tables, population, phases[i])
    return out


@pytest.mark.parametrize("which", ["eif", "qif"])
def test_bucket_lookup_picks_the_searchsorted_piece_at_every_break(which, request):
    # the O(1) bucket look-up must give the same piece (so the same bits) as a binary
    # search, also on and next to every break, where a wrong piece would show
    table = request.getfixturevalue(which)
    packed = kernel_tables([table])
    v = np.concatenate([table.v_breaks, np.nextafter(table.v_breaks, -np.inf)])
    v = np.clip(v, table.v_min, np.nextafter(table.v_threshold, 0.0))
    p = np.concatenate([table.phase_breaks, np.nextafter(table.phase_breaks, -np.inf)])
    p = np.resize(np.clip(p, np.nextafter(table.phase_min, 1.0), table.phase_breaks[-1]), v.size)
    kernel = _kernel_maps(packed, 0, v, p)
    assert_array_equal(kernel[0], table.phase_of(v))
    assert_array_equal(kernel[1], table.v_of(p))
    assert sum(array.nbytes for array in packed) < 4e6  # memory per table stays modest


# --------------------------------------------------------------------------- per-weight maps


@numba.njit
def _pulses(tables, population, phases, weight):
    out = np.empty(phases.shape[0])
    for i in range(phases.shape[0]):
        out[i] = table_pulse_phase(tables, population, phases[i], weight)
    return out


EIF_WEIGHTS = (-0.5, -0.1, 0.05, 0.3, 1.0)
LIF_WEIGHTS = (-1.0, -0.1, 0.1, 0.5)


def _phases(table, seed, n=3000):
    rng = np.random.default_rng(seed)
    phases = rng.uniform(table.phase_min - 0.05, 1.0, n)
    phases[:300] = 1.0 - 10.0 ** -rng.uniform(1.0, 15.0, 300)  # close to the spike
    return phases


def test_per_weight_maps_match_two_step_path_and_closed_form(eif, lif):
    tables = [eif, lif]
    generic = kernel_tables(tables)
    fast = kernel_tables(tables, weights=[*EIF_WEIGHTS, *LIF_WEIGHTS, -0.1])  # 8 distinct
    assert numba.typeof(fast) == numba.typeof(generic) == numba.typeof(empty_kernel_tables())
    assert len(fast[2]) > len(generic[2])  # the maps are stored
    omega = 1.0 / np.log1p(1.0 / LIF_DRIVE)
    for population, (table, weights) in enumerate(((eif, EIF_WEIGHTS), (lif, LIF_WEIGHTS))):
        phases = _phases(table, seed=20 + population)
        for weight in weights:
            got = _pulses(fast, population, phases, weight)
            two_step = _pulses(generic, population, phases, weight)
            conditioning = 1.0 + table.ptc_derivative(np.maximum(phases, table.phase_min), weight)
            # measured: <= 3e-15 below phase 1 - 1e-6; near the spike the two-step path's
            # own error (1e-15 times f(v)/f(v + w)) dominates
            assert_allclose(got, two_step, rtol=0, atol=1e-12)
            assert np.all(np.abs(got - two_step) <= 1e-14 * np.minimum(conditioning, 1e3))
            firing = two_step == 1.0
            # "fires now" as the two-step path decides it (except where both are 1 - ulps)
            assert np.sum(firing != (got == 1.0)) <= np.sum(phases > 1.0 - 1e-14)
        assert clamp_count(fast) == clamp_count(generic) > 0
    # the LIF table against the closed form: the maps add no error
    phases = _phases(lif, seed=23)
    for weight in LIF_WEIGHTS:
        got = _pulses(fast, 1, phases, weight)
        p = np.maximum(phases, lif.phase_min)
        closed = np.array([lif_ptc(x, -weight / LIF_MU, omega) for x in p])
        clamped = lif.v_of(p) + weight < lif.v_min
        expected = np.where(clamped, lif.phase_min, np.minimum(closed, 1.0))
        assert_allclose(got, expected, rtol=0, atol=1e-13)
        assert_array_equal(got[closed >= 1.0], 1.0)


def test_per_weight_maps_match_solve_ivp_and_mpmath(eif, eif_reference):
    rng = np.random.default_rng(24)
    fast = kernel_tables([eif], weights=EIF_WEIGHTS)
    phases = rng.uniform(0.0, 1.0, 300)
    v = eif_reference.v_at_phase(phases)
    for weight in EIF_WEIGHTS:
        expected = eif_reference.phase_at_v(v + weight)
        # the two-step path passes the same bound (test_eif_ptc_matches_solve_ivp)
        assert_allclose(_pulses(fast, 0, phases, weight), expected, rtol=0, atol=1e-11)
    mpmath.mp.dps = 30
    delta, drive, tau = (mpmath.mpf(x) for x in ("0.1", "0.1", "0.01"))

    def time_between(a, b):
        knots = [k for k in (EIF_MIN, -1, 0, 1, 2, 5, 10, 100, EIF_SPIKE) if a < k < b]
        return mpmath.quad(lambda x: tau / (-x + delta * mpmath.exp(x / delta) + drive),
                           [a, *knots, b])  # fmt: skip

    period = time_between(EIF_RESET, EIF_SPIKE)
    for phase, weight in zip(rng.uniform(0, 0.99, 4), (-0.5, -0.1, 0.3, 1.0), strict=True):
        start = float(eif.v_of(phase))
        target = mpmath.mpf(float(phase))
        exact_v = mpmath.findroot(
            lambda x, p=target: time_between(EIF_RESET, x) / period - p, start
        )
        exact = float(1 - time_between(exact_v + weight, EIF_SPIKE) / period)
        conditioning = 1.0 + float(eif.ptc_derivative(phase, weight))
        got = _pulses(fast, 0, np.array([phase]), weight)[0]
        assert abs(got - exact) <= 1e-14 * conditioning


def test_per_weight_maps_breaks_and_fallbacks(lif):
    v_fire = 0.7  # a pulse of 0.3 fires from v >= 0.7: phase phi(0.7)
    fast = kernel_tables([lif], weights=[0.3, -0.5])
    generic = kernel_tables([lif])
    fire_phase = float(lif.phase_of(v_fire))
    around = fire_phase + np.array([-1e-9, -1e-13, 0.0, 1e-13, 1e-9])
    assert_array_equal(
        _pulses(fast, 0, around, 0.3) == 1.0, _pulses(generic, 0, around, 0.3) == 1.0
    )
    assert_array_equal(_pulses(fast, 0, around[3:], 0.3), 1.0)
    # clamp break: v + w < v_min below phi(v_min + 0.5); counted as on the two-step path
    clamp_phase = float(lif.phase_of(lif.v_min + 0.5))
    around = clamp_phase + np.array([-1e-9, -1e-13, 1e-13, 1e-9])
    assert_array_equal(_pulses(fast, 0, around, -0.5), _pulses(generic, 0, around, -0.5))
    assert clamp_count(fast) == clamp_count(generic) == 2
    assert fast[CLAMPS].dtype == np.int64 and fast[CLAMPS].shape == (1,)
    # an unstored weight and phases outside the map take the two-step path: same bits
    phases = np.array([lif.phase_min - 0.1, 0.2, 1.0, 1.5])
    for weight in (0.3000000000000001, -0.2, 0.3, -0.5):
        assert_array_equal(_pulses(fast, 0, phases[[0, 2, 3]], weight),
                           _pulses(generic, 0, phases[[0, 2, 3]], weight))  # fmt: skip
    assert _pulses(fast, 0, phases[1:2], -0.2)[0] == _pulses(generic, 0, phases[1:2], -0.2)[0]
    # more than 8 distinct weights: ignored (no maps), the same data as without weights
    # (the last double of the data is the clamp counter)
    many = kernel_tables([lif], weights=np.linspace(-0.5, 0.5, 9))
    assert_array_equal(many[2][:-1], generic[2][:-1])
    assert_array_equal(kernel_tables([lif], weights=[])[2][:-1], generic[2][:-1])
    with pytest.raises(ValueError, match="weights must be finite"):
        kernel_tables([lif], weights=[0.1, np.nan])
    with pytest.raises(ValueError, match="weights must be an array of real numbers"):
        kernel_tables([lif], weights=["a"])
