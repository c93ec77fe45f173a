"""The discrete SRNN: forward map, BPTT gradients, training, saving, errors."""

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning import srnn, train  # noqa: E402
from neurosrnn.learning.data import sequential_digits  # noqa: E402


def _brute_force(params, x, config):
    """Step-by-step loop over samples, neurons and time (reference note, section 1)."""
    beta, b_j0 = config.effective_beta, config.b_j0
    B, T, _ = x.shape
    layers = params["layers"]
    ro = params["readout"]
    spikes = [np.zeros((B, T, la["bias"].size)) for la in layers]
    out = np.zeros((B, T, ro["bias"].size))
    for b in range(B):
        states = [[0.0] * la["bias"].size for la in layers]
        traces = [[b_j0] * la["bias"].size for la in layers]
        prev = [[0.0] * la["bias"].size for la in layers]
        m = [0.0] * ro["bias"].size
        for t in range(T):
            inp = list(x[b, t])
            for li, la in enumerate(layers):
                new = []
                for j in range(la["bias"].size):
                    current = la["bias"][j] + sum(
                        inp[k] * la["w_in"][k, j] for k in range(len(inp))
                    )
                    if "w_rec" in la:
                        current += sum(
                            prev[li][k] * la["w_rec"][k, j] for k in range(len(prev[li]))
                        )
                    alpha = np.exp(-1 / la["tau_m"][j])
                    rho = np.exp(-1 / la["tau_adp"][j])
                    traces[li][j] = rho * traces[li][j] + (1 - rho) * prev[li][j]
                    theta = b_j0 + beta * traces[li][j]
                    states[li][j] = (
                        alpha * states[li][j] + (1 - alpha) * current - theta * prev[li][j]
                    )
                    new.append(1.0 if states[li][j] - theta > 0 else 0.0)
                prev[li] = new
                spikes[li][b, t] = new
                inp = new
            for j in range(ro["bias"].size):
                current = ro["bias"][j] + sum(inp[k] * ro["w"][k, j] for k in range(len(inp)))
                alpha = np.exp(-1 / ro["tau"][j])
                m[j] = alpha * m[j] + (1 - alpha) * current
            out[b, t] = m
    return spikes, out


def _scaled_params(config, seed, gain=3.0):
    params = srnn.init_params(config, seed)
    rng = np.random.default_rng(seed)
    for la in params["layers"]:
        la["w_in"] *= gain
        la["bias"] = rng.normal(0.2, 0.1, la["bias"].shape)
    return params


@pytest.mark.parametrize("adaptive", [True, False])
def test_forward_matches_brute_force_loop(adaptive):
    config = srnn.SRNNConfig(
        n_in=3,
        hidden=(5, 4),
        n_out=2,
        adaptive=adaptive,
        tau_m_init=(4, 1),
        tau_adp_init=(10, 3),
        tau_out_init=(3, 1),
    )
    params = _scaled_params(config, 1)
    x = np.random.default_rng(2).random((3, 25, 3))
    spikes_ref, out_ref = _brute_force(params, x, config)
    out = srnn.run(params, x, config)
    assert sum(s.sum() for s in spikes_ref) > 20  # the test exercises spiking
    for got, ref in zip(out["spikes"], spikes_ref, strict=True):
        assert_array_equal(np.asarray(got), ref)
    assert_allclose(np.asarray(out["readout"]), out_ref, rtol=1e-10, atol=1e-12)


def test_bptt_gradient_matches_finite_differences_of_smoothed_model():
    config = srnn.SRNNConfig(
        n_in=3,
        hidden=(4, 3),
        n_out=2,
        tau_m_init=(4, 1),
        tau_adp_init=(8, 2),
        tau_out_init=(3, 1),
        loss="mean",
    )
    params = _scaled_params(config, 3, gain=4.0)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64), params)
    x = np.random.default_rng(4).random((2, 12, 3))
    labels = np.array([0, 1])

    @jax.jit
    def loss(p):
        return srnn.loss_and_accuracy(p, x, labels, config, smooth=True)[0]

    grads = jax.grad(loss)(params)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    grad_leaves = jax.tree_util.tree_leaves(grads)
    rng = np.random.default_rng(5)
    eps = 1e-6
    checked = 0
    for index, (leaf, grad) in enumerate(zip(leaves, grad_leaves, strict=True)):
        for flat in rng.choice(leaf.size, size=min(3, leaf.size), replace=False):
            values = []
            for sign in (1, -1):
                shifted = [np.array(v) for v in leaves]
                shifted[index].flat[flat] += sign * eps
                values.append(float(loss(jax.tree_util.tree_unflatten(treedef, shifted))))
            numeric = (values[0] - values[1]) / (2 * eps)
            assert_allclose(float(np.asarray(grad).flat[flat]), numeric, rtol=1e-5, atol=1e-9)
            checked += 1
    assert checked >= 20
    # gradients reach the time constants of the first layer through time
    assert np.abs(np.asarray(grads["layers"][0]["tau_adp"])).max() > 0


