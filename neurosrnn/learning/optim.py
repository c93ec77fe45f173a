"""Optimisers for training spiking networks: optax Adam with a learning rate per group.

The SRNN set-up (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905) trains the
weights and biases with Adam (Kingma & Ba 2015) and the time constants
(:math:`\\tau_m`, :math:`\\tau_{adp}`, :math:`\\tau_o`) with a larger learning rate.
`make_optimizer` builds that optimiser from optax parts: `optax.multi_transform`
routes every parameter leaf whose name starts with ``tau`` to its own Adam
(`parameter_groups`), each group follows a learning-rate schedule
(`learning_rate_schedule`: constant, step, exponential or cosine decay), and
`optax.clip_by_global_norm` optionally clips the gradient first.

`adam_init` and `adam_update` are the earlier hand-written interface (state
``(m, v, count)``, a learning rate per leaf); they are deprecated wrappers over
`optax.scale_by_adam`.
"""

from __future__ import annotations

import math
import warnings

__all__ = [
    "SCHEDULES",
    "TIME_CONSTANT_GROUP",
    "WEIGHT_GROUP",
    "parameter_groups",
    "learning_rate_schedule",
    "make_optimizer",
    "adam_init",
    "adam_update",
]

#: Learning-rate schedules of `learning_rate_schedule`.
SCHEDULES = ("constant", "step", "exponential", "cosine")
#: Group label of the time constants (leaves whose name starts with ``tau``).
TIME_CONSTANT_GROUP = "time_constants"
#: Group label of every other leaf (weights and biases).
WEIGHT_GROUP = "weights"


def _leaf_name(path):
    """The last dictionary key (or attribute name) on a pytree path, else ''."""
    for entry in reversed(path):
        for attribute in ("key", "name"):
            value = getattr(entry, attribute, None)
            if isinstance(value, str):
                return value
    return ""


def parameter_groups(params):
    """Group label of every leaf: time constants apart from weights and biases.

    Parameters
    ----------
    params : pytree of arrays
        Parameters with named leaves (dictionaries), e.g. those of
        `neurosrnn.learning.srnn.init_params`.

    Returns
    -------
    pytree of str
        Same structure as `params`; ``TIME_CONSTANT_GROUP`` for a leaf whose name starts
        with ``tau`` (``tau_m``, ``tau_adp``, the readout's ``tau``), ``WEIGHT_GROUP``
        otherwise. This is the ``param_labels`` argument of `optax.multi_transform`.

    Examples
    --------
    >>> import numpy as np
    >>> parameter_groups({"w": np.zeros(2), "tau_m": np.ones(2)})
    {'tau_m': 'time_constants', 'w': 'weights'}
    """
    import jax

    return jax.tree_util.tree_map_with_path(
        lambda path, _: TIME_CONSTANT_GROUP if _leaf_name(path).startswith("tau") else WEIGHT_GROUP,
        params,
    )


def _check_positive(value, name, *, maximum=None, allow_zero=False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    low_ok = number >= 0 if allow_zero else number > 0
    if not (math.isfinite(number) and low_ok and (maximum is None or number <= maximum)):
        bound = ">= 0" if allow_zero else "> 0"
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be {bound}{upper} and finite, got {value!r}")
    return number


def _check_lr_step(lr_step):
    from neurosrnn.validation import check_int

    try:
        every, factor = lr_step
    except (TypeError, ValueError):
        raise ValueError(
            f"lr_step must be (every_epochs >= 1, factor in (0, 1]), got {lr_step!r}"
        ) from None
    try:
        every = check_int(every, "lr_step[0] (every_epochs)", minimum=1)
        factor = _check_positive(factor, "lr_step[1] (factor)", maximum=1.0)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"lr_step must be (every_epochs >= 1, factor in (0, 1]), got {lr_step!r}: {error}"
        ) from None
    return every, factor


def _schedule_arguments(schedule, steps_per_epoch, lr_step, lr_decay, epochs, final_fraction):
    """Validate the schedule options; return them in canonical form (errors name them)."""
    from neurosrnn.validation import check_choice, check_int

    check_choice(schedule, "schedule", SCHEDULES)
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", minimum=1)
    if schedule == "step":
        if lr_step is None:
            raise ValueError("schedule='step' needs lr_step=(every_epochs, factor)")
        lr_step = _check_lr_step(lr_step)
    if schedule == "exponential":
        if lr_decay is None:
            raise ValueError("schedule='exponential' needs lr_decay (factor per epoch in (0, 1])")
        lr_decay = _check_positive(lr_decay, "lr_decay", maximum=1.0)
    if schedule == "cosine":
        if epochs is None:
            raise ValueError("schedule='cosine' needs epochs (the length of the decay)")
        epochs = check_int(epochs, "epochs", minimum=1)
        final_fraction = _check_positive(
            final_fraction, "final_fraction", maximum=1.0, allow_zero=True
        )
    return steps_per_epoch, lr_step, lr_decay, epochs, final_fraction


