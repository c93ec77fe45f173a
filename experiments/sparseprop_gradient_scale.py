"""Experiment 3 of issue #11: one exact gradient of a 10^6-neuron network over 10^6 spikes.

The inhibitory balanced theta network of SparseProp (`balanced_network`, K = 100,
J0 = 1, nu0 = 1 Hz, tau = 10 ms, memory-free graph), warmed by ``--warm`` spikes, then
one `spike_gradients` call over ``--spikes`` spikes with a loss on spike times (three
spikes) plus the mean squared error of a leaky readout of 20 neurons at three times.
Recorded, in one process:

- the plain forward run (``network.run`` of the same spikes from the same state, spikes
  recorded), its wall time;
- the gradient call's wall time, split by wrapping the module's private phases (graph
  set-up, its segmented forward run (recording the pulses of the first segments, up to
  `spike_gradients`' default ``pulse_memory``), the reverse sweep with the replays of
  the later segments; behaviour unchanged); backward = the call minus the plain
  forward run, and the backward proper = the call minus its graph set-up and its own
  forward run;
- wall and process CPU time (``time.process_time``: less sensitive to other processes
  on a shared machine);
- peak memory: the process's peak resident set size (``resource.getrusage``,
  ``ru_maxrss``) before and after the call (no tracemalloc: it would slow the timed
  call), and ``GradientResult.memory_bytes``;
- the spikes of the call checked identical to the plain run's, the replay error and
  the adjoint growth; the load average before and after each phase.

Run (one core, about a minute of CPU time and 3 GB of memory at the defaults)::

    nice -n 19 .venv/bin/python experiments/sparseprop_gradient_scale.py \\
        --out experiments/results
"""

from __future__ import annotations

import os

# one BLAS thread (before numpy is imported): an idle OpenBLAS worker spins after each
# threaded call and its CPU time would count in the process time measured here
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "benchmarks"))

from gradient_phases import PhaseTimer  # noqa: E402
from machine import cpu_model, load_average  # noqa: E402

from neurosrnn.atomic import atomic_write  # noqa: E402
from neurosrnn.sparseprop.engine import balanced_network  # noqa: E402
from neurosrnn.sparseprop.gradients import (  # noqa: E402
    LeakyReadout,
    readout_mse,
    spike_gradients,
    spike_time_loss,
)
from neurosrnn.validation import check_int, check_output_folder  # noqa: E402

K = 100


