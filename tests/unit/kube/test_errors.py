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
    Cause,
    ConflictError,
    ExitCode,
    ForbiddenError,
    NotFoundError,
    PodscopeError,
    PolicyError,
    ServerError,
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
RECORDED.update(json.loads((Path(__file__).parent / "recorded_errors_1_34.json").read_text()))
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


# --- the fields every mapped error carries ---------------------------------------------------

PUT_EC = RequestContext(
    "update", "pods", "smoke", "app", subresource="ephemeralcontainers", server=SERVER
)


def status_body(code: int, reason: str, message: str, **details: object) -> str:
    """A ``metav1.Status`` as the API server writes it (apimachinery's pkg/api/errors)."""
    body: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return json.dumps(body)


def test_recorded_answers_fill_status_reason_and_request() -> None:
    for name in ("pod_not_found", "rbac_forbidden", "patch_invalid_port", "unauthorized"):
        code, body = recorded(name)
        error = map_status(code, body, PATCH_EC)
        assert error.status == code, name
        assert error.reason == json.loads(body)["reason"], name
        assert error.request is PATCH_EC, name


@pytest.mark.parametrize(
    ("code", "reason", "message", "details", "retry_after"),
    [
        (
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            {"retryAfterSeconds": 3},
            3,
        ),
        (
            500,
            "InternalError",
            "Internal error occurred: etcd down",
            {"causes": [{"message": "etcd down"}]},
            None,
        ),
        (503, "ServiceUnavailable", "the server is shutting down", {}, None),
        (
            504,
            "Timeout",
            "Timeout: request did not complete within 60s",
            {"retryAfterSeconds": 1},
            1,
        ),
    ],
)
def test_throttling_and_server_failures_are_server_errors(
    code: int, reason: str, message: str, details: dict[str, object], retry_after: int | None
) -> None:
    error = map_status(code, status_body(code, reason, message, **details), PATCH_EC)
    assert type(error) is ServerError
    assert error.exit_code == ExitCode.FAILURE
    assert (error.status, error.reason, error.retry_after) == (code, reason, retry_after)
    assert error.request is PATCH_EC
    assert error.message == (
        f"the API server failed to patch pods/ephemeralcontainers (HTTP {code}): {message}"
    )
    assert error.remedy == "try again; if it persists, check the API server's health"


@pytest.mark.parametrize("code", [429, 500, 502, 503])
def test_a_proxys_plain_text_failure_is_a_server_error_too(code: int) -> None:
    error = map_status(code, "<html>bad gateway</html>\n", GET_POD)
    assert type(error) is ServerError and error.status == code
    assert error.reason is None and error.causes == ()
    assert error.message.endswith(f"(HTTP {code}): <html>bad gateway</html>")


def test_401_with_and_without_a_body() -> None:
    for body in (recorded("unauthorized")[1], None, "Unauthorized"):
        error = map_status(401, body, GET_POD)
        assert isinstance(error, ForbiddenError) and error.exit_code == ExitCode.FORBIDDEN
        assert error.message == f"authentication failed at {SERVER}"
        assert error.remedy is not None and "credentials" in error.remedy
        assert error.status == 401


def test_403_without_details_names_the_request() -> None:
    error = map_status(403, "Forbidden", PATCH_EC)
    assert isinstance(error, ForbiddenError)
    assert error.message == "not allowed to patch pods/ephemeralcontainers in namespace smoke"
    assert error.remedy is not None and 'verbs: ["patch"]' in error.remedy
    assert (error.status, error.reason) == (403, None)


def test_403_with_details_names_the_user_and_the_rule() -> None:
    error = map_status(*recorded("rbac_get_forbidden"), GET_POD)
    assert isinstance(error, ForbiddenError)
    assert error.message == "not allowed to get pods in namespace smoke (User jane)"
    assert error.reason == "Forbidden"


def test_404_with_details_names_the_object_without_details_the_request() -> None:
    named = map_status(*recorded("patch_missing_pod"), PATCH_EC)
    assert isinstance(named, NotFoundError)
    assert named.message == "pod nope not found in namespace smoke"
    bare = map_status(404, "404 page not found", GET_POD)
    assert isinstance(bare, NotFoundError) and bare.exit_code == ExitCode.NOT_FOUND
    assert bare.message == "pod nope not found in namespace smoke"
    assert (bare.status, bare.reason) == (404, None)


