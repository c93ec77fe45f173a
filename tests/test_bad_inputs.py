"""Catalogue of bad inputs to the public entry points: each is refused at once, by name.

Every case gives the exception type and a fragment of the message that names the
parameter, and runs with the working directory switched to an empty folder (output
paths inside it): nothing is simulated, compiled or written before the error, so the
folder is still empty afterwards. Cases that read a results store or a checkpoint
directory also check that its listing (names, sizes, modification times) is unchanged.

The areas: models, connectivity, recipes and samplers, SparseProp (engine, reference,
Lyapunov spectra), analysis, devices, input coding, the command line (``neurosrnn run``,
``neurosrnn build``, ``neurosrnn sweep``), sweep files, the results store and checkpoints.
"""

import contextlib
import io
import textwrap

import numpy as np
import pytest
from brian2 import DimensionMismatchError, ms, mV

import neurosrnn.analysis as analysis
from neurosrnn import coding, connectivity
from neurosrnn.analysis import timescales
from neurosrnn.devices import Simulation, select_device
from neurosrnn.devices.settings import DeviceSettings
from neurosrnn.models.adex import adex
from neurosrnn.models.alif import alif
from neurosrnn.models.lif import lif
from neurosrnn.models.multitimescale import mat, multi_alif
from neurosrnn.models.networks import (
    balanced_ei_network,
    inhibitory_pulse_network,
    recurrent_network,
)
from neurosrnn.models.theta import qif_period, theta, theta_period
from neurosrnn.models.timescale_samplers import gamma_timescales, uniform_timescales
from neurosrnn.sparseprop import RegeneratedConnectivity, SparsePropNetwork, balanced_network
from neurosrnn.sparseprop import lyapunov as sparseprop_lyapunov
from neurosrnn.sparseprop.reference import simulate_reference
from neurosrnn.sweep.checkpoint import (
    load_checkpointed_spikes,
    run_with_checkpoints,
    sparseprop_checkpointed_run,
)
from neurosrnn.sweep.loop import run_sweep
from neurosrnn.sweep.spec import load_sweep_file
from neurosrnn.sweep.store import (
    CorruptResultError,
    ResultStore,
    UnsupportedFormatError,
    write_arrays_atomic,
)


def _snapshot(root):
    """Every path under `root`, files with their size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        if path.is_file()
        else "folder"
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def place(tmp_path, monkeypatch):
    """An empty working directory (the current one) inside `tmp_path`."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _assert_nothing_written(place):
    assert sorted(p.name for p in place.iterdir()) == []


# ============================================================================ seeds

BAD_SEEDS = [
    pytest.param(-1, ValueError, "seed must be >= 0", id="negative"),
    pytest.param(1.5, TypeError, "seed must be an integer", id="float"),
    pytest.param(2.0, TypeError, "seed must be an integer", id="whole-float"),
    pytest.param("7", TypeError, "seed must be an integer", id="string"),
    pytest.param(True, TypeError, "seed must be an integer", id="bool"),
    pytest.param(2**64, ValueError, "seed must be <=", id="too-large"),
]

SEEDED_CALLS = {
    "fixed_in_degree": lambda seed: connectivity.fixed_in_degree(10, 10, 2, seed=seed),
    "fixed_out_degree": lambda seed: connectivity.fixed_out_degree(10, 10, 2, seed=seed),
    "erdos_renyi": lambda seed: connectivity.erdos_renyi(10, 10, 0.2, seed=seed),
    "balanced_ei": lambda seed: connectivity.balanced_ei(8, 2, 2, J0=1.0, g=4.0, seed=seed),
    "sampler.sample": lambda seed: gamma_timescales(20 * ms, 4).sample(5, seed=seed),
    "recurrent_network": lambda seed: recurrent_network(
        lif(), connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1), seed=seed
    ),
    "balanced_ei_network": lambda seed: balanced_ei_network(
        lif(), 8, 2, 2, J0=0.5 * mV, g=4.0, seed=seed
    ),
    "inhibitory_pulse_network": lambda seed: inhibitory_pulse_network(N=20, K=4, seed=seed),
    "ar1_process": lambda seed: timescales.ar1_process(3.0, 10, seed=seed),
    "ou_process": lambda seed: timescales.ou_process(0.01, 0.001, 0.1, seed=seed),
    "ou_modulated_poisson": lambda seed: timescales.ou_modulated_poisson(
        10.0, 1.0, 0.01, 0.1, seed=seed
    ),
    "branching_process": lambda seed: timescales.branching_process(0.5, 1.0, 10, seed=seed),
    "binomial_subsample": lambda seed: timescales.binomial_subsample([[3]], 0.5, seed=seed),
}


@pytest.mark.parametrize("call", list(SEEDED_CALLS.values()), ids=list(SEEDED_CALLS))
@pytest.mark.parametrize(("seed", "error", "fragment"), BAD_SEEDS)
def test_bad_seed_is_refused_by_name(place, call, seed, error, fragment):
    with pytest.raises(error, match=fragment):
        call(seed)
    _assert_nothing_written(place)


@pytest.mark.parametrize("call", list(SEEDED_CALLS.values()), ids=list(SEEDED_CALLS))
def test_good_seeds_still_work(call):
    call(0)
    call(np.int64(3))


def test_generator_seeds_still_work():
    rng = np.random.default_rng(0)
    assert connectivity.fixed_in_degree(10, 10, 2, seed=rng).n_synapses == 20
    assert gamma_timescales(20 * ms, 4).sample(3, seed=rng).shape == (3,)


# ============================================================================ indices

INDEX_CASES = {
    "indptr-float": (
        lambda: connectivity.Connectivity([0.0, 1.0, 2.0], [1, 0], 2),
        TypeError,
        "indptr must hold integers",
    ),
    "indices-float": (
        lambda: connectivity.Connectivity([0, 1, 2], [1.7, 0.2], 2),
        TypeError,
        "indices must hold integers",
    ),
    "indices-bool": (
        lambda: connectivity.Connectivity([0, 1, 2], [True, False], 2),
        TypeError,
        "indices must hold integers",
    ),
    "record_neurons-float": (
        lambda: recurrent_network(
            lif(),
            connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1),
            record_states=("v",),
            record_neurons=[0.0, 1.5],
        ),
        TypeError,
        "record_neurons must hold integers",
    ),
    "record_neurons-out-of-range": (
        lambda: recurrent_network(
            lif(),
            connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1),
            record_states=("v",),
            record_neurons=[0, 5],
        ),
        ValueError,
        "record_neurons must be <= 4",
    ),
}


