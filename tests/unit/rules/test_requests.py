"""rules.requests: every cross-field rule of every request, before anything is sent."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podscope.errors import ExitCode, PodscopeError, UsageError, ValidationError
from podscope.rules.requests import (
    ApplyRequest,
    AttachRequest,
    CleanupRequest,
    ContainerRequest,
    CpRequest,
    DebugRequest,
    DoctorRequest,
    EnableGateRequest,
    ListRequest,
    NodeDebugRequest,
    PodCopyRequest,
    field_default,
)


def refused(request: Any) -> PodscopeError:
    with pytest.raises(PodscopeError) as caught:
        request.validate()
    return caught.value


@pytest.mark.parametrize(
    ("request_", "code", "text"),
    [
        (DebugRequest(pod="web", tty=True), ExitCode.USAGE, "-t/--tty needs -i"),
        (DebugRequest(pod="web", image=""), ExitCode.INVALID, "--image needs a value"),
        (DebugRequest(pod="web", image="  "), ExitCode.INVALID, "--image needs a value"),
        (DebugRequest(pod="web", container=""), ExitCode.INVALID, "--container needs a value"),
        (DebugRequest(pod="web", custom=""), ExitCode.INVALID, "--custom needs a value"),
        (DebugRequest(pod="web", user=""), ExitCode.INVALID, "--user needs a value"),
        (DebugRequest(pod="web", timeout=0), ExitCode.USAGE, "positive number"),
        (DebugRequest(pod="web", timeout=float("inf")), ExitCode.USAGE, "positive number"),
        (DebugRequest(pod="web", timeout=True), ExitCode.USAGE, "positive number"),
        (DebugRequest(pod="web", cd="/etc", chroot=True), ExitCode.USAGE, "not both"),
        (DebugRequest(pod="web", cd="etc"), ExitCode.USAGE, "absolute"),
        (
            DebugRequest(pod="web", chroot=True, arguments_only=True, command=("x",)),
            ExitCode.USAGE,
            "--chroot cannot be combined with --arguments-only",
        ),
        (DebugRequest(pod="web", arguments_only=True), ExitCode.USAGE, "needs arguments"),
        (DebugRequest(pod="web", command=("",)), ExitCode.INVALID, "the command after -- is"),
        (
            PodCopyRequest(pod="web", copy_to="x", command=(" ", "a")),
            ExitCode.INVALID,
            "the command after -- is empty",
        ),
        (
            DebugRequest(pod="web", user="1000", as_target_user=True),
            ExitCode.USAGE,
            "--as-target-user or --user",
        ),
        (DebugRequest(pod="node/n1"), ExitCode.USAGE, "names a node"),
        (DebugRequest(pod="Bad_Pod"), ExitCode.INVALID, "POD"),
        (DebugRequest(pod="web", namespace="../x"), ExitCode.INVALID, "--namespace"),
        (DebugRequest(pod="web", profile="admin"), ExitCode.USAGE, "valid profiles"),  # type: ignore[arg-type]
        (
            DebugRequest(pod="web", image_pull_policy="Sometimes"),  # type: ignore[arg-type]
            ExitCode.USAGE,
            "--image-pull-policy",
        ),
        (DebugRequest(pod="web", env=("noequals",)), ExitCode.USAGE, "NAME=VALUE"),
        (DebugRequest(pod="web", image="Bad Image"), ExitCode.USAGE, "invalid image name"),
        (PodCopyRequest(pod="web", copy_to=""), ExitCode.INVALID, "--copy-to needs a value"),
        (
            PodCopyRequest(pod="web", copy_to="x", set_image=("a",)),
            ExitCode.USAGE,
            "CONTAINER=IMAGE",
        ),
        (NodeDebugRequest(node="bad/node"), ExitCode.INVALID, "node name"),
        (AttachRequest(pod="web", container=""), ExitCode.INVALID, "--container needs a value"),
        (ListRequest(pod="web", all_namespaces=True), ExitCode.USAGE, "not both"),
        (CpRequest(source="", dest="x"), ExitCode.INVALID, "SRC needs a value"),
        (CpRequest(source="p:/a", dest="x", image=""), ExitCode.INVALID, "--image"),
        (ApplyRequest(), ExitCode.USAGE, "file or as text"),
        (ApplyRequest(file="a", text="b"), ExitCode.USAGE, "file or as text"),
        (ApplyRequest(file="a", attach=True, dry_run="client"), ExitCode.USAGE, "--dry-run"),
        (ApplyRequest(file="a", stdin=True), ExitCode.USAGE, "add --attach"),
        (ApplyRequest(file="a", dry_run="maybe"), ExitCode.USAGE, "--dry-run"),  # type: ignore[arg-type]
        (CleanupRequest(pods=("a",), all_namespaces=True), ExitCode.USAGE, "not with"),
        (CleanupRequest(namespace="x", all_namespaces=True), ExitCode.USAGE, "not both"),
        (DoctorRequest(image=""), ExitCode.INVALID, "--image needs a value"),
        (EnableGateRequest(root=""), ExitCode.INVALID, "--root needs a value"),
    ],
)
def test_refusals(request_: Any, code: ExitCode, text: str) -> None:
    error = refused(request_)
    assert error.exit_code == code, error.message
    assert text in error.message
    assert "\n" not in error.message


@pytest.mark.parametrize(
    "request_",
    [
        DebugRequest(pod="web"),
        DebugRequest(pod="deploy/web", stdin=True, tty=True, cd="/etc", target="app"),
        DebugRequest(pod="web", command=("ls",), arguments_only=True, user="1000:1000"),
        PodCopyRequest(pod="web", copy_to="web-copy", set_image=("*=busybox",)),
        NodeDebugRequest(node="node/n1", chroot=True),
        AttachRequest(pod="web", container="debugger-abcde"),
        ListRequest(all_namespaces=True),
        CpRequest(source="web:/etc/hosts", dest="hosts"),
        ApplyRequest(file="ec.json", attach=True, stdin=True, tty=True),
        CleanupRequest(pods=("a", "b")),
        DoctorRequest(pod="web", profile="restricted"),
        EnableGateRequest(only=("kubelet",)),
    ],
)
def test_valid_requests_pass(request_: Any) -> None:
    request_.validate()


def test_empty_value_names_its_flag_as_field() -> None:
    error = refused(DebugRequest(pod="web", image=""))
    assert isinstance(error, ValidationError) and error.field == "--image"


def test_requests_are_frozen_and_hold_tuples() -> None:
    request = DebugRequest(pod="web", command=["ls", "-l"], env=["A=b"])  # type: ignore[arg-type]
    assert request.command == ("ls", "-l") and request.env == ("A=b",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.pod = "other"  # type: ignore[misc]
    assert hash(request) == hash(DebugRequest(pod="web", command=("ls", "-l"), env=("A=b",)))


def test_requests_are_values_equal_by_class_and_every_field() -> None:
    one = DebugRequest(pod="web", image="busybox", timeout=5)
    assert one == DebugRequest(pod="web", image="busybox", timeout=5)
    assert one != DebugRequest(pod="web", image="busybox", timeout=6)
    assert one != DebugRequest(pod="web", image="alpine", timeout=5)
    # Same shared fields, another mode: not the same request.
    assert ContainerRequest(image="busybox") != NodeDebugRequest(node="n1", image="busybox")
    assert ContainerRequest(image="busybox") == ContainerRequest(image="busybox")
    assert len({one, DebugRequest(pod="web", image="busybox", timeout=5)}) == 1
    shown = repr(one)
    assert shown.startswith("DebugRequest(namespace=None, image='busybox',")
    assert "pod='web'" in shown and "timeout=5" in shown
    assert all(f"{item.name}=" in shown for item in dataclasses.fields(one))


def test_a_string_command_is_refused_not_spread() -> None:
    with pytest.raises(UsageError, match="list of words"):
        DebugRequest(pod="web", command="ls -l")  # type: ignore[arg-type]


def test_field_defaults() -> None:
    assert field_default(DebugRequest, "timeout") == 300.0
    assert field_default(DebugRequest, "attach") is True
    assert field_default(DebugRequest, "command") == ()
    with pytest.raises(KeyError):
        field_default(DebugRequest, "nope")


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: DebugRequest(pod=None), "pod"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod=123), "pod"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod="web", stdin="yes"), "stdin"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod="web", stdin=1), "stdin"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod="web", command=("ls", 1)), "command"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod="web", timeout="30"), "timeout"),  # type: ignore[arg-type]
        (lambda: DebugRequest(pod="web", timeout=True), "timeout"),
        (lambda: ListRequest(pod=["web"]), "pod"),  # type: ignore[arg-type]
        (lambda: CpRequest(source="a", dest=None), "dest"),  # type: ignore[arg-type]
    ],
)
def test_a_python_callers_wrong_type_names_the_field(make: Any, field: str) -> None:
    from podscope.rules.requests import check_field_types

    request = make()
    with pytest.raises(TypeError, match=rf"\.{field} must be "):
        check_field_types(request)


def test_every_request_with_its_defaults_has_the_right_types() -> None:
    from podscope.rules.requests import check_field_types

    for request in (
        DebugRequest(pod="web", command=["ls", "-l"], env=["A=1"], timeout=30),
        PodCopyRequest(pod="web", copy_to="web-copy"),
        NodeDebugRequest(node="n1"),
        AttachRequest(pod="web", container="debugger-1"),
        ListRequest(),
        CpRequest(source="web:/etc/hosts", dest="/tmp/hosts"),
        ApplyRequest(file="ec.json"),
        CleanupRequest(),
        DoctorRequest(),
        EnableGateRequest(),
    ):
        check_field_types(request)  # a whole-number timeout is a float's value too
