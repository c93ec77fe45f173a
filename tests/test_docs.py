"""The documentation site builds without warnings and has its key pages.

One Sphinx build (``-W``: any warning fails it) into a temporary folder, offline, in a
subprocess so that Brian2's global state and the imports of the build stay out of the
test process. The model gallery's f-I curves are checked against the closed-form
firing rates of the LIF and theta neurons.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytestmark = pytest.mark.slow

FORMAT_PAGES = {
    "results": ("metadata.json", "spikes.npz", "states.npz", "format_version"),
    "store": ("__checksum__", "__metadata__", "spike_indices", ".lock-"),
    "checkpoints": ("checkpoint.npz", "chunk-000000.npz", "fingerprint"),
    "sweep_spec": ("[sweep]", "[network]", "[sparseprop]", "[parameters]"),
    "network_spec": ("[network.initial_values]", "truncated to the bounds", "--spec"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once; return the HTML folder (fails with Sphinx's output)."""
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_nb")
    out = tmp_path_factory.mktemp("docs")
    html, doctrees = out / "html", out / "doctrees"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(doctrees),
        str(DOCS),
        str(html),
    ]
    environment = dict(os.environ, MPLBACKEND="Agg")
    completed = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, (
        f"sphinx-build -W failed (exit {completed.returncode}):\n"
        f"{completed.stdout[-6000:]}\n{completed.stderr[-6000:]}"
    )
    return html


def _text(path):
    assert path.is_file(), f"missing page {path}"
    return path.read_text(encoding="utf-8")


def test_api_reference_documents_cv_once_under_analysis(site):
    page = _text(site / "api" / "generated" / "neurosrnn.analysis.html")
    assert page.count('id="neurosrnn.analysis.cv"') == 1
    assert "Coefficient of variation" in page
    # the defining module links to it rather than documenting it a second time
    statistics = _text(site / "api" / "generated" / "neurosrnn.analysis.statistics.html")
    assert 'id="neurosrnn.analysis.statistics.cv"' not in statistics
    assert "neurosrnn.analysis.html#neurosrnn.analysis.cv" in statistics
    for module in ("neurosrnn.models", "neurosrnn.sweep", "neurosrnn.units", "neurosrnn.atomic"):
        assert (site / "api" / "generated" / f"{module}.html").is_file(), module


def test_model_gallery_has_a_page_and_a_figure_per_model(site):
    from matplotlib.image import imread

    from neurosrnn.models import MODEL_LIBRARY

    for key in MODEL_LIBRARY:
        page = _text(site / "gallery" / f"{key}.html")
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
        assert images, f"gallery page of {key!r} has no figure"
        figure = (site / "gallery" / images[0]).resolve()
        assert figure.is_file(), figure
        pixels = imread(figure)
        assert pixels.shape[0] > 150 and pixels.shape[1] > 400
        assert np.std(pixels) > 0.05, f"figure of {key!r} is blank"
        model = MODEL_LIBRARY[key]()
        for parameter in model.parameters:  # the parameter table lists every parameter
            assert f'<span class="pre">{parameter}</span></code></p></td>' in page, parameter
        assert "References" in page
    index = _text(site / "gallery" / "index.html")
    for key in MODEL_LIBRARY:
        assert f'href="{key}.html"' in index


def _curve(key):
    record = json.loads((DOCS / "gallery" / f"{key}_fI.json").read_text(encoding="utf-8"))
    return (
        np.asarray(record["drives_si"]),
        np.asarray(record["rates_hz"]),
        record["window_s"][1] - record["window_s"][0],
        record["dt_s"],
    )


def test_gallery_fi_curves_match_closed_form_rates(site):
    """LIF: T = tau_ref + tau_m ln((v_inf - v_reset)/(v_inf - v_th)); theta: T = pi tau_m / sqrt(I).

    The measured rate counts spikes in a window of length W on a grid of step dt: each
    interval is within one dt of T (spikes and the end of the refractory period fall on
    the grid) and the count is off by at most one spike.
    """
    from brian2 import second
    from brian2 import volt as V

    from neurosrnn.models import MODEL_LIBRARY

    lif = MODEL_LIBRARY["lif"]()
    p = {
        name: float(value / (second if name.startswith("tau") else V))
        for name, value in lif.parameters.items()
    }
    drives, rates, window, dt = _curve("lif")
    v_inf = p["v_rest"] + drives
    firing = v_inf > p["v_threshold"] + 1e-12
    assert firing.sum() >= 10 and np.all(rates[~firing] == 0)
    period = p["tau_ref"] + p["tau_m"] * np.log(
        (v_inf[firing] - p["v_reset"]) / (v_inf[firing] - p["v_threshold"])
    )
    assert np.all(rates[firing] <= 1 / (period - dt) + 1 / window + 1e-9)
    assert np.all(rates[firing] >= 1 / (period + dt) - 1 / window - 1e-9)

    theta = MODEL_LIBRARY["theta"]()
    tau_m = float(theta.parameters["tau_m"] / second)
    drives, rates, window, dt = _curve("theta")
    assert rates[0] == 0
    expected = np.sqrt(drives[1:]) / (np.pi * tau_m)
    np.testing.assert_allclose(rates[1:], expected, atol=1 / window + 1e-9, rtol=0.02)


