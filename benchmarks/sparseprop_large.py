"""SparseProp at 10^7 - 10^9 neurons: set-up time, peak memory and events per second.

Issue #17 asks of the exact engine, for the memory-free balanced theta network (K =
100): at N = 10^8 at most 40 bytes per neuron at peak, a set-up of at most 10 s, at
least 5e6 synaptic events/s over at least 10^7 spikes after the start-up transient, and
the largest N that fits in 23 GB.

Protocol (one fresh process per N, so that its peak resident memory is the run's own):

1. import the engine and compile/load its kernels on a tiny network; the process's
   peak resident set (``VmHWM`` of ``/proc/self/status``) at that point is the
   *baseline* (interpreter, numpy, numba, the compiled code);
2. **set-up** (timed): ``balanced_network(N, K, seed)`` (memory-free graph) and
   ``network.state = network.initial_state(seed=...)`` (phases drawn in chunks, the
   heap built in place);
3. **transient**: ``network.run(duration=transient)`` continuing the network's own
   state in place (default 0.05 s of network time, 5 tau);
4. **measured run**: ``network.run(n_spikes=spikes)`` in place (default 10^7 spikes),
   spikes not recorded; events/s = spikes * K / wall seconds, and per CPU second of the
   process (``time.process_time``), which on a shared machine is closer to what the
   engine needs on an idle core (it still pays for the cache it shares);
5. peak memory: ``VmHWM`` after step 4, as bytes per neuron above the baseline (and
   in total); then, for information only (the peak is taken before it), the wall time
   of one in-place ``run(n_spikes=1)`` against one from the same state passed
   explicitly (which copies its 16 N bytes of heap; not in memory-only rows).

The largest N that fits in 23 GB (23e9 bytes of total peak resident set) is reported
as measured when two rows bracket it (one at most 23e9 bytes, the next above), and as
extrapolated (``(23e9 - baseline) / bytes_per_neuron``) otherwise, said so either way;
``--sizes`` may include larger N to measure it (``--spikes 0`` measures the set-up and
the memory only).

Rows are kept in ``<out>.json`` (written atomically after each N) and re-used on a
rerun with the same settings (``--force`` measures again); ``<out>.md`` is the table.
The machine's load average is recorded with every row: on a shared machine, seconds
are upper bounds.

Usage::

    python benchmarks/sparseprop_large.py --sizes 1e7,1e8 \\
        --out benchmarks/results/sparseprop_large
    python benchmarks/sparseprop_large.py --sizes 3e8 --spikes 0 \\
        --out benchmarks/results/sparseprop_large      # set-up and memory only
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from machine import cpu_model, git_revision, load_average, memory_total  # noqa: E402

from neurosrnn.atomic import atomic_write  # noqa: E402

K = 100
MEMORY_LIMIT = 23e9  # bytes: the machine of the issue
_ROOT = pathlib.Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- environment


def _peak_resident_bytes():
    """The process's peak resident set size (``VmHWM``), in bytes."""
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


# --------------------------------------------------------------------------- one size


def _measure(N, spikes, transient, seed):
    """Measure one network size in this process (see the module docstring)."""
    import numpy as np

    from neurosrnn.sparseprop.engine import balanced_network

    # compile (or load) the kernels first: their memory belongs to the baseline
    tiny = balanced_network(1000, 10, seed=seed)
    tiny.state = tiny.initial_state(seed=seed)
    tiny.run(n_spikes=100, progress=False)
    del tiny
    baseline = _peak_resident_bytes()
    load_before = load_average()

    started, started_cpu = time.perf_counter(), time.process_time()
    network = balanced_network(N, K, seed=seed)
    network.state = network.initial_state(seed=seed + 1)
    setup_seconds = time.perf_counter() - started
    setup_cpu_seconds = time.process_time() - started_cpu
    setup_peak = _peak_resident_bytes()

    started = time.perf_counter()
    warm = network.run(duration=transient, record_spikes=False, progress=False)
    transient_seconds = time.perf_counter() - started

    measured, measured_cpu = None, None
    if spikes > 0:
        started_cpu = time.process_time()
        measured = network.run(n_spikes=spikes, record_spikes=False, progress=False)
        measured_cpu = time.process_time() - started_cpu
    peak = _peak_resident_bytes()

    # for information (after the peak): one in-place run against one from a passed state
    started = time.perf_counter()
    network.run(n_spikes=1, record_spikes=False, progress=False)
    in_place_seconds = time.perf_counter() - started
    explicit_seconds = None
    if spikes > 0:  # (a copy of the heap: 16 N more bytes, left out of memory-only rows)
        started = time.perf_counter()
        network.run(network.state, n_spikes=1, record_spikes=False, progress=False)
        explicit_seconds = time.perf_counter() - started

    row = {
        "N": N,
        "K": K,
        "seed": seed,
        "setup_seconds": setup_seconds,
        "setup_cpu_seconds": setup_cpu_seconds,
        "baseline_bytes": baseline,
        "setup_peak_bytes_per_neuron": (setup_peak - baseline) / N,
        "peak_bytes": peak,
        "peak_bytes_per_neuron": (peak - baseline) / N,
        "peak_total_bytes_per_neuron": peak / N,
        "transient_seconds_network": transient,
        "transient_spikes": int(warm.n_spikes),
        "transient_wall_seconds": transient_seconds,
        "measured_spikes": 0 if measured is None else int(measured.n_spikes),
        "measured_wall_seconds": None if measured is None else measured.wall_time,
        "events_per_second": None
        if measured is None
        else measured.n_spikes * K / measured.wall_time,
        "microseconds_per_spike": None
        if measured is None
        else 1e6 * measured.wall_time / measured.n_spikes,
        "measured_cpu_seconds": measured_cpu,
        "events_per_cpu_second": None if measured is None else measured.n_spikes * K / measured_cpu,
        "rate_hz": None if measured is None else measured.mean_rate,
        "continue_in_place_seconds": in_place_seconds,
        "continue_explicit_state_seconds": explicit_seconds,
        "load_before": load_before,
        "load_after": load_average(),
        "numpy": np.__version__,
    }
    print(json.dumps(row), flush=True)


