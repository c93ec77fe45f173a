"""Generated parts of the documentation site, written at build time by ``conf.py``.

Three generators, each writing only into folders that git ignores (see
``docs/.gitignore``) and rewriting a file only when its content changes, so that an
unchanged rebuild re-reads nothing:

- `generate_api`: one reStructuredText page per public module under ``api/generated/``.
  Every public object is documented once, on the page of the highest public module
  that exports it (``neurosrnn.analysis.cv``, not ``neurosrnn.analysis.statistics.cv``);
  the pages of the other modules that export it link there.
- `generate_gallery`: one MyST page per model of `neurosrnn.models.MODEL_LIBRARY` under
  ``gallery/``, with its equations, parameter table, references and a figure (a
  voltage trace and an f-I curve simulated with Brian2's runtime numpy target). A
  figure is recomputed only when the model or this script changes.
- `link_tutorials`: ``tutorials/`` holds symbolic links to the notebooks of the
  repository's ``tutorials/`` folder (copies where links are not possible), rendered
  by myst-nb without execution.

Run ``python docs/_generate.py`` to write everything without building the site.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import os
import pkgutil
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

#: The modules of the API reference, in the order of its table of contents. Public
#: submodules of these packages get their own pages too.
API_MODULES = (
    "neurosrnn",
    "neurosrnn.models",
    "neurosrnn.analysis",
    "neurosrnn.sparseprop",
    "neurosrnn.learning",
    "neurosrnn.sweep",
    "neurosrnn.devices",
    "neurosrnn.connectivity",
    "neurosrnn.coding",
    "neurosrnn.results",
    "neurosrnn.perturbation",
    "neurosrnn.validation",
    "neurosrnn.units",
    "neurosrnn.progress",
    "neurosrnn.atomic",
)

#: Submodules never given a page (entry points, command-line modules of other owners).
_SKIPPED_SUBMODULES = ("__main__",)


def _write_if_changed(path, text):
    """Write `text` to `path` unless the file already holds exactly that."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    from neurosrnn.atomic import atomic_write

    with atomic_write(path, "w") as stream:
        stream.write(text)
    return True


def _remove_stale(folder, keep, suffixes):
    """Remove files of `folder` with one of `suffixes` whose names are not in `keep`."""
    for path in Path(folder).iterdir():
        if path.suffix in suffixes and path.name not in keep:
            path.unlink()


# --------------------------------------------------------------------------------- API pages


def _module_docstring_without_import(name):
    """Docstring of module `name`, read from its source (the module is not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return ""
    return ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""


def _is_deprecated_shim(name):
    """True for the old module paths kept as warning re-exports ("Deprecated: ...")."""
    return _module_docstring_without_import(name).lstrip().lower().startswith("deprecated")


def _public_submodules(module):
    """Names of the public submodules of package `module` (none for a plain module)."""
    if not hasattr(module, "__path__"):
        return []
    names = []
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.startswith("_") or info.name in _SKIPPED_SUBMODULES:
            continue
        names.append(f"{module.__name__}.{info.name}")
    return sorted(names)


def _collect_modules():
    """Documented module names (pages) and deprecated shims, walking `API_MODULES`."""
    documented, deprecated = [], []
    pending = list(API_MODULES)
    while pending:
        name = pending.pop(0)
        if name in documented or name in deprecated:
            continue
        if _is_deprecated_shim(name):
            deprecated.append(name)
            continue
        documented.append(name)
        if name != "neurosrnn":  # the top level's submodules are the entries above
            module = importlib.import_module(name)
            pending.extend(_public_submodules(module))
    return documented, deprecated


def _exported_names(module):
    """Public names of `module`: its ``__all__``, else what it defines itself."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [name for name in names if not name.startswith("_")]
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    ]


def _identity(name, value):
    """Key telling whether two modules export the same object under the same name."""
    if isinstance(value, int | float | str | bytes | bool | type(None)):
        return (name, type(value).__name__, repr(value))
    return (name, id(value))


def _kind(value):
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if inspect.ismodule(value):
        return "module"
    if callable(value) and (inspect.isroutine(value) or hasattr(value, "__wrapped__")):
        return "function"
    return "data"


