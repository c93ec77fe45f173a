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

`largest_exponent_two_trajectory` measures :math:`\\lambda_{max}` independently, with
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

import contextlib
import math
import sys
from dataclasses import dataclass, field

import numba
import numpy as np

from neurosrnn._growth import segment_exponents
from neurosrnn.connectivity import Connectivity
from neurosrnn.sparseprop._heap import _heapify, _update
from neurosrnn.sparseprop.engine import SparsePropNetwork, SparsePropState
from neurosrnn.sparseprop.phase_models import LIF, pulse_derivative, pulse_phase
from neurosrnn.sparseprop.topology import RegeneratedConnectivity

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

__all__ = [
    "SpikingLyapunovResult",
    "TwoTrajectoryResult",
    "lyapunov_spectrum",
    "largest_exponent_two_trajectory",
]

# indices into the small float / int state arrays of the kernel
_CLOCK, _TIME_BASE = 0, 1
_SINCE_REBASE, _TOTAL = 0, 1


# --------------------------------------------------------------------------- kernel


@numba.njit(cache=True)
def _advance(
    model,
    heap_key,
    heap_id,
    position,
    floats,
    ints,
    omega,
    scale,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    weights,
    q,
    n_spikes,
    rebase_interval,
    record,
    spike_index,
    spike_time,
):
    """Process `n_spikes` network spikes, updating the tangent vectors `q` in place.

    Keys are next threshold times (tau units) relative to ``floats[_TIME_BASE]``;
    ``floats[_CLOCK]`` is the time of the last processed spike. Returns the sum of
    ``ln d_i`` over all delivered pulses.
    """
    N = heap_key.shape[0]
    m = q.shape[1]
    log_contraction = 0.0
    for s in range(n_spikes):
        j = heap_id[0]
        t = heap_key[0]
        if record:
            spike_index[s] = j
            spike_time[s] = t + floats[_TIME_BASE]
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            p = position[i]
            phase = phase_threshold - omega[i] * (heap_key[p] - t)
            slope = pulse_derivative(model, phase, weights[k], scale[i], omega[i])
            new_phase = pulse_phase(model, phase, weights[k], scale[i], omega[i], phase_threshold)
            log_contraction += math.log(slope)
            if m > 0:
                coupling = (1.0 - slope) * omega[i] / omega[j]
                for c in range(m):
                    q[i, c] = slope * q[i, c] + coupling * q[j, c]
            _update(heap_key, heap_id, position, p, t + (phase_threshold - new_phase) / omega[i], N)
        _update(
            heap_key,
            heap_id,
            position,
            position[j],
            t + (phase_threshold - phase_reset) / omega[j],
            N,
        )
        floats[_CLOCK] = t
        ints[_TOTAL] += 1
        ints[_SINCE_REBASE] += 1
        if rebase_interval > 0 and ints[_SINCE_REBASE] >= rebase_interval:
            # a uniform shift keeps the heap order
            for p in range(N):
                heap_key[p] -= t
            floats[_TIME_BASE] += t
            floats[_CLOCK] = 0.0
            ints[_SINCE_REBASE] = 0
    return log_contraction


# --------------------------------------------------------------------------- results


@dataclass
class SpikingLyapunovResult:
    """Lyapunov exponents of a spiking network with their convergence record.

    Attributes
    ----------
    exponents : ndarray, shape (m,)
        Exponents in 1/s, in QR order (largest first up to noise).
    standard_error : ndarray, shape (m,)
        Standard error from `segment_exponents` (NaN with fewer than 2 segments).
    segment_exponents : ndarray, shape (n_segments, m)
        Exponents measured on contiguous parts of the run.
    times : ndarray
        Averaging time (s) at the recorded re-orthonormalisations.
    running : ndarray, shape (len(times), m)
        Running estimates (1/s).
    duration : float
        Averaging time in seconds.
    log_growth : ndarray, shape (m,)
        Accumulated :math:`\\sum \\ln |R_{kk}|`.
    log_contraction : float
        Accumulated :math:`\\sum_s \\sum_{i} \\ln d_i` over the same spikes
        (equals ``log_growth.sum()`` to rounding when ``m = N``).
    n_spikes : int
        Network spikes averaged over.
    N : int
        Number of neurons.
    mean_rate : float
        Mean rate per neuron (Hz) during the averaging window.
    vectors : ndarray, shape (N, m)
        Final orthonormal tangent vectors.
    state : SparsePropState
        Network state at the end, for `SparsePropNetwork.run` (its clock restarts at 0).
    spike_indices, spike_times : ndarray or None
        Spikes of the averaging window (times in s), if recorded.
    """

    exponents: np.ndarray
    standard_error: np.ndarray
    segment_exponents: np.ndarray
    times: np.ndarray
    running: np.ndarray
    duration: float
    log_growth: np.ndarray
    log_contraction: float
    n_spikes: int
    N: int
    mean_rate: float
    vectors: np.ndarray
    state: SparsePropState
    spike_indices: np.ndarray | None = None
    spike_times: np.ndarray | None = None
    time_unit: str = field(default="s", repr=False)

    def __repr__(self):
        shown = ", ".join(f"{value:.4g}" for value in self.exponents[:4])
        more = ", ..." if self.exponents.size > 4 else ""
        return (
            f"<SpikingLyapunovResult N={self.N}, m={self.exponents.size}: [{shown}{more}] 1/s, "
            f"{self.n_spikes} spikes over {self.duration:.4g} s, rate {self.mean_rate:.4g} Hz>"
        )

    @property
    def contraction_rate(self):
        """:math:`\\sum_s\\sum_i \\ln d_i / T` in 1/s: the sum of all N exponents."""
        return self.log_contraction / self.duration


