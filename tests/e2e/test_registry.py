"""Images pulled as on a production node: the devcluster's registries, and private debug images.

The node resolves `docker.io/...` to the devcluster's public registry and
`registry.podscope.test/...` to its private one (htpasswd basic auth); devcluster/registry.py.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from devcluster import paths, registry

from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import SLEEPER, ephemeral, podscope, service_account_kubeconfig

PRIVATE = registry.PRIVATE_IMAGE
PULL_SECRET = "regcred"


def password() -> str:
    return registry.password_file().read_text().strip()


def make_pull_secret(kubectl: Kubectl, namespace: str, name: str = PULL_SECRET) -> None:
    """A docker-registry Secret for the private registry, sent on stdin (never in argv)."""
    auth = base64.b64encode(f"{registry.PRIVATE_USER}:{password()}".encode()).decode()
    config = {"auths": {registry.PRIVATE_HOST: {"auth": auth}}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }
    kubectl.apply(secret)


def pull_events(kubectl: Kubectl, namespace: str, pod: str, container: str) -> list[str]:
    """The kubelet's image Events for one container of the Pod."""
    items = kubectl.json("get", "events", "-n", namespace)["items"]
    path = f"spec.ephemeralContainers{{{container}}}"
    return [
        f"{e['reason']}: {e['message']}"
        for e in items
        if e["involvedObject"].get("name") == pod
        and e["involvedObject"].get("fieldPath") == path
        and e["reason"] in ("Pulling", "Pulled", "Failed")
    ]


def registry_log_size(name: str) -> int:
    return (paths.LOGS / f"{name}.log").stat().st_size


