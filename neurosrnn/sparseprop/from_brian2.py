"""Build an exact SparseProp network from a Brian2 neuron model and a graph.

`exact_network` takes a neuron written as Brian2 code (equations with units, threshold,
reset, optional refractoriness), or a `neurosrnn.models.NeuronModel`, with parameter
values per population, and a `neurosrnn.connectivity.Connectivity`, and returns the
`SparsePropNetwork` that simulates that network without time step.

Eligibility
-----------
The exact engine advances every neuron along its free flow between input pulses and
maps a pulse through a phase transition curve. That needs, for every neuron:

- **one** differential equation :math:`dv/dt = f(v)` (subexpressions are substituted),
  with no explicit time (``t``), noise (``xi``), random numbers or `TimedArray` input;
- parameters that are constant and equal within a population (they may differ between
  populations);
- a threshold ``v > v_th`` (or ``>=``) with a constant ``v_th``;
- a reset ``v = v_r`` with a constant ``v_r`` and no other statement;
- optionally a refractory period (a time, or an expression of the parameters that
  evaluates to a time);
- synapses that add their weight to ``v``: ``v_post += w``.

The classification (with `sympy`, on Brian2's own parse of the code):

- :math:`f` linear in :math:`v` with a negative slope: the closed-form LIF of the
  engine (normalised voltage :math:`V = (v - v_r)/(v_{th} - v_r)`, drive
  :math:`(v_\\infty - v_{th})/(v_{th} - v_r)`, weights scaled by :math:`1/(v_{th} - v_r)`
  of the target). All populations must share the membrane time constant, otherwise the
  phase tables are used.
- :math:`f` quadratic with a positive leading coefficient, threshold :math:`+\\infty`,
  reset :math:`-\\infty` (the QIF), or the theta form
  :math:`d\\theta/dt = A + B\\cos\\theta + C\\sin\\theta` with threshold
  :math:`\\pi` (reset :math:`-\\pi`, or :math:`\\theta \\mathrel{-}= 2\\pi`): the
  closed-form theta neuron. Both are :math:`dV/dt = aV^2 + bV + c` (with
  :math:`V = \\tan(\\theta/2)` in the theta form); with
  :math:`U = a\\tau(V + b/2a)` this is :math:`\\tau\\,dU/dt = U^2 + I`,
  :math:`I = a\\tau^2(c - b^2/4a)`, and a pulse :math:`V \\to V + w` is
  :math:`U \\to U + a\\tau w`. One :math:`\\tau` serves all populations.
- anything else that is eligible: a numerical phase table
  (`neurosrnn.sparseprop.phase_tables.tabulate`), one per population.

References
----------
Engelken R. (2023) SparseProp, NeurIPS 36, arXiv:2312.17216 (phase representation);
Ermentrout G. B., Kopell N. (1986) SIAM J. Appl. Math. 46:233 (theta neuron);
Fourcaud-Trocmé N. et al. (2003) J. Neurosci. 23:11628 (EIF).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

import numpy as np
import sympy
from brian2 import Equations, Quantity
from brian2.core.functions import Function
from brian2.core.namespace import DEFAULT_FUNCTIONS, DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions
from brian2.utils.stringtools import get_identifiers

from neurosrnn.connectivity import Connectivity
from neurosrnn.sparseprop.engine import SparsePropNetwork
from neurosrnn.sparseprop.topology import RegeneratedConnectivity
from neurosrnn.units import to_seconds

__all__ = ["exact_network", "ExactMapping"]

_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)\s*(.+?)\s*$")
_THRESHOLD = re.compile(r"^\s*([A-Za-z_]\w*)\s*(>=|>)\s*(.+?)\s*$")
_THRESHOLD_REVERSED = re.compile(r"^\s*(.+?)\s*(<=|<)\s*([A-Za-z_]\w*)\s*$")
# functions without a fixed value for given arguments: random numbers, the time step
_RANDOM_FUNCTIONS = frozenset({"rand", "randn", "poisson", "timestep"})
# identifiers that make dv/dt depend on time
_TIME_IDENTIFIERS = frozenset({"t", "dt", "t_in_timesteps"})
# relative tolerance of "the same tau" and of the theta-form fit
_SAME = 1e-12


# --------------------------------------------------------------------------- public


@dataclass
class ExactMapping:
    """How the Brian2 model's state corresponds to the exact network's phases.

    Attached to a network built by `exact_network` as ``network.mapping``.

    Attributes
    ----------
    kind : str
        ``"lif"``, ``"theta"`` (closed forms) or ``"tabulated"``.
    variable : str
        Name of the model's state variable (``"v"``, ``"theta"``, ...).
    unit : brian2 unit or None
        Unit in which the engine sees the state (e.g. ``mV``); None if dimensionless.
    populations : ndarray of int, shape (N,)
        Population of each neuron.
    v_reset, v_threshold : ndarray, shape (n_populations,)
        Reset and threshold of each population, in `unit` (plain numbers).
    refractory : ndarray of float or None
        Refractory period of each neuron in seconds (None without).
    tables : list of PhaseTable or None
        The phase tables (``kind == "tabulated"``).
    parameters : list of dict
        Parameter values (SI floats) of each population after defaults were applied.
    """

    kind: str
    variable: str
    unit: object
    populations: np.ndarray
    v_reset: np.ndarray
    v_threshold: np.ndarray
    refractory: np.ndarray | None
    tables: list | None
    parameters: list
    network: SparsePropNetwork | None = field(default=None, repr=False)
    # closed forms: per-population (slope scale, shift) of the engine coordinates
    _lif: tuple | None = field(default=None, repr=False)
    _theta: tuple | None = field(default=None, repr=False)

    def __repr__(self):
        unit = "1" if self.unit is None else str(self.unit)
        return (
            f"<ExactMapping {self.kind}, state {self.variable!r} in {unit}, "
            f"{self.v_reset.size} population(s), N={self.populations.size}>"
        )

    def _plain(self, values):
        """State values (quantities in the model's unit, or floats) as plain numbers."""
        if self.unit is None:
            if isinstance(values, Quantity) and not get_dimensions(values).is_dimensionless:
                raise DimensionMismatchError(
                    f"values of {self.variable!r} must be dimensionless", get_dimensions(values)
                )
            array = np.asarray(values, dtype=float)
        else:
            if get_dimensions(values) != get_dimensions(self.unit):
                raise DimensionMismatchError(
                    f"values of {self.variable!r} must have the units of {self.unit}",
                    get_dimensions(values),
                    get_dimensions(self.unit),
                )
            array = np.asarray(values / self.unit, dtype=float)
        return np.broadcast_to(array, self.populations.shape).astype(float)

    def phases(self, values):
        """Engine phases of the model states `values` (one per neuron, or a scalar).

        Parameters
        ----------
        values : brian2 quantity, float or array
            The model's state variable (in its units), below threshold.

        Returns
        -------
        ndarray, shape (N,)
        """
        x = self._plain(values)
        network = self.network
        if self.kind == "lif":
            offset, span = self._lif
            normalised = (x - offset[self.populations]) / span[self.populations]
            return network.model.state_to_phase(normalised, network.drive)
        if self.kind == "theta":
            theta_form, scale, shift = self._theta
            if theta_form:
                x = np.tan(0.5 * x)
            u = scale[self.populations] * (x + shift[self.populations])
            return network.model.state_to_phase(2.0 * np.arctan(u), network.drive)
        phases = np.empty_like(x)
        for population, table in enumerate(self.tables):
            members = self.populations == population
            phases[members] = table.phase_of(x[members])
        return phases

    def initial_state(self, values):
        """The network's `SparsePropState` at time 0 with the model states `values`."""
        return self.network.initial_state(phases=self.phases(values))

    def values(self, state, at=None):
        """The model's state variable (in `unit`, plain numbers) of every neuron in `state`."""
        network = self.network
        phases = network.phases(state, at)
        if self.kind == "lif":
            offset, span = self._lif
            normalised = network.model.phase_to_state(phases, network.drive)
            return offset[self.populations] + span[self.populations] * normalised
        if self.kind == "theta":
            theta_form, scale, shift = self._theta
            angle = network.model.phase_to_state(np.maximum(phases, -np.pi), network.drive)
            x = np.tan(0.5 * angle) / scale[self.populations] - shift[self.populations]
            return 2.0 * np.arctan(x) if theta_form else x
        x = np.empty_like(phases)
        for population, table in enumerate(self.tables):
            members = self.populations == population
            x[members] = table.v_of(phases[members])
        return x


def exact_network(
    model,
    connectivity,
    *,
    threshold=None,
    reset=None,
    refractory=None,
    on_pre=None,
    parameters=None,
    populations=None,
    weights=None,
    delay=None,
    namespace=None,
    v_min=None,
):
    """Build the exact (event-driven) network of a Brian2 neuron model on a graph.

    Parameters
    ----------
    model : NeuronModel or str
        A model of the library (its equations, threshold, reset, refractoriness,
        synapse code and default parameters are used), or Brian2 equations as a
        string (then `threshold` and `reset` are required).
    connectivity : Connectivity
        Square graph. Its weights are plain numbers in the SI unit of the state
        variable (volt for a voltage), as for `neurosrnn.models.recurrent_network`;
        or give `weights`.
    threshold, reset : str, optional
        Brian2 threshold condition and reset code (default: the model's).
    refractory : brian2 time, str or bool, optional
        Refractory period: a time, or an expression of the parameters evaluating to a
        time (default: the model's; none for strings).
    on_pre : str, optional
        Synaptic code (default: the model's ``coupling_on_pre``, or ``"v_post += w"``
        for strings, with ``v`` the state variable); it must add the weight to ``v``.
    parameters : dict, optional
        Parameter name -> value with units (scalars), for every population; with
        strings, also the values of external constants.
    populations : sequence of (int, dict), or (array of int, sequence of dict), optional
        Populations with their own parameter values (overriding `parameters`):
        consecutive blocks ``[(800, {"I": ...}), (200, {...})]`` in neuron order, or a
        population index per neuron with one dict per population.
    weights : brian2 quantity, float or array, optional
        Weight of every synapse (scalar or one per synapse in CSR order) in the units
        of the state variable; replaces the graph's weights.
    delay : brian2 time or array, optional
        Synaptic delay (one, or one per synapse in CSR order); None for none.
    namespace : dict, optional
        Values of external identifiers (constants with units), as in Brian2.
    v_min : brian2 quantity or float, optional
        Tabulated models: the lowest state the tables cover (inhibition below it is
        clamped and counted). Default: the reset minus the largest total inhibitory
        input weight of a neuron (at least a thousandth of the reset-threshold span).

    Returns
    -------
    SparsePropNetwork
        With ``network.mapping`` (an `ExactMapping`) to convert model states to
        engine states: ``network.mapping.initial_state(values)``.

    Raises
    ------
    ValueError
        The model is not eligible (each reason is listed: more than one differential
        equation, time-dependent input, a reset that is not ``v = constant``, a
        reset of another variable (adaptation), synapses that do not add their weight
        to ``v`` (conductance or current synapses), a threshold that is not
        ``v > constant``, per-neuron heterogeneous parameter values), a neuron without
        tonic firing, an unknown identifier, or bad graph, weight or population
        arguments; all before any table is computed.
    brian2.DimensionMismatchError
        A value whose units do not match.

    Notes
    -----
    Per-neuron heterogeneous parameter values are refused: the phase representation
    of a neuron is computed once per distinct parameter set (one table, or one set of
    closed-form coefficients, per population), so N different values would mean N
    tables. Group neurons with equal values into `populations`; for the closed-form
    LIF and theta neurons `SparsePropNetwork` itself takes one drive per neuron.

    Refractoriness follows the engine: a neuron is held at reset and pulses that
    arrive during its refractory period are ignored. A Brian2 model with
    ``(unless refractory)`` and ``v_post += w`` still adds those pulses to ``v``; its
    exact counterpart in Brian2 is ``v_post += w*int(not_refractory_post)``.

    Examples
    --------
    >>> from brian2 import mV, ms
    >>> from neurosrnn.connectivity import fixed_out_degree
    >>> graph = fixed_out_degree(50, 50, 5, seed=1, weights=-0.5e-3)  # -0.5 mV
    >>> net = exact_network(
    ...     "dv/dt = (v_inf - v)/tau : volt",
    ...     graph,
    ...     threshold="v > -50*mV",
    ...     reset="v = -60*mV",
    ...     parameters={"v_inf": -45 * mV, "tau": 20 * ms},
    ... )
    >>> net.mapping.kind
    'lif'
    >>> result = net.run(net.mapping.initial_state(-55 * mV), duration=0.1)
    """
    source = _source(model, threshold, reset, refractory, on_pre)
    structure = _analyse(source, namespace)
    graph = _checked_graph(connectivity)
    N = graph.N_pre
    index, population_values = _populations(populations, parameters, N, source)
    synapse_weights = _synapse_weights(graph, weights, structure.unit)
    first = _fit(structure, population_values[0], namespace)
    fits = [first] + [
        _fit(structure, values, namespace, unit=first.unit) for values in population_values[1:]
    ]
    # weights in the unit the engine sees the state in (e.g. mV)
    synapse_weights = synapse_weights / first.scale
    refractory_seconds = _refractory(structure, fits, index)
    kind = _kind(structure, fits)
    mapping_arguments = {
        "variable": structure.variable,
        "unit": first.unit,
        "populations": index,
        "v_reset": np.array([fit.reset for fit in fits]),
        "v_threshold": np.array([fit.threshold for fit in fits]),
        "refractory": refractory_seconds,
        "parameters": [fit.values for fit in fits],
    }
    extra = _engine_extras(delay, refractory_seconds)
    if kind == "lif":
        tau = fits[0].tau
        span = np.array([fit.threshold - fit.reset for fit in fits])
        drive = np.array([fit.drive for fit in fits])[index]
        # a pulse of w (model units) moves the normalised voltage of its target by w/span
        graph = graph.with_weights(synapse_weights / span[index[graph.indices]])
        network = SparsePropNetwork("lif", graph, drive=drive, tau=tau, **extra)
        mapping = ExactMapping(
            kind="lif", tables=None, _lif=(mapping_arguments["v_reset"], span), **mapping_arguments
        )
    elif kind == "theta":
        tau = 1.0 / fits[0].quadratic[0]
        scale = np.array([fit.quadratic[0] * tau for fit in fits])
        shift = np.array([fit.quadratic[1] / (2 * fit.quadratic[0]) for fit in fits])
        drive = np.array([_theta_drive(fit, tau, structure) for fit in fits])[index]
        graph = graph.with_weights(synapse_weights * scale[index[graph.indices]])
        network = SparsePropNetwork("theta", graph, drive=drive, tau=tau, **extra)
        mapping = ExactMapping(
            kind="theta",
            tables=None,
            _theta=(structure.theta_form, scale, shift),
            **mapping_arguments,
        )
    else:
        tables = _tables(structure, fits, graph, synapse_weights, index, v_min)
        graph = graph.with_weights(synapse_weights)
        network = SparsePropNetwork(
            tables if len(tables) > 1 else tables[0],
            graph,
            drive=None,
            tau=tables[0].period,
            populations=index if len(tables) > 1 else None,
            **extra,
        )
        mapping = ExactMapping(kind="tabulated", tables=tables, **mapping_arguments)
    mapping.network = network
    network.mapping = mapping
    return network


# --------------------------------------------------------------------------- source code


@dataclass(frozen=True)
class _Source:
    name: str
    equations: Equations
    threshold: str
    reset: str
    refractory: object
    on_pre: str
    weight_variable: str
    defaults: dict
    validators: tuple


def _source(model, threshold, reset, refractory, on_pre):
    """The model's code, from a `NeuronModel` or from strings."""
    from neurosrnn.models import NeuronModel  # the model library sits above this layer's core

    if isinstance(model, NeuronModel):
        return _Source(
            name=model.name,
            equations=model.equations,
            threshold=model.threshold if threshold is None else threshold,
            reset=model.reset if reset is None else reset,
            refractory=model.refractory if refractory is None else refractory,
            on_pre=model.coupling_on_pre if on_pre is None else on_pre,
            weight_variable=model.weight_variable,
            defaults=dict(model.parameters),
            validators=tuple(model.validators),
        )
    if isinstance(model, str | Equations):
        if threshold is None or reset is None:
            raise ValueError(
                "Brian2 equations given as a string need threshold= and reset= (e.g. "
                "threshold='v > v_th', reset='v = v_r')"
            )
        equations = model if isinstance(model, Equations) else Equations(model)
        variables = sorted(equations.diff_eq_names)
        default_on_pre = f"{variables[0]}_post += w" if len(variables) == 1 else "v_post += w"
        return _Source(
            name="equations",
            equations=equations,
            threshold=threshold,
            reset=reset,
            refractory=False if refractory is None else refractory,
            on_pre=default_on_pre if on_pre is None else on_pre,
            weight_variable="w",
            defaults={},
            validators=(),
        )
    raise ValueError(
        f"model must be a neurosrnn NeuronModel or Brian2 equations (a string), got "
        f"{type(model).__name__}"
    )


@dataclass
class _Structure:
    """The parsed, eligible model: one state variable and sympy expressions."""

    variable: str
    symbol: sympy.Symbol
    rate: sympy.Expr
    threshold: sympy.Expr
    reset: sympy.Expr | None  # None: the theta wrap (theta -= 2 pi)
    refractory: object
    unit: object
    theta_form: bool = False
    code: str = ""


def _analyse(source, namespace):
    """Check eligibility from the code alone; every reason found is reported at once."""
    equations = source.equations
    reasons = []
    ode_names = sorted(equations.diff_eq_names)
    match = _THRESHOLD.match(source.threshold) or _THRESHOLD_REVERSED.match(source.threshold)
    named = None if match is None else match.group(1 if match.re is _THRESHOLD else 3)
    # the state variable: the one the threshold compares, else the first ODE
    variable = named if named in ode_names else (ode_names[0] if ode_names else "v")
    if len(ode_names) != 1:
        reasons.append(
            f"it has {len(ode_names)} differential equations ({', '.join(ode_names)}); the "
            "exact engine needs exactly one state variable, dv/dt = f(v), whose free flow "
            "between pulses defines the phase (adaptation currents, synaptic currents or "
            "conductances with their own dynamics add dimensions)"
        )
    if equations.stochastic_variables:
        reasons.append(
            f"it has noise ({', '.join(sorted(equations.stochastic_variables))}); the "
            "free flow between pulses must be deterministic"
        )
    rate = None
    if ode_names:
        rate = _substituted_rate(equations, variable)
        reasons += _time_dependence(rate, equations, namespace)
        reasons += _non_constant_parameters(rate, equations, variable)
    threshold, threshold_reasons = _threshold(source.threshold, variable, equations)
    reasons += threshold_reasons
    reset, reset_reasons = _reset(source.reset, variable, equations)
    reasons += reset_reasons
    reasons += _synapse(source.on_pre, variable, source.weight_variable)
    if isinstance(source.refractory, str) and _is_condition(source.refractory):
        reasons.append(
            f"its refractoriness is a condition ({source.refractory!r}); the engine needs a "
            "refractory period (a time, or an expression evaluating to a time)"
        )
    if reasons:
        raise ValueError(
            f"Model {source.name!r} is not eligible for the exact engine:\n- "
            + "\n- ".join(reasons)
        )
    dimension = equations[variable].dim
    unit = None if dimension.is_dimensionless else equations[variable].unit
    theta_form = reset is None
    code = f"{equations!s}|threshold: {source.threshold}|reset: {source.reset}"
    return _Structure(
        variable=variable,
        symbol=sympy.Symbol(variable, real=True),
        rate=rate,
        threshold=threshold,
        reset=reset,
        refractory=source.refractory,
        unit=unit,
        theta_form=theta_form,
        code=code,
    )


def _sympy(code):
    expression = str_to_sympy(code)
    # one real symbol per name (Brian2's parser may attach assumptions)
    return expression.subs(
        {s: sympy.Symbol(s.name, real=True) for s in expression.free_symbols}, simultaneous=True
    )


def _substituted_rate(equations, variable):
    """dv/dt with every subexpression replaced by its definition (recursively)."""
    rate = _sympy(equations[variable].expr.code)
    definitions = {name: _sympy(equations[name].expr.code) for name in equations.subexpr_names}
    for _ in range(len(definitions) + 1):
        names = {s.name for s in rate.free_symbols} & set(definitions)
        if not names:
            break
        rate = rate.subs(
            {sympy.Symbol(name, real=True): definitions[name] for name in names},
            simultaneous=True,
        )
    return rate


def _time_dependence(rate, equations, namespace):
    """Reasons why dv/dt depends on time (t, random numbers, TimedArray or other functions)."""
    identifiers = set(get_identifiers(str(rate))) | {
        type(function).__name__ for function in rate.atoms(sympy.Function)
    }
    for name in equations.subexpr_names:
        identifiers |= set(get_identifiers(equations[name].expr.code))
    reasons = []
    time = sorted(identifiers & _TIME_IDENTIFIERS)
    if time:
        reasons.append(
            f"dv/dt depends on time explicitly ({', '.join(time)}); between pulses the "
            "flow must be autonomous (constant input) so that the phase advances uniformly"
        )
    random = sorted(identifiers & _RANDOM_FUNCTIONS)
    if random:
        reasons.append(f"dv/dt calls random or time-step functions ({', '.join(random)})")
    for name in sorted(identifiers):
        value = (namespace or {}).get(name)
        if isinstance(value, Function) and name not in DEFAULT_FUNCTIONS:
            reasons.append(
                f"dv/dt calls {name!r} ({type(value).__name__}), time-dependent input; the "
                "exact engine takes constant input only"
            )
    return reasons


def _non_constant_parameters(rate, equations, variable):
    names = sorted(
        s.name
        for s in rate.free_symbols
        if s.name in equations.parameter_names
        and "constant" not in equations[s.name].flags
        and s.name != variable
    )
    if not names:
        return []
    return [
        f"dv/dt uses parameters that are not declared '(constant)' ({', '.join(names)}); "
        "they may change during the run (e.g. a current or conductance set by synapses), "
        "which the free flow cannot know"
    ]


def _threshold(code, variable, equations):
    """(threshold value expression, reasons): only ``v > expr`` / ``v >= expr``."""
    code = code.strip()
    match = _THRESHOLD.match(code)
    if match and match.group(1) == variable:
        expression = match.group(3)
    else:
        match = _THRESHOLD_REVERSED.match(code)
        if match and match.group(3) == variable:
            expression = match.group(1)
        else:
            return None, [
                f"its threshold {code!r} is not '{variable} > constant' (or >=); the engine "
                f"fires when {variable} reaches one fixed value"
            ]
    threshold = _sympy(expression)
    states = _state_symbols(threshold, equations)
    if states:
        return None, [
            f"its threshold {code!r} depends on the state ({', '.join(states)}), an adaptive "
            "threshold; the engine needs a constant one"
        ]
    return threshold, []


def _statements(code):
    lines = [line.split("#")[0].strip() for part in code.split("\n") for line in part.split(";")]
    return [line for line in lines if line]


def _state_symbols(expression, equations):
    return sorted(
        s.name
        for s in expression.free_symbols
        if s.name in equations.diff_eq_names
        or (s.name in equations.parameter_names and "constant" not in equations[s.name].flags)
    )


def _reset(code, variable, equations):
    """(reset value or None for the theta wrap, reasons)."""
    reasons = []
    value = None
    wrap = False
    statements = _statements(code)
    if not statements:
        reasons.append(f"it has no reset; the engine needs '{variable} = constant'")
    for statement in statements:
        match = _STATEMENT.match(statement)
        if match is None:
            reasons.append(f"its reset statement {statement!r} is not understood")
            continue
        target, operator, expression = match.groups()
        if target != variable:
            reasons.append(
                f"its reset changes {target!r} ({statement!r}): a second quantity updated at "
                "each spike (adaptation); the engine's neuron is its phase alone"
            )
            continue
        if operator == "-=" and _is_theta_wrap(expression, variable):
            wrap = True
            continue
        if operator != "=":
            reasons.append(
                f"its reset {statement!r} is not constant: it moves {variable} relative to its "
                f"value at the spike; the engine needs '{variable} = constant' (the theta "
                f"neuron's '{variable} -= 2*pi' is accepted with threshold '{variable} > pi')"
            )
            continue
        parsed = _sympy(expression)
        states = _state_symbols(parsed, equations)
        if states:
            reasons.append(
                f"its reset {statement!r} depends on the state ({', '.join(states)}); the "
                "engine needs a constant reset value"
            )
            continue
        value = parsed
    if not reasons and value is None and not wrap:
        reasons.append(f"its reset never sets {variable}")
    return (None if wrap and value is None else value), reasons


def _is_theta_wrap(expression, variable):
    """``2*pi`` or ``2*pi*int(v > pi)``: the theta neuron's reset by one turn."""
    compact = re.sub(r"\s+", "", expression)
    turn = {"2*pi", "pi*2"}
    guarded = {f"{t}*int({variable}{o}pi)" for t in turn for o in (">", ">=")}
    return compact in turn | guarded


def _synapse(code, variable, weight_variable):
    """Reasons why the synaptic code is not a pulse ``v_post += w`` (or the theta kick)."""
    statements = _statements(code)
    post = f"{variable}_post"
    targets = set()
    for statement in statements:
        match = _STATEMENT.match(statement)
        if match:
            targets.add(match.group(1))
    if post not in targets:
        changed = ", ".join(sorted(targets)) or "nothing"
        return [
            f"its synapses ({code!r}) change {changed}, not {post}: a current or conductance "
            f"synapse; the engine needs pulses that add the weight to {variable} "
            f"('{post} += {weight_variable}')"
        ]
    if len(statements) == 1:
        target, operator, expression = _STATEMENT.match(statements[0]).groups()
        parsed = _sympy(expression)
        weight = sympy.Symbol(weight_variable, real=True)
        if operator == "+=" and parsed == weight:
            return []
        if operator == "=" and _is_theta_kick(parsed, post, weight):
            return []
        if operator == "+=" and {s.name for s in parsed.free_symbols} - {weight_variable}:
            return [
                f"its synaptic jump {statements[0]!r} depends on {post} or other variables "
                "(a conductance synapse: the weight multiplies a driving force such as "
                f"(E - {variable})); the engine needs '{post} += {weight_variable}'"
            ]
    from neurosrnn.models.theta import THETA_ON_PRE_INTERPOLATED

    if _statements(THETA_ON_PRE_INTERPOLATED) == statements and variable == "theta":
        return []  # the same kick, timed between grid points in Brian2
    return [
        f"its synaptic code {code!r} is not '{post} += {weight_variable}' (nor the theta "
        f"neuron's kick '{post} = 2*arctan(tan({post}/2) + {weight_variable})')"
    ]


def _is_theta_kick(parsed, post, weight):
    symbol = sympy.Symbol(post, real=True)
    kick = 2 * sympy.atan(sympy.tan(symbol / 2) + weight)
    return sympy.simplify(parsed - kick) == 0


def _is_condition(code):
    try:
        parsed = _sympy(code)
    except Exception:  # noqa: BLE001 - not parseable as an expression: not a condition
        return False
    return isinstance(
        parsed,
        sympy.core.relational.Relational
        | sympy.logic.boolalg.BooleanFunction
        | sympy.logic.boolalg.BooleanAtom,
    )


# --------------------------------------------------------------------------- values


def _checked_graph(connectivity):
    if isinstance(connectivity, RegeneratedConnectivity):
        connectivity = connectivity.materialize()
    if not isinstance(connectivity, Connectivity):
        raise ValueError(
            "connectivity must be a neurosrnn.connectivity.Connectivity, got "
            f"{type(connectivity).__name__}"
        )
    if connectivity.N_pre != connectivity.N_post:
        raise ValueError(
            f"connectivity must be square (one network), got {connectivity.N_pre} -> "
            f"{connectivity.N_post}"
        )
    return connectivity


def _populations(populations, parameters, N, source):
    """(population index per neuron, list of per-population value dicts)."""
    base = dict(parameters or {})
    if populations is None:
        index = np.zeros(N, dtype=np.int64)
        groups = [base]
    elif (
        isinstance(populations, tuple)
        and len(populations) == 2
        and not np.isscalar(populations[0])
        and np.ndim(populations[0]) == 1
        and len(np.asarray(populations[0])) == N
    ):
        index = np.asarray(populations[0])
        dicts = list(populations[1])
        if index.dtype.kind not in "iu" or np.any((index < 0) | (index >= len(dicts))):
            raise ValueError(
                f"populations index must be integers in [0, {len(dicts)}) (one dict per population)"
            )
        index = index.astype(np.int64)
        groups = [{**base, **dict(values)} for values in dicts]
    else:
        entries = list(populations)
        try:
            sizes = [int(size) for size, _ in entries]
        except (TypeError, ValueError):
            raise ValueError(
                "populations must be a list of (size, parameter dict) pairs, or "
                "(index per neuron, list of parameter dicts)"
            ) from None
        if any(size <= 0 for size in sizes) or sum(sizes) != N:
            raise ValueError(f"population sizes {sizes} must be positive and add up to N = {N}")
        index = np.repeat(np.arange(len(sizes)), sizes)
        groups = [{**base, **dict(values)} for _, values in entries]
    return index, [_population_values(group, source, k) for k, group in enumerate(groups)]


def _population_values(values, source, population):
    """One population's parameter values: defaults, overrides, scalars only, checked."""
    merged = {**source.defaults, **values}
    for name, value in merged.items():
        if np.ndim(value) != 0:
            raise ValueError(
                f"parameter {name!r} of population {population} has {np.size(value)} values "
                "(one per neuron); heterogeneous per-neuron values are not eligible: the "
                "phase map is computed once per population (one table or closed form each), "
                "so give neurons with equal values as one of populations=[(size, {...}), ...]"
            )
        if name in source.defaults and get_dimensions(value) != get_dimensions(
            source.defaults[name]
        ):
            raise DimensionMismatchError(
                f"parameter {name!r} must have the units of {source.defaults[name]!r}",
                get_dimensions(value),
                get_dimensions(source.defaults[name]),
            )
    for validator in source.validators:
        validator(source.name, merged)
    return merged


def _synapse_weights(graph, weights, unit):
    """Per-synapse weights as plain numbers in the SI unit of the state variable."""
    if weights is None:
        if graph.weights is None:
            raise ValueError(
                "give synaptic weights: a weighted connectivity or weights= (a scalar or one "
                "value per synapse, in the units of the state variable)"
            )
        return np.asarray(graph.weights, dtype=float)
    dimension = get_dimensions(unit) if unit is not None else get_dimensions(1)
    if get_dimensions(weights) != dimension:
        raise DimensionMismatchError(
            f"weights must have the units of the state variable ({unit or 1})",
            get_dimensions(weights),
            dimension,
        )
    array = np.asarray(weights, dtype=float)
    if array.ndim == 0:
        array = np.full(graph.n_synapses, float(array))
    if array.shape != (graph.n_synapses,):
        raise ValueError(
            f"weights must be a scalar or one value per synapse ({graph.n_synapses}), got "
            f"shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("weights must be finite")
    return array


@dataclass
class _Fit:
    """One population, numbers substituted: the rate f(x) with x = v / scale."""

    values: dict
    unit: object  # brian2 unit of x, None if dimensionless
    scale: float  # SI value of that unit
    rate: sympy.Expr  # in 1/second, of the symbol x (v in the chosen unit)
    threshold: float
    reset: float
    refractory: float
    kind: str = "tabulated"
    tau: float = 0.0
    drive: float = 0.0
    quadratic: tuple = ()  # (a, b, c) of dV/dt = a V^2 + b V + c


def _si(value):
    return float(np.asarray(value, dtype=float))


def _fit(structure, values, namespace, unit=None):
    """Substitute one population's values (SI), choose the unit, classify the rate.

    The state is expressed in `unit` if given (that of the first population), otherwise
    in the unit of `_convenient_unit`.
    """
    lookup = {name: _si(value) for name, value in (namespace or {}).items() if _numeric(value)}
    lookup.update({name: _si(value) for name, value in values.items()})

    def substitute(expression, what):
        missing = sorted(
            s.name
            for s in expression.free_symbols
            if s.name not in lookup and s.name not in DEFAULT_UNITS and s.name != structure.variable
        )
        if missing:
            raise ValueError(
                f"unknown identifier(s) {missing} in the {what}: give their values in "
                "parameters= (or namespace=)"
            )
        table = {
            s: (lookup[s.name] if s.name in lookup else _si(DEFAULT_UNITS[s.name]))
            for s in expression.free_symbols
            if s.name != structure.variable
        }
        return expression.subs(table, simultaneous=True)

    rate_si = substitute(structure.rate, f"equation of {structure.variable}")
    threshold_si = float(substitute(structure.threshold, "threshold"))
    reset_si = -np.pi if structure.reset is None else float(substitute(structure.reset, "reset"))
    refractory = 0.0
    if isinstance(structure.refractory, str):
        refractory = float(substitute(_sympy(structure.refractory), "refractory period"))
    elif structure.refractory is not False and structure.refractory is not None:
        refractory = to_seconds(structure.refractory, "refractory", nonnegative=True)
    if unit is None:
        unit = _convenient_unit(structure, threshold_si, reset_si)
    scale = 1.0 if unit is None else float(np.asarray(unit, dtype=float))
    x = sympy.Symbol("x", real=True)
    rate = sympy.expand(rate_si.subs(structure.symbol, scale * x) / scale)
    fit = _Fit(
        values={name: _si(value) for name, value in values.items()},
        unit=unit,
        scale=scale,
        rate=rate,
        threshold=threshold_si / scale,
        reset=reset_si / scale,
        refractory=refractory,
    )
    _classify(fit, structure, x)
    return fit


def _numeric(value):
    return isinstance(value, int | float | np.number | Quantity) and np.ndim(value) == 0


def _convenient_unit(structure, threshold_si, reset_si):
    """The unit the engine sees v in: None when dimensionless, else e.g. mV for a voltage.

    The unit Brian2 would display the reset-threshold span in (``get_best_unit``).
    """
    if structure.unit is None:
        return None
    span = threshold_si - reset_si if np.isfinite(threshold_si - reset_si) else abs(reset_si)
    if not np.isfinite(span) or span == 0:
        return structure.unit
    return Quantity(abs(span), dim=get_dimensions(structure.unit)).get_best_unit()


def _classify(fit, structure, x):
    """Set ``fit.kind`` to "lif", "theta" or "tabulated" (with the closed-form numbers)."""
    rate = fit.rate
    if rate.is_polynomial(x):
        poly = sympy.Poly(rate, x)
        coefficients = [float(c) for c in reversed(poly.all_coeffs())]  # c0, c1, c2, ...
        degree = poly.degree()
        if degree == 1 and coefficients[1] < 0 and not structure.theta_form:
            slope, constant = coefficients[1], coefficients[0]
            fit.kind = "lif"
            fit.tau = -1.0 / slope
            v_inf = -constant / slope
            fit.drive = (v_inf - fit.threshold) / (fit.threshold - fit.reset)
            if not fit.drive > 0:
                raise ValueError(
                    f"no tonic firing: the LIF relaxes to v = {v_inf:g} (in {_unit_name(fit)}), "
                    f"not above its threshold {fit.threshold:g}; a neuron that never fires "
                    "on its own has no phase representation (raise the drive)"
                )
            return
        if (
            degree == 2
            and coefficients[2] > 0
            and fit.threshold == np.inf
            and fit.reset == -np.inf
            and not structure.theta_form
        ):
            fit.kind = "theta"
            fit.quadratic = (coefficients[2], coefficients[1], coefficients[0])
            return
    if structure.theta_form or abs(fit.threshold - np.pi) < 1e-12:
        quadratic = _theta_coefficients(rate, x)
        if quadratic is not None and abs(fit.threshold - np.pi) < 1e-12:
            if structure.theta_form or abs(fit.reset + np.pi) < 1e-12:
                if quadratic[0] > 0:
                    fit.kind = "theta"
                    fit.quadratic = quadratic
                    return
    if structure.theta_form:
        raise ValueError(
            f"the reset {structure.variable} -= 2*pi (one turn) needs the theta neuron: "
            f"threshold {structure.variable} > pi and d{structure.variable}/dt = A + "
            f"B cos({structure.variable}) + C sin({structure.variable}) with A > B"
        )
    if not (np.isfinite(fit.threshold) and np.isfinite(fit.reset)):
        raise ValueError(
            "a threshold or reset at infinity needs the quadratic (QIF) closed form "
            "dv/dt = a v^2 + b v + c with a > 0; this equation is not of that form"
        )


def _theta_coefficients(rate, x):
    """(a, b, c) of dV/dt = aV^2 + bV + c if ``rate = A + B cos x + C sin x``, else None.

    With :math:`V = \\tan(x/2)`: :math:`a = (A - B)/2 = f(\\pi)/2`, :math:`b = C`,
    :math:`c = (A + B)/2 = f(0)/2`; the form is checked at 13 points.
    """
    try:
        function = sympy.lambdify(x, rate, "numpy")
        samples = np.linspace(-3.0, 3.0, 13)
        values = np.asarray(function(samples), dtype=float) * np.ones_like(samples)
        at_zero, at_pi, at_half = (float(function(point)) for point in (0.0, np.pi, np.pi / 2))
    except (TypeError, ValueError, NameError, ZeroDivisionError):
        return None
    A, B = (at_zero + at_pi) / 2.0, (at_zero - at_pi) / 2.0
    C = at_half - A
    fitted = A + B * np.cos(samples) + C * np.sin(samples)
    if not np.allclose(fitted, values, rtol=1e-10, atol=1e-10 * np.abs(values).max()):
        return None
    return at_pi / 2.0, C, at_zero / 2.0


def _theta_drive(fit, tau, structure):
    a, b, c = fit.quadratic
    drive = a * tau**2 * (c - b * b / (4.0 * a))
    if not drive > 0:
        where = f"{structure.variable} = {-b / (2 * a):g}"
        raise ValueError(
            f"no tonic firing: dV/dt = aV^2 + bV + c has a fixed point (excitable regime, "
            f"c - b^2/4a = {c - b * b / (4 * a):g} <= 0, near {where}); a neuron that never "
            "fires on its own has no phase representation (raise the drive)"
        )
    return drive


def _unit_name(fit):
    return "dimensionless units" if fit.unit is None else str(fit.unit)


def _kind(structure, fits):
    kinds = {fit.kind for fit in fits}
    if kinds == {"lif"}:
        taus = np.array([fit.tau for fit in fits])
        if np.all(np.abs(taus - taus[0]) <= _SAME * taus[0]):
            return "lif"
        return "tabulated"  # the closed form has one tau
    if kinds == {"theta"}:
        return "theta"
    if "theta" in kinds:
        raise ValueError(
            "the populations mix the theta (QIF) closed form with other equations; the "
            "engine runs one closed form, or phase tables for all (give the QIF a finite "
            "threshold and reset to tabulate it)"
        )
    return "tabulated"


def _refractory(structure, fits, index):
    periods = np.array([fit.refractory for fit in fits])
    if np.any(~np.isfinite(periods)) or np.any(periods < 0):
        raise ValueError(f"refractory periods must be finite times >= 0, got {periods} s")
    if np.all(periods == 0):
        return None
    return periods[index]


def _engine_extras(delay, refractory_seconds):
    """Keyword arguments for delays and refractoriness (if the engine takes them)."""
    accepted = inspect.signature(SparsePropNetwork).parameters
    extras = {}
    if delay is not None:
        if "delay" not in accepted:
            raise ValueError("synaptic delays need an engine with delays (not in this version)")
        extras["delay"] = delay
    if refractory_seconds is not None:
        if "refractory" not in accepted:
            raise ValueError(
                "refractoriness needs an engine with refractory periods (not in this "
                "version); set the refractory period to 0"
            )
        extras["refractory"] = refractory_seconds
    return extras


# --------------------------------------------------------------------------- tables


def _lambdified(rate, x):
    """A vectorised numpy function of the rate (Brian2's own function implementations)."""
    modules = [{name: f.pyfunc for name, f in DEFAULT_FUNCTIONS.items() if f.pyfunc}, "numpy"]
    modules[0]["int_"] = lambda value: np.asarray(value).astype(np.int64)
    function = sympy.lambdify(x, rate, modules)

    def rate_function(values):
        values = np.asarray(values, dtype=float)
        # an exponential past the numerical blow-up overflows to +inf (1/f = 0 there)
        with np.errstate(over="ignore"):
            return np.asarray(function(values), dtype=float) * np.ones_like(values)

    return rate_function


def _tables(structure, fits, graph, synapse_weights, index, v_min):
    """One `PhaseTable` per population (cached by the equations and values)."""
    try:
        from neurosrnn.sparseprop.phase_tables import tabulate
    except ImportError:
        raise ValueError(
            "this model needs numerical phase tables (neurosrnn.sparseprop.phase_tables), "
            "which this version does not have; only the LIF and theta closed forms are "
            "available"
        ) from None
    accepted = inspect.signature(SparsePropNetwork).parameters
    if len(fits) > 1 and "populations" not in accepted:
        raise ValueError("several tabulated populations need an engine with populations=")
    x = sympy.Symbol("x", real=True)
    scale = fits[0].scale
    weights = synapse_weights
    # total inhibitory input a neuron can receive at one instant, per population
    inhibition = np.zeros(graph.N_post)
    np.add.at(inhibition, graph.indices, np.minimum(weights, 0.0))
    tables = []
    for population, fit in enumerate(fits):
        span = fit.threshold - fit.reset
        if v_min is None:
            members = index == population
            depth = max(-inhibition[members].min(initial=0.0), 1e-3 * span)
            low = fit.reset - depth
        else:
            low = _plain_state(v_min, structure, scale)
        values = ", ".join(f"{name}={value!r}" for name, value in sorted(fit.values.items()))
        key = f"{structure.code}|{values}|unit={scale!r}|v_min={low!r}"
        tables.append(
            tabulate(
                _lambdified(fit.rate, x),
                v_reset=fit.reset,
                v_threshold=fit.threshold,
                v_min=low,
                name=f"{structure.variable} population {population}",
                key=key,
            )
        )
    return tables


def _plain_state(value, structure, scale):
    if structure.unit is None:
        return float(np.asarray(value, dtype=float))
    if get_dimensions(value) != get_dimensions(structure.unit):
        raise DimensionMismatchError(
            f"v_min must have the units of {structure.variable} ({structure.unit})",
            get_dimensions(value),
            get_dimensions(structure.unit),
        )
    return float(np.asarray(value, dtype=float)) / scale
