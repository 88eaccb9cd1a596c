"""``podscope replay FILE``: play an asciicast v2 recording back on a local stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from podscope.errors import ConfigError, NotFoundError
from podscope.rules.asciicast import Cast, parse_cast, playback
from podscope.rules.requests import ReplayRequest


def read_cast(path: str) -> Cast:
    """The recording at ``path``, checked to be asciicast v2."""
    file = Path(path)
    try:
        with file.open(encoding="utf-8", errors="replace") as lines:
            return parse_cast(lines, str(file))
    except FileNotFoundError:
        raise NotFoundError(f"recording {file} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{file} is a directory, not a recording") from None
    except OSError as exc:
        raise ConfigError(f"cannot read recording {file}: {exc.strerror}") from None


def run_replay(
    request: ReplayRequest,
    out: BinaryIO,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Cast:
    """Write the recording's output to ``out`` at its recorded pace (``speed`` times faster),
    or at once (``instant``); returns the recording."""
    request.validate()
    cast = read_cast(request.file)
    for pause, text in playback(cast.events, request.speed, request.instant):
        if pause > 0:
            sleep(pause)
        out.write(text.encode("utf-8"))
        out.flush()
    return cast
