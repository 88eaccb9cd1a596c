"""``podscope debug`` over several Pods: build the request, print lines, rows, JSON lines.

Output lines are prefixed with their Pod's name as they arrive (``--group``: each Pod's
output as one block when it finishes); a summary table follows. ``-o json`` prints one JSON
object per Pod as it finishes, and nothing else on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any, BinaryIO

from podscope.cli import flags
from podscope.errors import UsageError
from podscope.rules.many import (
    SUMMARY_HEADERS,
    ManyCpRequest,
    ManyDebugRequest,
    PodOutcome,
    json_line,
    split_selector_path,
    summary_row,
)


def build_request(values: dict[str, Any]) -> ManyDebugRequest:
    """The several-Pods request of a ``debug`` command line, validated."""
    output = values.get("output")
    if output not in (None, "json"):
        raise UsageError(
            f"-o {output} is not available with several Pods; -o json prints one JSON "
            "object per Pod (JSON lines)"
        )
    if output and values.get("group"):
        raise UsageError("give -o json or --group, not both")
    if "copy_to" in values:
        raise UsageError("--copy-to copies one Pod; it cannot be used with several Pods")
    pods = [*values.pop("pods", ()), *([values.pop("pod")] if "pod" in values else [])]
    values["pods"] = tuple(dict.fromkeys(pods))
    return flags.build(
        ManyDebugRequest,
        values,
        command="debug",
        refuse=lambda flag: f"{flag.shown} cannot be used with several Pods",
    )


class _Printer:
    """Writes each Pod's output as whole lines prefixed with the Pod's name, never two
    Pods' bytes inside one line."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.partial: dict[tuple[str, int], bytes] = {}

    def _stream(self, channel: int) -> BinaryIO:
        return sys.stderr.buffer if channel == 2 else sys.stdout.buffer

    def _line(self, pod: str, channel: int, line: bytes) -> None:
        out = self._stream(channel)
        out.write(f"{pod} | ".encode() + line)
        out.flush()

    def __call__(self, pod: str, channel: int, data: bytes) -> None:
        with self.lock:
            text = self.partial.pop((pod, channel), b"") + data
            *lines, rest = text.split(b"\n")
            for line in lines:
                self._line(pod, channel, line + b"\n")
            if rest:
                self.partial[(pod, channel)] = rest

    def finish(self, pod: str) -> None:
        with self.lock:
            for channel in (1, 2):
                rest = self.partial.pop((pod, channel), b"")
                if rest:
                    self._line(pod, channel, rest + b"\n")


def _block(outcome: PodOutcome) -> None:
    """``--group``: one Pod's output as a block under a header line."""
    if outcome.status in ("skipped", "selected"):
        return
    out = sys.stdout.buffer
    out.write(f"=== {outcome.pod} ({summary_row(outcome)[2]}) ===\n".encode())
    out.write(outcome.stdout or b"")
    if outcome.stdout and not outcome.stdout.endswith(b"\n"):
        out.write(b"\n")
    out.flush()
    if outcome.stderr:
        sys.stderr.buffer.write(outcome.stderr)
        sys.stderr.buffer.flush()


def _json(outcome: PodOutcome) -> None:
    sys.stdout.write(json.dumps(json_line(outcome), sort_keys=True) + "\n")
    sys.stdout.flush()


def run(args: argparse.Namespace, request: ManyDebugRequest) -> int:
    from podscope.cli.common import open_client, print_table

    output = getattr(args, "output", None)
    group = bool(getattr(args, "group", False))
    printer = _Printer()
    streaming = not (output or group or request.dry_run)

    def on_outcome(outcome: PodOutcome) -> None:
        if output == "json":
            _json(outcome)
        elif group:
            _block(outcome)
        else:
            printer.finish(outcome.pod)

    with open_client(args) as client:
        result = client.debug_many(
            request,
            on_output=printer if streaming else None,
            on_outcome=on_outcome,
            capture_output=not streaming,
        )
    if output != "json" and result.outcomes:
        print_table(args, SUMMARY_HEADERS, [summary_row(o) for o in result.outcomes])
    return result.exit_code


def run_cp(args: argparse.Namespace, values: dict[str, Any]) -> int:
    """``podscope cp -l SELECTOR:PATH DIR``: the copy out of each Pod, then the table."""
    from podscope.cli.common import open_client, print_table

    if "dest" in values:
        raise UsageError(
            "with -l SELECTOR:PATH give only the local directory, e.g. "
            "podscope cp -l app=web:/var/log/app.log logs/"
        )
    output = values.get("output")
    if output not in (None, "json"):
        raise UsageError("-o yaml is not available with -l; -o json prints JSON lines")
    selector, path = split_selector_path(values.pop("selector"))
    values.update(selector=selector, path=path, dest=values.pop("source"))
    request = flags.build(ManyCpRequest, values, command="cp")
    with open_client(args) as client:
        result = client.cp_many(request, on_outcome=_json if output == "json" else None)
    if output != "json":
        print_table(args, SUMMARY_HEADERS, [summary_row(o) for o in result.outcomes])
    return result.exit_code
