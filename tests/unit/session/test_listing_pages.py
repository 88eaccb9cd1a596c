"""``ls`` on the in-memory API server: Pods read page by page, rows handed on per page."""

from __future__ import annotations

from typing import Any

from podscope.rules.requests import ListRequest
from podscope.session.listing import earliest, list_pages, run_list
from tests.unit.fakekube import FakeKube
from tests.unit.session.conftest import Messages, session_io


def _pod_with(fake: FakeKube, name: str, manager: str, *, privileged: bool = False) -> None:
    container: dict[str, Any] = {"name": "dbg", "image": f"{manager}-tools:1"}
    if privileged:
        container["securityContext"] = {"privileged": True}
    fake.add_pod(
        {
            "metadata": {
                "name": name,
                "managedFields": [
                    {
                        "manager": manager,
                        "operation": "Update",
                        "subresource": "ephemeralcontainers",
                        "time": "2026-01-01T00:00:00Z",
                        "fieldsV1": {
                            "f:spec": {"f:ephemeralContainers": {'k:{"name":"dbg"}': {".": {}}}}
                        },
                    }
                ],
            },
            "spec": {"ephemeralContainers": [container]},
        }
    )


def _page_calls(fake: FakeKube) -> list[str]:
    return [detail for method, _, _, detail in fake.calls if method == "list_pods_page"]


def test_pods_are_read_chunk_size_at_a_time(fake: FakeKube, messages: Messages) -> None:
    for i in range(5):
        _pod_with(fake, f"p{i}", "kubectl")
    fake.calls.clear()
    rows = run_list(fake, ListRequest(namespace="default", chunk_size=2), session_io(messages))
    assert [r.pod for r in rows] == ["p0", "p1", "p2", "p3", "p4"]
    assert len(_page_calls(fake)) == 3
    assert {(r.created_by, r.written_at) for r in rows} == {("kubectl", "2026-01-01T00:00:00Z")}


def test_chunk_size_0_reads_everything_at_once(fake: FakeKube, messages: Messages) -> None:
    for i in range(3):
        _pod_with(fake, f"p{i}", "kubectl")
    fake.calls.clear()
    assert len(run_list(fake, ListRequest(chunk_size=0), session_io(messages))) == 3
    assert _page_calls(fake) == ["limit=0,after=None"]


def test_the_next_page_is_read_only_when_taken(fake: FakeKube, messages: Messages) -> None:
    for i in range(4):
        _pod_with(fake, f"p{i}", "kubectl")
    fake.calls.clear()
    pages = list_pages(fake, ListRequest(chunk_size=1), session_io(messages))
    first = next(pages)
    assert [r.pod for r in first] == ["p0"]
    assert len(_page_calls(fake)) == 1  # nothing read ahead: one page held at a time
    rest = list(pages)
    assert [[r.pod for r in page] for page in rest] == [["p1"], ["p2"], ["p3"]]
    assert len(_page_calls(fake)) == 4


def test_filters_apply_per_page_and_empty_pages_still_come(
    fake: FakeKube, messages: Messages
) -> None:
    _pod_with(fake, "a", "kubectl")
    _pod_with(fake, "b", "podscope", privileged=True)
    _pod_with(fake, "c", "podscope")
    request = ListRequest(chunk_size=1, created_by="podscope", privileged=True)
    pages = list(list_pages(fake, request, session_io(messages)))
    assert [[r.pod for r in page] for page in pages] == [[], ["b"], []]
    assert pages[1][0].privileged and pages[1][0].profile == "sysadmin"
    mine = run_list(fake, ListRequest(created_by="podscope"), session_io(messages))
    assert [r.pod for r in mine] == ["b", "c"]
    images = run_list(fake, ListRequest(image="kubectl-*"), session_io(messages))
    assert [r.pod for r in images] == ["a"]


def test_all_namespaces_pages_across_namespaces(fake: FakeKube, messages: Messages) -> None:
    _pod_with(fake, "a", "kubectl")
    fake.add_pod(
        {"metadata": {"name": "z"}, "spec": {"ephemeralContainers": [{"name": "e"}]}}, "other"
    )
    rows = run_list(fake, ListRequest(all_namespaces=True, chunk_size=1), session_io(messages))
    assert [(r.namespace, r.pod, r.created_by) for r in rows] == [
        ("default", "a", "kubectl"),
        ("other", "z", None),
    ]


def test_the_earliest_known_time_dates_a_container() -> None:
    assert earliest("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    assert earliest(None, "2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    assert earliest("bad", None) is None
    assert earliest() is None