def _defines(module, name, value):
    """Whether `module` defines `name` itself (rather than importing it)."""
    if inspect.isclass(value) or inspect.isfunction(value):
        return value.__module__ == module.__name__
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return False
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return True
    return False


def _api_inventory(documented):
    """``{module: [(name, kind, owner)]}``: every exported name and its documenting page."""
    exports = {}
    owners = {}
    for module_name in documented:
        if module_name == "neurosrnn":
            continue
        module = importlib.import_module(module_name)
        entries = []
        for name in _exported_names(module):
            value = getattr(module, name)
            kind = _kind(value)
            if kind == "module":
                continue
            key = _identity(name, value)
            rank = (module_name.count("."), not _defines(module, name, value), module_name)
            if key not in owners or rank < owners[key][0]:
                owners[key] = (rank, module_name)
            entries.append((name, kind, key))
        exports[module_name] = entries
    return {
        module_name: [(name, kind, owners[key][1]) for name, kind, key in entries]
        for module_name, entries in exports.items()
    }


def _heading(text, character):
    return f"{text}\n{character * len(text)}\n"


def _top_level_entries(owners_by_object):
    """Lazily exported names of ``neurosrnn`` with the page documenting each."""
    import neurosrnn

    entries = []
    for name in neurosrnn.__all__:
        if name.startswith("_") or name in neurosrnn._SUBMODULES:
            continue
        owner = owners_by_object.get(name)
        if owner is not None:
            entries.append(f"{owner}.{name}")
    return entries


def _relative(target, module_name):
    """`target` relative to `module_name` when inside it (autosummary wants that)."""
    prefix = module_name + "."
    return target[len(prefix) :] if target.startswith(prefix) else target


def _first_line(module_name):
    lines = _module_docstring_without_import(module_name).strip().splitlines()
    return lines[0] if lines else ""


def _attribute_comment(name, value):
    """The ``#:`` comment documenting data `name` in the module that assigns it."""
    from sphinx.pycode import ModuleAnalyzer

    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("neurosrnn") or vars(module).get(name, None) is not value:
            continue
        try:
            comments = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except Exception:  # noqa: BLE001 - a module without readable source
            continue
        lines = comments.get(("", name))
        if lines:
            return [line for line in lines if line.strip()]
    return []


def _data_directive(module_name, name):
    value = getattr(importlib.import_module(module_name), name)
    lines = [f".. py:data:: {name}", f"   :module: {module_name}", ""]
    comment = _attribute_comment(name, value)
    if comment:
        lines += [f"   {line}" for line in comment]
    else:
        lines.append(f"   A `{type(value).__name__}`.")
    return lines + [""]


def _api_page(module_name, entries, submodules, deprecated, *, shadowed=False, top_level=()):
    """reStructuredText of one module's page (see the module docstring)."""
    lines = [_heading(f"``{module_name}``", "="), f".. automodule:: {module_name}"]
    lines += ["   :no-members:"]
    if shadowed:  # a function of the parent package has this module's dotted name
        lines += ["   :no-index:"]
    lines.append("")
    if submodules:
        lines += [_heading("Modules", "-")]
        for name in submodules:
            lines.append(f"- :doc:`{name.rsplit('.', 1)[1]} <{name}>`: {_first_line(name)}")
        lines.append("")
        if module_name != "neurosrnn":  # the top level's modules are in api/index
            lines += [".. toctree::", "   :hidden:", ""]
            lines += [f"   {name}" for name in submodules]
            lines.append("")
    if deprecated:
        lines += [_heading("Deprecated module paths", "-")]
        lines += [f"- ``{name}``: {_first_line(name)}" for name in deprecated]
        lines.append("")
    listed = [f"{owner}.{name}" for name, _, owner in entries] or list(top_level)
    if listed:
        lines += [_heading("Summary", "-"), ".. autosummary::", ""]
        lines += [f"   {_relative(target, module_name)}" for target in listed]
        lines.append("")
    own = [(name, kind) for name, kind, owner in entries if owner == module_name]
    if own:
        lines += [_heading("Reference", "-")]
        for name, kind in own:
            if kind == "class":
                lines += [f".. autoclass:: {module_name}.{name}", "   :members:", ""]
            elif kind == "exception":
                lines += [f".. autoexception:: {module_name}.{name}", ""]
            elif kind == "function":
                lines += [f".. autofunction:: {module_name}.{name}", ""]
            else:
                lines += _data_directive(module_name, name)
    return "\n".join(lines)


