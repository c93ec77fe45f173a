"""SparseProp: exact event-driven simulation of sparse delta-pulse-coupled networks.

Algorithm (Engelken 2023, NeurIPS, arXiv:2312.17216)
-----------------------------------------------------
Every neuron ``i`` is described by its next threshold arrival ``key_i`` on a global
clock :math:`\\Phi`; all keys sit in an indexed min-heap (`_heap`). Free evolution of
the whole network is only :math:`\\Phi \\leftarrow` the top key; a network spike of
neuron ``j`` then costs one reset and ``K`` phase-transition-curve (PTC) updates of its
targets, each an O(log N) heap update: O(K log N) per spike, independent of N
otherwise. The compiled loop is in `neurosrnn.sparseprop._kernel`.

- **Phase representation** (homogeneous drive, one speed :math:`\\omega`): the clock is
  the global phase offset and :math:`\\psi_i = \\phi_{th} - key_i` is the stored phase,
  so :math:`\\phi_i = \\psi_i + \\Phi` (a max-heap on :math:`\\psi`, i.e. a min-heap on
  ``key``). Spike time: :math:`t = t_{base} + \\Phi/\\omega`.
- **Time representation** (per-neuron drive, speeds :math:`\\omega_i`): the clock is
  time and ``key_i`` the next spike time, :math:`\\phi_i = \\phi_{th} - \\omega_i(key_i - t)`.

Precision: the clock grows without bound, and ``key_i - clock`` then loses
:math:`|\\Phi| 2^{-52}` of absolute accuracy. Every ``rebase_interval`` spikes
(default N) the clock is subtracted from all keys and folded into ``t_base``
(O(N), amortised O(1) per spike).

Units: the engine measures time in units of tau; spike times are returned in seconds.
See `neurosrnn.sparseprop.phase_models` for the theta and LIF phase maps and sign
conventions of the pulse constant c.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from neurosrnn.connectivity import Connectivity
from neurosrnn.progress import progress_bar
from neurosrnn.sparseprop import _kernel
from neurosrnn.sparseprop._heap import heapify
from neurosrnn.sparseprop._kernel import (
    COMPENSATION,
    N_COUNTERS,
    OFFSET,
    REACHED_STOP,
    SIMULTANEOUS,
    SINCE_REBASE,
    TIME_BASE,
    TOTAL,
    clock_to_time,
)
from neurosrnn.sparseprop.phase_models import PhaseModel, phase_model
from neurosrnn.sparseprop.topology import RegeneratedConnectivity, duplicate_table
from neurosrnn.units import to_seconds
from neurosrnn.validation import check_int, check_seed

__all__ = [
    "SparsePropNetwork",
    "SparsePropState",
    "SparsePropResult",
    "balanced_network",
    "isi_cv",
]

# spikes of the first chunk of a run; chunks double while they last < 0.1 s wall time
_FIRST_CHUNK = 4096
_LARGEST_CHUNK = 2**22


# --------------------------------------------------------------------------- statistics


def isi_cv(spike_indices, spike_times, N, min_spikes=3):
    """Mean coefficient of variation of the inter-spike intervals over neurons.

    The CV of neuron ``k`` is :math:`\\mathrm{SD}(I_k)/\\overline{I_k}` over its ISIs
    (``ddof=0``), computed by `neurosrnn.analysis.cv`; the result is the mean over the
    neurons with at least ``max(min_spikes, 3)`` spikes.

    Parameters
    ----------
    spike_indices, spike_times : arrays
        Spikes (any order), times in seconds.
    N : int
        Number of neurons.
    min_spikes : int
        Neurons with fewer spikes are left out (at least 3 spikes, two ISIs, are always
        needed).

    Returns
    -------
    float
        Mean over neurons of std(ISI)/mean(ISI); NaN if no neuron qualifies.
    """
    # imported here: the analysis layer is not needed to simulate
    from neurosrnn.analysis import cv

    spike_indices = np.asarray(spike_indices)
    spike_times = np.asarray(spike_times, dtype=float)
    if spike_indices.size < 2:
        return float("nan")
    # a window holding every spike: [first, just after the last)
    window_start = float(spike_times.min())
    window_stop = float(np.nextafter(spike_times.max(), np.inf))
    per_neuron = cv(
        (spike_indices, spike_times), ddof=0, N=N, t_start=window_start, t_stop=window_stop
    )
    if min_spikes > 3:
        counts = np.bincount(spike_indices, minlength=N)
        per_neuron = np.where(counts >= min_spikes, per_neuron, np.nan)
    if np.all(np.isnan(per_neuron)):
        return float("nan")
    return float(np.nanmean(per_neuron))


def runaway_cascade_message(N, time_seconds):
    """The error of a zero-delay cascade that does not end (engine and reference)."""
    return (
        f"runaway cascade: more than N = {N} spikes at t = {float(time_seconds)!r} s without time "
        "advancing; excitatory zero-delay coupling makes the targets of a spike fire at "
        "the same instant and fire it again, so the cascade never ends. Weaken the "
        "excitatory weights (a volley must not carry a neuron from reset past threshold "
        "again) or add inhibition."
    )


# --------------------------------------------------------------------------- state / result


@dataclass
class SparsePropState:
    """The exact state of a SparseProp network between runs.

    Holds the internal representation (keys, clock offset, time base, rebase counter),
    so continuing from it repeats exactly the arithmetic of one long run. Use
    `SparsePropNetwork.phases` / `SparsePropNetwork.model_state` for readable values.

    Attributes
    ----------
    keys : ndarray, shape (N,)
        Threshold arrival of each neuron on the engine clock.
    offset : float
        Current clock value (phase offset or time since `time_base`).
    time_base : float
        Time (tau units) at clock zero, kept as a compensated sum with
        `time_base_compensation` (true value ``time_base - time_base_compensation``).
    time : float
        Current time in tau units (>= the last spike time).
    spikes_since_rebase, n_spikes : int
        Spikes since the last rebase and since the initial state.
    representation : str
        ``"phase"`` or ``"time"``.
    """

    keys: np.ndarray
    offset: float
    time_base: float
    time: float
    time_base_compensation: float = 0.0
    spikes_since_rebase: int = 0
    n_spikes: int = 0
    representation: str = "phase"
    tau: float = field(default=1.0, repr=False)

    def __repr__(self):
        return (
            f"<SparsePropState N={self.n_neurons}, t={self.time * self.tau:.6g} s, "
            f"{self.n_spikes} spikes so far, {self.representation} representation>"
        )

    @property
    def n_neurons(self):
        """Number of neurons (without ordering the keys)."""
        return self._heap[0].size if self._heap is not None else np.size(self.keys)

    @property
    def time_seconds(self):
        """Current time in seconds."""
        return self.time * self.tau

    def copy(self):
        """Independent copy (its keys writable; the engine rebuilds its heap on the next run)."""
        return replace(self, keys=np.array(self.keys, copy=True))

    def _attach_heap(self, heap):
        """Keep the engine's heap ``(keys by position, ids, position)`` of these keys."""
        self.__dict__["_keys"] = None
        self.__dict__["_heap"] = heap

    @property
    def _heap(self):
        """The engine heap of `keys` (valid while the keys are not replaced), or None."""
        return self.__dict__.get("_heap")


