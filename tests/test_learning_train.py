"""Training on optax: equal to the earlier hand-written Adam, per-group learning rates,
schedules, clipping, positive time constants, devices and option errors."""

import doctest
import math
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning import optim, srnn, train  # noqa: E402


# ------------------------------------------------------ reference: the earlier Adam
def _reference_adam_init(params):
    zeros = [np.zeros_like(np.asarray(p, dtype=np.float64)) for p in params]
    return zeros, [z.copy() for z in zeros], 0


def _reference_adam_update(params, grads, state, lrs, b1=0.9, b2=0.999, eps=1e-8):
    """The hand-written Adam that `neurosrnn.learning.optim` had before optax (numpy)."""
    m, v, count = state
    count = count + 1
    m = [b1 * m_ + (1 - b1) * g for m_, g in zip(m, grads, strict=True)]
    v = [b2 * v_ + (1 - b2) * g * g for v_, g in zip(v, grads, strict=True)]
    c1 = 1 - b1**count
    c2 = 1 - b2**count
    params = [
        p - lr * (m_ / c1) / (np.sqrt(v_ / c2) + eps)
        for p, m_, v_, lr in zip(params, m, v, lrs, strict=True)
    ]
    return params, (m, v, count)


def _leaf_names(params):
    paths = jax.tree_util.tree_flatten_with_path(params)[0]
    return [str(path[-1].key) for path, _ in paths]


def _config(**changes):
    base = dict(
        n_in=3,
        hidden=(6,),
        n_out=2,
        tau_m_init=(4.0, 1.0),
        tau_adp_init=(10.0, 3.0),
        tau_out_init=(3.0, 1.0),
    )
    return srnn.SRNNConfig(**{**base, **changes})


def _data(n=16, T=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, T, 3)) * 2.0, rng.integers(0, 2, n)


# ------------------------------------------------------------------------- tests
def test_optimizer_equals_the_earlier_adam_with_group_learning_rates():
    config = _config()
    params = srnn.init_params(config, 0)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    names = _leaf_names(params)
    lr, tau_lr = 0.01, 0.03
    lrs = [tau_lr if name.startswith("tau") else lr for name in names]
    assert lrs.count(tau_lr) == 3  # tau_m, tau_adp and the readout's tau
    optimizer = optim.make_optimizer(lr, tau_lr=tau_lr)
    state = optimizer.init(params)
    update = jax.jit(optimizer.update)
    reference, ref_state = [np.array(a) for a in leaves], _reference_adam_init(leaves)
    rng = np.random.default_rng(1)
    current = params
    for step in range(3):
        grads = [rng.normal(size=a.shape) * 10.0 ** rng.integers(-3, 2) for a in leaves]
        updates, state = update(jax.tree_util.tree_unflatten(treedef, grads), state)
        current = optax.apply_updates(current, updates)
        reference, ref_state = _reference_adam_update(reference, grads, ref_state, lrs)
        if step in (0, 2):  # after 1 and after 3 steps
            for got, want in zip(jax.tree_util.tree_leaves(current), reference, strict=True):
                assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-15)


def test_training_step_equals_the_earlier_adam_path_for_one_and_three_steps():
    config = _config()
    x, y = _data()
    initial = srnn.init_params(config, 0)
    names = _leaf_names(initial)
    lr, factor = 0.02, 3.0
    lrs = [lr * factor if name.startswith("tau") else lr for name in names]
    leaves, treedef = jax.tree_util.tree_flatten(initial)

    @jax.jit
    def gradient(p):
        return jax.grad(lambda q: srnn.loss_and_accuracy(q, x, y, config)[0])(p)

    reference, ref_state = [np.array(a) for a in leaves], _reference_adam_init(leaves)
    expected = {}
    for step in range(3):
        grads = jax.tree_util.tree_leaves(
            gradient(jax.tree_util.tree_unflatten(treedef, reference))
        )
        reference, ref_state = _reference_adam_update(
            reference, [np.asarray(g) for g in grads], ref_state, lrs
        )
        reference = [
            np.maximum(p, config.tau_min) if name.startswith("tau") else p
            for p, name in zip(reference, names, strict=True)
        ]
        expected[step + 1] = [p.copy() for p in reference]
    for steps in (1, 3):
        trained = train.train(
            config,
            x,
            y,
            epochs=steps,
            batch_size=len(x),  # one full batch per epoch: one step per epoch
            lr=lr,
            tau_lr_factor=factor,
            dtype="float64",
            progress=False,
        )
        got = jax.tree_util.tree_leaves(trained.params)
        for name, a, b in zip(names, got, expected[steps], strict=True):
            assert_allclose(a, b, rtol=1e-6, atol=1e-12, err_msg=f"{name} after {steps}")
    moved = np.abs(got[names.index("w_in")] - np.asarray(initial["layers"][0]["w_in"]))
    assert moved.max() > 1e-3  # the comparison is not between untouched parameters


