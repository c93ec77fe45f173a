"""Deprecated: checkpoint and resume moved to `neurosrnn.sweep.checkpoint`.

This module re-exports its public names (``neurosrnn.sweep.checkpoint.__all__``) and will
be removed in a future release.
"""

import warnings

from neurosrnn.sweep import checkpoint as _checkpoint

__all__ = list(_checkpoint.__all__)
globals().update({name: getattr(_checkpoint, name) for name in __all__})

warnings.warn(
    "neurosrnn.checkpoint is deprecated; import from neurosrnn.sweep.checkpoint instead",
    DeprecationWarning,
    stacklevel=2,
)
