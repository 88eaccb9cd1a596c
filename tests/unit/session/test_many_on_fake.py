"""One command in several Pods (``podscope debug -l app=web -- CMD``) on the in-memory API
server: every Running Pod gets the single-Pod exec session, the others are rows saying why
they were skipped, and one Pod's failure is its own row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from podscope.errors import ExitCode, Interrupted, NotFoundError, PodStateError
from podscope.rules.many import ManyDebugRequest, PodOutcome
from podscope.session import many
from podscope.session.many import ManyResult, run_many
from tests.unit.fakekube import FakeKube, install_clock
from tests.unit.session.conftest import Messages, session_io
from tests.unit.session.debugger_runtime import Runtime

WEB = {"app": "web"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    # The calling thread looks for the workers' end this often (real time: threads run).
    monkeypatch.setattr(many, "_JOIN_TICK", 0.002)
    yield kube
    kube.close()


def _pods(fake: FakeKube, *names: str) -> None:
    for name in names:
        fake.running_pod(name, labels=WEB)


def _run(
    fake: FakeKube, messages: Messages, heard: list[PodOutcome] | None = None, **fields: Any
) -> ManyResult:
    fields.setdefault("command", ("hostname",))
    if "pods" not in fields:
        fields.setdefault("selector", "app=web")
    request = ManyDebugRequest(image="busybox:1", **fields)
    return run_many(
        fake,
        request,
        session_io(messages),
        on_outcome=heard.append if heard is not None else None,
        capture_output=True,
    )


def _rows(result: ManyResult) -> list[tuple[str, str, int | None]]:
    return [(o.pod, o.status, o.exit_code) for o in result.outcomes]


def test_each_running_pod_runs_the_command_and_the_others_are_skipped(
    fake: FakeKube, messages: Messages
) -> None:
    runtime = Runtime(fake)
    _pods(fake, "web-b", "web-a")
    fake.add_pod({"metadata": {"name": "web-c", "labels": WEB}, "status": {"phase": "Pending"}})
    heard: list[PodOutcome] = []
    result = _run(fake, messages, heard)
    assert _rows(result) == [
        ("web-a", "exited", 0),
        ("web-b", "exited", 0),
        ("web-c", "skipped", None),
    ]
    assert result.exit_code == ExitCode.OK
    skipped = result.outcomes[2]
    assert skipped.error is not None and "Pending" in skipped.error
    assert f"skipping Pod web-c: {skipped.error}" in messages
    assert heard[0].pod == "web-c"  # skipped Pods are heard first, then each as it ends
    assert sorted(o.pod for o in heard[1:]) == ["web-a", "web-b"]
    assert sorted((s[0], s[2][0]) for s in runtime.sessions) == [
        ("web-a", "hostname"),
        ("web-b", "hostname"),
    ]
    assert result.outcomes[0].stdout == b"web-a: hostname\n"
    # Captured output is text in the whole result's dict too, so json.dumps takes it.
    document = json.loads(json.dumps(result.to_dict()))
    assert document["outcomes"][0]["stdout"] == "web-a: hostname\n"
    assert "stdout" not in document["outcomes"][2]  # a skipped Pod captured nothing
    assert all(o.created and o.container for o in result.outcomes[:2])
    assert "running hostname in 2 Pod(s), 2 at a time" in messages
    # A Pod's session events are its own lines, prefixed with its name.
    assert any(m.startswith("web-a: created debugger") for m in messages)


def test_one_pods_failure_is_its_row_and_the_others_go_on(
    fake: FakeKube, messages: Messages
) -> None:
    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        if pod == "web-b":
            return b"", b"", {"metadata": {}, "status": "Failure", "message": "runtime broke"}
        if pod == "web-c":
            return b"", b"no\n", 2
        return b"ok\n", b"", 0

    Runtime(fake, session=session)
    _pods(fake, "web-a", "web-b", "web-c")
    result = _run(fake, messages)
    assert _rows(result) == [
        ("web-a", "exited", 0),
        ("web-b", "failed", None),
        ("web-c", "exited", 2),
    ]
    failed = result.outcomes[1]
    assert failed.error is not None and "runtime broke" in failed.error
    assert failed.error_exit_code == ExitCode.STREAM_LOST
    assert result.outcomes[2].stderr == b"no\n"
    assert result.exit_code == ExitCode.SOME_FAILED


def test_a_bug_in_one_pods_session_is_its_row(fake: FakeKube, messages: Messages) -> None:
    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        if pod == "web-a":
            raise RuntimeError("a bug\nover two lines")
        return b"", b"", 0

    Runtime(fake, session=session)
    _pods(fake, "web-a", "web-b")
    result = _run(fake, messages)
    assert _rows(result) == [("web-a", "failed", None), ("web-b", "exited", 0)]
    assert result.outcomes[0].error == "unexpected failure (RuntimeError: a bug over two lines)"
    assert result.outcomes[0].error_exit_code == ExitCode.FAILURE


def test_no_more_than_max_parallel_pods_at_once(fake: FakeKube, messages: Messages) -> None:
    changed = threading.Condition()
    now = peak = entered = 0
    total = 3

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        nonlocal now, peak, entered
        with changed:
            now += 1
            entered += 1
            peak = max(peak, now)
            changed.notify_all()
            # Two Pods run at the same time...
            changed.wait_for(lambda: now >= 2 or entered == total, timeout=10)
            # ... and a third would have come in meanwhile, were it allowed to.
            changed.wait_for(lambda: now >= 3 or entered == total, timeout=0.3)
            now -= 1
        return b"", b"", 0

    Runtime(fake, session=session)
    _pods(fake, *(f"web-{n}" for n in range(total)))
    result = _run(fake, messages, max_parallel=2)
    assert [o.status for o in result.outcomes] == ["exited"] * total
    assert peak == 2
    assert "running hostname in 3 Pod(s), 2 at a time" in messages


def test_named_pods_and_a_missing_one(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    _pods(fake, "web-a")
    result = _run(fake, messages, pods=("web-a", "nope"))
    assert _rows(result) == [("nope", "failed", None), ("web-a", "exited", 0)]
    assert result.outcomes[0].error_exit_code == ExitCode.NOT_FOUND
    assert any(m.startswith("Pod nope: ") for m in messages)
    assert result.exit_code == ExitCode.SOME_FAILED


def test_a_named_pod_that_cannot_take_a_debugger_fails_rather_than_being_skipped(
    fake: FakeKube, messages: Messages
) -> None:
    # Asked for by name, it must not vanish into a skip and an exit code 0.
    Runtime(fake)
    _pods(fake, "web-a")
    fake.add_pod({"metadata": {"name": "web-p", "labels": WEB}, "status": {"phase": "Pending"}})
    result = _run(fake, messages, pods=("web-a", "web-p"))
    assert _rows(result) == [("web-a", "exited", 0), ("web-p", "failed", None)]
    failed = result.outcomes[1]
    assert failed.error is not None and "Pending" in failed.error
    assert failed.error_exit_code == ExitCode.POD_STATE
    assert result.exit_code == ExitCode.SOME_FAILED


def test_only_missing_pods_give_their_rows(fake: FakeKube, messages: Messages) -> None:
    result = _run(fake, messages, pods=("nope",))
    assert _rows(result) == [("nope", "failed", None)]
    assert "patch_ephemeral_containers" not in fake.methods()


def test_every_pod_of_a_workload(fake: FakeKube, messages: Messages) -> None:
    Runtime(fake)
    _pods(fake, "web-a", "web-b")
    fake.workloads[("default", "deployments", "web")] = {"spec": {"selector": {"matchLabels": WEB}}}
    result = _run(fake, messages, pods=("deploy/web",), all_pods=True)
    assert _rows(result) == [("web-a", "exited", 0), ("web-b", "exited", 0)]


def test_a_workload_without_pods_is_an_error(fake: FakeKube, messages: Messages) -> None:
    fake.workloads[("default", "deployments", "web")] = {"spec": {"selector": {"matchLabels": WEB}}}
    with pytest.raises(NotFoundError, match="has no Pods"):
        _run(fake, messages, pods=("deploy/web",), all_pods=True)


def test_a_selector_matching_nothing_is_an_error(fake: FakeKube, messages: Messages) -> None:
    _pods(fake, "web-a")
    with pytest.raises(NotFoundError, match="no Pod in namespace default matches") as info:
        _run(fake, messages, selector="app=db")
    assert "--show-labels" in str(info.value.remedy)


def test_no_running_pod_is_an_error_naming_why(fake: FakeKube, messages: Messages) -> None:
    fake.add_pod({"metadata": {"name": "web-a", "labels": WEB}, "status": {"phase": "Pending"}})
    with pytest.raises(PodStateError, match=r"none of the 1 Pod\(s\) found is Running"):
        _run(fake, messages)
    assert "patch_ephemeral_containers" not in fake.methods()


def test_a_dry_run_lists_the_pods_and_writes_nothing(fake: FakeKube, messages: Messages) -> None:
    _pods(fake, "web-a", "web-b")
    heard: list[PodOutcome] = []
    result = _run(fake, messages, heard, dry_run=True)
    assert [(o.pod, o.status) for o in result.outcomes] == [
        ("web-a", "selected"),
        ("web-b", "selected"),
    ]
    assert result.exit_code == ExitCode.OK and result.dry_run
    assert [o.pod for o in heard] == ["web-a", "web-b"]
    assert messages[-1] == "dry run: would run hostname in 2 Pod(s); nothing was changed"
    assert set(fake.methods()) <= {"list_pods"}


def test_a_dry_run_of_named_pods_needs_no_command(fake: FakeKube, messages: Messages) -> None:
    # `podscope debug web-a web-b --dry-run`: every word is a Pod, and the run says which.
    _pods(fake, "web-a", "web-b")
    result = _run(fake, messages, pods=("web-a", "web-b"), command=(), dry_run=True)
    assert [(o.pod, o.status) for o in result.outcomes] == [
        ("web-a", "selected"),
        ("web-b", "selected"),
    ]
    assert messages[-1] == (
        "dry run: would run a command (give it after --) in 2 Pod(s); nothing was changed"
    )
    assert "patch_ephemeral_containers" not in fake.methods()


# -- Ctrl-C -------------------------------------------------------------------------------------


class _CtrlC:
    """The calling thread's clock: Ctrl-C arrives (``times`` times) while it waits for the
    workers, once the first Pod's command runs."""

    def __init__(self, times: int) -> None:
        import time

        self._time = time
        self.times = times
        self.running = threading.Event()
        self.pressed = threading.Event()

    def monotonic(self) -> float:
        return self._time.monotonic()

    def sleep(self, seconds: float) -> None:
        if threading.current_thread() is threading.main_thread() and self.times:
            assert self.running.wait(10)
            self.times -= 1
            if not self.times:
                self.pressed.set()
            raise KeyboardInterrupt
        self._time.sleep(min(seconds, 0.002))


