"""What a session talks to besides the cluster: the caller's events and local streams."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podscope.events import Events
from podscope.terminal.pump import LocalIO


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

    def stream_starts(self, start: StreamStart) -> None:
        if self.on_stream is not None:
            self.on_stream(start)

    @property
    def streams(self) -> LocalIO:
        if self.local is None:
            raise RuntimeError("this session needs local streams (SessionIO.local)")
        return self.local
