"""``podscope debug POD -o json -- CMD`` on the in-memory API server: -o changes only what is
printed. The run is the one without -o (the exec model, the debugger reused), podscope exits
with the command's code, and the document holds the command's output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podscope.cli.main import main
from podscope.rules.debugger import key_of
from tests.unit.fakekube import FakeKube, install_clock
from tests.unit.session.debugger_runtime import Runtime

MARKED = ("sh", "-c", "echo out-marker; echo err-marker >&2; exit 5")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeKube]:
    import podscope.kube.config as config
    import podscope.session.exec_session as exec_session

    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    monkeypatch.setattr(exec_session, "time", kube.clock)
    # The CLI's client is the fake; no config file or environment of the user's applies.
    monkeypatch.setattr(config, "connect", lambda *args, **kw: kube)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("PODSCOPE_IMAGE", "PODSCOPE_RECORD", "PODSCOPE_RECORD_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    kube.running_pod("web")
    yield kube
    kube.close()


def _session(pod: str, name: str, words: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
    if words == list(MARKED):
        return b"out-marker\n", b"err-marker\n", 5
    return b"ok\n", b"", 0


def _debuggers(fake: FakeKube) -> list[dict[str, Any]]:
    containers = fake.pod("web")["spec"].get("ephemeralContainers") or []
    return [c for c in containers if key_of(c) is not None]


def _debug(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["debug", "web", "--image", "busybox:1", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_runs_as_without_it_and_exits_with_the_commands_code(
    fake: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(fake, session=_session)
    code, out, err = _debug(capsys, "-o", "json", "--", *MARKED)
    assert code == 5, err
    document = json.loads(out)  # stdout is the document alone
    assert (document["model"], document["attached"], document["exit_code"]) == ("exec", True, 5)
    assert (document["stdout"], document["stderr"]) == ("out-marker\n", "err-marker\n")
    assert "marker" not in err
    assert [s[2] for s in runtime.sessions] == [list(MARKED)]


def test_json_output_reuses_the_debugger_as_a_run_without_it_does(
    fake: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    Runtime(fake, session=_session)
    plain, _, _ = _debug(capsys, "--", "true")
    code, out, err = _debug(capsys, "-o", "json", "--", "true")
    assert (plain, code) == (0, 0), err
    document = json.loads(out)
    (debugger,) = _debuggers(fake)
    assert document["container"] == debugger["name"] and document["created"] is False
    assert document["stdout"] == "ok\n"
    again, out, _ = _debug(capsys, "-o", "yaml", "--", *MARKED)
    assert again == 5 and "out-marker" in out
    assert len(_debuggers(fake)) == 1


def test_no_attach_with_json_output_prints_the_container_and_captures_nothing(
    fake: FakeKube, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    code, out, err = _debug(capsys, "--no-attach", "-o", "json", "--", "sleep", "600")
    assert code == 0, err
    document = json.loads(out)
    assert (document["model"], document["attached"]) == ("attach", False)
    assert document["spec"]["command"] == ["sleep", "600"]
    assert "stdout" not in document  # nothing was attached to, so nothing was captured