def learning_rate_schedule(
    lr,
    schedule="constant",
    *,
    steps_per_epoch=1,
    lr_step=None,
    lr_decay=None,
    epochs=None,
    final_fraction=0.0,
):
    """A learning rate as a function of the optimiser step (an optax schedule).

    With :math:`k` the step count, :math:`n` the steps per epoch and
    :math:`e = \\lfloor k / n \\rfloor` the epoch,

    - ``"constant"``: :math:`\\eta_k = \\eta`;
    - ``"step"`` (StepLR, ``lr_step = (s, \\gamma)``):
      :math:`\\eta_k = \\eta\\,\\gamma^{\\lfloor e / s \\rfloor}`;
    - ``"exponential"`` (``lr_decay = \\gamma``): :math:`\\eta_k = \\eta\\,\\gamma^{e}`;
    - ``"cosine"`` over :math:`K = n\\,E` steps (``epochs = E``, final fraction
      :math:`a`): :math:`\\eta_k = \\eta\\,[a + (1 - a)\\,\\tfrac12(1 + \\cos(\\pi
      \\min(k, K) / K))]` (Loshchilov & Hutter 2017, without restarts).

    Parameters
    ----------
    lr : float
        Initial learning rate :math:`\\eta` (>= 0).
    schedule : {"constant", "step", "exponential", "cosine"}
    steps_per_epoch : int
        Optimiser steps (mini-batches) per epoch.
    lr_step : (int, float), optional
        ``(every_epochs, factor)`` of the step schedule.
    lr_decay : float, optional
        Factor per epoch of the exponential schedule, in (0, 1].
    epochs : int, optional
        Length of the cosine decay, in epochs.
    final_fraction : float
        Learning rate at the end of the cosine decay, as a fraction of `lr`.

    Returns
    -------
    float or callable
        `lr` itself for the constant schedule (optax then keeps no step count), else
        an optax schedule ``count -> learning rate``.

    References
    ----------
    Loshchilov I & Hutter F (2017), SGDR: stochastic gradient descent with warm
    restarts, ICLR.

    Examples
    --------
    >>> sched = learning_rate_schedule(0.1, "step", steps_per_epoch=4, lr_step=(2, 0.5))
    >>> [round(float(sched(k)), 4) for k in (0, 7, 8, 16)]
    [0.1, 0.1, 0.05, 0.025]
    """
    import optax

    lr = _check_positive(lr, "lr", allow_zero=True)
    steps_per_epoch, lr_step, lr_decay, epochs, final_fraction = _schedule_arguments(
        schedule, steps_per_epoch, lr_step, lr_decay, epochs, final_fraction
    )
    if schedule == "constant":
        return lr
    if schedule == "step":
        every, factor = lr_step
        return optax.exponential_decay(
            lr, transition_steps=every * steps_per_epoch, decay_rate=factor, staircase=True
        )
    if schedule == "exponential":
        return optax.exponential_decay(
            lr, transition_steps=steps_per_epoch, decay_rate=lr_decay, staircase=True
        )
    return optax.cosine_decay_schedule(
        lr, decay_steps=epochs * steps_per_epoch, alpha=final_fraction
    )


