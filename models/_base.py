"""The `NeuronModel` description shared by every model of the library.

A `NeuronModel` is a plain, readable bundle of Brian2 model code (equations with
units, threshold, reset, refractoriness, integration method) plus the list of its
per-neuron parameters with their default values. It builds ready
`brian2.NeuronGroup` objects, but users can also take its pieces and extend them.

Per-neuron parameters are declared as ``(constant)`` state variables rather than
Python constants, so heterogeneity is natural and standalone builds can change them
through ``run_args`` without recompiling.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field

import numpy as np
from brian2 import Equations, NeuronGroup, Quantity
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

__all__ = ["NeuronModel", "check_positive_int", "threshold_above_reset"]

#: Parameters named ``tau...`` that may be zero (a refractory period can vanish).
_NON_NEGATIVE_DURATIONS = frozenset({"tau_ref"})


def check_positive_int(value, name):
    """Return `value` as an int if it is an integer > 0 (not a bool), else raise.

    The one check of counts (numbers of neurons, layers, traces) across the model
    library.

    Parameters
    ----------
    value : object
        A Python or numpy integer.
    name : str
        The argument's name, used in the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``"<name> must be a positive integer, got <value>"``.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def threshold_above_reset(threshold, reset):
    """A `NeuronModel` validator requiring ``reset < threshold`` for every neuron.

    With the reset at or above the threshold a neuron that spikes is reset straight
    into another spike (or a model silently never leaves its reset), so the
    combination is refused before a group is built.

    Parameters
    ----------
    threshold, reset : str
        Names of the per-neuron parameters (scalars or length-N arrays with the same
        units).

    Returns
    -------
    callable
        ``validator(model_name, values)`` raising `ValueError` that names both
        parameters, their values and the first offending neuron.

    Examples
    --------
    >>> check = threshold_above_reset("v_peak", "v_reset")
    >>> check("qif", {"v_peak": 10.0, "v_reset": -10.0})
    >>> check("qif", {"v_peak": 1.0, "v_reset": 2.0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Model 'qif': v_reset must be < v_peak for every neuron, got v_reset=2.0 and ...
    """

    def validator(model_name, values):
        high = np.asarray(values[threshold], dtype=float)
        low = np.asarray(values[reset], dtype=float)
        bad = np.broadcast_to(~(low < high), np.broadcast_shapes(low.shape, high.shape))
        if not np.any(bad):
            return
        if bad.ndim == 0:
            detail = f"{reset}={values[reset]} and {threshold}={values[threshold]}"
        else:
            first = int(np.flatnonzero(bad)[0])
            detail = (
                f"{int(bad.sum())} neuron(s) violate it, the first is neuron {first} with "
                f"{reset}={_element(values[reset], first)} and "
                f"{threshold}={_element(values[threshold], first)}"
            )
        raise ValueError(
            f"Model {model_name!r}: {reset} must be < {threshold} for every neuron, got {detail}"
        )

    validator.__name__ = f"check_{reset}_below_{threshold}"
    return validator


def _element(value, index):
    return value if np.ndim(value) == 0 else value[index]


def _format_quantity(value):
    if isinstance(value, Quantity):
        return str(value)
    return repr(value)


