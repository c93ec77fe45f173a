"""Deprecated: sweep files moved to `neurosrnn.sweep.spec`.

This module re-exports its public names (``neurosrnn.sweep.spec.__all__``) and will be
removed in a future release.
"""

import warnings

from neurosrnn.sweep import spec as _spec

__all__ = list(_spec.__all__)
globals().update({name: getattr(_spec, name) for name in __all__})

warnings.warn(
    "neurosrnn.sweep_file is deprecated; import from neurosrnn.sweep.spec instead",
    DeprecationWarning,
    stacklevel=2,
)