def _get_state_keys(state):
    keys = state.__dict__.get("_keys")
    if keys is None and state._heap is not None:
        keys_by_position, ids, _ = state._heap
        keys = np.empty(keys_by_position.size)
        keys[ids] = keys_by_position
        # read-only: an in-place change would leave the kept heap stale
        keys.flags.writeable = False
        state.__dict__["_keys"] = keys
    return keys


def _set_state_keys(state, keys):
    state.__dict__["_keys"] = keys
    state.__dict__["_heap"] = None


# `keys` is a dataclass field (checkpoints and `dataclasses.replace` see it) stored lazily:
# a state returned by a run keeps the run's heap and orders its keys by neuron only when
# they are read, so continuing a run does no O(N) reordering or heap construction.
SparsePropState.keys = property(
    _get_state_keys,
    _set_state_keys,
    doc="Threshold arrival of each neuron on the engine clock, shape (N,).",
)

# heap constructions by `SparsePropNetwork.run` so far (tests count them)
HEAP_BUILDS = [0]


@dataclass
class SparsePropResult:
    """Spikes and final state of one `SparsePropNetwork.run`.

    Attributes
    ----------
    spike_indices : ndarray of int32
        Neuron of each spike, in time order.
    spike_times : ndarray of float64
        Exact spike times in seconds.
    state : SparsePropState
        Final state; pass it to `SparsePropNetwork.run` to continue.
    start_time, stop_time : float
        Simulated interval in seconds.
    n_spikes : int
        Number of spikes in this run (also when they were not recorded).
    N : int
        Number of neurons.
    wall_time : float
        Seconds of wall-clock time.
    interrupted : bool
        True when the run was stopped by Ctrl-C (the result holds what was simulated).
    sample_times : ndarray or None
        Times (s) of the model-state samples.
    samples : ndarray or None, shape (n_times, n_neurons)
        Model-form state (theta angle, or normalised LIF voltage) of the sampled
        neurons at `sample_times` (the state just before any spike at that time).
    sample_neurons : ndarray or None
    """

    spike_indices: np.ndarray
    spike_times: np.ndarray
    state: SparsePropState
    start_time: float
    stop_time: float
    n_spikes: int
    N: int
    wall_time: float
    interrupted: bool = False
    sample_times: np.ndarray | None = None
    samples: np.ndarray | None = None
    sample_neurons: np.ndarray | None = None

    def __repr__(self):
        return (
            f"<SparsePropResult {self.n_spikes} spikes of {self.N} neurons in "
            f"[{self.start_time:.6g}, {self.stop_time:.6g}] s, rate {self.mean_rate:.4g} Hz"
            f"{', interrupted' if self.interrupted else ''}>"
        )

    @property
    def duration(self):
        """Simulated time in seconds."""
        return self.stop_time - self.start_time

    @property
    def mean_rate(self):
        """Mean firing rate per neuron in Hz."""
        if self.duration <= 0:
            return float("nan")
        return self.n_spikes / (self.N * self.duration)

    def cv(self, min_spikes=3):
        """Mean ISI coefficient of variation (see `isi_cv`)."""
        return isi_cv(self.spike_indices, self.spike_times, self.N, min_spikes)


