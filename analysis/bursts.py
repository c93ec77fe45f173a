"""Bursts: runs of closely spaced spikes, found per neuron by the ISI-threshold rule.

Spike input and window as in `neurosrnn.analysis.statistics` (any form accepted by
`neurosrnn.analysis.as_spike_trains`, times in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosrnn.units import to_seconds

from ._spikes import as_spike_trains

__all__ = ["Bursts", "detect_bursts"]


@dataclass(repr=False)
class Bursts:
    """Bursts found by `detect_bursts`: one entry per burst, sorted by neuron then time.

    Attributes
    ----------
    neuron, start, stop, n_spikes : ndarray
        Neuron, first and last spike time (seconds) and spike count of every burst.
    N : int
        Number of neurons.
    duration : float
        Window length (seconds).
    max_isi : float
        The ISI threshold used (seconds).
    min_spikes : int
        The smallest burst size used.

    Examples
    --------
    >>> bursts = detect_bursts([[0.1, 0.105, 0.11, 0.5], [0.3]], 0.01, t_stop=1.0)
    >>> bursts
    Bursts(n_bursts=1, N=2, max_isi=0.01 s, min_spikes=3)
    >>> bursts.burst_rate
    array([1., 0.])
    """

    neuron: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    n_spikes: np.ndarray
    N: int
    duration: float
    max_isi: float
    min_spikes: int

    @property
    def burst_rate(self):
        """Bursts per second of every neuron (Hz)."""
        return np.bincount(self.neuron, minlength=self.N) / self.duration

    def fraction_in_bursts(self, counts):
        """Fraction of each neuron's spikes that belong to a burst (NaN if silent).

        Examples
        --------
        >>> bursts = detect_bursts([[0.1, 0.105, 0.11, 0.5], []], 0.01, t_stop=1.0)
        >>> bursts.fraction_in_bursts([4, 0])
        array([0.75,  nan])
        """
        in_bursts = np.bincount(self.neuron, weights=self.n_spikes, minlength=self.N)
        with np.errstate(invalid="ignore", divide="ignore"):
            return in_bursts / np.asarray(counts)

    def __len__(self):
        return self.neuron.size

    def __repr__(self):
        return (
            f"Bursts(n_bursts={len(self)}, N={self.N}, max_isi={self.max_isi:g} s, "
            f"min_spikes={self.min_spikes})"
        )


def detect_bursts(spikes, max_isi, *, min_spikes=3, N=None, t_start=None, t_stop=None):
    """Bursts by the ISI-threshold (max-interval) rule.

    A burst is a maximal run of at least ``min_spikes`` spikes of one neuron whose
    consecutive ISIs are all ``<= max_isi`` (the simplest of the methods compared by
    Cotterill et al. 2016, J. Neurophysiol. 116:306; e.g. Chiappalone et al. 2005,
    Brain Res. 1093:41). Runs never cross neurons.

    Returns
    -------
    Bursts

    Examples
    --------
    >>> from brian2 import ms
    >>> trains = [[0.1, 0.105, 0.11, 0.5, 0.502, 0.504, 0.506], [0.2, 0.201]]
    >>> bursts = detect_bursts(trains, 10 * ms, min_spikes=3, t_stop=1.0)
    >>> bursts.neuron, bursts.n_spikes
    (array([0, 0]), array([3, 4]))
    >>> bursts.start
    array([0.1, 0.5])
    """
    max_isi = to_seconds(max_isi, "max_isi", positive=True)
    if min_spikes < 2:
        raise ValueError(f"min_spikes must be >= 2, got {min_spikes}")
    st = as_spike_trains(spikes, N=N, t_start=t_start, t_stop=t_stop)
    n = st.times.size
    link = np.zeros(max(n - 1, 0), dtype=bool)
    if n > 1:
        link = np.diff(st.times) <= max_isi
        boundary = st.indptr[1:-1] - 1
        boundary = boundary[(boundary >= 0) & (boundary < n - 1)]
        link[boundary] = False
    padded = np.concatenate([[0], link.astype(np.int8), [0]])
    change = np.diff(padded)
    run_start = np.flatnonzero(change == 1)  # first spike of the run
    run_stop = np.flatnonzero(change == -1)  # last spike of the run
    n_spikes = run_stop - run_start + 1
    keep = n_spikes >= min_spikes
    run_start, run_stop, n_spikes = run_start[keep], run_stop[keep], n_spikes[keep]
    owner = st.indices
    return Bursts(
        neuron=owner[run_start] if n else np.zeros(0, dtype=np.int64),
        start=st.times[run_start],
        stop=st.times[run_stop],
        n_spikes=n_spikes,
        N=st.N,
        duration=st.duration,
        max_isi=max_isi,
        min_spikes=min_spikes,
    )
