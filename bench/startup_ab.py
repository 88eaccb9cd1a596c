"""Start-up of two podscope trees, alternately, in one interpreter: ``--version`` and
``debug --help`` (the issue's "within 10 % of today's").

Usage: .venv/bin/python bench/startup_ab.py [-n 20] [--before 84602d0]
The ``--before`` commit is checked out into a temporary worktree; both trees get their
bytecode written first (as an installed wheel has it). Medians, min and max in ms.
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
    args = parser.parse_args()
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
                f"{tree} {name}": [] for name in COMMANDS for tree in trees
            }
            for _ in range(args.n):
                for name, words in COMMANDS.items():
                    for tree, src in trees.items():
                        env = {**os.environ, "PYTHONPATH": str(src)}
                        start = time.perf_counter()
                        subprocess.run(
                            [sys.executable, "-m", "podscope", *words],
                            env=env,
                            capture_output=True,
                            check=True,
                        )
                        times[f"{tree} {name}"].append(time.perf_counter() - start)
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
        }
    for name in COMMANDS:
        after = out[f"after {name}"]["median_ms"]  # type: ignore[index]
        before = out[f"before {name}"]["median_ms"]  # type: ignore[index]
        out[f"ratio {name}"] = round(after / before, 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
