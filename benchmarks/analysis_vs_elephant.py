"""neurosrnn.analysis against Elephant 1.2.1 (and pyspike) on 1000 Poisson trains x 10 s x 10 Hz.

Usage::

    python benchmarks/analysis_vs_elephant.py [--trains 1000] [--duration 10] [--rate 10]

Prints one table: operation, our time, the peer's time, speed-up. Elephant's slow
all-pairs routines (STTC, cross-correlograms, van Rossum, Victor-Purpura) run on a
subset of trains and are extrapolated quadratically in the number of trains (marked
"extrap."). Our numba kernels are compiled on a small input first, so the table shows
warm timings (the first call in a fresh process adds about 1-3 s of compilation per
kernel unless numba's cache is warm). Single thread for everyone; times are process
CPU seconds (best of 3 for fast operations), which on a shared machine are much less
noisy than wall-clock time. Needs the ``test`` extra (elephant, neo); pyspike is
optional.
"""

from __future__ import annotations

import os

# single thread for everyone (BLAS, numba), set before numpy is imported
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

# CPU time of this process: on a shared machine it is far less noisy than wall time,
# and every timed operation here is single-threaded, so it equals wall time when idle.
_clock = time.process_time


def _best(function, repeats=3):
    best = np.inf
    result = None
    for _ in range(repeats):
        start = _clock()
        result = function()
        best = min(best, _clock() - start)
    return best, result


