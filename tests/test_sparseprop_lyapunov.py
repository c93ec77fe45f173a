"""Exact event-based Lyapunov spectra of SparseProp networks (Monteforte & Wolf 2010)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import fixed_out_degree
from neurosrnn.sparseprop import SparsePropNetwork, balanced_network
from neurosrnn.sparseprop import lyapunov as sl
from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum, two_trajectory_exponent


def _theta_network(N, K, *, rate=1.0, seed=1, tau=0.01):
    """Inhibitory balanced theta network: J = -1/sqrt(K), I = tau sqrt(K) J0 rate."""
    graph = fixed_out_degree(N, N, K, seed=seed, weights=-1.0 / math.sqrt(K))
    return SparsePropNetwork("theta", graph, drive=tau * math.sqrt(K) * rate, tau=tau)


@pytest.fixture(scope="module")
def full_theta_spectrum():
    network = _theta_network(100, 10, rate=2.0)
    return network, sl.lyapunov_spectrum(network, n_spikes=40_000, seed=3)


def test_kernel_reproduces_engine_spike_times():
    """The spectrum's own event loop fires the same spikes as SparsePropNetwork.run."""
    network = _theta_network(200, 20, rate=2.0)
    state = network.initial_state(seed=5)
    ours = sl.lyapunov_spectrum(
        network,
        n_spikes=300,
        m=2,
        state=state,
        n_burn_in_spikes=0,
        n_transient_spikes=0,
        record_spikes=True,
    )
    engine = network.run(state, n_spikes=300)
    assert_array_equal(ours.spike_indices, engine.spike_indices)
    assert_allclose(ours.spike_times, engine.spike_times, rtol=0, atol=1e-9)


def test_lif_kernel_reproduces_engine_spike_times_over_long_runs():
    """Inhibitory LIF is not chaotic: spike sequences agree exactly over many spikes."""
    graph = fixed_out_degree(150, 150, 15, seed=2, weights=-1 / math.sqrt(15))
    network = SparsePropNetwork("lif", graph, drive=0.01 * math.sqrt(15) * 2.0, tau=0.01)
    state = network.initial_state(seed=1)
    ours = sl.lyapunov_spectrum(
        network,
        n_spikes=5000,
        m=1,
        state=state,
        n_burn_in_spikes=0,
        n_transient_spikes=0,
        record_spikes=True,
    )
    engine = network.run(state, n_spikes=5000)
    assert_array_equal(ours.spike_indices, engine.spike_indices)
    assert_allclose(ours.spike_times, engine.spike_times, rtol=0, atol=1e-9)


def test_sum_of_spectrum_equals_accumulated_log_contraction(full_theta_spectrum):
    """With m = N, sum ln R_kk = sum over spikes and targets of ln g'(phi) (log det)."""
    _, result = full_theta_spectrum
    assert result.exponents.size == 100
    assert_allclose(result.log_growth.sum(), result.log_contraction, rtol=1e-6)
    assert_allclose(result.exponents.sum(), result.contraction_rate, rtol=1e-6)
    # independent check of the bookkeeping: the sum is negative (dissipative network)
    assert result.log_contraction < 0


def test_exactly_one_exponent_near_zero(full_theta_spectrum):
    """The time-shift direction gives one zero exponent, far closer to 0 than its neighbours."""
    _, result = full_theta_spectrum
    ordered = np.sort(result.exponents)[::-1]
    k = int(np.argmin(np.abs(ordered)))
    spacing = min(ordered[k - 1] - ordered[k], ordered[k] - ordered[k + 1])
    assert abs(ordered[k]) < 0.1 * spacing
    others = np.delete(ordered, k)
    assert np.min(np.abs(others)) > 10 * abs(ordered[k])
    # theta networks are chaotic: a positive largest exponent
    assert ordered[0] > 1.0


def test_zero_exponent_vector_is_the_time_shift_direction(full_theta_spectrum):
    """D omega = omega for every spike: ones (homogeneous drive) is never stretched."""
    network, result = full_theta_spectrum
    omega = network.omega / np.linalg.norm(network.omega)
    # the span of the vectors with exponents >= the zero one contains omega
    k = int(np.argmin(np.abs(result.exponents)))
    basis = result.vectors[:, : k + 1]
    residual = omega - basis @ (basis.T @ omega)
    assert np.linalg.norm(residual) < 1e-6


def test_largest_exponent_agrees_with_two_trajectory_estimate():
    """Jacobian-based lambda_max equals the two-trajectory estimate of the engine."""
    network = _theta_network(200, 20, rate=2.0, seed=4)
    spectrum = sl.lyapunov_spectrum(network, n_spikes=60_000, m=2, seed=1)
    two = sl.largest_exponent_two_trajectory(network, duration=60.0, seed=2)
    combined = math.hypot(spectrum.standard_error[0], two.standard_error)
    assert spectrum.exponents[0] > 0
    assert abs(spectrum.exponents[0] - two.largest_exponent) < 3 * combined


