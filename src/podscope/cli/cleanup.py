"""``podscope cleanup [POD...] [-n NS | -A] [--yes] [--dry-run]``: delete podscope's Pods."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document
from podscope.errors import UsageError

if TYPE_CHECKING:
    from podscope.session.cleanup import ManagedPod


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cleanup",
        help="delete the Pod copies and node debugging Pods podscope created",
        description=(
            "List and delete the Pods podscope created (copies from `debug --copy-to`, and node "
            "debugging Pods kept with --keep): the Pods labelled "
            "app.kubernetes.io/managed-by=podscope. Asks for confirmation on a terminal. "
            "Ephemeral containers cannot be removed from their Pods; `podscope ls` lists them."
        ),
    )
    parser.add_argument(
        "pods", nargs="*", metavar="POD", help="only these Pods (they must be podscope's)"
    )
    add_cluster_flags(parser)
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="in every namespace")
    parser.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    parser.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_output_flag(parser)
    parser.set_defaults(func=run)


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


def _ask(pods: list[ManagedPod], args: argparse.Namespace, listing: TextIO | None) -> bool:
    if listing is not None:
        listing.write(_table(pods, args.all_namespaces))
        listing.flush()
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            f"refusing to delete {len(pods)} Pod(s) without confirmation: stdin is not a terminal",
            remedy="add --yes to delete them, or --dry-run to only list them",
        )
    if listing is None:  # -o: the table has not been shown; show it before asking
        sys.stderr.write(_table(pods, args.all_namespaces))
    sys.stderr.write(f"delete these {len(pods)} Pod(s)? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    import podscope.api as api
    from podscope.cli.debug import reporter

    if args.all_namespaces and args.namespace:
        raise UsageError("give -n NAMESPACE or -A, not both")
    report = reporter(args.quiet)
    listing = None if args.output else sys.stdout
    result = api.cleanup(
        args.pods,
        namespace=args.namespace,
        all_namespaces=args.all_namespaces,
        **cluster_kwargs(args),
        dry_run=args.dry_run,
        confirm=lambda pods: _ask(pods, args, listing),
        reporter=report,
    )
    if args.output:
        document = result.to_dict()
        print_document(document, args.output)
    elif not result.found:
        where = "in any namespace" if args.all_namespaces else "in this namespace"
        report(f"no Pods created by podscope {where}")
    elif args.dry_run:
        sys.stdout.write(_table(result.found, args.all_namespaces))
        report(f"dry run: {len(result.found)} Pod(s) would be deleted")
    elif not result.confirmed:
        report("nothing deleted")
    else:
        for pod in result.deleted:
            where = f" -n {pod.namespace}" if args.all_namespaces else ""
            sys.stdout.write(f"pod/{pod.name} deleted{where}\n")
    report(f"note: {result.note}")
    for pod, error in result.failed:
        sys.stderr.write(f"podscope: error: could not delete Pod {pod.name}: {error.message}\n")
    if result.failed:
        return int(result.failed[0][1].exit_code)
    return 0
