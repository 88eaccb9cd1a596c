"""``KubeClient`` over the scripted transport of ``test_client_requests``: the reads the
sessions and completion use, SelfSubjectReview's versions, Events, a refused credential
fetched again once, and the pool widening on the kubernetes package's client."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import urllib3

from podscope.errors import ConfigError, NotFoundError, PodscopeError, UnreachableError
from podscope.kube.client import KubeClient
from podscope.kube.credentials import ExecCredentials
from tests.unit.fakekube import status_body
from tests.unit.kube.test_client_requests import ScriptedApi


def _kube(api: Any, **kw: Any) -> KubeClient:
    return KubeClient(api, namespace="ns", context="c", request_timeout=5, connect_timeout=1, **kw)


def _paths(api: ScriptedApi) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [(r["method"], r["path"], r["query"]) for r in api.requests]


def test_the_other_reads_build_their_paths() -> None:
    api = ScriptedApi()
    docker = base64.b64encode(json.dumps({"auths": {"registry.test": {"auth": "x"}}}).encode())
    api.answers = [
        (
            200,
            {
                "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": docker.decode()},
            },
        ),
        (200, {"metadata": {"name": "default"}, "imagePullSecrets": [{"name": "pull"}]}),
        (200, {"items": [{"reason": "Failed"}]}),
        (200, {"kind": "PodList"}),
        (200, {"items": [{"metadata": {"name": "ns"}}]}),
        (200, {"items": [{"metadata": {"name": "web"}}, {"metadata": {"name": "db"}}]}),
        (200, {"kubeletconfig": {"featureGates": {}}}),
        (200, {"resources": []}),
    ]
    kube = _kube(api)
    assert kube.pull_secret_registries("ns", "pull") == ("registry.test",)
    assert kube.get_service_account("ns", "default")["imagePullSecrets"] == [{"name": "pull"}]
    assert kube.list_events("ns", "reason=Failed") == [{"reason": "Failed"}]
    assert kube.get_path("/api/v1/namespaces/ns/pods") == {"kind": "PodList"}
    assert [n["metadata"]["name"] for n in kube.list_namespaces()] == ["ns"]
    assert kube.workload_names("ns", "deploy") == ["web", "db"]
    assert kube.workload_names("ns", "nonsense") == []  # no request for an unknown kind
    assert kube.kubelet_configz("node-1") == {"kubeletconfig": {"featureGates": {}}}
    assert kube.core_resources() == {"resources": []}
    assert _paths(api) == [
        ("GET", "/api/v1/namespaces/ns/secrets/pull", []),
        ("GET", "/api/v1/namespaces/ns/serviceaccounts/default", []),
        ("GET", "/api/v1/namespaces/ns/events", [("fieldSelector", "reason=Failed")]),
        ("GET", "/api/v1/namespaces/ns/pods", []),
        ("GET", "/api/v1/namespaces", []),
        ("GET", "/apis/apps/v1/namespaces/ns/deployments", []),
        ("GET", "/api/v1/nodes/node-1/proxy/configz", []),
        ("GET", "/api/v1", []),
    ]


def test_self_subject_review_falls_back_to_beta_then_is_not_found() -> None:
    api = ScriptedApi()
    missing = (404, status_body(404, "the server could not find the requested resource"))
    api.answers = [missing, (200, {"status": {"userInfo": {"username": "me"}}})]
    kube = _kube(api)
    assert kube.self_subject_review()["status"]["userInfo"] == {"username": "me"}
    assert [r["path"] for r in api.requests] == [
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews",
    ]
    assert api.requests[1]["body"]["apiVersion"] == "authentication.k8s.io/v1beta1"
    api.answers = [missing, missing]
    with pytest.raises(NotFoundError):
        kube.self_subject_review()


def test_an_event_is_created_with_its_body() -> None:
    api = ScriptedApi()
    kube = _kube(api)
    kube.create_event("ns", {"reason": "PodscopeSession"})
    (request,) = api.requests
    assert (request["method"], request["path"]) == ("POST", "/api/v1/namespaces/ns/events")
    assert request["body"] == {"reason": "PodscopeSession"}
    assert request["query"] == [("fieldManager", "podscope")]


class _BrokenBody:
    """A raw answer whose body breaks off while it is read."""

    status = 200

    @property
    def data(self) -> bytes:
        raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")

    def release_conn(self) -> None:
        pass


def test_an_answer_cut_off_while_read_is_unreachable_and_maybe_sent_for_a_write() -> None:
    class Api(ScriptedApi):
        def call_api(self, *args: Any, **kw: Any) -> Any:
            answer = super().call_api(*args, **kw)
            answer.response = _BrokenBody()
            return answer

    kube = _kube(Api())
    with pytest.raises(UnreachableError) as read:
        kube.get_pod("ns", "web")
    assert not getattr(read.value, "maybe_sent", False)
    from podscope.kube.errors import RequestOutcomeUnknown

    with pytest.raises(RequestOutcomeUnknown):
        kube.create_event("ns", {"reason": "x"})


# -- a refused credential ---------------------------------------------------------------------

SCRIPT = r"""
n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$COUNT"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
printf '"status":{"token":"tok-%s"}}' "$n"
"""


class _AuthApi(ScriptedApi):
    """Puts the exec plugin's current token on each request, as the Configuration's hook does."""

    def __init__(self, credentials: ExecCredentials) -> None:
        super().__init__()
        self.credentials = credentials
        self.tokens: list[str] = []

    def param_serialize(self, **kw: Any) -> Any:
        method, url, headers, body, extra = super().param_serialize(**kw)
        token = self.credentials.current().token
        self.tokens.append(str(token))
        return method, url, {**headers, "Authorization": f"Bearer {token}"}, body, extra


def _plugin(tmp_path: Path) -> ExecCredentials:
    config = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/bin/sh",
        "args": ["-c", SCRIPT],
        "env": [{"name": "COUNT", "value": str(tmp_path / "count")}],
        "interactiveMode": "Never",
    }
    return ExecCredentials(config, {})


UNAUTHORIZED = (401, status_body(401, "Unauthorized", "Unauthorized"))


def test_a_401_fetches_the_credential_again_and_retries_once(tmp_path: Path) -> None:
    credentials = _plugin(tmp_path)
    api = _AuthApi(credentials)
    api.answers = [UNAUTHORIZED, (200, {"metadata": {"name": "web"}})]
    kube = _kube(api, credentials=credentials)
    assert kube.get_pod("ns", "web")["metadata"]["name"] == "web"
    assert api.tokens == ["tok-1", "tok-2"] and credentials.runs == 2


def test_a_second_401_is_the_error_after_the_certificate_check(tmp_path: Path) -> None:
    credentials = _plugin(tmp_path)
    api = _AuthApi(credentials)
    api.answers = [UNAUTHORIZED, UNAUTHORIZED]

    def expired_certificate() -> None:
        raise ConfigError("the kubeconfig's client certificate expired")

    kube = _kube(api, credentials=credentials, certificate_check=expired_certificate)
    with pytest.raises(ConfigError, match="client certificate expired"):
        kube.get_pod("ns", "web")
    assert len(api.requests) == 2  # retried once, not more


def test_without_an_exec_plugin_a_401_is_not_retried() -> None:
    api = ScriptedApi()
    api.answers = [UNAUTHORIZED]
    with pytest.raises(PodscopeError, match="authentication failed at https://10.0.0.1:6443"):
        _kube(api).get_pod("ns", "web")
    assert len(api.requests) == 1


# -- the pool -----------------------------------------------------------------------------------


def test_the_package_clients_pool_widens_and_never_narrows() -> None:
    class PackageApi(ScriptedApi):
        class rest_client:  # noqa: N801
            pool_manager = urllib3.PoolManager(maxsize=4)

    api = PackageApi()
    kube = _kube(api)
    manager = api.rest_client.pool_manager
    kube.widen_pool(12)
    assert manager.connection_pool_kw["maxsize"] == 12
    kube.widen_pool(3)
    assert manager.connection_pool_kw["maxsize"] == 12
