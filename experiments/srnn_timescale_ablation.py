"""Controlled timescale ablation on delayed recall: learned against fixed τ, ALIF against LIF.

Issue 16 asks whether trained time constants beat frozen ones, and adaptive (ALIF)
neurons beat plain LIF ones, on a long-memory task "by more than the seed spread"
(Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905, who attribute their accuracy to
trainable heterogeneous τ and adaptation). The open search (`srnn_search.py`) could not
answer this: it let frozen-τ networks start with adaptation time constants near the
200-step delay, so "fixed" was not short.

Here every network starts from the same short time constants, far below the delay of
`delayed_recall` (4 symbols, delay 200 steps, T = 210; `srnn_search.load_task`):
``tau_m ~ N(20, 5)``, ``tau_adp ~ N(30, 5)``, readout ``tau ~ N(20, 5)`` (steps). With one
seed the three families draw identical initial parameters (weights and τ), so they differ
only in what training may change:

- ``alif_learned``: ALIF, every τ trained (learning rate ``tau_lr_factor`` × lr);
- ``alif_fixed``: ALIF, τ frozen at the initial draw;
- ``lif``: no adaptation (``beta = 0``), τ frozen.

Everything else is the best ``alif_learned`` trial of the open search on this task
(trial 3): b_j0 = 0.01, beta = 0.2, 2 × 64 recurrent neurons, loss on the last step,
firing-rate penalty 0.01, Adam with a cosine schedule, gradient clipping 1.0, 30 epochs,
batch 64 (`srnn_search.run_one`).

Search, on the validation split, with the same budget for each family (5 trials, each
trained with the two search seeds 1000 and 1001): ``alif_learned`` at lr 0.01232 with
``tau_lr_factor`` in {10, 30, 100, 300, 1000} (with Adam a τ moves at most about
lr × factor steps per update, so 630 updates at factor 1 could not carry τ from 30 to
200); ``alif_fixed`` and ``lif`` with lr in {0.005, 0.01232, 0.025, 0.0025, 0.05}. The
trial of each family with the highest validation accuracy averaged over the search
seeds (the earliest on ties) is then trained with seeds 0..9 and evaluated on the test
set.

"By more than the seed spread": for a claim "A beats B", the difference of the mean test
accuracies ``mean(A) - mean(B)`` must exceed the larger of the two sample standard
deviations (ddof 1) over seeds. The report states the verdict and the sign either way.

The ``sparse`` variant (``--variant sparse``; files ``srnn_timescale_ablation_sparse*``)
asks the same question under the firing budget of the SRNN paper (at most 0.1 spikes per
neuron per step, issue 16). Every family also searches the rate penalty, 0.1, 0.3 or 1.0,
crossed with its three learning rates (0.0025, 0.01232, 0.025; ``alif_learned``: lr
0.01232 and ``tau_lr_factor`` 100, 300 or 1000), 9 trials each, and a family's pick is
its best trial among those that fire at most 0.1 spikes per neuron per step on the
validation split (all trials compete if none does; on ties, the one that fires least).
A network with short time constants can hold a cue over the delay by reverberating
activity, which the budget makes expensive; adaptation thresholds that decay with a
learned long τ_adp can hold it silently (the mechanism proposed by Bellec et al. 2018,
NeurIPS, "Long short-term memory and learning-to-learn in networks of spiking
neurons"). The tie rule was added after the first pass, whose pick by the earliest trial
(rate penalty 0.3) fired 0.113 on the test split, above the budget; its final runs are
kept in ``srnn_timescale_ablation_sparse/alif_learned/first_pick_trial5/`` (outside the
report) and quoted in ``docs/results.md``.

Resumable: one JSON file per run, written atomically, under
``<out>/srnn_timescale_ablation/<family>/`` (``trial_<i>_seed<s>.json``,
``final_seed<s>.json``); a rerun skips the files that exist, refuses a trial file whose
configuration differs, and retrains a final run whose configuration is no longer the
family's pick. The report (``srnn_timescale_ablation.json``,
``.md``, ``.png``) is rebuilt from whatever files exist (``--report-only``).

Run (one core; about 35 minutes, runs of 12 to 40 s)::

    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
    nice -n 19 .venv/bin/python experiments/srnn_timescale_ablation.py \\
        --out experiments/results

and, for the sparse variant (about 40 minutes), the same command with
``--variant sparse``.

``--quick`` is a smoke test (small data, 2 epochs, 1 trial and 1 search seed per family,
2 final seeds).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import srnn_search  # noqa: E402

from neurosrnn.atomic import atomic_write  # noqa: E402
from neurosrnn.validation import check_choice, check_int, check_output_folder  # noqa: E402

TASK = "delayed_recall"
DELAY = 200
FAMILIES = ("alif_learned", "alif_fixed", "lif")
NAME = "srnn_timescale_ablation"
SEARCH_SEEDS = (1000, 1001)

#: Shared settings: trial 3 of the open search with short initial time constants.
BASE_POINT = {
    "b_j0": 0.01,
    "hidden": 64,
    "layers": 2,
    "loss": "last",
    "rate_penalty": 0.01,
    "tau_m": "normal(20,5)",
    "tau_out": "normal(20,5)",
}
ADAPTIVE_POINT = {"beta": 0.2, "tau_adp": "normal(30,5)"}
BASE_LR = 0.01232

#: The search of each family: the same number of trials for each.
SEARCH = {
    "alif_learned": [
        {"lr": BASE_LR, "tau_lr_factor": f} for f in (10.0, 30.0, 100.0, 300.0, 1000.0)
    ],
    "alif_fixed": [{"lr": lr} for lr in (0.005, BASE_LR, 0.025, 0.0025, 0.05)],
    "lif": [{"lr": lr} for lr in (0.005, BASE_LR, 0.025, 0.0025, 0.05)],
}

#: The sparse variant: the same families under a firing budget (issue 16: "firing rate
#: <= 0.1 spikes/neuron/step with the accuracy above (a rate penalty is allowed)").
#: Every family searches the rate penalty with its own three learning rates (alif_learned:
#: three τ learning-rate factors), 9 trials each, and the pick is restricted to trials
#: that fire at most `SPARSE_FIRING_CAP` on the validation split.
SPARSE_PENALTIES = (0.1, 0.3, 1.0)
SPARSE_FIRING_CAP = 0.1
SPARSE_SEARCH = {
    "alif_learned": [
        {"lr": BASE_LR, "rate_penalty": r, "tau_lr_factor": f}
        for r in SPARSE_PENALTIES
        for f in (100.0, 300.0, 1000.0)
    ],
    "alif_fixed": [
        {"lr": lr, "rate_penalty": r} for r in SPARSE_PENALTIES for lr in (0.0025, BASE_LR, 0.025)
    ],
    "lif": [
        {"lr": lr, "rate_penalty": r} for r in SPARSE_PENALTIES for lr in (0.0025, BASE_LR, 0.025)
    ],
}

#: The two ablations: ``short`` (free firing, rate penalty 0.01) and ``sparse``.
VARIANTS = {
    "short": {"name": NAME, "search": SEARCH, "firing_cap": None},
    "sparse": {
        "name": NAME + "_sparse",
        "search": SPARSE_SEARCH,
        "firing_cap": SPARSE_FIRING_CAP,
    },
}

#: Claims checked: (winner, loser) family pairs.
CLAIMS = (("alif_learned", "alif_fixed"), ("alif_learned", "lif"), ("alif_fixed", "lif"))


def trial_points(family, variant="short"):
    """The full configurations searched for `family` in `variant`, in trial order."""
    check_choice(family, "family", FAMILIES)
    check_choice(variant, "variant", tuple(VARIANTS))
    shared = dict(BASE_POINT)
    if family != "lif":
        shared.update(ADAPTIVE_POINT)
    return [{**shared, **varied} for varied in VARIANTS[variant]["search"][family]]


# ---------------------------------------------------------------- runs
def _trial_file(root, family, trial, seed):
    return os.path.join(root, family, f"trial_{trial:02d}_seed{seed}.json")


def _final_file(root, family, seed):
    return os.path.join(root, family, f"final_seed{seed}.json")


def _holds(path, point):
    """Whether the run file at `path` exists and was trained with `point`."""
    return os.path.exists(path) and srnn_search._same_point(srnn_search._read(path)["point"], point)


def _run(family, point, task, seed, epochs, batch_size, path, extra):
    record = srnn_search.run_one(family, point, task, seed, epochs, batch_size)
    record.update(extra)
    srnn_search._write_json(path, record)
    srnn_search._log(
        f"{os.path.relpath(path)}: val {record['val_accuracy']:.3f} "
        f"test {record['test_accuracy']:.3f} ({record['seconds']:.0f} s)"
    )
    return record


def run_ablation(out, epochs, n_seeds, batch_size, quick=False, variant="short"):
    """Search trials (round-robin over seeds and families), then final seeds (round-robin)."""
    root = os.path.join(out, VARIANTS[variant]["name"])
    cap = VARIANTS[variant]["firing_cap"]
    task = srnn_search.load_task(TASK, quick)
    points = {f: trial_points(f, variant) for f in FAMILIES}
    n_trials = 1 if quick else max(len(p) for p in points.values())
    search_seeds = SEARCH_SEEDS[:1] if quick else SEARCH_SEEDS
    for seed in search_seeds:
        for i in range(n_trials):
            for family in FAMILIES:
                path = _trial_file(root, family, i, seed)
                if os.path.exists(path):
                    if not _holds(path, points[family][i]):
                        raise ValueError(f"{path} holds another configuration; use another --out")
                    continue
                _run(family, points[family][i], task, seed, epochs, batch_size, path, {"trial": i})
    best = {}
    for family in FAMILIES:
        trials = [srnn_search._read(p) for p in _files(root, family, "trial_")]
        best[family] = pick_trial(trials, cap)
    for seed in range(n_seeds):
        for family in FAMILIES:
            path = _final_file(root, family, seed)
            point = points[family][best[family]]
            if not _holds(path, point):  # absent, or trained with an earlier pick
                _run(
                    family,
                    point,
                    task,
                    seed,
                    epochs,
                    batch_size,
                    path,
                    {"from_trial": best[family]},
                )
        write_report(out, variant)
    write_report(out, variant)


def _files(root, family, prefix):
    return sorted(glob.glob(os.path.join(root, family, prefix + "*.json")))


# ---------------------------------------------------------------- statistics
def trial_table(trials):
    """Per trial index: the point, the validation accuracy of each search seed, the mean.

    Returns
    -------
    list of dict
        Sorted by trial: ``trial``, ``point``, ``seeds``, ``val_accuracy`` (per seed),
        ``val_mean``, ``test_accuracy`` (per seed), ``firing_rate`` (test split, mean
        over seeds and layers), ``val_firing_rate`` (the same on the validation split;
        None for records without it), ``seconds`` (mean over seeds).
    """
    rows = {}
    for record in sorted(trials, key=lambda r: (r["trial"], r["seed"])):
        row = rows.setdefault(
            record["trial"],
            {"trial": record["trial"], "point": record["point"], "seeds": [], "runs": []},
        )
        if not srnn_search._same_point(row["point"], record["point"]):
            raise ValueError(f"trial {record['trial']} holds two configurations")
        row["seeds"].append(record["seed"])
        row["runs"].append(record)
    table = []
    for row in rows.values():
        runs = row.pop("runs")
        row["val_accuracy"] = [r["val_accuracy"] for r in runs]
        row["val_mean"] = float(np.mean(row["val_accuracy"]))
        row["test_accuracy"] = [r["test_accuracy"] for r in runs]
        row["firing_rate"] = float(np.mean([np.mean(r["firing_rates"]) for r in runs]))
        row["val_firing_rate"] = (
            float(np.mean([np.mean(r["val_firing_rates"]) for r in runs]))
            if all("val_firing_rates" in r for r in runs)
            else None
        )
        row["seconds"] = float(np.mean([r["seconds"] for r in runs]))
        table.append(row)
    return table


def pick_trial(trials, firing_cap=None):
    """Index of the trial with the best mean validation accuracy (the earliest on ties).

    With `firing_cap` (spikes per neuron per step), only trials whose validation firing
    rate is at most the cap compete (if none is, all do; the report shows the rates), and
    a tie of accuracy goes to the trial that fires least, then to the earliest.
    """
    table = trial_table(trials)
    if not table:
        raise ValueError("trials must hold at least one trial record")
    if firing_cap is not None:
        sparse = [
            row
            for row in table
            if row["val_firing_rate"] is not None and row["val_firing_rate"] <= firing_cap
        ]
        table = sparse or table

    def sparser(row):  # with a cap, the tie-break before the trial index
        if firing_cap is None:
            return 0.0
        return -np.inf if row["val_firing_rate"] is None else -row["val_firing_rate"]

    return max(table, key=lambda row: (row["val_mean"], sparser(row), -row["trial"]))["trial"]


def mean_sd(values):
    """Mean and sample standard deviation (ddof 1; 0 for a single value)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("values must hold at least one number")
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), sd


