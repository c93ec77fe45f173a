"""New values for per-neuron parameters and initial states, checked before a run.

A standalone binary silently keeps the old value when an array given through
``run_args`` has the wrong length, so every override is checked here in Python first:
name, units, length, finiteness, integer values for integer variables, positive time
constants.
"""

from __future__ import annotations

import numpy as np
from brian2 import NeuronGroup, Quantity, Synapses
from brian2.core.variables import ArrayVariable
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

__all__ = [
    "user_variables",
    "resolve_overrides",
    "state_groups",
    "group_size",
    "describe_value",
]


def state_groups(network):
    """The groups of `network` holding state variables (neuron groups and synapses)."""
    return [obj for obj in network.objects if isinstance(obj, NeuronGroup | Synapses)]


def group_size(group):
    """Number of elements of `group`, or None when only the binary knows it.

    Synapses created by a standalone binary (connections drawn at run time) have no
    size before the run.
    """
    try:
        return int(len(group))
    except NotImplementedError:
        return None


def describe_value(value):
    """A short description of an override value for metadata (scalar or array summary)."""
    array = np.asarray(value)
    if array.ndim == 0:
        return str(value)
    return f"array of {array.shape[0]} values, mean {np.mean(value)!s}"


def user_variables(group):
    """Names of the state variables a user may set: those declared in its equations."""
    equations = getattr(group, "user_equations", group.equations)  # without lastspike etc.
    names = []
    for name in equations.names:
        if name in equations.subexpr_names or name in ("lastspike", "not_refractory"):
            continue
        if isinstance(group.variables.get(name), ArrayVariable):
            names.append(name)
    return names


def resolve_overrides(network, overrides, *, default_group=None):
    """Check new values for state variables and parameters of `network`.

    Parameters
    ----------
    network : brian2.Network
    overrides : dict
        ``"group.variable"`` or ``"variable"`` -> value. A bare ``"variable"`` refers
        to `default_group` when given and holding it, else to the only group of the
        network that has it. Values are scalars or arrays with one value per neuron
        (or synapse), with the units of the variable.
    default_group : brian2.NeuronGroup, optional
        Group that bare names refer to first.

    Returns
    -------
    list of tuple
        ``(group, variable_name, value)`` with every value checked.

    Raises
    ------
    ValueError
        Unknown group or variable (the message lists what is allowed), an ambiguous
        bare name, an array of the wrong length or dimension, a non-finite value, a
        non-integer value for an integer variable, or a time constant ``tau*`` <= 0.
    brian2.DimensionMismatchError
        A value with the wrong units.
    """
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a dict of name -> value, got {type(overrides)}")
    groups = {group.name: group for group in state_groups(network)}
    resolved = []
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"override names must be non-empty strings, got {key!r}")
        group, name = _find_variable(groups, key, default_group)
        resolved.append((group, name, _check_value(group, name, key, value)))
    return resolved


def _find_variable(groups, key, default_group):
    if "." in key:
        group_name, name = key.split(".", 1)
        if group_name not in groups:
            raise ValueError(
                f"Unknown group {group_name!r} in override {key!r}; groups: {sorted(groups)}"
            )
        group = groups[group_name]
        allowed = user_variables(group)
        if name not in allowed:
            raise ValueError(
                f"Unknown parameter {name!r} of group {group_name!r} in override {key!r}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        return group, name
    if default_group is not None and key in user_variables(default_group):
        return default_group, key
    owners = [group for group in groups.values() if key in user_variables(group)]
    if len(owners) == 1:
        return owners[0], key
    if not owners:
        allowed = sorted({f"{g.name}.{n}" for g in groups.values() for n in user_variables(g)})
        raise ValueError(f"Unknown parameter {key!r}; allowed: {', '.join(allowed)}")
    raise ValueError(
        f"Parameter {key!r} is ambiguous (groups {sorted(g.name for g in owners)}); "
        f"write it as 'group.{key}'"
    )


def _check_value(group, name, key, value):
    """Check one override; return it unchanged."""
    variable = group.variables[name]
    array = _plain_numbers(variable, key, value)
    _check_shape(group, variable, key, array)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Override {key!r} must be finite (got NaN or inf)")
    if np.dtype(variable.dtype).kind in "biu" and not np.all(array == np.round(array)):
        raise ValueError(f"Override {key!r} is an integer variable; got non-integer values")
    if name.startswith("tau") and name != "tau_ref" and np.any(array <= 0):
        raise ValueError(f"Override {key!r}: time constants must be > 0")
    if name == "tau_ref" and np.any(array < 0):
        raise ValueError(f"Override {key!r}: the refractory period must be >= 0")
    return value


def _plain_numbers(variable, key, value):
    """The override in the variable's SI unit as a float array; checks its dimensions."""
    unit_dimensions = variable.dim
    if get_dimensions(value) != unit_dimensions:
        expected = Quantity(1, dim=unit_dimensions)
        raise DimensionMismatchError(
            f"Override {key!r} must have the units of {expected.dimensions!s} (e.g. {expected!r})",
            get_dimensions(value),
            unit_dimensions,
        )
    raw = np.asarray(value / Quantity(1, dim=unit_dimensions) if isinstance(value, Quantity)
                     else value)  # fmt: skip
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"Override {key!r} must be numeric, got {value!r}")
    return raw.astype(float)


def _check_shape(group, variable, key, array):
    """A scalar for a shared variable, else a scalar or one value per element."""
    if variable.scalar and array.ndim != 0:
        raise ValueError(f"Override {key!r} is a shared variable: give one scalar value")
    if array.ndim > 1:
        raise ValueError(f"Override {key!r} must be a scalar or a 1-D array, got {array.shape}")
    if array.ndim == 1:
        size = group_size(group)
        if size is None:
            raise ValueError(
                f"Override {key!r}: the size of {group.name!r} is not known before the run "
                "(connections drawn in the binary); give a scalar"
            )
        if array.shape[0] != size:
            raise ValueError(
                f"Override {key!r} must be a scalar or an array of length {size} (one value "
                f"per element of {group.name!r}), got length {array.shape[0]}"
            )
