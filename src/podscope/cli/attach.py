"""``podscope attach POD -c NAME``: attach to an existing (debug) container."""

from __future__ import annotations

import argparse

from podscope.cli import flags
from podscope.cli.common import open_client
from podscope.errors import UsageError
from podscope.rules.requests import AttachRequest

REQUEST = AttachRequest
HELP = "attach to a container of a Pod, e.g. a debug container left running"
DESCRIPTION = (
    "Attach to a running container (a finished one shows its log) and exit with its "
    "exit code once it ends."
)


def run(args: argparse.Namespace) -> int:
    values = flags.given(args)
    if "container" not in values:
        raise UsageError("attach needs -c/--container NAME (the container to attach to)")
    request = flags.build(AttachRequest, values, command="attach")
    with open_client(args) as client:
        result = client.attach(request)
    return result.exit_code if result.exit_code is not None else 0
