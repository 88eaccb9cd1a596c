"""``podscope apply FILE``: add the ephemeral containers a document describes."""

from __future__ import annotations

import argparse
import json
import sys

from podscope.cli import flags
from podscope.cli.common import open_client, print_document
from podscope.errors import UsageError
from podscope.rules.requests import ApplyRequest

DESCRIPTION = """\
Add the ephemeral containers described in FILE (JSON or YAML; `-` reads stdin): an object of
kind EphemeralContainers (as in `kubectl replace --raw .../ephemeralcontainers -f ec.json`), a
Pod-shaped object with spec.ephemeralContainers, or a bare list of containers with --pod.
Containers the Pod already has, unchanged, are skipped ("nothing to do"); a changed one is
refused (ephemeral containers can be neither changed nor removed). The new ones are validated
like `podscope debug` containers, sent in the shape the server takes, and waited for.
"""


REQUEST = ApplyRequest
HELP = "add the ephemeral containers of a document (ec.json) to a Pod, idempotently"


def run(args: argparse.Namespace) -> int:
    values = flags.given(args)
    output = values.get("output")
    if values.get("attach") and output:
        raise UsageError("-o prints the result instead of attaching; drop one of -o, --attach")
    if values.get("file") == "-" and values.get("attach"):
        raise UsageError(
            "--attach needs the terminal's stdin; the document cannot come from stdin too",
            remedy="write the document to a file",
        )
    request = flags.build(ApplyRequest, values, command="apply")
    with open_client(args) as client:
        result = client.apply(request)
    if output:
        print_document(result.to_dict(), output)
        return 0
    if request.diff and result.diff is not None:
        sys.stdout.write(result.diff)
    if result.attached:
        return result.exit_code if result.exit_code is not None else 0
    suffix = {"client": " (dry run: client, nothing sent)", "server": " (dry run: server)"}.get(
        result.dry_run or "", ""
    )
    if result.dry_run == "client" and result.request is not None and not request.diff:
        write = result.request
        sys.stdout.write(f"{write.method} {write.path}\n{json.dumps(write.body, indent=2)}\n")
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
