"""Classical recurrent baselines (LSTM, GRU, vanilla RNN) on equinox, trained like the SRNN.

The baselines of the SRNN comparison (Yin, Corradi & Bohte 2021, Nat. Mach. Intell.
3:905) are dense recurrent classifiers built from equinox's maintained cells
(`equinox.nn.LSTMCell`, `equinox.nn.GRUCell`) and, for the vanilla (Elman) RNN, the
one-line cell `ElmanCell`. They read the same data layout as the SRNN (``x`` of shape
``(batch, T, n_in)``) and train with the same optimiser and schedules
(`neurosrnn.learning.optim.make_optimizer`: optax Adam, constant, step, exponential or
cosine schedule, optional global-norm clipping) and the same seeded batch order as
`neurosrnn.learning.train.train`.

A stack of ``L`` layers of sizes ``N_l`` (inputs ``I_1 = n_in``, ``I_l = N_{l-1}``)
and a dense readout to ``C`` classes performs per time step

.. math::
    \\text{MACs} = G \\sum_l N_l (I_l + N_l) + N_L C,\\qquad
    G = 4\\ (\\text{LSTM}),\\ 3\\ (\\text{GRU}),\\ 1\\ (\\text{RNN}),

counted by `neurosrnn.learning.energy.rnn_operations` (the operation count the
energy ratio uses); `count_parameters` counts the trainable numbers.

The readout sees the last hidden state (``readout="last"``, the usual sequence
classifier) or the mean of the per-step readouts from ``loss_start`` on
(``readout="mean"``).

This module imports JAX and equinox (``pip install neurosrnn[train]``).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosrnn.progress import progress_bar
from neurosrnn.validation import check_choice, check_int, check_seed

from . import energy
from .optim import SCHEDULES, make_optimizer
from .srnn import enable_x64

__all__ = [
    "BASELINE_KINDS",
    "BASELINE_READOUTS",
    "ElmanCell",
    "BaselineConfig",
    "RecurrentClassifier",
    "init_model",
    "logits",
    "count_parameters",
    "operations",
    "evaluate_baseline",
    "TrainedBaseline",
    "train_baseline",
]

#: Recurrent cell kinds of the baselines.
BASELINE_KINDS = ("lstm", "gru", "rnn")
#: How the readout turns the hidden trajectory into class scores.
BASELINE_READOUTS = ("last", "mean")


class ElmanCell(eqx.Module):
    """Vanilla (Elman) recurrent cell :math:`h_t = \\tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)`.

    Weights and bias are drawn uniformly from :math:`[-1/\\sqrt{N}, 1/\\sqrt{N}]`
    (``N`` the hidden size), the initialisation equinox uses for its LSTM and GRU
    cells. Called on one sample, like equinox's cells.

    Parameters
    ----------
    input_size, hidden_size : int
    key : jax.random.PRNGKey

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> cell = ElmanCell(3, 4, key=jax.random.PRNGKey(0))
    >>> cell(jnp.ones(3), jnp.zeros(4)).shape
    (4,)
    """

    weight_ih: jax.Array
    weight_hh: jax.Array
    bias: jax.Array
    input_size: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)

    def __init__(self, input_size, hidden_size, *, key, dtype=None):
        dtype = jnp.float32 if dtype is None else dtype
        bound = 1.0 / np.sqrt(hidden_size)
        k_ih, k_hh, k_b = jax.random.split(key, 3)

        def uniform(k, shape):
            return jax.random.uniform(k, shape, dtype, -bound, bound)

        self.weight_ih = uniform(k_ih, (hidden_size, input_size))
        self.weight_hh = uniform(k_hh, (hidden_size, hidden_size))
        self.bias = uniform(k_b, (hidden_size,))
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)

    def __call__(self, input, hidden, *, key=None):
        return jnp.tanh(self.weight_ih @ input + self.weight_hh @ hidden + self.bias)


@dataclass(frozen=True)
class BaselineConfig:
    """Architecture of a classical recurrent classifier.

    Parameters
    ----------
    kind : {"lstm", "gru", "rnn"}
    n_in : int
        Input channels.
    hidden : tuple of int
        Sizes of the stacked recurrent layers (at least one).
    n_out : int
        Number of classes.
    readout : {"last", "mean"}
        Class scores from the last hidden state, or the mean over steps
        ``loss_start, ..., T-1`` of the per-step readouts.
    loss_start : int
        First step the ``"mean"`` readout averages over.

    Examples
    --------
    >>> BaselineConfig("gru", n_in=1, hidden=(32,), n_out=10).operations()["mac"]
    3488.0
    """

    kind: str
    n_in: int
    hidden: tuple = (64,)
    n_out: int = 10
    readout: str = "last"
    loss_start: int = 0

    def __post_init__(self):
        check_choice(self.kind, "kind", BASELINE_KINDS)
        check_choice(self.readout, "readout", BASELINE_READOUTS)
        object.__setattr__(self, "n_in", check_int(self.n_in, "n_in", minimum=1))
        object.__setattr__(self, "n_out", check_int(self.n_out, "n_out", minimum=1))
        object.__setattr__(self, "loss_start", check_int(self.loss_start, "loss_start", minimum=0))
        hidden = tuple(int(h) for h in np.atleast_1d(self.hidden))
        if not hidden or min(hidden) < 1:
            raise ValueError(
                f"hidden must be a non-empty sequence of positive layer sizes, got {self.hidden}"
            )
        object.__setattr__(self, "hidden", hidden)

    def operations(self):
        """Multiply-accumulates per time step (`neurosrnn.learning.energy.rnn_operations`)."""
        return operations(self)

    def to_dict(self):
        """Plain-JSON dictionary of the configuration."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data):
        """Inverse of `to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class RecurrentClassifier(eqx.Module):
    """Stacked recurrent cells and a dense readout, applied to one sequence.

    Calling it on ``x`` of shape ``(T, n_in)`` returns the per-step class scores
    ``(T, n_out)`` (readout of every hidden state); `logits` reduces them as the
    configuration says and maps over a batch.
    """

    cells: tuple
    readout: eqx.nn.Linear
    kind: str = eqx.field(static=True)

    def __call__(self, x):
        sequence = x
        for cell in self.cells:
            n = cell.hidden_size
            zeros = jnp.zeros(n, dtype=x.dtype)
            state = (zeros, zeros) if self.kind == "lstm" else zeros

            def step(state, x_t, cell=cell):
                state = cell(x_t, state)
                return state, (state[0] if self.kind == "lstm" else state)

            _, sequence = jax.lax.scan(step, state, sequence)
        return jax.vmap(self.readout)(sequence)


def init_model(config, seed=0, dtype="float32"):
    """Draw a `RecurrentClassifier` for `config` (equinox's default initialisation).

    Parameters
    ----------
    config : BaselineConfig
    seed : int
        Seed of the `jax.random.PRNGKey` every weight is drawn from.
    dtype : {"float32", "float64"}

    Returns
    -------
    RecurrentClassifier

    Examples
    --------
    >>> model = init_model(BaselineConfig("lstm", n_in=2, hidden=(3,), n_out=2), seed=0)
    >>> count_parameters(model)  # 4*3*(2+3) + 4*3 + 3*2 + 2
    80
    """
    check_seed(seed)
    check_choice(dtype, "dtype", ("float32", "float64"))
    if dtype == "float64":
        enable_x64()
    dt = jnp.float32 if dtype == "float32" else jnp.float64
    cell_class = {"lstm": eqx.nn.LSTMCell, "gru": eqx.nn.GRUCell, "rnn": ElmanCell}[config.kind]
    keys = jax.random.split(jax.random.PRNGKey(int(seed)), len(config.hidden) + 1)
    cells = []
    n_pre = config.n_in
    for key, n in zip(keys[:-1], config.hidden, strict=True):
        cells.append(cell_class(n_pre, n, key=key, dtype=dt))
        n_pre = n
    readout = eqx.nn.Linear(n_pre, config.n_out, key=keys[-1], dtype=dt)
    return RecurrentClassifier(tuple(cells), readout, config.kind)


def logits(model, x, config):
    """Class scores ``(batch, n_out)`` of a batch ``x`` of shape ``(batch, T, n_in)``."""
    per_step = jax.vmap(model)(jnp.asarray(x))
    if config.readout == "last":
        return per_step[:, -1, :]
    return per_step[:, config.loss_start :, :].mean(axis=1)


def count_parameters(model):
    """Number of trainable numbers (floating-point array entries) of a model."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return int(sum(leaf.size for leaf in leaves))


def operations(config):
    """Multiply-accumulates per time step of `config` (dense readout included).

    Returns
    -------
    dict
        ``{"mac": float, "ac": 0.0}`` from `neurosrnn.learning.energy.rnn_operations`.
    """
    return energy.rnn_operations(config.n_in, list(config.hidden), config.n_out, kind=config.kind)


def _loss_and_accuracy(params, static, xb, yb, config):
    model = eqx.combine(params, static)
    scores = logits(model, xb, config)
    logp = jax.nn.log_softmax(scores, axis=-1)
    loss = -jnp.take_along_axis(logp, yb[:, None], axis=-1).mean()
    accuracy = (jnp.argmax(scores, axis=-1) == yb).astype(scores.dtype).mean()
    return loss, accuracy


@eqx.filter_jit
def _evaluate_batch(params, static, xb, yb, config):
    """Jitted loss and accuracy of one batch (compiled once per shape and config)."""
    return _loss_and_accuracy(params, static, xb, yb, config)


def _check_data(config, x, y, name):
    shape = np.shape(x)
    if len(shape) != 3 or shape[2] != config.n_in or shape[1] <= config.loss_start:
        raise ValueError(
            f"x_{name} must have shape (batch, T > loss_start, n_in={config.n_in}), got {shape}"
        )
    labels = np.asarray(y)
    if labels.shape != (shape[0],):
        raise ValueError(f"y_{name} must have shape ({shape[0]},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= config.n_out):
        raise ValueError(f"y_{name} must lie in [0, n_out) = [0, {config.n_out})")


def evaluate_baseline(model, x, labels, config, batch_size=256):
    """Accuracy and mean cross-entropy of `model` on a data set.

    Returns
    -------
    dict
        ``{"accuracy": float, "loss": float}``.
    """
    _check_data(config, x, labels, "test")
    params, static = eqx.partition(model, eqx.is_inexact_array)
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    total_loss = total_acc = 0.0
    for start in range(0, len(x), batch_size):
        xb = np.asarray(x[start : start + batch_size], dtype=dtype)
        yb = np.asarray(labels[start : start + batch_size])
        loss, acc = _evaluate_batch(params, static, xb, yb, config)
        total_loss += float(loss) * len(xb)
        total_acc += float(acc) * len(xb)
    return {"accuracy": total_acc / len(x), "loss": total_loss / len(x)}


class TrainedBaseline:
    """A trained classical recurrent classifier with its history.

    Attributes
    ----------
    config : BaselineConfig
    model : RecurrentClassifier
    history : dict
        Per-epoch lists ``loss``, ``accuracy``, ``test_accuracy``, ``seconds``.
    metadata : dict
    """

    def __init__(self, config, model, history, metadata):
        self.config = config
        self.model = model
        self.history = history
        self.metadata = metadata

    def __repr__(self):
        last = self.history.get("test_accuracy") or [None]
        acc = "" if last[-1] is None else f", test accuracy {last[-1]:.3f}"
        return (
            f"<TrainedBaseline {self.config.kind.upper()} {self.config.n_in} -> "
            f"{list(self.config.hidden)} -> {self.config.n_out}, "
            f"{len(self.history.get('loss', []))} epochs{acc}>"
        )

    @property
    def n_parameters(self):
        """Trainable numbers of the model."""
        return count_parameters(self.model)

    def operations(self):
        """MACs per time step (see `operations`)."""
        return operations(self.config)

    def predict(self, x):
        """Class predictions ``(batch,)``."""
        params = eqx.filter(self.model, eqx.is_inexact_array)
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        return np.asarray(
            jnp.argmax(logits(self.model, np.asarray(x, dtype=dtype), self.config), axis=-1)
        )

    def evaluate(self, x, labels, batch_size=256):
        """Accuracy and loss on a data set (`evaluate_baseline`)."""
        return evaluate_baseline(self.model, x, labels, self.config, batch_size)


@functools.lru_cache(maxsize=16)
def _training_step(config, key, static):
    """Optimiser and jitted step, cached so repeated runs compile once."""
    import optax

    optimizer = make_optimizer(**dict(key))

    @jax.jit
    def step(params, opt_state, xb, yb):
        (loss, acc), grads = jax.value_and_grad(_loss_and_accuracy, has_aux=True)(
            params, static, xb, yb, config
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, acc

    return optimizer, step


def train_baseline(
    config,
    x_train,
    y_train,
    *,
    x_test=None,
    y_test=None,
    epochs=10,
    batch_size=64,
    lr=1e-2,
    lr_schedule="constant",
    lr_step=None,
    lr_decay=None,
    clip_norm=None,
    seed=0,
    dtype="float32",
    progress=None,
    metadata=None,
):
    """Train a classical recurrent classifier with BPTT and optax Adam.

    Same optimiser, schedules, clipping, batch order and dropped last batch as the
    SRNN's `neurosrnn.learning.train.train` (without time constants, every parameter
    is in the weight group): per mini-batch one step of
    `neurosrnn.learning.optim.make_optimizer` on the cross-entropy of the class scores.

    Parameters
    ----------
    config : BaselineConfig
    x_train : array, shape (n, T, n_in)
    y_train : int array, shape (n,)
    x_test, y_test : arrays, optional
        Evaluated after every epoch.
    epochs, batch_size, lr, lr_schedule, lr_step, lr_decay, clip_norm
        As in `neurosrnn.learning.train.train`.
    seed : int
        Seeds the initial weights (`init_model`) and the batch order.
    dtype : {"float32", "float64"}
    progress : bool or None
        Progress bar over the mini-batches (None: only on a terminal).
    metadata : dict, optional

    Returns
    -------
    TrainedBaseline

    Examples
    --------
    >>> from neurosrnn.learning.data import sequential_digits
    >>> data = sequential_digits("rows", n_samples=64, seed=0)
    >>> config = BaselineConfig("gru", n_in=8, hidden=(8,), n_out=10)
    >>> trained = train_baseline(config, data.x_train, data.y_train, epochs=2,
    ...                          batch_size=16, progress=False)
    >>> len(trained.history["loss"])
    2
    """
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    check_seed(seed)
    check_choice(dtype, "dtype", ("float32", "float64"))
    check_choice(lr_schedule, "lr_schedule", SCHEDULES)
    _check_data(config, x_train, y_train, "train")
    if (x_test is None) != (y_test is None):
        raise ValueError("give both x_test and y_test, or neither")
    if x_test is not None:
        _check_data(config, x_test, y_test, "test")
    batch_size = min(batch_size, len(x_train))
    n_batches = len(x_train) // batch_size
    options = dict(
        lr=lr,
        schedule=lr_schedule,
        steps_per_epoch=n_batches,
        lr_step=lr_step,
        lr_decay=lr_decay,
        epochs=max(epochs, 1) if lr_schedule == "cosine" else None,
        clip_norm=clip_norm,
    )
    make_optimizer(**options)  # checks the optimiser options before any work
    if options["lr_step"] is not None:
        options["lr_step"] = tuple(options["lr_step"])
    model = init_model(config, seed, dtype)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    optimizer, step = _training_step(config, tuple(sorted(options.items())), static)
    opt_state = optimizer.init(params)

    cast = np.float32 if dtype == "float32" else np.float64
    x_train = np.asarray(x_train, dtype=cast)
    y_train = np.asarray(y_train)
    rng = np.random.default_rng(int(seed) + 1_000_003)  # the SRNN trainer's batch order
    history = {"loss": [], "accuracy": [], "test_accuracy": [], "seconds": []}
    with progress_bar(
        total=epochs * n_batches, label=f"training {config.kind}", unit="batches", progress=progress
    ) as bar:
        for epoch in range(epochs):
            started = time.perf_counter()
            order = rng.permutation(len(x_train))
            losses, accuracies = [], []
            for b in range(n_batches):
                idx = order[b * batch_size : (b + 1) * batch_size]
                params, opt_state, loss, acc = step(params, opt_state, x_train[idx], y_train[idx])
                losses.append(float(loss))
                accuracies.append(float(acc))
                if not np.isfinite(losses[-1]):
                    raise FloatingPointError(f"loss became {losses[-1]} in epoch {epoch + 1}")
                bar.update(1)
            history["loss"].append(float(np.mean(losses)))
            history["accuracy"].append(float(np.mean(accuracies)))
            test_accuracy = None
            if x_test is not None:
                current = eqx.combine(params, static)
                test_accuracy = evaluate_baseline(current, x_test, y_test, config)["accuracy"]
            history["test_accuracy"].append(test_accuracy)
            history["seconds"].append(time.perf_counter() - started)
    meta = dict(metadata or {})
    meta.setdefault("seed", int(seed))
    meta.setdefault("training_dtype", dtype)
    meta["platform"] = jax.devices()[0].platform
    return TrainedBaseline(config, eqx.combine(params, static), history, meta)
