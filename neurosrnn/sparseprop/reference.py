"""Plain O(N)-per-event simulation: the exactness reference for SparseProp.

All phases live in one array. At every event the reference looks at every neuron's
threshold time and at every pulse still in flight, takes the earliest, advances all N
phases to that moment and processes it, vectorised with numpy: a spike resets the
spiker (and makes it refractory), and its pulses either act at once (no delay) or are
put in flight; a pulse arrival moves its targets along the phase transition curve
(PTC). Cost O(N + K + pulses in flight) per event (Engelken 2023, NeurIPS,
arXiv:2312.17216, section "conventional event-based simulation").

Semantics (shared with the engine and NEST's ``iaf_psc_delta_ps``)
-------------------------------------------------------------------
- A spike of neuron ``j`` at time ``t`` resets ``j``. With a refractory period
  :math:`t_{ref}` the neuron is held at the reset phase until :math:`t + t_{ref}` and
  pulses arriving at :math:`t_a < t + t_{ref}` are ignored; its next free threshold
  crossing is :math:`t + t_{ref} + T_{free}`.
- A pulse of spike ``(j, t)`` reaches target ``i`` at :math:`t + d` (``d`` of that
  synapse); with no delay it acts at ``t`` itself.
- A pulse arriving at the end of a refractory period is delivered (NEST does the same);
  so is one within ``REFRACTORY_END_TOLERANCE * max(1, |end|)`` (tau units, 2**-40)
  before it, which is how a coincidence exact in real arithmetic (``((t + d) + d) + d``
  against ``(t + d) + 2 d``) can come out in floating point; the refractory period then
  ends at the arrival.
- Tie rule at one instant: pulses arriving at ``t`` are delivered before the spikes
  at ``t``; spikes at equal times fire in order of neuron index. Delayed pulses that
  arrive at ``t`` together (packets of equal arrival, and the pulses of one per-synapse
  packet) act on each target as one pulse of their summed weight (summed in increasing
  order of weight), then the threshold test, as in NEST; a lone volley of one delay
  for all synapses, and zero-delay pulses, act one by one in CSR order, and a pulse
  that lifts a neuron to threshold makes it fire at that instant (after the other
  pulses of that instant).
- Input neurons (``network.input_connectivity``): an input spike at ``t`` sends its
  pulses, of the input graph's weights, to its targets at ``t`` (no delay); they are
  pulses arriving at ``t`` like the delayed ones: a lone input spike acts in synapse
  order, input spikes arriving together with other input spikes or delayed pulses act
  with them as one summed pulse per target; refractory targets ignore them.
- Initial state: no pulses in flight, no neuron refractory.
- More than N spikes at one instant (a zero-delay excitatory cascade that does not end)
  stop the run with `runaway_cascade_message`, after at most N spikes at that instant.

The code shares no arithmetic with the heap kernel (it stores absolute phases, keeps
the pulses in flight in a plain list, and evaluates the PTCs with numpy or the
`PhaseTable` methods), so agreement is an independent check.
"""

from __future__ import annotations

import time

import numpy as np

from neurosrnn.sparseprop._kernel import REFRACTORY_END_TOLERANCE
from neurosrnn.sparseprop.engine import (
    InputSpikes,
    SparsePropNetwork,
    SparsePropResult,
    SparsePropState,
    checked_stop_condition,
    runaway_cascade_message,
)

__all__ = ["simulate_reference"]


def _pulse(model_code, phases, weights, scale, omega, phase_reset, phase_threshold):
    """Closed-form PTC of the theta (code 0) or LIF (code 1) model, vectorised."""
    if model_code == 0:
        phases = np.maximum(phases, phase_reset)
        return 2.0 * np.arctan(np.tan(0.5 * phases) + weights * scale)
    argument = np.exp(-phases / omega) - weights * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        new = np.where(argument > 0, -omega * np.log(np.where(argument > 0, argument, 1.0)), np.inf)
    return np.minimum(new, phase_threshold)


