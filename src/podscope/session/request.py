"""What every debug session asks for about its container, whatever the mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT = 300.0  # seconds to wait for a container to start: generous, never infinite


@dataclass(kw_only=True)
class ContainerRequest:
    """The flags `debug`, `debug --copy-to` and `debug node/NAME` share, as plain data.

    ``command`` holds the words after ``--``: the container's command, or its args with
    ``arguments_only``. ``env`` holds ``NAME=VALUE`` strings; ``custom`` a partial container
    spec to merge (``--custom``).
    """

    container: str | None = None
    command: list[str] = field(default_factory=list)
    arguments_only: bool = False
    profile: str = "legacy"
    custom: dict[str, Any] | None = None
    env: list[str] = field(default_factory=list)
    image_pull_policy: str | None = None
    stdin: bool = False
    tty: bool = False
    attach: bool = True
    timeout: float = DEFAULT_TIMEOUT
