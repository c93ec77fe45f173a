"""Demo part 1: a heterogeneous sparse E/I network of multi-timescale adaptive neurons.

4000 excitatory + 1000 inhibitory MAT neurons (Kobayashi, Tsubo & Shinomoto 2009:
a threshold with 10 ms and ~200 ms spike-triggered components), fixed in-degree
K = 100 with balanced ``J0/sqrt(K)`` weights (van Vreeswijk & Sompolinsky 1996),
gamma-distributed membrane time constants, lognormal slow-threshold time
constants and uniformly distributed drives, simulated for 1 s on Brian2's runtime
device. Writes a raster/rate figure and returns rates, CV and the parameter record.
"""

from __future__ import annotations

import time

import numpy as np

#: Embedded defaults of the demo network (units in the keys).
DEFAULTS = {
    "N_excitatory": 4000,
    "N_inhibitory": 1000,
    "K": 100,
    "J0_mV": 20.0,
    "g": 6.0,
    "I_ext_mV_low": 15.0,
    "I_ext_mV_high": 25.0,
    "tau_m_mean_ms": 10.0,
    "tau_m_gamma_shape": 4.0,
    "tau_2_median_ms": 200.0,
    "tau_2_log_sd": 0.5,
    "duration_s": 1.0,
    "dt_ms": 0.1,
}
QUICK = dict(DEFAULTS, N_excitatory=800, N_inhibitory=200, duration_s=0.5)


def run(out_dir, quick=False, seed=1):
    """Simulate the demo network and write ``network_raster.png`` into `out_dir`.

    Returns
    -------
    dict
        Parameters, seed, spike count, mean rate (Hz), mean CV, fraction of silent
        neurons, time-constant summaries and the figure path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from brian2 import defaultclock, ms, mV, prefs, second

    from neurosrnn.analysis import firing_summary
    from neurosrnn.analysis.plotting import summary_figure
    from neurosrnn.models.multitimescale import mat
    from neurosrnn.models.networks import balanced_ei_network
    from neurosrnn.models.timescale_samplers import gamma_timescales, lognormal_timescales
    from neurosrnn.results import save_figure_atomic

    config = QUICK if quick else DEFAULTS
    prefs.codegen.target = "numpy"  # no compiler needed; cython would need a warm cache
    defaultclock.dt = config["dt_ms"] * ms
    N = config["N_excitatory"] + config["N_inhibitory"]
    rng = np.random.default_rng([seed, 1])  # drives and initial voltages
    start = time.perf_counter()
    network = balanced_ei_network(
        mat(),
        config["N_excitatory"],
        config["N_inhibitory"],
        config["K"],
        J0=config["J0_mV"] * mV,
        g=config["g"],
        seed=seed,
        parameters={
            "tau_m": gamma_timescales(config["tau_m_mean_ms"] * ms, config["tau_m_gamma_shape"]),
            "tau_2": lognormal_timescales(config["tau_2_median_ms"] * ms, config["tau_2_log_sd"]),
            "I_ext": rng.uniform(config["I_ext_mV_low"], config["I_ext_mV_high"], N) * mV,
        },
        initial_values={"v": rng.uniform(0, 20, N) * mV},
    )
    built = time.perf_counter()
    network.run(config["duration_s"] * second, report="text", report_period=10 * second)
    simulated = time.perf_counter()
    indices, times = network.spikes()
    summary = firing_summary((indices, times), N=N, t_start=0.0, t_stop=config["duration_s"])
    # E blue, I red; the raster's title says how many of the N neurons it shows
    figure = summary_figure(summary, populations=config["N_excitatory"])
    figure.suptitle(
        f"MAT E/I network, N = {N}, K = {config['K']}: "
        f"{summary.rates.mean():.1f} Hz, mean CV {np.nanmean(summary.cv):.2f}"
    )
    figure_path = out_dir / "network_raster.png"
    save_figure_atomic(figure, figure_path)
    plt.close(figure)
    tau_m = np.asarray(network.neurons.tau_m[:] / ms)
    tau_2 = np.asarray(network.neurons.tau_2[:] / ms)
    excitatory = summary.rates[: config["N_excitatory"]]
    inhibitory = summary.rates[config["N_excitatory"] :]
    return {
        "model": "mat (Kobayashi, Tsubo & Shinomoto 2009)",
        "device": "runtime (numpy target)",
        "parameters": config,
        "n_synapses": network.connectivity.n_synapses,
        "n_spikes": int(indices.size),
        "mean_rate_hz": float(summary.rates.mean()),
        "mean_rate_excitatory_hz": float(excitatory.mean()),
        "mean_rate_inhibitory_hz": float(inhibitory.mean()),
        "mean_cv": float(np.nanmean(summary.cv)),
        "fraction_silent": float(np.mean(summary.rates == 0)),
        "synchrony_chi": float(summary.chi),
        "tau_m_ms": {"mean": float(tau_m.mean()), "cv": float(tau_m.std() / tau_m.mean())},
        "tau_2_ms": {"median": float(np.median(tau_2)), "cv": float(tau_2.std() / tau_2.mean())},
        "build_time_s": round(built - start, 2),
        "simulation_time_s": round(simulated - built, 2),
        "figure": str(figure_path),
    }
