"""The `make demo` job on reduced sizes: files written, summary consistent."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_quick_writes_figures_and_consistent_summary(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "neurosrnn.demo", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert str(out / "summary.json") in result.stdout
    assert summary["seed"] == 1 and summary["versions"]["brian2"] == "2.10.1"
    network = summary["parts"]["network"]
    parameters = network["parameters"]
    N = parameters["N_excitatory"] + parameters["N_inhibitory"]
    # The reported mean rate must equal spikes / (N * duration).
    assert network["mean_rate_hz"] == pytest.approx(
        network["n_spikes"] / (N * parameters["duration_s"]), rel=1e-12
    )
    assert network["n_synapses"] == N * parameters["K"]
    for part in summary["parts"].values():
        for key, value in part.items():
            if key.endswith("figure"):
                assert not os.path.isabs(value), value  # relative to the results folder
                with open(out / value, "rb") as stream:
                    assert stream.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_demo_rejects_unknown_part(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "neurosrnn.demo", "--parts", "nonsense", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "unknown part" in result.stderr


def test_summary_paths_are_relative_to_the_results_folder(tmp_path):
    """Issue 14: summary.json stored absolute paths, which break when the folder moves."""
    import inspect

    from neurosrnn.demo import __main__ as demo_main
    from neurosrnn.demo import chaos

    figure = tmp_path / "out" / "network_raster.png"
    result = {"figure": str(figure), "n_spikes": 3, "note": str(figure)}
    demo_main._relative_paths(result, tmp_path / "out")
    assert result == {"figure": "network_raster.png", "n_spikes": 3, "note": str(figure)}
    assert "λ_i" not in inspect.getsource(chaos)  # the chaos figure's axis label is mathtext
