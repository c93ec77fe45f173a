"""Exact event-based gradients of spike-time losses through the SparseProp engine.

A SparseProp network (theta or LIF neurons, delta pulses, no delays) is a composition of
closed-form maps between spikes, so a loss on its spike times has an exact gradient
wherever the spike order is locally constant in the parameters (Wunderlich & Pehle
2021, EventProp; Engelken 2023, SparseProp). This module computes it with one adjoint
(reverse) sweep over the recorded spikes, at O(K) work per spike.

Forward model (time representation, time in units of tau)
----------------------------------------------------------
Every neuron ``i`` carries its next free threshold arrival, the *key* :math:`T_i`; its
phase at time ``t`` is :math:`\\phi_i(t) = \\phi_{th} - \\omega_i (T_i - t)`. Spike ``s``
of neuron :math:`j` happens at :math:`t_s = T_j`; then

- reset: :math:`T_j \\leftarrow t_s + (\\phi_{th} - \\phi_r)/\\omega_j`;
- each target ``i`` (synapse ``k``, weight :math:`w_k`): the pre-pulse phase
  :math:`u = \\phi_{th} - \\omega_i (T_i - t_s)` jumps to :math:`g(u; c_k)`, with
  :math:`c_k = w_k/\\sqrt{I_i}` (theta) or :math:`c_k = -w_k/(1 + I_i)` (LIF), and
  :math:`T_i \\leftarrow t_s + (\\phi_{th} - g(u; c_k))/\\omega_i`.

Adjoint sweep
-------------
With :math:`\\bar T_i = \\partial L/\\partial T_i` and :math:`d = g'(u)`, a spike is
undone target by target (reverse order), then the reset, then :math:`t_s = T_j`:

.. math::

    \\bar T_i^{old} = d\\,\\bar T_i, \\qquad
    \\bar t_s \\mathrel{+}= (1 - d)\\,\\bar T_i, \\qquad
    \\bar c_k = -\\bar T_i\\,\\frac{\\partial g/\\partial c}{\\omega_i}, \\qquad
    \\bar\\omega_i \\mathrel{+}= \\bar T_i \\Big[\\frac{d (\\phi_{th} - u)
    - (\\phi_{th} - g)}{\\omega_i^2} - \\frac{\\partial g/\\partial\\omega}{\\omega_i}\\Big],

    \\bar t_s \\mathrel{+}= \\bar T_j, \\qquad
    \\bar\\omega_j \\mathrel{-}= \\bar T_j (\\phi_{th} - \\phi_r)/\\omega_j^2, \\qquad
    \\bar T_j^{old} = \\bar t_s,

where :math:`\\bar t_s` starts at :math:`\\partial L/\\partial t_s` (spike-time and
readout losses). Neurons the spike does not touch keep their adjoint. This is the
transposed single-spike Jacobian of Monteforte & Wolf (2010) written on keys: in phase
variables, :math:`\\bar\\phi = -\\bar T/\\omega`, it is the recursion
:math:`a_{s-1} = D_s^T a_s - (\\partial L/\\partial t_s)\\, e_{j}/\\omega_j`. The sum
:math:`\\sum_i \\bar T_i` is conserved between loss injections (the time-shift
direction). Weight, drive and coupling gradients follow by the chain rule through
:math:`c_k`, :math:`\\omega_i(I_i)`, the pulse scale and the initial state.

Pre-pulse phases, memory and cost
---------------------------------
The reverse sweep needs, for every pulse, the target's phase ``u`` before it, its phase
``g`` after it and the pre-pulse *base* :math:`b = \\tan(u/2)` (theta) or
:math:`e^{-u/\\omega}` (LIF), the variable in which pulses add
(`phase_models.pulse_phase_and_base`): every derivative of the pulse is then a rational
function of stored numbers (no ``tan`` or ``exp`` in the sweep). The forward pass is the
engine's `SparsePropNetwork.run` in segments of ``checkpoint_every`` spikes (default
``max(N // 10, 64)``), and the phases at each segment start are kept (a checkpoint, N
floats). A segment's ``(u, g, b)`` come from one of two places:

- **recorded** by the engine during the forward run (``run(record_pulses=True)``,
  24 bytes per pulse), for the segments that fit in ``pulse_memory`` bytes (default
  `PULSE_MEMORY`, 256 MiB: about 10^5 spikes at K = 100), from the first on. They are
  the engine's own numbers, so the sweep differentiates exactly the trajectory it
  simulated, and no work is repeated: the backward pass is the sweep alone.
- **replayed** from the segment's checkpoint along the recorded spike order (no heap:
  O(K) per spike, the PTC again), for the segments after the budget, into one
  segment's buffer (24 K M bytes for M spikes). The replay's spike times are compared
  with the engine's (a `RuntimeError` if they differ by more than ``1e-9`` relative: a
  tie or rounding changed the order), and starting each segment from the engine's
  state keeps rounding differences from growing in chaotic networks.

A memory-free graph is taken in the engine's pulse order (`RegeneratedConnectivity.
draw_order`; dL/dw is placed in the sorted CSR order of `weighted_connectivity`).
Memory: 12 bytes per spike (index and time) plus ``8 N`` bytes per checkpoint (about 80
bytes per spike at the default interval), the recorded pulses (at most ``pulse_memory``)
plus one replayed segment (``24 K M``), and ``16 N`` for the adjoint: it grows with the
number of spikes (24 K bytes per recorded one), never with N times the spikes. Work: the
engine run (recording costs little: at N = 10^4, K = 100 about 0.1 us per spike plus the
page faults of fresh memory), one sweep, and one replay per segment beyond the budget.
In large networks (N >= 2^18) the kernels prefetch a spike's targets before working on
them, so that their random accesses overlap; the sweep keeps its per-neuron adjoint in
one 16-byte row.

Chaos and truncation
--------------------
In a chaotic network the adjoint grows backwards like :math:`e^{\\lambda_1 (T - t)}`
(cf. Engelken 2023, NeurIPS, "Gradient flossing"); `gradient_growth` measures that
rate next to :math:`\\lambda_1` from `lyapunov_spectrum`. ``window`` or
``window_spikes`` truncate the sweep to the last seconds or spikes of the run (the
state at the window start is then held fixed, and loss terms on earlier spike times
are dropped).

Scope
-----
Theta and LIF networks, homogeneous (phase representation) or per-neuron drive,
stored or memory-free graphs, with or without input neurons. Delays, refractoriness
and tabulated models raise a ValueError.

Input neurons
-------------
An input spike (``input_spikes=``, as for `SparsePropNetwork.run`) delivers its pulses
at a fixed time :math:`t_m`, so its reverse step is that of a recurrent pulse without
the spike-time terms: :math:`\\bar T_i^{old} = d\\,\\bar T_i` (in phases,
:math:`\\delta\\phi_i^+ = d_i\\,\\delta\\phi_i^- + (\\partial g/\\partial c)\\,\\delta c`),
with the same :math:`\\bar c`, :math:`\\bar\\omega` and pulse-scale terms; dL/dw of an
input synapse is accumulated like ``weights``. The replay follows the engine's order:
the inputs at an instant act before the network spikes at it; a lone input spike acts
pulse by pulse in synapse order, input spikes at one time as one pulse per target of
their summed weight (summed in the engine's order). A LIF pulse that lifts a neuron to
threshold fires it at the pulse's time (slope 0: its spike time does not move); a later
pulse of that instant with a weight <= 0 (inhibition, a zero weight, or the rounding of
the PTC's round trip) moves it back below threshold, and it fires just after the
instant, still after the instant's inputs. A network spike of a neuron not lifted to
threshold at that instant that falls on an input time (within `REPLAY_TOLERANCE`) has
no locally constant order: a RuntimeError, as are two input times closer than that but
distinct (a ValueError before any work).

References
----------
Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).
Wunderlich T. C., Pehle C. (2021) Event-based backpropagation can compute exact
gradients for spiking neural networks. Sci. Rep. 11:12829.
Monteforte M., Wolf F. (2010) Dynamical entropy production in spiking neuron networks
in the balanced state. Phys. Rev. Lett. 105:268104.
Engelken R. (2023) Gradient flossing: improving gradient descent through dynamic
control of Jacobians. NeurIPS 36.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numba
import numpy as np

from neurosrnn.sparseprop._heap import PREFETCH_FROM
from neurosrnn.sparseprop._heap import prefetch as prefetch_line
from neurosrnn.sparseprop.engine import InputSpikes, SparsePropNetwork, SparsePropState
from neurosrnn.sparseprop.phase_models import THETA, pulse_phase, pulse_phase_and_base
from neurosrnn.sparseprop.topology import RegeneratedConnectivity
from neurosrnn.units import seconds_array, to_seconds
from neurosrnn.validation import check_int, int_array

__all__ = [
    "GradientResult",
    "GradientGrowth",
    "LeakyReadout",
    "SpikeLoss",
    "spike_gradients",
    "gradient_growth",
    "spike_time_loss",
    "first_spike_cross_entropy",
    "readout_mse",
    "readout_cross_entropy",
]

#: Default of `spike_gradients`' ``pulse_memory``: bytes of pulses (24 each) that the
#: forward run records for the sweep, which then needs no replay of those segments.
PULSE_MEMORY = 2**28
#: Largest relative difference (to ``max(1, |t|)``, tau units) allowed between the
#: replayed and the engine's spike times before the replay counts as diverged.
REPLAY_TOLERANCE = 1e-9
# an adjoint that grows by more than this over the sweep triggers a warning
_GROWTH_WARNING = 1e8
# float64 values per 4 KiB memory page
_PAGE_FLOATS = 512
# networks from `_heap.PREFETCH_FROM` (2^18) neurons on prefetch a spike's targets first
# (`_touch_rows`), as the forward kernels do; below it the per-neuron arrays sit in the
# core's caches and the extra pass only costs (measured when the pass loaded: N = 10^4:
# sweep 1.24 against 0.96 us/spike, 10^5: 2.1 against 1.7; 10^6: 2.5-3x faster with
# it; hints instead of loads: 1.3x more at 10^6)
_PARAMETERS = ("weights", "coupling", "drive", "readout_weights", "initial_phases")
_INPUT_PARAMETERS = ("input_weights", "input_coupling")


# --------------------------------------------------------------------------- kernels


@numba.njit(cache=True, inline="always")
def _pulse_slopes(code, base, u, new_phase, weight, scale_i, omega_i, phase_threshold):
    """``(g', dg/dc, dg/domega)`` of one pulse from pre-phase `u` to `new_phase`.

    The derivatives of `neurosrnn.sparseprop.phase_models` written as rational functions
    of the pre-pulse `base` of `phase_models.pulse_phase_and_base` (:math:`\\tan(u/2)` or
    :math:`e^{-u/\\omega}`): no ``tan`` or ``exp`` here, and one division (within an ulp
    of the quotients of `phase_models`). A LIF pulse clamped at threshold is flat in
    everything.
    """
    if code == THETA:
        v = base + weight * scale_i
        r = 1.0 / (1.0 + v * v)
        return (1.0 + base * base) * r, 2.0 * r, 0.0
    if new_phase >= phase_threshold:  # the pulse crossed threshold: fires now
        return 0.0, 0.0, 0.0
    r = 1.0 / (base - weight * scale_i)
    slope = base * r
    return slope, -omega_i * r, (new_phase - u * slope) / omega_i


@numba.njit(cache=True, inline="always")
def _pulse_terms(code, u, weight, scale_i, omega_i, phase_threshold):
    """``(g, g', dg/dc, dg/domega)`` of one pulse at pre-phase `u` (LIF clamp: all flat)."""
    new_phase, base = pulse_phase_and_base(code, u, weight, scale_i, omega_i, phase_threshold)
    slope, dg_dc, dg_domega = _pulse_slopes(
        code, base, u, new_phase, weight, scale_i, omega_i, phase_threshold
    )
    return new_phase, slope, dg_dc, dg_domega


@numba.njit(cache=True, inline="always")
def _touch_rows(column, speeds, homogeneous, indices, low, high):
    """Prefetch ``column[i]`` (and ``speeds[i]`` unless `homogeneous`) for the targets first.

    Hints (`_heap.prefetch`), not loads: they hold up no later instruction, so the misses
    of all targets overlap, while in the pulse loop each target's load would wait behind
    the previous target's arithmetic. The forward kernels do the same
    (`_kernel._touch`). `column` and `speeds` may be strided views (a column of a 2-D
    array).
    """
    for k in range(low, high):
        i = indices[k]
        prefetch_line(column, i)
        if not homogeneous:
            prefetch_line(speeds, i)


@numba.njit(cache=True)
def _replay(
    code,
    homogeneous,
    prefetch,
    neurons,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    weights,
    keys,
    spiker,
    engine_times,
    first,
    last,
    previous_time,
    store,
    pulses,
    replay_times,
):
    """Replay spikes ``first .. last-1`` on `keys` (in place) along the recorded order.

    Mirrors the engine's arithmetic in the time representation: the spike time is the
    spiker's key (not earlier than the previous spike), the spiker is reset, then each
    target in CSR order takes the PTC. `neurons` holds ``(omega, scale, domega/dI,
    dscale/dI)`` per neuron (row 0 for all when `homogeneous`); with `prefetch` a spike's
    targets are prefetched before the pulses (`_touch_rows`). With `store`, each
    pulse's pre- and post-pulse phases and pre-pulse base (`pulse_phase_and_base`) go to
    ``pulses[n] = (u, g, b)`` (segment order) and
    the spike times to `replay_times[s - first]`. Returns ``(largest relative time
    error, first spike index that failed or -1, last spike time)``; a failure is a time
    off by more than `REPLAY_TOLERANCE` or a target overdue (its key before the spike
    time: it should have fired first).
    """
    worst = 0.0
    failed = -1
    position = 0
    t_previous = previous_time
    span = phase_threshold - phase_reset
    omega_i, scale_i = neurons[0, 0], neurons[0, 1]
    for s in range(first, last):
        j = spiker[s]
        t = keys[j]
        if t < t_previous:
            t = t_previous
        reference = engine_times[s]
        error = abs(t - reference) / max(1.0, abs(reference))
        if error > worst:
            worst = error
        if error > 1e-9 and failed < 0:
            failed = s
        if store:
            replay_times[s - first] = t
        keys[j] = t + span / (omega_i if homogeneous else neurons[j, 0])
        low, high = indptr[j], indptr[j + 1]
        if prefetch:
            _touch_rows(keys, neurons[:, 0], homogeneous, indices, low, high)
        for k in range(low, high):
            i = indices[k]
            if not homogeneous:
                omega_i, scale_i = neurons[i, 0], neurons[i, 1]
            key = keys[i]
            if key < t - 1e-9 * max(1.0, abs(t)) and failed < 0:
                failed = s
            u = phase_threshold - omega_i * (key - t)
            if code == THETA and u < phase_reset:
                u = phase_reset
            new_phase, base = pulse_phase_and_base(
                code, u, weights[k], scale_i, omega_i, phase_threshold
            )
            if store:
                pulses[position, 0] = u
                pulses[position, 1] = new_phase
                pulses[position, 2] = base
                position += 1
            keys[i] = t + (phase_threshold - new_phase) / omega_i
        t_previous = t
    return worst, failed, t_previous


@numba.njit(cache=True)
def _reverse(
    code,
    homogeneous,
    prefetch,
    neurons,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    weights,
    spiker,
    time_adjoint,
    first,
    last,
    pulses,
    adjoint,
    weight_adjoint,
    slot,
):
    """Sweep the adjoint back over spikes ``last-1 .. first`` (see the module docstring).

    `pulses` holds the ``(u, g, b)`` rows stored by `_replay` for this stretch;
    `time_adjoint[s]` is dL/dt_s (tau units). ``adjoint[i] = (dL/dT_i, drive part)``
    is updated in place: column 0 is the key adjoint, column 1 collects
    :math:`\\bar\\omega_i\\,d\\omega_i/dI_i + \\bar s_i\\,ds_i/dI_i` (the drive gradient
    before the initial-state terms; one 16-byte row per neuron, so a target costs one
    cache line); `weight_adjoint` (dL/dw per synapse) is added to, at synapse ``k``, or,
    with a non-empty `slot` (a memory-free graph taken in draw order,
    `RegeneratedConnectivity.draw_order`), at ``indptr[j] + slot[k]`` (sorted CSR order).
    With `prefetch`, as in `_replay`. Returns the largest absolute key adjoint seen (for
    growth diagnostics).
    """
    in_draw_order = slot.shape[0] > 0
    sign = 1.0 if code == THETA else -1.0
    span = phase_threshold - phase_reset
    position = 0
    for s in range(first, last):
        j = spiker[s]
        position += indptr[j + 1] - indptr[j]
    largest = 0.0
    omega_i, scale_i = neurons[0, 0], neurons[0, 1]
    domega_i, dscale_i = neurons[0, 2], neurons[0, 3]
    inverse_i = 1.0 / omega_i  # products, not quotients, in the pulse loop
    for s in range(last - 1, first - 1, -1):
        j = spiker[s]
        time_bar = time_adjoint[s]
        low, high = indptr[j], indptr[j + 1]
        if prefetch:
            _touch_rows(adjoint[:, 0], neurons[:, 0], homogeneous, indices, low, high)
        for k in range(high - 1, low - 1, -1):
            position -= 1
            i = indices[k]
            if not homogeneous:
                omega_i, scale_i = neurons[i, 0], neurons[i, 1]
                domega_i, dscale_i = neurons[i, 2], neurons[i, 3]
                inverse_i = 1.0 / omega_i
            u = pulses[position, 0]
            new_phase = pulses[position, 1]
            slope, dg_dc, dg_domega = _pulse_slopes(
                code,
                pulses[position, 2],
                u,
                new_phase,
                weights[k],
                scale_i,
                omega_i,
                phase_threshold,
            )
            bar = adjoint[i, 0]
            adjoint[i, 0] = slope * bar
            time_bar += (1.0 - slope) * bar
            c_bar = -bar * dg_dc * inverse_i
            weight_adjoint[low + slot[k] if in_draw_order else k] += c_bar * sign * scale_i
            omega_bar = (
                bar
                * inverse_i
                * (
                    (slope * (phase_threshold - u) - (phase_threshold - new_phase)) * inverse_i
                    - dg_domega
                )
            )
            adjoint[i, 1] += omega_bar * domega_i + c_bar * sign * weights[k] * dscale_i
        bar = adjoint[j, 0]
        time_bar += bar
        omega_j = omega_i if homogeneous else neurons[j, 0]
        domega_j = domega_i if homogeneous else neurons[j, 2]
        adjoint[j, 1] -= bar * span / (omega_j * omega_j) * domega_j
        adjoint[j, 0] = time_bar
        if abs(time_bar) > largest:
            largest = abs(time_bar)
    return largest


# --------------------------------------------------------------------------- input kernels


@numba.njit(cache=True)
def _tied_inputs(in_indptr, in_indices, in_weights, input_sources, m0, m1):
    """The pulses of the tied input spikes ``m0 .. m1-1`` in the engine's summation order.

    Returns ``(synapses, targets, weights)`` ordered by target, then weight (the order in
    which the engine sums same-instant pulses into one per target).
    """
    count = 0
    for m in range(m0, m1):
        count += in_indptr[input_sources[m] + 1] - in_indptr[input_sources[m]]
    synapses = np.empty(count, dtype=np.int64)
    targets = np.empty(count, dtype=np.int64)
    weights = np.empty(count)
    n = 0
    for m in range(m0, m1):
        source = input_sources[m]
        for k in range(in_indptr[source], in_indptr[source + 1]):
            synapses[n] = k
            targets[n] = in_indices[k]
            weights[n] = in_weights[k]
            n += 1
    by_weight = np.argsort(weights, kind="mergesort")
    by_target = np.argsort(targets[by_weight], kind="mergesort")
    order = by_weight[by_target]
    return synapses[order], targets[order], weights[order]


@numba.njit(cache=True, inline="always")
def _replay_pulse(code, omega, scale, phase_reset, phase_threshold, keys, lifted, i, weight, t):
    """One pulse of `weight` on neuron ``i`` at time `t`: ``(pre-pulse phase, overdue)``.

    A pulse that lifts ``i`` to threshold records `t` in ``lifted[i]``; a later pulse at
    the same instant that moves it back below threshold (a non-positive weight: zero,
    rounding, inhibition) does not erase it, since the neuron's next spike still follows
    that instant's inputs whatever the parameters.
    """
    key = keys[i]
    overdue = key < t - REPLAY_TOLERANCE * max(1.0, abs(t))
    u = phase_threshold - omega[i] * (key - t)
    if code == THETA and u < phase_reset:
        u = phase_reset
    new_phase = pulse_phase(code, u, weight, scale[i], omega[i], phase_threshold)
    keys[i] = t + (phase_threshold - new_phase) / omega[i]
    if new_phase >= phase_threshold:
        lifted[i] = t
    return u, overdue


@numba.njit(cache=True, inline="always")
def _free_tie(lifted_at, event_time, reference):
    """Whether a spike at `reference` ties with an input event at `event_time` although
    its neuron was not lifted to threshold at that instant (all within `REPLAY_TOLERANCE`).
    """
    if abs(event_time - reference) > REPLAY_TOLERANCE * max(1.0, abs(reference)):
        return False
    return abs(lifted_at - event_time) > REPLAY_TOLERANCE * max(1.0, abs(event_time))


@numba.njit(cache=True)
def _replay_inputs(
    code,
    omega,
    scale,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    weights,
    in_indptr,
    in_indices,
    in_weights,
    input_sources,
    event_start,
    event_times,
    event_end,
    keys,
    lifted,
    spiker,
    engine_times,
    first,
    last,
    previous_time,
    store,
    pre_phase,
    replay_times,
):
    """`_replay` with input events merged in: the events ``e < event_end[s]`` act before
    spike ``s`` (inputs first at one instant), a lone input spike pulse by pulse in
    synapse order, tied ones (one time) as one summed pulse per target.

    ``lifted[i]`` is the last time at which a pulse lifted neuron ``i`` to threshold
    (``-inf``: none since its last spike). Such a neuron fires at that instant, or just
    after it when a same-instant pulse of weight <= 0 moved it back below threshold (in
    floating point, even a zero-weight LIF pulse can move it by an ulp, exactly as in
    the engine); either way its spike follows the instant's inputs for all parameters
    near these, so only a spike of a neuron *not* lifted at an input event's instant
    that falls on that event counts as a tie. Returns ``(largest relative time error,
    first failed spike or -1, first spike of a free neuron tied with an input event or
    -1, last time, number of stored phases)``.
    """
    worst = 0.0
    failed = -1
    tied = -1
    position = 0
    t_previous = previous_time
    span = phase_threshold - phase_reset
    n_events = event_times.shape[0]
    e = event_end[first - 1] if first > 0 else 0
    for s in range(first, last):
        while e < event_end[s]:
            te = event_times[e]
            if te > t_previous:
                t_previous = te
            m0, m1 = event_start[e], event_start[e + 1]
            if m1 - m0 == 1:
                source = input_sources[m0]
                for k in range(in_indptr[source], in_indptr[source + 1]):
                    u, overdue = _replay_pulse(
                        code, omega, scale, phase_reset, phase_threshold, keys, lifted,
                        in_indices[k], in_weights[k], te,
                    )  # fmt: skip
                    if overdue and failed < 0:
                        failed = s
                    if store:
                        pre_phase[position] = u
                        position += 1
            else:
                _, targets, pulse_weights = _tied_inputs(
                    in_indptr, in_indices, in_weights, input_sources, m0, m1
                )
                n = 0
                while n < targets.shape[0]:
                    i = targets[n]
                    total = pulse_weights[n]
                    n += 1
                    while n < targets.shape[0] and targets[n] == i:
                        total += pulse_weights[n]
                        n += 1
                    u, overdue = _replay_pulse(
                        code, omega, scale, phase_reset, phase_threshold, keys, lifted, i,
                        total, te,
                    )  # fmt: skip
                    if overdue and failed < 0:
                        failed = s
                    if store:
                        pre_phase[position] = u
                        position += 1
            e += 1
        j = spiker[s]
        t = keys[j]
        if t < t_previous:
            t = t_previous
        reference = engine_times[s]
        error = abs(t - reference) / max(1.0, abs(reference))
        if error > worst:
            worst = error
        if error > REPLAY_TOLERANCE and failed < 0:
            failed = s
        if tied < 0:  # a free spike at an input's instant: the order is ambiguous
            if e > 0 and _free_tie(lifted[j], event_times[e - 1], reference):
                tied = s
            if e < n_events and _free_tie(lifted[j], event_times[e], reference):
                tied = s
        if store:
            replay_times[s - first] = t
        keys[j] = t + span / omega[j]
        lifted[j] = -math.inf
        for k in range(indptr[j], indptr[j + 1]):
            u, overdue = _replay_pulse(
                code, omega, scale, phase_reset, phase_threshold, keys, lifted, indices[k],
                weights[k], t,
            )  # fmt: skip
            if overdue and failed < 0:
                failed = s
            if store:
                pre_phase[position] = u
                position += 1
        t_previous = t
    return worst, failed, tied, t_previous, position


@numba.njit(cache=True, inline="always")
def _reverse_fixed_pulse(
    code, omega, scale, phase_threshold, i, weight, u, key_adjoint, omega_adjoint, scale_adjoint
):
    """Undo one pulse at a fixed (input) time on neuron ``i``: returns dL/dc-chain factor.

    The key adjoint becomes ``d * bar`` (no spike-time term), the omega and pulse-scale
    adjoints collect their parts; the return value times ``scale[i]`` (theta) or
    ``-scale[i]`` (LIF) is dL/dw of each synapse summed into the pulse.
    """
    w_i = omega[i]
    new_phase, slope, dg_dc, dg_domega = _pulse_terms(
        code, u, weight, scale[i], w_i, phase_threshold
    )
    bar = key_adjoint[i]
    key_adjoint[i] = slope * bar
    c_bar = -bar * dg_dc / w_i
    sign = 1.0 if code == THETA else -1.0
    scale_adjoint[i] += c_bar * sign * weight
    omega_adjoint[i] += bar * (
        (slope * (phase_threshold - u) - (phase_threshold - new_phase)) / (w_i * w_i)
        - dg_domega / w_i
    )
    return c_bar * sign * scale[i]


@numba.njit(cache=True)
def _reverse_inputs(
    code,
    omega,
    scale,
    phase_reset,
    phase_threshold,
    indptr,
    indices,
    weights,
    in_indptr,
    in_indices,
    in_weights,
    input_sources,
    event_start,
    event_end,
    spiker,
    time_adjoint,
    first,
    last,
    position,
    pre_phase,
    key_adjoint,
    weight_adjoint,
    omega_adjoint,
    scale_adjoint,
    input_weight_adjoint,
):
    """`_reverse` with the input events of `_replay_inputs` undone after each spike.

    `position` is the number of phases `_replay_inputs` stored for ``first .. last-1``.
    An input pulse arrives at a fixed time: its reverse step has no spike-time term.
    """
    sign = 1.0 if code == THETA else -1.0
    span = phase_threshold - phase_reset
    largest = 0.0
    for s in range(last - 1, first - 1, -1):
        j = spiker[s]
        time_bar = time_adjoint[s]
        for k in range(indptr[j + 1] - 1, indptr[j] - 1, -1):
            position -= 1
            i = indices[k]
            u = pre_phase[position]
            w_i = omega[i]
            new_phase, slope, dg_dc, dg_domega = _pulse_terms(
                code, u, weights[k], scale[i], w_i, phase_threshold
            )
            bar = key_adjoint[i]
            key_adjoint[i] = slope * bar
            time_bar += (1.0 - slope) * bar
            c_bar = -bar * dg_dc / w_i
            weight_adjoint[k] += c_bar * sign * scale[i]
            scale_adjoint[i] += c_bar * sign * weights[k]
            omega_adjoint[i] += bar * (
                (slope * (phase_threshold - u) - (phase_threshold - new_phase)) / (w_i * w_i)
                - dg_domega / w_i
            )
        bar = key_adjoint[j]
        time_bar += bar
        omega_adjoint[j] -= bar * span / (omega[j] * omega[j])
        key_adjoint[j] = time_bar
        if abs(time_bar) > largest:
            largest = abs(time_bar)
        lowest = event_end[s - 1] if s > 0 else 0
        for e in range(event_end[s] - 1, lowest - 1, -1):
            m0, m1 = event_start[e], event_start[e + 1]
            if m1 - m0 == 1:
                source = input_sources[m0]
                for k in range(in_indptr[source + 1] - 1, in_indptr[source] - 1, -1):
                    position -= 1
                    input_weight_adjoint[k] += _reverse_fixed_pulse(
                        code, omega, scale, phase_threshold, in_indices[k], in_weights[k],
                        pre_phase[position], key_adjoint, omega_adjoint, scale_adjoint,
                    )  # fmt: skip
                continue
            synapses, targets, pulse_weights = _tied_inputs(
                in_indptr, in_indices, in_weights, input_sources, m0, m1
            )
            # one summed pulse per target, applied in target order: undo from the last
            stop = targets.shape[0]
            while stop > 0:
                begin = stop - 1
                while begin > 0 and targets[begin - 1] == targets[stop - 1]:
                    begin -= 1
                total = pulse_weights[begin]
                for n in range(begin + 1, stop):
                    total += pulse_weights[n]
                position -= 1
                factor = _reverse_fixed_pulse(
                    code, omega, scale, phase_threshold, targets[begin], total,
                    pre_phase[position], key_adjoint, omega_adjoint, scale_adjoint,
                )  # fmt: skip
                for n in range(begin, stop):
                    input_weight_adjoint[synapses[n]] += factor
                stop = begin
    return largest


# --------------------------------------------------------------------------- readout


class LeakyReadout:
    """A non-spiking leaky readout of chosen neurons, an exact function of spike times.

    .. math::

        r_c(t) = \\sum_{s:\\, j(s) \\in \\text{neurons},\\, t_s \\le t}
        W_{c, j(s)}\\, e^{-(t - t_s)/\\tau_r}

    Parameters
    ----------
    neurons : array of int, shape (n_in,)
        Neurons read out (distinct, in [0, N)).
    weights : array of float, shape (n_out, n_in)
        Readout weights :math:`W` (a 1-D array is one output).
    tau : float or brian2 time quantity
        Decay time :math:`\\tau_r` (seconds if a float), > 0.

    Examples
    --------
    >>> readout = LeakyReadout([0, 1], [[1.0, -1.0]], tau=0.02)
    >>> readout.values([0, 1, 0], [0.0, 0.01, 0.02], [0.02]).round(4)
    array([[0.7613]])
    """

    def __init__(self, neurons, weights, tau):
        neurons = int_array(neurons, "readout neurons", minimum=0)
        if np.unique(neurons).size != neurons.size:
            raise ValueError("readout neurons must be distinct")
        weights = np.array(weights, dtype=float)
        if weights.ndim == 1:
            weights = weights[None, :]
        if weights.ndim != 2 or weights.shape[1] != neurons.size:
            raise ValueError(
                f"readout weights must have shape (n_out, {neurons.size}) (one column per "
                f"readout neuron), got {weights.shape}"
            )
        if not np.all(np.isfinite(weights)):
            raise ValueError("readout weights must be finite")
        self.neurons = neurons
        self.weights = weights
        self.tau = to_seconds(tau, "readout tau", positive=True)

    def __repr__(self):
        return (
            f"<LeakyReadout {self.weights.shape[0]} outputs of {self.neurons.size} neurons, "
            f"tau={self.tau:g} s>"
        )

    @property
    def n_outputs(self):
        """Number of readout channels."""
        return self.weights.shape[0]

    def _kernels(self, indices, times, at):
        """Column of each readout spike, its time, and the kernel matrix (len(at), n_spikes)."""
        column_of = {int(n): c for c, n in enumerate(self.neurons)}
        indices = np.asarray(indices)
        mask = np.isin(indices, self.neurons)
        columns = np.array([column_of[int(n)] for n in indices[mask]], dtype=np.int64)
        spike_times = np.asarray(times, dtype=float)[mask]
        lag = np.asarray(at, dtype=float)[:, None] - spike_times[None, :]
        kernel = np.where(lag >= 0, np.exp(-np.maximum(lag, 0.0) / self.tau), 0.0)
        return mask, columns, kernel

    def values(self, indices, times, at):
        """Readout :math:`r_c(t)` at times `at` (s): an array of shape (len(at), n_outputs)."""
        at = np.atleast_1d(seconds_array(at, "readout times"))
        _, columns, kernel = self._kernels(indices, times, at)
        return kernel @ self.weights[:, columns].T

    def _backward(self, indices, times, at, readout_bar):
        """dL/dt per spike (s) and dL/dW from dL/dr (shape (len(at), n_outputs))."""
        mask, columns, kernel = self._kernels(indices, times, at)
        time_bar = np.zeros(np.size(times))
        # dr_c(t_m)/dt_s = W[c, j(s)] kernel / tau
        per_spike = readout_bar @ self.weights[:, columns]  # (n_times, n_spikes)
        time_bar[mask] = np.sum(per_spike * kernel, axis=0) / self.tau
        weight_bar = np.zeros_like(self.weights)
        summed = readout_bar.T @ kernel  # (n_out, n_spikes)
        np.add.at(weight_bar.T, columns, summed.T)
        return time_bar, weight_bar


# --------------------------------------------------------------------------- losses


class SpikeLoss:
    """A differentiable loss on spike times and readout values.

    A loss is a plain function ``function(indices, times, readout) -> (value,
    d_times, d_readout)``: `indices` and `times` (s) are the spikes of the run in time
    order, `readout` the readout values at `readout_times` (shape ``(n_times,
    n_outputs)``) or None; it returns the loss, dL/dt per spike (1/s) and dL/dr (same
    shape as `readout`, or None). That gradient is all the adjoint sweep needs.
    Losses add (``loss_a + loss_b``) and scale (``0.5 * loss``).

    Parameters
    ----------
    function : callable
    readout_times : array of float, optional
        Times (s) at which the loss reads the readout (needs ``readout=`` in
        `spike_gradients`).
    neurons : array of int, optional
        Neurons whose spikes the loss reads (checked against N before any work).
    name : str

    Examples
    --------
    >>> loss = spike_time_loss([0], [0.01]) + 0.5 * readout_mse([0.02], [[1.0]])
    >>> loss.readout_times
    array([0.02])
    """

    def __init__(self, function, *, readout_times=None, neurons=None, name="loss"):
        if not callable(function):
            raise ValueError(f"function must be callable, got {type(function).__name__}")
        self.function = function
        self.readout_times = (
            None if readout_times is None else np.atleast_1d(seconds_array(readout_times, "times"))
        )
        if self.readout_times is not None and not np.all(np.isfinite(self.readout_times)):
            raise ValueError("readout times must be finite")
        self.neurons = np.zeros(0, dtype=np.int64) if neurons is None else np.asarray(neurons)
        self.name = name

    def __repr__(self):
        return f"<SpikeLoss {self.name}>"

    def __call__(self, indices, times, readout=None):
        return self.function(indices, times, readout)

    def __add__(self, other):
        if not isinstance(other, SpikeLoss):
            return NotImplemented
        return _sum_of([(1.0, self), (1.0, other)])

    def __mul__(self, factor):
        if isinstance(factor, bool) or not isinstance(factor, int | float | np.floating):
            return NotImplemented
        return _sum_of([(float(factor), self)])

    __rmul__ = __mul__


def _sum_of(terms):
    """The SpikeLoss ``sum(factor * loss)``: readout times concatenated, split per term."""
    sizes = [0 if loss.readout_times is None else loss.readout_times.size for _, loss in terms]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    has_readout = any(size > 0 for size in sizes)

    def function(indices, times, readout):
        value = 0.0
        time_bar = np.zeros(np.size(times))
        readout_bar = None if readout is None else np.zeros_like(readout)
        for (factor, loss), start, stop in zip(terms, offsets[:-1], offsets[1:], strict=True):
            part = None if loss.readout_times is None else readout[start:stop]
            v, dt, dr = loss(indices, times, part)
            value += factor * v
            time_bar += factor * dt
            if dr is not None:
                readout_bar[start:stop] += factor * dr
        return value, time_bar, readout_bar

    readout_times = (
        np.concatenate([loss.readout_times for _, loss in terms if loss.readout_times is not None])
        if has_readout
        else None
    )
    neurons = np.concatenate([np.asarray(loss.neurons).ravel() for _, loss in terms])
    name = " + ".join(f"{factor:g}*{loss.name}" for factor, loss in terms)
    return SpikeLoss(function, readout_times=readout_times, neurons=neurons, name=name)


def _nth_spikes(indices, neurons):
    """Index (into the spike list) of the n-th spike of each entry of `neurons`.

    The n-th occurrence of a neuron in `neurons` means its n-th spike (n from 0).
    Raises ValueError when a neuron has too few spikes.
    """
    indices = np.asarray(indices)
    where = np.empty(len(neurons), dtype=np.int64)
    seen = {}
    for m, n in enumerate(neurons):
        occurrence = seen.get(int(n), 0)
        spikes = np.flatnonzero(indices == n)
        if occurrence >= spikes.size:
            raise ValueError(
                f"the loss needs spike {occurrence + 1} of neuron {int(n)}, but it fired "
                f"{spikes.size} time(s) in the run: run longer or change the targets"
            )
        where[m] = spikes[occurrence]
        seen[int(n)] = occurrence + 1
    return where


def spike_time_loss(neurons, targets):
    """Squared error of chosen spike times, :math:`L = \\tfrac12\\sum_m (t_m - t^*_m)^2`.

    Parameters
    ----------
    neurons : array of int
        The neuron of each target; the n-th occurrence of a neuron refers to its n-th
        spike in the run.
    targets : array of float or brian2 time quantity
        Target times :math:`t^*_m` (seconds if floats).

    Returns
    -------
    SpikeLoss
        Value in s^2; raises ValueError at evaluation if a neuron fired too few times.

    Examples
    --------
    >>> loss = spike_time_loss([2, 2], [0.01, 0.03])
    >>> round(loss([2, 0, 2], [0.012, 0.02, 0.029])[0], 12)
    2.5e-06
    """
    neurons = int_array(neurons, "neurons", minimum=0)
    targets = np.atleast_1d(seconds_array(targets, "targets"))
    if targets.shape != neurons.shape:
        raise ValueError(
            f"targets must have one time per entry of neurons ({neurons.size}), got "
            f"shape {targets.shape}"
        )

    def function(indices, times, readout):
        where = _nth_spikes(indices, neurons)
        error = np.asarray(times, dtype=float)[where] - targets
        time_bar = np.zeros(np.size(times))
        np.add.at(time_bar, where, error)
        return 0.5 * float(error @ error), time_bar, None

    return SpikeLoss(function, neurons=neurons, name="spike_time_loss")


def first_spike_cross_entropy(output_neurons, label, tau):
    """Time-to-first-spike cross-entropy over output neurons.

    With :math:`t_c` the first spike of output neuron ``c`` in the run,

    .. math:: L = -\\ln \\frac{e^{-t_{y}/\\tau_s}}{\\sum_c e^{-t_c/\\tau_s}},

    so the label neuron ``y`` should fire first (Mostafa 2018; Göltz et al. 2021).
    An output without a spike counts as :math:`t_c = \\infty` (weight 0, no gradient);
    the label neuron must fire.

    Parameters
    ----------
    output_neurons : array of int
    label : int
        Index into `output_neurons` of the correct class.
    tau : float or brian2 time quantity
        Softmax temperature :math:`\\tau_s` (seconds if a float), > 0.

    Returns
    -------
    SpikeLoss

    Examples
    --------
    >>> loss = first_spike_cross_entropy([0, 1], 0, tau=0.01)
    >>> round(loss([1, 0], [0.01, 0.02])[0], 4)
    1.3133
    """
    output_neurons = int_array(output_neurons, "output_neurons", minimum=0)
    label = check_int(label, "label", minimum=0, maximum=output_neurons.size - 1)
    tau = to_seconds(tau, "tau", positive=True)

    def function(indices, times, readout):
        indices = np.asarray(indices)
        times = np.asarray(times, dtype=float)
        first = np.full(output_neurons.size, -1, dtype=np.int64)
        for c, n in enumerate(output_neurons):
            hits = np.flatnonzero(indices == n)
            if hits.size:
                first[c] = hits[0]
        if first[label] < 0:
            raise ValueError(
                f"the label neuron {int(output_neurons[label])} did not fire in the run: the "
                "first-spike cross-entropy is infinite"
            )
        fired = first >= 0
        logits = np.full(output_neurons.size, -np.inf)
        logits[fired] = -times[first[fired]] / tau
        top = logits.max()
        weights = np.exp(logits - top)
        probabilities = weights / weights.sum()
        value = float(-(logits[label] - top - math.log(weights.sum())))
        time_bar = np.zeros(times.size)
        one_hot = np.zeros(output_neurons.size)
        one_hot[label] = 1.0
        gradient = (one_hot - probabilities) / tau
        time_bar[first[fired]] += gradient[fired]
        return value, time_bar, None

    return SpikeLoss(function, neurons=output_neurons, name="first_spike_cross_entropy")


def readout_mse(times, targets):
    """Mean squared error of the readout, :math:`L = \\mathrm{mean}_{m,c} (r_c(t_m) - y_{mc})^2`.

    Parameters
    ----------
    times : array of float or brian2 time quantity, shape (n_times,)
        Absolute times (s) at which the readout is compared.
    targets : array of float, shape (n_times, n_outputs)

    Returns
    -------
    SpikeLoss

    Examples
    --------
    >>> loss = readout_mse([0.01, 0.02], [[0.0], [1.0]])
    >>> loss([], [], np.array([[0.0], [0.0]]))[0]
    0.5
    """
    times = np.atleast_1d(seconds_array(times, "times"))
    targets = np.array(targets, dtype=float)
    if targets.ndim == 1:
        targets = targets[:, None]
    if targets.shape[0] != times.size or not np.all(np.isfinite(targets)):
        raise ValueError(
            f"targets must be finite with one row per readout time ({times.size}), got "
            f"shape {targets.shape}"
        )

    def function(indices, spike_times, readout):
        if readout.shape != targets.shape:
            raise ValueError(
                f"readout_mse targets have shape {targets.shape}, the readout gives "
                f"{readout.shape} (times, outputs)"
            )
        error = readout - targets
        return float(np.mean(error**2)), np.zeros(np.size(spike_times)), 2 * error / error.size

    return SpikeLoss(function, readout_times=times, name="readout_mse")


def readout_cross_entropy(times, labels):
    """Cross-entropy of the softmax of the readout at given times.

    .. math:: L = \\frac{1}{M}\\sum_m -\\ln \\mathrm{softmax}(r(t_m))_{y_m}

    Parameters
    ----------
    times : array of float or brian2 time quantity, shape (M,)
    labels : array of int, shape (M,)
        Correct output channel at each time.

    Returns
    -------
    SpikeLoss

    Examples
    --------
    >>> loss = readout_cross_entropy([0.01], [1])
    >>> round(loss([], [], np.array([[0.0, 0.0]]))[0], 4)
    0.6931
    """
    times = np.atleast_1d(seconds_array(times, "times"))
    labels = int_array(labels, "labels", minimum=0)
    if labels.shape != times.shape:
        raise ValueError(f"labels must have one entry per time ({times.size}), got {labels.shape}")

    def function(indices, spike_times, readout):
        if labels.max(initial=0) >= readout.shape[1]:
            raise ValueError(f"labels must be < the number of readout outputs ({readout.shape[1]})")
        shifted = readout - readout.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        rows = np.arange(times.size)
        value = float(np.mean(log_norm - shifted[rows, labels]))
        probabilities = np.exp(shifted - log_norm[:, None])
        probabilities[rows, labels] -= 1.0
        return value, np.zeros(np.size(spike_times)), probabilities / times.size

    return SpikeLoss(function, readout_times=times, name="readout_cross_entropy")


# --------------------------------------------------------------------------- results


@dataclass(repr=False)
class GradientResult:
    """Loss and exact gradients of one `spike_gradients` call.

    Attributes
    ----------
    loss : float
    weights : ndarray, shape (n_synapses,) or None
        dL/dw per synapse, in the CSR order of ``network.weighted_connectivity()``.
    coupling : float or None
        dL/dgamma for a global gain :math:`\\gamma` on all weights (:math:`w \\to
        \\gamma w`, at :math:`\\gamma = 1`): :math:`\\sum_k w_k\\, \\partial L/\\partial
        w_k`. For the balanced network (:math:`w = -J_0/\\sqrt K`) that is
        :math:`J_0\\, \\partial L/\\partial J_0`.
    drive : ndarray, shape (N,) or None
        dL/dI_i per neuron, with the model-form state (theta angle or LIF voltage) at
        the start of the swept window held fixed; its sum is the gradient for one
        global drive.
    readout_weights : ndarray, shape (n_out, n_in) or None
    initial_phases : ndarray, shape (N,) or None
        dL/dphi at the start of the swept window.
    spike_indices, spike_times : ndarray
        The spikes of the run (times in s).
    state : SparsePropState
        Final state of the run.
    window_start : int
        First spike of the swept window (0 without truncation).
    replay_error : float
        Largest relative difference between replayed and engine spike times.
    adjoint_growth : float
        Largest key adjoint met in the sweep over the largest injected one.
    memory_bytes : int
        Peak memory held for the gradient (spikes, checkpoints, one segment).
    input_weights : ndarray, shape (n_input_synapses,) or None
        dL/dw per input synapse (network with input neurons), in the CSR order of
        ``network.input_connectivity`` (the order in which the engine stores the input
        weights: a weighted input graph's ``weights``, or ``input_coupling`` repeated
        over each input neuron's row).
    input_coupling : ndarray, shape (n_inputs,) or None
        For a network built with ``input_coupling=`` (one weight per input neuron): dL
        with respect to ``input_coupling[m]``, the sum of `input_weights` over the
        synapses of input neuron ``m``.
    n_input_spikes : int
        Input spikes delivered in the run (those up to its last spike matter).
    """

    loss: float
    weights: np.ndarray | None
    coupling: float | None
    drive: np.ndarray | None
    readout_weights: np.ndarray | None
    initial_phases: np.ndarray | None
    spike_indices: np.ndarray
    spike_times: np.ndarray
    state: SparsePropState
    window_start: int
    replay_error: float
    adjoint_growth: float
    memory_bytes: int
    input_weights: np.ndarray | None = None
    input_coupling: np.ndarray | None = None
    n_input_spikes: int = 0

    def __repr__(self):
        parts = [
            name for name in _PARAMETERS + _INPUT_PARAMETERS if getattr(self, name) is not None
        ]
        return (
            f"<GradientResult loss={self.loss:.6g}, {self.spike_indices.size} spikes "
            f"(adjoint over spikes {self.window_start}..{self.spike_indices.size - 1}), "
            f"gradients: {', '.join(parts)}; {self.memory_bytes / 1e6:.3g} MB>"
        )

    @property
    def spikes(self):
        """``(spike_indices, spike_times)``."""
        return self.spike_indices, self.spike_times


@dataclass(frozen=True)
class GradientGrowth:
    """Growth rate of the adjoint norm against the largest Lyapunov exponent.

    Attributes
    ----------
    growth_rate : float
        :math:`\\frac{1}{T}\\ln(\\|\\bar T(0)\\| / \\|\\bar T(T)\\|)` in 1/s, averaged
        after the backward transient (renormalised every segment).
    lambda1 : float or None
        Largest exponent of `lyapunov_spectrum` on the same trajectory (1/s).
    duration : float
        Time averaged over (s).
    """

    growth_rate: float
    lambda1: float | None
    duration: float

    def __iter__(self):
        return iter((self.growth_rate, self.lambda1))


# --------------------------------------------------------------------------- driver


def check_supported_network(network, *, inputs=True):
    """Raise ValueError for what the adjoint does not support (before any work).

    Input neurons are supported by `spike_gradients` (`inputs`), not by
    `gradient_growth`. `neurosrnn.sparseprop.training` checks its networks here too.
    """
    if not isinstance(network, SparsePropNetwork):
        raise ValueError(f"network must be a SparsePropNetwork, got {type(network).__name__}")
    unsupported = []
    if network.tables:
        unsupported.append("tabulated models (PhaseTable)")
    if network.delay is not None:
        unsupported.append("synaptic delays")
    if network.refractory is not None:
        unsupported.append("refractory periods")
    if not inputs and network.input_connectivity is not None:
        unsupported.append("input neurons (gradient_growth does not take input spikes)")
    if unsupported:
        raise ValueError(
            "spike_gradients supports theta and LIF networks (with or without input "
            "neurons) without delays, refractoriness or tabulated models; this network has "
            f"{', '.join(unsupported)}"
        )


class _Problem:
    """The network's arrays in the form the kernels read (a memory-free graph is stored).

    Also the zeroed dL/dw (one float per synapse), its pages touched here: like the
    stored graph it is an O(N K) one-off of the call, and a first write to a fresh page
    inside the sweep cost a page fault there (at N = 10^6, 0.04-0.6 s per call on one
    machine, varying from call to call).
    """

    def __init__(self, network):
        self.network = network
        graph = network.connectivity
        N = network.N
        if isinstance(graph, RegeneratedConnectivity) and network.input_connectivity is None:
            # the rows in the engine's pulse order (draw order), so that pulses recorded
            # by the engine line up with them; dL/dw lands in sorted CSR order via `slot`
            indices, self.slot = graph.draw_order()
            self.indptr = np.arange(N + 1, dtype=np.int64) * graph.K
            self.indices = indices
            presynaptic = network.coupling if graph.weights is None else graph.weights
            presynaptic = np.broadcast_to(np.asarray(presynaptic, dtype=float), (N,))
            self.weights = np.repeat(presynaptic, graph.K)
        else:
            graph = network.weighted_connectivity()
            # the kernels only read these: no copies (at N = 10^6, K = 100 a copy was 1.2 GB)
            self.indptr = graph.indptr.astype(np.int64, copy=False)
            self.indices = graph.indices.astype(np.int32, copy=False)
            self.weights = graph.weights.astype(float, copy=False)
            self.slot = np.zeros(0, dtype=np.int16)  # CSR order is the pulse order
        self.weight_bar = np.zeros(self.weights.size)
        self.weight_bar[::_PAGE_FLOATS] = 0.0  # fault the pages in now, in order
        self.omega = np.asarray(network.omega, dtype=float)
        self.scale = np.asarray(network.scale, dtype=float)
        self.drive = np.asarray(network.drive, dtype=float)
        model = network.model
        self.code = model.code
        self.phase_reset = float(model.phase_reset)
        self.phase_threshold = float(model.phase_threshold)
        self.tau = network.tau
        # domega/dI and dscale/dI per neuron
        self.domega, self.dscale = self.drive_derivatives()
        # what the kernels read per target, in one row per neuron: (omega, scale,
        # domega/dI, dscale/dI); with one drive, row 0 serves every neuron
        self.neurons = np.column_stack([self.omega, self.scale, self.domega, self.dscale])
        self.homogeneous = bool(np.all(self.neurons == self.neurons[:1]) if network.N else True)
        self.prefetch = N >= PREFETCH_FROM
        inputs = network.input_connectivity
        self.has_inputs = inputs is not None
        if inputs is None:
            self.in_indptr = np.zeros(1, dtype=np.int64)
            self.in_indices = np.zeros(0, dtype=np.int32)
            self.in_weights = np.zeros(0)
        else:  # the engine's per-synapse input weights, in the same (CSR) order
            self.in_indptr = inputs.indptr.astype(np.int64)
            self.in_indices = inputs.indices.astype(np.int32)
            weights = inputs.weights
            if weights is None:
                weights = np.repeat(network.input_coupling, np.diff(self.in_indptr))
            self.in_weights = np.asarray(weights, dtype=float).copy()

    def keys(self, network_state, origin):
        """Keys (tau units, relative to `origin`) of an engine state."""
        phases = self.network.phases(network_state)
        return (network_state.time - origin) + (self.phase_threshold - phases) / self.omega

    def replay(self, keys, spiker, times, first, last, previous, store, pulses, replay_times):
        return _replay(
            self.code, self.homogeneous, self.prefetch, self.neurons, self.phase_reset,
            self.phase_threshold, self.indptr, self.indices, self.weights, keys, spiker,
            times, first, last, previous, store, pulses, replay_times,
        )  # fmt: skip

    def reverse(self, spiker, time_bar, first, last, pulses, adjoint, weight_adjoint):
        return _reverse(
            self.code, self.homogeneous, self.prefetch, self.neurons, self.phase_reset,
            self.phase_threshold, self.indptr, self.indices, self.weights, spiker, time_bar,
            first, last, pulses, adjoint, weight_adjoint, self.slot,
        )  # fmt: skip

    def drive_derivatives(self):
        """``(domega/dI, dscale/dI)`` per neuron."""
        drive = self.drive
        if self.code == THETA:
            return 1.0 / np.sqrt(drive), -0.5 * drive**-1.5
        return self.omega**2 / (drive * (1.0 + drive)), -1.0 / (1.0 + drive) ** 2

    def phase_drive_derivative(self, phases):
        """d phi/dI at a fixed model-form state (theta angle or LIF voltage)."""
        drive = self.drive
        if self.code == THETA:
            ratio = np.tan(0.5 * phases)  # = tan(theta/2)/sqrt(I)
            return -ratio / (drive * (1.0 + ratio**2))
        mu = 1.0 + drive
        voltage = mu * -np.expm1(-phases / self.omega)
        domega = self.omega**2 / (drive * mu)
        return phases * domega / self.omega - self.omega * voltage / (mu * (mu - voltage))


@dataclass
class _Forward:
    """The recorded run: spikes, checkpoints (spike index, keys) and the final state."""

    indices: np.ndarray
    times: np.ndarray  # seconds
    checkpoints: list
    state: SparsePropState
    origin: float  # tau units
    stop_time: float  # seconds
    inputs: _InputSchedule | None = None


@dataclass
class _InputSchedule:
    """The delivered input spikes as events (one time each) merged with the spikes.

    Event ``e`` holds the input spikes ``event_start[e] .. event_start[e+1]-1`` (one
    spike, or several at one time: summed per target); ``event_end[s]`` events act
    before network spike ``s``. `weight_bar` receives dL/dw per input synapse.
    """

    sources: np.ndarray  # int64, input neuron of each delivered input spike
    event_start: np.ndarray  # int64, (E + 1,)
    event_times: np.ndarray  # tau units, relative to the origin
    event_end: np.ndarray  # int64, (S,)
    event_pulses: np.ndarray  # int64, (E + 1,) cumulative pulse counts (an upper bound)
    n_delivered: int
    weight_bar: np.ndarray | None = None


def _run_with_inputs(network, current, count, left, inputs, pointer):
    """`network.run` with the input spikes from `pointer` on, passed in growing chunks.

    A chunk is enough when the run ended before the first input spike left out (so the
    full train gives the same run); otherwise the chunk grows fourfold and the run is
    repeated. Returns the run's result.
    """
    total = inputs.times.size
    size = 256
    while True:
        stop = min(total, pointer + size)
        result = network.run(
            current,
            n_spikes=count,
            duration=left,
            record_spikes=True,
            progress=False,
            input_spikes=InputSpikes(inputs.indices[pointer:stop], inputs.times[pointer:stop]),
        )
        margin = REPLAY_TOLERANCE * network.tau * max(1.0, abs(result.stop_time / network.tau))
        if stop >= total or inputs.times[stop] > result.stop_time + margin:
            return result
        size *= 4


def _forward(problem, network, state, n_spikes, duration, every, inputs=None, pulse_memory=0):
    """Run the engine in segments of `every` spikes, keeping each segment's start keys.

    With `inputs` (an `InputSpikes`, network with input neurons), each segment takes the
    input spikes not yet delivered, and the record holds their schedule. Without inputs,
    every segment after the first continues the network's own state in place (no O(N)
    copy and heap construction per segment; the final state is left in
    ``network.state``, as by `SparsePropNetwork.run`), and a segment whose pulses fit in
    what is left of `pulse_memory` bytes (24 per pulse) is run with ``record_pulses``:
    its checkpoint keeps the engine's pulses and the sweep needs no replay there.
    A checkpoint is ``(first spike, keys, pulses or None)``.
    """
    origin = state.time
    pointer = 0
    stop_seconds = None if duration is None else state.time_seconds + duration
    remaining = n_spikes
    checkpoints, pieces_i, pieces_t = [], [], []
    done = 0
    current = state
    pulse_bytes = 0
    mean_degree = problem.indptr[-1] / max(1, problem.indptr.size - 1)
    while True:
        count = every if remaining is None else min(every, remaining)
        if count == 0:
            break
        left = None if stop_seconds is None else max(stop_seconds - current.time_seconds, 0.0)
        keys = problem.keys(current, origin)
        if inputs is None:
            start = current if current is state else None  # None: continue in place
            record = pulse_bytes + 24 * count * mean_degree <= pulse_memory
            result = network.run(
                start,
                n_spikes=count,
                duration=left,
                record_spikes=True,
                progress=False,
                record_pulses=record,
            )
            if record:
                pulse_bytes += result.pulses.nbytes
        else:
            result = _run_with_inputs(network, current, count, left, inputs, pointer)
            pointer += result.n_input_spikes
        if result.n_spikes:
            checkpoints.append((done, keys, result.pulses))
            pieces_i.append(result.spike_indices)
            pieces_t.append(result.spike_times)
        done += result.n_spikes
        if remaining is not None:
            remaining -= result.n_spikes
        current = result.state
        if result.n_spikes < count or result.interrupted:
            break
    indices = np.concatenate(pieces_i) if pieces_i else np.zeros(0, dtype=np.int32)
    times = np.concatenate(pieces_t) if pieces_t else np.zeros(0)
    stop = current.time_seconds if stop_seconds is None else stop_seconds
    schedule = None
    if inputs is not None:
        schedule = _input_schedule(problem, inputs, pointer, times / problem.tau - origin, origin)
    return _Forward(indices, times, checkpoints, current, origin, stop, schedule)


def _input_schedule(problem, inputs, n_delivered, spike_times, origin):
    """Group the delivered input spikes into events and merge them with the spikes.

    Inputs act before the network spikes of their instant; an input within
    `REPLAY_TOLERANCE` after a spike is counted before it (a spike it forced; a free
    spike there is refused by the replay as a tie).
    """
    sources = inputs.indices[:n_delivered].astype(np.int64)
    times = inputs.times[:n_delivered] / problem.tau - origin
    if times.size:
        new = np.concatenate([[True], np.diff(times) != 0])
        event_start = np.append(np.flatnonzero(new), times.size).astype(np.int64)
    else:
        event_start = np.zeros(1, dtype=np.int64)
    event_times = times[event_start[:-1]]
    tolerance = REPLAY_TOLERANCE * np.maximum(1.0, np.abs(spike_times))
    event_end = np.searchsorted(event_times, spike_times + tolerance, side="right")
    event_end = np.maximum.accumulate(event_end).astype(np.int64) if event_end.size else event_end
    fan_out = np.diff(problem.in_indptr)[sources]
    pulses = np.concatenate([[0], np.cumsum(fan_out)])[event_start].astype(np.int64)
    return _InputSchedule(sources, event_start, event_times, event_end.astype(np.int64), pulses,
                          int(n_delivered))  # fmt: skip


def _checked_parameters(parameters, readout, network=None):
    has_inputs = network is not None and network.input_connectivity is not None
    has_input_coupling = has_inputs and network.input_coupling is not None
    if parameters is None:
        parameters = tuple(p for p in _PARAMETERS if p != "readout_weights" or readout)
        if has_inputs:
            parameters += ("input_weights",) + (("input_coupling",) if has_input_coupling else ())
    if isinstance(parameters, str):
        parameters = (parameters,)
    parameters = tuple(parameters)
    for name in parameters:
        if name in _INPUT_PARAMETERS and not has_inputs:
            raise ValueError(
                f"parameters: {name!r} needs input neurons, which this network does not have "
                "(build it with input_connectivity=)"
            )
        if name == "input_coupling" and not has_input_coupling:
            raise ValueError(
                "parameters: 'input_coupling' needs a network built with input_coupling= (one "
                "weight per input neuron); use 'input_weights' for per-synapse weights"
            )
        if name not in _PARAMETERS + _INPUT_PARAMETERS:
            raise ValueError(
                f"parameters must be a subset of {_PARAMETERS + _INPUT_PARAMETERS}, got {name!r}"
            )
        if name == "readout_weights" and readout is None:
            raise ValueError("parameters: 'readout_weights' needs readout=LeakyReadout(...)")
    return parameters


def _checked_loss(loss, readout, N, state):
    if not isinstance(loss, SpikeLoss):
        raise ValueError(
            f"loss must be a SpikeLoss (spike_time_loss, first_spike_cross_entropy, "
            f"readout_mse, readout_cross_entropy, or their sums), got {type(loss).__name__}"
        )
    neurons = np.asarray(loss.neurons)
    if neurons.size and (neurons.min() < 0 or neurons.max() >= N):
        raise ValueError(
            f"the loss reads neuron(s) {sorted(set(neurons[(neurons < 0) | (neurons >= N)]))} "
            f"outside the network's [0, {N})"
        )
    if loss.readout_times is not None:
        if readout is None:
            raise ValueError(f"the loss {loss.name} reads a readout: give readout=LeakyReadout")
        if np.any(loss.readout_times < state.time_seconds):
            raise ValueError(
                f"readout times must not lie before the state's time {state.time_seconds!r} s"
            )
    if readout is not None:
        if not isinstance(readout, LeakyReadout):
            raise ValueError(f"readout must be a LeakyReadout, got {type(readout).__name__}")
        if readout.neurons.max(initial=0) >= N:
            raise ValueError(f"readout neurons must lie in [0, {N})")


def _checked_window(window, window_spikes, n_spikes, duration):
    if window is not None and window_spikes is not None:
        raise ValueError("give window (seconds) or window_spikes, not both")
    if window is not None:
        window = to_seconds(window, "window", positive=True)
        if duration is not None and window > duration:
            raise ValueError(f"window ({window!r} s) is longer than the run ({duration!r} s)")
        if duration is None:
            raise ValueError("window (seconds) needs a run given by duration; use window_spikes")
    if window_spikes is not None:
        window_spikes = check_int(window_spikes, "window_spikes", minimum=1)
        if n_spikes is not None and window_spikes > n_spikes:
            raise ValueError(
                f"window_spikes ({window_spikes}) is longer than the run (n_spikes={n_spikes})"
            )
    return window, window_spikes


def spike_gradients(
    network,
    state,
    *,
    loss,
    n_spikes=None,
    duration=None,
    readout=None,
    parameters=None,
    window=None,
    window_spikes=None,
    checkpoint_every=None,
    lyapunov_exponent=None,
    input_spikes=None,
    pulse_memory=PULSE_MEMORY,
):
    """Exact gradients of a spike-time loss by an adjoint sweep over the recorded spikes.

    The run is the engine's `SparsePropNetwork.run` from `state`; the gradient is that of
    the loss of its spikes (and of `readout`) with respect to every recurrent weight,
    the drive of every neuron, the global coupling gain, the readout weights and the
    initial phases, exact wherever the spike order is locally constant (see the module
    docstring for the recursion, memory and cost).

    Parameters
    ----------
    network : SparsePropNetwork
        Theta or LIF, homogeneous or per-neuron drive, stored or memory-free graph; no
        delays, refractoriness or tabulated models.
    state : SparsePropState
        Start state (its model-form state is held fixed when the drive changes).
    loss : SpikeLoss
        E.g. ``spike_time_loss(...) + readout_mse(...)``.
    n_spikes : int, optional
    duration : float or brian2 time quantity, optional
        Stop conditions, as for `SparsePropNetwork.run` (at least one).
    readout : LeakyReadout, optional
        Needed by readout losses.
    parameters : sequence of str, optional
        Subset of ``("weights", "coupling", "drive", "readout_weights",
        "initial_phases")`` to return (default: all the setup has).
    window : float or brian2 time quantity, optional
        Truncate the adjoint to the spikes of the last `window` seconds (needs
        `duration`).
    window_spikes : int, optional
        Truncate the adjoint to the last `window_spikes` spikes.
    checkpoint_every : int, optional
        Spikes per replay segment (default ``max(N // 10, 64)``). The replay starts each
        segment from the engine's state; within a segment, rounding differences between
        the engine and the replay grow like :math:`e^{\\lambda_1 t}`, so a segment must
        stay short in network time in chaotic networks (with ``N`` spikes per segment a
        theta network with :math:`\\lambda_1 \\approx 30` /s diverged past the 1e-9
        check after about 2e4 spikes).
    lyapunov_exponent : float, optional
        :math:`\\lambda_1` (1/s) if known: an untruncated run with
        :math:`e^{\\lambda_1 T} > 10^8` warns before the sweep.
    input_spikes : InputSpikes or tuple (indices, times), optional
        Spikes of the input neurons (network built with ``input_connectivity=``), as for
        `SparsePropNetwork.run`. They are replayed in the engine's order (inputs before
        the network spikes of their instant; input spikes at one time as one summed
        pulse per target); an input pulse arrives at a fixed time, so its reverse step
        has no spike-time term:
        :math:`\\delta\\phi_i^+ = d_i\\,\\delta\\phi_i^- + (\\partial g/\\partial c)\\,\\delta c`.
        Adds ``"input_weights"`` (and, for ``input_coupling=``, ``"input_coupling"``)
        to the parameters.
    pulse_memory : int, optional
        Bytes (default `PULSE_MEMORY`, 256 MiB) for pulses recorded by the forward run
        (`SparsePropNetwork.run` with ``record_pulses=True``, 24 bytes per pulse, K per
        spike): the segments that fit, from the first on, are swept on the engine's own
        pulses, the rest replayed from their checkpoints. 0 replays every segment. Not
        used with input neurons (always replayed).

    Returns
    -------
    GradientResult

    Raises
    ------
    ValueError
        Unsupported network, a loss reading neurons outside the network or a readout
        that is missing, unknown parameters, a window longer than the run; input spikes
        for a network without input neurons, out of ``[0, n_inputs)``, before the
        state's time, or two at distinct times closer than `REPLAY_TOLERANCE` (their
        grouping into one instant is decided by rounding).
    RuntimeError
        A replayed segment (beyond `pulse_memory`) does not reproduce the engine's times (an
        order change by a tie or rounding), or a network spike not caused by an input
        falls on an input spike's time (within `REPLAY_TOLERANCE`): their order is
        not locally constant, the gradient is not defined there.

    Warns
    -----
    RuntimeWarning
        Expected or measured adjoint growth above :math:`10^8` (chaos): use a window.

    References
    ----------
    Wunderlich T. C., Pehle C. (2021) Sci. Rep. 11:12829; Engelken R. (2023)
    arXiv:2312.17216.

    Examples
    --------
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(50, 5, model="lif", rate=5.0, memory_free=False)
    >>> state = net.initial_state(seed=1)
    >>> first = int(net.run(state, n_spikes=1).spike_indices[0])
    >>> loss = spike_time_loss([first], [0.0])  # make its first spike earlier
    >>> result = spike_gradients(net, state, loss=loss, n_spikes=200)
    >>> result.weights.shape, result.drive.shape
    ((250,), (50,))

    With input neurons (two of them, one weight each):

    >>> from neurosrnn.connectivity import Connectivity
    >>> inputs = Connectivity([0, 5, 10], np.arange(10), N_post=50)
    >>> driven = SparsePropNetwork("lif", net.connectivity, drive=net.drive, tau=net.tau,
    ...                            coupling=net.coupling, input_connectivity=inputs,
    ...                            input_coupling=[0.2, -0.1])
    >>> result = spike_gradients(driven, state, loss=loss, n_spikes=200,
    ...                          input_spikes=([0, 1, 0], [0.003, 0.005, 0.012]))
    >>> result.input_weights.shape, result.input_coupling.shape
    ((10,), (2,))
    """
    check_supported_network(network)
    if not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    if duration is None and n_spikes is None:
        raise ValueError("give a stop condition: n_spikes and/or duration")
    if n_spikes is not None:
        n_spikes = check_int(n_spikes, "n_spikes", minimum=1)
    if duration is not None:
        duration = to_seconds(duration, "duration", positive=True)
    _checked_loss(loss, readout, network.N, state)
    parameters = _checked_parameters(parameters, readout, network)
    inputs = checked_input_spikes(network, input_spikes, state)
    window, window_spikes = _checked_window(window, window_spikes, n_spikes, duration)
    every = max(network.N // 10, 64) if checkpoint_every is None else checkpoint_every
    every = check_int(every, "checkpoint_every", minimum=1)
    pulse_memory = check_int(pulse_memory, "pulse_memory", minimum=0)
    truncated = window is not None or window_spikes is not None
    if lyapunov_exponent is not None and not truncated and duration is not None:
        _warn_growth(float(lyapunov_exponent) * duration, "expected")

    problem = _Problem(network)
    if inputs is None:
        forward = _forward(problem, network, state, n_spikes, duration, every, None, pulse_memory)
    else:
        forward = _forward(problem, network, state, n_spikes, duration, every, inputs)
    S = forward.indices.size
    if S == 0:
        raise ValueError("the run has no spikes: nothing to differentiate")
    if window_spikes is not None and window_spikes > S:
        raise ValueError(f"window_spikes ({window_spikes}) is longer than the run ({S} spikes)")
    start = _window_start(forward, window, window_spikes)
    if lyapunov_exponent is not None and not truncated and duration is None:
        _warn_growth(
            float(lyapunov_exponent) * (forward.stop_time - state.time_seconds), "expected"
        )

    value, time_bar, readout_bar, readout_values = _evaluate_loss(loss, readout, forward)
    readout_weight_bar = None
    if readout is not None and readout_bar is not None:
        extra, readout_weight_bar = readout._backward(
            forward.indices, forward.times, loss.readout_times, readout_bar
        )
        time_bar = time_bar + extra
    elif readout is not None:
        readout_weight_bar = np.zeros_like(readout.weights)
    time_bar_tau = time_bar * problem.tau
    time_bar_tau[:start] = 0.0  # truncated: earlier spike times carry no adjoint

    sweep = _sweep(problem, forward, time_bar_tau, start, np.zeros(network.N))
    key_bar, weight_bar, drive_bar, start_keys, start_time, largest, error, memory = sweep
    injected = float(np.max(np.abs(time_bar_tau))) if S else 0.0
    growth = largest / injected if injected > 0 else 0.0
    if not truncated:
        _warn_growth(math.log(growth) if growth > 1 else 0.0, "measured")

    phases = problem.phase_threshold - problem.omega * (start_keys - start_time)
    phase_bar = -key_bar / problem.omega
    # the initial keys depend on the drive through omega and the initial phases
    drive_bar -= key_bar * (problem.phase_threshold - phases) / problem.omega**2 * problem.domega
    drive_bar += phase_bar * problem.phase_drive_derivative(phases)
    memory += forward.indices.nbytes + forward.times.nbytes
    input_weight_bar = None if forward.inputs is None else forward.inputs.weight_bar
    input_coupling_bar = None
    if "input_coupling" in parameters:
        rows = np.repeat(np.arange(network.n_inputs), np.diff(problem.in_indptr))
        input_coupling_bar = np.bincount(rows, input_weight_bar, minlength=network.n_inputs)
    return GradientResult(
        loss=value,
        weights=weight_bar if "weights" in parameters else None,
        coupling=float(weight_bar @ problem.weights) if "coupling" in parameters else None,
        drive=drive_bar if "drive" in parameters else None,
        readout_weights=readout_weight_bar if "readout_weights" in parameters else None,
        initial_phases=phase_bar if "initial_phases" in parameters else None,
        spike_indices=forward.indices,
        spike_times=forward.times,
        state=forward.state,
        window_start=start,
        replay_error=error,
        adjoint_growth=growth,
        memory_bytes=int(memory),
        input_weights=input_weight_bar if "input_weights" in parameters else None,
        input_coupling=input_coupling_bar,
        n_input_spikes=0 if forward.inputs is None else forward.inputs.n_delivered,
    )


def checked_input_spikes(network, input_spikes, state):
    """`input_spikes` as an `InputSpikes` for a network with input neurons (else None).

    Checked before any work: a network without input neurons, indices out of
    ``[0, n_inputs)``, times before the state's, and distinct times closer than
    `REPLAY_TOLERANCE` (tau units) are refused.
    """
    if input_spikes is None:
        if network.input_connectivity is None:
            return None
        return InputSpikes(np.zeros(0, dtype=np.int64), np.zeros(0))
    if network.input_connectivity is None:
        raise ValueError(
            "input_spikes given, but this network has no input neurons (build it with "
            "input_connectivity=, a Connectivity of shape M -> N)"
        )
    if isinstance(input_spikes, tuple | list) and len(input_spikes) == 2:
        input_spikes = InputSpikes(*input_spikes)
    if not isinstance(input_spikes, InputSpikes):
        raise ValueError(
            "input_spikes must be None, an InputSpikes or a tuple (indices, times), got "
            f"{type(input_spikes).__name__}"
        )
    indices, times = input_spikes.indices, input_spikes.times
    if indices.size and indices.max() >= network.n_inputs:
        raise ValueError(
            f"input_spikes indices must lie in [0, n_inputs={network.n_inputs}), got "
            f"{int(indices.max())}"
        )
    earliest = state.time_seconds
    if times.size and times[0] < earliest - 4 * np.spacing(abs(earliest)):
        raise ValueError(
            f"input_spikes times must not lie before the state's time t = {earliest!r} s, "
            f"got {times[0]!r} s"
        )
    relative = times / network.tau - state.time
    gaps = np.diff(relative)
    close = (gaps > 0) & (gaps <= REPLAY_TOLERANCE * np.maximum(1.0, np.abs(relative[1:])))
    if np.any(close):
        m = int(np.flatnonzero(close)[0])
        raise ValueError(
            f"input_spikes {m} and {m + 1} lie at {times[m]!r} s and {times[m + 1]!r} s: "
            f"distinct but closer than a relative {REPLAY_TOLERANCE:g} (tau units), so "
            "whether the engine sums them as one instant is decided by rounding. Give them "
            "one time, or move them apart"
        )
    return input_spikes


def _warn_growth(log_factor, kind):
    if log_factor > math.log(_GROWTH_WARNING):
        warnings.warn(
            f"{kind} growth of the adjoint over the run: a factor of about "
            f"exp({log_factor:.3g}) = {math.exp(min(log_factor, 700)):.3g} (chaos, "
            "exp(lambda1 T)); the gradient is dominated by the earliest spikes and is "
            "exact only for vanishing parameter changes. Truncate with window= or "
            "window_spikes=",
            RuntimeWarning,
            stacklevel=3,
        )


def _window_start(forward, window, window_spikes):
    S = forward.indices.size
    if window_spikes is not None:
        return S - window_spikes
    if window is not None:
        return int(np.searchsorted(forward.times, forward.stop_time - window, side="left"))
    return 0


def _evaluate_loss(loss, readout, forward):
    readout_values = None
    if loss.readout_times is not None:
        if np.any(loss.readout_times > forward.stop_time):
            raise ValueError(
                f"readout times must not lie after the end of the run ({forward.stop_time!r} s)"
            )
        readout_values = readout.values(forward.indices, forward.times, loss.readout_times)
    value, time_bar, readout_bar = loss(forward.indices, forward.times, readout_values)
    time_bar = np.asarray(time_bar, dtype=float)
    if time_bar.shape != forward.times.shape:
        raise ValueError(
            f"the loss returned dL/dt of shape {time_bar.shape}, expected one per spike "
            f"{forward.times.shape}"
        )
    return float(value), time_bar, readout_bar, readout_values


def _sweep(problem, forward, time_bar_tau, start, key_bar, renormalize=False):
    """Replay and sweep back segment by segment, from the last to the one holding `start`.

    Returns the key adjoint at the window start, the weight adjoint, the drive adjoint
    before its initial-state terms (see `_reverse`), the keys and the time (tau units,
    relative) there, the largest adjoint, the replay error and the memory of one
    segment's buffers. `key_bar` is the key adjoint at the end of the run. With
    `renormalize` (a list), the key adjoint is rescaled to unit norm after every
    segment and ``(time, log norm)`` appended to it. A run with input neurons goes to
    `_sweep_inputs`. A segment whose pulses the forward recorded is swept on them; the
    others are replayed from their checkpoint first.
    """
    if forward.inputs is not None:
        return _sweep_inputs(problem, forward, time_bar_tau, start, key_bar)
    N = problem.omega.size
    weight_bar = problem.weight_bar
    adjoint = np.zeros((N, 2))
    adjoint[:, 0] = key_bar
    spiker = forward.indices.astype(np.int64)
    engine_times = forward.times / problem.tau - forward.origin
    checkpoints = forward.checkpoints
    ends = [c[0] for c in checkpoints[1:]] + [spiker.size]
    largest = 0.0
    worst = 0.0
    pulses = np.empty((0, 3))
    degrees = np.diff(problem.indptr)
    start_keys = start_time = None
    for (first, keys, recorded), last in zip(reversed(checkpoints), reversed(ends), strict=True):
        if last <= start:
            break
        keys = keys.copy()  # the replays below move them
        previous = engine_times[first - 1] if first > 0 else 0.0
        begin = max(first, start)
        if begin > first:
            error, failed, previous = problem.replay(
                keys, spiker, engine_times, first, begin, previous, False, pulses, np.empty(0)
            )
            _check_replay(failed, error, forward, problem)
            worst = max(worst, error)
        if begin == start:
            start_keys = keys.copy()
            start_time = previous
        if recorded is not None:  # the engine's own pulses: no replay
            segment = recorded[int(np.sum(degrees[spiker[first:begin]])) :]
            segment_time = engine_times[begin]
        else:
            count = int(np.sum(degrees[spiker[begin:last]]))
            if pulses.shape[0] < count:
                pulses = np.empty((count, 3))
            replay_times = np.empty(last - begin)
            error, failed, _ = problem.replay(
                keys, spiker, engine_times, begin, last, previous, True, pulses, replay_times
            )
            _check_replay(failed, error, forward, problem)
            worst = max(worst, error)
            segment, segment_time = pulses, replay_times[0]
        peak = problem.reverse(spiker, time_bar_tau, begin, last, segment, adjoint, weight_bar)
        largest = max(largest, peak)
        if renormalize is not False:
            norm = float(np.linalg.norm(adjoint[:, 0]))
            renormalize.append((segment_time, math.log(norm)))
            adjoint[:, 0] /= norm
    memory = pulses.nbytes + adjoint.nbytes
    memory += sum(c[1].nbytes + (0 if c[2] is None else c[2].nbytes) for c in checkpoints)
    return (
        adjoint[:, 0].copy(), weight_bar, adjoint[:, 1].copy(), start_keys, start_time,
        largest, worst, memory,
    )  # fmt: skip


def _sweep_inputs(problem, forward, time_bar_tau, start, key_bar):
    """`_sweep` for a run with input neurons (input events merged in, see `_replay_inputs`).

    Also fills ``forward.inputs.weight_bar`` (dL/dw per input synapse).
    """
    schedule = forward.inputs
    N = problem.omega.size
    weight_bar = problem.weight_bar
    omega_bar = np.zeros(N)
    scale_bar = np.zeros(N)
    input_weight_bar = np.zeros(problem.in_weights.size)
    spiker = forward.indices.astype(np.int64)
    engine_times = forward.times / problem.tau - forward.origin
    checkpoints = forward.checkpoints
    ends = [c[0] for c in checkpoints[1:]] + [spiker.size]
    recurrent = np.concatenate([[0], np.cumsum(np.diff(problem.indptr)[spiker])])
    graph = (problem.indptr, problem.indices, problem.weights)
    input_graph = (problem.in_indptr, problem.in_indices, problem.in_weights, schedule.sources)
    common = (problem.code, problem.omega, problem.scale, problem.phase_reset,
              problem.phase_threshold, *graph, *input_graph, schedule.event_start)  # fmt: skip
    largest = 0.0
    worst = 0.0
    buffer = np.empty(0)
    start_keys = start_time = None
    for (first, keys, _), last in zip(reversed(checkpoints), reversed(ends), strict=True):
        if last <= start:
            break
        keys = keys.copy()
        previous = engine_times[first - 1] if first > 0 else 0.0
        # a neuron at threshold at the segment start was lifted there by a pulse
        at_threshold = np.abs(keys - previous) <= REPLAY_TOLERANCE * max(1.0, abs(previous))
        lifted = np.where(at_threshold, previous, -np.inf)
        begin = max(first, start)
        if begin > first:
            error, failed, tied, previous, _ = _replay_inputs(
                *common, schedule.event_times, schedule.event_end, keys, lifted, spiker,
                engine_times, first, begin, previous, False, buffer, buffer,
            )  # fmt: skip
            _check_replay(failed, error, forward, problem, tied, schedule)
            worst = max(worst, error)
        if begin == start:
            start_keys = keys.copy()
            start_time = previous
        lowest = schedule.event_end[begin - 1] if begin > 0 else 0
        count = recurrent[last] - recurrent[begin]
        count += schedule.event_pulses[schedule.event_end[last - 1]] - schedule.event_pulses[lowest]
        if buffer.size < count:
            buffer = np.empty(count)
        replay_times = np.empty(last - begin)
        error, failed, tied, _, position = _replay_inputs(
            *common, schedule.event_times, schedule.event_end, keys, lifted, spiker,
            engine_times, begin, last, previous, True, buffer, replay_times,
        )  # fmt: skip
        _check_replay(failed, error, forward, problem, tied, schedule)
        worst = max(worst, error)
        peak = _reverse_inputs(
            *common, schedule.event_end, spiker, time_bar_tau, begin, last, position, buffer,
            key_bar, weight_bar, omega_bar, scale_bar, input_weight_bar,
        )  # fmt: skip
        largest = max(largest, peak)
    schedule.weight_bar = input_weight_bar
    memory = buffer.nbytes + sum(c[1].nbytes for c in checkpoints)
    memory += schedule.sources.nbytes + schedule.event_times.nbytes + schedule.event_end.nbytes
    drive_bar = omega_bar * problem.domega + scale_bar * problem.dscale
    return (
        key_bar, weight_bar, drive_bar, start_keys, start_time, largest, worst, memory,
    )  # fmt: skip


def _check_replay(failed, error, forward, problem, tied=-1, schedule=None):
    if tied >= 0 and (failed < 0 or tied <= failed):
        t = forward.times[tied]
        nearest = schedule.event_times[
            np.argmin(np.abs(schedule.event_times - (t / problem.tau - forward.origin)))
        ]
        raise RuntimeError(
            f"network spike {tied} (neuron {int(forward.indices[tied])}, t = {t!r} s) "
            f"coincides with an input spike at {(nearest + forward.origin) * problem.tau!r} s "
            f"(within a relative {REPLAY_TOLERANCE:g}) without being caused by it: the order "
            "of the two (inputs act first at one instant) is not locally constant in the "
            "parameters, so the gradient there is not defined. Move the input spike"
        )
    if failed >= 0:
        raise RuntimeError(
            f"the replay of the recorded spikes diverged from the engine at spike {failed} "
            f"(neuron {int(forward.indices[failed])}, t = {forward.times[failed]!r} s; "
            f"largest relative time difference {error:.3g}): a tie or rounding changed the "
            "spike order, so the gradient there is not defined. Use a smaller "
            "checkpoint_every or perturb the state"
        )


def gradient_growth(
    network,
    state,
    *,
    n_spikes,
    n_transient_spikes=None,
    checkpoint_every=None,
    seed=0,
    lyapunov=True,
):
    """Backward growth rate of the adjoint norm, next to :math:`\\lambda_1`.

    A random unit adjoint on the final keys is swept back over `n_spikes` spikes of the
    engine run from `state` (no loss), renormalised after every segment;
    the growth rate is the sum of the log norms over the time they span, after
    discarding the last `n_transient_spikes` (the backward transient while the adjoint
    aligns with the most unstable direction). In a chaotic network it equals the largest
    Lyapunov exponent (the transposed Jacobian product has the same singular values),
    which is why untruncated gradients grow like :math:`e^{\\lambda_1 T}` (Engelken
    2023, "Gradient flossing").

    Parameters
    ----------
    network : SparsePropNetwork
    state : SparsePropState
    n_spikes : int
        Spikes of the run (the averaging window plus the transient).
    n_transient_spikes : int, optional
        Backward transient (default ``n_spikes // 5``).
    checkpoint_every : int, optional
        Spikes per segment (and renormalisation interval), default ``max(N // 10, 64)``.
    seed : int
        Seed of the random final adjoint.
    lyapunov : bool
        Also compute :math:`\\lambda_1` with `lyapunov_spectrum` (``m = 2``) on the same
        spikes from `state` (no burn-in, transient ``n_transient_spikes``).

    Returns
    -------
    GradientGrowth
        Unpacks as ``(growth_rate, lambda1)`` (1/s).

    Examples
    --------
    >>> from neurosrnn.sparseprop import balanced_network
    >>> net = balanced_network(100, 10, model="theta", rate=5.0, memory_free=False)
    >>> rate, lambda1 = gradient_growth(net, net.initial_state(seed=1), n_spikes=5000)
    ... # doctest: +SKIP
    """
    check_supported_network(network, inputs=False)
    if not isinstance(state, SparsePropState):
        raise ValueError(f"state must be a SparsePropState, got {type(state).__name__}")
    n_spikes = check_int(n_spikes, "n_spikes", minimum=2)
    transient = n_spikes // 5 if n_transient_spikes is None else n_transient_spikes
    transient = check_int(transient, "n_transient_spikes", minimum=0, maximum=n_spikes - 1)
    every = max(network.N // 10, 64) if checkpoint_every is None else checkpoint_every
    every = check_int(every, "checkpoint_every", minimum=1)
    problem = _Problem(network)
    forward = _forward(problem, network, state, n_spikes, None, every, None, PULSE_MEMORY)
    rng = np.random.default_rng(seed)
    key_bar = rng.standard_normal(network.N)
    key_bar -= key_bar.mean()  # no component along the conserved time-shift direction
    key_bar /= np.linalg.norm(key_bar)
    record = []
    no_loss = np.zeros(forward.indices.size)
    _sweep(problem, forward, no_loss, 0, key_bar, renormalize=record)
    times = np.array([r[0] for r in record]) * problem.tau  # segment start times (s)
    logs = np.array([r[1] for r in record])
    end_time = (forward.times[-1] / problem.tau - forward.origin) * problem.tau
    # the segments swept first (the latest) are the transient
    starts = np.array([c[0] for c in forward.checkpoints])[::-1]
    keep = starts < forward.indices.size - transient
    keep[0] = False if keep.size > 1 else keep[0]
    ends = np.concatenate([[end_time], times[:-1]])
    duration = float(np.sum((ends - times)[keep]))
    growth_rate = float(np.sum(logs[keep]) / duration)
    lambda1 = None
    if lyapunov:
        from neurosrnn.sparseprop.lyapunov import lyapunov_spectrum

        spectrum = lyapunov_spectrum(
            network,
            n_spikes=n_spikes - transient,
            m=2,
            state=state,
            n_burn_in_spikes=0,
            n_transient_spikes=transient,
            progress=False,
        )
        lambda1 = float(spectrum.exponents[0])
    return GradientGrowth(growth_rate, lambda1, duration)
