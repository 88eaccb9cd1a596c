"""``podscope ls [POD] [-A]``: list ephemeral containers and their states."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.cli.common import machine_output, open_client, print_document, print_table
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


def age(timestamp: str | None, now: float | None = None) -> str:
    """kubectl's short age (``45s``, ``12m``, ``3h``, ``2d``) of an RFC 3339 time."""
    import time
    from datetime import datetime

    if not timestamp:
        return "-"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "-"
    seconds = max(0, int((time.time() if now is None else now) - then))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def run(args: argparse.Namespace) -> int:
    request = flags.build(ListRequest, flags.given(args), command="ls")
    request.validate()
    with open_client(args) as client:
        rows = client.list_ephemeral(request)
    output = machine_output(args)
    if output:
        print_document([row.to_dict() for row in rows], output)
        return 0
    if not rows:
        where = "in any namespace" if request.all_namespaces else "found"
        sys.stderr.write(f"podscope: no ephemeral containers {where}\n")
        return 0
    headers = ["NAMESPACE"] if request.all_namespaces else []
    wide = getattr(args, "output", None) == "wide"
    headers += ["POD", "NAME", "IMAGE", "TARGET", "STATE", "REASON", "EXIT"]
    headers += ["STARTED", "FINISHED"] if wide else ["AGE"]
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
        ]
        cells += [row.started or "-", row.finished or "-"] if wide else [age(row.started)]
        cells.append(row.debugger or "-")
        table.append(cells)
    print_table(args, headers, table)
    return 0
