"""What the benchmark scripts in ``benchmarks/`` report, checked without timing anything."""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


@pytest.fixture(scope="module")
def large():
    return _load("sparseprop_large")


def _row(N, per_neuron, baseline=172e6):
    return {
        "peak_bytes": baseline + per_neuron * N,
        "peak_bytes_per_neuron": per_neuron,
        "baseline_bytes": baseline,
    }


def test_largest_n_is_measured_only_when_two_rows_bracket_23_gb(large):
    # 9e8 * 24 + 0.172e9 = 21.77e9 <= 23e9 < 1e9 * 24 + 0.172e9 = 24.17e9
    rows = {N: _row(N, 24.0) for N in (10**8, 9 * 10**8, 10**9)}
    text = large._largest_n_line(rows)
    assert "**measured**" in text and "extrapolated" not in text
    assert "N = 9e+08 runs in 21.8 GB" in text and "N = 1e+09 in 24.2 GB" in text
    expected = int((23e9 - 172e6) / 24.0)  # 9.51e8, between the two rows
    assert f"about {expected:.3g}" in text
    assert 9 * 10**8 < expected < 10**9


def test_largest_n_is_extrapolated_and_says_so_without_a_row_above_23_gb(large):
    rows = {N: _row(N, 24.0) for N in (10**8, 4 * 10**8)}
    text = large._largest_n_line(rows)
    assert "**extrapolated**" in text and "measured**" not in text
    assert "measured at N = 4e+08" in text


def test_order_n_reference_is_timed_by_its_own_loop_clock(monkeypatch):
    """The O(N) reference's per-run time is its `wall_time` (event loop only, no set-up)."""
    scaling = _load("sparseprop_scaling")

    class _Result:
        wall_time = 0.125

    calls = []

    def fake_reference(network, phases, n_spikes):
        calls.append(n_spikes)
        return _Result()

    monkeypatch.setattr(scaling, "simulate_reference", fake_reference)

    class _Network:
        def phases(self, state):
            return np.zeros(3)

    timer = scaling._OrderN(_Network(), state=None)
    assert timer.elapsed(50) == 0.125
    assert calls == [50]
