"""Deprecated: sweep files moved to `neurosrnn.sweep.spec`.

This module re-exports its public names and will be removed in a future release.
"""

import warnings

from neurosrnn.sweep.spec import SweepSpecification, load_sweep_file, parse_quantity, parse_sweep

__all__ = ["SweepSpecification", "load_sweep_file", "parse_sweep", "parse_quantity"]

warnings.warn(
    "neurosrnn.sweep_file is deprecated; import from neurosrnn.sweep.spec instead",
    DeprecationWarning,
    stacklevel=2,
)
