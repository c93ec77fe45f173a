"""Time the phases of `neurosrnn.sparseprop.gradients.spike_gradients` from outside.

Shared by ``benchmarks/sparseprop_gradients.py`` and
``experiments/sparseprop_gradient_scale.py`` (both put this folder on ``sys.path``).
"""

from __future__ import annotations

import os
import time

from machine import minor_page_faults

from neurosrnn.sparseprop import gradients as gradient_module

__all__ = ["PhaseTimer"]


class PhaseTimer:
    """Wraps `spike_gradients`' private phases to time them (behaviour unchanged).

    Within the ``with`` block the graph set-up (``_Problem``), the checkpointed forward
    pass (``_forward``) and the adjoint sweep (``_sweep``) accumulate their seconds in
    `seconds` (measured with `clock`), their process CPU seconds in `cpu_seconds` and the
    system part of those (kernel time: page faults of fresh memory, mostly) in
    `system_seconds`, and their minor page faults in `minor_faults`, keyed ``"setup"``,
    ``"forward"``, ``"sweep"``.

    Parameters
    ----------
    clock : callable
        The clock of `seconds` (default `time.perf_counter`, wall time).
    """

    _NAMES = {"_Problem": "setup", "_forward": "forward", "_sweep": "sweep"}

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.seconds = {}
        self.cpu_seconds = {}
        self.system_seconds = {}
        self.minor_faults = {}
        self._originals = {}

    def __enter__(self):
        for attribute, label in self._NAMES.items():
            original = getattr(gradient_module, attribute)
            self._originals[attribute] = original
            setattr(gradient_module, attribute, self._timed(original, label))
        return self

    def __exit__(self, *exc):
        for attribute, original in self._originals.items():
            setattr(gradient_module, attribute, original)

    def _timed(self, function, label):
        def wrapper(*args, **kwargs):
            started, cpu, system = self.clock(), time.process_time(), os.times().system
            faults = minor_page_faults()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = self.clock() - started
                self.seconds[label] = self.seconds.get(label, 0.0) + elapsed
                cpu = time.process_time() - cpu
                self.cpu_seconds[label] = self.cpu_seconds.get(label, 0.0) + cpu
                system = os.times().system - system
                self.system_seconds[label] = self.system_seconds.get(label, 0.0) + system
                faults = minor_page_faults() - faults
                self.minor_faults[label] = self.minor_faults.get(label, 0) + faults

        return wrapper
