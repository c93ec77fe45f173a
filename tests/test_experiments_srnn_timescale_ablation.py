"""Report logic and argument checks of experiments/srnn_timescale_ablation.py (no training)."""

import importlib.util
import math
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "experiments", "srnn_timescale_ablation.py")


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("srnn_timescale_ablation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sd(values):
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _trial(module, family, i, val, seed=1000):
    return {
        "trial": i,
        "seed": seed,
        "point": module.trial_points(family)[i],
        "val_accuracy": val,
        "test_accuracy": val,
        "firing_rates": [0.1, 0.3],
        "seconds": 5.0,
    }


def _final(point, seed, accuracy):
    return {
        "seed": seed,
        "point": point,
        "test_accuracy": accuracy,
        "firing_rates": [0.2, 0.2],
        "seconds": 10.0,
        "timescales_layer0": {
            "initial": {"tau_m[0]": [20.0, 20.0], "tau_adp[0]": [30.0, 30.0]},
            "trained": {"tau_m[0]": [10.0, 30.0], "tau_adp[0]": [100.0, 250.0]},
        },
    }


def test_summary_statistics_and_verdicts(ablation):
    accuracy = {
        "alif_learned": [1.0, 0.9, 0.95],
        "alif_fixed": [0.5, 0.6, 0.4],
        "lif": [0.45, 0.7, 0.35],
    }
    # validation accuracy per trial and search seed (1000, 1001)
    vals = {
        "alif_learned": [(0.5, 0.5), (0.9, 0.7), (1.0, 0.6)],  # means 0.5, 0.8, 0.8
        "alif_fixed": [(0.4, 0.4), (0.2, 0.5), (0.3, 0.3)],  # means 0.4, 0.35, 0.3
        "lif": [(0.1, 0.9), (0.2, 0.2), (0.6, 0.6)],  # means 0.5, 0.2, 0.6
    }
    trials = {
        f: [
            _trial(ablation, f, i, v, seed)
            for i, pair in enumerate(vals[f])
            for seed, v in zip((1000, 1001), pair, strict=True)
        ]
        for f in accuracy
    }
    picked = {"alif_learned": 1, "alif_fixed": 0, "lif": 2}  # best mean val, earliest on ties
    finals = {}
    for family, values in accuracy.items():
        point = ablation.trial_points(family)[picked[family]]
        finals[family] = [_final(point, s, a) for s, a in reversed(list(enumerate(values)))]
        # a run of a configuration that was not picked must not count
        finals[family].append(_final(ablation.trial_points(family)[(picked[family] + 1) % 3], 7, 0))
    summary = ablation.summarise_records(trials, finals)
    for family, values in accuracy.items():
        e = summary["families"][family]
        assert e["best_trial"] == picked[family]
        assert [row["seeds"] for row in e["search"]] == [[1000, 1001]] * 3
        assert [row["val_mean"] for row in e["search"]] == pytest.approx(
            [sum(pair) / 2 for pair in vals[family]]
        )
        assert e["seeds"] == [0, 1, 2]
        assert e["test_accuracy_mean"] == pytest.approx(sum(values) / 3)
        assert e["test_accuracy_sd"] == pytest.approx(_sd(values))
        assert e["firing_rate_mean"] == pytest.approx(0.2)
        assert e["seconds_median"] == pytest.approx(10.0)
    claims = {c["claim"]: c for c in summary["claims"]}
    # learned - fixed = 0.95 - 0.5 = 0.45 > max(0.05, 0.1): holds
    c = claims["alif_learned beats alif_fixed"]
    assert c["difference"] == pytest.approx(0.45)
    assert c["spread"] == pytest.approx(0.1)
    assert c["holds"] and c["direction"] == "alif_learned higher"
    assert c["paired_sd"] == pytest.approx(_sd([0.5, 0.3, 0.55]))
    assert c["seeds_won_tied_lost"] == [3, 0, 0]
    # fixed - lif = 0.5 - 0.5 = 0: does not hold, equal means
    c = claims["alif_fixed beats lif"]
    assert c["difference"] == pytest.approx(0.0, abs=1e-12)
    assert not c["holds"]
    text = "\n".join(ablation.report_lines(summary))
    assert (
        "| alif_learned | 1 (picked) | lr=0.01232, tau_lr_factor=30 | 1000 1001 | 90.0 70.0 "
        in text
    )
    assert "95.0 ± 5.0" in text
    # pooled trained tau_adp: 100 and 250 per run, half of them at or above the delay
    assert "| tau_adp[0] | 30.0 ± 0.0 | 175.0 ± 75.0 | 175.0 | 250 | 0.500 |" in text


def test_compare_fails_when_difference_within_spread(ablation):
    c = ablation.compare("a", "b", [0.8, 0.6], [0.5, 0.7])
    # difference 0.1, sds 0.1414 and 0.1414: within the spread
    assert c["difference"] == pytest.approx(0.1)
    assert c["spread"] == pytest.approx(math.sqrt(0.02))
    assert not c["holds"] and c["direction"] == "a higher"
    c = ablation.compare("a", "b", [0.2, 0.3], [0.9, 0.8])
    assert not c["holds"] and c["direction"] == "b higher"
    with pytest.raises(ValueError, match="paired comparison needs equal numbers"):
        ablation.compare("a", "b", [0.1, 0.2], [0.3], paired=True)


def test_bad_arguments_raise_clear_errors(ablation, capsys):
    with pytest.raises(SystemExit):
        ablation.parse_args(["--seeds", "0"])
    assert "--seeds must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ablation.parse_args(["--variant", "dense"])
    assert "--variant must be one of" in capsys.readouterr().err
    with pytest.raises(ValueError, match="family must be one of"):
        ablation.trial_points("gru")
    with pytest.raises(ValueError, match="at least one number"):
        ablation.mean_sd([])
    with pytest.raises(ValueError, match="trials must hold at least one"):
        ablation.pick_trial([])


def test_sparse_variant_picks_the_best_trial_within_the_firing_cap(ablation):
    points = ablation.trial_points("lif", "sparse")
    assert len(points) == 9 and {p["rate_penalty"] for p in points} == {0.1, 0.3, 1.0}
    assert all("rate_penalty=" in ablation._point_text(p, "lif") for p in points)

    def trial(i, val, val_firing):
        record = _trial(ablation, "lif", i, val)
        record["point"] = points[i]
        record["val_firing_rates"] = [val_firing, val_firing]
        return record

    trials = [
        trial(0, 0.9, 0.13),
        trial(1, 0.5, 0.08),
        trial(2, 0.6, 0.1),
        trial(3, 0.6, 0.05),
        trial(4, 0.6, 0.05),
    ]
    assert ablation.pick_trial(trials) == 0  # no cap: the best accuracy
    # within the cap: the best accuracy; on its tie the sparser trial, then the earliest
    assert ablation.pick_trial(trials, firing_cap=0.1) == 3
    assert ablation.pick_trial(trials[:3], firing_cap=0.1) == 2
    # none within the cap: every trial competes
    assert ablation.pick_trial(trials[:1], firing_cap=0.1) == 0
    # records without validation firing rates never count as within the cap
    old = {**_trial(ablation, "lif", 4, 1.0), "trial": 5, "point": points[5]}
    assert ablation.pick_trial([*trials, old], firing_cap=0.1) == 3
    table = ablation.trial_table([*trials, old])
    assert table[0]["val_firing_rate"] == pytest.approx(0.13)
    assert table[-1]["val_firing_rate"] is None
    summary = ablation.summarise_records({"lif": trials}, {"lif": []}, firing_cap=0.1)
    assert summary["families"]["lif"]["best_trial"] == 3 and summary["firing_cap"] == 0.1
    with pytest.raises(ValueError, match="variant must be one of"):
        ablation.trial_points("lif", "dense")