def simulate_reference(network, phases, n_spikes=None, duration=None, input_spikes=None):
    """Simulate `network` from `phases` with the O(N)-per-event algorithm.

    Every event costs O(N): the next event is the earliest of all neurons' threshold
    times and all pulses in flight. Between events neuron ``i`` advances its phase at
    its speed :math:`\\omega_i` (per unit of tau), unless it is refractory (held at
    the reset phase); a pulse of weight ``w`` maps :math:`\\phi \\to g(\\phi; w)`.
    Delays, refractory periods and tabulated models (`PhaseTable`) are read from the
    network (``network.delay``, ``network.refractory``, ``network.tables`` and
    ``network.populations``, where present); see the module docstring for the event
    order.

    Parameters
    ----------
    network : SparsePropNetwork
        The network (a memory-free graph is materialised first).
    phases : array of shape (N,)
        Initial phases (as for `SparsePropNetwork.initial_state`; for a tabulated
        network the normalised phase of each neuron's `PhaseTable`, in
        ``[phase_min, 1)``).
    n_spikes : int, optional
        Number of spikes (>= 0).
    duration : float or brian2 time quantity, optional
        Simulated time (seconds if a float, >= 0). At least one of `n_spikes` and
        `duration` is needed; both are checked exactly as by `SparsePropNetwork.run`.
        Events at exactly the stop time are processed.
    input_spikes : InputSpikes or tuple (indices, times), optional
        Spikes of the network's input neurons (times in seconds from 0, sorted), as for
        `SparsePropNetwork.run`; those after the end of the run are not delivered.

    Returns
    -------
    SparsePropResult
        Spike indices, exact spike times (s), the number of input spikes delivered
        (``n_input_spikes``); ``state`` holds the final phases in its
        ``keys`` as a phase-representation state started at time 0 (so
        ``network.phases(result.state)`` works for phase-representation networks). It
        does not hold the pulses still in flight or the refractory ends: continue a
        delayed or refractory network with the engine, not from this state.

    Raises
    ------
    ValueError
        No stop condition, a negative or non-integer `n_spikes`, a negative
        `duration`, bad phases, or bad `input_spikes` (given to a network without input
        neurons, indices out of range, negative, non-finite or unsorted times).
    RuntimeError
        A runaway zero-delay cascade: more than N spikes at one instant (as in the
        engine, see `neurosrnn.sparseprop._kernel.simulate`).

    Examples
    --------
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(200, 20, model="lif", rate=5.0, memory_free=False)
    >>> phases = net.phases(net.initial_state(seed=1))
    >>> simulate_reference(net, phases, n_spikes=100).n_spikes
    100
    """
    if not isinstance(network, SparsePropNetwork):
        raise ValueError("network must be a SparsePropNetwork")
    duration, limit = checked_stop_condition(duration, n_spikes)
    inputs = _Inputs(network, input_spikes)
    neurons = _Neurons(network, phases)
    graph = network.weighted_connectivity()
    synapse_delays = _synapse_delays(network, graph)
    stop = np.inf if duration is None else duration / network.tau
    started = time.perf_counter()
    spikes = []
    end_time = _event_loop(network, neurons, graph, synapse_delays, stop, limit, spikes, inputs)
    result = _result(network, neurons, end_time, spikes, time.perf_counter() - started)
    result.n_input_spikes = inputs.delivered
    return result


# --------------------------------------------------------------------------- neurons