def registry_log_since(name: str, offset: int) -> str:
    with open(paths.LOGS / f"{name}.log", "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def no_secret_in(*texts: str) -> None:
    for text in texts:
        assert password() not in text
        assert base64.b64encode(f"{registry.PRIVATE_USER}:{password()}".encode()).decode() not in (
            text
        )


def test_the_default_image_is_pulled_from_the_registry_with_always(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", APP_IMAGE)
    before = registry_log_size(registry.PUBLIC)
    # No --image-pull-policy: busybox:latest gets the API server's default, Always.
    result = podscope(
        podscope_env, "debug", "web", "-n", namespace, "--", "cat", "/etc/podscope-image"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "busybox\n"
    [container] = ephemeral(kubectl.pod(namespace, "web"))
    assert container["image"] == BUSYBOX_IMAGE
    assert container["imagePullPolicy"] == "Always"
    events = pull_events(kubectl, namespace, "web", container["name"])
    assert any(
        e.startswith(f'Pulled: Successfully pulled image "{BUSYBOX_IMAGE}" in') for e in events
    ), events
    # The pull reached the registry: the kubelet's runtime resolved the tag there.
    log = registry_log_since(registry.PUBLIC, before)
    assert "/v2/library/busybox/manifests/latest" in log
    assert "containerd" in log  # the user agent of the node's pull, not skopeo's push
    # The pull time is part of the timings: said after the session in the exec model, and in
    # the last line of phase durations in the attach model.
    assert "podscope: image pulled by the kubelet in " in result.stderr
    attach = podscope(podscope_env, "debug", "web", "-n", namespace, "--attach-mode", "--", "true")
    assert attach.returncode == 0, attach.stderr
    assert re.search(
        r"podscope: write [0-9.]+s, start [0-9.]+s, image pull [0-9.]+s", attach.stderr
    )


def test_a_private_image_is_refused_fast_and_says_what_can_work(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", APP_IMAGE)
    started = time.monotonic()
    args = ["debug", "web", "-n", namespace, "--image", PRIVATE, "--", "true"]
    result = podscope(podscope_env, *args)
    elapsed = time.monotonic() - started
    [status] = kubectl.pod(namespace, "web")["status"]["ephemeralContainerStatuses"]
    assert result.returncode == 11, result.stderr
    lines = result.stderr.splitlines()
    [error] = [line for line in lines if line.startswith("podscope: error:")]
    [hint] = [line for line in lines if line.startswith("podscope: hint:")]
    assert "cannot start: ErrImagePull" in error and "401 Unauthorized" in error
    assert "Pod web has no pull secret" in hint
    assert "ServiceAccount default" in hint
    assert "a running Pod cannot gain a pull secret" in hint
    assert f"--copy-to web-debug --pull-secret SECRET --image {PRIVATE}" in hint
    assert "Traceback" not in result.stderr
    # The kubelet writes ErrImagePull into the Pod's status only at its next sync of the Pod
    # (10-15 s here); its Event comes at once, and podscope has stopped before the status
    # caught up (a loaded machine makes wall-clock bounds useless).
    assert status["state"].get("waiting", {}).get("reason") == "ContainerCreating", status
    assert "waiting (ErrImagePull)" not in result.stderr
    assert elapsed < 30, f"took {elapsed:.1f}s"


def test_a_private_image_starts_in_a_pod_whose_pull_secret_covers_it(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pull_secret(kubectl, namespace)
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "api", "namespace": namespace},
            "spec": {
                "imagePullSecrets": [{"name": PULL_SECRET}],
                "containers": [
                    {"name": "api", "image": APP_IMAGE, "imagePullPolicy": "IfNotPresent"}
                ],
                "terminationGracePeriodSeconds": 1,
            },
        }
    )
    kubectl.wait_running(namespace, "api")
    args = ["debug", "api", "-n", namespace, "--image", PRIVATE, "--", "cat", "/etc/podscope-image"]
    result = podscope(podscope_env, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "busybox\n"
    [container] = ephemeral(kubectl.pod(namespace, "api"))
    events = pull_events(kubectl, namespace, "api", container["name"])
    assert any(e.startswith(f'Pulled: Successfully pulled image "{PRIVATE}"') for e in events)
    no_secret_in(result.stdout, result.stderr)


def test_copy_mode_adds_the_pull_secret_the_original_lacks(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", APP_IMAGE, command=None)
    make_pull_secret(kubectl, namespace)
    args = ["debug", "web", "-n", namespace, "--copy-to", "web-debug"]
    args += ["--pull-secret", PULL_SECRET, "--image", PRIVATE, "--", "cat", "/etc/podscope-image"]
    result = podscope(podscope_env, *args)
    assert result.returncode == 0, result.stderr
    assert "busybox" in result.stdout
    copy = kubectl.pod(namespace, "web-debug")
    assert copy["spec"]["imagePullSecrets"] == [{"name": PULL_SECRET}]
    assert "imagePullSecrets" not in kubectl.pod(namespace, "web")["spec"]
    no_secret_in(result.stdout, result.stderr)


def test_copy_mode_with_a_secret_that_does_not_cover_says_how_to_fix_it(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
) -> None:
    make_pod("web", APP_IMAGE)
    args = ["debug", "web", "-n", namespace, "--copy-to", "web-debug"]
    args += ["--pull-secret", "absent", "--image", PRIVATE, "--", "true"]
    result = podscope(podscope_env, *args)
    assert result.returncode == 11, result.stderr
    assert "401 Unauthorized" in result.stderr
    assert "the copy's pull secrets (absent)" in result.stderr
    assert f"--docker-server={registry.PRIVATE_HOST}" in result.stderr


@pytest.mark.parametrize("value", ["Bad_Name", ""])
def test_a_bad_pull_secret_name_is_refused_before_anything_is_written(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    value: str,
) -> None:
    make_pod("web", BUSYBOX_IMAGE, command=SLEEPER)
    args = ["debug", "web", "-n", namespace, "--copy-to", "web-debug", "--pull-secret", value]
    result = podscope(podscope_env, *args, "--image", PRIVATE, "--", "true")
    # As --copy-to's own name: an invalid object name, exit 7, before any write.
    assert result.returncode == 7, result.stderr
    assert result.stderr.startswith("podscope: error: --pull-secret:")
    assert kubectl.run("get", "pod", "web-debug", "-n", namespace, check=False).returncode != 0


def doctor_pull_secrets(env: dict[str, str], *args: str) -> tuple[dict[str, Any], str]:
    result = podscope(env, "doctor", *args, "-o", "json")
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    [found] = [f for f in report["findings"] if f["check"] == "pull-secrets"]
    return found, result.stdout + result.stderr


def test_doctor_says_whether_the_pods_pull_secrets_cover_the_registry(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pull_secret(kubectl, namespace)
    # A secret for Docker Hub only: it does not cover the private registry.
    hub = base64.b64encode(json.dumps({"auths": {"docker.io": {"auth": "eDp5"}}}).encode())
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "hub", "namespace": namespace},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": hub.decode()},
        }
    )
    for name, secrets in (("other", ["hub"]), ("api", ["hub", PULL_SECRET])):
        kubectl.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "imagePullSecrets": [{"name": s} for s in secrets],
                    "containers": [
                        {"name": "app", "image": APP_IMAGE, "imagePullPolicy": "IfNotPresent"}
                    ],
                    "terminationGracePeriodSeconds": 1,
                },
            }
        )
        kubectl.wait_running(namespace, name)
    found, out = doctor_pull_secrets(podscope_env, "other", "-n", namespace, "--image", PRIVATE)
    assert found["result"] == "warn", found
    assert "no pull secret covers registry.podscope.test" in found["evidence"]
    assert "hub (other registries)" in found["evidence"]
    assert "--copy-to other-debug --pull-secret SECRET" in found["remedy"]
    no_secret_in(out)
    found, out = doctor_pull_secrets(podscope_env, "api", "-n", namespace, "--image", PRIVATE)
    assert found["result"] == "ok", found
    assert f"covered by Pod api's pull secret {PULL_SECRET}" in found["evidence"]
    no_secret_in(out)
    assert "eDp5" not in out  # the other secret's auth field


