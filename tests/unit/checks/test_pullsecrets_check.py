"""doctor's pull-secrets check on the in-memory API (which secrets cover the image)."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

from podscope.checks.pullsecrets import check_pull_secrets
from podscope.kube.client import KubeClient
from tests.unit.fakekube import FakeKube, Http

PRIVATE = "registry.podscope.test/debug/busybox:latest"
PASSWORD = "s3cr3t-password"


def _secret(registry: str) -> dict[str, Any]:
    auth = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    doc = {"auths": {registry: {"auth": auth, "password": PASSWORD}}}
    return {
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(doc).encode()).decode()},
    }


def _pod(*secrets: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"serviceAccountName": "app", "imagePullSecrets": [{"name": s} for s in secrets]},
    }


def _check(kube: FakeKube, pod: dict[str, Any], image: str = PRIVATE) -> Any:
    finding = check_pull_secrets(cast(KubeClient, kube), pod, image)
    assert PASSWORD not in repr(finding)
    return finding


def test_a_covering_secret_is_ok() -> None:
    kube = FakeKube()
    kube.secrets[("ns", "hub")] = _secret("docker.io")
    kube.secrets[("ns", "priv")] = _secret("registry.podscope.test")
    finding = _check(kube, _pod("hub", "priv"))
    assert finding.result == "ok"
    assert "covered by Pod web's pull secret priv" in finding.evidence


def test_secrets_for_other_registries_warn_with_the_copy_remedy() -> None:
    kube = FakeKube()
    kube.secrets[("ns", "hub")] = _secret("docker.io")
    finding = _check(kube, _pod("hub", "gone"))
    assert finding.result == "warn"
    assert "no pull secret covers registry.podscope.test" in finding.evidence
    assert "hub (other registries)" in finding.evidence and "gone (not found)" in finding.evidence
    assert "--copy-to web-debug --pull-secret SECRET" in finding.remedy


def test_without_get_secrets_it_says_what_it_could_not_check() -> None:
    kube = FakeKube()
    kube.secrets[("ns", "priv")] = _secret("registry.podscope.test")
    kube.fail("get_secret", Http(403, "secrets is forbidden", "Forbidden"))
    finding = _check(kube, _pod("priv"))
    assert finding.result == "warn"
    assert "cannot tell whether registry.podscope.test is covered" in finding.evidence
    assert "get secrets in namespace ns" in finding.evidence


def test_no_secrets_is_an_anonymous_pull_and_names_the_accounts_later_secret() -> None:
    kube = FakeKube()
    assert _check(kube, _pod()).result == "ok"
    kube.secrets[("ns", "priv")] = _secret("registry.podscope.test")
    kube.service_accounts[("ns", "app")] = {"imagePullSecrets": [{"name": "priv"}]}
    finding = _check(kube, _pod())
    assert "ServiceAccount app lists priv, which the Pod lacks" in finding.evidence
