"""Throughput of a cpp_standalone parameter sweep: one build + many runs vs one build per run.

Measures, for a balanced E/I LIF network (`neurosrnn.sweep.Brian2NetworkRunner`):

1. ``one build + R runs``: `run_sweep` on a Dask LocalCluster with W workers; each
   worker compiles the project once and runs every point it receives through
   Brian2's ``run_args``.
2. ``one build per run``: the same sweep with a runner that throws its build away
   before every point (what a sweep without ``run_args`` costs). With
   ``--separate-runs S < R`` only S such runs are timed and the total is
   extrapolated to R runs (marked ``*``).
3. Store overhead per run: save + verify + load of one run file of the same size.
4. Dask overhead per run: a sweep of runs that return a fixed tiny result, on W
   workers, minus the same sweep in-process.

The full benchmark of the issue (N = 10^4, K = 100, R = 64, W = 1 and 2) takes about
an hour on a 2-core machine; ``--quick`` shrinks it. Prints a table.

Usage::

    python benchmarks/sweep_throughput.py                       # N=10^4, 64 runs
    python benchmarks/sweep_throughput.py --runs 16 --separate-runs 2 --duration 0.2
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from brian2 import ms, mV, second

from neurosrnn.sweep.loop import run_sweep
from neurosrnn.sweep.runners import Brian2NetworkRunner, clear_standalone_builds
from neurosrnn.sweep.store import ResultStore


@dataclass(frozen=True)
class _RebuildEveryRun:
    """A runner that discards its worker's build before each run: one compile per run."""

    inner: Brian2NetworkRunner

    def identity(self):
        return {"rebuild": self.inner.identity()}

    def __call__(self, point, seed):
        clear_standalone_builds()
        return self.inner(point, seed)


@dataclass(frozen=True)
class _Tiny:
    """A run that costs nothing: isolates the scheduling overhead."""

    def identity(self):
        return {"tiny": 1}

    def __call__(self, point, seed):
        return {
            "spike_indices": np.arange(10),
            "spike_times": np.linspace(0, 0.1, 10),
            "info": {"N": 10, "duration_s": 0.1},
        }


def _client(workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _points(runs):
    drives = np.linspace(22, 30, runs)
    return [{"I_ext": float(d) * mV} for d in drives]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=10_000, help="neurons (80%% excitatory)")
    parser.add_argument("--K", type=int, default=100, help="in-degree")
    parser.add_argument("--runs", type=int, default=64, help="runs of the sweep")
    parser.add_argument("--duration", type=float, default=0.5, help="simulated seconds per run")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument(
        "--separate-runs",
        type=int,
        default=None,
        help="runs timed in the one-build-per-run mode (default: all; fewer = extrapolate)",
    )
    parser.add_argument("--quick", action="store_true", help="N=2000, 8 runs, 2 separate")
    args = parser.parse_args(argv)
    if args.quick:
        args.N, args.runs, args.separate_runs, args.duration = 2000, 8, 2, 0.2
    separate = args.separate_runs or args.runs
    workers_list = [int(w) for w in args.workers.split(",")]
    N_excitatory = int(0.8 * args.N)
    runner = Brian2NetworkRunner(
        model="lif",
        N_excitatory=N_excitatory,
        N_inhibitory=args.N - N_excitatory,
        K=args.K,
        J0=2 * mV,
        g=5.0,
        duration=args.duration * second,
        initial_ranges={"v": (10 * mV, 20 * mV)},
        graph_seed=1,
        dt=0.1 * ms,
        device="cpp_standalone",
    )
    points = _points(args.runs)
    root = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    rows = []
    try:
        for workers in workers_list:
            client, cluster = _client(workers)
            try:
                start = time.perf_counter()
                table = run_sweep(runner, points, store=root / f"one-{workers}",
                                  scheduler=client, progress=False)  # fmt: skip
                wall = time.perf_counter() - start
                rows.append(("one build + runs", workers, args.runs, workers, wall,
                             wall / args.runs, ""))  # fmt: skip
                run_times = np.sort(table["wall_time_s"].to_numpy())
                first = run_times[-workers:]  # the slowest run of each worker holds its build
                rows.append(("  build (first run)", workers, workers, workers, float(np.sum(first)),
                             float(np.mean(first)), "build + first run, per worker"))  # fmt: skip
                median = float(np.median(run_times))
                rows.append(("  run with run_args", workers, args.runs, "", median * args.runs,
                             median, "median binary run, no compile"))  # fmt: skip

                start = time.perf_counter()
                run_sweep(_RebuildEveryRun(runner), points[:separate],
                          store=root / f"sep-{workers}", scheduler=client,
                          progress=False)  # fmt: skip
                wall = time.perf_counter() - start
                total = wall * args.runs / separate
                mark = "*" if separate < args.runs else ""
                rows.append(("one build per run" + mark, workers, args.runs, args.runs, total,
                             total / args.runs, f"timed {separate} run(s)"))  # fmt: skip

                tiny_points = [{"x": k} for k in range(200)]
                start = time.perf_counter()
                run_sweep(_Tiny(), tiny_points, store=root / f"tiny-{workers}",
                          scheduler=client, analysis=None, progress=False)  # fmt: skip
                dask_wall = time.perf_counter() - start
            finally:
                client.close()
                cluster.close()
            start = time.perf_counter()
            run_sweep(_Tiny(), tiny_points, store=root / f"tiny-serial-{workers}",
                      scheduler="serial", analysis=None, progress=False)  # fmt: skip
            serial_wall = time.perf_counter() - start
            rows.append(("Dask overhead per run", workers, 200, 0, dask_wall - serial_wall,
                         (dask_wall - serial_wall) / 200, "tiny runs, Dask - serial"))  # fmt: skip
        clear_standalone_builds()

        # store overhead for a run of realistic size (one run file of the sweep)
        store = ResultStore(root / f"one-{workers_list[0]}")
        key = store.keys()[0]
        result = store.load(key)
        size = store.path(key).stat().st_size
        repeats = 20
        scratch = ResultStore(root / "scratch")
        start = time.perf_counter()
        for k in range(repeats):
            scratch.save(f"run-{k}", result, parameters={"I_ext": 25 * mV}, seed=0)
            assert scratch.status(f"run-{k}") == "complete"
            scratch.load(f"run-{k}")
        per_run = (time.perf_counter() - start) / repeats
        rows.append(("store save+verify+load", 1, repeats, 0, per_run * repeats, per_run,
                     f"{result['spike_indices'].size} spikes, {size / 1e6:.2f} MB"))  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"\nSweep throughput: LIF balanced E/I network, N={args.N}, K={args.K}, "
        f"{args.duration} s per run, {args.runs} runs, cpp_standalone\n"
    )
    header = f"{'mode':<26} {'workers':>7} {'runs':>5} {'builds':>6} {'total s':>9} " \
             f"{'s/run':>8}  note"  # fmt: skip
    print(header)
    print("-" * len(header))
    for mode, workers, runs, builds, total, per, note in rows:
        print(f"{mode:<26} {workers:>7} {runs:>5} {builds!s:>6} {total:>9.2f} {per:>8.3f}  {note}")
    print()
    for workers in workers_list:
        totals = {row[0].rstrip("*"): row[4] for row in rows if row[1] == workers}
        speedup = totals["one build per run"] / totals["one build + runs"]
        print(
            f"{workers} worker(s): one build + runs is {speedup:.1f}x faster than one build per run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
