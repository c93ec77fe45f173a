"""SparseProp scaling benchmark, like for like: engine, a reference heap, O(N) and Brian2.

Every figure is a median over interleaved repeats measured in one process, and every
table names the load average when it was taken, so that figures from a shared machine
can be judged. Output is markdown (stdout, and ``--out FILE`` if given).

Sections
--------
1. **Engine vs reference heap** at N = ``--sizes`` (default 10^3 .. 10^6), K = 100,
   memory-free and stored graph. Both start from the same warmed state (a
   ``--warm``-spike run of the engine) and must give bit-identical spikes (checked on
   the first 10^3 spikes before timing). The reference heap (``reference_heap.py``) is a
   plain 4-ary heap with inline keys written for this benchmark. Optionally a
   ``--baseline REV`` column: the engine of git revision REV, loaded from
   ``git show`` into a temporary package, measured in the same process.
2. **O(N) reference** (`neurosrnn.sparseprop.reference.simulate_reference`) per spike,
   its set-up (graph materialisation, copies) excluded.
3. **Brian2 cpp_standalone** (N = 10^4, K = 100, dt = 0.01 ms) with Euler and with RK4
   integration (labelled), on the same network and state: wall time of the simulation
   proper (compilation excluded) per Brian2 spike vs the engine per spike.
4. **Models** (``--models``): the engine per spike at N = ``--model-sizes`` (default
   10^4, 10^6), K = 100, memory-free graph, for the closed-form LIF (the baseline),
   theta, the EIF tabulated by `neurosrnn.sparseprop.phase_tables.tabulate`, the LIF
   with a 1 ms delay, and an E/I LIF network with 1 ms delays and 2 ms refractoriness;
   each as a ratio to the LIF (median of per-repeat ratios, all rows interleaved).
5. **NEST** (``--models``, unless ``--no-nest``): the delayed E/I network at N = 10^4,
   K = 100 (its graph materialised) in NEST 3's ``iaf_psc_delta_ps`` (precise spike
   times, resolution 0.1 ms) and in the engine, both single-threaded, from the same
   initial voltages, for ``--nest-duration`` seconds of network time: wall time of
   NEST's run proper (``nest.Run``; creation, connection and ``nest.Prepare`` reported
   separately as its build) against the engine's whole run, and both spike counts.

Timing protocol: a run of n and a run of 2n spikes from the same state; the time per
spike is ``(T(2n) - T(n)) / n``, which cancels every one-off cost (heap construction,
copies, graph materialisation, compiled-call overhead). Repeats alternate between the
contenders (A B A B ...), and ratios are medians of the per-repeat ratios.

The network is the inhibitory balanced theta network of SparseProp (Engelken 2023,
NeurIPS, arXiv:2312.17216): J0 = 1, nu0 = 1 Hz, tau = 10 ms (`balanced_network`).

Usage::

    python benchmarks/sparseprop_scaling.py --quick --no-brian      # about a minute
    python benchmarks/sparseprop_scaling.py --sizes 1e3,1e4,1e5,1e6 --repeats 5
    python benchmarks/sparseprop_scaling.py --baseline HEAD --no-brian   # old vs new
    python benchmarks/sparseprop_scaling.py --models --json benchmarks/results/x.json
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import json
import math
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from machine import cpu_model, git_revision, load_average  # noqa: E402
from reference_heap import ReferenceHeapNetwork  # noqa: E402
from report import Report  # noqa: E402

from neurosrnn.sparseprop.engine import SparsePropNetwork, balanced_network  # noqa: E402
from neurosrnn.sparseprop.reference import simulate_reference  # noqa: E402
from neurosrnn.sparseprop.topology import RegeneratedConnectivity  # noqa: E402

K_DEFAULT = 100
_CHECKED_SPIKES = 10_000
# the engine's run length in the O(N) section (whose reference runs a few dozen spikes)
_ENGINE_SPIKES = 20_000
_BASELINE_MODULES = ("_heap", "_kernel", "engine", "phase_models", "topology")


# --------------------------------------------------------------------------- contenders


def _baseline_engine(revision):
    """The engine modules of git `revision`, as a temporary package (for comparison only)."""
    root = pathlib.Path(__file__).resolve().parent.parent
    folder = pathlib.Path(tempfile.mkdtemp(prefix="sparseprop_baseline_"))
    package = folder / "_baseline_sparseprop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in _BASELINE_MODULES:
        source = subprocess.run(
            ["git", "show", f"{revision}:neurosrnn/sparseprop/{module}.py"],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout
        source = source.replace(
            "from neurosrnn.sparseprop import", "from _baseline_sparseprop import"
        )
        for name in _BASELINE_MODULES:
            source = source.replace(f"neurosrnn.sparseprop.{name}", f"_baseline_sparseprop.{name}")
        (package / f"{module}.py").write_text(source)
    sys.path.insert(0, str(folder))
    return importlib.import_module("_baseline_sparseprop.engine"), folder


def _convert_state(state, state_class):
    values = {item.name: getattr(state, item.name) for item in dataclasses.fields(state_class)}
    values["keys"] = np.array(state.keys, copy=True)
    return state_class(**values)


class _Engine:
    """Times `SparsePropNetwork.run` from a fixed state (a fresh copy for every run)."""

    def __init__(self, network, state):
        self.network, self.state = network, state

    def elapsed(self, n_spikes):
        state = self.state.copy()
        gc.collect()
        started = time.perf_counter()
        self.network.run(state, n_spikes=n_spikes, record_spikes=False, progress=False)
        return time.perf_counter() - started

    def spikes(self, n_spikes):
        result = self.network.run(self.state.copy(), n_spikes=n_spikes, progress=False)
        return result.spike_indices, result.spike_times


class _ReferenceHeap:
    """Times the benchmark's reference heap from the same state (set-up included)."""

    def __init__(self, network, state):
        self.network, self.state = network, state

    def elapsed(self, n_spikes):
        gc.collect()
        started = time.perf_counter()
        ReferenceHeapNetwork(self.network, self.state).run(n_spikes)
        return time.perf_counter() - started

    def spikes(self, n_spikes):
        return ReferenceHeapNetwork(self.network, self.state).run(n_spikes, record=True)


