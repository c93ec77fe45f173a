"""Input coding: turn static inputs in [0, 1] into T-step sequences.

Every encoder maps an array ``x`` of shape ``(n, features)`` (or ``(features,)``)
with values in [0, 1] to ``(n, T, channels)`` frames usable as SRNN training
input (`neurosrnn.learning`), and every frame array of one sample converts to a
Brian2 input with `as_timed_array` (held analog values) or `as_spike_generator`
(binary frames as spike times).

Codes
-----
- ``"direct"``: the analog value repeated at every step (direct coding; Rathi &
  Roy 2021, IEEE TNNLS, "DIET-SNN").
- ``"rate"``: independent Bernoulli spikes with probability ``x`` per step (the
  discrete-time Poisson rate code), seeded.
- ``"latency"``: quantised time to first spike. Step ``i = 0 .. T-1`` has
  threshold ``z_i = 1 - (i + 1)/T``; a pixel fires once, at the first step with
  ``x >= z_i``, so brighter pixels fire earlier. Pixels with ``x = 0`` never fire
  (the ASNN code's last step has ``z = 0`` and refires every pixel; we do not
  reproduce that quirk). He 2024, arXiv:2408.12407 ("time" encoding).
- ``"hybrid"``: the ASNN hybrid code (He 2024, "mix time"): step 0 carries the
  analog input, steps ``1 .. T-1`` latency frames with thresholds
  ``z = (T - i)/T`` (``(T-1)/T`` down to ``1/T``; pixels below ``1/T`` never
  fire). By default the analog frame goes to its own channels (``2 features``
  channels in all: analog first, spikes second) so a network can give it its own
  input weights, as the ASNN gives it its own stem; ``separate_channels=False``
  overlays both on ``features`` channels.

`latency_thresholds` gives the uniform thresholds above or the equal-frequency
thresholds ``z_k = sigmoid(Phi^-1(k/T))`` suggested for layer-normalised inputs.
"""

from __future__ import annotations

import numpy as np

from neurosrnn.validation import check_seed, seeded_rng

__all__ = [
    "CODINGS",
    "encode",
    "latency_thresholds",
    "as_timed_array",
    "as_spike_generator",
]

CODINGS = ("direct", "rate", "latency", "hybrid")


def _check_T(T):
    if isinstance(T, bool) or not isinstance(T, int | np.integer) or T < 1:
        raise ValueError(f"T (number of time steps) must be an integer >= 1, got {T!r}")
    return int(T)


def latency_thresholds(T, kind="uniform"):
    """Decreasing thresholds ``z_k``, ``k = 0, 1, ..., T-1``, of the latency code.

    Parameters
    ----------
    T : int
        Number of steps (>= 1).
    kind : {"uniform", "equal_frequency"}
        ``"uniform"``: ``z_i = 1 - (i + 1)/T`` (the last one is 0). ``"equal_frequency"``:
        ``z_i = sigmoid(Phi^{-1}(1 - (i + 1)/T))`` (the last one 0), which puts about
        ``1/T`` of the mass of ``sigmoid(N(0, 1))`` in each bin.

    Returns
    -------
    numpy.ndarray, shape (T,)
    """
    T = _check_T(T)
    q = 1.0 - (np.arange(T) + 1.0) / T
    if kind == "uniform":
        return q
    if kind == "equal_frequency":
        from scipy.special import expit, ndtri

        z = np.zeros(T)
        inner = q > 0
        z[inner] = expit(ndtri(q[inner]))
        return z
    raise ValueError(f"kind must be 'uniform' or 'equal_frequency', got {kind!r}")


def _latency_frames(x, thresholds):
    """First step index with ``x >= z_i`` (strictly positive x only) as one-hot frames."""
    n, features = x.shape
    T = len(thresholds)
    # x >= z_i is monotone in i (thresholds decrease), so the first step is a count
    first = np.sum(x[:, :, None] < thresholds[None, None, :], axis=2)
    fires = (x > 0) & (first < T)
    frames = np.zeros((n, T, features))
    sample, feature = np.nonzero(fires)
    frames[sample, first[sample, feature], feature] = 1.0
    return frames


