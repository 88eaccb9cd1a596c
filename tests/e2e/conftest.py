"""Fixtures for tests against the real local cluster.

`kubeconfig` is the cluster named by PODSCOPE_TEST_KUBECONFIG, or one this fixture boots with
devcluster (and takes down again if it was not already running). Every e2e test is marked `e2e`
automatically; none is ever skipped: a cluster that cannot be reached is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

APP_IMAGE = "docker.io/podscope/distroless-app:1.0"
BUSYBOX_IMAGE = "docker.io/library/busybox:latest"
NGINX_IMAGE = "docker.io/library/nginx:1.17.1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    given = os.environ.get("PODSCOPE_TEST_KUBECONFIG")
    if given:
        yield given
        return
    from devcluster import cluster, paths

    was_running = bool(cluster.status()["ready"])
    cluster.up()
    yield str(paths.ADMIN_KUBECONFIG)
    if not was_running and not os.environ.get("PODSCOPE_TEST_KEEP_CLUSTER"):
        cluster.down()


class Kubectl:
    """The real kubectl, used as the reference client and to set up test objects."""

    def __init__(self, kubeconfig: str) -> None:
        self.env = {**os.environ, "KUBECONFIG": kubeconfig}

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["kubectl", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def apply(self, manifest: dict[str, Any]) -> None:
        self.run("apply", "-f", "-", input=json.dumps(manifest))

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self.json("get", "pod", name, "-n", namespace)

    def wait_running(self, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            pod = self.pod(namespace, name)
            statuses = pod.get("status", {}).get("containerStatuses") or []
            if (
                pod["status"].get("phase") == "Running"
                and statuses
                and all("running" in s.get("state", {}) for s in statuses)
            ):
                return pod
            if time.monotonic() > deadline:
                raise AssertionError(f"pod {namespace}/{name} not running: {pod.get('status')}")
            time.sleep(0.2)

    def wait_ephemeral_running(
        self, namespace: str, name: str, container: str, timeout: float = 60
    ) -> dict[str, Any]:
        """Wait until the kubelet reports an ephemeral container running: its status update
        changes the Pod's resourceVersion, which tests comparing versions must not race."""
        deadline = time.monotonic() + timeout
        while True:
            pod = self.pod(namespace, name)
            for status in pod.get("status", {}).get("ephemeralContainerStatuses") or []:
                if status.get("name") == container and "running" in status.get("state", {}):
                    return pod
            if time.monotonic() > deadline:
                raise AssertionError(f"{container} in {namespace}/{name} never ran")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    return Kubectl(kubeconfig)


@pytest.fixture
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting)."""
    base = request.node.name.lower().replace("_", "-")
    name = ("t-" + "".join(c for c in base if c.isalnum() or c == "-"))[:50].rstrip("-")
    name = f"{name}-{uuid.uuid4().hex[:5]}"
    kubectl.run("create", "namespace", name)
    deadline = time.monotonic() + 30
    while kubectl.run("get", "serviceaccount", "default", "-n", name, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"default ServiceAccount never appeared in {name}")
        time.sleep(0.1)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def pod_manifest(
    name: str,
    image: str,
    *,
    container: str | None = None,
    command: list[str] | None = None,
    share_processes: bool = False,
    **spec: Any,
) -> dict[str, Any]:
    """A one-container Pod; the container is named after the Pod unless `container` is given."""
    main: dict[str, Any] = {
        "name": container or name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
    }
    if command:
        main["command"] = command
    body: dict[str, Any] = {"containers": [main], "terminationGracePeriodSeconds": 1, **spec}
    if share_processes:
        body["shareProcessNamespace"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


@pytest.fixture
def make_pod(kubectl: Kubectl, namespace: str) -> Callable[..., dict[str, Any]]:
    """Create a Pod in the test's namespace and wait until its containers run."""

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
    """Environment for running the podscope CLI as a subprocess against the test cluster."""
    return {**os.environ, "KUBECONFIG": kubeconfig, "PODSCOPE_NO_CONFIG": "1"}


REPO = Path(__file__).resolve().parents[2]
