"""``podscope doctor [POD]``: a checklist of what debugging needs, with remedies."""

from __future__ import annotations

import argparse
import sys

from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document

PROFILE_NAMES = ("legacy", "general", "baseline", "restricted", "netadmin", "sysadmin")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

_DESCRIPTION = """\
Check whether `podscope debug` can work: the API server's version and how it serves
pods/ephemeralcontainers, the kubelets' versions, your RBAC rights, the namespace's PodSecurity
level and which profiles it admits, and, for a POD, its state, target, users, existing
ephemeral containers and whether its node has the debug image. Changes nothing: admission is
proven with server-side dry-runs. Exits 0 when debugging can work, 17 when a check failed.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check whether debugging can work here, and say what to fix",
        description=_DESCRIPTION,
    )
    parser.add_argument("pod", nargs="?", metavar="POD", help="also check this Pod")
    add_cluster_flags(parser)
    parser.add_argument("--image", help="debug image to check (default: as for debug)")
    parser.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        help="profile you intend to use (default: legacy, judged leniently)",
    )
    parser.add_argument("--target", help="target container you intend to use")
    parser.add_argument(
        "--image-pull-policy", choices=PULL_POLICIES, help="imagePullPolicy you intend to use"
    )
    add_output_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from podscope.doctor import doctor
    from podscope.rules.output import render_table

    report = doctor(
        args.pod,
        namespace=args.namespace,
        **cluster_kwargs(args),
        image=args.image,
        profile=args.profile,
        target=args.target,
        image_pull_policy=args.image_pull_policy,
    )
    if args.output:
        document = report.to_dict()
        print_document(document, args.output)
        return int(report.exit_code)
    rows = [[f.check, f.result.upper(), f.evidence, f.remedy or "-"] for f in report.findings]
    sys.stdout.write(render_table(["CHECK", "RESULT", "EVIDENCE", "REMEDY"], rows))
    failed = [f.check for f in report.findings if f.result == "fail"]
    warned = [f.check for f in report.findings if f.result == "warn"]
    subject = f"Pod {report.pod}" if report.pod else f"namespace {report.namespace}"
    if failed:
        sys.stdout.write(
            f"\nnot ready: debugging {subject} cannot work: {len(failed)} check(s) failed "
            f"({', '.join(failed)})\n"
        )
    else:
        note = f" ({len(warned)} warning(s))" if warned else ""
        sys.stdout.write(f"\nready: debugging {subject} can work{note}\n")
    return int(report.exit_code)
