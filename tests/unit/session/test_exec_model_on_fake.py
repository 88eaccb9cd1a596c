"""The exec model on the in-memory API server: ``podscope debug POD -- CMD`` adds a debugger
once, execs every command into it, and takes the exit code from the exec stream."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest

from podscope.errors import (
    ExitCode,
    PodscopeError,
    StartFailedError,
    StreamLostError,
    WaitTimeoutError,
)
from podscope.rules.debugger import HOLDER_NAME, key_of, ttl_of
from podscope.rules.requests import DebugRequest
from podscope.session.ephemeral import DebugResult, run_debug
from podscope.session.exec_session import START_RETRY_DELAYS
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube, Raise, install_clock
from tests.unit.session.conftest import Messages, session_io
from tests.unit.session.debugger_runtime import Runtime


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    """The fake API server, its clock also driving the exec model's retries."""
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    kube.running_pod("web")
    yield kube
    kube.close()


def _local(stdin: int | None = None) -> LocalIO:
    return LocalIO(stdin=stdin, stdout=io.BytesIO(), stderr=io.BytesIO())


def _out(local: LocalIO) -> bytes:
    out = local.stdout
    assert isinstance(out, io.BytesIO)
    return out.getvalue()


def _debug(
    fake: FakeKube, messages: Messages, local: LocalIO | None = None, **fields: Any
) -> DebugResult:
    fields.setdefault("command", ("ps",))
    request = DebugRequest(pod="web", image="busybox:1", **fields)
    return run_debug(fake, request, session_io(messages, local))


def _debuggers(fake: FakeKube) -> list[dict[str, Any]]:
    return [
        c for c in fake.pod("web")["spec"].get("ephemeralContainers") or [] if key_of(c) is not None
    ]


# -- create, reuse, ttl -----------------------------------------------------------------------


def test_a_command_adds_a_debugger_and_exits_with_the_commands_code(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, session=lambda pod, name, words, stdin: (b"out\n", b"", 3))
    local = _local()
    result = _debug(fake, messages, local, command=("sh", "-c", "exit 3"))
    assert (result.model, result.created, result.exit_code) == ("exec", True, 3)
    (debugger,) = _debuggers(fake)
    assert debugger["name"] == result.container
    assert debugger["command"][3] == HOLDER_NAME and ttl_of(debugger) == 15 * 60
    assert runtime.sessions == [("web", result.container, ["sh", "-c", "exit 3"], b"")]
    assert _out(local) == b"out\n"
    assert any(m.startswith(f"created debugger {result.container}") for m in messages)
    assert "ends after 15m without a session" in messages.text()


