"""What a benchmark records about the machine it ran on (shared by the scripts here).

Scripts in this folder are run as ``python benchmarks/<name>.py``, so this module is
importable as ``machine`` from any of them.
"""

from __future__ import annotations

import platform


def cpu_model():
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what `platform` says."""
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
