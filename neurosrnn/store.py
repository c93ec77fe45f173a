"""Deprecated: the results store moved to `neurosrnn.sweep.store`.

This module re-exports its public names and will be removed in a future release.
"""

import warnings

from neurosrnn.sweep.store import (
    FORMAT_VERSION,
    CorruptResultError,
    ResultStore,
    canonical_json,
    package_versions,
    read_verified_arrays,
    run_key,
    to_jsonable,
    write_arrays_atomic,
)

__all__ = [
    "FORMAT_VERSION",
    "CorruptResultError",
    "ResultStore",
    "canonical_json",
    "run_key",
    "package_versions",
    "to_jsonable",
    "write_arrays_atomic",
    "read_verified_arrays",
]

warnings.warn(
    "neurosrnn.store is deprecated; import from neurosrnn.sweep.store instead",
    DeprecationWarning,
    stacklevel=2,
)