def test_training_learns_digits(tmp_path):
    data = sequential_digits("rows", n_samples=400, seed=0)
    config = srnn.SRNNConfig(
        n_in=8, hidden=(24,), n_out=10, tau_m_init=(3, 1), tau_adp_init=(10, 3), tau_out_init=(3, 1)
    )
    trained = train.train(
        config,
        data.x_train,
        data.y_train,
        x_test=data.x_test,
        y_test=data.y_test,
        epochs=6,
        batch_size=16,
        lr=2e-2,
        seed=0,
        progress=False,
        checkpoint=str(tmp_path / "ckpt"),
    )
    assert trained.history["test_accuracy"][-1] > 0.4  # chance is 0.1
    assert trained.history["loss"][-1] < trained.history["loss"][0]
    assert os.path.exists(tmp_path / "ckpt.npz") and os.path.exists(tmp_path / "ckpt.json")
    assert "TrainedSRNN" in repr(trained)


def test_taus_stay_positive_under_a_huge_tau_learning_rate():
    data = sequential_digits("rows", n_samples=120, seed=0)
    config = srnn.SRNNConfig(
        n_in=8,
        hidden=(12,),
        n_out=10,
        tau_m_init=(2, 1),
        tau_adp_init=(3, 1),
        tau_out_init=(2, 1),
        tau_min=0.5,
    )
    trained = train.train(
        config,
        data.x_train,
        data.y_train,
        epochs=2,
        batch_size=30,
        lr=5e-2,
        tau_lr_factor=1000.0,
        seed=0,
        progress=False,
    )
    all_taus = np.concatenate(list(trained.timescales().values()))
    assert np.all(np.isfinite(all_taus)) and all_taus.min() >= 0.5
    # the huge learning rate pushed some taus onto the bound: the projection acted
    assert np.any(all_taus == np.float32(0.5))
    initial = np.concatenate(list(trained.timescales("initial").values()))
    assert not np.allclose(initial, all_taus)


def test_fixed_taus_do_not_move():
    data = sequential_digits("rows", n_samples=100, seed=1)
    config = srnn.SRNNConfig(n_in=8, hidden=(8,), n_out=10, learn_tau=False)
    trained = train.train(
        config, data.x_train, data.y_train, epochs=1, batch_size=25, progress=False
    )
    for key, value in trained.timescales().items():
        assert_array_equal(value, trained.timescales("initial")[key])
    assert not np.allclose(
        trained.params["layers"][0]["w_in"], trained.initial_params["layers"][0]["w_in"]
    )


def test_save_load_roundtrip(tmp_path):
    config = srnn.SRNNConfig(
        n_in=2, hidden=(3, 2), n_out=2, recurrent=False, readout="spiking", loss="spike_count"
    )
    trained = train.TrainedSRNN(
        config,
        srnn.init_params(config, 7),
        srnn.init_params(config, 8),
        {"loss": [1.0]},
        {"note": "x"},
    )
    npz, js = trained.save(tmp_path / "net.json")
    loaded = train.TrainedSRNN.load(tmp_path / "net")
    assert loaded.config == config
    assert loaded.metadata == {"note": "x"}
    for a, b in zip(
        jax.tree_util.tree_leaves(trained.params),
        jax.tree_util.tree_leaves(loaded.params),
        strict=True,
    ):
        assert_array_equal(a, b)
    assert_array_equal(
        loaded.initial_params["readout"]["w"], srnn.init_params(config, 8)["readout"]["w"]
    )
    assert sorted(os.listdir(tmp_path)) == ["net.json", "net.npz"]  # no temp files left
    with pytest.raises(ValueError, match="No saved trained network"):
        train.TrainedSRNN.load(tmp_path / "missing")


def test_losses_and_predictions_agree():
    rng = np.random.default_rng(0)
    readout = rng.normal(size=(4, 6, 3))
    for loss, expected in [
        ("mean", readout[:, 2:].mean(1)),
        ("last", readout[:, -1]),
        (
            "summed_softmax",
            (np.exp(readout[:, 2:]) / np.exp(readout[:, 2:]).sum(2, keepdims=True)).sum(1),
        ),
    ]:
        config = srnn.SRNNConfig(n_in=1, n_out=3, loss=loss, loss_start=2)
        assert_allclose(srnn.aggregate_logits(readout, config), expected, rtol=1e-12)
        assert_array_equal(srnn.predictions_from_readout(readout, config), expected.argmax(1))


