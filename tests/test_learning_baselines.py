"""Classical recurrent baselines on equinox: shapes, a numpy reference of the forward
pass, parameter and operation counts by hand, a small task learned, seeded runs."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

jax = pytest.importorskip("jax")
eqx = pytest.importorskip("equinox")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning import baselines, energy  # noqa: E402
from neurosrnn.learning.data import delayed_recall  # noqa: E402


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_scores(model, x, kind):
    """Per-step readout of one sequence, written out with numpy from the cell weights."""
    seq = np.asarray(x, dtype=np.float64)
    for cell in model.cells:
        w_ih, w_hh = np.asarray(cell.weight_ih), np.asarray(cell.weight_hh)
        n = w_hh.shape[1]
        h, c = np.zeros(n), np.zeros(n)
        out = []
        for x_t in seq:
            if kind == "rnn":
                h = np.tanh(w_ih @ x_t + w_hh @ h + np.asarray(cell.bias))
            elif kind == "lstm":
                z = w_ih @ x_t + w_hh @ h + np.asarray(cell.bias)
                i, f, g, o = np.split(z, 4)
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
            else:  # GRU (Cho et al. 2014, reset applied to the hidden projection)
                gi = np.split(w_ih @ x_t + np.asarray(cell.bias), 3)
                gh = np.split(w_hh @ h, 3)
                r = _sigmoid(gi[0] + gh[0])
                u = _sigmoid(gi[1] + gh[1])
                new = np.tanh(gi[2] + r * (gh[2] + np.asarray(cell.bias_n)))
                h = (1 - u) * new + u * h
            out.append(h)
        seq = np.array(out)
    w, b = np.asarray(model.readout.weight), np.asarray(model.readout.bias)
    return seq @ w.T + b


@pytest.mark.parametrize("kind", baselines.BASELINE_KINDS)
def test_forward_shapes_and_numpy_reference(kind):
    config = baselines.BaselineConfig(kind, n_in=3, hidden=(5, 4), n_out=2, readout="last")
    model = baselines.init_model(config, seed=1, dtype="float64")
    x = np.random.default_rng(0).normal(size=(3, 7, 3))
    assert model(x[0]).shape == (7, 2)
    last = np.asarray(baselines.logits(model, x, config))
    assert last.shape == (3, 2)
    mean_config = baselines.BaselineConfig(
        kind, n_in=3, hidden=(5, 4), n_out=2, readout="mean", loss_start=2
    )
    mean = np.asarray(baselines.logits(model, x, mean_config))
    for b in range(3):
        reference = _numpy_scores(model, x[b], kind)
        assert_allclose(last[b], reference[-1], rtol=1e-10, atol=1e-12)
        assert_allclose(mean[b], reference[2:].mean(axis=0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("kind", "gates", "extra_bias"), [("lstm", 4, 0), ("gru", 3, 1), ("rnn", 1, 0)]
)
def test_parameter_and_operation_counts_by_hand(kind, gates, extra_bias):
    n_in, hidden, n_out = 3, (5, 4), 2
    config = baselines.BaselineConfig(kind, n_in=n_in, hidden=hidden, n_out=n_out)
    model = baselines.init_model(config, seed=0)
    # gates x (input weights + recurrent weights + bias) per layer, GRU's extra bias_n
    hand_params = gates * 5 * (3 + 5 + 1) + extra_bias * 5
    hand_params += gates * 4 * (5 + 4 + 1) + extra_bias * 4
    hand_params += 4 * 2 + 2  # readout
    assert baselines.count_parameters(model) == hand_params
    hand_macs = gates * (5 * (3 + 5) + 4 * (5 + 4)) + 4 * 2
    assert baselines.operations(config) == {"mac": float(hand_macs), "ac": 0.0}
    assert config.operations() == energy.rnn_operations(n_in, list(hidden), n_out, kind)


def test_a_small_memory_task_is_learned():
    data = delayed_recall(n_samples=240, delay=6, n_symbols=3, cue_steps=2, seed=0)
    config = baselines.BaselineConfig("gru", n_in=data.n_in, hidden=(16,), n_out=3)
    trained = baselines.train_baseline(
        config,
        data.x_train,
        data.y_train,
        x_test=data.x_test,
        y_test=data.y_test,
        epochs=25,
        batch_size=32,
        lr=2e-2,
        seed=0,
        progress=False,
    )
    assert trained.history["loss"][-1] < 0.5 * trained.history["loss"][0]
    assert trained.history["test_accuracy"][-1] >= 0.9  # chance is 1/3
    assert_array_equal(trained.predict(data.x_test[:5]).shape, (5,))
    assert trained.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.9
    assert (
        "GRU" in repr(trained) and trained.n_parameters == 3 * 16 * (4 + 16 + 1) + 16 + 16 * 3 + 3
    )


def test_seeded_training_is_deterministic():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5, 2)), rng.integers(0, 2, 40)
    config = baselines.BaselineConfig("lstm", n_in=2, hidden=(6,), n_out=2)
    options = dict(epochs=2, batch_size=8, lr_schedule="cosine", clip_norm=1.0, progress=False)
    runs = [baselines.train_baseline(config, x, y, seed=s, **options) for s in (4, 4, 5)]
    leaves = [jax.tree_util.tree_leaves(eqx.filter(r.model, eqx.is_array)) for r in runs]
    for a, b in zip(leaves[0], leaves[1], strict=True):
        assert_array_equal(np.asarray(a), np.asarray(b))
    assert runs[0].history["loss"] == runs[1].history["loss"]
    assert not np.array_equal(np.asarray(leaves[0][0]), np.asarray(leaves[2][0]))


def test_config_roundtrip_and_errors():
    config = baselines.BaselineConfig("rnn", n_in=2, hidden=[3, 3], n_out=4)
    assert config.hidden == (3, 3)
    assert baselines.BaselineConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="kind"):
        baselines.BaselineConfig("transformer", n_in=2)
    with pytest.raises(ValueError, match="hidden"):
        baselines.BaselineConfig("gru", n_in=2, hidden=(0,))
    with pytest.raises(ValueError, match="readout"):
        baselines.BaselineConfig("gru", n_in=2, readout="max")
    x, y = np.zeros((4, 3, 2)), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="x_train"):
        baselines.train_baseline(config, np.zeros((4, 3, 5)), y, progress=False)
    with pytest.raises(ValueError, match="y_train"):
        baselines.train_baseline(config, x, np.full(4, 9), progress=False)
    with pytest.raises(ValueError, match="lr_schedule"):
        baselines.train_baseline(config, x, y, lr_schedule="linear", progress=False)
