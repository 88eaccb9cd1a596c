"""How far a transfer has come, reported as data: the session never draws anything.

The caller passes a callback; the CLI renders the events as a progress line on a terminal,
a library user may log them or ignore them. Events come at every chunk of the tar stream
(the callback should be cheap; rendering decides how often to redraw), and one last event
with ``finished`` set when the stream ends, successfully or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TransferProgress:
    source: str  # as the user would write it: POD:/path or a local path
    dest: str
    done_bytes: int  # tar stream bytes so far (file data plus headers)
    total_bytes: int | None  # the expected file data, when known beforehand
    finished: bool = False


ProgressCallback = Callable[[TransferProgress], None]


class TransferMeter:
    """Counts one transfer's bytes and tells the callback (if any) about each step."""

    def __init__(
        self, source: str, dest: str, total: int | None, callback: ProgressCallback | None
    ) -> None:
        self.source, self.dest, self.total, self.callback = source, dest, total, callback
        self.done = 0
        self._emit(finished=False)

    def add(self, count: int) -> None:
        self.done += count
        self._emit(finished=False)

    def finish(self) -> None:
        self._emit(finished=True)

    def _emit(self, *, finished: bool) -> None:
        if self.callback is not None:
            self.callback(TransferProgress(self.source, self.dest, self.done, self.total, finished))
