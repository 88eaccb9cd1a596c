"""Attached sessions (reconnects, the Pod monitor), apply, ls and cleanup on the in-memory
API server."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from podscope.errors import (
    ConflictError,
    PodGoneError,
    PodscopeError,
    StreamLostError,
    UnreachableError,
    UsageError,
)
from podscope.rules.requests import ApplyRequest, CleanupRequest, ListRequest
from podscope.session.apply import MAX_APPLY_ATTEMPTS, ApplyResult, run_apply
from podscope.session.attach import (
    RECONNECT_ATTEMPTS,
    RECONNECT_BACKOFF,
    StreamMode,
    StreamOutcome,
    stream_container,
)
from podscope.session.cleanup import find_managed, run_cleanup
from podscope.session.listing import run_list
from podscope.session.monitor import SessionMonitor
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube, Http, LostAnswer, Unreachable
from tests.unit.session.conftest import Messages, session_io

DEBUGGER = "dbg"


def _local() -> LocalIO:
    return LocalIO(stdin=None, stdout=io.BytesIO(), stderr=io.BytesIO())


def _running_debugger(fake: FakeKube) -> dict[str, Any]:
    fake.running_pod("web")
    fake.patch_ephemeral_containers(
        "default",
        "web",
        {"spec": {"ephemeralContainers": [{"name": DEBUGGER, "image": "busybox:1"}]}},
        "pod",
    )
    pod = fake.kubelet.start("web", DEBUGGER)
    fake.calls.clear()
    return pod


def _attach(fake: FakeKube, pod: dict[str, Any], messages: Messages, **kw: Any) -> StreamOutcome:
    local = kw.pop("io", _local())
    mode = StreamMode(
        stdin=False,
        tty=False,
        reconnect=kw.pop("reconnect", True),
        pod_may_finish=kw.pop("pod_may_finish", False),
        hint=kw.pop("hint", True),
    )
    assert not kw, kw
    return stream_container(fake, pod, DEBUGGER, session_io(messages, local), mode)


def _output(local: LocalIO) -> bytes:
    return local.stdout.getvalue()  # type: ignore[attr-defined, no-any-return]


# -- attached sessions --------------------------------------------------------------------------


def test_attach_streams_output_and_reports_the_exit_code(
    fake: FakeKube, messages: Messages
) -> None:
    pod = _running_debugger(fake)

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate("web", DEBUGGER, 4)
        return b"hello\n", b"", 4

    fake.programs[DEBUGGER] = program
    local = _local()
    outcome = _attach(fake, pod, messages, io=local)
    assert outcome.attached and outcome.exit_code == 4
    assert _output(local).startswith(b"hello\n")


def test_a_finished_container_shows_its_log(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    pod = fake.kubelet.terminate("web", DEBUGGER, 0)
    fake.logs[("default", "web", DEBUGGER)] = b"done\n"
    local = _local()
    outcome = _attach(fake, pod, messages, io=local)
    assert not outcome.attached and outcome.exit_code == 0
    assert b"done\n" in _output(local)
    assert "attach" not in fake.methods()


def test_a_dropped_stream_is_reattached(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    runs = {"n": 0}

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int | None]:
        runs["n"] += 1
        if runs["n"] == 1:
            return b"first\n", b"", None  # the connection drops
        fake.kubelet.terminate("web", DEBUGGER, 0)
        return b"second\n", b"", 0

    fake.programs[DEBUGGER] = program
    local = _local()
    outcome = _attach(fake, pod, messages, io=local)
    assert outcome.exit_code == 0 and fake.methods().count("attach") == 2
    assert b"first\n" in _output(local) and b"second\n" in _output(local)
    assert f"connection to container {DEBUGGER} lost; re-attaching" in messages
    assert f"re-attached to container {DEBUGGER}" in messages
    assert fake.clock.slept[0] == RECONNECT_BACKOFF.first


def test_a_dropped_stream_without_reconnect_is_lost(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    fake.programs[DEBUGGER] = lambda command, stdin: (b"", b"", None)
    with pytest.raises(StreamLostError, match="--no-reconnect"):
        _attach(fake, pod, messages, reconnect=False)
    assert fake.methods().count("attach") == 1


def test_reattaching_gives_up_after_its_attempts(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    fake.programs[DEBUGGER] = lambda command, stdin: (b"", b"", None)
    with pytest.raises(StreamLostError, match=f"after {RECONNECT_ATTEMPTS} attempts"):
        _attach(fake, pod, messages)


def test_reattach_survives_an_unreachable_server(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    runs = {"n": 0}

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int | None]:
        runs["n"] += 1
        if runs["n"] == 1:
            fake.fail("get_pod", Unreachable())
            fake.fail("attach", Unreachable())
            return b"", b"", None
        fake.kubelet.terminate("web", DEBUGGER, 0)
        return b"back\n", b"", 0

    fake.programs[DEBUGGER] = program
    outcome = _attach(fake, pod, messages)
    assert outcome.exit_code == 0
    assert any(m.startswith("the API server is unreachable (") for m in messages)
    assert any(m.startswith(f"re-attaching to {DEBUGGER} failed (") for m in messages)


def test_a_deleted_pod_ends_the_session(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)

    def program(command: list[str], stdin: bytes) -> None:
        fake.kubelet.delete_pod("web")
        return None  # the stream stays open: only the Pod monitor can end it

    fake.programs[DEBUGGER] = program
    with pytest.raises(PodGoneError, match="Pod web was deleted during the session"):
        _attach(fake, pod, messages)


def test_the_monitor_reports_a_target_restart(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    said = threading.Event()

    def report(message: str) -> None:
        messages.append(message)
        said.set()

    monitor = SessionMonitor(fake, pod, DEBUGGER, report).start()
    try:
        fake.kubelet.restart("web", "app", 137)
        assert said.wait(10)
    finally:
        monitor.stop()
    assert messages == [
        "container app restarted (restart count 1; it stopped with exit code 137, Error); "
        f"debug container {DEBUGGER} is unaffected"
    ]
    assert monitor.gone is None


def test_the_monitor_closes_the_stream_when_the_pod_is_replaced(fake: FakeKube) -> None:
    pod = _running_debugger(fake)
    closed = threading.Event()

    class Stream:
        def close(self) -> None:
            closed.set()

    monitor = SessionMonitor(fake, pod, DEBUGGER, lambda m: None).start()
    try:
        monitor.follow(Stream())
        fake.kubelet.delete_pod("web")
        assert closed.wait(10)
    finally:
        monitor.stop()
    assert isinstance(monitor.gone, PodGoneError)


def test_a_session_shorter_than_the_start_delay_never_opens_a_watch(fake: FakeKube) -> None:
    pod = _running_debugger(fake)
    before = fake.methods().count("watch")
    monitor = SessionMonitor(fake, pod, DEBUGGER, lambda m: None, start_delay=0.3).start()
    monitor.stop()
    monitor._thread.join(5)
    assert not monitor._thread.is_alive()
    assert fake.methods().count("watch") == before


def test_settle_finds_a_deletion_the_watch_has_not_reported(fake: FakeKube) -> None:
    pod = _running_debugger(fake)
    monitor = SessionMonitor(fake, pod, DEBUGGER, lambda m: None, start_delay=60).start()
    try:
        monitor.settle()
        assert monitor.gone is None  # alive: nothing to explain
        fake.kubelet.delete_pod("web")
        monitor.settle()
    finally:
        monitor.stop()
    assert isinstance(monitor.gone, PodGoneError)


def test_settle_finds_a_replaced_pod(fake: FakeKube) -> None:
    pod = _running_debugger(fake)
    monitor = SessionMonitor(fake, pod, DEBUGGER, lambda m: None, start_delay=60).start()
    try:
        fake.kubelet.replace_pod("web")
        monitor.settle()
    finally:
        monitor.stop()
    assert isinstance(monitor.gone, PodGoneError) and "new uid" in monitor.gone.message


def test_a_pod_deleted_during_the_start_delay_is_still_noticed(fake: FakeKube) -> None:
    pod = _running_debugger(fake)
    closed = threading.Event()

    class Stream:
        def close(self) -> None:
            closed.set()

    monitor = SessionMonitor(fake, pod, DEBUGGER, lambda m: None, start_delay=0.3).start()
    try:
        monitor.follow(Stream())
        fake.kubelet.delete_pod("web")  # before the watch opens: replayed from the version
        assert closed.wait(10)
    finally:
        monitor.stop()
    assert isinstance(monitor.gone, PodGoneError)


# -- apply --------------------------------------------------------------------------------------

DOCUMENT = """
apiVersion: v1
kind: EphemeralContainers
metadata:
  name: web
