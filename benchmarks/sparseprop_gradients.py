"""Exact event-based gradients (`spike_gradients`): cost against the forward run and dense JAX.

Like for like, in one process: every contender starts from the same warmed state of the
same network and produces the same spikes (checked before timing); repeats alternate
between contenders and the figures are medians (ratios: medians of per-repeat ratios).
Every table names the load average when it was taken. Times are process CPU time
(``--clock cpu``, the default; ``--clock wall`` for wall time): on a shared machine
the wall time of one contender mostly measures its wait for a core. Output: markdown on stdout and
``--out``, JSON records with ``--json``.

Network: the inhibitory balanced theta network of SparseProp (`balanced_network`,
J0 = 1, nu0 = 1 Hz, tau = 10 ms), K = 100, memory-free graph. Loss: the squared error
of three spike times plus the mean squared error of a leaky readout of 20 neurons
(two outputs, tau_r = 20 ms) at three times, all inside the first ``n`` spikes, so the
same loss serves the runs of ``n`` and ``2 n`` spikes.

Sections
--------
1. **Backward / forward** at N = ``--sizes`` (default 10^3 .. 10^6). Contenders: the
   forward, ``network.run(state, n_spikes=n)`` (spikes recorded, as a loss needs them),
   and the ``spike_gradients`` call on the same spikes (``checkpoint_every`` =
   ``--every-fraction`` N; the default interval, N, makes the replay diverge from the
   engine in this chaotic network, see the notes in the results; ``pulse_memory`` =
   ``--pulse-memory``: the segments whose pulses fit are recorded by the forward run and
   swept without a replay, later ones replayed, so the marginal of runs longer than the
   budget measures the replay path). The phases inside ``spike_gradients`` (graph
   set-up, its own segmented forward run, the replays and reverse sweep) are timed by
   wrapping the module's private helpers, without changing what they do. The graph
   set-up (the memory-free graph's N K synapses drawn again, in the engine's order) is
   a one-off per call: it is subtracted from each call and reported apart. Per-spike
   times are ``(T(2n) - T(n)) / n`` (the remaining one-off costs cancel); the backward
   per spike is the gradient's minus the forward's, and the ratio is backward / forward.
2. **Memory**: ``GradientResult.memory_bytes`` per recorded spike, and the tracemalloc
   peak of one gradient call and of one forward run of ``2 n`` spikes (not timed).
3. **JAX autodiff peers** (N = ``--dense-size``, default 10^4): O(N)-per-spike event
   simulations written here in JAX (argmin over all threshold times per spike, jit
   compiled, reverse mode, float64, one thread), one with a dense N x N weight matrix
   and adjacency (the form of the test suite's reference), one gathering only the K
   targets' weights (a stronger peer), differentiated with respect to every synapse
   weight and the readout weights, on the same spikes as ``spike_gradients`` (order
   checked identical, loss and weight gradients compared). Calls of s and 2s spikes
   (s = ``--dense-spikes``) and the marginal ``(T(2s) - T(s)) / s``; JAX compile time
   and the gradient's graph set-up reported apart.

Usage::

    python benchmarks/sparseprop_gradients.py --quick               # a minute or two
    python benchmarks/sparseprop_gradients.py --repeats 3 \\
        --json benchmarks/results/sparseprop_gradients.json \\
        --out benchmarks/results/sparseprop_gradients.md
"""

from __future__ import annotations

import os

# one thread for XLA, like the engine (must be set before jax is imported)
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
# and for BLAS (before numpy is imported): an idle OpenBLAS worker spins after each
# threaded call (the readout's products, dL/dw . w), and its CPU time landed in the
# process time of the call being measured, doubling short spike_gradients calls
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from gradient_phases import PhaseTimer  # noqa: E402
from machine import (  # noqa: E402
    cpu_model,
    git_revision,
    huge_page_counters,
    load_average,
    minor_page_faults,
)
from report import Report  # noqa: E402

from neurosrnn.sparseprop.engine import balanced_network  # noqa: E402
from neurosrnn.sparseprop.gradients import (  # noqa: E402
    PULSE_MEMORY,
    LeakyReadout,
    readout_mse,
    spike_gradients,
    spike_time_loss,
)

