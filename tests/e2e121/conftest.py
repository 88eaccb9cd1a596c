"""Fixtures for the tests against the kubeadm-shaped Kubernetes 1.21 cluster.

The cluster is the one named by PODSCOPE_TEST121_KUBECONFIG, or the devcluster's 1.21 release,
booted here when it is not running (and taken down again afterwards). It boots with the
EphemeralContainers gate off everywhere, as a 1.16-1.22 cluster does; test_00_gate.py walks the
guide's way of switching it on, and every later test asks for `gate_on`. A cluster that cannot
be reached, or is not 1.21, is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from devcluster import paths

from tests.e2e.conftest import Kubectl, pod_manifest

RELEASE = paths.release("1.21")
NODE = RELEASE.node_name
STATE = RELEASE.state
NODE_ROOT = STATE / "node"
KUBELET_VERSION = RELEASE.version
REPO = Path(__file__).resolve().parents[2]
BUSYBOX_IMAGE = "docker.io/library/busybox:latest"
NGINX_IMAGE = "docker.io/library/nginx:1.17.1"
APP_IMAGE = "docker.io/podscope/distroless-app:1.0"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e121/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def devcluster(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """`python -m devcluster ARGS --release 1.21`, failing loudly with its output."""
    cmd = [sys.executable, "-m", "devcluster", *args, "--release", "1.21"]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    given = os.environ.get("PODSCOPE_TEST121_KUBECONFIG")
    booted = False
    if given:
        path = given
    else:
        state = subprocess.run(
            [sys.executable, "-m", "devcluster", "status", "--release", "1.21"],
            cwd=REPO,
            capture_output=True,
        )
        if state.returncode != 0:
            devcluster("up")
            booted = True
        path = str(STATE / "admin.kubeconfig")
    version = subprocess.run(
        ["kubectl", "version", "-o", "json"],
        env={**os.environ, "KUBECONFIG": path},
        capture_output=True,
        text=True,
        timeout=30,
    )
    try:
        server = json.loads(version.stdout)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError):
        pytest.fail(f"the 1.21 cluster ({path}) cannot be reached: {version.stderr.strip()}")
    if not server.startswith("v1.21."):
        pytest.fail(f"{path} is a {server} cluster, not 1.21")
    yield path
    if booted and not os.environ.get("PODSCOPE_TEST_KEEP_CLUSTER"):
        devcluster("down")


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    return Kubectl(kubeconfig)


def serves_ephemeral(kubectl: Kubectl) -> bool:
    result = kubectl.run("get", "--raw", "/api/v1", check=False)
    if result.returncode != 0:
        return False
    names = {r["name"] for r in json.loads(result.stdout)["resources"]}
    return "pods/ephemeralcontainers" in names


def kubelet_gate(kubectl: Kubectl) -> Any:
    raw = kubectl.run("get", "--raw", f"/api/v1/nodes/{NODE}/proxy/configz").stdout
    return json.loads(raw)["kubeletconfig"].get("featureGates", {}).get("EphemeralContainers")


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)


def enable_gate(*only: str) -> dict[str, Any]:
    """`podscope node enable-gate` on the cluster's own files (the node's root is NODE_ROOT)."""
    args = [sys.executable, "-m", "podscope", "node", "enable-gate", "--root", str(NODE_ROOT)]
    args += ["--kubelet-version", KUBELET_VERSION, "-o", "json"]
    for component in only:
        args += ["--only", component]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


GATE_FLAG = "--feature-gates=EphemeralContainers=true"


def control_plane_ready(kubectl: Kubectl) -> bool:
    """kube-apiserver serves the subresource, and the kubelet has replaced the mirror Pods of
    kube-apiserver and kube-scheduler by ones with the gate, all three Ready."""
    if not serves_ephemeral(kubectl):
        return False
    result = kubectl.run("get", "pod", "-n", "kube-system", "-o", "json", check=False)
    if result.returncode != 0:
        return False
    pods = {p["metadata"]["name"]: p for p in json.loads(result.stdout)["items"]}
    for component in ("kube-apiserver", "kube-scheduler", "kube-controller-manager"):
        pod = pods.get(f"{component}-{NODE}")
        if pod is None:
            return False
        ready = any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod.get("status", {}).get("conditions", [])
        )
        gated = GATE_FLAG in pod["spec"]["containers"][0]["command"]
        if not ready or (component != "kube-controller-manager" and not gated):
            return False
    return True


@pytest.fixture(scope="session")
def gate_on(kubectl: Kubectl) -> None:
    """The gate on everywhere, as the guide leaves the cluster (idempotent)."""
    if serves_ephemeral(kubectl) and kubelet_gate(kubectl) is True:
        return
    enable_gate()
    devcluster("restart", "kubelet")
    wait_until("the static Pods with the gate on", lambda: control_plane_ready(kubectl), 180)
    assert kubelet_gate(kubectl) is True


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    base = request.node.name.lower().replace("_", "-")
    name = ("t-" + "".join(c for c in base if c.isalnum() or c == "-"))[:50].rstrip("-")
    name = f"{name}-{uuid.uuid4().hex[:5]}"
    kubectl.run("create", "namespace", name)
    wait_until(
        f"the default ServiceAccount in {name}",
        lambda: kubectl.run("get", "sa", "default", "-n", name, check=False).returncode == 0,
        30,
    )
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def make_pod(kubectl: Kubectl, namespace: str) -> Callable[..., dict[str, Any]]:
    def make(
        name: str, image: str = BUSYBOX_IMAGE, *, wait: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        manifest = pod_manifest(name, image, **kwargs)
        manifest["metadata"]["namespace"] = namespace
        kubectl.apply(manifest)
        return kubectl.wait_running(namespace, name) if wait else kubectl.pod(namespace, name)

    return make


@pytest.fixture
def podscope_env(kubeconfig: str) -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
