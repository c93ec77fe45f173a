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
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from neurosrnn.connectivity import Connectivity
from neurosrnn.progress import progress_bar
from neurosrnn.sparseprop import _kernel
from neurosrnn.sparseprop._heap import heapify_neurons
from neurosrnn.sparseprop._kernel import (
    COMPENSATION,
    FIFO_COUNT,
    FIFO_HEAD,
    HOMOGENEOUS_DELAY,
    INPUT_POINTER,
    N_COUNTERS,
    NEEDED_SPACE,
    NO_DELAY,
    OFFSET,
    PENDING_COUNT,
    PULSE_COUNT,
    REACHED_STOP,
    SIMULTANEOUS,
    SINCE_REBASE,
    SYNAPSE_DELAYS,
    TIME_BASE,
    TOTAL,
    clock_to_time,
)
from neurosrnn.sparseprop.phase_models import TABULATED, PhaseModel, phase_model
from neurosrnn.sparseprop.phase_tables import (
    PhaseTable,
    clamp_count,
    empty_kernel_tables,
    kernel_tables,
)
from neurosrnn.sparseprop.topology import RegeneratedConnectivity, duplicate_table
from neurosrnn.units import seconds_array, to_seconds
from neurosrnn.validation import check_int, check_seed, int_array

__all__ = [
    "InputSpikes",
    "SparsePropNetwork",
    "SparsePropState",
    "SparsePropResult",
    "balanced_network",
    "isi_cv",
]

# neurons per chunk of the initial phases drawn by `initial_state` (8 MB of float64)
_DRAW_CHUNK = 2**20
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
        "again), add inhibition, a refractory period or synaptic delays."
    )


# --------------------------------------------------------------------------- state / result


@dataclass
class SparsePropState:
    """The exact state of a SparseProp network between runs.

    Holds the internal representation (keys, clock offset, time base, rebase counter),
    so continuing from it repeats exactly the arithmetic of one long run. Use
    `SparsePropNetwork.phases` / `SparsePropNetwork.model_state` for readable values.

    A state returned by a run keeps that run's heap (float64 keys, int32 ids and
    positions: 16 bytes per neuron) and orders its `keys` by neuron only when they are
    read (then read-only). A run from it copies the heap; the network's own state
    (`SparsePropNetwork.state`) continued in place is not copied, and the state object
    it was becomes `spent`.

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
    refractory_end : ndarray, shape (N,) or (0,)
        End of each neuron's current refractory period on the engine clock (``-inf``:
        not refractory); empty for a network without refractoriness.
    pending_arrival : ndarray of float64, shape (P,)
        Arrival of each pulse (or volley) in flight on the engine clock, in delivery
        order (arrival, then `pending_sequence`, then `pending_synapse`).
    pending_source : ndarray of int32, shape (P,)
        Its presynaptic neuron.
    pending_synapse : ndarray of int64, shape (P,)
        Its synapse (CSR index) for per-synapse delays, or -1: a volley to every target
        of the source (one delay for all synapses).
    pending_sequence : ndarray of int64, shape (P,)
        Number of the spike that sent it (the count of spikes before it since the
        initial state).
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
    refractory_end: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    pending_arrival: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    pending_source: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int32), repr=False
    )
    pending_synapse: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False
    )
    pending_sequence: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False
    )

    def __repr__(self):
        in_flight = np.size(self.pending_arrival)
        return (
            f"<SparsePropState N={self.n_neurons}, t={self.time * self.tau:.6g} s, "
            f"{self.n_spikes} spikes so far, {self.representation} representation"
            f"{f', {in_flight} pulse events in flight' if in_flight else ''}>"
        )

    @property
    def n_pending(self):
        """Number of pulse events in flight (single pulses, or volleys of one spike)."""
        return int(np.size(self.pending_arrival))

    @property
    def n_neurons(self):
        """Number of neurons (without ordering the keys)."""
        spent = self.__dict__.get("_spent")
        if spent is not None:
            return spent
        return self._heap[0].size if self._heap is not None else np.size(self.keys)

    @property
    def time_seconds(self):
        """Current time in seconds."""
        return self.time * self.tau

    @property
    def spent(self):
        """True for a state continued in place (`SparsePropNetwork.run` without a state).

        Such a run takes the heap of the network's own state instead of copying it, so the
        state object it started from no longer holds its keys: reading them, copying the
        state or running from it raises an error. `SparsePropNetwork.state` is the state
        to continue from.
        """
        return self.__dict__.get("_spent") is not None

    def copy(self):
        """Independent copy (its keys writable; the engine rebuilds its heap on the next run)."""
        return replace(
            self,
            keys=np.array(self.keys, copy=True),
            refractory_end=np.array(self.refractory_end, copy=True),
            pending_arrival=np.array(self.pending_arrival, copy=True),
            pending_source=np.array(self.pending_source, copy=True),
            pending_synapse=np.array(self.pending_synapse, copy=True),
            pending_sequence=np.array(self.pending_sequence, copy=True),
        )

    def _attach_heap(self, heap):
        """Keep the engine's heap ``(keys by position, ids, position)`` of these keys."""
        self.__dict__["_keys"] = None
        self.__dict__["_heap"] = heap

    @property
    def _heap(self):
        """The engine heap of `keys` (valid while the keys are not replaced), or None."""
        return self.__dict__.get("_heap")


def _spent_message(state):
    return (
        f"this SparsePropState ({state.n_neurons} neurons, t = {state.time * state.tau!r} s) "
        "was continued in place by SparsePropNetwork.run() without a state argument, which "
        "took over its heap (no O(N) copy): it no longer holds its keys. Continue from the "
        "network's own state (network.state, or the latest result.state), or keep a copy "
        "(state.copy()) before continuing in place."
    )


def _spend(state):
    """Hand the heap of `state` to an in-place run: the state object no longer holds keys."""
    n_neurons = state.n_neurons
    state.__dict__.update(_heap=None, _keys=None, _spent=n_neurons)


def _get_state_keys(state):
    if state.__dict__.get("_spent") is not None:
        raise RuntimeError(_spent_message(state))
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
    state.__dict__["_spent"] = None  # new keys: an ordinary state again


# `keys` is a dataclass field (checkpoints and `dataclasses.replace` see it) stored lazily:
# a state returned by a run keeps the run's heap and orders its keys by neuron only when
# they are read, so continuing a run does no O(N) reordering or heap construction.
SparsePropState.keys = property(
    _get_state_keys,
    _set_state_keys,
    doc="Threshold arrival of each neuron on the engine clock, shape (N,).",
)

