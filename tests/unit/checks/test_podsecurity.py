"""PodSecurity labels and the container rules of the Pod Security Standards, on plain data."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.checks.podsecurity import container_violations, parse_labels, violating_ephemeral
from podscope.rules.profiles import apply_ephemeral_profile

P = "pod-security.kubernetes.io/"


def test_no_labels_means_the_default_privileged() -> None:
    labels = parse_labels(None)
    assert labels.enforce.level == "privileged" and not labels.enforce.explicit
    assert labels.describe() == "no pod-security.kubernetes.io labels"
    assert labels.problems == ()


def test_levels_and_versions_per_mode() -> None:
    labels = parse_labels(
        {
            f"{P}enforce": "baseline",
            f"{P}enforce-version": "v1.29",
            f"{P}warn": "restricted",
            f"{P}audit": "restricted",
            f"{P}audit-version": "latest",
            "unrelated": "x",
        }
    )
    assert (labels.enforce.level, labels.enforce.version) == ("baseline", "v1.29")
    assert (labels.warn.level, labels.warn.version) == ("restricted", "latest")
    assert labels.mode("audit").explicit
    assert labels.describe() == (
        "enforce=baseline:v1.29, warn=restricted:latest, audit=restricted:latest"
    )


def test_an_unknown_level_is_enforced_as_restricted() -> None:
    labels = parse_labels({f"{P}enforce": "strict", f"{P}enforce-version": "1.29"})
    assert labels.enforce.level == "restricted"
    assert labels.enforce.version == "latest"
    assert any("'strict' is not a level" in p for p in labels.problems)
    assert any("'1.29' is not 'latest' or v1.X" in p for p in labels.problems)


def test_label_values_are_sanitized() -> None:
    labels = parse_labels({f"{P}enforce": "bad\nvalue"})
    assert all("\n" not in p for p in labels.problems)


def profiled(profile: str) -> dict[str, Any]:
    base = {"name": "dbg", "image": "busybox", "stdin": True, "tty": True}
    return apply_ephemeral_profile(profile, base, {}, None)


@pytest.mark.parametrize(
    ("profile", "baseline", "restricted"),
    [
        ("legacy", [], ["allowPrivilegeEscalation != false", "unrestricted capabilities"]),
        ("general", ["non-default capabilities (SYS_PTRACE)"], ["unrestricted capabilities"]),
        ("baseline", [], ["runAsNonRoot != true", "seccompProfile"]),
        ("restricted", [], []),
        ("netadmin", ["non-default capabilities (NET_ADMIN, NET_RAW)"], []),
        ("sysadmin", ["privileged"], ["privileged"]),
    ],
)
def test_profiles_against_levels(profile: str, baseline: list[str], restricted: list[str]) -> None:
    container = profiled(profile)
    assert container_violations(container, None, "privileged") == []
    assert container_violations(container, None, "baseline") == baseline
    found = container_violations(container, None, "restricted")
    assert set(restricted) <= set(found)
    if not restricted:
        assert (profile == "restricted") == (found == [])


def test_restricted_fields_can_come_from_the_pod() -> None:
    container = {
        "name": "dbg",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    bare = container_violations(container, {"spec": {}}, "restricted")
    assert bare == ["runAsNonRoot != true", "seccompProfile"]
    pod = {
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        }
    }
    assert container_violations(container, pod, "restricted") == []
    root_pod = {"spec": {"securityContext": {**pod["spec"]["securityContext"], "runAsUser": 0}}}
    assert container_violations(container, root_pod, "restricted") == ["runAsUser=0"]
    # The container's own setting wins over the Pod's.
    container["securityContext"]["runAsNonRoot"] = False
    assert "runAsNonRoot != true" in container_violations(container, pod, "restricted")


@pytest.mark.parametrize(
    ("security_context", "rule"),
    [
        ({"seccompProfile": {"type": "Unconfined"}}, "seccompProfile (Unconfined)"),
        ({"procMount": "Unmasked"}, "procMount"),
        ({"seLinuxOptions": {"type": "spc_t"}}, "seLinuxOptions"),
        ({"seLinuxOptions": {"user": "root"}}, "seLinuxOptions"),
        ({"windowsOptions": {"hostProcess": True}}, "hostProcess"),
        ({"appArmorProfile": {"type": "Unconfined"}}, "appArmorProfile (Unconfined)"),
        ({"capabilities": {"add": ["CHOWN", "SYS_ADMIN"]}}, "non-default capabilities (SYS_ADMIN)"),
    ],
)
def test_baseline_rules(security_context: dict[str, Any], rule: str) -> None:
    found = container_violations({"securityContext": security_context}, None, "baseline")
    assert found == [rule]


def test_baseline_allows_default_capabilities_and_known_selinux_types() -> None:
    container = {
        "securityContext": {
            "capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE", "KILL"]},
            "seLinuxOptions": {"type": "container_t"},
            "procMount": "Default",
        }
    }
    assert container_violations(container, None, "baseline") == []


def test_violating_ephemeral_lists_only_offenders() -> None:
    pod = {
        "spec": {
            "containers": [{"name": "app", "securityContext": {"privileged": True}}],
            "ephemeralContainers": [
                {"name": "old", "securityContext": {"privileged": True}},
                {"name": "fine"},
            ],
        }
    }
    assert violating_ephemeral(pod, "baseline") == {"old": ["privileged"]}
    assert violating_ephemeral(pod, "privileged") == {}
    assert set(violating_ephemeral(pod, "restricted")) == {"old", "fine"}
