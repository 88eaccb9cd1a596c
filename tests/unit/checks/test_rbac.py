"""The permissions doctor asks about, and the remedies it gives."""

from __future__ import annotations

from podscope.checks.rbac import BUILTIN_ROLES_NOTE, check_permission, required_permissions


def test_required_permissions_follow_the_shape() -> None:
    modern = {p.check for p in required_permissions("pod")}
    assert "rbac patch pods/ephemeralcontainers" in modern
    assert {"rbac get pods", "rbac watch pods", "rbac create pods/attach"} <= modern
    assert "rbac get pods/log" in modern
    legacy = {p.check for p in required_permissions("legacy")}
    assert "rbac update pods/ephemeralcontainers" in legacy  # the 1.16-1.21 PUT


def test_missing_ephemeralcontainers_names_rule_and_builtin_roles() -> None:
    patch = next(p for p in required_permissions("pod") if p.subresource == "ephemeralcontainers")
    found = check_permission(patch, False, "", "shop")
    assert found.result == "fail"
    assert found.remedy is not None
    assert 'resources: ["pods/ephemeralcontainers"], verbs: ["patch"]' in found.remedy
    assert "namespace shop" in found.remedy
    assert BUILTIN_ROLES_NOTE in found.remedy
    assert "aggregate-to-edit" in found.remedy


def test_copy_mode_permission_is_only_a_warning() -> None:
    create = next(p for p in required_permissions("pod") if p.check == "rbac create pods")
    found = check_permission(create, False, "", "shop")
    assert found.result == "warn"
    assert found.remedy is not None and BUILTIN_ROLES_NOTE not in found.remedy


def test_allowed_shows_the_reason() -> None:
    get = required_permissions("pod")[0]
    found = check_permission(get, True, 'RBAC: allowed by RoleBinding "x"', "shop")
    assert found.result == "ok"
    assert "RoleBinding" in found.evidence
