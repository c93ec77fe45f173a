"""Exact Lyapunov spectra of SparseProp theta and LIF networks (Monteforte & Wolf 2010).

Between spikes a pulse-coupled network in the phase representation moves every
phase at its constant speed, :math:`\\dot\\phi_i = \\omega_i`, so phase perturbations
stay constant; all the tangent dynamics happens at spikes. For a spike of neuron
:math:`j^*` with targets :math:`i` and :math:`d_i = g_i'(\\phi_i^-)` (the slope of
the phase transition curve), the single-spike Jacobian in the equal-time frame is

.. math::

    D_{ii} = d_i, \\qquad D_{i j^*} = (1 - d_i)\\,\\omega_i/\\omega_{j^*}
    \\quad (i \\in \\mathrm{post}(j^*)),

and the identity on every other row, row :math:`j^*` included (a shift of the
spiker's phase shifts its spike time by :math:`-\\delta\\phi_{j^*}/\\omega_{j^*}`; the
targets then receive the pulse at a shifted phase). Hence :math:`D\\omega = \\omega`
(the time-shift direction gives one zero exponent) and
:math:`\\det D = \\prod_i d_i`.

`lyapunov_spectrum` simulates the network exactly (time-keyed min-heap, compiled
with numba) and applies :math:`D` at every spike to the ``K`` target rows of the
``(N, m)`` matrix of tangent vectors, O(K m) per spike; every
``reorthonormalize_every`` spikes :math:`Q R = \\operatorname{qr}(Q)` (O(N m^2)) and
:math:`\\ln|R_{kk}|` is accumulated (Benettin et al. 1980, Meccanica 15:9; Shimada
& Nagashima 1979, Prog. Theor. Phys. 61:1605). With ``m = N`` the sum of the
exponents equals the accumulated :math:`\\sum_s \\sum_i \\ln d_i` divided by the
time, to rounding, at any run length.

The QR steps and the bookkeeping (log-sums, running estimates, segment error bars)
are those of every spectrum of the package, `neurosrnn.analysis.lyapunov.QRAccumulator`;
the result, `SpikingLyapunovResult`, is a `neurosrnn.analysis.LyapunovResult` (Kaplan-Yorke
dimension, KS entropy) with the entropy per spike and the network state on top.

Tabulated models (`neurosrnn.sparseprop.phase_tables`) take their slopes
:math:`d_i = f(v_i)/f(v_i + w)` from `table_pulse_derivative`. With refractoriness the
phase of a refractory neuron is its free phase (below the reset by its remaining
refractory time, so the refractory period is free evolution and the spiker's row stays
the identity); a pulse that reaches a refractory neuron is ignored: :math:`d_i = 1`
and no coupling. With synaptic delays the state also holds the pulses in flight, which
is not a finite-dimensional phase vector, so `lyapunov_spectrum` refuses delays; use
`two_trajectory_exponent`.

`two_trajectory_exponent` measures :math:`\\lambda_{max}` independently, with
two copies of the network advanced by the SparseProp engine itself
(`SparsePropNetwork.run`), the difference renormalised to :math:`\\epsilon` at fixed
intervals and projected orthogonal to the time-shift direction.

References
----------
Monteforte M. & Wolf F. (2010) Dynamical entropy production in spiking neuron
networks in the balanced state. Phys. Rev. Lett. 105:268104.
Monteforte M. & Wolf F. (2012) Dynamic flux tubes form reservoirs of stability in
neuronal circuits. Phys. Rev. X 2:041007.
Engelken R. (2023) SparseProp. NeurIPS 36, arXiv:2312.17216.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np

from neurosrnn.analysis.exponents import (
    LyapunovResult,
    QRAccumulator,
    TwoTrajectoryResult,
    entropy_per_spike,
    initial_tangent_vectors,
    limit_blas_threads,
)
from neurosrnn.connectivity import Connectivity
from neurosrnn.progress import progress_bar
from neurosrnn.sparseprop._heap import heapify, update
from neurosrnn.sparseprop.engine import (
    SparsePropNetwork,
    SparsePropState,
    runaway_cascade_message,
)
from neurosrnn.sparseprop.phase_models import LIF, TABULATED, pulse_derivative, pulse_phase
from neurosrnn.sparseprop.phase_tables import table_pulse_derivative, table_pulse_phase
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

__all__ = [
    "SpikingLyapunovResult",
    "TwoTrajectoryResult",
    "lyapunov_spectrum",
    "two_trajectory_exponent",
    "largest_exponent_two_trajectory",
]

# indices into the small float / int clock arrays of the kernel
_CLOCK, _TIME_BASE = 0, 1
_SINCE_REBASE, _TOTAL, _SIMULTANEOUS = 0, 1, 2


# --------------------------------------------------------------------------- kernel


@numba.njit(cache=True)
def _advance(model, heap, clock, neurons, graph, q, n_spikes, rebase_interval, record, refractory):
    """Process `n_spikes` network spikes, updating the tangent vectors `q` in place.

    The arguments are grouped as the algorithm reads them:

    * ``model = (code, phase_reset, phase_threshold)``;
    * ``heap = (heap_key, heap_id, position)``: the indexed min-heap of next threshold
      times (tau units) relative to ``floats[_TIME_BASE]``;
    * ``clock = (floats, ints)``: ``floats[_CLOCK]`` is the time of the last processed
      spike, ``ints`` count spikes (in total, since the last rebase, and after the first
      one at the current instant);
    * ``neurons = (omega, scale, population, tables)``: phase speeds, pulse scales, and
      for tabulated models each neuron's population and the `kernel_tables` tuple;
    * ``graph = (indptr, indices, weights)``: CSR targets and weights;
    * ``record = (enabled, spike_index, spike_time)``: buffers for the spikes;
    * ``refractory = (enabled, period, end)``: refractory periods and the end of each
      neuron's current one (tau units, same origin as the keys); a refractory target
      ignores the pulse (``d = 1``, no coupling).

    Every `rebase_interval` spikes the keys are shifted to keep them small. Returns the
    sum of ``ln d_i`` over all delivered pulses.

    Runaway cascades (as in the engine's kernel): a pulse can put a target at threshold
    (a theta phase that rounds to :math:`\\pi` under a huge excitatory weight), so it fires
    at the same instant and can fire the spiker again, forever, without the clock moving.
    ``ints[_SIMULTANEOUS]`` counts the spikes after the first one at the current clock
    value; the loop stops *before* the spike that would make it N (N + 1 spikes at one
    instant: by pigeonhole some neuron fires twice with zero interval), leaving
    ``ints[_SIMULTANEOUS] == N`` for the caller to report. One integer compare per spike.
    """
    code, phase_reset, phase_threshold = model
    heap_key, heap_id, position = heap
    floats, ints = clock
    omega, scale, population, tables = neurons
    indptr, indices, weights = graph
    enabled, spike_index, spike_time = record
    refractory_on, refractory_period, refractory_end = refractory
    N = heap_key.shape[0]
    m = q.shape[1]
    log_contraction = 0.0
    for s in range(n_spikes):
        j = heap_id[0]
        t = heap_key[0]
        if t > floats[_CLOCK]:
            ints[_SIMULTANEOUS] = 0
        else:  # at the current instant: a zero-delay cascade
            ints[_SIMULTANEOUS] += 1
            if ints[_SIMULTANEOUS] >= N:
                break
        if enabled:
            spike_index[s] = j
            spike_time[s] = t + floats[_TIME_BASE]
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            if refractory_on:
                if t < refractory_end[i]:
                    continue
            p = position[i]
            phase = phase_threshold - omega[i] * (heap_key[p] - t)
            if code == TABULATED:
                slope = table_pulse_derivative(tables, population[i], phase, weights[k])
                new_phase = table_pulse_phase(tables, population[i], phase, weights[k])
            else:
                slope = pulse_derivative(code, phase, weights[k], scale[i], omega[i])
                new_phase = pulse_phase(
                    code, phase, weights[k], scale[i], omega[i], phase_threshold
                )
            log_contraction += math.log(slope)
            if m > 0:
                coupling = (1.0 - slope) * omega[i] / omega[j]
                for c in range(m):
                    q[i, c] = slope * q[i, c] + coupling * q[j, c]
            update(heap_key, heap_id, position, p, t + (phase_threshold - new_phase) / omega[i], N)
        held = 0.0
        if refractory_on:
            held = refractory_period[j]
            refractory_end[j] = t + held
        update(
            heap_key,
            heap_id,
            position,
            position[j],
            t + held + (phase_threshold - phase_reset) / omega[j],
            N,
        )
        floats[_CLOCK] = t
        ints[_TOTAL] += 1
        ints[_SINCE_REBASE] += 1
        if rebase_interval > 0 and ints[_SINCE_REBASE] >= rebase_interval:
            # a uniform shift keeps the heap order
            for p in range(N):
                heap_key[p] -= t
            if refractory_on:
                for i in range(N):
                    refractory_end[i] -= t
            floats[_TIME_BASE] += t
            floats[_CLOCK] = 0.0
            ints[_SINCE_REBASE] = 0
    return log_contraction


class _EventKernel:
    """The exact event loop of a network: heap, clock, graph and neuron arrays together."""

    def __init__(self, network, state, seed):
        self.network = network
        self.graph = _graph_arrays(network)
        keys, start_time, ends = _start_state(network, state, seed)
        heap_key = keys.astype(float).copy()
        heap_id = np.arange(network.N, dtype=np.int32)
        position = np.empty(network.N, dtype=np.int32)
        heapify(heap_key, heap_id, position)
        self.heap = (heap_key, heap_id, position)
        self.clock = (np.array([0.0, float(start_time)]), np.zeros(3, dtype=np.int64))
        self.neurons = (
            network.omega.astype(float),
            network.scale.astype(float),
            network._neurons[6],
            network._neurons[7],
        )
        refractory_on = network.refractory is not None
        self.refractory = (
            refractory_on,
            network.refractory / network.tau if refractory_on else np.zeros(0),
            ends,
        )
        model = network.model
        self.model = (model.code, float(model.phase_reset), float(model.phase_threshold))
        self.rebase_interval = network.N
        self._no_spikes = (False, np.zeros(1, dtype=np.int32), np.zeros(1))

    def run(self, q, count, record=False):
        """Advance `count` spikes moving `q`; ``(sum of ln d_i, (indices, times in s) or None)``.

        Raises RuntimeError (`neurosrnn.sparseprop.engine.runaway_cascade_message`) when more
        than N spikes fall on one instant.
        """
        buffers = (True, np.empty(count, dtype=np.int32), np.empty(count)) if record else None
        log_d = _advance(
            self.model,
            self.heap,
            self.clock,
            self.neurons,
            self.graph,
            q,
            int(count),
            self.rebase_interval,
            self._no_spikes if buffers is None else buffers,
            self.refractory,
        )
        if self.clock[1][_SIMULTANEOUS] >= self.network.N:
            network = self.network
            raise RuntimeError(runaway_cascade_message(network.N, float(self.now() * network.tau)))
        if buffers is None:
            return log_d, None
        return log_d, (buffers[1].copy(), buffers[2] * self.network.tau)

    def now(self):
        """Time of the last processed spike (tau units)."""
        floats = self.clock[0]
        return floats[_TIME_BASE] + floats[_CLOCK]

    def engine_state(self):
        """The current state as a `SparsePropState` (its clock restarts at 0)."""
        heap_key, heap_id, _ = self.heap
        keys_by_neuron = np.empty_like(heap_key)
        keys_by_neuron[heap_id] = heap_key
        return _to_engine_state(
            self.network, keys_by_neuron, self.clock[0][_CLOCK], self.refractory[2]
        )


# --------------------------------------------------------------------------- results


@dataclass(kw_only=True, repr=False)
class SpikingLyapunovResult(LyapunovResult):
    """Lyapunov exponents of a spiking network with their convergence record.

    A `neurosrnn.analysis.LyapunovResult` in 1/s (``time_unit="s"``; `n_steps` counts
    the network spikes averaged over), so `kaplan_yorke_dimension` and `ks_entropy`
    (nats/s) come with it. On top:

    Attributes
    ----------
    log_contraction : float
        Accumulated :math:`\\sum_s \\sum_{i} \\ln d_i` over the same spikes
        (equals ``log_growth.sum()`` to rounding when ``m = N``).
    N : int
        Number of neurons.
    mean_rate : float
        Mean rate per neuron (Hz) during the averaging window.
    state : SparsePropState
        Network state at the end, for `SparsePropNetwork.run` (its clock restarts at 0).
    spike_indices, spike_times : ndarray or None
        Spikes of the averaging window (times in s), if recorded.
    """

    log_contraction: float
    N: int
    mean_rate: float
    state: SparsePropState
    spike_indices: np.ndarray | None = None
    spike_times: np.ndarray | None = None
    time_unit: str = field(default="s", repr=False)

    def __repr__(self):
        return (
            f"<SpikingLyapunovResult N={self.N}, {self._leading_exponents()} 1/s, "
            f"{self.n_spikes} spikes over {self.duration:.4g} s, rate {self.mean_rate:.4g} Hz>"
        )

    @property
    def n_spikes(self):
        """Network spikes averaged over (`n_steps`)."""
        return self.n_steps

    @property
    def total_rate(self):
        """Network spike rate :math:`N \\bar\\nu` (spikes/s)."""
        return self.N * self.mean_rate

    @property
    def contraction_rate(self):
        """:math:`\\sum_s\\sum_i \\ln d_i / T` in 1/s: the sum of all N exponents."""
        return self.log_contraction / self.duration

    @property
    def entropy_per_spike(self):
        """KS entropy per network spike in bits (see `neurosrnn.analysis.entropy_per_spike`)."""
        return entropy_per_spike(self.exponents, self.total_rate)


# --------------------------------------------------------------------------- helpers


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_network(network):
    if not isinstance(network, SparsePropNetwork):
        raise ValueError(
            "network must be a neurosrnn.sparseprop.SparsePropNetwork, got "
            f"{type(network).__name__}"
        )


def _graph_arrays(network):
    """CSR arrays and per-synapse weights of the network's graph (materialised if needed)."""
    graph = network.connectivity
    if isinstance(graph, RegeneratedConnectivity):
        graph = graph.materialize()
    assert isinstance(graph, Connectivity)
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int32)
    if np.any(graph.sources == indices):
        raise ValueError(
            "the graph has autapses; the single-spike Jacobian assumes none "
            "(build the connectivity with autapses=False)"
        )
    if graph.weights is not None:
        weights = graph.weights.astype(float)
    else:
        weights = np.repeat(network.coupling.astype(float), np.diff(indptr))
    if network.model.code in (LIF, TABULATED) and np.any(weights > 0):
        raise ValueError(
            f"{'LIF' if network.model.code == LIF else 'tabulated'} networks with excitatory "
            "(positive) weights are not "
            "supported: a pulse that crosses threshold makes the single-spike Jacobian "
            "singular; use weights <= 0"
        )
    return indptr, indices, weights


