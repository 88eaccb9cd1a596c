"""``podscope replay FILE``: play a session recording (``--record``) back."""

from __future__ import annotations

import argparse
import sys

from podscope.cli import flags
from podscope.rules.requests import ReplayRequest

REQUEST = ReplayRequest
HELP = "play back a session recorded with --record"
DESCRIPTION = (
    "Write a recording's output to this terminal with its recorded timing "
    "(--speed to go faster, --instant for all at once). What was typed shows as the "
    "terminal echoed it; the recording's input events are not replayed."
)


def run(args: argparse.Namespace) -> int:
    from podscope.session.replay import run_replay

    request = flags.build(ReplayRequest, flags.given(args), command="replay")
    run_replay(request, sys.stdout.buffer)
    return 0
