"""``podscope ls [POD] [-A]``: list ephemeral containers and their states."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import TYPE_CHECKING, Any, TextIO

from podscope.cli import flags
from podscope.cli.common import machine_output, open_client, paged_table
from podscope.rules.requests import ListRequest
from podscope.session.listing import filters_of

if TYPE_CHECKING:
    from podscope.session.listing import EphemeralRow


REQUEST = ListRequest
HELP = "list ephemeral containers"
DESCRIPTION = (
    "List the ephemeral containers of a Pod, of a namespace, or of all namespaces: "
    "state, who wrote each (CREATED-BY is the field manager, the name of the client "
    "that wrote it, such as kubectl or podscope, not the person), its security "
    "posture and its command (-o wide, json or yaml)."
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


HEADERS = ["POD", "NAME", "IMAGE", "TARGET", "STATE", "REASON", "EXIT"]
# Who and what, for a security review (-o wide). CREATED-BY is the field manager: the
# client's name (kubectl, podscope), not the person's; WRITTEN is that manager's latest write.
REVIEW_HEADERS = ["CREATED-BY", "WRITTEN", "USER", "PRIVILEGED", "CAPS", "PROFILE", "COMMAND"]


def _cells(row: EphemeralRow, all_namespaces: bool, wide: bool) -> list[object]:
    cells: list[object] = [row.namespace] if all_namespaces else []
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
    if not wide:
        return cells
    cells += [
        row.created_by or "-",
        row.written_at or "-",
        row.user,
        "yes" if row.privileged else "no",
        ",".join(row.capabilities) or "-",
        row.profile,
        row.command_line,
    ]
    return cells


class _Document:
    """A JSON array or a YAML sequence written an item at a time, so that ``-o json`` is
    still one document that ``json.load`` reads, without the whole list in memory."""

    def __init__(self, output: str, out: TextIO) -> None:
        self.output = output
        self.out = out
        self.count = 0

    def add(self, item: dict[str, Any]) -> None:
        from podscope.rules.output import dump_json, dump_yaml

        if self.output == "json":
            body = textwrap.indent(dump_json(item).rstrip("\n"), "  ")
            self.out.write(("[\n" if self.count == 0 else ",\n") + body)
        else:
            self.out.write(dump_yaml([item]))
        self.count += 1

    def close(self) -> None:
        if self.count == 0:
            self.out.write("[]\n")
        elif self.output == "json":
            self.out.write("\n]\n")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    request = flags.build(ListRequest, flags.given(args), command="ls")
    output = machine_output(args)
    wide = getattr(args, "output", None) == "wide"
    headers = ["NAMESPACE"] if request.all_namespaces else []
    headers += [*HEADERS, *(["STARTED", "FINISHED"] if wide else ["AGE"]), "DEBUGGER"]
    # The review columns do not fit a terminal beside the others: -o wide, json and yaml.
    headers += REVIEW_HEADERS if wide else []
    document = _Document(output, sys.stdout) if output else None
    table = None if output else paged_table(args, headers)
    count = 0
    with open_client(args) as client:
        # Each page is printed before the next is read: the output streams and memory
        # holds one page, whatever the size of the cluster.
        for page in client.list_ephemeral_pages(request):
            for row in page:
                if document is not None:
                    document.add(row.to_dict())
            if table is not None:
                sys.stdout.write(
                    table.page([_cells(row, request.all_namespaces, wide) for row in page])
                )
                sys.stdout.flush()
            count += len(page)
    if document is not None:
        document.close()
        return 0
    if not count:
        filtered = filters_of(request).active()
        where = "in any namespace" if request.all_namespaces else "found"
        what = "match the filters" if filtered else where
        sys.stderr.write(f"podscope: no ephemeral containers {what}\n")
    return 0