ephemeralContainers:
- name: dbg
  image: busybox:1
  command: [sleep, "3600"]
"""


def _apply(fake: FakeKube, messages: Messages, **options: Any) -> ApplyResult:
    """run_apply with the request built in one place (the request types are being reshaped)."""
    request = ApplyRequest(text=options.pop("text", DOCUMENT), **options)
    return run_apply(fake, request, session_io(messages))


def _names(fake: FakeKube) -> list[str]:
    return [c["name"] for c in fake.pod("web")["spec"].get("ephemeralContainers") or []]


def test_apply_adds_then_is_idempotent(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", "dbg"))
    first = _apply(fake, messages)
    assert first.added == ["dbg"] and first.states == {"dbg": "running"}
    assert first.request is not None and first.request.method == "PATCH"
    fake.calls.clear()
    again = _apply(fake, messages)
    assert again.nothing_to_do and again.unchanged == ["dbg"]
    assert fake.methods() == ["get_pod"]  # nothing sent
    assert _names(fake) == ["dbg"]


def test_apply_server_dry_run_stores_nothing(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    result = _apply(fake, messages, dry_run="server", diff=True)
    assert result.added == ["dbg"] and _names(fake) == []
    assert ("patch_ephemeral_containers", "default", "web", "pod dry-run") in fake.calls
    assert result.diff and "+- name: dbg\n+  image: busybox:1\n" in result.diff


def test_apply_changed_container_is_a_conflict(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", "dbg"))
    _apply(fake, messages)
    fake.calls.clear()
    with pytest.raises(ConflictError, match="container dbg of Pod web differs from the document"):
        _apply(fake, messages, text=DOCUMENT.replace("busybox:1", "busybox:2"))
    assert "patch_ephemeral_containers" not in fake.methods()


def test_apply_lost_answer_is_not_sent_twice(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", LostAnswer())
    result = _apply(fake, messages, wait=False)
    assert _names(fake) == ["dbg"]
    assert fake.methods().count("patch_ephemeral_containers") == 1
    # The re-read found it added (by our own lost request): nothing left to add.
    assert (result.added, result.unchanged) == ([], ["dbg"])


def test_apply_legacy_conflict_is_replanned(legacy: FakeKube, messages: Messages) -> None:
    legacy.running_pod("web")
    legacy.fail("patch_ephemeral_containers", Http(409, "the object has been modified"))
    result = _apply(legacy, messages, wait=False)
    assert result.added == ["dbg"] and _names(legacy) == ["dbg"]
    assert result.request is not None and result.request.method == "PUT"
    assert legacy.methods().count("patch_ephemeral_containers") == 2


def test_apply_gives_up_after_its_attempts(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", *[Http(409, "modified")] * MAX_APPLY_ATTEMPTS)
    with pytest.raises(ConflictError, match=f"after {MAX_APPLY_ATTEMPTS} attempts"):
        _apply(fake, messages)
    assert _names(fake) == []


def test_apply_client_dry_run_sends_nothing(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    result = _apply(fake, messages, dry_run="client")
    assert result.added == ["dbg"] and "patch_ephemeral_containers" not in fake.methods()


# -- ls and cleanup -----------------------------------------------------------------------------

MANAGED = {"app.kubernetes.io/managed-by": "podscope"}


def test_ls_lists_each_pods_ephemeral_containers(fake: FakeKube, messages: Messages) -> None:
    _running_debugger(fake)
    fake.running_pod("other")
    rows = run_list(fake, ListRequest(namespace="default"), session_io(messages))
    assert [(r.pod, r.name, r.state, r.image) for r in rows] == [
        ("web", DEBUGGER, "running", "busybox:1")
    ]
    assert [r.name for r in run_list(fake, ListRequest(pod="web"), session_io(messages))] == [
        DEBUGGER
    ]


def test_cleanup_deletes_only_podscopes_pods(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("copy-1", labels=MANAGED)
    fake.running_pod("copy-2", labels=MANAGED)
    fake.running_pod("web")
    result = run_cleanup(fake, CleanupRequest(namespace="default"), session_io(messages))
    assert sorted(p.name for p in result.deleted) == ["copy-1", "copy-2"]
    assert fake.has_pod("web") and not fake.has_pod("copy-1")


def test_cleanup_refuses_a_pod_that_is_not_podscopes(fake: FakeKube) -> None:
    fake.running_pod("web")
    with pytest.raises(UsageError, match="was not created by podscope"):
        find_managed(fake, "default", ["web"])


def test_cleanup_skips_a_pod_replaced_since_it_was_listed(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("copy-1", labels=MANAGED)
    fake.running_pod("copy-2", labels=MANAGED)

    def confirm(pods: Any) -> bool:
        fake.kubelet.replace_pod("copy-1")  # same name, new uid
        fake.kubelet.delete_pod("copy-2")  # already gone
        return True

    result = run_cleanup(
        fake, CleanupRequest(namespace="default"), session_io(messages), confirm=confirm
    )
    assert [p.name for p, _ in result.failed] == ["copy-1"]
    assert "was replaced by another Pod" in result.failed[0][1].message
    assert fake.has_pod("copy-1")  # the new Pod is not deleted
    assert messages == ["Pod copy-2 in namespace default was already gone"]


def test_cleanup_keeps_going_after_a_failure(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("copy-1", labels=MANAGED)
    fake.running_pod("copy-2", labels=MANAGED)
    fake.fail("delete_pod", Http(503))
    result = run_cleanup(fake, CleanupRequest(namespace="default"), session_io(messages))
    assert [p.name for p, _ in result.failed] == ["copy-1"]
    assert [p.name for p in result.deleted] == ["copy-2"]


def test_attach_to_an_unreachable_server_is_not_retried(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    fake.fail("attach", Unreachable())
    with pytest.raises(UnreachableError):
        _attach(fake, pod, messages)


def test_attach_refused_because_the_container_just_exited_shows_the_log(
    fake: FakeKube, messages: Messages
) -> None:
    pod = _running_debugger(fake)  # podscope saw it running...
    fake.kubelet.terminate("web", DEBUGGER, 0)  # ...but it exits before the attach
    fake.fail("attach", Http(400, "container dbg is not running"))
    fake.logs[("default", "web", DEBUGGER)] = b"bye\n"
    local = _local()
    outcome = _attach(fake, pod, messages, io=local)
    assert not outcome.attached and b"bye\n" in _output(local)
    assert (
        f"container {DEBUGGER} finished before podscope could attach; its log follows" in messages
    )


def test_attach_refused_while_still_running_is_an_error(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    fake.fail("attach", Http(400, "bad request"))
    with pytest.raises(PodscopeError, match="bad request"):
        _attach(fake, pod, messages)


NOT_FOUND = {"status": "Failure", "message": 'container not found ("dbg")', "reason": "NotFound"}


def test_not_found_stream_of_a_command_that_already_ended(
    fake: FakeKube, messages: Messages
) -> None:
    pod = _running_debugger(fake)

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, dict[str, Any]]:
        fake.when_idle(lambda: fake.kubelet.terminate("web", DEBUGGER, 0))
        return b"", b"", NOT_FOUND

    fake.programs[DEBUGGER] = program
    fake.logs[("default", "web", DEBUGGER)] = b"quick\n"
    local = _local()
    outcome = _attach(fake, pod, messages, io=local)
    assert not outcome.attached and b"quick\n" in _output(local)


def test_not_found_stream_while_it_runs_is_retried(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    runs = {"n": 0}

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        runs["n"] += 1
        if runs["n"] == 1:
            return b"", b"", NOT_FOUND  # the kubelet has not caught up with the start
        fake.kubelet.terminate("web", DEBUGGER, 0)
        return b"up\n", b"", 0

    fake.programs[DEBUGGER] = program
    outcome = _attach(fake, pod, messages)
    assert outcome.attached and outcome.exit_code == 0 and runs["n"] == 2


def test_a_failed_stream_after_output_is_lost(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    failure = {"status": "Failure", "message": "error: unexpected EOF", "reason": "InternalError"}
    fake.programs[DEBUGGER] = lambda command, stdin: (b"partial", b"", failure)
    with pytest.raises(StreamLostError, match="the attach stream to dbg failed: error: unexpected"):
        _attach(fake, pod, messages)


def test_a_closed_stream_of_a_running_container(fake: FakeKube, messages: Messages) -> None:
    pod = _running_debugger(fake)
    fake.programs[DEBUGGER] = lambda command, stdin: (b"x", b"", 0)  # but it keeps running
    with pytest.raises(StreamLostError, match="closed but the container is still running"):
        _attach(fake, pod, messages)
