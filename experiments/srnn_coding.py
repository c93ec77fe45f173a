"""Input codes against the number of time steps: direct, rate, latency and hybrid (issue 16).

Claim checked (He 2024, arXiv:2408.12407, "ASNN"): the hybrid input code, one analog
frame followed by ``T - 1`` latency frames, reaches the accuracy of the rate and latency
codes with fewer time steps.

Task: MNIST-1D (Greydanus & Kobak 2024) read as a *static* 40-value feature vector, not
as a sequence. Every feature is scaled to [0, 1] with the training set's per-feature
minimum and maximum (test values clipped). Most scaled values lie between 0.3 and 0.7
and the class is carried by small amplitude differences, so a code that quantises
(latency: ``T`` levels) or samples (rate: a binomial count out of ``T``) loses
information at small ``T``. This is unlike the clean 8x8 digits of
``srnn_experiments.py`` (experiment 2), where about 58 % of the pixels are exactly 0 or
1 and every code carries nearly all of the information.

Codes (`neurosrnn.coding.encode`, uniform latency thresholds): ``direct`` (analog value
at every step), ``rate`` (Bernoulli spikes with probability ``x`` per step; drawn once
per sample from the run's seed, the test set from ``seed + 10000``), ``latency`` (one
spike per feature, at the first step ``i`` with ``x >= 1 - (i + 1)/T``) and ``hybrid``
(analog frame at step 0 on its own 40 input channels, latency frames with thresholds
``(T - 1)/T .. 1/T`` at steps 1 .. T-1 on another 40).

Network and budget, identical for every code and ``T``: one recurrent ALIF layer of
128 neurons with learned time constants (`neurosrnn.learning.srnn.SRNNConfig`, initial
``tau_m ~ N(3, 1)``, ``tau_adp ~ N(10, 3)``, ``tau_out ~ N(3, 1)`` steps, ``b_j0 = 0.01``,
``beta = 1.8``, loss on the time-mean readout), Adam with a cosine schedule, gradient
clipping at norm 1, time-constant learning rate x3, ``--epochs`` epochs, batch 64.

Learning-rate search: for every code the same grid ``--lrs`` at ``T = --search-T``,
seed 0, trained on 85 % of the training set and scored on the other 15 % (a seeded
split); each code then keeps its best rate for every ``T`` and seed. Final runs train on
the whole training set and are scored on the test set.

Resumable: every search and final run writes one small JSON file (atomically) under
``<out>/srnn_coding/``; a rerun skips files whose settings match. Final runs go seed by
seed, so an interrupted run leaves complete seeds. A non-spiking reference, an MLP
on each code's decoded values, shows how much class information the code itself keeps.
The report (``srnn_coding.json``, ``.md``, ``.png``) is rebuilt from the files that
exist (``--report-only``).

Run (about 35 min on a loaded 2-core machine: the search 2 min, 5 seeds x 32 SRNN runs
20 min, 160 MLP references 15 min)::

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
    nice -n 10 .venv/bin/python experiments/srnn_coding.py --out experiments/results

``--quick`` is a smoke test (small data, 2 epochs, T in {1, 2, 4}, 2 seeds) written to a
temporary folder unless ``--out`` is given.

References
----------
He H (2024), arXiv:2408.12407. Greydanus S & Kobak D (2024), Scaling down deep learning
with MNIST-1D, ICML. Yin B, Corradi F & Bohte SM (2021), Nat. Mach. Intell. 3:905.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time
import warnings

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.coding import CODINGS, encode
from neurosrnn.learning import data as datasets
from neurosrnn.learning.srnn import SRNNConfig
from neurosrnn.learning.train import evaluate, train
from neurosrnn.validation import check_int

T_GRID = (1, 2, 3, 4, 6, 8, 12, 16)
LR_GRID = (6e-4, 2e-3, 6e-3, 2e-2, 6e-2, 2e-1)
HIDDEN = 128
TEST_SEED_OFFSET = 10_000
SPLIT_SEED = 12345
COLOURS = {"direct": "C0", "rate": "C1", "latency": "C2", "hybrid": "C3"}


# ---------------------------------------------------------------- data
def load_task(quick=False):
    """MNIST-1D as static features in [0, 1]: full train, search split, test."""
    data = datasets.mnist1d(n_samples=600 if quick else 5000)
    x_train = data.x_train[:, :, 0]
    x_test = data.x_test[:, :, 0]
    low, high = x_train.min(axis=0), x_train.max(axis=0)

    def scale(x):
        return np.clip((x - low) / (high - low), 0.0, 1.0)

    x_train, x_test = scale(x_train), scale(x_test)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x_train))
    n_val = int(round(0.15 * len(order)))
    val, fit = order[:n_val], order[n_val:]
    return {
        "x_train": x_train,
        "y_train": data.y_train,
        "x_fit": x_train[fit],
        "y_fit": data.y_train[fit],
        "x_val": x_train[val],
        "y_val": data.y_train[val],
        "x_test": x_test,
        "y_test": data.y_test,
        "n_train": len(x_train),
        "n_fit": len(fit),
        "n_val": len(val),
        "n_test": len(x_test),
    }


def _config(n_in):
    return SRNNConfig(
        n_in=n_in,
        hidden=(HIDDEN,),
        n_out=10,
        adaptive=True,
        learn_tau=True,
        beta=1.8,
        b_j0=0.01,
        tau_m_init=(3.0, 1.0),
        tau_adp_init=(10.0, 3.0),
        tau_out_init=(3.0, 1.0),
        loss="mean",
    )


def _input_cost(frames, coding, n_features):
    """Input spikes and analog input values per sample (mean over samples)."""
    if coding == "direct":
        analog, spikes = frames, np.zeros_like(frames[..., :0])
    elif coding == "hybrid":
        analog, spikes = frames[..., :n_features], frames[..., n_features:]
    else:
        analog, spikes = frames[..., :0], frames
    n = len(frames)
    return {
        "input_spikes_per_sample": float(np.count_nonzero(spikes) / n),
        "analog_inputs_per_sample": float(np.count_nonzero(analog) / n),
    }


def run_one(coding, T, lr, seed, x_fit, y_fit, x_eval, y_eval, epochs, batch_size):
    """Encode, train and evaluate one network; return a JSON-ready record."""
    started = time.perf_counter()
    frames_fit = encode(x_fit, coding, T, seed=seed)
    frames_eval = encode(x_eval, coding, T, seed=seed + TEST_SEED_OFFSET)
    config = _config(frames_fit.shape[2])
    trained = train(
        config,
        frames_fit,
        y_fit,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_schedule="cosine",
        clip_norm=1.0,
        tau_lr_factor=3.0,
        seed=seed,
        progress=False,
    )
    result = evaluate(trained.params, frames_eval, y_eval, config)
    rate = float(result["firing_rates"][0])
    record = {
        "coding": coding,
        "T": T,
        "lr": lr,
        "seed": seed,
        "accuracy": result["accuracy"],
        "loss": result["loss"],
        "firing_rate": rate,
        "hidden_spikes_per_sample": rate * HIDDEN * T,
        **_input_cost(frames_eval, coding, x_eval.shape[1]),
        "final_train_loss": trained.history["loss"][-1],
        "final_train_accuracy": trained.history["accuracy"][-1],
        "config": config.to_dict(),
        "seconds": time.perf_counter() - started,
    }
    return record


def decode_frames(frames, coding, n_features):
    """The value each code lets a reader recover per feature, from its frames.

    direct: the analog value; rate: the spike count over ``T``; latency: ``(T - i)/T``
    for a spike at step ``i`` (0 without a spike), a label that falls with the spike
    step; hybrid: the analog frame and the latency value of steps ``1 .. T-1``
    side by side (``2 n_features`` columns).
    """
    T = frames.shape[1]
    weights = (T - np.arange(T)) / T
    if coding == "direct":
        return frames[:, 0, :]
    if coding == "rate":
        return frames.mean(axis=1)
    if coding == "latency":
        return np.einsum("ntf,t->nf", frames, weights)
    spikes = frames[:, :, n_features:]
    return np.concatenate([frames[:, 0, :n_features], np.einsum("ntf,t->nf", spikes, weights)], 1)


def run_reference(coding, T, seed, task):
    """Non-spiking reference: an MLP (128 ReLU units) on the decoded code.

    It shows how much class information each code keeps at ``T`` steps for a reader
    that is not a spiking network (same train/test sets and rate-code draws as the
    SRNN runs of this seed).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    started = time.perf_counter()
    n_features = task["x_train"].shape[1]
    features = {}
    for part, offset in (("train", 0), ("test", TEST_SEED_OFFSET)):
        frames = encode(task[f"x_{part}"], coding, T, seed=seed + offset)
        features[part] = decode_frames(frames, coding, n_features)
    model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), max_iter=300, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features["train"], task["y_train"])
    return {
        "coding": coding,
        "T": T,
        "seed": seed,
        "accuracy": float(model.score(features["test"], task["y_test"])),
        "seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- files
def _write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_write(path) as stream:
        stream.write((json.dumps(data, indent=1) + "\n").encode())


def _read(path):
    with open(path) as stream:
        return json.load(stream)


def _log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


def _settings(args, task):
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "hidden": HIDDEN,
        "n_train": task["n_train"],
        "n_test": task["n_test"],
        "quick": bool(args.quick),
    }


