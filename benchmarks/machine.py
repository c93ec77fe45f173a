"""What a benchmark records about the machine it ran on (shared by the scripts here).

Scripts in this folder are run as ``python benchmarks/<name>.py``, so this module is
importable as ``machine`` from any of them.
"""

from __future__ import annotations

import os
import pathlib
import platform
import subprocess

_ROOT = pathlib.Path(__file__).resolve().parent.parent


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


def memory_total():
    """The machine's memory (``MemTotal`` of ``/proc/meminfo``) as ``"MemTotal x GB"``
    (10^9 bytes), or ``"MemTotal unknown"``."""
    try:
        with open("/proc/meminfo") as stream:
            for line in stream:
                if line.startswith("MemTotal:"):
                    return f"MemTotal {int(line.split()[1]) * 1024 / 1e9:.1f} GB"
    except OSError:
        pass
    return "MemTotal unknown"


def minor_page_faults():
    """Minor page faults of this process so far (first touches of fresh pages; 0 where
    `resource` is unavailable)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def huge_page_counters():
    """Transparent huge page faults and compaction stalls so far (``/proc/vmstat``).

    ``{"thp_fault_alloc": a, "thp_fault_fallback": f, "compact_stall": c}`` (Linux;
    machine-wide, empty where unavailable): a fault in a region that asked for huge
    pages (numpy asks for large arrays) either gets a 2 MiB page (alloc) or falls back
    to 4 KiB pages (fallback); when no free 2 MiB block is left, the faulting process
    first compacts memory itself (a stall, counted as its system CPU time). With 4 KiB
    pages, random access over gigabytes pays a fault per first touch of each page and
    many more TLB misses.
    """
    wanted = ("thp_fault_alloc", "thp_fault_fallback", "compact_stall")
    counters = {}
    try:
        with open("/proc/vmstat") as stream:
            for line in stream:
                name, _, value = line.partition(" ")
                if name in wanted:
                    counters[name] = int(value)
    except OSError:
        pass
    return counters


def load_average():
    """The 1, 5 and 15 minute load averages as ``"a / b / c"`` (``"n/a"`` where unknown)."""
    try:
        return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except OSError:
        return "n/a"


def git_revision(watched="neurosrnn/sparseprop"):
    """Short hash of the checkout's HEAD, flagged when `watched` has uncommitted changes.

    Returns ``"unknown"`` outside a git checkout (or without git).
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=_ROOT,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", watched],
            capture_output=True,
            text=True,
            cwd=_ROOT,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    suffix = f" + uncommitted changes in {watched.split('/', 1)[-1]}/" if dirty else ""
    return head + suffix
