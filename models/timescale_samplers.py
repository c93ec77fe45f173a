"""Samplers for heterogeneous per-neuron time constants.

Each sampler is a small object with a useful ``repr`` whose ``sample(N, seed)``
returns a length-`N` Brian2 quantity (in seconds unless stated otherwise). They are
reproducible from a seed and never return an impossible value: every draw is checked
to be finite and strictly positive, and parameters that could produce non-positive
values are rejected up front.

Heterogeneous membrane and adaptation timescales are what the SRNN paper trains
(Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905); the gamma and lognormal
families are the usual fits to measured time-constant distributions (e.g. Perez-Nieves
et al. 2021, Nat. Commun. 12:5791).

Examples
--------
>>> from brian2 import ms
>>> tau_m = gamma_timescales(mean=20 * ms, shape=4).sample(1000, seed=1)
"""

from __future__ import annotations

import math

import numpy as np
from brian2 import Quantity, second
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

from neurosrnn.validation import seeded_rng

from ._base import check_positive_int

__all__ = [
    "TimescaleSampler",
    "constant_timescales",
    "truncated_normal_timescales",
    "gamma_timescales",
    "lognormal_timescales",
    "uniform_timescales",
    "array_timescales",
    "uniform_values",
    "normal_values",
]


def _as_positive_time(name, value, unit):
    """Check that `value` is a finite, positive scalar with the dimensions of `unit`."""
    if get_dimensions(value) != get_dimensions(unit):
        raise DimensionMismatchError(
            f"{name} must have the units of {unit!r}", get_dimensions(value), get_dimensions(unit)
        )
    magnitude = np.asarray(value / unit if isinstance(unit, Quantity) else value, dtype=float)
    if magnitude.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {magnitude.shape}")
    if not np.isfinite(magnitude) or magnitude <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(magnitude)


def _as_finite_time(name, value):
    """Check that `value` is a finite scalar time and return it in seconds."""
    if get_dimensions(value) != get_dimensions(second):
        raise DimensionMismatchError(
            f"{name} must be a time", get_dimensions(value), get_dimensions(second)
        )
    magnitude = np.asarray(value / second, dtype=float)
    if magnitude.ndim != 0 or not np.isfinite(magnitude):
        raise ValueError(f"{name} must be a finite scalar time, got {value!r}")
    return float(magnitude)


def _as_positive_number(name, value):
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


class TimescaleSampler:
    """Draw `N` positive time constants from a named distribution.

    Use the factory functions (`gamma_timescales`, ...) rather than this class.

    Parameters
    ----------
    kind : str
        Distribution name, shown by ``repr``.
    draw : callable
        ``draw(rng, N) -> ndarray`` of magnitudes in units of `unit`.
    unit : brian2 unit
        Unit of the returned values (``second`` by default).
    description : str
        Parameter summary for ``repr``.
    mean : float
        Theoretical mean of the distribution, in `unit` (for documentation and tests).
    positive : bool
        Check that every draw is > 0 (time constants); False for values of any sign
        such as initial membrane potentials (`uniform_values`, `normal_values`).
    """

    def __init__(self, kind, draw, unit, description, mean, positive=True):
        self.kind = kind
        self._draw = draw
        self.unit = unit
        self.description = description
        self.mean = mean
        self.positive = positive

    def __repr__(self):
        return f"<TimescaleSampler {self.kind}({self.description})>"

    def sample(self, N, seed=None):
        """Return `N` time constants as a Brian2 quantity.

        Parameters
        ----------
        N : int
            Number of neurons.
        seed : int or numpy.random.Generator, optional
            Random seed (an integer >= 0); the same seed gives the same values. None
            draws fresh entropy (not reproducible).

        Raises
        ------
        TypeError, ValueError
            A seed that is not an integer >= 0 (or a Generator).
        ValueError
            If a drawn value is not finite and positive (cannot happen for valid
            parameters; guards against numerical corner cases).
        """
        N = check_positive_int(N, "N")
        rng = seeded_rng(seed, allow_none=True)
        values = np.asarray(self._draw(rng, N), dtype=float)
        if values.shape != (N,):
            raise ValueError(f"{self.kind} sampler produced shape {values.shape}, expected ({N},)")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{self.kind} sampler produced a non-finite value")
        if self.positive and np.any(values <= 0):
            raise ValueError(f"{self.kind} sampler produced a non-positive value")
        return values * self.unit