def test_bad_inputs_give_clear_errors():
    config = srnn.SRNNConfig(n_in=4, hidden=(3,), n_out=2)
    params = srnn.init_params(config, 0)
    with pytest.raises(ValueError, match="shape \\(batch, T, n_in\\)"):
        srnn.validate_inputs(np.zeros((5, 4)), config)
    with pytest.raises(ValueError, match="T >= 1"):
        srnn.validate_inputs(np.zeros((5, 0, 4)), config)
    with pytest.raises(ValueError, match="n_in=4"):
        srnn.validate_inputs(np.zeros((5, 3, 2)), config)
    with pytest.raises(ValueError, match="labels must"):
        srnn.validate_inputs(np.zeros((5, 3, 4)), config, np.zeros(4, int))
    with pytest.raises(ValueError, match="labels must lie"):
        srnn.validate_inputs(np.zeros((5, 3, 4)), config, np.full(5, 2))
    bad = srnn.init_params(config, 0)
    bad["layers"][0]["tau_m"][1] = 0.0
    with pytest.raises(ValueError, match="time constant must be > 0"):
        srnn.validate_params(bad, config)
    bad = srnn.init_params(config, 0)
    bad["layers"][0]["w_in"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match="expected \\(4, 3\\)"):
        srnn.validate_params(bad, config)
    with pytest.raises(ValueError, match="hidden must be"):
        srnn.SRNNConfig(n_in=2, hidden=())
    with pytest.raises(ValueError, match="loss must be one of"):
        srnn.SRNNConfig(n_in=2, loss="mse")
    with pytest.raises(ValueError, match="needs readout='spiking'"):
        srnn.SRNNConfig(n_in=2, loss="spike_count")
    with pytest.raises(ValueError, match="surrogate must be one of"):
        srnn.SRNNConfig(n_in=2, surrogate="erf")
    with pytest.raises(ValueError, match="tau_m_init"):
        srnn.SRNNConfig(n_in=2, tau_m_init=(-1, 1))
    with pytest.raises(ValueError, match="epochs"):
        train.train(config, np.zeros((4, 3, 4)), np.zeros(4, int), epochs=-1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train.train(config, np.zeros((4, 3, 4)), np.zeros(4, int), lr=0.0)
    assert srnn.SRNNConfig.from_dict(config.to_dict()) == config
    assert train.evaluate(params, np.zeros((4, 3, 4)), np.zeros(4, int), config)[
        "firing_rates"
    ] == [0.0]


@pytest.mark.parametrize("loss", ["per_step", "summed_softmax", "last"])
def test_loss_values_match_numpy(loss):
    config = srnn.SRNNConfig(
        n_in=3,
        hidden=(6,),
        n_out=4,
        loss=loss,
        loss_start=3,
        tau_m_init=(3, 1),
        tau_adp_init=(8, 2),
        tau_out_init=(3, 1),
    )
    params = _scaled_params(config, 6)
    rng = np.random.default_rng(7)
    x = rng.random((5, 10, 3))
    labels = rng.integers(0, 4, (5, 10)) if loss == "per_step" else rng.integers(0, 4, 5)
    value, (accuracy, out) = srnn.loss_and_accuracy(params, x, labels, config)
    m = np.asarray(out["readout"])[:, 3:]

    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    if loss == "per_step":
        logp = log_softmax(m)
        lab = labels[:, 3:]
        expected = -np.mean(np.take_along_axis(logp, lab[..., None], axis=-1))
        expected_acc = np.mean(m.argmax(-1) == lab)
    else:
        scores = np.exp(log_softmax(m)).sum(1) if loss == "summed_softmax" else m[:, -1]
        expected = -np.mean(log_softmax(scores)[np.arange(5), labels])
        expected_acc = np.mean(scores.argmax(-1) == labels)
    assert_allclose(float(value), expected, rtol=1e-10)
    assert_allclose(float(accuracy), expected_acc)


def test_importing_the_package_does_not_import_jax():
    import subprocess
    import sys

    code = (
        "import sys, neurosrnn, neurosrnn.coding, neurosrnn.learning.srnn, "
        "neurosrnn.learning.train, neurosrnn.learning.deploy, neurosrnn.learning.data, "
        "neurosrnn.learning.energy; assert 'jax' not in sys.modules; "
        "assert 'sklearn' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
