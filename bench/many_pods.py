"""One command in every Pod of a Deployment: `podscope debug -l app=web -- cat /proc/1/status`
against a shell loop of `kubectl debug POD --attach -- cat /proc/1/status` over the same Pods,
and against `podscope debug POD -- ...` in one Pod; alternately, N rounds, same cluster.

The Deployment (default 30 replicas of the distroless app) lives in its own namespace, deleted
at the end. podscope's first round adds a debugger to each Pod; later rounds reuse them, so
the first round is reported apart ("fresh") from the others ("reused"). Every kubectl run
adds a new ephemeral container, as kubectl always does. Peak memory is the podscope process's
own maximum RSS (wait4).

Usage: .venv/bin/python bench/many_pods.py [-n 3] [--replicas 30] [--kubeconfig PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import Run, compile_sources, run, summary

IMAGE = "docker.io/library/busybox:latest"
APP = "docker.io/podscope/distroless-app:1.0"
COMMAND = ["cat", "/proc/1/status"]


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, check=True
    ).stdout


def deployment(ns: str, replicas: int) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {"name": "app", "image": APP, "imagePullPolicy": "IfNotPresent"}
                    ],
                },
            },
        },
    }


def running_pods(env: dict[str, str], ns: str) -> list[str]:
    pods = json.loads(kubectl(env, "get", "pods", "-n", ns, "-l", "app=web", "-o", "json"))
    return sorted(
        p["metadata"]["name"] for p in pods["items"] if p["status"].get("phase") == "Running"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3, help="rounds")
    parser.add_argument("--replicas", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds between runs")
    parser.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG", "/var/lib/podscope-devcluster/admin.kubeconfig"),
    )
    args = parser.parse_args()
    # Both podscope commands start as an installed podscope does, as in the other benchmarks.
    compile_sources()
    env = {**os.environ, "KUBECONFIG": args.kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
    ns = f"bench-many-{uuid.uuid4().hex[:6]}"
    kubectl(env, "create", "namespace", ns)
    try:
        while (
            subprocess.run(
                ["kubectl", "get", "sa", "default", "-n", ns], env=env, capture_output=True
            ).returncode
            != 0
        ):
            time.sleep(0.1)
        started = time.monotonic()
        kubectl(env, "apply", "-f", "-", stdin=json.dumps(deployment(ns, args.replicas)))
        kubectl(env, "rollout", "status", "deploy/web", "-n", ns, "--timeout=300s")
        while len(pods := running_pods(env, ns)) != args.replicas:
            time.sleep(0.5)
        rollout_s = time.monotonic() - started
        podscope = str(Path(sys.executable).parent / "podscope")
        common = ["-n", ns, "--image", IMAGE, "--image-pull-policy", "IfNotPresent", "-q"]
        many = [podscope, "debug", "-l", "app=web", *common, "--", *COMMAND]
        one = [podscope, "debug", pods[0], *common, "--", *COMMAND]
        kubectl_one = (
            f"kubectl debug {{pod}} -n {ns} --image={IMAGE} --image-pull-policy=IfNotPresent "
            f"--target=app --attach=true -q -- {shlex.join(COMMAND)} >/dev/null"
        )
        loop = ["sh", "-c", "; ".join(kubectl_one.format(pod=pod) for pod in pods)]
        rng = random.Random(args.seed)
        runs: dict[str, list[Run]] = {"many": [], "one": [], "loop": []}
        for _ in range(args.n):
            order = ["many", "one", "loop"]
            rng.shuffle(order)
            if not runs["many"]:
                # The first podscope run adds the debuggers: it goes first, timed apart.
                order.remove("many")
                order.insert(0, "many")
            for name in order:
                time.sleep(args.settle + rng.random())
                command = {"many": many, "one": one, "loop": loop}[name]
                runs[name].append(run(command, env=env))
        fresh, reused = runs["many"][:1], runs["many"][1:]
        loop_s = summary("kubectl debug loop", runs["loop"])
        one_s = summary("podscope debug POD (one Pod)", runs["one"])
        fresh_s = summary("podscope debug -l (fresh debuggers)", fresh)
        reused_s = summary("podscope debug -l (reused debuggers)", reused) if reused else None
        report: dict[str, object] = {
            "date": time.strftime("%Y-%m-%d"),
            "replicas": args.replicas,
            "rollout_s": round(rollout_s, 1),
            "load_average": os.getloadavg(),
            "podscope_many_fresh": fresh_s,
            "podscope_many_reused": reused_s,
            "podscope_one_pod": one_s,
            "kubectl_loop": loop_s,
            "ratio_fresh_vs_loop": round(float(fresh_s["median_s"]) / float(loop_s["median_s"]), 3),
        }
        if reused_s is not None:
            report["ratio_reused_vs_loop"] = round(
                float(reused_s["median_s"]) / float(loop_s["median_s"]), 3
            )
            report["ratio_reused_vs_one_pod"] = round(
                float(reused_s["median_s"]) / float(one_s["median_s"]), 3
            )
        report["ratio_fresh_vs_one_pod"] = round(
            float(fresh_s["median_s"]) / float(one_s["median_s"]), 3
        )
        print(json.dumps(report, indent=2))
    finally:
        subprocess.run(
            ["kubectl", "delete", "namespace", ns, "--wait=false"], env=env, capture_output=True
        )


if __name__ == "__main__":
    main()