class _OrderN:
    """Times the event loop of `simulate_reference` (its ``wall_time``).

    The reference's set-up (the weighted CSR graph, O(N K), and its per-neuron arrays)
    happens before its clock starts, so it is excluded outright: at N = 10^5 - 10^6 its
    run-to-run noise exceeds the loop time of the few spikes measured, and a difference
    of two whole calls would be noise. The difference of the two run lengths still
    cancels the loop's own fixed cost.
    """

    def __init__(self, network, state):
        self.network, self.phases = network, network.phases(state)

    def elapsed(self, n_spikes):
        gc.collect()
        return simulate_reference(self.network, self.phases, n_spikes=n_spikes).wall_time


def _per_spike(contenders, n_spikes, repeats):
    """Per-spike seconds of each contender, interleaved: ``{name: [one per repeat]}``.

    `n_spikes` is the ``n`` of ``(T(2n) - T(n)) / n``: one for all contenders, or a
    dict with one per contender.
    """
    samples = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, contender in contenders.items():
            n = n_spikes[name] if isinstance(n_spikes, dict) else n_spikes
            short = contender.elapsed(n)
            long = contender.elapsed(2 * n)
            samples[name].append(max(long - short, 1e-12) / n)
    return samples


def _median_ratio(numerator, denominator):
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


def _check_same_spikes(reference, other, label):
    indices_a, times_a = reference.spikes(_CHECKED_SPIKES)
    indices_b, times_b = other.spikes(_CHECKED_SPIKES)
    if not (np.array_equal(indices_a, indices_b) and np.array_equal(times_a, times_b)):
        raise AssertionError(f"{label}: spikes differ from the engine's; not like for like")


# --------------------------------------------------------------------------- sections


def _warmed_state(network, warm):
    state = network.initial_state(seed=1)
    return network.run(state, n_spikes=warm, record_spikes=False, progress=False).state