def constant_timescales(value):
    """All neurons share one time constant `value` (a positive quantity)."""
    unit = second if isinstance(value, Quantity) else 1
    magnitude = _as_positive_time("value", value, unit)
    return TimescaleSampler(
        "constant", lambda rng, N: np.full(N, magnitude), unit, f"value={value!r}", magnitude
    )


def truncated_normal_timescales(mean, std, minimum):
    """Normal(mean, std) truncated below at `minimum` > 0 (resampling, not clipping).

    Parameters
    ----------
    mean, std, minimum : brian2 quantities (time)
        ``std`` may be 0. Values below ``minimum`` are redrawn, so the result follows
        the truncated normal density exactly.
    """
    unit = second
    mu = _as_finite_time("mean", mean)
    sigma = _as_finite_time("std", std)
    if sigma < 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    low = _as_positive_time("minimum", minimum, unit)
    if sigma == 0 and mu < low:
        raise ValueError(f"mean {mean!r} lies below minimum {minimum!r} with std = 0")
    if sigma > 0 and (low - mu) / sigma > 6:
        raise ValueError(
            f"minimum {minimum!r} lies more than 6 std above the mean: almost every draw "
            "would be rejected; lower the minimum or raise the mean"
        )

    from scipy.stats import truncnorm

    def draw(rng, N):
        if sigma == 0:
            return np.full(N, mu)
        values = rng.normal(mu, sigma, N)
        bad = np.flatnonzero(values < low)
        while bad.size:
            values[bad] = rng.normal(mu, sigma, bad.size)
            bad = bad[values[bad] < low]
        return values

    return TimescaleSampler(
        "truncated_normal",
        draw,
        unit,
        f"mean={mean!r}, std={std!r}, minimum={minimum!r}",
        mu if sigma == 0 else float(truncnorm.mean((low - mu) / sigma, np.inf, mu, sigma)),
    )


def gamma_timescales(mean, shape):
    """Gamma distribution with the given `mean` and shape `k` (CV = 1/sqrt(k))."""
    unit = second
    mu = _as_positive_time("mean", mean, unit)
    k = _as_positive_number("shape", shape)
    return TimescaleSampler(
        "gamma",
        lambda rng, N: rng.gamma(k, mu / k, N),
        unit,
        f"mean={mean!r}, shape={k}",
        mu,
    )


def lognormal_timescales(median, sigma):
    """Lognormal with the given `median` and log-standard-deviation `sigma` (natural log)."""
    unit = second
    m = _as_positive_time("median", median, unit)
    s = float(sigma)
    if not math.isfinite(s) or s < 0:
        raise ValueError(f"sigma must be finite and >= 0, got {sigma!r}")
    return TimescaleSampler(
        "lognormal",
        lambda rng, N: m * np.exp(s * rng.standard_normal(N)),
        unit,
        f"median={median!r}, sigma={s}",
        m * math.exp(s * s / 2),
    )


def uniform_timescales(low, high):
    """Uniform on ``[low, high)`` with ``0 < low <= high``."""
    unit = second
    a = _as_positive_time("low", low, unit)
    b = _as_positive_time("high", high, unit)
    if b < a:
        raise ValueError(f"high ({high!r}) must be >= low ({low!r})")
    return TimescaleSampler(
        "uniform",
        lambda rng, N: rng.uniform(a, b, N),
        unit,
        f"low={low!r}, high={high!r}",
        (a + b) / 2,
    )


def array_timescales(values):
    """Use given per-neuron time constants (a quantity array); `N` must match its length."""
    if get_dimensions(values) != get_dimensions(second):
        raise DimensionMismatchError(
            "values must be times", get_dimensions(values), get_dimensions(second)
        )
    magnitudes = np.asarray(values / second, dtype=float)
    if magnitudes.ndim != 1 or magnitudes.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {magnitudes.shape}")
    if not np.all(np.isfinite(magnitudes)) or np.any(magnitudes <= 0):
        raise ValueError("values must all be finite and > 0")

    def draw(rng, N):
        if N != magnitudes.size:
            raise ValueError(f"N={N} does not match the {magnitudes.size} given values")
        return magnitudes.copy()

    return TimescaleSampler(
        "array", draw, second, f"{magnitudes.size} values", float(magnitudes.mean())
    )


