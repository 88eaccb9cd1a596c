"""What a session talks to besides the cluster: the caller's events and local streams."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podscope.events import Events
from podscope.terminal.pump import LocalIO


class OpenSessions:
    """The exec sessions running now, each with how to end its command: what a caller that
    stops waiting for them (a second Ctrl-C over many Pods) ends instead of leaving behind,
    since a command left running keeps its debugger from expiring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._enders: dict[int, tuple[str, Callable[[], bool]]] = {}
        self._next = 0
        self.closed = False  # end_all has run: no session may start from now on

    def add(self, pod: str, end: Callable[[], bool]) -> int:
        """Register a session in ``pod`` before its first exec; ``end()`` ends its command,
        True when it did. Refused (Interrupted) once ``end_all`` has run."""
        with self._lock:
            if self.closed:
                from podscope.errors import Interrupted

                raise Interrupted("interrupted: the command was not started")
            self._next += 1
            self._enders[self._next] = (pod, end)
            return self._next

    def remove(self, key: int) -> None:
        with self._lock:
            self._enders.pop(key, None)

    def end_all(self, timeout: float) -> set[str]:
        """End every open session at once, waiting at most ``timeout`` seconds in all, and
        let no more start: the Pods with a session left running (its end failed, or was not
        done by the deadline; its debugger's TTL is the fallback)."""
        with self._lock:
            self.closed = True
            enders = list(self._enders.values())
            self._enders.clear()
        ended: dict[int, bool] = {}

        def run(n: int, end: Callable[[], bool]) -> None:
            try:
                ended[n] = end()
            except Exception:  # noqa: BLE001
                ended[n] = False

        threads = [
            threading.Thread(target=run, args=(n, end), daemon=True)
            for n, (_, end) in enumerate(enders)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return {pod for n, (pod, _) in enumerate(enders) if not ended.get(n, False)}


@dataclass(frozen=True)
class StreamStart:
    """A session's stream is about to open: into which container of which Pod, running what.
    ``command`` None: the container's own process (an attach); ``created``: by this run."""

    pod: dict[str, Any]
    container: str
    command: tuple[str, ...] | None
    model: str  # "exec" or "attach"
    created: bool = False


@dataclass(frozen=True)
class SessionIO:
    """``events`` hears progress; ``local`` holds the local ends of attach and exec streams
    (None for commands that never stream a container's input or output)."""

    events: Events = field(default_factory=Events)
    local: LocalIO | None = None
    # How a file transfer advances (cp): TransferProgress values, drawn by the caller.
    on_progress: Callable[[Any], None] | None = None
    # Told before each attach or exec stream opens (a session recorder listens).
    on_stream: Callable[[StreamStart], None] | None = None
    # Told of each exec session while it runs, with how to end its command.
    sessions: OpenSessions | None = None

    def stream_starts(self, start: StreamStart) -> None:
        if self.on_stream is not None:
            self.on_stream(start)

    @property
    def streams(self) -> LocalIO:
        if self.local is None:
            raise RuntimeError("this session needs local streams (SessionIO.local)")
        return self.local
