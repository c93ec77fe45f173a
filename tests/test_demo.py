"""The `make demo` job on reduced sizes: files written, summary consistent."""

import json
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
                with open(value, "rb") as stream:
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
