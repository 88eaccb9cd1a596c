from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from podscope.errors import UsageError, ValidationError
from podscope.rules.profiles import (
    PROFILES,
    apply_copy_profile,
    apply_ephemeral_profile,
    apply_node_profile,
    check_profile,
    describe_grants,
)
from podscope.rules.requests import PodCopyRequest

BASE = {"name": "dbg", "image": "busybox", "securityContext": {"runAsUser": 5}}

PodFactory = Callable[..., dict[str, Any]]


def ephemeral(profile: str, container: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_ephemeral_profile(profile, container or copy.deepcopy(BASE), {}, None)


def test_profiles_tuple() -> None:
    assert PROFILES == ("legacy", "general", "baseline", "restricted", "netadmin", "sysadmin")


def test_unknown_profile() -> None:
    with pytest.raises(UsageError, match="valid profiles: legacy, general"):
        check_profile("admin")
    with pytest.raises(UsageError):
        ephemeral("admin")


def test_legacy_changes_nothing() -> None:
    assert ephemeral("legacy") == BASE


def test_general_adds_sys_ptrace_and_keeps_context() -> None:
    sc = ephemeral("general")["securityContext"]
    assert sc == {"runAsUser": 5, "capabilities": {"add": ["SYS_PTRACE"]}}


def test_general_does_not_duplicate_capability() -> None:
    container = {
        "name": "d",
        "image": "i",
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    }
    assert ephemeral("general", container)["securityContext"]["capabilities"]["add"] == [
        "SYS_PTRACE"
    ]


def test_baseline_clears_security_context() -> None:
    assert "securityContext" not in ephemeral("baseline")


def test_restricted_fields() -> None:
    assert ephemeral("restricted")["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_netadmin_caps() -> None:
    caps = ephemeral("netadmin")["securityContext"]["capabilities"]
    assert caps == {"add": ["NET_ADMIN", "NET_RAW"]}


def test_sysadmin_privileged() -> None:
    assert ephemeral("sysadmin")["securityContext"] == {"runAsUser": 5, "privileged": True}


def test_input_not_mutated() -> None:
    container = copy.deepcopy(BASE)
    apply_ephemeral_profile("restricted", container, {}, None)
    assert container == BASE


def test_describe_grants() -> None:
    assert "NET_ADMIN" in (describe_grants("netadmin") or "")
    assert "privileged" in (describe_grants("sysadmin") or "")
    for profile in ("legacy", "general", "baseline", "restricted"):
        assert describe_grants(profile) is None


def copy_pod(make_pod: PodFactory) -> dict[str, Any]:
    pod = make_pod(("app", "dbg"), init=("setup",))
    pod["metadata"]["labels"] = {"app": "web"}
    pod["metadata"]["annotations"] = {"note": "x"}
    for c in pod["spec"]["containers"]:
        c["livenessProbe"] = {"exec": {"command": ["true"]}}
        c["readinessProbe"] = {"exec": {"command": ["true"]}}
        c["startupProbe"] = {"exec": {"command": ["true"]}}
    return pod


def test_copy_legacy_only_drops_labels(make_pod: PodFactory) -> None:
    pod = copy_pod(make_pod)
    result = apply_copy_profile("legacy", pod, "dbg")
    assert "labels" not in result["metadata"]
    assert result["metadata"]["annotations"] == {"note": "x"}
    assert "livenessProbe" in result["spec"]["containers"][0]
    assert "shareProcessNamespace" not in result["spec"]


@pytest.mark.parametrize("profile", ["general", "baseline", "restricted", "netadmin", "sysadmin"])
def test_copy_strips_probes_labels_annotations_and_shares_pids(
    make_pod: PodFactory, profile: str
) -> None:
    pod = copy_pod(make_pod)
    result = apply_copy_profile(profile, pod, "dbg")
    assert "labels" not in result["metadata"]
    assert "annotations" not in result["metadata"]
    for c in result["spec"]["containers"]:
        assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(c)
    assert result["spec"]["shareProcessNamespace"] is True
    assert result["spec"]["initContainers"]  # kept by default
    assert pod["metadata"]["labels"] == {"app": "web"}  # input untouched


def test_copy_keep_flags(make_pod: PodFactory) -> None:
    keep = PodCopyRequest(
        pod="web",
        copy_to="web-copy",
        keep_labels=True,
        keep_annotations=True,
        keep_liveness=True,
        keep_init_containers=False,
    )
    result = apply_copy_profile("general", copy_pod(make_pod), "dbg", keep)
    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["metadata"]["annotations"] == {"note": "x"}
    app = result["spec"]["containers"][0]
    assert "livenessProbe" in app and "readinessProbe" not in app
    assert "initContainers" not in result["spec"]


def test_copy_respects_explicit_share_process_namespace(make_pod: PodFactory) -> None:
    pod = copy_pod(make_pod)
    pod["spec"]["shareProcessNamespace"] = False
    assert apply_copy_profile("general", pod, "dbg")["spec"]["shareProcessNamespace"] is False


def test_copy_edits_only_the_debug_container(make_pod: PodFactory) -> None:
    result = apply_copy_profile("sysadmin", copy_pod(make_pod), "dbg")
    app, dbg = result["spec"]["containers"]
    assert "securityContext" not in app
    assert dbg["securityContext"] == {"privileged": True}


def test_copy_missing_container(make_pod: PodFactory) -> None:
    with pytest.raises(ValidationError):
        apply_copy_profile("general", make_pod(("app",)), "nope")


def node_pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "node-debugger-n1-abcde"},
        "spec": {
            "nodeName": "n1",
            "containers": [
                {"name": "debugger", "image": "busybox", "securityContext": {"runAsUser": 1}}
            ],
        },
    }


def host_ns(spec: dict[str, Any]) -> bool:
    return all(spec.get(k) is True for k in ("hostPID", "hostNetwork", "hostIPC"))


def has_host_mount(pod: dict[str, Any]) -> bool:
    volumes = pod["spec"].get("volumes", [])
    mounts = pod["spec"]["containers"][0].get("volumeMounts", [])
    return {"name": "host-root", "hostPath": {"path": "/"}} in volumes and {
        "name": "host-root",
        "mountPath": "/host",
    } in mounts


@pytest.mark.parametrize(
    ("profile", "namespaces", "mount"),
    [
        ("legacy", True, True),
        ("general", True, True),
        ("baseline", False, False),
        ("restricted", False, False),
        ("netadmin", True, False),
        ("sysadmin", True, True),
    ],
)
def test_node_profiles(profile: str, namespaces: bool, mount: bool) -> None:
    result = apply_node_profile(profile, node_pod(), "debugger")
    assert host_ns(result["spec"]) is namespaces
    assert has_host_mount(result) is mount


def test_node_security_contexts() -> None:
    def sc(profile: str) -> Any:
        return apply_node_profile(profile, node_pod(), "debugger")["spec"]["containers"][0].get(
            "securityContext"
        )

    assert sc("legacy") == {"runAsUser": 1}
    assert sc("general") is None
    assert sc("baseline") is None
    assert sc("restricted")["runAsNonRoot"] is True
    assert sc("netadmin")["capabilities"]["add"] == ["NET_ADMIN", "NET_RAW"]
    assert sc("sysadmin")["privileged"] is True


def test_node_mount_not_duplicated_volume() -> None:
    pod = node_pod()
    pod["spec"]["volumes"] = [{"name": "host-root", "hostPath": {"path": "/"}}]
    result = apply_node_profile("sysadmin", pod, "debugger")
    assert len(result["spec"]["volumes"]) == 1
