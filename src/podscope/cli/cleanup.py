"""``podscope cleanup [POD...] [-n NS | -A] [--yes] [--dry-run]``: delete podscope's Pods."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from podscope.cli import flags
from podscope.cli.common import machine_output, open_client, print_document, say
from podscope.errors import UsageError
from podscope.rules.requests import CleanupRequest

if TYPE_CHECKING:
    from podscope.session.cleanup import ManagedPod


REQUEST = CleanupRequest
HELP = "delete the Pod copies and node debugging Pods podscope created"
DESCRIPTION = (
    "List and delete the Pods podscope created (copies from `debug --copy-to`, and node "
    "debugging Pods kept with --keep): the Pods labelled "
    "app.kubernetes.io/managed-by=podscope. Asks for confirmation on a terminal. "
    "Ephemeral containers cannot be removed from their Pods; `podscope ls` lists them."
)


def _table(pods: list[ManagedPod], all_namespaces: bool) -> str:
    from podscope.rules.output import render_table

    headers = ["NAMESPACE"] if all_namespaces else []
    headers += ["POD", "PURPOSE", "OF", "PHASE", "NODE", "CREATED"]
    rows = []
    for pod in pods:
        cells: list[object] = [pod.namespace] if all_namespaces else []
        cells += [
            pod.name,
            pod.purpose,
            pod.source or "-",
            pod.phase or "-",
            pod.node or "-",
            pod.created or "-",
        ]
        rows.append(cells)
    return render_table(headers, rows)


def _ask(
    pods: list[ManagedPod], request: CleanupRequest, yes: bool, listing: TextIO | None
) -> bool:
    if listing is not None:
        listing.write(_table(pods, request.all_namespaces))
        listing.flush()
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            f"refusing to delete {len(pods)} Pod(s) without confirmation: stdin is not a terminal",
            remedy="add --yes to delete them, or --dry-run to only list them",
        )
    if listing is None:  # -o: the table has not been shown; show it before asking
        sys.stderr.write(_table(pods, request.all_namespaces))
    sys.stderr.write(f"delete these {len(pods)} Pod(s)? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    values = flags.given(args)
    request = flags.build(CleanupRequest, values, command="cleanup")
    output = machine_output(args)
    listing = None if output else sys.stdout
    with open_client(args) as client:
        result = client.cleanup(
            request, confirm=lambda pods: _ask(pods, request, bool(values.get("yes")), listing)
        )
    if output:
        print_document(result.to_dict(), output)
    elif not result.found:
        where = "in any namespace" if request.all_namespaces else "in this namespace"
        say(args, f"no Pods created by podscope {where}")
    elif request.dry_run:
        sys.stdout.write(_table(result.found, request.all_namespaces))
        say(args, f"dry run: {len(result.found)} Pod(s) would be deleted")
    elif not result.confirmed:
        say(args, "nothing deleted")
    else:
        for pod in result.deleted:
            where = f" -n {pod.namespace}" if request.all_namespaces else ""
            sys.stdout.write(f"pod/{pod.name} deleted{where}\n")
    say(args, f"note: {result.note}")
    for pod, error in result.failed:
        sys.stderr.write(f"podscope: error: could not delete Pod {pod.name}: {error.message}\n")
    if result.failed:
        return int(result.failed[0][1].exit_code)
    return 0
