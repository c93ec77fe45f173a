"""Atomic file writes: a temporary file in the target folder, then `os.replace`.

A reader (or a crashed writer's successor) sees either the old file or the complete
new one, never a partial file. Used by every module that writes results.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

__all__ = ["atomic_write"]


def _default_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_write(path, mode="wb", *, prefix=".tmp_", fsync=False):
    """Open a temporary file next to `path`; on success rename it to `path`.

    Parameters
    ----------
    path : str or os.PathLike
        Final file name; its folder is created if needed.
    mode : {"wb", "w"}
        Binary or text.
    prefix : str
        Prefix of the temporary name (lets a reader recognise stray temporaries).
    fsync : bool
        Flush the data to disk before the rename (durability across power loss).

    Yields
    ------
    file object
        Write to it inside the ``with`` block. On an exception the temporary file is
        removed and `path` is untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=os.path.basename(path))
    try:
        with os.fdopen(handle, mode) as stream:
            yield stream
            if fsync:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(temporary, _default_mode())  # mkstemp creates 0600
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise
