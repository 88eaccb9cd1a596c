"""Helpers shared by the fault and hostile-input e2e tests.

An interactive podscope runs under a real pseudo-terminal (pexpect), wrapped in a shell that
records ``stty -a`` before and after, so every test can check that the terminal came back.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect

PROMPT = r"/ # "


def podscope_command(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in [sys.executable, "-m", "podscope", *args])


@dataclass
class PtySession:
    """A podscope command under a pty; ``RC=<n>`` is printed by the wrapper when it exits."""

    child: pexpect.spawn
    before: Path
    after: Path

    def podscope_pid(self, timeout: float = 10) -> int:
        """The PID of the podscope process (a child of the wrapper shell)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.child.pid and b"podscope" in cmdline:
                    return int(entry.name)
            time.sleep(0.05)
        raise AssertionError("podscope process not found")

    def interrupt(self) -> None:
        os.kill(self.podscope_pid(), signal.SIGINT)

    def exit_code(self, timeout: float = 60) -> int:
        self.child.expect(r"RC=(\d+)", timeout=timeout)
        return int(self.child.match.group(1))

    def terminal_restored(self) -> bool:
        self.child.expect(pexpect.EOF, timeout=10)
        return self.before.read_text() == self.after.read_text()


@contextlib.contextmanager
def pty_podscope(
    env: dict[str, str], tmp_path: Path, *args: str, timeout: float = 60
) -> Iterator[PtySession]:
    before, after = tmp_path / "stty-before", tmp_path / "stty-after"
    script = f"stty -a > {before}; {podscope_command(*args)}; echo RC=$?; stty -a > {after}"
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", script],
        env=env,
        encoding="utf-8",
        timeout=timeout,
        dimensions=(30, 100),
    )
    # Everything podscope and the remote shell print, for the failure message.
    child.logfile_read = open(tmp_path / "pty.log", "w")  # noqa: SIM115
    try:
        yield PtySession(child, before, after)
    finally:
        child.close(force=True)
        child.logfile_read.close()


class BlackHole:
    """A TCP port that accepts connections and never answers (a hung server or firewall)."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._held.append(conn)  # kept open, never read from or written to

    def close(self) -> None:
        self._closed.set()
        for sock in [self.listener, *self._held]:
            with contextlib.suppress(OSError):
                sock.close()


def closed_port() -> int:
    """A local port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
