"""Timing helpers for the benchmark scripts: wall time and peak memory of a child process."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass


def compile_sources() -> None:
    """Write podscope's bytecode, as installing a wheel does.

    An editable checkout run with $PYTHONDONTWRITEBYTECODE (set on these machines) compiles
    every imported module from source on each start: 0.3-0.6 s that no installed podscope pays.
    """
    import sys
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "src"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    returncode: int


def run(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if stdin is not None and proc.stdin:
        proc.stdin.write(stdin)
        proc.stdin.close()
    # wait4 gives this child's own resource usage (peak RSS), not an aggregate.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if proc.stderr:
        proc.stderr.read()
        proc.stderr.close()
    return Run(elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status))


def summary(name: str, runs: list[Run]) -> dict[str, float | str | int]:
    secs = [r.seconds for r in runs]
    return {
        "name": name,
        "n": len(runs),
        "median_s": round(statistics.median(secs), 4),
        "min_s": round(min(secs), 4),
        "max_s": round(max(secs), 4),
        "median_max_rss_mib": round(statistics.median(r.max_rss_kib for r in runs) / 1024, 1),
        "failures": sum(1 for r in runs if r.returncode != 0),
    }