@dataclass
class TwoTrajectoryResult:
    """Largest Lyapunov exponent from two nearby trajectories.

    Attributes
    ----------
    largest_exponent : float
        :math:`\\lambda_{max}` in 1/s.
    standard_error : float
        From contiguous segments of the run.
    segment_exponents : ndarray
        Per-segment estimates (1/s).
    log_growth : ndarray
        :math:`\\ln(d/\\epsilon)` of every renormalisation interval.
    interval : float
        Renormalisation interval (s).
    duration : float
        Averaging time (s).
    epsilon : float
        Size of the phase perturbation.
    """

    largest_exponent: float
    standard_error: float
    segment_exponents: np.ndarray
    log_growth: np.ndarray
    interval: float
    duration: float
    epsilon: float

    def __repr__(self):
        return (
            f"<TwoTrajectoryResult lambda_max = {self.largest_exponent:.4g} "
            f"+- {self.standard_error:.2g} 1/s over {self.duration:.4g} s, "
            f"epsilon={self.epsilon:g}>"
        )


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
    if network.model.code == LIF and np.any(weights > 0):
        raise ValueError(
            "LIF networks with excitatory (positive) weights are not supported: a pulse that "
            "crosses threshold makes the single-spike Jacobian singular; use weights <= 0"
        )
    return indptr, indices, weights


def _start_state(network, state, seed):
    if state is None:
        state = network.initial_state(seed=seed)
    elif not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    phases = network.phases(state)
    omega = network.omega.astype(float)
    keys = (network.model.phase_threshold - phases) / omega
    return keys, state.time


def _to_engine_state(network, keys, clock):
    """Engine state with the phases of kernel keys at the kernel clock (its time restarts at 0)."""
    phases = network.model.phase_threshold - network.omega * (keys - clock)
    phases = np.minimum(phases, np.nextafter(network.model.phase_threshold, -np.inf))
    if network.model.code != LIF:
        phases = np.maximum(phases, network.model.phase_reset)
    return network.initial_state(phases=phases)


def _blas_threads(n_threads):
    """Limit BLAS threads: many QR calls slow down badly when threads are oversubscribed."""
    if n_threads is None or threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n_threads), user_api="blas")


