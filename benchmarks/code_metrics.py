"""Code metrics of the package: import graph (loops, upward imports), file and function sizes.

Run from the repository root: ``python benchmarks/code_metrics.py [--top 10]``. Reads the
source with :mod:`ast` only (nothing is imported), so it measures any checkout.

Layers (imports may only run downwards; see ``ARCHITECTURE``):

0. core: ``connectivity``, ``_version``, shared helpers (``_atomic``, ``progress``, ``units``,
   ``validation``)
1. ``models``, ``analysis``
2. engines: ``devices``, ``results``, ``sparseprop``, ``perturbation``, ``learning``, ``coding``
3. ``cli``, ``demo``, ``sweep`` (and the deprecated ``store``, ``checkpoint``, ``sweep_file``)
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

ROOTS = {"neurosrnn": "neurosrnn", "neurosrnn.models": "models", "neurosrnn.analysis": "analysis"}
TOP3 = {"cli", "demo", "sweep", "store", "checkpoint", "sweep_file", "spec_syntax", "__main__"}
TOP2 = {"devices", "results", "sparseprop", "perturbation", "learning", "coding"}


def _modules():
    out = {}
    for package, folder in ROOTS.items():
        for base, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if not name.endswith(".py"):
                    continue
                rel = os.path.relpath(os.path.join(base, name), folder)
                parts = rel[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                dotted = ".".join([package, *parts]) if parts else package
                if package == "neurosrnn" and parts and parts[0] in ("models", "analysis"):
                    continue
                out[dotted] = os.path.join(base, name)
    return out


def _layer(module):
    if module.startswith("neurosrnn.models") or module.startswith("neurosrnn.analysis"):
        return 1
    parts = module.split(".")
    if len(parts) == 1:
        return 4  # the top-level package re-exports everything lazily
    head = parts[1]
    if head in TOP3:
        return 3
    if head in TOP2:
        return 2
    return 0


def _resolve(module, path, node):
    is_package = os.path.basename(path) == "__init__.py"
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return target


def import_graph(lazy=True):
    modules = _modules()
    edges = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module and not module.startswith(target + "."):
                    edges[module].add(target)
    return modules, edges


def _cycles(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def _pairs_in_loops(edges):
    return sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})


def _functions(modules):
    rows = []
    for path in modules.values():
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n_args = len(node.args.args) + len(node.args.posonlyargs)
                body = node.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]  # the docstring does not count
                start = body[0].lineno if body else node.lineno
                rows.append((node.end_lineno - start + 1, f"{path}:{node.name}", n_args))
    return sorted(rows, reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    modules, edges = import_graph()
    print(f"modules: {len(modules)}")
    loops = _pairs_in_loops(edges)
    print(f"two-module import loops: {len(loops)}")
    for a, b in loops:
        print(f"  {a} <-> {b}")
    cycles = _cycles(edges)
    print(f"strongly connected components (>1 module): {len(cycles)}")
    for c in cycles:
        print("  " + ", ".join(c))
    upward = [
        (a, b)
        for a in edges
        for b in edges[a]
        if _layer(b) > _layer(a) and not a.endswith("__init__")
    ]
    print(f"upward imports: {len(upward)}")
    for a, b in sorted(upward):
        print(f"  {a} -> {b}")
    private = []
    for module, path in modules.items():
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                for alias in node.names:
                    private_name = alias.name.startswith("_") and not alias.name.startswith("__")
                    # a package importing its own private module is fine
                    own_module = f"{base}.{alias.name}" in modules and module.startswith(base)
                    if private_name and base != module and not own_module:
                        private.append((module, f"{base}.{alias.name}"))
    print(f"imports of another module's private names: {len(private)}")
    for a, b in sorted(private):
        print(f"  {a} -> {b}")
    sizes = sorted(
        ((sum(1 for _ in open(p, encoding="utf-8")), p) for p in modules.values()), reverse=True
    )
    print(f"largest files (lines), top {args.top}:")
    for n, p in sizes[: args.top]:
        print(f"  {n:5d} {p}")
    functions = _functions(modules)
    n_long = sum(1 for f in functions if f[0] > 100)
    print(f"functions with over 100 lines of code (docstring excluded): {n_long}")
    print(f"functions with over 60 lines of code: {sum(1 for f in functions if f[0] > 60)}")
    for n, name, _ in functions[: args.top]:
        print(f"  {n:5d} {name}")
    most_args = sorted(functions, key=lambda f: -f[2])[:3]
    print("most positional parameters: " + ", ".join(f"{name} ({k})" for _, name, k in most_args))


if __name__ == "__main__":
    main()