def _done(path, settings, **fields):
    """Whether ``path`` holds a run with these settings and fields."""
    if not os.path.exists(path):
        return False
    record = _read(path)
    same = record.get("settings") == settings
    return same and all(record.get(k) == v for k, v in fields.items())


def _lr_name(lr):
    return f"{lr:.0e}".replace("-0", "-")


def run_search(root, args, task, settings):
    """The learning-rate grid of every code at ``T = search_T``, seed 0, validation split."""
    for lr in args.lrs:  # round-robin over codes: every prefix is a fair budget
        for coding in args.codings:
            path = os.path.join(root, "search", f"{coding}_lr{_lr_name(lr)}.json")
            if _done(path, settings, lr=lr, T=args.search_T):
                continue
            record = run_one(
                coding,
                args.search_T,
                lr,
                0,
                task["x_fit"],
                task["y_fit"],
                task["x_val"],
                task["y_val"],
                args.epochs,
                args.batch_size,
            )
            record["settings"] = settings
            _write_json(path, record)
            _log(
                f"search {coding} lr {lr:g}: val {record['accuracy']:.3f} "
                f"({record['seconds']:.0f} s)"
            )


def best_lrs(root, codings):
    """The learning rate with the best validation accuracy per code (ties: smaller lr)."""
    best = {}
    for coding in codings:
        runs = [_read(p) for p in sorted(glob.glob(os.path.join(root, "search", coding + "_*")))]
        if runs:
            best[coding] = max(runs, key=lambda r: (r["accuracy"], -r["lr"]))["lr"]
    return best


