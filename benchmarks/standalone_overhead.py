"""Wall time of neurosrnn's device layer against the same network written in plain Brian2.

The network is the library's balanced E/I network of delta-coupled LIF neurons
(80 % excitatory, fixed in-degree K, weights J0/sqrt(K) and -g J0/sqrt(K);
van Vreeswijk & Sompolinsky 1996; Brunel 2000) simulated for 1 s of biological time
with dt = 0.1 ms. For each size it measures

- runtime (Cython target): ``Simulation(...).run()`` vs a hand-written script,
- cpp_standalone: code generation + compilation, then the binary's run, for both,
- the time of a second run of the compiled binary with new values through ``run_args``.

The hand-written version builds the same graph (same `neurosrnn.connectivity` call,
explicit indices) and the same equations typed out directly. The goal is that the
device layer adds at most 10 % over hand-written Brian2.

Usage::

    python benchmarks/standalone_overhead.py                 # N = 10^4 and 10^5
    python benchmarks/standalone_overhead.py --sizes 10000 --devices cpp_standalone

Each measurement is repeated (REPEATS) and the fastest kept; the first runtime run of
each version also fills Brian2's Cython cache. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np

K = 100
DURATION_S = 1.0
J0_MV = 2.0
G = 5.0
DRIVE_MV = 25.0
SEED = 1
REPEATS = 2


def _graph(N):
    from neurosrnn.connectivity import balanced_ei

    N_E = int(round(0.8 * N))
    return balanced_ei(N_E, N - N_E, K, J0=J0_MV, g=G, seed=SEED)


def _initial_v(N):
    return np.random.default_rng(0).uniform(0, 20, N)


def _ours_builder(N):
    from brian2 import mV

    from neurosrnn.models.lif import lif
    from neurosrnn.models.networks import balanced_ei_network

    N_E = int(round(0.8 * N))

    def build():
        return balanced_ei_network(
            lif(), N_E, N - N_E, K, J0=J0_MV * mV, g=G, seed=SEED,
            parameters={"I_ext": DRIVE_MV * mV}, initial_values={"v": _initial_v(N) * mV},
        )  # fmt: skip

    return build


def _hand_written_network(N):
    """The same network typed out in plain Brian2 (what a user would write)."""
    import brian2 as b2

    graph = _graph(N)
    neurons = b2.NeuronGroup(
        N,
        """
        dv/dt = (v_rest - v + I_ext)/tau_m : volt (unless refractory)
        tau_m : second (constant)
        v_rest : volt (constant)
        v_threshold : volt (constant)
        v_reset : volt (constant)
        I_ext : volt (constant)
        tau_ref : second (constant)
        """,
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory="tau_ref",
        method="exact",
        name="hand_neurons",
    )
    neurons.tau_m = 10 * b2.ms
    neurons.v_rest = 0 * b2.mV
    neurons.v_threshold = 20 * b2.mV
    neurons.v_reset = 10 * b2.mV
    neurons.I_ext = DRIVE_MV * b2.mV
    neurons.tau_ref = 2 * b2.ms
    neurons.v = _initial_v(N) * b2.mV
    synapses = b2.Synapses(neurons, neurons, "w : volt", on_pre="v_post += w", name="hand_syn")
    synapses.connect(i=graph.sources, j=graph.targets)
    synapses.w = graph.weights * b2.mV
    monitor = b2.SpikeMonitor(neurons, name="hand_spikes")
    return b2.Network(neurons, synapses, monitor), neurons, monitor


def _time_hand_runtime(N):
    import brian2 as b2
    from brian2.devices.device import reinit_devices, reset_device

    reinit_devices()
    reset_device("runtime")
    b2.prefs.codegen.target = "cython"
    start = time.perf_counter()
    network, _, monitor = _hand_written_network(N)
    network.run(DURATION_S * b2.second, namespace={})
    return {"total": time.perf_counter() - start, "spikes": int(monitor.num_spikes)}


def _time_hand_cpp(N, directory):
    import brian2 as b2
    from brian2.devices.device import reinit_devices, reset_device

    reinit_devices()
    b2.set_device("cpp_standalone", build_on_run=False)
    start = time.perf_counter()
    network, neurons, monitor = _hand_written_network(N)
    network.run(DURATION_S * b2.second, namespace={})
    b2.device.build(directory=directory, compile=True, run=False, with_output=False)
    build = time.perf_counter() - start
    run = math.inf
    for _ in range(REPEATS):
        start = time.perf_counter()
        b2.device.run(with_output=False)
        run = min(run, time.perf_counter() - start)
    spikes = int(monitor.num_spikes)
    start = time.perf_counter()
    b2.device.run(with_output=False, results_directory="rerun",
                  run_args={neurons.I_ext: 26 * b2.mV})  # fmt: skip
    rerun = time.perf_counter() - start
    reinit_devices()
    reset_device("runtime")
    return {"build": build, "run": run, "rerun": rerun, "spikes": spikes}


def _time_ours(N, device, directory):
    from brian2 import mV, second

    from neurosrnn.devices import Simulation

    options = {"target": "cython"} if device == "runtime" else {}
    simulation = Simulation(
        _ours_builder(N), DURATION_S * second, device=device,
        directory=directory if device != "runtime" else None, **options,
    )  # fmt: skip
    start = time.perf_counter()
    simulation.build()
    build = time.perf_counter() - start
    run = binary = math.inf
    for _ in range(REPEATS if device != "runtime" else 1):
        start = time.perf_counter()
        results = simulation.run(save=False)
        run = min(run, time.perf_counter() - start)
        binary = min(binary, simulation.run_seconds[-1])  # the simulation alone
    start = time.perf_counter()
    simulation.run({"I_ext": 26 * mV}, save=False)
    rerun = time.perf_counter() - start
    simulation.close()
    return {"build": build, "run": run, "binary": binary, "rerun": rerun,
            "total": build + run, "spikes": len(results.i)}  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--devices", nargs="+", default=["runtime", "cpp_standalone"],
        choices=["runtime", "cpp_standalone"],
    )  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    workdir = tempfile.mkdtemp(prefix="neurosrnn_bench_")
    for N in args.sizes:
        if "runtime" in args.devices:
            # Repeat and keep the fastest: the first run of each also fills the Cython cache.
            hands = [_time_hand_runtime(N) for _ in range(REPEATS)]
            hand = min(hands, key=lambda row: row["total"])
            ours = min(
                (_time_ours(N, "runtime", None) for _ in range(REPEATS)),
                key=lambda row: row["total"],
            )
            rows.append((N, "runtime (cython)", "-", f"{hand['total']:.2f}",
                         f"{ours['total']:.2f}", f"{ours['total'] / hand['total'] - 1:+.0%}",
                         f"{ours['rerun']:.2f}", f"{hand['spikes']}/{ours['spikes']}"))  # fmt: skip
            print(rows[-1], file=sys.stderr)
        if "cpp_standalone" in args.devices:
            hand = _time_hand_cpp(N, os.path.join(workdir, f"hand_{N}"))
            ours = _time_ours(N, "cpp_standalone", os.path.join(workdir, f"ours_{N}"))
            rows.append((N, "cpp_standalone", f"{hand['build']:.1f} / {ours['build']:.1f}",
                         f"{hand['run']:.2f}", f"{ours['binary']:.2f} ({ours['run']:.2f})",
                         f"{ours['binary'] / hand['run'] - 1:+.0%}",
                         f"{hand['rerun']:.2f} / {ours['rerun']:.2f}",
                         f"{hand['spikes']}/{ours['spikes']}"))  # fmt: skip
            print(rows[-1], file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)  # the N = 10^5 projects take gigabytes
    header = ("N", "device", "compile s (hand / ours)", "hand-written s", "neurosrnn s",
              "overhead", "run_args re-run s", "spikes (hand/ours)")  # fmt: skip
    widths = [max(len(str(row[k])) for row in [header, *rows]) for k in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(f"| {line} |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\nK = {K}, {DURATION_S} s biological time, dt = 0.1 ms, fastest of {REPEATS}. "
          "runtime rows: total wall time (network construction + run); cpp rows: running the "
          "binary (device.run), in parentheses including collecting the spikes into "
          "SimulationResults.")  # fmt: skip


if __name__ == "__main__":
    main()
