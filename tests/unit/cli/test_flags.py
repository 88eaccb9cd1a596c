"""cli.flags: one table of flags, and requests built from what the user typed."""

from __future__ import annotations

from dataclasses import fields

import pytest

from podscope.cli import flags
from podscope.cli.debug import build_request
from podscope.cli.main import build_parser
from podscope.errors import UsageError
from podscope.rules.many import ManyCpRequest, ManyDebugRequest
from podscope.rules.requests import (
    ApplyRequest,
    AttachRequest,
    CleanupRequest,
    CpRequest,
    DebugRequest,
    DoctorRequest,
    ListRequest,
    NodeDebugRequest,
    PodCopyRequest,
    ReplayRequest,
    StopRequest,
    field_default,
)

REQUESTS = {
    "debug": (DebugRequest, PodCopyRequest, NodeDebugRequest, ManyDebugRequest),
    "attach": (AttachRequest,),
    "ls": (ListRequest,),
    "stop": (StopRequest,),
    "cp": (CpRequest, ManyCpRequest),
    "apply": (ApplyRequest,),
    "cleanup": (CleanupRequest,),
    "doctor": (DoctorRequest,),
    "replay": (ReplayRequest,),
}
# Request fields that no flag sets: they come from the command's position or from Python.
# debug: POD1 POD2 ... before --; cp -l: PATH comes in SELECTOR:PATH
NOT_FLAGS = {"node", "text", "pods", "path"}


@pytest.mark.parametrize("command", sorted(flags.COMMAND_FLAGS))
def test_every_flag_lands_in_a_request_field(command: str) -> None:
    names = {f.name for t in REQUESTS[command] for f in fields(t)}
    for key in flags.COMMAND_FLAGS[command]:
        dest = flags.FLAGS[key].dest
        assert dest in names or dest in flags.CLI_ONLY, f"{command}: {key} sets nothing"


@pytest.mark.parametrize("command", sorted(flags.COMMAND_FLAGS))
def test_every_request_field_has_a_flag(command: str) -> None:
    dests = {flags.FLAGS[key].dest for key in flags.COMMAND_FLAGS[command]}
    for request_type in REQUESTS[command]:
        for item in fields(request_type):
            assert item.name in dests or item.name in NOT_FLAGS, (command, item.name)


def test_one_flag_name_per_command() -> None:
    for command, keys in flags.COMMAND_FLAGS.items():
        names = [n for key in keys for n in flags.FLAGS[key].names]
        assert len(names) == len(set(names)), command


def test_help_defaults_come_from_the_request() -> None:
    text = build_parser().parse_args  # noqa: F841 - the parser builds with every command
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command_name")
    debug_help = sub.choices["debug"].format_help()  # type: ignore[union-attr]
    assert f"(default {field_default(DebugRequest, 'timeout'):g})" in " ".join(debug_help.split())


def parse(*argv: str) -> object:
    return build_request(build_parser().parse_args(["debug", *argv]))


def test_flags_not_given_keep_request_defaults() -> None:
    assert parse("web") == DebugRequest(pod="web")


def test_given_flags_fill_the_request() -> None:
    request = parse(
        "web",
        "-it",
        "--image",
        "busybox:1.36",
        "--env",
        "A=1",
        "--env",
        "B=2",
        "--",
        "sh",
        "-c",
        "echo hi",
    )
    assert request == DebugRequest(
        pod="web",
        stdin=True,
        tty=True,
        image="busybox:1.36",
        env=("A=1", "B=2"),
        command=("sh", "-c", "echo hi"),
    )


def test_output_leaves_the_run_as_it_is() -> None:
    # -o only renders: the same request, so the same model (exec) and debugger reuse.
    request = parse("web", "-o", "json", "--", "ps")
    assert request == DebugRequest(pod="web", command=("ps",))
    assert isinstance(request, DebugRequest) and request.exec_model() == (True, None)


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["web", "--image", ""], "--image needs a value"),
        (["web", "-i", "-o", "json"], "cannot be used with -i"),
        (["web", "--keep"], "--keep may only be used when debugging a node"),
        (["node/n1", "--reuse"], "--reuse cannot be used with node debugging"),
    ],
)
def test_refusals_name_the_flag(argv: list[str], text: str) -> None:
    with pytest.raises(Exception, match=text):
        parse(*argv)


def test_unknown_dest_is_refused() -> None:
    with pytest.raises(UsageError, match="--keep cannot be used here"):
        flags.build(ListRequest, {"keep": True}, command="debug")


def test_ls_age_is_kubectls_short_form() -> None:
    from podscope.cli.ls import age

    now = 1_000_000.0
    from datetime import datetime, timezone

    def stamp(seconds_ago: float) -> str:
        return datetime.fromtimestamp(now - seconds_ago, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

    assert age(stamp(45), now) == "45s"
    assert age(stamp(125), now) == "2m"
    assert age(stamp(3 * 3600), now) == "3h"
    assert age(stamp(3 * 86400), now) == "3d"
    assert age(None, now) == "-" and age("garbage", now) == "-"