def generate_api(docs_dir=DOCS):
    """Write ``api/generated/<module>.rst`` for every documented module; return the names."""
    folder = Path(docs_dir) / "api" / "generated"
    folder.mkdir(parents=True, exist_ok=True)
    documented, deprecated = _collect_modules()
    inventory = _api_inventory(documented)
    owners_by_name = {}
    for entries in inventory.values():
        for name, _, owner in entries:
            owners_by_name.setdefault(name, owner)
    top_deprecated = [
        f"neurosrnn.{name}" for name in importlib.import_module("neurosrnn")._DEPRECATED_SUBMODULES
    ]
    written = set()
    for module_name in documented:
        if module_name == "neurosrnn":
            submodules = [name for name in API_MODULES if name != "neurosrnn"]
            text = _api_page(
                module_name,
                [],
                submodules,
                top_deprecated,
                top_level=_top_level_entries(owners_by_name),
            )
        else:
            module = importlib.import_module(module_name)
            subs = _public_submodules(module)
            parent, _, leaf = module_name.rpartition(".")
            shadowed = any(
                name == leaf and kind != "module" for name, kind, _ in inventory.get(parent, [])
            )
            text = _api_page(
                module_name,
                inventory[module_name],
                [name for name in subs if name in documented],
                [name for name in subs if name in deprecated],
                shadowed=shadowed,
            )
        _write_if_changed(folder / f"{module_name}.rst", text)
        written.add(f"{module_name}.rst")
    _remove_stale(folder, written, {".rst"})
    return documented


# ----------------------------------------------------------------------------- model gallery

_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "Delta",
    "epsilon",
    "theta",
    "lambda",
    "mu",
    "rho",
    "sigma",
    "tau",
    "omega",
    "phi",
}

#: Simulated time of a gallery figure and the start of the window of the f-I curve.
_GALLERY_DURATION_MS = 500.0
_GALLERY_RATE_FROM_MS = 100.0
#: Drive levels of the f-I curve, as multiples of the model's suprathreshold drive.
_GALLERY_DRIVE_SCALES = tuple(round(0.1 * k, 1) for k in range(21))


def _latex_symbol(name):
    """LaTeX of a Brian2 identifier: ``tau_m`` -> ``\\tau_{\\mathrm{m}}``."""
    head, _, tail = name.partition("_")
    if head in _GREEK:
        base = "\\" + head
    elif len(head) == 1 or (head[:1].isalpha() and head[1:].isdigit()):
        if head[1:].isdigit():
            base, tail = head[0], head[1:] + ("," + tail if tail else "")
        else:
            base = head
    else:
        return "\\mathrm{" + name.replace("_", "\\_") + "}"
    if not tail:
        return base
    parts = [p if p.isdigit() or len(p) == 1 else "\\mathrm{" + p + "}" for p in tail.split("_")]
    return base + "_{" + ",".join(",".join(parts).split(",")) + "}"


