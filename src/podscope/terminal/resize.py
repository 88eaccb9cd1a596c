"""Deliver local window-size changes (SIGWINCH) to the event loop through a pipe.

The signal handler only writes a byte: the loop sends the resize frame itself, so the handler
never takes the stream's send lock (which the interrupted code may be holding).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType, TracebackType


class ResizeSignal:
    """A readable fd that becomes ready when the window size changes (main thread only)."""

    def __init__(self) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._previous: object = None
        self._installed = False

    @property
    def fd(self) -> int:
        return self._read_fd

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read_fd, 512):
                pass

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write_fd, b"w")

    def __enter__(self) -> ResizeSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGWINCH, self._on_signal)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGWINCH, self._previous)  # type: ignore[arg-type]
        os.close(self._read_fd)
        os.close(self._write_fd)
