"""Times and other physical quantities at the package's boundaries.

Public functions take Brian2 quantities (``5 * ms``), neo/python-quantities values
(``5 * pq.ms``) or plain floats in SI units (seconds, hertz); internally everything is a
float in SI units. These helpers do the conversion once, check the dimensions and name the
parameter in every error. Brian2 is imported only when a Brian2 quantity is passed.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["is_quantity", "seconds_array", "to_hertz", "to_seconds", "to_si"]


def is_quantity(value):
    """True for a Brian2 quantity (anything with ``dim`` and ``has_same_dimensions``)."""
    return hasattr(value, "dim") and hasattr(value, "has_same_dimensions")


def _si_array(value, name, unit_name, brian_unit, pq_unit):
    if is_quantity(value):
        import brian2
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        target = getattr(brian2, brian_unit)
        if get_dimensions(value) != target.dim:
            raise DimensionMismatchError(
                f"{name} must be a {unit_name} (a Brian2 quantity or a float in {brian_unit}s), "
                f"got {value!r}",
                get_dimensions(value),
                target.dim,
            )
        return np.asarray(value / target, dtype=np.float64)
    if hasattr(value, "rescale") and hasattr(value, "magnitude"):  # python-quantities (neo)
        try:
            return np.asarray(value.rescale(pq_unit).magnitude, dtype=np.float64)
        except ValueError as error:
            raise ValueError(f"{name} must have units of {unit_name}: {error}") from None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a {unit_name} (a Brian2 quantity or a float in {brian_unit}s), "
            f"got {value!r}"
        ) from None


def _scalar(array, name, value, unit_name, positive, nonnegative, finite):
    if array.ndim != 0:
        raise ValueError(f"{name} must be a scalar {unit_name}, got shape {array.shape}")
    number = float(array)
    if finite and not math.isfinite(number):
        raise ValueError(f"{name} must be a finite {unit_name}, got {value!r}")
    if positive and not number > 0:
        raise ValueError(f"{name} must be a {unit_name} > 0, got {value!r}")
    if nonnegative and not number >= 0:
        raise ValueError(f"{name} must be a {unit_name} >= 0, got {value!r}")
    return number


def seconds_array(value, name):
    """Times as a float64 array of seconds.

    Parameters
    ----------
    value : array-like, Brian2 quantity or python-quantities array
        Plain numbers are taken as seconds.
    name : str
        Parameter name for error messages.

    Raises
    ------
    brian2.DimensionMismatchError
        A Brian2 quantity that is not a time.
    ValueError
        Anything that is not numeric, or python-quantities that are not times.

    Examples
    --------
    >>> from brian2 import ms
    >>> seconds_array([1, 2] * ms, "spike_times")
    array([0.001, 0.002])
    """
    return _si_array(value, name, "time", "second", "s")


def to_seconds(value, name, *, positive=False, nonnegative=False, finite=True, allow_none=False):
    """One time as a float in seconds, checked.

    Parameters
    ----------
    value : float, Brian2 quantity, python-quantities scalar or None
        Plain numbers are seconds.
    name : str
        Parameter name for error messages.
    positive, nonnegative : bool
        Require > 0 or >= 0.
    finite : bool
        Require a finite value (default).
    allow_none : bool
        Return None for None instead of raising.

    Examples
    --------
    >>> from brian2 import ms
    >>> to_seconds(20 * ms, "tau", positive=True)
    0.02
    >>> to_seconds(-1.0, "tau", positive=True)
    Traceback (most recent call last):
    ...
    ValueError: tau must be a time > 0, got -1.0
    """
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is required (a time)")
    array = _si_array(value, name, "time", "second", "s")
    return _scalar(array, name, value, "time", positive, nonnegative, finite)


def to_hertz(value, name, *, positive=False, nonnegative=False, finite=True):
    """One frequency (a rate) as a float in hertz, checked like `to_seconds`.

    Examples
    --------
    >>> from brian2 import Hz
    >>> to_hertz(5 * Hz, "rate", positive=True)
    5.0
    """
    array = _si_array(value, name, "frequency", "hertz", "Hz")
    return _scalar(array, name, value, "frequency", positive, nonnegative, finite)


def to_si(value, unit, name):
    """A Brian2 quantity with the dimensions of `unit` (or a float in SI) as a float/array.

    Parameters
    ----------
    value : Brian2 quantity or array-like
    unit : Brian2 unit
        Gives the required dimensions (e.g. ``mV``); the result is in SI (volts), not
        in `unit`.
    name : str
        Parameter name for error messages.

    Examples
    --------
    >>> from brian2 import mV
    >>> to_si(20 * mV, mV, "J0")
    0.02
    """
    from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

    if is_quantity(value):
        if get_dimensions(value) != get_dimensions(unit):
            raise DimensionMismatchError(
                f"{name} must have the dimensions of {unit!r}, got {value!r}",
                get_dimensions(value),
                get_dimensions(unit),
            )
        array = np.asarray(value, dtype=np.float64)
    else:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number or a Brian2 quantity, got {value!r}"
            ) from None
    return float(array) if array.ndim == 0 else array
