"""The discrete adaptive spiking recurrent network (SRNN) in JAX.

One step ``t`` of an ALIF layer with input current ``I_t`` (Yin, Corradi & Bohte
2021, Nat. Mach. Intell. 3:905; the update of their released code, time counted in
steps, ``dt = 1``, ``R_m = 1``):

.. math::
    \\alpha = e^{-1/\\tau_m},\\quad \\rho = e^{-1/\\tau_{adp}},\\qquad
    b_t = \\rho\\, b_{t-1} + (1 - \\rho)\\, s_{t-1},\\qquad
    \\theta_t = b_{j0} + \\beta\\, b_t,

    u_t = \\alpha\\, u_{t-1} + (1 - \\alpha)\\, I_t - \\theta_t\\, s_{t-1},\\qquad
    s_t = H(u_t - \\theta_t).

``I_t = W_in x_t + W_rec s_{t-1} + bias`` where ``x_t`` is the network input (first
layer) or the *same-step* spikes of the layer below. The reset is soft and lands one
step late (the spike of step ``t - 1`` subtracts the current threshold). ``beta = 0``
gives a plain LIF layer. The readout is either a leaky integrator
``m_t = alpha_o m_{t-1} + (1 - alpha_o)(W_o s_t + bias_o)`` with per-class ``tau_o``,
or a non-recurrent spiking ALIF layer.

Every time constant (``tau_m``, ``tau_adp``, ``tau_o``) is a per-neuron trainable
parameter, counted in steps. The training code keeps them above ``tau_min > 0``
(the released code has no constraint and produced a negative ``tau_adp``, which
makes ``rho > 1`` and the trace diverge).

Initial state: ``u_0 = 0``, ``b_0 = b_j0``, ``s_0 = 0``, ``m_0 = 0``.

Parameters are a plain dictionary (a JAX pytree) of float arrays::

    {"layers": [{"w_in", "w_rec" (if recurrent), "bias", "tau_m", "tau_adp"}, ...],
     "readout": {"w", "bias", "tau"}                       # integrator
              or {"w", "bias", "tau_m", "tau_adp"}}        # spiking readout

Weights are stored as ``(n_pre, n_post)`` matrices, so ``I = x @ w``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from neurosrnn.validation import check_int

from .surrogate import SURROGATES, get_surrogate

__all__ = [
    "enable_x64",
    "SRNNConfig",
    "LOSSES",
    "READOUTS",
    "init_params",
    "run",
    "aggregate_logits",
    "loss_and_accuracy",
    "predict",
    "predictions_from_readout",
    "validate_params",
    "validate_inputs",
]

LOSSES = ("mean", "last", "per_step", "summed_softmax", "spike_count")
READOUTS = ("integrator", "spiking")


def enable_x64():
    """Switch JAX to 64-bit floats (``jax_enable_x64``), once per process.

    The float64 forward pass is the reference the Brian2 export is checked against;
    without this flag JAX silently computes float64 inputs in float32. Training in
    float32 is unaffected (arrays keep the dtype they are cast to). Called by the
    entry points of `neurosrnn.learning.train` before they create any array.
    """
    import jax

    jax.config.update("jax_enable_x64", True)


@dataclass(frozen=True)
class SRNNConfig:
    """Architecture and fixed constants of an SRNN.

    Parameters
    ----------
    n_in : int
        Number of input channels.
    hidden : tuple of int
        Sizes of the hidden ALIF layers (at least one).
    n_out : int
        Number of classes (readout units).
    recurrent : bool
        Whether hidden layers have recurrent weights ``W_rec``.
    adaptive : bool
        ALIF (threshold adaptation with ``beta``) if True, plain LIF (``beta = 0``)
        if False. Applies to the hidden layers and a spiking readout.
    beta : float
        Adaptation strength (1.8 in the reference code).
    b_j0 : float
        Baseline threshold (0.01 in most reference scripts, 0.1 in the ICONS
        S-MNIST script; default 0.1).
    readout : {"integrator", "spiking"}
        Leaky-integrator (non-spiking) readout or a spiking ALIF output layer.
    tau_m_init, tau_adp_init, tau_out_init : tuple (mean, std) or tuple of such pairs
        Initial distributions of the time constants, in steps: one pair ``(mean,
        std)`` draws every neuron from one normal (reference SHD set-up: (20, 5),
        (150, 10), (20, 5)); ``K`` pairs draw a multi-Gaussian initialisation, the
        neurons of a layer split in ``K`` consecutive blocks of near-equal size
        (block ``k``: neurons ``floor(k n / K)`` to ``floor((k+1) n / K) - 1``), block
        ``k`` from the ``k``-th normal (the reference code's multi-normal
        initialisation, e.g. ``((5, 1), (50, 10))`` for fast and slow neurons).
    learn_tau : bool
        Train the time constants (True) or keep them at their initial values.
    surrogate : str
        Surrogate derivative name (see `neurosrnn.learning.surrogate`).
    loss : str
        ``"mean"``: cross-entropy of the time-mean readout; ``"last"``: of the last
        step; ``"per_step"``: mean per-step negative log-likelihood (labels per step
        or per sequence); ``"summed_softmax"``: cross-entropy applied to the sum of
        per-step softmax outputs (the SHD script's loss); ``"spike_count"``:
        cross-entropy of the output spike counts (spiking readout).
    loss_start : int
        Steps before this index are ignored by the loss and the prediction.
    tau_min : float
        Lower bound (steps, > 0) the time constants are projected onto after each
        optimiser step and at initialisation.
    rate_penalty : float
        :math:`\\lambda \\ge 0`: the loss gains :math:`\\lambda \\sum_l \\bar r_l`, with
        :math:`\\bar r_l` the mean spike probability per neuron per step of hidden
        layer ``l`` (differentiated through the surrogate), which pushes firing down
        (0: no penalty).
    truncation : int, optional
        Truncated BPTT: the gradient does not flow through the network state carried
        across steps ``t = k, 2k, ...`` (``k = truncation``), so no error reaches back
        more than ``k`` steps from the start of its chunk (Williams & Peng 1990,
        Neural Comput. 2:490). The forward pass is unchanged. None: full BPTT.

    Notes
    -----
    `to_dict` leaves out `rate_penalty` and `truncation` while they hold their
    defaults, so saved networks and checkpoint fingerprints of configurations that
    do not use them stay as before these options existed.
    """

    n_in: int
    hidden: tuple = (32,)
    n_out: int = 10
    recurrent: bool = True
    adaptive: bool = True
    beta: float = 1.8
    b_j0: float = 0.1
    readout: str = "integrator"
    tau_m_init: tuple = (20.0, 5.0)
    tau_adp_init: tuple = (150.0, 10.0)
    tau_out_init: tuple = (20.0, 5.0)
    learn_tau: bool = True
    surrogate: str = "multi_gaussian"
    loss: str = "mean"
    loss_start: int = 0
    tau_min: float = 0.5
    rate_penalty: float = 0.0
    truncation: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in np.atleast_1d(self.hidden)))
        for name in ("n_in", "n_out"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if len(self.hidden) < 1 or any(h < 1 for h in self.hidden):
            raise ValueError(
                f"hidden must be a non-empty sequence of positive layer sizes, got {self.hidden}"
            )
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.loss == "spike_count" and self.readout != "spiking":
            raise ValueError("loss='spike_count' needs readout='spiking'")
        if self.surrogate not in SURROGATES:
            raise ValueError(f"surrogate must be one of {SURROGATES}, got {self.surrogate!r}")
        if not self.tau_min > 0:
            raise ValueError(f"tau_min must be > 0 (steps), got {self.tau_min}")
        if self.loss_start < 0:
            raise ValueError(f"loss_start must be >= 0, got {self.loss_start}")
        for name in ("tau_m_init", "tau_adp_init", "tau_out_init"):
            object.__setattr__(self, name, _check_tau_init(getattr(self, name), name))
        if not (math.isfinite(self.rate_penalty) and self.rate_penalty >= 0):
            raise ValueError(f"rate_penalty must be >= 0 and finite, got {self.rate_penalty!r}")
        object.__setattr__(self, "rate_penalty", float(self.rate_penalty))
        if self.truncation is not None:
            object.__setattr__(
                self, "truncation", check_int(self.truncation, "truncation", minimum=1)
            )
        if not math.isfinite(self.b_j0) or self.b_j0 <= 0:
            raise ValueError(f"b_j0 must be a positive finite threshold, got {self.b_j0}")

    @property
    def effective_beta(self):
        """``beta`` if the network is adaptive, else 0."""
        return float(self.beta) if self.adaptive else 0.0

    @property
    def n_layers(self):
        """Number of hidden layers."""
        return len(self.hidden)

    def to_dict(self):
        """Plain-JSON dictionary of the configuration (see Notes on omitted defaults)."""
        data = {}
        for key, value in dataclasses.asdict(self).items():
            if key in _OMITTED_AT_DEFAULT and value == _OMITTED_AT_DEFAULT[key]:
                continue
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            data[key] = value
        return data

    @classmethod
    def from_dict(cls, data):
        """Inverse of `to_dict`."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"Unknown SRNNConfig field(s): {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


#: Fields that `SRNNConfig.to_dict` leaves out while they hold these defaults.
_OMITTED_AT_DEFAULT = {"rate_penalty": 0.0, "truncation": None}


def _check_tau_init(value, name):
    """Canonical ``(mean, std)`` or tuple of such pairs; errors name the field."""
    message = (
        f"{name} must be (mean > 0, std >= 0) or a non-empty sequence of such pairs, got {value!r}"
    )
    if isinstance(value, str | bytes):
        raise ValueError(message)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(message) from None
    nested = bool(items) and all(np.ndim(item) == 1 for item in items)
    pairs = items if nested else (items,)
    canonical = []
    for pair in pairs:
        try:
            mean, std = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if not (math.isfinite(mean) and math.isfinite(std) and mean > 0 and std >= 0):
            raise ValueError(message)
        canonical.append((mean, std))
    return tuple(canonical) if nested else canonical[0]


def _xavier(rng, n_pre, n_post):
    bound = math.sqrt(6.0 / (n_pre + n_post))
    return rng.uniform(-bound, bound, size=(n_pre, n_post))


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _taus(rng, n, mean_std, tau_min):
    if isinstance(mean_std[0], tuple):  # multi-Gaussian: consecutive blocks
        k = len(mean_std)
        block = (np.arange(n) * k) // n
        means = np.array([m for m, _ in mean_std])[block]
        stds = np.array([s for _, s in mean_std])[block]
        return np.maximum(rng.normal(means, stds), tau_min)
    mean, std = mean_std
    return np.maximum(rng.normal(mean, std, size=n), tau_min)


def init_params(config, seed=0):
    """Draw initial parameters (numpy float64 arrays).

    Feed-forward weights are Xavier-uniform, recurrent weights orthogonal, biases
    zero, time constants normal with the configured mean and std (clipped at
    ``tau_min``), as in the reference code.

    Parameters
    ----------
    config : SRNNConfig
    seed : int
        Seed of `numpy.random.default_rng`.

    Returns
    -------
    dict
        The parameter pytree (see the module docstring).
    """
    rng = np.random.default_rng(seed)
    layers = []
    n_pre = config.n_in
    for n in config.hidden:
        layer = {"w_in": _xavier(rng, n_pre, n)}
        if config.recurrent:
            layer["w_rec"] = _orthogonal(rng, n)
        layer["bias"] = np.zeros(n)
        layer["tau_m"] = _taus(rng, n, config.tau_m_init, config.tau_min)
        layer["tau_adp"] = _taus(rng, n, config.tau_adp_init, config.tau_min)
        layers.append(layer)
        n_pre = n
    readout = {"w": _xavier(rng, n_pre, config.n_out), "bias": np.zeros(config.n_out)}
    if config.readout == "integrator":
        readout["tau"] = _taus(rng, config.n_out, config.tau_out_init, config.tau_min)
    else:
        readout["tau_m"] = _taus(rng, config.n_out, config.tau_m_init, config.tau_min)
        readout["tau_adp"] = _taus(rng, config.n_out, config.tau_adp_init, config.tau_min)
    return {"layers": layers, "readout": readout}


def _expected_shapes(config):
    shapes = {"layers": []}
    n_pre = config.n_in
    for n in config.hidden:
        layer = {"w_in": (n_pre, n)}
        if config.recurrent:
            layer["w_rec"] = (n, n)
        layer.update({"bias": (n,), "tau_m": (n,), "tau_adp": (n,)})
        shapes["layers"].append(layer)
        n_pre = n
    readout = {"w": (n_pre, config.n_out), "bias": (config.n_out,)}
    if config.readout == "integrator":
        readout["tau"] = (config.n_out,)
    else:
        readout.update({"tau_m": (config.n_out,), "tau_adp": (config.n_out,)})
    shapes["readout"] = readout
    return shapes


def validate_params(params, config):
    """Check that `params` fits `config`: keys, shapes, finite values, taus > 0.

    Raises
    ------
    ValueError
        Naming the offending entry and what is expected.
    """
    shapes = _expected_shapes(config)
    if not isinstance(params, dict) or set(params) != {"layers", "readout"}:
        raise ValueError("params must be a dict with keys 'layers' and 'readout'")
    if len(params["layers"]) != len(shapes["layers"]):
        raise ValueError(
            f"params has {len(params['layers'])} layers, config expects {len(shapes['layers'])}"
        )
    entries = [
        (f"layers[{i}]", p, s)
        for i, (p, s) in enumerate(zip(params["layers"], shapes["layers"], strict=True))
    ]
    entries.append(("readout", params["readout"], shapes["readout"]))
    for where, got, expected in entries:
        if set(got) != set(expected):
            raise ValueError(f"params {where} has keys {sorted(got)}, expected {sorted(expected)}")
        for key, shape in expected.items():
            value = np.asarray(got[key])
            if value.shape != shape:
                raise ValueError(
                    f"params {where}[{key!r}] has shape {value.shape}, expected {shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"params {where}[{key!r}] contains NaN or inf")
            if key.startswith("tau") and np.any(value <= 0):
                raise ValueError(f"params {where}[{key!r}]: every time constant must be > 0")


def validate_inputs(x, config, labels=None):
    """Check an input batch ``x`` of shape ``(batch, T, n_in)`` (and its labels).

    Raises
    ------
    ValueError
        Wrong number of dimensions, ``T < 1``, wrong channel count, non-finite
        values, or labels of the wrong shape or out of range.
    """
    shape = np.shape(x)
    if len(shape) != 3:
        raise ValueError(f"x must have shape (batch, T, n_in), got shape {shape}")
    if shape[1] < 1:
        raise ValueError(f"x must have T >= 1 time steps, got T = {shape[1]}")
    if shape[2] != config.n_in:
        raise ValueError(f"x has {shape[2]} input channels, the network expects n_in={config.n_in}")
    if shape[1] <= config.loss_start:
        raise ValueError(f"T = {shape[1]} must exceed loss_start = {config.loss_start}")
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape not in ((shape[0],), (shape[0], shape[1])):
            raise ValueError(
                f"labels must have shape (batch,) = ({shape[0]},) or (batch, T) = "
                f"({shape[0]}, {shape[1]}), got {lab.shape}"
            )
        if lab.ndim == 2 and config.loss not in ("per_step",):
            raise ValueError("per-step labels (batch, T) need loss='per_step'")
        if lab.size and (lab.min() < 0 or lab.max() >= config.n_out):
            raise ValueError(f"labels must lie in [0, n_out) = [0, {config.n_out})")


def _alif_step(state, current, tau_m, tau_adp, beta, b_j0, spike_fn):
    """One ALIF step; ``state = (u, b, s)`` of the previous step."""
    import jax.numpy as jnp

    u, b, s = state
    alpha = jnp.exp(-1.0 / tau_m)
    rho = jnp.exp(-1.0 / tau_adp)
    b = rho * b + (1.0 - rho) * s
    theta = b_j0 + beta * b
    u = alpha * u + (1.0 - alpha) * current - theta * s
    s = spike_fn(u - theta)
    return (u, b, s)


def run(params, x, config, smooth=False, record_voltage=False):
    """Run the network forward over a batch of sequences.

    Parameters
    ----------
    params : dict
        Parameter pytree (numpy or JAX arrays).
    x : array, shape (batch, T, n_in)
        Input sequences.
    config : SRNNConfig
    smooth : bool
        Use the surrogate's antiderivative instead of the step (smoothed model,
        for gradient checks).
    record_voltage : bool
        Also return the membrane potentials and thresholds of every layer.

    Returns
    -------
    dict
        ``"readout"``: (batch, T, n_out) readout traces ``m_t`` (or output spikes
        for a spiking readout); ``"spikes"``: list of (batch, T, n) spike arrays, one
        per hidden layer; with `record_voltage`, ``"u"`` and ``"theta"`` lists
        (hidden layers then the spiking readout, if any).
    """
    import jax
    import jax.numpy as jnp

    spike_fn = get_surrogate(config.surrogate).spike_function(smooth=smooth)
    beta = config.effective_beta
    b_j0 = config.b_j0
    x = jnp.asarray(x)
    dtype = x.dtype
    batch = x.shape[0]

    def zeros(n):
        return jnp.zeros((batch, n), dtype=dtype)

    def initial(n):
        return (zeros(n), jnp.full((batch, n), b_j0, dtype=dtype), zeros(n))

    layers = params["layers"]
    readout = params["readout"]
    carry = [initial(w["bias"].shape[0]) for w in layers]
    spiking_out = config.readout == "spiking"
    n_out = readout["bias"].shape[0]
    carry_out = initial(n_out) if spiking_out else zeros(n_out)

    truncation = config.truncation

    def step(carry, inputs):
        x_t, t = inputs
        if truncation is not None:  # no gradient through the state carried into a chunk
            cut = (t % truncation) == 0
            carry = jax.tree_util.tree_map(
                lambda v: jnp.where(cut, jax.lax.stop_gradient(v), v), carry
            )
        states, out_state = carry
        new_states = []
        record = {"spikes": [], "u": [], "theta": []}
        inp = x_t
        for layer, state in zip(layers, states, strict=True):
            current = inp @ layer["w_in"] + layer["bias"]
            if "w_rec" in layer:
                current = current + state[2] @ layer["w_rec"]
            new = _alif_step(state, current, layer["tau_m"], layer["tau_adp"], beta, b_j0, spike_fn)
            new_states.append(new)
            record["spikes"].append(new[2])
            if record_voltage:
                record["u"].append(new[0])
                record["theta"].append(b_j0 + beta * new[1])
            inp = new[2]
        current = inp @ readout["w"] + readout["bias"]
        if spiking_out:
            out_state = _alif_step(
                out_state, current, readout["tau_m"], readout["tau_adp"], beta, b_j0, spike_fn
            )
            out = out_state[2]
            if record_voltage:
                record["u"].append(out_state[0])
                record["theta"].append(b_j0 + beta * out_state[1])
        else:
            alpha_o = jnp.exp(-1.0 / readout["tau"])
            out_state = alpha_o * out_state + (1.0 - alpha_o) * current
            out = out_state
        record["readout"] = out
        return (new_states, out_state), record

    steps = jnp.arange(x.shape[1])
    _, rec = jax.lax.scan(step, (carry, carry_out), (jnp.swapaxes(x, 0, 1), steps))
    result = {
        "readout": jnp.swapaxes(rec["readout"], 0, 1),
        "spikes": [jnp.swapaxes(s, 0, 1) for s in rec["spikes"]],
    }
    if record_voltage:
        result["u"] = [jnp.swapaxes(v, 0, 1) for v in rec["u"]]
        result["theta"] = [jnp.swapaxes(v, 0, 1) for v in rec["theta"]]
    return result


def aggregate_logits(readout, config, xp=np):
    """Reduce a readout trace ``(batch, T, n_out)`` to the scores the loss uses.

    Returns ``(batch, n_out)`` scores for ``"mean"``, ``"last"``,
    ``"summed_softmax"`` and ``"spike_count"``, and the per-step trace
    ``(batch, T - loss_start, n_out)`` for ``"per_step"``. Works on numpy or JAX
    arrays (`xp` is the array module, numpy by default).
    """
    r = readout[:, config.loss_start :, :]
    if config.loss == "mean":
        return r.mean(axis=1)
    if config.loss == "last":
        return r[:, -1, :]
    if config.loss == "spike_count":
        return r.sum(axis=1)
    if config.loss == "summed_softmax":
        z = r - r.max(axis=2, keepdims=True)
        e = xp.exp(z)
        return (e / e.sum(axis=2, keepdims=True)).sum(axis=1)
    return r


def _log_softmax(z, xp):
    z = z - z.max(axis=-1, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=-1, keepdims=True))


def loss_and_accuracy(params, x, labels, config, smooth=False):
    """Loss (scalar) and (accuracy, output) for a batch; differentiable in `params`.

    The loss is the cross-entropy of `aggregate_logits` (per step for ``"per_step"``)
    plus ``config.rate_penalty`` times the summed mean firing of the hidden layers.

    Returns
    -------
    loss : JAX scalar
    aux : tuple (accuracy, output dict of `run`)
    """
    import jax
    import jax.numpy as jnp

    out = run(params, x, config, smooth=smooth)
    scores = aggregate_logits(out["readout"], config, jnp)
    labels = jnp.asarray(labels)
    if config.loss == "per_step":
        logp = _log_softmax(scores, jnp)
        n_steps = scores.shape[1]
        if labels.ndim == 1:
            lab = jnp.broadcast_to(labels[:, None], (labels.shape[0], n_steps))
            predicted = jnp.argmax(scores[:, -1, :], axis=-1)
            correct = predicted == labels
        else:
            lab = labels[:, config.loss_start :]
            correct = jnp.argmax(scores, axis=-1) == lab
        picked = jnp.take_along_axis(logp, lab[..., None], axis=-1)[..., 0]
        loss = -picked.mean()
    else:
        logp = _log_softmax(scores, jnp)
        loss = -jnp.take_along_axis(logp, labels[:, None], axis=-1).mean()
        correct = jnp.argmax(scores, axis=-1) == labels
    if config.rate_penalty > 0:
        loss = loss + config.rate_penalty * sum(s.mean() for s in out["spikes"])
    accuracy = correct.astype(scores.dtype).mean()
    return loss, (jax.lax.stop_gradient(accuracy), out)


def predict(params, x, config):
    """Class predictions ``(batch,)``; for ``"per_step"``, those of the last step."""
    out = run(params, x, config)
    return predictions_from_readout(np.asarray(out["readout"]), config)


def predictions_from_readout(readout, config):
    """Class predictions ``(batch,)`` from a readout trace (numpy)."""
    scores = aggregate_logits(np.asarray(readout), config, np)
    if config.loss == "per_step":
        scores = scores[:, -1, :]
    return np.argmax(scores, axis=-1)