def _equations_latex(equations):
    """``align*`` LaTeX of the differential equations and subexpressions of a model."""
    import sympy
    from brian2.parsing.sympytools import str_to_sympy

    rows = []
    for equation in equations.ordered:
        if equation.expr is None:
            continue
        expression = str_to_sympy(equation.expr.code)
        names = {symbol: _latex_symbol(str(symbol)) for symbol in expression.free_symbols}
        rhs = sympy.latex(expression, symbol_names=names)
        variable = _latex_symbol(equation.varname)
        if equation.type == "differential equation":
            lhs = f"\\frac{{\\mathrm{{d}}{variable}}}{{\\mathrm{{d}}t}}"
        else:
            lhs = variable
        rows.append(f"{lhs} &= {rhs}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def _format_value(value):
    """``10 ms``, ``-70 mV``, ``0.5``: a default value as a reader writes it."""
    from brian2 import Quantity

    if not isinstance(value, Quantity):
        return f"{float(value):g}"
    if float(value) == 0.0:
        unit = _display_unit(value.dim)[1].strip(" ()")
        return f"0 {unit}" if unit else "0"
    number, _, unit = value.in_best_unit(precision=6).partition(" ")
    return f"{float(number):g} {unit}".strip()


def _unit_text(equations, name):
    from brian2 import get_unit

    unit = equations[name].dim
    text = str(get_unit(unit))
    return "1 (dimensionless)" if text in ("1", "Unit(1)", "rad") else text


def _model_references(factory):
    """The ``References`` section of the module defining `factory`, if it has one."""
    module = inspect.getmodule(getattr(factory, "func", factory))
    doc = inspect.getdoc(module) or ""
    marker = "References\n----------\n"
    if marker not in doc:
        return ""
    return " ".join(doc.split(marker, 1)[1].split())


def _membrane_variable(model):
    """The state variable compared in the threshold condition (``v``, ``V``, ``theta``)."""
    return model.threshold.split()[0]


def _simulate_model(model):
    """Voltage trace at the suprathreshold drive and the f-I curve (runtime numpy target)."""
    import numpy as np
    from brian2 import (
        Network,
        SpikeMonitor,
        StateMonitor,
        defaultclock,
        ms,
        prefs,
        second,
    )

    prefs.codegen.target = "numpy"
    scales = np.asarray(_GALLERY_DRIVE_SCALES)
    drive = model.suprathreshold_drive
    drives = scales * drive
    dt = 0.1 * ms
    if model.method == "euler" and model.name.startswith("adex"):
        from neurosrnn.models import ADEX_RECOMMENDED_DT

        dt = ADEX_RECOMMENDED_DT
    defaultclock.dt = dt
    group = model.make_group(len(scales), dt=dt, **{model.drive_parameter: drives})
    traced = int(np.flatnonzero(np.isclose(scales, 1.0))[0])
    variable = _membrane_variable(model)
    recorded = [variable]
    if "adaptive_threshold" in model.equations.names:
        recorded.append("adaptive_threshold")
    states = StateMonitor(group, recorded, record=[traced], dt=max(dt, 0.1 * ms))
    spikes = SpikeMonitor(group)
    network = Network(group, states, spikes)
    network.run(_GALLERY_DURATION_MS * ms, namespace={})
    times = np.asarray(spikes.t / second)
    indices = np.asarray(spikes.i)
    window = (_GALLERY_DURATION_MS - _GALLERY_RATE_FROM_MS) / 1000.0
    late = times >= _GALLERY_RATE_FROM_MS / 1000.0
    rates = np.bincount(indices[late], minlength=len(scales)) / window
    trace = {name: np.asarray(getattr(states, name)[0]) for name in recorded}
    return {
        "t_ms": np.asarray(states.t / ms),
        "trace": trace,
        "spike_times_ms": 1000.0 * times[indices == traced],
        "drives": np.asarray(drives),
        "rates": rates,
        "drive_text": _format_value(drive),
        "dt_s": float(dt / second),
    }


def _display_unit(dimension):
    """``(factor, label)`` showing SI values of `dimension` in mV, nA or as they are."""
    from brian2 import amp, get_unit, volt

    if dimension == volt.dim:
        return 1e3, " (mV)"
    if dimension == amp.dim:
        return 1e9, " (nA)"
    text = str(get_unit(dimension))
    return 1.0, "" if text in ("1", "rad") else f" ({text})"


def _draw_model_figure(key, model, data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosrnn.atomic import atomic_write

    variable = _membrane_variable(model)
    scale, unit = _display_unit(model.equations[variable].dim)
    drive_scale, drive_unit = _display_unit(model.equations[model.drive_parameter].dim)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2), constrained_layout=True)
    shown = data["t_ms"] <= 200.0
    left.plot(data["t_ms"][shown], scale * data["trace"][variable][shown], color="C0", lw=1.0)
    if "adaptive_threshold" in data["trace"]:
        left.plot(
            data["t_ms"][shown],
            scale * data["trace"]["adaptive_threshold"][shown],
            color="C3",
            lw=1.0,
            ls="--",
            label="adaptive threshold",
        )
        left.legend(loc="upper right", fontsize=8, frameon=False)
    left.set_xlabel("time (ms)")
    left.set_ylabel(f"{variable}{unit}")
    left.set_title(f"{model.drive_parameter} = {data['drive_text']}", fontsize=10)
    right.plot(drive_scale * data["drives"], data["rates"], "o-", color="C1", ms=3, lw=1.0)
    right.set_xlabel(f"{model.drive_parameter}{drive_unit}")
    right.set_ylabel("firing rate (Hz)")
    right.set_title(
        f"f-I curve (rate over {_GALLERY_RATE_FROM_MS:g}-{_GALLERY_DURATION_MS:g} ms)",
        fontsize=10,
    )
    figure.suptitle(f"MODEL_LIBRARY[{key!r}]", fontsize=11)
    with atomic_write(path, "wb") as stream:
        figure.savefig(stream, format="png", dpi=90)
    plt.close(figure)


