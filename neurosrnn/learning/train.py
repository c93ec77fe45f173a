"""Training SRNNs: BPTT with surrogate gradients, optax Adam with a separate timescale
learning rate, time constants kept positive, exact checkpoints, any JAX platform.

The optimiser follows the reference set-up (Yin, Corradi & Bohte 2021, Nat. Mach.
Intell. 3:905; released code): Adam (Kingma & Ba 2015, ICLR) with learning rate
``1e-2`` for weights and biases and a larger one (``tau_lr_factor`` times, 2 to 5 in
the reference scripts) for the time constants (`neurosrnn.learning.optim`, built
from optax), with a constant, step (StepLR), exponential or cosine schedule and
optional gradient clipping. After each step every time constant is projected onto
``[tau_min, inf)``, so ``alpha = exp(-1/tau_m)`` and ``rho = exp(-1/tau_adp)`` stay in
``(0, 1)``.

With ``checkpoint=`` the complete training state (parameters, optimiser state,
shuffling generator, history) is written atomically after every epoch, and
``resume=True`` continues a killed run bit-identically. Training runs on JAX's default
device or the one named by ``device=``; the result records the platform.

A `TrainedSRNN` holds the configuration, the initial and trained parameters and the
training history; it saves atomically to ``<stem>.npz`` + ``<stem>.json`` and
reloads with `TrainedSRNN.load`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
import warnings
import zipfile

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.progress import progress_bar
from neurosrnn.validation import check_choice, check_int, check_seed

from .optim import SCHEDULES, make_optimizer
from .srnn import (
    SRNNConfig,
    enable_x64,
    init_params,
    loss_and_accuracy,
    predictions_from_readout,
    run,
    validate_inputs,
    validate_params,
)

__all__ = ["TrainedSRNN", "train", "evaluate", "firing_rates"]

_FORMAT = "neurosrnn.TrainedSRNN/1"


def _flatten(params, prefix):
    flat = {}
    for i, layer in enumerate(params["layers"]):
        for key, value in layer.items():
            flat[f"{prefix}/layers/{i}/{key}"] = np.asarray(value, dtype=np.float64)
    for key, value in params["readout"].items():
        flat[f"{prefix}/readout/{key}"] = np.asarray(value, dtype=np.float64)
    return flat


def _unflatten(arrays, prefix, n_layers):
    params = {"layers": [{} for _ in range(n_layers)], "readout": {}}
    for name in arrays.files:
        parts = name.split("/")
        if parts[0] != prefix:
            continue
        if parts[1] == "layers":
            params["layers"][int(parts[2])][parts[3]] = np.array(arrays[name])
        else:
            params["readout"][parts[2]] = np.array(arrays[name])
    return params


def _to_numpy(params):
    return {
        "layers": [
            {k: np.asarray(v, dtype=np.float64) for k, v in la.items()} for la in params["layers"]
        ],
        "readout": {k: np.asarray(v, dtype=np.float64) for k, v in params["readout"].items()},
    }


class TrainedSRNN:
    """A trained SRNN: configuration, parameters, initial parameters and history.

    Parameters
    ----------
    config : SRNNConfig
    params : dict
        Trained parameters (numpy arrays).
    initial_params : dict, optional
        Parameters before training (for timescale comparisons).
    history : dict, optional
        Per-epoch lists: ``loss``, ``accuracy``, ``test_accuracy``, ``seconds``.
    metadata : dict, optional
        Free-form JSON-serialisable information (seed, data set, ...).
    """

    def __init__(self, config, params, initial_params=None, history=None, metadata=None):
        validate_params(params, config)
        self.config = config
        self.params = _to_numpy(params)
        self.initial_params = None if initial_params is None else _to_numpy(initial_params)
        self.history = dict(history or {})
        self.metadata = dict(metadata or {})

    def __repr__(self):
        last = self.history.get("test_accuracy") or self.history.get("accuracy") or []
        acc = f", accuracy {last[-1]:.3f}" if last and last[-1] is not None else ""
        kind = "ALIF" if self.config.adaptive else "LIF"
        return (
            f"<TrainedSRNN {self.config.n_in} -> {list(self.config.hidden)} {kind} -> "
            f"{self.config.n_out} ({self.config.readout}), "
            f"{len(self.history.get('loss', []))} epochs{acc}>"
        )

    def run(self, x, dtype="float64", record_voltage=False):
        """Forward pass (numpy outputs); float64 by default (the export reference)."""
        import jax

        enable_x64()
        validate_inputs(x, self.config)
        params = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=dtype), self.params)
        out = run(params, np.asarray(x, dtype=dtype), self.config, record_voltage=record_voltage)
        return jax.tree_util.tree_map(np.asarray, out)

    def predict(self, x, dtype="float64"):
        """Class predictions ``(batch,)``."""
        return predictions_from_readout(self.run(x, dtype=dtype)["readout"], self.config)

    def timescales(self, which="trained"):
        """Dict of time-constant arrays (steps): ``tau_m[l]``, ``tau_adp[l]``, readout.

        Parameters
        ----------
        which : {"trained", "initial"}
        """
        if which not in ("trained", "initial"):
            raise ValueError(f"which must be 'trained' or 'initial', got {which!r}")
        params = self.params if which == "trained" else self.initial_params
        if params is None:
            raise ValueError("this TrainedSRNN has no initial parameters")
        out = {}
        for i, layer in enumerate(params["layers"]):
            out[f"tau_m[{i}]"] = layer["tau_m"].copy()
            out[f"tau_adp[{i}]"] = layer["tau_adp"].copy()
        for key in ("tau", "tau_m", "tau_adp"):
            if key in params["readout"]:
                out[f"readout.{key}"] = params["readout"][key].copy()
        return out

    def save(self, path):
        """Save atomically to ``<stem>.npz`` (arrays) and ``<stem>.json`` (the rest).

        Parameters
        ----------
        path : str or os.PathLike
            File stem; a trailing ``.npz`` or ``.json`` is stripped.

        Returns
        -------
        (str, str)
            The two paths written.
        """
        stem = _stem(path)
        arrays = _flatten(self.params, "params")
        if self.initial_params is not None:
            arrays.update(_flatten(self.initial_params, "initial"))
        info = {
            "format": _FORMAT,
            "config": self.config.to_dict(),
            "history": self.history,
            "metadata": self.metadata,
            "has_initial": self.initial_params is not None,
        }
        with atomic_write(stem + ".npz") as stream:
            np.savez(stream, **arrays)
        text = json.dumps(info, indent=1, default=_json_default).encode()
        with atomic_write(stem + ".json") as stream:
            stream.write(text)
        return stem + ".npz", stem + ".json"

    @classmethod
    def load(cls, path):
        """Load a network written by `save` (path stem, ``.npz`` or ``.json``)."""
        stem = _stem(path)
        for suffix in (".npz", ".json"):
            if not os.path.exists(stem + suffix):
                raise ValueError(f"No saved trained network at {stem + suffix!r}")
        with open(stem + ".json") as stream:
            info = json.load(stream)
        if info.get("format") != _FORMAT:
            raise ValueError(f"{stem + '.json'!r} is not a saved TrainedSRNN ({_FORMAT})")
        config = SRNNConfig.from_dict(info["config"])
        with np.load(stem + ".npz") as arrays:
            params = _unflatten(arrays, "params", config.n_layers)
            initial = (
                _unflatten(arrays, "initial", config.n_layers) if info["has_initial"] else None
            )
        return cls(config, params, initial, info["history"], info["metadata"])


def _stem(path):
    path = os.fspath(path)
    for suffix in (".npz", ".json"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def firing_rates(output):
    """Mean spike probability per neuron per step of each hidden layer.

    Parameters
    ----------
    output : dict
        Output of `neurosrnn.learning.srnn.run` or `TrainedSRNN.run`.

    Returns
    -------
    list of float
    """
    return [float(np.mean(np.asarray(s))) for s in output["spikes"]]


def _project_taus(params, tau_min):
    import jax.numpy as jnp

    def fix(d):
        return {k: (jnp.maximum(v, tau_min) if k.startswith("tau") else v) for k, v in d.items()}

    return {"layers": [fix(la) for la in params["layers"]], "readout": fix(params["readout"])}


def _check_training_args(
    epochs,
    batch_size,
    lr,
    tau_lr_factor,
    dtype,
    lr_step,
    lr_schedule,
    lr_decay,
    seed,
    checkpoint,
    resume,
):
    """Validate the scalar options of `train`; return ``(epochs, batch_size, schedule)``."""
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    check_seed(seed)
    check_choice(dtype, "dtype", ("float32", "float64"))
    for name, value, low in (("lr", lr, "> 0"), ("tau_lr_factor", tau_lr_factor, ">= 0")):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number, got {value!r}") from None
        if not (np.isfinite(number) and (number > 0 if low == "> 0" else number >= 0)):
            raise ValueError(f"{name} must be {low} and finite, got {value!r}")
    if lr_schedule is None:
        lr_schedule = "constant" if lr_step is None else "step"
    check_choice(lr_schedule, "lr_schedule", SCHEDULES)
    if lr_step is not None and lr_schedule != "step":
        raise ValueError(f"lr_step only applies to lr_schedule='step', got {lr_schedule!r}")
    if lr_decay is not None and lr_schedule != "exponential":
        raise ValueError(f"lr_decay only applies to lr_schedule='exponential', got {lr_schedule!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<file stem> to resume from")
    return epochs, batch_size, lr_schedule


def evaluate(params, x, labels, config, batch_size=256, dtype="float32"):
    """Accuracy, mean loss and per-layer firing rates of `params` on a data set.

    Returns
    -------
    dict
        ``accuracy``, ``loss``, ``firing_rates`` (list per hidden layer),
        ``readout_rate`` (spiking readout only).
    """
    import jax

    enable_x64()
    validate_inputs(x, config, labels)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=dtype), _to_numpy(params))
    fn = _eval_fn(config)
    n = len(x)
    total_loss = total_acc = 0.0
    spike_sums = np.zeros(config.n_layers)
    out_sum = 0.0
    for start in range(0, n, batch_size):
        xb = np.asarray(x[start : start + batch_size], dtype=dtype)
        yb = np.asarray(labels[start : start + batch_size])
        loss, acc, rates, out_rate = fn(params, xb, yb)
        k = len(xb)
        total_loss += float(loss) * k
        total_acc += float(acc) * k
        spike_sums += np.asarray(rates) * k
        out_sum += float(out_rate) * k
    result = {
        "accuracy": total_acc / n,
        "loss": total_loss / n,
        "firing_rates": (spike_sums / n).tolist(),
    }
    if config.readout == "spiking":
        result["readout_rate"] = out_sum / n
    return result


_EVAL_CACHE = {}


def _eval_fn(config):
    if config in _EVAL_CACHE:
        return _EVAL_CACHE[config]
    import jax
    import jax.numpy as jnp

    def fn(params, xb, yb):
        loss, (acc, out) = loss_and_accuracy(params, xb, yb, config)
        rates = jnp.stack([s.mean() for s in out["spikes"]])
        out_rate = out["readout"].mean() if config.readout == "spiking" else jnp.zeros(())
        return loss, acc, rates, out_rate

    _EVAL_CACHE[config] = jax.jit(fn)
    return _EVAL_CACHE[config]


def train(
    config,
    x_train,
    y_train,
    *,
    x_test=None,
    y_test=None,
    epochs=10,
    batch_size=64,
    lr=1e-2,
    tau_lr_factor=3.0,
    lr_step=None,
    lr_schedule=None,
    lr_decay=None,
    clip_norm=None,
    seed=0,
    params=None,
    dtype="float32",
    checkpoint=None,
    resume=False,
    device=None,
    on_epoch=None,
    progress=None,
    metadata=None,
):
    """Train an SRNN with surrogate-gradient BPTT and optax Adam.

    Every mini-batch takes one step of `neurosrnn.learning.optim.make_optimizer`: Adam
    (Kingma & Ba 2015) with learning rate :math:`\\eta` for weights and biases and
    :math:`\\eta_\\tau = f_\\tau\\,\\eta` (``tau_lr_factor``) for the time constants, both
    following one schedule, after optional global-norm clipping of the gradient. The
    time constants are then projected onto ``[config.tau_min, inf)``, so
    :math:`\\alpha = e^{-1/\\tau_m}` and :math:`\\rho = e^{-1/\\tau_{adp}}` stay in
    ``(0, 1)`` (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905).

    Parameters
    ----------
    config : SRNNConfig
    x_train : array, shape (n, T, n_in)
    y_train : array of int, shape (n,) or (n, T) (the latter with ``loss="per_step"``)
    x_test, y_test : arrays, optional
        Evaluated after every epoch (``history["test_accuracy"]``).
    epochs : int
        Total number of epochs (with `resume`, including those already done).
    batch_size : int
        Mini-batch size; the last incomplete batch of each shuffled epoch is
        dropped (fixed shapes compile once).
    lr : float
        Adam learning rate of weights and biases.
    tau_lr_factor : float
        Learning rate of the time constants relative to `lr` (ignored, i.e. taus
        frozen, when ``config.learn_tau`` is False).
    lr_step : (int, float), optional
        Multiply both learning rates by ``factor`` every ``every`` epochs (StepLR);
        implies ``lr_schedule="step"``.
    lr_schedule : {None, "constant", "step", "exponential", "cosine"}
        Learning-rate schedule (`neurosrnn.learning.optim.learning_rate_schedule`):
        None means "step" if `lr_step` is given, else "constant"; "exponential"
        multiplies the rates by `lr_decay` every epoch; "cosine" decays them to 0 over
        `epochs`.
    lr_decay : float, optional
        Factor per epoch of the exponential schedule, in (0, 1].
    clip_norm : float, optional
        Clip the gradient to this global L2 norm before the Adam step.
    seed : int
        Seeds the initial parameters (if `params` is None) and the batch order.
    params : dict, optional
        Initial parameters (default: ``init_params(config, seed)``).
    dtype : {"float32", "float64"}
        Training precision.
    checkpoint : str or os.PathLike, optional
        File stem. After every epoch the network is saved there (``<stem>.npz`` and
        ``<stem>.json``, `TrainedSRNN.save`) and the exact training state goes to
        ``<stem>.state.npz``: parameters in the training dtype, the optimiser state,
        the shuffling generator's state, the history and a fingerprint of the set-up.
        Every file is written atomically (`neurosrnn.atomic.atomic_write`).
    resume : bool
        Continue from ``<stem>.state.npz`` if it exists (else start afresh). The
        continued run is bit-identical to one without interruption on the same
        platform: always on CPU; on a GPU only with XLA's kernel autotuning made
        reproducible, ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` set before JAX
        starts (else another process may pick other kernels; a RuntimeWarning says
        so). The set-up (configuration, data, initial parameters and every training
        option except `epochs`, `device`, `progress`, `metadata` and `on_epoch`) must
        be the one the checkpoint was written for, else ValueError.
    device : str or jax.Device, optional
        Where to train: a JAX platform (``"cpu"``, ``"gpu"``, ``"cuda"``) or device.
        Default: JAX's default device (which honours ``JAX_PLATFORMS``). The platform
        and device kind are stored in ``metadata["platform"]`` and
        ``metadata["device_kind"]``, the seconds of every epoch (compilation included
        in the first) in ``history["seconds"]``.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, history)`` after each epoch (1-based count) and its
        checkpoint.
    progress : bool or None
        Progress bar ("training", in batches) with the epoch and the running loss
        and accuracy: None (default) on an interactive terminal only, True always,
        False never (`neurosrnn.progress.progress_bar`).
    metadata : dict, optional
        Stored in the result.

    Returns
    -------
    TrainedSRNN

    Raises
    ------
    ValueError
        A bad option (named in the message), a `device` that JAX does not have, or a
        checkpoint written for another set-up; all before any training.
    FloatingPointError
        The loss of a batch became infinite or NaN.

    References
    ----------
    Kingma DP & Ba J (2015), Adam: a method for stochastic optimization, ICLR.

    Examples
    --------
    >>> from neurosrnn.learning.data import sequential_digits
    >>> data = sequential_digits("rows", n_samples=64, seed=0)
    >>> config = SRNNConfig(n_in=8, hidden=(8,), n_out=10)
    >>> trained = train(config, data.x_train, data.y_train, epochs=2, batch_size=16,
    ...                 lr_schedule="cosine", clip_norm=1.0, progress=False)
    >>> len(trained.history["loss"]), trained.metadata["platform"] in ("cpu", "gpu", "tpu")
    (2, True)
    """
    import jax

    enable_x64()
    epochs, batch_size, schedule = _check_training_args(
        epochs,
        batch_size,
        lr,
        tau_lr_factor,
        dtype,
        lr_step,
        lr_schedule,
        lr_decay,
        seed,
        checkpoint,
        resume,
    )
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be callable or None, got {on_epoch!r}")
    _check_training_data(config, x_train, y_train, x_test, y_test)
    target = _resolve_device(device)
    if params is None:
        params = init_params(config, seed)
    validate_params(params, config)
    initial = _to_numpy(params)
    cast = np.float32 if dtype == "float32" else np.float64
    batch_size = min(batch_size, len(x_train))
    n_batches = len(x_train) // batch_size
    tau_lr = float(lr) * float(tau_lr_factor) if config.learn_tau else 0.0
    cosine_epochs = max(epochs, 1) if schedule == "cosine" else None
    make_optimizer(  # checks the optimiser options (errors name them) before any work
        lr,
        tau_lr=tau_lr,
        schedule=schedule,
        steps_per_epoch=n_batches,
        lr_step=lr_step,
        lr_decay=lr_decay,
        epochs=cosine_epochs,
        clip_norm=clip_norm,
    )
    options = {
        "lr": float(lr),
        "tau_lr": tau_lr,
        "schedule": schedule,
        "steps_per_epoch": n_batches,
        "lr_step": None if lr_step is None else (int(lr_step[0]), float(lr_step[1])),
        "lr_decay": None if lr_decay is None else float(lr_decay),
        "epochs": cosine_epochs,
        "clip_norm": None if clip_norm is None else float(clip_norm),
    }
    optimizer, step = _training_step(config, tuple(sorted(options.items())))
    x_train = np.asarray(x_train, dtype=cast)
    y_train = np.asarray(y_train)
    fingerprint = _fingerprint(
        config,
        {**options, "seed": int(seed), "dtype": dtype, "batch_size": batch_size},
        (x_train, y_train, x_test, y_test),
        initial,
    )
    state_path = None if checkpoint is None else _stem(checkpoint) + ".state.npz"
    restored = None
    if resume and os.path.exists(state_path):
        restored = _load_state(state_path, fingerprint, epochs, initial, cast, optimizer)
    if checkpoint is not None and target.platform == "gpu":
        _warn_unless_reproducible_gpu()
    meta = _meta(metadata, seed, dtype)
    meta.update(platform=target.platform, device_kind=target.device_kind)
    with jax.default_device(target):
        if restored is None:
            params, opt_state = _start_parameters(initial, cast, optimizer)
            rng = np.random.default_rng(seed + 1_000_003)
            history = {"loss": [], "accuracy": [], "test_accuracy": [], "seconds": []}
            done = 0
        else:
            params, opt_state, rng, history, done = restored
            meta["resumed_from_epoch"] = done
        params, opt_state = jax.device_put((params, opt_state), target)
        with progress_bar(
            total=(epochs - done) * n_batches, label="training", unit="batches", progress=progress
        ) as bar:
            for epoch in range(done, epochs):
                started = time.perf_counter()
                order = rng.permutation(len(x_train))
                batches = [order[b * batch_size : (b + 1) * batch_size] for b in range(n_batches)]
                params, opt_state, loss, accuracy = _train_epoch(
                    step, params, opt_state, x_train, y_train, batches, epoch, bar
                )
                history["loss"].append(loss)
                history["accuracy"].append(accuracy)
                test_accuracy = None
                if x_test is not None:
                    test_accuracy = evaluate(params, x_test, y_test, config, dtype=dtype)[
                        "accuracy"
                    ]
                    bar.set_postfix(_postfix(epoch, loss, accuracy, test_accuracy))
                history["test_accuracy"].append(test_accuracy)
                history["seconds"].append(time.perf_counter() - started)
                if checkpoint is not None:
                    TrainedSRNN(config, params, initial, history, meta).save(checkpoint)
                    _save_state(state_path, params, initial, opt_state, rng, history, fingerprint)
                if on_epoch is not None:
                    on_epoch(epoch + 1, history)
    params = _to_numpy(params)
    if not config.learn_tau:
        _restore_frozen_taus(params, initial)
    return TrainedSRNN(config, params, initial, history, meta)


def _check_training_data(config, x_train, y_train, x_test, y_test):
    validate_inputs(x_train, config, y_train)
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    if x_test is not None:
        validate_inputs(x_test, config, y_test)


def _resolve_device(device):
    """The JAX device to train on: JAX's default, the first of a platform, or `device`."""
    import jax

    if device is None:
        return jax.devices()[0]
    if isinstance(device, jax.Device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be None, a platform name or a jax.Device, got {device!r}")
    try:
        return jax.devices(device)[0]
    except RuntimeError as error:
        available = sorted({d.platform for d in jax.devices()})
        raise ValueError(
            f"device={device!r} is not available to JAX ({error}); available platforms: "
            f"{available} (JAX_PLATFORMS={os.environ.get('JAX_PLATFORMS', '')!r})"
        ) from None


def _warn_unless_reproducible_gpu():
    """Warn that a GPU resume is exact only with XLA's reproducibility flags."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "--xla_gpu_deterministic_ops=true" in flags or "--xla_gpu_autotune_level=0" in flags:
        return
    warnings.warn(
        "training on a GPU with a checkpoint: a resumed run is bit-identical to an "
        "uninterrupted one only if XLA_FLAGS=--xla_gpu_deterministic_ops=true is set "
        "before JAX starts (XLA's autotuner may pick other kernels in another process)",
        RuntimeWarning,
        stacklevel=3,
    )


@functools.lru_cache(maxsize=32)
def _training_step(config, key):
    """The optimiser and the jitted step for a configuration and optimiser options.

    Cached, so repeated `train` calls (resume, benchmarks) reuse one compilation.
    The step: loss and gradient, optax update, taus projected on ``[tau_min, inf)``.
    """
    import jax
    import optax

    options = dict(key)
    options.pop("steps_per_epoch")
    optimizer = make_optimizer(steps_per_epoch=dict(key)["steps_per_epoch"], **options)
    tau_min = config.tau_min
    frozen = not config.learn_tau

    @jax.jit
    def step(params, opt_state, xb, yb):
        (loss, (acc, _)), grads = jax.value_and_grad(loss_and_accuracy, has_aux=True)(
            params, xb, yb, config
        )
        if frozen:  # frozen taus take no part in the clipping norm
            grads = _zero_taus(grads)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return _project_taus(params, tau_min), opt_state, loss, acc

    return optimizer, step


def _zero_taus(tree):
    import jax.numpy as jnp

    def fix(d):
        return {k: (jnp.zeros_like(v) if k.startswith("tau") else v) for k, v in d.items()}

    return {"layers": [fix(la) for la in tree["layers"]], "readout": fix(tree["readout"])}


def _start_parameters(initial, cast, optimizer):
    """JAX copies of the initial parameters in the training dtype, and a fresh optax state."""
    import jax
    import jax.numpy as jnp

    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=cast), initial)
    return params, optimizer.init(params)


def _train_epoch(step, params, opt_state, x_train, y_train, batches, epoch, bar):
    """One pass over `batches` (index arrays); return the state and mean loss and accuracy.

    Raises
    ------
    FloatingPointError
        The loss of a batch is not finite.
    """
    losses, accuracies = [], []
    for indices in batches:
        params, opt_state, loss, accuracy = step(
            params, opt_state, x_train[indices], y_train[indices]
        )
        losses.append(float(loss))
        accuracies.append(float(accuracy))
        if not np.isfinite(losses[-1]):
            raise FloatingPointError(f"loss became {losses[-1]} in epoch {epoch + 1}")
        bar.set_postfix(_postfix(epoch, np.mean(losses), np.mean(accuracies)), refresh=False)
        bar.update(1)
    return params, opt_state, float(np.mean(losses)), float(np.mean(accuracies))


def _postfix(epoch, loss, accuracy, test_accuracy=None):
    """What the progress bar shows after the counts: epoch, running loss and accuracy."""
    postfix = {"epoch": epoch + 1, "loss": f"{loss:.4f}", "acc": f"{accuracy:.3f}"}
    if test_accuracy is not None:
        postfix["test"] = f"{test_accuracy:.3f}"
    return postfix


def _restore_frozen_taus(params, initial):
    """Put back the exact (float64) initial time constants of a run with frozen taus."""
    for trained, start in zip(
        [*params["layers"], params["readout"]],
        [*initial["layers"], initial["readout"]],
        strict=True,
    ):
        for key in trained:
            if key.startswith("tau"):
                trained[key] = start[key].copy()


def _meta(metadata, seed, dtype):
    meta = dict(metadata or {})
    meta.setdefault("seed", int(seed))
    meta.setdefault("training_dtype", dtype)
    return meta


# ---------------------------------------------------------------- exact checkpoints
_STATE_FORMAT = "neurosrnn.TrainingState/1"


def _digest(arrays):
    """SHA-256 of arrays (None allowed) with their dtypes and shapes."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def _fingerprint(config, options, data, initial):
    """Digests of the parts of a training set-up that a resume must not change."""
    import jax

    return {
        "configuration": hashlib.sha256(
            json.dumps(config.to_dict(), sort_keys=True).encode()
        ).hexdigest(),
        "training options": hashlib.sha256(
            json.dumps(options, sort_keys=True).encode()
        ).hexdigest(),
        "data": _digest([None if a is None else np.asarray(a) for a in data]),
        "initial parameters": _digest(jax.tree_util.tree_leaves(initial)),
    }


def _save_state(path, params, initial, opt_state, rng, history, fingerprint):
    """Write the exact training state to one npz file, atomically."""
    import jax

    arrays = {
        "format": np.array(_STATE_FORMAT),
        "fingerprint": np.array(json.dumps(fingerprint, sort_keys=True)),
        "rng": np.array(json.dumps(rng.bit_generator.state)),
        "history": np.array(json.dumps(history, default=_json_default)),
        "epochs_done": np.array(len(history["loss"])),
    }
    for prefix, tree in (("params", params), ("initial", initial), ("opt", opt_state)):
        for i, leaf in enumerate(jax.tree_util.tree_leaves(tree)):
            arrays[f"{prefix}/{i:05d}"] = np.asarray(leaf)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)


def _restore_tree(arrays, prefix, template, path):
    """Leaves ``<prefix>/<i>`` of `arrays` in the structure of `template` (exact dtypes)."""
    import jax
    import jax.numpy as jnp

    leaves, treedef = jax.tree_util.tree_flatten(template)
    names = sorted(name for name in arrays.files if name.startswith(prefix + "/"))
    if len(names) != len(leaves):
        raise ValueError(
            f"checkpoint {path!r} holds {len(names)} {prefix} arrays, expected {len(leaves)}"
        )
    restored = []
    for name, leaf in zip(names, leaves, strict=True):
        value = arrays[name]
        leaf = np.asarray(leaf)
        if value.shape != leaf.shape or value.dtype != leaf.dtype:
            raise ValueError(
                f"checkpoint {path!r}: {name} has shape {value.shape} and dtype {value.dtype}, "
                f"expected {leaf.shape} and {leaf.dtype}"
            )
        restored.append(jnp.asarray(value))
    return jax.tree_util.tree_unflatten(treedef, restored)


def _load_state(path, fingerprint, epochs, initial, cast, optimizer):
    """Parameters, optimiser state, generator, history and epochs done of a checkpoint."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if "format" not in arrays.files or str(arrays["format"][()]) != _STATE_FORMAT:
                raise ValueError(f"{path!r} is not a training checkpoint ({_STATE_FORMAT})")
            stored = json.loads(str(arrays["fingerprint"][()]))
            changed = [part for part in fingerprint if stored.get(part) != fingerprint[part]]
            if changed:
                raise ValueError(
                    f"cannot resume from {path!r}: it was written for a different "
                    f"{', '.join(changed)}; train with resume=False or another checkpoint"
                )
            done = int(arrays["epochs_done"])
            if done > epochs:
                raise ValueError(
                    f"checkpoint {path!r} holds {done} epochs, more than epochs={epochs}"
                )
            fresh_params, fresh_state = _start_parameters(initial, cast, optimizer)
            params = _restore_tree(arrays, "params", fresh_params, path)
            opt_state = _restore_tree(arrays, "opt", fresh_state, path)
            rng = np.random.default_rng()
            rng.bit_generator.state = json.loads(str(arrays["rng"][()]))
            history = json.loads(str(arrays["history"][()]))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read training checkpoint {path!r}: {error}") from None
    return params, opt_state, rng, history, done
