"""A progress line on stderr for long runs: only on a terminal, never in logs or pipes."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "color_enabled", "progress_for"]

_DELAY_S = float(os.environ.get("HIPIFY_TOOL_PROGRESS_DELAY", "0.5"))
"""Runs shorter than this show nothing (the variable exists for tests)."""


def color_enabled(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set to anything (no-color.org)."""
    stream = stream or sys.stderr
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


class ProgressBar:
    """``progress(done, known)`` callback drawing one self-overwriting line; :meth:`close` erases it."""

    def __init__(self, stream: TextIO, *, color: bool, width: int = 30) -> None:
        self.stream = stream
        self.color = color
        self.width = width
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, known: int) -> None:
        if time.monotonic() - self.start < _DELAY_S or known <= 0:
            return
        filled = min(self.width, self.width * done // known)
        bar = "#" * filled + "-" * (self.width - filled)
        if self.color:
            bar = f"\x1b[36m{bar}\x1b[0m"
        self.stream.write(f"\rhipify-tool: translating [{bar}] {done}/{known}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def progress_for(quiet: bool, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar when ``stream`` (default stderr) is a terminal and output is not quieted; else None."""
    stream = stream or sys.stderr
    if quiet or not stream.isatty() or os.environ.get("TERM") == "dumb":
        return None
    return ProgressBar(stream, color=color_enabled(stream))
