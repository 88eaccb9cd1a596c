"""The asciicast v2 format: a session's recording, one JSON document per line.

The first line is a header object (``version`` 2, ``width``, ``height``, ``timestamp``,
``env``, ``title``); every following line is an event ``[seconds, code, data]``, ``seconds``
counted from the start: ``"o"`` output, ``"i"`` input, ``"r"`` a resize (``"COLSxROWS"``).
Pure encoding and decoding; files are opened by the session layer.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import ValidationError

VERSION = 2
DEFAULT_SIZE = (80, 24)
OUTPUT, INPUT, RESIZE = "o", "i", "r"
CODES = frozenset({OUTPUT, INPUT, RESIZE, "m"})  # "m": a marker, written by other recorders
# Only these local variables go into the header: they say how to render, and hold no secrets.
HEADER_ENV = ("SHELL", "TERM")


def header_line(
    width: int, height: int, timestamp: float, env: Mapping[str, str], title: str
) -> str:
    """The header line (with its newline)."""
    header: dict[str, Any] = {
        "version": VERSION,
        "width": int(width),
        "height": int(height),
        "timestamp": int(timestamp),
        "env": {key: env[key] for key in HEADER_ENV if env.get(key)},
        "title": title,
    }
    return json.dumps(header, ensure_ascii=False) + "\n"


def event_line(seconds: float, code: str, data: str) -> str:
    """One event line (with its newline); time in microseconds' precision, never negative."""
    if code not in CODES:
        raise ValueError(f"unknown asciicast event code {code!r}")
    return json.dumps([round(max(seconds, 0.0), 6), code, data], ensure_ascii=False) + "\n"


def resize_data(cols: int, rows: int) -> str:
    return f"{int(cols)}x{int(rows)}"


class TextChunks:
    """Bytes of one stream as text, a chunk at a time: a UTF-8 character split between two
    chunks is held back until its end arrives; bytes that are not UTF-8 become U+FFFD."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)


@dataclass(frozen=True)
class CastEvent:
    seconds: float
    code: str
    data: str


@dataclass(frozen=True)
class Cast:
    header: dict[str, Any]
    events: list[CastEvent] = field(default_factory=list)

    @property
    def output(self) -> str:
        """Everything the terminal showed, without the timing."""
        return "".join(e.data for e in self.events if e.code == OUTPUT)


def parse_cast(lines: Iterable[str], source: str = "the recording") -> Cast:
    """Read an asciicast v2 recording; anything else is a ValidationError naming the line."""
    numbered = enumerate(lines, start=1)
    header: dict[str, Any] | None = None
    for number, line in numbered:
        if line.strip():
            header = _json(line, number, source)
            break
    if not isinstance(header, dict):
        raise ValidationError(f"{source} is empty or does not start with an asciicast header")
    if header.get("version") != VERSION:
        raise ValidationError(
            f"{source} is not asciicast v2 (its header says version {header.get('version')!r})"
        )
    for key in ("width", "height"):
        if not isinstance(header.get(key), int) or header[key] <= 0:
            raise ValidationError(f"{source}: the header's {key} is not a positive integer")
    events: list[CastEvent] = []
    for number, line in numbered:
        if not line.strip():
            continue
        item = _json(line, number, source)
        if (
            not isinstance(item, list)
            or len(item) != 3
            or isinstance(item[0], bool)
            or not isinstance(item[0], (int, float))
            or not math.isfinite(item[0])
            or item[0] < 0
            or not isinstance(item[1], str)
            or not isinstance(item[2], str)
        ):
            raise ValidationError(
                f"{source}, line {number}: an event must be [seconds, code, data]"
            )
        events.append(CastEvent(float(item[0]), item[1], item[2]))
    return Cast(header, events)


def _json(line: str, number: int, source: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise ValidationError(f"{source}, line {number}: not JSON") from None


def playback(
    events: Iterable[CastEvent], speed: float = 1.0, instant: bool = False
) -> Iterator[tuple[float, str]]:
    """The output to write and the pause before each piece: (pause in seconds, text).

    Input and resize events are not replayed (what was typed shows in the output, as the
    terminal echoed it; a terminal cannot be resized from here). ``instant``: no pauses.
    """
    if speed <= 0 or not math.isfinite(speed):
        raise ValueError("speed must be a positive number")
    previous = 0.0
    for event in events:
        if event.code != OUTPUT:
            continue
        pause = 0.0 if instant else max(event.seconds - previous, 0.0) / speed
        previous = max(previous, event.seconds)
        yield pause, event.data