@pytest.mark.parametrize(
    ("call", "error", "fragment"), list(INDEX_CASES.values()), ids=list(INDEX_CASES)
)
def test_float_indices_are_refused_by_name(place, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()
    _assert_nothing_written(place)


def test_integer_indices_still_work():
    graph = connectivity.Connectivity(np.array([0, 1, 2], dtype=np.int32), [1, 0], 2)
    assert graph.n_synapses == 2
    assert connectivity.Connectivity([0, 0], [], 3).n_synapses == 0


# ============================================================================ the catalogue
# Each case: id -> (call, exception type, message fragment (a regular expression)).
# `call` takes the working directory; output paths go inside it.

_SPIKES = ([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.45])


def _theta_network(**changes):
    settings = dict(drive=0.2, tau=0.01, coupling=-0.1)
    settings.update(changes)
    return SparsePropNetwork("theta", RegeneratedConnectivity(50, 5, seed=1), **settings)


def _run(network, **options):
    return network.run(network.initial_state(seed=0), progress=False, **options)


MODEL_CASES = {
    "lif-N-zero": (lambda w: lif().make_group(0), ValueError, "N must be a positive integer"),
    "lif-N-float": (lambda w: lif().make_group(2.5), ValueError, "N must be a positive integer"),
    "lif-tau_m-negative": (
        lambda w: lif().make_group(5, tau_m=-1 * ms),
        ValueError,
        "'tau_m' must be > 0",
    ),
    "lif-tau_m-in-volt": (
        lambda w: lif().make_group(5, tau_m=5 * mV),
        DimensionMismatchError,
        "'tau_m' of model 'lif_delta' must have the units",
    ),
    "lif-unknown-parameter": (
        lambda w: lif().make_group(5, tau_x=5 * ms),
        ValueError,
        "Unknown parameter 'tau_x'",
    ),
    "lif-parameter-length": (
        lambda w: lif().make_group(5, tau_m=[1, 2, 3] * ms),
        ValueError,
        "'tau_m' must be a scalar or an array of length N=5",
    ),
    "lif-I_ext-nan": (
        lambda w: lif().make_group(5, I_ext=float("nan") * mV),
        ValueError,
        "'I_ext' must be finite",
    ),
    "lif-reset-above-threshold": (
        lambda w: lif().make_group(5, v_reset=30 * mV),
        ValueError,
        "v_reset must be < v_threshold",
    ),
    "lif-tau_ref-negative": (
        lambda w: lif().make_group(5, tau_ref=-1 * ms),
        ValueError,
        "'tau_ref' must be >= 0",
    ),
    "lif-initial-value-length": (
        lambda w: lif().make_group(5, initial_values={"v": np.zeros(3) * mV}),
        ValueError,
        r"initial_values\['v'\] must be a scalar or an array of length N=5",
    ),
    "lif-initial-value-unknown": (
        lambda w: lif().make_group(5, initial_values={"u": 0 * mV}),
        ValueError,
        r"Unknown state variable\(s\) \['u'\] in initial_values",
    ),
    "lif-synapse-kind": (lambda w: lif(synapse="alpha"), ValueError, "synapse must be one of"),
    "lif-exponential-equal-taus": (
        lambda w: lif(synapse="exponential").make_group(5, tau_m=5 * ms, tau_syn=5 * ms),
        ValueError,
        "tau_syn must differ from tau_m",
    ),
    "alif-unknown-parameter": (
        lambda w: alif().make_group(5, tau_a=3 * ms),
        ValueError,
        "Unknown parameter 'tau_a'",
    ),
    "adex-tau_w-zero": (
        lambda w: adex().make_group(5, tau_w=0 * ms),
        ValueError,
        "'tau_w' must be > 0",
    ),
    "adex-reset-above-peak": (
        lambda w: adex().make_group(5, V_reset=100 * mV),
        ValueError,
        "V_reset must be < V_peak",
    ),
    "theta-pulse_timing": (
        lambda w: theta(pulse_timing="late"),
        ValueError,
        "pulse_timing must be one of",
    ),
    "theta_period-tau_m": (
        lambda w: theta_period(-1 * ms, 1.0),
        ValueError,
        "tau_m must be finite and > 0",
    ),
    "theta_period-I_ext": (
        lambda w: theta_period(10 * ms, -1.0),
        ValueError,
        "I_ext must be finite and > 0",
    ),
    "qif_period-reset-above-peak": (
        lambda w: qif_period(10 * ms, 1.0, v_peak=-20.0, v_reset=-10.0),
        ValueError,
        "v_reset must be < v_peak",
    ),
    "multi_alif-n_adaptation": (
        lambda w: multi_alif(n_adaptation=0),
        ValueError,
        "n_adaptation must be a positive integer",
    ),
    "mat-tau_m-zero": (
        lambda w: mat().make_group(5, tau_m=0 * ms),
        ValueError,
        "'tau_m' must be > 0",
    ),
}

CONNECTIVITY_CASES = {
    "fixed_in_degree-K-above-N": (
        lambda w: connectivity.fixed_in_degree(10, 10, 11, seed=0),
        ValueError,
        "K=11 exceeds",
    ),
    "fixed_in_degree-K-negative": (
        lambda w: connectivity.fixed_in_degree(10, 10, -1, seed=0),
        ValueError,
        "K must be a non-negative integer",
    ),
    "fixed_in_degree-N_pre-zero": (
        lambda w: connectivity.fixed_in_degree(0, 10, 2, seed=0),
        ValueError,
        "N_pre must be a positive integer",
    ),
    "erdos_renyi-p-above-1": (
        lambda w: connectivity.erdos_renyi(10, 10, 1.5, seed=0),
        ValueError,
        "p must be a probability in",
    ),
    "erdos_renyi-p-nan": (
        lambda w: connectivity.erdos_renyi(10, 10, float("nan"), seed=0),
        ValueError,
        "p must be a probability in",
    ),
    "Connectivity-indptr-length": (
        lambda w: connectivity.Connectivity([0, 1], [1, 0], 2),
        ValueError,
        "indices must be 1-D with indptr",
    ),
    "Connectivity-index-range": (
        lambda w: connectivity.Connectivity([0, 1, 2], [1, 5], 2),
        ValueError,
        r"indices must lie in \[0, N_post=2\)",
    ),
    "Connectivity-weights-length": (
        lambda w: connectivity.Connectivity([0, 1, 2], [1, 0], 2, weights=[1.0]),
        ValueError,
        "weights must have one entry per synapse",
    ),
    "Connectivity-indptr-decreasing": (
        lambda w: connectivity.Connectivity([0, 2, 1], [1, 0], 2),
        ValueError,
        "indptr must be non-decreasing",
    ),
    "balanced_ei-K-zero": (
        lambda w: connectivity.balanced_ei(8, 2, 0, J0=1.0, g=4.0, seed=0),
        ValueError,
        "K must be > 0",
    ),
    "balanced_ei-g-negative": (
        lambda w: connectivity.balanced_ei(8, 2, 2, J0=1.0, g=-4.0, seed=0),
        ValueError,
        "g must be a finite number >= 0",
    ),
    "with_weights-length": (
        lambda w: connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights([1.0, 2.0]),
        ValueError,
        "weights must be a scalar or have one entry per synapse",
    ),
}

RECIPE_CASES = {
    "balanced_ei_network-K-zero": (
        lambda w: balanced_ei_network(lif(), 8, 2, 0, J0=0.5 * mV, g=4.0, seed=0),
        ValueError,
        "K must be > 0",
    ),
    "balanced_ei_network-J0-a-time": (
        lambda w: balanced_ei_network(lif(), 8, 2, 2, J0=0.5 * ms, g=4.0, seed=0),
        DimensionMismatchError,
        "J0 must have the units",
    ),
    "balanced_ei_network-K-above-N": (
        lambda w: balanced_ei_network(lif(), 8, 2, 20, J0=0.5 * mV, g=4.0, seed=0),
        ValueError,
        "K=20 exceeds",
    ),
    "inhibitory_pulse_network-rate-a-time": (
        lambda w: inhibitory_pulse_network(N=20, K=4, seed=0, target_rate=5 * ms),
        DimensionMismatchError,
        "target_rate must have units of hertz",
    ),
    "inhibitory_pulse_network-neuron": (
        lambda w: inhibitory_pulse_network(N=20, K=4, seed=0, neuron="adex"),
        ValueError,
        "neuron must be 'theta' or 'lif'",
    ),
    "recurrent_network-record_states": (
        lambda w: recurrent_network(
            lif(),
            connectivity.fixed_in_degree(5, 5, 1, seed=0).with_weights(0.1),
            record_states=("zz",),
        ),
        ValueError,
        r"record_states \['zz'\] are not variables",
    ),
    "recurrent_network-connectivity": (
        lambda w: recurrent_network(lif(), "graph"),
        ValueError,
        "connectivity must be a Connectivity",
    ),
    "gamma_timescales-mean": (
        lambda w: gamma_timescales(-20 * ms, 4),
        ValueError,
        "mean must be finite and > 0",
    ),
    "gamma_timescales-shape": (
        lambda w: gamma_timescales(20 * ms, 0),
        ValueError,
        "shape must be a finite number > 0",
    ),
    "sampler.sample-N": (
        lambda w: gamma_timescales(20 * ms, 4).sample(-1, seed=0),
        ValueError,
        "N must be a positive integer",
    ),
    "uniform_timescales-order": (
        lambda w: uniform_timescales(30 * ms, 10 * ms),
        ValueError,
        r"high \(10. \* msecond\) must be >= low",
    ),
}

SPARSEPROP_CASES = {
    "network-model": (
        lambda w: SparsePropNetwork(
            "hh", RegeneratedConnectivity(50, 5, seed=1), drive=0.2, tau=0.01, coupling=-0.1
        ),
        ValueError,
        "model must be one of",
    ),
    "network-tau-negative": (
        lambda w: _theta_network(tau=-0.01),
        ValueError,
        "tau must be a positive time",
    ),
    "network-drive-length": (
        lambda w: _theta_network(drive=np.ones(3)),
        ValueError,
        "drive must be a scalar or one value per neuron",
    ),
    "network-drive-nan": (
        lambda w: _theta_network(drive=float("nan")),
        ValueError,
        "drive must be finite",
    ),
    "network-coupling-length": (
        lambda w: _theta_network(coupling=[1.0, 2.0]),
        ValueError,
        "coupling must be a scalar or one value per presynaptic neuron",
    ),
    "network-rebase_interval": (
        lambda w: _theta_network(rebase_interval=1.5),
        ValueError,
        "rebase_interval must be a non-negative integer",
    ),
    "network-representation": (
        lambda w: _theta_network(representation="voltage"),
        ValueError,
        "representation must be",
    ),
    "run-n_spikes-negative": (
        lambda w: _run(_theta_network(), n_spikes=-1),
        ValueError,
        "n_spikes must be >= 0",
    ),
    "run-duration-negative": (
        lambda w: _run(_theta_network(), duration=-1.0),
        ValueError,
        "duration must be a time >= 0",
    ),
    "run-no-stop-condition": (
        lambda w: _run(_theta_network()),
        ValueError,
        "give a stop condition: duration and/or n_spikes",
    ),
    "run-state": (
        lambda w: _theta_network().run("state", n_spikes=10),
        ValueError,
        "state must be a SparsePropState",
    ),
    "run-sample_neurons": (
        lambda w: _run(_theta_network(), n_spikes=10, sample_neurons=[99], sample_times=[0.1]),
        ValueError,
        "sample_neurons must be integers",
    ),
    "run-sample_times-in-the-past": (
        lambda w: _run(_theta_network(), n_spikes=10, sample_neurons=[0], sample_times=[-1.0]),
        ValueError,
        "sample_times must not lie before the state's time",
    ),
    "initial_state-phases-length": (
        lambda w: _theta_network().initial_state(phases=np.zeros(3)),
        ValueError,
        "phases must have one entry per neuron",
    ),
    "initial_state-phases-range": (
        lambda w: _theta_network().initial_state(phases=np.full(50, 10.0)),
        ValueError,
        "phases for the theta model must lie in",
    ),
    "balanced_network-K-zero": (
        lambda w: balanced_network(100, 0),
        ValueError,
        "K must be >= 1",
    ),
    "RegeneratedConnectivity-K": (
        lambda w: RegeneratedConnectivity(10, 10, seed=1),
        ValueError,
        "K=10 must be <= N - 1 = 9",
    ),
    "simulate_reference-n_spikes": (
        lambda w: simulate_reference(
            _theta_network(),
            _theta_network().phases(_theta_network().initial_state(seed=0)),
            n_spikes=-1,
        ),  # fmt: skip
        ValueError,
        "n_spikes must be >= 0",
    ),
    "lyapunov_spectrum-n_spikes": (
        lambda w: sparseprop_lyapunov.lyapunov_spectrum(_theta_network(), n_spikes=0),
        ValueError,
        "n_spikes must be an integer >= 1",
    ),
    "lyapunov_spectrum-m": (
        lambda w: sparseprop_lyapunov.lyapunov_spectrum(_theta_network(), n_spikes=10, m=100),
        ValueError,
        "m must be <= N = 50",
    ),
    "lyapunov_spectrum-network": (
        lambda w: sparseprop_lyapunov.lyapunov_spectrum("net", n_spikes=10),
        ValueError,
        "network must be a neurosrnn.sparseprop.SparsePropNetwork",
    ),
    "lyapunov_spectrum-reorthonormalize_every": (
        lambda w: sparseprop_lyapunov.lyapunov_spectrum(
            _theta_network(), n_spikes=10, reorthonormalize_every=0
        ),
        ValueError,
        "reorthonormalize_every must be an integer >= 1",
    ),
    "lyapunov_spectrum-excitatory-lif": (
        lambda w: sparseprop_lyapunov.lyapunov_spectrum(
            SparsePropNetwork(
                "lif", RegeneratedConnectivity(50, 5, seed=1), drive=0.5, tau=0.01, coupling=0.1
            ),
            n_spikes=10,
        ),
        ValueError,
        "LIF networks with excitatory",
    ),
    "two_trajectory_exponent-duration": (
        lambda w: sparseprop_lyapunov.two_trajectory_exponent(_theta_network(), duration=-1.0),
        ValueError,
        "duration must be a finite number > 0",
    ),
    "two_trajectory_exponent-epsilon": (
        lambda w: sparseprop_lyapunov.two_trajectory_exponent(
            _theta_network(), duration=1.0, epsilon=0.0
        ),
        ValueError,
        "epsilon must be a finite number > 0",
    ),
    "two_trajectory_exponent-interval": (
        lambda w: sparseprop_lyapunov.two_trajectory_exponent(
            _theta_network(), duration=1.0, interval=-1.0
        ),
        ValueError,
        "interval must be a finite time > 0",
    ),
}

ANALYSIS_CASES = {
    "cv-t_stop-missing": (
        lambda w: analysis.cv(_SPIKES),
        ValueError,
        "t_stop is required for array input",
    ),
    "cv-t_stop-before-t_start": (
        lambda w: analysis.cv(_SPIKES, t_start=1.0, t_stop=0.5),
        ValueError,
        "t_stop must be > t_start",
    ),
    "cv-t_stop-in-volt": (
        lambda w: analysis.cv(_SPIKES, t_stop=1 * mV),
        DimensionMismatchError,
        "t_stop must be a time",
    ),
    "cv-N-too-small": (
        lambda w: analysis.cv(_SPIKES, N=1, t_stop=1.0),
        ValueError,
        "spike indices must be < N=1",
    ),
    "firing_rates-lengths": (
        lambda w: analysis.firing_rates(([0, 1], [0.1]), t_stop=1.0),
        ValueError,
        "spike indices and times must be 1-D arrays of equal length",
    ),
    "bin_spike_counts-bin_size-zero": (
        lambda w: analysis.bin_spike_counts(_SPIKES, 0.0, t_stop=1.0),
        ValueError,
        "bin_size must be a time > 0",
    ),
    "bin_spike_counts-bin_size-in-volt": (
        lambda w: analysis.bin_spike_counts(_SPIKES, 5 * mV, t_stop=1.0),
        DimensionMismatchError,
        "bin_size must be a time",
    ),
    "time_histogram-output": (
        lambda w: analysis.time_histogram(_SPIKES, 0.1, output="counts2", t_stop=1.0),
        ValueError,
        "output must be 'counts', 'mean' or 'rate'",
    ),
    "cross_correlograms-bin-above-max_lag": (
        lambda w: analysis.cross_correlograms(_SPIKES, 0.1, 0.05, t_stop=1.0),
        ValueError,
        r"bin_size \(0.1 s\) must not exceed max_lag",
    ),
    "sttc_matrix-dt": (
        lambda w: analysis.sttc_matrix(_SPIKES, -0.01, t_stop=1.0),
        ValueError,
        "dt must be a time > 0",
    ),
    "spike_time_tiling_coefficient-window": (
        lambda w: analysis.spike_time_tiling_coefficient(
            [0.1], [0.2], 0.01, t_start=1.0, t_stop=0.0
        ),
        ValueError,
        "t_stop must be > t_start",
    ),
    "direct_timescale-dt-zero": (
        lambda w: analysis.direct_timescale(np.arange(100.0) % 7, 0.0, 10),
        ValueError,
        "dt must be a time > 0",
    ),
    "direct_timescale-dt-nan": (
        lambda w: analysis.direct_timescale(np.arange(100.0) % 7, float("nan"), 10),
        ValueError,
        "dt must be a finite time",
    ),
    "direct_timescale-max_lag": (
        lambda w: analysis.direct_timescale(np.arange(100.0) % 7, 0.01, 200),
        ValueError,
        r"max_lag must be an integer in \[1, 99\]",
    ),
    "autocorrelation-max_lag": (
        lambda w: analysis.autocorrelation(np.zeros(10), -1),
        ValueError,
        "max_lag must be an integer in",
    ),
    "van_rossum_distances-tau": (
        lambda w: analysis.van_rossum_distances(_SPIKES, 0.0, t_stop=1.0),
        ValueError,
        "tau must be a time > 0",
    ),
    "victor_purpura_distances-q": (
        lambda w: analysis.victor_purpura_distances(_SPIKES, -1.0, t_stop=1.0),
        ValueError,
        "q must be a frequency >= 0",
    ),
    "detect_bursts-max_isi": (
        lambda w: analysis.detect_bursts(_SPIKES, -0.1, t_stop=1.0),
        ValueError,
        "max_isi must be a time > 0",
    ),
    "detect_bursts-min_spikes": (
        lambda w: analysis.detect_bursts(_SPIKES, 0.1, min_spikes=1, t_stop=1.0),
        ValueError,
        "min_spikes must be >= 2",
    ),
    "golomb_chi-traces-shape": (
        lambda w: analysis.golomb_chi(np.zeros(5)),
        ValueError,
        "traces must have shape",
    ),
    "ar1_process-tau_steps": (
        lambda w: analysis.ar1_process(-3.0, 10, seed=0),
        ValueError,
        "tau_steps must be > 0",
    ),
    "ou_process-dt": (
        lambda w: analysis.ou_process(0.01, -0.001, 0.1, seed=0),
        ValueError,
        "dt must be a time > 0",
    ),
}

DEVICE_CASES = {
    "Simulation-build_network": (
        lambda w: Simulation("net", 1 * ms),
        ValueError,
        "build_network must be a callable",
    ),
    "Simulation-duration-negative": (
        lambda w: Simulation(lambda: None, -1 * ms),
        ValueError,
        "duration must be > 0",
    ),
    "Simulation-duration-plain-number": (
        lambda w: Simulation(lambda: None, 1.0),
        DimensionMismatchError,
        "duration must be a time",
    ),
    "Simulation-dt-zero": (
        lambda w: Simulation(lambda: None, 1 * ms, dt=0 * ms),
        ValueError,
        "dt must be > 0",
    ),
    "Simulation-report": (
        lambda w: Simulation(lambda: None, 1 * ms, report="file"),
        ValueError,
        "report must be None",
    ),
    "Simulation-device": (
        lambda w: Simulation(lambda: None, 1 * ms, device="tpu", directory="project"),
        ValueError,
        "device must be one of",
    ),
    "Simulation-device-option": (
        lambda w: Simulation(lambda: None, 1 * ms, foo=1),
        ValueError,
        r"Unknown device option\(s\) \['foo'\]",
    ),
    "Simulation-metadata": (
        lambda w: Simulation(lambda: None, 1 * ms, metadata={"x": object()}),
        TypeError,
        "metadata must be JSON-serialisable",
    ),
    "DeviceSettings-compute_capability": (
        lambda w: DeviceSettings(name="cuda_standalone", compute_capability=1.0),
        ValueError,
        "compute_capability must be a number like 9.0",
    ),
    "DeviceSettings-openmp_threads": (
        lambda w: DeviceSettings(name="cpp_standalone", openmp_threads=-1),
        ValueError,
        "openmp_threads must be an integer >= 0",
    ),
    "select_device-name": (
        lambda w: select_device("gpu"),
        ValueError,
        "device must be one of",
    ),
}

CODING_CASES = {
    "encode-T": (
        lambda w: coding.encode(np.zeros(3), "rate", 0, seed=0),
        ValueError,
        r"T \(number of time steps\) must be an integer >= 1",
    ),
    "encode-coding": (
        lambda w: coding.encode(np.zeros(3), "phase", 5, seed=0),
        ValueError,
        "Unknown coding 'phase'",
    ),
    "encode-x-range": (
        lambda w: coding.encode(np.full(3, 2.0), "rate", 5, seed=0),
        ValueError,
        r"x must contain finite values in \[0, 1\]",
    ),
    "encode-seed-negative": (
        lambda w: coding.encode(np.zeros(3), "rate", 5, seed=-1),
        ValueError,
        "seed must be >= 0",
    ),
    "encode-seed-float": (
        lambda w: coding.encode(np.zeros(3), "rate", 5, seed=0.5),
        TypeError,
        "seed must be an integer",
    ),
    "as_timed_array-dt": (
        lambda w: coding.as_timed_array(np.zeros((3, 2)), -1 * ms),
        ValueError,
        "dt must be > 0",
    ),
}


class CommandLineFailed(Exception):
    """``neurosrnn ARGV`` ended with a non-zero status (the message: status and stderr)."""


def _cli(*argv):
    """Run ``neurosrnn ARGV`` in this process; raise `CommandLineFailed` unless it succeeds."""
    from neurosrnn.cli import main

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            code = main([str(item) for item in argv])
    except SystemExit as error:  # argparse
        code = error.code
    message = stderr.getvalue()
    assert "Traceback" not in message, message
    if code:
        raise CommandLineFailed(f"exit status {code}: {' '.join(message.split())}")
    return code


_RUN = ("run", "lif", "--device", "runtime", "--duration", "5ms", "--N", "20", "--K", "4")

CLI_CASES = {
    "run-N-zero": (
        lambda w: _cli(*_RUN, "--N", "0", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--N: expected a positive integer",
    ),
    "run-K-above-N": (
        lambda w: _cli(*_RUN, "--K", "25", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*K=25 exceeds",
    ),
    "run-duration-in-volt": (
        lambda w: _cli(*_RUN, "--duration", "5mV", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--duration: expected a positive time",
    ),
    "run-seed-negative": (
        lambda w: _cli(*_RUN, "--seed", "-1", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--seed: expected an integer >= 0",
    ),
    "run-seed-float": (
        lambda w: _cli(*_RUN, "--seed", "1.5", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--seed: expected an integer >= 0",
    ),
    "run-dt-zero": (
        lambda w: _cli(*_RUN, "--dt", "0ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--dt: expected a positive time",
    ),
    "run-set-negative-tau": (
        lambda w: _cli(*_RUN, "--set", "tau_m=-1ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*'tau_m' must be > 0",
    ),
    "run-set-unknown": (
        lambda w: _cli(*_RUN, "--set", "nope=1", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*unknown parameter 'nope' .* in --set",
    ),
    "run-set-syntax": (
        lambda w: _cli(*_RUN, "--set", "tau_m", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--set expects NAME=VALUE",
    ),
    "run-record-unknown": (
        lambda w: _cli(*_RUN, "--record", "zz", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--record 'zz' is not a state",
    ),
    "run-out-under-a-file": (
        lambda w: _cli(*_RUN, "--out", w.parent / "afile" / "out"),
        CommandLineFailed,
        "exit status 2: .*--out .* which is a file",
    ),
    "run-out-is-a-file": (
        lambda w: _cli(*_RUN, "--out", w.parent / "afile"),
        CommandLineFailed,
        "exit status 2: .*--out .* exists and is not a folder",
    ),
    "run-build-dir-is-a-file": (
        lambda w: _cli(*_RUN, "--out", "out", "--build-dir", w.parent / "afile"),
        CommandLineFailed,
        "exit status 2: .*--build-dir .* exists and is not a folder",
    ),
    "run-device": (
        lambda w: _cli("run", "lif", "--device", "tpu", "--duration", "5ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--device: invalid choice",
    ),
    "run-model": (
        lambda w: _cli("run", "nosuch", "--device", "runtime", "--duration", "5ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*unknown model 'nosuch'",
    ),
    "run-sweep-value": (
        lambda w: _cli(*_RUN, "--sweep", "tau_m=1ms,-2ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*'tau_m' must be > 0",
    ),
    "run-sweep-unknown": (
        lambda w: _cli(*_RUN, "--sweep", "nope=1,2", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*unknown parameter 'nope'",
    ),
    "run-spec-missing": (
        lambda w: _cli(*_RUN, "--spec", "nofile.toml", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--spec file 'nofile.toml' does not exist",
    ),
    "run-g-negative": (
        lambda w: _cli(*_RUN, "--g", "-1", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*g must be a finite number >= 0",
    ),
    "run-J0-a-time": (
        lambda w: _cli(*_RUN, "--J0", "1ms", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*J0 must have the units",
    ),
    "run-excitatory-fraction": (
        lambda w: _cli(*_RUN, "--excitatory-fraction", "1.5", "--out", "out"),
        CommandLineFailed,
        r"exit status 2: .*--excitatory-fraction must lie in \[0, 1\]",
    ),
    "run-trained-without-inputs": (
        lambda w: _cli("run", "--trained", "nostem", "--device", "runtime", "--out", "out"),
        CommandLineFailed,
        "exit status 2: .*--trained needs --inputs",
    ),
    "build-openmp-threads": (
        lambda w: _cli(
            "build",
            "lif",
            "--device",
            "cpp_standalone",
            "--no-compile",
            "--openmp-threads",
            "-1",
            "--duration",
            "5ms",
            "--N",
            "20",
            "--K",
            "4",
            "--out",
            "out",
        ),  # fmt: skip
        CommandLineFailed,
        "exit status 2: .*openmp_threads must be an integer >= 0",
    ),
    "build-compute-capability": (
        lambda w: _cli(
            "build",
            "lif",
            "--device",
            "cuda_standalone",
            "--no-compile",
            "--compute-capability",
            "1.0",
            "--duration",
            "5ms",
            "--N",
            "20",
            "--K",
            "4",
            "--out",
            "out",
        ),  # fmt: skip
        CommandLineFailed,
        "exit status 2: .*compute_capability must be a number like 9.0",
    ),
}

# ---------------------------------------------------------------------------- sweep files

_SWEEP = """
[sweep]
store = "results"
scheduler = "serial"
{sweep}
[network]
model = "lif"
N_excitatory = 40
N_inhibitory = 10
K = 5
J0 = "0.5 mV"
g = 4
duration = "20 ms"
{network}
[parameters]
g = [3, 5]
{parameters}
"""


def _sweep_file(work, sweep="", network="", parameters="", replace=()):
    """Write a sweep file next to the working directory (its store resolves there)."""
    text = _SWEEP.format(sweep=sweep, network=network, parameters=parameters)
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    path = work.parent / "spec" / "sweep.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


SWEEP_FILE_CASES = {
    "K-above-N": (
        lambda w: load_sweep_file(_sweep_file(w, replace=[("K = 5", "K = 50")])),
        ValueError,
        "K must be <= N - 1 = 49",
    ),
    "dt-zero": (
        lambda w: load_sweep_file(_sweep_file(w, network='dt = "0 ms"')),
        ValueError,
        "dt must be a time > 0",
    ),
    "dt-nan": (
        lambda w: load_sweep_file(_sweep_file(w, network="dt = nan")),
        ValueError,
        "dt must be finite",
    ),
    "codegen_target": (
        lambda w: load_sweep_file(_sweep_file(w, network='codegen_target = "cuda"')),
        ValueError,
        "codegen_target must be one of",
    ),
    "unknown-parameter": (
        lambda w: load_sweep_file(_sweep_file(w, parameters='nope = ["1 ms"]')),
        ValueError,
        "sweep parameter 'nope'",
    ),
    "invalid-toml": (
        lambda w: load_sweep_file(_sweep_file(w, network="K = = 5")),
        ValueError,
        "is not valid TOML",
    ),
    "seeds-negative": (
        lambda w: load_sweep_file(_sweep_file(w, sweep="seeds = [-1]")),
        ValueError,
        r"\[sweep\] seeds must be integers >= 0",
    ),
    "mode": (
        lambda w: load_sweep_file(_sweep_file(w, sweep='mode = "sobol"')),
        ValueError,
        r"\[sweep\] mode must be 'grid' or 'random'",
    ),
    "workers-zero": (
        lambda w: load_sweep_file(_sweep_file(w, sweep="workers = 0")),
        ValueError,
        r"\[sweep\] workers must be an integer >= 1",
    ),
    "store-under-a-file": (
        lambda w: load_sweep_file(
            _sweep_file(w, replace=[('store = "results"', f'store = "{w.parent}/afile/r"')])
        ),
        ValueError,
        r"\[sweep\] store .* which is a file",
    ),
    "J0-a-time": (
        lambda w: load_sweep_file(_sweep_file(w, replace=[('J0 = "0.5 mV"', 'J0 = "0.5 ms"')])),
        DimensionMismatchError,
        "J0 must have the units",
    ),
    "model": (
        lambda w: load_sweep_file(_sweep_file(w, replace=[('model = "lif"', 'model = "hh"')])),
        ValueError,
        "unknown model 'hh'",
    ),
    "empty-grid-axis": (
        lambda w: load_sweep_file(_sweep_file(w, replace=[("g = [3, 5]", "g = []")])),
        ValueError,
        r"\[parameters\] g is an empty grid axis",
    ),
    "sweep-command-file-missing": (
        lambda w: _cli("sweep", "nofile.toml"),
        CommandLineFailed,
        "exit status 2: .*sweep file 'nofile.toml' does not exist",
    ),
    "sweep-command-workers-zero": (
        lambda w: _cli("sweep", _sweep_file(w), "--workers", "0"),
        CommandLineFailed,
        "exit status 2: .*--workers must be > 0, got 0",
    ),
    "sweep-command-table-is-a-folder": (
        lambda w: _cli("sweep", _sweep_file(w), "--table", w.parent / "spec"),
        CommandLineFailed,
        "exit status 2: .*--table .* is a folder",
    ),
    "sweep-command-table-under-a-file": (
        lambda w: _cli("sweep", _sweep_file(w), "--table", w.parent / "afile" / "t.csv"),
        CommandLineFailed,
        "exit status 2: .*--table folder .*afile.* is not a folder",
    ),
    "sweep-command-store-is-a-file": (
        lambda w: _cli("sweep", _sweep_file(w), "--store", w.parent / "afile"),
        CommandLineFailed,
        "exit status 2: .*store .* exists and is not a folder",
    ),
    "sweep-command-K-above-N": (
        lambda w: _cli("sweep", _sweep_file(w, replace=[("K = 5", "K = 50")]), "--store", "st"),
        CommandLineFailed,
        "exit status 2: .*K must be <= N - 1 = 49",
    ),
    "sweep-command-unit": (
        lambda w: _cli("sweep", _sweep_file(w, replace=[("g = 4", 'g = "4 mV"')]), "--quiet"),
        CommandLineFailed,
        "exit status 2: .*g must be a dimensionless number >= 0, got 4",
    ),
}

GENERAL_CASES = {
    **{f"model:{name}": case for name, case in MODEL_CASES.items()},
    **{f"connectivity:{name}": case for name, case in CONNECTIVITY_CASES.items()},
    **{f"recipe:{name}": case for name, case in RECIPE_CASES.items()},
    **{f"sparseprop:{name}": case for name, case in SPARSEPROP_CASES.items()},
    **{f"analysis:{name}": case for name, case in ANALYSIS_CASES.items()},
    **{f"device:{name}": case for name, case in DEVICE_CASES.items()},
    **{f"coding:{name}": case for name, case in CODING_CASES.items()},
    **{f"cli:{name}": case for name, case in CLI_CASES.items()},
    **{f"sweep-file:{name}": case for name, case in SWEEP_FILE_CASES.items()},
}


@pytest.mark.parametrize(
    ("call", "error", "fragment"), list(GENERAL_CASES.values()), ids=list(GENERAL_CASES)
)
def test_bad_input_is_refused_by_name_before_any_write(place, call, error, fragment):
    (place.parent / "afile").write_text("a file, not a folder")
    before = _snapshot(place.parent)
    with pytest.raises(error, match=fragment):
        call(place)
    _assert_nothing_written(place)
    after = _snapshot(place.parent)
    after.pop("spec/sweep.toml", None)  # the sweep file a case wrote itself
    after.pop("spec", None)
    assert after == before  # nothing written next to the working directory either


# ============================================================================ store


def _spikes(seed):
    rng = np.random.default_rng(seed)
    return {"spike_indices": rng.integers(0, 5, 10), "spike_times": np.sort(rng.uniform(0, 1, 10))}


class _Runner:
    def identity(self):
        return {"runner": "catalogue"}

    def __call__(self, point, seed):
        raise AssertionError("a refused sweep must not run anything")


def _populated_store(root):
    """A store with two good runs, one of another format version and one copied file."""
    store = ResultStore(root / "store")
    store.save("run-a", _spikes(1), seed=1)
    store.save("run-b", _spikes(2), seed=2)
    write_arrays_atomic(store.path("run-v"), _spikes(3), {"format_version": 99, "key": "run-v"})
    store.path("run-c").write_bytes(store.path("run-a").read_bytes())  # misplaced copy
    truncated = store.path("run-t")
    truncated.write_bytes(store.path("run-b").read_bytes()[:200])
    return store


STORE_CASES = {
    "save-key-path": (
        lambda w, s: s.save("../x", _spikes(0)),
        ValueError,
        "invalid run key '../x'",
    ),
    "save-key-hidden": (
        lambda w, s: s.save(".x", _spikes(0)),
        ValueError,
        "invalid run key '.x'",
    ),
    "save-result-not-a-dict": (
        lambda w, s: s.save("run-x", [1, 2]),
        ValueError,
        "a run result must be a dict",
    ),
    "save-result-without-spike_times": (
        lambda w, s: s.save("run-x", {"spike_indices": [0]}),
        ValueError,
        "a run result must contain 'spike_times'",
    ),
    "save-result-lengths": (
        lambda w, s: s.save("run-x", {"spike_indices": [0, 1], "spike_times": [0.1]}),
        ValueError,
        "spike_indices and spike_times must have the same length",
    ),
    "save-states-without-times": (
        lambda w, s: s.save("run-x", {**_spikes(0), "states": {"v": np.zeros((2, 3))}}),
        ValueError,
        "a result with 'states' must contain 'state_times'",
    ),
    "load-missing": (
        lambda w, s: s.load("run-missing"),
        FileNotFoundError,
        "run-missing.npz",
    ),
    "load-other-format-version": (
        lambda w, s: s.load("run-v"),
        UnsupportedFormatError,
        "result format version 99",
    ),
    "load-file-of-another-run": (
        lambda w, s: s.load("run-c"),
        CorruptResultError,
        "holds run run-a, expected run-c",
    ),
    "load-truncated": (
        lambda w, s: s.load("run-t"),
        CorruptResultError,
        "run-t.npz is unreadable",
    ),
    "store-is-a-file": (
        lambda w, s: ResultStore(w.parent / "afile"),
        ValueError,
        "directory .*afile.* exists and is not a folder",
    ),
    "run_sweep-n_workers": (
        lambda w, s: run_sweep(_Runner(), [{"g": 1.0}], store=s.directory, n_workers=0),
        ValueError,
        "n_workers must be a positive integer",
    ),
    "run_sweep-no-points": (
        lambda w, s: run_sweep(_Runner(), [], store=s.directory, scheduler="serial"),
        ValueError,
        "the sweep has no parameter points",
    ),
    "run_sweep-no-seeds": (
        lambda w, s: run_sweep(_Runner(), [{"g": 1.0}], seeds=[], store=s.directory),
        ValueError,
        "seeds must contain at least one seed",
    ),
    "run_sweep-duplicate-points": (
        lambda w, s: run_sweep(
            _Runner(), [{"g": 1.0}, {"g": 1.0}], store=s.directory, scheduler="serial"
        ),
        ValueError,
        "duplicate",
    ),
    "run_sweep-store-under-a-file": (
        lambda w, s: run_sweep(
            _Runner(), [{"g": 1.0}], store=w.parent / "afile" / "store", scheduler="serial"
        ),
        ValueError,
        "store .* which is a file",
    ),
    "run_sweep-other-format-version": (
        lambda w, s: __import__("neurosrnn.sweep.loop", fromlist=["run_one"]).run_one(
            _Runner(), {"g": 1.0}, 0, s, analysis=None, key="run-v"
        ),
        UnsupportedFormatError,
        "result format version 99",
    ),
}


@pytest.mark.parametrize(
    ("call", "error", "fragment"), list(STORE_CASES.values()), ids=list(STORE_CASES)
)
def test_bad_store_input_is_refused_and_the_store_is_unchanged(place, call, error, fragment):
    (place.parent / "afile").write_text("a file, not a folder")
    store = _populated_store(place.parent)
    before = _snapshot(place.parent)
    with pytest.raises(error, match=fragment):
        call(place, store)
    _assert_nothing_written(place)
    assert _snapshot(place.parent) == before  # the store's listing and files unchanged


# ============================================================================ checkpoints


def _clock_advance(state, n):
    """A toy engine: `n` spikes of neuron 0, one per unit of time."""
    clock = float(state["clock"])
    times = clock + np.arange(1, n + 1, dtype=float)
    return np.zeros(n, np.int64), times, {"clock": np.array(times[-1])}


def _populated_checkpoints(root):
    """A finished SparseProp run of 300 spikes in 3 chunks, and a toy run of 50 spikes."""
    network = _theta_network()
    sparseprop_checkpointed_run(
        network, network.initial_state(seed=1), directory=root / "sparseprop", n_spikes=300,
        every=100,
    )  # fmt: skip
    run_with_checkpoints(_clock_advance, {"clock": np.array(0.0)}, directory=root / "toy",
                         n_spikes=50, every=20, fingerprint={"N": 1})  # fmt: skip
    return root


CHECKPOINT_CASES = {
    "every-zero": (
        lambda w, r: run_with_checkpoints(
            _clock_advance, {"clock": np.array(0.0)}, directory=w / "ck", n_spikes=10, every=0
        ),
        ValueError,
        "every must be a positive integer",
    ),
    "n_spikes-negative": (
        lambda w, r: run_with_checkpoints(
            _clock_advance, {"clock": np.array(0.0)}, directory=w / "ck", n_spikes=-1, every=3
        ),
        ValueError,
        "n_spikes must be a positive integer",
    ),
    "directory-under-a-file": (
        lambda w, r: run_with_checkpoints(
            _clock_advance,
            {"clock": np.array(0.0)},
            directory=r / "afile" / "ck",
            n_spikes=10,
            every=3,
        ),  # fmt: skip
        ValueError,
        "directory .* which is a file",
    ),
    "fingerprint-mismatch": (
        lambda w, r: run_with_checkpoints(
            _clock_advance,
            {"clock": np.array(0.0)},
            directory=r / "toy",
            n_spikes=60,
            every=20,
            fingerprint={"N": 2},
        ),  # fmt: skip
        ValueError,
        r"fingerprint mismatch.*\(differs: N\)",
    ),
    "fewer-spikes-than-saved": (
        lambda w, r: run_with_checkpoints(
            _clock_advance,
            {"clock": np.array(0.0)},
            directory=r / "toy",
            n_spikes=30,
            every=20,
            fingerprint={"N": 1},
        ),  # fmt: skip
        ValueError,
        "n_spikes=30 is smaller than the 50 spikes already saved",
    ),
    "sparseprop-other-coupling": (
        lambda w, r: sparseprop_checkpointed_run(
            _theta_network(coupling=-0.2),
            _theta_network().initial_state(seed=1),
            directory=r / "sparseprop",
            n_spikes=400,
            every=100,
        ),  # fmt: skip
        ValueError,
        r"fingerprint mismatch.*coupling",
    ),
    "sparseprop-other-initial-state": (
        lambda w, r: sparseprop_checkpointed_run(
            _theta_network(),
            _theta_network().initial_state(seed=2),
            directory=r / "sparseprop",
            n_spikes=400,
            every=100,
        ),  # fmt: skip
        ValueError,
        r"fingerprint mismatch.*initial_state",
    ),
    "sparseprop-fewer-spikes": (
        lambda w, r: sparseprop_checkpointed_run(
            _theta_network(),
            _theta_network().initial_state(seed=1),
            directory=r / "sparseprop",
            n_spikes=200,
            every=100,
        ),  # fmt: skip
        ValueError,
        "n_spikes=200 is smaller than the 300 spikes",
    ),
    "sparseprop-n_spikes-float": (
        lambda w, r: sparseprop_checkpointed_run(
            _theta_network(),
            _theta_network().initial_state(seed=1),
            directory=r / "sparseprop",
            n_spikes=400.0,
            every=100,
        ),  # fmt: skip
        ValueError,
        "n_spikes must be a positive integer",
    ),
    "load-missing-directory": (
        lambda w, r: load_checkpointed_spikes(w / "nothing-here"),
        FileNotFoundError,
        "no checkpoint directory",
    ),
    "load-empty-directory": (
        lambda w, r: load_checkpointed_spikes(w),
        FileNotFoundError,
        "no checkpoint in",
    ),
}


@pytest.mark.parametrize(
    ("call", "error", "fragment"), list(CHECKPOINT_CASES.values()), ids=list(CHECKPOINT_CASES)
)
def test_bad_checkpoint_input_is_refused_and_the_directory_is_unchanged(
    place, call, error, fragment
):
    (place.parent / "afile").write_text("a file, not a folder")
    root = _populated_checkpoints(place.parent)
    before = _snapshot(root)
    with pytest.raises(error, match=fragment):
        call(place, root)
    _assert_nothing_written(place)
    assert _snapshot(root) == before  # checkpoint folders: same files, sizes and times


def test_the_catalogue_covers_every_area_with_enough_cases():
    counts = {
        "models": len(MODEL_CASES),
        "connectivity": len(CONNECTIVITY_CASES) + 3 * len(BAD_SEEDS) + 3,
        "recipes": len(RECIPE_CASES) + 3 * len(BAD_SEEDS) + 2,
        "sparseprop": len(SPARSEPROP_CASES),
        "analysis": len(ANALYSIS_CASES) + 5 * len(BAD_SEEDS),
        "devices": len(DEVICE_CASES),
        "cli": len(CLI_CASES),
        "sweep files": len(SWEEP_FILE_CASES),
        "store": len(STORE_CASES),
        "checkpoints": len(CHECKPOINT_CASES),
    }
    assert all(count >= 5 for count in counts.values()), counts
    total = (
        len(BAD_SEEDS) * len(SEEDED_CALLS)
        + len(INDEX_CASES)
        + len(GENERAL_CASES)
        + len(STORE_CASES)
        + len(CHECKPOINT_CASES)
    )
    assert total >= 100
