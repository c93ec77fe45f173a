"""Markdown report lines for the benchmark scripts (shared by the scripts here).

Scripts in this folder are run as ``python benchmarks/<name>.py``, so this module is
importable as ``report`` from any of them.
"""

from __future__ import annotations

from machine import load_average

__all__ = ["Report"]


class Report:
    """Markdown lines, printed as they come and kept in `lines` (for ``--out`` files).

    Every table is headed by its title and the load average when it was written.
    """

    def __init__(self):
        self.lines = []

    def line(self, text=""):
        print(text, flush=True)
        self.lines.append(text)

    def table(self, title, header, rows):
        self.line()
        self.line(f"**{title}** (load average 1/5/15 min: {load_average()})")
        self.line()
        self.line("| " + " | ".join(header) + " |")
        self.line("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.line("| " + " | ".join(str(cell) for cell in row) + " |")
