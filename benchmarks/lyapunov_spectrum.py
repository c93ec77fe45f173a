"""Benchmark: exact Lyapunov spectra of balanced theta networks (SparseProp + QR).

Prints three tables:

1. a full spectrum of an N = 1000, K = 100 theta network: wall time against the number
   of spikes, with the median and worst relative standard error of the exponents (the
   zero exponent and exponents within 1/s of zero are left out of the relative errors,
   which diverge there) and the largest error relative to lambda_max;
2. the first 100 exponents of an N = 10^4, K = 100 network;
3. time per spike against N and m (QR every N/10 spikes included).

Usage: ``python benchmarks/lyapunov_spectrum.py [--quick]``. Run on an idle machine for
numbers worth quoting; NUMBA_NUM_THREADS / OMP_NUM_THREADS=1 for one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from neurosrnn.sparseprop.engine import balanced_network
from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum


def _timed(network, **kwargs):
    start = time.perf_counter()
    result = lyapunov_spectrum(network, **kwargs)
    return result, time.perf_counter() - start


def _errors(result):
    exponents = result.exponents
    keep = np.abs(exponents) > 1.0
    relative = result.standard_error[keep] / np.abs(exponents[keep])
    return (
        float(np.median(relative)),
        float(np.max(relative)),
        float(np.max(result.standard_error) / abs(exponents[0])),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args(argv)

    # warm up numba (compilation is cached on disk after the first run)
    lyapunov_spectrum(balanced_network(200, 20, seed=0, memory_free=False), n_spikes=200, m=2)

    print("\n1. Full spectrum, theta, N = 1000, K = 100, nu0 = 1 Hz (burn-in 5N, transient 5N)")
    print(
        f"{'spikes':>8} {'wall s':>8} {'median rel SE':>14} {'max rel SE':>11} "
        f"{'max SE/l1':>10} {'lambda_1':>9}"
    )
    network = balanced_network(1000, 100, seed=1, memory_free=False)
    for spikes_per_neuron in (5, 10) if args.quick else (10, 20):
        result, wall = _timed(
            network,
            n_spikes=spikes_per_neuron * 1000,
            n_burn_in_spikes=5000,
            n_transient_spikes=5000,
            seed=1,
        )
        median, worst, scaled = _errors(result)
        print(
            f"{spikes_per_neuron * 1000:>8} {wall:>8.1f} {median:>14.3f} {worst:>11.3f} "
            f"{scaled:>10.3f} {result.exponents[0]:>9.3f}"
        )

    print("\n2. First 100 exponents, theta, N = 10^4, K = 100")
    print(f"{'spikes':>8} {'wall s':>8} {'median rel SE':>14} {'lambda_1':>9}")
    network = balanced_network(10_000, 100, seed=1, memory_free=False)
    spikes = 50_000 if args.quick else 200_000
    result, wall = _timed(
        network, n_spikes=spikes, m=100, n_burn_in_spikes=20_000, n_transient_spikes=20_000, seed=1
    )
    median, _, _ = _errors(result)
    print(f"{spikes:>8} {wall:>8.1f} {median:>14.3f} {result.exponents[0]:>9.3f}")

    print("\n3. Time per spike (us), QR every N/10 spikes included")
    sizes = (1000, 10_000) if args.quick else (1000, 10_000, 100_000)
    ms = (1, 10, 100)
    print(f"{'N':>8} " + " ".join(f"{'m=' + str(m):>9}" for m in ms))
    for N in sizes:
        network = balanced_network(N, 100, seed=1, memory_free=False)
        cells = []
        for m in ms:
            n_spikes = max(2 * N, 20_000)
            _, wall = _timed(
                network, n_spikes=n_spikes, m=m, n_burn_in_spikes=0, n_transient_spikes=0, seed=1
            )
            cells.append(f"{1e6 * wall / n_spikes:>9.2f}")
        print(f"{N:>8} " + " ".join(cells))


if __name__ == "__main__":
    main()
