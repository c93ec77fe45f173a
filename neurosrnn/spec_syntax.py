"""One syntax for values on the command line and in spec files: quantities and samplers.

The ``neurosrnn`` command line (``--set NAME=VALUE``, ``--spec FILE``) and the sweep
files (`neurosrnn.sweep.spec`) read values with the functions of this module, so a
value is written the same way everywhere.

Values
------
- a number: ``0.5``, ``6`` (dimensionless);
- a quantity: a number and a Brian2 unit expression, with or without a space or
  ``*``: ``20ms``, ``"20 ms"``, ``25*mV``, ``"1e-3 second"``, ``"2 mV/ms"``
  (units: every name of Brian2's unit namespace plus the SI symbols ``s``, ``sec``,
  ``m``, ``V``, ``A``, ``kg``, ``g``);
- a sampler call (per-neuron values drawn from the network's seed), arguments are
  values as above, positional or by keyword:

  ==========================================  =========================================
  ``gamma(mean, shape)``                      `gamma_timescales` (CV ``1/sqrt(shape)``)
  ``lognormal(median, sigma)``                `lognormal_timescales`
  ``uniform(low, high)``                      `uniform_values` (any unit and sign)
  ``normal(mean, std[, minimum, maximum])``   `normal_values`, truncated when bounded
  ``truncated_normal(mean, std, minimum)``    `truncated_normal_timescales` (times > 0)
  ``constant(value)``                         the value itself, for every neuron
  ==========================================  =========================================

  e.g. ``tau_m=gamma(10ms, 4)``, ``v=uniform(-70mV, -50mV)``,
  ``tau_adp=lognormal(median=200ms, sigma=0.5)``.

Nothing is evaluated as Python: quantities are read with a regular expression and a
walk over a unit-only syntax tree, sampler calls with a small splitter, and names map
to the samplers of `neurosrnn.models.timescale_samplers` through a fixed table.

Network tables
--------------
`parse_network_table` reads the keys that a network spec file (``neurosrnn run
--spec``) and a sweep file's ``[network]`` section share: ``model``, ``N_excitatory``,
``N_inhibitory``, ``K``, ``J0``, ``g``, ``duration``, ``dt`` and the
``[network.parameters]`` / ``[network.initial_values]`` tables (values or samplers).
"""

from __future__ import annotations

import ast
import math
import operator
import re

__all__ = [
    "SAMPLER_NAMES",
    "parse_quantity",
    "parse_value",
    "parse_sampler",
    "parse_network_table",
    "check_keys",
    "required_key",
    "integer_key",
]

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
_KEYWORD = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(.*)$", re.DOTALL)
_OPERATORS = {ast.Mult: operator.mul, ast.Div: operator.truediv}

#: Sampler name -> its argument names, in positional order (see the module docstring).
SAMPLER_NAMES = {
    "gamma": ("mean", "shape"),
    "lognormal": ("median", "sigma"),
    "uniform": ("low", "high"),
    "normal": ("mean", "std", "minimum", "maximum"),
    "truncated_normal": ("mean", "std", "minimum"),
    "constant": ("value",),
}
_EXAMPLES = "e.g. gamma(10ms, 4), uniform(-70mV, -50mV), lognormal(200ms, 0.5), normal(0mV, 2mV)"


