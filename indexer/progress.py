"""The CLI's progress bar on stderr (plain phase lines when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .models import Progress

LOG_INTERVAL = 10.0  # seconds between progress lines when stderr is not a terminal


class ProgressBar:
    """Renders pipeline Progress: `parse [#########.........] 412/734 files  180.5 files/s  ETA 2s`."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30, interval: float = 0.1) -> None:
        self.stream, self.width, self.interval = stream, width, interval
        self.tty = stream.isatty()
        self.phase = ""
        self.drawn = False  # something is on the current line
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        new_phase = p.phase != self.phase
        if new_phase:
            self._end_line()
            self.phase = p.phase
            if not self.tty:
                self.stream.write(f"{p.phase}: {p.message}\n")
                self.stream.flush()
                self.last = time.monotonic()
        if not self.tty:  # a log, not a terminal: a line every LOG_INTERVAL while a long phase goes on
            if p.total and time.monotonic() - self.last >= LOG_INTERVAL:
                self.last = time.monotonic()
                self.stream.write(f"{p.phase}: {p.done}/{p.total} {p.message}\n")
                self.stream.flush()
            return
        if p.total == 0:
            return
        now = time.monotonic()
        if not new_phase and now - self.last < self.interval and p.done < p.total:
            return  # throttled: a terminal needs no more than ten redraws a second
        self.last = now
        self.stream.write("\r" + self.render(p))
        self.stream.flush()
        self.drawn = True

    def render(self, p: Progress) -> str:
        filled = int(self.width * p.done / p.total) if p.total else 0
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{p.phase:<8} [{bar}] {p.done}/{p.total}"
        if p.phase == "parse":
            text += f" files  {p.files_per_second:7.1f} files/s"
            if p.files_per_second > 0 and p.done < p.total:
                text += f"  ETA {(p.total - p.done) / p.files_per_second:4.0f}s"
        elif p.phase == "embed" and p.texts_per_second:
            text += f" texts  {p.texts_per_second:6.1f} texts/s"
            if p.eta_seconds is not None and p.done < p.total:
                text += f"  ETA {p.eta_seconds:4.0f}s"
        return text.ljust(110)[:110]

    def _end_line(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
        self.drawn = False

    def close(self) -> None:
        self._end_line()
        self.phase = ""
