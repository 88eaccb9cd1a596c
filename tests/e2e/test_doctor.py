"""`podscope doctor` against the real cluster: ready, and each blocking problem."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import pod_fingerprint, podscope, service_account_kubeconfig

DOCTOR_FAILED = 17
STATIC_MANIFESTS = Path("/var/lib/podscope-devcluster/manifests")
NODE_NAME = "podscope-node"


def doctor_json(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = podscope(env, "doctor", *args, "-o", "json")
    assert result.stdout, f"doctor printed nothing: {result.stderr}"
    return result.returncode, json.loads(result.stdout)


def finding(report: dict[str, Any], check: str) -> dict[str, Any]:
    found = [f for f in report["findings"] if f["check"] == check]
    assert found, f"no {check} finding in {[f['check'] for f in report['findings']]}"
    return dict(found[0])


def restricted_pod(name: str, namespace: str) -> dict[str, Any]:
    """The distroless app, with everything the restricted PodSecurity level asks for."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "app",
                    "image": APP_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def test_ready_for_running_pod(
    kubectl: Kubectl, namespace: str, make_pod: Any, podscope_env: dict[str, str]
) -> None:
    make_pod("web", BUSYBOX_IMAGE, command=["sleep", "3600"])
    before = pod_fingerprint(kubectl, namespace, "web")
    code, report = doctor_json(
        podscope_env,
        "web",
        "-n",
        namespace,
        "--image",
        BUSYBOX_IMAGE,
        "--image-pull-policy",
        "IfNotPresent",
    )
    assert code == 0, report
    assert report["ready"] is True
    assert finding(report, "server-version")["evidence"].startswith("v1.34")
    assert "kind Pod" in finding(report, "ephemeral-subresource")["evidence"]
    assert finding(report, "rbac patch pods/ephemeralcontainers")["result"] == "ok"
    assert finding(report, "static-pod")["result"] == "ok"
    assert finding(report, "target")["evidence"].startswith("web")
    profiles = finding(report, "podsecurity-profiles")
    assert profiles["result"] == "ok"
    assert "server-side dry-run" in profiles["evidence"]
    assert finding(report, "debug-image")["result"] == "ok"
    # Six dry-run PATCHes later, nothing was added and nothing changed.
    assert pod_fingerprint(kubectl, namespace, "web") == before

    table = podscope(podscope_env, "doctor", "web", "-n", namespace)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["CHECK", "RESULT", "EVIDENCE", "REMEDY"]
    assert "ready: debugging Pod web can work" in table.stdout


def test_ready_without_pod(namespace: str, podscope_env: dict[str, str]) -> None:
    code, report = doctor_json(podscope_env, "-n", namespace)
    assert code == 0, report
    assert "predicted" in finding(report, "podsecurity-profiles")["evidence"]
    assert finding(report, "kubelets")["evidence"] == f"node {NODE_NAME}: kubelet v1.34.4"