def _curve_json(model, data):
    """The plotted f-I curve as JSON (drives in SI units), kept for the tests."""
    import json

    record = {
        "drive_parameter": model.drive_parameter,
        "drives_si": [float(value) for value in data["drives"]],
        "rates_hz": [float(value) for value in data["rates"]],
        "window_s": [_GALLERY_RATE_FROM_MS / 1000.0, _GALLERY_DURATION_MS / 1000.0],
        "dt_s": data["dt_s"],
    }
    return json.dumps(record, indent=1) + "\n"


def _gallery_fingerprint(model):
    import brian2

    text = "\n".join(
        [
            Path(__file__).read_text(encoding="utf-8"),
            repr(model),
            str(model.equations),
            model.reset,
            str(model.suprathreshold_drive),
            brian2.__version__,
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _gallery_page(key, factory, model):
    title = model.description.split(" (")[0].split(",")[0].rstrip(".")
    parameter_rows = [
        f"| `{name}` | {_format_value(value)} | {_unit_text(model.equations, name)} |"
        for name, value in model.parameters.items()
    ]
    initial = ", ".join(
        f"`{state} = {_format_value(value) if not isinstance(value, str) else value}`"
        for state, value in model.initial_values.items()
    )
    references = _model_references(factory)
    factory_function = getattr(factory, "func", factory)
    arguments = getattr(factory, "keywords", {}) or {}
    call = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
    lines = [
        f"# `{key}`: {title}",
        "",
        model.description,
        "",
        f"Built by {{py:func}}`{factory_function.__name__}({call}) "
        f"<neurosrnn.models.{factory_function.__name__}>`; its `repr` name is `{model.name}`.",
        "",
        "## Equations",
        "",
        "```{math}",
        _equations_latex(model.equations),
        "```",
        "",
        "As Brian2 model code:",
        "",
        "```text",
        str(model.equations).strip(),
        "```",
        "",
        "| | |",
        "| --- | --- |",
        f"| threshold | `{model.threshold}` |",
        "| reset | " + "; ".join(f"`{line}`" for line in model.reset.strip().splitlines()) + " |",
        f"| refractory | `{model.refractory}` |",
        f"| integration method | `{model.method}` |",
        f"| synaptic effect (`on_pre`) | `{model.coupling_on_pre}` |",
        f"| initial values | {initial} |",
        "",
        "## Parameters",
        "",
        "Per-neuron `(constant)` state variables: each may be a scalar or an array of one",
        "value per neuron (`make_group(N, name=value)`).",
        "",
        "| parameter | default | unit |",
        "| --- | --- | --- |",
        *parameter_rows,
        "",
        "## References",
        "",
        references or model.description,
        "",
        "## Figure",
        "",
        f"```{{figure}} {key}.png",
        f":alt: voltage trace and f-I curve of the {key} model",
        "",
        f"Left: `{_membrane_variable(model)}` of one isolated neuron driven by the model's",
        f"suprathreshold drive (`{model.drive_parameter} = "
        f"{_format_value(model.suprathreshold_drive)}`), first 200 ms. Right: its firing",
        f"rate against `{model.drive_parameter}` (21 levels from 0 to twice that drive),",
        f"counted from {_GALLERY_RATE_FROM_MS:g} to {_GALLERY_DURATION_MS:g} ms. Simulated with",
        "Brian2's runtime numpy target and the default parameters above.",
        "```",
        "",
        "## Usage",
        "",
        "```python",
        *_usage_imports(model.suprathreshold_drive),
        "from neurosrnn.models import MODEL_LIBRARY",
        "",
        f'model = MODEL_LIBRARY["{key}"]()',
        f"group = model.make_group(100, {model.drive_parameter}="
        f"{_python_literal(model.suprathreshold_drive)})",
        "```",
        "",
    ]
    return "\n".join(lines)


def _usage_imports(value):
    unit = _python_literal(value).partition(" * ")[2]
    return [f"from brian2 import {unit}", ""] if unit else []


def _python_literal(value):
    from brian2 import Quantity

    if isinstance(value, Quantity):
        number, _, unit = _format_value(value).partition(" ")
        return f"{number} * {unit}" if unit else number
    return f"{float(value):g}"


def generate_gallery(docs_dir=DOCS, *, force=False):
    """Write ``gallery/index.md``, ``gallery/<key>.md`` and ``gallery/<key>.png``."""
    from neurosrnn.models import MODEL_LIBRARY

    folder = Path(docs_dir) / "gallery"
    folder.mkdir(parents=True, exist_ok=True)
    keep = {"index.md"}
    rows = []
    for key, factory in MODEL_LIBRARY.items():
        model = factory()
        figure = folder / f"{key}.png"
        stamp = folder / f".{key}.sha256"
        fingerprint = _gallery_fingerprint(model)
        current = stamp.exists() and stamp.read_text(encoding="utf-8") == fingerprint
        curve = folder / f"{key}_fI.json"
        if force or not figure.exists() or not curve.exists() or not current:
            from brian2 import start_scope

            start_scope()
            data = _simulate_model(model)
            _draw_model_figure(key, model, data, figure)
            _write_if_changed(curve, _curve_json(model, data))
            _write_if_changed(stamp, fingerprint)
        _write_if_changed(folder / f"{key}.md", _gallery_page(key, factory, model))
        keep |= {f"{key}.md", f"{key}.png", f"{key}_fI.json"}
        rows.append(f"| [`{key}`]({key}.md) | `{model.name}` | {model.description} |")
    index = [
        "# Model gallery",
        "",
        "One page per entry of {py:data}`neurosrnn.models.MODEL_LIBRARY`, the models the",
        "command line knows by name. Every page is generated from the model object itself",
        "(equations, parameters and defaults as the library defines them) and shows a",
        "simulated voltage trace and f-I curve.",
        "",
        "| name | `repr` name | description |",
        "| --- | --- | --- |",
        *rows,
        "",
        "```{toctree}",
        ":hidden:",
        "",
        *MODEL_LIBRARY,
        "```",
        "",
    ]
    _write_if_changed(folder / "index.md", "\n".join(index))
    _remove_stale(folder, keep, {".md", ".png", ".json"})
    return list(MODEL_LIBRARY)


# --------------------------------------------------------------------------------- tutorials


def link_tutorials(docs_dir=DOCS, source=ROOT / "tutorials"):
    """Fill ``tutorials/`` with links to the notebooks of `source`; return their names."""
    folder = Path(docs_dir) / "tutorials"
    folder.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(Path(source).glob("[0-9]*.ipynb"))
    keep = set()
    for notebook in notebooks:
        target = folder / notebook.name
        relative = os.path.relpath(notebook, folder)
        if target.is_symlink() and os.readlink(target) == relative:
            keep.add(notebook.name)
            continue
        if target.exists() or target.is_symlink():
            target.unlink()
        try:
            target.symlink_to(relative)
        except OSError:  # no symbolic links on this file system: copy
            shutil.copyfile(notebook, target)
        keep.add(notebook.name)
    for path in folder.iterdir():
        if path.suffix == ".ipynb" and path.name not in keep:
            path.unlink()
    stems = [Path(name).stem for name in sorted(keep)]
    index = [
        "# Tutorials",
        "",
        "Numbered notebooks from the repository's `tutorials/` folder, shown here without",
        "being run (the test suite executes every one of them). Run them yourself with",
        "`jupyter lab tutorials/` after `make test` has installed the test extras.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *stems,
        "```",
        "",
    ]
    _write_if_changed(folder / "index.md", "\n".join(index))
    return stems


def generate_all(docs_dir=DOCS):
    """Run the three generators (the entry point used by ``conf.py``)."""
    link_tutorials(docs_dir)
    generate_api(docs_dir)
    generate_gallery(docs_dir)


if __name__ == "__main__":
    generate_all()