def compare(winner, loser, a_values, b_values, paired=False):
    """Does `winner` (values `a_values`) beat `loser` by more than the seed spread?

    The claim holds when ``mean(a) - mean(b) > max(sd(a), sd(b))`` (sample sds, ddof 1).

    Returns
    -------
    dict
        ``difference`` (mean a - mean b), ``sd_a``, ``sd_b``, ``spread`` (the larger sd),
        ``holds`` (bool), ``direction`` (which family has the higher mean, or "equal")
        and, with `paired` (value k of both lists from the same seed), ``paired_sd``: the
        sd of the per-seed differences.
    """
    mean_a, sd_a = mean_sd(a_values)
    mean_b, sd_b = mean_sd(b_values)
    difference = mean_a - mean_b
    spread = max(sd_a, sd_b)
    if difference > 0:
        direction = f"{winner} higher"
    elif difference < 0:
        direction = f"{loser} higher"
    else:
        direction = "equal"
    result = {
        "claim": f"{winner} beats {loser}",
        "difference": difference,
        "sd_a": sd_a,
        "sd_b": sd_b,
        "spread": spread,
        "holds": bool(difference > spread),
        "direction": direction,
    }
    if paired:
        if len(a_values) != len(b_values):
            raise ValueError(
                f"paired comparison needs equal numbers of values, got {len(a_values)} "
                f"and {len(b_values)}"
            )
        per_seed = np.subtract(a_values, b_values)
        result["paired_sd"] = mean_sd(per_seed)[1]
        result["seeds_won_tied_lost"] = [
            int(np.sum(per_seed > 0)),
            int(np.sum(per_seed == 0)),
            int(np.sum(per_seed < 0)),
        ]
    return result