class _Neurons:
    """Phases, speeds, refractory ends and PTCs of all N neurons (times in tau units).

    Refractory neuron ``i`` (``refractory_end[i] > t``) sits at the reset phase; the
    others advance at ``omega[i]``.
    """

    def __init__(self, network, phases):
        self.network = network
        N = network.N
        tables = getattr(network, "tables", None)
        self.tables = list(tables) if tables is not None and len(tables) > 0 else None
        if self.tables is not None:
            populations = getattr(network, "populations", None)
            populations = np.zeros(N, dtype=np.int64) if populations is None else populations
            self.populations = np.asarray(populations, dtype=np.int64)
            periods = np.array([table.period for table in self.tables], dtype=float)
            # free period in units of tau: omega_i = tau / T_i
            self.omega = network.tau / periods[self.populations]
            self.phase_reset, self.phase_threshold = 0.0, 1.0
            self.phases = _checked_table_phases(phases, self.tables, self.populations, N)
            self.homogeneous = False
        else:
            model = network.model
            self.omega = np.asarray(network.omega, dtype=float)
            self.scale = np.asarray(network.scale, dtype=float)
            self.phase_reset, self.phase_threshold = model.phase_reset, model.phase_threshold
            self.phases = model.check_phases(phases, N).copy()
            self.homogeneous = network.representation == "phase"
        refractory = getattr(network, "refractory", None)
        self.refractory = None
        if refractory is not None and np.any(np.asarray(refractory) > 0):
            self.refractory = np.broadcast_to(
                np.asarray(refractory, dtype=float) / network.tau, (N,)
            ).copy()
        self.refractory_end = np.full(N, -np.inf)
        self.free_period = (self.phase_threshold - self.phase_reset) / self.omega

    def next_threshold(self, t):
        """``(j, step, shift)``: the next neuron to reach threshold after time `t`.

        Ties go to the lowest index. Without refractoriness and with one speed (phase
        representation) the shift is the spiker's distance to threshold, one scalar;
        otherwise `step` is a time and `shift` None (see `advance`).
        """
        phases = self.phases
        if self.refractory is None and self.homogeneous:
            j = int(np.argmax(phases))
            advance = max(self.phase_threshold - phases[j], 0.0)
            return j, advance / self.omega[0], advance
        remaining = (self.phase_threshold - phases) / self.omega
        if self.refractory is not None:
            held = self.refractory_end > t
            remaining = np.where(held, (self.refractory_end - t) + self.free_period, remaining)
        j = int(np.argmin(remaining))
        return j, max(remaining[j], 0.0), None

    def advance(self, t, new_time, step, shift=None):
        """Free evolution of every neuron from `t` to `new_time` = `t` + `step` (in place).

        `shift` (phase representation without refractoriness) is the common phase
        increment; otherwise each free neuron moves by ``omega_i step`` and a neuron
        whose refractory period ends before `new_time` leaves the reset phase at its end.
        """
        if shift is not None:
            self.phases += shift
            return
        if self.refractory is None:
            self.phases += step * self.omega
            return
        held = self.refractory_end > t
        free = ~held
        self.phases[free] += step * self.omega[free]
        released = held & (self.refractory_end <= new_time)
        self.phases[released] = self.phase_reset + (
            (new_time - self.refractory_end[released]) * self.omega[released]
        )

    def reset(self, j, t):
        """Spike of `j` at `t`: back to the reset phase, refractory until ``t + t_ref``."""
        self.phases[j] = self.phase_reset
        if self.refractory is not None and self.refractory[j] > 0:
            self.refractory_end[j] = t + self.refractory[j]

    def listening(self, t, targets):
        """Which of `targets` take a pulse arriving at `t` (refractory ones do not).

        The refractory period of ``i`` ends at ``e_i``; an arrival within
        ``REFRACTORY_END_TOLERANCE * max(1, |e_i|)`` (tau units) before ``e_i`` counts as
        at its end, is taken, and ends the refractory period at `t` (see the module
        docstring).
        """
        if self.refractory is None:
            return np.ones(targets.size, dtype=bool)
        ends = self.refractory_end[targets]
        margin = REFRACTORY_END_TOLERANCE * np.maximum(1.0, np.abs(ends))
        keep = ends - t <= margin
        early = keep & (ends > t)
        self.refractory_end[targets[early]] = t
        return keep

    def receive(self, t, targets, weights):
        """Pulses of `weights` arriving at `targets` at time `t`, in order (in place).

        Refractory targets ignore them (`listening`); pulses to the same neuron
        (multapses) act one after the other.
        """
        keep = self.listening(t, targets)
        targets, weights = targets[keep], weights[keep]
        if np.unique(targets).size == targets.size:
            self.phases[targets] = self._ptc(targets, weights)
            return
        for target, weight in zip(targets, weights, strict=True):
            self.phases[target] = self._ptc(np.array([target]), np.array([weight]))[0]

    def receive_summed(self, t, targets, weights):
        """Pulses arriving together at `t`: one pulse per target, of their summed weight.

        The pulses of each target are summed in increasing order of weight (so the sum
        does not depend on the order of the list); refractory targets ignore them.
        """
        keep = self.listening(t, targets)
        targets, weights = targets[keep], weights[keep]
        if targets.size == 0:
            return
        order = np.lexsort((weights, targets))
        targets, weights = targets[order], weights[order]
        first = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
        sums = np.array([np.sum(part) for part in np.split(weights, first[1:])])
        unique = targets[first]
        self.phases[unique] = self._ptc(unique, sums)

    def _ptc(self, targets, weights):
        """New phases of distinct `targets` after pulses of `weights`."""
        phases = self.phases[targets]
        if self.tables is None:
            model = self.network.model
            return _pulse(
                model.code,
                phases,
                weights,
                self.scale[targets],
                self.omega[targets],
                self.phase_reset,
                self.phase_threshold,
            )
        new = np.empty_like(phases)
        populations = self.populations[targets]
        for population in np.unique(populations):
            mask = populations == population
            new[mask] = self.tables[population].ptc(phases[mask], weights[mask])
        return np.minimum(new, self.phase_threshold)


