from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from podscope.errors import ExitCode, PullRefusedError
from podscope.rules.pullsecrets import (
    auth_refused,
    coverage,
    key_covers,
    pull_refused_remedy,
    registry_of,
    repository_of,
    secret_registries,
)
from podscope.session.container_state import check_started, container_state_of

PRIVATE = "registry.podscope.test/debug/busybox:latest"
REFUSED = (
    f'failed to pull and unpack image "{PRIVATE}": failed to resolve reference "{PRIVATE}": '
    "pulling from host 127.0.0.1:5444 failed with status code [manifests latest]: 401 Unauthorized"
)


@pytest.mark.parametrize(
    ("image", "registry", "repository"),
    [
        ("busybox", "docker.io", "docker.io/library/busybox"),
        ("busybox:1.36", "docker.io", "docker.io/library/busybox"),
        ("docker.io/library/busybox:latest", "docker.io", "docker.io/library/busybox"),
        ("index.docker.io/library/busybox", "docker.io", "docker.io/library/busybox"),
        ("podscope/app:1@sha256:" + "a" * 64, "docker.io", "docker.io/podscope/app"),
        (PRIVATE, "registry.podscope.test", "registry.podscope.test/debug/busybox"),
        ("localhost:5000/x:1", "localhost:5000", "localhost:5000/x"),
        ("127.0.0.1:5444/a/b", "127.0.0.1:5444", "127.0.0.1:5444/a/b"),
    ],
)
def test_registry_and_repository_of_an_image(image: str, registry: str, repository: str) -> None:
    assert registry_of(image) == registry
    assert repository_of(image) == repository


@pytest.mark.parametrize(
    ("key", "covers"),
    [
        ("registry.podscope.test", True),
        ("https://registry.podscope.test", True),
        ("https://registry.podscope.test/v2/", True),
        ("registry.podscope.test/debug", True),
        ("registry.podscope.test/other", False),
        ("*.podscope.test", True),
        ("*.test", False),  # a glob matches one part only
        ("registry.podscope", False),  # the part counts differ
        ("registry.podscope.test:443", False),  # ports must be equal
        ("other.podscope.test", False),
        ("docker.io", False),
    ],
)
def test_key_covers_follows_the_kubelets_matching(key: str, covers: bool) -> None:
    assert key_covers(key, PRIVATE) is covers


def test_docker_hub_keys_cover_docker_io_images() -> None:
    for key in ("https://index.docker.io/v1/", "index.docker.io", "docker.io"):
        assert key_covers(key, "busybox:latest"), key
    assert not key_covers("https://index.docker.io/v1/", PRIVATE)


def _secret(kind: str, key: str, doc: Any) -> dict[str, Any]:
    return {"type": kind, "data": {key: base64.b64encode(json.dumps(doc).encode()).decode()}}


def test_secret_registries_keeps_only_the_keys() -> None:
    auth = {"auth": base64.b64encode(b"user:hunter2").decode(), "password": "hunter2"}
    secret = _secret(
        "kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": {"reg.example": auth}}
    )
    keys = secret_registries(secret)
    assert keys == ("reg.example",)
    assert "hunter2" not in repr(keys)
    legacy = _secret("kubernetes.io/dockercfg", ".dockercfg", {"old.example": auth})
    assert secret_registries(legacy) == ("old.example",)
    # The kubelet reads the data only under the type it belongs to.
    assert secret_registries({**secret, "type": "Opaque"}) is None
    assert secret_registries({"type": "kubernetes.io/dockerconfigjson", "data": {}}) is None
    bad = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "!!"}}
    assert secret_registries(bad) is None


def test_coverage_sorts_secrets() -> None:
    got = coverage(
        PRIVATE,
        ["hub", "priv", "gone"],
        {"hub": ("docker.io",), "priv": ("registry.podscope.test",), "gone": None},
        {"gone": "not found"},
    )
    assert (got.covering, got.not_covering, got.unreadable) == (("priv",), ("hub",), ("gone",))
    assert got.covered and got.registry == "registry.podscope.test"


def test_auth_refused_recognises_the_runtimes_words() -> None:
    assert auth_refused(REFUSED)
    assert auth_refused("pull access denied ... server message: insufficient_scope")
    assert auth_refused("... 403 Forbidden")
    assert not auth_refused("dial tcp: lookup registry.invalid: no such host")
    assert not auth_refused("manifest unknown: 404 Not Found")
    assert not auth_refused(None)


def _pod(status: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web"},
        "spec": {
            "serviceAccountName": "builder",
            "imagePullSecrets": [{"name": s} for s in secrets],
        },
        "status": {"ephemeralContainerStatuses": [{"name": "dbg", "image": PRIVATE, **status}]},
    }


def test_a_refused_pull_names_the_pods_secrets_and_copy_mode() -> None:
    pod = _pod({"state": {"waiting": {"reason": "ErrImagePull", "message": REFUSED}}}, [])
    with pytest.raises(PullRefusedError) as info:
        check_started("web", "dbg", container_state_of(pod, "dbg"), pod)
    err = info.value
    assert err.exit_code == ExitCode.START_FAILED
    assert "401 Unauthorized" in err.message
    assert err.remedy is not None
    assert "no pull secret" in err.remedy and "ServiceAccount builder" in err.remedy
    assert "a running Pod cannot gain a pull secret" in err.remedy
    assert f"--copy-to web-debug --pull-secret SECRET --image {PRIVATE}" in err.remedy
    assert err.to_dict()["registry"] == "registry.podscope.test"

    pod = _pod(
        {"state": {"waiting": {"reason": "ImagePullBackOff", "message": REFUSED}}}, ["a", "b"]
    )
    with pytest.raises(PullRefusedError) as info:
        check_started("web", "dbg", container_state_of(pod, "dbg"), pod)
    assert info.value.pull_secrets == ("a", "b")
    assert "pull secrets (a, b" in str(info.value.remedy)


def test_a_pull_failing_otherwise_is_no_refusal() -> None:
    message = "dial tcp: lookup registry.invalid: no such host"
    pod = _pod({"state": {"waiting": {"reason": "ErrImagePull", "message": message}}}, [])
    with pytest.raises(Exception) as info:
        check_started("web", "dbg", container_state_of(pod, "dbg"), pod)
    assert type(info.value).__name__ == "StartFailedError"


def test_remedy_for_a_pod_with_secrets() -> None:
    pod = {"metadata": {"name": "api"}, "spec": {"imagePullSecrets": [{"name": "hub"}]}}
    text = pull_refused_remedy(pod, PRIVATE)
    assert "Pod api's pull secrets (hub" in text and "registry.podscope.test" in text
