"""What a running command tells its caller, as typed events: the library never prints.

Session code calls an :class:`Events` object, either with a plain sentence (an ``info``
event) or through :meth:`Events.warning` and :meth:`Events.phase`. The caller hands in one
handler; the CLI renders events on stderr, a Python caller may collect, log or drop them.

Phases mark where the time of a debug session goes: the write of the container, the image
(pull), the start, and the exec or attach that follows. ``Event.at`` is a monotonic clock
reading, so a renderer can show how long each phase took. A phase event with ``seconds``
is a duration measured elsewhere (the kubelet's image pull, inside the start) rather than the
start of a new phase.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal["info", "warning", "phase"]
Phase = Literal["resolve", "write", "image", "start", "exec", "attach", "done"]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    message: str
    phase: Phase | None = None
    at: float = field(default_factory=time.monotonic)
    seconds: float | None = None  # a measured duration within the current phase

    def __str__(self) -> str:
        return self.message


EventHandler = Callable[[Event], None]


class Events:
    """The emitter session code reports through. ``Events()`` drops everything."""

    __slots__ = ("_handler",)

    def __init__(self, handler: EventHandler | None = None) -> None:
        self._handler = handler

    def __call__(self, message: str) -> None:
        self.info(message)

    def info(self, message: str) -> None:
        if self._handler is not None:
            self._handler(Event("info", message))

    def warning(self, message: str) -> None:
        if self._handler is not None:
            self._handler(Event("warning", message))

    def phase(self, phase: Phase, message: str) -> None:
        if self._handler is not None:
            self._handler(Event("phase", message, phase))

    def measured(self, phase: Phase, seconds: float, message: str) -> None:
        """A duration ``phase`` took, measured by someone else (the kubelet)."""
        if self._handler is not None:
            self._handler(Event("phase", message, phase, seconds=seconds))


class EventLog:
    """A handler that keeps every event, for callers that read them afterwards (and tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    @property
    def messages(self) -> list[str]:
        return [event.message for event in self.events]