# --------------------------------------------------------------------------- driver


def _settings(args):
    return {"spikes": args.spikes, "transient": args.transient, "seed": args.seed, "K": K}


def _read_rows(path):
    """The rows kept in `path` (each carries the settings it was measured with)."""
    if not path.exists():
        return {}
    return {row["N"]: row for row in json.loads(path.read_text()).get("rows", [])}


def _environment():
    import numba
    import numpy as np

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "revision": git_revision(),
    }


def _largest_n_line(rows):
    """What the rows say about the largest N that fits in `MEMORY_LIMIT` bytes.

    Measured when a row at or below the limit (total peak resident set) and the next
    row above it bracket it; otherwise extrapolated from the largest row's bytes per
    neuron. Either way the text says which.
    """
    largest_measured = max(rows)
    per_neuron = rows[largest_measured]["peak_bytes_per_neuron"]
    baseline = rows[largest_measured]["baseline_bytes"]
    fits = int((MEMORY_LIMIT - baseline) / per_neuron)
    inside = [N for N in rows if rows[N]["peak_bytes"] <= MEMORY_LIMIT]
    outside = [N for N in rows if rows[N]["peak_bytes"] > MEMORY_LIMIT]
    if inside and outside and max(inside) < min(outside):
        below, above = max(inside), min(outside)
        text = (
            f"Largest N in 23 GB (23e9 bytes of total peak resident set), **measured**: "
            f"N = {below:.2g} runs in {rows[below]['peak_bytes'] / 1e9:.1f} GB, "
            f"N = {above:.2g} in {rows[above]['peak_bytes'] / 1e9:.1f} GB, so the largest N "
            f"lies between them: about {fits:.3g} at the {per_neuron:.1f} bytes/neuron "
            f"measured at N = {largest_measured:.2g} (baseline {baseline / 1e6:.0f} MB)."
        )
    else:
        text = (
            f"Largest N in 23 GB: about {fits:.3g} neurons, **extrapolated** from the "
            f"{per_neuron:.1f} bytes/neuron measured at N = {largest_measured:.2g} "
            f"(largest N measured here) and a baseline of {baseline / 1e6:.0f} MB."
        )
    return (
        f"{text} The largest N run on this machine ({memory_total()}) is "
        f"{largest_measured:.2g}. The engine refuses N >= 2^31 (int32 neuron indices)."
    )


