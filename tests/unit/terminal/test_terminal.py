"""Raw mode, resize signals and byte pumping, on real pipes and pseudo-terminals."""

from __future__ import annotations

import io
import os
import signal
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from podscope.errors import Interrupted
from podscope.terminal.pump import LocalIO, nudge_redraw, pump
from podscope.terminal.rawmode import raw_mode, terminal_size
from podscope.terminal.resize import ResizeSignal


class FakeStream:
    """A remote side that plays output frames once stdin has been closed (EOF)."""

    def __init__(self, frames: list[tuple[int, bytes]], *, wait_for_eof: bool = True) -> None:
        self.frames = list(frames)
        self.stdin = bytearray()
        self.resizes: list[tuple[int, int]] = []
        self.eof = threading.Event()
        self.closed = threading.Event()
        if not wait_for_eof:
            self.eof.set()

    can_close_stdin = True

    def read_frame(self) -> tuple[int, bytes] | None:
        if self.frames:
            return self.frames.pop(0)
        self.eof.wait(5)
        return None

    def write_stdin(self, data: bytes) -> bool:
        self.stdin.extend(data)
        return True

    def resize(self, cols: int, rows: int) -> bool:
        self.resizes.append((cols, rows))
        return True

    def close_stdin(self) -> bool:
        self.eof.set()
        return True

    def close(self) -> None:
        self.closed.set()
        self.eof.set()


def test_non_tty_pump_keeps_streams_apart_and_forwards_stdin_until_eof() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"echo hi\n")
    os.close(write_fd)
    stream = FakeStream([(1, b"out\n"), (2, b"err\n"), (1, b"more\n")])
    out, err = io.BytesIO(), io.BytesIO()
    try:
        result = pump(stream, LocalIO(read_fd, out, err), tty=False)
    finally:
        os.close(read_fd)
    assert out.getvalue() == b"out\nmore\n"
    assert err.getvalue() == b"err\n"
    assert bytes(stream.stdin) == b"echo hi\n"
    assert result.stdin_closed and result.stdout_bytes == 9 and result.stderr_bytes == 4
    assert stream.closed.is_set()


def test_pump_without_stdin_ends_with_the_stream() -> None:
    stream = FakeStream([(1, b"x")], wait_for_eof=False)
    out = io.BytesIO()
    pump(stream, LocalIO(None, out, io.BytesIO()), tty=False)
    assert out.getvalue() == b"x"


class _ShortStream(FakeStream):
    """Ends half a second after its output unless stdin is closed first."""

    def read_frame(self) -> tuple[int, bytes] | None:
        if self.frames:
            return self.frames.pop(0)
        self.eof.wait(0.5)
        return None


def test_held_input_is_not_sent_to_a_stream_that_ends_meanwhile() -> None:
    # The hold is a wait for the remote side to listen; a stream that ends in it gets none.
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"echo hi\n")
    os.close(write_fd)
    stream = _ShortStream([(1, b"bye\n")])
    out = io.BytesIO()
    try:
        result = pump(stream, LocalIO(read_fd, out, io.BytesIO()), tty=False, hold_input=60)
    finally:
        os.close(read_fd)
    assert out.getvalue() == b"bye\n"
    assert bytes(stream.stdin) == b"" and not result.stdin_closed


@contextmanager
def pty_pair(cols: int = 100, rows: int = 30) -> Iterator[tuple[int, int]]:
    import fcntl
    import struct

    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    try:
        yield controller, terminal
    finally:
        os.close(controller)
        os.close(terminal)


def test_tty_pump_sends_size_nudges_redraw_and_restores_the_terminal() -> None:
    with pty_pair(100, 30) as (controller, terminal):
        before = termios.tcgetattr(terminal)
        stream = FakeStream([(1, b"$ ")], wait_for_eof=True)

        def type_ctrl_d_then_exit() -> None:
            # Sizes are sent once raw mode is on; then Ctrl-D must arrive as a plain byte
            # (in cooked mode the line discipline would turn it into EOF).
            while not stream.resizes:
                threading.Event().wait(0.01)
            os.write(controller, b"\x04")
            while b"\x04" not in stream.stdin:
                threading.Event().wait(0.01)
            stream.eof.set()  # the remote shell exits

        threading.Thread(target=type_ctrl_d_then_exit, daemon=True).start()
        with os.fdopen(os.dup(terminal), "wb", buffering=0) as out:
            pump(stream, LocalIO(terminal, out, io.BytesIO()), tty=True)
        assert termios.tcgetattr(terminal) == before
    assert stream.resizes == [(100, 30), (99, 30), (100, 30)]
    assert bytes(stream.stdin) == b"\x04"


def test_raw_mode_restores_after_an_exception_and_sigterm() -> None:
    with pty_pair() as (_, terminal):
        before = termios.tcgetattr(terminal)
        with pytest.raises(RuntimeError), raw_mode(terminal):
            assert termios.tcgetattr(terminal) != before
            raise RuntimeError("boom")
        assert termios.tcgetattr(terminal) == before
        with pytest.raises(Interrupted), raw_mode(terminal):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.1)  # give the handler a chance to run
        assert termios.tcgetattr(terminal) == before
        assert terminal_size(terminal) == (100, 30)
    assert terminal_size(-1) is None


def test_resize_signal_wakes_the_loop() -> None:
    import select

    with ResizeSignal() as resize:
        os.kill(os.getpid(), signal.SIGWINCH)
        ready, _, _ = select.select([resize.fd], [], [], 2)
        assert ready == [resize.fd]
        resize.drain()
        assert select.select([resize.fd], [], [], 0)[0] == []


def test_nudge_redraw_changes_the_width_twice() -> None:
    stream = FakeStream([])
    nudge_redraw(stream, (80, 24))
    assert stream.resizes == [(79, 24), (80, 24)]