def _start_state(network, state, seed):
    """Kernel keys, start time (tau units) and refractory ends relative to it."""
    if state is None:
        state = network.initial_state(seed=seed)
    elif not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    phases = network.phases(state, held=False)
    omega = network.omega.astype(float)
    keys = (network.model.phase_threshold - phases) / omega
    ends = np.zeros(0)
    if network.refractory is not None:
        # the free phase of a refractory neuron is reset - omega * (time left)
        ends = np.where(
            phases < network.model.phase_reset,
            (network.model.phase_reset - phases) / omega,
            -np.inf,
        )
    return keys, state.time, ends


def _to_engine_state(network, keys, clock, ends):
    """Engine state with the phases of kernel keys at the kernel clock (its time restarts at 0)."""
    phases = network.model.phase_threshold - network.omega * (keys - clock)
    phases = np.minimum(phases, np.nextafter(network.model.phase_threshold, -np.inf))
    if network.refractory is not None:
        # a refractory neuron: held at reset, free phase below it by its remaining time
        refractory = clock < ends
        valid = np.where(refractory, network.model.phase_reset, phases)
        if network.model.code != LIF and network.model.code != TABULATED:
            valid = np.maximum(valid, network.model.phase_reset)
        state = network.initial_state(phases=valid)
        to_clock = network.omega[0] if network.representation == "phase" else 1.0
        state.refractory_end = np.where(refractory, (ends - clock) * to_clock, -np.inf)
        distance = network.model.phase_threshold - np.where(refractory, phases, valid)
        state.keys = distance if network.representation == "phase" else distance / network.omega
        return state
    if network.model.code != LIF:
        phases = np.maximum(phases, network.model.phase_reset)
    return network.initial_state(phases=phases)


