"""Parameter points of a sweep: a grid (Cartesian product) or independent random samples.

A point is a dict ``parameter name -> value`` (a Brian2 quantity, a float or an int);
a runner of `neurosrnn.sweep.runners` checks the names and units of a point.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from neurosrnn.units import is_quantity

__all__ = ["grid_points", "random_points"]


def grid_points(axes):
    """Cartesian product of parameter values, in row-major order (last axis fastest).

    Parameters
    ----------
    axes : dict of str -> sequence
        Parameter name -> values (Brian2 quantities, floats, ints). Each sequence
        must be non-empty; a Brian2 array quantity counts as a sequence.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> grid_points({"a": [1, 2], "b": [10, 20, 30]})[:2]
    [{'a': 1, 'b': 10}, {'a': 1, 'b': 20}]
    """
    if not isinstance(axes, dict) or not axes:
        raise ValueError("a grid needs at least one parameter axis (got an empty grid)")
    values = []
    for name, axis in axes.items():
        if isinstance(axis, str) or np.ndim(axis) == 0:
            raise ValueError(f"grid axis {name!r} must be a sequence of values, got {axis!r}")
        items = list(axis)
        if not items:
            raise ValueError(f"grid axis {name!r} is empty; give at least one value")
        values.append(items)
    names = list(axes)
    return [
        dict(zip(names, combination, strict=True)) for combination in itertools.product(*values)
    ]


def random_points(ranges, n_samples, *, seed):
    """Independent random parameter points.

    Parameters
    ----------
    ranges : dict of str -> dict
        Parameter name -> ``{"low": a, "high": b}`` (uniform on [a, b)) or
        ``{"low": a, "high": b, "log": True}`` (log-uniform, a > 0), or
        ``{"choices": [...]}`` (uniform choice). ``a`` and ``b`` may be Brian2
        quantities with the same units.
    n_samples : int
        Number of points (> 0).
    seed : int
        Seed of the sampler (numpy `default_rng`).

    Returns
    -------
    list of dict
    """
    if not isinstance(n_samples, int | np.integer) or n_samples <= 0:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not isinstance(ranges, dict) or not ranges:
        raise ValueError("a random sweep needs at least one parameter range (got none)")
    rng = np.random.default_rng(seed)
    columns = {}
    for name, spec in ranges.items():
        if not isinstance(spec, dict):
            raise ValueError(f"range of {name!r} must be a dict with low/high or choices")
        if "choices" in spec:
            choices = list(spec["choices"])
            if not choices:
                raise ValueError(f"choices of {name!r} are empty")
            picks = rng.integers(0, len(choices), n_samples)
            columns[name] = [choices[k] for k in picks]
            continue
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"range of {name!r} needs 'low' and 'high' (or 'choices')")
        low, high = spec["low"], spec["high"]
        unit = None
        if is_quantity(low) or is_quantity(high):
            from brian2.units.fundamentalunits import (
                DimensionMismatchError,
                get_dimensions,
                get_unit,
            )

            if get_dimensions(low) != get_dimensions(high):
                raise DimensionMismatchError(
                    f"low and high of {name!r} must have the same units",
                    get_dimensions(low),
                    get_dimensions(high),
                )
            unit = get_unit(get_dimensions(low))
            low, high = float(low / unit), float(high / unit)
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"range of {name!r} must have finite low < high, got {low}, {high}")
        if spec.get("log", False):
            if low <= 0:
                raise ValueError(f"log-uniform range of {name!r} needs low > 0")
            samples = np.exp(rng.uniform(np.log(low), np.log(high), n_samples))
        else:
            samples = rng.uniform(low, high, n_samples)
        columns[name] = [float(s) if unit is None else float(s) * unit for s in samples]
    return [{name: columns[name][k] for name in ranges} for k in range(n_samples)]
