"""``podscope cp`` on the in-memory API server, with the helper's steps run against a local
directory standing in for the target container's root file system."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import NotFoundError, PodscopeError, StreamLostError, UsageError
from podscope.kube.streams import STDIN
from podscope.rules.debugger import EXPIRED_EXIT, SESSION_NAME, WATCHED_SESSION_SCRIPT
from podscope.rules.requests import CpRequest
from podscope.session.cp import ChecksumError, CpResult, run_cp
from podscope.session.cp.remote import CHUNK
from podscope.session.io import SessionIO
from tests.unit.fakekube import FakeKube, FakeSocket, exec_target
from tests.unit.session.conftest import Messages, session_io


def cp_words(command: list[str]) -> list[str]:
    """The helper script's words of an exec: a debugger's session wrapper (``sh -c SCRIPT
    podscope-session NAME/ WORDS...``) execs WORDS, as the real shell does."""
    if command[:2] == ["sh", "-c"] and command[3:4] == [SESSION_NAME]:
        return command[5:]
    return command


class TargetRoot:
    """The helper script's operations (probe, out, in, sum), done on a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.corrupt: set[str] = set()  # names whose reported sha256 is wrong
        self.ops: list[str] = []

    def _path(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def __call__(self, command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        command = cp_words(command)
        op, args = command[4], command[6:]
        self.ops.append(op)
        if op == "probe":
            path = self._path(args[0])
            if path.is_dir():
                kind = "dir 4"
            elif path.is_file():
                kind = f"file {path.stat().st_size}"
            else:
                kind = "none"
            parent = "dir" if path.parent.is_dir() else "none"
            return f"owner 1000 1000\n{kind}\nparent {parent}\n".encode(), b"", 0
        if op == "out":
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                archive.add(str(self._path(args[0]) / args[1]), arcname=args[1])
            return buffer.getvalue(), b"", 0
        if op == "in":
            with tarfile.open(fileobj=io.BytesIO(stdin), mode="r") as archive:
                archive.extractall(self._path(args[0]), filter="data")
            return b"", b"", 0
        if op == "sum":
            sums = []
            for name in stdin.decode().split("\n"):
                if not name:
                    continue
                file = self._path(args[0]) / name
                digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "?"
                sums.append("0" * 64 if name in self.corrupt else digest)
            return ("\n".join(sums) + "\n").encode(), b"", 0
        return b"", f"unknown operation {op}".encode(), 2


@pytest.fixture
def target(fake: FakeKube, tmp_path: Path) -> TargetRoot:
    root = tmp_path / "target"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "app.conf").write_bytes(b"listen 8080\n")
    fake.running_pod("web")
    target = TargetRoot(root)
    fake.programs["*"] = target

    def start_helper() -> None:
        fake.kubelet.start("web", fake.newest_ephemeral("web"))

    fake.when_idle(start_helper)
    return target


def _cp(fake: FakeKube, messages: Messages, source: str, dest: str, **options: Any) -> CpResult:
    """run_cp with the request built in one place (the request types are being reshaped)."""
    image = options.pop("image", "docker.io/library/busybox:latest")
    request = CpRequest(source=source, dest=dest, image=image, **options)
    return run_cp(fake, request, session_io(messages))


def test_copy_out_verifies_the_checksum(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "app.conf"
    result = _cp(fake, messages, "web:/etc/app.conf", str(local))
    assert local.read_bytes() == b"listen 8080\n"
    assert (result.files, result.checksum, result.helper_created) == (1, "verified", True)
    assert sorted(target.ops) == ["out", "probe", "sum"]


def test_copy_in_verifies_the_checksum(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "new.conf"
    local.write_bytes(b"workers 4\n")
    result = _cp(fake, messages, str(local), "web:/etc/")
    assert (target.root / "etc" / "new.conf").read_bytes() == b"workers 4\n"
    assert result.checksum == "verified" and result.direction == "in"


def test_a_checksum_mismatch_is_detected(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    target.corrupt.add("app.conf")
    with pytest.raises(ChecksumError, match="checksum mismatch for app.conf"):
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "app.conf"))


def test_a_later_copy_reuses_the_helper(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    first = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    again = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "b"))
    assert not again.helper_created and again.helper == first.helper
    assert len(fake.pod("web")["spec"]["ephemeralContainers"]) == 1
    assert f"using debugger {first.helper}" in messages


# What the runtime answers an exec into a container whose main process has just ended.
_ENDED = {
    "metadata": {},
    "status": "Failure",
    "reason": "InternalError",
    "code": 500,
    "message": "Internal error occurred: error executing command in container: failed to "
    'exec in container: failed to start exec "4f2a": OCI runtime exec failed: exec failed: '
    "cannot exec in a stopped container: unknown",
}


def _ends_at_its_next_exec(fake: FakeKube, helper: str) -> list[str]:
    """``helper``'s holder ends now, the Pod's status still saying it runs; the names of the
    containers each exec went to."""
    normal = fake.programs["*"]
    reached: list[str] = []

    def program(command: list[str], stdin: bytes) -> Any:
        where = exec_target()
        assert where is not None
        reached.append(where[2])
        if where[2] == helper:
            return b"", b"", _ENDED
        return normal(command, stdin)

    fake.programs["*"] = program  # type: ignore[assignment]
    return reached


def test_a_reused_debugger_that_ended_before_the_first_exec_is_replaced_once(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    first = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    reached = _ends_at_its_next_exec(fake, first.helper)
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    messages.clear()
    again = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "b"))
    assert (tmp_path / "b").read_bytes() == b"listen 8080\n"
    assert again.helper_created and again.helper != first.helper
    assert reached[0] == first.helper and set(reached[1:]) == {again.helper}
    said = f"debugger {first.helper} has ended (its main process is gone); adding a new one"
    assert said in messages