def engine_vs_heaps(report, sizes, n_spikes, warm, repeats, baseline=None):
    """Section 1: engine vs reference heap (vs baseline engine) at each N, both topologies."""
    rows = []
    for N in sizes:
        for memory_free in (True, False):
            network = balanced_network(N, K_DEFAULT, memory_free=memory_free)
            state = _warmed_state(network, warm)
            contenders = {
                "engine": _Engine(network, state),
                "heap": _ReferenceHeap(network, state),
            }
            _check_same_spikes(contenders["engine"], contenders["heap"], "reference heap")
            if baseline is not None:
                old = baseline.balanced_network(N, K_DEFAULT, memory_free=memory_free)
                old_state = _convert_state(state, baseline.SparsePropState)
                contenders["baseline"] = _Engine(old, old_state)
                _check_same_spikes(contenders["engine"], contenders["baseline"], "baseline")
            samples = _per_spike(contenders, n_spikes, repeats)
            engine = statistics.median(samples["engine"])
            heap = statistics.median(samples["heap"])
            row = [
                f"{N:.0e}",
                "memory-free" if memory_free else "stored",
                f"{engine * 1e6:.2f}",
                f"{K_DEFAULT / engine:.3g}",
                f"{heap * 1e6:.2f}",
                f"{_median_ratio(samples['heap'], samples['engine']):.2f}",
            ]
            if baseline is not None:
                old = statistics.median(samples["baseline"])
                row[4:4] = [f"{old * 1e6:.2f}"]
                row.append(f"{_median_ratio(samples['baseline'], samples['engine']):.2f}")
            row.append(load_average())
            rows.append(row)
            del network, contenders
            gc.collect()
    header = ["N", "graph", "engine us/spike", "engine syn. events/s", "ref. heap us/spike"]
    header.append("heap / engine")
    if baseline is not None:
        header[4:4] = ["baseline us/spike"]
        header.append("baseline / engine")
    header.append("load")
    report.table(
        f"Engine vs reference 4-ary heap, K = {K_DEFAULT}, theta, one core: median of "
        f"{repeats} interleaved repeats, (T(2n) - T(n)) / n with n = {n_spikes}, from a "
        f"state after {warm} spikes; spikes checked bit-identical on the first "
        f"{_CHECKED_SPIKES}",
        header,
        rows,
    )
    by_graph = {}
    for row in rows:
        by_graph.setdefault(row[1], []).append(float(row[2]))
    for graph, values in by_graph.items():
        if len(values) > 1:
            report.line(
                f"- per-spike growth {rows[0][0]} -> {rows[-1][0]} ({graph}): "
                f"{values[-1] / values[0]:.2f}x"
            )


def order_n_reference(report, sizes, warm, repeats, short_spikes):
    """Section 2: the O(N) reference per spike, its set-up cancelled, vs the engine."""
    rows = []
    for N in sizes:
        network = balanced_network(N, K_DEFAULT, memory_free=False)
        state = _warmed_state(network, warm)
        n = short_spikes(N)
        # the engine's marginal over a few dozen spikes (0.3 ms) is below the noise of
        # a run() call; it runs at least _ENGINE_SPIKES, from the same state
        n_engine = max(n, _ENGINE_SPIKES)
        samples = _per_spike(
            {"engine": _Engine(network, state), "O(N)": _OrderN(network, state)},
            {"engine": n_engine, "O(N)": n},
            repeats,
        )
        reference = statistics.median(samples["O(N)"])
        rows.append(
            (
                f"{N:.0e}",
                f"{n} / {n_engine}",
                f"{statistics.median(samples['engine']) * 1e6:.2f}",
                f"{reference * 1e6:.1f}",
                f"{_median_ratio(samples['O(N)'], samples['engine']):.0f}x",
                load_average(),
            )
        )
    report.table(
        f"O(N) reference (numpy, stored graph) per spike, set-up excluded: median of "
        f"{repeats} interleaved repeats of (T(2n) - T(n)) / n",
        ["N", "n (O(N) / engine)", "engine us/spike", "O(N) us/spike", "engine faster", "load"],
        rows,
    )


