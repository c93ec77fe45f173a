"""Conversion to and from neo objects (optional extra ``neurosrnn[neo]``).

Lets Elephant and neo users move both ways without losing anything:

- `to_neo` turns any spike input (a `SpikeTrains`, a Brian2 monitor, results, arrays;
  see `neurosrnn.analysis.as_spike_trains`) into a ``neo.Segment`` (default), a
  ``neo.Block`` holding that one segment, or a plain list of ``neo.SpikeTrain``: one
  train per neuron, times in seconds, all sharing the window ``[t_start, t_stop)``;
- `from_neo` turns a ``neo.Block``, a ``neo.Segment`` or a list of ``neo.SpikeTrain``
  (any time unit) back into a `SpikeTrains`.

What makes the round trip exact: times stay float64 seconds (no rescaling when they
are in seconds already), each train carries its neuron index as the annotation
``neuron``, and the segment carries ``N`` (silent neurons included) as the annotation
``neurosrnn_N`` and the window as ``neurosrnn_t_start``/``neurosrnn_t_stop`` (a neo
segment's own window is derived from its trains). Foreign trains without these
annotations are numbered in order. neo is imported only here, on first use.
"""

from __future__ import annotations

import numbers

import numpy as np

from neurosrnn.validation import check_choice

from ._spikes import as_spike_trains

__all__ = ["to_neo", "from_neo"]

#: Annotation names written by `to_neo` and read by `from_neo`.
_NEURON = "neuron"
_N = "neurosrnn_N"
_T_START = "neurosrnn_t_start"
_T_STOP = "neurosrnn_t_stop"


def _neo():
    try:
        import neo
        import quantities
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "neo is needed for this conversion: pip install 'neurosrnn[neo]'"
        ) from error
    return neo, quantities


def to_neo(spikes, *, N=None, t_start=None, t_stop=None, container="segment", name=None):
    """Spikes as neo objects: one ``neo.SpikeTrain`` per neuron, in seconds.

    Parameters
    ----------
    spikes : SpikeTrains, SpikeMonitor, results, (i, t) pair, list of arrays, ...
        Anything `neurosrnn.analysis.as_spike_trains` accepts.
    N : int, optional
        Number of neurons (default: the input's).
    t_start, t_stop : float or Brian2 quantity, optional
        Window ``[t_start, t_stop)`` in seconds (default: the input's); every train
        gets it.
    container : {"segment", "block", "list"}
        Return a ``neo.Segment`` of the trains, a ``neo.Block`` holding that one
        segment, or the bare list of trains.
    name : str, optional
        Name of the segment and block (default: the spike trains' name).

    Returns
    -------
    neo.Segment, neo.Block or list of neo.SpikeTrain
        Train ``k`` is neuron ``k``, annotated ``neuron=k``; the segment is annotated
        with ``neurosrnn_N``, ``neurosrnn_t_start`` and ``neurosrnn_t_stop`` (seconds).

    Examples
    --------
    >>> segment = to_neo(([1, 0, 1], [0.3, 0.1, 0.2]), N=3, t_stop=0.5)
    >>> [train.annotations["neuron"] for train in segment.spiketrains]
    [0, 1, 2]
    >>> from_neo(segment).train(1)
    array([0.2, 0.3])
    """
    check_choice(container, "container", ("segment", "block", "list"))
    neo, pq = _neo()
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    trains = [
        neo.SpikeTrain(
            np.array(st.train(k), dtype=np.float64),
            units=pq.s,
            t_start=st.t_start * pq.s,
            t_stop=st.t_stop * pq.s,
            **{_NEURON: k},
        )
        for k in range(st.N)
    ]
    if container == "list":
        return trains
    name = st.name if name is None else name
    segment = neo.Segment(name=name, **{_N: st.N, _T_START: st.t_start, _T_STOP: st.t_stop})
    for train in trains:
        train.segment = segment
    segment.spiketrains.extend(trains)
    if container == "segment":
        return segment
    block = neo.Block(name=name)
    block.segments.append(segment)
    segment.block = block
    return block


