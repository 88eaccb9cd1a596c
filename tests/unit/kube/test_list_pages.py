"""``KubeClient.list_pods_pages`` over a scripted transport: limit, continue, and expiry."""

from __future__ import annotations

import pytest

from podscope.errors import PodscopeError
from podscope.kube.client import KubeClient
from tests.unit.fakekube import status_body
from tests.unit.kube.test_client_requests import ScriptedApi


@pytest.fixture
def api() -> ScriptedApi:
    return ScriptedApi()


@pytest.fixture
def kube(api: ScriptedApi) -> KubeClient:
    return KubeClient(api, namespace="ns", context="c", request_timeout=5, connect_timeout=1)


def _page(*names: str, token: str = "") -> tuple[int, dict[str, object]]:
    return 200, {
        "metadata": {"continue": token} if token else {},
        "items": [{"metadata": {"name": n}} for n in names],
    }


def test_pages_follow_the_continue_token_one_request_each(
    kube: KubeClient, api: ScriptedApi
) -> None:
    api.answers = [_page("a", "b", token="t1"), _page("c", "d", token="t2"), _page("e")]
    pages = kube.list_pods_pages(None, 2)
    assert [p["metadata"]["name"] for p in next(pages)] == ["a", "b"]
    assert len(api.requests) == 1  # the next page waits until it is taken
    rest = [[p["metadata"]["name"] for p in page] for page in pages]
    assert rest == [["c", "d"], ["e"]]
    assert [(r["path"], r["query"]) for r in api.requests] == [
        ("/api/v1/pods", [("limit", "2")]),
        ("/api/v1/pods", [("limit", "2"), ("continue", "t1")]),
        ("/api/v1/pods", [("limit", "2"), ("continue", "t2")]),
    ]


def test_limit_0_is_one_request_without_limit(kube: KubeClient, api: ScriptedApi) -> None:
    api.answers = [_page("a", token="ignored")]
    assert [len(p) for p in kube.list_pods_pages("ns", 0)] == [1]
    assert [(r["path"], r["query"]) for r in api.requests] == [("/api/v1/namespaces/ns/pods", [])]


def test_an_expired_continue_token_says_what_happened_and_what_to_do(
    kube: KubeClient, api: ScriptedApi
) -> None:
    gone = status_body(410, "The provided continue parameter is too old", "Expired")
    api.answers = [_page("a", token="t1"), (410, gone)]
    pages = kube.list_pods_pages(None, 1)
    next(pages)
    with pytest.raises(PodscopeError, match="expired the list's continue token") as caught:
        next(pages)
    assert caught.value.status == 410
    assert caught.value.remedy and "--chunk-size" in caught.value.remedy


def test_a_410_on_the_first_page_is_the_servers_own_error(
    kube: KubeClient, api: ScriptedApi
) -> None:
    api.answers = [(410, status_body(410, "gone", "Gone"))]
    with pytest.raises(PodscopeError) as caught:
        next(kube.list_pods_pages(None, 1))
    assert "continue token" not in caught.value.message
