"""Run the neurosrnn demo on embedded defaults and write figures plus ``summary.json``.

File paths in ``summary.json`` are relative to the folder that holds it.

Usage: ``python -m neurosrnn.demo [--out results/demo] [--seed 1] [--quick]
[--parts network,sparseprop,chaos]``
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import platform
import sys
import time
from pathlib import Path

PARTS = ("network", "sparseprop", "chaos")


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("neurosrnn", "brian2", "numpy", "scipy", "numba", "matplotlib"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def _relative_paths(result, out_dir):
    """Replace the file paths of a part's `result` (keys ending in ``figure``) in place by
    paths relative to `out_dir`, so ``summary.json`` stays valid when the folder moves."""
    for key, value in result.items():
        if key.endswith("figure") and isinstance(value, str):
            result[key] = Path(os.path.relpath(value, out_dir)).as_posix()


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m neurosrnn.demo",
        description="neurosrnn demo: a heterogeneous adaptive E/I network in Brian2, an exact "
        "SparseProp run and a Lyapunov spectrum, with figures and a JSON summary.",
    )
    parser.add_argument("--out", default="results/demo", help="output folder (created)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--quick", action="store_true", help="smaller, faster runs (for tests)")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated parts to run, from {', '.join(PARTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(f"--parts: unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    args.parts = parts
    return args


def main(argv=None):
    """Run the demo parts and write ``summary.json``; return the summary dict."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"seed": args.seed, "quick": args.quick, "versions": _versions(), "parts": {}}
    for part in args.parts:
        module_name = f"neurosrnn.demo.{part}"
        if importlib.util.find_spec(module_name) is None:
            print(f"[demo] part {part!r} is not available in this version; skipped")
            continue
        module = importlib.import_module(module_name)
        print(f"[demo] running {part} ...", flush=True)
        start = time.perf_counter()
        options = {"quick": args.quick}
        if "seed" in inspect.signature(module.run).parameters:
            options["seed"] = args.seed
        result = module.run(out_dir, **options)
        result["wall_time_s"] = round(time.perf_counter() - start, 2)
        summary["parts"][part] = result
        for key, value in result.items():
            if key.endswith("figure"):
                print(f"[demo]   figure: {value}")
        _relative_paths(result, out_dir)
    summary_path = out_dir / "summary.json"
    from neurosrnn.results import write_json_atomic

    write_json_atomic(summary_path, summary)
    print(f"[demo] summary: {summary_path}")
    return summary


if __name__ == "__main__":
    main()
