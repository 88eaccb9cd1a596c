"""Server version, the ephemeralcontainers subresource and kubelet versions (pure checks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podscope.checks.findings import Finding, fail, ok, warn, worst
from podscope.gate.versions import KubeVersion, parse_version

# The kubelet may be at most this many minors older than kube-apiserver (the skew policy
# since 1.28; it was 2 before). Newer than the API server is never supported.
MAX_KUBELET_LAG = 3

FIRST = (1, 16)  # the alpha API (kind EphemeralContainers) and its feature gate
POD_SHAPE = (1, 22)  # the subresource takes a whole Pod
DEFAULT_ON = (1, 23)  # beta: the gate is on unless switched off
GA = (1, 25)

ENABLE_GATE_REMEDY = (
    "switch on the EphemeralContainers feature gate on kube-apiserver, kube-scheduler and every "
    "kubelet (as root on each node: podscope node enable-gate), then restart them"
    " (kubeadm's files: /etc/kubernetes/manifests/kube-apiserver.yaml and kube-scheduler.yaml, "
    "/var/lib/kubelet/config.yaml and KUBELET_EXTRA_ARGS in /etc/default/kubelet; then "
    "systemctl restart kubelet)"
)


def _minor(version: KubeVersion) -> tuple[int, int]:
    return version.major, version.minor


def server_version_of(document: dict[str, Any]) -> KubeVersion | None:
    """The version in a ``/version`` document (``gitVersion``, else ``major``/``minor``)."""
    git = document.get("gitVersion")
    if isinstance(git, str):
        found = parse_version(git)
        if found is not None:
            return found
    # Some distributions report minor as "21+"; the digits are what matter.
    major = "".join(ch for ch in str(document.get("major") or "") if ch.isdigit())
    minor = "".join(ch for ch in str(document.get("minor") or "") if ch.isdigit())
    if major and minor:
        return KubeVersion(int(major), int(minor), 0, f"v{major}.{minor}")
    return None


def check_server_version(document: dict[str, Any]) -> Finding:
    version = server_version_of(document)
    if version is None:
        return warn(
            "server-version",
            "the API server's /version answer names no version",
            "check that the context points at a Kubernetes API server",
        )
    key = _minor(version)
    if key < FIRST:
        return fail(
            "server-version",
            f"{version}: ephemeral containers need Kubernetes 1.16 or newer",
            "upgrade the cluster, or debug a copy of the Pod: podscope debug POD --copy-to NEW",
        )
    if key < DEFAULT_ON:
        stage = "alpha, behind the EphemeralContainers feature gate (off by default)"
    elif key < GA:
        stage = "beta, on by default"
    else:
        stage = "GA since 1.25"
    return ok("server-version", f"{version}: ephemeral containers are {stage}")


def check_subresource(
    shape: str, version: KubeVersion | None, verbs: Sequence[str] = ()
) -> Finding:
    """How ``pods/ephemeralcontainers`` is served (``shape`` from the discovery document)."""
    listed = f" (verbs: {', '.join(verbs)})" if verbs else ""
    if shape == "pod":
        return ok(
            "ephemeral-subresource",
            f"pods/ephemeralcontainers is served with kind Pod (1.22+ shape: PATCH){listed}",
        )
    if shape == "legacy":
        return ok(
            "ephemeral-subresource",
            "pods/ephemeralcontainers is served with kind EphemeralContainers "
            f"(1.16-1.21 shape: PUT the whole list){listed}",
        )
    if version is not None and _minor(version) < FIRST:
        return fail(
            "ephemeral-subresource",
            f"pods/ephemeralcontainers is not served: {version} predates ephemeral containers",
            "upgrade to 1.16 or newer, or debug a copy: podscope debug POD --copy-to NEW",
        )
    if version is not None and _minor(version) < DEFAULT_ON:
        return fail(
            "ephemeral-subresource",
            f"pods/ephemeralcontainers is not served: the EphemeralContainers feature gate is off "
            f"on kube-apiserver {version}",
            ENABLE_GATE_REMEDY,
        )
    if version is not None and _minor(version) < GA:
        return fail(
            "ephemeral-subresource",
            f"pods/ephemeralcontainers is not served although {version} enables it by default: "
            "the EphemeralContainers gate was switched off",
            "remove EphemeralContainers=false from the --feature-gates of kube-apiserver, "
            "kube-scheduler and the kubelets, then restart them",
        )
    return fail(
        "ephemeral-subresource",
        "the API server's discovery (/api/v1) does not list pods/ephemeralcontainers",
        "check that the context points at the cluster's API server and not a proxy that "
        "filters resources",
    )


@dataclass(frozen=True)
class NodeVersion:
    node: str
    kubelet: KubeVersion | None
    raw: str


def kubelet_versions(nodes: Sequence[dict[str, Any]]) -> list[NodeVersion]:
    """Each Node's kubelet version, from ``status.nodeInfo.kubeletVersion``."""
    found: list[NodeVersion] = []
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name") or "?")
        raw = str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "")
        found.append(NodeVersion(name, parse_version(raw) if raw else None, raw))
    return found


