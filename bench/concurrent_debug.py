"""N concurrent `podscope debug` runs against one Pod: all must succeed with N distinct containers.

Creates a namespace and a busybox Pod, starts N podscope processes at once (each runs
`echo $HOSTNAME` in its own ephemeral container), and prints wall times as JSON.

Usage: .venv/bin/python bench/concurrent_debug.py [-n 20] [--kubeconfig PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

DEFAULT_KUBECONFIG = "/var/lib/podscope-devcluster/admin.kubeconfig"
IMAGE = "docker.io/library/busybox:latest"


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, check=True
    ).stdout


def one_run(env: dict[str, str], namespace: str) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "podscope",
            "debug",
            "web",
            "-n",
            namespace,
            "-q",
            "--image-pull-policy",
            "IfNotPresent",
            "--",
            "sh",
            "-c",
            "sleep 1; echo ok",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return time.perf_counter() - start, proc.returncode, proc.stderr.strip()


def run(n: int, kubeconfig: str, namespace: str | None = None) -> dict[str, object]:
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
    owned = namespace is None
    namespace = namespace or f"bench-concurrent-{uuid.uuid4().hex[:6]}"
    if owned:
        kubectl(env, "create", "namespace", namespace)
    try:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web"},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "web",
                        "image": IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                    }
                ],
            },
        }
        kubectl(env, "apply", "-n", namespace, "-f", "-", stdin=json.dumps(pod))
        kubectl(env, "wait", "-n", namespace, "--for=condition=Ready", "pod/web", "--timeout=60s")
        wall = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            runs = list(pool.map(lambda _: one_run(env, namespace), range(n)))
        wall = time.perf_counter() - wall
        got = json.loads(kubectl(env, "get", "pod", "web", "-n", namespace, "-o", "json"))
        names = [c["name"] for c in got["spec"].get("ephemeralContainers") or []]
        secs = [r[0] for r in runs]
        return {
            "n": n,
            "succeeded": sum(1 for r in runs if r[1] == 0),
            "failures": [r[2] for r in runs if r[1] != 0],
            "containers": len(names),
            "distinct_containers": len(set(names)),
            "wall_s": round(wall, 2),
            "per_run_median_s": round(statistics.median(secs), 2),
            "per_run_max_s": round(max(secs), 2),
        }
    finally:
        if owned:
            kubectl(env, "delete", "namespace", namespace, "--wait=false")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG", DEFAULT_KUBECONFIG))
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.kubeconfig), indent=2))


if __name__ == "__main__":
    main()