def _table(rows, environment):
    lines = [
        "# SparseProp at 10^7 - 10^9 neurons (issue #17)",
        "",
        "Memory-free balanced theta network (`balanced_network`, K = 100, J0 = 1, "
        "nu0 = 1 Hz, tau = 10 ms), the network's own state continued in place. One fresh "
        "process per N; bytes per neuron are the peak resident set (VmHWM) above the "
        "baseline of the process after importing and compiling the engine. Set-up: "
        "building the network and its heaped initial state. Events/s: synaptic events "
        "(spikes x K) per wall second (and per CPU second of the process) over the "
        "measured spikes, after a transient of the given seconds of network time "
        "(0 measured spikes: set-up and memory only).",
        "",
        f"CPU: {environment['cpu']} ({environment['cores']} cores); Python "
        f"{environment['python']}, numpy {environment['numpy']}, numba "
        f"{environment['numba']}; rows measured at revision "
        + ", ".join(sorted({row.get("revision", "unknown") for row in rows.values()}))
        + ". The machine was "
        "shared with other jobs (load averages 1 / 5 / 15 min in the table, 2 cores): "
        "the seconds are upper bounds of what the engine needs on an idle core.",
        "",
        "| N | set-up wall / CPU (s) | bytes/neuron at peak (above baseline / total) | "
        "transient: network s, spikes (wall s) | measured spikes | events/s wall / CPU | "
        "us/spike wall | rate (Hz) | continue: in place / explicit state (s) | "
        "load before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for N in sorted(rows):
        row = rows[N]
        events = row["events_per_second"]
        lines.append(
            f"| {N:.2g} | {row['setup_seconds']:.2f} / {row['setup_cpu_seconds']:.2f} | "
            f"{row['peak_bytes_per_neuron']:.1f} / {row['peak_total_bytes_per_neuron']:.1f} | "
            f"{row['transient_seconds_network']:g}, {row['transient_spikes']:,} "
            f"({row['transient_wall_seconds']:.0f}) | "
            f"{row['measured_spikes']:,} | "
            + ("-" if events is None else f"{events:.3g} / {row['events_per_cpu_second']:.3g}")
            + " | "
            + ("-" if events is None else f"{row['microseconds_per_spike']:.1f}")
            + " | "
            + ("-" if row["rate_hz"] is None else f"{row['rate_hz']:.3g}")
            + f" | {row['continue_in_place_seconds']:.2g} / "
            + (
                "-"
                if row["continue_explicit_state_seconds"] is None
                else f"{row['continue_explicit_state_seconds']:.2g}"
            )
            + " | "
            f"{row['load_before']} -> {row['load_after']} |"
        )
    if rows:
        lines += ["", _largest_n_line(rows)]
    target = rows.get(10**8)
    if target is not None and target["events_per_second"] is not None:
        lines += ["", "Issue #17 targets at N = 10^8:", ""]
        lines += [
            f"- at most 40 bytes/neuron: {target['peak_bytes_per_neuron']:.1f} above the "
            f"baseline, {target['peak_total_bytes_per_neuron']:.1f} in total: "
            + ("met" if target["peak_total_bytes_per_neuron"] <= 40 else "not met"),
            f"- set-up at most 10 s: {target['setup_seconds']:.1f} s wall, "
            f"{target['setup_cpu_seconds']:.1f} s CPU: "
            + _verdict(target["setup_seconds"] <= 10, target["setup_cpu_seconds"] <= 10),
            f"- at least 5e6 events/s over >= 10^7 spikes: {target['events_per_second']:.3g} "
            f"per wall second, {target['events_per_cpu_second']:.3g} per CPU second: "
            + _verdict(target["events_per_second"] >= 5e6, target["events_per_cpu_second"] >= 5e6),
        ]
    return "\n".join(lines) + "\n"


def _verdict(wall_met, cpu_met):
    if wall_met:
        return "met"
    if cpu_met:
        return "met in CPU time, not in wall time on the loaded machine"
    return "not met"


def _write(out, rows, environment):
    payload = {"environment": environment, "rows": [rows[N] for N in sorted(rows)]}
    with atomic_write(out.with_suffix(".json"), "w") as stream:
        json.dump(payload, stream, indent=2)
        stream.write("\n")
    with atomic_write(out.with_suffix(".md"), "w") as stream:
        stream.write(_table(rows, environment))


def _sizes(text):
    sizes = [int(float(item)) for item in text.split(",") if item.strip()]
    if not sizes or any(size < 2 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be integers >= 2, got {text!r}")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[10**7, 10**8])
    parser.add_argument("--spikes", type=float, default=1e7, help="measured spikes (0: none)")
    parser.add_argument(
        "--transient", type=float, default=0.05, help="seconds of network time before"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="stem of .json/.md")
    parser.add_argument("--force", action="store_true", help="measure kept rows again")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.spikes = int(args.spikes)
    if args.spikes < 0 or args.transient < 0:
        parser.error("--spikes and --transient must be >= 0")
    if args.child is not None:
        _measure(args.child, args.spikes, args.transient, args.seed)
        return
    settings = _settings(args)
    environment = _environment()
    rows = {} if args.out is None else _read_rows(args.out.with_suffix(".json"))
    for N in args.sizes:
        if N in rows and rows[N].get("settings") == settings and not args.force:
            print(f"N = {N:.2g}: kept from {args.out.with_suffix('.json')}", flush=True)
            continue
        command = [
            sys.executable,
            __file__,
            "--child",
            str(N),
            "--spikes",
            str(args.spikes),
            "--transient",
            str(args.transient),
            "--seed",
            str(args.seed),
        ]
        child = subprocess.run(command, capture_output=True, text=True, cwd=_ROOT)
        if child.returncode != 0:
            sys.stderr.write(child.stderr)
            raise SystemExit(f"N = {N}: the measuring process failed ({child.returncode})")
        rows[N] = json.loads(child.stdout.strip().splitlines()[-1])
        rows[N]["settings"] = settings
        rows[N]["revision"] = environment["revision"]
        rows[N]["command"] = " ".join(["python", *sys.argv])
        print(json.dumps(rows[N]), flush=True)
        if args.out is not None:
            _write(args.out, rows, environment)
    if args.out is not None:
        _write(args.out, rows, environment)
    print(_table(rows, environment))


if __name__ == "__main__":
    main()
