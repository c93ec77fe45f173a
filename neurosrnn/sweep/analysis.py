"""Analysis of one stored sweep run: the scalar columns of the sweep table.

An analysis is any callable ``analysis(stored_result) -> dict`` of scalars, applied on
the worker to the verified stored result (`neurosrnn.sweep.store.ResultStore.load`).
`firing_statistics` is the default of `neurosrnn.sweep.loop.run_sweep`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["firing_statistics"]


def firing_statistics(result):
    """Mean firing rate and mean ISI coefficient of variation of one run.

    .. math::

        \\bar\\nu = \\frac{n_{spikes}}{N T}, \\qquad
        \\overline{CV} = \\left\\langle \\frac{\\sigma(ISI_i)}{\\langle ISI_i \\rangle}
        \\right\\rangle_{i:\\, n_i \\geq 3}

    with the population standard deviation (``ddof=0``): the CV is the package's one
    definition, `neurosrnn.analysis.cv`, averaged with `numpy.nanmean` over the neurons
    that fired at least 3 times.

    Parameters
    ----------
    result : dict
        A stored run (``spike_indices``, ``spike_times`` in seconds and metadata
        ``info`` with ``N`` and ``duration_s``).

    Returns
    -------
    dict
        ``rate_hz``, ``cv_mean`` (NaN when no neuron fired 3 times), ``n_spikes``.
    """
    # Imported here: `neurosrnn.analysis` loads numba, which `import neurosrnn.sweep`
    # (and so the command-line parser) should not pay for.
    from neurosrnn.analysis import cv

    info = result["metadata"]["info"]
    N, duration = int(info["N"]), float(info["duration_s"])
    indices = np.asarray(result["spike_indices"], dtype=np.int64)
    times = np.asarray(result["spike_times"], dtype=float)
    # A window [0, t_stop) that holds every spike of the run, one at `duration` included.
    t_stop = np.nextafter(max(duration, float(times.max()) if times.size else 0.0), np.inf)
    per_neuron = cv((indices, times), N=N, t_start=0.0, t_stop=float(t_stop))
    # all NaN: no neuron fired 3 times (checked first: nanmean would warn)
    cv_mean = float("nan") if np.all(np.isnan(per_neuron)) else float(np.nanmean(per_neuron))
    return {
        "rate_hz": float(indices.size / (N * duration)),
        "cv_mean": cv_mean,
        "n_spikes": int(indices.size),
    }
