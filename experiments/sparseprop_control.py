"""Exact-gradient control of a large inhibitory theta network (issue 11, experiment 1).

An inhibitory balanced theta network (Monteforte & Wolf 2010; the SparseProp reference
network, ``balanced_network``) of N = 10^4 neurons, K = 100, runs for T = 0.2 s from a
fixed random state. 200 chosen neurons should fire their first spike at target times
(each earlier than now by 2-10 ms; `spike_time_loss`); only the N per-neuron drives
:math:`I_i` are trained, by SGD with momentum on the exact event-based gradient
(`neurosrnn.sparseprop.training.train_exact`, drives projected onto ``[1e-3, inf)``).
The backward growth rate of the adjoint is reported next to :math:`\\lambda_1`
(`gradient_growth`): with :math:`e^{\\lambda_1 T}` of a few thousand no window is
needed. Why SGD and not Adam, and why not a readout target, is in the results file.

Run (about 4 minutes on one core)::

    .venv/bin/python experiments/sparseprop_control.py --out experiments/results

``--quick`` runs N = 1000 for a few steps (a smoke test). Results:
``<out>/sparseprop_control.json``, ``.md`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import optax

from neurosrnn.atomic import atomic_write
from neurosrnn.sparseprop import balanced_network, gradient_growth, spike_time_loss
from neurosrnn.sparseprop.training import train_exact

COMMAND = "python experiments/sparseprop_control.py --out experiments/results"


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="experiments/results")
    parser.add_argument("--N", type=int, default=10_000)
    parser.add_argument("--K", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="target rate nu0 (Hz)")
    parser.add_argument("--duration", type=float, default=0.2, help="run length T (s)")
    parser.add_argument("--chosen", type=int, default=200, help="neurons with a target")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--shift", type=float, default=0.01, help="largest target shift (s)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.N, arguments.chosen, arguments.steps, arguments.seeds = 1000, 50, 5, [0]
    return arguments


def _first_spikes(network, state, duration, neurons):
    run = network.run(state, duration=duration)
    first = np.full(neurons.size, np.nan)
    for m, n in enumerate(neurons):
        hits = run.spike_times[run.spike_indices == n]
        if hits.size:
            first[m] = hits[0]
    return first, run


def _task(arguments, seed):
    """Network, start state, chosen neurons and their target first-spike times."""
    net = balanced_network(
        arguments.N, arguments.K, model="theta", rate=arguments.rate, seed=seed,
        memory_free=False,
    )  # fmt: skip
    state = net.initial_state(seed=seed + 1000)
    rng = np.random.default_rng(seed + 2000)
    first, _ = _first_spikes(net, state, arguments.duration, np.arange(arguments.N))
    # chosen: neurons whose first spike lies in the middle of the run
    window = arguments.duration * np.array([0.2, 0.6])
    candidates = np.flatnonzero((first > window[0]) & (first < window[1]))
    neurons = np.sort(rng.choice(candidates, arguments.chosen, replace=False))
    # target: each chosen first spike earlier by a random shift in [shift/5, shift]
    # (later targets can silence a neuron: in the balanced state the net input sits near
    # threshold, and a neuron without a first spike leaves the loss undefined)
    targets = first[neurons] - rng.uniform(arguments.shift / 5, arguments.shift, neurons.size)
    loss = spike_time_loss(neurons, targets)
    return net, state, neurons, targets, loss


def _one_seed(arguments, seed):
    net, state, neurons, targets, loss = _task(arguments, seed)
    started = time.perf_counter()
    result = train_exact(
        net,
        state,
        loss,
        steps=arguments.steps,
        parameters=("drive",),
        optimizer=optax.sgd(arguments.lr, momentum=0.9),
        duration=arguments.duration,
        progress=True,
    )
    seconds = time.perf_counter() - started
    firsts = {}
    for name, network in (("before", net), ("after", result.network)):
        start = network.initial_state(model_state=net.model_state(state))
        first, run = _first_spikes(network, start, arguments.duration, neurons)
        firsts[name] = (first, run.n_spikes / (arguments.N * arguments.duration))
    growth = gradient_growth(net, state, n_spikes=2 * arguments.N, seed=seed)
    change = result.parameters["drive"] / result.initial_parameters["drive"] - 1
    error = {k: float(np.sqrt(np.nanmean((v[0] - targets) ** 2))) for k, v in firsts.items()}
    return {
        "seed": seed,
        "loss": result.history["loss"],
        "gradient_norm": result.history["gradient_norm"],
        "final_loss": result.final_loss,
        "rms_error_before_ms": 1e3 * error["before"],
        "rms_error_after_ms": 1e3 * error["after"],
        "seconds": seconds,
        "seconds_per_step": float(np.mean(result.seconds)),
        "rate_before": firsts["before"][1],
        "rate_after": firsts["after"][1],
        "drive_change_rms": float(np.sqrt(np.mean(change**2))),
        "drive_change_max": float(np.max(np.abs(change))),
        "growth_rate": growth.growth_rate,
        "lambda1": growth.lambda1,
        "growth_factor_over_T": float(np.exp(growth.lambda1 * arguments.duration)),
        "_trace": (targets, firsts["before"][0], firsts["after"][0]),
    }


def _figure(path, runs, arguments):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for run in runs:
        left.semilogy(run["loss"], label=f"seed {run['seed']}")
    left.set_xlabel("step")
    left.set_ylabel("loss (s$^2$)")
    left.set_title(f"training the {arguments.N} drives")
    left.legend()
    targets, before, after = runs[0]["_trace"]
    right.plot(1e3 * targets, 1e3 * before, ".", color="0.6", label="before")
    right.plot(1e3 * targets, 1e3 * after, ".", color="C3", label="after")
    span = 1e3 * np.array([targets.min(), targets.max()])
    right.plot(span, span, "k-", lw=0.8, label="target")
    right.set_xlabel("target first-spike time (ms)")
    right.set_ylabel("first-spike time (ms)")
    right.set_title(f"seed {runs[0]['seed']}")
    right.legend(loc="upper left")
    figure.tight_layout()
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", dpi=110)
    plt.close(figure)


def _markdown(runs, arguments, total_seconds):
    lines = [
        "# Exact-gradient control of an inhibitory theta network (issue 11)",
        "",
        f"Generated by `experiments/sparseprop_control.py`; command: `{COMMAND}`"
        + (" `--quick`" if arguments.quick else "")
        + f" ({total_seconds:.0f} s in all on one core).",
        "",
        f"Network: `balanced_network(N={arguments.N}, K={arguments.K}, model='theta', "
        f"rate={arguments.rate:g}, seed=s)`, start state `initial_state(seed=s + 1000)`, "
        f"run of T = {arguments.duration:g} s. Task: {arguments.chosen} chosen neurons "
        "(seed s + 2000, among those whose first spike lies in [0.2 T, 0.6 T]) should fire "
        "their first spike earlier by a random shift in [2, 10] ms (`spike_time_loss`). "
        f"Trained: the {arguments.N} drives only (SGD with momentum 0.9, lr "
        f"{arguments.lr:g}, {arguments.steps} steps, drives projected onto [1e-3, inf)); "
        "the gradient is the exact event-based one (`train_exact`), untruncated.",
        "",
        "| seed | loss before (s^2) | loss after | ratio | rms error before/after (ms) | "
        "rate before/after (Hz) | rms drive change | s/step | adjoint growth (1/s) | "
        "lambda1 (1/s) | exp(lambda1 T) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        lines.append(
            f"| {run['seed']} | {run['loss'][0]:.3g} | {run['final_loss']:.3g} | "
            f"{run['final_loss'] / run['loss'][0]:.3f} | {run['rms_error_before_ms']:.2f}/"
            f"{run['rms_error_after_ms']:.2f} | {run['rate_before']:.2f}/{run['rate_after']:.2f} | "
            f"{run['drive_change_rms']:.4f} | {run['seconds_per_step']:.2f} | "
            f"{run['growth_rate']:.1f} | {run['lambda1']:.1f} | "
            f"{run['growth_factor_over_T']:.3g} |"
        )
    lines += [
        "",
        "Only small drive changes are needed (rms change above), and the mean rate "
        "barely moves. Two observations shaped the set-up. (1) Adam (`make_optimizer`) "
        "fails here: its sign-like per-coordinate steps move all N drives by the learning "
        "rate, a large random perturbation of a chaotic network, and the loss rises; a "
        "plain gradient step (SGD) keeps the perturbation along the exact gradient, "
        "along which the loss stayed near-linear up to a step norm of about 1e-3 "
        "(N = 10^4, seed 0). (2) Targets later than "
        "the current first spike, or too large steps, silence neurons (in the balanced "
        "state the net input sits near threshold), and a spike-time loss of a neuron "
        "that no longer fires is undefined. A readout-signal task with `LeakyReadout` "
        "was tried first and also fails: its exponential kernel jumps by W when a spike "
        "crosses a sampling time, which the gradient cannot see, so descent drives spikes "
        "onto the sampling times and the loss grows. The backward growth rate of the "
        "adjoint is close to lambda1, as expected.",
        "",
        "![loss curve and first spikes before and after](sparseprop_control.png)",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    arguments = _arguments(argv)
    started = time.perf_counter()
    runs = []
    for seed in arguments.seeds:
        run = _one_seed(arguments, seed)
        print(
            f"seed {seed}: loss {run['loss'][0]:.4f} -> {run['final_loss']:.4f} in "
            f"{run['seconds']:.0f} s; lambda1 {run['lambda1']:.1f}/s, growth "
            f"{run['growth_rate']:.1f}/s",
            flush=True,
        )
        runs.append(run)
    total = time.perf_counter() - started
    out = arguments.out
    os.makedirs(out, exist_ok=True)
    _figure(os.path.join(out, "sparseprop_control.png"), runs, arguments)
    summary = {
        "command": COMMAND + (" --quick" if arguments.quick else ""),
        "options": {k: v for k, v in vars(arguments).items() if k != "out"},
        "seconds": total,
        "runs": [{k: v for k, v in run.items() if not k.startswith("_")} for run in runs],
    }
    with atomic_write(os.path.join(out, "sparseprop_control.json"), "w") as stream:
        json.dump(summary, stream, indent=1)
    with atomic_write(os.path.join(out, "sparseprop_control.md"), "w") as stream:
        stream.write(_markdown(runs, arguments, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
