"""``podscope ls [POD] [-A]``: list ephemeral containers and their states."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.cli.common import open_client, print_document
from podscope.rules.requests import ListRequest


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    flags.add_command(
        subparsers,
        "ls",
        ListRequest,
        run,
        help="list ephemeral containers",
        description="List the ephemeral containers of a Pod, of a namespace, or of all namespaces.",
    )


def run(args: argparse.Namespace) -> int:
    from podscope.rules.output import render_table

    request = flags.build(ListRequest, flags.given(args), command="ls")
    request.validate()
    with open_client(args) as client:
        rows = client.list_ephemeral(request)
    output = getattr(args, "output", None)
    if output:
        print_document([row.to_dict() for row in rows], output)
        return 0
    if not rows:
        where = "in any namespace" if request.all_namespaces else "found"
        sys.stderr.write(f"podscope: no ephemeral containers {where}\n")
        return 0
    headers = ["NAMESPACE"] if request.all_namespaces else []
    headers += ["POD", "NAME", "IMAGE", "TARGET", "STATE", "REASON", "EXIT", "STARTED", "FINISHED"]
    headers += ["DEBUGGER"]
    table = []
    for row in rows:
        cells: list[object] = [row.namespace] if request.all_namespaces else []
        cells += [
            row.pod,
            row.name,
            row.image,
            row.target or "-",
            row.state,
            row.reason or "-",
            "-" if row.exit_code is None else row.exit_code,
            row.started or "-",
            row.finished or "-",
            row.debugger or "-",
        ]
        table.append(cells)
    sys.stdout.write(render_table(headers, table))
    return 0