# --------------------------------------------------------------------------- network


class SparsePropNetwork:
    """A sparse network of theta or LIF neurons with delta-pulse coupling, simulated exactly.

    Each neuron obeys (time in units of `tau`)

    - theta: :math:`d\\theta/dt = (1 - \\cos\\theta) + (1 + \\cos\\theta) I_i`, spike at
      :math:`\\theta = \\pi`, reset to :math:`-\\pi`; a pulse of weight ``w`` maps
      :math:`\\theta \\to 2\\arctan(\\tan(\\theta/2) + w)`;
    - LIF: :math:`dV/dt = -V + 1 + I_i` with reset 0 and threshold 1 (normalised
      voltage); a pulse adds ``w`` to ``V`` and fires the neuron at once if it reaches
      threshold.

    Pulses have no delay. Drives must be suprathreshold (``I_i > 0``).

    Parameters
    ----------
    model : {"theta", "qif", "lif"} or PhaseModel
        Neuron model.
    connectivity : Connectivity or RegeneratedConnectivity
        Square graph keyed by the presynaptic neuron. A `RegeneratedConnectivity` is
        the memory-free mode: targets are regenerated at each spike.
    drive : float or array of shape (N,)
        Constant drive ``I`` (dimensionless). A scalar uses the phase representation.
    tau : float or brian2 time quantity
        Membrane time constant (seconds if a float), > 0.
    coupling : float or array of shape (N,), optional
        Weight of every synapse of each presynaptic neuron, for an unweighted graph.
        Negative is inhibitory for both models.
    representation : {"auto", "phase", "time"}
        ``"auto"``: phase representation for a scalar drive, time otherwise.
    rebase_interval : int, optional
        Spikes between rebases of the clock (default N; 0 disables rebasing).

    Raises
    ------
    ValueError
        Non-square or mismatched graph, non-positive drive or tau, weights given twice
        or missing, non-finite values, unknown model or representation.

    References
    ----------
    Engelken R. (2023) NeurIPS 36, arXiv:2312.17216. Monteforte M., Wolf F. (2010) Phys.
    Rev. Lett. 105:268104.

    Examples
    --------
    >>> from neurosrnn.sparseprop import RegeneratedConnectivity, SparsePropNetwork
    >>> graph = RegeneratedConnectivity(1000, 50, seed=1)
    >>> net = SparsePropNetwork("theta", graph, drive=0.1, tau=0.01, coupling=-1 / 50**0.5)
    >>> result = net.run(net.initial_state(seed=2), n_spikes=1000)  # doctest: +SKIP
    """

    def __init__(
        self,
        model,
        connectivity,
        *,
        drive,
        tau,
        coupling=None,
        representation="auto",
        rebase_interval=None,
    ):
        self.model: PhaseModel = phase_model(model)
        self.connectivity = _checked_connectivity(connectivity)
        self.N = N = int(connectivity.N_pre)
        self.tau = to_seconds(tau, "tau", finite=False)
        if not np.isfinite(self.tau) or self.tau <= 0:
            raise ValueError(f"tau must be a positive time, got {tau!r}")
        self.drive = _per_neuron_drive(drive, N)
        self.model.check_drive(self.drive)
        self.representation = _representation(representation, drive, self.drive)
        self.omega = self.model.omega(self.drive)
        self.scale = self.model.pulse_scale(self.drive)
        self.coupling = _checked_coupling(coupling, connectivity, N)
        self.rebase_interval = _checked_rebase_interval(rebase_interval, N)
        self._build_kernel_arrays()

    def _build_kernel_arrays(self):
        """The kernel's ``neurons`` and ``graph`` groups (see `neurosrnn.sparseprop._kernel`)."""
        graph = self.connectivity
        homogeneous = self.representation == "phase"
        self._neurons = (
            self.model.code,
            homogeneous,
            self.omega[:1].copy() if homogeneous else self.omega.copy(),
            self.scale[:1].copy() if homogeneous else self.scale.copy(),
            self.model.phase_reset,
            self.model.phase_threshold,
        )
        self._regenerate = isinstance(graph, RegeneratedConnectivity)
        no_synapse_weights = np.zeros(1)
        if self._regenerate:
            presynaptic = graph.weights if graph.weights is not None else self.coupling
            self._graph = (
                np.zeros(1, dtype=np.int64),
                np.zeros(1, dtype=np.int32),
                no_synapse_weights,
                presynaptic.astype(float),
                False,
            )
            self._regeneration = (True, graph.seed, graph.K, graph.multapses)
        else:
            weighted = graph.weights is not None
            self._graph = (
                graph.indptr.astype(np.int64),
                graph.indices.astype(np.int32),
                graph.weights.astype(float) if weighted else no_synapse_weights,
                np.zeros(1) if weighted else self.coupling.astype(float),
                weighted,
            )
            self._regeneration = (False, 0, 0, True)
        # targets of the spiking neuron in the memory-free mode (work array)
        self._row = np.zeros(max(self._regeneration[2], 1), dtype=np.int32)
        # K-sized duplicate check of the memory-free mode (no per-neuron stamp array)
        self._table = duplicate_table(self._regeneration[2])

    def __repr__(self):
        drive = (
            f"drive={self.drive[0]:g}"
            if self.representation == "phase"
            else f"drive in [{self.drive.min():g}, {self.drive.max():g}]"
        )
        return (
            f"<SparsePropNetwork {self.model.name}, N={self.N}, {drive}, tau={self.tau:g} s, "
            f"{self.representation} representation, graph {self.connectivity!r}>"
        )

    def weighted_connectivity(self):
        """The graph as a stored `Connectivity` with one weight per synapse.

        A memory-free graph is materialised (N K indices); without per-synapse weights,
        each synapse gets the `coupling` of its presynaptic neuron. Used by the O(N)
        reference simulation and the Brian2 counterpart.

        Returns
        -------
        neurosrnn.connectivity.Connectivity
        """
        graph = self.connectivity
        if isinstance(graph, RegeneratedConnectivity):
            graph = graph.materialize()
        if graph.weights is not None:
            return graph
        weights = np.repeat(self.coupling, np.diff(graph.indptr))
        return Connectivity(graph.indptr, graph.indices, graph.N_post, weights)

    # ----------------------------------------------------------------- states

    def initial_state(self, phases=None, *, model_state=None, seed=None):
        """Build the state at time 0.

        Parameters
        ----------
        phases : float or array of shape (N,), optional
            Initial phases (theta: in [-pi, pi); LIF: below 1).
        model_state : array of shape (N,), optional
            Initial model-form state instead of phases: theta angles in [-pi, pi), or
            normalised LIF voltages below 1.
        seed : int, optional
            If neither is given, phases are drawn uniformly from [reset, threshold)
            with `numpy.random.default_rng(seed)`; an integer in [0, 2**63), or None
            for fresh entropy (a state that cannot be repeated).

        Returns
        -------
        SparsePropState

        Raises
        ------
        TypeError
            A `seed` that is not an integer.
        ValueError
            Both `phases` and `model_state` given, values NaN or out of range, or a
            negative `seed`.
        """
        seed = check_seed(seed, allow_none=True)
        if phases is not None and model_state is not None:
            raise ValueError("give either phases or model_state, not both")
        if model_state is not None:
            name = "model_state"
            model_state = np.array(model_state, dtype=float)
            if model_state.ndim == 0:
                model_state = np.full(self.N, float(model_state))
            if model_state.shape != (self.N,):
                raise ValueError(
                    f"model_state must have one entry per neuron ({self.N}), "
                    f"got {model_state.shape}"
                )
            if not np.all(np.isfinite(model_state)):
                raise ValueError("model_state must be finite (got NaN or inf)")
            if self.model.code == 0 and np.any((model_state < -math.pi) | (model_state >= math.pi)):
                raise ValueError("model_state (theta angles) must lie in [-pi, pi)")
            if self.model.code == 1 and np.any(model_state >= 1.0):
                raise ValueError("model_state (normalised LIF voltages) must be below 1")
            phases = self.model.state_to_phase(model_state, self.drive)
        elif phases is None:
            name = "phases"
            rng = np.random.default_rng(seed)
            phases = self.model.phase_reset + rng.random(self.N) * (
                self.model.phase_threshold - self.model.phase_reset
            )
        else:
            name = "phases"
        phases = self.model.check_phases(phases, self.N, name)
        distance = self.model.phase_threshold - phases
        keys = distance.copy() if self.representation == "phase" else distance / self.omega
        return SparsePropState(
            keys=keys,
            offset=0.0,
            time_base=0.0,
            time=0.0,
            representation=self.representation,
            tau=self.tau,
        )

    def _check_state(self, state):
        if not isinstance(state, SparsePropState):
            raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
        shape = (state._heap[0].size,) if state._heap is not None else np.shape(state.keys)
        if shape != (self.N,):
            raise ValueError(f"state has {np.size(state.keys)} neurons, this network {self.N}")
        if state.representation != self.representation:
            raise ValueError(
                f"state uses the {state.representation} representation, this network "
                f"the {self.representation} one"
            )
        if state._heap is None and not np.all(np.isfinite(state.keys)):
            # (a kept heap holds the keys of a finished run: finite, not checked again)
            raise ValueError("state keys must be finite")

    def phases(self, state, at=None):
        """Phases of all neurons in `state` at time `at` (seconds; default: state time)."""
        self._check_state(state)
        t = state.time if at is None else to_seconds(at, "at") / self.tau
        base = state.time_base - state.time_base_compensation
        if self.representation == "phase":
            clock = (t - base) * self.omega[0]
            return self.model.phase_threshold - (state.keys - clock)
        clock = t - base
        return self.model.phase_threshold - self.omega * (state.keys - clock)

    def model_state(self, state, at=None):
        """Theta angles (theta model) or normalised voltages (LIF) of all neurons."""
        phases = self.phases(state, at)
        if self.model.code == 0:
            phases = np.maximum(phases, self.model.phase_reset)
        return self.model.phase_to_state(phases, self.drive)

    # ----------------------------------------------------------------- run

    def run(
        self,
        state,
        *,
        duration=None,
        n_spikes=None,
        record_spikes=True,
        sample_neurons=None,
        sample_times=None,
        progress=None,
    ):
        """Simulate from `state` until `duration` has elapsed or `n_spikes` have occurred.

        Parameters
        ----------
        state : SparsePropState
            Start state (not modified).
        duration : float or brian2 time quantity, optional
            Simulated time (seconds if a float).
        n_spikes : int, optional
            Number of network spikes. With both, the run stops at whichever comes first.
        record_spikes : bool
            Keep spike indices and times (False saves memory in very long runs).
        sample_neurons : array of int, optional
            Neurons whose model-form state is sampled at `sample_times`.
        sample_times : array of float, optional
            Absolute times in seconds (sorted, not before ``state.time_seconds``) at
            which to sample.
        progress : bool, optional
            Progress bar on stderr: True always, False never, None on an interactive
            terminal once the run has lasted 2 s.

        Returns
        -------
        SparsePropResult
            Ctrl-C stops the run after the current chunk of spikes and returns what was
            simulated so far (``interrupted=True``); its state continues exactly.

        Raises
        ------
        ValueError
            No stop condition, negative duration or spike count, bad sample arrays,
            sample times before the state's time, or a state from another network.
        RuntimeError
            A runaway zero-delay cascade: more than N spikes at one instant (excitatory
            coupling strong enough to refire neurons without time advancing). Raised
            after at most N spikes at that instant, so in bounded time and memory.
        """
        self._check_state(state)
        stop_time, max_spikes = self._stop_condition(state, duration, n_spikes)
        sampling = self._sampling(sample_neurons, sample_times, state)
        started = time.perf_counter()
        run = _KernelRun(self, state, sampling, record_spikes=bool(record_spikes))
        with (
            self._progress_bar(progress, state, stop_time, n_spikes) as bar,
            _SigintFlag() as sigint,
        ):
            run.advance(max_spikes, stop_time, bar, sigint)
        return self._result(run, state, stop_time, sampling, time.perf_counter() - started)

    def _stop_condition(self, state, duration, n_spikes):
        """Check the stop arguments: ``(stop_time in tau units, maximum number of spikes)``."""
        duration, max_spikes = checked_stop_condition(duration, n_spikes)
        stop_time = math.inf if duration is None else state.time + duration / self.tau
        return stop_time, max_spikes

    def _sampling(self, sample_neurons, sample_times, state):
        """Check the sample arguments and allocate the kernel's ``sampling`` group.

        Sample times before the state's time are refused: the engine only runs forward.
        A time equal to the state's time up to rounding (a few units in the last place,
        e.g. ``state.time_seconds``) is accepted.
        """
        if (sample_neurons is None) != (sample_times is None):
            raise ValueError("give sample_neurons and sample_times together")
        if sample_neurons is None:
            return _Sampling(
                None, None, (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, 0)))
            )
        sample_neurons = np.atleast_1d(np.asarray(sample_neurons))
        if sample_neurons.dtype.kind not in "iu" or np.any(
            (sample_neurons < 0) | (sample_neurons >= self.N)
        ):
            raise ValueError(f"sample_neurons must be integers in [0, {self.N})")
        sample_neurons = sample_neurons.astype(np.int64)
        times = np.atleast_1d(np.asarray(sample_times, dtype=float))
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) < 0):
            raise ValueError("sample_times must be finite and sorted")
        earliest = state.time * self.tau
        if times.size and times[0] < earliest - 4 * np.spacing(abs(earliest)):
            raise ValueError(
                f"sample_times must not lie before the state's time t = {earliest!r} s (the "
                f"run starts there and only goes forward), got {times[0]!r} s"
            )
        samples = np.full((times.size, sample_neurons.size), np.nan)
        return _Sampling(times, sample_neurons, (times / self.tau, sample_neurons, samples))

    def _progress_bar(self, progress, state, stop_time, n_spikes):
        """Spikes out of `n_spikes`; or, for a run of a duration only, simulated seconds."""
        if n_spikes is not None:
            return progress_bar(
                total=int(n_spikes), label="SparseProp", progress=progress, unit="spikes"
            )
        total = (stop_time - state.time) * self.tau
        return progress_bar(
            total=total, label="SparseProp", progress=progress, unit="s", unit_scale=True
        )

    def _result(self, run, state, stop_time, sampling, wall_time):
        """Assemble the `SparsePropResult` of a finished or interrupted run."""
        reached_stop = bool(run.counters[REACHED_STOP]) and not run.interrupted
        if reached_stop:
            end_time = stop_time
        else:
            end_time = max(run.time(), state.time) if run.n_spikes else state.time
        spike_indices, spike_times = run.spikes()
        samples = None
        if sampling.times is not None:
            samples = self._model_samples(run, sampling, stop_time if reached_stop else None)
        return SparsePropResult(
            spike_indices=spike_indices,
            spike_times=spike_times,
            state=run.final_state(end_time),
            start_time=state.time * self.tau,
            stop_time=end_time * self.tau,
            n_spikes=int(run.n_spikes),
            N=self.N,
            wall_time=wall_time,
            interrupted=run.interrupted,
            sample_times=sampling.times,
            samples=samples,
            sample_neurons=sampling.neurons,
        )

    def _model_samples(self, run, sampling, stop_time):
        """Model-form state of the sampled neurons; samples up to `stop_time` if given."""
        if stop_time is not None:
            # samples between the last spike and the stop time
            _kernel.record_samples(
                self._neurons,
                run.heap,
                run.clock[TIME_BASE] - run.clock[COMPENSATION],
                stop_time,
                sampling.kernel,
                run.counters,
            )
        phases = sampling.kernel[2]
        if self.model.code == 0:
            phases = np.maximum(phases, self.model.phase_reset)
        model_samples = self.model.phase_to_state(phases, self.drive[sampling.neurons][None, :])
        model_samples[np.isnan(sampling.kernel[2])] = np.nan
        return model_samples