def test_spectrum_is_extensive():
    """lambda_i against i/N is nearly unchanged from N = 500 to N = 1000 at fixed K."""
    K = 50
    curves = {}
    for N in (500, 1000):
        network = _theta_network(N, K, rate=2.0, seed=N)
        result = sl.lyapunov_spectrum(network, n_spikes=40 * N, m=N // 4, seed=1)
        curves[N] = (np.arange(1, N // 4 + 1) / N, result.exponents)
    grid = np.linspace(0.01, 0.24, 24)
    small = np.interp(grid, *curves[500])
    large = np.interp(grid, *curves[1000])
    scale = np.max(np.abs(large))
    assert np.max(np.abs(small - large)) < 0.1 * scale
    # and the two spectra are not trivially equal to a constant
    assert large[0] - large[-1] > 0.3 * scale


def test_inhibitory_lif_network_shows_stable_chaos_spectrum():
    """Inhibitory delta-pulse LIF: one zero exponent, all others negative (stable chaos)."""
    graph = fixed_out_degree(200, 200, 20, seed=1, weights=-1 / math.sqrt(20))
    network = SparsePropNetwork("lif", graph, drive=0.01 * math.sqrt(20) * 5.0, tau=0.01)
    result = sl.lyapunov_spectrum(network, n_spikes=30_000, m=4, seed=1)
    assert abs(result.exponents[0]) < 1e-3
    assert np.all(result.exponents[1:] < -1.0)
    # the derived bound: row-stochastic non-negative Jacobians, no exponent above 0
    two = sl.largest_exponent_two_trajectory(network, duration=20.0, seed=2)
    assert two.largest_exponent < 0
    assert abs(two.largest_exponent - result.exponents[1]) < 0.15 * abs(result.exponents[1])


def test_exact_lif_flux_tubes_small_perturbations_decay_large_ones_grow():
    """Finite-size exponent of the exact LIF dynamics changes sign with the perturbation size."""
    graph = fixed_out_degree(200, 200, 20, seed=1, weights=-1 / math.sqrt(20))
    network = SparsePropNetwork("lif", graph, drive=0.01 * math.sqrt(20) * 5.0, tau=0.01)
    small = sl.largest_exponent_two_trajectory(network, duration=10.0, epsilon=1e-9, seed=2)
    large = sl.largest_exponent_two_trajectory(network, duration=10.0, epsilon=0.1, seed=2)
    assert small.largest_exponent < -10
    assert np.all(small.log_growth < 0)
    assert large.largest_exponent > 10
    assert np.mean(large.log_growth > 0) > 0.5


def test_regenerated_topology_is_accepted():
    network = balanced_network(300, 20, rate=2.0, seed=3)
    result = sl.lyapunov_spectrum(network, n_spikes=3000, m=3, seed=1)
    assert result.exponents.shape == (3,)
    assert result.mean_rate > 0
    assert "SpikingLyapunovResult" in repr(result)
    # the final state continues in the engine
    continued = network.run(result.state, n_spikes=10)
    assert continued.n_spikes == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_spikes": 0}, "n_spikes"),
        ({"n_spikes": 10, "m": 1000}, "m must be <= N"),
        ({"n_spikes": 10, "reorthonormalize_every": 0}, "reorthonormalize_every"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    network = _theta_network(50, 5)
    with pytest.raises(ValueError, match=message):
        sl.lyapunov_spectrum(network, **kwargs)


def test_rejects_excitatory_lif_and_non_networks():
    graph = fixed_out_degree(50, 50, 5, seed=1, weights=0.1)
    network = SparsePropNetwork("lif", graph, drive=0.2, tau=0.01)
    with pytest.raises(ValueError, match="excitatory"):
        sl.lyapunov_spectrum(network, n_spikes=10)
    with pytest.raises(ValueError, match="SparsePropNetwork"):
        sl.lyapunov_spectrum("network", n_spikes=10)
    with pytest.raises(ValueError, match="epsilon"):
        sl.largest_exponent_two_trajectory(_theta_network(50, 5), duration=1.0, epsilon=0)


def test_heterogeneous_drive_time_representation():
    """Per-neuron drives (time-keyed engine): same spikes, sum rule, omega is the zero direction."""
    network = balanced_network(100, 10, rate=2.0, heterogeneity=0.4, seed=2, memory_free=False)
    assert network.representation == "time"
    state = network.initial_state(seed=3)
    ours = sl.lyapunov_spectrum(
        network,
        n_spikes=200,
        m=2,
        state=state,
        n_burn_in_spikes=0,
        n_transient_spikes=0,
        record_spikes=True,
    )
    engine = network.run(state, n_spikes=200)
    assert_array_equal(ours.spike_indices, engine.spike_indices)
    assert_allclose(ours.spike_times, engine.spike_times, rtol=0, atol=1e-9)
    result = sl.lyapunov_spectrum(network, n_spikes=20_000, seed=1)
    assert_allclose(result.log_growth.sum(), result.log_contraction, rtol=1e-6)
    omega = network.omega / np.linalg.norm(network.omega)
    assert np.std(network.omega) > 0.01 * np.mean(network.omega)
    k = int(np.argmin(np.abs(result.exponents)))
    basis = result.vectors[:, : k + 1]
    assert np.linalg.norm(omega - basis @ (basis.T @ omega)) < 1e-6


def test_two_trajectory_exponent_is_the_new_name_of_the_two_trajectory_estimate():
    """Same result under both names; the old one warns; the result type is shared."""
    from neurosrnn.analysis import TwoTrajectoryResult

    network = _theta_network(50, 5, rate=2.0)
    new = sl.two_trajectory_exponent(network, duration=0.5, interval=0.05, seed=2)
    with pytest.warns(DeprecationWarning, match="two_trajectory_exponent"):
        old = sl.largest_exponent_two_trajectory(network, duration=0.5, interval=0.05, seed=2)
    assert isinstance(new, TwoTrajectoryResult)
    assert sl.TwoTrajectoryResult is TwoTrajectoryResult
    assert new.exponent == old.exponent
    assert_array_equal(new.log_growth, old.log_growth)
    assert new.log_growth.size == 10


def test_spiking_result_is_a_lyapunov_result_with_derived_quantities(full_theta_spectrum):
    from neurosrnn.analysis import lyapunov as ly

    network, result = full_theta_spectrum
    assert isinstance(result, ly.LyapunovResult)
    assert result.time_unit == "s"
    assert result.n_spikes == result.n_steps == 40_000
    assert result.kaplan_yorke_dimension == ly.kaplan_yorke_dimension(result.exponents)
    assert result.ks_entropy == ly.ks_entropy(result.exponents)
    total_rate = network.N * result.mean_rate
    assert result.entropy_per_spike == ly.entropy_per_spike(result.exponents, total_rate)


# --------------------------------------------------------------------------- issue 12


def _tabulated_lif(mu, tau):
    from neurosrnn.sparseprop.phase_tables import tabulate

    return tabulate(
        lambda v: (mu - v) / tau, v_reset=0.0, v_threshold=1.0, v_min=-5.0, name="lif", cache=False
    )


@pytest.mark.parametrize("refractory", [None, 0.002])
def test_tabulated_lif_spectrum_equals_the_closed_form_lif_spectrum(refractory):
    tau, mu = 0.01, 1.3
    graph = fixed_out_degree(40, 40, 8, seed=1, weights=-0.2)
    tabulated = SparsePropNetwork(_tabulated_lif(mu, tau), graph, tau=tau, refractory=refractory)
    closed = SparsePropNetwork("lif", graph, drive=mu - 1, tau=tau, refractory=refractory)
    kwargs = {"n_spikes": 2000, "n_burn_in_spikes": 400, "n_transient_spikes": 200, "seed": 1}
    one = lyapunov_spectrum(tabulated, **kwargs, progress=False)
    two = lyapunov_spectrum(closed, **kwargs, progress=False)
    assert_allclose(one.exponents, two.exponents, rtol=0, atol=1e-8)
    assert_allclose(one.log_contraction, two.log_contraction, rtol=1e-10)
    assert_allclose(one.exponents.sum(), one.contraction_rate, rtol=1e-8)


def test_refractory_spectrum_agrees_with_the_two_trajectory_estimate():
    # an inhibitory LIF network with refractoriness is stable: the largest non-zero
    # exponent from the Jacobians matches the separation of two engine trajectories
    graph = fixed_out_degree(40, 40, 8, seed=1, weights=-0.2)
    net = SparsePropNetwork("lif", graph, drive=0.3, tau=0.01, refractory=0.002)
    spectrum = lyapunov_spectrum(net, n_spikes=6000, m=3, seed=2, progress=False)
    nonzero = spectrum.exponents[np.argsort(np.abs(spectrum.exponents))[1:]]
    two = two_trajectory_exponent(net, duration=2.0, seed=2, epsilon=1e-8, progress=False)
    assert spectrum.exponents.max() == pytest.approx(0.0, abs=0.2)
    assert nonzero.max() < -5
    assert two.exponent == pytest.approx(nonzero.max(), rel=0.25)


def test_delays_are_refused_by_the_spectrum_and_handled_by_two_trajectories():
    graph = fixed_out_degree(40, 40, 8, seed=1, weights=-0.2)
    net = SparsePropNetwork("lif", graph, drive=0.3, tau=0.01, delay=0.001, refractory=0.001)
    with pytest.raises(ValueError, match="pulses in flight.*use two_trajectory_exponent"):
        lyapunov_spectrum(net, n_spikes=100)
    result = two_trajectory_exponent(net, duration=1.0, seed=1, progress=False)
    assert np.isfinite(result.exponent) and result.exponent < 0
    # a theta network with delays is chaotic
    theta = balanced_network(300, 30, model="theta", rate=4.0, seed=3)
    theta = SparsePropNetwork(
        "theta",
        theta.connectivity,
        drive=theta.drive[0],
        tau=0.01,
        coupling=theta.coupling,
        delay=0.001,
    )
    assert two_trajectory_exponent(theta, duration=1.0, seed=1, progress=False).exponent > 0
