"""``KubeClient`` over a scripted transport: the requests it builds and how it maps failures.

The session tests run on the in-memory API server behind ``KubeAPI``; this covers the real
client's own side of that seam (paths, queries, bodies, and the transport errors it turns
into podscope errors), with no cluster.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from podscope.errors import (
    ConflictError,
    NotFoundError,
    PodscopeError,
    UnreachableError,
    UnsupportedError,
    ValidationError,
)
from podscope.kube.client import KubeClient
from podscope.kube.errors import RequestContext, RequestOutcomeUnknown, ServerError
from podscope.kube.queries import AccessQuestion, LogQuery
from podscope.rules.workloads import parse_pod_ref
from tests.unit.fakekube import status_body

HOST = "https://10.0.0.1:6443"


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.released = False

    def release_conn(self) -> None:
        self.released = True


class _Response:
    def __init__(self, status: int, data: bytes) -> None:
        self.status, self.data = status, data
        self.response = _Raw(data)

    def read(self) -> bytes:
        return self.data


class ScriptedApi:
    """Stands in for kubernetes' ApiClient: records each request, answers from a script."""

    class configuration:  # noqa: N801
        host = HOST

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[Any] = []  # (status, body) tuples or exceptions to raise

    def param_serialize(self, **kw: Any) -> tuple[str, str, dict[str, str], Any, None]:
        query = "&".join(f"{k}={v}" for k, v in kw.get("query_params") or [])
        url = HOST + kw["resource_path"] + (f"?{query}" if query else "")
        return kw["method"], url, kw.get("header_params") or {}, kw.get("body"), None

    def call_api(self, method: str, url: str, headers: Any, body: Any, **kw: Any) -> _Response:
        parts = urlsplit(url)
        self.requests.append(
            {
                "method": method,
                "path": parts.path,
                "query": parse_qsl(parts.query),
                "body": body,
                "content_type": headers.get("Content-Type"),
            }
        )
        answer = self.answers.pop(0) if self.answers else (200, {})
        if isinstance(answer, BaseException):
            raise answer
        status, data = answer
        return _Response(status, data if isinstance(data, bytes) else json.dumps(data).encode())

    def close(self) -> None:
        pass


@pytest.fixture
def api() -> ScriptedApi:
    return ScriptedApi()


@pytest.fixture
def kube(api: ScriptedApi) -> KubeClient:
    return KubeClient(api, namespace="ns", context="c", request_timeout=5, connect_timeout=1)


def test_reads_build_their_paths_and_queries(kube: KubeClient, api: ScriptedApi) -> None:
    api.answers = [
        (200, {"metadata": {"name": "web"}}),
        (200, {"items": [{"metadata": {"name": "a"}}]}),
        (200, {"items": []}),
        (200, {"metadata": {"name": "n1"}}),
        (200, {"items": [{"metadata": {"name": "n1"}}]}),
        (200, {"gitVersion": "v1.34.0"}),
        (200, {"metadata": {"name": "ns"}}),
    ]
    assert kube.get_pod("ns", "web")["metadata"]["name"] == "web"
    assert len(kube.list_pods("ns", label_selector="a=b", field_selector="x=y")) == 1
    kube.list_pods(None)
    kube.get_node("n1")
    kube.list_nodes()
    assert kube.server_version()["gitVersion"] == "v1.34.0"
    kube.get_namespace("ns")
    assert [(r["method"], r["path"], r["query"]) for r in api.requests] == [
        ("GET", "/api/v1/namespaces/ns/pods/web", []),
        ("GET", "/api/v1/namespaces/ns/pods", [("labelSelector", "a=b"), ("fieldSelector", "x=y")]),
        ("GET", "/api/v1/pods", []),
        ("GET", "/api/v1/nodes/n1", []),
        ("GET", "/api/v1/nodes", []),
        ("GET", "/version", []),
        ("GET", "/api/v1/namespaces/ns", []),
    ]


def test_workload_pods_are_found_by_its_selector(kube: KubeClient, api: ScriptedApi) -> None:
    running = {"metadata": {"name": "web-1"}, "status": {"phase": "Running"}}
    api.answers = [
        (200, {"spec": {"selector": {"matchLabels": {"app": "web"}}}}),
        (200, {"items": [running]}),
    ]
    pod, why = kube.get_workload("ns", parse_pod_ref("deploy/web"))
    assert pod["metadata"]["name"] == "web-1" and why
    assert api.requests[0]["path"] == "/apis/apps/v1/namespaces/ns/deployments/web"
    assert api.requests[1]["query"] == [("labelSelector", "app=web")]
    api.answers = [(200, {"spec": {}})]
    with pytest.raises(UnsupportedError, match="has no Pod selector"):
        kube.get_workload("ns", parse_pod_ref("deploy/web"))


def test_shape_is_read_once_and_absent_is_refused(kube: KubeClient, api: ScriptedApi) -> None:
    api.answers = [(200, {"resources": [{"name": "pods/ephemeralcontainers", "kind": "Pod"}]})]
    assert kube.ephemeral_shape() == "pod" and kube.writable_ephemeral_shape() == "pod"
    assert len(api.requests) == 1
    other = KubeClient(api, namespace="ns", context="c", request_timeout=5, connect_timeout=1)
    api.answers = [(200, {"resources": []})]
    with pytest.raises(UnsupportedError, match="does not serve pods/ephemeralcontainers"):
        other.writable_ephemeral_shape()


