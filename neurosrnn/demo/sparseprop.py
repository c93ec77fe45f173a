"""Demo part: an exact SparseProp run of a 10^5-neuron balanced theta network.

The inhibitory balanced reference network of SparseProp (Engelken 2023, NeurIPS,
arXiv:2312.17216; Monteforte & Wolf 2010, Phys. Rev. Lett. 105:268104): N = 10^5
theta neurons, K = 100 targets each, J = -J0/sqrt(K) with J0 = 1, drive
I = tau sqrt(K) J0 nu0 with nu0 = 1 Hz and tau = 10 ms, uniform random initial phases,
memory-free topology. The run is event-driven and exact (no time step). The figure
shows a raster of 500 neurons and the population rate.
"""

from __future__ import annotations

import pathlib
import time

import numpy as np

from neurosrnn.results import save_figure_atomic
from neurosrnn.sparseprop.engine import balanced_network

__all__ = ["run"]


def _figure(result, N, shown_neurons, bin_width, title):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5.5), layout="constrained")
    raster, rate = figure.subplots(2, 1, sharex=True, height_ratios=[2.2, 1])
    keep = result.spike_indices < shown_neurons
    raster.plot(  # every neuron is inhibitory: one colour, that of I in the E/I rasters
        result.spike_times[keep], result.spike_indices[keep], ",", color="tab:red",
        rasterized=True,
    )  # fmt: skip
    raster.set_ylabel(
        f"neuron (showing {shown_neurons:,} of {N:,})" if shown_neurons < N else "neuron"
    )
    raster.set_ylim(-0.5, shown_neurons - 0.5)
    raster.set_title(title, fontsize=10)
    edges = np.arange(result.start_time, result.stop_time + bin_width, bin_width)
    counts, _ = np.histogram(result.spike_times, bins=edges)
    rate.plot(edges[:-1] + bin_width / 2, counts / (N * bin_width), color="tab:blue")
    rate.set_xlabel("time (s)")
    rate.set_ylabel("rate (Hz)")
    return figure


def run(out_dir: pathlib.Path, quick: bool = False) -> dict:
    """Simulate the reference theta network exactly; write its raster + rate figure.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for ``sparseprop_raster.png`` (created if missing).
    quick : bool
        Smaller and shorter run (N = 10^4, 0.5 s) for tests.

    Returns
    -------
    dict
        JSON-serialisable summary: model, N, K, duration, spikes, rate (Hz), CV,
        wall time (s), synaptic events per second, figure path.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    N, K = (10_000, 100) if quick else (100_000, 100)
    duration = 0.5 if quick else 3.0
    network = balanced_network(N, K, model="theta", J0=1.0, rate=1.0, tau=0.01, seed=2023)
    state = network.initial_state(seed=1)
    started = time.perf_counter()
    result = network.run(state, duration=duration)
    wall = time.perf_counter() - started
    cv = result.cv()
    title = (
        f"SparseProp, exact: {N:,} theta neurons, K = {K}, {result.n_spikes:,} spikes, "
        f"rate {result.mean_rate:.3g} Hz, CV {cv:.2f}"
    )
    figure = _figure(result, N, min(N, 500), 0.01, title)
    figure_path = out_dir / "sparseprop_raster.png"
    save_figure_atomic(figure, figure_path)
    return {
        "engine": "SparseProp (exact, event-driven)",
        "model": "theta",
        "N": N,
        "K": K,
        "J0": 1.0,
        "target_rate_Hz": 1.0,
        "tau_s": 0.01,
        "duration_s": duration,
        "spikes": int(result.n_spikes),
        "rate_Hz": float(result.mean_rate),
        "cv": float(cv),
        "wall_time_s": float(wall),
        "synaptic_events_per_s": float(result.n_spikes * K / wall) if wall > 0 else None,
        "figure": str(figure_path),
    }
