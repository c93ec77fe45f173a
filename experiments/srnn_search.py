"""Seeded random hyperparameter search, SRNN variants against tuned LSTM and GRU (issue 16).

Every model family gets the same budget on every task: ``--trials`` random
configurations, each trained for ``--epochs`` epochs, selected on a validation split
carved (seeded) out of the training set; the best configuration of each family is then
trained again with ``--seeds`` seeds and evaluated on the test set. Families:

- ``alif_learned``: adaptive SRNN, time constants trained (Yin, Corradi & Bohte 2021,
  Nat. Mach. Intell. 3:905);
- ``alif_fixed``: the same, time constants frozen at their initial draw;
- ``lif``: plain LIF SRNN (``beta = 0``), time constants frozen;
- ``lstm``, ``gru``: equinox cells (`neurosrnn.learning.baselines`), same optimiser,
  schedule and batch order.

Search spaces (`neurosrnn.sweep.points.random_points`, one seed per task and family):
learning rate (log-uniform), hidden sizes and depth, and for the SRNNs the initial
time constants (normal or multi-Gaussian), baseline threshold ``b_j0``, adaptation
``beta``, loss (time-mean, summed softmax or last step), time-constant learning-rate
factor and a firing-rate penalty; for the baselines the readout (last state or mean).

Operation counts per step come from the measured per-layer firing rates on the test
set (`neurosrnn.learning.energy.srnn_operations`; analog input projections counted as
MACs, 4 MACs per ALIF and 2 per LIF neuron update, 2 per leaky readout unit) and are
compared with the tuned LSTM's dense MACs (`energy.rnn_operations`).

Resumable: every trial and every final run writes one JSON file (atomically) under
``<out>/srnn_search/<task>/<family>/``; a rerun skips the files that exist (and checks
that their configuration is the one the seed draws). The report (``srnn_search.json``,
``srnn_search.md``, ``srnn_search_timescales.png``) is rebuilt from whatever files exist,
so it can be written at any time with ``--report-only``.

Run (one core, about an hour at these sizes)::

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
    nice -n 19 .venv/bin/python experiments/srnn_search.py --out experiments/results \\
        --tasks mnist1d seq_digits --trials 8 --epochs 30 --seeds 3

``--quick`` is a smoke test (2 trials, 2 epochs, 2 seeds, small data).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
import zlib

import numpy as np

from neurosrnn.atomic import atomic_write
from neurosrnn.learning import data as datasets
from neurosrnn.learning import energy
from neurosrnn.learning.baselines import BaselineConfig, count_parameters, train_baseline
from neurosrnn.learning.srnn import SRNNConfig
from neurosrnn.learning.train import evaluate, train
from neurosrnn.sweep.points import random_points

FAMILIES = ("alif_learned", "alif_fixed", "lif", "lstm", "gru")
TASKS = (
    "mnist1d",
    "seq_digits",
    "seq_digits_rows",
    "psmnist_digits",
    "delayed_xor",
    "delayed_recall",
)
BASELINE_FAMILIES = ("lstm", "gru")
#: τ learning-rate factor (multiple of the weights' learning rate) of a point without one
TAU_LR_FACTOR_DEFAULT = 3.0

#: Initial time constants (steps) the SRNN search chooses from.
TAU_M_CHOICES = {
    "normal(5,1)": (5.0, 1.0),
    "normal(20,5)": (20.0, 5.0),
    "multi(3,1|20,5)": ((3.0, 1.0), (20.0, 5.0)),
}
TAU_ADP_CHOICES = {
    "normal(30,5)": (30.0, 5.0),
    "normal(150,10)": (150.0, 10.0),
    "multi(20,5|200,25)": ((20.0, 5.0), (200.0, 25.0)),
}


def _space(family):
    common = {
        "lr": {"low": 1e-3, "high": 3e-2, "log": True},
        "hidden": {"choices": [64, 128]},
        "layers": {"choices": [1, 2]},
    }
    if family in BASELINE_FAMILIES:
        return {**common, "readout": {"choices": ["last", "mean"]}}
    space = {
        **common,
        "tau_m": {"choices": list(TAU_M_CHOICES)},
        "tau_out": {"choices": list(TAU_M_CHOICES)},
        "b_j0": {"choices": [0.01, 0.1]},
        "loss": {"choices": ["mean", "summed_softmax", "last"]},
        "rate_penalty": {"choices": [0.0, 0.01, 0.1]},
    }
    if family != "lif":
        space["tau_adp"] = {"choices": list(TAU_ADP_CHOICES)}
        space["beta"] = {"choices": [0.2, 1.8]}
    if family == "alif_learned":
        space["tau_lr_factor"] = {"choices": [1.0, 3.0, 5.0]}
    return space


def search_points(task, family, n_trials):
    """The seeded random configurations of one task and family."""
    seed = zlib.crc32(f"{task}/{family}".encode())
    return random_points(_space(family), n_trials, seed=seed)


# ---------------------------------------------------------------- tasks
def load_task(name, quick=False):
    """Train / validation / test arrays and the loss start of a task."""
    n = 300 if quick else None
    if name == "mnist1d":
        data = datasets.mnist1d(n_samples=600 if quick else 5000)
    elif name == "seq_digits":
        data = datasets.sequential_digits("pixels", seed=0, n_samples=n)
    elif name == "seq_digits_rows":
        data = datasets.sequential_digits("rows", seed=0, n_samples=n)
    elif name == "psmnist_digits":
        data = datasets.sequential_digits("pixels", permuted=True, seed=0, n_samples=n)
    elif name == "delayed_xor":
        data = datasets.delayed_xor(n_samples=400 if quick else 2000, delay=200, seed=0)
    elif name == "delayed_recall":
        data = datasets.delayed_recall(
            n_samples=400 if quick else 2000, delay=200, n_symbols=4, seed=0
        )
    else:
        raise ValueError(f"task must be one of {TASKS}, got {name!r}")
    rng = np.random.default_rng(12345)
    order = rng.permutation(len(data.x_train))
    n_val = max(10, int(round(0.15 * len(order))))
    val, tr = order[:n_val], order[n_val:]
    delayed = name in ("delayed_xor", "delayed_recall")
    loss_start = data.T - data.info["cue_steps"] if delayed else 0
    return {
        "name": name,
        "description": data.description,
        "x_train": data.x_train[tr],
        "y_train": data.y_train[tr],
        "x_val": data.x_train[val],
        "y_val": data.y_train[val],
        "x_test": data.x_test,
        "y_test": data.y_test,
        "n_in": data.n_in,
        "n_classes": data.n_classes,
        "T": data.T,
        "loss_start": loss_start,
        "input_rate": float(np.mean(data.x_train != 0)),
        "binary_input": bool(np.all(np.isin(data.x_train, (0.0, 1.0)))),
    }


# ---------------------------------------------------------------- one run
def _srnn_config(family, point, task):
    hidden = tuple([int(point["hidden"])] * int(point["layers"]))
    options = dict(
        n_in=task["n_in"],
        hidden=hidden,
        n_out=task["n_classes"],
        adaptive=family != "lif",
        learn_tau=family == "alif_learned",
        b_j0=float(point["b_j0"]),
        tau_m_init=TAU_M_CHOICES[point["tau_m"]],
        tau_out_init=TAU_M_CHOICES[point["tau_out"]],
        loss=point["loss"],
        loss_start=task["loss_start"] if point["loss"] != "last" else 0,
        rate_penalty=float(point["rate_penalty"]),
    )
    if family != "lif":
        options["tau_adp_init"] = TAU_ADP_CHOICES[point["tau_adp"]]
        options["beta"] = float(point["beta"])
    return SRNNConfig(**options)


def _srnn_operations(config, rates, task):
    """ACs and MACs per step of a trained SRNN (analog input projections as MACs)."""
    binary = task["binary_input"]
    ops = energy.srnn_operations(
        config.n_in,
        list(config.hidden),
        config.n_out,
        rates,
        task["input_rate"] if binary else 0.0,
        recurrent=config.recurrent,
        macs_per_neuron=4 if config.adaptive else 2,
        readout_macs_per_unit=2,
    )
    if not binary:
        ops["mac"] += config.n_in * config.hidden[0]
    return ops


def run_one(family, point, task, seed, epochs, batch_size):
    """Train one configuration; return a JSON-ready record."""
    started = time.perf_counter()
    lr = float(point["lr"])
    common = dict(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_schedule="cosine",
        clip_norm=1.0,
        seed=seed,
        progress=False,
    )
    record = {"family": family, "task": task["name"], "seed": seed, "point": point}
    if family in BASELINE_FAMILIES:
        hidden = tuple([int(point["hidden"])] * int(point["layers"]))
        config = BaselineConfig(
            family,
            task["n_in"],
            hidden,
            task["n_classes"],
            readout=point["readout"],
            loss_start=task["loss_start"] if point["readout"] == "mean" else 0,
        )
        trained = train_baseline(config, task["x_train"], task["y_train"], **common)
        record.update(
            config=config.to_dict(),
            val_accuracy=trained.evaluate(task["x_val"], task["y_val"])["accuracy"],
            test_accuracy=trained.evaluate(task["x_test"], task["y_test"])["accuracy"],
            firing_rates=None,
            n_parameters=count_parameters(trained.model),
            operations=trained.operations(),
        )
    else:
        config = _srnn_config(family, point, task)
        tau_lr_factor = float(point.get("tau_lr_factor", TAU_LR_FACTOR_DEFAULT))
        trained = train(
            config, task["x_train"], task["y_train"], tau_lr_factor=tau_lr_factor, **common
        )
        val = evaluate(trained.params, task["x_val"], task["y_val"], config)
        test = evaluate(trained.params, task["x_test"], task["y_test"], config)
        layer0 = {k: v.tolist() for k, v in trained.timescales("trained").items() if "[0]" in k}
        start0 = {k: v.tolist() for k, v in trained.timescales("initial").items() if "[0]" in k}
        record.update(
            config=config.to_dict(),
            val_accuracy=val["accuracy"],
            test_accuracy=test["accuracy"],
            firing_rates=test["firing_rates"],
            val_firing_rates=val["firing_rates"],
            n_parameters=int(
                sum(np.size(v) for la in trained.params["layers"] for v in la.values())
                + sum(np.size(v) for v in trained.params["readout"].values())
            ),
            operations=_srnn_operations(config, test["firing_rates"], task),
            timescales_layer0={"initial": start0, "trained": layer0},
        )
    record["final_train_loss"] = trained.history["loss"][-1] if trained.history["loss"] else None
    record["epochs"] = epochs
    record["seconds"] = time.perf_counter() - started
    return record


# ---------------------------------------------------------------- files
def _write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_write(path) as stream:
        stream.write(json.dumps(data, indent=1, default=_json_default).encode())


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _read(path):
    with open(path) as stream:
        return json.load(stream)


def _log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


def _same_point(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def best_trial(trials):
    """The selected trial record: highest validation accuracy, the earliest trial on ties."""
    return max(trials, key=lambda r: (r["val_accuracy"], -r["trial"]))


def run_search(out, tasks, families, n_trials, epochs, n_seeds, batch_size, quick):
    """Trials (round-robin over families, so every prefix is a fair budget), then finals."""
    root = os.path.join(out, "srnn_search")
    for task_name in tasks:
        task = load_task(task_name, quick)
        points = {f: search_points(task_name, f, n_trials) for f in families}
        for i in range(n_trials):
            for family in families:
                path = os.path.join(root, task_name, family, f"trial_{i:03d}.json")
                if os.path.exists(path):
                    if not _same_point(_read(path)["point"], points[family][i]):
                        raise ValueError(f"{path} holds another configuration; use another --out")
                    continue
                record = run_one(family, points[family][i], task, 1000 + i, epochs, batch_size)
                record["trial"] = i
                _write_json(path, record)
                _log(
                    f"{task_name} {family} trial {i}: val {record['val_accuracy']:.3f} "
                    f"test {record['test_accuracy']:.3f} ({record['seconds']:.0f} s)"
                )
        for family in families:
            trials = [_read(p) for p in _files(root, task_name, family, "trial_")]
            best = best_trial(trials)
            for seed in range(n_seeds):
                path = os.path.join(root, task_name, family, f"final_seed{seed}.json")
                if os.path.exists(path) and _same_point(_read(path)["point"], best["point"]):
                    continue
                record = run_one(family, best["point"], task, seed, epochs, batch_size)
                record["from_trial"] = best["trial"]
                _write_json(path, record)
                _log(
                    f"{task_name} {family} final seed {seed}: test "
                    f"{record['test_accuracy']:.3f} ({record['seconds']:.0f} s)"
                )
        write_report(out)


def _files(root, task, family, prefix):
    return sorted(glob.glob(os.path.join(root, task, family, prefix + "*.json")))


# ---------------------------------------------------------------- report
def _mean_sd(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _total_ops(ops):
    return ops["mac"] + ops["ac"]


def summarise(out):
    """Every trial and final run found under ``<out>/srnn_search``, with the best."""
    root = os.path.join(out, "srnn_search")
    summary = {}
    for task_dir in sorted(glob.glob(os.path.join(root, "*"))):
        task = os.path.basename(task_dir)
        summary[task] = {}
        for family in FAMILIES:
            trials = [_read(p) for p in _files(root, task, family, "trial_")]
            finals = [_read(p) for p in _files(root, task, family, "final_")]
            if not trials:
                continue
            best = best_trial(trials)
            finals = [r for r in finals if _same_point(r["point"], best["point"])]
            entry = {"trials": trials, "best_trial": best["trial"], "finals": finals}
            if finals:
                acc = [r["test_accuracy"] for r in finals]
                entry["test_accuracy_mean"], entry["test_accuracy_sd"] = _mean_sd(acc)
                entry["seeds"] = [r["seed"] for r in finals]
                entry["operations_mean"] = {
                    k: float(np.mean([r["operations"][k] for r in finals])) for k in ("mac", "ac")
                }
                if finals[0]["firing_rates"] is not None:
                    entry["firing_rate_mean"] = float(
                        np.mean([np.mean(r["firing_rates"]) for r in finals])
                    )
                    entry["firing_rates_per_layer_mean"] = np.mean(
                        [r["firing_rates"] for r in finals], axis=0
                    ).tolist()
            summary[task][family] = entry
        lstm = summary[task].get("lstm", {}).get("operations_mean")
        for family, entry in summary[task].items():
            if lstm and "operations_mean" in entry and family not in BASELINE_FAMILIES:
                ops = entry["operations_mean"]
                entry["ops_ratio_vs_tuned_lstm"] = _total_ops(lstm) / _total_ops(ops)
                entry["energy_ratio_vs_tuned_lstm"] = energy.energy_ratio(lstm, ops)["ratio"]
    return summary


def write_report(out):
    """Rebuild ``srnn_search.json``, ``.md`` and the timescale figure from the files."""
    summary = summarise(out)
    _write_json(os.path.join(out, "srnn_search.json"), summary)
    lines = [
        "# SRNN hyperparameter search (issue 16)",
        "",
        "Generated by `experiments/srnn_search.py` from the per-run files under "
        "`srnn_search/`. Selection on a validation split of the training set; test "
        "accuracy of the best configuration over seeds (mean ± sd). Firing rate: spikes "
        "per neuron per step on the test set (mean over layers and seeds). Ops ratio: "
        "(MAC + AC) per step of the tuned LSTM over that of the SRNN; energy ratio with "
        "the 45 nm float32 constants of `neurosrnn.learning.energy`.",
        "",
        "| task | family | trials | best val | test accuracy (%) | seeds | firing rate "
        "| MAC/step | AC/step | ops ratio vs LSTM | energy ratio vs LSTM |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for task, families in summary.items():
        for family, e in families.items():
            best = next(t for t in e["trials"] if t["trial"] == e["best_trial"])
            if "test_accuracy_mean" in e:
                acc = f"{100 * e['test_accuracy_mean']:.1f} ± {100 * e['test_accuracy_sd']:.1f}"
                ops = e["operations_mean"]
                mac, ac = f"{ops['mac']:.0f}", f"{ops['ac']:.0f}"
            else:
                acc, mac, ac = "(finals pending)", "", ""
            rate = f"{e['firing_rate_mean']:.3f}" if "firing_rate_mean" in e else "–"
            ratio = f"{e['ops_ratio_vs_tuned_lstm']:.1f}" if "ops_ratio_vs_tuned_lstm" in e else "–"
            eratio = (
                f"{e['energy_ratio_vs_tuned_lstm']:.1f}"
                if "energy_ratio_vs_tuned_lstm" in e
                else "–"
            )
            lines.append(
                f"| {task} | {family} | {len(e['trials'])} | {best['val_accuracy']:.3f} | {acc} "
                f"| {len(e['finals'])} | {rate} | {mac} | {ac} | {ratio} | {eratio} |"
            )
    lines += ["", "## Every trial", ""]
    lines += ["| task | family | trial | val | test | firing | seconds | configuration |"]
    lines += ["| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for task, families in summary.items():
        for family, e in families.items():
            for t in e["trials"]:
                rate = "–" if t["firing_rates"] is None else f"{np.mean(t['firing_rates']):.3f}"
                point = ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in sorted(t["point"].items())
                )
                lines.append(
                    f"| {task} | {family} | {t['trial']} | {t['val_accuracy']:.3f} "
                    f"| {t['test_accuracy']:.3f} | {rate} | {t['seconds']:.0f} | {point} |"
                )
    with atomic_write(os.path.join(out, "srnn_search.md")) as stream:
        stream.write(("\n".join(lines) + "\n").encode())
    _timescale_figure(summary, os.path.join(out, "srnn_search_timescales.png"))
    return summary


def _timescale_figure(summary, path):
    runs = [
        (task, r)
        for task, families in summary.items()
        for r in families.get("alif_learned", {}).get("finals", [])
    ]
    if not runs:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({task for task, _ in runs})
    fig, axes = plt.subplots(len(tasks), 2, figsize=(9, 3 * len(tasks)), squeeze=False)
    for row, task in enumerate(tasks):
        for col, key in enumerate(("tau_m[0]", "tau_adp[0]")):
            ax = axes[row, col]
            initial = np.concatenate(
                [r["timescales_layer0"]["initial"][key] for t, r in runs if t == task]
            )
            learned = np.concatenate(
                [r["timescales_layer0"]["trained"][key] for t, r in runs if t == task]
            )
            bins = np.linspace(0, max(initial.max(), learned.max()) * 1.05, 40)
            ax.hist(initial, bins, alpha=0.5, label="initial")
            ax.hist(learned, bins, alpha=0.5, label="learned")
            ax.set(title=f"{task}: {key}", xlabel="steps", ylabel="neurons")
            ax.legend()
    fig.tight_layout()
    with atomic_write(path) as stream:
        fig.savefig(stream, format="png", dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="experiments/results")
    parser.add_argument("--tasks", nargs="+", default=["mnist1d", "seq_digits"], choices=TASKS)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="tiny smoke test")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    if args.report_only:
        write_report(args.out)
        return 0
    if args.quick:
        args.trials, args.epochs, args.seeds = 2, 2, 2
    for name in ("trials", "epochs", "seeds", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    _log(f"search: {vars(args)}")
    run_search(
        args.out,
        args.tasks,
        args.families,
        args.trials,
        args.epochs,
        args.seeds,
        args.batch_size,
        args.quick,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