def _brian2_run(network, state, method, dt_ms, duration):
    """Wall time (s) of the Brian2 cpp_standalone simulation proper, and its spikes."""
    import brian2
    from brian2 import BrianLogger, ms, second

    from neurosrnn.devices import reset_brian_state, select_device
    from neurosrnn.models.networks import recurrent_network
    from neurosrnn.models.theta import theta

    BrianLogger.suppress_hierarchy("brian2.codegen.generators.base")
    directory = tempfile.mkdtemp(prefix="sparseprop_brian2_")
    try:
        select_device("cpp_standalone", dt=dt_ms * ms)
        model = dataclasses.replace(theta(), method=method)
        built = recurrent_network(
            model,
            network.weighted_connectivity(),
            parameters={"tau_m": network.tau * second, "I_ext": network.drive},
            initial_values={"theta": network.model_state(state)},
            dt=dt_ms * ms,
            name=f"bench_{method}",
        )
        built.network.run(duration * second)
        started = time.perf_counter()
        brian2.device.build(directory=directory, compile=True, run=True, with_output=False)
        build_and_run = time.perf_counter() - started
        simulate = float(getattr(brian2.device, "_last_run_time", np.nan))
        indices, _ = built.spikes()
        return simulate, build_and_run, indices.size
    finally:
        reset_brian_state()
        shutil.rmtree(directory, ignore_errors=True)


def brian2_comparison(report, N, duration, dt_ms, warm):
    """Section 3: Brian2 Euler and RK4 vs the engine on one network and state."""
    network = balanced_network(N, K_DEFAULT, memory_free=False)
    state = _warmed_state(network, warm)
    exact = network.run(state.copy(), duration=duration, record_spikes=False, progress=False)
    engine_per_spike = exact.wall_time / exact.n_spikes
    rows = [
        (
            "SparseProp engine (exact)",
            "-",
            f"{exact.wall_time:.3f}",
            exact.n_spikes,
            f"{engine_per_spike * 1e6:.2f}",
            "1",
            load_average(),
        )
    ]
    for method in ("euler", "rk4"):
        simulate, total, n_spikes = _brian2_run(network, state, method, dt_ms, duration)
        per_spike = simulate / max(n_spikes, 1)
        rows.append(
            (
                f"Brian2 cpp_standalone, {method.upper()}, dt = {dt_ms} ms",
                f"{total:.1f}",
                f"{simulate:.3f}",
                n_spikes,
                f"{per_spike * 1e6:.2f}",
                f"{per_spike / engine_per_spike:.0f}x",
                load_average(),
            )
        )
    report.table(
        f"Brian2 vs engine: N = {N:.0e}, K = {K_DEFAULT}, {duration:g} s simulated from the "
        f"same state (simulate s: Brian2's own run time, compilation excluded; the engine's "
        f"includes its set-up)",
        [
            "engine",
            "build+run s",
            "simulate s",
            "spikes",
            "us/spike",
            "per-spike ratio to engine",
            "load",
        ],
        rows,
    )


# --------------------------------------------------------------------------- models

_TAU = 0.01
# E/I LIF (normalised: reset 0, threshold 1, drive 0.5): 80 % excitatory neurons with
# J_E = 0.25 / sqrt(K), 20 % inhibitory with J_I = -8 J_E; 1 ms delays, 2 ms refractory
_EI_DRIVE, _EI_J0, _EI_G, _DELAY, _REFRACTORY = 0.5, 0.25, 8.0, 1e-3, 2e-3


def _ei_coupling(N, K):
    """Per-presynaptic-neuron weights of the E/I network (excitatory neurons first)."""
    n_excitatory = int(0.8 * N)
    coupling = np.full(N, _EI_J0 / math.sqrt(K))
    coupling[n_excitatory:] *= -_EI_G
    return coupling


