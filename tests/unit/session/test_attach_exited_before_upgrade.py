"""An attach refused at the upgrade because the command just exited (a 1.21 kubelet's answer)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from podscope.errors import PodscopeError
from podscope.kube.queries import LogQuery
from podscope.session import attach
from podscope.terminal.pump import LocalIO

NOT_FOUND = (
    "the API server failed to create pods/attach (HTTP 500): container dbg not found in pod "
    "web_default"
)


def pod(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "1"},
        "spec": {"containers": [{"name": "web"}], "ephemeralContainers": [{"name": "dbg"}]},
        "status": {
            "phase": "Running",
            "ephemeralContainerStatuses": [{"name": "dbg", "state": state}],
        },
    }


RUNNING = pod({"running": {"startedAt": "t"}})
DONE = pod({"terminated": {"exitCode": 3, "reason": "Error"}})


class FakeClient:
    namespace = "default"

    def __init__(self, later: dict[str, Any], message: str = NOT_FOUND) -> None:
        self.later = later
        self.message = message

    def attach(self, *args: Any, **kwargs: Any) -> Any:
        raise PodscopeError(self.message)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return RUNNING  # the kubelet has not reported the exit yet

    def watch_pod(self, *args: Any, **kwargs: Any) -> Any:
        yield "MODIFIED", self.later

    def read_log(self, query: LogQuery) -> bytes:
        return b"the output\n" if query.stream == "Stdout" else b""


class NoMonitor:
    gone = None

    def follow(self, stream: Any) -> None:
        pass


def session(client: FakeClient, out: io.BytesIO) -> attach.StreamOutcome:
    return attach._attached_session(
        client,  # type: ignore[arg-type]
        RUNNING,
        "dbg",
        attach.StreamMode(stdin=False, tty=False, hint=False),
        io=LocalIO(None, out, io.BytesIO()),
        report=lambda message: None,
        close_on_eof=False,
        monitor=NoMonitor(),  # type: ignore[arg-type]
    )


def test_a_not_found_upgrade_waits_for_the_exit_and_shows_the_log() -> None:
    out = io.BytesIO()
    outcome = session(FakeClient(DONE), out)
    assert outcome.attached is False and outcome.progress.state == "terminated"
    assert out.getvalue() == b"the output\n"


def test_other_refusals_and_a_container_that_keeps_running_still_fail() -> None:
    with pytest.raises(PodscopeError, match="not found"):
        session(FakeClient(RUNNING), io.BytesIO())
    with pytest.raises(PodscopeError, match="forbidden"):
        session(FakeClient(DONE, message="pods/attach is forbidden"), io.BytesIO())
