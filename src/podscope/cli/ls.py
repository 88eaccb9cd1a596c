"""``podscope ls [POD] [-A]``: list ephemeral containers and their states."""

from __future__ import annotations

import argparse
import sys

from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="list ephemeral containers",
        description="List the ephemeral containers of a Pod, of a namespace, or of all namespaces.",
    )
    parser.add_argument("pod", nargs="?", metavar="POD", help="only this Pod")
    add_cluster_flags(parser)
    parser.add_argument(
        "-A", "--all-namespaces", action="store_true", help="list across all namespaces"
    )
    add_output_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import podscope.api as api
    from podscope.rules.output import render_table

    rows = api.list_ephemeral(
        args.pod,
        namespace=args.namespace,
        all_namespaces=args.all_namespaces,
        **cluster_kwargs(args),
    )
    if args.output:
        documents = [row.to_dict() for row in rows]
        print_document(documents, args.output)
        return 0
    if not rows:
        where = "in any namespace" if args.all_namespaces else "found"
        sys.stderr.write(f"podscope: no ephemeral containers {where}\n")
        return 0
    headers = ["NAMESPACE"] if args.all_namespaces else []
    headers += ["POD", "NAME", "IMAGE", "TARGET", "STATE", "REASON", "EXIT", "STARTED", "FINISHED"]
    table = []
    for row in rows:
        cells: list[object] = [row.namespace] if args.all_namespaces else []
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
        ]
        table.append(cells)
    sys.stdout.write(render_table(headers, table))
    return 0
