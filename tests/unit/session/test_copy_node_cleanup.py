"""Pure parts of copy mode, node mode and cleanup: flag checks, node refs, Pod descriptions."""

from __future__ import annotations

import argparse

import pytest

from podscope.cli.debug import build_request
from podscope.cli.main import build_parser
from podscope.errors import UsageError
from podscope.rules.requests import NodeDebugRequest, PodCopyRequest
from podscope.rules.workloads import node_name_of
from podscope.session.cleanup import EPHEMERAL_NOTE, CleanupResult, describe, is_managed


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["debug", *argv])


def test_node_refs() -> None:
    assert node_name_of("node/n1") == "n1"
    assert node_name_of("nodes/n1") == "n1"
    assert node_name_of("Node/n1") == "n1"
    assert node_name_of("no/n1") == "n1"
    assert node_name_of("web") is None
    assert node_name_of("deploy/web") is None


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["web", "--set-image", "a=b"], "--set-image may only be used with --copy-to"),
        (["web", "--command-override", "a", "--", "x"], "--command-override may only"),
        (["web", "--replace"], "--replace may only"),
        (["web", "--no-keep-init-containers"], "--keep-init-containers may only"),
        (["web", "--keep"], "--keep may only be used when debugging a node"),
        (["node/n1", "--copy-to", "x"], "cannot be used with node/NAME"),
        (["web", "--copy-to", "x", "--target", "app"], "use --share-processes"),
        (["web", "--copy-to", "x", "--reuse"], "--reuse cannot be used with --copy-to"),
        (["web", "--copy-to", "x", "--chroot"], "--chroot cannot be used with --copy-to"),
        (["web", "--copy-to", "x", "--cd", "/"], "--cd cannot be used"),
        (["node/n1", "--copy-env"], "--copy-env cannot be used with node debugging"),
        (["node/n1", "-t"], "-t/--tty needs -i"),
        (["node/n1", "-i", "-o", "json"], "cannot be used with -i"),
    ],
)
def test_mode_flag_refusals(argv: list[str], text: str) -> None:
    args = parse(*argv)
    with pytest.raises(UsageError, match=text):
        build_request(args)


@pytest.mark.parametrize(
    "argv",
    [
        ["web"],
        ["web", "--copy-to", "x", "--set-image", "*=busybox", "--keep-labels", "--same-node"],
        ["web", "--copy-to", "x", "--command-override", "app", "--", "sleep", "1"],
        ["node/n1", "--chroot", "--keep", "--profile", "sysadmin", "--", "ls"],
    ],
)
def test_mode_flags_accepted(argv: list[str]) -> None:
    build_request(parse(*argv)).validate()


def test_command_tail_goes_to_words() -> None:
    args = parse("web", "--copy-to", "x", "--command-override", "app", "--", "sleep", "1")
    request = build_request(args)
    assert isinstance(request, PodCopyRequest)
    assert request.command == ("sleep", "1") and request.command_override == "app"


def test_node_mode_request() -> None:
    request = build_request(parse("node/n1", "--chroot", "--keep", "--", "ls"))
    assert request == NodeDebugRequest(node="n1", chroot=True, keep=True, command=("ls",))


def _pod(labels: dict[str, str], **meta: str) -> dict[str, object]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "labels": labels, "uid": "u", **meta},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running"},
    }


def test_describe_managed_pods() -> None:
    managed = {"app.kubernetes.io/managed-by": "podscope"}
    copy = describe(_pod({**managed, "podscope.dev/copy-of": "web"}))
    assert (copy.purpose, copy.source, copy.phase, copy.node) == ("copy", "web", "Running", "n1")
    node = describe(_pod({**managed, "podscope.dev/node-debug": "n1"}))
    assert (node.purpose, node.source) == ("node-debug", "n1")
    other = describe(_pod(managed, deletionTimestamp="2024-01-01T00:00:00Z"))
    assert (other.purpose, other.phase) == ("other", "Terminating")
    assert is_managed(_pod(managed))
    assert not is_managed(_pod({"app.kubernetes.io/managed-by": "kubectl-debug"}))
    assert not is_managed({"metadata": {}})


def test_cleanup_result_document() -> None:
    managed = {"app.kubernetes.io/managed-by": "podscope"}
    pod = describe(_pod(managed))
    result = CleanupResult(found=[pod], deleted=[pod])
    document = result.to_dict()
    assert document["pods"][0]["deleted"] is True
    assert document["note"] == EPHEMERAL_NOTE and "podscope ls" in EPHEMERAL_NOTE
