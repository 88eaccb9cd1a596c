"""``podscope cp SRC DEST``: copy files out of or into a container (even without tar or sh)."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.cli.common import open_client, print_document, say
from podscope.rules.requests import CpRequest


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    flags.add_command(
        subparsers,
        "cp",
        CpRequest,
        run,
        help="copy files between a container and here (works without tar or a shell in it)",
        description=(
            "Copy POD:/path (or NAMESPACE/POD:/path) to a local path, or a local path into a "
            "Pod. A helper ephemeral container (busybox, SYS_PTRACE) reaches the container's "
            "file system through /proc/PID/root, so distroless containers work; it stays in the "
            "Pod and is reused by later copies. Symlinks are copied as links; modes are kept; "
            "each file's sha256 is checked at the end."
        ),
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    request = flags.build(CpRequest, flags.given(args), command="cp")
    request.validate()
    quiet = getattr(args, "quiet", False)
    with open_client(args) as client:
        result = client.cp(
            request, on_progress=(lambda _: None) if sys.stderr.isatty() and not quiet else None
        )
    output = getattr(args, "output", None)
    if output:
        print_document(asdict(result), output)
        return 0
    rate = result.bytes / result.seconds / 1e6 if result.seconds > 0 else 0.0
    check = "sha256 verified" if result.checksum == "verified" else "checksum skipped"
    say(
        args,
        f"copied {result.files} file(s), {result.bytes} bytes in {result.seconds:.2f}s "
        f"({rate:.1f} MB/s; {check})",
    )
    return 0
