"""The result of one doctor check, and how a list of them becomes a verdict (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from podscope.errors import ExitCode

Result = Literal["ok", "warn", "fail"]
RESULTS: tuple[Result, ...] = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Finding:
    """One line of the checklist.

    ``check`` is a stable identifier (scripts match on it in ``-o json``); ``evidence`` is what
    was seen, in one line; ``remedy`` says what to do, and is set for every warn and fail.
    """

    check: str
    result: Result
    evidence: str
    remedy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(check: str, evidence: str, remedy: str | None = None) -> Finding:
    return Finding(check, "ok", evidence, remedy)


def warn(check: str, evidence: str, remedy: str) -> Finding:
    return Finding(check, "warn", evidence, remedy)


def fail(check: str, evidence: str, remedy: str) -> Finding:
    return Finding(check, "fail", evidence, remedy)


def worst(findings: Iterable[Finding]) -> Result:
    """The most serious result among ``findings`` ("ok" for none)."""
    rank = {result: i for i, result in enumerate(RESULTS)}
    current: Result = "ok"
    for finding in findings:
        if rank[finding.result] > rank[current]:
            current = finding.result
    return current


def ready(findings: Iterable[Finding]) -> bool:
    """Debugging can work when nothing failed; warnings are things to know, not blockers."""
    return worst(findings) != "fail"


def exit_code(findings: Iterable[Finding]) -> ExitCode:
    return ExitCode.OK if ready(findings) else ExitCode.DOCTOR_FAILED