# Every write names podscope, so the Pod's managedFields and audit logs can tell.
MANAGER = ("fieldManager", "podscope")


def test_writes_send_their_bodies(kube: KubeClient, api: ScriptedApi) -> None:
    body = {"spec": {"ephemeralContainers": [{"name": "d", "image": "i"}]}}
    kube.patch_ephemeral_containers("ns", "web", body, "pod", dry_run=True)
    kube.patch_ephemeral_containers("ns", "web", {"kind": "EphemeralContainers"}, "legacy")
    kube.create_pod("ns", {"metadata": {"name": "copy"}}, dry_run=True)
    kube.delete_pod("ns", "copy", uid="u1", grace_period_seconds=0)
    got = [(r["method"], r["path"], r["query"], r["content_type"]) for r in api.requests]
    path = "/api/v1/namespaces/ns/pods/web/ephemeralcontainers"
    assert got == [
        ("PATCH", path, [("dryRun", "All"), MANAGER], "application/strategic-merge-patch+json"),
        ("PUT", path, [MANAGER], "application/json"),
        ("POST", "/api/v1/namespaces/ns/pods", [("dryRun", "All"), MANAGER], "application/json"),
        ("DELETE", "/api/v1/namespaces/ns/pods/copy", [], "application/json"),
    ]
    assert api.requests[3]["body"]["preconditions"] == {"uid": "u1"}
    assert api.requests[3]["body"]["gracePeriodSeconds"] == 0
    with pytest.raises(UnsupportedError):
        kube.patch_ephemeral_containers("ns", "web", body, "absent")


def test_logs_and_access_reviews(kube: KubeClient, api: ScriptedApi) -> None:
    api.answers = [(200, b"log text"), (200, {"status": {"allowed": True, "reason": "rbac"}})]
    log = kube.read_log(
        LogQuery("ns", "web", "app", tail_lines=5, limit_bytes=9, previous=True, stream="Stdout")
    )
    assert log == b"log text"
    assert api.requests[0]["query"] == [
        ("container", "app"),
        ("tailLines", "5"),
        ("limitBytes", "9"),
        ("previous", "true"),
        ("stream", "Stdout"),
    ]
    assert kube.access_review(AccessQuestion("create", "pods", "exec", "ns", "web")) == (
        True,
        "rbac",
    )
    attributes = api.requests[1]["body"]["spec"]["resourceAttributes"]
    assert attributes == {
        "verb": "create",
        "resource": "pods",
        "group": "",
        "subresource": "exec",
        "namespace": "ns",
        "name": "web",
    }


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            (
                404,
                status_body(404, 'pods "web" not found', details={"name": "web", "kind": "pods"}),
            ),
            NotFoundError,
        ),
        ((409, status_body(409, "the object has been modified")), ConflictError),
        ((422, status_body(422, "invalid")), ValidationError),
        ((503, b"upstream connect error"), ServerError),
        ((429, status_body(429, "Too many requests")), ServerError),
    ],
)
def test_failed_answers_become_podscope_errors(
    kube: KubeClient, api: ScriptedApi, answer: Any, error: type[Exception]
) -> None:
    api.answers = [answer]
    with pytest.raises(error) as failed:
        kube.get_pod("ns", "web")
    # The error names what was asked, and of which server.
    assert failed.value.request == RequestContext("get", "pods", "ns", "web", server=HOST)


@pytest.mark.parametrize(
    ("exc", "write_error", "read_error"),
    [
        (
            urllib3.exceptions.ReadTimeoutError(None, "/", "Read timed out."),
            RequestOutcomeUnknown,
            UnreachableError,
        ),
        (
            urllib3.exceptions.ProtocolError("Connection aborted."),
            RequestOutcomeUnknown,
            UnreachableError,
        ),
        (
            urllib3.exceptions.MaxRetryError(None, "/", ConnectionRefusedError("refused")),
            UnreachableError,
            UnreachableError,
        ),
        (OSError("Network is unreachable"), UnreachableError, UnreachableError),
        (
            ApiException(status=0, reason="SSL: CERTIFICATE_VERIFY_FAILED"),
            UnreachableError,
            UnreachableError,
        ),
        (ApiException(status=403, reason="Forbidden"), PodscopeError, PodscopeError),
    ],
)
def test_transport_failures(
    kube: KubeClient, api: ScriptedApi, exc: Exception, write_error: type, read_error: type
) -> None:
    # A write whose connection broke after sending may have been applied: it says so.
    api.answers = [exc, exc]
    with pytest.raises(write_error) as written:
        kube.create_pod("ns", {"metadata": {"name": "p"}})
    with pytest.raises(read_error) as read:
        kube.get_pod("ns", "p")
    if write_error is not RequestOutcomeUnknown:
        assert not isinstance(written.value, RequestOutcomeUnknown)
    assert not isinstance(read.value, RequestOutcomeUnknown)


def test_a_non_json_answer(kube: KubeClient, api: ScriptedApi) -> None:
    api.answers = [(200, b"<html>proxy</html>")]
    with pytest.raises(PodscopeError, match="non-JSON answer to get pods"):
        kube.get_pod("ns", "web")


def test_bad_names_never_reach_a_request(kube: KubeClient, api: ScriptedApi) -> None:
    with pytest.raises(PodscopeError):
        kube.get_pod("ns", "../secrets")
    with pytest.raises(PodscopeError):
        kube.get_pod("a?b", "web")
    assert api.requests == []
