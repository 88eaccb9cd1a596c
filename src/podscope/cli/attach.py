"""``podscope attach POD -c NAME``: attach to an existing (debug) container."""

from __future__ import annotations

import argparse

from podscope.cli.common import add_cluster_flags, cluster_kwargs
from podscope.cli.debug import add_reconnect_flag, reporter


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "attach",
        help="attach to a container of a Pod, e.g. a debug container left running",
        description=(
            "Attach to a running container (a finished one shows its log) and exit with its "
            "exit code once it ends."
        ),
    )
    parser.add_argument("pod", metavar="POD", help="the Pod's name")
    parser.add_argument("-c", "--container", required=True, help="the container to attach to")
    add_cluster_flags(parser)
    parser.add_argument(
        "-i",
        "--stdin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pass stdin (default: when stdin is a terminal)",
    )
    parser.add_argument(
        "-t",
        "--tty",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use a TTY (default: when stdin is a terminal)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a container that has not started yet (default 300)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_reconnect_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import podscope.api as api

    result = api.attach(
        args.pod,
        args.container,
        namespace=args.namespace,
        **cluster_kwargs(args),
        stdin=args.stdin,
        tty=args.tty,
        timeout=args.timeout,
        reconnect=args.reconnect,
        reporter=reporter(args.quiet),
    )
    return result.exit_code if result.exit_code is not None else 0