def _peak_rss_bytes():
    """Peak resident set size of this process so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024)


def _current_rss_bytes():
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _loss(network, state, n_probe, seed):
    """Spike-time + readout loss read off the first `n_probe` spikes from `state`."""
    rng = np.random.default_rng(seed)
    run = network.run(state, n_spikes=n_probe, progress=False)
    indices, times = run.spike_indices, run.spike_times
    t0, end = state.time_seconds, times[-1]
    firsts = [
        int(np.flatnonzero(indices == indices[p])[0])
        for p in (n_probe // 4, n_probe // 2, (3 * n_probe) // 4)
    ]
    loss = spike_time_loss(indices[firsts], times[firsts] + 0.001 * rng.standard_normal(3))
    fired = np.unique(indices)
    neurons = rng.choice(fired, size=min(20, fired.size), replace=False)
    readout = LeakyReadout(neurons, rng.standard_normal((2, neurons.size)), tau=0.02)
    readout_times = t0 + np.array([0.3, 0.6, 0.9]) * (end - t0)
    loss = loss + readout_mse(readout_times, rng.standard_normal((3, 2)))
    return loss, readout


def run_experiment(N, n_spikes, warm, every, seed):
    """All measurements of the experiment, as one JSON-ready dict."""
    record = {"N": N, "K": K, "n_spikes": n_spikes, "warm_spikes": warm, "seed": seed}
    record["checkpoint_every"] = every
    record["load_start"] = load_average()
    started = time.perf_counter()
    network = balanced_network(N, K, model="theta", memory_free=True)
    state = network.initial_state(seed=seed)
    state = network.run(state, n_spikes=warm, record_spikes=False, progress=False).state
    loss, readout = _loss(network, state, min(n_spikes, 100_000), seed)
    record["setup_s"] = time.perf_counter() - started
    record["rss_after_setup_bytes"] = _current_rss_bytes()
    record["peak_rss_after_setup_bytes"] = _peak_rss_bytes()

    gc.collect()
    record["load_before_forward"] = load_average()
    started, cpu = time.perf_counter(), time.process_time()
    plain = network.run(state, n_spikes=n_spikes, progress=False)
    record["forward_s"] = time.perf_counter() - started
    record["forward_cpu_s"] = time.process_time() - cpu
    record["peak_rss_after_forward_bytes"] = _peak_rss_bytes()
    record["network_time_s"] = float(plain.spike_times[-1] - state.time_seconds)
    record["rate_hz"] = n_spikes / record["network_time_s"] / N

    gc.collect()
    record["load_before_gradient"] = load_average()
    with warnings.catch_warnings(record=True) as caught, PhaseTimer() as timer:
        warnings.simplefilter("always", RuntimeWarning)
        started, cpu = time.perf_counter(), time.process_time()
        result = spike_gradients(
            network,
            state,
            loss=loss,
            n_spikes=n_spikes,
            readout=readout,
            checkpoint_every=every,
        )
        record["gradient_s"] = time.perf_counter() - started
        record["gradient_cpu_s"] = time.process_time() - cpu
    record["load_after_gradient"] = load_average()
    record["peak_rss_after_gradient_bytes"] = _peak_rss_bytes()
    record["phases_s"] = dict(timer.seconds)
    record["phases_cpu_s"] = dict(timer.cpu_seconds)
    # backward proper: the call without its graph set-up and its own forward run
    record["sweep_and_loss_cpu_s"] = (
        record["gradient_cpu_s"] - timer.cpu_seconds["setup"] - timer.cpu_seconds["forward"]
    )
    record["sweep_and_loss_over_forward_cpu"] = (
        record["sweep_and_loss_cpu_s"] / record["forward_cpu_s"]
    )
    record["backward_s"] = record["gradient_s"] - record["forward_s"]
    record["backward_over_forward"] = record["backward_s"] / record["forward_s"]
    record["backward_cpu_s"] = record["gradient_cpu_s"] - record["forward_cpu_s"]
    record["sweep_over_forward"] = timer.seconds["sweep"] / record["forward_s"]
    record["warnings"] = [str(w.message)[:200] for w in caught]
    record["same_spikes"] = bool(
        np.array_equal(plain.spike_indices, result.spike_indices)
        and np.array_equal(plain.spike_times, result.spike_times)
    )
    record["spikes"] = int(result.spike_indices.size)
    record["memory_bytes"] = int(result.memory_bytes)
    record["memory_bytes_per_spike"] = result.memory_bytes / result.spike_indices.size
    record["replay_error"] = float(result.replay_error)
    record["adjoint_growth"] = float(result.adjoint_growth)
    record["loss"] = float(result.loss)
    record["weights_finite"] = bool(np.all(np.isfinite(result.weights)))
    record["largest_abs_weight_gradient"] = float(np.max(np.abs(result.weights)))
    record["coupling_gradient"] = float(result.coupling)
    # the graph in the engine's draw order (int32 targets, int16 sorted slots, float64
    # weights) and dL/dw
    record["synapse_arrays_bytes"] = N * K * (4 + 2 + 8 + 8)
    return record


def _markdown(record, command):
    mb = 1e6
    phases, cpu = record["phases_s"], record["phases_cpu_s"]
    lines = [
        "# Experiment 3 (issue #11): one exact gradient at scale",
        "",
        f"- command: `{command}`",
        f"- CPU: {record['cpu']} ({record['logical_cpus']} logical CPUs visible; one used)",
        f"- numba {record['numba']}, numpy {record['numpy']}, Python {record['python']}",
        f"- load average (1/5/15 min): start {record['load_start']}; before forward "
        f"{record['load_before_forward']}; before gradient {record['load_before_gradient']}; "
        f"after {record['load_after_gradient']}",
        f"- network: theta, inhibitory balanced, N = {record['N']:,}, K = {record['K']}, "
        f"memory-free graph; state after {record['warm_spikes']:,} spikes; "
        f"checkpoint_every = {record['checkpoint_every']:,}",
        f"- loss: 3 spike times + readout MSE (20 neurons, 2 outputs, 3 times); value "
        f"{record['loss']:.6g}",
        "",
        "| quantity | value |",
        "| --- | --- |",
        f"| spikes | {record['spikes']:,} ({record['network_time_s']:.3f} s of network time, "
        f"{record['rate_hz']:.2f} Hz) |",
        f"| forward (`network.run`, same spikes) | {record['forward_s']:.1f} s wall "
        f"({record['forward_cpu_s']:.1f} s CPU) |",
        f"| `spike_gradients` total | {record['gradient_s']:.1f} s wall "
        f"({record['gradient_cpu_s']:.1f} s CPU) |",
        f"| - graph set-up (N K synapses drawn in the engine's order) | "
        f"{phases['setup']:.1f} s wall "
        f"({cpu['setup']:.1f} s CPU) |",
        f"| - its own forward run (segmented) | {phases['forward']:.1f} s wall "
        f"({cpu['forward']:.1f} s CPU) |",
        f"| - reverse sweep (+ replay of the segments beyond pulse_memory) | "
        f"{phases['sweep']:.1f} s wall ({cpu['sweep']:.1f} s CPU) |",
        f"| backward proper (call - set-up - its forward), CPU | "
        f"{record['sweep_and_loss_cpu_s']:.1f} s ({record['sweep_and_loss_over_forward_cpu']:.2f}x "
        "the forward's CPU time) |",
        f"| backward = total - forward (set-up included) | {record['backward_s']:.1f} s wall "
        f"({record['backward_over_forward']:.2f}x); {record['backward_cpu_s']:.1f} s CPU "
        f"({record['backward_cpu_s'] / record['forward_cpu_s']:.2f}x) |",
        f"| peak RSS after set-up / forward / gradient | "
        f"{record['peak_rss_after_setup_bytes'] / mb:,.0f} / "
        f"{record['peak_rss_after_forward_bytes'] / mb:,.0f} / "
        f"{record['peak_rss_after_gradient_bytes'] / mb:,.0f} MB |",
        f"| `memory_bytes` (spikes, checkpoints, recorded pulses, one replayed segment) | "
        f"{record['memory_bytes'] / mb:,.0f} MB ({record['memory_bytes_per_spike']:.0f} B per "
        "spike) |",
        f"| synapse arrays (graph in draw order 14 B + dL/dw 8 B per synapse) | "
        f"{record['synapse_arrays_bytes'] / mb:,.0f} MB |",
        f"| spikes identical to the plain run | {record['same_spikes']} |",
        f"| replay error (relative) | {record['replay_error']:.2g} |",
        f"| adjoint growth | {record['adjoint_growth']:.3g} |",
        f"| weight gradients finite | {record['weights_finite']} |",
        "",
    ]
    if record["warnings"]:
        lines.append("Warnings: " + "; ".join(record["warnings"]))
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=1e6, help="N (default 1e6)")
    parser.add_argument("--spikes", type=float, default=1e6, help="spikes (default 1e6)")
    parser.add_argument("--warm", type=float, default=1e5, help="spikes before (default 1e5)")
    parser.add_argument(
        "--every", type=float, default=None, help="checkpoint_every (default N / 10)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="experiments/results", help="output folder")
    args = parser.parse_args(argv)
    N = check_int(int(args.size), "--size", minimum=K + 1)
    n_spikes = check_int(int(args.spikes), "--spikes", minimum=1)
    warm = check_int(int(args.warm), "--warm", minimum=0)
    every = check_int(int(args.every or max(N // 10, 64)), "--every", minimum=1)
    out = pathlib.Path(check_output_folder(args.out, "--out"))
    out.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", "experiments/sparseprop_gradient_scale.py", *sys.argv[1:]])
    record = run_experiment(N, n_spikes, warm, every, args.seed)
    record.update(
        command=command,
        cpu=cpu_model(),
        logical_cpus=os.cpu_count(),
        numba=numba.__version__,
        numpy=np.__version__,
        python=platform.python_version(),
    )
    text = _markdown(record, command)
    print(text)
    with atomic_write(out / "sparseprop_gradient_scale.json", mode="w") as stream:
        json.dump(record, stream, indent=1)
        stream.write("\n")
    with atomic_write(out / "sparseprop_gradient_scale.md", mode="w") as stream:
        stream.write(text)


if __name__ == "__main__":
    main()
