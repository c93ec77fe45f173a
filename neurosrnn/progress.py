"""Progress bars: one convention for every long-running function of the package.

Every function that may run for more than a few seconds takes ``progress`` and passes it
to `progress_bar`:

- ``None`` (automatic): a bar on standard error only when it is an interactive terminal,
  shown once the work has lasted ``delay`` seconds; never in logs, CI or notebooks run
  by a script;
- ``True``: always a bar (also in notebooks and logs);
- ``False``: never.

The bars are `tqdm <https://tqdm.github.io>`_ bars with one format,
``"<label> [#####.....] n/total <elapsed><remaining>"``.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["progress_bar", "progress_enabled"]

_FORMAT = "{desc} [{bar:30}] {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}{postfix}]"
_FORMAT_NO_TOTAL = "{desc} {n_fmt} {unit} [{elapsed}{postfix}]"


def progress_enabled(progress, stream=None):
    """Whether a bar is drawn for ``progress`` (see the module docstring).

    Parameters
    ----------
    progress : bool or None
        The user's choice; None means "on an interactive terminal".
    stream : file object, optional
        Where the bar goes (default: standard error).

    Raises
    ------
    TypeError
        `progress` is neither None nor a bool.
    """
    if progress is None:
        stream = sys.stderr if stream is None else stream
        return bool(getattr(stream, "isatty", lambda: False)())
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (automatic), got {progress!r}")
    return progress


def progress_bar(iterable=None, *, total=None, label, progress=None, unit="", delay=None,
                 stream=None, **kwargs):  # fmt: skip
    """A tqdm bar (or a disabled one) following the package's ``progress`` convention.

    Parameters
    ----------
    iterable : iterable, optional
        Wrap it (``for item in progress_bar(items, label=...)``); or leave it out and call
        ``bar.update(n)`` yourself.
    total : int or float, optional
        Number of units of work (default: ``len(iterable)`` where defined).
    label : str
        What is running, shown first (e.g. ``"SparseProp"``, ``"sweep"``).
    progress : bool or None
        True always, False never, None on an interactive terminal after `delay`.
    unit : str
        Name of the unit of work (``"spikes"``, ``"runs"``, ``"epochs"``).
    delay : float, optional
        Seconds before the bar first appears; default 2 s in automatic mode, 0 otherwise.
    stream : file object, optional
        Default standard error.
    **kwargs
        Passed to `tqdm.tqdm` (e.g. ``leave``, ``mininterval``).

    Returns
    -------
    tqdm.tqdm
        Use as a context manager or call ``close()``; disabled bars cost nothing.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> for _ in progress_bar(range(3), label="demo", progress=True, stream=stream):
    ...     pass
    >>> "demo [" in stream.getvalue() and "3/3" in stream.getvalue()
    True
    """
    enabled = progress_enabled(progress, stream)
    if delay is None:
        delay = 2.0 if progress is None else 0.0
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    return tqdm(
        iterable,
        total=total,
        desc=label,
        unit=unit,
        disable=not enabled,
        delay=delay,
        file=sys.stderr if stream is None else stream,
        bar_format=_FORMAT if total is not None else _FORMAT_NO_TOTAL,
        ascii=" #",
        dynamic_ncols=False,
        **kwargs,
    )
