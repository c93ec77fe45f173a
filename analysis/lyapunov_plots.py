"""Plots of Lyapunov spectra, their convergence and of perturbation growth.

Presentation of the results of `neurosrnn.analysis.lyapunov` (and of the spiking and
Brian2 engines, whose results carry the same attributes): `plot_spectrum`,
`plot_convergence`, `plot_divergence`. All three are importable from
`neurosrnn.analysis.lyapunov` and `neurosrnn.analysis` as well. Needs matplotlib.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_spectrum", "plot_convergence", "plot_divergence"]


def _finite_vector(values, name):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers")
    return values


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.5, 3.2))
    return ax


def plot_spectrum(exponents, *, errors=None, normalize_index=True, ax=None, label=None, **kwargs):
    """Plot a Lyapunov spectrum :math:`\\lambda_i` against :math:`i/N` (or :math:`i`).

    Parameters
    ----------
    exponents : array or LyapunovResult-like
        Exponents, or any object with an ``exponents`` attribute (then its
        ``standard_error`` is used for `errors` when present).
    errors : array, optional
        Error bars.
    normalize_index : bool
        Plot against :math:`i/N` (extensive chaos collapses across sizes) where
        :math:`N` is the number of exponents, or against :math:`i`. Pass an integer
        to divide by that :math:`N` instead (partial spectra).
    ax : matplotlib Axes, optional
    label : str, optional
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_spectrum([0.42, -1.62], errors=[0.01, 0.01], label="Hénon")
    >>> ax.lines[0].get_xdata().tolist(), ax.get_xlabel()
    ([0.5, 1.0], 'i / N')
    >>> plt.close("all")
    """
    if hasattr(exponents, "exponents"):
        if errors is None:
            errors = getattr(exponents, "standard_error", None)
        exponents = exponents.exponents
    values = _finite_vector(exponents, "exponents")
    ax = _axes(ax)
    index = np.arange(1, values.size + 1, dtype=float)
    if normalize_index is True:
        index /= values.size
        ax.set_xlabel("i / N")
    elif normalize_index:
        index /= float(normalize_index)
        ax.set_xlabel("i / N")
    else:
        ax.set_xlabel("index i")
    (line,) = ax.plot(index, values, label=label, **kwargs)
    if errors is not None and np.all(np.isfinite(errors)):
        errors = np.asarray(errors, dtype=float)
        ax.fill_between(index, values - errors, values + errors, alpha=0.3, color=line.get_color())
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_ylabel(r"Lyapunov exponent $\lambda_i$")
    if label is not None:
        ax.legend(frameon=False)
    return ax


def plot_convergence(times, running=None, *, n_show=5, ax=None, time_unit=None):
    """Plot running estimates of the leading exponents against averaging time.

    Parameters
    ----------
    times : array or LyapunovResult-like
        Averaging times, or an object with ``times``, ``running`` and
        ``time_unit`` attributes.
    running : array, shape (n_records, m), optional
        Running estimates (required if `times` is an array).
    n_show : int
        Number of leading exponents shown.
    ax : matplotlib Axes, optional
    time_unit : str, optional
        Axis label unit.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> times = np.array([1.0, 2.0, 3.0])
    >>> running = np.array([[0.5, -1.0], [0.45, -1.1], [0.42, -1.2]])
    >>> ax = plot_convergence(times, running, n_show=2, time_unit="s")
    >>> len(ax.lines), ax.get_xlabel()
    (2, 'averaging time (s)')
    >>> plt.close("all")
    """
    if hasattr(times, "running"):
        time_unit = time_unit or getattr(times, "time_unit", None)
        running = times.running
        times = times.times
    times = np.asarray(times, dtype=float)
    running = np.asarray(running, dtype=float)
    if running.ndim != 2 or running.shape[0] != times.size:
        raise ValueError("running must have shape (len(times), m)")
    ax = _axes(ax)
    if isinstance(n_show, bool) or not isinstance(n_show, int | np.integer) or n_show < 1:
        raise ValueError(f"n_show must be a positive integer, got {n_show!r}")
    for k in range(min(int(n_show), running.shape[1])):
        ax.plot(times, running[:, k], label=f"$\\lambda_{{{k + 1}}}$")
    ax.set_xlabel(f"averaging time ({time_unit})" if time_unit else "averaging time")
    ax.set_ylabel("running estimate")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_divergence(times, distances, *, ax=None, label=None, time_unit="s", log=True):
    """Plot perturbation distance against time (log scale: exponential growth is a line).

    Parameters
    ----------
    times : array
        Times.
    distances : array, shape (n,) or (n_trials, n)
        Distances; several trials are drawn as thin lines with their geometric mean.
    ax : matplotlib Axes, optional
    label : str, optional
    time_unit : str
        Axis label unit.
    log : bool
        Logarithmic distance axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    Two trials of a perturbation growing as :math:`e^{t}` and :math:`e^{2t}`: two thin
    lines and their geometric mean.

    >>> import matplotlib.pyplot as plt
    >>> times = np.linspace(0.0, 1.0, 5)
    >>> ax = plot_divergence(times, np.exp(np.vstack([times, 2 * times])))
    >>> len(ax.lines), ax.get_yscale()
    (3, 'log')
    >>> plt.close("all")
    """
    times = np.asarray(times, dtype=float)
    distances = np.asarray(distances, dtype=float)
    if distances.shape[-1] != times.size:
        raise ValueError("distances must have times.size entries along its last axis")
    ax = _axes(ax)
    if distances.ndim == 2:
        for trial in distances:
            ax.plot(times, trial, color="0.7", lw=0.6)
        with np.errstate(divide="ignore"):
            mean = np.exp(np.mean(np.log(distances), axis=0))
        ax.plot(times, mean, label=label, lw=1.5)
    else:
        ax.plot(times, distances, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("distance")
    if label is not None:
        ax.legend(frameon=False)
    return ax
