"""Surrogate gradients for the spike non-linearity.

The spike of an ALIF neuron is the Heaviside step ``s = H(x)`` of the distance to
threshold ``x = u - theta``; its derivative is zero almost everywhere, so
backpropagation through time replaces it by a smooth *pseudo-derivative*
(Neftci, Mostafa & Zenke 2019, IEEE Signal Process. Mag. 36:51). The forward pass
stays the exact step.

Available curves (all multiplied by the gain ``gamma``):

- ``"multi_gaussian"`` (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905):

  .. math::
      \\psi(x) = \\gamma\\left[(1 + h)\\,\\mathcal N(x; 0, \\sigma^2)
      - h\\,\\mathcal N(x; \\sigma, (s\\sigma)^2)
      - h\\,\\mathcal N(x; -\\sigma, (s\\sigma)^2)\\right]

  with ``sigma = 0.5, h = 0.15, s = 6, gamma = 0.5``. The negative side lobes
  (``psi < 0`` for ``|x| > 1.27``) push neurons far from threshold away from it,
  which regularises activity. Peak ``0.439``, area ``gamma (1 - h) = 0.425``.
- ``"gaussian"``: ``gamma N(x; 0, sigma^2)``, ``sigma = 0.5`` (Yin et al. 2020, ICONS).
- ``"linear"``: the triangle ``gamma max(0, 1 - |x| / width)`` (Bellec et al. 2018,
  NeurIPS; ``width = 1``).

Each `Surrogate` also gives the antiderivative ``Psi`` of its curve. A model run
with ``Psi`` in place of ``H`` (``smooth=True``) is a differentiable function whose
exact gradient is what the surrogate backward pass computes; the tests compare
that gradient with finite differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Surrogate", "SURROGATES", "get_surrogate"]

_SQRT2 = math.sqrt(2.0)


def _normal_pdf(x, mean, std, xp):
    z = (x - mean) / std
    return xp.exp(-0.5 * z * z) / (std * math.sqrt(2.0 * math.pi))


def _normal_cdf(x, mean, std, xp):
    z = (x - mean) / (std * _SQRT2)
    if xp is np:
        from scipy.special import erf

        return 0.5 * (1.0 + erf(z))
    import jax.scipy.special as jsp

    return 0.5 * (1.0 + jsp.erf(z))


def _mg_derivative(x, p, xp):
    sigma, h, s, gamma = p["sigma"], p["h"], p["s"], p["gamma"]
    return gamma * (
        (1.0 + h) * _normal_pdf(x, 0.0, sigma, xp)
        - h * _normal_pdf(x, sigma, s * sigma, xp)
        - h * _normal_pdf(x, -sigma, s * sigma, xp)
    )


def _mg_antiderivative(x, p, xp):
    sigma, h, s, gamma = p["sigma"], p["h"], p["s"], p["gamma"]
    return gamma * (
        (1.0 + h) * _normal_cdf(x, 0.0, sigma, xp)
        - h * _normal_cdf(x, sigma, s * sigma, xp)
        - h * _normal_cdf(x, -sigma, s * sigma, xp)
    )


def _gauss_derivative(x, p, xp):
    return p["gamma"] * _normal_pdf(x, 0.0, p["sigma"], xp)


def _gauss_antiderivative(x, p, xp):
    return p["gamma"] * _normal_cdf(x, 0.0, p["sigma"], xp)


def _linear_derivative(x, p, xp):
    return p["gamma"] * xp.maximum(0.0, 1.0 - xp.abs(x) / p["width"])


def _linear_antiderivative(x, p, xp):
    w = p["width"]
    c = xp.clip(x / w, -1.0, 1.0)
    # integral of max(0, 1 - |y|) from -inf to c, times width
    return p["gamma"] * w * (0.5 + c - 0.5 * c * xp.abs(c))


_CURVES = {
    "multi_gaussian": (
        _mg_derivative,
        _mg_antiderivative,
        {"sigma": 0.5, "h": 0.15, "s": 6.0, "gamma": 0.5},
    ),
    "gaussian": (_gauss_derivative, _gauss_antiderivative, {"sigma": 0.5, "gamma": 0.5}),
    "linear": (_linear_derivative, _linear_antiderivative, {"width": 1.0, "gamma": 0.5}),
}

SURROGATES = tuple(_CURVES)


@dataclass(frozen=True)
class Surrogate:
    """A spike non-linearity with a surrogate derivative.

    Parameters
    ----------
    name : {"multi_gaussian", "gaussian", "linear"}
        Curve (see the module docstring for the formulas and references).
    parameters : dict, optional
        Overrides of the curve's parameters (``sigma``, ``h``, ``s``, ``gamma`` for
        the multi-Gaussian; ``sigma``, ``gamma`` for the Gaussian; ``width``,
        ``gamma`` for the linear curve).

    Examples
    --------
    >>> sg = Surrogate("multi_gaussian")
    >>> round(float(sg.derivative(0.0)), 3)
    0.439
    """

    name: str = "multi_gaussian"
    parameters: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.name not in _CURVES:
            raise ValueError(f"Unknown surrogate {self.name!r}; allowed: {', '.join(SURROGATES)}")
        defaults = _CURVES[self.name][2]
        unknown = set(self.parameters) - set(defaults)
        if unknown:
            raise ValueError(
                f"Unknown parameter(s) {sorted(unknown)} for surrogate {self.name!r}; "
                f"allowed: {sorted(defaults)}"
            )
        merged = {**defaults, **{k: float(v) for k, v in self.parameters.items()}}
        for key in ("sigma", "s", "width"):
            if key in merged and not merged[key] > 0:
                raise ValueError(f"Surrogate parameter {key!r} must be > 0, got {merged[key]}")
        object.__setattr__(self, "parameters", merged)

    def __repr__(self):
        params = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items())
        return f"Surrogate({self.name!r}, {params})"

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.parameters.items()))))

    def derivative(self, x):
        """The surrogate derivative ``psi(x)`` (numpy; float array in, float array out)."""
        return _CURVES[self.name][0](np.asarray(x, dtype=float), self.parameters, np)

    def antiderivative(self, x):
        """``Psi(x) = integral of psi from -inf to x`` (numpy)."""
        return _CURVES[self.name][1](np.asarray(x, dtype=float), self.parameters, np)

    def spike_function(self, smooth=False):
        """A JAX function ``x -> spikes`` with this surrogate as its derivative.

        Parameters
        ----------
        smooth : bool
            If False (default), the forward pass is the Heaviside step
            ``H(x) = 1 if x > 0 else 0`` and the derivative is ``psi(x)``. If True,
            the forward pass is the antiderivative ``Psi(x)`` (a smooth model whose
            true gradient equals the surrogate gradient), used to check BPTT
            against finite differences.

        Returns
        -------
        callable
            A `jax.custom_jvp` function, applied elementwise.
        """
        return _spike_function(self, bool(smooth))


_CACHE = {}


def _spike_function(surrogate, smooth):
    key = (surrogate, smooth)
    if key in _CACHE:
        return _CACHE[key]
    import jax
    import jax.numpy as jnp

    derivative, antiderivative, _ = _CURVES[surrogate.name]
    params = dict(surrogate.parameters)

    @jax.custom_jvp
    def spike(x):
        if smooth:
            return antiderivative(x, params, jnp)
        return (x > 0).astype(x.dtype)

    @spike.defjvp
    def _spike_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return spike(x), derivative(x, params, jnp) * dx

    _CACHE[key] = spike
    return spike


def get_surrogate(surrogate):
    """Return a `Surrogate` from a name or an existing `Surrogate`.

    Raises
    ------
    ValueError
        Unknown name.
    """
    if isinstance(surrogate, Surrogate):
        return surrogate
    if isinstance(surrogate, str):
        return Surrogate(surrogate)
    raise ValueError(
        f"surrogate must be a name ({', '.join(SURROGATES)}) or a Surrogate, got {surrogate!r}"
    )