def test_409_is_a_conflict_with_the_servers_words() -> None:
    error = map_status(*recorded("put_stale"), PUT_EC)
    assert isinstance(error, ConflictError) and error.exit_code == ExitCode.CONFLICT
    assert error.message.startswith("conflicting change to pod app: Operation cannot be fulfilled")
    assert (error.status, error.reason) == (409, "Conflict")
    assert error.remedy is not None


def test_410_is_an_expired_request() -> None:
    body = status_body(410, "Expired", "too old resource version: 1 (2345)")
    error = map_status(410, body, GET_POD)
    assert type(error) is PodscopeError and error.exit_code == ExitCode.FAILURE
    assert error.message == "the API server expired the request: too old resource version: 1 (2345)"
    assert (error.status, error.reason) == (410, "Expired")


def test_422_keeps_every_cause_as_a_field() -> None:
    error = map_status(*recorded("put_dup_ephemeral"), PUT_EC)
    assert isinstance(error, ValidationError) and error.exit_code == ExitCode.INVALID
    assert error.causes[0] == Cause(
        "FieldValueDuplicate", "spec.ephemeralContainers[1].name", 'Duplicate value: "dbg"'
    )
    assert error.causes[1].type == "FieldValueForbidden"
    assert error.causes[1].field == "spec.ephemeralContainers"
    assert "\n" in error.causes[1].message  # the server's diff is kept in the cause ...
    assert "\n" not in error.message  # ... and stays out of the one-line message
    assert error.field == "spec.ephemeralContainers[1].name"
    assert error.message == (
        "the API server refused the spec: "
        'spec.ephemeralContainers[1].name: Duplicate value: "dbg"; '
        "spec.ephemeralContainers: Forbidden: "
        'existing ephemeral containers "dbg" may not be changed'
    )


def test_422_without_causes() -> None:
    error = map_status(422, status_body(422, "Invalid", "Pod is invalid"), PATCH_EC)
    assert isinstance(error, ValidationError)
    assert error.causes == () and error.field is None
    assert error.message == "the API server refused the request: Pod is invalid"


def test_policy_errors_carry_level_rules_and_containers() -> None:
    error = map_status(*recorded("psa_restricted"), PATCH_EC, new_container="debugger-psa")
    assert isinstance(error, PolicyError)
    assert (error.level, error.version) == ("restricted", "latest")
    assert error.rules == (
        'allowPrivilegeEscalation != false (container "debugger-psa" must set '
        "securityContext.allowPrivilegeEscalation=false)",
        'unrestricted capabilities (container "debugger-psa" must set '
        'securityContext.capabilities.drop=["ALL"])',
    )
    assert error.containers == ("debugger-psa",)
    assert error.webhook is None
    hook = json.dumps(
        {"kind": "Status", "message": 'admission webhook "deny.example.com" denied the request: no'}
    )
    webhook = map_status(403, hook, PATCH_EC)
    assert isinstance(webhook, PolicyError)
    assert (webhook.webhook, webhook.level, webhook.rules) == ("deny.example.com", None, ())


@pytest.mark.parametrize(
    ("reason", "maybe_sent", "cls", "message"),
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            False,
            UnreachableError,
            f"TLS connection to {SERVER} failed: "
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
        ),
        (
            "Read timed out. (read timeout=30)",
            True,
            RequestOutcomeUnknown,
            f"no answer from {SERVER} within 30 s (waiting for its reply)",
        ),
        (
            "HTTPSConnectionPool(host='10.0.0.1', port=6443): Read timed out. (read timeout=30)",
            False,
            UnreachableError,
            f"no answer from {SERVER} within 30 s (waiting for its reply)",
        ),
        (
            "HTTPSConnectionPool(host='10.0.0.1', port=6443): Max retries exceeded with url: "
            "/api (Caused by ConnectTimeoutError(..., 'Connection to 10.0.0.1 timed out. "
            "(connect timeout=2.5)'))",
            False,
            UnreachableError,
            f"no answer from {SERVER} within 2.5 s (connecting)",
        ),
        (
            "timed out opening the stream",
            False,
            UnreachableError,
            f"no answer from {SERVER} in time (timed out opening the stream)",
        ),
        (
            "[Errno 111] Connection refused",
            False,
            UnreachableError,
            f"connection to {SERVER} refused",
        ),
        (
            "[Errno 111] Connection refused",
            True,
            RequestOutcomeUnknown,
            f"connection to {SERVER} refused",
        ),
    ],
)
def test_transport_failures_carry_the_request(
    reason: str, maybe_sent: bool, cls: type[UnreachableError], message: str
) -> None:
    error = unreachable(PATCH_EC, reason, maybe_sent=maybe_sent)
    assert type(error) is cls and error.exit_code == ExitCode.UNREACHABLE
    assert error.message == message
    assert (error.status, error.reason, error.request) == (None, None, PATCH_EC)


