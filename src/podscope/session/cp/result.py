"""What a ``podscope cp`` did: the result of ``run_cp`` (what it is asked is a ``CpRequest``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from podscope.rules.results import ResultDict


@dataclass
class CpResult(ResultDict):
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