def _node_finding(
    entry: NodeVersion, server: KubeVersion | None, shape: str, matters: bool
) -> Finding:
    """One node's kubelet against the API server; ``matters``: the Pod runs there."""
    check = f"kubelet {entry.node}"
    if entry.kubelet is None:
        return warn(check, f"node {entry.node} reports no kubelet version", "check the node")
    kubelet = entry.kubelet
    text = f"node {entry.node}: kubelet {kubelet}"
    if _minor(kubelet) < FIRST:
        problem = (fail if matters else warn)(
            check,
            f"{text} predates ephemeral containers: they would never start on this node",
            "upgrade the kubelet to 1.16 or newer, or debug a copy of the Pod scheduled "
            "elsewhere: podscope debug POD --copy-to NEW",
        )
        return problem
    if server is not None and _minor(kubelet) > _minor(server):
        return fail(
            check,
            f"{text} is newer than kube-apiserver {server} (an unsupported version skew)",
            "upgrade kube-apiserver first: a kubelet must never be newer than the API server",
        )
    if (
        server is not None
        and server.major == kubelet.major
        and (server.minor - kubelet.minor > MAX_KUBELET_LAG)
    ):
        return warn(
            check,
            f"{text} is {server.minor - kubelet.minor} minor versions older than kube-apiserver "
            f"{server} (more than the supported {MAX_KUBELET_LAG})",
            "upgrade the kubelet; ephemeral container fields newer than it are ignored",
        )
    if _minor(kubelet) < DEFAULT_ON and shape != "absent":
        # The API server accepts the container, but a kubelet without the gate silently never
        # starts it: the container stays without a status until the Pod is deleted.
        return warn(
            check,
            f"{text}: the kubelet also needs the EphemeralContainers gate, which the API cannot "
            "show",
            "on that node, as root: podscope node enable-gate --only kubelet (then restart the "
            "kubelet)",
        )
    return ok(check, text)


def check_kubelets(
    nodes: Sequence[dict[str, Any]],
    server: KubeVersion | None,
    shape: str,
    pod_node: str | None = None,
) -> Finding:
    """One finding for the kubelets: the Pod's node only, or every node when no Pod is given."""
    entries = kubelet_versions(nodes)
    if pod_node:
        entries = [e for e in entries if e.node == pod_node]
        if not entries:
            return warn(
                "kubelets",
                f"the Pod's node {pod_node} is not among the cluster's Nodes",
                "check the node; the kubelet may have been removed",
            )
    if not entries:
        return warn("kubelets", "the cluster lists no Nodes", "check that the cluster has nodes")
    found = [_node_finding(e, server, shape, matters=pod_node is not None) for e in entries]
    result = worst(found)
    shown = [f for f in found if f.result == result] if result != "ok" else found
    evidence = "; ".join(f.evidence for f in shown[:5])
    if len(shown) > 5:
        evidence += f"; and {len(shown) - 5} more"
    remedies = sorted({f.remedy for f in shown if f.remedy})
    return Finding("kubelets", result, evidence, "; ".join(remedies) or None)
