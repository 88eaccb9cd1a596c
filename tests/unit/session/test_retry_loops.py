"""The retry loops keep their pauses, limits and messages on the shared backoff helper.

The expected pauses are written out here from the behaviour the loops always had, not
computed with the helper, so a change of schedule in either place shows up.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from podscope.errors import ConflictError, UnreachableError
from podscope.kube import client as client_module
from podscope.kube.client import KubeClient
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.session.ephemeral import MAX_CREATE_ATTEMPTS, create_container


class _FakeApi:
    class configuration:  # noqa: N801
        host = "https://127.0.0.1:1"


def _unreachable_api(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[KubeClient, list[float], list[float]]:
    """A client whose API server refuses every connection; a clock that moves by sleeping."""
    kube = KubeClient(_FakeApi(), namespace="ns", context="c", request_timeout=5, connect_timeout=1)
    now = [0.0]
    slept: list[float] = []

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise UnreachableError("connection refused")

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(kube, "_watch_request", refused)
    monkeypatch.setattr(kube, "get_pod", refused)
    monkeypatch.setattr(time, "sleep", fake_sleep)
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return kube, now, slept


def test_watch_pauses_double_to_four_seconds_and_give_up_after_ninety(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube, now, slept = _unreachable_api(monkeypatch)
    retries: list[str] = []
    with pytest.raises(UnreachableError):
        list(kube.watch_pod("ns", "p", None, 10_000, on_retry=retries.append))
    assert slept[:6] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert set(slept[3:]) == {4.0}
    # 0.5 + 1 + 2 = 3.5 s, then 4 s pauses until more than 90 s have passed since the first.
    assert len(slept) == 3 + 22 and now[0] == 91.5
    # Heard on the first failure and on every fifth one.
    assert len(retries) == len([n for n in range(1, len(slept) + 1) if n == 1 or n % 5 == 0])
    assert retries[0] == "lost the watch on Pod p (connection refused); retrying"


def test_watch_pause_never_outlasts_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    kube, now, slept = _unreachable_api(monkeypatch)
    # A 2.2 s watch: 0.5 + 1, then 0.7 s left of the 2 s pause; then it ends, no error.
    assert list(kube.watch_pod("ns", "p", None, 2.2)) == []
    assert slept == pytest.approx([0.5, 1.0, 0.7])
    assert client_module.WATCH_OUTAGE_SECONDS == 90.0


class _RacingClient:
    """Every write loses a race (409): the loop re-reads and retries, then gives up."""

    def __init__(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        self.writes = 0

    def patch_ephemeral_containers(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.writes += 1
        raise ConflictError("the object has been modified; please apply your changes")

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self.pod


def test_create_container_conflicts_pause_with_doubling_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pod: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "ns", "resourceVersion": "1"},
        "spec": {"containers": [{"name": "app", "image": "app"}]},
        "status": {"phase": "Running"},
    }
    spec = DebugSpec(image="busybox", target="app")
    container = build_ephemeral_container(pod, spec)
    client = _RacingClient(pod)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    for seed in (1, 2, 3):
        random.seed(seed)
        expected = [random.uniform(0.05, 0.2) * 2**attempt for attempt in range(5)]
        random.seed(seed)
        slept.clear()
        with pytest.raises(ConflictError, match=f"after {MAX_CREATE_ATTEMPTS} attempts"):
            create_container(client, pod, spec, container, "pod", lambda m: None)  # type: ignore[arg-type]
        # random.uniform(0.05, 0.2) * 2**attempt after each of the 5 attempts, as always.
        assert slept == pytest.approx(expected)
    assert client.writes == 15


class _LostStream:
    """An attach stream that drops at once, without a status (a broken connection)."""

    status = None
    lost = True

    def close(self) -> None:
        pass


class _ReattachClient:
    """The first attach works and drops; every re-attach finds the API server unreachable."""

    def __init__(self, pod: dict[str, Any]) -> None:
        self.pod = pod
        self.attaches = 0

    def attach(self, *args: Any, **kwargs: Any) -> _LostStream:
        self.attaches += 1
        if self.attaches == 1:
            return _LostStream()
        raise UnreachableError("connection to https://127.0.0.1:6443 refused")

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self.pod


class _Monitor:
    gone = None

    def follow(self, stream: Any) -> None:
        pass


def test_reattach_pauses_half_a_second_doubling_and_gives_up_after_five(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from podscope.errors import StreamLostError
    from podscope.session import attach as attach_module
    from podscope.terminal.pump import LocalIO, PumpResult

    pod: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "ns", "uid": "u1"},
        "spec": {"ephemeralContainers": [{"name": "dbg", "image": "busybox"}]},
        "status": {
            "phase": "Running",
            "ephemeralContainerStatuses": [{"name": "dbg", "state": {"running": {}}}],
        },
    }
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(attach_module, "pump", lambda *a, **k: PumpResult())
    client = _ReattachClient(pod)
    messages: list[str] = []
    with pytest.raises(StreamLostError) as caught:
        attach_module._attached_session(
            client,  # type: ignore[arg-type]
            pod,
            "dbg",
            attach_module.StreamMode(stdin=False, tty=False, hint=False),
            io=LocalIO(None, None, None),  # type: ignore[arg-type]
            report=messages.append,
            close_on_eof=False,
            monitor=_Monitor(),  # type: ignore[arg-type]
        )
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert caught.value.message == (
        "lost the connection to container dbg and could not re-attach after 5 attempts "
        "(connection to https://127.0.0.1:6443 refused)"
    )
    assert messages[0] == "connection to container dbg lost; re-attaching"
    assert (
        messages.count(
            "re-attaching to dbg failed (connection to https://127.0.0.1:6443 refused); retrying"
        )
        == 5
    )
    assert client.attaches == 6


def test_apply_conflicts_pause_as_the_create_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from podscope.rules.documents import parse_document
    from podscope.session import apply as apply_module

    pod: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "ns", "resourceVersion": "1"},
        "spec": {"containers": [{"name": "app", "image": "app"}]},
        "status": {"phase": "Running"},
    }
    document = parse_document("- name: dbg\n  image: busybox\n", "list.yaml", pod="web")
    plan = apply_module._plan(pod, document, "web")
    client = _RacingClient(pod)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    random.seed(5)
    expected = [random.uniform(0.05, 0.2) * 2**attempt for attempt in range(5)]
    random.seed(5)
    with pytest.raises(ConflictError, match=f"after {apply_module.MAX_APPLY_ATTEMPTS} attempts"):
        apply_module._send(
            client,  # type: ignore[arg-type]
            "web",
            pod,
            document,
            plan,
            "pod",
            False,
            lambda m: None,
        )
    assert client.writes == 5
    assert slept == pytest.approx(expected)