# heap constructions and copies of a kept heap by `SparsePropNetwork.run` so far (tests
# count them: continuing the network's own state in place does neither)
HEAP_BUILDS = [0]
HEAP_COPIES = [0]


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
    n_input_spikes : int
        Number of input spikes delivered in this run (`SparsePropNetwork.run`'s
        `input_spikes`; they are not among the recorded spikes).
    pulses : ndarray or None, shape (n_pulses, 3)
        With ``record_pulses=True``: every pulse of the run's spikes in delivery order
        (spike by spike, each spike's targets in synapse order: CSR order, or draw
        order for a memory-free graph), as the target's phase just before the pulse,
        its phase after it, and the pre-pulse *base*
        :math:`\\tan(\\phi/2)` (theta) or :math:`e^{-\\phi/\\omega_i}` (LIF), the
        variable in which pulses add (see
        `neurosrnn.sparseprop.phase_models.pulse_phase_and_base`). Exact gradients
        (`spike_gradients`) read them instead of replaying the run.
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
    n_input_spikes: int = 0
    pulses: np.ndarray | None = None

    def __repr__(self):
        return (
            f"<SparsePropResult {self.n_spikes} spikes of {self.N} neurons in "
            f"[{self.start_time:.6g}, {self.stop_time:.6g}] s, rate {self.mean_rate:.4g} Hz"
            f"{f', {self.n_input_spikes} input spikes' if self.n_input_spikes else ''}"
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


# --------------------------------------------------------------------------- inputs


class InputSpikes:
    """Given spike trains of the input neurons of a `SparsePropNetwork` (one run's worth).

    The analogue of Brian2's ``SpikeGeneratorGroup``: input neuron ``indices[m]`` fires
    at ``times[m]``. Pass it (or the plain tuple ``(indices, times)``, already sorted) to
    `SparsePropNetwork.run` as `input_spikes`; the network's `input_connectivity` carries
    the pulses to its neurons.

    Parameters
    ----------
    indices : array of int, shape (S,)
        Input neuron of each spike, >= 0 (checked against the network's ``n_inputs`` by
        `SparsePropNetwork.run`).
    times : array of float or brian2 time quantity, shape (S,)
        Absolute spike times (seconds if plain numbers), finite and >= 0.
    sort : bool
        Sort the spikes by time (stable). Without it, unsorted times are an error.

    Attributes
    ----------
    indices : ndarray of int64
    times : ndarray of float64
        Seconds, sorted.

    Raises
    ------
    ValueError
        Arrays of different lengths or not one-dimensional, negative indices, times that
        are negative or not finite, or unsorted times without ``sort=True``.
    TypeError
        Indices that are not integers.

    Examples
    --------
    >>> from brian2 import ms
    >>> InputSpikes([1, 0, 1], [5, 2, 9] * ms, sort=True)
    <InputSpikes 3 spikes of input neurons [0, 1] in [0.002, 0.009] s>
    """

    def __init__(self, indices, times, *, sort=False):
        indices = int_array(indices, "input_spikes indices", minimum=0)
        times = np.array(seconds_array(times, "input_spikes times"), dtype=float)
        if times.ndim != 1 or times.shape != indices.shape:
            raise ValueError(
                "input_spikes: indices and times must be one-dimensional and of one length, "
                f"got shapes {indices.shape} and {times.shape}"
            )
        bad = ~np.isfinite(times) | (times < 0)
        if np.any(bad):
            raise ValueError(
                f"input_spikes times must be finite and >= 0 s, got {float(times[bad][0])!r} "
                f"(spike {int(np.flatnonzero(bad)[0])})"
            )
        if np.any(np.diff(times) < 0):
            if not sort:
                first = int(np.flatnonzero(np.diff(times) < 0)[0])
                raise ValueError(
                    "input_spikes times must be sorted (or use InputSpikes(indices, times, "
                    f"sort=True)): spike {first + 1} at {times[first + 1]!r} s comes after "
                    f"spike {first} at {times[first]!r} s"
                )
            order = np.argsort(times, kind="stable")
            indices, times = indices[order], times[order]
        self.indices = indices
        self.times = times

    def __len__(self):
        return self.times.size

    def __repr__(self):
        if not len(self):
            return "<InputSpikes 0 spikes>"
        sources = np.unique(self.indices)
        return (
            f"<InputSpikes {len(self)} spikes of input neurons [{sources[0]}, {sources[-1]}] "
            f"in [{self.times[0]:.6g}, {self.times[-1]:.6g}] s>"
        )


def _checked_input_spikes(input_spikes):
    """`input_spikes` of `SparsePropNetwork.run` as an `InputSpikes` (or None)."""
    if input_spikes is None or isinstance(input_spikes, InputSpikes):
        return input_spikes
    if isinstance(input_spikes, tuple | list) and len(input_spikes) == 2:
        return InputSpikes(*input_spikes)
    raise ValueError(
        "input_spikes must be None, an InputSpikes or a tuple (indices, times), got "
        f"{type(input_spikes).__name__}"
    )


# --------------------------------------------------------------------------- network

#: The phase description of tabulated neurons (`neurosrnn.sparseprop.phase_tables`):
#: normalised phase, 0 at reset and 1 at threshold; the model-form state is the voltage.
TABULATED_MODEL = PhaseModel("tabulated", TABULATED, 0.0, 1.0, "v")


class _PerNeuronValues:
    """A float64 attribute of shape (N,) of `SparsePropNetwork` kept as one number while uniform.

    A scalar drive or coupling gives every neuron the same drive, speed, PTC scale and
    weight. The network then stores one float per attribute and the kernels read that one
    value: at N = 10^8 four arrays of N float64 would take 3.2 GB for nothing. The
    attribute still reads as an array of shape (N,) (made on first read, then kept), so
    code that reads ``network.drive`` or ``network.omega`` sees what it always saw.
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, network, owner=None):
        if network is None:
            return self
        value = network.__dict__.get(self.name)
        if isinstance(value, float):
            value = np.full(network.N, value)
            network.__dict__[self.name] = value
        return value

    def __set__(self, network, value):
        network.__dict__[self.name] = value


class SparsePropNetwork:
    """A sparse network of theta, LIF or tabulated neurons with delta pulses, simulated exactly.

    Each neuron obeys (time in units of `tau`)

    - theta: :math:`d\\theta/dt = (1 - \\cos\\theta) + (1 + \\cos\\theta) I_i`, spike at
      :math:`\\theta = \\pi`, reset to :math:`-\\pi`; a pulse of weight ``w`` maps
      :math:`\\theta \\to 2\\arctan(\\tan(\\theta/2) + w)`;
    - LIF: :math:`dV/dt = -V + 1 + I_i` with reset 0 and threshold 1 (normalised
      voltage); a pulse adds ``w`` to ``V`` and fires the neuron at once if it reaches
      threshold.

    - tabulated: any :math:`dv/dt = f(v)` with :math:`f > 0` between reset and threshold,
      through a `neurosrnn.sparseprop.phase_tables.PhaseTable` per population (phase 0 at
      reset, 1 at threshold; speed :math:`\\omega_i = \\tau / T_{p(i)}` with the table's
      free period :math:`T`); a pulse adds ``w`` to ``v`` (`table_pulse_phase`) and fires
      the neuron at once if it reaches threshold; always the time representation.

    Drives must be suprathreshold (``I_i > 0``).

    Delays and refractoriness: a spike of neuron ``j`` at time ``t`` resets ``j``; with a
    refractory period :math:`t_{ref}` it is held at reset until :math:`t + t_{ref}`,
    pulses arriving before then are ignored, and its next free threshold crossing is
    :math:`t + t_{ref} + T_{free}`. Its pulse reaches target ``i`` at ``t + d`` (``d``
    of that synapse); a pulse arriving at the end of a refractory period (or within
    ``2**-40 max(1, |end|)`` clock units before it, a floating-point coincidence) is
    delivered, as in NEST. Tie rule at one instant: pulses arriving then are delivered
    before the spikes at that instant, and spikes at equal times fire in order of neuron
    index. Delayed pulses that arrive together act on each target as one pulse of their
    summed weight, then the threshold test (NEST's rule; independent of their order).
    Zero-delay pulses act one by one in synapse order (CSR order; draw order for a
    memory-free graph), and a pulse that lifts a neuron to threshold makes it fire at
    that instant (the later pulses of the instant still act on it, in order). See
    `neurosrnn.sparseprop._kernel` for the details.
    More than N spikes at one instant stop the run with a RuntimeError (a runaway
    cascade). A run starts with no pulses in flight and no neuron refractory
    (`initial_state`); `SparsePropState` carries both between runs.

    Input neurons: with `input_connectivity`, M input neurons fire given spike trains
    (`run`'s `input_spikes`, see `InputSpikes`) into the network. An input spike at time
    ``t`` delivers its pulses at ``t`` (no delay) through the PTC of each target, like a
    recurrent pulse of that weight; refractory targets ignore it. Input pulses are
    pulses arriving at ``t``: they act before the network spikes at ``t``; a lone input
    spike acts in synapse order, and input spikes at the same instant as other input
    spikes or delayed recurrent pulses act with them as one summed pulse per target,
    then the threshold test (the tie rule above); a pulse that lifts a neuron to
    threshold fires it at ``t``, after all pulses of that instant. Input spikes are not
    recorded among the network's spikes (`SparsePropResult.n_input_spikes` counts those
    delivered). Networks with input neurons always run the event loop of delays and
    refractoriness (`neurosrnn.sparseprop._kernel.simulate_events_inputs`); networks
    without them are unchanged.

    Cost per spike: O(K log N) without delays (the original algorithm, unchanged);
    with one delay for all synapses, O(1) at the spike (a ring buffer of spikes in
    flight, in spike order) and O(K log N) at the arrival; with per-synapse delays,
    O(K log P) at the spike (a binary heap of the P single pulses in flight) and
    O(log P + log N) per arriving pulse. Refractoriness adds one comparison per pulse.

    Memory and set-up (10^8 neurons and more): a memory-free graph with a scalar drive
    and coupling holds no per-neuron array in the network (a uniform `drive`, `omega`,
    `scale` or `coupling` is stored once and reads as an array of shape (N,) on
    demand); the state is the heap, 16 bytes per neuron. `initial_state` draws its
    phases in chunks into the key array and the heap is built in place (Floyd's O(N)
    construction). `run` without a state continues the network's own state
    (`state`) in place, with no O(N) copy or heap construction per call, so long
    simulations can be cut into many runs at no cost; a run from a passed state copies
    it (the state passed is never modified). N must be below 2^31 (int32 indices).

    Parameters
    ----------
    model : {"theta", "qif", "lif"}, PhaseModel, PhaseTable or list of PhaseTable
        Neuron model: a closed form (`drive` required) or tabulated phase maps
        (`drive` must be None).
    connectivity : Connectivity or RegeneratedConnectivity
        Square graph keyed by the presynaptic neuron. A `RegeneratedConnectivity` is
        the memory-free mode: targets are regenerated at each spike.
    drive : float or array of shape (N,)
        Constant drive ``I`` (dimensionless) of a theta or LIF network. A scalar uses the
        phase representation.
    tau : float or brian2 time quantity
        Membrane time constant (seconds if a float), > 0.
    coupling : float or array of shape (N,), optional
        Weight of every synapse of each presynaptic neuron, for an unweighted graph.
        Negative is inhibitory for both models.
    representation : {"auto", "phase", "time"}
        ``"auto"``: phase representation for a scalar drive, time otherwise.
    rebase_interval : int, optional
        Spikes between rebases of the clock (default N; 0 disables rebasing).
    delay : time or array of shape (n_synapses,), optional
        Synaptic delay: None or 0 for none; a scalar time > 0 (a brian2 quantity or
        seconds) for every synapse; or one delay (seconds, >= 0) per synapse in CSR
        order (a stored graph only). Attribute `delay`: None, a float or an array (s).
    refractory : time or array of shape (N,), optional
        Absolute refractory period: None or 0 for none, a scalar or one time >= 0 per
        neuron. Attribute `refractory`: None or an array of shape (N,) (s).
    populations : int or array of shape (N,), optional
        Table of each neuron (an index into the list `model`; default all 0), tabulated
        models only. Attributes `tables` (list of PhaseTable, or None) and `populations`
        (int64 array, or None).
    input_connectivity : Connectivity, optional
        The fan-out of M input neurons: a stored graph of shape M -> N (``N_pre = M``,
        ``N_post = N``) with per-synapse weights, or unweighted with `input_coupling`.
        Attributes `input_connectivity` and `n_inputs` (M; 0 without inputs).
    input_coupling : float or array of shape (M,), optional
        Weight of every synapse of each input neuron, for an unweighted
        `input_connectivity` (same units and signs as `coupling`). Attribute
        `input_coupling`: None or an array of shape (M,).

    Warns
    -----
    RuntimeWarning
        From `run`, when pulses were clamped at a table's ``v_min`` (tabulated models).

    Raises
    ------
    ValueError
        Non-square or mismatched graph, non-positive drive or tau, weights given twice
        or missing, non-finite values, unknown model or representation, a negative or
        misshaped `delay` or `refractory`, per-synapse delays for a memory-free graph,
        an `input_connectivity` that is not a stored M -> N graph, input weights given
        twice, missing or not finite.

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
    >>> more = net.run(n_spikes=1000)  # continues in place from result.state  # doctest: +SKIP

    Two input neurons driving a small LIF network:

    >>> from neurosrnn.connectivity import Connectivity, fixed_out_degree
    >>> inputs = Connectivity([0, 2, 3], [0, 1, 2], N_post=3, weights=[0.3, 0.3, -0.2])
    >>> net = SparsePropNetwork("lif", fixed_out_degree(3, 3, 1, seed=1), drive=0.5, tau=0.02,
    ...                         coupling=0.1, input_connectivity=inputs)
    >>> result = net.run(net.initial_state(seed=1), duration=0.1,
    ...                  input_spikes=([0, 1, 0], [0.01, 0.02, 0.05]))
    >>> result.n_input_spikes
    3
    """

    drive = _PerNeuronValues()
    omega = _PerNeuronValues()
    scale = _PerNeuronValues()
    coupling = _PerNeuronValues()

    def __init__(
        self,
        model,
        connectivity,
        *,
        drive=None,
        tau,
        coupling=None,
        representation="auto",
        rebase_interval=None,
        delay=None,
        refractory=None,
        populations=None,
        input_connectivity=None,
        input_coupling=None,
    ):
        self.tables = _phase_tables(model)
        self.model: PhaseModel = TABULATED_MODEL if self.tables else phase_model(model)
        self.connectivity = _checked_connectivity(connectivity)
        self.N = N = int(connectivity.N_pre)
        if N >= 2**31:
            raise ValueError(
                f"N = {N} neurons: the engine indexes neurons with int32, so N must be "
                f"< 2**31 = {2**31}"
            )
        self.tau = to_seconds(tau, "tau", finite=False)
        if not np.isfinite(self.tau) or self.tau <= 0:
            raise ValueError(f"tau must be a positive time, got {tau!r}")
        if self.tables:
            self._init_tabulated(drive, representation, populations)
        else:
            self._init_closed_form(drive, representation, populations)
        self.coupling = _checked_coupling(coupling, connectivity, N)
        self.rebase_interval = _checked_rebase_interval(rebase_interval, N)
        self.delay = _checked_delay(delay, connectivity)
        self.refractory = _checked_refractory(refractory, N)
        self.input_connectivity, self._input_graph = _checked_input_graph(
            input_connectivity, input_coupling, N
        )
        self.n_inputs = 0 if input_connectivity is None else int(input_connectivity.N_pre)
        self.input_coupling = (
            None
            if input_coupling is None
            else np.broadcast_to(np.asarray(input_coupling, dtype=float), (self.n_inputs,)).copy()
        )
        self._build_kernel_arrays()
        self._build_event_arrays()
        # the network's own state: where the last run ended (see `state`)
        self._current_state = None

    def __getstate__(self):
        # a pickled network (a sweep worker's, a checkpoint's) leaves its state behind
        attributes = dict(self.__dict__)
        attributes["_current_state"] = None
        return attributes

    def _value(self, name):
        """Attribute `name` (drive, omega, scale, coupling) for broadcasting: an array of
        shape (N,), or of shape (1,) while uniform (no N-sized copy is made)."""
        value = self.__dict__.get(name)
        if isinstance(value, float):
            return np.full(1, value)
        return value

    def _first(self, name):
        """The first neuron's value of attribute `name` (the value of a uniform one)."""
        value = self.__dict__.get(name)
        return value if isinstance(value, float) else float(value[0])

    def _kernel_values(self, name, first_only):
        """A private float64 copy of attribute `name` for the kernels: shape (1,) (the
        first value) if `first_only`, else shape (N,)."""
        value = self.__dict__.get(name)
        if isinstance(value, float):
            return np.full(1 if first_only else self.N, value)
        value = np.asarray(value, dtype=float)
        return value[:1].copy() if first_only else value.copy()

    def _init_closed_form(self, drive, representation, populations):
        """Drive, representation, phase speeds and PTC scales of a theta or LIF network."""
        if drive is None:
            raise ValueError(
                f"drive is required for the {self.model.name} model (a constant "
                "suprathreshold drive, scalar or one value per neuron)"
            )
        if populations is not None:
            raise ValueError(
                "populations is for tabulated models only (model= a PhaseTable or a list of "
                f"them), not for the {self.model.name} model"
            )
        self.populations = None
        # (a float while uniform: read through the local name, not the attribute, which
        # would make the array of shape (N,))
        drive_values = _per_neuron_drive(drive, self.N)
        self.model.check_drive(drive_values)
        self.drive = drive_values
        self.representation = _representation(representation, drive, drive_values)
        self.omega = _per_neuron_map(self.model.omega, drive_values)
        self.scale = _per_neuron_map(self.model.pulse_scale, drive_values)

    def _init_tabulated(self, drive, representation, populations):
        """Populations and phase speeds :math:`\\omega_i = \\tau / T_{p(i)}` (tabulated models)."""
        if drive is not None:
            raise ValueError(
                "drive must be None for a tabulated model: the PhaseTable's rate f(v) already "
                f"holds any constant input (got drive={drive!r})"
            )
        if representation not in ("auto", "phase", "time"):
            raise ValueError(
                f"representation must be 'auto', 'phase' or 'time', got {representation!r}"
            )
        if representation == "phase" and len(self.tables) > 1:
            raise ValueError(
                "representation='phase' needs one phase speed: a tabulated model with one "
                f"population (got {len(self.tables)} tables); use 'auto' or 'time'"
            )
        if populations is None:
            populations = np.zeros(self.N, dtype=np.int64)
        populations = np.asarray(populations)
        if populations.ndim == 0:
            populations = np.full(self.N, populations)
        self.populations = int_array(
            populations, "populations", minimum=0, maximum=len(self.tables) - 1
        ).astype(np.int64)
        if self.populations.shape != (self.N,):
            raise ValueError(
                f"populations must have one entry per neuron ({self.N}), got shape "
                f"{self.populations.shape}"
            )
        self.drive = None
        # one table: one phase speed, so the phase representation (no per-neuron speed
        # or population to load per pulse); several: the time representation
        self.representation = (
            "phase" if len(self.tables) == 1 and representation != "time" else "time"
        )
        periods = np.array([table.period for table in self.tables])
        if len(self.tables) == 1:  # one speed, stored once
            self.omega = float((self.tau / periods)[0])
        else:
            self.omega = self.tau / periods[self.populations]
        self.scale = 1.0

    def _build_kernel_arrays(self):
        """The kernel's ``neurons`` and ``graph`` groups (see `neurosrnn.sparseprop._kernel`)."""
        graph = self.connectivity
        homogeneous = self.representation == "phase"
        if self.tables:
            # few distinct weights: the tables precompute one PTC per weight
            distinct = self._distinct_weights()
            self._tables = (
                kernel_tables(self.tables)
                if distinct is None
                else kernel_tables(self.tables, weights=distinct)
            )
        else:
            self._tables = empty_kernel_tables()
        self._neurons = (
            self.model.code,
            homogeneous,
            self._kernel_values("omega", first_only=homogeneous),
            self._kernel_values("scale", first_only=homogeneous),
            self.model.phase_reset,
            self.model.phase_threshold,
            self.populations if self.tables else np.zeros(1, dtype=np.int64),
            self._tables,
        )
        self._regenerate = isinstance(graph, RegeneratedConnectivity)
        no_synapse_weights = np.zeros(1)
        # one weight per presynaptic neuron, or one for all (shape (1,), see _kernel)
        uniform = isinstance(self.__dict__.get("coupling"), float)
        if self._regenerate:
            presynaptic = (
                graph.weights.astype(float)
                if graph.weights is not None
                else self._kernel_values("coupling", first_only=uniform)
            )
            self._graph = (
                np.zeros(1, dtype=np.int64),
                np.zeros(1, dtype=np.int32),
                no_synapse_weights,
                presynaptic,
                False,
            )
            self._regeneration = (True, graph.seed, graph.K, graph.multapses)
        else:
            weighted = graph.weights is not None
            self._graph = (
                graph.indptr.astype(np.int64),
                graph.indices.astype(np.int32),
                graph.weights.astype(float) if weighted else no_synapse_weights,
                np.zeros(1) if weighted else self._kernel_values("coupling", first_only=uniform),
                weighted,
            )
            self._regeneration = (False, 0, 0, True)
        # targets of the spiking neuron in the memory-free mode (work array)
        self._row = np.zeros(max(self._regeneration[2], 1), dtype=np.int32)
        # duplicate check of the memory-free mode (K-sized, or a mark per neuron below
        # 2^14 neurons; no per-neuron stamp array at large N)
        self._table = duplicate_table(self._regeneration[2], self.N)

    def _distinct_weights(self, most=8):
        """The distinct recurrent and input weights if there are at most `most`, else None.

        A sample of the weights rules out most graphs cheaply; the candidates it leaves
        are checked against all weights (O(n_synapses * most)).
        """
        graph = self.connectivity
        weights = graph.weights if graph.weights is not None else self._value("coupling")
        parts = [np.asarray(weights, dtype=float).ravel()]
        if self._input_graph is not None:
            parts.append(self._input_graph[2])
        candidates = np.unique(np.concatenate([part[:4096] for part in parts]))
        if candidates.size > most:
            return None
        if all(np.all(np.isin(part, candidates)) for part in parts):
            return candidates
        found = np.unique(np.concatenate(parts))
        return found if found.size <= most else None

    def _build_event_arrays(self):
        """Delays and refractory periods in clock units, and the delay mode of the kernel.

        The clock runs in phase units (phase representation: a time ``t`` in tau units is
        ``omega * t`` on the clock) or in tau units (time representation).
        """
        to_clock = (
            self._first("omega") / self.tau if self.representation == "phase" else 1 / self.tau
        )
        self._delay_mode = NO_DELAY
        self._delay_clock = 0.0
        self._synapse_delay_clock = np.zeros(1)
        if isinstance(self.delay, np.ndarray):
            if np.all(self.delay == 0):
                pass
            elif np.all(self.delay == self.delay[0]):
                self._delay_mode = HOMOGENEOUS_DELAY
                self._delay_clock = float(self.delay[0] * to_clock)
            else:
                self._delay_mode = SYNAPSE_DELAYS
                self._synapse_delay_clock = self.delay * to_clock
        elif self.delay is not None:
            self._delay_mode = HOMOGENEOUS_DELAY
            self._delay_clock = float(self.delay * to_clock)
        if self.refractory is None:
            self._refractory_clock = np.zeros(0)
        else:
            self._refractory_clock = self.refractory * to_clock
        self._events = (
            self._delay_mode != NO_DELAY
            or self.refractory is not None
            or self.input_connectivity is not None
        )

    def __repr__(self):
        if self.tables:
            counts = np.bincount(self.populations, minlength=len(self.tables))
            drive = "populations " + ", ".join(
                f"{table.name!r}: {count}" for table, count in zip(self.tables, counts, strict=True)
            )
        elif self.representation == "phase":
            drive = f"drive={self._first('drive'):g}"
        else:
            drive_values = self._value("drive")
            drive = f"drive in [{drive_values.min():g}, {drive_values.max():g}]"
        return (
            f"<SparsePropNetwork {self.model.name}, N={self.N}, {drive}, tau={self.tau:g} s, "
            f"{self.representation} representation{self._repr_events()}, "
            f"graph {self.connectivity!r}>"
        )

    def _repr_events(self):
        """The delays and refractory periods for `__repr__` ('' when there are none)."""
        parts = []
        if isinstance(self.delay, np.ndarray):
            parts.append(f"delays in [{self.delay.min():g}, {self.delay.max():g}] s (per synapse)")
        elif self.delay is not None:
            parts.append(f"delay={self.delay:g} s")
        if self.refractory is not None:
            low, high = self.refractory.min(), self.refractory.max()
            parts.append(
                f"refractory={low:g} s" if low == high else f"refractory in [{low:g}, {high:g}] s"
            )
        if self.input_connectivity is not None:
            parts.append(f"{self.n_inputs} input neurons")
        return "".join(", " + part for part in parts)

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
        coupling = self.__dict__["coupling"]
        if isinstance(coupling, float):  # uniform (see _PerNeuronValues)
            weights = np.full(graph.indices.size, coupling)
        else:
            weights = np.repeat(coupling, np.diff(graph.indptr))
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
            if self.tables:
                phases = self._table_phases(model_state)
            elif self.model.code == 0 and np.any(
                (model_state < -math.pi) | (model_state >= math.pi)
            ):
                raise ValueError("model_state (theta angles) must lie in [-pi, pi)")
            if self.model.code == 1 and np.any(model_state >= 1.0):
                raise ValueError("model_state (normalised LIF voltages) must be below 1")
            if not self.tables:
                phases = self.model.state_to_phase(model_state, self._value("drive"))
        else:
            name = "phases"
        if phases is None:
            keys = self._drawn_keys(np.random.default_rng(seed))
        else:
            # a checked copy of the phases, turned into keys in place
            phases = self.model.check_phases(phases, self.N, name)
            keys = self._keys_in_place(phases, 0, name)
        return SparsePropState(
            keys=keys,
            offset=0.0,
            time_base=0.0,
            time=0.0,
            representation=self.representation,
            tau=self.tau,
            refractory_end=np.full(self.N if self.refractory is not None else 0, -np.inf),
        )

    def _drawn_keys(self, rng):
        """Keys of phases drawn uniformly from [reset, threshold) with `rng`.

        Drawn in chunks straight into the key array (the numbers of one
        ``rng.random(N)`` call, in order), so no temporary of N values is made.
        """
        keys = np.empty(self.N)
        reset, threshold = self.model.phase_reset, self.model.phase_threshold
        for start in range(0, self.N, _DRAW_CHUNK):
            part = keys[start : start + _DRAW_CHUNK]
            rng.random(out=part)
            part *= threshold - reset
            part += reset  # reset + u (threshold - reset)
            self.model.check_phases(part, part.size, "phases")
            self._keys_in_place(part, start, "phases")
        return keys

    def _keys_in_place(self, phases, start, name):
        """Turn the checked `phases` of neurons ``start, start + 1, ..`` into keys at clock 0.

        The key is the distance to threshold :math:`\\phi_{th} - \\phi` (phase
        representation) or the time to reach it, :math:`(\\phi_{th} - \\phi)/\\omega_i`
        (time representation). `phases` is overwritten and returned.
        """
        stop = start + phases.size
        if self.tables:
            phase_min = np.array([table.phase_min for table in self.tables])
            below = phases < phase_min[self.populations[start:stop]]
            if np.any(below):
                raise ValueError(
                    f"{name} must not lie below the phase of each table's v_min (phase_min); "
                    f"{int(np.sum(below))} value(s) below"
                )
        np.subtract(self.model.phase_threshold, phases, out=phases)
        if self.representation == "time":
            omega = self.__dict__["omega"]
            phases /= omega if isinstance(omega, float) else omega[start:stop]
        return phases

    def _check_state(self, state):
        if not isinstance(state, SparsePropState):
            raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
        if state.spent:
            raise ValueError(_spent_message(state))
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
        self._check_state_events(state)

    def _check_state_events(self, state):
        """The refractory ends and pulses in flight of `state` fit this network."""
        n_ends = self.N if self.refractory is not None else 0
        if np.shape(state.refractory_end) != (n_ends,):
            raise ValueError(
                f"state has refractory ends of shape {np.shape(state.refractory_end)}, this "
                f"network needs shape ({n_ends},) "
                + ("(it has refractoriness)" if n_ends else "(it has no refractoriness)")
            )
        arrays = (
            state.pending_arrival,
            state.pending_source,
            state.pending_synapse,
            state.pending_sequence,
        )
        n_pending = np.size(state.pending_arrival)
        if any(np.shape(array) != (n_pending,) for array in arrays):
            raise ValueError("state pending_* arrays must all have one entry per pulse in flight")
        if n_pending == 0:
            return
        if self._delay_mode == NO_DELAY:
            raise ValueError(
                f"state has {n_pending} pulse events in flight, this network has no delays"
            )
        synapse = np.asarray(state.pending_synapse)
        if self._delay_mode == HOMOGENEOUS_DELAY and np.any(synapse != -1):
            raise ValueError(
                "state holds single pulses in flight (per-synapse delays), this network has "
                "one delay for all synapses"
            )
        n_synapses = self._synapse_delay_clock.size
        if self._delay_mode == SYNAPSE_DELAYS and np.any((synapse < 0) | (synapse >= n_synapses)):
            raise ValueError(
                "state holds volleys in flight (one delay for all synapses), this network has "
                "per-synapse delays"
            )
        source = np.asarray(state.pending_source)
        if np.any((source < 0) | (source >= self.N)) or not np.all(
            np.isfinite(state.pending_arrival)
        ):
            raise ValueError("state pending pulses must have sources in [0, N) and finite arrivals")

    def phases(self, state, at=None, *, held=True):
        """Phases of all neurons in `state` at time `at` (seconds; default: state time).

        `at` must not lie beyond the state's next event (pulses in flight are not
        applied). A refractory neuron is at the reset phase (``held=True``), or, with
        ``held=False``, at its *free* phase :math:`\\phi_r - \\omega_i (t_{end} - t)`:
        below the reset by its remaining refractory time, the coordinate in which a
        refractory period is free evolution (used for perturbations).
        """
        self._check_state(state)
        t = state.time if at is None else to_seconds(at, "at") / self.tau
        clock = self._clock_value(state, t)
        if self.representation == "phase":
            phases = self.model.phase_threshold - (state.keys - clock)
        else:
            phases = self.model.phase_threshold - self._value("omega") * (state.keys - clock)
        if self.refractory is not None and held:
            # held at reset while refractory
            phases = np.where(clock < state.refractory_end, self.model.phase_reset, phases)
        return phases

    def _clock_value(self, state, t):
        """The engine clock of `state` at time `t` (tau units)."""
        base = state.time_base - state.time_base_compensation
        if self.representation == "phase":
            return (t - base) * self._first("omega")
        return t - base

    def with_phases(self, state, phases):
        """A copy of `state` whose neurons have the free phases `phases` (see `phases`).

        Time, clock, pulses in flight and spike count stay those of `state`. The
        refractory period of a neuron refractory in `state` moves with its phase (its
        free phase stays :math:`\\phi_r - \\omega_i (t_{end} - t)`); a neuron that is
        not refractory stays so. Used to perturb a state with delays or refractoriness
        (`two_trajectory_exponent`).

        Parameters
        ----------
        state : SparsePropState
        phases : array of shape (N,)
            Free phases, below threshold.

        Returns
        -------
        SparsePropState

        Examples
        --------
        >>> from neurosrnn.sparseprop import balanced_network
        >>> net = balanced_network(100, 10, model="lif", rate=5.0)
        >>> state = net.initial_state(seed=1)
        >>> moved = net.with_phases(state, net.phases(state, held=False) + 1e-3)
        >>> bool(abs(net.phases(moved) - net.phases(state) - 1e-3).max() < 1e-12)
        True
        """
        self._check_state(state)
        phases = np.array(phases, dtype=float)
        if phases.shape != (self.N,) or not np.all(np.isfinite(phases)):
            raise ValueError(f"phases must be {self.N} finite values, got shape {phases.shape}")
        if np.any(phases >= self.model.phase_threshold):
            raise ValueError("phases must lie below the threshold phase")
        clock = self._clock_value(state, state.time)
        distance = self.model.phase_threshold - phases
        keys = clock + (
            distance if self.representation == "phase" else distance / self._value("omega")
        )
        new = state.copy()
        if self.refractory is not None:
            refractory = clock < state.refractory_end
            shift = keys - np.asarray(state.keys)
            new.refractory_end = np.where(
                refractory, state.refractory_end + shift, state.refractory_end
            )
        new.keys = keys
        return new

    def model_state(self, state, at=None):
        """Theta angles (theta model) or normalised voltages (LIF) of all neurons."""
        phases = self.phases(state, at)
        if self.tables:
            return self._table_voltages(phases, self.populations)
        if self.model.code == 0:
            phases = np.maximum(phases, self.model.phase_reset)
        return self.model.phase_to_state(phases, self._value("drive"))

    def _table_phases(self, voltages):
        """Phases of tabulated neurons at `voltages` (`PhaseTable.phase_of` per population)."""
        phases = np.empty(self.N)
        for index, table in enumerate(self.tables):
            members = self.populations == index
            v = voltages[members]
            if np.any((v < table.v_min) | (v >= table.v_threshold)):
                raise ValueError(
                    f"model_state of population {index} ({table.name!r}) must lie in "
                    f"[v_min, v_threshold) = [{table.v_min:g}, {table.v_threshold:g})"
                )
            phases[members] = table.phase_of(v)
        return phases

    def _table_voltages(self, phases, populations):
        """Voltages of tabulated neurons (`PhaseTable.v_of`); neurons on the last axis."""
        voltages = np.empty(np.shape(phases))
        for index, table in enumerate(self.tables):
            members = populations == index
            voltages[..., members] = table.v_of(phases[..., members])
        return voltages

    # ----------------------------------------------------------------- run

    @property
    def state(self):
        """The network's own state: where its last run ended (None before any run).

        `run` without a state continues it *in place*: the run takes this state's heap
        instead of copying it or building a new one, so continuing costs no O(N) time or
        memory (what a network of 10^8 neurons needs), and the state object it started
        from becomes spent (`SparsePropState.spent`): the new result's state replaces it.
        A run from an explicit state also leaves its final state here.

        Assigning a `SparsePropState` checks it and makes the network's own copy of it,
        heaped once here (the assigned object is not modified); assigning None drops the
        network's state and frees its memory. A pickled network leaves its state behind.

        Examples
        --------
        >>> from neurosrnn.sparseprop import balanced_network
        >>> net = balanced_network(1000, 10, seed=1)
        >>> net.state = net.initial_state(seed=2)
        >>> first = net.run(n_spikes=500)   # continues net.state in place
        >>> second = net.run(n_spikes=500)  # from where `first` ended, no copy
        >>> second.state is net.state, first.state.spent
        (True, True)
        """
        return self.__dict__.get("_current_state")

    @state.setter
    def state(self, state):
        if state is None:
            self._current_state = None
            return
        self._check_state(state)
        own = replace(
            state,
            keys=None,
            refractory_end=np.array(state.refractory_end, dtype=float, copy=True),
            pending_arrival=np.array(state.pending_arrival, copy=True),
            pending_source=np.array(state.pending_source, copy=True),
            pending_synapse=np.array(state.pending_synapse, copy=True),
            pending_sequence=np.array(state.pending_sequence, copy=True),
        )
        own._attach_heap(_start_heap(state))
        self._current_state = own

    def run(
        self,
        state=None,
        *,
        duration=None,
        n_spikes=None,
        record_spikes=True,
        sample_neurons=None,
        sample_times=None,
        progress=None,
        input_spikes=None,
        record_pulses=False,
    ):
        """Simulate from `state` until `duration` has elapsed or `n_spikes` have occurred.

        Parameters
        ----------
        state : SparsePropState, optional
            Start state (not modified; its keys are heaped, or its kept heap copied, for
            the run). None continues the network's own state `state` in place (no O(N)
            copy or heap construction; the state object it was becomes spent).
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
        input_spikes : InputSpikes or tuple (indices, times), optional
            Spikes of the input neurons (network built with `input_connectivity`) during
            this run: input neuron indices in ``[0, n_inputs)`` and absolute times in
            seconds (or a brian2 quantity), sorted (`InputSpikes` with ``sort=True``
            sorts), not before ``state.time_seconds``. An input spike at a time up to
            and including the run's stop time is delivered; later ones are ignored (a
            run stopped by `n_spikes` ends at its last spike, so inputs after it are not
            delivered). To continue a run, give each call the inputs of its own interval:
            a run of `duration` ending at ``T`` takes the spikes at ``t <= T``, the next
            one those at ``t > T``; split runs so then equal one long run bit for bit.
        record_pulses : bool
            Keep every pulse's pre- and post-pulse phase (`SparsePropResult.pulses`;
            24 bytes per pulse, K per spike). Theta and LIF networks without delays,
            refractoriness or input neurons; the spikes are the same bit for bit.

        Returns
        -------
        SparsePropResult
            Ctrl-C stops the run after the current chunk of spikes and returns what was
            simulated so far (``interrupted=True``); its state continues exactly. Its
            state is also the network's own state (`state`) from now on.

        Raises
        ------
        ValueError
            No stop condition, negative duration or spike count, bad sample arrays,
            sample times before the state's time, a state from another network or a spent
            one, no state while the network has none of its own, or bad `input_spikes`:
            for a network without input neurons, indices out of ``[0, n_inputs)``, times
            negative, not finite, unsorted or before the state's time.
        RuntimeError
            A runaway zero-delay cascade: more than N spikes at one instant (excitatory
            coupling strong enough to refire neurons without time advancing). Raised
            after at most N spikes at that instant, so in bounded time and memory. After
            an error in an in-place run the network has no state of its own.
        """
        if record_pulses and (self._events or self.model.code == TABULATED):
            raise ValueError(
                "record_pulses=True needs a theta or LIF network without delays, "
                f"refractoriness or input neurons; this one is {self!r}"
            )
        in_place = state is None
        if in_place:
            state = self.state
            if state is None:
                raise ValueError(
                    "state is None, and this network has no state of its own to continue: "
                    "pass a start state (e.g. network.initial_state(seed=1)) or assign one "
                    "to network.state first"
                )
        self._check_state(state)
        stop_time, max_spikes = self._stop_condition(state, duration, n_spikes)
        sampling = self._sampling(sample_neurons, sample_times, state)
        inputs = self._inputs(input_spikes, state)
        started = time.perf_counter()
        run = _KernelRun(
            self,
            state,
            sampling,
            record_spikes=bool(record_spikes),
            inputs=inputs,
            in_place=in_place,
            record_pulses=bool(record_pulses),
        )
        if in_place:  # the run owns the heap now; the state it came from is spent
            self._current_state = None
            _spend(state)
        clamps = clamp_count(self._tables)
        try:
            with (
                self._progress_bar(progress, state, stop_time, n_spikes) as bar,
                _SigintFlag() as sigint,
            ):
                run.advance(max_spikes, stop_time, bar, sigint)
        finally:
            self._warn_clamps(clamp_count(self._tables) - clamps)
        result = self._result(run, state, stop_time, sampling, time.perf_counter() - started)
        self._current_state = result.state
        return result

    def _inputs(self, input_spikes, state):
        """Check `input_spikes` and build the kernel's ``inputs`` group (None: no inputs).

        Times become absolute tau units; a time equal to the state's time up to rounding
        (a few ulp, e.g. ``state.time_seconds``) is accepted.
        """
        input_spikes = _checked_input_spikes(input_spikes)
        if input_spikes is not None and self.input_connectivity is None:
            raise ValueError(
                "input_spikes given, but this network has no input neurons (build it with "
                "input_connectivity=, a Connectivity of shape M -> N)"
            )
        if self.input_connectivity is None:
            return None
        if input_spikes is None:
            input_spikes = InputSpikes(np.zeros(0, dtype=np.int64), np.zeros(0))
        indices, times = input_spikes.indices, input_spikes.times
        if indices.size and indices.max() >= self.n_inputs:
            raise ValueError(
                f"input_spikes indices must lie in [0, n_inputs={self.n_inputs}), got "
                f"{int(indices.max())}"
            )
        earliest = state.time * self.tau
        if times.size and times[0] < earliest - 4 * np.spacing(abs(earliest)):
            raise ValueError(
                f"input_spikes times must not lie before the state's time t = {earliest!r} s "
                f"(the run starts there and only goes forward), got {times[0]!r} s"
            )
        indptr, targets, weights = self._input_graph
        return (
            times / self.tau,
            indices.astype(np.int32),
            indptr,
            targets,
            weights,
            np.zeros(1, dtype=np.int64),
        )

    def _warn_clamps(self, n_clamped):
        """RuntimeWarning when pulses of this run were clamped at a table's v_min."""
        if n_clamped <= 0:
            return
        lowest = ", ".join(f"{table.name!r}: v_min={table.v_min:g}" for table in self.tables)
        warnings.warn(
            f"{n_clamped} pulse(s) of this run were clamped at v_min (inhibition pushed the "
            f"voltage below the table, {lowest}); the result is not exact there: tabulate "
            "with a lower v_min",
            RuntimeWarning,
            stacklevel=3,
        )

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
            n_input_spikes=run.n_input_spikes,
            pulses=run.recorded_pulses(),
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
                run.events[2] if self.refractory is not None else np.zeros(0),
            )
        phases = sampling.kernel[2]
        if self.tables:
            model_samples = self._table_voltages(phases, self.populations[sampling.neurons])
            model_samples[np.isnan(sampling.kernel[2])] = np.nan
            return model_samples
        if self.model.code == 0:
            phases = np.maximum(phases, self.model.phase_reset)
        drive = self._value("drive")
        if drive.size > 1:
            drive = drive[sampling.neurons][None, :]
        model_samples = self.model.phase_to_state(phases, drive)
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
    """The drive: one float if uniform (a scalar), else an array of shape (N,)."""
    drive_array = np.asarray(drive, dtype=float)
    if drive_array.ndim == 0:
        return float(drive_array)
    if drive_array.shape != (N,):
        raise ValueError(
            f"drive must be a scalar or one value per neuron ({N}), got {drive_array.shape}"
        )
    return drive_array


def _per_neuron_map(function, values):
    """`function` (omega or pulse_scale of a model) of a float or array of drives, alike.

    A uniform drive gives a float, evaluated on an array of one element: the same
    arithmetic as one element of an array of N.
    """
    if isinstance(values, float):
        return float(function(np.full(1, values))[0])
    return function(values)


def _representation(representation, drive, drive_array):
    """``"phase"`` or ``"time"``; "auto" is the phase representation for a uniform drive."""
    uniform = isinstance(drive_array, float) or bool(np.all(drive_array == drive_array[0]))
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
        if not np.isfinite(coupling):
            raise ValueError("coupling must be finite")
        return float(coupling)  # uniform: one value (see _PerNeuronValues)
    if coupling.shape != (N,):
        raise ValueError(
            f"coupling must be a scalar or one value per presynaptic neuron ({N}), "
            f"got shape {coupling.shape}"
        )
    if not np.all(np.isfinite(coupling)):
        raise ValueError("coupling must be finite")
    return coupling


def _phase_tables(model):
    """The list of `PhaseTable` of a tabulated `model` (a table or a list), else None."""
    if isinstance(model, PhaseTable):
        return [model]
    if isinstance(model, list | tuple) and model:
        if not all(isinstance(table, PhaseTable) for table in model):
            raise ValueError(
                "model must be 'theta', 'qif', 'lif', a PhaseModel, a PhaseTable or a list of "
                f"PhaseTable; got a list holding {sorted({type(t).__name__ for t in model})}"
            )
        return list(model)
    return None


def _checked_delay(delay, connectivity):
    """``network.delay``: None, a delay (s) for every synapse, or one per synapse (s)."""
    if delay is None:
        return None
    if np.ndim(delay) == 0:
        seconds = to_seconds(delay, "delay", nonnegative=True)
        return None if seconds == 0 else float(seconds)
    if isinstance(connectivity, RegeneratedConnectivity):
        raise ValueError(
            "delay: per-synapse delays need a stored graph (their CSR order); a memory-free "
            "RegeneratedConnectivity takes one delay for all synapses (a scalar time), or "
            "materialize() it first"
        )
    delays = np.array(seconds_array(delay, "delay"), dtype=float)
    n_synapses = int(connectivity.indptr[-1])
    if delays.shape != (n_synapses,):
        raise ValueError(
            f"delay must be a scalar time or one delay per synapse ({n_synapses}, CSR order), "
            f"got shape {delays.shape}"
        )
    if not np.all(np.isfinite(delays)) or np.any(delays < 0):
        bad = delays[~(np.isfinite(delays) & (delays >= 0))][0]
        raise ValueError(f"delay must be finite and >= 0 s for every synapse, got {bad!r}")
    return delays


def _checked_refractory(refractory, N):
    """``network.refractory``: None, or one refractory period per neuron (s)."""
    if refractory is None:
        return None
    if np.ndim(refractory) == 0:
        seconds = to_seconds(refractory, "refractory", nonnegative=True)
        return None if seconds == 0 else np.full(N, float(seconds))
    periods = np.array(seconds_array(refractory, "refractory"), dtype=float)
    if periods.shape != (N,):
        raise ValueError(
            f"refractory must be a scalar time or one period per neuron ({N}), "
            f"got shape {periods.shape}"
        )
    if not np.all(np.isfinite(periods)) or np.any(periods < 0):
        bad = periods[~(np.isfinite(periods) & (periods >= 0))][0]
        raise ValueError(f"refractory must be finite and >= 0 s for every neuron, got {bad!r}")
    return None if np.all(periods == 0) else periods


def _checked_input_graph(input_connectivity, input_coupling, N):
    """``(input_connectivity, kernel arrays (indptr, targets, weights per synapse))``.

    Both None without input neurons (then `input_coupling` must be None too).
    """
    if input_connectivity is None:
        if input_coupling is not None:
            raise ValueError("input_coupling needs input_connectivity (the input neurons' graph)")
        return None, None
    if not isinstance(input_connectivity, Connectivity):
        raise ValueError(
            "input_connectivity must be a stored neurosrnn.connectivity.Connectivity of "
            f"shape M -> N, got {type(input_connectivity).__name__}"
        )
    if input_connectivity.N_post != N:
        raise ValueError(
            f"input_connectivity must project onto the network's {N} neurons (N_post = N), "
            f"got {input_connectivity.N_pre} -> {input_connectivity.N_post}"
        )
    M = input_connectivity.N_pre
    weights = input_connectivity.weights
    if weights is not None and input_coupling is not None:
        raise ValueError(
            "input_connectivity already carries weights; do not also pass input_coupling"
        )
    if weights is None:
        if input_coupling is None:
            raise ValueError(
                "give input weights: either a weighted input_connectivity or input_coupling="
                "(scalar or one value per input neuron)"
            )
        coupling = np.asarray(input_coupling, dtype=float)
        if coupling.ndim == 0:
            coupling = np.full(M, float(coupling))
        if coupling.shape != (M,):
            raise ValueError(
                f"input_coupling must be a scalar or one value per input neuron ({M}), got "
                f"shape {coupling.shape}"
            )
        weights = np.repeat(coupling, np.diff(input_connectivity.indptr))
    weights = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(weights)):
        raise ValueError(
            "input weights (input_connectivity weights or input_coupling) must be finite"
        )
    arrays = (
        input_connectivity.indptr.astype(np.int64),
        input_connectivity.indices.astype(np.int32),
        weights.copy(),
    )
    return input_connectivity, arrays


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

    Set-up copies `state` into the heap, clock and counters (or, `in_place`, takes the
    state's heap and refractory ends as they are); `advance` runs the kernel in
    chunks of spikes (doubling while a chunk takes less than 0.1 s) and commits each
    chunk's spikes, so an interruption between chunks leaves a consistent state.
    """

    def __init__(
        self,
        network,
        state,
        sampling,
        *,
        record_spikes,
        inputs=None,
        in_place=False,
        record_pulses=False,
    ):
        self.network = network
        self.inputs = inputs
        self.record_spikes = record_spikes
        self.heap = state._heap if in_place else _start_heap(state)
        self.clock = np.array([state.offset, state.time_base, state.time_base_compensation])
        self.counters = np.zeros(N_COUNTERS, dtype=np.int64)
        self.counters[SINCE_REBASE] = state.spikes_since_rebase
        self.counters[TOTAL] = state.n_spikes
        regenerate, seed, K, multapses = network._regeneration
        self.regeneration = (regenerate, seed, K, multapses, network._table, network._row)
        self.sampling = sampling.kernel
        self.events = _start_events(network, state, in_place) if network._events else None
        self.start_spikes = self.committed = state.n_spikes
        self.start_time = state.time
        self.interrupted = False
        self._recording = None
        self._indices, self._times = [], []
        self.record_pulses = record_pulses
        self.pulses = np.zeros((0, 3))  # the recorded pulses' buffer (rows: PULSE_COUNT)

    @property
    def n_input_spikes(self):
        """Input spikes delivered in this run."""
        return 0 if self.inputs is None else int(self.inputs[5][INPUT_POINTER])

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
        if self.record_pulses and max_spikes < np.iinfo(np.int64).max:
            self._reserve_pulses(max_spikes)  # one buffer for the whole run when known
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
        done = 0
        while True:
            size = max_spikes - done if self.record_spikes else 1
            self._recording = (
                self.record_spikes,
                np.empty(size, dtype=np.int32),
                np.empty(size),
            )
            arguments = (
                network._neurons,
                network._graph,
                self.regeneration,
                self.heap,
                self.clock,
                self.counters,
                network.rebase_interval,
                max_spikes - done,
                stop_time,
                self._recording,
                self.sampling,
            )
            if self.events is None:
                if self.record_pulses:
                    self._reserve_pulses(max_spikes - done)
                done += _kernel.simulate(*arguments, self.pulses)
            elif self.inputs is None:
                done += _kernel.simulate_events(*arguments, self.events)
            else:
                done += _kernel.simulate_events_inputs(*arguments, self.events, self.inputs)
            self._commit()
            if self.counters[SIMULTANEOUS] >= network.N:
                raise RuntimeError(runaway_cascade_message(network.N, self.time() * network.tau))
            needed = int(self.counters[NEEDED_SPACE])
            if needed == 0:
                return
            # a buffer is full: grow it and go on (nothing was dropped)
            if self.events is None:
                self._reserve_pulses(0, needed)
                self.counters[NEEDED_SPACE] = 0
            else:
                self.events = _grown_events(self.events, needed)

    def _reserve_pulses(self, n_spikes, rows=0):
        """Grow the pulse buffer to hold `rows`, or `n_spikes` more spikes' pulses.

        The mean out-degree of the graph estimates a spike's pulses (exact for a
        fixed out-degree); the kernel stops before a spike that does not fit.
        """
        used = int(self.counters[PULSE_COUNT])
        network = self.network
        mean_degree = network.connectivity.n_synapses / max(network.N, 1)
        rows = max(rows, used + math.ceil(n_spikes * mean_degree))
        if rows <= self.pulses.shape[0]:
            return
        grown = np.empty((max(rows, 2 * self.pulses.shape[0]), 3))
        grown[:used] = self.pulses[:used]
        self.pulses = grown

    def recorded_pulses(self):
        """The recorded pulses (rows in delivery order), or None if not recorded."""
        if not self.record_pulses:
            return None
        return self.pulses[: int(self.counters[PULSE_COUNT])]

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
            **_events_state(self.events, network),
        )
        # the run is over: its heap becomes the state's (keys in neuron order on demand)
        state._attach_heap(self.heap)
        return state


def _start_events(network, state, in_place=False):
    """The kernel's ``events`` group for a run from `state` (copies of its arrays).

    `in_place` (the network's own state): its refractory ends are used, not copied.

    The pulses in flight of the state are in delivery order: the ring buffer takes them
    as they are, the heap of single pulses is built from them.
    """
    n_pending = int(np.size(state.pending_arrival))
    mode = network._delay_mode
    fifo_size = max(2 * n_pending, 1024) if mode == HOMOGENEOUS_DELAY else 1
    fifo = (
        np.zeros(fifo_size, dtype=np.int32),
        np.zeros(fifo_size),
        np.zeros(fifo_size, dtype=np.int64),
    )
    pending_size = 1
    if mode == SYNAPSE_DELAYS:
        largest_row = int(np.max(np.diff(network._graph[0]))) if network.N else 0
        pending_size = max(2 * n_pending, 4 * largest_row, 1024)
    pending = (
        np.zeros(pending_size),
        np.zeros(pending_size, dtype=np.int64),
        np.zeros(pending_size, dtype=np.int64),
        np.zeros(pending_size, dtype=np.int32),
    )
    sizes = np.zeros(3, dtype=np.int64)
    if mode == HOMOGENEOUS_DELAY:
        fifo[0][:n_pending] = state.pending_source
        fifo[1][:n_pending] = state.pending_arrival
        fifo[2][:n_pending] = state.pending_sequence
        sizes[FIFO_COUNT] = n_pending
    elif mode == SYNAPSE_DELAYS:
        pending[0][:n_pending] = state.pending_arrival
        pending[1][:n_pending] = state.pending_sequence
        pending[2][:n_pending] = state.pending_synapse
        pending[3][:n_pending] = state.pending_source
        sizes[PENDING_COUNT] = n_pending
        _kernel.pending_heapify(pending, n_pending)
    refractory_on = network.refractory is not None
    return (
        refractory_on,
        network._refractory_clock,
        np.array(state.refractory_end, dtype=float, copy=None if in_place else True),
        mode,
        network._delay_clock,
        network._synapse_delay_clock,
        fifo,
        pending,
        sizes,
    )


def _grown_events(events, needed):
    """`events` with its full pulse buffer at least doubled and at least `needed` long."""
    fifo, pending, sizes = events[6], events[7], events[8]
    if events[3] == HOMOGENEOUS_DELAY:
        capacity = fifo[0].size
        order = (sizes[FIFO_HEAD] + np.arange(sizes[FIFO_COUNT])) % capacity
        size = max(2 * capacity, needed)
        grown = tuple(np.zeros(size, dtype=array.dtype) for array in fifo)
        for old, new in zip(fifo, grown, strict=True):
            new[: order.size] = old[order]
        sizes[FIFO_HEAD] = 0
        return events[:6] + (grown, pending, sizes)
    size = max(2 * pending[0].size, needed)
    grown = tuple(np.zeros(size, dtype=array.dtype) for array in pending)
    count = sizes[PENDING_COUNT]
    for old, new in zip(pending, grown, strict=True):
        new[:count] = old[:count]
    return events[:7] + (grown, sizes)


def _events_state(events, network):
    """The `SparsePropState` fields of the refractory ends and pulses in flight."""
    if events is None:
        return {}
    fifo, pending, sizes = events[6], events[7], events[8]
    if events[3] == HOMOGENEOUS_DELAY:
        order = (sizes[FIFO_HEAD] + np.arange(sizes[FIFO_COUNT])) % fifo[0].size
        arrival, sequence, source = fifo[1][order], fifo[2][order], fifo[0][order]
        synapse = np.full(order.size, -1, dtype=np.int64)
    else:
        count = sizes[PENDING_COUNT]
        arrival, sequence, synapse, source = (array[:count].copy() for array in pending)
        order = np.lexsort((synapse, sequence, arrival))  # delivery order
        arrival, sequence, synapse, source = (
            arrival[order],
            sequence[order],
            synapse[order],
            source[order],
        )
    return {
        # the run's own array (a copy made by _start_events, or the in-place state's)
        "refractory_end": events[2] if network.refractory is not None else np.zeros(0),
        "pending_arrival": arrival,
        "pending_source": source.astype(np.int32),
        "pending_synapse": synapse.astype(np.int64),
        "pending_sequence": sequence.astype(np.int64),
    }


def _start_heap(state):
    """The kernel's heap for a run from `state`: the state's own heap, copied, if it has one.

    A state returned by a run keeps that run's valid heap, so continuing from it costs
    one sequential copy (the state is not modified by the new run; counted in
    `HEAP_COPIES`) instead of a heap construction; otherwise the heap is built from the
    keys in place (`_heap.heapify_neurons`, counted in `HEAP_BUILDS`): 16 bytes per
    neuron (float64 keys, int32 ids and positions) and no temporary. The network's own
    state continued in place (`SparsePropNetwork.run` without a state) needs neither.
    """
    heap = state._heap
    if heap is not None:
        keys, ids, position = _aligned_heap(heap[0].size)
        keys[:], ids[:], position[:] = heap
        HEAP_COPIES[0] += 1
        return keys, ids, position
    N = state.keys.size
    keys, ids, position = _aligned_heap(N)
    keys[:] = state.keys
    heapify_neurons(keys, ids, position)
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
