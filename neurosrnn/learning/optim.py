"""Optimiser steps for training spiking networks in JAX.

`adam_update` is one step of Adam (Kingma & Ba 2015) on a pytree of parameters, with
a learning rate per leaf (the SRNN training uses a larger one for the time
constants). It is pure and jit-able: the optimiser state travels with the caller.
"""

from __future__ import annotations

__all__ = ["adam_init", "adam_update"]


def adam_init(params, dtype=None):
    """Zero Adam state ``(m, v, count)`` for a pytree of parameters.

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
    import jax
    import jax.numpy as jnp

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return zeros, zeros, jnp.zeros((), dtype=dtype)


def adam_update(params, grads, state, lrs, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step with a learning rate per parameter leaf.

    With step count :math:`t`, gradient :math:`g_t` and learning rate
    :math:`\\eta` of each leaf,

    .. math::

        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t, \\qquad
        v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2, \\\\
        \\theta_t &= \\theta_{t-1} - \\eta\\,
        \\frac{m_t / (1 - \\beta_1^t)}{\\sqrt{v_t / (1 - \\beta_2^t)} + \\epsilon}.

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
    import jax.numpy as jnp

    m, v, count = state
    count = count + 1
    m = jax.tree_util.tree_map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
    v = jax.tree_util.tree_map(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grads)
    c1 = 1 - b1**count
    c2 = 1 - b2**count
    params = jax.tree_util.tree_map(
        lambda p, m_, v_, lr: p - lr * (m_ / c1) / (jnp.sqrt(v_ / c2) + eps), params, m, v, lrs
    )
    return params, (m, v, count)
