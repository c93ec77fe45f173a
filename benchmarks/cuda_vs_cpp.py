"""CUDA standalone against C++ standalone: the same networks, spike by spike, and timing.

Runs on a machine with an NVIDIA GPU, ``nvcc`` and brian2cuda. Two deterministic
networks are built by one function and simulated on both standalone devices
(``cpp_standalone``: generated C++ compiled by the host compiler, one thread;
``cuda_standalone``: brian2cuda's generated CUDA), with the exact Euler/linear
integrators the models choose and dt = 0.1 ms:

1. the model library: every model of `neurosrnn.models.MODEL_LIBRARY` side by side
   (40 neurons each, seeded explicit graph, mixed-sign weights, heterogeneous drive,
   no random initial values; the network of ``tests/test_standalone_models.py``);
2. a large LIF network (``--neurons``, K = 100 fixed in-degree, weights of mixed sign,
   drive and initial membrane potentials drawn here with numpy and handed to both
   devices as arrays, so both start from the same state).

For every spike monitor it reports the spike counts, the length of the common
prefix of the spike sequences (sorted by time, then index; times equal to
``rtol = 1e-9``), the time of the first difference, and the build and run times of
each device. In a chaotic network rounding differences between the GPU's and the
CPU's arithmetic (fused multiply-add, ``exp``) make the sequences part after a while;
the population rate must still agree.

    python benchmarks/cuda_vs_cpp.py --out results/cuda_vs_cpp.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from machine import cpu_model

HERE = os.path.dirname(os.path.abspath(__file__))


def _library_module():
    """The model-library network of the standalone test (one definition, reused)."""
    path = os.path.join(HERE, os.pardir, "tests", "test_standalone_models.py")
    spec = importlib.util.spec_from_file_location("_standalone_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _large_lif(n_neurons, seed=7):
    """A builder of a deterministic LIF network of `n_neurons` neurons."""

    def build():
        from brian2 import Network, SpikeMonitor, Synapses, mV

        from neurosrnn.connectivity import fixed_in_degree
        from neurosrnn.models import MODEL_LIBRARY

        model = MODEL_LIBRARY["lif"]()
        rng = np.random.default_rng(seed)
        k = 100
        graph = fixed_in_degree(n_neurons, n_neurons, k, seed=seed)
        signs = np.where(rng.random(graph.n_synapses) < 0.2, -4.0, 1.0)
        graph = graph.with_weights(0.4 * signs / np.sqrt(k))
        drive = model.suprathreshold_drive * rng.uniform(0.9, 1.3, n_neurons)
        neurons = model.make_group(
            n_neurons, name="large_lif_neurons", **{model.drive_parameter: drive}
        )
        neurons.v = rng.uniform(0.0, 1.0, n_neurons) * model.suprathreshold_drive
        synapses = Synapses(
            neurons,
            neurons,
            model=f"{model.weight_variable} : volt",
            on_pre=model.coupling_on_pre,
            name="large_lif_synapses",
        )
        graph.connect(synapses, weight_unit=mV, weight_variable=model.weight_variable)
        return Network(neurons, synapses, SpikeMonitor(neurons, name="large_lif_spikes"))

    return build


def _simulate(build, duration, device, directory):
    from neurosrnn.devices import Simulation

    options = {"compute_capability": 9.0} if device == "cuda_standalone" else {}
    simulation = Simulation(build, duration, device=device, directory=directory, **options)
    try:
        start = time.perf_counter()
        simulation.build()
        build_seconds = time.perf_counter() - start
        results = simulation.run(save=False)
        run_seconds = simulation.run_seconds[-1]
    finally:
        simulation.close()
    return results, build_seconds, run_seconds


def _compare(reference, other, rtol=1e-9):
    """Common prefix of two spike sequences sorted by (t, i), and the first difference."""
    order_a = np.lexsort((reference.i, reference.t))
    order_b = np.lexsort((other.i, other.t))
    ia, ta = np.asarray(reference.i)[order_a], np.asarray(reference.t)[order_a]
    ib, tb = np.asarray(other.i)[order_b], np.asarray(other.t)[order_b]
    n = min(len(ia), len(ib))
    same = (ia[:n] == ib[:n]) & np.isclose(ta[:n], tb[:n], rtol=rtol, atol=0)
    prefix = n if same.all() else int(np.argmin(same))
    first_difference = None
    if prefix < max(len(ia), len(ib)):
        times = [ta[prefix]] if prefix < len(ia) else []
        times += [tb[prefix]] if prefix < len(ib) else []
        first_difference = float(min(times))
    return {
        "spikes_cpp": int(len(ia)),
        "spikes_cuda": int(len(ib)),
        "common_prefix": int(prefix),
        "identical": bool(prefix == len(ia) == len(ib)),
        "first_difference_s": first_difference,
    }


def _gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except OSError:
        return "nvidia-smi not found"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    parser.add_argument("--out", default=None, help="JSON file for the results")
    parser.add_argument("--exclude", default="", help="comma-separated models left out")
    parser.add_argument(
        "--devices", default="cpp_standalone,cuda_standalone", help="comma-separated devices"
    )
    args = parser.parse_args(argv)
    from brian2 import ms

    library = _library_module()
    excluded = set(filter(None, args.exclude.split(",")))

    def build_library():
        from brian2 import Network

        from neurosrnn.models import MODEL_LIBRARY

        objects = []
        for index, name in enumerate(sorted(MODEL_LIBRARY)):
            if name not in excluded:
                model = MODEL_LIBRARY[name]()
                objects.extend(library._recurrent_group(name, model, seed=100 + index))
        return Network(*objects)

    networks = {
        "model_library": (build_library, library.DURATION),
        "large_lif": (_large_lif(args.neurons), args.duration_ms * ms),
    }
    report = {
        "gpu": _gpu_name(),
        "cpu": cpu_model(),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "neurons_large": args.neurons,
        "networks": {},
    }
    print(report["gpu"])
    for name, (build, duration) in networks.items():
        runs = {}
        for device in args.devices.split(","):
            with tempfile.TemporaryDirectory() as folder:
                try:
                    runs[device] = _simulate(build, duration, device, os.path.join(folder, "p"))
                except RuntimeError as error:  # a build that fails is reported, not fatal
                    print(f"{name} {device}: FAILED {str(error)[:300]}", flush=True)
                    report["networks"].setdefault(name, {})[f"{device}_error"] = str(error)
                    continue
            _, build_s, run_s = runs[device]
            print(f"{name} {device}: build {build_s:.1f} s, run {run_s:.2f} s", flush=True)
        entry = report["networks"].get(name, {}) | {
            "duration_s": float(duration / ms) / 1e3,
            "excluded_models": sorted(excluded) if name == "model_library" else [],
            "build_s": {d: runs[d][1] for d in runs},
            "run_s": {d: runs[d][2] for d in runs},
            "monitors": {},
        }
        cpp, cuda = (runs.get(d, (None,))[0] for d in ("cpp_standalone", "cuda_standalone"))
        for monitor in sorted(cpp.spikes) if cpp and cuda else []:
            entry["monitors"][monitor] = _compare(cpp.spikes[monitor], cuda.spikes[monitor])
            print(f"  {monitor}: {entry['monitors'][monitor]}", flush=True)
        report["networks"][name] = entry
    text = json.dumps(report, indent=2)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as handle:
            handle.write(text)
    return report


if __name__ == "__main__":
    main()