def test_doctor_without_get_secrets_says_what_it_could_not_check(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    make_pull_secret(kubectl, namespace)
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "api", "namespace": namespace},
            "spec": {
                "imagePullSecrets": [{"name": PULL_SECRET}],
                "containers": [
                    {"name": "app", "image": APP_IMAGE, "imagePullPolicy": "IfNotPresent"}
                ],
                "terminationGracePeriodSeconds": 1,
            },
        }
    )
    kubectl.wait_running(namespace, "api")
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]},
    ]
    config, token = service_account_kubeconfig(kubectl, namespace, rules, tmp_path / "sa")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    found, out = doctor_pull_secrets(env, "api", "-n", namespace, "--image", PRIVATE)
    assert found["result"] == "warn", found
    assert "cannot tell whether registry.podscope.test is covered" in found["evidence"]
    assert f"reading Secret {PULL_SECRET} is forbidden" in found["evidence"]
    assert "ask for get on secrets" in found["remedy"]
    assert token not in out
    no_secret_in(out)


def test_the_attach_model_refuses_a_private_image_at_the_kubelets_event(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", APP_IMAGE)
    args = ["debug", "web", "-n", namespace, "--attach-mode", "--image", PRIVATE, "--", "true"]
    result = podscope(podscope_env, *args)
    [status] = kubectl.pod(namespace, "web")["status"]["ephemeralContainerStatuses"]
    assert result.returncode == 11, result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("podscope: error:")]
    assert "cannot start: ErrImagePull" in error and "401 Unauthorized" in error
    assert "a running Pod cannot gain a pull secret" in result.stderr
    # As in the exec model: the Event, not the Pod's status (written at the kubelet's next
    # sync, 10-15 s later), ended the wait.
    assert status["state"].get("waiting", {}).get("reason") == "ContainerCreating", status
    assert "waiting (ErrImagePull)" not in result.stderr


@pytest.mark.parametrize("model", [(), ("--attach-mode",)])
def test_an_image_absent_under_pull_policy_never_fails_at_the_kubelets_event(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    model: tuple[str, ...],
) -> None:
    make_pod("web", APP_IMAGE)
    absent = "docker.io/library/alpine:0.0-absent"
    args = ["debug", "web", "-n", namespace, *model, "--image", absent]
    result = podscope(podscope_env, *args, "--image-pull-policy", "Never", "--", "true")
    [status] = kubectl.pod(namespace, "web")["status"]["ephemeralContainerStatuses"]
    assert result.returncode == 11, result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("podscope: error:")]
    assert f'ErrImageNeverPull: Container image "{absent}" is not present' in error
    assert "--image-pull-policy is Never" in result.stderr
    # The Event ended the wait; the status says it only at the kubelet's next sync.
    assert status["state"].get("waiting", {}).get("reason") == "ContainerCreating", status