class _Progress:
    def __init__(self, total, enabled):
        self.total = max(int(total), 1)
        self.enabled = bool(enabled)
        self.shown = -1

    def update(self, done):
        if not self.enabled:
            return
        percent = int(100 * done / self.total)
        if percent != self.shown:
            self.shown = percent
            sys.stderr.write(f"\rlyapunov spectrum [{'#' * (percent // 5):<20}] {percent:3d}%")
            if done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


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
    progress=False,
    blas_threads=1,
):
    """Exact Lyapunov spectrum of a SparseProp theta or LIF network.

    Parameters
    ----------
    network : SparsePropNetwork
        The network (theta, or LIF with inhibitory weights); its drives may differ
        between neurons.
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
    progress : bool
        Progress bar on stderr.
    blas_threads : int or None
        BLAS threads for the QR steps (default 1; several threads are often much
        slower on a shared machine); None leaves the setting alone.

    Returns
    -------
    SpikingLyapunovResult

    Raises
    ------
    ValueError
        Not a SparsePropNetwork, bad counts, autapses, or an LIF network with
        excitatory weights.

    Notes
    -----
    Cost: O(K m + K log N) per spike plus O(N m^2) per QR step. The time averaged
    over is that between the first and the last spike of the averaging window.

    References
    ----------
    Monteforte & Wolf (2010), Phys. Rev. Lett. 105:268104.
    """
    _check_network(network)
    N = network.N
    n_spikes = _check_int("n_spikes", n_spikes, 1)
    m = N if m is None else _check_int("m", m, 1)
    if m > N:
        raise ValueError(f"m must be <= N = {N}, got {m}")
    n_burn_in = 10 * N if n_burn_in_spikes is None else n_burn_in_spikes
    n_burn_in = _check_int("n_burn_in_spikes", n_burn_in, 0)
    n_transient = 5 * N if n_transient_spikes is None else n_transient_spikes
    n_transient = _check_int("n_transient_spikes", n_transient, 0)
    every = max(1, N // 10) if reorthonormalize_every is None else reorthonormalize_every
    every = _check_int("reorthonormalize_every", every, 1)
    n_segments = _check_int("n_segments", n_segments, 1)
    indptr, indices, weights = _graph_arrays(network)
    keys, start_time = _start_state(network, state, seed)

    heap_key = keys.astype(float).copy()
    heap_id = np.arange(N, dtype=np.int32)
    position = np.empty(N, dtype=np.int32)
    _heapify(heap_key, heap_id, position)
    floats = np.array([0.0, float(start_time)])
    ints = np.zeros(2, dtype=np.int64)
    omega = network.omega.astype(float)
    scale = network.scale.astype(float)
    model = network.model
    rebase = N
    no_spikes = (np.zeros(1, dtype=np.int32), np.zeros(1))

    def run(q, count, record=False):
        buffers = (np.empty(count, dtype=np.int32), np.empty(count)) if record else no_spikes
        log_d = _advance(
            model.code,
            heap_key,
            heap_id,
            position,
            floats,
            ints,
            omega,
            scale,
            float(model.phase_reset),
            float(model.phase_threshold),
            indptr,
            indices,
            weights,
            q,
            int(count),
            rebase,
            record,
            buffers[0],
            buffers[1],
        )
        return log_d, buffers

    def now():
        return floats[_TIME_BASE] + floats[_CLOCK]

    with _blas_threads(blas_threads):
        return _spectrum_loop(
            network,
            run,
            now,
            floats,
            heap_key,
            heap_id,
            ints,
            N,
            m,
            seed,
            n_burn_in,
            n_transient,
            n_spikes,
            every,
            n_segments,
            max_records,
            record_spikes,
            progress,
        )


def _spectrum_loop(
    network,
    run,
    now,
    floats,
    heap_key,
    heap_id,
    ints,
    N,
    m,
    seed,
    n_burn_in,
    n_transient,
    n_spikes,
    every,
    n_segments,
    max_records,
    record_spikes,
    progress,
):
    bar = _Progress(n_burn_in + n_transient + n_spikes, progress)
    empty = np.zeros((N, 0))
    done = 0
    while done < n_burn_in:
        count = min(n_burn_in - done, 100_000)
        run(empty, count)
        done += count
        bar.update(done)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((N, m)))
    q = np.ascontiguousarray(q)
    transient_done = 0
    while transient_done < n_transient:
        count = min(every, n_transient - transient_done)
        run(q, count)
        q, _ = np.linalg.qr(q)
        q = np.ascontiguousarray(q)
        transient_done += count
        bar.update(n_burn_in + transient_done)

    n_qr = math.ceil(n_spikes / every)
    n_segments = min(n_segments, n_qr)
    segment_log = np.zeros((n_segments, m))
    segment_time = np.zeros(n_segments)
    record_every = max(1, math.ceil(n_qr / max(int(max_records), 1)))
    times, running = [], []
    total = np.zeros(m)
    log_contraction = 0.0
    start = now()
    last = start
    pieces = []
    averaged = 0
    for qr_step in range(n_qr):
        count = min(every, n_spikes - averaged)
        log_d, buffers = run(q, count, record_spikes)
        if record_spikes:
            pieces.append((buffers[0].copy(), buffers[1] * network.tau))
        log_contraction += log_d
        averaged += count
        q, r = np.linalg.qr(q)
        q = np.ascontiguousarray(q)
        with np.errstate(divide="ignore"):
            log_r = np.log(np.abs(np.diagonal(r)))
        total += log_r
        elapsed = (now() - last) * network.tau
        last = now()
        segment = min(qr_step * n_segments // n_qr, n_segments - 1)
        segment_log[segment] += log_r
        segment_time[segment] += elapsed
        if (qr_step + 1) % record_every == 0 or qr_step == n_qr - 1:
            times.append((last - start) * network.tau)
            running.append(total / times[-1] if times[-1] > 0 else total * np.nan)
        bar.update(n_burn_in + n_transient + averaged)
    duration = (last - start) * network.tau
    if duration <= 0:
        raise ValueError("no time elapsed during the averaging window: increase n_spikes")
    used = segment_time > 0
    segments = segment_log[used] / segment_time[used, None]
    error = (
        segments.std(axis=0, ddof=1) / math.sqrt(segments.shape[0])
        if segments.shape[0] >= 2
        else np.full(m, np.nan)
    )
    spike_indices = spike_times = None
    if record_spikes:
        spike_indices = np.concatenate([p[0] for p in pieces])
        spike_times = np.concatenate([p[1] for p in pieces])
    keys_by_neuron = np.empty_like(heap_key)
    keys_by_neuron[heap_id] = heap_key
    final_state = _to_engine_state(network, keys_by_neuron, floats[_CLOCK])
    return SpikingLyapunovResult(
        exponents=total / duration,
        standard_error=error,
        segment_exponents=segments,
        times=np.asarray(times),
        running=np.asarray(running).reshape(-1, m),
        duration=duration,
        log_growth=total,
        log_contraction=log_contraction,
        n_spikes=n_spikes,
        N=N,
        mean_rate=n_spikes / (N * duration),
        vectors=q,
        state=final_state,
        spike_indices=spike_indices,
        spike_times=spike_times,
    )


# --------------------------------------------------------------------------- two trajectories


def largest_exponent_two_trajectory(
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

    Returns
    -------
    TwoTrajectoryResult

    References
    ----------
    Benettin G., Galgani L. & Strelcyn J.-M. (1976) Phys. Rev. A 14:2338;
    Monteforte & Wolf (2010), Phys. Rev. Lett. 105:268104.
    """
    _check_network(network)
    for name, value in (("duration", duration), ("epsilon", epsilon)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    tau = network.tau
    interval = 10 * tau if interval is None else float(interval)
    if not np.isfinite(interval) or interval <= 0:
        raise ValueError(f"interval must be a finite time > 0 (s), got {interval!r}")
    period = float(np.max(network.model.period(network.drive))) * tau
    burn_in = 20 * period if burn_in is None else float(burn_in)
    transient = duration / 10 if transient is None else float(transient)
    for name, value in (("burn_in", burn_in), ("transient", transient)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite time >= 0 (s), got {value!r}")
    n_segments = _check_int("n_segments", n_segments, 1)
    model = network.model
    span = model.phase_threshold - model.phase_reset
    omega = network.omega.astype(float)
    omega_unit = omega / np.linalg.norm(omega)

    reference = network.initial_state(seed=seed) if state is None else state
    if burn_in > 0:
        reference = network.run(
            reference, duration=burn_in, record_spikes=False, progress=False
        ).state

    def project(delta):
        return delta - np.dot(delta, omega_unit) * omega_unit

    def displaced(ref_state, delta):
        phases = network.phases(ref_state) + delta
        phases = np.minimum(phases, np.nextafter(model.phase_threshold, -np.inf))
        if model.code != LIF:
            phases = np.maximum(phases, model.phase_reset)
        copy = network.initial_state(phases=phases)
        return copy

    rng = np.random.default_rng(seed + 1)
    delta = project(rng.standard_normal(network.N))
    delta *= epsilon / np.linalg.norm(delta)
    # both copies are rebuilt from phases, so they share the same representation
    reference = network.initial_state(phases=network.phases(reference))
    perturbed = displaced(reference, delta)
    n_transient = int(round(transient / interval))
    n_intervals = max(1, int(round(duration / interval)))
    growth = np.empty(n_intervals)
    for step in range(n_transient + n_intervals):
        reference = network.run(
            reference, duration=interval, record_spikes=False, progress=False
        ).state
        perturbed = network.run(
            perturbed, duration=interval, record_spikes=False, progress=False
        ).state
        difference = network.phases(perturbed) - network.phases(reference)
        difference = (difference + 0.5 * span) % span - 0.5 * span
        difference = project(difference)
        distance = float(np.linalg.norm(difference))
        if not distance > 0:
            raise ValueError(
                "the two trajectories coincide to rounding; increase epsilon "
                f"(now {epsilon:g}) or shorten interval"
            )
        if step >= n_transient:
            growth[step - n_transient] = math.log(distance / epsilon)
        reference = network.initial_state(phases=network.phases(reference))
        perturbed = displaced(reference, difference * (epsilon / distance))
    total_time = n_intervals * interval
    segments, error = segment_exponents(growth, interval, n_segments)
    return TwoTrajectoryResult(
        largest_exponent=float(growth.sum() / total_time),
        standard_error=error,
        segment_exponents=segments,
        log_growth=growth,
        interval=interval,
        duration=total_time,
        epsilon=float(epsilon),
    )
