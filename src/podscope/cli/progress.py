"""How the CLI shows the library's events on stderr.

On a terminal, phase events drive one status line that updates in place (the phase and the
time it has taken so far) until the session takes the terminal over (exec or attach); a last
line then gives each phase's duration. Not on a terminal, every sentence is a plain line and
the durations come as one line at the end. ``-q`` shows nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from podscope.events import Event

# The session owns the terminal from these phases on: stop drawing before they start.
_HANDOVER = ("exec", "attach", "done")
_TICK = 0.1
# Whether a printer has told the user about a Ctrl-C (where the debugger stays, ...), so
# that the CLI's own last word does not say "interrupted" a second time.
_interruption_said = False


def interruption_said() -> bool:
    return _interruption_said


class EventPrinter:
    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        # Messages can arrive while the terminal is in raw mode (a Pod watch runs during the
        # session), where "\n" alone does not return the cursor to the first column.
        self.end = "\r\n" if self.live else "\n"
        self.phases: list[tuple[str, float]] = []  # (phase, start)
        self.measured: list[tuple[str, float]] = []  # (phase, seconds) measured elsewhere
        self.status = ""
        self.drawing = False
        self.lock = threading.Lock()
        self.ticker: threading.Thread | None = None

    def __call__(self, event: Event) -> None:
        if self.quiet:
            return
        with self.lock:
            if event.kind == "phase":
                self._phase(event)
                return
            self._clear()
            if event.message.startswith("interrupted"):
                global _interruption_said
                _interruption_said = True
            prefix = "warning: " if event.kind == "warning" else ""
            self.stream.write(f"podscope: {prefix}{event.message}{self.end}")
            self._draw()
            self.stream.flush()

    def _phase(self, event: Event) -> None:
        assert event.phase is not None
        if event.seconds is not None:
            # A duration inside a phase: it goes into the timings, not the status line.
            self.measured.append((event.phase, event.seconds))
            if not self.drawing:
                self._clear()
                self.stream.write(f"podscope: {event.message}{self.end}")
                self.stream.flush()
            return
        self.phases.append((event.phase, event.at))
        if event.phase in _HANDOVER:
            self._finish()
            return
        self.status = event.message
        if self.live:
            self.drawing = True
            self._draw()
            self.stream.flush()
            if self.ticker is None:
                self.ticker = threading.Thread(target=self._tick, daemon=True)
                self.ticker.start()

    def _tick(self) -> None:
        while True:
            time.sleep(_TICK)
            with self.lock:
                if not self.drawing:
                    return
                self._draw()
                self.stream.flush()

    def _draw(self) -> None:
        if self.drawing and self.phases:
            phase, start = self.phases[-1]
            self.stream.write(f"\r\x1b[2Kpodscope: {self.status} ({time.monotonic() - start:.1f}s)")

    def _clear(self) -> None:
        if self.drawing:
            self.stream.write("\r\x1b[2K")

    def _finish(self) -> None:
        if not self.drawing and not self.phases[:-1]:
            return
        self._clear()
        self.drawing = False
        timings = self.timings()
        if timings:
            self.stream.write(f"podscope: {timings}{self.end}")
        self.stream.flush()

    def timings(self) -> str:
        """``write 0.05s, start 0.80s``: how long each finished phase took."""
        done = list(zip(self.phases, self.phases[1:], strict=False))
        parts = [f"{phase} {nxt[1] - start:.2f}s" for (phase, start), nxt in done]
        parts += [f"{phase} pull {seconds:.2f}s" for phase, seconds in self.measured]
        return ", ".join(parts)

    def close(self) -> None:
        """End of the command: say what the status line still showed."""
        with self.lock:
            if self.quiet or not self.phases:
                return
            if self.phases[-1][0] not in _HANDOVER:
                self.phases.append(("done", time.monotonic()))
                self._finish()
