"""Brian2 equations and library models become exact SparseProp networks (`exact_network`)."""

import numpy as np
import pytest
from brian2 import TimedArray, ms, mV
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn.connectivity import Connectivity, fixed_out_degree
from neurosrnn.models import adex, alif, lif, multi_alif, theta
from neurosrnn.sparseprop import SparsePropNetwork
from neurosrnn.sparseprop.from_brian2 import exact_network

N = 40
LIF_EQUATIONS = "dv/dt = (v_inf - v)/tau : volt"


def _graph(seed=3, K=4):
    """40 neurons, 4 targets each: neurons 0..29 excitatory, 30..39 inhibitory."""
    graph = fixed_out_degree(N, N, K, seed=seed)
    excitatory = graph.sources < 30
    return graph, excitatory


def _assert_same_spikes(first, second):
    assert first.n_spikes > 50
    assert_array_equal(first.spike_indices, second.spike_indices)
    assert_allclose(first.spike_times, second.spike_times, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- closed forms


def test_lif_equations_give_the_spikes_of_the_closed_form_engine():
    """E/I populations with different reset/threshold; weights in mV of v, mixed signs."""
    graph, excitatory = _graph()
    weights_mV = np.where(excitatory, 0.4, -1.5)
    populations = [
        (30, {"v_inf": -45 * mV, "v_th": -50 * mV, "v_r": -60 * mV}),
        (10, {"v_inf": -40 * mV, "v_th": -50 * mV, "v_r": -56 * mV}),
    ]
    net = exact_network(
        LIF_EQUATIONS,
        graph.with_weights(weights_mV * 1e-3),  # volt, as for recurrent_network
        threshold="v > v_th",
        reset="v = v_r",
        parameters={"tau": 20 * ms},
        populations=populations,
    )
    assert net.mapping.kind == "lif" and str(net.mapping.unit) == "mV"
    # the engine's normalised LIF, by hand: V = (v - v_r)/(v_th - v_r)
    span = np.r_[np.full(30, 10.0), np.full(10, 6.0)]
    drive = np.r_[np.full(30, 5.0 / 10.0), np.full(10, 10.0 / 6.0)]
    direct = SparsePropNetwork(
        "lif", graph.with_weights(weights_mV / span[graph.indices]), drive=drive, tau=0.02
    )
    v0 = np.random.default_rng(1).uniform(-60, -51, N)
    v_reset = np.r_[np.full(30, -60.0), np.full(10, -56.0)]
    from_brian2 = net.run(net.mapping.initial_state(v0 * mV), duration=0.2)
    by_hand = direct.run(direct.initial_state(model_state=(v0 - v_reset) / span), duration=0.2)
    _assert_same_spikes(from_brian2, by_hand)
    # the mapping reads the model's voltage back (mV)
    assert_allclose(net.mapping.values(net.mapping.initial_state(v0 * mV)), v0, atol=1e-12)


def test_library_lif_without_refractoriness_is_the_closed_form():
    graph, excitatory = _graph(seed=4)
    weights_mV = np.where(excitatory, 0.5, -2.0)
    net = exact_network(
        lif(),
        graph.with_weights(weights_mV * 1e-3),
        parameters={"tau_ref": 0 * ms, "I_ext": 25 * mV},
    )
    # defaults: v_rest 0, v_reset 10 mV, v_threshold 20 mV, tau_m 10 ms: drive (25-20)/10
    direct = SparsePropNetwork("lif", graph.with_weights(weights_mV / 10.0), drive=0.5, tau=0.01)
    phases = np.random.default_rng(2).uniform(0, 1, N)
    _assert_same_spikes(
        net.run(net.initial_state(phases), duration=0.2),
        direct.run(direct.initial_state(phases), duration=0.2),
    )


@pytest.mark.parametrize(
    "model, threshold, reset, parameters",
    [
        (theta(), None, None, {"tau_m": 10 * ms, "I_ext": 0.1}),
        (theta("interpolated"), None, None, {"tau_m": 10 * ms, "I_ext": 0.1}),
        (
            "dtheta/dt = ((1 - cos(theta)) + (1 + cos(theta))*I)/tau : 1",
            "theta > pi",
            "theta = -pi",
            {"tau": 10 * ms, "I": 0.1},
        ),
        ("dv/dt = (v**2 + I)/tau : 1", "v > inf", "v = -inf", {"tau": 10 * ms, "I": 0.1}),
    ],
    ids=["library-theta", "library-theta-interpolated", "theta-string", "qif-string"],
)
def test_theta_and_qif_equations_give_the_spikes_of_the_closed_form_engine(
    model, threshold, reset, parameters
):
    graph, excitatory = _graph(seed=5)
    weights = np.where(excitatory, 0.05, -0.4)
    net = exact_network(
        model, graph.with_weights(weights), threshold=threshold, reset=reset, parameters=parameters
    )
    assert net.mapping.kind == "theta"
    direct = SparsePropNetwork("theta", graph.with_weights(weights), drive=0.1, tau=0.01)
    phases = np.random.default_rng(3).uniform(-np.pi, np.pi, N)
    _assert_same_spikes(
        net.run(net.initial_state(phases), duration=0.3),
        direct.run(direct.initial_state(phases), duration=0.3),
    )


def test_shifted_scaled_qif_populations_keep_their_own_periods():
    """tau dv/dt = (v - 2)^2 + I per population: period pi tau/sqrt(I) (Ermentrout-Kopell)."""
    graph = Connectivity(np.zeros(N + 1, dtype=int), np.zeros(0, dtype=int), N, weights=[])
    tau = np.r_[np.full(20, 10.0), np.full(20, 4.0)] * 1e-3
    drive = np.r_[np.full(20, 0.1), np.full(20, 0.7)]
    net = exact_network(
        "dv/dt = ((v - 2)**2 + I)/tau : 1",
        graph,
        threshold="v > inf",
        reset="v = -inf",
        populations=[(20, {"tau": 10 * ms, "I": 0.1}), (20, {"tau": 4 * ms, "I": 0.7})],
    )
    result = net.run(net.mapping.initial_state(np.linspace(-3, 5, N)), duration=0.5)
    for neuron in (0, 25):
        isi = np.diff(result.spike_times[result.spike_indices == neuron])
        assert_allclose(isi, np.pi * tau[neuron] / np.sqrt(drive[neuron]), rtol=1e-12)
    values = np.linspace(-3, 5, N)
    assert_allclose(net.mapping.values(net.mapping.initial_state(values)), values, atol=1e-12)


# --------------------------------------------------------------------------- eligibility


def _eligible_error(model, **kwargs):
    graph, _ = _graph()
    with pytest.raises(ValueError, match="not eligible for the exact engine") as error:
        exact_network(model, graph.with_weights(0.1), **kwargs)
    return str(error.value)


def test_adex_is_refused_for_its_second_equation_and_adaptation_reset():
    message = _eligible_error(adex())
    assert "2 differential equations (V, w)" in message
    assert "its reset changes 'w' ('w += b')" in message and "adaptation" in message


@pytest.mark.parametrize("factory", [alif, multi_alif])
def test_alif_and_multi_alif_are_refused_with_every_reason(factory):
    message = _eligible_error(factory())
    assert "differential equations" in message
    assert "depends on the state" in message and "adaptive threshold" in message
    assert "is not constant" in message  # v -= ... (reset relative to the value at the spike)
    assert "change I_synaptic_post, not v_post" in message  # a current synapse


@pytest.mark.parametrize(
    "equations, extra, expected",
    [
        ("dv/dt = (-v + I)/tau + xi*tau**-0.5 : 1", {}, "noise (xi)"),
        ("dv/dt = (-v + I*(1 + sin(t/ms)))/tau : 1", {}, "depends on time explicitly (t)"),
        (
            "dv/dt = (-v + I*stimulus(t))/tau : 1",
            {"namespace": {"stimulus": TimedArray([1.0, 2.0], dt=1 * ms)}},
            "calls 'stimulus' (TimedArray)",
        ),
        ("dv/dt = (-v + I)/tau : 1", {"reset": "v -= 1"}, "'v -= 1' is not constant"),
        (
            "dv/dt = (-v + I)/tau : 1",
            {"on_pre": "v_post += w*(E - v_post)"},
            "a conductance synapse",
        ),
        (
            "dv/dt = (g*(E - v) + I - v)/tau : 1\ng : 1",
            {"on_pre": "g_post += w"},
            "change g_post, not v_post",
        ),
        (
            "dv/dt = (-v + I - a)/tau : 1\nda/dt = -a/tau : 1",
            {"reset": "v = 0\na += 0.1"},
            "its reset changes 'a'",
        ),
    ],
    ids=["noise", "time", "timed-array", "relative-reset", "conductance", "g-synapse", "adapt"],
)
def test_ineligible_equations_say_why(equations, extra, expected):
    arguments = {"threshold": "v > 1", "reset": "v = 0", **extra}
    message = _eligible_error(
        equations, parameters={"I": 2.0, "tau": 10 * ms, "E": 2.0}, **arguments
    )
    assert expected in message


def test_heterogeneous_values_unknown_names_and_silent_neurons_are_refused():
    graph, _ = _graph()
    graph = graph.with_weights(-1e-4)
    common = {"threshold": "v > -50*mV", "reset": "v = -60*mV"}
    with pytest.raises(ValueError, match="heterogeneous per-neuron values are not eligible"):
        exact_network(
            LIF_EQUATIONS,
            graph,
            parameters={"v_inf": np.linspace(-45, -40, N) * mV, "tau": 20 * ms},
            **common,
        )
    with pytest.raises(ValueError, match=r"unknown identifier\(s\) \['v_inf'\]"):
        exact_network(LIF_EQUATIONS, graph, parameters={"tau": 20 * ms}, **common)
    with pytest.raises(ValueError, match=r"no tonic firing: the LIF relaxes to v = -52 \(in mV\)"):
        exact_network(
            LIF_EQUATIONS, graph, parameters={"v_inf": -52 * mV, "tau": 20 * ms}, **common
        )
    with pytest.raises(ValueError, match="no tonic firing"):
        exact_network(
            "dv/dt = (v**2 - 1)/tau : 1",
            graph.with_weights(-0.1),
            threshold="v > inf",
            reset="v = -inf",
            parameters={"tau": 10 * ms},
        )
    with pytest.raises(ValueError, match="need threshold= and reset="):
        exact_network(LIF_EQUATIONS, graph)
    with pytest.raises(ValueError, match="give synaptic weights"):
        exact_network(
            LIF_EQUATIONS,
            fixed_out_degree(N, N, 4, seed=1),
            parameters={"v_inf": -45 * mV, "tau": 20 * ms},
            **common,
        )
    with pytest.raises(ValueError, match="must be positive and add up to N = 40"):
        exact_network(
            LIF_EQUATIONS,
            graph,
            parameters={"tau": 20 * ms},
            populations=[(30, {"v_inf": -45 * mV}), (5, {"v_inf": -40 * mV})],
            **common,
        )


# --------------------------------------------------------------------------- phase tables

EIF = "dv/dt = (-v + Delta_T*exp(v/Delta_T) + I)/tau : 1"
#: SparseProp's EIF in dimensionless voltage (Engelken 2023): Delta_T = 0.1, reset -1
EIF_PARAMETERS = {"Delta_T": 0.1, "I": 0.1, "tau": 10 * ms}


@pytest.fixture
def table_cache(tmp_path, monkeypatch):
    """Phase tables are cached under the test's own folder, not the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))


def _unconnected(n):
    return Connectivity(np.zeros(n + 1, dtype=int), np.zeros(0, dtype=int), n, weights=[])


def test_lif_populations_with_different_tau_fall_back_to_tables(table_cache):
    """Free periods tau_ref + tau ln((v_inf - v_r)/(v_inf - v_th)), refractoriness included."""
    net = exact_network(
        lif(),
        _unconnected(4),
        populations=[
            (2, {"tau_m": 10 * ms, "I_ext": 25 * mV, "tau_ref": 2 * ms}),
            (2, {"tau_m": 20 * ms, "I_ext": 40 * mV, "tau_ref": 0 * ms}),
        ],
    )
    assert net.mapping.kind == "tabulated" and len(net.mapping.tables) == 2
    delayed = exact_network(lif(), _unconnected(4), parameters={"I_ext": 30 * mV}, delay=1.5 * ms)
    assert delayed.delay == pytest.approx(1.5e-3)
    assert_allclose(net.mapping.refractory, [2e-3, 2e-3, 0.0, 0.0])
    result = net.run(net.mapping.initial_state(np.array([0, 5, 10, 15]) * mV), duration=0.3)
    for neuron, tau, v_inf, refractory in [(0, 0.01, 25, 2e-3), (3, 0.02, 40, 0.0)]:
        isi = np.diff(result.spike_times[result.spike_indices == neuron])
        period = refractory + tau * np.log((v_inf - 10) / (v_inf - 20))
        assert_allclose(isi, period, rtol=1e-9)


def test_eif_populations_are_the_tables_built_by_hand(table_cache):
    from neurosrnn.sparseprop.phase_tables import tabulate

    graph, excitatory = _graph(seed=6, K=3)
    graph = graph.with_weights(np.where(excitatory, 0.02, -0.1))
    net = exact_network(
        EIF,
        graph,
        threshold="v > 1000",
        reset="v = -1",
        parameters=EIF_PARAMETERS,
        populations=[(30, {}), (10, {"I": 0.3})],
    )
    assert net.mapping.kind == "tabulated"

    def rate(drive):
        return lambda v: (-v + 0.1 * np.exp(np.minimum(v / 0.1, 700.0)) + drive) / 0.01

    by_hand = [
        tabulate(rate(drive), v_reset=-1.0, v_threshold=1000.0, v_min=-1.0 - 1.001, cache=False)
        for drive in (0.1, 0.3)
    ]
    direct = SparsePropNetwork(
        by_hand, graph, tau=by_hand[0].period, populations=np.repeat([0, 1], [30, 10])
    )
    v0 = np.random.default_rng(4).uniform(-1, 0.5, N)
    from_brian2 = net.run(net.mapping.initial_state(v0), duration=0.1)
    reference = direct.run(direct.initial_state(by_hand_phases(by_hand, v0)), duration=0.1)
    assert from_brian2.n_spikes > 50
    assert_array_equal(from_brian2.spike_indices, reference.spike_indices)
    assert_allclose(from_brian2.spike_times, reference.spike_times, rtol=0, atol=1e-10)


def by_hand_phases(tables, v0):
    return np.r_[tables[0].phase_of(v0[:30]), tables[1].phase_of(v0[30:])]


def test_eif_network_from_brian2_strings_matches_brian2_at_first_order_in_dt(table_cache):
    """The exact EIF network against Brian2 (runtime, numpy) at dt = 0.1, 0.01, 0.001 ms.

    Brian2 integrates with forward Euler and detects the spike at v > 2 (the exact network
    at the reference's v > 1000). Euler evaluates f only at the current v < 2, where
    exp(v/Delta_T) <= e^20 is finite; Runge-Kutta stages evaluate f past the blow-up,
    where exp overflows and inf - inf gives NaN. From v = 2 to v = 1000 the free flow
    takes tau e^{-20}, about 2e-11 s, negligible against the errors measured here. Near
    the blow-up Euler converges like dt log(1/dt) (the error ratio per decade of dt is
    then about 10 ln(1/dt_1)/ln(1/dt_2), 7 to 9 here), hence the band [5, 20].
    """
    from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, second

    n = 30
    graph = fixed_out_degree(n, n, 3, seed=7)
    graph = graph.with_weights(np.where(graph.sources < 24, 0.02, -0.08))
    net = exact_network(
        EIF,
        graph,
        threshold="v > v_spike",
        reset="v = -1",
        parameters={**EIF_PARAMETERS, "v_spike": 1000.0},
    )
    v0 = np.random.default_rng(1).uniform(-1, 0.5, n)
    exact = net.run(net.mapping.initial_state(v0), duration=0.045)
    n_first = 36
    assert exact.n_spikes >= n_first
    mean_errors = []
    for dt in (0.1, 0.01, 0.001):
        neurons = NeuronGroup(
            n,
            EIF,
            threshold="v > 2",
            reset="v = -1",
            method="euler",
            dt=dt * ms,
            namespace=EIF_PARAMETERS,
        )
        neurons.v = v0
        synapses = Synapses(neurons, neurons, "w : 1", on_pre="v_post += w", dt=dt * ms)
        graph.connect(synapses)
        monitor = SpikeMonitor(neurons)
        Network(neurons, synapses, monitor).run(45 * ms)
        indices = np.array(monitor.i[:], dtype=np.int64)
        times = np.array(monitor.t[:] / second)
        order = np.lexsort((indices, times))
        errors = []
        for k in range(n_first):
            neuron = exact.spike_indices[k]
            occurrence = np.count_nonzero(exact.spike_indices[:k] == neuron)
            errors.append(abs(times[indices == neuron][occurrence] - exact.spike_times[k]))
        assert max(errors) < 25 * dt * 1e-3  # every spike within a few dozen steps
        mean_errors.append(np.mean(errors))
    ratios = np.array(mean_errors[:-1]) / np.array(mean_errors[1:])
    assert np.all((ratios > 5) & (ratios < 20)), (ratios, mean_errors)
    # at dt = 0.001 ms Brian2 fires in the exact order
    assert_array_equal(indices[order][:n_first], exact.spike_indices[:n_first])