# Refusals seen on the local cluster whose words say nothing known: an empty Status (the API
# server's answer when the kubelet's upgrade failed without one), and containerd's shim going.
_UNKNOWN_REFUSALS = (
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


def _refuses_in_unknown_words(
    fake: FakeKube, helper: str, status: dict[str, Any], *, ended: bool
) -> list[str]:
    """From the next exec on, every exec into ``helper`` is refused with ``status``; with
    ``ended`` its holder has just gone (the Pod's status still says it runs, until the
    kubelet reports it terminated), else its holder still answers the liveness check. The
    names of the containers each cp step went to."""
    normal = fake.programs["*"]
    reached: list[str] = []

    def program(command: list[str], stdin: bytes) -> Any:
        where = exec_target()
        assert where is not None
        alive_check = command[3:4] == ["podscope-alive"]
        if where[2] == helper:
            if alive_check and not ended:
                return b"", b"", 0
            if ended and not alive_check:
                fake.kubelet.terminate("web", helper, EXPIRED_EXIT, message="expired")
            return b"", b"", status
        if not alive_check:
            reached.append(where[2])
        return normal(command, stdin)

    fake.programs["*"] = program  # type: ignore[assignment]
    return reached


@pytest.mark.parametrize("status", _UNKNOWN_REFUSALS)
def test_a_refusal_in_unknown_words_by_a_debugger_that_has_ended_is_replaced_once(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages, status: Any
) -> None:
    first = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    reached = _refuses_in_unknown_words(fake, first.helper, status, ended=True)
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    messages.clear()
    again = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "b"))
    assert (tmp_path / "b").read_bytes() == b"listen 8080\n"
    assert again.helper_created and again.helper != first.helper
    assert set(reached) == {again.helper}
    said = f"debugger {first.helper} has ended (its main process is gone); adding a new one"
    assert said in messages


def test_a_refusal_in_unknown_words_by_a_debugger_that_still_runs_is_not_replaced(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    first = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    _refuses_in_unknown_words(fake, first.helper, _UNKNOWN_REFUSALS[1], ended=False)
    with pytest.raises(PodscopeError, match="ttrpc: closed") as info:
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "b"))
    assert "has ended" not in info.value.message
    assert len(fake.pod("web")["spec"]["ephemeralContainers"]) == 1


