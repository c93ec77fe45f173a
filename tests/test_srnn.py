"""SRNN network: Brian2 (numpy target, exact integration) vs a plain numpy map."""

import numpy as np
import pytest
from brian2 import ms, mV
from brian2.units.fundamentalunits import DimensionMismatchError
from numpy.testing import assert_array_equal

from neurosrnn.models.srnn import SRNNNetwork, srnn_network


def discrete_srnn(
    inputs,
    w_in,
    w_rec,
    w_ff,
    w_out,
    biases,
    out_bias,
    tau_m,
    tau_adp,
    tau_out,
    b0,
    beta,
    u_init,
    r_m=1.0,
):
    """Reference: the discrete SRNN map of Yin, Corradi & Bohte (2021), taus in steps.

    Every layer sees the same-step spikes of the layer below; the recurrent input
    and the soft reset use the previous step's own spikes.
    """
    n_steps = inputs.shape[0]
    n_layers = len(tau_m)
    alpha = [np.exp(-1.0 / t) for t in tau_m]
    rho = [np.exp(-1.0 / t) for t in tau_adp]
    alpha_out = np.exp(-1.0 / tau_out)
    u = [np.array(x, dtype=float) for x in u_init]
    b = [np.full(len(t), b0) for t in tau_m]
    s = [np.zeros(len(t)) for t in tau_m]
    m = np.zeros(len(tau_out))
    spikes = [np.zeros((n_steps, len(t))) for t in tau_m]
    membranes = [np.zeros((n_steps, len(t))) for t in tau_m]
    readout = np.zeros((n_steps, len(tau_out)))
    for step in range(n_steps):
        below = inputs[step] @ w_in.T
        for layer in range(n_layers):
            current = below + biases[layer]
            if w_rec[layer] is not None:
                current = current + w_rec[layer] @ s[layer]
            b[layer] = rho[layer] * b[layer] + (1 - rho[layer]) * s[layer]
            threshold = b0 + beta * b[layer]
            u[layer] = (
                alpha[layer] * u[layer] + (1 - alpha[layer]) * r_m * current - threshold * s[layer]
            )
            s[layer] = (u[layer] > threshold).astype(float)
            spikes[layer][step] = s[layer]
            membranes[layer][step] = u[layer]
            if layer + 1 < n_layers:
                below = w_ff[layer] @ s[layer]
        m = alpha_out * m + (1 - alpha_out) * r_m * (w_out @ s[-1] + out_bias)
        readout[step] = m
    return spikes, membranes, readout


def _random_problem(rng, sizes, n_inputs=12, n_outputs=4, n_steps=300):
    inputs = (rng.random((n_steps, n_inputs)) < 0.2).astype(float)
    w_in = rng.normal(0.0, 1.2, (sizes[0], n_inputs))
    w_rec = [rng.normal(0.0, 0.4, (n, n)) * (rng.random((n, n)) < 0.5) for n in sizes]
    for w in w_rec:
        np.fill_diagonal(w, 0.0)
    w_ff = [rng.normal(0.2, 0.6, (sizes[k + 1], sizes[k])) for k in range(len(sizes) - 1)]
    w_out = rng.normal(0.0, 1.0, (n_outputs, sizes[-1]))
    biases = [rng.normal(0.05, 0.05, n) for n in sizes]
    out_bias = rng.normal(0.0, 0.1, n_outputs)
    tau_m = [rng.uniform(3.0, 40.0, n) for n in sizes]
    tau_adp = [rng.uniform(20.0, 400.0, n) for n in sizes]
    tau_out = rng.uniform(2.0, 30.0, n_outputs)
    u_init = [rng.uniform(0.0, 0.01, n) for n in sizes]
    return dict(
        inputs=inputs,
        w_in=w_in,
        w_rec=w_rec,
        w_ff=w_ff,
        w_out=w_out,
        biases=biases,
        out_bias=out_bias,
        tau_m=tau_m,
        tau_adp=tau_adp,
        tau_out=tau_out,
        u_init=u_init,
    )


def _build(problem, sizes, dt, b0=0.01, beta=1.8, r_m=1.0):
    return srnn_network(
        problem["inputs"].shape[1],
        sizes,
        len(problem["tau_out"]),
        input_currents=problem["inputs"],
        dt=dt,
        tau_m=[t * dt for t in problem["tau_m"]],
        tau_adp=[t * dt for t in problem["tau_adp"]],
        tau_out=problem["tau_out"] * dt,
        input_weights=problem["w_in"],
        recurrent_weights=problem["w_rec"],
        feedforward_weights=problem["w_ff"],
        output_weights=problem["w_out"],
        biases=problem["biases"],
        output_bias=problem["out_bias"],
        b0=b0,
        beta=beta,
        R_m=r_m,
        initial_membrane=problem["u_init"],
    )


