"""`podscope debug --cd/--chroot/--copy-env/--copy-mounts/--as-target-user` on the real cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import PULL, podscope


def test_cd_lists_the_targets_etc(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(
        podscope_env, "debug", "app", "-n", namespace, "-q", *PULL, "--cd", "/etc", "--", "ls"
    )
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    assert "podscope-app.conf" in names
    assert "podscope-image" not in names  # busybox's own /etc marker


def test_cd_path_with_shell_syntax_is_just_a_name(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    hostile = "/etc/$(touch /tmp/pwned); echo pwned $$"
    result = podscope(
        podscope_env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--cd",
        hostile,
        "--",
        "ls",
        "/tmp",
    )
    assert result.returncode == 126
    assert (
        "the target has no directory /etc/$(touch /tmp/pwned); echo pwned $$"
        in result.stdout + result.stderr
    )
    assert "pwned" not in result.stdout.replace(hostile, "")


def test_chroot_reads_the_targets_os_release(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(
        podscope_env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--chroot",
        "--",
        "cat",
        "/etc/os-release",
    )
    assert result.returncode == 0, result.stderr
    assert 'PRETTY_NAME="podscope distroless-style app"' in result.stdout


def test_legacy_profile_cannot_open_another_users_root(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(
        podscope_env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--profile",
        "legacy",
        "--cd",
        "/etc",
        "--",
        "ls",
    )
    assert result.returncode == 126
    assert "--profile general" in result.stdout + result.stderr


RESTRICTED_SC = {
    "runAsUser": 65532,
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _restricted_namespace(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")


def _restricted_pod(kubectl: Kubectl, namespace: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "locked", "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "locked",
                    "image": APP_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "securityContext": RESTRICTED_SC,
                }
            ],
        },
    }
    kubectl.apply(manifest)
    kubectl.wait_running(namespace, "locked")


def test_as_target_user_passes_restricted(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    _restricted_namespace(kubectl, namespace)
    _restricted_pod(kubectl, namespace)
    result = podscope(
        podscope_env,
        "debug",
        "locked",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--as-target-user",
        "--profile",
        "restricted",
        "--",
        "id",
    )
    assert result.returncode == 0, result.stderr
    assert "uid=65532" in result.stdout
    # --cd without SYS_PTRACE needs the same uid *and* gid; the gid is the image's here, so
    # the wrapper names the exact --user to give.
    result = podscope(
        podscope_env,
        "debug",
        "locked",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--as-target-user",
        "--profile",
        "restricted",
        "--cd",
        "/etc",
        "--",
        "ls",
    )
    assert result.returncode == 126
    assert "--user 65532:65532" in result.stdout + result.stderr
    result = podscope(
        podscope_env,
        "debug",
        "locked",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--user",
        "65532:65532",
        "--profile",
        "restricted",
        "--cd",
        "/etc",
        "--",
        "ls",
    )
    assert result.returncode == 0, result.stderr
    assert "podscope-app.conf" in result.stdout.split()


def test_restricted_namespace_without_the_flags_is_refused_clearly(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    _restricted_namespace(kubectl, namespace)
    _restricted_pod(kubectl, namespace)
    result = podscope(podscope_env, "debug", "locked", "-n", namespace, *PULL, "--", "id")
    assert result.returncode == 10, result.stderr  # PolicyError
    assert "PodSecurity" in result.stderr and "--profile restricted" in result.stderr
    # restricted alone: runAsNonRoot without a user would never start; refused before creating.
    result = podscope(
        podscope_env,
        "debug",
        "locked",
        "-n",
        namespace,
        *PULL,
        "--profile",
        "restricted",
        "--",
        "id",
    )
    assert result.returncode == 7, result.stderr  # ValidationError
    assert "--as-target-user" in result.stderr
    assert not kubectl.pod(namespace, "locked")["spec"].get("ephemeralContainers")


def _web(kubectl: Kubectl, namespace: str, extra_mount: dict[str, Any] | None = None) -> None:
    mounts: list[dict[str, Any]] = [{"name": "data", "mountPath": "/data"}]
    if extra_mount:
        mounts.append(extra_mount)
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "volumes": [{"name": "data", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "web",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", "echo from-target > /data/marker; sleep 3600"],
                        "env": [
                            {"name": "APP_MODE", "value": "blue"},
                            {
                                "name": "MY_POD",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                            },
                        ],
                        "volumeMounts": mounts,
                    }
                ],
            },
        }
    )
    kubectl.wait_running(namespace, "web")


def test_copy_env_shows_the_targets_variables(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    _web(kubectl, namespace)
    result = podscope(
        podscope_env, "debug", "web", "-n", namespace, "-q", *PULL, "--copy-env", "--", "env"
    )
    assert result.returncode == 0, result.stderr
    assert "APP_MODE=blue" in result.stdout.splitlines()
    assert "MY_POD=web" in result.stdout.splitlines()


def test_copy_mounts_sees_the_targets_emptydir(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    _web(kubectl, namespace)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--copy-mounts",
        "--",
        "cat",
        "/data/marker",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from-target\n"


def test_copy_mounts_refuses_subpath_and_creates_nothing(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    _web(kubectl, namespace, {"name": "data", "mountPath": "/conf", "subPath": "conf"})
    before = kubectl.pod(namespace, "web")
    result = podscope(
        podscope_env, "debug", "web", "-n", namespace, *PULL, "--copy-mounts", "--", "true"
    )
    assert result.returncode == 7, result.stderr
    assert 'volume mount "data"' in result.stderr and "subPath" in result.stderr
    after = kubectl.pod(namespace, "web")
    assert json.dumps(after["spec"], sort_keys=True) == json.dumps(before["spec"], sort_keys=True)
