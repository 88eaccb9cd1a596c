"""Which profiles PodSecurity admits: predictions, admission messages, the finding."""

from __future__ import annotations

import json

from podscope.doctor.profiles import ProfileOutcome, check_profiles, predict, rule_names
from podscope.errors import PolicyError, RequestContext
from podscope.kube.errors import map_status

# The rule list of what the 1.34 API server answered to a dry-run (rules joined by ", ").
SERVER_RULES = (
    'allowPrivilegeEscalation != false (containers "web", "debugger-x" must set '
    "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers "
    '"web", "debugger-x" must set securityContext.capabilities.drop=["ALL"]; container '
    '"debugger-x" must not include "SYS_PTRACE" in securityContext.capabilities.add), '
    'runAsNonRoot != true (pod or containers "web", "debugger-x" must set '
    "securityContext.runAsNonRoot=true), seccompProfile (pod or containers ...)"
)


def _refusal(rules: str) -> PolicyError:
    message = f'pods "web" is forbidden: violates PodSecurity "restricted:latest": {rules}'
    body = json.dumps({"kind": "Status", "message": message, "reason": "Forbidden", "code": 403})
    context = RequestContext("patch", "pods", "ns", "web", subresource="ephemeralcontainers")
    error = map_status(403, body, context, new_container="debugger-x")
    assert isinstance(error, PolicyError)
    return error


def test_rule_names_come_from_the_refusals_fields() -> None:
    error = _refusal(SERVER_RULES)
    assert rule_names(error.rules) == [
        "allowPrivilegeEscalation != false",
        "unrestricted capabilities",
        "runAsNonRoot != true",
        "seccompProfile",
    ]
    assert error.containers == ("web", "debugger-x")
    assert rule_names(_refusal("privileged, hostPID").rules) == ["privileged", "hostPID"]
    assert rule_names(()) == []


def admitted(outcomes: list[ProfileOutcome]) -> list[str]:
    return [o.profile for o in outcomes if o.admitted]


def test_predictions_per_level() -> None:
    image = "busybox:1.36"
    assert admitted(predict("privileged", image, None)) == [
        "legacy",
        "general",
        "baseline",
        "restricted",
        "netadmin",
        "sysadmin",
    ]
    assert admitted(predict("baseline", image, None)) == ["legacy", "baseline", "restricted"]
    assert admitted(predict("restricted", image, None)) == ["restricted"]


def outcomes(admitted: set[str], blamed: tuple[str, ...] = ()) -> list[ProfileOutcome]:
    names = ("legacy", "general", "baseline", "restricted", "netadmin", "sysadmin")
    return [
        ProfileOutcome(p, p in admitted, "" if p in admitted else "rules", blamed) for p in names
    ]


def test_requested_profile_admitted_is_ok() -> None:
    found = check_profiles(outcomes({"restricted"}), "restricted", True, "restricted", True, "web")
    assert found.result == "ok"
    assert found.evidence.startswith("server-side dry-run: admitted: restricted |")


def test_explicit_refused_profile_fails_with_the_alternative() -> None:
    found = check_profiles(outcomes({"restricted"}), "general", True, "restricted", True, "web")
    assert found.result == "fail"
    assert found.evidence.startswith("--profile general is refused")
    assert found.remedy is not None and found.remedy.startswith("use --profile restricted")
    assert "runAsNonRoot" in found.remedy


def test_default_profile_refused_is_a_warning_when_another_works() -> None:
    found = check_profiles(
        outcomes({"baseline", "restricted"}), "legacy", False, "baseline", False, None
    )
    assert found.result == "warn"
    assert found.remedy == "use --profile baseline"
    assert "predicted for enforce=baseline" in found.evidence
    assert "name a POD" in found.evidence


def test_an_old_violating_ephemeral_container_recommends_copy_mode() -> None:
    found = check_profiles(
        outcomes(set(), ("old",)), "restricted", True, "restricted", True, "web", {"old"}
    )
    assert found.result == "fail"
    assert found.remedy is not None
    assert "existing ephemeral container(s) old" in found.remedy
    assert "podscope debug web --copy-to NEW" in found.remedy


def test_the_pods_own_containers_violating_is_told_apart() -> None:
    found = check_profiles(outcomes(set(), ("web",)), "legacy", False, "restricted", True, "p")
    assert found.result == "fail"
    assert found.remedy is not None and "Pod's own container(s) web" in found.remedy


def test_unknown_outcome_is_a_warning() -> None:
    unknown = [ProfileOutcome("legacy", None, "not allowed")]
    found = check_profiles(unknown, "legacy", False, "privileged", True, "web")
    assert found.result == "warn"
    assert "unknown: legacy (not allowed)" in found.evidence