K = 100
#: the clock of every timing: process CPU time by default (``--clock wall`` for wall time);
#: on a shared machine wall time mostly measures waiting for a core
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]
#: spike_gradients' pulse_memory (``--pulse-memory``): bytes of pulses recorded by the
#: forward run; segments beyond it are replayed
_pulse_memory = PULSE_MEMORY
GOALS = {"ratio": 3.0, "growth": 2.0, "dense_speedup": 100.0}


# --------------------------------------------------------------------------- set-up


def _warmed_state(network, warm):
    state = network.initial_state(seed=1)
    return network.run(state, n_spikes=warm, record_spikes=False, progress=False).state


def _problem(network, state, n_spikes, seed=0):
    """Loss and readout from the first `n_spikes` spikes of the run from `state`."""
    rng = np.random.default_rng(seed)
    run = network.run(state, n_spikes=n_spikes, progress=False)
    indices, times = run.spike_indices, run.spike_times
    t0, end = state.time_seconds, times[-1]
    positions = [n_spikes // 4, n_spikes // 2, (3 * n_spikes) // 4]
    # each chosen spike must be its neuron's first (the loss reads the n-th spike)
    firsts = []
    for p in positions:
        neuron = indices[p]
        firsts.append(int(np.flatnonzero(indices == neuron)[0]))
    neurons = indices[firsts]
    spike_targets = times[firsts] + 0.001 * rng.standard_normal(3)
    loss = spike_time_loss(neurons, spike_targets)
    fired = np.unique(indices)
    readout_neurons = rng.choice(fired, size=min(20, fired.size), replace=False)
    readout = LeakyReadout(
        readout_neurons, rng.standard_normal((2, readout_neurons.size)), tau=0.02
    )
    readout_times = t0 + np.array([0.3, 0.6, 0.9]) * (end - t0)
    targets = rng.standard_normal((3, 2))
    loss = loss + readout_mse(readout_times, targets)
    details = {
        "spike_positions": np.array(firsts),
        "spike_targets": spike_targets,
        "readout_times": readout_times,
        "readout_targets": targets,
    }
    return loss, readout, details


class _Forward:
    def __init__(self, network, state):
        self.network, self.state = network, state
        self.system = []  # (n_spikes, system CPU seconds, minor page faults) per call

    def elapsed(self, n_spikes):
        gc.collect()
        system, faults = os.times().system, minor_page_faults()
        started = _clock()
        self.network.run(self.state, n_spikes=n_spikes, progress=False)
        total = _clock() - started
        self.system.append((n_spikes, os.times().system - system, minor_page_faults() - faults))
        return total


class _Gradient:
    def __init__(self, network, state, loss, readout, every):
        self.network, self.state = network, state
        self.loss, self.readout, self.every = loss, readout, every
        self.phases = []
        self.thread = []  # (n_spikes, thread CPU seconds, clock seconds) per timed call
        self.system = []  # (n_spikes, system CPU seconds, minor page faults), set-up out

    def call(self, n_spikes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # chaos: adjoint growth
            return spike_gradients(
                self.network,
                self.state,
                loss=self.loss,
                n_spikes=n_spikes,
                readout=self.readout,
                checkpoint_every=self.every,
                pulse_memory=_pulse_memory,
            )

    def elapsed(self, n_spikes):
        gc.collect()
        system, faults = os.times().system, minor_page_faults()
        thread = time.thread_time()
        with PhaseTimer(clock=_clock) as timer:
            started = _clock()
            self.call(n_spikes)
            total = _clock() - started
        # CPU time of this thread alone (the call runs on it): a check on process time
        self.thread.append((n_spikes, time.thread_time() - thread, total))
        self.phases.append((n_spikes, timer.seconds))
        setup_system = timer.system_seconds.get("setup", 0.0)  # excluded, as the set-up
        setup_faults = timer.minor_faults.get("setup", 0)
        self.system.append(
            (
                n_spikes,
                os.times().system - system - setup_system,
                minor_page_faults() - faults - setup_faults,
            )
        )
        # the graph set-up (materialising a memory-free graph) is a one-off: reported apart
        return total - timer.seconds.get("setup", 0.0)


def _pairs(contenders, n_spikes, repeats):
    """``{name: [(T(n), T(2n)) per repeat]}``, contenders alternating within a repeat."""
    samples = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, contender in contenders.items():
            short = contender.elapsed(n_spikes)
            long = contender.elapsed(2 * n_spikes)
            samples[name].append((short, long))
    return samples


def _per_spike(pairs, n_spikes):
    return [max(long - short, 1e-12) / n_spikes for short, long in pairs]


def _marginal_per_spike(records, n_spikes, column):
    """Per repeat, (value of the 2n call - of the n call) / n, from ``(n, ...)`` records."""
    shorts = [r[column] for r in records if r[0] == n_spikes]
    longs = [r[column] for r in records if r[0] == 2 * n_spikes]
    return [(lo - sh) / n_spikes for sh, lo in zip(shorts, longs, strict=True)]


def _backward_marginal(gradient, forward, n_spikes, column):
    """Per repeat, the gradient's marginal minus the forward's (column of `.system`)."""
    return [
        gi - fi
        for gi, fi in zip(
            _marginal_per_spike(gradient.system, n_spikes, column),
            _marginal_per_spike(forward.system, n_spikes, column),
            strict=True,
        )
    ]


def _peak(function, *args, **kwargs):
    """(result, tracemalloc peak in bytes) of one call."""
    gc.collect()
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# --------------------------------------------------------------------------- section 1-2


def backward_forward(report, sizes, n_spikes, warm, repeats, every_fraction, records):
    rows, memory_rows = [], []
    per_spike_backward = {}
    per_spike_user = {}
    for N in sizes:
        network = balanced_network(N, K, model="theta", memory_free=True)
        state = _warmed_state(network, warm)
        every = max(int(N * every_fraction), 64)
        loss, readout, _ = _problem(network, state, n_spikes)
        forward = _Forward(network, state)
        gradient = _Gradient(network, state, loss, readout, every)
        # like for like: the gradient's run has the forward's spikes, bit for bit
        plain = network.run(state, n_spikes=n_spikes, progress=False)
        result = gradient.call(n_spikes)
        if not (
            np.array_equal(plain.spike_indices, result.spike_indices)
            and np.array_equal(plain.spike_times, result.spike_times)
        ):
            raise AssertionError(f"N = {N}: spike_gradients' spikes differ from network.run's")
        gradient.phases.clear()
        huge_before = huge_page_counters()
        samples = _pairs({"forward": forward, "gradient": gradient}, n_spikes, repeats)
        huge = {k: v - huge_before.get(k, 0) for k, v in huge_page_counters().items()}
        f = _per_spike(samples["forward"], n_spikes)
        g = _per_spike(samples["gradient"], n_spikes)
        b = [max(gi - fi, 1e-12) for gi, fi in zip(g, f, strict=True)]
        # system CPU (page faults of fresh memory, mostly): part of both clocks
        b_system = _backward_marginal(gradient, forward, n_spikes, column=1)
        b_faults = _backward_marginal(gradient, forward, n_spikes, column=2)
        per_spike_user[N] = statistics.median(bi - si for bi, si in zip(b, b_system, strict=True))
        ratio = statistics.median(bi / fi for bi, fi in zip(b, f, strict=True))
        intercept = statistics.median(
            short - n_spikes * gi for (short, _), gi in zip(samples["gradient"], g, strict=True)
        )  # what is left of a call's one-off cost once the graph set-up is taken out
        phase = {}
        for label in ("setup", "forward", "sweep"):
            shorts = [s[label] for n, s in gradient.phases if n == n_spikes]
            longs = [s[label] for n, s in gradient.phases if n == 2 * n_spikes]
            phase[label] = statistics.median(
                (lo - sh) / n_spikes for sh, lo in zip(shorts, longs, strict=True)
            )
            phase[label + "_short_s"] = statistics.median(shorts)
        inner_ratio = phase["forward"] / statistics.median(f)
        per_spike_backward[N] = statistics.median(b)
        rows.append(
            (
                f"{N:.0e}",
                every,
                f"{statistics.median(f) * 1e6:.2f}",
                f"{statistics.median(g) * 1e6:.2f}",
                f"{statistics.median(b) * 1e6:.2f}",
                f"{statistics.median(b_system) * 1e6:.2f}",
                f"{statistics.median(b_faults):.2f}",
                " / ".join(
                    str(huge.get(k, "n/a"))
                    for k in ("thp_fault_alloc", "thp_fault_fallback", "compact_stall")
                ),
                f"{ratio:.2f}",
                f"{phase['forward'] * 1e6:.2f} ({inner_ratio:.2f}x)",
                f"{phase['sweep'] * 1e6:.2f}",
                f"{phase['setup_short_s']:.2f}",
                f"{intercept:.2f}",
                load_average(),
            )
        )
        # memory (not timed): one gradient and one plain run of 2n spikes
        result, gradient_peak = _peak(gradient.call, 2 * n_spikes)
        _, forward_peak = _peak(network.run, state, n_spikes=2 * n_spikes, progress=False)
        spikes = result.spike_indices.size
        synapse_bytes = N * K * (4 + 8 + 8)  # materialised indices, weights, dL/dw
        memory_rows.append(
            (
                f"{N:.0e}",
                spikes,
                every,
                f"{result.memory_bytes / 1e6:.1f}",
                f"{result.memory_bytes / spikes:.0f}",
                f"{gradient_peak / 1e6:.1f}",
                f"{forward_peak / 1e6:.1f}",
                f"{synapse_bytes / 1e6:.0f}",
                f"{(gradient_peak - synapse_bytes) / spikes:.0f}",
            )
        )
        records.append(
            {
                "section": "backward_forward",
                "N": N,
                "K": K,
                "n_spikes": n_spikes,
                "checkpoint_every": every,
                "forward_us_per_spike": [x * 1e6 for x in f],
                "gradient_us_per_spike": [x * 1e6 for x in g],
                "backward_us_per_spike": [x * 1e6 for x in b],
                "backward_system_us_per_spike": [x * 1e6 for x in b_system],
                "backward_minor_faults_per_spike": b_faults,
                "huge_page_faults_while_timed": huge,
                "backward_over_forward_median": ratio,
                "inner_forward_us_per_spike": phase["forward"] * 1e6,
                "inner_sweep_us_per_spike": phase["sweep"] * 1e6,
                "gradient_one_off_s": intercept,
                "setup_s": phase["setup_short_s"],
                "memory_spikes": spikes,
                "memory_bytes": result.memory_bytes,
                "memory_bytes_per_spike": result.memory_bytes / spikes,
                "tracemalloc_peak_gradient_bytes": gradient_peak,
                "tracemalloc_peak_forward_bytes": forward_peak,
                "synapse_arrays_bytes": synapse_bytes,
                "replay_error": result.replay_error,
                "adjoint_growth": result.adjoint_growth,
                "load": load_average(),
            }
        )
        del network, forward, gradient, result
        gc.collect()
    report.table(
        f"Backward vs forward, theta, K = {K}, memory-free graph, one core: median of "
        f"{repeats} interleaved repeats of (T(2n) - T(n)) / n, n = {n_spikes}, from a state "
        f"after {warm} spikes; backward = spike_gradients (graph set-up excluded, timed "
        "apart) - network.run per spike",
        [
            "N",
            "checkpoint_every",
            "forward us/spike",
            "spike_gradients us/spike",
            "backward us/spike",
            "of which system CPU us/spike",
            "backward page faults / spike",
            "huge pages got / fell back / compaction stalls (machine, while timed)",
            "backward / forward",
            "inner forward us/spike (vs run)",
            "sweep (+ replay beyond pulse_memory) us/spike",
            "graph set-up s per call (excluded)",
            "other one-off s",
            "load",
        ],
        rows,
    )
    sizes_done = sorted(per_spike_backward)
    growth = per_spike_backward[sizes_done[-1]] / per_spike_backward[sizes_done[0]]
    report.line(
        f"- backward per-spike growth {sizes_done[0]:.0e} -> {sizes_done[-1]:.0e}: {growth:.2f}x"
    )
    user_growth = per_spike_user[sizes_done[-1]] / per_spike_user[sizes_done[0]]
    report.line(
        f"- the same without its system CPU time (for information; the goal is judged on "
        f"the total above): {user_growth:.2f}x"
    )
    report.table(
        f"Memory of one spike_gradients call of 2n = {2 * n_spikes} spikes (tracemalloc, "
        "not timed); synapse arrays = N K (4 + 8 + 8) bytes: materialised indices and "
        "weights of the memory-free graph, and dL/dw",
        [
            "N",
            "spikes",
            "checkpoint_every",
            "memory_bytes MB",
            "memory_bytes / spike",
            "tracemalloc peak MB (gradient)",
            "tracemalloc peak MB (network.run)",
            "synapse arrays MB",
            "(peak - synapse arrays) / spike B",
        ],
        memory_rows,
    )
    records.append(
        {
            "section": "growth",
            "sizes": sizes_done,
            "backward_growth": growth,
            "backward_growth_without_system_cpu": user_growth,
        }
    )
    return rows, growth


# --------------------------------------------------------------------------- section 3


def _dense_jax(network, state, n_spikes, loss_details, readout, matrix):
    """A jit-compiled ``value_and_grad`` of the loss through an O(N)-per-spike event simulation.

    Per spike: the neuron with the smallest threshold time fires (argmin over all N
    keys), its key is reset, and its targets take the theta PTC
    ``2 atan(tan(u / 2) + w / sqrt(I))`` at their pre-pulse phase u. With `matrix`, the
    weights are a dense N x N matrix and every neuron's key is updated through a dense
    adjacency row (``jnp.where``, the form of the test suite's JAX reference); without,
    the weights are one per synapse (CSR order) and only the K targets are gathered and
    scattered (argmin is then the only O(N) step: a stronger peer). Differentiated with
    respect to the weights and the readout weights. Returns the compiled call, its
    compile time (s) and a function mapping the weight gradient to CSR order.
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    graph = network.weighted_connectivity()
    N = network.N
    degrees = np.diff(graph.indptr)
    if not np.all(degrees == degrees[0]):
        raise ValueError("the dense peer needs a fixed out-degree")
    targets = jnp.asarray(graph.indices.reshape(N, degrees[0]).astype(np.int64))
    omega = jnp.asarray(np.broadcast_to(network.omega, (N,)).astype(float))
    scale = jnp.asarray(np.broadcast_to(network.scale, (N,)).astype(float))
    phase_reset = network.model.phase_reset
    phase_threshold = network.model.phase_threshold
    keys0 = jnp.asarray((phase_threshold - network.phases(state)) / omega)
    positions = jnp.asarray(loss_details["spike_positions"])
    spike_targets = jnp.asarray(loss_details["spike_targets"])
    readout_times = jnp.asarray(loss_details["readout_times"])
    readout_targets = jnp.asarray(loss_details["readout_targets"])
    member = np.zeros(N, dtype=bool)
    member[readout.neurons] = True
    column = np.zeros(N, dtype=np.int64)
    column[readout.neurons] = np.arange(readout.neurons.size)
    member, column = jnp.asarray(member), jnp.asarray(column)
    tau, t0, readout_tau = network.tau, state.time_seconds, readout.tau
    sources = np.repeat(np.arange(N), degrees)
    if matrix:
        adjacency = np.zeros((N, N), dtype=bool)
        adjacency[sources, graph.indices] = True
        adjacency = jnp.asarray(adjacency)
        dense = np.zeros((N, N))
        dense[sources, graph.indices] = graph.weights
        weights0 = jnp.asarray(dense)
        del dense
    else:
        weights0 = jnp.asarray(graph.weights)

    def sparse_step(rows, keys):
        j = jnp.argmin(keys)
        t = keys[j]
        hit = targets[j]
        before = jnp.maximum(phase_threshold - omega[hit] * (keys[hit] - t), phase_reset)
        after = 2 * jnp.arctan(jnp.tan(0.5 * before) + rows[j] * scale[hit])
        keys = keys.at[hit].set(t + (phase_threshold - after) / omega[hit])
        keys = keys.at[j].set(t + (phase_threshold - phase_reset) / omega[j])
        return keys, (j, t)

    def dense_step(weights, keys):
        j = jnp.argmin(keys)
        t = keys[j]
        before = jnp.maximum(phase_threshold - omega * (keys - t), phase_reset)
        after = 2 * jnp.arctan(jnp.tan(0.5 * before) + weights[j] * scale)
        keys = jnp.where(adjacency[j], t + (phase_threshold - after) / omega, keys)
        keys = keys.at[j].set(t + (phase_threshold - phase_reset) / omega[j])
        return keys, (j, t)

    def loss(weights, readout_weights):
        if matrix:

            def step(keys, _):
                return dense_step(weights, keys)
        else:
            rows = weights.reshape(N, -1)

            def step(keys, _):
                return sparse_step(rows, keys)

        _, (order, times) = jax.lax.scan(step, keys0, None, length=n_spikes)
        times = times * tau + t0
        value = 0.5 * jnp.sum((times[positions] - spike_targets) ** 2)
        lag = readout_times[:, None] - times[None, :]
        kernel = jnp.where(lag >= 0, jnp.exp(-jnp.maximum(lag, 0.0) / readout_tau), 0.0)
        kernel = kernel * member[order][None, :]
        signal = kernel @ readout_weights[:, column[order]].T
        value = value + jnp.mean((signal - readout_targets) ** 2)
        return value, (order, times)

    arguments = (weights0, jnp.asarray(readout.weights))
    started = time.perf_counter()
    compiled = (
        jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)).lower(*arguments).compile()
    )
    compile_s = time.perf_counter() - started

    def call():
        out = compiled(*arguments)
        jax.block_until_ready(out)
        return out

    def to_csr(weight_gradient):
        weight_gradient = np.asarray(weight_gradient)
        return weight_gradient[sources, graph.indices] if matrix else weight_gradient

    return call, compile_s, to_csr


#: seconds to wait after a JAX call before the next timing: XLA's idle workers spin for
#: a while after a call, and in process CPU time that spinning landed in the next
#: contender's measurement (checked: after this pause the sparse calls' process and
#: thread CPU times agree; the spinning counts for no one, which favours JAX)
JAX_SETTLE_S = 0.5


class _JaxPeer:
    def __init__(self, calls):
        self.calls = calls

    def elapsed(self, count):
        gc.collect()
        started = _clock()
        self.calls[count]()
        elapsed = _clock() - started
        time.sleep(JAX_SETTLE_S)
        return elapsed


_PEERS = {
    "rows": "JAX autodiff, argmin over N + K-target rows (O(N)/spike)",
    "matrix": "JAX autodiff, dense N x N weights and adjacency (O(N)/spike)",
}


def dense_comparison(report, N, n_spikes, warm, repeats, every_fraction, records):
    network = balanced_network(N, K, model="theta", memory_free=True)
    state = _warmed_state(network, warm)
    loss, readout, details = _problem(network, state, n_spikes)
    every = max(int(N * every_fraction), 64)
    gradient = _Gradient(network, state, loss, readout, every)
    calls = {name: {} for name in _PEERS}
    compile_s = {name: {} for name in _PEERS}
    check = []
    for count in (n_spikes, 2 * n_spikes):
        run = network.run(state, n_spikes=count, progress=False)
        reference = gradient.call(count)
        for name in _PEERS:
            call, compile_s[name][count], to_csr = _dense_jax(
                network, state, count, details, readout, matrix=name == "matrix"
            )
            calls[name][count] = call
            (value, (order, times)), (g_weights, _) = call()
            if not np.array_equal(np.asarray(order), run.spike_indices):
                raise AssertionError(f"the JAX peer ({name}) fired in another order")
            record = {
                "section": "dense_check",
                "peer": name,
                "N": N,
                "n_spikes": count,
                "max_time_difference_s": float(np.max(np.abs(np.asarray(times) - run.spike_times))),
                "weight_gradient_relative_error": float(
                    np.max(np.abs(to_csr(g_weights) - reference.weights))
                    / np.max(np.abs(reference.weights))
                ),
                "loss_relative_error": abs(float(value) - reference.loss) / abs(reference.loss),
                "compile_s": compile_s[name][count],
            }
            check.append(record)
            records.append(record)
    contenders = {"sparse": gradient} | {name: _JaxPeer(calls[name]) for name in _PEERS}
    samples = _pairs(contenders, n_spikes, repeats)

    setup_s = statistics.median(p["setup"] for _, p in gradient.phases if "setup" in p)

    def whole(name, which):
        return statistics.median(pair[which] for pair in samples[name])

    def marginal(name):
        values = [(long - short) / n_spikes for short, long in samples[name]]
        value = statistics.median(values)
        return f"{value * 1e6:.1f}" if value > 0 else "below timer noise"

    rows = [
        (
            "spike_gradients (event-based, O(K)/spike; graph set-up excluded)",
            f"{whole('sparse', 0) / n_spikes * 1e6:.1f}",
            f"{whole('sparse', 1) / (2 * n_spikes) * 1e6:.1f}",
            marginal("sparse"),
            f"graph set-up {setup_s:.2f}",
            "1",
            "1",
            load_average(),
        )
    ]
    speedups = {}
    for name, label in _PEERS.items():
        marginal_ratio = statistics.median(
            (d[1] - d[0]) / max(s[1] - s[0], 1e-9)
            for d, s in zip(samples[name], samples["sparse"], strict=True)
        )
        ratios = [
            statistics.median(
                d[which] / s[which] for d, s in zip(samples[name], samples["sparse"], strict=True)
            )
            for which in (0, 1)
        ]
        speedups[name] = (ratios[1], marginal_ratio)
        rows.append(
            (
                label,
                f"{whole(name, 0) / n_spikes * 1e6:.1f}",
                f"{whole(name, 1) / (2 * n_spikes) * 1e6:.1f}",
                marginal(name),
                f"{compile_s[name][n_spikes]:.1f} / {compile_s[name][2 * n_spikes]:.1f}",
                f"{ratios[0]:.1f}x / {ratios[1]:.1f}x",
                f"{marginal_ratio:.1f}x",
                load_average(),
            )
        )
        records.append(
            {
                "section": "dense",
                "peer": name,
                "N": N,
                "spike_counts": [n_spikes, 2 * n_spikes],
                "sparse_whole_call_s": samples["sparse"],
                "peer_whole_call_s": samples[name],
                "compile_s": [compile_s[name][n_spikes], compile_s[name][2 * n_spikes]],
                "speedup_whole_call": ratios,
                "speedup_marginal": marginal_ratio,
                "sparse_graph_setup_s": setup_s,
                "load": load_average(),
            }
        )
    report.table(
        f"spike_gradients vs JAX autodiff, theta, N = {N:.0e}, K = {K}, float64, one thread, "
        f"same spikes and loss, s = {n_spikes} and 2s = {2 * n_spikes} spikes: median of "
        f"{repeats} interleaved repeats of the whole call per spike; marginal = "
        "(T(2s) - T(s)) / s; one-offs excluded on both sides (JAX compile for s and 2s; "
        "spike_gradients' graph set-up)",
        [
            "method",
            f"us/spike, {n_spikes} spikes",
            f"us/spike, {2 * n_spikes} spikes",
            "marginal us/spike",
            "compile s",
            "peer / sparse, calls (s / 2s)",
            "peer / sparse, marginal",
            "load",
        ],
        rows,
    )
    report.line(
        "- same spikes: order identical, largest spike-time difference "
        f"{max(r['max_time_difference_s'] for r in check):.2g} s; weight gradients agree to "
        f"{max(r['weight_gradient_relative_error'] for r in check):.2g} (relative to the "
        f"largest), loss to {max(r['loss_relative_error'] for r in check):.2g}"
    )
    if _clock is time.process_time:
        excess = statistics.median(total / thread for _, thread, total in gradient.thread)
        report.line(
            "- check: the spike_gradients calls' process CPU time is "
            f"{excess:.3f}x their thread CPU time (median; 1 = no other thread's CPU in "
            "their measurement)"
        )
        records.append({"section": "dense_clock_check", "process_over_thread": excess})
    return speedups


# --------------------------------------------------------------------------- main


def _sizes(text):
    try:
        sizes = [int(float(item)) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--sizes: integers like 1e3,1e4, got {text!r}") from error
    if not sizes or min(sizes) <= K:
        raise argparse.ArgumentTypeError(f"--sizes: every N must exceed K = {K}")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10^3, 10^4; fewer spikes")
    parser.add_argument("--sizes", type=_sizes, default=None, help="e.g. 1e3,1e4,1e5,1e6")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (>= 1)")
    parser.add_argument("--spikes", type=int, default=None, help="n of (T(2n) - T(n)) / n")
    parser.add_argument("--warm", type=int, default=None, help="spikes before timing")
    parser.add_argument(
        "--every-fraction",
        type=float,
        default=0.1,
        help="checkpoint_every = this * N (default 0.1; the default N diverges, see notes)",
    )
    parser.add_argument("--dense-size", type=int, default=10**4, help="N of the JAX peer")
    parser.add_argument("--dense-spikes", type=int, default=500, help="s of the JAX peer")
    parser.add_argument("--dense-repeats", type=int, default=5, help="repeats, JAX section")
    parser.add_argument("--no-dense", action="store_true", help="skip the JAX peer")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="process CPU or wall time"
    )
    parser.add_argument(
        "--pulse-memory",
        type=int,
        default=PULSE_MEMORY,
        help=f"spike_gradients' pulse_memory in bytes (default {PULSE_MEMORY}; 0 replays all)",
    )
    parser.add_argument("--out", type=pathlib.Path, default=None, help="markdown file")
    parser.add_argument("--json", type=pathlib.Path, default=None, help="JSON records")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if not 0 < args.every_fraction <= 1:
        parser.error(f"--every-fraction must lie in (0, 1], got {args.every_fraction}")
    if args.pulse_memory < 0:
        parser.error(f"--pulse-memory must be >= 0, got {args.pulse_memory}")
    global _clock, _pulse_memory
    _clock = CLOCKS[args.clock]
    _pulse_memory = args.pulse_memory
    sizes = args.sizes or ([10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6])
    # n >= N at every N: at N = 1e6 a marginal of n = 1e5 spikes (about 2 s) was
    # smaller than the call's one-off noise (0.5-1 s: page faults, heap builds)
    n_spikes = args.spikes or (20_000 if args.quick else 1_000_000)
    warm = args.warm or (20_000 if args.quick else 100_000)
    command = " ".join(["python", f"benchmarks/{pathlib.Path(__file__).name}", *sys.argv[1:]])

    report = Report()
    report.line("# SparseProp exact gradients benchmark")
    report.line()
    report.line(f"- command: `{command}`")
    report.line(f"- CPU: {cpu_model()} ({os.cpu_count()} logical CPUs visible; one used)")
    report.line(f"- load average at start: {load_average()}")
    report.line(
        f"- numba {numba.__version__}, numpy {np.__version__}, Python "
        f"{platform.python_version()}, revision {git_revision()}"
    )
    report.line(f"- repeats: {args.repeats} (interleaved), medians reported")
    report.line(
        f"- clock: {'process CPU time (time.process_time)' if args.clock == 'cpu' else 'wall'}"
        " for every timing except JAX compile (wall)"
    )
    report.line(
        f"- spike_gradients' pulse_memory: {_pulse_memory} bytes (pulses recorded by the "
        f"forward run, 24 B each: about {_pulse_memory // (24 * K)} spikes at K = {K}; "
        "later segments are replayed)"
    )
    records = []
    _, growth = backward_forward(
        report, sizes, n_spikes, warm, args.repeats, args.every_fraction, records
    )
    speedup = None
    if not args.no_dense:
        speedup = dense_comparison(
            report,
            args.dense_size,
            args.dense_spikes,
            warm,
            args.dense_repeats,
            args.every_fraction,
            records,
        )
    ratios = [
        r["backward_over_forward_median"] for r in records if r["section"] == "backward_forward"
    ]
    report.line()
    report.line("**Goals of issue #11**")
    report.line()
    worst = max(ratios)
    report.line(
        f"- backward / forward <= {GOALS['ratio']:g}x at every N: "
        f"{'holds' if worst <= GOALS['ratio'] else 'does not hold'} (largest {worst:.2f}x)"
    )
    report.line(
        f"- backward per-spike growth <= {GOALS['growth']:g}x over N = {sizes[0]:.0e} .. "
        f"{sizes[-1]:.0e}: {'holds' if growth <= GOALS['growth'] else 'does not hold'} "
        f"({growth:.2f}x)"
    )
    if speedup is not None:
        for name, label in _PEERS.items():
            calls, marginal = speedup[name]
            goal = GOALS["dense_speedup"]
            report.line(
                f"- >= {goal:g}x faster per spike than {label} at N = {args.dense_size:.0e}: "
                f"calls on {2 * args.dense_spikes} spikes "
                f"{'hold' if calls >= goal else 'do not hold'} ({calls:.1f}x); marginal "
                f"per spike {'holds' if marginal >= goal else 'does not hold'} ({marginal:.1f}x)"
            )
    _write_outputs(args, report, records, command)


def _write_outputs(args, report, records, command):
    from neurosrnn.atomic import atomic_write

    if args.out is not None:
        with atomic_write(args.out, mode="w") as stream:
            stream.write("\n".join(report.lines) + "\n")
    if args.json is not None:
        header = {
            "command": command,
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "numba": numba.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "revision": git_revision(),
        }
        with atomic_write(args.json, mode="w") as stream:
            json.dump({"machine": header, "records": records}, stream, indent=1, default=float)
            stream.write("\n")


if __name__ == "__main__":
    main()