def _checked_table_phases(phases, tables, populations, N):
    """Phases of a tabulated network as a float array, in ``[phase_min, 1)``, or ValueError."""
    phases = np.array(phases, dtype=float)
    if phases.ndim == 0:
        phases = np.full(N, float(phases))
    if phases.shape != (N,):
        raise ValueError(f"initial_phases must have one entry per neuron ({N}), got {phases.shape}")
    phase_min = np.array([table.phase_min for table in tables], dtype=float)[populations]
    bad = ~np.isfinite(phases) | (phases >= 1.0) | (phases < phase_min)
    if np.any(bad):
        raise ValueError(
            "initial_phases of a tabulated network must be finite and lie in "
            f"[phase_min, 1) of each neuron's table; {int(bad.sum())} value(s) outside, "
            f"e.g. {phases[bad][0]!r}"
        )
    return phases


def _synapse_delays(network, graph):
    """Delays in tau units: None (no delay), a float, or one per synapse in CSR order."""
    delay = getattr(network, "delay", None)
    if delay is None:
        return None
    delay = np.asarray(delay, dtype=float)
    if delay.ndim == 0:
        return float(delay) / network.tau if delay > 0 else None
    if delay.shape != graph.indices.shape:
        raise ValueError(
            f"network.delay must be a scalar or one delay per synapse ({graph.indices.size}), "
            f"got shape {delay.shape}"
        )
    return delay / network.tau


# --------------------------------------------------------------------------- event loop


class _Inputs:
    """Input spikes (times in tau units) and the input graph's targets and weights.

    `next_time` is the time of the next undelivered input spike (inf when none is
    left); `take` returns the targets and weights of all input spikes at that time.
    """

    def __init__(self, network, input_spikes):
        self.times = np.zeros(0)
        self.sources = np.zeros(0, dtype=np.int64)
        self.delivered = 0
        if input_spikes is None:
            return
        graph = getattr(network, "input_connectivity", None)
        if graph is None:
            raise ValueError("input_spikes given, but the network has no input neurons")
        if not isinstance(input_spikes, InputSpikes):
            input_spikes = InputSpikes(*input_spikes)
        M = graph.N_pre
        if input_spikes.indices.size and input_spikes.indices.max() >= M:
            raise ValueError(f"input_spikes indices must lie in [0, {M})")
        self.times = input_spikes.times / network.tau
        self.sources = input_spikes.indices
        self.indptr, self.indices = graph.indptr, graph.indices
        if graph.weights is not None:
            self.weights = np.asarray(graph.weights, dtype=float)
        else:
            per_input = np.broadcast_to(np.asarray(network.input_coupling, dtype=float), (M,))
            self.weights = per_input[np.repeat(np.arange(M), np.diff(graph.indptr))]

    def next_time(self):
        return self.times[self.delivered] if self.delivered < self.times.size else np.inf

    def take(self):
        """``(targets, weights, count)`` of the input spikes at `next_time`, in order."""
        now = self.times[self.delivered]
        end = self.delivered
        while end < self.times.size and self.times[end] == now:
            end += 1
        rows = [
            np.arange(self.indptr[m], self.indptr[m + 1])
            for m in self.sources[self.delivered : end]
        ]
        synapses = np.concatenate(rows)
        count = end - self.delivered
        self.delivered = end
        return self.indices[synapses], self.weights[synapses], count


