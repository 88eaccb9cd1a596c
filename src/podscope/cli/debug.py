"""``podscope debug POD [-- COMMAND [ARG...]]``: parse, build the request, run, print.

One command, three modes, each its own request type: an ephemeral container
(:class:`DebugRequest`), a copy of the Pod (``--copy-to``: :class:`PodCopyRequest`), a Pod on
a node (``node/NAME``: :class:`NodeDebugRequest`). A flag the chosen mode does not have is
refused, naming the mode it belongs to.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from podscope.cli import flags
from podscope.cli.common import open_client, print_document
from podscope.cli.main import Parser
from podscope.errors import UsageError
from podscope.rules.requests import (
    DebugRequest,
    NodeDebugRequest,
    PodCopyRequest,
    field_names,
)

if TYPE_CHECKING:
    from podscope.rules.many import ManyDebugRequest


REQUEST = DebugRequest
HELP = "add an ephemeral debug container to a running Pod and attach to it"
DESCRIPTION = (
    "Add an ephemeral container to a running Pod, wait for it to start (failing fast on "
    "image or start errors) and attach to it. Without -i, the container's output is "
    "streamed until it exits and podscope exits with its exit code."
)


def customize(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _CommandTailParser
    # -l SELECTOR names the Pods instead: POD is checked in build_request.
    flags.positional_optional(parser, "pod")


class _CommandTailParser(Parser):
    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words, tail = flags.words_after_dashdash(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(words, namespace)
        # kubectl's rule: every word before `--` names a target (with no `--`, every word
        # does); only the words after it are the command. `debug POD1 POD2` is two Pods.
        more = list(getattr(parsed, "command", None) or [])
        if hasattr(parsed, "command"):
            del parsed.command
        # A word after a flag (`debug POD1 -it POD2`) is left over by argparse: a Pod too.
        more += [word for word in extras if not word.startswith("-")]
        extras = [word for word in extras if word.startswith("-")]
        if more:
            parsed.pods = [parsed.pod, *more]
            del parsed.pod
        if tail:
            parsed.command = tail
        return parsed, extras


def _mode(values: dict[str, Any]) -> tuple[type, str]:
    from podscope.rules.workloads import node_name_of

    if node_name_of(str(values.get("pod", ""))) is not None:
        if "copy_to" in values:
            raise UsageError("--copy-to copies a Pod; it cannot be used with node/NAME")
        return NodeDebugRequest, "node debugging"
    if "copy_to" in values:
        return PodCopyRequest, "--copy-to"
    return DebugRequest, "debug"


def _refusal(mode: str) -> Any:
    copy_only = field_names(PodCopyRequest) - field_names(DebugRequest)
    node_only = field_names(NodeDebugRequest) - field_names(DebugRequest) - {"node"}

    def refuse(flag: flags.Flag) -> str:
        if flag.dest in copy_only:
            return f"{flag.shown} may only be used with --copy-to"
        if flag.dest in node_only:
            return f"{flag.shown} may only be used when debugging a node (node/NAME)"
        hint = ""
        if flag.dest == "target" and mode == "--copy-to":
            hint = "; use --share-processes to see the other containers' processes"
        return f"{flag.shown} cannot be used with {mode}{hint}"

    return refuse


def _refuse_several_targets(pods: Sequence[str], values: dict[str, Any], node_name_of: Any) -> None:
    """Several words before ``--`` are several targets: say so where only one fits, and
    point at ``--`` for a command that was meant."""
    if len(pods) < 2 or "selector" in values:
        return  # with -l, the request's own check says where the command goes
    named = " ".join(pods)
    remedy = f"a command goes after --: podscope debug {pods[0]} -- {' '.join(pods[1:])}"
    if "command" in values:
        remedy = "name one target, and run podscope once for each"
    if "copy_to" in values:
        raise UsageError(
            f"--copy-to copies one Pod, but {len(pods)} were named ({named}): every word "
            "before -- names a Pod",
            remedy=remedy,
        )
    nodes = [pod for pod in pods if node_name_of(pod) is not None]
    if nodes:
        raise UsageError(
            f"{nodes[0]} debugs one node, but {len(pods)} targets were named ({named}): "
            "every word before -- names a target",
            remedy=remedy,
        )
    if not ({"command", "dry_run", "stdin", "tty"} & values.keys()):
        raise UsageError(
            f"{len(pods)} Pods were named ({named}) and no command: every word before -- "
            "names a Pod",
            remedy=f"{remedy}, or podscope debug {named} -- COMMAND to run it in each",
        )


def build_request(
    args: argparse.Namespace,
) -> DebugRequest | PodCopyRequest | NodeDebugRequest | ManyDebugRequest:
    """The request the command line asks for, validated (nothing is sent before this)."""
    # Imported here: --help needs none of the run's rules.
    from podscope.rules.workloads import is_many, node_name_of

    values = flags.given(args)
    _refuse_several_targets(values.get("pods", ()), values, node_name_of)
    if is_many(
        values.get("pods", ()), values.get("selector"), "all_pods" in values, "dry_run" in values
    ):
        from podscope.cli import many

        return many.build_request(values)
    if "pod" not in values:
        raise UsageError("name the Pod to debug: podscope debug POD [-- COMMAND]")
    for dest in ("max_parallel", "group"):
        if dest in values:
            shown = flags.flag_for("debug", dest).shown
            raise UsageError(f"{shown} applies to several Pods (-l, --all-pods, POD1 POD2 ...)")
    request_type, mode = _mode(values)
    if request_type is NodeDebugRequest:
        values["node"] = node_name_of(values.pop("pod"))
    if values.get("output") and values.get("stdin"):
        raise UsageError(
            "-o prints the result, the command's output captured in it; it cannot be used with -i",
            remedy="leave out -o for a session, or -i to capture a command's output",
        )
    request: DebugRequest | PodCopyRequest | NodeDebugRequest = flags.build(
        request_type, values, command="debug", refuse=_refusal(mode)
    )
    return request


def run(args: argparse.Namespace) -> int:
    request = build_request(args)
    # A run over several Pods: ManyDebugRequest is a DebugRequest too, so the type decides.
    if type(request) not in (DebugRequest, PodCopyRequest, NodeDebugRequest):
        from podscope.cli import many

        return many.run(args, cast("ManyDebugRequest", request))
    output = getattr(args, "output", None)
    # -o changes only what is printed: the same run, its output kept in the document.
    capture = bool(output) and request.attach
    with open_client(args) as client:
        result: Any
        if isinstance(request, NodeDebugRequest):
            result = client.debug_node(request, capture_output=capture)
        elif isinstance(request, PodCopyRequest):
            result = client.debug_copy(request, capture_output=capture)
        else:
            result = client.debug(request, capture_output=capture)
    if output:
        print_document(result.to_dict(), output)
    return result.exit_code if result.exit_code is not None else 0
