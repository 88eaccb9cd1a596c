"""``podscope replay FILE``: an asciicast v2 recording played back on a stream."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from podscope.errors import UsageError, ValidationError
from podscope.rules.requests import ReplayRequest
from podscope.session.replay import run_replay


def _cast(
    tmp_path: Path, events: list[list[object]], header: dict[str, object] | None = None
) -> str:
    path = tmp_path / "session.cast"
    head = header if header is not None else {"version": 2, "width": 80, "height": 24}
    lines = [json.dumps(head)] + [json.dumps(e) for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


EVENTS: list[list[object]] = [
    [0.5, "o", "$ ls\r\n"],
    [0.6, "i", "ls\r"],  # typed input shows through the echo: not replayed
    [1.5, "r", "100x30"],
    [2.5, "o", "a  b\r\n"],
    [2.5, "o", "é"],
]


def _play(request: ReplayRequest) -> tuple[bytes, list[float]]:
    out = io.BytesIO()
    pauses: list[float] = []
    run_replay(request, out, sleep=pauses.append)
    return out.getvalue(), pauses


def test_the_output_is_written_at_the_recorded_pace(tmp_path: Path) -> None:
    written, pauses = _play(ReplayRequest(file=_cast(tmp_path, EVENTS)))
    assert written == "$ ls\r\na  b\r\né".encode()
    assert pauses == [0.5, 2.0]  # no pause of zero is slept


def test_speed_divides_the_pauses_and_instant_drops_them(tmp_path: Path) -> None:
    file = _cast(tmp_path, EVENTS)
    assert _play(ReplayRequest(file=file, speed=2))[1] == [0.25, 1.0]
    written, pauses = _play(ReplayRequest(file=file, instant=True))
    assert written == "$ ls\r\na  b\r\né".encode() and pauses == []


def test_the_recording_is_returned(tmp_path: Path) -> None:
    cast = run_replay(
        ReplayRequest(file=_cast(tmp_path, EVENTS)), io.BytesIO(), sleep=lambda s: None
    )
    assert cast.header["width"] == 80 and len(cast.events) == len(EVENTS)
    assert cast.output == "$ ls\r\na  b\r\né"


def test_a_missing_file_a_directory_and_an_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"recording .*nope.cast not found"):
        _play(ReplayRequest(file=str(tmp_path / "nope.cast")))
    with pytest.raises(UsageError, match="is a directory, not a recording"):
        _play(ReplayRequest(file=str(tmp_path)))
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(UsageError, match="cannot read recording .*: Not a directory"):
        _play(ReplayRequest(file=str(plain / "x.cast")))


def test_what_is_not_asciicast_v2_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = io.BytesIO()
    v1 = _cast(tmp_path, EVENTS, {"version": 1, "width": 80, "height": 24})
    with pytest.raises(ValidationError, match="is not asciicast v2"):
        run_replay(ReplayRequest(file=v1), out, sleep=lambda s: None)
    assert out.getvalue() == b""


def test_a_bad_speed_is_refused(tmp_path: Path) -> None:
    for speed in (0, -1, float("inf"), float("nan")):
        with pytest.raises(UsageError, match="--speed must be a finite number above 0"):
            _play(ReplayRequest(file=_cast(tmp_path, EVENTS), speed=speed))
