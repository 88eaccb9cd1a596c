"""What a ``podscope cp`` is asked to do, and what it did: the data in and out of ``run_cp``."""

from __future__ import annotations

from dataclasses import dataclass, field

from podscope.rules.requests import DEFAULT_TIMEOUT
from podscope.session.cp.progress import ProgressCallback


@dataclass
class CpOptions:
    source: str
    dest: str
    namespace: str | None = None
    container: str | None = None  # the target container (-c)
    image: str = "docker.io/library/busybox:latest"
    image_pull_policy: str | None = None
    checksum: bool = True
    on_progress: ProgressCallback | None = None  # hears how the transfer advances
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class CpResult:
    direction: str  # "out" (Pod to local) or "in"
    pod: str
    namespace: str
    target: str
    helper: str
    helper_created: bool
    remote: str
    local: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    checksum: str = "skipped"  # "verified" | "skipped"
    skipped: list[str] = field(default_factory=list)  # entries not copied (devices, fifos)