def checked_stop_condition(duration, n_spikes):
    """``(duration in seconds or None, maximum number of spikes)``, checked.

    Shared by `SparsePropNetwork.run` and `neurosrnn.sparseprop.reference.simulate_reference`
    so both refuse the same inputs with the same messages.
    """
    if duration is None and n_spikes is None:
        raise ValueError("give a stop condition: duration and/or n_spikes")
    if duration is not None:
        duration = to_seconds(duration, "duration", nonnegative=True)
    max_spikes = np.iinfo(np.int64).max
    if n_spikes is not None:
        if isinstance(n_spikes, bool) or not isinstance(n_spikes, int | np.integer):
            raise ValueError(f"n_spikes must be a non-negative integer, got {n_spikes!r}")
        if n_spikes < 0:
            raise ValueError(f"n_spikes must be >= 0, got {n_spikes}")
        max_spikes = int(n_spikes)
    return duration, max_spikes


def _checked_connectivity(connectivity):
    if not isinstance(connectivity, Connectivity | RegeneratedConnectivity):
        raise ValueError(
            "connectivity must be a neurosrnn.connectivity.Connectivity or a "
            f"RegeneratedConnectivity, got {type(connectivity).__name__}"
        )
    if connectivity.N_pre != connectivity.N_post:
        raise ValueError(
            f"connectivity must be square (one population), got "
            f"{connectivity.N_pre} -> {connectivity.N_post}"
        )
    return connectivity


