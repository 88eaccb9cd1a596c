"""``podscope version``: this podscope, the server, and how it takes ephemeral containers."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.cli.common import open_client, print_document


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "version",
        help="print the client and server versions",
        description="Print podscope's version, the API server's, and the shape in which the "
        "server takes ephemeral containers.",
    )
    for key in ("context", "kubeconfig", "request_timeout", "output"):
        flags.add_one(parser, key)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        info = client.version()
    output = getattr(args, "output", None)
    if output:
        print_document(info.to_dict(), output)
        return 0
    sys.stdout.write(
        f"Client Version: podscope {info.client}\n"
        f"Server Version: {info.server}\n"
        f"Ephemeral containers: {info.ephemeral_containers}\n"
    )
    return 0
