"""Time-to-result of one debug session: `podscope debug POD -- true` against
`kubectl debug POD --image=... --attach -- true`, alternately, N runs each, same cluster, same Pod.

Every run adds an ephemeral container (they cannot be removed), so the Pod is made fresh for each
benchmark in its own namespace and deleted at the end.

Usage: .venv/bin/python bench/debug_vs_kubectl.py [-n 10] [--kubeconfig PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import compile_sources, run, summary

IMAGE = "docker.io/library/busybox:latest"
APP = "docker.io/podscope/distroless-app:1.0"


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, check=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--settle",
        type=float,
        default=1.5,
        help="seconds between runs, so the kubelet has finished with the last one",
    )
    parser.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG", "/var/lib/podscope-devcluster/admin.kubeconfig"),
    )
    args = parser.parse_args()
    compile_sources()
    env = {**os.environ, "KUBECONFIG": args.kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    kubectl(env, "create", "namespace", ns)
    try:
        while (
            subprocess.run(
                ["kubectl", "get", "sa", "default", "-n", ns], env=env, capture_output=True
            ).returncode
            != 0
        ):
            time.sleep(0.1)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {
                "containers": [{"name": "app", "image": APP, "imagePullPolicy": "IfNotPresent"}],
                "terminationGracePeriodSeconds": 1,
            },
        }
        kubectl(env, "apply", "-f", "-", stdin=json.dumps(pod))
        kubectl(env, "wait", "--for=condition=Ready", "pod/app", "-n", ns, "--timeout=60s")
        podscope = [
            str(Path(sys.executable).parent / "podscope"),
            "debug",
            "app",
            "-n",
            ns,
            "--image",
            IMAGE,
            "--image-pull-policy",
            "IfNotPresent",
            "-q",
            "--",
            "true",
        ]
        reference = [
            "kubectl",
            "debug",
            "app",
            "-n",
            ns,
            f"--image={IMAGE}",
            "--image-pull-policy=IfNotPresent",
            "--attach=true",
            "-q",
            "--",
            "true",
        ]
        rng = random.Random(args.seed)
        p_runs, k_runs = [], []
        for _ in range(args.n):
            # Each run's container exits at once; the kubelet then re-syncs the Pod. A run that
            # starts during that sync waits for the next one, whichever tool it is: a pause
            # between runs keeps that out of the comparison. The kubelet reports a started
            # container on its next relist (every second), so the pause is random too: a
            # fixed one would give each tool a fixed phase against that clock, a bias.
            time.sleep(args.settle + rng.random())
            p_runs.append(run(podscope, env=env))
            time.sleep(args.settle + rng.random())
            k_runs.append(run(reference, env=env))
        p = summary("podscope debug -- true", p_runs)
        k = summary("kubectl debug --attach -- true", k_runs)
        print(
            json.dumps(
                {
                    "date": time.strftime("%Y-%m-%d"),
                    "podscope": p,
                    "kubectl": k,
                    "ratio_median": round(float(p["median_s"]) / float(k["median_s"]), 3),
                },
                indent=2,
            )
        )
    finally:
        subprocess.run(
            ["kubectl", "delete", "namespace", ns, "--wait=false"], env=env, capture_output=True
        )


if __name__ == "__main__":
    main()