def _per_neuron_drive(drive, N):
    drive_array = np.asarray(drive, dtype=float)
    if drive_array.ndim == 0:
        return np.full(N, float(drive_array))
    if drive_array.shape != (N,):
        raise ValueError(
            f"drive must be a scalar or one value per neuron ({N}), got {drive_array.shape}"
        )
    return drive_array


def _representation(representation, drive, drive_array):
    """``"phase"`` or ``"time"``; "auto" is the phase representation for a uniform drive."""
    uniform = bool(np.all(drive_array == drive_array[0]))
    if representation not in ("auto", "phase", "time"):
        raise ValueError(
            f"representation must be 'auto', 'phase' or 'time', got {representation!r}"
        )
    if representation == "auto":
        representation = "phase" if np.ndim(drive) == 0 or uniform else "time"
    if representation == "phase" and not uniform:
        raise ValueError(
            "representation='phase' needs the same drive for every neuron (one phase "
            "speed); use representation='time' for per-neuron drive"
        )
    return representation


def _checked_coupling(coupling, connectivity, N):
    """Per-presynaptic-neuron coupling (None for a weighted graph), checked."""
    weights = getattr(connectivity, "weights", None)
    if weights is not None and coupling is not None:
        raise ValueError("the connectivity already carries weights; do not also pass coupling")
    if weights is None and coupling is None:
        raise ValueError(
            "give synaptic weights: either a weighted connectivity or coupling="
            "(scalar or one value per presynaptic neuron)"
        )
    if coupling is None:
        if not np.all(np.isfinite(weights)):
            raise ValueError("connectivity weights must be finite")
        return None
    coupling = np.asarray(coupling, dtype=float)
    if coupling.ndim == 0:
        coupling = np.full(N, float(coupling))
    if coupling.shape != (N,):
        raise ValueError(
            f"coupling must be a scalar or one value per presynaptic neuron ({N}), "
            f"got shape {coupling.shape}"
        )
    if not np.all(np.isfinite(coupling)):
        raise ValueError("coupling must be finite")
    return coupling