def _ei_network(N, K, memory_free=True):
    graph = RegeneratedConnectivity(N, K, seed=0, weights=_ei_coupling(N, K))
    if not memory_free:
        graph = graph.materialize()
    return SparsePropNetwork(
        "lif", graph, drive=_EI_DRIVE, tau=_TAU, delay=_DELAY, refractory=_REFRACTORY
    )


def _eif_network(N, K):
    """The balanced inhibitory EIF network (SparseProp's dimensionless EIF, tabulated)."""
    from neurosrnn.sparseprop.phase_tables import tabulate

    delta, drive = 0.1, 0.1

    def rate(v):
        with np.errstate(over="ignore"):
            return (-v + delta * np.exp(v / delta) + drive) / _TAU

    table = tabulate(
        rate, v_reset=-1.0, v_threshold=1000.0, v_min=-5.0, name="eif", key="benchmark-eif"
    )
    graph = RegeneratedConnectivity(N, K, seed=0)
    return SparsePropNetwork(table, graph, tau=_TAU, coupling=-1.0 / math.sqrt(K))


def _model_networks(N, K):
    """``{label: network or the reason it cannot be built}`` of section 4."""
    lif = balanced_network(N, K, model="lif")
    networks = {"LIF": lif, "theta": balanced_network(N, K)}
    builders = {
        "EIF (tabulated)": lambda: _eif_network(N, K),
        "LIF, delay 1 ms": lambda: SparsePropNetwork(
            "lif",
            RegeneratedConnectivity(N, K, seed=0),
            drive=lif.drive[0],
            tau=_TAU,
            coupling=-1.0 / math.sqrt(K),
            delay=_DELAY,
        ),
        "E/I LIF, delay 1 ms, t_ref 2 ms": lambda: _ei_network(N, K),
    }
    for label, build in builders.items():
        try:
            networks[label] = build()
        except (ImportError, TypeError, ValueError) as error:
            networks[label] = f"not available: {type(error).__name__}: {error}"
    return networks


def models_section(report, sizes, n_spikes, warm, repeats, records):
    """Section 4: per-spike cost of each model at each N, as a ratio to the LIF."""
    rows = []
    for N in sizes:
        networks = _model_networks(N, K_DEFAULT)
        contenders = {
            label: _Engine(network, _warmed_state(network, warm))
            for label, network in networks.items()
            if not isinstance(network, str)
        }
        samples = _per_spike(contenders, n_spikes, repeats)
        for label, network in networks.items():
            if isinstance(network, str):
                rows.append([f"{N:.0e}", label, network, "-", "-", "-", load_average()])
                records.append({"section": "models", "N": N, "model": label, "missing": network})
                continue
            per_spike = statistics.median(samples[label])
            ratio = _median_ratio(samples[label], samples["LIF"])
            rate = _rate(network, contenders[label].state)
            rows.append(
                [
                    f"{N:.0e}",
                    label,
                    f"{per_spike * 1e6:.2f}",
                    f"{ratio:.2f}",
                    f"{rate:.3g}",
                    f"{min(samples[label]) * 1e6:.2f}-{max(samples[label]) * 1e6:.2f}",
                    load_average(),
                ]
            )
            records.append(
                {
                    "section": "models",
                    "N": N,
                    "K": K_DEFAULT,
                    "model": label,
                    "us_per_spike": per_spike * 1e6,
                    "us_per_spike_repeats": [x * 1e6 for x in samples[label]],
                    "ratio_to_lif": ratio,
                    "rate_hz": rate,
                    "load": load_average(),
                }
            )
        del networks, contenders
        gc.collect()
    report.table(
        f"Models: engine per spike, K = {K_DEFAULT}, memory-free graph, one core: median of "
        f"{repeats} interleaved repeats of (T(2n) - T(n)) / n with n = {n_spikes}, from a "
        f"state after {warm} spikes; ratio = median of per-repeat ratios to the LIF",
        ["N", "model", "us/spike", "/ LIF", "rate Hz", "repeats range us", "load"],
        rows,
    )


