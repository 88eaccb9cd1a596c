"""``podscope node enable-gate``: parse, call :func:`podscope.gate.enable_gate`, print."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from podscope.cli.flags import add_one
from podscope.errors import ExitCode

if TYPE_CHECKING:
    from podscope.gate import GateReport

_DESCRIPTION = """\
Switch on the EphemeralContainers feature gate on this node of a 1.16-1.22 cluster, in the
files the kubelet, kube-apiserver and kube-scheduler read: the kubelet config file, the
kubelet's KUBELET_EXTRA_ARGS environment file and the static Pod manifests. Run it as root on
every node (and on every control-plane node for the manifests). It makes no API calls and
restarts nothing; it prints the restart steps instead. Every changed file is backed up first.
If any file is refused, nothing is written.
"""

_LABELS = {
    "kubelet-config": "kubelet config",
    "kubelet-env": "kubelet env",
}


def register(subparsers: Any) -> None:
    node = subparsers.add_parser(
        "node",
        help="edit this node's Kubernetes files (run on the node, as root)",
        description="Commands that edit files on a Kubernetes node; no API calls.",
    )
    actions = node.add_subparsers(dest="node_command", metavar="ACTION")
    node.set_defaults(func=lambda args: _usage(node))

    gate = actions.add_parser(
        "enable-gate",
        help="switch on the EphemeralContainers feature gate (clusters 1.16-1.22)",
        description=_DESCRIPTION,
    )
    gate.add_argument(
        "--kubelet-config",
        metavar="PATH",
        help="kubelet config file (default: /var/lib/kubelet/config.yaml)",
    )
    gate.add_argument(
        "--kubelet-env",
        metavar="PATH",
        help="file with KUBELET_EXTRA_ARGS (default: the first of /etc/sysconfig/kubelet, "
        "/etc/default/kubelet that exists)",
    )
    gate.add_argument(
        "--manifests-dir",
        metavar="DIR",
        help="static Pod manifests directory (default: /etc/kubernetes/manifests)",
    )
    gate.add_argument(
        "--only",
        action="append",
        choices=("kubelet", "apiserver", "scheduler"),
        help="edit only this component's files (repeatable; default: all three)",
    )
    gate.add_argument(
        "--dry-run", action="store_true", help="print a unified diff of each change; write nothing"
    )
    gate.add_argument(
        "--force",
        action="store_true",
        help="switch an explicit EphemeralContainers=false to true, and write the gate on "
        "1.23-1.26 where it is already on by default",
    )
    gate.add_argument(
        "--version",
        dest="gate_version",
        metavar="VERSION",
        help="Kubernetes version of the components (default: from `kubelet --version` and "
        "the manifests' image tags)",
    )
    gate.add_argument(
        "--kubelet-version",
        metavar="VERSION",
        help="the kubelet's version, when it differs from the control plane's",
    )
    gate.add_argument(
        "--root",
        metavar="DIR",
        default="/",
        help="prefix for every default path (a chroot or a mounted node disk; default /)",
    )
    add_one(gate, "output")
    gate.set_defaults(func=run)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def _print_human(report: GateReport, out: TextIO) -> None:
    for item in report.files:
        label = _LABELS.get(item.kind) or f"kube-{item.component}"
        shown = item.path if item.target is None else f"{item.path} -> {item.target}"
        if item.action == "refused":
            continue  # on stderr, with the hint
        verb = "would change" if item.action == "changed" and report.dry_run else item.action
        out.write(f"{verb:<12} {label:<15} {shown}: {item.reason}\n")
        if item.backup:
            out.write(f"{'':<12} {'':<15} backup: {item.backup}\n")
        if report.dry_run and item.diff:
            out.write(item.diff)
    steps = report.restart_steps()
    if report.dry_run:
        out.write("dry run: nothing was written\n")
    if steps and report.ok:
        intro = "then" if report.dry_run else "next"
        out.write(f"{intro}, on this node (podscope does not run these):\n")
        for step in steps:
            out.write(f"  {step}\n")


def _print_refusals(report: GateReport, err: TextIO) -> None:
    for item in report.refused:
        err.write(f"podscope: error: {item.reason}\n")
        if item.remedy:
            err.write(f"podscope: hint: {item.remedy}\n")


def run(args: argparse.Namespace) -> int:
    from podscope.gate import enable_gate
    from podscope.rules.requests import EnableGateRequest

    report = enable_gate(
        EnableGateRequest(
            root=args.root,
            kubelet_config=args.kubelet_config,
            kubelet_env=args.kubelet_env,
            manifests_dir=args.manifests_dir,
            only=tuple(args.only or ()),
            dry_run=args.dry_run,
            force=args.force,
            version=args.gate_version,
            kubelet_version=args.kubelet_version,
        )
    )
    output = getattr(args, "output", None)
    if output == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif output == "yaml":
        from ruamel.yaml import YAML

        buf = io.StringIO()
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.dump(report.to_dict(), buf)
        sys.stdout.write(buf.getvalue())
    else:
        _print_human(report, sys.stdout)
    _print_refusals(report, sys.stderr)
    return int(ExitCode.OK) if report.ok else int(ExitCode.NODE_EDIT)
