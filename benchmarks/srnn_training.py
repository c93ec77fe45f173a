"""SRNN training and deployment speed: JAX BPTT steps and Brian2 runtime replay.

Prints one table row per network size: milliseconds per training step (batch 32,
surrogate-gradient BPTT, after compilation) and per sample of a Brian2 replay of the
trained network (numpy target, samples run side by side).

    nice -n 10 .venv/bin/python benchmarks/srnn_training.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    import brian2
    import jax

    from neurosrnn.learning import deploy, srnn, train

    brian2.prefs.codegen.target = "numpy"
    sizes = [(32, 64)] if args.quick else [(32, 64), (64, 64), (128, 64), (64, 256)]
    print(f"JAX {jax.__version__} on {jax.devices()[0].platform}")
    print("| hidden | T | compile s | ms / train step (batch 32) | Brian2 ms / sample |")
    print("|---|---|---|---|---|")
    for hidden, T in sizes:
        rng = np.random.default_rng(0)
        x = rng.random((64, T, 8))
        y = rng.integers(0, 10, 64)
        config = srnn.SRNNConfig(
            n_in=8,
            hidden=(hidden,),
            n_out=10,
            b_j0=0.01,
            tau_m_init=(5.0, 1.0),
            tau_adp_init=(50.0, 10.0),
            tau_out_init=(5.0, 1.0),
        )
        epochs = 6
        trained = train.train(config, x, y, epochs=epochs, batch_size=32, progress=False)
        seconds = trained.history["seconds"]
        compile_s = seconds[0] - np.mean(seconds[1:])  # the first epoch also compiles
        step_ms = np.mean(seconds[1:]) / (len(x) // 32) * 1e3
        n = max(1, min(16, deploy.MAX_NEURONS_PER_LAYER // hidden))
        start = time.perf_counter()
        deployed = deploy.to_brian2(trained, x[:n])
        deployed.run()
        brian_ms = (time.perf_counter() - start) / n * 1e3
        print(f"| {hidden} | {T} | {compile_s:.1f} | {step_ms:.1f} | {brian_ms:.0f} |")


if __name__ == "__main__":
    main()
