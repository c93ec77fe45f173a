"""One validation layer for the public entry points.

Every public function checks its arguments here before any compilation, simulation or file
write, so that the next parameter added gets the same checks and every error names the
parameter, the value and what is allowed. Times and other quantities with units are
checked by `neurosrnn.units`; this module covers the rest: seeds, integers, integer
arrays, choices and output paths.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

__all__ = [
    "check_choice",
    "check_int",
    "check_output_folder",
    "check_seed",
    "int_array",
    "seeded_rng",
]


def check_int(value, name, *, minimum=None, maximum=None):
    """An integer (Python or numpy, not bool) within optional bounds, as `int`.

    Examples
    --------
    >>> check_int(5, "K", minimum=1)
    5
    >>> check_int(2.5, "K")
    Traceback (most recent call last):
    ...
    TypeError: K must be an integer, got 2.5 (float)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_seed(seed, name="seed", *, allow_none=False):
    """A seed for `numpy.random.default_rng`: an integer in [0, 2**63), as `int`.

    Parameters
    ----------
    seed : int or None
    name : str
        Parameter name for the error message.
    allow_none : bool
        Accept None (fresh entropy); the caller must say so in its docstring.

    Examples
    --------
    >>> check_seed(42)
    42
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be >= 0, got -1
    """
    if seed is None:
        if allow_none:
            return None
        raise TypeError(f"{name} is required: give an integer >= 0 so the run can be repeated")
    return check_int(seed, name, minimum=0, maximum=2**63 - 1)


def int_array(value, name, *, minimum=None, maximum=None, ndim=1):
    """An array of integers as int64, refusing floats, bools and out-of-range entries.

    Floats are refused even when they hold whole numbers: silently truncating indices is
    how a wrong graph gets built.

    Examples
    --------
    >>> int_array([0, 3, 2], "targets", maximum=9)
    array([0, 3, 2])
    >>> int_array([0.0, 1.5], "targets")
    Traceback (most recent call last):
    ...
    TypeError: targets must hold integers, got dtype float64
    """
    array = np.asarray(value)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    array = array.astype(np.int64, copy=False)
    if array.size:
        if minimum is not None and array.min() < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got a minimum of {array.min()}")
        if maximum is not None and array.max() > maximum:
            raise ValueError(f"{name} must be <= {maximum}, got a maximum of {array.max()}")
    return array


def check_choice(value, name, allowed):
    """`value` if it is one of `allowed`, else a ValueError listing them.

    Examples
    --------
    >>> check_choice("lif", "model", ("theta", "lif"))
    'lif'
    """
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_output_folder(path, name="out"):
    """Check that `path` can become an output folder, without creating anything.

    It may exist (as a folder) or not; its nearest existing ancestor must be a writable
    folder. Nothing is written, so a failed check leaves nothing behind.

    Returns
    -------
    str
        The absolute path.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_output_folder(os.path.join(folder, "a", "b")) == os.path.join(folder, "a", "b")
    True
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a path, got {path!r}")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name} {path!r} exists and is not a folder")
    ancestor = path
    while not os.path.exists(ancestor):
        parent = os.path.dirname(ancestor)
        if parent == ancestor:
            break
        ancestor = parent
    if not os.path.isdir(ancestor):
        raise ValueError(f"{name} {path!r} lies under {ancestor!r}, which is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(f"{name} {path!r}: cannot write in {ancestor!r}")
    return path


def seeded_rng(seed, name="seed", *, allow_none=False):
    """A `numpy.random.Generator` from a checked seed, or the Generator passed in.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An integer is checked by `check_seed`; a Generator is used as it is (to share one
        stream between several draws).
    name : str
        Parameter name for the error message.
    allow_none : bool
        Accept None (fresh entropy); the caller must say so in its docstring.

    Examples
    --------
    >>> seeded_rng(3).integers(10) == seeded_rng(3).integers(10)
    np.True_
    >>> seeded_rng(2.0)
    Traceback (most recent call last):
    ...
    TypeError: seed must be an integer, got 2.0 (float)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed, name, allow_none=allow_none))
