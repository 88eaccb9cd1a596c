"""Put the local terminal in raw mode, and always give it back as it was."""

from __future__ import annotations

import os
import signal
import termios
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from podscope.errors import Interrupted


def terminal_size(*fds: int) -> tuple[int, int] | None:
    """``(columns, rows)`` of the first of ``fds`` that is a terminal, else ``None``."""
    for fd in fds:
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        if size.columns > 0 and size.lines > 0:
            return size.columns, size.lines
    return None


@contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Raw mode on terminal ``fd`` for the duration of the block.

    Keys such as Ctrl-C and Ctrl-D then reach the remote process instead of acting locally.
    The previous settings come back on exit, exception, Ctrl-C, SIGTERM and SIGHUP (those two
    are turned into :class:`Interrupted` while the block runs, so ``finally`` clauses run).
    """
    saved = termios.tcgetattr(fd)
    previous: dict[signal.Signals, object] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, _raise_interrupted)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        # TCSADRAIN: let pending output (the remote's last prompt) reach the screen first.
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"stopped by signal {signal.Signals(signum).name}")
