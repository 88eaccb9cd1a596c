"""The two duration flags share one parser: each keeps its own wording, units and hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from podscope.errors import UsageError
from podscope.rules.debugger import parse_duration
from podscope.rules.inventory import parse_age

TTL_FIX = "give --ttl a positive duration such as 90s, 15m or 1h30m"
AGE_FIX = "give --older-than a duration such as 30m, 12h or 7d"


@pytest.mark.parametrize(
    ("parse", "text", "message", "remedy"),
    [
        (parse_duration, 1.5, "--ttl must be a duration such as 15m, not 1.5", None),
        (parse_age, 1.5, "--older-than must be a duration such as 7d, not 1.5", AGE_FIX),
        (parse_duration, " ", "--ttl needs a duration; it was given an empty one", TTL_FIX),
        (parse_age, "-1", "--older-than '-1' is negative", AGE_FIX),
        (parse_duration, "1w", "--ttl '1w' is not a duration", TTL_FIX),
        (parse_age, "500ms", "--older-than '500ms' is not a duration", AGE_FIX),
        (parse_age, "1.5h", "--older-than '1.5h' is not a duration", AGE_FIX),
    ],
)
def test_refusals_keep_each_flags_wording(
    parse: Callable[[object], int], text: Any, message: str, remedy: str | None
) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.remedy) == (message, remedy)


@pytest.mark.parametrize(
    ("parse", "text", "seconds"),
    [
        (parse_duration, "1500ms", 1),
        (parse_duration, "1.5h", 5400),
        (parse_duration, " 2H ", 7200),
        (parse_age, "1w1d", 8 * 86400),
        (parse_age, 600, 600),
    ],
)
def test_each_flag_has_its_own_units(
    parse: Callable[[object], int], text: Any, seconds: int
) -> None:
    value = parse(text)
    assert value == seconds and type(value) is int
