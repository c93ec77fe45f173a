"""Deprecated: the results store moved to `neurosrnn.sweep.store`.

This module re-exports its public names (``neurosrnn.sweep.store.__all__``) and will be
removed in a future release.
"""

import warnings

from neurosrnn.sweep import store as _store

__all__ = list(_store.__all__)
globals().update({name: getattr(_store, name) for name in __all__})

warnings.warn(
    "neurosrnn.store is deprecated; import from neurosrnn.sweep.store instead",
    DeprecationWarning,
    stacklevel=2,
)
