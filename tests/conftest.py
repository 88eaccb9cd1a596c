"""Test set-up shared by unit and e2e tests: make the repository's devcluster importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded 2-core machine (a cluster runs
# beside them); correctness, not speed, is what they check.
settings.register_profile("podscope", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("podscope")

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


_skipped_e2e: list[str] = []
E2E_121 = REPO / "tests" / "e2e121"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # The 1.21 suite needs its own cluster: collected only when named on the command line.
    if collection_path == E2E_121 or E2E_121 in collection_path.parents:
        named = [Path(a.split("::")[0]).resolve() for a in config.args]
        if not any(p == E2E_121 or E2E_121 in p.parents for p in named):
            return True
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.nodeid.startswith(("tests/e2e/", "tests/e2e121/")):
        _skipped_e2e.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A skipped real-cluster test is a failure, not a pass.
    if _skipped_e2e and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_e2e:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped_e2e)} e2e test(s) were skipped: " + ", ".join(_skipped_e2e),
            red=True,
        )