def _checked_rebase_interval(rebase_interval, N):
    if rebase_interval is None:
        return N
    if isinstance(rebase_interval, bool) or not isinstance(rebase_interval, int | np.integer):
        raise ValueError(f"rebase_interval must be a non-negative integer, got {rebase_interval!r}")
    if rebase_interval < 0:
        raise ValueError(f"rebase_interval must be >= 0, got {rebase_interval}")
    return int(rebase_interval)


@dataclass
class _Sampling:
    """Sample times (s) and neurons of a run (None without sampling), and the kernel group."""

    times: np.ndarray | None
    neurons: np.ndarray | None
    kernel: tuple


class _SigintFlag:
    """Turn Ctrl-C (SIGINT) into a flag for the duration of a run.

    Whatever handler is installed (Python's default, Brian2's, the user's) is replaced by
    one that only sets `raised`, and the previous one is put back exactly on exit. The
    run checks the flag between chunks, so an interruption never depends on what the
    previous handler does. Nothing is installed outside the main thread, when SIGINT is
    ignored, or when its handler was not installed from Python (`signal.getsignal`
    returns None); there the run stops only on a `KeyboardInterrupt`.
    """

    def __init__(self):
        self.raised = False
        self._previous = None
        self._installed = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not None and previous != signal.SIG_IGN:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def _handle(self, signum, frame):
        self.raised = True

    def __exit__(self, *exception):
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        return False