@pytest.mark.parametrize(
    "sizes, r_m", [([40], 1.0), ([30, 25, 20], 1.3)], ids=["one_layer", "three_layers"]
)
def test_srnn_network_matches_discrete_map(sizes, r_m):
    rng = np.random.default_rng(2021)
    problem = _random_problem(rng, sizes)
    dt = 4 * ms
    net = _build(problem, sizes, dt, r_m=r_m)
    net.run()
    spikes, membranes, readout = discrete_srnn(
        problem["inputs"],
        problem["w_in"],
        problem["w_rec"],
        problem["w_ff"],
        problem["w_out"],
        problem["biases"],
        problem["out_bias"],
        problem["tau_m"],
        problem["tau_adp"],
        problem["tau_out"],
        0.01,
        1.8,
        problem["u_init"],
        r_m,
    )
    for layer in range(len(sizes)):
        # the comparison is meaningful only if the layer is active but not saturated
        assert 0.01 < spikes[layer].mean() < 0.5
        assert_array_equal(net.spike_matrix(layer), spikes[layer])
        assert np.max(np.abs(net.membrane(layer) - membranes[layer])) <= 1e-12
    assert np.max(np.abs(net.readout_trace() - readout)) <= 1e-12
    assert np.std(readout) > 1e-3


def test_srnn_network_repr_and_accessors():
    rng = np.random.default_rng(5)
    problem = _random_problem(rng, [8, 6], n_steps=20)
    net = _build(problem, [8, 6], 1 * ms)
    assert isinstance(net, SRNNNetwork)
    text = repr(net)
    assert "layers [8, 6]" in text and "20 steps" in text
    net.run()
    steps, indices = net.spike_steps(1)
    assert np.all((steps >= 0) & (steps < 20)) and np.all(indices < 6)
    assert net.membrane(0).shape == (20, 8)
    assert net.readout_trace().shape == (20, 4)
    with pytest.raises(ValueError, match="layer"):
        net.spike_steps(2)


def test_srnn_network_precomputed_layer_currents():
    """Without input weights, input_currents are the layer-0 currents themselves."""
    rng = np.random.default_rng(9)
    problem = _random_problem(rng, [10], n_inputs=10, n_steps=100)
    currents = problem["inputs"] @ problem["w_in"].T
    common = dict(
        dt=1 * ms,
        tau_m=problem["tau_m"][0] * ms,
        tau_adp=problem["tau_adp"][0] * ms,
        tau_out=problem["tau_out"] * ms,
        recurrent_weights=problem["w_rec"],
        output_weights=problem["w_out"],
    )
    direct = srnn_network(10, [10], 4, input_currents=currents, **common)
    projected = srnn_network(
        10, [10], 4, input_currents=problem["inputs"], input_weights=problem["w_in"], **common
    )
    direct.run()
    projected.run()
    assert direct.spike_matrix(0).sum() > 0
    assert_array_equal(direct.spike_matrix(0), projected.spike_matrix(0))


def _minimal(**overrides):
    kwargs = dict(
        n_inputs=3,
        layer_sizes=[4],
        n_outputs=2,
        input_currents=np.zeros((5, 3)),
        input_weights=np.ones((4, 3)),
        dt=1 * ms,
        tau_m=20 * ms,
        tau_adp=200 * ms,
        tau_out=20 * ms,
        output_weights=np.ones((2, 4)),
    )
    kwargs.update(overrides)
    return kwargs


def test_srnn_network_all_zero_weights_build_and_run():
    """Zero matrices give empty projections (Brian2 rejects empty index arrays otherwise)."""
    net = srnn_network(
        **_minimal(output_weights=np.zeros((2, 4)), recurrent_weights=[np.zeros((4, 4))])
    )
    assert net.n_layers == 1 and len(net.readout_synapses) == 0
    net.run()
    np.testing.assert_allclose(net.readout_trace(), 0.0)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(n_inputs=0), "n_inputs"),
        (dict(layer_sizes=[4, -1]), "layer_sizes"),
        (dict(layer_sizes=[]), "layer_sizes"),
        (dict(n_outputs=0), "n_outputs"),
        (dict(tau_m=-20 * ms), "tau_m"),
        (dict(tau_adp=np.nan * ms), "tau_adp"),
        (dict(tau_out=np.array([20, 0]) * ms), "tau_out"),
        (dict(tau_m=np.ones(3) * 20 * ms), "tau_m"),
        (dict(input_currents=np.zeros((5, 2))), "input_currents"),
        (dict(input_currents=np.full((5, 3), np.nan)), "input_currents"),
        (dict(input_weights=np.ones((3, 4))), "input_weights"),
        (dict(output_weights=np.ones((4, 2))), "output_weights"),
        (dict(recurrent_weights=[np.ones((3, 3))]), "recurrent_weights"),
        (dict(layer_sizes=[4, 4]), "feedforward_weights"),
        (dict(dt=0 * ms), "dt"),
        (dict(biases=[np.ones(5)]), "biases"),
        (
            dict(
                layer_sizes=[4, 4],
                feedforward_weights=[np.ones((4, 4))],
                initial_membrane=[0.0, 5.0],
            ),
            "initial_membrane",
        ),
    ],
)
def test_srnn_network_rejects_bad_input(overrides, message):
    with pytest.raises(ValueError, match=message):
        srnn_network(**_minimal(**overrides))


@pytest.mark.parametrize("name", ["dt", "tau_m", "tau_out", "input_currents"])
def test_srnn_network_rejects_wrong_units(name):
    with pytest.raises(DimensionMismatchError):
        srnn_network(**_minimal(**{name: 5 * mV}))
