"""Deprecated private alias of `neurosrnn.atomic` (kept for code written before 0.2)."""

from neurosrnn.atomic import atomic_write

__all__ = ["atomic_write"]
