"""SparseProp scaling benchmark: time per spike vs N and K, speed-up, Brian2, 10^6 neurons.

Prints tables and writes a log-log figure (``sparseprop_scaling.png``) into ``--out``.

Sections
--------
1. Time per network spike vs N = 10^3 .. 10^6 at K = 100 (memory-free and stored
   CSR), and vs K at fixed N; the vectorised O(N) reference at each N and the speed-up.
2. Throughput at N = 10^6, K = 100 on one core: network spikes/s, synaptic events/s.
3. Brian2 cpp_standalone (clock-driven, RK4) on the same network (default N = 10^4,
   K = 100, 20 s) at dt = 0.1 ms and 0.01 ms: wall time, rate, and the spike-time error
   of Brian2 on the first spikes (matched by neuron and occurrence).
4. A 10^6-neuron network for 10^7 spikes: wall time and peak resident memory.

The network is the inhibitory balanced theta network of SparseProp (Engelken 2023,
NeurIPS, arXiv:2312.17216): J0 = 1, nu0 = 1 Hz, tau = 10 ms.

Usage::

    python benchmarks/sparseprop_scaling.py            # full (several minutes)
    python benchmarks/sparseprop_scaling.py --quick    # small sizes, seconds
"""

from __future__ import annotations

import argparse
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.sparseprop.engine import balanced_network
from neurosrnn.sparseprop.reference import simulate_reference


def _time_per_spike(network, n_spikes, seed=1):
    state = network.initial_state(seed=seed)
    warm = network.run(state, n_spikes=min(20_000, n_spikes), record_spikes=False, progress=False)
    result = network.run(warm.state, n_spikes=n_spikes, record_spikes=False, progress=False)
    return result.wall_time / result.n_spikes


def _reference_time_per_spike(network, n_spikes, seed=1):
    phases = network.phases(network.initial_state(seed=seed))
    simulate_reference(network, phases, n_spikes=5)  # warm-up
    started = time.perf_counter()
    simulate_reference(network, phases, n_spikes=n_spikes)
    return (time.perf_counter() - started) / n_spikes


def _table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def scaling_vs_N(sizes, K, n_spikes, reference_spikes):
    rows, data = [], []
    for N in sizes:
        free = _time_per_spike(balanced_network(N, K, memory_free=True), n_spikes)
        stored = _time_per_spike(balanced_network(N, K, memory_free=False), n_spikes)
        reference = _reference_time_per_spike(
            balanced_network(N, K, memory_free=False), reference_spikes(N)
        )
        data.append((N, free, stored, reference))
        rows.append(
            (
                f"{N:.0e}",
                f"{free * 1e6:.2f}",
                f"{stored * 1e6:.2f}",
                f"{K / stored:.3g}",
                f"{reference * 1e6:.1f}",
                f"{reference / stored:.0f}x",
            )
        )
        print(f"  ... N = {N} done", flush=True)
    _table(
        f"Time per network spike vs N (K = {K}, theta, one core)",
        ["N", "memory-free us", "stored CSR us", "syn. events/s", "O(N) ref us", "speed-up"],
        rows,
    )
    base = data[0]
    print(
        f"growth from N={base[0]:.0e} to N={data[-1][0]:.0e}: memory-free "
        f"{data[-1][1] / base[1]:.2f}x, stored {data[-1][2] / base[2]:.2f}x (goal <= 2x)"
    )
    return data


def scaling_vs_K(N, degrees, n_spikes):
    rows, data = [], []
    for K in degrees:
        per_spike = _time_per_spike(balanced_network(N, K, memory_free=True), n_spikes)
        data.append((K, per_spike))
        rows.append(
            (K, f"{per_spike * 1e6:.2f}", f"{per_spike / K * 1e9:.1f}", f"{K / per_spike:.3g}")
        )
    _table(
        f"Time per network spike vs K (N = {N:.0e}, memory-free)",
        ["K", "us/spike", "ns/synaptic event", "syn. events/s"],
        rows,
    )
    return data


def throughput(N, K, n_spikes):
    rows = []
    for memory_free in (True, False):
        network = balanced_network(N, K, memory_free=memory_free)
        per_spike = _time_per_spike(network, n_spikes)
        rows.append(
            (
                "memory-free" if memory_free else "stored CSR",
                f"{1 / per_spike:.3g}",
                f"{K / per_spike:.3g}",
            )
        )
    _table(
        f"Throughput at N = {N:.0e}, K = {K}, one core",
        ["topology", "network spikes/s", "synaptic events/s"],
        rows,
    )


def _matched_error(exact_indices, exact_times, indices, times, n_first):
    errors = []
    for k in range(n_first):
        neuron = exact_indices[k]
        occurrence = np.count_nonzero(exact_indices[:k] == neuron)
        candidates = times[indices == neuron]
        if occurrence >= candidates.size:
            return np.inf
        errors.append(abs(candidates[occurrence] - exact_times[k]))
    return float(np.mean(errors))