def test_a_command_that_succeeds_exits_0(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    assert _debug(fake, messages).exit_code == 0


def test_the_next_command_reuses_the_live_debugger(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages)
    second = _debug(fake, messages, command=("id",))
    assert (second.created, second.container) == (False, first.container)
    assert len(_debuggers(fake)) == 1
    assert [s[2] for s in runtime.sessions] == [["ps"], ["id"]]
    assert f"using debugger {first.container} (same image, target, profile and user)" in messages


def test_new_adds_another_debugger_next_to_the_live_one(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    first = _debug(fake, messages)
    second = _debug(fake, messages, new=True)
    assert second.created and second.container != first.container
    assert len(_debuggers(fake)) == 2


def test_another_image_gets_its_own_debugger(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    first = _debug(fake, messages)
    request = DebugRequest(pod="web", image="alpine:3", command=("ps",))
    second = run_debug(fake, request, session_io(messages))
    assert second.created and second.container != first.container


def test_the_ttl_is_the_holders_and_said(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    result = _debug(fake, messages, ttl="90s")
    (debugger,) = _debuggers(fake)
    assert ttl_of(debugger) == 90
    assert f"created debugger {result.container} (image busybox:1, ends after 1m30s" in (
        messages.text()
    )


def test_a_reused_debugger_keeps_its_ttl_and_a_different_ttl_says_so(
    fake: FakeKube, messages: Messages
) -> None:
    Runtime(fake)
    first = _debug(fake, messages)
    _debug(fake, messages, ttl="15m")  # the TTL it has: nothing to say
    _debug(fake, messages)  # no --ttl: nothing to say
    assert "keeps its TTL" not in messages.text()
    second = _debug(fake, messages, ttl="2h")
    assert second.container == first.container and len(_debuggers(fake)) == 1
    assert (
        f"debugger {first.container} keeps its TTL of 15m: --ttl applies to a new debugger "
        "(add --new for one)" in messages
    )


# -- a new debugger: execs refused until the runtime starts it --------------------------------


def test_execs_refused_before_the_runtime_starts_it_are_retried(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, refusals=3, report_start=False)
    result = _debug(fake, messages)
    assert result.exit_code == 0
    assert runtime.refused == {("web", result.container): 3}
    assert len(runtime.sessions) == 1  # the command ran once
    assert fake.clock.slept[:3] == list(START_RETRY_DELAYS[:3])


def test_a_debugger_that_never_starts_ends_at_the_timeout(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, refusals=10**6, report_start=False)
    with pytest.raises(WaitTimeoutError) as info:
        _debug(fake, messages, timeout=5)
    name = fake.newest_ephemeral("web")
    assert info.value.message == f"debugger {name} in Pod web did not start within 5s"
    assert "stays in the Pod" in str(info.value.remedy)
    assert runtime.sessions == []


def test_a_failed_pull_ends_the_session_before_the_timeout(
    fake: FakeKube, messages: Messages
) -> None:
    def pull_fails(pod: str, name: str, count: int) -> None:
        if count == 1:
            fake.kubelet.fail_pull(pod, name, "busybox:1")

    Runtime(fake, refusals=10**6, report_start=False, on_refusal=pull_fails, pause=0.005)
    with pytest.raises(StartFailedError) as info:
        _debug(fake, messages)
    assert not isinstance(info.value, WaitTimeoutError)
    assert "ErrImagePull" in info.value.message
    assert info.value.exit_code == ExitCode.START_FAILED


def test_a_holder_that_ends_at_once_is_reported(fake: FakeKube, messages: Messages) -> None:
    def ends(pod: str, name: str, count: int) -> None:
        if count == 1:
            fake.kubelet.terminate(pod, name, 1, message="boom")

    Runtime(fake, refusals=10**6, report_start=False, on_refusal=ends, pause=0.005)
    with pytest.raises(StartFailedError, match=r"ended at once \(.*: boom\)"):
        _debug(fake, messages)


def test_an_image_without_sh_falls_back_to_the_attach_model(
    fake: FakeKube, messages: Messages
) -> None:
    def no_sh(pod: str, name: str, count: int) -> None:
        if count == 1:
            fake.kubelet.fail_create(
                pod, name, 'exec: "sh": executable file not found in $PATH: unknown'
            )

    Runtime(fake, refusals=10**6, report_start=False, on_refusal=no_sh, pause=0.005)
    fake.when_idle(lambda: fake.kubelet.terminate("web", fake.newest_ephemeral("web"), 0))
    result = _debug(fake, messages, container=None)
    assert result.model == "attach"
    assert "has no sh to hold a debugger open" in messages.text()
    assert "using the attach model (the container runs the command)" in messages.text()
    # The next request does not try the same image's debugger again.
    messages.clear()
    fake.when_idle(lambda: fake.kubelet.terminate("web", fake.newest_ephemeral("web"), 0))
    assert _debug(fake, messages).model == "attach"
    assert "cannot hold a debugger open" in messages.text()


# -- a debugger gone between sessions ---------------------------------------------------------


def test_a_debugger_ended_before_the_kubelet_says_so_is_replaced(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages)
    runtime.end("web", first.container)  # its TTL ran out; the Pod still says running
    second = _debug(fake, messages)
    assert second.created and second.container != first.container
    assert (
        f"debugger {first.container} has ended (its main process is gone); adding a new one"
        in messages
    )
    assert [s[1] for s in runtime.sessions] == [first.container, second.container]


def test_a_reused_debugger_that_ends_before_it_is_reported_running_is_replaced(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, report_start=False)
    first = _debug(fake, messages)
    # Never reported running, the debugger is reused unconfirmed: the next command waits for
    # it to start, and its first refused exec is when the kubelet reports it ended.
    runtime.states[("web", first.container)] = "pending"
    runtime.refusals, runtime.pause = 1, 0.2

    def ends(pod: str, name: str, count: int) -> None:
        if name == first.container:
            fake.kubelet.terminate(pod, name, 0)

    runtime.on_refusal = ends
    second = _debug(fake, messages)
    assert second.created and second.container != first.container
    assert (
        f"debugger {first.container} has ended (its main process is gone); adding a new one"
        in messages
    )
    assert [s[1] for s in runtime.sessions] == [first.container, second.container]


def test_a_debugger_reported_ended_is_not_reused(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    first = _debug(fake, messages)
    runtime.end("web", first.container, report=True)
    second = _debug(fake, messages)
    assert second.created and second.container == f"{first.container}-2"
    assert not any("has ended" in m for m in messages)


def test_debuggers_that_keep_ending_give_up(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    names = [_debug(fake, messages, new=True).container for _ in range(3)]
    for name in names:
        runtime.end("web", name)
    with pytest.raises(StreamLostError, match="kept ending before a command could run"):
        _debug(fake, messages)
    assert len(_debuggers(fake)) == 3  # nothing was added for the three that were gone


# -- the stream -------------------------------------------------------------------------------


def test_a_failure_status_on_the_stream_is_a_lost_stream(
    fake: FakeKube, messages: Messages
) -> None:
    failure = {"metadata": {}, "status": "Failure", "message": "error: runtime says no"}
    Runtime(fake, session=lambda pod, name, words, stdin: (b"", b"", failure))
    with pytest.raises(StreamLostError, match="failed: error: runtime says no"):
        _debug(fake, messages)


def test_a_command_is_not_run_twice_when_its_connection_drops(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, session=lambda pod, name, words, stdin: (b"part", b"", None))
    with pytest.raises(StreamLostError, match="a command is not run twice"):
        _debug(fake, messages)
    assert len(runtime.sessions) == 1


def _pipe(data: bytes) -> int:
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


def test_piped_input_waits_for_the_debugger_and_is_sent_once(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake, refusals=2, report_start=False)
    stdin = _pipe(b"echo hi\n")
    try:
        local = _local(stdin)
        result = _debug(fake, messages, local, command=(), stdin=True)
    finally:
        os.close(stdin)
    assert result.exit_code == 0
    assert [(s[2], s[3]) for s in runtime.sessions] == [(["sh"], b"echo hi\n")]
    assert _out(local) == b"web: sh\necho hi\n"
    assert messages[-1].startswith(f"session ended; debugger {result.container} stays")


def test_a_dropped_shell_is_replaced_in_the_same_debugger(
    fake: FakeKube, messages: Messages
) -> None:
    answers: list[int | None] = [None, 0]

    def shell(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        return b"$ ", b"", answers.pop(0)

    runtime = Runtime(fake, session=shell)
    stdin = _pipe(b"")
    try:
        result = _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True)
    finally:
        os.close(stdin)
    assert result.exit_code == 0 and result.created
    assert [s[1] for s in runtime.sessions] == [result.container] * 2
    assert any(m.startswith(f"connection to debugger {result.container} lost") for m in messages)
    assert f"new shell started in debugger {result.container}" in messages


def test_no_reconnect_ends_a_dropped_shell(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake, session=lambda pod, name, words, stdin: (b"", b"", None))
    stdin = _pipe(b"")
    try:
        with pytest.raises(StreamLostError, match="--no-reconnect"):
            _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True, reconnect=False)
    finally:
        os.close(stdin)
    assert len(runtime.sessions) == 1


def test_a_shell_whose_debugger_ended_is_not_replaced(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)

    def dies(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        runtime.end(pod, name, report=True, code=137)
        return b"", b"", None

    runtime.session = dies
    stdin = _pipe(b"")
    try:
        with pytest.raises(StreamLostError, match="lost and the debugger has ended"):
            _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True)
    finally:
        os.close(stdin)


# -- refusals before anything is written ------------------------------------------------------


def test_exec_denied_by_rbac_uses_the_attach_model_without_a_debugger(
    fake: FakeKube, messages: Messages
) -> None:
    fake.denied.add(("get", "pods", "exec"))
    fake.programs["*"] = lambda command, stdin: (b"", b"", 0)
    fake.when_idle(lambda: fake.kubelet.terminate("web", fake.newest_ephemeral("web"), 0))
    result = _debug(fake, messages)
    assert result.model == "attach"
    assert _debuggers(fake) == []
    assert (
        "RBAC does not allow get on pods/exec here (an exec needs it): using the attach model "
        "(the container runs the command)" in messages
    )


def test_ctrl_c_in_the_session_says_the_debugger_stays(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    fake.fail("exec", Raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _debug(fake, messages)
    name = fake.newest_ephemeral("web")
    assert messages[-1] == (
        f"interrupted: debugger {name} was created and stays in Pod web; it ends after 15m "
        f"without a session, or with: podscope stop web -c {name} -n default"
    )


def test_a_refused_exec_that_is_no_start_refusal_is_an_error(
    fake: FakeKube, messages: Messages
) -> None:
    from tests.unit.fakekube import Http

    Runtime(fake)
    fake.fail("exec", Http(500, "etcd is down"))
    with pytest.raises(PodscopeError, match="etcd is down"):
        _debug(fake, messages)


# -- concurrent creators ----------------------------------------------------------------------


def test_a_lost_answer_to_the_create_finds_its_own_debugger(
    fake: FakeKube, messages: Messages
) -> None:
    from tests.unit.fakekube import LostAnswer

    Runtime(fake)
    fake.fail("patch_ephemeral_containers", LostAnswer())
    result = _debug(fake, messages)
    assert result.created and len(_debuggers(fake)) == 1
    assert any(m.startswith("no answer to the create request") for m in messages)


def test_a_debugger_another_podscope_adds_at_the_same_moment_is_joined(
    fake: FakeKube, messages: Messages
) -> None:
    import copy

    runtime = Runtime(fake)
    send = fake.patch_ephemeral_containers
    raced = []

    def racing(namespace: str, name: str, body: dict[str, Any], *args: Any, **kw: Any) -> Any:
        if not raced:
            # The other podscope's write (the same debugger, its own nonce) lands first.
            other = copy.deepcopy(body)
            for container in other["spec"]["ephemeralContainers"]:
                for env in container["env"]:
                    if env["name"] == "PODSCOPE_DEBUGGER":
                        env["value"] = env["value"].split("/")[0] + "/other"
            raced.append(send(namespace, name, other, *args, **kw))
        return send(namespace, name, body, *args, **kw)

    fake.patch_ephemeral_containers = racing  # type: ignore[method-assign]
    result = _debug(fake, messages)
    assert not result.created and len(_debuggers(fake)) == 1
    assert f"debugger {result.container} was just added by another podscope; using it" in messages
    assert runtime.sessions == [("web", result.container, ["ps"], b"")]


def test_a_named_debugger_whose_name_is_taken_is_refused_before_the_write(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import ValidationError

    Runtime(fake)
    with pytest.raises(ValidationError, match='Duplicate value: "app"') as info:
        _debug(fake, messages, container="app")
    assert "choose another name" in str(info.value.remedy)
    assert "patch_ephemeral_containers" not in fake.methods()


def test_a_debugger_named_with_c_is_used(fake: FakeKube, messages: Messages) -> None:
    runtime = Runtime(fake)
    name = _debug(fake, messages).container
    messages.clear()
    again = _debug(fake, messages, container=name, command=("id",))
    assert (again.container, again.created) == (name, False)
    assert f"using debugger {name} (named with -c)" in messages
    assert len(_debuggers(fake)) == 1
    assert runtime.sessions[-1] == ("web", name, ["id"], b"")


def test_a_debugger_named_with_c_made_with_other_options_is_refused(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import UsageError

    Runtime(fake)
    name = _debug(fake, messages).container
    with pytest.raises(UsageError) as info:
        run_debug(
            fake,
            DebugRequest(pod="web", image="busybox:2", command=("ps",), container=name),
            session_io(messages),
        )
    assert info.value.message == (
        f"debugger {name} in Pod web was made with other options than this command gives "
        "(they differ in image)"
    )
    assert "podscope ls web -o yaml" in str(info.value.remedy)
    assert len(_debuggers(fake)) == 1


def test_a_debugger_named_with_c_that_has_ended_is_refused(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import UsageError

    runtime = Runtime(fake)
    name = _debug(fake, messages).container
    runtime.end("web", name, report=True)
    with pytest.raises(UsageError, match=f"debugger {name} in Pod web has ended"):
        _debug(fake, messages, container=name)
    runtime.end("web", name)
    assert len(_debuggers(fake)) == 1


def test_a_named_debugger_whose_name_is_taken_meanwhile_is_refused(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import ValidationError

    Runtime(fake)
    send = fake.patch_ephemeral_containers
    plain = {"name": "dbg", "image": "busybox:1", "command": ["sleep", "1d"]}
    raced = []

    def racing(namespace: str, name: str, body: dict[str, Any], *args: Any, **kw: Any) -> Any:
        if not raced:
            # kubectl debug adds a container of that name between podscope's read and write.
            raced.append(send(namespace, name, {"spec": {"ephemeralContainers": [plain]}}, "pod"))
        return send(namespace, name, body, *args, **kw)

    fake.patch_ephemeral_containers = racing  # type: ignore[method-assign]
    with pytest.raises(ValidationError, match="Pod web already has a container named dbg"):
        _debug(fake, messages, container="dbg")
    assert _debuggers(fake) == []


# -- older servers, refusals at the upgrade, the Pod during the session -----------------------


def test_a_kubelet_refusing_the_upgrade_itself_is_retried(
    fake: FakeKube, messages: Messages
) -> None:
    from tests.unit.fakekube import Http

    runtime = Runtime(fake)
    # A 1.21 kubelet answers the upgrade with HTTP 500 until the runtime has the container.
    refused = Http(500, 'container not found ("debugger")')
    fake.fail("exec", refused, refused)
    assert _debug(fake, messages).exit_code == 0
    assert len(runtime.sessions) == 1
    assert fake.methods().count("exec") == 3


def test_piped_input_waits_through_upgrade_refusals_too(fake: FakeKube, messages: Messages) -> None:
    from tests.unit.fakekube import Http

    runtime = Runtime(fake)
    fake.fail("exec", Http(500, 'container not found ("debugger")'))
    stdin = _pipe(b"data")
    try:
        _debug(fake, messages, _local(stdin), command=("cat",), stdin=True)
    finally:
        os.close(stdin)
    assert [(s[2], s[3]) for s in runtime.sessions] == [(["cat"], b"data")]


@pytest.mark.parametrize("stdin", [False, True])
def test_exec_refused_by_the_api_server_falls_back_to_the_attach_model(
    fake: FakeKube, messages: Messages, stdin: bool
) -> None:
    from tests.unit.fakekube import Http

    Runtime(fake)
    fake.fail("exec", Http(403, "pods/exec is forbidden"))
    fake.when_idle(lambda: fake.kubelet.terminate("web", fake.newest_ephemeral("web"), 0))
    pipe = _pipe(b"") if stdin else None
    try:
        result = _debug(fake, messages, _local(pipe), stdin=stdin)
    finally:
        if pipe is not None:
            os.close(pipe)
    assert result.model == "attach"
    assert any(m.startswith("exec is not allowed here (") for m in messages)


def test_a_new_shell_that_cannot_be_started_at_once_is_retried(
    fake: FakeKube, messages: Messages
) -> None:
    from tests.unit.fakekube import Unreachable

    answers: list[int | None] = [None, 0]

    def shell(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        if answers[0] is None:
            # The network is still out: for the exec that ends the old shell, then for the
            # new shell's first try.
            fake.fail("exec", Unreachable("connection reset"), Unreachable("connection reset"))
        return b"", b"", answers.pop(0)

    runtime = Runtime(fake, session=shell)
    stdin = _pipe(b"")
    try:
        result = _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True)
    finally:
        os.close(stdin)
    assert result.exit_code == 0 and len(runtime.sessions) == 2
    assert any(
        m.startswith(f"starting a new shell in {result.container} failed (") and "retrying" in m
        for m in messages
    )


def test_a_dropped_connection_ends_the_old_shell_and_the_new_one_has_its_own_id(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.rules.debugger import SESSION_NAME

    answers: list[int | None] = [None, 0]  # the first shell's connection is lost

    def shell(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        return b"", b"", answers.pop(0)

    Runtime(fake, session=shell)
    stdin = _pipe(b"")
    try:
        result = _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True)
    finally:
        os.close(stdin)
    assert result.exit_code == 0
    roles = [(s._command[3], s._command[4]) for s in fake.sockets if len(s._command) > 4]
    shells = [marker for role, marker in roles if role == SESSION_NAME]
    assert len(shells) == 2 and shells[0] != shells[1]
    # Ended before the new shell was started: by its own id, which the new one does not share.
    assert roles.index(("podscope-end-session", shells[0])) < roles.index((SESSION_NAME, shells[1]))


def test_the_pods_deletion_during_the_session_is_the_error(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import PodGoneError

    def deleted(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        fake.kubelet.delete_pod(pod)
        return b"", b"", 137  # the runtime killed the session with the Pod

    Runtime(fake, session=deleted)
    with pytest.raises(PodGoneError, match="Pod web was deleted during the session"):
        _debug(fake, messages)


def test_a_session_killed_with_its_target_says_why(fake: FakeKube, messages: Messages) -> None:
    def killed(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        fake.kubelet.restart(pod, "app", 1)
        return b"", b"", 137

    Runtime(fake, session=killed)
    result = _debug(fake, messages)
    assert result.exit_code == 137
    assert any(
        m.startswith(f"debug container {result.container} was killed with its target: container")
        for m in messages
    )


def test_cd_runs_the_command_in_the_targets_directory_unescaped(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.rules.targetfs import DEBUG_WRAPPER, SCRIPT_NAME

    runtime = Runtime(fake)
    _debug(fake, messages, cd="/etc", command=("cat", "$HOME"))
    ((_, _, words, _),) = runtime.sessions
    # An exec's command is not expanded by the kubelet: the wrapper goes as it is written.
    assert words[:5] == ["sh", "-c", DEBUG_WRAPPER, SCRIPT_NAME, "cd"]
    assert words[5] == "/etc" and words[-2:] == ["cat", "$HOME"]


def test_a_pull_refused_by_the_registry_is_read_from_the_kubelets_event(
    fake: FakeKube, messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    import podscope.session.exec_session as exec_session
    from podscope.errors import PullRefusedError

    monkeypatch.setattr(exec_session, "PULL_EVENT_POLL", 0.001)
    image = "registry.podscope.test/debug/busybox:1"

    def refused(pod: str, name: str, count: int) -> None:
        if count == 1:
            # The kubelet posts the Event now; the Pod's status says it only at its next sync.
            uid = fake.pod(pod)["metadata"]["uid"]
            fake.core_events.append(
                {
                    "metadata": {"namespace": "default"},
                    "reason": "Failed",
                    "message": f'Failed to pull image "{image}": failed to resolve reference '
                    f'"{image}": pulling from host registry.podscope.test failed with status '
                    "code [manifests 1]: 401 Unauthorized",
                    "involvedObject": {
                        "uid": uid,
                        "fieldPath": f"spec.ephemeralContainers{{{name}}}",
                    },
                }
            )

    Runtime(fake, refusals=10**6, report_start=False, on_refusal=refused, pause=0.005)
    request = DebugRequest(pod="web", image=image, command=("ps",))
    with pytest.raises(PullRefusedError) as info:
        run_debug(fake, request, session_io(messages))
    assert "401 Unauthorized" in info.value.message
    assert info.value.registry == "registry.podscope.test"


def test_attach_to_a_debugger_says_how_to_get_a_shell_in_it(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import UsageError
    from podscope.rules.requests import AttachRequest
    from podscope.session.attach import run_attach

    Runtime(fake)
    name = _debug(fake, messages).container
    with pytest.raises(UsageError) as info:
        run_attach(fake, AttachRequest(pod="web", container=name), session_io(messages))
    assert info.value.message == (
        f"container {name} is a podscope debugger: its main process only holds it open, so "
        "there is nothing to attach to"
    )
    assert (
        info.value.remedy == f"open a shell in it with: podscope debug web -n default -c {name} -it"
    )
    assert "attach" not in fake.methods()


def test_a_target_that_is_down_gets_no_new_debugger_but_a_live_one_serves(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.errors import PodStateError

    Runtime(fake)
    live = _debug(fake, messages).container
    fake.kubelet.waiting("web", "app", "CrashLoopBackOff")
    # A live debugger keeps working while the target is down (a shared PID namespace).
    assert _debug(fake, messages).container == live
    writes = fake.methods().count("patch_ephemeral_containers")
    for fields in ({"new": True}, {"attach_mode": True}):
        with pytest.raises(PodStateError, match="target container app of Pod web is not running"):
            _debug(fake, messages, **fields)
    assert fake.methods().count("patch_ephemeral_containers") == writes


# -- a session with input of its own is kept by a second exec ---------------------------------


def _roles(fake: FakeKube) -> list[tuple[str, str, Any]]:
    return [(s._command[3], s._command[4], s) for s in fake.sockets if len(s._command) > 4]


def _closed(socket: Any) -> bool:
    import threading

    pause = threading.Event()
    for _ in range(100):  # the keeper's thread closes it
        if socket.sock is None:
            return True
        pause.wait(0.02)
    return False


def _shell(fake: FakeKube, messages: Messages) -> DebugResult:
    """``debug web -it``, its local input at its end at once."""
    stdin = _pipe(b"")
    try:
        return _debug(fake, messages, _local(stdin), command=(), stdin=True, tty=True)
    finally:
        os.close(stdin)


def test_a_shell_that_ends_as_it_should_tells_its_keeper_done(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.rules.debugger import SESSION_KEEPER_DONE, SESSION_KEEPER_NAME, SESSION_NAME

    Runtime(fake, session=lambda pod, name, words, stdin: (b"$ ", b"", 5))
    result = _shell(fake, messages)
    assert result.exit_code == 5
    roles = _roles(fake)
    (shell,) = [marker for role, marker, _ in roles if role == SESSION_NAME]
    (keeper,) = [(marker, s) for role, marker, s in roles if role == SESSION_KEEPER_NAME]
    assert keeper[0] == shell  # it keeps that shell's session, by its own id
    assert bytes(keeper[1].stdin) == SESSION_KEEPER_DONE and _closed(keeper[1])


def test_a_dropped_shells_keeper_is_dropped_too_and_the_new_shell_has_its_own(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.rules.debugger import SESSION_KEEPER_DONE, SESSION_KEEPER_NAME, SESSION_NAME

    answers: list[int | None] = [None, 0]  # the first shell's connection is lost
    Runtime(fake, session=lambda pod, name, words, stdin: (b"", b"", answers.pop(0)))
    result = _shell(fake, messages)
    assert result.exit_code == 0
    roles = _roles(fake)
    shells = [marker for role, marker, _ in roles if role == SESSION_NAME]
    keepers = [(marker, s) for role, marker, s in roles if role == SESSION_KEEPER_NAME]
    assert [marker for marker, _ in keepers] == shells
    # No "done" for the lost one: its connection's end ends the old shell (as here too).
    assert bytes(keepers[0][1].stdin) == b"" and _closed(keepers[0][1])
    assert bytes(keepers[1][1].stdin) == SESSION_KEEPER_DONE


def test_a_command_with_no_input_of_its_own_has_no_keeper(
    fake: FakeKube, messages: Messages
) -> None:
    from podscope.rules.debugger import SESSION_KEEPER_NAME

    Runtime(fake)
    assert _debug(fake, messages, command=("sleep", "1")).exit_code == 0
    assert not [s for role, _, s in _roles(fake) if role == SESSION_KEEPER_NAME]


# An exception the keeper's thread lets out fails the test, not only warns.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_keeper_that_cannot_be_opened_costs_the_session_nothing(
    fake: FakeKube, messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podscope.errors import ForbiddenError
    from podscope.rules.debugger import SESSION_KEEPER_NAME

    Runtime(fake, session=lambda pod, name, words, stdin: (b"$ ", b"", 0))
    exec_ = fake.exec

    def refusing(query: Any, command: list[str]) -> Any:
        if command[3:4] == [SESSION_KEEPER_NAME]:
            raise ForbiddenError("pods/exec is forbidden")
        return exec_(query, command)

    monkeypatch.setattr(fake, "exec", refusing)
    result = _shell(fake, messages)
    assert result.exit_code == 0
    assert not any("keep" in m for m in messages)