def test_to_dict_is_json_with_every_field_and_no_credentials() -> None:
    error = map_status(*recorded("put_dup_regular"), PUT_EC)
    data = error.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "type": "ValidationError",
        "message": error.message,
        "remedy": None,
        "exit_code": 7,
        "status": 422,
        "reason": "Invalid",
        "causes": [
            {
                "type": "FieldValueDuplicate",
                "field": "spec.ephemeralContainers[1].name",
                "message": 'Duplicate value: "app"',
            }
        ],
        "request": {
            "verb": "update",
            "resource": "pods",
            "subresource": "ephemeralcontainers",
            "namespace": "smoke",
            "name": "app",
            "group": "",
            "server": SERVER,
        },
        "field": "spec.ephemeralContainers[1].name",
    }
    policy = map_status(*recorded("psa_restricted"), PATCH_EC).to_dict()
    assert policy["level"] == "restricted" and policy["containers"] == ["debugger-psa"]
    server = map_status(429, status_body(429, "TooManyRequests", "slow down"), GET_POD).to_dict()
    assert server["retry_after"] is None and server["type"] == "ServerError"
    # A request names the server URL only; nothing of the kubeconfig user is kept.
    assert "token" not in json.dumps(data).lower()


# --- name clashes, from the answers the 1.34 server sent -------------------------------------


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("patch_name_of_regular_container", PATCH_EC),  # FieldValueDuplicate ...[0].name
        ("patch_name_of_ephemeral_container", PATCH_EC),  # merged by name: "may not be changed"
        ("patch_duplicate", PATCH_EC),  # the same, recorded earlier
        ("put_dup_regular", PUT_EC),  # FieldValueDuplicate ...[1].name
        ("put_dup_ephemeral", PUT_EC),  # FieldValueDuplicate and the Forbidden change
    ],
)
def test_name_clashes_are_recognised_from_the_causes(name: str, context: RequestContext) -> None:
    error = map_status(*recorded(name), context)
    assert is_name_clash(error)


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("patch_invalid_port", PATCH_EC),  # another field of the new container
        ("put_removed", PUT_EC),  # the list lost a container: Forbidden, but no clash
        ("put_stale", PUT_EC),  # 409
        ("patch_missing_pod", PATCH_EC),
    ],
)
def test_other_refusals_are_not_name_clashes(name: str, context: RequestContext) -> None:
    assert not is_name_clash(map_status(*recorded(name), context))


def test_name_clash_is_decided_on_fields_not_on_the_text() -> None:
    # The words of a clash with causes that are not one ...
    text = 'spec.ephemeralContainers[0].name: Duplicate value: "x"; may not be changed'
    worded = map_status(422, status_body(422, "Invalid", text), PATCH_EC)
    assert not is_name_clash(worded)
    local = ValidationError(f"{text}", field="spec.ephemeralContainers[0].name")
    assert not is_name_clash(local)  # found before any request: nothing to retry
    # ... and a clash with other words.
    causes = [{"reason": "FieldValueDuplicate", "field": "spec.ephemeralContainers[2].name"}]
    quiet = map_status(422, status_body(422, "Invalid", "", causes=causes), PUT_EC)
    assert is_name_clash(quiet)
    init = [{"reason": "FieldValueDuplicate", "field": "spec.initContainers[0].name"}]
    assert not is_name_clash(map_status(422, status_body(422, "Invalid", "", causes=init), PUT_EC))


def test_the_old_import_paths_still_work() -> None:
    import podscope.errors as errors
    import podscope.kube.errors as kube_errors
    import podscope.session.cp as cp

    assert cp.ChecksumError is errors.ChecksumError
    for name in ("RequestContext", "RequestOutcomeUnknown", "ServerError"):
        assert getattr(kube_errors, name) is getattr(errors, name)
