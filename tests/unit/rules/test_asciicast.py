"""asciicast v2 encoding and decoding (the format asciinema reads)."""

from __future__ import annotations

import io
import json

import pytest
from asciinema.asciicast import v2 as asciinema_v2

from podscope.errors import ValidationError
from podscope.rules.asciicast import (
    CastEvent,
    TextChunks,
    event_line,
    header_line,
    parse_cast,
    playback,
    resize_data,
)


def _cast_text() -> str:
    env = {"TERM": "xterm-256color", "SHELL": "/bin/sh", "KUBE_TOKEN": "abc", "HOME": "/root"}
    return (
        header_line(120, 40, 1796128809.7, env, "podscope debug web -n shop")
        + event_line(0.1234567, "o", "héllo\r\n")
        + event_line(0.5, "i", "ls\r")
        + event_line(0.75, "r", resize_data(100, 30))
        + event_line(1.25, "o", "\u001b[1mbold\u001b[0m")
    )


def test_the_header_holds_size_time_title_and_only_the_rendering_env() -> None:
    header = json.loads(_cast_text().splitlines()[0])
    assert header == {
        "version": 2,
        "width": 120,
        "height": 40,
        "timestamp": 1796128809,
        "env": {"SHELL": "/bin/sh", "TERM": "xterm-256color"},
        "title": "podscope debug web -n shop",
    }


def test_events_are_seconds_code_data_with_microsecond_precision() -> None:
    assert json.loads(event_line(0.1234567, "o", "x")) == [0.123457, "o", "x"]
    assert json.loads(event_line(-0.5, "o", "x"))[0] == 0.0
    assert resize_data(100, 30) == "100x30"
    with pytest.raises(ValueError):
        event_line(1.0, "x", "nope")


def test_asciinema_s_own_reader_reads_what_podscope_writes() -> None:
    lines = io.StringIO(_cast_text())
    with asciinema_v2.open_from_file(lines.readline(), lines) as cast:
        assert cast.v2_header["width"] == 120 and cast.v2_header["height"] == 40
        events = list(cast.events())
    assert [e[1] for e in events] == ["o", "i", "r", "o"]
    assert events[0][2] == "héllo\r\n" and events[2][2] == "100x30"


def test_parse_reads_back_every_event_in_order() -> None:
    cast = parse_cast(_cast_text().splitlines(keepends=True))
    assert cast.header["title"] == "podscope debug web -n shop"
    assert cast.events[1] == CastEvent(0.5, "i", "ls\r")
    assert cast.output == "héllo\r\n\u001b[1mbold\u001b[0m"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ('{"version": 1, "width": 80, "height": 24}\n', "not asciicast v2"),
        ('{"version": 2, "width": 0, "height": 24}\n', "width"),
        ('{"version": 2, "width": 80, "height": 24}\n[1, "o"]\n', "line 2"),
        ('{"version": 2, "width": 80, "height": 24}\n[-1, "o", "x"]\n', "line 2"),
        ('{"version": 2, "width": 80, "height": 24}\n{oops\n', "line 2: not JSON"),
    ],
)
def test_a_file_that_is_not_asciicast_v2_is_refused_naming_why(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_cast(text.splitlines(keepends=True), "rec.cast")
    assert words in caught.value.message and "rec.cast" in caught.value.message


def test_a_character_split_between_chunks_is_written_once_whole() -> None:
    chunks = TextChunks()
    data = "é€".encode()
    assert chunks.feed(data[:1]) == ""
    assert chunks.feed(data[1:4]) == "é"
    assert chunks.feed(data[4:]) == "€"
    assert chunks.feed(b"\xff ok") == "\ufffd ok"
    assert chunks.feed(b"\xe2") == "" and chunks.flush() == "\ufffd"


def test_playback_keeps_the_pauses_scaled_by_speed_and_skips_input_and_resizes() -> None:
    events = parse_cast(_cast_text().splitlines()).events
    assert list(playback(events)) == [(0.123457, "héllo\r\n"), (1.25 - 0.123457, events[3].data)]
    fast = list(playback(events, speed=2))
    assert fast[1][0] == pytest.approx((1.25 - 0.123457) / 2)
    assert [pause for pause, _ in playback(events, instant=True)] == [0.0, 0.0]
    with pytest.raises(ValueError):
        list(playback(events, speed=0))
