"""The SparseProp demo part writes its figure and a consistent JSON summary."""

import json

import numpy as np
from numpy.testing import assert_allclose

from neurosrnn.demo.sparseprop import run


def test_demo_quick_run_writes_figure_and_summary(tmp_path):
    summary = run(tmp_path / "out", quick=True)
    json.dumps(summary)  # JSON-serialisable
    figure = tmp_path / "out" / "sparseprop_raster.png"
    assert summary["figure"] == str(figure)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".tmp_*"))  # atomic write left no temp file
    assert summary["N"] == 10_000 and summary["K"] == 100
    assert_allclose(summary["rate_Hz"], summary["spikes"] / (summary["N"] * summary["duration_s"]))
    assert summary["spikes"] > 0 and 0 < summary["cv"] < 2 and np.isfinite(summary["wall_time_s"])
