"""Copy bytes between the local terminal (or pipes) and a remote attach/exec stream.

One thread reads the stream and writes stdout/stderr; the calling thread waits on stdin, the
resize pipe and a "stream ended" pipe with ``select``, so the session ends as soon as the
remote side does, without polling delays.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from podscope.terminal.rawmode import raw_mode, terminal_size
from podscope.terminal.resize import ResizeSignal

STDOUT_CHANNEL = 1
STDERR_CHANNEL = 2
_READ_SIZE = 64 * 1024
# How long a TTY session may stay silent before the user is told to press Enter.
QUIET_HINT_SECONDS = 2.0


class RemoteStream(Protocol):
    """What the pump needs from a stream (``podscope.kube.streams.ChannelStream``)."""

    @property
    def can_close_stdin(self) -> bool: ...

    def read_frame(self) -> tuple[int, bytes] | None: ...

    def write_stdin(self, data: bytes) -> bool: ...

    def resize(self, cols: int, rows: int) -> bool: ...

    def close_stdin(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class PumpResult:
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdin_closed: bool = False  # local stdin hit EOF and the remote was told


class StreamTap(Protocol):
    """Hears what the pump alone sees: the local input it sends, and each size it sends."""

    def input(self, data: bytes) -> None: ...

    def resize(self, cols: int, rows: int) -> None: ...


@dataclass
class LocalIO:
    """The local ends. ``stdin`` is an fd (None: no input); outputs are binary files.
    ``tap`` (a session recorder) hears the input and the terminal sizes sent."""

    stdin: int | None
    stdout: BinaryIO
    stderr: BinaryIO
    tap: StreamTap | None = None


def _write(out: BinaryIO, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):
        out.write(data)
        out.flush()


class _EndSignal:
    """A pipe the output thread writes to when the stream ends; select() waits on it."""

    def __init__(self) -> None:
        self.fd, self._write_fd = os.pipe()
        self._lock = threading.Lock()
        self._closed = False

    def set(self) -> None:
        with self._lock:
            # Never write after close: the fd number may already belong to another file.
            if not self._closed:
                os.write(self._write_fd, b"x")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            os.close(self.fd)
            os.close(self._write_fd)


def _copy_output(stream: RemoteStream, io: LocalIO, result: PumpResult, end: _EndSignal) -> None:
    try:
        while (frame := stream.read_frame()) is not None:
            channel, data = frame
            if channel == STDERR_CHANNEL:
                result.stderr_bytes += len(data)
                _write(io.stderr, data)
            elif channel == STDOUT_CHANNEL:
                result.stdout_bytes += len(data)
                _write(io.stdout, data)
    finally:
        end.set()


def _send_size(stream: RemoteStream, io: LocalIO) -> tuple[int, int] | None:
    fds = [fd for fd in (io.stdin, _fileno(io.stdout)) if fd is not None]
    size = terminal_size(*fds)
    if size is not None:
        stream.resize(*size)
        if io.tap is not None:
            io.tap.resize(*size)
    return size


def _fileno(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (OSError, ValueError, AttributeError):
        return None


def nudge_redraw(stream: RemoteStream, size: tuple[int, int]) -> None:
    """Make the remote shell repaint its prompt.

    The attach may open after the shell printed its prompt, leaving a blank screen. Shells
    repaint on SIGWINCH, which the kernel sends only when the size really changes: so shrink
    by one column and restore.
    """
    cols, rows = size
    if cols > 1:
        stream.resize(cols - 1, rows)
    stream.resize(cols, rows)


def _join_if_started(thread: threading.Thread) -> None:
    if thread.ident is not None:
        thread.join(5)


def pump(
    stream: RemoteStream,
    io: LocalIO,
    *,
    tty: bool,
    quiet_hint: str | None = None,
    close_stdin_on_eof: bool = True,
    hold_input: float = 0.0,
) -> PumpResult:
    """Run the session until the remote side ends it. Always restores the terminal.

    With ``tty``, the local stdin terminal goes to raw mode, its size is sent at the start and
    on every change, and a redraw is nudged once attached. ``quiet_hint`` is written to stderr
    once if a TTY session shows nothing for a while (kubectl's "press Enter" moment).
    ``close_stdin_on_eof`` passes local EOF on (v5); without it, output keeps flowing until
    the remote side ends. ``hold_input``: seconds to keep local input back at the start (see
    ``ATTACH_INPUT_HOLD``).
    """
    result = PumpResult()
    end = _EndSignal()
    reader = threading.Thread(
        target=_copy_output, args=(stream, io, result, end), name="podscope-output", daemon=True
    )
    with ExitStack() as stack:
        # Callbacks run last-registered-first: restore the terminal, close the stream, let
        # the output thread finish, and only then close its pipe.
        stack.callback(end.close)
        stack.callback(_join_if_started, reader)
        stack.callback(stream.close)
        raw = tty and io.stdin is not None and os.isatty(io.stdin)
        if raw:
            assert io.stdin is not None
            stack.enter_context(raw_mode(io.stdin))
        resize = stack.enter_context(ResizeSignal()) if tty else None
        size = _send_size(stream, io) if tty else None
        reader.start()
        if size is not None:
            nudge_redraw(stream, size)
        hint = None
        if tty and quiet_hint:
            # In raw mode the terminal no longer turns "\n" into "\r\n".
            hint = (quiet_hint + ("\r\n" if raw else "\n")).encode()
        if hold_input > 0 and io.stdin is not None:
            select.select([end.fd], [], [], hold_input)  # ends early if the stream does
        _copy_input(stream, io, result, end.fd, resize, hint, close_stdin_on_eof)
    return result


def _copy_input(
    stream: RemoteStream,
    io: LocalIO,
    result: PumpResult,
    done_fd: int,
    resize: ResizeSignal | None,
    quiet_hint: bytes | None,
    close_stdin_on_eof: bool,
) -> None:
    watched = [done_fd]
    if io.stdin is not None:
        watched.append(io.stdin)
    if resize is not None:
        watched.append(resize.fd)
    quiet_deadline = time.monotonic() + QUIET_HINT_SECONDS if quiet_hint else None
    while True:
        timeout = None
        if quiet_deadline is not None:
            timeout = max(0.0, quiet_deadline - time.monotonic())
        ready, _, _ = select.select(watched, [], [], timeout)
        if done_fd in ready:
            return
        if quiet_deadline is not None and time.monotonic() >= quiet_deadline:
            quiet_deadline = None
            if quiet_hint and result.stdout_bytes == 0 and result.stderr_bytes == 0:
                _write(io.stderr, quiet_hint)
        if resize is not None and resize.fd in ready:
            resize.drain()
            _send_size(stream, io)
        if io.stdin is not None and io.stdin in ready:
            data = _read_stdin(io.stdin)
            if data:
                if io.tap is not None:
                    io.tap.input(data)
                if not stream.write_stdin(data):
                    watched.remove(io.stdin)
                continue
            # EOF on local stdin: pass it on (v5) and keep showing output until the end.
            watched.remove(io.stdin)
            if close_stdin_on_eof:
                result.stdin_closed = stream.close_stdin()


def _read_stdin(fd: int) -> bytes:
    try:
        return os.read(fd, _READ_SIZE)
    except OSError:
        return b""