def test_a_debugger_that_ends_in_the_middle_of_a_copy_is_not_replaced(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    # A stop during the copy: it is said, and no second debugger is added behind it.
    first = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    normal = fake.programs["*"]
    calls: list[str] = []

    def program(command: list[str], stdin: bytes) -> Any:
        calls.append(command[-1])
        if len(calls) > 1:
            return b"", b"", _ENDED
        return normal(command, stdin)

    fake.programs["*"] = program  # type: ignore[assignment]
    with pytest.raises(PodscopeError, match=f"debugger {first.helper} has ended"):
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "b"))
    assert len(fake.pod("web")["spec"]["ephemeralContainers"]) == 1


def _debug_container(
    fake: FakeKube, profile: str, *, pull: str | None = None, start: bool = True
) -> str:
    """A debugger in Pod web as ``podscope debug web --profile PROFILE`` adds it."""
    from podscope.events import EventLog, Events
    from podscope.rules.container import DebugSpec, build_ephemeral_container
    from podscope.session.debugger import create_debugger

    pod = fake.pod("web")
    spec = DebugSpec(
        image="docker.io/library/busybox:latest",
        target="app",
        profile=profile,
        image_pull_policy=pull,
    )
    placed = create_debugger(
        fake,
        pod,
        build_ephemeral_container(pod, spec),
        ttl=900,
        shape="pod",
        new=False,
        named=False,
        report=Events(EventLog()),
    )
    if start:
        fake.kubelet.start("web", placed.name)
    return placed.name


