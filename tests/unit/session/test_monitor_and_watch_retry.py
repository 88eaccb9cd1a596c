"""Session monitor (restart notes) and the watch's retry across API server outages (no cluster)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podscope.errors import UnreachableError
from podscope.kube import client as client_module
from podscope.kube.client import KubeClient
from podscope.session.monitor import restart_messages


def _pod(restarts: int, exit_code: int | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"name": "web", "restartCount": restarts}
    if exit_code is not None:
        status["lastState"] = {"terminated": {"exitCode": exit_code, "reason": "Error"}}
    return {"metadata": {"name": "p"}, "status": {"containerStatuses": [status]}}


def test_restart_messages_name_the_target_and_its_exit() -> None:
    messages = restart_messages({"web": 0}, _pod(1, 3), "debugger-x", "web")
    assert messages == [
        "target container web restarted (restart count 1; it stopped with exit code 3, Error); "
        "debug container debugger-x is unaffected"
    ]
    assert restart_messages({"web": 1}, _pod(1, 3), "debugger-x", "web") == []


class _FakeApi:
    class configuration:  # noqa: N801
        host = "https://127.0.0.1:1"


def test_watch_survives_an_outage_and_resumes_from_the_last_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = KubeClient(_FakeApi(), namespace="ns", context="c", request_timeout=5, connect_timeout=1)
    seen_versions: list[str | None] = []
    calls = {"n": 0}

    def fake_watch_request(namespace: str, name: str, **kwargs: Any) -> Any:
        calls["n"] += 1
        seen_versions.append(kwargs.get("resource_version"))
        if calls["n"] in (2, 3, 4):  # the API server is restarting
            raise UnreachableError("connection to https://127.0.0.1:1 refused")
        rv = str(10 + calls["n"])
        event = {"type": "MODIFIED", "object": {"metadata": {"name": "p", "resourceVersion": rv}}}
        line = json.dumps(event)
        return _FakeResponse([line.encode()])

    monkeypatch.setattr(kube, "_watch_request", fake_watch_request)
    monkeypatch.setattr(client_module.time, "sleep", lambda s: None)
    retries: list[str] = []
    events = []
    for kind, obj in kube.watch_pod("ns", "p", "5", 30, on_retry=retries.append):
        events.append((kind, obj["metadata"]["resourceVersion"]))
        if len(events) == 2:
            break
    assert events == [("MODIFIED", "11"), ("MODIFIED", "15")]
    # Started from the given version, then resumed from the last one seen after each failure.
    assert seen_versions[0] == "5" and seen_versions[1:] == ["11", "11", "11", "11"]
    assert retries and "lost the watch on Pod p" in retries[0]


def test_watch_gives_up_after_a_long_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    kube = KubeClient(_FakeApi(), namespace="ns", context="c", request_timeout=5, connect_timeout=1)
    now = [0.0]

    def fake_watch_request(namespace: str, name: str, **kwargs: Any) -> Any:
        raise UnreachableError("connection refused")

    def fake_sleep(seconds: float) -> None:
        now[0] += max(seconds, 1.0)

    monkeypatch.setattr(kube, "_watch_request", fake_watch_request)
    monkeypatch.setattr(kube, "get_pod", lambda ns, name: fake_watch_request(ns, name))
    monkeypatch.setattr(client_module.time, "sleep", fake_sleep)
    monkeypatch.setattr(client_module.time, "monotonic", lambda: now[0])
    with pytest.raises(UnreachableError):
        list(kube.watch_pod("ns", "p", None, 10_000))
    assert now[0] >= client_module.WATCH_OUTAGE_SECONDS


class _FakeResponse:
    status = 200

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield b"\n".join(self._lines) + b"\n"

    def read_chunked(self, *args: Any, **kwargs: Any) -> Any:
        return self.stream()

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass
