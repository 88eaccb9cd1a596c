"""Server version, subresource shape and kubelet version skew, on plain data."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.checks.versions import (
    check_kubelets,
    check_server_version,
    check_subresource,
    kubelet_versions,
    server_version_of,
)
from podscope.gate.versions import KubeVersion


def v(minor: int, patch: int = 0) -> KubeVersion:
    return KubeVersion(1, minor, patch, f"v1.{minor}.{patch}")


def node(name: str, kubelet: str | None) -> dict[str, Any]:
    info = {"kubeletVersion": kubelet} if kubelet is not None else {}
    return {"metadata": {"name": name}, "status": {"nodeInfo": info}}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"gitVersion": "v1.34.4", "major": "1", "minor": "34"}, (1, 34, 4)),
        ({"gitVersion": "v1.21.14-eks-18ef993", "major": "1", "minor": "21+"}, (1, 21, 14)),
        ({"major": "1", "minor": "20+"}, (1, 20, 0)),
    ],
)
def test_server_version_of(document: dict[str, Any], expected: tuple[int, int, int]) -> None:
    found = server_version_of(document)
    assert found is not None
    assert (found.major, found.minor, found.patch) == expected


def test_server_version_unknown_is_a_warning() -> None:
    assert server_version_of({}) is None
    assert check_server_version({}).result == "warn"


@pytest.mark.parametrize(
    ("git", "result", "words"),
    [
        ("v1.15.12", "fail", "need Kubernetes 1.16"),
        ("v1.16.0", "ok", "alpha"),
        ("v1.22.17", "ok", "feature gate"),
        ("v1.23.0", "ok", "beta"),
        ("v1.34.4", "ok", "GA since 1.25"),
    ],
)
def test_check_server_version(git: str, result: str, words: str) -> None:
    found = check_server_version({"gitVersion": git})
    assert found.result == result
    assert words in found.evidence


def test_subresource_shapes() -> None:
    pod = check_subresource("pod", v(34), ["get", "patch", "update"])
    assert pod.result == "ok" and "kind Pod" in pod.evidence and "patch" in pod.evidence
    legacy = check_subresource("legacy", v(20))
    assert legacy.result == "ok" and "kind EphemeralContainers" in legacy.evidence


def test_subresource_absent_on_gated_versions_names_the_gate() -> None:
    for minor in (16, 20, 22):
        found = check_subresource("absent", v(minor))
        assert found.result == "fail"
        assert "feature gate is off" in found.evidence
        assert found.remedy is not None and "podscope node enable-gate" in found.remedy
        for path in (
            "manifests/kube-apiserver.yaml",
            "kube-scheduler.yaml",
            "/var/lib/kubelet/config.yaml",
            "KUBELET_EXTRA_ARGS",
        ):
            assert path in found.remedy


def test_subresource_absent_before_and_after_the_gate() -> None:
    old = check_subresource("absent", v(15))
    assert old.result == "fail" and "predates" in old.evidence
    switched_off = check_subresource("absent", v(23))
    assert switched_off.result == "fail" and "switched off" in switched_off.evidence
    hidden = check_subresource("absent", v(30))
    assert hidden.result == "fail" and "discovery" in hidden.evidence


def test_kubelet_same_version_is_ok() -> None:
    found = check_kubelets([node("n1", "v1.34.4")], v(34, 4), "pod")
    assert found.result == "ok"
    assert found.evidence == "node n1: kubelet v1.34.4"


def test_kubelet_newer_than_apiserver_fails() -> None:
    found = check_kubelets([node("n1", "v1.34.0"), node("n2", "v1.35.1")], v(34), "pod")
    assert found.result == "fail"
    assert "n2" in found.evidence and "newer than kube-apiserver" in found.evidence
    assert "n1" not in found.evidence  # only the worst lines are shown
    assert found.remedy is not None and "upgrade kube-apiserver first" in found.remedy


@pytest.mark.parametrize(("kubelet", "result"), [("v1.31.0", "ok"), ("v1.30.9", "warn")])
def test_kubelet_lag_beyond_three_minors_warns(kubelet: str, result: str) -> None:
    found = check_kubelets([node("n1", kubelet)], v(34), "pod")
    assert found.result == result
    if result == "warn":
        assert "4 minor versions older" in found.evidence


def test_gated_kubelet_needs_the_gate_too() -> None:
    found = check_kubelets([node("n1", "v1.20.4")], v(20, 4), "legacy")
    assert found.result == "warn"
    assert "also needs the EphemeralContainers gate" in found.evidence
    assert found.remedy is not None and "enable-gate --only kubelet" in found.remedy


def test_kubelet_too_old_fails_only_where_the_pod_runs() -> None:
    nodes = [node("old", "v1.15.3"), node("new", "v1.17.0")]
    assert check_kubelets(nodes, v(17), "legacy").result == "warn"
    assert check_kubelets(nodes, v(17), "legacy", pod_node="old").result == "fail"
    on_new = check_kubelets(nodes, v(17), "legacy", pod_node="new")
    assert "old" not in on_new.evidence


def test_kubelet_missing_data() -> None:
    assert check_kubelets([], v(34), "pod").result == "warn"
    assert check_kubelets([node("n1", None)], v(34), "pod").result == "warn"
    assert check_kubelets([node("n1", "v1.34.0")], v(34), "pod", pod_node="gone").result == "warn"
    assert kubelet_versions([node("n1", "garbage")])[0].kubelet is None


def test_many_nodes_are_summarized() -> None:
    nodes = [node(f"n{i}", "v1.29.0") for i in range(8)]
    found = check_kubelets(nodes, v(34), "pod")
    assert found.result == "warn"
    assert found.evidence.endswith("and 3 more")
