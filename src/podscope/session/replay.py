"""``podscope replay FILE``: play an asciicast v2 recording back on a local stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from podscope.errors import UsageError
from podscope.rules.asciicast import Cast, parse_cast, playback
from podscope.rules.requests import ReplayRequest

# A local path that cannot be read is a bad command line (exit 2), as for `apply FILE`.
_REMEDY = "give the .cast file that --record wrote (podscope replay DIR/NAME.cast)"


def read_cast(path: str) -> Cast:
    """The recording at ``path``, checked to be asciicast v2."""
    file = Path(path)
    try:
        with file.open(encoding="utf-8", errors="replace") as lines:
            return parse_cast(lines, str(file))
    except FileNotFoundError:
        raise UsageError(f"recording {file} not found", remedy=_REMEDY) from None
    except IsADirectoryError:
        raise UsageError(f"{file} is a directory, not a recording", remedy=_REMEDY) from None
    except OSError as exc:
        raise UsageError(f"cannot read recording {file}: {exc.strerror}", remedy=_REMEDY) from None


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
