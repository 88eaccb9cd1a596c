"""What ``podscope doctor`` reports of the API server's PodSecurity refusals, on the real server.

The dry-run refusals reach the doctor as ``PolicyError`` fields (the violated rules, the
containers blamed); the checklist shows each profile's broken rules by name, without the
server's explanations, and names the Pod's own containers when they are to blame.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.test_doctor import DOCTOR_FAILED, doctor_json, finding, restricted_pod


def _refused(evidence: str) -> dict[str, str]:
    """``{profile: rules}`` from the ``refused:`` part of the podsecurity-profiles evidence."""
    part = next(p for p in evidence.split(" | ") if p.startswith("refused: "))
    shown: dict[str, str] = {}
    for item in part.removeprefix("refused: ").split("; "):
        profile, _, rules = item.partition(" (")
        shown[profile] = rules.removesuffix(")")
    return shown


def test_each_refused_profile_lists_the_rules_it_breaks(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    kubectl.apply(restricted_pod("app", namespace))
    kubectl.wait_running(namespace, "app")

    code, report = doctor_json(podscope_env, "app", "-n", namespace, "--profile", "general")
    assert code == DOCTOR_FAILED
    refused = _refused(finding(report, "podsecurity-profiles")["evidence"])
    assert refused["general"].split(", ") == [
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
    ]
    assert refused["sysadmin"].split(", ")[0] == "privileged"
    for rules in refused.values():
        assert '"' not in rules and "must set" not in rules  # names only, no explanations


def _violating_pod(name: str, namespace: str) -> dict[str, Any]:
    pod = copy.deepcopy(restricted_pod(name, namespace))
    pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    return pod


def test_the_pods_own_container_is_blamed_when_it_breaks_the_level(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    kubectl.apply(_violating_pod("app", namespace))
    kubectl.wait_running(namespace, "app")
    kubectl.run(
        "label",
        "namespace",
        namespace,
        "pod-security.kubernetes.io/enforce=restricted",
        "--overwrite",
    )

    code, report = doctor_json(podscope_env, "app", "-n", namespace, "--profile", "restricted")
    assert code == DOCTOR_FAILED
    profiles = finding(report, "podsecurity-profiles")
    refused = _refused(profiles["evidence"])
    assert refused["restricted"] == (
        "the debug container passes, but app break: allowPrivilegeEscalation != false"
    )
    assert "the Pod's own container(s) app violate the enforced level" in profiles["remedy"]
