"""Formatting helpers that keep every error message on one line.

User data (names, values, keys, file names) is quoted and escaped before it reaches a message:
a value with a newline or an ANSI escape must never be able to forge extra output lines.
Error texts follow the API server's ``field.Error`` wording (``<path>: Invalid value: ...``)
so a message from podscope reads like the one the cluster would have given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from podscope.errors import ValidationError

_MAX_QUOTED = 80
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(value: object, limit: int = _MAX_QUOTED) -> str:
    """A one-line, escaped, length-capped rendering of ``value`` (like Go's ``%q``)."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit]
        rendered = json.dumps(text, ensure_ascii=True)
        return rendered if len(value) <= limit else rendered[:-1] + '..."'
    try:
        rendered = json.dumps(value, ensure_ascii=True, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        rendered = json.dumps(repr(value), ensure_ascii=True)
    return rendered if len(rendered) <= limit else rendered[: limit - 3] + "..."


def clean(text: str, limit: int = 200) -> str:
    """Escape control characters in free text (file names, parser messages); cap its length."""
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def child(path: str, key: object) -> str:
    """``path.key`` for ordinary keys; ``path["odd key"]`` when the key needs quoting."""
    if isinstance(key, str) and _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{quote(key, 40)}]"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,63}")


def names(items: Iterable[str]) -> str:
    """``a, b, c`` for a list of names shown to the user; odd names are quoted."""
    listed = [n if _PLAIN.fullmatch(n) else quote(n, 40) for n in items]
    return ", ".join(listed) if listed else "(none)"


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def required(field: str, detail: str = "", remedy: str | None = None) -> ValidationError:
    suffix = f": {detail}" if detail else ""
    return ValidationError(f"{field}: Required value{suffix}", field=field, remedy=remedy)


def invalid(field: str, value: object, detail: str, remedy: str | None = None) -> ValidationError:
    return ValidationError(
        f"{field}: Invalid value: {quote(value)}: {detail}", field=field, remedy=remedy
    )


def forbidden(field: str, detail: str, remedy: str | None = None) -> ValidationError:
    return ValidationError(f"{field}: Forbidden: {detail}", field=field, remedy=remedy)


def not_found(field: str, value: object, remedy: str | None = None) -> ValidationError:
    return ValidationError(f"{field}: Not found: {quote(value)}", field=field, remedy=remedy)


def duplicate(field: str, value: object, remedy: str | None = None) -> ValidationError:
    return ValidationError(f"{field}: Duplicate value: {quote(value)}", field=field, remedy=remedy)


def not_supported(
    field: str, value: object, supported: Iterable[str], remedy: str | None = None
) -> ValidationError:
    listed = ", ".join(json.dumps(s) for s in supported)
    return ValidationError(
        f"{field}: Unsupported value: {quote(value)}: supported values: {listed}",
        field=field,
        remedy=remedy,
    )


def wrong_type(field: str, value: object, expected: str) -> ValidationError:
    return invalid(field, value, f"must be {expected}, not a {type_name(value)}")
