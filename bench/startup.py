"""Cold start: `podscope --version` against `kubectl version --client`, alternately, N runs each.

Usage: .venv/bin/python bench/startup.py [-n 20]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import compile_sources, run, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    args = parser.parse_args()
    compile_sources()
    # The console script installed next to this interpreter (the venv's), as a user runs it.
    podscope = [str(Path(sys.executable).parent / "podscope"), "--version"]
    kubectl = ["kubectl", "version", "--client"]
    p_runs, k_runs = [], []
    for _ in range(args.n):
        p_runs.append(run(podscope))
        k_runs.append(run(kubectl))
    p, k = summary("podscope --version", p_runs), summary("kubectl version --client", k_runs)
    print(
        json.dumps(
            {
                "podscope": p,
                "kubectl": k,
                "ratio_median": round(float(p["median_s"]) / float(k["median_s"]), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
