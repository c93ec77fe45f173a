"""Time and memory to build seeded sparse graphs, up to N = 10^6, K = 100.

Run: .venv/bin/python benchmarks/connectivity_build.py [--max-N 1000000]

Prints one table row per (rule, N): build wall time, graph size in memory (CSR arrays)
and the process's peak resident memory so far. The numba kernel is compiled (and
cached) in a warm-up call before timing.
"""

import argparse
import resource
import time

from neurosrnn.connectivity import balanced_ei, fixed_in_degree, fixed_out_degree


def _peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-N", type=int, default=1_000_000)
    parser.add_argument("--K", type=int, default=100)
    args = parser.parse_args()
    fixed_in_degree(100, 100, 10, seed=0)  # compile the numba kernel
    rules = {
        "fixed_in_degree": lambda N: fixed_in_degree(N, N, args.K, seed=1),
        "fixed_out_degree": lambda N: fixed_out_degree(N, N, args.K, seed=1),
        "balanced_ei (80/20)": lambda N: balanced_ei(
            4 * N // 5, N - 4 * N // 5, args.K, J0=1.0, g=5.0, seed=1
        ),
    }
    sizes = [N for N in (10_000, 100_000, 1_000_000) if N <= args.max_N]
    print(
        f"{'rule':<22}{'N':>10}{'K':>6}{'synapses':>13}{'build s':>10}{'CSR MB':>9}"
        f"{'peak RSS GB':>13}"
    )
    for name, build in rules.items():
        for N in sizes:
            start = time.perf_counter()
            graph = build(N)
            elapsed = time.perf_counter() - start
            size_mb = (
                graph.indptr.nbytes
                + graph.indices.nbytes
                + (graph.weights.nbytes if graph.weights is not None else 0)
            ) / 1e6
            print(
                f"{name:<22}{N:>10}{args.K:>6}{graph.n_synapses:>13}{elapsed:>10.2f}"
                f"{size_mb:>9.0f}{_peak_rss_gb():>13.2f}"
            )
            del graph


if __name__ == "__main__":
    main()
