"""Flags shared by commands, with kubectl's names."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", "--namespace", help="namespace (default: the context's, else 'default')"
    )
    parser.add_argument("--context", help="kubeconfig context to use")
    parser.add_argument(
        "--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="timeout of each API request (default 30)",
    )


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=("json", "yaml"), help="machine-readable output")


def cluster_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The connection flags of `add_cluster_flags`, as keyword arguments of `podscope.api`."""
    return {
        "context": args.context,
        "kubeconfig": args.kubeconfig,
        "request_timeout": args.request_timeout,
    }


def print_document(document: Any, output: str) -> None:
    """Write `document` to stdout as JSON or YAML (`-o json|yaml`)."""
    from podscope.rules.output import dump_json, dump_yaml

    sys.stdout.write(dump_json(document) if output == "json" else dump_yaml(document))