def test_ctrl_c_starts_no_more_pods_and_lets_the_running_one_end(
    fake: FakeKube, messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _CtrlC(times=1)
    monkeypatch.setattr(many, "time", clock)

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        clock.running.set()
        assert clock.pressed.wait(10)
        return b"done\n", b"", 0

    Runtime(fake, session=session)
    _pods(fake, "web-a", "web-b", "web-c")
    result = _run(fake, messages, max_parallel=1)
    assert _rows(result) == [
        ("web-a", "exited", 0),
        ("web-b", "not-started", None),
        ("web-c", "not-started", None),
    ]
    assert result.interrupted and result.exit_code == ExitCode.INTERRUPTED
    assert any(
        m.startswith("interrupted: no more Pods are started; waiting for the command to end in 1 ")
        and "(web-a)" in m
        for m in messages
    )
    name = result.outcomes[0].container
    assert f"debuggers were created in: web-a ({name}); they end after their --ttl" in messages
    assert list(fake.added) == [("default", "web-a")]


def test_a_second_ctrl_c_stops_waiting_and_says_where_commands_may_run(
    fake: FakeKube, messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _CtrlC(times=2)
    monkeypatch.setattr(many, "time", clock)
    release = threading.Event()

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        clock.running.set()
        release.wait(10)
        return b"", b"", 0

    Runtime(fake, session=session)
    _pods(fake, "web-a", "web-b")
    try:
        with pytest.raises(Interrupted):
            _run(fake, messages, max_parallel=1)
    finally:
        release.set()
    assert (
        "Pod web-a: the command may still be running in a debugger; see with: "
        "podscope ls web-a -n default" in messages
    )


# -- cp out of several Pods -------------------------------------------------------------------


def _with_helper(fake: FakeKube, pod: str, image: str) -> None:
    """A running podscope cp helper in ``pod`` (an earlier copy added it)."""
    from podscope.rules.targetfs import HELPER_COMMAND

    helper = {
        "name": "podscope-cp-1",
        "image": image,
        "targetContainerName": "app",
        "command": list(HELPER_COMMAND),
    }
    fake.patch_ephemeral_containers(
        "default", pod, {"spec": {"ephemeralContainers": [helper]}}, "pod"
    )
    fake.kubelet.start(pod, "podscope-cp-1")


def test_cp_copies_out_of_each_pod_into_its_own_directory(
    fake: FakeKube, messages: Messages, tmp_path: Any
) -> None:
    from podscope.rules.many import ManyCpRequest
    from podscope.session.many import run_cp_many
    from tests.unit.session.cp_roots import roots_by_pod

    image = "busybox:1"
    _pods(fake, "web-a", "web-b", "web-c")
    fake.add_pod({"metadata": {"name": "web-d", "labels": WEB}, "status": {"phase": "Pending"}})
    for pod in ("web-a", "web-b", "web-c"):
        _with_helper(fake, pod, image)
    roots = roots_by_pod(fake, tmp_path, {"web-a": b"a\n", "web-b": None, "web-c": b"c\n"})
    dest = tmp_path / "out"
    heard: list[PodOutcome] = []
    request = ManyCpRequest(selector="app=web", path="/etc/app.conf", dest=str(dest), image=image)
    result = run_cp_many(fake, request, session_io(messages), on_outcome=heard.append)
    assert [(o.pod, o.status) for o in result.outcomes] == [
        ("web-a", "exited"),
        ("web-b", "failed"),
        ("web-c", "exited"),
        ("web-d", "skipped"),
    ]
    assert (dest / "web-a" / "app.conf").read_bytes() == b"a\n"
    assert (dest / "web-c" / "app.conf").read_bytes() == b"c\n"
    assert not (dest / "web-b").exists()  # no empty directory behind a failed copy
    note = result.outcomes[0].note
    assert note is not None and note.startswith("1 file(s), 2 bytes, sha256 verified -> ")
    assert result.exit_code == ExitCode.SOME_FAILED
    assert heard[0].pod == "web-d" and len(heard) == 4
    assert roots["web-a"].ops.count("out") == 1
    assert "copying /etc/app.conf out of 3 Pod(s), 3 at a time" in messages


def test_cp_with_no_running_pod_is_an_error(fake: FakeKube, messages: Messages) -> None:
    from podscope.rules.many import ManyCpRequest
    from podscope.session.many import run_cp_many

    fake.add_pod({"metadata": {"name": "web-a", "labels": WEB}, "status": {"phase": "Pending"}})
    request = ManyCpRequest(selector="app=web", path="/etc/x", dest="/nonexistent", image="b:1")
    with pytest.raises(PodStateError, match="none of the 1 Pod"):
        run_cp_many(fake, request, session_io(messages))


# -- recording each Pod's session -------------------------------------------------------------


def _record(directory: Any, **kw: Any) -> Any:
    from podscope.session.record import RecordOptions

    return RecordOptions(directory=str(directory), context="fake", kubeconfig_user="kc", **kw)


def _run_recorded(fake: FakeKube, messages: Messages, options: Any) -> ManyResult:
    request = ManyDebugRequest(image="busybox:1", selector="app=web", command=("hostname",))
    return run_many(fake, request, session_io(messages), record=options)


def test_each_pods_session_is_recorded_on_its_own(
    fake: FakeKube, messages: Messages, tmp_path: Any
) -> None:
    Runtime(fake)
    _pods(fake, "web-a", "web-b")
    result = _run_recorded(fake, messages, _record(tmp_path / "rec"))
    assert result.exit_code == ExitCode.OK
    casts = sorted(p.name for p in (tmp_path / "rec").glob("*.cast"))
    receipts = sorted((tmp_path / "rec").glob("*.receipt.json"))
    assert len(casts) == 2 and len(receipts) == 2
    assert "-default-web-a-" in casts[0] and "-default-web-b-" in casts[1]
    pods = sorted(json.loads(r.read_text())["pod"] for r in receipts)
    assert pods == ["web-a", "web-b"]


def test_a_run_that_must_be_recorded_and_cannot_is_refused_before_any_write(
    fake: FakeKube, messages: Messages, tmp_path: Any
) -> None:
    from podscope.errors import RecordError

    Runtime(fake)
    _pods(fake, "web-a")
    (tmp_path / "file").write_text("")
    with pytest.raises(RecordError, match="this run"):
        _run_recorded(fake, messages, _record(tmp_path / "file" / "rec", required=True))
    assert "patch_ephemeral_containers" not in fake.methods()


def test_a_run_that_cannot_be_recorded_goes_on_unrecorded(
    fake: FakeKube, messages: Messages, tmp_path: Any
) -> None:
    Runtime(fake)
    _pods(fake, "web-a")
    (tmp_path / "file").write_text("")
    result = _run_recorded(fake, messages, _record(tmp_path / "file" / "rec"))
    assert _rows(result) == [("web-a", "exited", 0)]
    # One warning for the run, not one more per Pod.
    (warning,) = [m for m in messages if "cannot be recorded" in m]
    assert warning.startswith("this run cannot be recorded: cannot write to ")
    assert warning.endswith("; its sessions go on unrecorded")


def test_the_summary_rows_and_json_lines_of_a_mixed_run(fake: FakeKube, messages: Messages) -> None:
    from podscope.rules.many import json_line, summary_row

    def session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, Any]:
        if pod == "web-b":
            return b"", b"", {"metadata": {}, "status": "Failure", "message": "runtime broke"}
        return b"web-a\n", b"", 0

    Runtime(fake, session=session)
    _pods(fake, "web-a", "web-b")
    fake.add_pod({"metadata": {"name": "web-c", "labels": WEB}, "status": {"phase": "Pending"}})
    heard: list[PodOutcome] = []
    result = _run(fake, messages, heard)
    rows = [summary_row(o) for o in result.outcomes]
    name = result.outcomes[0].container
    assert [row[:3] for row in rows] == [
        ("web-a", name, "0"),
        ("web-b", "-", f"error {int(ExitCode.STREAM_LOST)}"),
        ("web-c", "-", "skipped"),
    ]
    assert "runtime broke" in rows[1][4] and "Pending" in rows[2][4]
    lines = [json.loads(json.dumps(json_line(o), sort_keys=True)) for o in heard]
    assert [(line["pod"], line["status"]) for line in lines][0] == ("web-c", "skipped")
    by_pod = {line["pod"]: line for line in lines}
    assert by_pod["web-a"]["exit_code"] == 0 and by_pod["web-a"]["stdout"] == "web-a\n"
    assert by_pod["web-b"]["error_exit_code"] == ExitCode.STREAM_LOST
    assert set(by_pod["web-a"]) == set(by_pod["web-c"])  # every key in every line