def test_user_without_ephemeralcontainers_rights(
    kubectl: Kubectl,
    namespace: str,
    make_pod: Any,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("web", BUSYBOX_IMAGE, command=["sleep", "3600"])
    # Everything a debugger needs except pods/ephemeralcontainers, like the built-in edit role.
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create"]},
        {"apiGroups": [""], "resources": ["pods/attach", "pods/exec"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    config = str(service_account_kubeconfig(kubectl, namespace, rules, tmp_path / "sa")[0])
    env = {**podscope_env, "KUBECONFIG": config}
    result = podscope(env, "doctor", "web", "-o", "json")
    token_file = json.loads(Path(config).read_text())["users"][0]["user"]["token"]
    assert token_file not in result.stdout and token_file not in result.stderr
    assert result.returncode == DOCTOR_FAILED, result.stderr
    report = json.loads(result.stdout)
    assert report["namespace"] == namespace  # from the kubeconfig's context
    missing = finding(report, "rbac patch pods/ephemeralcontainers")
    assert missing["result"] == "fail"
    assert 'resources: ["pods/ephemeralcontainers"], verbs: ["patch"]' in missing["remedy"]
    assert "built-in admin and edit ClusterRoles do not include" in missing["remedy"]
    assert finding(report, "rbac get pods")["result"] == "ok"
    assert finding(report, "rbac create pods/attach")["result"] == "ok"
    # The SA cannot read Nodes or Namespaces: those checks degrade to warnings, not failures.
    assert finding(report, "kubelets")["result"] == "warn"
    assert finding(report, "podsecurity-labels")["result"] == "warn"
    assert kubectl.pod(namespace, "web")["spec"].get("ephemeralContainers") is None

    table = podscope(env, "doctor", "web")
    assert table.returncode == DOCTOR_FAILED
    assert "not ready" in table.stdout
    assert token_file not in table.stdout and token_file not in table.stderr


def test_restricted_namespace_refuses_general_profile(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    kubectl.apply(restricted_pod("app", namespace))
    kubectl.wait_running(namespace, "app")
    before = pod_fingerprint(kubectl, namespace, "app")

    code, report = doctor_json(podscope_env, "app", "-n", namespace, "--profile", "general")
    assert code == DOCTOR_FAILED
    labels = finding(report, "podsecurity-labels")
    assert "enforce=restricted:latest" in labels["evidence"]
    profiles = finding(report, "podsecurity-profiles")
    assert profiles["result"] == "fail"
    assert profiles["evidence"].startswith("--profile general is refused")
    assert "admitted: restricted |" in profiles["evidence"]
    assert profiles["remedy"].startswith("use --profile restricted")

    # The profile the remedy names works (the Pod's uid 65532 is inherited: no root refusal).
    code, report = doctor_json(podscope_env, "app", "-n", namespace, "--profile", "restricted")
    assert code == 0, report
    assert "inherits uid 65532" in finding(report, "run-as")["evidence"]
    assert pod_fingerprint(kubectl, namespace, "app") == before


@pytest.fixture
def static_pod(kubectl: Kubectl, namespace: str) -> Iterator[str]:
    """A static Pod in the test's namespace; its manifest is removed afterwards."""
    name = f"static-{uuid.uuid4().hex[:6]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "3600"],
                }
            ],
        },
    }
    path = STATIC_MANIFESTS / f"podscope-test-{name}.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    mirror = f"{name}-{NODE_NAME}"
    try:
        deadline = time.monotonic() + 90
        while kubectl.run("get", "pod", mirror, "-n", namespace, check=False).returncode != 0:
            assert time.monotonic() < deadline, "the kubelet never created the mirror Pod"
            time.sleep(0.5)
        kubectl.wait_running(namespace, mirror, timeout=60)
        yield mirror
    finally:
        path.unlink(missing_ok=True)


def test_static_pod_is_not_supported(
    kubectl: Kubectl, namespace: str, static_pod: str, podscope_env: dict[str, str]
) -> None:
    code, report = doctor_json(podscope_env, static_pod, "-n", namespace)
    assert code == DOCTOR_FAILED
    static = finding(report, "static-pod")
    assert static["result"] == "fail"
    assert "static Pods cannot have ephemeral containers" in static["evidence"]
    assert f"podscope debug node/{NODE_NAME}" in static["remedy"]
    assert "--copy-to" in static["remedy"]
    assert kubectl.pod(namespace, static_pod)["spec"].get("ephemeralContainers") is None


def test_earlier_ephemeral_container_violates_podsecurity(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    kubectl.apply(restricted_pod("app", namespace))
    kubectl.wait_running(namespace, "app")
    # Added while the namespace is unlabeled (privileged): a root container with no limits.
    kubectl.run(
        "debug",
        "app",
        "-n",
        namespace,
        "-c",
        "old",
        "--profile=legacy",
        f"--image={BUSYBOX_IMAGE}",
        "--image-pull-policy=IfNotPresent",
        "--",
        "sleep",
        "3600",
    )
    kubectl.wait_ephemeral_running(namespace, "app", "old")
    labeled = kubectl.run(
        "label",
        "namespace",
        namespace,
        "pod-security.kubernetes.io/enforce=restricted",
        "--overwrite",
    )
    assert "violate the new PodSecurity enforce level" in labeled.stderr
    before = pod_fingerprint(kubectl, namespace, "app")

    code, report = doctor_json(podscope_env, "app", "-n", namespace, "--profile", "restricted")
    assert code == DOCTOR_FAILED
    existing = finding(report, "ephemeral-containers")
    assert existing["result"] == "fail"
    assert "old" in existing["evidence"] and "restricted" in existing["evidence"]
    assert "podscope debug app --copy-to NEW" in existing["remedy"]
    profiles = finding(report, "podsecurity-profiles")
    assert profiles["result"] == "fail"
    assert "admitted: none" in profiles["evidence"]
    assert "existing ephemeral container(s) old" in profiles["remedy"]
    assert "--copy-to NEW" in profiles["remedy"]
    assert pod_fingerprint(kubectl, namespace, "app") == before


def test_missing_pod_fails(namespace: str, podscope_env: dict[str, str]) -> None:
    code, report = doctor_json(podscope_env, "nope", "-n", namespace)
    assert code == DOCTOR_FAILED
    missing = finding(report, "pod")
    assert missing["result"] == "fail"
    assert "nope" in missing["evidence"]
