"""Perturbation measures on Brian2 networks (numpy target), checked against exact results."""

import math

import brian2
import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, ms, mV, second
from brian2.devices.device import RuntimeDevice, get_device
from numpy.testing import assert_allclose

from neurosrnn import perturbation as pt
from neurosrnn.connectivity import fixed_out_degree
from neurosrnn.models.lif import lif
from neurosrnn.models.theta import theta
from neurosrnn.sparseprop import SparsePropNetwork
from neurosrnn.sparseprop import lyapunov as sl

N, K, RATE, TAU = 200, 20, 5.0, 0.01
WEIGHT = -1.0 / math.sqrt(K)
DRIVE = TAU * math.sqrt(K) * RATE

# Pulses with sub-step spike timing (theta(pulse_timing="interpolated")): on the dt grid,
# infinitesimal shifts of a spike time never reach the targets and the clock-driven
# tangent dynamics loses the term that makes the network chaotic (Hansel et al. 1998).
THETA_ON_PRE_WITH_SPIKE_TIMING = theta(pulse_timing="interpolated").coupling_on_pre


@pytest.fixture(autouse=True)
def _quiet_brian2():
    brian2.BrianLogger.suppress_name("brian2.codegen.generators")
    yield


def _graph(seed=1):
    return fixed_out_degree(N, N, K, seed=seed, weights=WEIGHT)


def _theta_builder(graph, dt):
    model = theta()

    def build():
        group = NeuronGroup(
            N,
            model.equations,
            threshold="theta > pi",
            # a pulse in the spiking step already wraps theta into (-pi, pi)
            reset="theta = theta - 2*pi*int(theta > pi)",
            method="rk4",
            dt=dt,
        )
        group.tau_m = TAU * second
        group.I_ext = DRIVE
        synapses = Synapses(group, group, "w : 1", on_pre=THETA_ON_PRE_WITH_SPIKE_TIMING, dt=dt)
        graph.connect(synapses)
        group.theta = np.random.default_rng(0).uniform(-np.pi, np.pi, N)
        return Network(group, synapses), group

    return build


def _lif_builder(graph):
    model = lif()

    def build():
        # normalised LIF: reset 0, threshold 1 mV, drive (1 + I) mV, delta pulses
        group = model.make_group(
            N, v_threshold=1 * mV, v_reset=0 * mV, I_ext=(1 + DRIVE) * mV, tau_ref=0 * ms
        )
        synapses = Synapses(group, group, "w : volt", on_pre=model.coupling_on_pre)
        graph.connect(synapses, weight_unit=mV)
        group.v = np.random.default_rng(0).uniform(0, 1, N) * mV
        return Network(group, synapses), group

    return build


@pytest.mark.slow
def test_clock_driven_theta_exponent_matches_exact_event_based_value():
    """Brian2 (numpy, clock-driven) lambda_max within 10 % of the exact SparseProp value."""
    graph = _graph()
    exact = sl.lyapunov_spectrum(
        SparsePropNetwork("theta", graph, drive=DRIVE, tau=TAU), n_spikes=100_000, m=2, seed=1
    )
    measured = pt.two_trajectory_lyapunov(
        _theta_builder(graph, 0.5 * ms),
        "theta",
        duration=5 * second,
        interval=100 * ms,
        burn_in=0.3 * second,
        transient=0.3 * second,
        period=2 * np.pi,
        epsilon=1e-8,
    )
    assert exact.exponents[0] > 5
    assert abs(measured.largest_exponent - exact.exponents[0]) < 0.1 * exact.exponents[0]
    assert measured.log_growth.size == 50


