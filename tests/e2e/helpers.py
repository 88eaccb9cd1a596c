"""Small helpers shared by the e2e tests."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def podscope(
    env: dict[str, str], *args: str, timeout: float = 120, input: str | None = ""
) -> subprocess.CompletedProcess[str]:
    """Run the podscope CLI as a user would, in its own process.

    stdin is a pipe (never a terminal): ``input`` is written to it and it is closed. Pass
    ``input=None`` to inherit the test runner's stdin instead.
    """
    return subprocess.run(
        [sys.executable, "-m", "podscope", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def ephemeral(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The Pod's ephemeral containers (an empty list when it has none)."""
    return list(pod["spec"].get("ephemeralContainers") or [])
