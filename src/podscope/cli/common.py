"""Flags shared by commands, with kubectl's names."""

from __future__ import annotations

import argparse


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