def run_finals(root, args, task, settings):
    lrs = best_lrs(root, args.codings)
    for seed in range(args.seeds):
        for T in args.T:
            for coding in args.codings:
                path = os.path.join(root, "runs", f"{coding}_T{T:02d}_seed{seed}.json")
                if _done(path, settings, lr=lrs[coding]):
                    continue
                record = run_one(
                    coding,
                    T,
                    lrs[coding],
                    seed,
                    task["x_train"],
                    task["y_train"],
                    task["x_test"],
                    task["y_test"],
                    args.epochs,
                    args.batch_size,
                )
                record["settings"] = settings
                _write_json(path, record)
                _log(
                    f"seed {seed} T {T:2d} {coding:8s}: test {record['accuracy']:.3f}, "
                    f"rate {record['firing_rate']:.3f} ({record['seconds']:.0f} s)"
                )
        write_report(args.out, settings)


def run_references(root, args, task, settings):
    for seed in range(args.seeds):
        for T in args.T:
            for coding in args.codings:
                path = os.path.join(root, "reference", f"{coding}_T{T:02d}_seed{seed}.json")
                if _done(path, settings):
                    continue
                record = run_reference(coding, T, seed, task)
                record["settings"] = settings
                _write_json(path, record)
        _log(f"reference MLPs of seed {seed} done")