def _evaluate_unit(node, units, text):
    if isinstance(node, ast.Name):
        if node.id not in units:
            raise ValueError(f"unknown unit {node.id!r} in {text!r} (e.g. ms, second, mV, nA, Hz)")
        return units[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _evaluate_unit(node.left, units, text)
        right = _evaluate_unit(node.right, units, text)
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        if isinstance(node.right, ast.Constant) and isinstance(node.right.value, int):
            return _evaluate_unit(node.left, units, text) ** node.right.value
    raise ValueError(f"cannot read the unit of {text!r}: use e.g. 'mV', 'ms', 'mV/ms', 'Hz'")


def _unit_namespace():
    import brian2
    from brian2.core.namespace import DEFAULT_UNITS

    # SI symbols Brian2 leaves out of its namespace (they clash with variable names)
    return dict(DEFAULT_UNITS, s=brian2.second, sec=brian2.second, m=brian2.metre,
                V=brian2.volt, A=brian2.amp, kg=brian2.kilogram, g=brian2.gram)  # fmt: skip


def parse_quantity(value, name="value"):
    """Read ``"10 ms"``-style strings as Brian2 quantities; numbers stay floats.

    Parameters
    ----------
    value : str, int or float
        ``"<number> <unit expression>"`` (a space or ``*`` between them is optional;
        units: any Brian2 unit name, combined with ``*``, ``/`` and integer ``**``),
        or a plain number (dimensionless).
    name : str
        Name used in error messages.

    Returns
    -------
    brian2.Quantity or float

    Raises
    ------
    ValueError
        Not a finite number optionally followed by a unit expression; the message
        names `name` and the text.

    Examples
    --------
    >>> parse_quantity("20ms")
    20. * msecond
    >>> parse_quantity("25*mV")
    25. * mvolt
    >>> parse_quantity("2 mV/ms")
    2. * mvolt / msecond
    >>> parse_quantity(0.5)
    0.5
    """
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number or a quantity string, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a number or a string like '10 ms', got {value!r}")
    match = _NUMBER.match(value)
    if match is None:
        raise ValueError(
            f"{name}: cannot read {value!r} as a value: write a number with an optional "
            "unit, e.g. 20ms, '10 ms', 25*mV, 0.5"
        )
    number = float(match.group(1))
    unit_text = match.group(2)
    if unit_text.startswith("*"):
        unit_text = unit_text[1:].strip()
    if not unit_text:
        return number
    try:
        tree = ast.parse(unit_text, mode="eval")
    except SyntaxError:
        raise ValueError(f"{name}: cannot read the unit of {value!r}") from None
    try:
        unit = _evaluate_unit(tree.body, _unit_namespace(), value)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    return number * unit


def _split_arguments(text):
    """Split a call's argument text at the commas outside parentheses."""
    parts, depth, current = [], 0, []
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    if len(parts) == 1 and not parts[0].strip():
        return []
    return parts


def _sampler_factory(kind):
    from neurosrnn.models import timescale_samplers as samplers

    return {
        "gamma": samplers.gamma_timescales,
        "lognormal": samplers.lognormal_timescales,
        "uniform": samplers.uniform_values,
        "normal": samplers.normal_values,
        "truncated_normal": samplers.truncated_normal_timescales,
        "constant": lambda value: value,
    }[kind]


def parse_sampler(text, name="value"):
    """Read a sampler call such as ``"gamma(10ms, 4)"``; None if `text` is no call.

    Parameters
    ----------
    text : str
        ``kind(argument, ..., keyword=argument)`` with `kind` a key of `SAMPLER_NAMES`
        and every argument a value read by `parse_quantity`.
    name : str
        The parameter being set, named in every error message.

    Returns
    -------
    TimescaleSampler, brian2.Quantity, float or None
        The sampler (``constant(...)`` gives its value); None when `text` is not of the
        form ``kind(...)``.

    Raises
    ------
    ValueError
        Unknown sampler, wrong arguments, unreadable values or values the sampler
        refuses (``brian2.DimensionMismatchError`` for arguments with wrong units).

    Examples
    --------
    >>> parse_sampler("gamma(10ms, 4)", "tau_m")
    <TimescaleSampler gamma(mean=10. * msecond, shape=4.0)>
    >>> parse_sampler("uniform(low=-70 mV, high=-50 mV)", "v")
    <TimescaleSampler uniform(low=-70. * mvolt, high=-50. * mvolt)>
    >>> parse_sampler("20 mV", "v") is None
    True
    """
    from brian2.units.fundamentalunits import DimensionMismatchError

    match = _CALL.match(text)
    if match is None:
        return None
    kind, argument_text = match.group(1), match.group(2)
    if kind not in SAMPLER_NAMES:
        raise ValueError(
            f"{name}: unknown sampler {kind!r} in {text!r}; allowed: "
            f"{', '.join(sorted(SAMPLER_NAMES))} ({_EXAMPLES})"
        )
    allowed = SAMPLER_NAMES[kind]
    signature = f"{kind}({', '.join(allowed)})"
    arguments, seen_keyword = {}, False
    for position, part in enumerate(_split_arguments(argument_text)):
        keyword = _KEYWORD.match(part)
        if keyword is not None:
            key, raw = keyword.group(1), keyword.group(2)
            seen_keyword = True
            if key not in allowed:
                raise ValueError(f"{name}: {kind}() has no argument {key!r}; write {signature}")
        elif seen_keyword:
            raise ValueError(f"{name}: positional argument after a keyword in {text!r}")
        elif position >= len(allowed):
            raise ValueError(f"{name}: too many arguments in {text!r}; write {signature}")
        else:
            key, raw = allowed[position], part
        if key in arguments:
            raise ValueError(f"{name}: {kind}() got {key!r} twice in {text!r}")
        arguments[key] = parse_quantity(raw.strip(), f"{name}: {kind}() argument {key}")
    try:
        return _sampler_factory(kind)(**arguments)
    except TypeError:
        raise ValueError(f"{name}: wrong arguments in {text!r}; write {signature}") from None
    except DimensionMismatchError as error:
        raise DimensionMismatchError(f"{name}: {text!r}: {error.desc}", *error.dims) from None
    except ValueError as error:
        raise ValueError(f"{name}: {text!r}: {error}") from None


def parse_value(value, name="value"):
    """A number, a quantity or a sampler call (see the module docstring).

    Parameters
    ----------
    value : str, int or float
    name : str
        The parameter being set, named in every error message.

    Returns
    -------
    TimescaleSampler, brian2.Quantity or float

    Examples
    --------
    >>> parse_value("20 mV", "I_ext")
    20. * mvolt
    >>> parse_value("lognormal(200ms, 0.5)", "tau_adp")
    <TimescaleSampler lognormal(median=200. * msecond, sigma=0.5)>
    """
    if isinstance(value, str):
        sampler = parse_sampler(value, name)
        if sampler is not None:
            return sampler
        if "(" in value:
            raise ValueError(
                f"{name}: cannot read {value!r}; a sampler is written kind(arguments), {_EXAMPLES}"
            )
    return parse_quantity(value, name)


def check_keys(table, allowed, where):
    """Raise `ValueError` naming the keys of `table` outside `allowed` (section `where`)."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in [{where}]; allowed: {sorted(allowed)}")


def required_key(table, key, where):
    """``table[key]``, or a `ValueError` saying that section `where` needs it."""
    if key not in table:
        raise ValueError(f"[{where}] needs {key!r}")
    return table[key]


def integer_key(table, key, where, default=None, minimum=1):
    """``table[key]`` (or `default`) checked to be an integer >= `minimum`."""
    value = table.get(key, default)
    if value is None:
        raise ValueError(f"[{where}] needs {key!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"[{where}] {key} must be an integer >= {minimum}, got {value!r}")
    return value


def _value_table(table, where, values_only):
    if not isinstance(table, dict):
        raise ValueError(f"[{where}] must be a table of NAME = VALUE entries")
    parse = parse_quantity if values_only else parse_value
    return {name: parse(value, f"[{where}] {name}") for name, value in table.items()}


def parse_network_table(table, where="network", *, samplers=True):
    """Read the keys a network spec file and a sweep's ``[network]`` section share.

    Only the keys present are read; the caller checks which keys it allows
    (`check_keys`) and supplies its defaults.

    Parameters
    ----------
    table : dict
        The TOML table.
    where : str
        Section name for error messages.
    samplers : bool
        Allow sampler calls in ``parameters`` (and ``initial_values``); False reads
        plain values only.

    Returns
    -------
    dict
        ``model`` (str), ``N_excitatory``, ``N_inhibitory``, ``K`` (int), ``J0``, ``g``,
        ``duration``, ``dt`` (quantities or floats), ``parameters`` and
        ``initial_values`` (name -> value or sampler), for the keys present.

    Examples
    --------
    >>> parse_network_table({"model": "mat", "K": 100, "J0": "20 mV",
    ...                      "parameters": {"tau_m": "gamma(10 ms, 4)"}})["parameters"]
    {'tau_m': <TimescaleSampler gamma(mean=10. * msecond, shape=4.0)>}
    """
    parsed = {}
    if "model" in table:
        model = table["model"]
        if not isinstance(model, str) or not model:
            raise ValueError(f"[{where}] needs model = '<name>' (e.g. 'mat')")
        parsed["model"] = model
    for key, minimum in (("N_excitatory", 1), ("N_inhibitory", 0), ("K", 1)):
        if key in table:
            parsed[key] = integer_key(table, key, where, minimum=minimum)
    for key in ("J0", "g", "duration", "dt"):
        if key in table:
            parsed[key] = parse_quantity(table[key], f"[{where}] {key}")
    for key in ("parameters", "initial_values"):
        if key in table:
            parsed[key] = _value_table(table[key], f"{where}.{key}", values_only=not samplers)
    return parsed
