"""Segment estimates of a growth rate from per-interval log growth factors.

Shared by the two-trajectory Lyapunov estimates of the SparseProp engine and of
Brian2 networks (Benettin et al. 1980; error bars from contiguous segments).
"""

from __future__ import annotations

import math

import numpy as np


def segment_exponents(log_growth, interval, n_segments):
    """Per-segment growth rates and the standard error of their mean.

    Parameters
    ----------
    log_growth : ndarray
        :math:`\\ln(d/\\epsilon)` of consecutive intervals of equal length.
    interval : float
        Interval length (s).
    n_segments : int
        Number of contiguous segments (clipped to ``[1, log_growth.size]``).

    Returns
    -------
    segments : ndarray
        Growth rate of every segment (1/s).
    standard_error : float
        ``std(segments, ddof=1) / sqrt(n)``; NaN with a single segment.
    """
    n_segments = max(1, min(int(n_segments), log_growth.size))
    parts = np.array_split(log_growth, n_segments)
    segments = np.array([part.sum() / (part.size * interval) for part in parts])
    error = float(segments.std(ddof=1) / math.sqrt(n_segments)) if n_segments > 1 else math.nan
    return segments, error