def encode(x, coding, T, *, seed=None, thresholds="uniform", separate_channels=True):
    """Encode inputs in [0, 1] as ``T``-step frames.

    Parameters
    ----------
    x : array, shape (n, features) or (features,)
        Inputs in [0, 1] (e.g. ``digit_images`` pixels).
    coding : {"direct", "rate", "latency", "hybrid"}
    T : int
        Number of time steps (>= 1; ``"hybrid"`` needs T >= 1 and uses T - 1
        latency steps).
    seed : int, optional
        Seed of the rate code's Bernoulli draws (required for ``"rate"`` to be
        reproducible; ``None`` draws fresh entropy).
    thresholds : {"uniform", "equal_frequency"} or array
        Latency thresholds (see `latency_thresholds`), or an explicit decreasing
        array of length ``T`` (``"latency"``) or ``T - 1`` (``"hybrid"``).
    separate_channels : bool
        ``"hybrid"`` only: analog frame on its own channels (default) or overlaid.

    Returns
    -------
    numpy.ndarray
        ``(n, T, channels)`` float frames (``(T, channels)`` for 1-D input), with
        ``channels = features`` except ``2 features`` for a separate-channel hybrid.

    Raises
    ------
    ValueError
        Unknown coding, T < 1, values outside [0, 1] or non-finite, wrong
        threshold length, a negative seed.
    TypeError
        A seed that is not an integer (or a `numpy.random.Generator`).
    """
    if coding not in CODINGS:
        raise ValueError(f"Unknown coding {coding!r}; allowed: {', '.join(CODINGS)}")
    T = _check_T(T)
    if not isinstance(seed, np.random.Generator):
        check_seed(seed, allow_none=True)
    x = np.asarray(x, dtype=np.float64)
    single = x.ndim == 1
    if single:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, features) or (features,), got {x.shape}")
    if not np.all(np.isfinite(x)) or x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError("x must contain finite values in [0, 1] (scale the inputs first)")
    n, features = x.shape
    if coding == "direct":
        frames = np.repeat(x[:, None, :], T, axis=1)
    elif coding == "rate":
        rng = seeded_rng(seed, allow_none=True)
        frames = (rng.random((n, T, features)) < x[:, None, :]).astype(np.float64)
    else:
        n_latency = T if coding == "latency" else T - 1
        if isinstance(thresholds, str):
            z = latency_thresholds(T, thresholds)
            # hybrid steps 1..T-1 use the first T-1 thresholds ((T-1)/T .. 1/T if uniform)
            z = z[:n_latency]
        else:
            z = np.asarray(thresholds, dtype=np.float64)
            if z.shape != (n_latency,):
                raise ValueError(
                    f"thresholds must have length {n_latency} for coding {coding!r} with "
                    f"T={T}, got shape {z.shape}"
                )
            if np.any(np.diff(z) > 0):
                raise ValueError("thresholds must be non-increasing")
        spikes = _latency_frames(x, z)
        if coding == "latency":
            frames = spikes
        else:
            analog = np.zeros((n, T, features))
            analog[:, 0, :] = x
            padded = np.concatenate([np.zeros((n, 1, features)), spikes], axis=1)
            if separate_channels:
                frames = np.concatenate([analog, padded], axis=2)
            else:
                frames = analog + padded
    return frames[0] if single else frames


def _check_frames(frames, dt):
    from brian2 import second
    from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions

    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2:
        raise ValueError(
            f"frames must be one sample of shape (T, channels), got shape {frames.shape}"
        )
    if frames.shape[0] < 1:
        raise ValueError("frames must have T >= 1 steps")
    if get_dimensions(dt) != get_dimensions(second):
        raise DimensionMismatchError("dt must be a time", get_dimensions(dt))
    if not float(dt) > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    return frames


def as_timed_array(frames, dt, name=None):
    """A `brian2.TimedArray` holding ``frames[k]`` during step ``k``.

    Parameters
    ----------
    frames : array, shape (T, channels)
        One sample (e.g. ``encode(...)[i]``).
    dt : brian2 quantity
        Duration of one step (time).
    name : str, optional

    Returns
    -------
    brian2.TimedArray
        Dimensionless; call it as ``table(t, i)`` in a group of ``channels`` neurons
        or synapses (``t`` in step ``k`` gives row ``k``; after the last step it
        holds the last row, as Brian2 does).
    """
    from brian2 import TimedArray

    frames = _check_frames(frames, dt)
    kwargs = {} if name is None else {"name": name}
    return TimedArray(frames, dt=dt, **kwargs)


def as_spike_generator(frames, dt, name=None):
    """A `brian2.SpikeGeneratorGroup` firing where binary ``frames`` are 1.

    Channel ``c`` fires at time ``k dt`` when ``frames[k, c] == 1``.

    Parameters
    ----------
    frames : array, shape (T, channels)
        Binary frames of one sample (rate, latency, or the spike part of hybrid).
    dt : brian2 quantity
        Duration of one step; use the same ``dt`` for the receiving network.
    name : str, optional

    Returns
    -------
    brian2.SpikeGeneratorGroup

    Raises
    ------
    ValueError
        Frames that are not all 0 or 1.
    """
    from brian2 import SpikeGeneratorGroup

    frames = _check_frames(frames, dt)
    if not np.all((frames == 0) | (frames == 1)):
        raise ValueError(
            "as_spike_generator needs binary frames (0/1); analog frames (direct coding, "
            "hybrid analog channels) go through as_timed_array"
        )
    steps, channels = np.nonzero(frames)
    kwargs = {"dt": dt} if name is None else {"dt": dt, "name": name}
    return SpikeGeneratorGroup(frames.shape[1], channels, steps * dt, **kwargs)