def _rate(network, state):
    """Mean rate (Hz) over a short run from `state` (for the table only)."""
    n_spikes = min(20 * network.N, 200_000)
    result = network.run(state.copy(), n_spikes=n_spikes, record_spikes=False, progress=False)
    return result.mean_rate


def _nest_run(graph, v0, duration):
    """NEST ``iaf_psc_delta_ps`` on `graph` (normalised weights): (build s, run s, spikes)."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    started = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = 0.1
    nest.local_num_threads = 1
    v_reset, v_threshold, c_m, tau_ms = -70.0, -50.0, 250.0, _TAU * 1e3
    span = v_threshold - v_reset
    # mu = 1 + drive = (E_L - V_reset + I_e tau_m / C_m) / (V_th - V_reset), E_L = V_reset
    i_e = (1.0 + _EI_DRIVE) * span * c_m / tau_ms
    neurons = nest.Create(
        "iaf_psc_delta_ps",
        graph.N_pre,
        params={
            "E_L": v_reset,
            "V_reset": v_reset,
            "V_th": v_threshold,
            "C_m": c_m,
            "tau_m": tau_ms,
            "t_ref": _REFRACTORY * 1e3,
            "I_e": i_e,
        },
    )
    neurons.V_m = list(v_reset + span * v0)
    recorder = nest.Create("spike_recorder", params={"time_in_steps": False})
    nest.Connect(neurons, recorder)
    ids = np.asarray(neurons.tolist(), dtype=np.int64)
    nest.Connect(
        ids[graph.sources],
        ids[graph.targets],
        conn_spec="one_to_one",
        syn_spec={
            "synapse_model": "static_synapse",
            "weight": np.asarray(graph.weights, dtype=float) * span,
            "delay": np.full(graph.n_synapses, _DELAY * 1e3),
        },
    )
    nest.Prepare()
    build = time.perf_counter() - started
    started = time.perf_counter()
    nest.Run(duration * 1e3)
    run = time.perf_counter() - started
    nest.Cleanup()
    return build, run, int(recorder.n_events), nest.__version__


def nest_section(report, N, duration, records):
    """Section 5: the delayed E/I network in NEST and in the engine, single-threaded."""
    network = _ei_network(N, K_DEFAULT, memory_free=False)
    graph = network.weighted_connectivity()
    v0 = np.random.default_rng(1).uniform(0.0, 1.0, N)
    state = network.initial_state(model_state=v0)
    # warm the engine's compiled code (numba) on a copy, then time the run
    network.run(state.copy(), n_spikes=1000, progress=False)
    exact = network.run(state.copy(), duration=duration, progress=False)
    build, run, nest_spikes, version = _nest_run(graph, v0, duration)
    engine_per_spike = exact.wall_time / max(exact.n_spikes, 1)
    nest_per_spike = run / max(nest_spikes, 1)
    rows = [
        (
            "SparseProp engine (exact)",
            "-",
            f"{exact.wall_time:.3f}",
            exact.n_spikes,
            f"{engine_per_spike * 1e6:.2f}",
            "1",
            load_average(),
        ),
        (
            f"NEST {version} iaf_psc_delta_ps, 1 thread, h = 0.1 ms",
            f"{build:.2f}",
            f"{run:.3f}",
            nest_spikes,
            f"{nest_per_spike * 1e6:.2f}",
            f"{run / exact.wall_time:.1f}x",
            load_average(),
        ),
    ]
    records.append(
        {
            "section": "nest",
            "N": N,
            "K": K_DEFAULT,
            "duration_s": duration,
            "engine_wall_s": exact.wall_time,
            "engine_spikes": exact.n_spikes,
            "nest_version": version,
            "nest_build_s": build,
            "nest_run_s": run,
            "nest_spikes": nest_spikes,
            "wall_ratio_nest_to_engine": run / exact.wall_time,
            "load": load_average(),
        }
    )
    report.table(
        f"NEST vs engine: E/I LIF, N = {N:.0e}, K = {K_DEFAULT}, 1 ms delays, 2 ms refractory, "
        f"{duration:g} s of network time from the same initial voltages, both single-threaded "
        "(NEST's build: creation, connection, nest.Prepare; its run: nest.Run)",
        ["simulator", "build s", "run s", "spikes", "us/spike", "run time ratio", "load"],
        rows,
    )


def _sizes(text):
    try:
        sizes = [int(float(item)) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--sizes: integers like 1e3,1e4, got {text!r}") from error
    if not sizes or min(sizes) <= K_DEFAULT:
        raise argparse.ArgumentTypeError(f"--sizes: every N must exceed K = {K_DEFAULT}")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10^3, 10^4; fewer spikes")
    parser.add_argument("--sizes", type=_sizes, default=None, help="e.g. 1e3,1e4,1e5,1e6")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats (>= 1)")
    parser.add_argument("--spikes", type=int, default=None, help="n of (T(2n) - T(n)) / n")
    parser.add_argument("--warm", type=int, default=None, help="spikes before timing")
    parser.add_argument("--baseline", default=None, help="git revision of an old engine")
    parser.add_argument("--no-brian", action="store_true", help="skip Brian2 (slow to build)")
    parser.add_argument("--no-order-n", action="store_true", help="skip the O(N) reference")
    parser.add_argument("--brian-duration", type=float, default=None, help="seconds")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="markdown file")
    parser.add_argument("--models", action="store_true", help="sections 4-5 only")
    parser.add_argument("--model-sizes", type=_sizes, default=None, help="default 1e4,1e6")
    parser.add_argument("--no-nest", action="store_true", help="skip NEST in --models")
    parser.add_argument("--nest-duration", type=float, default=2.0, help="seconds")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="JSON records")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    sizes = args.sizes or ([10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6])
    n_spikes = args.spikes or (20_000 if args.quick else 100_000)
    warm = args.warm or (20_000 if args.quick else 100_000)
    brian_duration = args.brian_duration or (0.5 if args.quick else 2.0)

    report = Report()
    report.line("# SparseProp scaling benchmark")
    report.line()
    report.line(f"- command: `python {' '.join([pathlib.Path(__file__).name, *sys.argv[1:]])}`")
    report.line(f"- CPU: {cpu_model()} ({os.cpu_count()} logical CPUs visible; one used)")
    report.line(f"- load average at start: {load_average()}")
    report.line(
        f"- numba {numba.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, revision {git_revision()}"
    )
    report.line(f"- repeats: {args.repeats} (interleaved), medians reported")
    records = []
    if args.models:
        models_section(
            report, args.model_sizes or [10**4, 10**6], n_spikes, warm, args.repeats, records
        )
        if not args.no_nest:
            nest_section(report, 10**4, args.nest_duration, records)
        _write_outputs(args, report, records)
        return
    baseline, folder = (None, None)
    if args.baseline:
        baseline, folder = _baseline_engine(args.baseline)
        report.line(f"- baseline: engine of git revision {args.baseline}")
    try:
        engine_vs_heaps(report, sizes, n_spikes, warm, args.repeats, baseline)
        if not args.no_order_n:
            order_n_reference(
                report,
                sizes,
                warm,
                args.repeats,
                lambda N: int(np.clip(2e7 / N, 50, 5000)),
            )
        if not args.no_brian:
            brian2_comparison(report, 10**4, brian_duration, 0.01, warm)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    _write_outputs(args, report, records)


def _write_outputs(args, report, records):
    """The markdown report (``--out``) and the JSON records (``--json``)."""
    from neurosrnn.atomic import atomic_write

    if args.out is not None:
        with atomic_write(args.out, mode="w") as stream:
            stream.write("\n".join(report.lines) + "\n")
    if args.json is not None:
        header = {
            "command": " ".join(["python", pathlib.Path(__file__).name, *sys.argv[1:]]),
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "numba": numba.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "revision": git_revision(),
        }
        with atomic_write(args.json, mode="w") as stream:
            json.dump({"machine": header, "records": records}, stream, indent=1)
            stream.write("\n")


if __name__ == "__main__":
    main()