def test_lif_stable_chaos_shows_in_finite_size_exponent():
    """Inhibitory LIF: small perturbations decay, large ones grow (flux tubes)."""
    graph = _graph()
    exact = sl.lyapunov_spectrum(
        SparsePropNetwork("lif", graph, drive=DRIVE, tau=TAU), n_spikes=20_000, m=3, seed=1
    )
    assert exact.exponents[1] < 0  # largest non-zero exponent of the exact dynamics
    result = pt.finite_size_lyapunov(
        _lif_builder(graph),
        "v",
        epsilons=[1e-9, 1e-4],  # volt: 1e-6 mV and 0.1 mV (norm over 200 neurons)
        interval=50 * ms,
        n_intervals=10,
        burn_in=0.2 * second,
    )
    assert result.exponents[0] < 0
    assert result.fraction_growing[0] == 0
    assert result.exponents[1] > 0
    assert result.fraction_growing[1] > 0.5
    assert "FiniteSizeLyapunov" in repr(result)


def test_extra_spike_causes_divergence_in_lif_network():
    """One extra spike in a stable-chaos LIF network: the spike trains decorrelate."""
    graph = _graph()
    curve = pt.extra_spike_experiment(
        _lif_builder(graph),
        "v",
        neuron=3,
        spike_value=1.5 * mV,
        duration=150 * ms,
        sample_interval=10 * ms,
        burn_in=0.1 * second,
    )
    assert curve.times.size == 15
    assert_allclose(curve.times[-1], 0.15)
    # the extra spike itself appears in the perturbed run at the first step
    first_ref = curve.reference_spikes[1][curve.reference_spikes[0] == 3]
    first_pert = curve.perturbed_spikes[1][curve.perturbed_spikes[0] == 3]
    assert first_pert[0] < 1e-3 and (first_ref.size == 0 or first_ref[0] > first_pert[0])
    # divergence: the spike-train distance at the end exceeds that of one spike (<= 1)
    assert curve.spike_distance[-1] > 2.0
    # the state distance grows beyond the initial kick of one neuron
    assert curve.distance[-1] > 2 * curve.initial_distance


def test_spike_train_distance_by_hand():
    """Van Rossum distance of one extra spike decays as exp(-t/tau)."""
    reference = (np.array([0, 1]), np.array([0.01, 0.02]))
    perturbed = (np.array([0, 1, 2]), np.array([0.01, 0.02, 0.03]))
    times = np.array([0.025, 0.03, 0.04, 0.05])
    distance = pt.spike_train_distance(reference, perturbed, 3, times, 0.01)
    assert_allclose(distance, [0.0, 1.0, math.exp(-1), math.exp(-2)], rtol=1e-12)
    # identical trains: zero
    assert_allclose(pt.spike_train_distance(reference, reference, 3, times, 0.01), 0.0)


def test_divergence_curve_of_uncoupled_neurons_is_analytic():
    """Uncoupled LIF below threshold: a perturbation decays exactly as exp(-t/tau_m)."""

    def build():
        group = lif().make_group(5, I_ext=10 * mV, tau_ref=0 * ms)
        return Network(group, SpikeMonitor(group)), group

    curve = pt.divergence_curve(
        build, "v", perturbation=np.full(5, 1e-3), duration=20 * ms, sample_interval=4 * ms
    )
    expected = math.sqrt(5) * 1e-3 * np.exp(-curve.times / 0.01)
    assert_allclose(curve.distance, expected, rtol=1e-6)
    assert np.all(curve.extra_spikes == 0)
    # the same decay gives lambda = -1/tau_m in the two-trajectory measure
    result = pt.two_trajectory_lyapunov(build, "v", duration=20 * ms, interval=5 * ms)
    assert_allclose(result.largest_exponent, -100.0, rtol=1e-6)