def test_deprecated_adam_wrappers_warn_and_equal_the_reference():
    params = {"w": np.array([0.5, -1.0]), "tau_m": np.array([3.0, 4.0])}
    grads = {"w": np.array([0.2, -0.1]), "tau_m": np.array([1e-3, -2.0])}
    lrs = {"w": 0.1, "tau_m": 0.5}
    with pytest.warns(DeprecationWarning, match="make_optimizer"):
        state = optim.adam_init(params)
    reference = [params["tau_m"], params["w"]]  # leaves in pytree (sorted key) order
    ref_state = _reference_adam_init(reference)
    for _ in range(3):
        with pytest.warns(DeprecationWarning, match="make_optimizer"):
            params, state = optim.adam_update(params, grads, state, lrs)
        reference, ref_state = _reference_adam_update(
            reference, [grads["tau_m"], grads["w"]], ref_state, [0.5, 0.1]
        )
    assert_allclose(np.asarray(params["tau_m"]), reference[0], rtol=1e-12)
    assert_allclose(np.asarray(params["w"]), reference[1], rtol=1e-12)


def test_group_learning_rates_act_on_the_first_step():
    # Adam's first step moves every leaf with a nonzero gradient by lr * g / (|g| + eps)
    params = {"layers": [{"w_in": np.ones(3), "tau_m": np.full(3, 5.0)}], "readout": {}}
    grads = {"layers": [{"w_in": np.array([2.0, -3.0, 0.5]), "tau_m": np.array([1.0, -1.0, 4.0])}]}
    grads["readout"] = {}
    opt = optim.make_optimizer(0.01, tau_lr=0.25)
    updates, _ = opt.update(grads, opt.init(params))
    assert_allclose(np.asarray(updates["layers"][0]["w_in"]), [-0.01, 0.01, -0.01], rtol=1e-6)
    assert_allclose(np.asarray(updates["layers"][0]["tau_m"]), [-0.25, 0.25, -0.25], rtol=1e-6)
    frozen = optim.make_optimizer(0.01, tau_lr=0.0)
    updates, _ = frozen.update(grads, frozen.init(params))
    assert_array_equal(np.asarray(updates["layers"][0]["tau_m"]), 0.0)


def test_a_zero_tau_learning_rate_leaves_the_time_constants_unchanged():
    config = _config()
    x, y = _data()
    trained = train.train(
        config,
        x,
        y,
        epochs=2,
        batch_size=8,
        tau_lr_factor=0.0,
        dtype="float64",
        device="cpu",
        progress=False,
    )
    for key, value in trained.timescales().items():
        assert_array_equal(value, trained.timescales("initial")[key], err_msg=key)
    w_in = trained.params["layers"][0]["w_in"]
    assert not np.allclose(w_in, trained.initial_params["layers"][0]["w_in"])
    # the platform and the seconds of every epoch are recorded
    assert trained.metadata["platform"] == "cpu"
    assert trained.metadata["device_kind"]
    assert len(trained.history["seconds"]) == 2 and min(trained.history["seconds"]) > 0


def test_taus_stay_above_tau_min_with_a_huge_learning_rate_and_clipping():
    config = _config(tau_min=0.75)
    x, y = _data()
    trained = train.train(
        config,
        x,
        y,
        epochs=2,
        batch_size=8,
        lr=0.5,
        tau_lr_factor=1e4,
        lr_schedule="cosine",
        clip_norm=0.5,
        progress=False,
    )
    taus = np.concatenate(list(trained.timescales().values()))
    assert np.all(np.isfinite(taus)) and taus.min() >= 0.75
    assert np.any(taus == np.float32(0.75))  # the projection acted
    assert trained.params["layers"][0]["w_in"].dtype == np.float64  # stored as float64