class _Pulses:
    """Pulses in flight: packets ``(arrival, spike number, targets, weights)``.

    One packet per spike and distinct arrival time; the next packet is the earliest
    arrival, and among equal arrivals the earliest spike (a linear scan).
    """

    def __init__(self):
        self.packets = []

    def __bool__(self):
        return bool(self.packets)

    def earliest(self):
        """Index and arrival time of the next packet."""
        best = min(range(len(self.packets)), key=lambda k: self.packets[k][:2])
        return best, self.packets[best][0]

    def emit(self, t, spike_number, targets, weights, delays):
        """Put the pulses of spike `spike_number` at `t` in flight (CSR order kept)."""
        if np.ndim(delays) == 0:
            self.packets.append((t + delays, spike_number, targets, weights))
            return
        arrivals = t + delays
        for arrival in np.unique(arrivals):
            same = arrivals == arrival
            self.packets.append((float(arrival), spike_number, targets[same], weights[same]))


def _event_loop(network, neurons, graph, delays, stop, limit, spikes, inputs):
    """Process events until `limit` spikes or time `stop` (tau units); return the end time.

    Appends ``(neuron, time)`` to `spikes`. Raises RuntimeError before the (N + 1)-th
    spike at one instant (a runaway cascade).
    """
    indptr, indices, synapse_weights = graph.indptr, graph.indices, graph.weights
    pulses = _Pulses()
    t = 0.0
    instant_spikes = 0  # spikes after the first one at the current instant
    while len(spikes) < limit:
        j, step, shift = neurons.next_threshold(t)
        spike_time = t + step
        packet_arrival = pulses.earliest()[1] if pulses else np.inf
        arrival = min(packet_arrival, inputs.next_time())
        if arrival <= spike_time:  # pulses at an instant come before its spikes
            if arrival > stop:
                break
            if arrival > t:
                instant_spikes = -1
                neurons.advance(t, arrival, arrival - t)
                t = arrival
            # everything arriving now: packets in flight and input spikes
            now = [k for k, other in enumerate(pulses.packets) if other[0] == arrival]
            parts = [pulses.packets[k] for k in now]
            for k in reversed(now):
                pulses.packets.pop(k)
            n_inputs = 0
            if inputs.next_time() == arrival:
                input_targets, input_weights, n_inputs = inputs.take()
                parts.append((arrival, -1, input_targets, input_weights))
            targets = np.concatenate([part[2] for part in parts])
            weights = np.concatenate([part[3] for part in parts])
            if len(now) + n_inputs == 1 and (n_inputs == 1 or np.ndim(delays) == 0):
                # one volley (one delay for all synapses) or one input spike: in order
                neurons.receive(t, targets, weights)
            else:
                # the pulses of one spike (per-synapse delays), or of several volleys or
                # input spikes arriving together: summed per target, then the threshold
                neurons.receive_summed(t, targets, weights)
            continue
        if spike_time > stop:
            break
        if step > 0:
            instant_spikes = 0
        elif spikes or instant_spikes < 0:
            instant_spikes += 1
            if instant_spikes >= network.N:
                raise RuntimeError(runaway_cascade_message(network.N, t * network.tau))
        # free evolution up to the spike, reset, pulses to the targets
        neurons.advance(t, spike_time, step, shift)
        t = spike_time
        spikes.append((j, t))
        neurons.reset(j, t)
        start, end = indptr[j], indptr[j + 1]
        targets, weights = indices[start:end], synapse_weights[start:end]
        if delays is None:
            neurons.receive(t, targets, weights)
        else:
            synapse = delays if np.ndim(delays) == 0 else delays[start:end]
            # (zero-delay pulses of a per-synapse delay arrive now: delivered next)
            pulses.emit(t, len(spikes) - 1, targets, weights, synapse)
    else:
        return t
    if np.isfinite(stop):
        neurons.advance(t, stop, stop - t)
        return stop
    return t


def _result(network, neurons, end_time, spikes, wall_time):
    """The `SparsePropResult`, with the final phases as a phase-representation state."""
    spike_indices = np.array([j for j, _ in spikes], dtype=np.int32)
    spike_times = np.array([t for _, t in spikes], dtype=float)
    final = SparsePropState(
        keys=neurons.phase_threshold - neurons.phases,
        offset=0.0,
        time_base=end_time,
        time=end_time,
        n_spikes=len(spikes),
        representation="phase",
        tau=network.tau,
    )
    return SparsePropResult(
        spike_indices=spike_indices,
        spike_times=spike_times * network.tau,
        state=final,
        start_time=0.0,
        stop_time=end_time * network.tau,
        n_spikes=len(spikes),
        N=network.N,
        wall_time=wall_time,
    )