@dataclass(frozen=True)
class NeuronModel:
    """Brian2 model code for one neuron type, with its per-neuron parameters.

    Parameters
    ----------
    name : str
        Short identifier shown by ``repr``, e.g. ``"alif"`` or ``"lif_delta"`` (variants
        carry a suffix, so it may differ from the `neurosrnn.models.MODEL_LIBRARY` key).
    equations : brian2.Equations
        Differential equations with units. Per-neuron parameters appear as
        ``(constant)`` state variables.
    threshold : str
        Threshold condition.
    reset : str
        Reset statements.
    method : str
        Brian2 integration method (``"exact"``, ``"euler"``, ...).
    parameters : dict
        Per-neuron parameter name -> default value (a Brian2 quantity or a float for
        dimensionless parameters). Every name must be a state variable of
        `equations`.
    initial_values : dict
        State variable name -> initial value (quantity, float or Brian2 string
        expression) applied when a group is built.
    coupling_target : str
        State variable a presynaptic spike of weight ``w`` acts on; the synaptic
        ``on_pre`` code is ``coupling_on_pre``.
    coupling_on_pre : str
        Brian2 ``on_pre`` statement for a synapse whose weight is `weight_variable`.
    weight_variable : str
        Name of the synaptic weight in `coupling_on_pre` (``"w"`` unless the neuron
        itself has a state called ``w``, as AdEx does).
    refractory : brian2 quantity, str or bool
        Refractoriness passed to `brian2.NeuronGroup`.
    description : str
        One-paragraph description, with references.
    drive_parameter : str
        Name of the per-neuron parameter holding the constant external drive
        (``"I_ext"`` for every model of the library).
    suprathreshold_drive : brian2 quantity or float, optional
        A value of `drive_parameter` that makes an isolated neuron with default
        parameters fire repetitively; used to build test and benchmark networks.
    run_regularly : tuple of (str, str)
        ``(code, when)`` pairs that `make_group` attaches to every group with
        `brian2.NeuronGroup.run_regularly` (executed every time step in the slot
        ``when``). Models with a held synaptic current use it to zero that current
        just before synaptic propagation.
    validators : tuple of callables
        Extra checks ``validator(model_name, values)`` run by `make_group` before
        building, where ``values`` maps every parameter name to its value
        (overrides and defaults); each raises `ValueError` when the combination is
        not allowed (e.g. ``tau_m == tau_syn`` for the exponential-synapse LIF).

    Examples
    --------
    >>> from neurosrnn.models import lif
    >>> model = lif()
    >>> group = model.make_group(10, tau_m=20 * ms)  # doctest: +SKIP
    """

    name: str
    equations: Equations
    threshold: str
    reset: str
    method: str
    parameters: dict = field(default_factory=dict)
    initial_values: dict = field(default_factory=dict)
    coupling_target: str = "v"
    coupling_on_pre: str = "v_post += w"
    weight_variable: str = "w"
    refractory: object = False
    description: str = ""
    drive_parameter: str = "I_ext"
    suprathreshold_drive: object = None
    run_regularly: tuple = ()
    validators: tuple = ()

    def __post_init__(self):
        names = set(self.equations.names)
        missing = sorted(set(self.parameters) - names)
        if missing:
            raise ValueError(
                f"Parameters {missing} of model {self.name!r} are not state variables of "
                "its equations"
            )
        if self.coupling_target not in names:
            raise ValueError(
                f"coupling_target {self.coupling_target!r} of model {self.name!r} is not a "
                "variable of its equations"
            )
        if self.weight_variable in names:
            raise ValueError(
                f"weight_variable {self.weight_variable!r} of model {self.name!r} clashes "
                "with a variable of its equations; choose another name"
            )
        if not re.search(rf"\b{re.escape(self.weight_variable)}\b", self.coupling_on_pre):
            raise ValueError(
                f"coupling_on_pre {self.coupling_on_pre!r} of model {self.name!r} does not "
                f"use its weight_variable {self.weight_variable!r}"
            )
        if self.suprathreshold_drive is not None and self.drive_parameter not in self.parameters:
            raise ValueError(
                f"drive_parameter {self.drive_parameter!r} of model {self.name!r} must be one "
                f"of its parameters: {sorted(self.parameters)}"
            )

    def __repr__(self):
        params = ", ".join(f"{k}={_format_quantity(v)}" for k, v in self.parameters.items())
        return (
            f"<NeuronModel {self.name!r}: {len(self.equations.diff_eq_names)} ODE(s), "
            f"threshold {self.threshold!r}, method {self.method!r}, parameters [{params}]>"
        )

    @property
    def coupling_unit(self):
        """Physical unit of the synaptic weight ``w`` (that of `coupling_target`)."""
        return self.equations[self.coupling_target].unit

    def validate_parameters(self, N, values):
        """Check per-neuron parameter overrides and return them as arrays.

        Parameters
        ----------
        N : int
            Number of neurons.
        values : dict
            Parameter name -> scalar or length-`N` array (with units where the
            parameter has units).

        Returns
        -------
        dict
            Parameter name -> value with the same units, every entry checked.

        Raises
        ------
        ValueError
            Unknown parameter name, wrong length, non-finite value, or a
            non-positive time constant (any parameter whose name starts with
            ``tau``, except the refractory period ``tau_ref``, which may be 0).
        brian2.DimensionMismatchError
            A value whose units differ from the parameter's.
        """
        checked = {}
        for name, value in values.items():
            if name not in self.parameters:
                allowed = ", ".join(sorted(self.parameters))
                raise ValueError(
                    f"Unknown parameter {name!r} for model {self.name!r}; allowed: {allowed}"
                )
            default = self.parameters[name]
            if get_dimensions(value) != get_dimensions(default):
                raise DimensionMismatchError(
                    f"Parameter {name!r} of model {self.name!r} must have the units of "
                    f"{_format_quantity(default)}",
                    get_dimensions(value),
                    get_dimensions(default),
                )
            array = np.asarray(value, dtype=float)
            if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != N):
                raise ValueError(
                    f"Parameter {name!r} must be a scalar or an array of length N={N}, "
                    f"got shape {array.shape}"
                )
            if not np.all(np.isfinite(array)):
                raise ValueError(f"Parameter {name!r} must be finite (got NaN or inf)")
            if name in _NON_NEGATIVE_DURATIONS:
                if np.any(array < 0):
                    raise ValueError(f"Duration {name!r} must be >= 0 for every neuron")
            elif name.startswith("tau") and np.any(array <= 0):
                raise ValueError(f"Time constant {name!r} must be > 0 for every neuron")
            checked[name] = value
        return checked

    def make_group(self, N, *, name=None, dt=None, initial_values=None, **parameter_values):
        """Build a `brian2.NeuronGroup` of `N` neurons of this model.

        Parameters
        ----------
        N : int
            Number of neurons (> 0).
        name : str, optional
            Brian2 object name.
        dt : brian2 quantity, optional
            Time step of the group's clock (default: ``defaultclock.dt``).
        initial_values : dict, optional
            Overrides of `initial_values` (state name -> value or string).
        **parameter_values
            Per-neuron parameter values (scalars or length-`N` arrays with units);
            unspecified parameters take their defaults.

        Returns
        -------
        brian2.NeuronGroup

        Raises
        ------
        ValueError
            Bad parameters (see `validate_parameters` and the model's `validators`,
            e.g. a reset at or above the threshold), or an initial value that is neither
            a scalar, a string nor an array of length `N`; all before a group is built.
        """
        if not isinstance(N, int | np.integer) or N <= 0:
            raise ValueError(f"N must be a positive integer, got {N!r}")
        checked = self.validate_parameters(N, parameter_values)
        if self.validators:
            all_values = {**self.parameters, **checked}
            for validator in self.validators:
                validator(self.name, all_values)
        states = dict(self.initial_values)
        if initial_values:
            unknown = set(initial_values) - set(self.equations.names)
            if unknown:
                raise ValueError(
                    f"Unknown state variable(s) {sorted(unknown)} in initial_values for "
                    f"model {self.name!r}; allowed: {sorted(self.equations.names)}"
                )
            for state, value in initial_values.items():
                if isinstance(value, str):
                    continue  # a Brian2 expression, evaluated per neuron
                shape = np.shape(value)
                if len(shape) > 1 or (len(shape) == 1 and shape[0] != N):
                    raise ValueError(
                        f"initial_values[{state!r}] must be a scalar or an array of length "
                        f"N={N}, got shape {shape} (length {shape[0] if shape else 0})"
                    )
            states.update(initial_values)
        kwargs = {"method": self.method, "reset": self.reset, "refractory": self.refractory}
        if name is not None:
            kwargs["name"] = name
        if dt is not None:
            kwargs["dt"] = dt
        group = NeuronGroup(int(N), self.equations, threshold=self.threshold, **kwargs)
        for parameter, default in self.parameters.items():
            setattr(group, parameter, checked.get(parameter, default))
        for state, value in states.items():
            setattr(group, state, value)
        for code, when in self.run_regularly:
            group.run_regularly(code, when=when)
        return group
