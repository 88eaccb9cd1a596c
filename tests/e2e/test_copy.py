"""`podscope debug POD --copy-to NEW` against the real local cluster."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import PULL, SLEEPER, pod_names, podscope, wait_gone

CRASHER = ["sh", "-c", "echo starting; exit 1"]
MANAGED = "app.kubernetes.io/managed-by"
COPY_OF = "podscope.dev/copy-of"


def wait_crashlooping(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        pod = kubectl.pod(namespace, name)
        statuses = pod.get("status", {}).get("containerStatuses") or []
        if statuses and statuses[0].get("restartCount", 0) >= 1:
            return pod
        assert time.monotonic() < deadline, f"{name} never restarted: {pod.get('status')}"
        time.sleep(0.3)


def test_crashlooping_pod_is_copied_inspected_and_cleaned_up(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("crash", command=CRASHER, wait=False)
    before = wait_crashlooping(kubectl, namespace, "crash")

    created = podscope(
        podscope_env,
        "debug",
        "crash",
        "-n",
        namespace,
        "--copy-to",
        "crash-debug",
        "--command-override",
        "crash",
        "--no-attach",
        "--",
        *SLEEPER,
    )
    assert created.returncode == 0, created.stderr
    assert "podscope: created Pod crash-debug, a copy of crash" in created.stderr
    assert f"podscope cleanup crash-debug -n {namespace} --yes" in created.stderr
    copy = kubectl.pod(namespace, "crash-debug")
    assert copy["metadata"]["labels"] == {MANAGED: "podscope", COPY_OF: "crash"}
    assert "ownerReferences" not in copy["metadata"]
    assert copy["spec"]["containers"][0]["command"] == SLEEPER
    assert "running" in copy["status"]["containerStatuses"][0]["state"]

    # The copy's file system, seen from a debug container in its process namespace.
    inspected = podscope(
        podscope_env,
        "debug",
        "crash-debug",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--target",
        "crash",
        "--",
        "ls",
        "/proc/1/root/etc",
    )
    assert inspected.returncode == 0, inspected.stderr
    assert {"passwd", "hostname", "podscope-image"} <= set(inspected.stdout.split())

    # The same, run directly as the overridden container's command (attached, exit code 0).
    listed = podscope(
        podscope_env,
        "debug",
        "crash",
        "-n",
        namespace,
        "--copy-to",
        "crash-ls",
        "--command-override",
        "crash",
        "--",
        "ls",
        "/etc",
    )
    assert listed.returncode == 0, listed.stderr
    assert {"passwd", "podscope-image"} <= set(listed.stdout.split())
    assert "the copy crash-ls stays" in listed.stderr

    cleaned = podscope(podscope_env, "cleanup", "-n", namespace, "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "pod/crash-debug deleted" in cleaned.stdout
    assert "pod/crash-ls deleted" in cleaned.stdout
    assert "podscope ls" in cleaned.stderr  # ephemeral containers cannot be removed
    wait_gone(kubectl, namespace, "crash-debug")
    wait_gone(kubectl, namespace, "crash-ls")

    after = kubectl.pod(namespace, "crash")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["containers"] == before["spec"]["containers"]
    assert not after["spec"].get("ephemeralContainers")


def test_debug_container_in_the_copy(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("crash", command=CRASHER, wait=False)
    result = podscope(
        podscope_env,
        "debug",
        "crash",
        "-n",
        namespace,
        "--copy-to",
        "crash-dbg",
        "--image",
        BUSYBOX_IMAGE,
        *PULL,
        "--share-processes",
        "-c",
        "dbg",
        "--",
        "sh",
        "-c",
        "sleep 2; ls /etc; exit 4",
    )
    assert result.returncode == 4, result.stderr
    assert "podscope-image" in result.stdout.split()
    copy = kubectl.pod(namespace, "crash-dbg")
    names = [c["name"] for c in copy["spec"]["containers"]]
    assert names == ["crash", "dbg"]
    assert copy["spec"]["shareProcessNamespace"] is True
    assert copy["spec"]["containers"][0]["command"] == CRASHER  # unchanged


def test_set_image_profile_and_json_output(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web",
                "namespace": namespace,
                "labels": {"app": "web"},
                "annotations": {"team": "shop"},
            },
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "web",
                        "image": "docker.io/library/nginx:1.17.1",
                        "imagePullPolicy": "IfNotPresent",
                        "command": SLEEPER,
                        "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 60},
                    }
                ],
            },
        }
    )
    kubectl.wait_running(namespace, "web")
    result = podscope(
        podscope_env,
        "debug",
        "pod/web",
        "-n",
        namespace,
        "--copy-to",
        "web-busybox",
        "--set-image",
        f"*={BUSYBOX_IMAGE}",
        "--profile",
        "general",
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pod"] == "web-busybox" and document["original"] == "web"
    assert document["container"] is None and document["added"] is None
    assert document["state"] == "running"
    # Nothing was attached to, so no output was captured (not an empty one).
    assert document["attached"] is False and "stdout" not in document, document
    copy = kubectl.pod(namespace, "web-busybox")
    assert copy["metadata"]["labels"] == {MANAGED: "podscope", COPY_OF: "web"}
    assert "annotations" not in copy["metadata"]
    container = copy["spec"]["containers"][0]
    assert container["image"] == BUSYBOX_IMAGE
    assert "livenessProbe" not in container
    assert copy["spec"]["shareProcessNamespace"] is True
    assert kubectl.pod(namespace, "web")["spec"]["containers"][0]["image"].endswith("nginx:1.17.1")


def test_replace_deletes_the_original_once_the_copy_runs(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--copy-to",
        "web-2",
        "--command-override",
        "web",
        "--replace",
        "--same-node",
        "--no-attach",
        "--",
        "sleep",
        "600",
    )
    assert result.returncode == 0, result.stderr
    assert "deleted the original Pod web (--replace)" in result.stderr
    wait_gone(kubectl, namespace, "web")
    copy = kubectl.pod(namespace, "web-2")
    assert copy["spec"]["nodeName"] == "podscope-node"
    assert "running" in copy["status"]["containerStatuses"][0]["state"]


def test_refusals_create_nothing(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    make_pod("other", command=SLEEPER)
    before = pod_names(kubectl, namespace)
    cases = [
        (["--copy-to", "other", "--image", BUSYBOX_IMAGE], 13, "Pod other already exists"),
        (["--copy-to", "web", "--image", BUSYBOX_IMAGE], 2, "original Pod's name"),
        (["--copy-to", "x", "--set-image", "web"], 2, "expected CONTAINER=IMAGE"),
        (["--copy-to", "x", "--set-image", "web=Not An Image"], 2, "invalid image name"),
        (["--copy-to", "x", "--set-image", "nosuch=busybox"], 5, "not found in Pod web"),
        (["--copy-to", "x", "--command-override", "nosuch", "--", "sh"], 5, "not found"),
        (["--copy-to", "x", "--target", "web", "--image", BUSYBOX_IMAGE], 2, "--target"),
        (["--set-image", "web=busybox"], 2, "may only be used with --copy-to"),
    ]
    for flags, code, text in cases:
        result = podscope(podscope_env, "debug", "web", "-n", namespace, *PULL, *flags)
        assert result.returncode == code, (flags, result.stderr)
        assert text in result.stderr, (flags, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert pod_names(kubectl, namespace) == before


def test_server_side_refusal_happens_before_the_copy_exists(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--copy-to",
        "web-priv",
        "--image",
        BUSYBOX_IMAGE,
        *PULL,
        "--profile",
        "sysadmin",
    )
    assert result.returncode == 10, result.stderr  # PolicyError from the dry run
    assert "PodSecurity" in result.stderr
    assert kubectl.run("get", "pod", "web-priv", "-n", namespace, check=False).returncode != 0


def test_copy_that_cannot_start_says_so_and_how_to_remove_it(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    started = time.monotonic()
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--copy-to",
        "web-bad",
        "--set-image",
        "web=docker.io/library/no-such-image:0.0.1",
        "--image-pull-policy",
        "Never",
        "--command-override",
        "web",
        "--",
        "true",
    )
    assert result.returncode == 11, result.stderr
    assert "cannot start: ErrImageNeverPull" in result.stderr
    assert f"remove it with: podscope cleanup web-bad -n {namespace} --yes" in result.stderr
    assert "ephemeral" not in result.stderr
    assert time.monotonic() - started < 60
    assert "web-bad" in pod_names(kubectl, namespace)


def test_python_api(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    kubeconfig: str,
    kubectl: Kubectl,
) -> None:
    import podscope

    make_pod("crash", command=CRASHER, wait=False)
    log = podscope.EventLog()
    result = podscope.debug_copy(
        podscope.PodCopyRequest(
            pod="crash",
            copy_to="crash-api",
            command=("ls", "/etc"),
            namespace=namespace,
            command_override="crash",
            keep_labels=True,
        ),
        kubeconfig=kubeconfig,
        on_event=log,
        capture_output=True,
    )
    assert result.exit_code == 0 and result.container == "crash" and result.overridden == "crash"
    assert result.stdout is not None and "passwd" in result.stdout.decode().split()
    assert result.removal == f"podscope cleanup crash-api -n {namespace} --yes"
    assert any("a copy of crash" in m for m in log.messages)
    assert result.to_dict()["stdout"] == result.stdout.decode()

    node = podscope.debug_node(
        podscope.NodeDebugRequest(
            node="podscope-node",
            command=("cat", "/etc/hostname"),
            namespace=namespace,
            image=BUSYBOX_IMAGE,
            image_pull_policy="IfNotPresent",
            chroot=True,
            keep=True,
        ),
        kubeconfig=kubeconfig,
        capture_output=True,
    )
    assert node.exit_code == 0 and node.kept
    assert node.stdout == Path("/etc/hostname").read_bytes()  # the node is this host

    asked: list[list[str]] = []

    def confirm(pods: list[Any]) -> bool:
        asked.append([p.name for p in pods])
        return True

    cleaned = podscope.cleanup(
        podscope.CleanupRequest(namespace=namespace), kubeconfig=kubeconfig, confirm=confirm
    )
    assert asked == [sorted(["crash-api", node.pod])]
    assert sorted(p.name for p in cleaned.deleted) == asked[0] and not cleaned.failed
