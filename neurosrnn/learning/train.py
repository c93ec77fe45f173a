"""Training SRNNs: BPTT with surrogate gradients, Adam with a separate timescale
learning rate, time constants kept positive, checkpoints and a progress bar.

The optimiser follows the reference set-up (Yin, Corradi & Bohte 2021, Nat. Mach.
Intell. 3:905; released code): Adam (Kingma & Ba 2015, ICLR) with learning rate
``1e-2`` for weights and biases and a larger one (``tau_lr_factor`` times, 2 to 5 in
the reference scripts) for the time constants, optionally halved every few epochs
(StepLR). After each step every time constant is projected onto
``[tau_min, inf)``, so ``alpha = exp(-1/tau_m)`` and ``rho = exp(-1/tau_adp)`` stay in
``(0, 1)``.

A `TrainedSRNN` holds the configuration, the initial and trained parameters and the
training history; it saves atomically to ``<stem>.npz`` + ``<stem>.json`` and
reloads with `TrainedSRNN.load`.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.progress import progress_bar

from .optim import adam_init, adam_update
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


def _lr_tree(params, lr, tau_lr):
    def leaf_lrs(d):
        return {k: (tau_lr if k.startswith("tau") else lr) for k in d}

    return {
        "layers": [leaf_lrs(la) for la in params["layers"]],
        "readout": leaf_lrs(params["readout"]),
    }


def _project_taus(params, tau_min):
    import jax.numpy as jnp

    def fix(d):
        return {k: (jnp.maximum(v, tau_min) if k.startswith("tau") else v) for k, v in d.items()}

    return {"layers": [fix(la) for la in params["layers"]], "readout": fix(params["readout"])}


def _check_training_args(epochs, batch_size, lr, tau_lr_factor, dtype, lr_step):
    if not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not tau_lr_factor >= 0:
        raise ValueError(f"tau_lr_factor must be >= 0, got {tau_lr_factor}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if lr_step is not None and (len(lr_step) != 2 or lr_step[0] < 1 or not 0 < lr_step[1] <= 1):
        raise ValueError(f"lr_step must be (every_epochs >= 1, factor in (0, 1]), got {lr_step}")


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
    seed=0,
    params=None,
    dtype="float32",
    checkpoint=None,
    progress=True,
    metadata=None,
):
    """Train an SRNN with surrogate-gradient BPTT.

    Parameters
    ----------
    config : SRNNConfig
    x_train : array, shape (n, T, n_in)
    y_train : array of int, shape (n,) or (n, T) (the latter with ``loss="per_step"``)
    x_test, y_test : arrays, optional
        Evaluated after every epoch (``history["test_accuracy"]``).
    epochs : int
    batch_size : int
        Mini-batch size; the last incomplete batch of each shuffled epoch is
        dropped (fixed shapes compile once).
    lr : float
        Adam learning rate of weights and biases.
    tau_lr_factor : float
        Learning rate of the time constants relative to `lr` (ignored, i.e. taus
        frozen, when ``config.learn_tau`` is False).
    lr_step : (int, float), optional
        Multiply both learning rates by ``factor`` every ``every`` epochs (StepLR).
    seed : int
        Seeds the initial parameters (if `params` is None) and the batch order.
    params : dict, optional
        Initial parameters (default: ``init_params(config, seed)``).
    dtype : {"float32", "float64"}
        Training precision.
    checkpoint : str, optional
        File stem; the network is saved there (atomically) after every epoch.
    progress : bool or None
        Progress bar ("training", in batches) with the epoch and the running loss
        and accuracy: True (default) always, None on an interactive terminal only,
        False never (`neurosrnn.progress.progress_bar`).
    metadata : dict, optional
        Stored in the result.

    Returns
    -------
    TrainedSRNN
    """
    enable_x64()
    _check_training_args(epochs, batch_size, lr, tau_lr_factor, dtype, lr_step)
    _check_training_data(config, x_train, y_train, x_test, y_test)
    if params is None:
        params = init_params(config, seed)
    validate_params(params, config)
    initial = _to_numpy(params)
    cast = np.float32 if dtype == "float32" else np.float64
    tau_lr = lr * tau_lr_factor if config.learn_tau else 0.0
    step = _make_step(config, _lr_tree(initial, lr, tau_lr))
    params, opt_state = _start_parameters(initial, cast)
    batch_size = min(int(batch_size), len(x_train))
    n_batches = len(x_train) // batch_size
    rng = np.random.default_rng(seed + 1_000_003)
    history = {"loss": [], "accuracy": [], "test_accuracy": [], "seconds": []}
    x_train = np.asarray(x_train, dtype=cast)
    y_train = np.asarray(y_train)
    meta = _meta(metadata, seed, dtype)
    with progress_bar(
        total=epochs * n_batches, label="training", unit="batches", progress=progress
    ) as bar:
        for epoch in range(epochs):
            started = time.perf_counter()
            scale = 1.0 if lr_step is None else lr_step[1] ** (epoch // lr_step[0])
            order = rng.permutation(len(x_train))
            batches = [order[b * batch_size : (b + 1) * batch_size] for b in range(n_batches)]
            params, opt_state, loss, accuracy = _train_epoch(
                step, params, opt_state, x_train, y_train, batches, cast(scale), epoch, bar
            )
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            test_accuracy = None
            if x_test is not None:
                test_accuracy = evaluate(params, x_test, y_test, config, dtype=dtype)["accuracy"]
                bar.set_postfix(_postfix(epoch, loss, accuracy, test_accuracy))
            history["test_accuracy"].append(test_accuracy)
            history["seconds"].append(time.perf_counter() - started)
            if checkpoint is not None:
                TrainedSRNN(config, params, initial, history, meta).save(checkpoint)
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


def _make_step(config, lrs):
    """The jitted training step: loss and gradient, Adam, taus projected on ``[tau_min, inf)``.

    ``scale`` multiplies every learning rate in `lrs` (StepLR).
    """
    import jax

    tau_min = config.tau_min

    @jax.jit
    def step(params, opt_state, xb, yb, scale):
        (loss, (acc, _)), grads = jax.value_and_grad(loss_and_accuracy, has_aux=True)(
            params, xb, yb, config
        )
        scaled = jax.tree_util.tree_map(lambda lr_: lr_ * scale, lrs)
        params, opt_state = adam_update(params, grads, opt_state, scaled)
        return _project_taus(params, tau_min), opt_state, loss, acc

    return step


def _start_parameters(initial, cast):
    """JAX copies of the initial parameters in the training dtype, and a fresh Adam state."""
    import jax
    import jax.numpy as jnp

    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=cast), initial)
    return params, adam_init(params, dtype=cast)


def _train_epoch(step, params, opt_state, x_train, y_train, batches, scale, epoch, bar):
    """One pass over `batches` (index arrays); return the state and mean loss and accuracy.

    Raises
    ------
    FloatingPointError
        The loss of a batch is not finite.
    """
    losses, accuracies = [], []
    for indices in batches:
        params, opt_state, loss, accuracy = step(
            params, opt_state, x_train[indices], y_train[indices], scale
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
