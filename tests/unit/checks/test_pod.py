"""Checks on one Pod and its node, on plain API dicts."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.checks.pod import (
    check_ephemeral,
    check_image,
    check_phase,
    check_process_namespace,
    check_run_as,
    check_static,
    check_target,
    default_pull_policy,
    normalize_image,
)


def pod(
    containers: tuple[str, ...] = ("app",),
    *,
    phase: str = "Running",
    spec: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    statuses: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    states = statuses or {name: {"running": {}} for name in containers}
    return {
        "metadata": {"name": "web", "namespace": "shop", "annotations": annotations or {}},
        "spec": {
            "nodeName": "n1",
            "containers": [{"name": n, "image": "app:1"} for n in containers],
            **(spec or {}),
        },
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": n, "state": s} for n, s in states.items()],
        },
    }


def test_static_pod_fails_with_node_and_copy_remedies() -> None:
    assert check_static(pod()).result == "ok"
    found = check_static(pod(annotations={"kubernetes.io/config.mirror": "abc"}))
    assert found.result == "fail"
    assert "static Pods cannot have ephemeral containers" in found.evidence
    assert found.remedy is not None
    assert "podscope debug node/n1" in found.remedy and "--copy-to NEW" in found.remedy


def test_phase_lists_container_states() -> None:
    found = check_phase(
        pod(
            ("app", "side"), statuses={"app": {"running": {}}, "side": {"waiting": {"reason": "X"}}}
        )
    )
    assert found.result == "ok"
    assert found.evidence == "phase Running; containers: app running, side waiting (X)"


@pytest.mark.parametrize("phase", ["Pending", "Succeeded", "Failed"])
def test_not_running_pod_fails(phase: str) -> None:
    found = check_phase(pod(phase=phase))
    assert found.result == "fail"
    assert found.remedy is not None and "--copy-to" in found.remedy


def test_phase_ignores_the_mirror_annotation() -> None:
    # The static-Pod finding reports that; the phase finding must not fail twice for it.
    assert check_phase(pod(annotations={"kubernetes.io/config.mirror": "x"})).result == "ok"


def test_target_choice() -> None:
    found, target = check_target(pod(), None)
    assert (found.result, target) == ("ok", "app")
    assert "the Pod's only container" in found.evidence
    found, target = check_target(pod(("a", "b")), "nope")
    assert (found.result, target) == ("fail", None)
    found, target = check_target(pod(), "")
    assert (found.result, target) == ("ok", None)


def test_a_target_that_is_down_fails() -> None:
    # The runtime cannot join a stopped container's processes: a new debugger never starts.
    crashing = pod(statuses={"app": {"waiting": {"reason": "CrashLoopBackOff"}}})
    found, target = check_target(crashing, None)
    assert target == "app"
    assert found.result == "fail"
    assert "not running (waiting: CrashLoopBackOff)" in found.evidence
    assert "--target ''" in str(found.remedy)


def test_process_namespace() -> None:
    assert check_process_namespace(pod(spec={"shareProcessNamespace": True}), None).result == "ok"
    assert "joins app's" in check_process_namespace(pod(), "app").evidence
    assert check_process_namespace(pod(), None).result == "warn"


def test_pod_run_as_user_is_inherited() -> None:
    found = check_run_as(pod(spec={"securityContext": {"runAsUser": 1000}}), "app", "legacy")
    assert found.result == "ok"
    assert "inherits uid 1000" in found.evidence


def test_pod_run_as_non_root_without_user_warns_about_root_images() -> None:
    p = pod(spec={"securityContext": {"runAsNonRoot": True}})
    p["spec"]["containers"][0]["securityContext"] = {"runAsUser": 101}
    found = check_run_as(p, "app", "legacy")
    assert found.result == "warn"
    assert "refused at start" in found.evidence
    assert found.remedy is not None
    assert "--profile restricted" in found.remedy and '"runAsUser": 101' in found.remedy


def test_restricted_profile_alone_warns_too() -> None:
    found = check_run_as(pod(), "app", "restricted")
    assert found.result == "warn"
    assert "the restricted profile sets runAsNonRoot" in found.evidence


def test_target_user_is_mentioned() -> None:
    p = pod()
    p["spec"]["containers"][0]["securityContext"] = {"runAsUser": 65532}
    found = check_run_as(p, "app", "legacy")
    assert found.result == "ok"
    assert "not as the target's uid 65532" in found.evidence


def test_existing_ephemeral_containers() -> None:
    assert check_ephemeral(pod(), "restricted", {}).evidence == "none yet"
    p = pod(spec={"ephemeralContainers": [{"name": "old"}]})
    p["status"]["ephemeralContainerStatuses"] = [{"name": "old", "state": {"running": {}}}]
    assert check_ephemeral(p, "restricted", {}).result == "ok"
    found = check_ephemeral(p, "restricted", {"old": ["privileged"]})
    assert found.result == "fail"
    assert "old running" in found.evidence and "old: privileged" in found.evidence
    assert found.remedy == "debug a copy of the Pod instead: podscope debug web --copy-to NEW"
    blamed = check_ephemeral(p, "restricted", {}, ["old"])
    assert blamed.result == "fail" and "named by the API server" in blamed.evidence


@pytest.mark.parametrize(
    ("image", "normalized"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("nginx:1.17.1", "docker.io/library/nginx:1.17.1"),
        ("podscope/app:1.0", "docker.io/podscope/app:1.0"),
        ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("busybox@sha256:abc", "docker.io/library/busybox@sha256:abc"),
    ],
)
def test_normalize_image(image: str, normalized: str) -> None:
    assert normalize_image(image) == normalized


def test_default_pull_policy() -> None:
    assert default_pull_policy("busybox") == "Always"
    assert default_pull_policy("busybox:latest") == "Always"
    assert default_pull_policy("busybox:1.36") == "IfNotPresent"
    assert default_pull_policy("busybox@sha256:abc") == "IfNotPresent"
    assert default_pull_policy("host:5000/busybox") == "Always"


NODES = [
    {
        "metadata": {"name": "n1"},
        "status": {
            "images": [
                {"names": ["docker.io/library/busybox:1.35", "docker.io/library/busybox:latest"]}
            ]
        },
    },
    {"metadata": {"name": "n2"}, "status": {"images": []}},
]


def test_image_present_on_the_pods_node() -> None:
    found = check_image("busybox", "IfNotPresent", NODES, "n1")
    assert found.result == "ok"
    assert "present on node n1" in found.evidence


def test_image_present_but_always_pulled_warns() -> None:
    found = check_image("busybox", None, NODES, "n1")
    assert found.result == "warn"
    assert "imagePullPolicy Always" in found.evidence


def test_image_missing_with_never_warns_that_it_cannot_start() -> None:
    found = check_image("busybox:1.35", "Never", NODES, "n2")
    assert found.result == "warn"
    assert "cannot start" in found.evidence


def test_image_missing_will_be_pulled() -> None:
    found = check_image("alpine:3", None, NODES, "n1")
    assert found.result == "warn"
    assert "will pull it" in found.evidence


def test_image_over_all_nodes() -> None:
    found = check_image("busybox:1.35", None, NODES, None)
    assert found.result == "ok"
    assert "present on 1 of 2 node(s)" in found.evidence
    assert check_image("busybox", None, [], None).result == "warn"
