"""Conversion to and from neo ``SpikeTrain`` objects (optional extra ``neurosrnn[neo]``).

Lets Elephant users move both ways: `to_neo` turns Brian2 spikes (monitor or arrays)
into a list of ``neo.SpikeTrain`` (one per neuron, in seconds, sharing the window), and
`from_neo` turns a list of ``neo.SpikeTrain`` (any time unit) into a `SpikeTrains`,
which every function of ``neurosrnn.analysis`` accepts. neo is imported only here.
"""

from __future__ import annotations

import numpy as np

from ._spikes import SpikeTrains, as_spike_trains

__all__ = ["to_neo", "from_neo"]


def _neo():
    try:
        import neo
        import quantities
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "neo is needed for this conversion: pip install 'neurosrnn[neo]'"
        ) from error
    return neo, quantities


def to_neo(spikes, *, N=None, t_start=None, t_stop=None):
    """One ``neo.SpikeTrain`` per neuron (seconds), all with the window ``[t_start, t_stop)``.

    Parameters
    ----------
    spikes : SpikeMonitor, (i, t) pair, list of arrays or SpikeTrains

    Returns
    -------
    list of neo.SpikeTrain
        Annotated with ``neuron`` (the index).
    """
    neo, pq = _neo()
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    return [
        neo.SpikeTrain(
            st.train(k).copy(),
            units=pq.s,
            t_start=st.t_start * pq.s,
            t_stop=st.t_stop * pq.s,
            neuron=k,
        )
        for k in range(st.N)
    ]


def from_neo(spiketrains, *, t_start=None, t_stop=None):
    """A `SpikeTrains` from neo ``SpikeTrain`` objects (rescaled to seconds).

    The window defaults to the smallest ``t_start`` and largest ``t_stop`` of the
    trains; it is half-open, so a spike exactly at ``t_stop`` (allowed by neo) is
    dropped, as are spikes outside an explicit window.

    Raises
    ------
    ValueError
        Empty input or objects that are not neo SpikeTrains.
    """
    neo, pq = _neo()
    spiketrains = list(spiketrains)
    if not spiketrains:
        raise ValueError("spiketrains is empty")
    for k, train in enumerate(spiketrains):
        if not isinstance(train, neo.SpikeTrain):
            raise ValueError(f"spiketrains[{k}] is a {type(train).__name__}, not a neo.SpikeTrain")
    if t_start is None:
        t_start = min(float(train.t_start.rescale(pq.s).magnitude) for train in spiketrains)
    if t_stop is None:
        t_stop = max(float(train.t_stop.rescale(pq.s).magnitude) for train in spiketrains)
    trains = [
        np.sort(train.times.rescale(pq.s).magnitude.astype(np.float64)) for train in spiketrains
    ]
    result = as_spike_trains(trains, t_start=t_start, t_stop=t_stop)
    return SpikeTrains(result.times, result.indptr, result.t_start, result.t_stop)