class _KernelRun:
    """The kernel's arrays during one `SparsePropNetwork.run`, and the spikes so far.

    Set-up copies `state` into the heap, clock and counters; `advance` runs the kernel in
    chunks of spikes (doubling while a chunk takes less than 0.1 s) and commits each
    chunk's spikes, so an interruption between chunks leaves a consistent state.
    """

    def __init__(self, network, state, sampling, *, record_spikes):
        self.network = network
        self.record_spikes = record_spikes
        self.heap = _start_heap(state)
        self.clock = np.array([state.offset, state.time_base, state.time_base_compensation])
        self.counters = np.zeros(N_COUNTERS, dtype=np.int64)
        self.counters[SINCE_REBASE] = state.spikes_since_rebase
        self.counters[TOTAL] = state.n_spikes
        regenerate, seed, K, multapses = network._regeneration
        self.regeneration = (regenerate, seed, K, multapses, network._table, network._row)
        self.sampling = sampling.kernel
        self.start_spikes = self.committed = state.n_spikes
        self.start_time = state.time
        self.interrupted = False
        self._recording = None
        self._indices, self._times = [], []

    @property
    def n_spikes(self):
        """Spikes committed in this run."""
        return self.committed - self.start_spikes

    def time(self):
        """Current clock as a time in tau units."""
        homogeneous, omega = self.network._neurons[1], self.network._neurons[2]
        clock = self.clock
        return clock_to_time(
            homogeneous, clock[OFFSET], clock[TIME_BASE], clock[COMPENSATION], omega[0]
        )

    def advance(self, max_spikes, stop_time, bar, sigint):
        """Run chunks until `max_spikes`, `stop_time`, Ctrl-C or a `KeyboardInterrupt`."""
        chunk = _FIRST_CHUNK
        try:
            while True:
                remaining = max_spikes - self.n_spikes
                if remaining <= 0 or self.counters[REACHED_STOP]:
                    break
                if sigint.raised:
                    self.interrupted = True
                    break
                chunk_start = time.perf_counter()
                self._simulate_chunk(int(min(chunk, remaining)), stop_time)
                if time.perf_counter() - chunk_start < 0.1 and chunk < _LARGEST_CHUNK:
                    chunk *= 2
                self._show_progress(bar)
        except KeyboardInterrupt:
            self.interrupted = True
            self._commit()

    def _simulate_chunk(self, max_spikes, stop_time):
        network = self.network
        size = max_spikes if self.record_spikes else 1
        self._recording = (
            self.record_spikes,
            np.empty(size, dtype=np.int32),
            np.empty(size),
        )
        _kernel.simulate(
            network._neurons,
            network._graph,
            self.regeneration,
            self.heap,
            self.clock,
            self.counters,
            network.rebase_interval,
            max_spikes,
            stop_time,
            self._recording,
            self.sampling,
        )
        self._commit()
        if self.counters[SIMULTANEOUS] >= network.N:
            raise RuntimeError(runaway_cascade_message(network.N, self.time() * network.tau))

    def _commit(self):
        """Keep the spikes of the last chunk (idempotent)."""
        new = int(self.counters[TOTAL]) - self.committed
        if new > 0 and self.record_spikes and self._recording is not None:
            self._indices.append(self._recording[1][:new].copy())
            self._times.append(self._recording[2][:new] * self.network.tau)
        self.committed += new

    def _show_progress(self, bar):
        if bar.disable:
            return
        if bar.unit == "spikes":
            bar.update(self.n_spikes - bar.n)
            return
        if self.counters[REACHED_STOP]:
            simulated = bar.total
        else:
            simulated = min((self.time() - self.start_time) * self.network.tau, bar.total)
        bar.set_postfix_str(f"{self.n_spikes:,} spikes", refresh=False)
        bar.update(simulated - bar.n)

    def spikes(self):
        """Indices and times (s) of the recorded spikes, in time order."""
        if self.record_spikes and self._indices:
            return np.concatenate(self._indices), np.concatenate(self._times)
        return np.zeros(0, dtype=np.int32), np.zeros(0)

    def final_state(self, end_time):
        """The `SparsePropState` at `end_time` (tau units)."""
        network = self.network
        state = SparsePropState(
            keys=None,
            offset=float(self.clock[OFFSET]),
            time_base=float(self.clock[TIME_BASE]),
            time_base_compensation=float(self.clock[COMPENSATION]),
            time=float(end_time),
            spikes_since_rebase=int(self.counters[SINCE_REBASE]),
            n_spikes=int(self.committed),
            representation=network.representation,
            tau=network.tau,
        )
        # the run is over: its heap becomes the state's (keys in neuron order on demand)
        state._attach_heap(self.heap)
        return state