# --------------------------------------------------------------------------- spectrum


def lyapunov_spectrum(
    network,
    *,
    n_spikes,
    m=None,
    state=None,
    seed=0,
    n_burn_in_spikes=None,
    n_transient_spikes=None,
    reorthonormalize_every=None,
    n_segments=10,
    max_records=500,
    record_spikes=False,
    progress=None,
    blas_threads=1,
):
    """Exact Lyapunov spectrum of a SparseProp theta or LIF network.

    Parameters
    ----------
    network : SparsePropNetwork
        The network (theta, or LIF or tabulated with inhibitory weights), with or
        without refractoriness, without delays; its drives may differ between neurons.
    n_spikes : int
        Network spikes averaged over.
    m : int, optional
        Number of exponents (default: all N). Use ``m >= 2`` when the largest
        *non-zero* exponent is wanted: the time-shift direction has exponent 0.
    state : SparsePropState, optional
        Start state (default: uniform random phases from `seed`).
    seed : int
        Seed of the initial phases (if `state` is None) and of the initial vectors.
    n_burn_in_spikes : int, optional
        Spikes simulated first without tangent dynamics (default ``10 N``).
    n_transient_spikes : int, optional
        Spikes of tangent dynamics discarded before averaging (default ``5 N``).
    reorthonormalize_every : int, optional
        Spikes between QR decompositions (default ``max(1, N // 10)``). Must stay
        small enough that the spread of growth factors between two QR steps,
        :math:`e^{(\\lambda_1 - \\lambda_m)\\Delta t}`, is far from :math:`10^{16}`.
    n_segments : int
        Contiguous segments for the error bars.
    max_records : int
        At most this many running estimates are stored.
    record_spikes : bool
        Keep the spikes of the averaging window.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    blas_threads : int or None
        BLAS threads for the QR steps (default 1; several threads are often much
        slower on a shared machine); None leaves the setting alone.

    Returns
    -------
    SpikingLyapunovResult

    Raises
    ------
    ValueError
        Not a SparsePropNetwork, bad counts, autapses, an LIF or tabulated network with
        excitatory weights, or a network with synaptic delays (use
        `two_trajectory_exponent`).
    RuntimeError
        A runaway zero-delay cascade: more than N spikes at one instant (a theta network
        whose excitatory pulses put their targets at threshold), as in
        `SparsePropNetwork.run`.

    Notes
    -----
    Cost: O(K m + K log N) per spike plus O(N m^2) per QR step. The time averaged
    over is that between the first and the last spike of the averaging window.

    References
    ----------
    Monteforte & Wolf (2010), Phys. Rev. Lett. 105:268104.
    """
    _check_network(network)
    if network.delay is not None:
        raise ValueError(
            "lyapunov_spectrum does not support synaptic delays: with delays the state "
            "also holds the pulses in flight, which is not a finite-dimensional phase "
            "vector, so there is no N x N single-spike Jacobian; use "
            "two_trajectory_exponent(network, ...) for the largest exponent"
        )
    N = network.N
    counts = _spectrum_counts(
        N, n_spikes, m, n_burn_in_spikes, n_transient_spikes, reorthonormalize_every, n_segments
    )
    n_spikes, m, n_burn_in, n_transient, every, n_segments = counts
    kernel = _EventKernel(network, state, seed)
    bar = progress_bar(
        total=n_burn_in + n_transient + n_spikes,
        label="lyapunov spectrum",
        progress=progress,
        unit="spikes",
    )
    with limit_blas_threads(blas_threads), bar:
        _burn_in(kernel, n_burn_in, bar)
        q = np.ascontiguousarray(initial_tangent_vectors(N, m, seed))
        q = _align_vectors(kernel, q, n_transient, every, bar)
        return _averaged_spectrum(
            kernel, q, n_spikes, every, n_segments, max_records, record_spikes, bar
        )