def _once(function):
    return _best(function, repeats=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trains", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import neo
    import quantities as pq
    from elephant import spike_train_correlation as correlation
    from elephant import spike_train_dissimilarity as dissimilarity
    from elephant import statistics
    from elephant.conversion import BinnedSpikeTrain

    from neurosrnn import analysis
    from neurosrnn.analysis import as_spike_trains

    warnings.filterwarnings("ignore")
    N, T = args.trains, args.duration
    rng = np.random.default_rng(args.seed)
    counts = rng.poisson(args.rate * T, size=N)
    indices = np.repeat(np.arange(N), counts)
    times = rng.uniform(0, T, size=indices.size)
    order = np.argsort(times)  # as a SpikeMonitor records them: by time, not by neuron
    indices, times = indices[order], times[order]
    print(f"workload: {N} Poisson trains x {T:g} s x {args.rate:g} Hz = {indices.size} spikes")

    # warm up the numba kernels on a small input
    small = as_spike_trains((indices[:2000], times[:2000]), N=N, t_stop=T)
    analysis.sttc_matrix(small, 0.005, pairs=[(0, 1)])
    analysis.cross_correlograms(small, 0.001, 0.01, pairs=[(0, 1)])
    analysis.van_rossum_distances(as_spike_trains(small.trains()[:3], t_stop=T), 0.01)
    analysis.victor_purpura_distances(as_spike_trains(small.trains()[:3], t_stop=T), 100.0)

    rows = []

    def row(name, ours, peer, note=""):
        speedup = f"{peer / ours:8.0f}x" if (peer and ours) else "       -"
        rows.append((name, ours, peer, speedup, note))
        print(f"  measured {name}", file=sys.stderr)

    t_ours, st = _best(lambda: as_spike_trains((indices, times), N=N, t_stop=T))
    trains = st.trains()
    t_peer, neo_trains = _once(
        lambda: [neo.SpikeTrain(t, units="s", t_start=0, t_stop=T) for t in trains]
    )
    row("input: (i, t) -> sorted trains | neo.SpikeTrain list", t_ours, t_peer)

    t_ours, _ = _best(lambda: analysis.firing_rates(st))
    t_peer, _ = _once(lambda: [statistics.mean_firing_rate(t) for t in neo_trains])
    row("firing rates", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.cv(st))
    t_peer, _ = _once(lambda: [statistics.cv(statistics.isi(t)) for t in neo_trains])
    row("CV", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.cv((indices, times), N=N, t_stop=T))
    row("CV from raw (i, t), incl. sorting", t_ours, t_peer)
    shuffled = rng.permutation(indices.size)
    t_ours, _ = _best(lambda: analysis.cv((indices[shuffled], times[shuffled]), N=N, t_stop=T))
    row("CV from shuffled (i, t), incl. lexsort", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.cv2(st))
    t_peer, _ = _once(lambda: [statistics.cv2(statistics.isi(t)) for t in neo_trains])
    row("CV2", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.lv(st))
    t_peer, _ = _once(lambda: [statistics.lv(statistics.isi(t)) for t in neo_trains])
    row("LV", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.lvr(st))
    t_peer, _ = _once(lambda: [statistics.lvr(statistics.isi(t)) for t in neo_trains])
    row("LvR", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.fano_factor_across_trials([st, st]))
    t_peer, _ = _once(lambda: statistics.fanofactor(neo_trains))
    row("Fano (counts of all trains)", t_ours, t_peer, "ours: per neuron over 2 trials")
    t_ours, _ = _best(lambda: analysis.fano_factor(st, 1.0))
    row("Fano per train, 1 s windows", t_ours, None, "not in Elephant")

    t_ours, _ = _best(lambda: analysis.spike_count_correlation(st, 0.005))
    t_peer, _ = _once(
        lambda: correlation.correlation_coefficient(
            BinnedSpikeTrain(neo_trains, bin_size=5 * pq.ms)
        )
    )
    row("count correlation 5 ms, N x N (incl. binning)", t_ours, t_peer)

    n_pairs = N * (N - 1) // 2
    t_ours, _ = _once(lambda: analysis.sttc_matrix(st, 0.005))
    subset = min(50, N)
    sub_pairs = subset * (subset - 1) // 2
    t_sub, _ = _once(
        lambda: [
            correlation.sttc(neo_trains[i], neo_trains[j], dt=5 * pq.ms)
            for i in range(subset)
            for j in range(i + 1, subset)
        ]
    )
    row(
        f"STTC all {n_pairs} pairs",
        t_ours,
        t_sub * n_pairs / sub_pairs,
        f"Elephant extrap. from {subset} trains",
    )

    t_ours, _ = _once(lambda: analysis.cross_correlograms(st, 0.001, 0.1))
    subset = min(20, N)
    sub_pairs = subset * (subset - 1) // 2
    binned = [BinnedSpikeTrain(t, bin_size=1 * pq.ms) for t in neo_trains[:subset]]
    t_sub, _ = _once(
        lambda: [
            correlation.cross_correlation_histogram(binned[i], binned[j], window=[-100, 100])
            for i in range(subset)
            for j in range(i + 1, subset)
        ]
    )
    row(
        f"CCG 1 ms, +-100 ms, all {n_pairs} pairs",
        t_ours,
        t_sub * n_pairs / sub_pairs,
        f"Elephant extrap. from {subset} trains (pre-binned)",
    )

    t_ours, _ = _once(lambda: analysis.van_rossum_distances(st, 0.01))
    subset = min(100, N)
    t_sub, _ = _once(lambda: dissimilarity.van_rossum_distance(neo_trains[:subset], 10 * pq.ms))
    row(
        f"van Rossum tau 10 ms, {N} trains",
        t_ours,
        t_sub * (N / subset) ** 2,
        f"Elephant extrap. from {subset} trains",
    )

    vp_trains = min(100, N)
    vp_st = as_spike_trains(trains[:vp_trains], t_stop=T)
    t_ours, _ = _once(lambda: analysis.victor_purpura_distances(vp_st, 100.0))
    subset = min(20, N)
    t_sub, _ = _once(
        lambda: dissimilarity.victor_purpura_distance(neo_trains[:subset], 100 * pq.Hz)
    )
    row(
        f"Victor-Purpura q 100 Hz, {vp_trains} trains",
        t_ours,
        t_sub * (vp_trains / subset) ** 2,
        f"Elephant extrap. from {subset} trains",
    )

    t_ours, _ = _once(lambda: analysis.victor_purpura_distances(st, 100.0))
    row(
        f"Victor-Purpura q 100 Hz, {N} trains",
        t_ours,
        t_sub * (N / subset) ** 2,
        f"Elephant extrap. from {subset} trains",
    )

    t_ours, _ = _best(lambda: analysis.time_histogram(st, 0.001))
    t_peer, _ = _once(lambda: statistics.time_histogram(neo_trains, 1 * pq.ms))
    row("population histogram 1 ms", t_ours, t_peer)
    t_ours, _ = _best(lambda: analysis.kernel_rate(st, 0.02, 0.001))
    from elephant.kernels import GaussianKernel

    t_peer, _ = _once(
        lambda: statistics.instantaneous_rate(
            neo_trains, 1 * pq.ms, kernel=GaussianKernel(20 * pq.ms)
        )
    )
    row("Gaussian kernel rate 20 ms at 1 ms (population)", t_ours, t_peer)

    try:
        import pyspike

        subset = min(100, N)
        spike_trains = [pyspike.SpikeTrain(t, edges=(0, T)) for t in trains[:subset]]
        t_peer, _ = _once(lambda: pyspike.spike_distance_matrix(spike_trains))
        row(f"pyspike SPIKE-distance matrix, {subset} trains", None, t_peer, "not implemented here")
        t_peer, _ = _once(lambda: pyspike.isi_distance_matrix(spike_trains))
        row(f"pyspike ISI-distance matrix, {subset} trains", None, t_peer, "not implemented here")
    except ImportError:
        print("pyspike not installed: its rows are skipped", file=sys.stderr)

    print()
    print("| operation | neurosrnn (s) | Elephant 1.2.1 / pyspike (s) | speed-up | note |")
    print("|---|---|---|---|---|")
    for name, ours, peer, speedup, note in rows:
        ours_text = f"{ours:.4f}" if ours is not None else "-"
        peer_text = f"{peer:.3f}" if peer is not None else "-"
        print(f"| {name} | {ours_text} | {peer_text} | {speedup.strip()} | {note} |")


if __name__ == "__main__":
    main()
