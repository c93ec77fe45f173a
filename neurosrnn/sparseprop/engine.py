"""SparseProp: exact event-driven simulation of sparse delta-pulse-coupled networks.

Algorithm (Engelken 2023, NeurIPS, arXiv:2312.17216)
-----------------------------------------------------
Every neuron ``i`` is described by its next threshold arrival ``key_i`` on a global
clock :math:`\\Phi`; all keys sit in an indexed min-heap (`_heap`). Free evolution of
the whole network is only :math:`\\Phi \\leftarrow` the top key; a network spike of
neuron ``j`` then costs one reset and ``K`` phase-transition-curve (PTC) updates of its
targets, each an O(log N) heap update: O(K log N) per spike, independent of N
otherwise.

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
import sys
import time
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from neurosrnn.connectivity import Connectivity
from neurosrnn.sparseprop._heap import _heapify, _sift_down, _sift_up
from neurosrnn.sparseprop.phase_models import PhaseModel, phase_model, pulse_phase
from neurosrnn.sparseprop.topology import RegeneratedConnectivity, regenerate_targets

__all__ = [
    "SparsePropNetwork",
    "SparsePropState",
    "SparsePropResult",
    "balanced_network",
    "isi_cv",
]

# indices into the small state arrays shared with the kernel
_OFFSET, _TIME_BASE, _COMPENSATION = 0, 1, 2
_SINCE_REBASE, _STAMP, _TOTAL, _SAMPLE_POINTER, _REACHED_STOP = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------- kernel


@numba.njit(cache=True)
def _record_samples(
    homogeneous,
    heap_key,
    position,
    omega,
    phase_threshold,
    offset,
    time_base,
    until,
    sample_times,
    sample_neurons,
    samples,
    ints,
):
    pointer = ints[_SAMPLE_POINTER]
    while pointer < sample_times.shape[0] and sample_times[pointer] <= until:
        sample_time = sample_times[pointer]
        for m in range(sample_neurons.shape[0]):
            i = sample_neurons[m]
            key = heap_key[position[i]]
            if homogeneous:
                clock = (sample_time - time_base) * omega[0]
                samples[pointer, m] = phase_threshold - (key - clock)
            else:
                clock = sample_time - time_base
                samples[pointer, m] = phase_threshold - omega[i] * (key - clock)
        pointer += 1
    ints[_SAMPLE_POINTER] = pointer


@numba.njit(cache=True)
def _simulate(
    model,
    homogeneous,
    heap_key,
    heap_id,
    position,
    omega,
    scale,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    synapse_weights,
    presynaptic_weights,
    use_synapse_weights,
    regenerate,
    regenerate_seed,
    regenerate_K,
    multapses,
    stamp,
    row,
    floats,
    ints,
    rebase_interval,
    max_spikes,
    stop_time,
    out_index,
    out_time,
    record,
    sample_times,
    sample_neurons,
    samples,
):
    """Process up to `max_spikes` network spikes or until `stop_time` (tau units).

    State lives in the arrays (updated in place, so an interrupted caller can read
    it); returns the number of spikes processed.
    """
    n_neurons = heap_key.shape[0]
    offset = floats[_OFFSET]
    time_base = floats[_TIME_BASE]
    compensation = floats[_COMPENSATION]
    reset_distance = phase_threshold - phase_reset
    omega0 = omega[0]
    scale0 = scale[0]
    n = 0
    while n < max_spikes:
        top_key = heap_key[0]
        j = heap_id[0]
        clock = top_key if top_key > offset else offset
        if homogeneous:
            spike_time = time_base + (clock / omega0 - compensation)
        else:
            spike_time = time_base + (clock - compensation)
        if sample_times.shape[0] > 0:
            until = spike_time if spike_time < stop_time else stop_time
            _record_samples(
                homogeneous,
                heap_key,
                position,
                omega,
                phase_threshold,
                offset,
                time_base - compensation,
                until,
                sample_times,
                sample_neurons,
                samples,
                ints,
            )
        if spike_time > stop_time:
            ints[_REACHED_STOP] = 1
            break
        offset = clock
        if record:
            out_index[n] = j
            out_time[n] = spike_time
        # reset the spiker (it is the heap top; its key grows)
        if homogeneous:
            heap_key[0] = offset + reset_distance
        else:
            heap_key[0] = offset + reset_distance / omega[j]
        _sift_down(heap_key, heap_id, position, 0, n_neurons)
        # targets
        if regenerate:
            ints[_STAMP] += 1
            regenerate_targets(
                regenerate_seed, j, regenerate_K, n_neurons, multapses, stamp, ints[_STAMP], row
            )
            count = regenerate_K
            start = 0
        else:
            start = indptr[j]
            count = indptr[j + 1] - start
        # touch the targets' heap entries first: independent loads overlap in memory
        touched = 0.0
        for k in range(count):
            i = row[k] if regenerate else indices[start + k]
            touched += heap_key[position[i]]
        if touched != touched:  # never true for finite keys; keeps the loads alive
            break
        for k in range(count):
            if regenerate:
                i = row[k]
            else:
                i = indices[start + k]
            if use_synapse_weights:
                weight = synapse_weights[start + k]
            else:
                weight = presynaptic_weights[j]
            p = position[i]
            key = heap_key[p]
            if homogeneous:
                phase = phase_threshold - (key - offset)
                if phase < phase_reset and model == 0:
                    phase = phase_reset
                new_phase = pulse_phase(model, phase, weight, scale0, omega0, phase_threshold)
                new_key = offset + (phase_threshold - new_phase)
            else:
                speed = omega[i]
                phase = phase_threshold - speed * (key - offset)
                if phase < phase_reset and model == 0:
                    phase = phase_reset
                new_phase = pulse_phase(model, phase, weight, scale[i], speed, phase_threshold)
                new_key = offset + (phase_threshold - new_phase) / speed
            heap_key[p] = new_key
            if new_key < key:
                _sift_up(heap_key, heap_id, position, p)
            elif new_key > key:
                _sift_down(heap_key, heap_id, position, p, n_neurons)
        n += 1
        ints[_TOTAL] += 1
        ints[_SINCE_REBASE] += 1
        if rebase_interval > 0 and ints[_SINCE_REBASE] >= rebase_interval:
            for p in range(n_neurons):
                heap_key[p] -= offset
            # compensated (Kahan) sum: identical increments would otherwise round the
            # same way every time and bias the time base systematically
            increment = (offset / omega0 if homogeneous else offset) - compensation
            new_base = time_base + increment
            compensation = (new_base - time_base) - increment
            time_base = new_base
            offset = 0.0
            _heapify(heap_key, heap_id, position)
            ints[_SINCE_REBASE] = 0
        floats[_OFFSET] = offset
        floats[_TIME_BASE] = time_base
        floats[_COMPENSATION] = compensation
    floats[_OFFSET] = offset
    floats[_TIME_BASE] = time_base
    floats[_COMPENSATION] = compensation
    return n


# --------------------------------------------------------------------------- helpers


def _seconds(value, name):
    """Convert a float (seconds) or a brian2 time quantity to float seconds."""
    dimensions = getattr(value, "dim", None)
    if dimensions is not None:
        from brian2 import second
        from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

        if get_dimensions(value) != second.dim:
            raise DimensionMismatchError(
                f"{name} must be a time", get_dimensions(value), second.dim
            )
        value = float(value / second)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None


class _ProgressBar:
    """A minimal text progress bar on stderr (automatic mode: a terminal, after `delay` s)."""

    def __init__(self, enabled, total, unit, delay=2.0, stream=None):
        self.enabled = enabled
        self.total = total
        self.unit = unit
        self.delay = 0.0 if enabled is True else delay
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.shown = False

    def update(self, done, spikes):
        if self.enabled is False:
            return
        if self.enabled is None and not getattr(self.stream, "isatty", lambda: False)():
            return  # automatic mode: only on an interactive terminal, never in logs
        elapsed = time.perf_counter() - self.start
        if elapsed < self.delay:
            return
        fraction = min(1.0, done / self.total) if self.total > 0 else 1.0
        width = 30
        filled = int(round(fraction * width))
        self.stream.write(
            f"\rSparseProp [{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% "
            f"{spikes:,} spikes {elapsed:7.1f} s"
        )
        self.stream.flush()
        self.shown = True

    def close(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def isi_cv(spike_indices, spike_times, N, min_spikes=3):
    """Mean coefficient of variation of the inter-spike intervals over neurons.

    Parameters
    ----------
    spike_indices, spike_times : arrays
        Spikes (any order).
    N : int
        Number of neurons.
    min_spikes : int
        Neurons with fewer spikes are left out.

    Returns
    -------
    float
        Mean over neurons of std(ISI)/mean(ISI); NaN if no neuron qualifies.
    """
    spike_indices = np.asarray(spike_indices)
    spike_times = np.asarray(spike_times, dtype=float)
    if spike_indices.size < 2:
        return float("nan")
    order = np.lexsort((spike_times, spike_indices))
    neurons = spike_indices[order]
    times = spike_times[order]
    same = neurons[1:] == neurons[:-1]
    isi = np.diff(times)[same]
    owner = neurons[1:][same]
    counts = np.bincount(owner, minlength=N)
    sums = np.bincount(owner, weights=isi, minlength=N)
    squares = np.bincount(owner, weights=isi * isi, minlength=N)
    keep = counts >= max(min_spikes - 1, 2)
    if not np.any(keep):
        return float("nan")
    mean = sums[keep] / counts[keep]
    variance = np.maximum(squares[keep] / counts[keep] - mean**2, 0.0)
    return float(np.mean(np.sqrt(variance) / mean))


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
            f"<SparsePropState N={self.keys.size}, t={self.time * self.tau:.6g} s, "
            f"{self.n_spikes} spikes so far, {self.representation} representation>"
        )

    @property
    def time_seconds(self):
        """Current time in seconds."""
        return self.time * self.tau

    def copy(self):
        """Independent copy."""
        return replace(self, keys=self.keys.copy())


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
        self.connectivity = connectivity
        self.N = N = int(connectivity.N_pre)
        self.tau = _seconds(tau, "tau")
        if not np.isfinite(self.tau) or self.tau <= 0:
            raise ValueError(f"tau must be a positive time, got {tau!r}")

        drive_array = np.asarray(drive, dtype=float)
        if drive_array.ndim == 0:
            drive_array = np.full(N, float(drive_array))
        elif drive_array.shape != (N,):
            raise ValueError(
                f"drive must be a scalar or one value per neuron ({N}), got {drive_array.shape}"
            )
        self.model.check_drive(drive_array)
        self.drive = drive_array
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
        self.representation = representation
        self.omega = self.model.omega(drive_array)
        self.scale = self.model.pulse_scale(drive_array)

        weights = getattr(connectivity, "weights", None)
        if weights is not None and coupling is not None:
            raise ValueError("the connectivity already carries weights; do not also pass coupling")
        if weights is None and coupling is None:
            raise ValueError(
                "give synaptic weights: either a weighted connectivity or coupling="
                "(scalar or one value per presynaptic neuron)"
            )
        if coupling is not None:
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
        elif not np.all(np.isfinite(weights)):
            raise ValueError("connectivity weights must be finite")
        self.coupling = coupling

        if rebase_interval is None:
            rebase_interval = N
        if isinstance(rebase_interval, bool) or not isinstance(rebase_interval, int | np.integer):
            raise ValueError(
                f"rebase_interval must be a non-negative integer, got {rebase_interval!r}"
            )
        if rebase_interval < 0:
            raise ValueError(f"rebase_interval must be >= 0, got {rebase_interval}")
        self.rebase_interval = int(rebase_interval)
        self._build_kernel_arrays()

    def _build_kernel_arrays(self):
        graph = self.connectivity
        N = self.N
        self._regenerate = isinstance(graph, RegeneratedConnectivity)
        if self._regenerate:
            self._indptr = np.zeros(1, dtype=np.int64)
            self._indices = np.zeros(1, dtype=np.int32)
            self._synapse_weights = np.zeros(1)
            self._use_synapse_weights = False
            self._presynaptic_weights = (
                graph.weights if graph.weights is not None else self.coupling
            ).astype(float)
            self._K = graph.K
            self._multapses = graph.multapses
            self._seed = graph.seed
        else:
            self._indptr = graph.indptr.astype(np.int64)
            self._indices = graph.indices.astype(np.int32)
            if graph.weights is not None:
                self._synapse_weights = graph.weights.astype(float)
                self._use_synapse_weights = True
                self._presynaptic_weights = np.zeros(1)
            else:
                self._synapse_weights = np.zeros(1)
                self._use_synapse_weights = False
                self._presynaptic_weights = self.coupling.astype(float)
            self._K = 0
            self._multapses = True
            self._seed = 0
        homogeneous = self.representation == "phase"
        self._omega = self.omega[:1].copy() if homogeneous else self.omega.copy()
        self._scale = self.scale[:1].copy() if homogeneous else self.scale.copy()
        self._row = np.zeros(max(self._K, 1), dtype=np.int32)
        self._N_check = N

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
            If neither is given, phases are drawn uniformly from [reset, threshold).

        Returns
        -------
        SparsePropState

        Raises
        ------
        ValueError
            Both `phases` and `model_state` given, or values NaN or out of range.
        """
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
        if state.keys.shape != (self.N,):
            raise ValueError(f"state has {state.keys.size} neurons, this network {self.N}")
        if state.representation != self.representation:
            raise ValueError(
                f"state uses the {state.representation} representation, this network "
                f"the {self.representation} one"
            )
        if not np.all(np.isfinite(state.keys)):
            raise ValueError("state keys must be finite")

    def phases(self, state, at=None):
        """Phases of all neurons in `state` at time `at` (seconds; default: state time)."""
        self._check_state(state)
        t = state.time if at is None else _seconds(at, "at") / self.tau
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
            Absolute times in seconds (sorted) at which to sample.
        progress : bool, optional
            Progress bar on stderr: True always, False never, None on an interactive
            terminal once the run has lasted 2 s.

        Returns
        -------
        SparsePropResult
            Ctrl-C stops the run and returns what was simulated so far
            (``interrupted=True``).

        Raises
        ------
        ValueError
            No stop condition, negative duration or spike count, bad sample arrays,
            or a state from another network.
        """
        self._check_state(state)
        if duration is None and n_spikes is None:
            raise ValueError("give a stop condition: duration and/or n_spikes")
        stop_time = math.inf
        if duration is not None:
            duration = _seconds(duration, "duration")
            if not np.isfinite(duration) or duration < 0:
                raise ValueError(f"duration must be a finite time >= 0, got {duration!r}")
            stop_time = state.time + duration / self.tau
        max_total = np.iinfo(np.int64).max
        if n_spikes is not None:
            if isinstance(n_spikes, bool) or not isinstance(n_spikes, int | np.integer):
                raise ValueError(f"n_spikes must be a non-negative integer, got {n_spikes!r}")
            if n_spikes < 0:
                raise ValueError(f"n_spikes must be >= 0, got {n_spikes}")
            max_total = int(n_spikes)

        if (sample_neurons is None) != (sample_times is None):
            raise ValueError("give sample_neurons and sample_times together")
        if sample_neurons is not None:
            sample_neurons = np.atleast_1d(np.asarray(sample_neurons))
            if sample_neurons.dtype.kind not in "iu" or np.any(
                (sample_neurons < 0) | (sample_neurons >= self.N)
            ):
                raise ValueError(f"sample_neurons must be integers in [0, {self.N})")
            sample_neurons = sample_neurons.astype(np.int64)
            sample_times_s = np.atleast_1d(np.asarray(sample_times, dtype=float))
            if not np.all(np.isfinite(sample_times_s)) or np.any(np.diff(sample_times_s) < 0):
                raise ValueError("sample_times must be finite and sorted")
            kernel_sample_times = sample_times_s / self.tau
            samples = np.full((sample_times_s.size, sample_neurons.size), np.nan)
        else:
            sample_neurons = np.zeros(0, dtype=np.int64)
            sample_times_s = None
            kernel_sample_times = np.zeros(0)
            samples = np.zeros((0, 0))

        # kernel state
        heap_key = state.keys.copy()
        heap_id = np.arange(self.N, dtype=np.int32)
        position = np.empty(self.N, dtype=np.int32)
        _heapify(heap_key, heap_id, position)
        floats = np.array([state.offset, state.time_base, state.time_base_compensation])
        ints = np.zeros(5, dtype=np.int64)
        ints[_SINCE_REBASE] = state.spikes_since_rebase
        ints[_TOTAL] = state.n_spikes
        stamp = (
            np.full(self.N, -1, dtype=np.int64)
            if self._regenerate and not self._multapses
            else np.zeros(1, dtype=np.int64)
        )

        start_spikes = state.n_spikes
        chunk = 4096
        total_units = max_total if n_spikes is not None else (stop_time - state.time)
        bar = _ProgressBar(progress, total_units, "spikes")
        pieces_index, pieces_time = [], []
        committed = start_spikes
        interrupted = False
        started = time.perf_counter()
        buffers = None

        def commit():
            nonlocal committed
            new = int(ints[_TOTAL]) - committed
            if new > 0 and record_spikes and buffers is not None:
                pieces_index.append(buffers[0][:new].copy())
                pieces_time.append(buffers[1][:new] * self.tau)
            committed += new

        try:
            while True:
                remaining = max_total - (committed - start_spikes)
                if remaining <= 0 or ints[_REACHED_STOP]:
                    break
                this_chunk = int(min(chunk, remaining))
                size = this_chunk if record_spikes else 1
                buffers = (np.empty(size, dtype=np.int32), np.empty(size))
                chunk_start = time.perf_counter()
                _simulate(
                    self.model.code,
                    self.representation == "phase",
                    heap_key,
                    heap_id,
                    position,
                    self._omega,
                    self._scale,
                    self.model.phase_reset,
                    self.model.phase_threshold,
                    self._indptr,
                    self._indices,
                    self._synapse_weights,
                    self._presynaptic_weights,
                    self._use_synapse_weights,
                    self._regenerate,
                    self._seed,
                    self._K,
                    self._multapses,
                    stamp,
                    self._row,
                    floats,
                    ints,
                    self.rebase_interval,
                    this_chunk,
                    stop_time,
                    buffers[0],
                    buffers[1],
                    record_spikes,
                    kernel_sample_times,
                    sample_neurons,
                    samples,
                )
                commit()
                chunk_wall = time.perf_counter() - chunk_start
                if chunk_wall < 0.1 and chunk < 2**22:
                    chunk *= 2
                if n_spikes is not None:
                    done = committed - start_spikes
                else:
                    done = self._current_time(floats) - state.time
                bar.update(done, committed - start_spikes)
        except KeyboardInterrupt:
            interrupted = True
            commit()
        finally:
            bar.close()

        n_run = committed - start_spikes
        if record_spikes and pieces_index:
            spike_indices = np.concatenate(pieces_index)
            spike_times = np.concatenate(pieces_time)
        else:
            spike_indices = np.zeros(0, dtype=np.int32)
            spike_times = np.zeros(0)
        last_spike_time = self._current_time(floats)
        if ints[_REACHED_STOP] and not interrupted:
            end_time = stop_time
        else:
            end_time = max(last_spike_time, state.time) if n_run else state.time
        keys = np.empty(self.N)
        keys[heap_id] = heap_key
        final = SparsePropState(
            keys=keys,
            offset=float(floats[_OFFSET]),
            time_base=float(floats[_TIME_BASE]),
            time_base_compensation=float(floats[_COMPENSATION]),
            time=float(end_time),
            spikes_since_rebase=int(ints[_SINCE_REBASE]),
            n_spikes=int(committed),
            representation=self.representation,
            tau=self.tau,
        )
        model_samples = None
        if sample_times_s is not None:
            if ints[_REACHED_STOP] and not interrupted:
                # samples between the last spike and the stop time
                _record_samples(
                    self.representation == "phase",
                    heap_key,
                    position,
                    self._omega,
                    self.model.phase_threshold,
                    floats[_OFFSET],
                    floats[_TIME_BASE] - floats[_COMPENSATION],
                    stop_time,
                    kernel_sample_times,
                    sample_neurons,
                    samples,
                    ints,
                )
            phases_sampled = samples
            if self.model.code == 0:
                phases_sampled = np.maximum(phases_sampled, self.model.phase_reset)
            model_samples = self.model.phase_to_state(
                phases_sampled, self.drive[sample_neurons][None, :]
            )
            model_samples[np.isnan(samples)] = np.nan
        return SparsePropResult(
            spike_indices=spike_indices,
            spike_times=spike_times,
            state=final,
            start_time=state.time * self.tau,
            stop_time=end_time * self.tau,
            n_spikes=int(n_run),
            N=self.N,
            wall_time=time.perf_counter() - started,
            interrupted=interrupted,
            sample_times=sample_times_s,
            samples=model_samples,
            sample_neurons=sample_neurons if sample_times_s is not None else None,
        )

    def _current_time(self, floats):
        if self.representation == "phase":
            return floats[_TIME_BASE] + (floats[_OFFSET] / self.omega[0] - floats[_COMPENSATION])
        return floats[_TIME_BASE] + (floats[_OFFSET] - floats[_COMPENSATION])


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
        Network size and out-degree (defaults: 10^5 and 100).
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
        Graph seed.
    memory_free : bool
        Use a `RegeneratedConnectivity` (True) or its materialised CSR.
    representation : str
        Passed to `SparsePropNetwork`.

    Returns
    -------
    SparsePropNetwork

    References
    ----------
    Engelken R. (2023) NeurIPS 36, arXiv:2312.17216; Monteforte M., Wolf F. (2010)
    Phys. Rev. Lett. 105:268104; van Vreeswijk C., Sompolinsky H. (1996) Science 274:1724.
    """
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be > 0 Hz, got {rate!r}")
    if not np.isfinite(J0) or J0 <= 0:
        raise ValueError(f"J0 must be > 0, got {J0!r}")
    if not 0.0 <= heterogeneity < 1.0:
        raise ValueError(f"heterogeneity must lie in [0, 1), got {heterogeneity!r}")
    tau_seconds = _seconds(tau, "tau")
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
