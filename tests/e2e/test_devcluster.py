"""Acceptance of the local cluster itself, with the real kubectl as the client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pexpect
from devcluster import paths

from tests.e2e.conftest import APP_IMAGE, Kubectl


def test_node_ready_and_pinned_version(kubectl: Kubectl) -> None:
    node = kubectl.json("get", "node", paths.NODE_NAME)
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    version = json.loads(kubectl.run("get", "--raw", "/version").stdout)
    assert version["gitVersion"] == paths.KUBERNETES_VERSION
    assert node["status"]["nodeInfo"]["kubeletVersion"] == paths.KUBERNETES_VERSION


def test_api_serves_ephemeralcontainers_subresource(kubectl: Kubectl) -> None:
    resources = json.loads(kubectl.run("get", "--raw", "/api/v1").stdout)["resources"]
    sub = [r for r in resources if r["name"] == "pods/ephemeralcontainers"]
    assert sub and sub[0]["kind"] == "Pod"
    assert "patch" in sub[0]["verbs"]


def test_seed_walkthrough_with_kubectl(kubectl: Kubectl, namespace: str, make_pod: Any) -> None:
    """The guide's five steps, by hand, on 1.34 (where the subresource takes a whole Pod)."""
    make_pod("nginx", "nginx:1.17.1", share_processes=True)
    pod = kubectl.pod(namespace, "nginx")
    pod["spec"]["ephemeralContainers"] = [
        {
            "name": "debugger",
            "image": "busybox",
            "command": ["sh"],
            "stdin": True,
            "tty": True,
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePolicy": "File",
        }
    ]
    kubectl.run(
        "replace",
        "--raw",
        f"/api/v1/namespaces/{namespace}/pods/nginx/ephemeralcontainers",
        "-f",
        "-",
        input=json.dumps(pod),
    )
    deadline = time.monotonic() + 30
    while True:
        statuses = kubectl.pod(namespace, "nginx")["status"].get("ephemeralContainerStatuses") or []
        if statuses and "running" in statuses[0]["state"]:
            break
        assert time.monotonic() < deadline, f"debugger never ran: {statuses}"
        time.sleep(0.2)
    ps = kubectl.run("exec", "-n", namespace, "nginx", "-c", "debugger", "--", "ps").stdout
    assert "nginx: master process" in ps


def test_kubectl_debug_on_distroless_pod(kubectl: Kubectl, namespace: str, make_pod: Any) -> None:
    make_pod("app", APP_IMAGE)
    no_shell = kubectl.run("exec", "-n", namespace, "app", "--", "sh", "-c", "true", check=False)
    assert no_shell.returncode != 0
    assert "executable file not found" in no_shell.stderr
    # -it needs a terminal: drive kubectl through a pseudo-terminal like a person would.
    session = pexpect.spawn(
        "kubectl",
        [
            "debug",
            "-n",
            namespace,
            "app",
            "-it",
            "--target=app",
            "--profile=general",
            "--image=busybox:latest",
            "--image-pull-policy=IfNotPresent",
            "--",
            "sh",
        ],
        env=kubectl.env,
        encoding="utf-8",
        timeout=60,
    )
    try:
        session.expect("If you don't see a command prompt")
        session.sendline("ps")
        session.expect("/server")
        session.sendline("exit 0")
        session.expect(pexpect.EOF)
    finally:
        session.close()


def test_nonexistent_image_fails_fast(kubectl: Kubectl, namespace: str, make_pod: Any) -> None:
    make_pod("ghost", "registry.invalid/nothing:1", wait=False)
    deadline = time.monotonic() + 30
    reason = None
    while time.monotonic() < deadline:
        statuses = kubectl.pod(namespace, "ghost")["status"].get("containerStatuses") or []
        reason = statuses[0]["state"].get("waiting", {}).get("reason") if statuses else None
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            break
        time.sleep(0.2)
    assert reason in ("ErrImagePull", "ImagePullBackOff")


def test_status_cli_reports_ready(kubeconfig: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devcluster", "status", "-o", "json"],
        capture_output=True,
        text=True,
        cwd=paths.GOBUILD.parent.parent,
    )
    state = json.loads(result.stdout)  # printed whether the cluster is ready or not
    assert state["kubeconfig"] == str(paths.ADMIN_KUBECONFIG)
    assert result.returncode == (0 if state["ready"] else 1), result.stderr
    # PODSCOPE_TEST_KUBECONFIG may name another cluster; when the suite runs on devcluster's
    # own (as in CI), that cluster is up, so its status must say Ready.
    ours = paths.ADMIN_KUBECONFIG.exists() and os.path.samefile(kubeconfig, paths.ADMIN_KUBECONFIG)
    assert state["ready"] or not ours, state
