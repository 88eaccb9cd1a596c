"""``podscope stop POD [-c NAME | --all]``: end debuggers (they stay in the Pod, terminated)."""

from __future__ import annotations

import argparse

from podscope.cli import flags
from podscope.cli.common import open_client, print_document
from podscope.errors import ExitCode
from podscope.rules.requests import StopRequest

REQUEST = StopRequest
HELP = "end a debugger's main process (the container stays in the Pod, terminated)"
DESCRIPTION = (
    "End a podscope debugger: its main process exits and nothing can be exec'd into "
    "it any more. The container stays in the Pod as terminated, which is all "
    "Kubernetes allows (ephemeral containers cannot be removed). Without -c or --all, "
    "the Pod's only running debugger is stopped. A debugger in which a session runs is "
    "left alone (exit code 2) unless --force is given."
)


def run(args: argparse.Namespace) -> int:
    request = flags.build(StopRequest, flags.given(args), command="stop")
    with open_client(args) as client:
        result = client.stop(request)
    output = getattr(args, "output", None)
    if output:
        print_document(result.to_dict(), output)
    # --all left some in use (each said so): the command did not do all it was asked.
    return ExitCode.USAGE if result.in_use else 0
