"""Deprecated: checkpoint and resume moved to `neurosrnn.sweep.checkpoint`.

This module re-exports its public names and will be removed in a future release.
"""

import warnings

from neurosrnn.sweep.checkpoint import (
    CheckpointDirectory,
    load_checkpointed_spikes,
    run_with_checkpoints,
    sparseprop_checkpointed_run,
    sparseprop_state_from_arrays,
    sparseprop_state_to_arrays,
)

__all__ = [
    "CheckpointDirectory",
    "run_with_checkpoints",
    "load_checkpointed_spikes",
    "sparseprop_checkpointed_run",
    "sparseprop_state_to_arrays",
    "sparseprop_state_from_arrays",
]

warnings.warn(
    "neurosrnn.checkpoint is deprecated; import from neurosrnn.sweep.checkpoint instead",
    DeprecationWarning,
    stacklevel=2,
)