@pytest.mark.parametrize(
    "schedule, options, expected",
    [
        ("constant", {}, lambda k, n: 0.1),
        ("step", {"lr_step": (2, 0.5)}, lambda k, n: 0.1 * 0.5 ** ((k // n) // 2)),
        ("exponential", {"lr_decay": 0.8}, lambda k, n: 0.1 * 0.8 ** (k // n)),
        (
            "cosine",
            {"epochs": 3},
            lambda k, n: 0.1 * 0.5 * (1 + math.cos(math.pi * min(k, 3 * n) / (3 * n))),
        ),
    ],
)
def test_schedules_follow_their_formulas(schedule, options, expected):
    n = 4
    sched = optim.learning_rate_schedule(0.1, schedule, steps_per_epoch=n, **options)
    for k in range(0, 16):
        value = sched if schedule == "constant" else float(sched(k))
        assert_allclose(value, expected(k, n), rtol=1e-6, atol=1e-12, err_msg=f"step {k}")


def test_clipping_scales_the_gradient_to_the_global_norm():
    params = {"w": np.zeros(3), "tau": np.full(2, 5.0)}
    opt = optim.make_optimizer(0.01, tau_lr=0.02, clip_norm=1.0)
    state = opt.init(params)
    reference = [np.full(2, 5.0), np.zeros(3)]  # leaves in pytree (sorted key) order
    ref_state = _reference_adam_init(reference)
    rng = np.random.default_rng(3)
    current = params
    for scale in (10.0, 0.1, 3.0):  # above, below and above the norm
        grads = {"w": rng.normal(size=3) * scale, "tau": rng.normal(size=2) * scale}
        norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
        factor = min(1.0, 1.0 / norm)
        updates, state = opt.update(grads, state, current)
        current = optax.apply_updates(current, updates)
        reference, ref_state = _reference_adam_update(
            reference, [grads["tau"] * factor, grads["w"] * factor], ref_state, [0.02, 0.01]
        )
    assert_allclose(np.asarray(current["tau"]), reference[0], rtol=1e-9)
    assert_allclose(np.asarray(current["w"]), reference[1], rtol=1e-9)


@pytest.mark.parametrize(
    "options, error, fragment",
    [
        ({"lr_schedule": "linear"}, ValueError, "lr_schedule must be one of"),
        ({"lr_decay": 0.9}, ValueError, "lr_decay only applies"),
        ({"lr_schedule": "exponential"}, ValueError, "needs lr_decay"),
        ({"lr_schedule": "exponential", "lr_decay": 1.5}, ValueError, "lr_decay must be"),
        ({"lr_step": (0, 0.5)}, ValueError, "lr_step must be"),
        ({"lr_step": (2, 0.5), "lr_schedule": "cosine"}, ValueError, "lr_step only applies"),
        ({"clip_norm": -1.0}, ValueError, "clip_norm must be > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be > 0"),
        ({"tau_lr_factor": -1.0}, ValueError, "tau_lr_factor must be >= 0"),
        ({"seed": -3}, ValueError, "seed"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        ({"resume": True}, ValueError, "resume=True needs checkpoint"),
        ({"device": "no_such_platform"}, ValueError, "device='no_such_platform'"),
        ({"on_epoch": 3}, TypeError, "on_epoch must be callable"),
    ],
)
def test_bad_training_options_are_named_before_any_work(tmp_path, options, error, fragment):
    x, y = _data(n=8)
    checkpoint = None if options.get("resume") else str(tmp_path / "run" / "ckpt")
    with pytest.raises(error, match=fragment):
        train.train(_config(), x, y, epochs=1, checkpoint=checkpoint, progress=False, **options)
    assert not os.path.exists(tmp_path / "run")  # nothing written


def test_optimiser_docstring_examples():
    failures, tried = doctest.testmod(optim, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
