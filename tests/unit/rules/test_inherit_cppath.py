"""--copy-env/--copy-mounts/--as-target-user rules, and `podscope cp` operands."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import NotFoundError, UsageError, ValidationError
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.cppath import RemotePath, parse_operand, plan_copy, split_remote
from podscope.rules.inherit import (
    Inherit,
    check_non_root_user,
    effective_user,
    inherited_fields,
    merge_env,
    parse_user,
    target_user,
)


def pod(
    container: dict[str, Any] | None = None, pod_sc: dict[str, Any] | None = None
) -> dict[str, Any]:
    main = {"name": "app", "image": "app:1", **(container or {})}
    spec: dict[str, Any] = {"containers": [main], "volumes": [{"name": "data", "emptyDir": {}}]}
    if pod_sc:
        spec["securityContext"] = pod_sc
    return {"metadata": {"name": "p", "namespace": "ns"}, "spec": spec}


def test_copy_env_keeps_references() -> None:
    env = [
        {"name": "A", "value": "1"},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ]
    env_from = [{"configMapRef": {"name": "cm"}}]
    p = pod({"env": env, "envFrom": env_from})
    fields = inherited_fields(p, "app", Inherit(env=True))
    assert fields == {"env": env, "envFrom": env_from}
    assert fields["env"] is not env  # copies, never the Pod's own lists


def test_env_flag_wins_over_copied_env() -> None:
    p = pod({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})
    spec = DebugSpec(
        image="busybox",
        target="app",
        env=["B=override", "C=3"],
        inherited=inherited_fields(p, "app", Inherit(env=True)),
    )
    container = build_ephemeral_container(p, spec)
    assert container["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "override"},
        {"name": "C", "value": "3"},
    ]


def test_merge_env_appends_and_replaces() -> None:
    assert merge_env(None, [{"name": "X", "value": "1"}]) == [{"name": "X", "value": "1"}]


def test_copy_mounts() -> None:
    mounts = [{"name": "data", "mountPath": "/data", "readOnly": True}]
    p = pod({"volumeMounts": mounts})
    fields = inherited_fields(p, "app", Inherit(mounts=True))
    container = build_ephemeral_container(
        p, DebugSpec(image="busybox", target="app", inherited=fields)
    )
    assert container["volumeMounts"] == mounts


@pytest.mark.parametrize("sub", ["subPath", "subPathExpr"])
def test_copy_mounts_refuses_subpath_by_name(sub: str) -> None:
    p = pod({"volumeMounts": [{"name": "data", "mountPath": "/conf", sub: "conf"}]})
    with pytest.raises(
        ValidationError, match=rf'volume mount "data" of container "app" \(at "/conf"\) uses {sub}'
    ):
        inherited_fields(p, "app", Inherit(mounts=True))


def test_inherit_needs_a_target() -> None:
    with pytest.raises(UsageError, match="needs a target container") as info:
        inherited_fields(pod(), None, Inherit(env=True))
    assert info.value.remedy == "name it with --target"
    with pytest.raises(NotFoundError):
        inherited_fields(pod(), "nope", Inherit(env=True))


def test_effective_user_container_over_pod() -> None:
    p = pod({"securityContext": {"runAsUser": 10}}, {"runAsUser": 20, "runAsGroup": 30})
    assert effective_user(p, p["spec"]["containers"][0]) == (10, 30)
    assert target_user(p, p["spec"]["containers"][0]) == (10, 30)


def test_target_user_unknown_suggests_user_flag() -> None:
    p = pod()
    with pytest.raises(ValidationError, match="runs as its image's user") as info:
        target_user(p, p["spec"]["containers"][0])
    assert info.value.remedy and "--user" in info.value.remedy


@pytest.mark.parametrize(
    ("text", "expected"), [("65532", (65532, None)), ("1:2", (1, 2)), (" 0:0 ", (0, 0))]
)
def test_parse_user(text: str, expected: tuple[int, int | None]) -> None:
    assert parse_user(text) == expected


@pytest.mark.parametrize("text", ["root", "1:", ":1", "-1", "1:2:3", "99999999999"])
def test_parse_user_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_user(text)


def test_non_root_check() -> None:
    restricted = {"securityContext": {"runAsNonRoot": True}}
    with pytest.raises(ValidationError, match="sets no runAsUser") as info:
        check_non_root_user(pod(), {"name": "d", **restricted})
    assert info.value.remedy and "--as-target-user" in info.value.remedy
    check_non_root_user(
        pod(), {"name": "d", "securityContext": {"runAsNonRoot": True, "runAsUser": 5}}
    )
    # The Pod's runAsUser applies to the debug container too.
    check_non_root_user(pod(pod_sc={"runAsNonRoot": True, "runAsUser": 5}), {"name": "d"})
    with pytest.raises(ValidationError, match="the Pod's securityContext"):
        check_non_root_user(pod(pod_sc={"runAsNonRoot": True}), {"name": "d"})
    check_non_root_user(pod(), {"name": "d"})


def test_restricted_with_user_validates() -> None:
    p = pod()
    spec = DebugSpec(image="busybox", target="app", profile="restricted", user=(65532, None))
    sc = build_ephemeral_container(p, spec)["securityContext"]
    assert sc["runAsUser"] == 65532 and sc["runAsNonRoot"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}


# --- cp operands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web:/tmp/x", RemotePath("web", "/tmp/x")),
        ("shop/web-1:/tmp/x/", RemotePath("web-1", "/tmp/x", "shop", directory=True)),
        ("web.a.b://etc//./ssl", RemotePath("web.a.b", "/etc/ssl")),
        ("./web:/x", "./web:/x"),
        ("/abs/a:b", "/abs/a:b"),
        ("Web:/x", "Web:/x"),  # not a Pod name: a local path
        ("plain", "plain"),
    ],
)
def test_parse_operand(text: str, expected: RemotePath | str) -> None:
    assert parse_operand(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("web:", "give the path"), ("web:tmp/x", "absolute"), ("web:/a/../b", "'..'")],
)
def test_parse_operand_refuses(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_operand(text)


def test_plan_copy() -> None:
    assert plan_copy("web:/a", "b") == ("out", RemotePath("web", "/a"), "b")
    assert plan_copy("b", "web:/a") == ("in", RemotePath("web", "/a"), "b")
    with pytest.raises(UsageError, match="one of source and destination"):
        plan_copy("a", "b")
    with pytest.raises(UsageError, match="one Pod to another"):
        plan_copy("x:/a", "y:/b")
    with pytest.raises(UsageError, match="whole root"):
        plan_copy("x:/", "b")


def test_split_remote() -> None:
    assert split_remote("/tmp/x") == ("/tmp", "x")
    assert split_remote("/x") == ("/", "x")
    assert split_remote("/") == ("/", "")
