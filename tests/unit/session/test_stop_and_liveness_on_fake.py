"""``podscope stop`` and the debugger states ``ls`` shows, on the in-memory API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podscope.errors import NotFoundError, PodscopeError, UsageError
from podscope.rules.requests import DebugRequest, ListRequest, StopRequest
from podscope.session.debugger import StopResult, run_stop
from podscope.session.ephemeral import run_debug
from podscope.session.listing import run_list
from tests.unit.fakekube import FakeKube, install_clock
from tests.unit.session.conftest import Messages, session_io
from tests.unit.session.debugger_runtime import Runtime


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    kube.running_pod("web")
    yield kube
    kube.close()


def _debugger(fake: FakeKube, messages: Messages, **fields: object) -> str:
    request = DebugRequest(pod="web", image="busybox:1", command=("true",), **fields)  # type: ignore[arg-type]
    return run_debug(fake, request, session_io(messages)).container


def _stop(fake: FakeKube, messages: Messages, **fields: object) -> StopResult:
    return run_stop(fake, StopRequest(pod="web", **fields), session_io(messages))  # type: ignore[arg-type]


def _state(fake: FakeKube, name: str) -> dict[str, object]:
    statuses = fake.pod("web")["status"]["ephemeralContainerStatuses"]
    return next(s for s in statuses if s["name"] == name)["state"]


# -- stop -------------------------------------------------------------------------------------


def test_stop_ends_the_one_debugger_and_waits_for_the_kubelet(
    fake: FakeKube, messages: Messages
) -> None:
    Runtime(fake)
    name = _debugger(fake, messages)
    messages.clear()
    result = _stop(fake, messages)
    assert (result.stopped, result.already_ended) == ([name], [])
    assert "terminated" in _state(fake, name)
    assert messages[-1].startswith(f"stopped debugger {name}; it stays in Pod web")


def test_a_stopped_debugger_gives_its_place_to_a_new_one(
    fake: FakeKube, messages: Messages
) -> None:
    Runtime(fake)
    name = _debugger(fake, messages)
    _stop(fake, messages)
    assert _debugger(fake, messages) == f"{name}-2"


def test_stop_with_no_running_debugger_does_nothing(fake: FakeKube, messages: Messages) -> None:
    result = _stop(fake, messages)
    assert (result.stopped, result.already_ended) == ([], [])
    assert messages == ["Pod web has no running debugger: nothing to stop"]
    assert "exec" not in fake.methods()


def test_several_debuggers_need_a_name_or_all(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    first = _debugger(fake, messages)
    second = _debugger(fake, messages, new=True)
    with pytest.raises(UsageError, match="has 2 running debuggers") as info:
        _stop(fake, messages)
    assert info.value.remedy == "name one with -c NAME, or stop them all with --all"
    assert "exec" not in [c[0] for c in fake.calls if "podscope-stop" in c[3]]
    result = _stop(fake, messages, all_debuggers=True)
    assert sorted(result.stopped) == sorted([first, second])


def test_stop_one_by_name(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    first = _debugger(fake, messages)
    second = _debugger(fake, messages, new=True)
    assert _stop(fake, messages, container=first).stopped == [first]
    assert "running" in _state(fake, second)


def test_a_debugger_already_ended_is_said_so(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    name = _debugger(fake, messages)
    runtime.end("web", name, report=True)
    result = _stop(fake, messages, container=name)
    assert (result.stopped, result.already_ended) == ([], [name])
    assert messages[-1].startswith(f"debugger {name} had already ended (terminated")


def test_a_debugger_ended_before_the_kubelet_said_so(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    name = _debugger(fake, messages)
    runtime.end("web", name)  # the exec is refused: nothing runs there any more
    result = _stop(fake, messages)
    assert result.already_ended == [name]
    assert messages[-1] == f"debugger {name} had already ended"


def test_a_debugger_whose_pull_failed_is_not_called_ended(
    fake: FakeKube, messages: Messages
) -> None:
    Runtime(fake, refusals=10**6, report_start=False)
    with pytest.raises(PodscopeError):
        _debugger(fake, messages, timeout=1)
    name = fake.newest_ephemeral("web")
    fake.kubelet.fail_pull("web", name, "busybox:1")
    result = _stop(fake, messages)
    assert (result.stopped, result.already_ended, result.not_started) == ([], [], [name])
    assert messages[-1] == (
        f"debugger {name} has not started (ErrImagePull): there is no process to "
        "stop; if the kubelet starts it later, it ends after its TTL without a session"
    )


def test_a_stop_the_kubelet_never_reports_is_an_error(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    name = _debugger(fake, messages)
    # The holder takes the signal, but the kubelet never reports the container ended.
    fake.programs["*"] = lambda command, stdin: (b"", b"", 0)
    with pytest.raises(PodscopeError, match="has not reported it ended within 2s") as info:
        _stop(fake, messages, timeout=2)
    assert info.value.remedy == "check with: podscope ls web -n default"
    assert "running" in _state(fake, name)


def test_stop_of_an_unknown_or_foreign_container_is_refused(
    fake: FakeKube, messages: Messages
) -> None:
    with pytest.raises(NotFoundError, match="Pod web has no container named nope"):
        _stop(fake, messages, container="nope")
    with pytest.raises(UsageError, match="container app is not a podscope debugger"):
        _stop(fake, messages, container="app")


# -- ls: each debugger's state, asked of its holder --------------------------------------------


def _debugger_column(fake: FakeKube) -> dict[str, str | None]:
    rows = run_list(fake, ListRequest(pod="web"), session_io(Messages()))
    return {row.name: row.debugger for row in rows}


def test_ls_shows_idle_live_stopped_and_expired_debuggers(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    idle = _debugger(fake, messages)
    live = _debugger(fake, messages, new=True)
    stopped = _debugger(fake, messages, new=True)
    expired = _debugger(fake, messages, new=True)
    runtime.live.add(("web", live))
    _stop(fake, messages, container=stopped)
    runtime.end("web", expired, report=True)
    assert _debugger_column(fake) == {
        idle: "idle, expires in 14m",
        live: "live",
        stopped: "stopped",
        expired: "expired",
    }


def test_ls_of_a_starting_or_failed_debugger(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    starting = _debugger(fake, messages)
    failed = _debugger(fake, messages, new=True)
    fake.kubelet.waiting("web", starting, "ContainerCreating")
    fake.kubelet.fail_create(
        "web", failed, 'exec: "sh": executable file not found in $PATH: unknown'
    )
    column = _debugger_column(fake)
    assert column[starting] == "starting (ContainerCreating)"
    assert column[failed] == "failed (CreateContainerError)"


def test_ls_when_the_holder_cannot_be_asked(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    name = _debugger(fake, messages)
    fake.programs["*"] = lambda command, stdin: (b"", b"", 1)
    assert _debugger_column(fake)[name] == "running (state unknown)"
