"""A debugger that ends around a session, on the in-memory API server: one that ended
between the check that it runs and the exec (its TTL ran out), a ``stop`` while a session
runs in it, and a session killed because its debugger was stopped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podscope.errors import StreamLostError, UsageError
from podscope.rules.debugger import GUARD_SIGN, HOLDER_ENV, STOPPED_EXIT, key_of
from podscope.rules.requests import DebugRequest, StopRequest
from podscope.session.debugger import StopResult, run_stop
from podscope.session.ephemeral import DebugResult, run_debug
from tests.unit.fakekube import FakeKube, Http, install_clock
from tests.unit.session.conftest import Messages, session_io
from tests.unit.session.debugger_runtime import Runtime

# runc's answer (through containerd and the kubelet) to an exec into a container whose main
# process has just exited, before the kubelet has noticed.
STOPPED_TEXT = (
    "Internal error occurred: error executing command in container: failed to exec in "
    'container: failed to start exec "4f2a": OCI runtime exec failed: exec failed: cannot '
    "exec in a stopped container: unknown"
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    kube.running_pod("web")
    yield kube
    kube.close()


def _debug(fake: FakeKube, messages: Messages, **fields: Any) -> DebugResult:
    fields.setdefault("command", ("ps",))
    return run_debug(
        fake, DebugRequest(pod="web", image="busybox:1", **fields), session_io(messages)
    )


def _stop(fake: FakeKube, messages: Messages, **fields: Any) -> StopResult:
    return run_stop(fake, StopRequest(pod="web", **fields), session_io(messages))


def _debuggers(fake: FakeKube) -> list[str]:
    return [
        str(c["name"])
        for c in fake.pod("web")["spec"].get("ephemeralContainers") or []
        if key_of(c) is not None
    ]


def _state(fake: FakeKube, name: str) -> dict[str, Any]:
    statuses = fake.pod("web")["status"]["ephemeralContainerStatuses"]
    return dict(next(s for s in statuses if s["name"] == name)["state"])


def _ends_at_the_exec(
    runtime: Runtime,
    first: str,
    text: str = STOPPED_TEXT,
    *,
    status: dict[str, Any] | None = None,
) -> None:
    """The next exec into ``first`` finds its holder just gone: the runtime refuses it (with
    ``text``, or with ``status`` as it stands)."""
    normal = runtime.session

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> Any:
        if name != first:
            return normal(pod, name, words, stdin)
        runtime.end(pod, name)
        failure = {"metadata": {}, "status": "Failure", "reason": "InternalError"}
        return b"", b"", status or {**failure, "message": text, "code": 500}

    runtime.session = session


# -- ended between the check and the exec -------------------------------------------------------


# containerd's answers at later steps of taking a container down (seen on the local cluster).
LATER_TEXTS = (
    "Internal error occurred: error executing command in container: failed to exec in "
    "container: container is in CONTAINER_EXITED state",
    "Internal error occurred: error executing command in container: failed to exec in "
    "container: failed to load task: no running task found: task 19fa not found: not found",
    "Internal error occurred: error executing command in container: failed to exec in "
    'container: failed to create exec "299e": container not created: not found',
    "Internal error occurred: error executing command in container: failed to exec in "
    'container: failed to create exec "c901": task 5e68 not found: not found',
    # runc's own words, through containerd, when the exec comes as its process ends.
    "Internal error occurred: Internal error occurred: error executing command in container: "
    'failed to exec in container: failed to create exec "09cf": cannot exec in a stopped '
    "state: unknown",
    "Internal error occurred: Internal error occurred: error executing command in container: "
    'failed to exec in container: failed to create exec "099d": cannot exec in a deleted '
    "state: unknown",
)


@pytest.mark.parametrize("text", [STOPPED_TEXT, *LATER_TEXTS])
def test_a_debugger_that_ends_as_the_exec_reaches_it_is_replaced_in_one_line(
    fake: FakeKube, messages: Messages, text: str
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    _ends_at_the_exec(runtime, first, text)
    messages.clear()
    second = _debug(fake, messages, command=("echo", "hi"))
    assert second.exit_code == 0 and second.created and second.container != first
    said = [m for m in messages if "has ended" in m]
    assert said == [f"debugger {first} has ended (its main process is gone); adding a new one"]
    assert runtime.sessions[-1][1:3] == (second.container, ["echo", "hi"])


# Refusals seen on the local cluster whose words say nothing known: an empty Status (the API
# server's answer when the kubelet's upgrade failed without one), and containerd's shim going.
UNKNOWN_REFUSALS = (
    {"metadata": {}},
    {
        "metadata": {},
        "status": "Failure",
        "reason": "InternalError",
        "code": 500,
        "message": "Internal error occurred: Internal error occurred: error executing command "
        'in container: failed to exec in container: failed to create exec "b034": ttrpc: '
        "closed: unknown",
    },
)


@pytest.mark.parametrize("status", UNKNOWN_REFUSALS)
@pytest.mark.parametrize("named", [False, True])
def test_a_refusal_in_unknown_words_by_a_debugger_that_has_ended_is_the_same(
    fake: FakeKube, messages: Messages, status: dict[str, Any], named: bool
) -> None:
    # Asked again, the debugger has ended: replaced (or, named, refused by name), not a
    # lost stream.
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    _ends_at_the_exec(runtime, first, status=status)
    if named:
        with pytest.raises(UsageError, match=f"debugger {first} in Pod web has ended"):
            _debug(fake, messages, container=first)
        return
    second = _debug(fake, messages, command=("echo", "hi"))
    assert second.exit_code == 0 and second.created and second.container != first


def test_a_refusal_in_unknown_words_by_a_debugger_that_still_runs_is_a_lost_stream(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    normal = runtime.session
    runtime.session = lambda pod, name, words, stdin: (
        (b"", b"", UNKNOWN_REFUSALS[1]) if name == first else normal(pod, name, words, stdin)
    )
    with pytest.raises(StreamLostError, match="ttrpc: closed"):
        _debug(fake, messages, command=("echo", "hi"))
    assert _debuggers(fake) == [first]


def test_a_debugger_named_with_c_that_ends_as_the_exec_reaches_it_is_refused_by_name(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    _ends_at_the_exec(runtime, first)
    messages.clear()
    with pytest.raises(UsageError) as info:
        _debug(fake, messages, container=first)
    assert info.value.message == (
        f"debugger {first} in Pod web has ended (its main process is gone)"
    )
    assert info.value.exit_code == 2
    assert _debuggers(fake) == [first]  # nothing new was made for it
    assert not any("adding a new one" in m for m in messages)


def test_an_upgrade_refused_because_the_container_stopped_is_the_same(
    fake: FakeKube, messages: Messages
) -> None:
    # A 1.21 kubelet refuses the upgrade itself, with HTTP 500 and the runtime's words.
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    runtime.end("web", first)
    fake.fail("exec", Http(500, STOPPED_TEXT))
    second = _debug(fake, messages)
    assert second.created and second.container != first
    assert f"debugger {first} has ended (its main process is gone); adding a new one" in messages


# -- stop while a session runs ----------------------------------------------------------------


def test_stop_refuses_a_debugger_with_a_running_session_and_names_force(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    name = _debug(fake, messages).container
    runtime.live.add(("web", name))
    for fields in ({}, {"container": name}):
        with pytest.raises(UsageError) as info:
            _stop(fake, messages, **fields)
        assert info.value.message == (
            f"debugger {name} in Pod web has 1 running session: stopping it would kill the session"
        )
        assert info.value.remedy == (
            f"end the session first, or stop it anyway with: podscope stop web -n default "
            f"-c {name} --force"
        )
    assert "running" in _state(fake, name)
    assert not any("podscope-stop" in call[3] for call in fake.calls)
    assert _stop(fake, messages, container=name, force=True).stopped == [name]
    assert "terminated" in _state(fake, name)


def test_stop_all_stops_the_idle_ones_and_says_which_it_left(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    idle = _debug(fake, messages).container
    busy = _debug(fake, messages, new=True).container
    runtime.live.add(("web", busy))
    messages.clear()
    result = _stop(fake, messages, all_debuggers=True)
    assert (result.stopped, result.in_use) == ([idle], [busy])
    assert result.to_dict()["in_use"] == [busy]
    assert (
        f"left debugger {busy} running: it has 1 running session (stop it anyway with: "
        f"podscope stop web -n default -c {busy} --force)"
    ) in messages
    assert "running" in _state(fake, busy) and "terminated" in _state(fake, idle)
    forced = _stop(fake, messages, all_debuggers=True, force=True)
    assert (forced.stopped, forced.in_use) == ([busy], [])


# -- a session killed because its debugger ended ----------------------------------------------


def test_a_session_killed_by_a_stop_of_its_debugger_says_so(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    name = _debug(fake, messages).container

    def stopped_meanwhile(pod: str, name: str, words: list[str], stdin: bytes) -> Any:
        # Another podscope stops the debugger: its holder ends, the runtime kills the rest.
        runtime.end(pod, name)
        fake.kubelet.terminate(pod, name, STOPPED_EXIT, message="stopped")
        return b"", b"", 137

    runtime.session = stopped_meanwhile
    messages.clear()
    result = _debug(fake, messages, command=("sleep", "60"))
    assert result.exit_code == 137
    assert (
        f"debugger {name} was stopped during the session (podscope stop); the command was "
        "killed with it"
    ) in messages
    assert not any("killed with its target" in m for m in messages)


def _expires_as_the_session_begins(
    runtime: Runtime, first: str, message: str = "expired", output: bytes = b""
) -> None:
    """The next session in ``first`` begins as its TTL runs out: its holder ends (saying
    ``message``) and the runtime kills the session, which printed ``output``."""
    normal = runtime.session

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> Any:
        if name != first:
            return normal(pod, name, words, stdin)
        runtime.end(pod, name)
        runtime.fake.kubelet.terminate(pod, name, 0, message=message)
        return output, b"", 137

    runtime.session = session


def test_a_command_the_expiry_guard_kept_from_starting_runs_in_a_new_debugger(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    _expires_as_the_session_begins(runtime, first)
    messages.clear()
    second = _debug(fake, messages, command=("echo", "hi"))
    assert second.exit_code == 0 and second.created and second.container != first
    assert f"debugger {first} has ended (its main process is gone); adding a new one" in messages
    assert [s[1:3] for s in runtime.sessions[-2:]] == [
        (first, ["echo", "hi"]),
        (second.container, ["echo", "hi"]),
    ]


@pytest.mark.parametrize(
    ("message", "output", "old_holder", "why"),
    [
        ("expired unguarded", b"", False, "its holder could not write its guard's file"),
        ("expired", b"partial\n", False, "the command had started: it printed"),
        ("expired", b"", True, "a holder from before the guard"),
    ],
)
def test_a_session_killed_by_an_expiry_without_the_guard_s_word_is_not_run_again(
    fake: FakeKube, messages: Messages, message: str, output: bytes, old_holder: bool, why: str
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages).container
    if old_holder:
        (spec,) = fake._stored("default", "web")["spec"]["ephemeralContainers"]
        script = next(e for e in spec["env"] if e["name"] == HOLDER_ENV)
        script["value"] = script["value"].replace(GUARD_SIGN, "/tmp/.before-the-guard-")
    _expires_as_the_session_begins(runtime, first, message, output)
    messages.clear()
    result = _debug(fake, messages, command=("sh", "-c", "rm /tmp/x"))
    assert result.exit_code == 137, why
    assert len(_debuggers(fake)) == 1, why
    assert (
        f"debugger {first} ended (its TTL ran out) as the session began; the command was "
        "killed with it"
    ) in messages


def test_a_session_killed_while_its_debugger_runs_on_is_not_blamed_on_it(
    fake: FakeKube, messages: Messages
) -> None:
    Runtime(fake, session=lambda pod, name, words, stdin: (b"", b"", 137))
    result = _debug(fake, messages, command=("sh", "-c", "kill -9 $$"))
    assert result.exit_code == 137
    assert not any("during the session" in m for m in messages)


def test_a_killed_session_whose_probe_gets_an_unknown_refusal_reads_the_kubelets_report(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    name = _debug(fake, messages).container

    def stopped_meanwhile(pod: str, name: str, words: list[str], stdin: bytes) -> Any:
        fake.kubelet.terminate(pod, name, STOPPED_EXIT, message="stopped")
        return b"", b"", 137

    runtime.session = stopped_meanwhile

    def program(command: list[str], stdin: bytes) -> Any:
        if command[3:4] == ["podscope-alive"]:
            failure = {"metadata": {}, "status": "Failure", "reason": "InternalError"}
            return b"", b"", {**failure, "message": "a refusal no one has seen yet", "code": 500}
        return runtime(command, stdin)

    fake.programs["*"] = program
    messages.clear()
    assert _debug(fake, messages, command=("sleep", "60")).exit_code == 137
    assert any(m.startswith(f"debugger {name} was stopped during the session") for m in messages)