def make_optimizer(
    lr=1e-2,
    *,
    tau_lr=None,
    schedule="constant",
    steps_per_epoch=1,
    lr_step=None,
    lr_decay=None,
    epochs=None,
    final_fraction=0.0,
    clip_norm=None,
    b1=0.9,
    b2=0.999,
    eps=1e-8,
):
    """Adam with a learning rate for the time constants of its own (an optax optimiser).

    The update of a leaf :math:`\\theta` with gradient :math:`g_t` at step :math:`t`
    (Kingma & Ba 2015) is

    .. math::

        m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t,\\quad
        v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2,\\quad
        \\theta_t = \\theta_{t-1} - \\eta_{t-1}\\,
        \\frac{m_t / (1 - \\beta_1^t)}{\\sqrt{v_t / (1 - \\beta_2^t)} + \\epsilon},

    where :math:`\\eta` is the schedule of `lr` for weights and biases and the same
    schedule of `tau_lr` for the time constants (`parameter_groups`). With
    `clip_norm`, the gradient is first scaled to a global L2 norm of at most
    `clip_norm`: :math:`g \\leftarrow g \\min(1, c / \\lVert g \\rVert_2)`. The caller
    keeps the time constants positive after each step (``neurosrnn.learning.train``
    projects them onto ``[tau_min, inf)``).

    Parameters
    ----------
    lr : float
        Learning rate of the weights and biases (> 0).
    tau_lr : float, optional
        Learning rate of the time constants (default `lr`; 0 freezes them, with no
        optimiser state kept for them).
    schedule, steps_per_epoch, lr_step, lr_decay, epochs, final_fraction
        The learning-rate schedule of both groups (`learning_rate_schedule`).
    clip_norm : float, optional
        Maximum global norm of the gradient (> 0); None: no clipping.
    b1, b2, eps : float
        Adam's :math:`\\beta_1, \\beta_2, \\epsilon`.

    Returns
    -------
    optax.GradientTransformation
        Use with ``state = opt.init(params)``, ``updates, state = opt.update(grads,
        state, params)`` and ``optax.apply_updates(params, updates)``.

    References
    ----------
    Kingma DP & Ba J (2015), Adam: a method for stochastic optimization, ICLR.
    Yin B, Corradi F & Bohte SM (2021), Accurate and efficient time-domain
    classification with adaptive spiking recurrent neural networks, Nat. Mach. Intell.
    3:905.

    Examples
    --------
    >>> import jax.numpy as jnp, optax
    >>> params = {"w": jnp.ones(2), "tau_m": jnp.full(2, 5.0)}
    >>> opt = make_optimizer(0.1, tau_lr=0.0)
    >>> updates, state = opt.update({"w": jnp.ones(2), "tau_m": jnp.ones(2)}, opt.init(params))
    >>> new = optax.apply_updates(params, updates)
    >>> [round(float(new["w"][0]), 5), float(new["tau_m"][0])]
    [0.9, 5.0]
    """
    import optax

    lr = _check_positive(lr, "lr")
    tau_lr = lr if tau_lr is None else _check_positive(tau_lr, "tau_lr", allow_zero=True)
    if clip_norm is not None:
        clip_norm = _check_positive(clip_norm, "clip_norm")
    options = dict(
        steps_per_epoch=steps_per_epoch,
        lr_step=lr_step,
        lr_decay=lr_decay,
        epochs=epochs,
        final_fraction=final_fraction,
    )
    weights = optax.adam(learning_rate_schedule(lr, schedule, **options), b1=b1, b2=b2, eps=eps)
    if tau_lr > 0:
        taus = optax.adam(
            learning_rate_schedule(tau_lr, schedule, **options), b1=b1, b2=b2, eps=eps
        )
    else:
        learning_rate_schedule(tau_lr, schedule, **options)  # same argument checks
        taus = optax.set_to_zero()
    optimizer = optax.multi_transform(
        {WEIGHT_GROUP: weights, TIME_CONSTANT_GROUP: taus}, parameter_groups
    )
    if clip_norm is not None:
        optimizer = optax.chain(optax.clip_by_global_norm(clip_norm), optimizer)
    return optimizer


def adam_init(params, dtype=None):
    """Zero Adam state ``(m, v, count)`` for a pytree of parameters (deprecated).

    .. deprecated::
        Use `make_optimizer` (optax) and its ``init``.

    Parameters
    ----------
    params : pytree of arrays
        The parameters the state will follow (shapes and dtypes of `m` and `v`).
    dtype : numpy dtype, optional
        Dtype of the step counter (default: that of JAX's default float).

    Returns
    -------
    tuple
        ``(m, v, count)``: first and second moment estimates (zeros like `params`)
        and the step count 0, as `adam_update` expects.
    """
    import jax.numpy as jnp
    import optax

    warnings.warn(
        "adam_init is deprecated; use neurosrnn.learning.optim.make_optimizer (optax)",
        DeprecationWarning,
        stacklevel=2,
    )
    state = optax.scale_by_adam().init(params)
    return state.mu, state.nu, jnp.zeros((), dtype=dtype)


def adam_update(params, grads, state, lrs, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step with a learning rate per parameter leaf (deprecated).

    .. deprecated::
        Use `make_optimizer` (optax), which gives the time constants their own
        learning rate.

    With step count :math:`t`, gradient :math:`g_t` and learning rate :math:`\\eta`
    of each leaf, :math:`\\theta_t = \\theta_{t-1} - \\eta\\, \\hat m_t /
    (\\sqrt{\\hat v_t} + \\epsilon)` with the bias-corrected moments of
    `optax.scale_by_adam` (see `make_optimizer`).

    Parameters
    ----------
    params : pytree of arrays
        Current parameters :math:`\\theta_{t-1}`.
    grads : pytree of arrays
        Gradients :math:`g_t`, same structure as `params`.
    state : tuple
        ``(m, v, count)`` from `adam_init` or the previous call.
    lrs : pytree of floats
        Learning rate :math:`\\eta` of every leaf, same structure as `params` (0
        freezes a leaf).
    b1, b2 : float
        Decay rates :math:`\\beta_1, \\beta_2` of the moment estimates.
    eps : float
        :math:`\\epsilon`, added to the denominator.

    Returns
    -------
    params : pytree of arrays
        Updated parameters :math:`\\theta_t`.
    state : tuple
        Updated ``(m, v, count)``.

    References
    ----------
    Kingma DP & Ba J (2015), Adam: a method for stochastic optimization, ICLR.
    """
    import jax
    import optax

    warnings.warn(
        "adam_update is deprecated; use neurosrnn.learning.optim.make_optimizer (optax)",
        DeprecationWarning,
        stacklevel=2,
    )
    m, v, count = state
    adam = optax.scale_by_adam(b1=b1, b2=b2, eps=eps)
    direction, new = adam.update(grads, optax.ScaleByAdamState(count=count, mu=m, nu=v))
    params = jax.tree_util.tree_map(lambda p, d, lr: p - lr * d, params, direction, lrs)
    return params, (new.mu, new.nu, new.count)
