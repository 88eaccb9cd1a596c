"""The one duration grammar behind ``--ttl`` and ``--older-than``: plain seconds (``600``) or
NUMBER UNIT parts written together (``1h30m``), summed. Each flag brings its own units, its
bounds and its wording; the refusals in between are the same for both."""

from __future__ import annotations

import re
from collections.abc import Mapping

from podscope.errors import UsageError


def parse_seconds(
    text: object,
    flag: str,
    *,
    part: re.Pattern[str],
    units: Mapping[str, float],
    example: str,
    fix: str,
    fix_wrong_type: bool,
) -> float:
    """Seconds of ``text``; ``part`` matches one NUMBER UNIT part, ``units`` maps a unit to
    its seconds. A value of the wrong type, an empty, negative or unparsable one is refused
    with ``fix`` as the remedy (for the wrong type only when ``fix_wrong_type``); ``example``
    is a duration the type error shows."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise UsageError(
            f"{flag} must be a duration such as {example}, not {text!r}",
            remedy=fix if fix_wrong_type else None,
        )
    value = str(text).strip().lower()
    if not value:
        raise UsageError(f"{flag} needs a duration; it was given an empty one", remedy=fix)
    if value.startswith("-"):
        raise UsageError(f"{flag} {text!r} is negative", remedy=fix)
    if value.isdigit():
        return float(value)
    pos, seconds = 0, 0.0
    for match in part.finditer(value):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * units[match.group(2)]
        pos = match.end()
    if pos != len(value) or pos == 0:
        raise UsageError(f"{flag} {text!r} is not a duration", remedy=fix)
    return seconds