def _si_unit_and_magnitudes(names_values):
    """The SI unit shared by every ``(name, value)`` pair and the values' magnitudes in it.

    Raises
    ------
    brian2.DimensionMismatchError
        Two values with different units (the first value's units are the reference).
    ValueError
        A value that is not a finite scalar.
    """
    from brian2.units.fundamentalunits import get_unit

    (first_name, first_value), *_ = names_values
    dimensions = get_dimensions(first_value)
    unit = get_unit(dimensions)
    magnitudes = []
    for name, value in names_values:
        if get_dimensions(value) != dimensions:
            raise DimensionMismatchError(
                f"{name} must have the units of {first_name} ({first_value!r})",
                get_dimensions(value),
                dimensions,
            )
        magnitude = np.asarray(value / unit if isinstance(unit, Quantity) else value, dtype=float)
        if magnitude.ndim != 0 or not np.isfinite(magnitude):
            raise ValueError(f"{name} must be a finite scalar, got {value!r}")
        magnitudes.append(float(magnitude))
    return (unit if isinstance(unit, Quantity) else 1), magnitudes


def uniform_values(low, high):
    """Uniform on ``[low, high)`` for a quantity of any unit and sign (e.g. initial ``v``).

    Unlike `uniform_timescales`, the bounds may be zero or negative, so the sampler
    serves initial values and parameters other than time constants. Values are drawn
    in SI units: ``low + (high - low) U`` with ``U`` uniform on ``[0, 1)``.

    Parameters
    ----------
    low, high : brian2 quantity or float
        Bounds with the same units, ``low <= high``.

    Returns
    -------
    TimescaleSampler
        With ``positive=False``.

    Examples
    --------
    >>> from brian2 import mV
    >>> v = uniform_values(-70 * mV, -50 * mV).sample(1000, seed=1)
    >>> bool(v.min() >= -70 * mV and v.max() < -50 * mV)
    True
    """
    unit, (a, b) = _si_unit_and_magnitudes([("low", low), ("high", high)])
    if b < a:
        raise ValueError(f"high ({high!r}) must be >= low ({low!r})")
    return TimescaleSampler(
        "uniform",
        lambda rng, N: rng.uniform(a, b, N),
        unit,
        f"low={low!r}, high={high!r}",
        (a + b) / 2,
        positive=False,
    )


def normal_values(mean, std, minimum=None, maximum=None):
    """Normal(mean, std) of any unit and sign, optionally truncated to ``[minimum, maximum]``.

    Draws outside the bounds are redrawn (not clipped), so the values follow the
    truncated normal density exactly. With ``minimum > 0`` for a time, prefer
    `truncated_normal_timescales`, which also checks positivity.

    Parameters
    ----------
    mean, std : brian2 quantity or float
        Same units; ``std >= 0``.
    minimum, maximum : brian2 quantity or float, optional
        Bounds in the same units (``minimum < maximum``); each must lie within 6 std of
        the mean on the side that keeps the mean, so that redrawing ends quickly.

    Returns
    -------
    TimescaleSampler
        With ``positive=False``.

    Examples
    --------
    >>> from brian2 import mV
    >>> v = normal_values(-60 * mV, 5 * mV, minimum=-70 * mV).sample(500, seed=2)
    >>> bool(v.min() >= -70 * mV)
    True
    """
    pairs = [("mean", mean), ("std", std)]
    pairs += [(name, value) for name, value in (("minimum", minimum), ("maximum", maximum))
              if value is not None]  # fmt: skip
    unit, magnitudes = _si_unit_and_magnitudes(pairs)
    given = dict(zip([name for name, _ in pairs], magnitudes, strict=True))
    mu, sigma = given["mean"], given["std"]
    low, high = given.get("minimum", -np.inf), given.get("maximum", np.inf)
    if sigma < 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    if not low < high:
        raise ValueError(f"minimum ({minimum!r}) must be < maximum ({maximum!r})")
    if sigma == 0 and not low <= mu <= high:
        raise ValueError(f"mean {mean!r} lies outside [minimum, maximum] with std = 0")
    if sigma > 0 and ((low - mu) / sigma > 6 or (mu - high) / sigma > 6):
        raise ValueError(
            "a bound lies more than 6 std beyond the mean: almost every draw would be "
            "rejected; move the bound or the mean"
        )

    def draw(rng, N):
        if sigma == 0:
            return np.full(N, mu)
        values = rng.normal(mu, sigma, N)
        bad = np.flatnonzero((values < low) | (values > high))
        while bad.size:
            values[bad] = rng.normal(mu, sigma, bad.size)
            bad = bad[(values[bad] < low) | (values[bad] > high)]
        return values

    bounds = "".join(f", {name}={value!r}" for name, value in pairs[2:])
    return TimescaleSampler(
        "normal" if not bounds else "truncated_normal",
        draw,
        unit,
        f"mean={mean!r}, std={std!r}{bounds}",
        mu,
        positive=False,
    )
