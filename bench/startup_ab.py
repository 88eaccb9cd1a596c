"""Start-up of two podscope trees, alternately, in one interpreter: ``--version`` and
``debug --help`` (the issue's "within 10 % of today's"), and with ``--pod NS/NAME`` a command
into that Pod's live debugger (``debug POD -- true``, which the first run makes if needed).

Usage: .venv/bin/python bench/startup_ab.py [-n 20] [--before 84602d0] [--pod NS/NAME]
The ``--before`` commit is checked out into a temporary worktree; both trees get their
bytecode written first (as an installed wheel has it). Medians, min and max of the wall time
and of the whole process's CPU time (user + system), in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {"--version": ["--version"], "debug --help": ["debug", "--help"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--before", default="84602d0")
    parser.add_argument("--pod", help="NS/NAME: also time `debug NAME -n NS -- true`")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    if args.pod:
        namespace, name = args.pod.split("/", 1)
        commands["debug POD -- true"] = ["debug", name, "-n", namespace, "-q", "--", "true"]
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.before],
            check=True,
        )
        try:
            trees = {"before": old / "src", "after": ROOT / "src"}
            for src in trees.values():
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
            times: dict[str, list[float]] = {
                f"{tree} {name}": [] for name in commands for tree in trees
            }
            cpu: dict[str, list[float]] = {key: [] for key in times}
            for words in commands.values():  # once each, untimed: a debugger is made
                for src in trees.values():
                    _run(words, src)
            for _ in range(args.n):
                for name, words in commands.items():
                    for tree, src in trees.items():
                        wall, used = _run(words, src)
                        times[f"{tree} {name}"].append(wall)
                        cpu[f"{tree} {name}"].append(used)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False
            )
    out: dict[str, object] = {"n": args.n, "before": args.before, "load": os.getloadavg()}
    for key, values in times.items():
        out[key] = {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "cpu_median_ms": round(statistics.median(cpu[key]) * 1000, 1),
            "cpu_min_ms": round(min(cpu[key]) * 1000, 1),
            "cpu_max_ms": round(max(cpu[key]) * 1000, 1),
        }
    for name in commands:
        after, before = out[f"after {name}"], out[f"before {name}"]
        out[f"ratio {name}"] = {
            unit: round(after[unit] / before[unit], 3)  # type: ignore[index]
            for unit in ("median_ms", "cpu_median_ms")
        }
    print(json.dumps(out, indent=2))


def _run(words: list[str], src: Path) -> tuple[float, float]:
    """The wall time and the CPU time (user + system) of one podscope process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "podscope", *words],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    error = process.stderr.read()
    # wait4, not Popen.wait: it gives the child's own resource use.
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(words)} failed: {error.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