def summarise_records(trials, finals, firing_cap=None):
    """Summary of run records (dicts as `srnn_search.run_one` returns them).

    Parameters
    ----------
    trials : dict
        Family -> list of trial records (each with ``trial``, ``seed``, ``point``,
        ``val_accuracy``, ``test_accuracy``, ``firing_rates``, ``seconds``).
    finals : dict
        Family -> list of final records (each with ``seed``, ``point``,
        ``test_accuracy``, ``firing_rates``, ``seconds``). Only those trained with the
        family's best trial configuration count.
    firing_cap : float, optional
        Restricts the pick to sparse trials (`pick_trial`).

    Returns
    -------
    dict
        ``families``: per family the search table (`trial_table`), the picked trial,
        the final runs sorted by seed and their statistics; ``claims``: `compare` for
        each pair of `CLAIMS` whose families both have final runs; ``firing_cap``.
    """
    families = {}
    for family, records in trials.items():
        if not records:
            continue
        table = trial_table(records)
        best = next(row for row in table if row["trial"] == pick_trial(records, firing_cap))
        runs = sorted(
            (
                r
                for r in finals.get(family, [])
                if srnn_search._same_point(r["point"], best["point"])
            ),
            key=lambda r: r["seed"],
        )
        entry = {
            "search": table,
            "best_trial": best["trial"],
            "best_point": best["point"],
            "finals": runs,
        }
        if runs:
            accuracy = [r["test_accuracy"] for r in runs]
            entry["seeds"] = [r["seed"] for r in runs]
            entry["test_accuracy"] = accuracy
            entry["test_accuracy_mean"], entry["test_accuracy_sd"] = mean_sd(accuracy)
            entry["firing_rate_mean"] = float(np.mean([np.mean(r["firing_rates"]) for r in runs]))
            entry["seconds_median"] = float(np.median([r["seconds"] for r in runs]))
        families[family] = entry
    claims = []
    for winner, loser in CLAIMS:
        a, b = families.get(winner, {}), families.get(loser, {})
        if a.get("finals") and b.get("finals"):
            paired = a["seeds"] == b["seeds"]
            claims.append(
                compare(winner, loser, a["test_accuracy"], b["test_accuracy"], paired=paired)
            )
    return {"families": families, "claims": claims, "firing_cap": firing_cap}


