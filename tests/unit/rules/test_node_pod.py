"""rules.node_pod: the Pod for `podscope debug node/NAME` (pure)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from podscope.errors import UsageError, ValidationError
from podscope.rules.managed import MANAGED_BY_KEY, NODE_DEBUG_KEY
from podscope.rules.names import is_subdomain
from podscope.rules.node_pod import build_node_pod, node_pod_name
from podscope.rules.requests import NodeDebugRequest


def build(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("node", "node-a")
    kwargs.setdefault("image", "busybox")
    return build_node_pod(NodeDebugRequest(**kwargs), rng=random.Random(3))


def test_legacy_node_pod() -> None:
    pod = build(namespace="ops", command=["ps"])
    meta, spec = pod["metadata"], pod["spec"]
    assert meta["name"].startswith("node-debugger-node-a-") and is_subdomain(meta["name"])
    assert meta["namespace"] == "ops"
    assert meta["labels"] == {MANAGED_BY_KEY: "podscope", NODE_DEBUG_KEY: "node-a"}
    assert spec["nodeName"] == "node-a"
    assert spec["restartPolicy"] == "Never"
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["hostPID"] and spec["hostNetwork"] and spec["hostIPC"]
    assert spec["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}]
    container = spec["containers"][0]
    assert container["name"] == "debugger"
    assert container["command"] == ["ps"]
    assert container["volumeMounts"] == [{"name": "host-root", "mountPath": "/host"}]


def test_chroot_wraps_the_command_or_starts_a_shell() -> None:
    assert build(chroot=True, command=["cat", "/etc/os-release"])["spec"]["containers"][0][
        "command"
    ] == ["chroot", "/host", "cat", "/etc/os-release"]
    assert build(chroot=True)["spec"]["containers"][0]["command"] == ["chroot", "/host"]


def test_flags_reach_the_container() -> None:
    container = build(
        container="dbg",
        command=["-v"],
        arguments_only=True,
        env=["A=1"],
        image_pull_policy="IfNotPresent",
        stdin=True,
        tty=True,
        custom={"workingDir": "/host"},
    )["spec"]["containers"][0]
    assert container["name"] == "dbg"
    assert container["args"] == ["-v"] and "command" not in container
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["stdin"] and container["tty"]
    assert container["workingDir"] == "/host"


@pytest.mark.parametrize(
    ("profile", "host_root", "host_ns"),
    [
        ("legacy", True, True),
        ("general", True, True),
        ("sysadmin", True, True),
        ("netadmin", False, True),
        ("baseline", False, False),
        ("restricted", False, False),
    ],
)
def test_profiles(profile: str, host_root: bool, host_ns: bool) -> None:
    spec = build(profile=profile)["spec"]
    assert ("volumes" in spec) is host_root
    assert bool(spec.get("hostPID")) is host_ns


def test_long_node_name_gives_a_valid_pod_name() -> None:
    node = ".".join(["a" * 60] * 4)  # 243 characters, a valid node name
    name = node_pod_name(node, random.Random(1))
    assert len(name) <= 253 and is_subdomain(name)
    labels = build(node=node)["metadata"]["labels"]
    assert len(labels[NODE_DEBUG_KEY]) <= 63


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"chroot": True, "profile": "baseline"}, UsageError, "does not mount"),
        ({"chroot": True, "arguments_only": True}, UsageError, "--arguments-only"),
        ({"node": "bad/node"}, ValidationError, "node name"),
        ({"node": ""}, ValidationError, "Required"),
        ({"image": "Bad Image"}, UsageError, "invalid image name"),
        ({"container": "Bad_Name"}, ValidationError, "RFC 1123"),
        ({"profile": "admin"}, UsageError, "valid profiles"),
        ({"tty": True}, UsageError, "needs -i"),
        ({"image_pull_policy": "Sometimes"}, UsageError, "pull-policy"),
    ],
)
def test_refusals(kwargs: dict[str, Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        build(**kwargs)
