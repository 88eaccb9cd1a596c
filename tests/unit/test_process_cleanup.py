"""The suite's own hygiene: a test that hangs is stopped, and what it started is killed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HANGING_TEST = """
import subprocess, sys, time

def test_hangs(tmp_path_factory):
    # A CLI run in its own session, with a child of its own, as tests/e2e/helpers.py starts it.
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time;"
         "g = subprocess.Popen(['sleep', '300']);"
         "open(sys.argv[1], 'w').write(f'{g.pid}');"
         "time.sleep(300)", "{pids}"],
        start_new_session=True,
    )
    open("{child}", "w").write(str(child.pid))
    time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_timed_out_test_fails_and_its_processes_are_killed(tmp_path: Path) -> None:
    pids, child = tmp_path / "grandchild.pid", tmp_path / "child.pid"
    (tmp_path / "test_hang.py").write_text(
        textwrap.dedent(HANGING_TEST).replace("{pids}", str(pids)).replace("{child}", str(child))
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider"]
        + ["-c", str(tmp_path / "pytest.ini"), "--timeout", "3", str(tmp_path / "test_hang.py")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout" in result.stdout, result.stdout
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 5
    for pid in (int(child.read_text()), int(pids.read_text())):
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"process {pid} outlived the test that started it"


def test_the_suite_has_a_default_timeout() -> None:
    import tomllib

    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert int(options["timeout"]) > 0
