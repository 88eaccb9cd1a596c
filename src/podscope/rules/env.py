"""``--env NAME=VALUE`` parsing and environment variable name rules.

Name rule: Kubernetes 1.34 made ``RelaxedEnvironmentVariableValidation`` GA (beta and on by
default since 1.32): a name is any non-empty string of printable ASCII other than '='.
Older servers use the strict rule ``[-._a-zA-Z][-._a-zA-Z0-9]*`` (and refuse '.', '..' and a
leading '..'). ``relaxed=True`` is the default because the server is the authority and
podscope cannot know its version here; callers that know they talk to an older server pass
``relaxed=False`` to fail before the request instead of at it.

Duplicates: the last value wins and the variable keeps the position of its first occurrence,
like setting a key twice in a map (kubectl's ``--env`` is a map) but in a stable order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from podscope.errors import UsageError
from podscope.rules._fmt import invalid, quote, required, wrong_type

_STRICT_RE = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
STRICT_RULE = (
    "a valid environment variable name must consist of alphabetic characters, digits, "
    "'_', '-', or '.', and must not start with a digit"
)
RELAXED_RULE = (
    "a valid environment variable name must consist only of printable ASCII characters "
    "other than '='"
)


def env_name_problem(name: str, *, relaxed: bool = True) -> str | None:
    """The API server's complaint about ``name``, or None when it is a valid name."""
    if not name:
        return "environment variable name must be non-empty"
    if relaxed:
        if any(not (" " <= ch <= "~") or ch == "=" for ch in name):
            return RELAXED_RULE
        return None
    if not _STRICT_RE.fullmatch(name):
        return STRICT_RULE
    if name == ".":
        return "must not be '.'"
    if name == "..":
        return "must not be '..'"
    if name.startswith(".."):
        return "must not start with '..'"
    return None


def validate_env_name(name: object, field: str, *, relaxed: bool = True) -> None:
    """Raise ``ValidationError`` (API wording) unless ``name`` is a valid env var name."""
    if not isinstance(name, str):
        raise wrong_type(field, name, "a string")
    if not name:
        raise required(field, "an environment variable needs a name")
    problem = env_name_problem(name, relaxed=relaxed)
    if problem:
        raise invalid(field, name, problem)


def parse_env(items: Iterable[str], *, relaxed: bool = True) -> list[dict[str, str]]:
    """``["K=V", ...]`` -> ``[{"name": "K", "value": "V"}, ...]``.

    The value is everything after the first '=' (it may contain '=' or be empty).
    """
    order: list[str] = []
    values: dict[str, str] = {}
    for position, item in enumerate(items):
        field = f"--env[{position}]"
        if not isinstance(item, str):
            raise UsageError(f"{field}: expected NAME=VALUE, got a {type(item).__name__}")
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(
                f"--env {quote(item)}: expected NAME=VALUE (no '=' found)",
                remedy="write --env NAME=VALUE, e.g. --env LOG_LEVEL=debug (VALUE may be empty)",
            )
        if not name:
            raise UsageError(
                f"--env {quote(item)}: the variable name before '=' is empty",
                remedy="write --env NAME=VALUE, e.g. --env LOG_LEVEL=debug",
            )
        validate_env_name(name, field, relaxed=relaxed)
        if name not in values:
            order.append(name)
        values[name] = value
    return [{"name": name, "value": values[name]} for name in order]