def test_bad_input_raises_before_simulating():
    graph = _graph()
    build = _lif_builder(graph)
    with pytest.raises(ValueError, match="not a state variable"):
        pt.two_trajectory_lyapunov(build, "u", duration=1 * second, interval=10 * ms)
    with pytest.raises(ValueError, match="duration"):
        pt.two_trajectory_lyapunov(build, "v", duration=-1 * second, interval=10 * ms)
    with pytest.raises(brian2.DimensionMismatchError):
        pt.two_trajectory_lyapunov(build, "v", duration=1 * mV, interval=10 * ms)
    with pytest.raises(ValueError, match="epsilons"):
        pt.finite_size_lyapunov(build, "v", epsilons=[-1.0], interval=10 * ms, n_intervals=2)
    with pytest.raises(ValueError, match="tuple"):
        pt.two_trajectory_lyapunov(lambda: 3, "v", duration=1 * second, interval=10 * ms)
    with pytest.raises(ValueError, match="constant|writable"):
        pt.two_trajectory_lyapunov(build, "tau_m", duration=1 * second, interval=10 * ms)


@pytest.mark.standalone
@pytest.mark.slow
def test_standalone_device_gives_the_analytic_decay_rate():
    """cpp_standalone: one compile, one binary run per interval and copy, exact state handover."""

    def build():
        group = lif().make_group(5, I_ext=10 * mV, tau_ref=0 * ms)
        return Network(group, SpikeMonitor(group)), group

    result = pt.two_trajectory_lyapunov(
        build, "v", duration=20 * ms, interval=5 * ms, device="cpp_standalone"
    )
    assert_allclose(result.largest_exponent, -100.0, rtol=1e-6)
    assert isinstance(get_device(), RuntimeDevice)


@pytest.mark.standalone
@pytest.mark.slow
def test_standalone_lif_finite_size_exponent_changes_sign():
    """The stable-chaos signature of the LIF network also on the C++ standalone device."""
    result = pt.finite_size_lyapunov(
        _lif_builder(_graph()),
        "v",
        epsilons=[1e-9, 1e-4],
        interval=50 * ms,
        n_intervals=8,
        burn_in=0.2 * second,
        device="cpp_standalone",
    )
    assert result.exponents[0] < 0
    assert result.exponents[1] > 0


@pytest.mark.standalone
@pytest.mark.slow
def test_standalone_extra_spike_matches_runtime_reference_run():
    """Extra-spike experiment on cpp_standalone: same reference spikes as the runtime run."""
    kwargs = dict(
        neuron=3,
        spike_value=1.5 * mV,
        duration=60 * ms,
        sample_interval=10 * ms,
        burn_in=50 * ms,
    )
    runtime = pt.extra_spike_experiment(_lif_builder(_graph()), "v", **kwargs)
    standalone = pt.extra_spike_experiment(
        _lif_builder(_graph()), "v", device="cpp_standalone", **kwargs
    )
    for curve in (runtime, standalone):
        assert curve.perturbed_spikes[0][0] == 3  # the extra spike comes first
    reference_runtime = np.column_stack(runtime.reference_spikes)
    reference_standalone = np.column_stack(standalone.reference_spikes)
    assert reference_runtime.shape == reference_standalone.shape
    assert_allclose(reference_standalone, reference_runtime, atol=1e-9)
    assert standalone.spike_distance[-1] > 1.0


def test_two_trajectory_exponent_new_name_old_name_and_result_type():
    """two_trajectory_lyapunov and TwoTrajectoryLyapunov are deprecated aliases."""
    from neurosrnn.analysis import TwoTrajectoryResult

    def build():
        group = lif().make_group(5, I_ext=10 * mV, tau_ref=0 * ms)
        return Network(group), group

    new = pt.two_trajectory_exponent(build, "v", duration=10 * ms, interval=5 * ms)
    with pytest.warns(DeprecationWarning, match="two_trajectory_exponent"):
        old = pt.two_trajectory_lyapunov(build, "v", duration=10 * ms, interval=5 * ms)
    assert isinstance(new, TwoTrajectoryResult)
    assert new.variable == "v"
    assert new.exponent == old.exponent
    assert_allclose(new.exponent, -100.0, rtol=1e-6)
    with pytest.warns(DeprecationWarning, match="TwoTrajectoryResult"):
        assert pt.TwoTrajectoryLyapunov is TwoTrajectoryResult