# ---------------------------------------------------------------- report
def _mean_sd(values):
    values = np.asarray(values, dtype=float)
    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), sd


def summarise(root, settings):
    """Search table and per-(code, T) statistics of the runs with these settings."""
    search = [
        r
        for r in map(_read, sorted(glob.glob(os.path.join(root, "search", "*.json"))))
        if r.get("settings") == settings
    ]
    lrs = {}
    for r in search:
        if r["coding"] not in lrs or (r["accuracy"], -r["lr"]) > lrs[r["coding"]][1:]:
            lrs[r["coding"]] = (r["lr"], r["accuracy"], -r["lr"])
    lrs = {c: v[0] for c, v in lrs.items()}
    runs = [
        r
        for r in map(_read, sorted(glob.glob(os.path.join(root, "runs", "*.json"))))
        if r.get("settings") == settings and r["lr"] == lrs.get(r["coding"])
    ]
    table = {}
    for coding in CODINGS:
        for T in sorted({r["T"] for r in runs if r["coding"] == coding}):
            group = sorted(
                (r for r in runs if r["coding"] == coding and r["T"] == T),
                key=lambda r: r["seed"],
            )
            acc_mean, acc_sd = _mean_sd([r["accuracy"] for r in group])
            table.setdefault(coding, {})[str(T)] = {
                "seeds": [r["seed"] for r in group],
                "accuracy": [r["accuracy"] for r in group],
                "accuracy_mean": acc_mean,
                "accuracy_sd": acc_sd,
                "firing_rate_mean": float(np.mean([r["firing_rate"] for r in group])),
                "hidden_spikes_per_sample_mean": float(
                    np.mean([r["hidden_spikes_per_sample"] for r in group])
                ),
                "input_spikes_per_sample_mean": float(
                    np.mean([r["input_spikes_per_sample"] for r in group])
                ),
                "analog_inputs_per_sample_mean": float(
                    np.mean([r["analog_inputs_per_sample"] for r in group])
                ),
                "seconds_mean": float(np.mean([r["seconds"] for r in group])),
            }
    reference = {}
    for r in map(_read, sorted(glob.glob(os.path.join(root, "reference", "*.json")))):
        if r.get("settings") == settings:
            reference.setdefault(r["coding"], {}).setdefault(str(r["T"]), []).append(r)
    reference = {
        c: {
            T: dict(
                zip(
                    ("accuracy_mean", "accuracy_sd"),
                    _mean_sd([r["accuracy"] for r in rs]),
                    strict=True,
                ),
                seeds=sorted(r["seed"] for r in rs),
            )
            for T, rs in sorted(rows.items(), key=lambda item: int(item[0]))
        }
        for c, rows in reference.items()
    }
    search_rows = [
        {k: r[k] for k in ("coding", "T", "lr", "seed", "accuracy", "firing_rate", "seconds")}
        for r in sorted(search, key=lambda r: (r["coding"], r["lr"]))
    ]
    return {
        "settings": settings,
        "search": search_rows,
        "best_lr": lrs,
        "table": table,
        "reference_mlp": reference,
        "verdict": _verdict(table),
    }


def _steps_to_reach(rows, target):
    """Smallest T whose mean accuracy reaches ``target`` (None if none does)."""
    reached = [int(T) for T, e in rows.items() if e["accuracy_mean"] >= target]
    return min(reached) if reached else None


