"""Progress messages: the library never prints; it calls a reporter with one line."""

from __future__ import annotations

from collections.abc import Callable

Reporter = Callable[[str], None]


def silent(message: str) -> None:
    """A reporter that drops everything (the Python API's default, and ``-q``)."""
