"""``podscope cp SRC DEST``: copy files out of or into a container (even without tar or sh)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document

if TYPE_CHECKING:
    from podscope.session.cp import TransferProgress

PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cp",
        help="copy files between a container and here (works without tar or a shell in it)",
        description=(
            "Copy POD:/path (or NAMESPACE/POD:/path) to a local path, or a local path into a "
            "Pod. A helper ephemeral container (busybox, SYS_PTRACE) reaches the container's "
            "file system through /proc/PID/root, so distroless containers work; it stays in the "
            "Pod and is reused by later copies. Symlinks are copied as links; modes are kept; "
            "each file's sha256 is checked at the end."
        ),
    )
    parser.add_argument("source", metavar="SRC", help="POD:/path, NS/POD:/path, or a local path")
    parser.add_argument("dest", metavar="DEST", help="POD:/path, NS/POD:/path, or a local path")
    add_cluster_flags(parser)
    parser.add_argument(
        "-c", "--container", help="the container to copy from/to (default: as debug)"
    )
    parser.add_argument(
        "--image",
        help="helper image, a static busybox (default: as podscope debug's: busybox)",
    )
    parser.add_argument(
        "--image-pull-policy",
        choices=PULL_POLICIES,
        help="the helper's imagePullPolicy (default IfNotPresent)",
    )
    parser.add_argument(
        "--no-checksum",
        dest="checksum",
        action="store_false",
        help="skip the sha256 comparison after the copy",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a new helper container to start (default 300)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_output_flag(parser)
    parser.set_defaults(func=run)


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
    from dataclasses import asdict

    import podscope.api as api

    def report(message: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"podscope: {message}\n")
            sys.stderr.flush()

    result = api.cp(
        args.source,
        args.dest,
        namespace=args.namespace,
        **cluster_kwargs(args),
        container=args.container,
        image=args.image,
        image_pull_policy=args.image_pull_policy,
        checksum=args.checksum,
        on_progress=ProgressLine() if sys.stderr.isatty() and not args.quiet else None,
        timeout=args.timeout,
        reporter=report,
    )
    if args.output:
        document = asdict(result)
        print_document(document, args.output)
        return 0
    rate = result.bytes / result.seconds / 1e6 if result.seconds > 0 else 0.0
    check = "sha256 verified" if result.checksum == "verified" else "checksum skipped"
    report(
        f"copied {result.files} file(s), {result.bytes} bytes in {result.seconds:.2f}s "
        f"({rate:.1f} MB/s; {check})"
    )
    return 0
