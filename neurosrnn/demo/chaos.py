"""Demo part: the Lyapunov spectrum of a 1,000-neuron balanced theta network.

The inhibitory balanced theta network of Monteforte & Wolf (2010, Phys. Rev. Lett.
105:268104): N = 1000, K = 100 targets per neuron, J = -1/sqrt(K), drive
I = tau sqrt(K) nu0 with nu0 = 1 Hz and tau = 10 ms. The spectrum is computed exactly
alongside the event-driven simulation (single-spike Jacobians at every spike, QR every
N/10 spikes). The summary reports the largest exponent, the Kolmogorov-Sinai entropy
(sum of positive exponents; nats/s, bits/s and bits per spike), the Kaplan-Yorke
dimension and the standard errors from independent segments of the run, so the reader
can judge convergence.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

from neurosrnn.analysis.lyapunov import plot_convergence, plot_spectrum
from neurosrnn.results import save_figure_atomic
from neurosrnn.sparseprop.engine import balanced_network
from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum

__all__ = ["run"]


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 1) -> dict:
    """Compute the spectrum, write ``chaos_lyapunov_spectrum.png`` and return a summary.

    Parameters
    ----------
    out_dir : pathlib.Path
        Existing output folder.
    quick : bool
        Fewer spikes and only the first 200 exponents (for tests, a few seconds).
    seed : int
        Seed of the graph, the initial phases and the initial tangent vectors.

    Returns
    -------
    dict
        JSON-serialisable summary.
    """
    from matplotlib.figure import Figure

    out_dir = pathlib.Path(out_dir)
    N, K = 1000, 100
    m = 200 if quick else N
    n_spikes = 5 * N if quick else 20 * N
    network = balanced_network(
        N, K, model="theta", rate=1.0, tau=0.01, seed=seed, memory_free=False
    )
    result = lyapunov_spectrum(
        network,
        n_spikes=n_spikes,
        m=m,
        seed=seed,
        n_burn_in_spikes=5 * N,
        n_transient_spikes=2 * N if quick else 5 * N,
    )
    exponents = result.exponents
    entropy = result.ks_entropy
    full = m == N
    dimension = result.kaplan_yorke_dimension if full else None
    zero_index = int(np.argmin(np.abs(exponents)))

    figure = Figure(figsize=(9, 3.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    plot_spectrum(exponents, errors=result.standard_error, normalize_index=N, ax=left)
    left.set_ylabel(r"$\lambda_i$ (1/s)")
    left.set_title(f"theta network N={N}, K={K}: {m} exponents", fontsize=10)
    plot_convergence(result.times, result.running, n_show=4, ax=right, time_unit="s")
    right.set_ylabel("running estimate (1/s)")
    right.set_title(f"{n_spikes} spikes, rate {result.mean_rate:.2f} Hz", fontsize=10)
    figure_path = out_dir / "chaos_lyapunov_spectrum.png"
    save_figure_atomic(figure, figure_path)

    relative_error = np.abs(result.standard_error / np.where(exponents == 0, np.nan, exponents))
    relative_error[zero_index] = np.nan
    return {
        "N": N,
        "K": K,
        "n_exponents": m,
        "n_spikes": n_spikes,
        "simulated_time_s": float(result.duration),
        "mean_rate_hz": float(result.mean_rate),
        "largest_exponent_per_s": float(exponents[0]),
        "largest_exponent_standard_error": float(result.standard_error[0]),
        "zero_exponent_per_s": float(exponents[zero_index]),
        "n_positive_exponents": int(np.sum(exponents > 0)),
        "ks_entropy_nats_per_s": float(entropy),
        "ks_entropy_bits_per_s": float(entropy / math.log(2.0)),
        "ks_entropy_bits_per_spike": float(result.entropy_per_spike),
        "kaplan_yorke_dimension": None if dimension is None else float(dimension),
        "kaplan_yorke_dimension_per_N": None if dimension is None else float(dimension / N),
        "median_relative_standard_error": float(np.nanmedian(relative_error)),
        "note": ("full spectrum" if full else "quick mode: first exponents only, no KY dimension"),
        "figure": str(figure_path),
    }
