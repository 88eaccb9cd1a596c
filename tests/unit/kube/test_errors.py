"""Error mapping from API answers recorded on a real 1.34 API server (tests/unit/kube/*.json).

The subresource-missing answers cannot be recorded here (no pre-1.16 server, and the
EphemeralContainers gate no longer exists in 1.34); they are the documented shapes: a Status
with empty details, or the plain "404 page not found" of the server's mux.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podscope.errors import (
    ConflictError,
    ExitCode,
    ForbiddenError,
    NotFoundError,
    PolicyError,
    UnreachableError,
    UnsupportedError,
    ValidationError,
)
from podscope.kube.errors import (
    RequestContext,
    RequestOutcomeUnknown,
    is_name_clash,
    map_api_error,
    map_status,
    psa_violating_containers,
    split_psa_rules,
    unreachable,
)

RECORDED = json.loads((Path(__file__).parent / "recorded_1_34.json").read_text())
SERVER = "https://127.0.0.1:6443"
PATCH_EC = RequestContext(
    "patch", "pods", "smoke", "app", subresource="ephemeralcontainers", server=SERVER
)
GET_POD = RequestContext("get", "pods", "smoke", "nope", server=SERVER)


def recorded(name: str) -> tuple[int, str]:
    status, body = RECORDED[name]
    return int(status), body


def test_missing_pod_is_not_found() -> None:
    error = map_status(*recorded("pod_not_found"), GET_POD)
    assert isinstance(error, NotFoundError)
    assert error.message == "pod nope not found in namespace smoke"
    assert error.exit_code == ExitCode.NOT_FOUND


def test_missing_pod_on_the_subresource_is_not_found_not_unsupported() -> None:
    # A 404 whose details name the Pod: the Pod is missing, the subresource exists.
    error = map_status(*recorded("patch_pod_not_found"), PATCH_EC)
    assert isinstance(error, NotFoundError)
    assert "pod nope not found in namespace smoke" in error.message


@pytest.mark.parametrize(
    "body",
    [
        recorded("unknown_subresource")[1],  # a Status with empty details (recorded)
        "404 page not found\n",  # the mux's plain-text answer
    ],
)
def test_missing_subresource_is_unsupported(body: str) -> None:
    error = map_status(404, body, PATCH_EC)
    assert isinstance(error, UnsupportedError)
    assert "does not serve pods/ephemeralcontainers" in error.message
    assert "feature gate" in error.message
    assert error.remedy == "run `podscope doctor`"
    assert error.exit_code == ExitCode.UNSUPPORTED


def test_rbac_denial_names_verb_and_resource_with_a_role_rule() -> None:
    error = map_status(*recorded("rbac_forbidden"), PATCH_EC)
    assert isinstance(error, ForbiddenError)
    assert error.message == (
        "not allowed to patch pods/ephemeralcontainers in namespace smoke (User jane)"
    )
    assert error.remedy is not None
    assert 'resources: ["pods/ephemeralcontainers"]' in error.remedy
    assert 'verbs: ["patch"]' in error.remedy
    assert error.exit_code == ExitCode.FORBIDDEN


def test_rbac_denial_of_a_read() -> None:
    error = map_status(*recorded("rbac_get_forbidden"), GET_POD)
    assert isinstance(error, ForbiddenError)
    assert error.message.startswith("not allowed to get pods in namespace smoke")


def test_pod_security_rejection_quotes_rules_and_names_the_profile() -> None:
    error = map_status(*recorded("psa_restricted"), PATCH_EC, new_container="debugger-psa")
    assert isinstance(error, PolicyError)
    assert error.exit_code == ExitCode.POLICY
    assert "PodSecurity 'restricted'" in error.message
    assert "allowPrivilegeEscalation != false" in error.message
    assert "unrestricted capabilities" in error.message
    assert error.remedy == "retry with --profile restricted"
    assert "\n" not in error.message


def test_pod_security_blaming_an_older_container_says_no_profile_helps() -> None:
    message = (
        'pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged '
        '(container "debugger-old" must not set securityContext.privileged=true)'
    )
    body = json.dumps({"kind": "Status", "message": message, "code": 403})
    error = map_status(403, body, PATCH_EC, new_container="debugger-new")
    assert isinstance(error, PolicyError)
    assert error.remedy is not None and "debugger-old" in error.remedy
    assert "cannot be removed" in error.remedy


def test_psa_rule_splitting_keeps_parenthesised_commas() -> None:
    rules = (
        'allowPrivilegeEscalation != false (containers "a", "b" must set x=false), '
        'runAsNonRoot != true (pod or container "a" must set y=true)'
    )
    assert split_psa_rules(rules) == [
        'allowPrivilegeEscalation != false (containers "a", "b" must set x=false)',
        'runAsNonRoot != true (pod or container "a" must set y=true)',
    ]
    assert psa_violating_containers(rules) == {"a", "b"}


def test_invalid_spec_quotes_the_server_causes() -> None:
    error = map_status(*recorded("patch_invalid_port"), PATCH_EC)
    assert isinstance(error, ValidationError)
    assert error.field == "spec.ephemeralContainers[0].ports"
    assert "cannot be set for an Ephemeral Container" in error.message
    assert error.exit_code == ExitCode.INVALID


def test_name_clash_through_strategic_merge_is_recognised_and_one_line() -> None:
    # The recorded answer carries a multi-line diff of the two specs.
    error = map_status(*recorded("patch_duplicate"), PATCH_EC)
    assert isinstance(error, ValidationError)
    assert is_name_clash(error)
    assert "\n" not in error.message


def test_conflict_and_authentication() -> None:
    conflict = map_status(409, json.dumps({"kind": "Status", "message": "changed"}), PATCH_EC)
    assert isinstance(conflict, ConflictError)
    auth = map_status(401, '{"kind":"Status","message":"Unauthorized","code":401}', PATCH_EC)
    assert isinstance(auth, ForbiddenError)
    assert auth.message == f"authentication failed at {SERVER}"


def test_webhook_denial_is_a_policy_error() -> None:
    body = json.dumps(
        {
            "kind": "Status",
            "message": 'admission webhook "deny.example.com" denied the request: no debugging',
            "code": 403,
        }
    )
    error = map_status(403, body, PATCH_EC)
    assert isinstance(error, PolicyError)
    assert "deny.example.com" in error.message and "no debugging" in error.message


class _ApiExceptionLike:
    def __init__(self, status: int, reason: str = "", body: str | None = None) -> None:
        self.status, self.reason, self.body = status, reason, body


def test_tls_failure_reported_by_the_client_as_status_zero() -> None:
    exc = _ApiExceptionLike(
        0, "SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    error = map_api_error(exc, PATCH_EC)
    assert isinstance(error, UnreachableError)
    assert error.exit_code == ExitCode.UNREACHABLE
    assert error.message.startswith(f"TLS connection to {SERVER} failed")
    assert "\n" not in error.message


def test_transport_failures_name_the_server() -> None:
    refused = unreachable(PATCH_EC, "[Errno 111] Connection refused")
    assert refused.message == f"connection to {SERVER} refused"
    assert not isinstance(refused, RequestOutcomeUnknown)
    timed_out = unreachable(PATCH_EC, "Read timed out. (read timeout=30)", maybe_sent=True)
    assert isinstance(timed_out, RequestOutcomeUnknown)
    assert timed_out.exit_code == ExitCode.UNREACHABLE
    dns = unreachable(PATCH_EC, "Failed to resolve 'nope.invalid'")
    assert "cannot resolve" in dns.message