def from_neo(source, *, N=None, t_start=None, t_stop=None, segment=None):
    """A `SpikeTrains` from neo objects (times rescaled to seconds).

    Parameters
    ----------
    source : neo.Block, neo.Segment or sequence of neo.SpikeTrain
        A block must hold one segment, or name it with `segment`.
    N : int, optional
        Number of neurons. Default: the segment's ``neurosrnn_N`` annotation, else one
        more than the largest ``neuron`` annotation, else the number of trains.
    t_start, t_stop : float or Brian2 quantity, optional
        Window in seconds. Default: the segment's ``neurosrnn_t_start`` and
        ``neurosrnn_t_stop`` annotations, else the smallest ``t_start`` and largest
        ``t_stop`` of the trains. The window is half-open, so a spike exactly at
        ``t_stop`` (which neo allows) is dropped, as are spikes outside an explicit
        window.
    segment : int, optional
        Index of the segment to read from a block of several (trials).

    Returns
    -------
    SpikeTrains
        Neuron ``k`` holds the train annotated ``neuron=k`` (trains without the
        annotation are numbered in order, which then applies to all of them).

    Raises
    ------
    ValueError
        Empty input, objects that are not neo, a block of several segments without
        `segment`, or two trains annotated with the same neuron.
    """
    neo, pq = _neo()
    annotations = {}
    if isinstance(source, neo.Block):
        segments = list(source.segments)
        if segment is None:
            if len(segments) != 1:
                raise ValueError(
                    f"this neo.Block has {len(segments)} segments; choose one with "
                    f"segment=0..{len(segments) - 1}"
                )
            segment = 0
        if not 0 <= segment < len(segments):
            raise ValueError(f"segment must lie in [0, {len(segments)}), got {segment!r}")
        source = segments[segment]
    elif segment is not None:
        raise ValueError(f"segment={segment!r} is only meaningful for a neo.Block")
    if isinstance(source, neo.Segment):
        annotations = source.annotations
        name = source.name
        trains = list(source.spiketrains)
    elif isinstance(source, neo.SpikeTrain):
        raise ValueError("source is one neo.SpikeTrain: pass a list of them (one per neuron)")
    else:
        name = None
        try:
            trains = list(source)
        except TypeError:
            raise ValueError(
                "source must be a neo.Block, a neo.Segment or a list of neo.SpikeTrain, got "
                f"{type(source).__name__}"
            ) from None
    if not trains:
        raise ValueError("source holds no spike trains (empty)")
    for k, train in enumerate(trains):
        if not isinstance(train, neo.SpikeTrain):
            raise ValueError(f"spiketrains[{k}] is a {type(train).__name__}, not a neo.SpikeTrain")
    neurons = _neuron_indices(trains)
    if N is None:
        N = annotations.get(_N)
        N = int(N) if N is not None else int(neurons.max()) + 1
    if t_start is None:
        t_start = annotations.get(_T_START)
        if t_start is None:
            t_start = min(float(train.t_start.rescale(pq.s).magnitude) for train in trains)
    if t_stop is None:
        t_stop = annotations.get(_T_STOP)
        if t_stop is None:
            t_stop = max(float(train.t_stop.rescale(pq.s).magnitude) for train in trains)
    times = [_seconds(train, pq) for train in trains]
    indices = np.repeat(neurons, [train_times.size for train_times in times])
    result = as_spike_trains((indices, np.concatenate(times)), N=N, t_start=t_start, t_stop=t_stop)
    if name:
        result.name = name
    return result


def _seconds(train, pq):
    """A neo train's times as float64 seconds (bit for bit when already in seconds)."""
    if train.units == pq.s:
        return np.array(train.magnitude, dtype=np.float64)
    return np.array(train.times.rescale(pq.s).magnitude, dtype=np.float64)


def _neuron_indices(trains):
    """The neuron of every train: its ``neuron`` annotation, or its position."""
    labels = [train.annotations.get(_NEURON) for train in trains]
    if not all(
        isinstance(label, numbers.Integral) and not isinstance(label, bool) for label in labels
    ):
        return np.arange(len(trains), dtype=np.int64)
    neurons = np.array(labels, dtype=np.int64)
    if np.unique(neurons).size != neurons.size or neurons.min() < 0:
        raise ValueError(
            "the trains' 'neuron' annotations must be distinct integers >= 0, got "
            f"{sorted(labels)[:10]}"
        )
    return neurons