def brian2_comparison(N, K, duration, dts, n_first=200):
    import brian2
    from brian2 import BrianLogger, ms, second

    from neurosrnn.sparseprop.brian2_network import brian2_network

    try:
        from neurosrnn.devices import reset_brian_state, select_device
    except ImportError:  # plain Brian2 fallback
        select_device = None

    # theta_post is rewritten from itself in on_pre; each synapse is applied in turn
    BrianLogger.suppress_hierarchy("brian2.codegen.generators.base")
    network = balanced_network(N, K, memory_free=False)
    state = network.initial_state(seed=1)
    exact = network.run(state, duration=duration, progress=False)
    rows = [
        (
            "SparseProp (exact)",
            "-",
            f"{exact.wall_time:.2f}",
            "-",
            f"{exact.mean_rate:.4f}",
            "0",
        )
    ]
    timings = {"exact": exact.wall_time}
    for dt in dts:
        directory = tempfile.mkdtemp(prefix="sparseprop_brian2_")
        try:
            if select_device is not None:
                select_device("cpp_standalone", dt=dt * ms)
            else:
                brian2.set_device("cpp_standalone", build_on_run=False)
                brian2.defaultclock.dt = dt * ms
            built = brian2_network(network, state, dt=dt * ms)
            built.network.run(duration * second)
            started = time.perf_counter()
            brian2.device.build(directory=directory, compile=True, run=True, with_output=False)
            total = time.perf_counter() - started
            simulate = float(getattr(brian2.device, "_last_run_time", np.nan))
            indices, times = built.spikes()
            rate = indices.size / (N * duration)
            error = _matched_error(exact.spike_indices, exact.spike_times, indices, times, n_first)
            rows.append(
                (
                    f"Brian2 cpp_standalone, dt = {dt} ms",
                    f"{total:.1f}",
                    f"{simulate:.2f}",
                    f"{simulate / exact.wall_time:.0f}x",
                    f"{rate:.4f}",
                    f"{error:.2e}",
                )
            )
            timings[dt] = simulate
        finally:
            if select_device is not None:
                reset_brian_state()
            else:
                brian2.device.reinit()
                brian2.devices.device.reset_device("runtime")
            shutil.rmtree(directory, ignore_errors=True)
        print(f"  ... Brian2 dt = {dt} ms done", flush=True)
    _table(
        f"SparseProp vs Brian2 cpp_standalone: N = {N:.0e}, K = {K}, {duration:g} s simulated "
        f"(error: mean |t_Brian2 - t_exact| over the first {n_first} spikes, s)",
        ["engine", "build+run s", "simulate s", "SparseProp faster", "rate Hz", "error s"],
        rows,
    )
    return timings


def big_run(N, K, n_spikes):
    network = balanced_network(N, K, memory_free=True)
    state = network.initial_state(seed=1)
    result = network.run(state, n_spikes=n_spikes, record_spikes=False, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
    _table(
        f"Large run: N = {N:.0e}, K = {K}, memory-free topology",
        ["spikes", "simulated s", "wall s", "spikes/s", "rate Hz", "peak RSS MB"],
        [
            (
                f"{result.n_spikes:.3g}",
                f"{result.duration:.2f}",
                f"{result.wall_time:.1f}",
                f"{result.n_spikes / result.wall_time:.3g}",
                f"{result.mean_rate:.3f}",
                f"{peak:.0f}",
            )
        ],
    )


def _figure(vs_N, vs_K, path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    N = np.array([row[0] for row in vs_N])
    left.loglog(N, [row[1] * 1e6 for row in vs_N], "o-", label="SparseProp, memory-free")
    left.loglog(N, [row[2] * 1e6 for row in vs_N], "s-", label="SparseProp, stored CSR")
    left.loglog(N, [row[3] * 1e6 for row in vs_N], "^-", label="O(N) reference (numpy)")
    left.set_xlabel("N")
    left.set_ylabel("time per network spike (us)")
    left.legend(fontsize=8)
    K = np.array([row[0] for row in vs_K])
    right.loglog(K, [row[1] * 1e6 for row in vs_K], "o-")
    right.loglog(K, K * vs_K[0][1] / K[0] * 1e6, ":", color="gray", label="proportional to K")
    right.set_xlabel("K")
    right.set_ylabel("time per network spike (us)")
    right.legend(fontsize=8)
    with atomic_write(path) as stream:
        figure.savefig(stream, dpi=110, format="png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    parser.add_argument("--brian2-duration", type=float, default=None, help="seconds")
    parser.add_argument("--skip-brian2", action="store_true")
    parser.add_argument("--big-spikes", type=int, default=None)
    parser.add_argument(
        "--big-only", action="store_true", help="only the large run (used in a fresh process)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        sizes, degrees, n_spikes = [10**3, 10**4], [10, 100], 20_000
        brian2_N, brian2_duration, big = 1000, 0.5, (10**5, 100, 10**5)
    else:
        sizes, degrees, n_spikes = [10**3, 10**4, 10**5, 10**6], [10, 30, 100, 300, 1000], 200_000
        brian2_N, brian2_duration, big = 10**4, 20.0, (10**6, 100, 10**7)
    if args.brian2_duration is not None:
        brian2_duration = args.brian2_duration
    if args.big_spikes is not None:
        big = (big[0], big[1], args.big_spikes)
    if args.big_only:
        big_run(*big)
        return
    print(f"SparseProp scaling benchmark ({os.cpu_count()} CPUs visible, numba, one thread)")
    vs_N = scaling_vs_N(sizes, 100, n_spikes, lambda N: int(np.clip(2e8 / (N * 10), 100, 20_000)))
    vs_K = scaling_vs_K(sizes[-2] if len(sizes) > 2 else sizes[-1], degrees, n_spikes)
    throughput(sizes[-1], 100, n_spikes)
    if not args.skip_brian2:
        brian2_comparison(brian2_N, 100, brian2_duration, [0.1, 0.01])
    # the large run in a fresh process, so that its peak memory is its own
    command = [sys.executable, __file__, "--big-only", "--big-spikes", str(big[2])]
    subprocess.run(command + (["--quick"] if args.quick else []), check=True)
    path = args.out / "sparseprop_scaling.png"
    _figure(vs_N, vs_K, path)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
