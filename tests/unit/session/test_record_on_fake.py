"""A recorded session on the in-memory API server: the recording, the receipt, the Events,
and what happens when any of them cannot be made."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import RecordError
from podscope.rules.asciicast import parse_cast
from podscope.rules.requests import DebugRequest
from podscope.session.ephemeral import DebugResult, run_debug
from podscope.session.io import SessionIO
from podscope.session.record import RecordOptions, record_session
from podscope.session.settings import resolve_record
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube
from tests.unit.session.conftest import Messages, session_io


def _exits(fake: FakeKube, code: int, out: bytes, err: bytes = b"") -> None:
    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate("web", "dbg", code)
        return out, err, code

    fake.programs["dbg"] = program
    fake.when_idle(lambda: fake.kubelet.start("web", "dbg"))


def _options(directory: Path | None, **kw: Any) -> RecordOptions:
    return RecordOptions(
        directory=str(directory) if directory is not None else None,
        target="web",
        namespace=FakeKube().namespace,
        context="fake",
        kubeconfig_user="kc-user",
        profile="legacy",
        **kw,
    )


def _run(fake: FakeKube, io_: SessionIO, options: RecordOptions) -> DebugResult:
    request = DebugRequest(pod="web", image="busybox:1", container="dbg", command=("ps",))
    return record_session(fake, options, io_, lambda s: run_debug(fake, request, s))


def _files(directory: Path) -> tuple[Path, dict[str, Any]]:
    (cast,) = directory.glob("*.cast")
    (receipt,) = directory.glob("*.receipt.json")
    assert receipt.name == cast.name.removesuffix(".cast") + ".receipt.json"
    return cast, json.loads(receipt.read_text())


def test_a_session_leaves_a_recording_a_receipt_and_events(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    fake.running_pod("web")
    _exits(fake, 3, b"h\xc3\xa9 ok\n", b"warn\n")
    out = io.BytesIO()
    local = LocalIO(stdin=None, stdout=out, stderr=io.BytesIO())
    result = _run(fake, session_io(messages, local), _options(tmp_path / "rec"))
    assert result.exit_code == 3 and out.getvalue() == b"h\xc3\xa9 ok\n"
    cast, receipt = _files(tmp_path / "rec")
    assert cast.stat().st_mode & 0o777 == 0o600
    assert parse_cast(cast.read_text().splitlines()).output == "hé ok\nwarn\n"
    assert receipt["recording_sha256"] == hashlib.sha256(cast.read_bytes()).hexdigest()
    assert receipt["who"] == {
        "username": "fake-user",
        "source": "selfsubjectreview",
        "uid": None,
        "groups": ["g"],
        "extra": {},
    }
    assert (receipt["pod"], receipt["container"], receipt["exit_code"]) == ("web", "dbg", 3)
    assert (receipt["image"], receipt["context"], receipt["end"] is not None) == (
        "busybox:1",
        "fake",
        True,
    )
    reasons = [e["reason"] for e in fake.created_events]
    assert reasons == ["PodscopeDebuggerCreated", "PodscopeSession"]
    assert all(e["involvedObject"]["name"] == "web" for e in fake.created_events)
    assert "fake-user" in fake.created_events[1]["message"]


def test_without_selfsubjectreview_the_kubeconfig_user_is_named_and_marked(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    fake.running_pod("web")
    _exits(fake, 0, b"ok\n")
    fake.user_info = None  # a 1.21 server
    _run(fake, session_io(messages), _options(tmp_path))
    _, receipt = _files(tmp_path)
    assert receipt["who"] == {"username": "kc-user", "source": "kubeconfig"}
    assert not [m for m in messages if "warning" in m or "could not ask" in m]


def test_without_create_events_one_warning_and_the_session_goes_on(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    fake.running_pod("web")
    _exits(fake, 0, b"ok\n")
    fake.denied.add(("create", "events", None))
    result = _run(fake, session_io(messages), _options(tmp_path))
    assert result.exit_code == 0
    warned = [m for m in messages if "Event" in m]
    assert len(warned) == 1 and "RBAC does not allow create events" in warned[0]
    assert _files(tmp_path)[1]["exit_code"] == 0


def test_required_and_unwritable_refuses_before_any_request(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    fake.running_pod("web")
    blocker = tmp_path / "file"
    blocker.write_text("")
    before = len(fake.calls)
    with pytest.raises(RecordError) as caught:
        _run(fake, session_io(messages), _options(blocker / "rec", required=True))
    assert caught.value.exit_code == 19 and "Not a directory" in caught.value.message
    assert fake.calls[before:] == [] and fake.added == {}
    with pytest.raises(RecordError):
        _run(fake, session_io(messages), _options(None, required=True))
    assert fake.calls[before:] == []


def test_not_required_and_unwritable_warns_and_runs_unrecorded(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    fake.running_pod("web")
    _exits(fake, 0, b"ok\n")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _run(fake, session_io(messages), _options(blocker))
    assert result.exit_code == 0
    assert [m for m in messages if "goes on unrecorded" in m]


def test_input_is_kept_only_when_asked_and_asking_warns(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    from podscope.session.record import INPUT_WARNING

    for record_input, directory in ((False, tmp_path / "a"), (True, tmp_path / "b")):
        io_ = session_io(messages)
        seen: list[Any] = []

        def session(s: SessionIO, seen: list[Any] = seen) -> None:
            assert s.local is not None and s.local.tap is not None
            s.local.tap.input(b"secret\r")
            s.local.tap.resize(100, 30)
            s.local.tap.resize(100, 30)  # unchanged: no event
            seen.append(True)

        record_session(fake, _options(directory, record_input=record_input), io_, session)
        cast, _ = _files(directory)
        codes = [e.code for e in parse_cast(cast.read_text().splitlines()).events]
        assert codes == (["i", "r"] if record_input else ["r"]) and seen
    assert messages.count(INPUT_WARNING) == 1


def test_the_directory_comes_from_the_flag_the_environment_or_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("record: /srv/casts\nrecord_required: true\n")
    env = {"PODSCOPE_RECORD": "/env/casts"}
    assert resolve_record("/flag", False, env, config) == ("/flag", True, "--record")
    assert resolve_record(None, False, env, config) == ("/env/casts", True, "$PODSCOPE_RECORD")
    assert resolve_record(None, False, {}, config) == ("/srv/casts", True, str(config))
    assert resolve_record(None, False, {}, tmp_path / "none.yaml") == (None, False, "default")
    config.write_text("record_required: yes please\n")
    with pytest.raises(Exception, match="record_required"):
        resolve_record(None, False, {}, config)


def test_a_session_that_fails_still_gets_its_receipt_with_the_error(
    fake: FakeKube, messages: Messages, tmp_path: Path
) -> None:
    from podscope.errors import PodGoneError
    from podscope.session.io import StreamStart

    pod = fake.running_pod("web")

    def session(s: SessionIO) -> None:
        s.stream_starts(StreamStart(pod, "app", ("sh",), "exec"))
        assert s.local is not None
        s.local.stdout.write(b"partial\n")
        raise PodGoneError("Pod web was deleted during the session")

    with pytest.raises(PodGoneError):
        record_session(fake, _options(tmp_path), session_io(messages), session)
    cast, receipt = _files(tmp_path)
    assert receipt["error"] == "Pod web was deleted during the session"
    assert receipt["exit_code"] is None and receipt["end"] is not None
    assert receipt["recording_sha256"] == hashlib.sha256(cast.read_bytes()).hexdigest()
    assert parse_cast(cast.read_text().splitlines()).output == "partial\n"
