"""SRNN training speed on each JAX platform, and the Brian2 runtime replay.

Prints one table row per network size: seconds per training epoch (batch 32,
surrogate-gradient BPTT with optax Adam, after compilation) on every requested JAX
platform, measured in the same process with the platforms' epochs interleaved
(median of ``--repeats``), the GPU/CPU ratio of those medians, and the milliseconds
per sample of a Brian2 replay of the trained network (numpy target, samples run side
by side; skipped with ``--no-brian``). A platform that JAX does not have is skipped
with the reason. The CPU model and the load average are printed, since both move CPU
timings.

    nice -n 10 .venv/bin/python benchmarks/srnn_training.py [--quick]
    python benchmarks/srnn_training.py --quick --platforms cpu,cuda --no-brian

Needs numpy, jax, optax and neurosrnn (Brian2 only for the replay column).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from machine import cpu_model


def _load_average():
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "unavailable"


def _available(platforms):
    """The JAX device of each requested platform that exists; print why others are skipped."""
    import jax

    devices = {}
    for name in platforms:
        try:
            devices[name] = jax.devices(name)[0]
        except RuntimeError as error:
            print(f"skipping platform {name!r}: {error}")
    return devices


def _time_epoch(train, config, x, y, params, device):
    trained = train.train(
        config, x, y, epochs=1, batch_size=32, params=params, device=device, progress=False
    )
    return trained.history["seconds"][0], trained


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small network (< 2 min on CPU)")
    parser.add_argument(
        "--platforms",
        default="cpu",
        help="comma-separated JAX platforms to time, e.g. cpu,cuda (default: cpu)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed epochs per platform (default 5, quick 3)"
    )
    parser.add_argument("--no-brian", action="store_true", help="skip the Brian2 replay column")
    args = parser.parse_args(argv)
    platforms = [name.strip() for name in args.platforms.split(",") if name.strip()]
    if not platforms:
        parser.error(f"--platforms names no platform: {args.platforms!r}")
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    if repeats < 1:
        parser.error(f"--repeats must be >= 1, got {repeats}")

    import jax

    from neurosrnn.learning import srnn, train

    print(f"JAX {jax.__version__}; default backend {jax.default_backend()}")
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); load average {_load_average()}")
    devices = _available(platforms)
    if not devices:
        print("no requested platform is available; nothing to time")
        return
    for name, device in devices.items():
        print(f"platform {name}: {device.device_kind} ({device})")
    sizes = [(32, 64), (128, 128)]
    if not args.quick:
        sizes += [(64, 256), (256, 128), (512, 256)]
    n_samples = 512
    names = list(devices)
    header = ["hidden", "T", "steps/epoch"]
    header += [f"{n} compile s" for n in names] + [f"{n} s/epoch" for n in names]
    gpu = next((n for n in names if n in ("cuda", "gpu", "rocm")), None)
    if gpu is not None and "cpu" in names:
        header.append(f"{gpu}/cpu")
    if not args.no_brian:
        header.append("Brian2 ms/sample")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for hidden, T in sizes:
        rng = np.random.default_rng(0)
        x = rng.random((n_samples, T, 8))
        y = rng.integers(0, 10, n_samples)
        config = srnn.SRNNConfig(
            n_in=8,
            hidden=(hidden,),
            n_out=10,
            b_j0=0.01,
            tau_m_init=(5.0, 1.0),
            tau_adp_init=(50.0, 10.0),
            tau_out_init=(5.0, 1.0),
        )
        params = srnn.init_params(config, 0)
        compile_s, seconds, trained = {}, {n: [] for n in names}, None
        for name in names:  # the first epoch on a platform also compiles
            compile_s[name], trained = _time_epoch(train, config, x, y, params, devices[name])
        for _ in range(repeats):  # interleaved: load changes hit every platform alike
            for name in names:
                elapsed, trained = _time_epoch(train, config, x, y, params, devices[name])
                seconds[name].append(elapsed)
        medians = {n: statistics.median(seconds[n]) for n in names}
        row = [str(hidden), str(T), str(n_samples // 32)]
        row += [f"{compile_s[n]:.1f}" for n in names] + [f"{medians[n]:.3f}" for n in names]
        if gpu is not None and "cpu" in names:
            row.append(f"{medians[gpu] / medians['cpu']:.2f}")
        if not args.no_brian:
            row.append(f"{_brian_ms_per_sample(trained, x, hidden):.0f}")
        print("| " + " | ".join(row) + " |", flush=True)
    print(f"load average after: {_load_average()}")


def _brian_ms_per_sample(trained, x, hidden):
    import brian2

    from neurosrnn.learning import deploy

    brian2.prefs.codegen.target = "numpy"
    n = max(1, min(16, deploy.MAX_NEURONS_PER_LAYER // hidden))
    start = time.perf_counter()
    deployed = deploy.to_brian2(trained, x[:n])
    deployed.run()
    return (time.perf_counter() - start) / n * 1e3


if __name__ == "__main__":
    main()
