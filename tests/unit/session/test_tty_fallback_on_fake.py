"""``-t`` over input that is not a terminal, or with captured output, on the in-memory API
server: as kubectl does, the session goes on without a TTY (so the end of the input ends
it) and says so once, as a warning event; the library prints nothing."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podscope.client import Client, LocalStreams
from podscope.events import EventLog
from podscope.kube.queries import StreamQuery
from podscope.rules.requests import AttachRequest, DebugRequest
from tests.unit.fakekube import FakeKube, install_clock
from tests.unit.session.debugger_runtime import Runtime

NOT_A_TERMINAL = "unable to use a TTY: input is not a terminal; going on without one"
CAPTURED = "unable to use a TTY: the output is captured; going on without one"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeKube]:
    import podscope.kube.config as config
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    monkeypatch.setattr(config, "connect", lambda *args, **kw: kube)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("PODSCOPE_IMAGE", "PODSCOPE_RECORD", "PODSCOPE_RECORD_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    kube.running_pod("web")
    yield kube
    kube.close()


def _queries(fake: FakeKube) -> list[StreamQuery]:
    """Every exec and attach the session opens, as it asked for it."""
    seen: list[StreamQuery] = []
    exec_, attach = fake.exec, fake.attach

    def on_exec(query: StreamQuery, command: list[str]) -> Any:
        seen.append(query)
        return exec_(query, command)

    def on_attach(query: StreamQuery) -> Any:
        seen.append(query)
        return attach(query)

    fake.exec, fake.attach = on_exec, on_attach  # type: ignore[method-assign]
    return seen


def _piped(data: bytes) -> int:
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


def _warnings(log: EventLog) -> list[str]:
    return [event.message for event in log.events if event.kind == "warning"]


def _streams(stdin: int) -> LocalStreams:
    return LocalStreams(stdin=stdin, stdout=io.BytesIO(), stderr=io.BytesIO())


def test_piped_input_runs_the_shell_without_a_tty_and_says_so(fake: FakeKube) -> None:
    Runtime(fake)
    queries = _queries(fake)
    log = EventLog()
    stdin = _piped(b"echo hi\n")
    try:
        with Client(on_event=log) as client:
            request = DebugRequest(pod="web", image="busybox:1", stdin=True, tty=True)
            result = client.debug(request, streams=_streams(stdin))
    finally:
        os.close(stdin)
    assert result.exit_code == 0
    sessions = [q for q in queries if q.stdin]
    assert sessions and not any(q.tty for q in sessions)
    assert _warnings(log) == [NOT_A_TERMINAL]


@pytest.mark.timeout(60)  # with the TTY kept, Ctrl-D is one more byte and the shell waits
def test_captured_output_drops_the_tty_even_over_a_terminal(fake: FakeKube) -> None:
    runtime = Runtime(fake)
    queries = _queries(fake)
    log = EventLog()
    leader, terminal = os.openpty()
    os.write(leader, b"id\n\x04")  # a line, then Ctrl-D: the end of the terminal's input
    try:
        with Client(on_event=log) as client:
            request = DebugRequest(pod="web", image="busybox:1", stdin=True, tty=True)
            result = client.debug(request, streams=_streams(terminal), capture_output=True)
    finally:
        os.close(terminal)
        os.close(leader)
    assert result.exit_code == 0 and result.stdout == b"web: sh\nid\n"
    assert not any(q.tty for q in queries)
    assert _warnings(log) == [CAPTURED]
    assert runtime.sessions[-1][2] == ["sh"]


def test_a_tty_without_stdin_or_without_asking_gives_no_warning(fake: FakeKube) -> None:
    Runtime(fake)
    log = EventLog()
    with Client(on_event=log) as client:
        request = DebugRequest(pod="web", image="busybox:1", command=("ps",))
        client.debug(request, capture_output=True)
    assert _warnings(log) == []


def test_attach_with_a_tty_asked_for_over_piped_input_falls_back_too(fake: FakeKube) -> None:
    queries = _queries(fake)

    def shell(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        # The container's process ends at the end of its input, and the kubelet says so.
        fake.kubelet.terminate("web", "app", 0)
        return stdin, b"", 0

    fake.programs["*"] = shell
    log = EventLog()
    stdin = _piped(b"")
    try:
        with Client(on_event=log) as client:
            request = AttachRequest(pod="web", container="app", stdin=True, tty=True)
            client.attach(request, streams=_streams(stdin))
    finally:
        os.close(stdin)
    assert [q.tty for q in queries] == [False]
    assert _warnings(log) == [NOT_A_TERMINAL]


def test_no_attach_keeps_the_containers_tty_for_a_later_attach(fake: FakeKube) -> None:
    # `debug POD -it --no-attach` from a script: local input is not used, so nothing falls
    # back, and `podscope attach -it` later finds a container with a TTY.
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    log = EventLog()
    stdin = _piped(b"")
    try:
        with Client(on_event=log) as client:
            request = DebugRequest(
                pod="web", image="busybox:1", stdin=True, tty=True, attach=False, container="later"
            )
            result = client.debug(request, streams=_streams(stdin))
    finally:
        os.close(stdin)
    assert result.spec["tty"] is True and result.spec["stdin"] is True
    assert _warnings(log) == []