def test_a_new_copy_makes_a_debugger_and_runs_as_its_session(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    from podscope.rules.debugger import key_of

    result = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    [made] = fake.pod("web")["spec"]["ephemeralContainers"]
    assert made["name"] == result.helper and key_of(made) is not None  # a debugger
    assert "SYS_PTRACE" in made["securityContext"]["capabilities"]["add"]  # general profile
    assert made["command"][3] == "podscope-holder"  # it expires after its TTL
    # Every step ran as one of its sessions, so that the TTL never ends a copy midway.
    execs = [socket._command for socket in fake.sockets]
    assert execs and all(_is_session_of(result.helper, c) for c in execs)
    # A step with no input of its own (the probe, the tar out) is watched: it ends with the
    # stream, were the client killed; each has its own id, which watching needs.
    no_input = [s._command for s in fake.sockets if s._command[2] == WATCHED_SESSION_SCRIPT]
    assert no_input and all(s._stdin_open for s in fake.sockets)
    assert len({c[4] for c in no_input}) == len(no_input)
    assert all(c[4] != f"{result.helper}/" for c in no_input)


def _is_session_of(helper: str, command: list[str]) -> bool:
    return command[3] == SESSION_NAME and command[4].startswith(f"{helper}/")


def test_a_copy_uses_the_debugger_debug_made(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    name = _debug_container(fake, "general")
    result = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    assert (result.helper, result.helper_created) == (name, False)
    assert len(fake.pod("web")["spec"]["ephemeralContainers"]) == 1
    assert all(_is_session_of(name, socket._command) for socket in fake.sockets)


def test_a_copy_right_after_debug_waits_for_the_same_debugger(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    # `debug --profile general --image-pull-policy IfNotPresent` has just added it; the
    # kubelet has not reported it running yet (the target fixture starts it when idle).
    name = _debug_container(fake, "general", pull="IfNotPresent", start=False)
    result = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    assert (result.helper, result.helper_created) == (name, False)
    assert len(fake.pod("web")["spec"]["ephemeralContainers"]) == 1


def test_a_debugger_that_cannot_read_the_target_is_not_used(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    # The legacy profile adds no SYS_PTRACE: /proc/PID/root of another user's process is
    # out of its reach.
    legacy = _debug_container(fake, "legacy")
    result = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    assert result.helper != legacy and result.helper_created


def test_a_missing_remote_file(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    with pytest.raises(NotFoundError, match="/etc/nope: no such file or directory"):
        _cp(fake, messages, "web:/etc/nope", str(tmp_path / "x"))
    assert not os.path.exists(tmp_path / "x")


def test_copy_out_a_directory(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    (target.root / "etc" / "sub").mkdir()
    (target.root / "etc" / "sub" / "b.txt").write_bytes(b"b")
    local = tmp_path / "got"
    result = _cp(fake, messages, "web:/etc", str(local))
    assert (local / "app.conf").read_bytes() == b"listen 8080\n"
    assert (local / "sub" / "b.txt").read_bytes() == b"b"
    assert (result.files, result.checksum) == (2, "verified")


def test_copy_without_checksum_skips_the_sum(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    result = _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"), checksum=False)
    assert result.checksum == "skipped" and "sum" not in target.ops


def test_copy_in_a_directory(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "conf.d"
    local.mkdir()
    (local / "one.conf").write_bytes(b"1")
    result = _cp(fake, messages, str(local), "web:/etc/conf.d")
    assert (target.root / "etc" / "conf.d" / "one.conf").read_bytes() == b"1"
    assert result.files == 1 and result.checksum == "verified"


def test_copy_in_refusals(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "d"
    local.mkdir()
    with pytest.raises(UsageError, match="cannot copy directory"):
        _cp(fake, messages, str(local), "web:/etc/app.conf")
    with pytest.raises(NotFoundError, match="/nope: no such directory in the target"):
        _cp(fake, messages, str(local), "web:/nope/x")
    with pytest.raises(NotFoundError, match="no such local file or directory"):
        _cp(fake, messages, str(tmp_path / "missing"), "web:/etc/")


def test_a_missing_local_side_is_refused_before_any_write(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    with pytest.raises(NotFoundError, match="no such local directory"):
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "absent" / "app.conf"))
    with pytest.raises(NotFoundError, match="no such local file or directory"):
        _cp(fake, messages, str(tmp_path / "missing"), "web:/etc/")
    assert "patch_ephemeral_containers" not in fake.methods()
    assert "ephemeralContainers" not in fake.pod("web")["spec"]


def test_a_remote_tar_that_stops_reading_ends_the_copy_with_its_error(
    fake: FakeKube,
    target: TargetRoot,
    tmp_path: Path,
    messages: Messages,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The target's disk fills up: its tar exits, the connection refuses further stdin.
    local = tmp_path / "big.bin"
    local.write_bytes(b"x" * (3 * CHUNK))
    sent = FakeSocket.send

    def send(socket: FakeSocket, payload: bytes, opcode: int = 2) -> None:
        if payload[:1] == bytes([STDIN]) and len(socket.stdin) >= CHUNK:
            raise OSError("Broken pipe")
        sent(socket, payload, opcode)

    def full_disk(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        if cp_words(command)[4] == "in":
            return b"", b"tar: big.bin: Cannot write: No space left on device\n", 2
        return target(command, stdin)

    monkeypatch.setattr(FakeSocket, "send", send)
    fake.programs["*"] = full_disk
    with pytest.raises(PodscopeError) as info:
        _cp(fake, messages, str(local), "web:/etc/")
    assert info.value.message == (
        "writing into /etc in the target failed (exit code 2): "
        "tar: big.bin: Cannot write: No space left on device"
    )
    assert not (target.root / "etc" / "big.bin").exists()


def test_a_failing_remote_step_reports_its_stderr(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    def broken(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        if cp_words(command)[4] == "out":
            return b"", b"tar: short read\n", 2
        return target(command, stdin)

    fake.programs["*"] = broken
    with pytest.raises(PodscopeError, match=r"failed: tar: short read|exit code 2"):
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"), checksum=False)


def test_a_dropped_exec_is_a_lost_stream(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    def dropped(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int | None]:
        if cp_words(command)[4] == "probe":
            return b"", b"", None
        return target(command, stdin)

    fake.programs["*"] = dropped
    with pytest.raises(StreamLostError, match="the connection broke while inspecting"):
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))


def test_cp_needs_a_target_and_one_namespace(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    with pytest.raises(UsageError, match="names namespace other but -n says default"):
        _cp(fake, messages, "other/web:/etc/app.conf", str(tmp_path / "a"), namespace="default")
    assert "patch_ephemeral_containers" not in fake.methods()


def test_progress_is_reported_never_drawn(
    fake: FakeKube,
    target: TargetRoot,
    tmp_path: Path,
    messages: Messages,
    capsys: pytest.CaptureFixture[str],
) -> None:
    heard: list[Any] = []
    request = CpRequest(
        source="web:/etc/app.conf",
        dest=str(tmp_path / "a"),
        image="docker.io/library/busybox:latest",
    )
    io = session_io(messages)
    run_cp(fake, request, SessionIO(events=io.events, local=io.local, on_progress=heard.append))
    assert heard and heard[-1].finished and heard[-1].total_bytes == len(b"listen 8080\n")
    assert capsys.readouterr().err == ""  # the session layer prints nothing


# -- a destination ending in "/" must be a directory ------------------------------------------


def test_copy_out_to_an_absent_directory_with_a_slash_makes_it(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    result = _cp(fake, messages, "web:/etc", f"{tmp_path}/newdir/")
    assert (tmp_path / "newdir" / "app.conf").read_bytes() == b"listen 8080\n"
    assert not (tmp_path / "etc").exists()
    assert result.files == 1


def test_copy_out_of_a_file_to_an_absent_directory_writes_nothing(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "app.conf").write_bytes(b"mine")
    with pytest.raises(UsageError, match=r"newfile.txt/ is not a directory") as info:
        _cp(fake, messages, "web:/etc/app.conf", f"{here}/newfile.txt/")
    assert info.value.exit_code == 2
    assert sorted(os.listdir(here)) == ["app.conf"]
    assert (here / "app.conf").read_bytes() == b"mine"
    assert "out" not in target.ops


def test_copy_out_to_a_file_with_a_slash_is_refused_before_any_debugger(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "app.conf"
    local.write_bytes(b"mine")
    with pytest.raises(UsageError, match=r"app.conf/ is not a directory \(a file is there\)"):
        _cp(fake, messages, "web:/etc/app.conf", f"{local}/")
    assert local.read_bytes() == b"mine"
    assert "patch_ephemeral_containers" not in fake.methods()


def test_copy_out_into_an_existing_directory_with_a_slash(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    _cp(fake, messages, "web:/etc/app.conf", f"{tmp_path}/")
    assert (tmp_path / "app.conf").read_bytes() == b"listen 8080\n"


def test_a_source_with_a_slash_must_be_a_directory(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    with pytest.raises(UsageError, match=r"web:/etc/app.conf/ is not a directory"):
        _cp(fake, messages, "web:/etc/app.conf/", str(tmp_path / "x"))
    local = tmp_path / "up.txt"
    local.write_bytes(b"up")
    with pytest.raises(UsageError, match=r"up.txt/ is not a directory"):
        _cp(fake, messages, f"{local}/", "web:/etc/")
    assert not (tmp_path / "x").exists()


def test_copy_in_of_a_file_to_an_absent_directory_writes_nothing(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "up.txt"
    local.write_bytes(b"up")
    with pytest.raises(UsageError, match=r"^web:/etc/nd/ is not a directory") as info:
        _cp(fake, messages, str(local), "web:/etc/nd/")
    assert info.value.exit_code == 2
    assert sorted(os.listdir(target.root / "etc")) == ["app.conf"]
    assert "in" not in target.ops


def test_copy_in_over_a_file_with_a_slash_is_refused(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "up.txt"
    local.write_bytes(b"up")
    with pytest.raises(UsageError, match=r"app.conf/ is not a directory \(a file is there\)"):
        _cp(fake, messages, str(local), "web:/etc/app.conf/")
    assert (target.root / "etc" / "app.conf").read_bytes() == b"listen 8080\n"
    assert "in" not in target.ops


def test_copy_in_of_a_directory_to_an_absent_directory_with_a_slash_makes_it(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    local = tmp_path / "conf.d"
    local.mkdir()
    (local / "one.conf").write_bytes(b"1")
    _cp(fake, messages, str(local), "web:/etc/nd/")
    assert (target.root / "etc" / "nd" / "one.conf").read_bytes() == b"1"
    assert not (target.root / "etc" / "conf.d").exists()
    local.joinpath("two.conf").write_bytes(b"2")
    _cp(fake, messages, str(local / "two.conf"), "web:/etc/nd/")  # now a directory: into it
    assert (target.root / "etc" / "nd" / "two.conf").read_bytes() == b"2"


# -- PodSecurity: cp has no --profile to retry with -------------------------------------------


def _refuse_new(level: str, blame: str | None = None) -> Any:
    def admission(pod: dict[str, Any]) -> tuple[int, str]:
        name = blame or pod["spec"]["ephemeralContainers"][-1]["name"]
        return (
            403,
            f'pods "web" is forbidden: violates PodSecurity "{level}:latest": non-default '
            f'capabilities (container "{name}" must not include "SYS_PTRACE" in '
            "securityContext.capabilities.add)",
        )

    return admission


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_a_podsecurity_refusal_says_cp_cannot_work_there(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages, level: str
) -> None:
    from podscope.errors import PolicyError

    fake.admission = _refuse_new(level)
    with pytest.raises(PolicyError) as info:
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"), namespace="default")
    remedy = info.value.remedy or ""
    assert info.value.exit_code == 10
    assert "retry with --profile" not in remedy
    assert remedy.startswith("cp cannot work in namespace default")
    assert "SYS_PTRACE" in remedy and "'privileged'" in remedy
    # The fake's Pod sets no runAsUser: the user must be given.
    assert f"podscope debug web -n default --profile {level} --user UID:GID --cd /DIR" in remedy
    assert "ephemeralContainers" not in fake.pod("web")["spec"]


def test_the_podsecurity_hint_names_as_target_user_when_the_spec_has_the_user(
    fake: FakeKube, tmp_path: Path, messages: Messages
) -> None:
    from podscope.errors import PolicyError

    fake.add_pod(
        {
            "metadata": {"name": "api"},
            "spec": {
                "nodeName": "node-1",
                "securityContext": {"runAsUser": 1000},
                "containers": [{"name": "app", "image": "app:1"}],
            },
        }
    )
    fake.kubelet.start("api", "app")
    fake.admission = _refuse_new("baseline")
    with pytest.raises(PolicyError) as info:
        _cp(fake, messages, "api:/etc/app.conf", str(tmp_path / "a"))
    assert "--profile baseline --as-target-user --cd /DIR" in (info.value.remedy or "")


def test_a_podsecurity_refusal_blaming_an_existing_container_keeps_its_hint(
    fake: FakeKube, target: TargetRoot, tmp_path: Path, messages: Messages
) -> None:
    from podscope.errors import PolicyError

    fake.admission = _refuse_new("baseline", blame="app")
    with pytest.raises(PolicyError) as info:
        _cp(fake, messages, "web:/etc/app.conf", str(tmp_path / "a"))
    assert "debug a new replica" in (info.value.remedy or "")


# -- the result as data: what `cp -o json` prints ---------------------------------------------


def test_the_result_to_dict_is_what_cp_o_json_prints(
    fake: FakeKube,
    target: TargetRoot,
    tmp_path: Path,
    messages: Messages,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import contextlib
    import dataclasses
    import json

    from podscope.cli import cp as cli_cp
    from podscope.cli.main import build_parser

    results: list[CpResult] = []

    class OnTheFake:
        def cp(self, request: CpRequest, *, on_progress: object = None) -> CpResult:
            image = "docker.io/library/busybox:latest"
            result = run_cp(fake, dataclasses.replace(request, image=image), session_io(messages))
            results.append(result)
            return result

    monkeypatch.setattr(cli_cp, "open_client", lambda args: contextlib.nullcontext(OnTheFake()))
    local = tmp_path / "app.conf"
    args = build_parser().parse_args(["cp", "web:/etc/app.conf", str(local), "-o", "json"])
    assert cli_cp.run(args) == 0
    printed = json.loads(capsys.readouterr().out)
    [result] = results
    assert json.loads(json.dumps(result.to_dict())) == printed
    assert printed["direction"] == "out" and printed["files"] == 1
    assert printed["checksum"] == "verified" and printed["local"] == str(local)
