"""``podscope apply FILE``: add the ephemeral containers a document describes."""

from __future__ import annotations

import argparse
import json
import sys

from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document
from podscope.errors import UsageError

_DESCRIPTION = """\
Add the ephemeral containers described in FILE (JSON or YAML; `-` reads stdin): an object of
kind EphemeralContainers (as in `kubectl replace --raw .../ephemeralcontainers -f ec.json`), a
Pod-shaped object with spec.ephemeralContainers, or a bare list of containers with --pod.
Containers the Pod already has, unchanged, are skipped ("nothing to do"); a changed one is
refused (ephemeral containers can be neither changed nor removed). The new ones are validated
like `podscope debug` containers, sent in the shape the server takes, and waited for.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="add the ephemeral containers of a document (ec.json) to a Pod, idempotently",
        description=_DESCRIPTION,
    )
    parser.add_argument("file", metavar="FILE", help="the document; - for stdin")
    parser.add_argument("--pod", help="the Pod (required for a bare list of containers)")
    add_cluster_flags(parser)
    parser.add_argument(
        "--attach", action="store_true", help="attach to the (single) new container"
    )
    parser.add_argument(
        "-i", "--stdin", action="store_true", default=None, help="attach to its stdin"
    )
    parser.add_argument("-t", "--tty", action="store_true", default=None, help="use a TTY")
    parser.add_argument(
        "--dry-run",
        choices=("client", "server"),
        help="client: print what would be sent, send nothing; server: send with dryRun=All",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of the Pod's ephemeralContainers before/after",
    )
    parser.add_argument(
        "--no-wait", dest="wait", action="store_false", help="do not wait for them to start"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the containers to start (default 300)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_output_flag(parser)
    parser.set_defaults(func=run)


def _reporter(quiet: bool):  # type: ignore[no-untyped-def]
    def report(message: str) -> None:
        if not quiet:
            sys.stderr.write(f"podscope: {message}\n")
            sys.stderr.flush()

    return report


def run(args: argparse.Namespace) -> int:
    import podscope.api as api

    if (args.stdin or args.tty) and not args.attach:
        raise UsageError("-i/-t apply to --attach; add --attach")
    if args.tty and not args.stdin:
        raise UsageError("-t/--tty needs -i/--stdin")
    if args.attach and args.output:
        raise UsageError("-o prints the result instead of attaching; drop one of -o, --attach")
    text = None
    file = args.file
    if file == "-":
        if args.attach:
            raise UsageError(
                "--attach needs the terminal's stdin; the document cannot come from stdin too",
                remedy="write the document to a file",
            )
        text, file = sys.stdin.read(), None
    result = api.apply(
        file,
        text=text,
        pod=args.pod,
        namespace=args.namespace,
        **cluster_kwargs(args),
        dry_run=args.dry_run,
        diff=args.diff,
        wait=args.wait,
        attach=args.attach,
        stdin=args.stdin,
        tty=args.tty,
        timeout=args.timeout,
        reporter=_reporter(args.quiet),
    )
    if args.output:
        document = result.to_dict()
        print_document(document, args.output)
        return 0
    if args.diff and result.diff is not None:
        sys.stdout.write(result.diff)
    if result.attached:
        return result.exit_code if result.exit_code is not None else 0
    suffix = {"client": " (dry run: client, nothing sent)", "server": " (dry run: server)"}.get(
        result.dry_run or "", ""
    )
    if result.dry_run == "client" and result.request is not None and not args.diff:
        request = result.request
        sys.stdout.write(f"{request.method} {request.path}\n{json.dumps(request.body, indent=2)}\n")
    for name in result.added:
        state = result.states.get(name)
        shown = f" ({state})" if state else ""
        verb = "would be added" if result.dry_run else "added"
        sys.stdout.write(f"pod/{result.pod} ephemeral container {name} {verb}{shown}{suffix}\n")
    for name in result.unchanged:
        sys.stdout.write(f"pod/{result.pod} ephemeral container {name} unchanged\n")
    if result.nothing_to_do:
        sys.stdout.write(f"pod/{result.pod}: nothing to do\n")
    return 0
