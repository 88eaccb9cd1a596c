"""Test set-up shared by unit and e2e tests: make the repository's devcluster importable."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded 2-core machine (a cluster runs
# beside them); correctness, not speed, is what they check.
settings.register_profile("podscope", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("podscope")

# A suite started in the background of a non-interactive shell (`cmd &`, nohup) inherits
# SIGINT ignored, and so would every podscope it starts: the Ctrl-C tests would then test the
# shell, not podscope. Give children the disposition an interactive terminal gives them.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


def _children(pid: int) -> set[int]:
    """Live children of ``pid`` (from /proc/PID/task/*/children: no scan of every process)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError, ValueError):
            found.update(
                int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            )
    return found


def descendants(root: int | None = None) -> set[int]:
    """Processes below ``root`` (default: this pytest process)."""
    found: set[int] = set()
    todo = [os.getpid() if root is None else root]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_processes(pids: set[int]) -> None:
    """SIGKILL each process and, when it leads its own group, the whole group."""
    own_group = os.getpgrp()
    for pid in pids:
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


def _become_subreaper() -> None:
    # Orphaned grandchildren (a CLI's own children, left when it is killed) are re-parented to
    # this process instead of init, so the cleanup below still finds them.
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


_become_subreaper()


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    """Kill what a test started and left running (a failure, a pytest-timeout, a forgotten
    ``Popen``): podscope CLI runs, pexpect sessions, proxies, and their children."""
    before = descendants()
    yield
    components = cluster_components()
    for pid in list(components):
        components |= descendants(pid)
    kill_processes(descendants() - before - components)


def cluster_components() -> set[int]:
    """The devcluster's own processes: a fault test restarts the API server or the kubelet as
    a child of this process, and they must outlive the test (both releases' PID files)."""
    found: set[int] = set()
    for pid_file in Path("/var/lib").glob("podscope-devcluster*/run/*.pid"):
        with contextlib.suppress(OSError, ValueError):
            found.add(int(pid_file.read_text().split()[0]))
    return found