def _spectrum_counts(N, n_spikes, m, n_burn_in, n_transient, every, n_segments):
    """Checked spike counts of `lyapunov_spectrum`, defaults filled in."""
    n_spikes = _check_int("n_spikes", n_spikes, 1)
    m = N if m is None else _check_int("m", m, 1)
    if m > N:
        raise ValueError(f"m must be <= N = {N}, got {m}")
    n_burn_in = _check_int("n_burn_in_spikes", 10 * N if n_burn_in is None else n_burn_in, 0)
    n_transient = 5 * N if n_transient is None else n_transient
    n_transient = _check_int("n_transient_spikes", n_transient, 0)
    every = max(1, N // 10) if every is None else every
    every = _check_int("reorthonormalize_every", every, 1)
    n_segments = _check_int("n_segments", n_segments, 1)
    return n_spikes, m, n_burn_in, n_transient, every, n_segments


def _burn_in(kernel, n_spikes, bar):
    """Spikes without tangent dynamics, in chunks of at most 100,000."""
    no_vectors = np.zeros((kernel.network.N, 0))
    done = 0
    while done < n_spikes:
        count = min(n_spikes - done, 100_000)
        kernel.run(no_vectors, count)
        done += count
        bar.update(count)


def _align_vectors(kernel, q, n_spikes, every, bar):
    """Tangent dynamics with QR steps but no averaging: the vectors align."""
    done = 0
    while done < n_spikes:
        count = min(every, n_spikes - done)
        kernel.run(q, count)
        q, _ = np.linalg.qr(q)
        q = np.ascontiguousarray(q)
        done += count
        bar.update(count)
    return q


def _averaged_spectrum(kernel, q, n_spikes, every, n_segments, max_records, record_spikes, bar):
    """The averaging window: a QR step every `every` spikes into a `QRAccumulator`."""
    tau = kernel.network.tau
    n_qr = math.ceil(n_spikes / every)
    accumulator = QRAccumulator(q.shape[1], n_qr, n_segments, max_records)
    log_contraction = 0.0
    start = last = kernel.now()
    pieces = []
    averaged = 0
    for _ in range(n_qr):
        count = min(every, n_spikes - averaged)
        log_d, spikes = kernel.run(q, count, record_spikes)
        if record_spikes:
            pieces.append(spikes)
        log_contraction += log_d
        averaged += count
        q, log_r = QRAccumulator.orthonormalize(q)
        q = np.ascontiguousarray(q)
        elapsed = (kernel.now() - last) * tau
        last = kernel.now()
        accumulator.add(log_r, elapsed, time=(last - start) * tau)
        bar.update(count)
    if accumulator.time <= 0:
        raise ValueError("no time elapsed during the averaging window: increase n_spikes")
    spike_indices = spike_times = None
    if record_spikes:
        spike_indices = np.concatenate([piece[0] for piece in pieces])
        spike_times = np.concatenate([piece[1] for piece in pieces])
    N = kernel.network.N
    return accumulator.result(
        q,
        n_spikes,
        "s",
        cls=SpikingLyapunovResult,
        log_contraction=log_contraction,
        N=N,
        mean_rate=n_spikes / (N * accumulator.time),
        state=kernel.engine_state(),
        spike_indices=spike_indices,
        spike_times=spike_times,
    )


# --------------------------------------------------------------------------- two trajectories


def two_trajectory_exponent(
    network,
    *,
    duration,
    state=None,
    seed=0,
    epsilon=1e-9,
    interval=None,
    burn_in=None,
    transient=None,
    n_segments=10,
    progress=None,
):
    """Largest Lyapunov exponent from two trajectories of the SparseProp engine.

    A copy of the network state is displaced by `epsilon` in phase, orthogonally to
    the time-shift direction :math:`\\omega`. Both copies are advanced by
    `SparsePropNetwork.run` for `interval`; the phase difference :math:`\\delta` at
    the common end time (wrapped to a half period, projected orthogonal to
    :math:`\\omega`) gives :math:`\\ln(|\\delta|/\\epsilon)`, and the copy is reset to
    the reference plus :math:`\\epsilon\\,\\delta/|\\delta|`. Then

    .. math:: \\lambda_{max} = \\frac{1}{T} \\sum \\ln\\frac{|\\delta|}{\\epsilon}.

    Projecting out :math:`\\omega` removes the zero exponent, so a negative
    :math:`\\lambda_{max}` (inhibitory LIF networks) is measured as well.

    Any network of the engine works: tabulated models, refractoriness (refractory
    neurons are compared in free phases, see `SparsePropNetwork.phases`) and synaptic
    delays. With delays the perturbation and the measured difference are those of the
    neuron phases only: at each renormalisation the perturbed copy takes the
    reference's pulses in flight (`SparsePropNetwork.with_phases`), so the difference
    carried by pulses in flight is discarded (a projection onto the phase subspace).

    With a large `epsilon` this is a finite-size exponent: in inhibitory LIF networks
    it is negative for small and positive for large perturbations (flux tubes,
    Monteforte & Wolf 2012, Phys. Rev. X 2:041007). Displaced phases are then
    clipped to the phase range and differences wrapped to half its length, so use
    it as a qualitative measure there.

    Parameters
    ----------
    network : SparsePropNetwork
    duration : float
        Averaging time in seconds.
    state : SparsePropState, optional
        Start state (default: uniform random phases from `seed`).
    seed : int
        Seed of the initial phases and of the initial displacement direction.
    epsilon : float
        Size of the displacement (> 0; small enough that spike order never changes
        between the copies within an interval).
    interval : float, optional
        Renormalisation interval in seconds (default ``10 tau``).
    burn_in : float, optional
        Time simulated first (default ``20 / rate`` estimated from the free period,
        i.e. 20 free periods).
    transient : float, optional
        Time with renormalisation discarded before averaging (default
        ``duration / 10``).
    n_segments : int
        Contiguous segments for the error bar.
    progress : bool or None
        Progress bar on stderr over the renormalisation intervals
        (`neurosrnn.progress.progress_bar`): None (default) on an interactive terminal
        only, True always, False never.

    Returns
    -------
    TwoTrajectoryResult
        ``exponent`` in 1/s (``time_unit="s"``). The same estimate for rate networks is
        `neurosrnn.analysis.lyapunov.two_trajectory_exponent`, for any Brian2 network
        `neurosrnn.perturbation.two_trajectory_exponent`.

    References
    ----------
    Benettin G., Galgani L. & Strelcyn J.-M. (1976) Phys. Rev. A 14:2338;
    Monteforte & Wolf (2010), Phys. Rev. Lett. 105:268104.
    """
    _check_network(network)
    interval, burn_in, transient = _two_trajectory_times(
        network, duration, epsilon, interval, burn_in, transient
    )
    n_segments = _check_int("n_segments", n_segments, 1)
    reference = network.initial_state(seed=seed) if state is None else state
    if burn_in > 0:
        reference = network.run(
            reference, duration=burn_in, record_spikes=False, progress=False
        ).state
    copies = _PhaseCopies(network)
    rng = np.random.default_rng(seed + 1)
    delta = copies.project(rng.standard_normal(network.N))
    delta *= epsilon / np.linalg.norm(delta)
    n_transient = int(round(transient / interval))
    n_intervals = max(1, int(round(duration / interval)))
    with progress_bar(
        total=n_transient + n_intervals,
        label="two-trajectory",
        progress=progress,
        unit="intervals",
    ) as bar:
        growth = copies.renormalized_growth(
            reference, delta, epsilon, interval, n_transient, n_intervals, bar
        )
    return TwoTrajectoryResult.from_log_growth(
        growth, interval, epsilon=epsilon, n_segments=n_segments
    )


def _two_trajectory_times(network, duration, epsilon, interval, burn_in, transient):
    """Checked times (s) of `two_trajectory_exponent`, defaults filled in."""
    for name, value in (("duration", duration), ("epsilon", epsilon)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    tau = network.tau
    interval = 10 * tau if interval is None else float(interval)
    if not np.isfinite(interval) or interval <= 0:
        raise ValueError(f"interval must be a finite time > 0 (s), got {interval!r}")
    model = network.model
    period = float(np.max((model.phase_threshold - model.phase_reset) / network.omega)) * tau
    burn_in = 20 * period if burn_in is None else float(burn_in)
    transient = duration / 10 if transient is None else float(transient)
    for name, value in (("burn_in", burn_in), ("transient", transient)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite time >= 0 (s), got {value!r}")
    return interval, burn_in, transient


class _PhaseCopies:
    """A reference and a perturbed copy of a network, compared in phase."""

    def __init__(self, network):
        self.network = network
        # with delays or refractoriness, copies keep the reference's pulses in flight and
        # are compared in free phases (`SparsePropNetwork.with_phases`)
        self.events = network.delay is not None or network.refractory is not None
        model = network.model
        self.span = model.phase_threshold - model.phase_reset
        omega = network.omega.astype(float)
        self.omega_unit = omega / np.linalg.norm(omega)

    def project(self, delta):
        """`delta` without its component along the time-shift direction omega."""
        return delta - np.dot(delta, self.omega_unit) * self.omega_unit

    def displaced(self, reference, delta):
        """A state with the phases of `reference` plus `delta`, clipped to the phase range."""
        model = self.network.model
        phases = self.network.phases(reference, held=False) + delta
        phases = np.minimum(phases, np.nextafter(model.phase_threshold, -np.inf))
        if self.events:
            return self.network.with_phases(reference, phases)
        if model.code == 0:
            phases = np.maximum(phases, model.phase_reset)
        return self.network.initial_state(phases=phases)

    def difference(self, perturbed, reference):
        """Phase difference wrapped to half a period, orthogonal to omega."""
        network = self.network
        difference = network.phases(perturbed, held=False) - network.phases(reference, held=False)
        difference = (difference + 0.5 * self.span) % self.span - 0.5 * self.span
        return self.project(difference)

    def advance(self, state, interval):
        return self.network.run(state, duration=interval, record_spikes=False, progress=False).state

    def rebuilt(self, state):
        """The state rebuilt from its phases (both copies share one representation).

        With delays or refractoriness the state is kept as it is: the copies then share
        its clock and its pulses in flight.
        """
        if self.events:
            return state
        return self.network.initial_state(phases=self.network.phases(state))

    def renormalized_growth(
        self, reference, delta, epsilon, interval, n_transient, n_intervals, bar
    ):
        """:math:`\\ln(d/\\epsilon)` of `n_intervals` intervals after `n_transient` discarded.

        `bar` (a `neurosrnn.progress.progress_bar`) advances by one per interval.
        """
        reference = self.rebuilt(reference)
        perturbed = self.displaced(reference, delta)
        growth = np.empty(n_intervals)
        for step in range(n_transient + n_intervals):
            reference = self.advance(reference, interval)
            perturbed = self.advance(perturbed, interval)
            difference = self.difference(perturbed, reference)
            distance = float(np.linalg.norm(difference))
            if not distance > 0:
                raise ValueError(
                    "the two trajectories coincide to rounding; increase epsilon "
                    f"(now {epsilon:g}) or shorten interval"
                )
            if step >= n_transient:
                growth[step - n_transient] = math.log(distance / epsilon)
            reference = self.rebuilt(reference)
            perturbed = self.displaced(reference, difference * (epsilon / distance))
            bar.update(1)
        return growth


def largest_exponent_two_trajectory(network, **kwargs):
    """Deprecated: use `two_trajectory_exponent` (same arguments, same result)."""
    warnings.warn(
        "neurosrnn.sparseprop.largest_exponent_two_trajectory is deprecated; use "
        "neurosrnn.sparseprop.two_trajectory_exponent",
        DeprecationWarning,
        stacklevel=2,
    )
    return two_trajectory_exponent(network, **kwargs)
