"""``podscope cp SRC DEST``: copy files out of or into a container (even without tar or sh)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from podscope.cli import flags
from podscope.cli.common import open_client, print_document, say
from podscope.errors import UsageError
from podscope.rules.requests import CpRequest

if TYPE_CHECKING:
    from podscope.session.cp import TransferProgress


REQUEST = CpRequest
HELP = "copy files between a container and here (works without tar or a shell in it)"
DESCRIPTION = (
    "Copy POD:/path (or NAMESPACE/POD:/path) to a local path, or a local path into a "
    "Pod. The copy runs in the Pod's debugger (busybox, general profile: SYS_PTRACE), "
    "which reaches the container's file system through /proc/PID/root, so distroless "
    "containers work; one is made when none is live, and later copies and debug "
    "sessions reuse it until its TTL passes without a session. Symlinks are copied as "
    "links; modes are kept; each file's sha256 is checked at the end. A destination "
    "ending in '/' must be a directory, as with GNU cp: an existing one receives the copy "
    "inside it, an absent one is made only from a directory source; a file there, or a "
    "file source with nothing there, is refused ('... is not a directory', exit 2) before "
    "anything is written."
)


def customize(parser: argparse.ArgumentParser) -> None:
    # `cp -l SELECTOR:PATH DIR` has one positional: checked in run.
    flags.positional_optional(parser, "dest")


class ProgressLine:
    """Draws a transfer's progress events as one line on a terminal's stderr, redrawn at most
    ten times a second, ended with a newline when the transfer finishes."""

    def __init__(
        self, out: IO[str] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.out = out or sys.stderr
        self.clock = clock
        self.start: float | None = None
        self._last = 0.0

    def __call__(self, event: TransferProgress) -> None:
        now = self.clock()
        if self.start is None:
            self.start = now
        if event.finished:
            self._draw(event, now)
            self.out.write("\n")
            self.out.flush()
            self.start, self._last = None, 0.0
        elif event.done_bytes and now - self._last >= 0.1:
            self._last = now
            self._draw(event, now)

    def _draw(self, event: TransferProgress, now: float) -> None:
        start = self.start if self.start is not None else now
        rate = event.done_bytes / max(now - start, 1e-6)
        text = f"{event.source} -> {event.dest}: {_size(event.done_bytes)}"
        if event.total_bytes:
            pct = min(100.0, 100.0 * event.done_bytes / event.total_bytes)
            text += f" / {_size(event.total_bytes)} ({pct:.0f}%)"
        text += f"  {_size(int(rate))}/s"
        self.out.write("\r" + text[:120].ljust(60))
        self.out.flush()


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def run(args: argparse.Namespace) -> int:
    values = flags.given(args)
    if "selector" in values:
        from podscope.cli.many import run_cp

        return run_cp(args, values)
    if "max_parallel" in values:
        raise UsageError("--max-parallel applies to cp -l SELECTOR:PATH DIR")
    if "dest" not in values:
        raise UsageError("cp needs a source and a destination, e.g. mypod:/tmp/file ./file")
    request = flags.build(CpRequest, values, command="cp")
    quiet = getattr(args, "quiet", False)
    with open_client(args) as client:
        result = client.cp(
            request, on_progress=ProgressLine() if sys.stderr.isatty() and not quiet else None
        )
    output = getattr(args, "output", None)
    if output:
        print_document(result.to_dict(), output)
        return 0
    rate = result.bytes / result.seconds / 1e6 if result.seconds > 0 else 0.0
    check = "sha256 verified" if result.checksum == "verified" else "checksum skipped"
    say(
        args,
        f"copied {result.files} file(s), {result.bytes} bytes in {result.seconds:.2f}s "
        f"({rate:.1f} MB/s; {check})",
    )
    return 0