def summarise(out, variant="short"):
    """`summarise_records` of every run file under ``<out>/<variant's name>``."""
    root = os.path.join(out, VARIANTS[variant]["name"])
    trials = {f: [srnn_search._read(p) for p in _files(root, f, "trial_")] for f in FAMILIES}
    finals = {f: [srnn_search._read(p) for p in _files(root, f, "final_")] for f in FAMILIES}
    summary = summarise_records(trials, finals, VARIANTS[variant]["firing_cap"])
    summary["variant"] = variant
    return summary


# ---------------------------------------------------------------- report
def _pct(value):
    return f"{100 * value:.1f}"


def _point_text(point, family):
    shared = {**BASE_POINT, **ADAPTIVE_POINT}
    shown = {k: v for k, v in point.items() if k not in shared or shared[k] != v}
    return ", ".join(f"{k}={v:g}" for k, v in sorted(shown.items()))


def report_lines(summary):
    """The Markdown report of a `summarise_records` summary, as a list of lines."""
    families = summary["families"]
    variant = summary.get("variant", "short")
    cap = summary.get("firing_cap")
    sparse = cap is not None
    lines = [
        "# Timescale ablation on delayed recall (issue 16)"
        + (f", firing at most {cap:g} spikes per neuron per step" if sparse else ""),
        "",
        "Generated by `experiments/srnn_timescale_ablation.py"
        + (f" --variant {variant}" if variant != "short" else "")
        + "` from the per-run files under "
        f"`{VARIANTS[variant]['name']}/`. Task `{TASK}` (4 symbols, delay {DELAY} steps, "
        "T = 210). Every network "
        "starts from the same short time constants, tau_m ~ N(20, 5), tau_adp ~ N(30, 5), "
        "readout tau ~ N(20, 5) steps, and the same seeded weights; shared settings: "
        + ", ".join(
            f"{k}={v}"
            for k, v in {**BASE_POINT, **ADAPTIVE_POINT}.items()
            if not (sparse and k == "rate_penalty")  # searched in the sparse variant
        )
        + " (beta and tau_adp: ALIF only), 30 epochs, batch 64, Adam with cosine schedule, "
        "clip 1.0. Accuracies in %; firing rate: spikes per neuron per step on the test set "
        "(mean over layers and seeds); seconds: wall time of one run on one core.",
        "",
        "## Search (validation split)",
        "",
        "Every trial trained once per search seed; picked: the best mean validation "
        "accuracy, the earliest trial on ties"
        + (
            f", among the trials that fire at most {cap:g} spikes per neuron per step on "
            "the validation split (val firing; all trials compete if none does), the "
            "sparsest trial on ties"
            if sparse
            else ""
        )
        + ". Test accuracies of the trials are shown for information only (not used for "
        "the pick).",
        "",
        "| family | trial | varied | search seeds | val per seed | val mean | test per seed "
        "| firing | " + ("val firing | " if sparse else "") + "seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | "
        + ("--- | " if sparse else "")
        + "--- |",
    ]
    for family, e in families.items():
        for t in e["search"]:
            mark = " (picked)" if t["trial"] == e["best_trial"] else ""
            lines.append(
                f"| {family} | {t['trial']}{mark} | {_point_text(t['point'], family)} "
                f"| {' '.join(str(s) for s in t['seeds'])} "
                f"| {' '.join(_pct(v) for v in t['val_accuracy'])} | {_pct(t['val_mean'])} "
                f"| {' '.join(_pct(v) for v in t['test_accuracy'])} "
                f"| {t['firing_rate']:.3f} | "
                + (f"{_rate(t['val_firing_rate'])} | " if sparse else "")
                + f"{t['seconds']:.0f} |"
            )
    lines += [
        "",
        "## Final runs (test split)",
        "",
        "| family | picked | seeds | test accuracy (mean ± sd) | per seed (seed 0 first) "
        "| firing rate | seconds per run (median) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for family, e in families.items():
        if not e["finals"]:
            lines.append(f"| {family} | {_point_text(e['best_point'], family)} | 0 | (pending) "
                         "| | | |")  # fmt: skip
            continue
        per_seed = " ".join(_pct(a) for a in e["test_accuracy"])
        lines.append(
            f"| {family} | {_point_text(e['best_point'], family)} | {len(e['seeds'])} "
            f"| {_pct(e['test_accuracy_mean'])} ± {_pct(e['test_accuracy_sd'])} | {per_seed} "
            f"| {e['firing_rate_mean']:.3f} | {e['seconds_median']:.0f} |"
        )
    lines += [
        "",
        "## Claims",
        "",
        '"A beats B by more than the seed spread" means: mean(A) - mean(B) > max(sd(A), '
        "sd(B)), the sds over seeds with ddof 1. Paired sd: sd of the per-seed differences "
        "(the same seed gives every family the same initial weights and time constants).",
        "",
        "| claim | difference (points) | sd A | sd B | paired sd | seeds A won/tied/lost "
        "| higher | holds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in summary["claims"]:
        paired = _pct(c["paired_sd"]) if "paired_sd" in c else "–"
        wins = "/".join(str(n) for n in c["seeds_won_tied_lost"]) if "paired_sd" in c else "–"
        lines.append(
            f"| {c['claim']} | {100 * c['difference']:+.1f} | {_pct(c['sd_a'])} "
            f"| {_pct(c['sd_b'])} | {paired} | {wins} | {c['direction']} | "
            f"{'yes' if c['holds'] else 'no'} |"
        )
    lines.append("")
    for c in summary["claims"]:
        verdict = "holds" if c["holds"] else "does not hold"
        lines.append(
            f"- {c['claim']} by more than the seed spread: **{verdict}** "
            f"(difference {100 * c['difference']:+.1f} points, spread "
            f"{_pct(c['spread'])} points; {c['direction']})."
        )
    learned = families.get("alif_learned", {}).get("finals", [])
    if learned:
        lines += [
            "",
            "## Time constants of layer 0, alif_learned (final runs, seeds pooled)",
            "",
            f"| tau | initial mean ± sd | trained mean ± sd | trained median | trained max "
            f"| fraction >= {DELAY} steps |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for key in ("tau_m[0]", "tau_adp[0]"):
            start = np.concatenate([r["timescales_layer0"]["initial"][key] for r in learned])
            end = np.concatenate([r["timescales_layer0"]["trained"][key] for r in learned])
            lines.append(
                f"| {key} | {start.mean():.1f} ± {start.std():.1f} | {end.mean():.1f} ± "
                f"{end.std():.1f} | {np.median(end):.1f} | {end.max():.0f} "
                f"| {np.mean(end >= DELAY):.3f} |"
            )
    return lines


def _rate(value):
    return "–" if value is None else f"{value:.3f}"


def write_report(out, variant="short"):
    """Rebuild ``<name>.{json,md,png}`` of `variant` from its run files."""
    name = VARIANTS[variant]["name"]
    summary = summarise(out, variant)
    if not summary["families"]:
        raise FileNotFoundError(f"no run files under {os.path.join(out, name)}")
    srnn_search._write_json(os.path.join(out, name + ".json"), summary)
    with atomic_write(os.path.join(out, name + ".md")) as stream:
        stream.write(("\n".join(report_lines(summary)) + "\n").encode())
    _figure(summary, os.path.join(out, name + ".png"))
    return summary


def _figure(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = summary["families"]
    learned = families.get("alif_learned", {}).get("finals", [])
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for ax, key in zip(axes[:2], ("tau_m[0]", "tau_adp[0]"), strict=True):
        if learned:
            initial = np.concatenate([r["timescales_layer0"]["initial"][key] for r in learned])
            trained = np.concatenate([r["timescales_layer0"]["trained"][key] for r in learned])
            top = max(initial.max(), trained.max(), DELAY) * 1.05
            bins = np.linspace(0, top, 50)
            ax.hist(initial, bins, alpha=0.5, label="initial")
            ax.hist(trained, bins, alpha=0.5, label="trained")
        ax.axvline(DELAY, color="k", linestyle="--", label=f"delay ({DELAY} steps)")
        ax.set(
            title=f"alif_learned, {key}, {len(learned)} seeds pooled",
            xlabel="steps",
            ylabel="neurons",
        )
        ax.legend(fontsize=8)
    ax = axes[2]
    names = [f for f in FAMILIES if families.get(f, {}).get("finals")]
    for i, family in enumerate(names):
        e = families[family]
        values = 100 * np.asarray(e["test_accuracy"])
        jitter = np.linspace(-0.15, 0.15, len(values))
        ax.plot(i + jitter, values, "o", alpha=0.6)
        ax.errorbar(
            i + 0.3,
            100 * e["test_accuracy_mean"],
            yerr=100 * e["test_accuracy_sd"],
            fmt="s",
            color="k",
            capsize=4,
        )
    ax.axhline(25, color="grey", linestyle=":", label="chance (4 symbols)")
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="test accuracy (%)", title="per seed (dots), mean ± sd (squares)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_write(path) as stream:
        fig.savefig(stream, format="png", dpi=100)
    plt.close(fig)


def parse_args(argv=None):
    """Parse and check the command line; errors name the option and what is allowed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="experiments/results")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10, help="final seeds 0..N-1")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--quick", action="store_true", help="tiny smoke test (1 trial, 1 search seed)"
    )
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--variant",
        default="short",
        help="short: free firing (rate penalty 0.01); sparse: the rate penalty searched, "
        f"picks limited to validation firing <= {SPARSE_FIRING_CAP:g}",
    )
    args = parser.parse_args(argv)
    try:
        check_choice(args.variant, "--variant", tuple(VARIANTS))
    except ValueError as error:
        parser.error(str(error))
    if args.quick:
        args.epochs, args.seeds = 2, 2
    for name in ("epochs", "seeds", "batch_size"):
        try:
            check_int(getattr(args, name), f"--{name.replace('_', '-')}", minimum=1)
        except ValueError as error:
            parser.error(str(error))
    try:
        args.out = check_output_folder(args.out, "--out")
    except (TypeError, ValueError, PermissionError) as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.report_only:
        write_report(args.out, args.variant)
        return 0
    srnn_search._log(f"{VARIANTS[args.variant]['name']}: {vars(args)}")
    run_ablation(args.out, args.epochs, args.seeds, args.batch_size, args.quick, args.variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