def _difference(a, b):
    return {
        "difference": a["accuracy_mean"] - b["accuracy_mean"],
        "combined_sd": float(np.hypot(a["accuracy_sd"], b["accuracy_sd"])),
    }


def _verdict(table, tolerance=0.01):
    """Statements on the ASNN claim, computed from the table.

    Three views: hybrid against the better of rate and latency at equal ``T``; the
    fewest steps at which rate or latency match hybrid's accuracy at each ``T``; and
    the fewest steps at which each code comes within ``tolerance`` of the best rate or
    latency accuracy anywhere on the grid.
    """
    temporal = {c: table[c] for c in ("rate", "latency") if c in table}
    if "hybrid" not in table or not temporal:
        return {"text": "incomplete"}
    hybrid = table["hybrid"]
    best_temporal = max(e["accuracy_mean"] for rows in temporal.values() for e in rows.values())
    target = best_temporal - tolerance
    reach = {c: _steps_to_reach(rows, target) for c, rows in table.items()}
    vs_temporal, matched = {}, {}
    for T in sorted(hybrid, key=int):
        present = {c: rows[T] for c, rows in temporal.items() if T in rows}
        if present:
            code = max(present, key=lambda c: present[c]["accuracy_mean"])
            vs_temporal[T] = {"code": code, **_difference(hybrid[T], present[code])}
        matched[T] = {
            c: _steps_to_reach(rows, hybrid[T]["accuracy_mean"]) for c, rows in temporal.items()
        }
    vs_direct = {
        T: _difference(hybrid[T], table["direct"][T])
        for T in sorted(hybrid, key=int)
        if T in table.get("direct", {})
    }
    return {
        "best_rate_or_latency_accuracy": best_temporal,
        "target": target,
        "tolerance": tolerance,
        "steps_to_reach_target": reach,
        "hybrid_minus_best_temporal": vs_temporal,
        "steps_for_temporal_to_match_hybrid": matched,
        "hybrid_minus_direct": vs_direct,
    }


def _fmt_acc(entry):
    return f"{100 * entry['accuracy_mean']:.1f} ± {100 * entry['accuracy_sd']:.1f}"


