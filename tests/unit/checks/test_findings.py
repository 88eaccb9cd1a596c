"""Finding aggregation: the verdict and the exit code of `podscope doctor`."""

from __future__ import annotations

from podscope.checks.findings import Finding, exit_code, fail, ok, ready, warn, worst
from podscope.errors import ExitCode


def test_no_findings_is_ready() -> None:
    assert worst([]) == "ok"
    assert ready([])
    assert exit_code([]) == ExitCode.OK


def test_warnings_do_not_block() -> None:
    findings = [ok("a", "fine"), warn("b", "hmm", "look"), ok("c", "fine")]
    assert worst(findings) == "warn"
    assert ready(findings)
    assert exit_code(findings) == ExitCode.OK


def test_one_failure_blocks_whatever_its_position() -> None:
    for position in range(3):
        findings = [ok("a", "x"), warn("b", "y", "z")]
        findings.insert(position, fail("c", "broken", "fix it"))
        assert worst(findings) == "fail"
        assert not ready(findings)
        assert exit_code(findings) == ExitCode.DOCTOR_FAILED == 17


def test_to_dict_is_plain_data() -> None:
    assert Finding("x", "warn", "seen", "do").to_dict() == {
        "check": "x",
        "result": "warn",
        "evidence": "seen",
        "remedy": "do",
    }
    assert ok("x", "seen").remedy is None
