"""``podscope doctor [POD]``: a checklist of what debugging needs, with remedies."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.cli.common import machine_output, open_client, print_document, print_table
from podscope.rules.requests import DoctorRequest

DESCRIPTION = """\
Check whether `podscope debug` can work: the API server's version and how it serves
pods/ephemeralcontainers, the kubelets' versions, your RBAC rights, the namespace's PodSecurity
level and which profiles it admits, and, for a POD, its state, target, users, existing
ephemeral containers and whether its node has the debug image. Changes nothing: admission is
proven with server-side dry-runs. Exits 0 when debugging can work, 17 when a check failed.
"""


REQUEST = DoctorRequest
HELP = "check whether debugging can work here, and say what to fix"


def run(args: argparse.Namespace) -> int:
    request = flags.build(DoctorRequest, flags.given(args), command="doctor")
    with open_client(args) as client:
        report = client.doctor(request)
    output = machine_output(args)
    if output:
        print_document(report.to_dict(), output)
        return int(report.exit_code)
    rows = [[f.check, f.result.upper(), f.evidence, f.remedy or "-"] for f in report.findings]
    print_table(args, ["CHECK", "RESULT", "EVIDENCE", "REMEDY"], rows)
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
