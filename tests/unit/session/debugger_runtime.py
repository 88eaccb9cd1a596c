"""The container runtime behind execs into debuggers on the fake API server.

A debugger's exec is served by the runtime, not the kubelet's status: a new debugger refuses
execs with "container not found" until the runtime has started it, and an ended one refuses
them again. Here each debugger of each Pod moves pending -> running -> ended; the kubelet's
report of each move is one Pod write, as ``fake.kubelet`` makes it. The holder's scripts
(status, stop) are answered as they answer in the container.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podscope.rules.debugger import SESSION_NAME, STOPPED_EXIT
from tests.unit.fakekube import FakeKube, exec_target

# What a session's words do: (pod, debugger, words, stdin) -> (stdout, stderr, exit code);
# the exit code None drops the connection, a dict is sent as the final Status.
Session = Callable[[str, str, list[str], bytes], "tuple[bytes, bytes, int | dict[str, Any] | None]"]


def not_started(name: str) -> dict[str, Any]:
    """The Status of an exec the runtime refuses: no running container of that name."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f'container not found ("{name}")',
        "reason": "InternalError",
        "code": 500,
    }


def _echo(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
    return f"{pod}: {' '.join(words)}\n".encode() + stdin, b"", 0


@dataclass
class Runtime:
    """Installed as the fake's program for every container (``programs["*"]``).

    ``refusals``: execs a new debugger refuses before the runtime has started it.
    ``report_start``: the kubelet reports a started debugger as running (a Pod write).
    ``on_refusal(pod, name, count)`` runs at each refusal (e.g. the kubelet reports a pull
    failure). ``pause``: real seconds each refusal takes (the runtime answering), so that a
    watch thread sees the Pod's writes before the next attempt.
    """

    fake: FakeKube
    refusals: int = 0
    report_start: bool = True
    session: Session = _echo
    on_refusal: Callable[[str, str, int], None] | None = None
    pause: float = 0.0
    states: dict[tuple[str, str], str] = field(default_factory=dict)
    refused: dict[tuple[str, str], int] = field(default_factory=dict)
    sessions: list[tuple[str, str, list[str], bytes]] = field(default_factory=list)
    # Debuggers in which a session runs now, for the status script (a test adds to it).
    live: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.fake.programs["*"] = self

    def running(self, pod: str, name: str) -> None:
        """Mark a debugger the test put in the Pod as started by the runtime."""
        self.states[(pod, name)] = "running"

    def end(self, pod: str, name: str, *, report: bool = False, code: int = 0) -> None:
        """The holder of ``name`` ends (its TTL ran out); ``report``: the kubelet says so."""
        self.states[(pod, name)] = "ended"
        if report:
            message = "expired" if code == 0 else "stopped"
            self.fake.kubelet.terminate(pod, name, code, message=message)

    def __call__(
        self, command: list[str], stdin: bytes
    ) -> tuple[bytes, bytes, int | dict[str, Any] | None]:
        target = exec_target()
        assert target is not None
        _, pod, name = target
        with self.lock:
            state = self.states.get((pod, name), "pending")
            if state == "pending":
                count = self.refused.get((pod, name), 0)
                if count < self.refusals:
                    self.refused[(pod, name)] = count + 1
                    refuse = True
                else:
                    self.states[(pod, name)] = state = "running"
                    refuse = False
            else:
                refuse = state == "ended"
        if refuse:
            if state == "pending" and self.on_refusal is not None:
                self.on_refusal(pod, name, self.refused[(pod, name)])
            if self.pause:
                threading.Event().wait(self.pause)
            return b"", b"", not_started(name)
        if self.report_start:
            self._report_running(pod, name)
        return self._run(pod, name, command, stdin)

    def _report_running(self, pod: str, name: str) -> None:
        statuses = (self.fake.pod(pod).get("status") or {}).get("ephemeralContainerStatuses")
        for item in statuses or []:
            if item.get("name") == name:
                return
        self.fake.kubelet.start(pod, name)

    def _run(
        self, pod: str, name: str, command: list[str], stdin: bytes
    ) -> tuple[bytes, bytes, int | dict[str, Any] | None]:
        if command == ["true"]:
            return b"", b"", 0
        role = command[3] if len(command) > 3 else ""
        if role == SESSION_NAME:
            words = command[5:]
            with self.lock:
                self.sessions.append((pod, name, words, stdin))
            return self.session(pod, name, words, stdin)
        if role == "podscope-stop":
            with self.lock:
                self.states[(pod, name)] = "ended"
            self.fake.kubelet.terminate(pod, name, STOPPED_EXIT, message="stopped")
            return b"", b"", 0
        if role == "podscope-alive":
            return b"", b"", 0  # the runtime refuses an ended one before this
        if role == "podscope-status":
            return (b"live 1\n" if (pod, name) in self.live else b"idle 840\n"), b"", 0
        return b"", b"sh: unknown command\n", 127