def write_report(out, settings):
    """Rebuild ``srnn_coding.json``, ``.md`` and ``.png`` from the per-run files."""
    root = os.path.join(out, "srnn_coding")
    summary = summarise(root, settings)
    _write_json(os.path.join(out, "srnn_coding.json"), summary)
    table = summary["table"]
    T_values = sorted({int(T) for rows in table.values() for T in rows})
    header = "| code | " + " | ".join(f"T = {T}" for T in T_values) + " |"
    rule = "| --- " * (len(T_values) + 1) + "|"

    def grid(fmt, source=table):
        lines = [header, rule]
        for c in (c for c in CODINGS if c in source):
            cells = [fmt(source[c][str(T)]) if str(T) in source[c] else "" for T in T_values]
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        return lines

    n_seeds = sorted({len(e["seeds"]) for rows in table.values() for e in rows.values()})
    lines = [
        "# Input codes against the number of time steps (issue 16)",
        "",
        "Generated by `experiments/srnn_coding.py` from the per-run files under "
        "`srnn_coding/`. Claim checked: the ASNN hybrid code (one analog frame, then "
        "latency frames) reaches the accuracy of rate and latency codes in fewer time "
        "steps (He 2024, arXiv:2408.12407).",
        "",
        "## Set-up",
        "",
        "- Task: MNIST-1D (Greydanus & Kobak 2024; the package's generator and split, "
        f"{settings['n_train']} training and {settings['n_test']} test sequences) read "
        "as a static vector of 40 "
        "features, each scaled to [0, 1] by the training set's minimum and maximum "
        "(test values clipped). Half of the scaled values lie between about 0.42 and "
        "0.57; the class is in small amplitude differences, so quantising (latency: T "
        "levels) or sampling (rate: a count out of T) loses information at small T. "
        "On the clean 8x8 digits (experiment 2 of `srnn_experiments.py`) about 58 % "
        "of the pixels are exactly 0 or 1 and the code hardly mattered.",
        "- Codes: `neurosrnn.coding.encode` with uniform thresholds. direct = the "
        "analog vector at every step; rate = Bernoulli(x) spikes per step, drawn once "
        "per sample from the run's seed (test set: seed + 10000); latency = one spike "
        "per feature at the first step i with x >= 1 - (i+1)/T (T = 1: every feature "
        "with x > 0 fires at step 0); hybrid = the analog vector at step 0 on its own "
        "40 channels, latency frames with thresholds (T-1)/T .. 1/T at steps 1 .. T-1 "
        "(T = 1: the analog frame only).",
        f"- Network, the same for every code and T: one recurrent ALIF layer of {HIDDEN} "
        "neurons, learned time constants (initial tau_m ~ N(3, 1), tau_adp ~ N(10, 3), "
        "readout tau ~ N(3, 1) steps), b_j0 = 0.01, beta = 1.8, leaky-integrator "
        "readout, cross-entropy of the time-mean readout. Adam, cosine schedule, "
        f"gradient norm clipped at 1, time-constant learning rate x3, "
        f"{settings['epochs']} epochs, batch {settings['batch_size']}.",
        f"- Seeds per cell: {', '.join(map(str, n_seeds))} (seed s initialises the "
        "network, orders the batches and draws the rate code). Accuracy on the test set, "
        "mean ± sd (ddof 1) over seeds, in %.",
        '- Command (resumable; one process, one core): `XLA_FLAGS="--xla_cpu_multi_thread_'
        'eigen=false intra_op_parallelism_threads=1" nice -n 10 .venv/bin/python '
        "experiments/srnn_coding.py --out experiments/results`.",
        "",
        "## Test accuracy (%)",
        "",
        *grid(_fmt_acc),
        "",
        "![accuracy against T](srnn_coding.png)",
        "",
        "## Verdict",
        "",
        *_verdict_lines(summary["verdict"]),
        "",
        "## Non-spiking reference: how much each code keeps",
        "",
        "An MLP (sklearn, 128 ReLU units, Adam, 300 iterations) trained on the decoded "
        "code of the same training set and draws: direct = the analog value, rate = "
        "spike count / T, latency = (T - i)/T for a spike at step i (0 if none), hybrid "
        "= the analog value and the latency value side by side. Test accuracy (%), mean "
        "± sd over the same seeds. A gap between this and the SRNN is the network's, "
        "not the code's.",
        "",
        *(grid(_fmt_acc, summary["reference_mlp"]) if summary["reference_mlp"] else ["(not run)"]),
        "",
        "## Cost per sample (test set, mean over seeds)",
        "",
        "Hidden-layer firing rate (spikes per neuron per step):",
        "",
        *grid(lambda e: f"{e['firing_rate_mean']:.3f}"),
        "",
        "Hidden spikes per sample:",
        "",
        *grid(lambda e: f"{e['hidden_spikes_per_sample_mean']:.0f}"),
        "",
        "Input spikes per sample / analog input values per sample (an analog value "
        "costs a multiply-accumulate per target neuron, a spike an accumulate):",
        "",
        *grid(
            lambda e: (
                f"{e['input_spikes_per_sample_mean']:.0f} / "
                f"{e['analog_inputs_per_sample_mean']:.0f}"
            ),
        ),
        "",
        "## Limits",
        "",
        "- The learning rate was searched at one T only; a code whose best rate moves "
        "with T (longer BPTT at large T) may be handicapped away from the search T.",
        "- The rate code is drawn once per training sample, not redrawn every epoch "
        "(the trainer takes fixed arrays); redrawing would act as data augmentation.",
        "- One small network (one recurrent layer) and one task; the ASNN paper uses "
        "deep convolutional networks on images, with step-specific leak and gain "
        "(`neurosrnn.learning` trains time constants shared across steps).",
        *[
            f"- The best learning rate of {c} ({lr:g}) lies at the edge of the searched "
            "grid; a wider grid might find a better one."
            for c, lr in summary["best_lr"].items()
            if lr in _grid_edges(summary["search"], c)
        ],
        "- The MLP reference is itself trained (300 Adam iterations, no early "
        "stopping) and varies with its seed; read it as a rough measure of what each "
        "code keeps, not as a bound.",
        "",
        "## Learning-rate search",
        "",
        "Same grid for every code, at T = "
        + ", ".join(sorted({str(r["T"]) for r in summary["search"]}))
        + ", seed 0, trained on 85 % of the training set and scored on the other 15 % "
        "(seeded split); each code keeps its best rate (bold) for every T and seed.",
        "",
        "| code | lr | validation accuracy | firing rate | seconds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in summary["search"]:
        mark = "**" if summary["best_lr"].get(r["coding"]) == r["lr"] else ""
        lines.append(
            f"| {r['coding']} | {mark}{r['lr']:g}{mark} | {r['accuracy']:.3f} "
            f"| {r['firing_rate']:.3f} | {r['seconds']:.0f} |"
        )
    with atomic_write(os.path.join(out, "srnn_coding.md")) as stream:
        stream.write(("\n".join(lines) + "\n").encode())
    if table:
        _figure(table, os.path.join(out, "srnn_coding.png"))
    return summary


def _split_by_sd(differences):
    """T values where a difference is above, within or below its combined sd."""
    above = [T for T, d in differences.items() if d["difference"] > d["combined_sd"]]
    below = [T for T, d in differences.items() if d["difference"] < -d["combined_sd"]]
    within = [T for T in differences if T not in above and T not in below]
    return above, within, below


def _Ts(values):
    return ", ".join(values) if values else "none"


def _grid_edges(search_rows, coding):
    lrs = [r["lr"] for r in search_rows if r["coding"] == coding]
    return (min(lrs), max(lrs)) if len(lrs) > 1 else ()


def _verdict_lines(verdict):
    if "target" not in verdict:
        return ["Not enough runs yet for a verdict."]
    lines = []
    vs = verdict["hybrid_minus_best_temporal"]
    above, within, below = _split_by_sd(vs)
    cells = ", ".join(
        f"T = {T}: {100 * d['difference']:+.1f} (vs {d['code']})" for T, d in vs.items()
    )
    lines += [
        "1. **Equal T.** Hybrid minus the better of rate and latency at the same T "
        f"(points): {cells}. Hybrid is ahead by more than the combined sd at T = "
        f"{_Ts(above)}, within it at T = {_Ts(within)}, behind at T = {_Ts(below)}.",
    ]
    pairs = []
    for T, codes in verdict["steps_for_temporal_to_match_hybrid"].items():
        reached = [t for t in codes.values() if t is not None]
        first = min(reached) if reached else None
        pairs.append(f"T = {T} -> {'never' if first is None else first}")
    lines.append(
        "2. **Matched accuracy.** Fewest steps at which rate or latency (mean) reaches "
        f"hybrid's mean accuracy at T: {'; '.join(pairs)}."
    )
    reach = verdict["steps_to_reach_target"]
    lines.append(
        "3. **Plateau.** Best mean accuracy of rate or latency on the grid: "
        f"{100 * verdict['best_rate_or_latency_accuracy']:.1f} %; fewest steps to come "
        f"within {100 * verdict['tolerance']:.0f} point of it: "
        + "; ".join(f"{c} {'never' if T is None else f'T = {T}'}" for c, T in reach.items())
        + "."
    )
    h = reach.get("hybrid")
    temporal = [reach[c] for c in ("rate", "latency") if reach.get(c) is not None]
    plateau_earlier = h is not None and temporal and h < min(temporal)
    if above and not below and plateau_earlier:
        overall = "**The ASNN claim holds here:** hybrid is ahead at equal T and reaches "
        overall += "the temporal codes' best accuracy in fewer steps."
    elif above:
        overall = (
            f"**The ASNN claim holds only in part here:** hybrid is ahead of rate and "
            f"latency at T = {_Ts(above)}, i.e. it needs fewer steps for a given "
            f"accuracy there, but "
            + (
                "it reaches their best accuracy no earlier than they do"
                if not plateau_earlier
                else "it falls behind at other T"
            )
            + "."
        )
    else:
        overall = "**The ASNN claim does not hold here:** hybrid is never ahead of the "
        overall += "better of rate and latency by more than the seed spread."
    lines += ["", overall]
    diffs = verdict["hybrid_minus_direct"]
    if diffs:
        better, same, worse = _split_by_sd(diffs)
        cells = ", ".join(f"T = {T}: {100 * d['difference']:+.1f}" for T, d in diffs.items())
        lines += [
            "",
            f"**Hybrid vs direct** (points): {cells}. Hybrid is better by more than the "
            f"combined sd at T = {_Ts(better)}, within it at T = {_Ts(same)}, worse at "
            f"T = {_Ts(worse)}. At T = 1 the two carry the same information (hybrid "
            "adds 40 silent spike channels), so a gap there comes from their different "
            "learning rates and initial weights, not from the code.",
        ]
    return lines


def _figure(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for coding, rows in table.items():
        T = np.array(sorted(int(t) for t in rows))
        mean = np.array([100 * rows[str(t)]["accuracy_mean"] for t in T])
        sd = np.array([100 * rows[str(t)]["accuracy_sd"] for t in T])
        colour = COLOURS.get(coding)
        ax.plot(T, mean, "o-", color=colour, label=coding)
        ax.fill_between(T, mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
    ax.set_xscale("log", base=2)
    ticks = sorted({int(t) for rows in table.values() for t in rows})
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set(
        xlabel="time steps T",
        ylabel="test accuracy (%)",
        title="MNIST-1D as static features: input code vs T (mean ± sd)",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_write(path) as stream:
        fig.savefig(stream, format="png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="default experiments/results")
    parser.add_argument("--codings", nargs="+", default=list(CODINGS), choices=CODINGS)
    parser.add_argument("--T", nargs="+", type=int, default=list(T_GRID))
    parser.add_argument("--lrs", nargs="+", type=float, default=list(LR_GRID))
    parser.add_argument("--search-T", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="tiny smoke test")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the non-spiking MLP references"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds, args.T, args.lrs = 2, 2, [1, 2, 4], [1e-2, 3e-2]
        if args.out is None:
            args.out = tempfile.mkdtemp(prefix="srnn_coding_quick_")
    if args.out is None:
        args.out = "experiments/results"
    for name in ("epochs", "seeds", "batch_size", "search_T"):
        try:
            check_int(getattr(args, name), f"--{name.replace('_', '-')}", minimum=1)
        except (TypeError, ValueError) as error:
            parser.error(str(error))
    for T in args.T:
        if T < 1:
            parser.error(f"--T values must be >= 1, got {T}")
    for lr in args.lrs:
        if not (np.isfinite(lr) and lr > 0):
            parser.error(f"--lrs values must be finite and > 0, got {lr}")
    args.T = sorted(set(args.T))
    task = load_task(args.quick)
    settings = _settings(args, task)
    root = os.path.join(args.out, "srnn_coding")
    if args.report_only:
        write_report(args.out, settings)
        return 0
    _log(f"coding experiment: {vars(args)}")
    run_search(root, args, task, settings)
    run_finals(root, args, task, settings)
    if not args.no_reference:
        run_references(root, args, task, settings)
    write_report(args.out, settings)
    _log(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