def test_tutorials_are_rendered(site):
    notebooks = sorted((ROOT / "tutorials").glob("[0-9]*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        assert (site / "tutorials" / f"{notebook.stem}.html").is_file(), notebook.name
    first = _text(site / "tutorials" / f"{notebooks[0].stem}.html")
    assert "Adaptive multi-timescale neurons" in first
    assert 'class="cell docutils container"' in first  # code cells rendered by myst-nb


def test_file_format_pages(site):
    for page, needles in FORMAT_PAGES.items():
        text = _text(site / "formats" / f"{page}.html")
        for needle in needles:
            assert needle in text, f"{page}: {needle!r} missing"


def test_network_spec_page_example_is_read_by_the_command_line(tmp_path):
    """The page's TOML example is a valid `neurosrnn run --spec` file (no Sphinx needed)."""
    from neurosrnn import cli

    page = (ROOT / "docs" / "formats" / "network_spec.md").read_text()
    example = page.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "network.toml"
    path.write_text(example)
    spec = cli._read_spec(str(path))
    assert spec["model"] == "mat" and spec["seed"] == 1
    assert set(spec["parameters"]) == {"tau_m", "I_ext"}


def test_changelog_and_citation_pages(site):
    from neurosrnn import __version__

    changelog = _text(site / "changelog.html")
    assert "Unreleased" in changelog and "0.1.0" in changelog
    citation = _text(site / "citation.html")
    for needle in ("eLife", "e47314", "2408.12407", "SparseProp", "905"):
        assert needle in citation, needle
    assert f"version {__version__}" in citation


def test_citation_file_metadata():
    yaml = pytest.importorskip("yaml")
    from neurosrnn import __version__

    record = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert record["cff-version"] == "1.2.0"
    assert record["version"] == __version__
    assert record["authors"] == [{"name": "The neurosrnn developers"}]
    titles = " ".join(reference["title"] for reference in record["references"])
    for needle in ("adaptive spiking recurrent", "SparseProp", "Hybrid Coding", "Brian 2"):
        assert needle in titles, needle
    dois = {reference.get("doi") for reference in record["references"]}
    assert {"10.7554/eLife.47314", "10.1038/s42256-021-00397-w"} <= dois


def _page_table(text, first_header):
    """Rows of the markdown table of `text` whose header starts with `first_header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _mean_sd(values, scale=100):
    return f"{scale * np.mean(values):.1f} ± {scale * np.std(values, ddof=1):.1f}"


def test_results_page_quotes_the_committed_experiment_results():
    """docs/results.md states the numbers of experiments/results/*.json, not stale ones."""
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    results = ROOT / "experiments" / "results"
    search = json.loads((results / "srnn_search.json").read_text())
    tasks = {
        "MNIST-1D": "mnist1d",
        "sequential 8×8": "seq_digits",
        "delayed recall": "delayed_recall",
    }
    families = ["alif_learned", "alif_fixed", "lif", "lstm", "gru"]
    rows = _page_table(page, "task")
    checked = 0
    for row in rows:
        task = next(key for prefix, key in tasks.items() if row[0].startswith(prefix))
        for family, cell in zip(families, row[1:], strict=True):
            if family not in search[task]:
                assert cell == "not run", (task, family, cell)
                continue
            finals = [run["test_accuracy"] for run in search[task][family]["finals"]]
            assert cell.startswith(_mean_sd(finals)), (task, family, cell, _mean_sd(finals))
            checked += 1
    assert checked == 14
    coding = json.loads((results / "srnn_coding.json").read_text())["table"]
    rows = _page_table(page, "code")
    for row in rows:
        for T, cell in zip((1, 2, 4, 8, 16), row[1:], strict=True):
            accuracy = coding[row[0]][str(T)]["accuracy"]
            assert cell == _mean_sd(accuracy), (row[0], T, cell, _mean_sd(accuracy))
    assert len(rows) == 4
    # the cap on the operation ratio with no spikes: the tuned LSTM's MACs over the SRNN's
    for task in ("mnist1d", "seq_digits"):
        srnn_mac = search[task]["alif_learned"]["finals"][0]["operations"]["mac"]
        lstm_mac = search[task]["lstm"]["finals"][0]["operations"]["mac"]
        cap = f"{lstm_mac:,.0f} / {srnn_mac:,.0f} = {lstm_mac / srnn_mac:.0f}×"
        assert cap in page, (task, cap)
    ablation = json.loads((results / "srnn_timescale_ablation.json").read_text())
    finals = {
        family: _mean_sd(ablation["families"][family]["test_accuracy"])
        for family in ("alif_learned", "alif_fixed", "lif")
    }
    assert (
        f"{finals['alif_learned']} against {finals['alif_fixed']} %" in page
        and f"LIF reaches {finals['lif']} %" in page
    ), finals
    budget = {
        (r["task"], r["family"], r["epochs"], r["hidden"], r["tau_lr_factor"]): r
        for r in json.loads((results / "srnn_budget.json").read_text())["rows"]
    }
    quoted = [
        ("mnist1d", "alif_learned", 30, 128, 1.0),
        ("mnist1d", "alif_learned", 100, 128, 1.0),
        ("mnist1d", "alif_learned", 300, 128, 1.0),
        ("mnist1d", "alif_learned", 30, 128, 10.0),
        ("mnist1d", "alif_learned", 300, 128, 10.0),
        ("mnist1d", "alif_learned", 30, 256, 1.0),
        ("seq_digits", "alif_learned", 30, 128, 5.0),
        ("seq_digits", "alif_learned", 100, 128, 5.0),
        ("seq_digits", "alif_learned", 300, 128, 5.0),
        ("seq_digits", "alif_learned", 300, 128, 100.0),
        ("seq_digits", "gru", 100, 128, 3.0),
        ("seq_digits", "gru", 300, 128, 3.0),
    ]
    for key in quoted:
        row = budget[key]
        assert f"{row['mean']:.1f} ± {row['sd']:.1f} %" in page, (key, row["mean"], row["sd"])
    gap = budget[quoted[-1]]["mean"] - budget[("seq_digits", "alif_learned", 300, 128, 5.0)]["mean"]
    assert f"the gap at equal budget is {gap:.1f} points" in page, gap
    sparse = json.loads((results / "srnn_timescale_ablation_sparse.json").read_text())
    families = sparse["families"]
    finals = {f: _mean_sd(families[f]["test_accuracy"]) for f in families}
    rates = {f: f"{families[f]['firing_rate_mean']:.3f}" for f in families}
    assert sparse["firing_cap"] == 0.1
    assert (
        f"({finals['alif_learned']} %) at {rates['alif_learned']} spikes" in page
        and f"against {finals['alif_fixed']} % with τ fixed ({rates['alif_fixed']})" in page
        and f"{finals['lif']} % for LIF ({rates['lif']};" in page
    ), (finals, rates)
    claims = {c["claim"]: c for c in sparse["claims"]}
    learned_lif = claims["alif_learned beats lif"]
    assert learned_lif["holds"] and claims["alif_learned beats alif_fixed"]["holds"]
    assert f"+{100 * learned_lif['difference']:.1f} points against an sd of" in page
    # its operations against an LSTM of the same size (5 inputs, 2 x 64, 4 outputs)
    from neurosrnn.learning import energy

    lstm = energy.rnn_operations(5, (64, 64), 4, kind="lstm")
    ops = [r["operations"] for r in families["alif_learned"]["finals"]]
    mean_ops = {key: float(np.mean([o[key] for o in ops])) for key in ("mac", "ac")}
    ratio = lstm["mac"] / (mean_ops["mac"] + mean_ops["ac"])
    joules = energy.energy_ratio(lstm, mean_ops)["ratio"]
    assert (
        f"{ratio:.1f}× fewer operations than an LSTM" in page
        and f"units, {lstm['mac']:,.0f} MACs per step" in page
        and f"{joules:.1f}× less energy" in page
        and f"{mean_ops['mac']:.0f} MACs per step cap that ratio at "
        f"{lstm['mac'] / mean_ops['mac']:.0f}×"
        in page
    ), (ratio, joules, mean_ops)


def test_results_page_is_rendered(site):
    text = _text(site / "results.html")
    assert "Measured against the papers" in text and "Yin, Corradi" in text
    assert 'href="results.html"' in _text(site / "index.html")