def _start_heap(state):
    """The kernel's heap for a run from `state`: the state's own heap, copied, if it has one.

    A state returned by a run keeps that run's valid heap, so continuing costs one
    sequential copy (the state is not modified by the new run) instead of a heap
    construction; otherwise the heap is built from the keys (`_heap.heapify`, counted
    in `HEAP_BUILDS`).
    """
    heap = state._heap
    if heap is not None:
        keys, ids, position = _aligned_heap(heap[0].size)
        keys[:], ids[:], position[:] = heap
        return keys, ids, position
    N = state.keys.size
    keys, ids, position = _aligned_heap(N)
    keys[:] = state.keys
    ids[:] = np.arange(N, dtype=np.int32)
    heapify(keys, ids, position)
    HEAP_BUILDS[0] += 1
    return keys, ids, position


def _aligned_view(n, dtype):
    """An uninitialised array of `n` items whose 4-child families never straddle a line.

    The children of heap position ``p`` are ``4p + 1 .. 4p + 4``. The view starts 3
    items after a 64-byte boundary (a cache line), so item ``4p + 1`` lies at byte
    ``itemsize * 4 (p + 1)`` from that boundary: for float64 keys the 32 bytes of a family fill one
    half of a line, for int32 ids 16 bytes of a quarter; none is split across two lines.
    """
    itemsize = np.dtype(dtype).itemsize
    pad = 64 // itemsize
    buffer = np.empty(n + 2 * pad, dtype=dtype)
    misalignment = (buffer.ctypes.data // itemsize) % pad
    start = (pad - misalignment) % pad + 3
    return buffer[start : start + n]


def _aligned_heap(N):
    """``(keys, ids, position)`` arrays of a heap of `N` entries (see `_aligned_view`)."""
    return _aligned_view(N, np.float64), _aligned_view(N, np.int32), np.empty(N, np.int32)


# --------------------------------------------------------------------------- recipes


def balanced_network(
    N=100_000,
    K=100,
    *,
    model="theta",
    J0=1.0,
    rate=1.0,
    tau=0.01,
    heterogeneity=0.0,
    seed=0,
    memory_free=True,
    representation="auto",
):
    """The inhibitory balanced reference network of SparseProp / Monteforte & Wolf.

    Every neuron projects to ``K`` random targets (no autapses, no multapses) with
    weight :math:`J = -J_0/\\sqrt{K}`, and receives the balancing drive

    .. math:: I_i = \\tau \\sqrt{K} J_0 \\nu_0 (1 + \\eta \\sin(2 i / N)),

    where :math:`\\nu_0` is `rate` (Hz) and :math:`\\eta` is `heterogeneity` (0 gives a
    homogeneous drive and the phase representation). The realised rate differs from
    :math:`\\nu_0` at finite K.

    Parameters
    ----------
    N, K : int
        Network size (>= 2) and out-degree (1 <= K <= N - 1; defaults: 10^5 and 100).
    model : {"theta", "lif"}
    J0 : float
        Coupling strength (default 1).
    rate : float
        Target rate :math:`\\nu_0` in Hz (default 1).
    tau : float
        Time constant in seconds (default 0.01).
    heterogeneity : float
        :math:`\\eta` in [0, 1).
    seed : int
        Graph seed, an integer in [0, 2**63).
    memory_free : bool
        Use a `RegeneratedConnectivity` (True) or its materialised CSR.
    representation : str
        Passed to `SparsePropNetwork`.

    Returns
    -------
    SparsePropNetwork

    Raises
    ------
    TypeError
        `N`, `K` or `seed` not an integer.
    ValueError
        Out-of-range `N`, `K`, `seed`, `rate`, `J0`, `heterogeneity` or `tau`.

    References
    ----------
    Engelken R. (2023) NeurIPS 36, arXiv:2312.17216; Monteforte M., Wolf F. (2010)
    Phys. Rev. Lett. 105:268104; van Vreeswijk C., Sompolinsky H. (1996) Science 274:1724.
    """
    N = check_int(N, "N", minimum=2)
    K = check_int(K, "K", minimum=1, maximum=N - 1)  # distinct targets, no autapses
    seed = check_seed(seed)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be > 0 Hz, got {rate!r}")
    if not np.isfinite(J0) or J0 <= 0:
        raise ValueError(f"J0 must be > 0, got {J0!r}")
    if not 0.0 <= heterogeneity < 1.0:
        raise ValueError(f"heterogeneity must lie in [0, 1), got {heterogeneity!r}")
    tau_seconds = to_seconds(tau, "tau", finite=False)
    if not np.isfinite(tau_seconds) or tau_seconds <= 0:
        raise ValueError(f"tau must be a positive time, got {tau!r}")
    graph = RegeneratedConnectivity(N, K, seed=seed)
    if not memory_free:
        graph = graph.materialize()
    drive = tau_seconds * math.sqrt(K) * J0 * rate
    if heterogeneity > 0:
        drive = drive * (1.0 + heterogeneity * np.sin(2.0 * np.arange(N) / N))
    return SparsePropNetwork(
        model,
        graph,
        drive=drive,
        tau=tau_seconds,
        coupling=-J0 / math.sqrt(K),
        representation=representation,
    )
