"""The pure helpers of `podscope apply` (session/apply.py): request shapes, namespace, diff.

(Kept here with the other issue-4 unit tests; the live behaviour is in tests/e2e/test_apply.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import UsageError
from podscope.rules.documents import EphemeralDocument
from podscope.session.apply import (
    ApplyResult,
    attach_target,
    build_request,
    resolve_namespace,
    unified_diff,
)

POD: dict[str, Any] = {
    "metadata": {"name": "nginx", "namespace": "shop", "resourceVersion": "42", "uid": "u"},
    "spec": {"containers": [{"name": "nginx"}], "ephemeralContainers": [{"name": "old"}]},
}
NEW = [{"name": "debugger", "image": "busybox"}]


def test_modern_request_is_a_patch_of_only_the_new_containers() -> None:
    request = build_request(POD, NEW, "pod")
    assert request.method == "PATCH"
    assert request.path == "/api/v1/namespaces/shop/pods/nginx/ephemeralcontainers"
    assert request.body == {"spec": {"ephemeralContainers": NEW}}


def test_legacy_request_puts_the_whole_list_with_the_resource_version() -> None:
    request = build_request(POD, NEW, "legacy")
    assert request.method == "PUT"
    assert request.body["kind"] == "EphemeralContainers"
    assert request.body["metadata"]["resourceVersion"] == "42"
    assert [c["name"] for c in request.body["ephemeralContainers"]] == ["old", "debugger"]


def document(namespace: str | None) -> EphemeralDocument:
    return EphemeralDocument("nginx", namespace, NEW, "EphemeralContainers")


def test_namespace_resolution() -> None:
    assert resolve_namespace(document(None), None, "default") == "default"
    assert resolve_namespace(document("shop"), None, "default") == "shop"
    assert resolve_namespace(document(None), "dev", "default") == "dev"
    assert resolve_namespace(document("shop"), "shop", "default") == "shop"
    with pytest.raises(UsageError, match="for namespace shop, but -n names dev"):
        resolve_namespace(document("shop"), "dev", "default")


def test_unified_diff_of_ephemeral_containers() -> None:
    diff = unified_diff([], NEW, "nginx")
    assert diff.startswith("--- pod/nginx spec.ephemeralContainers (live)\n+++ ")
    assert "+- name: debugger\n" in diff
    assert unified_diff(NEW, NEW, "nginx") == ""


def test_attach_target() -> None:
    added = ApplyResult("p", "ns", "List", added=["a"], specs={"a": {}, "b": {}})
    assert attach_target(added) == "a"
    existing = ApplyResult("p", "ns", "List", unchanged=["a"], specs={"a": {}})
    assert attach_target(existing) == "a"
    several = ApplyResult("p", "ns", "List", unchanged=["a", "b"], specs={"a": {}, "b": {}})
    with pytest.raises(UsageError, match="exactly one container"):
        attach_target(several)


def test_result_to_dict_hides_the_document_specs() -> None:
    data = ApplyResult("p", "ns", "Pod", unchanged=["a"], specs={"a": {}}).to_dict()
    assert data["nothing_to_do"] is True
    assert "specs" not in data
