"""Throughput of `podscope cp` (distroless Pod: no tar, no shell) against `kubectl cp` (a Pod
whose image has tar), 100 MiB out of the Pod, alternately, N runs each; medians, MB/s, peak RSS.

Needs KUBECONFIG pointing at a cluster with the local images (the devcluster). Creates a
namespace `bench-cp-XXXXX` and deletes it at the end.

Usage: KUBECONFIG=... .venv/bin/python bench/cp_throughput.py [-n 5] [--mib 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import run, summary

APP_IMAGE = "docker.io/podscope/distroless-app:1.0"
NGINX_IMAGE = "docker.io/library/nginx:1.17.1"


def kubectl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], input=stdin, capture_output=True, text=True, check=True
    ).stdout


def pod(namespace: str, name: str, image: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}],
        },
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    kubectl("wait", "--for=condition=Ready", f"pod/{name}", "-n", namespace, "--timeout=120s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--mib", type=int, default=100)
    args = parser.parse_args()
    podscope = str(Path(sys.executable).parent / "podscope")
    env = {**os.environ, "PODSCOPE_NO_CONFIG": "1"}
    namespace = f"bench-cp-{uuid.uuid4().hex[:5]}"
    kubectl("create", "namespace", namespace)
    try:
        pod(namespace, "app", APP_IMAGE)
        pod(namespace, "web", NGINX_IMAGE)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data.bin"
            with data.open("wb") as f:
                for _ in range(args.mib):
                    f.write(os.urandom(1 << 20))
            # Setup (not measured): the file into both Pods; this also creates the helper.
            subprocess.run(
                [podscope, "cp", "-q", "-n", namespace, str(data), "app:/tmp/data.bin"],
                env=env,
                check=True,
            )
            kubectl("cp", str(data), f"{namespace}/web:/tmp/data.bin")
            out = Path(tmp) / "out.bin"
            p_runs, k_runs = [], []
            for _ in range(args.n):
                out.unlink(missing_ok=True)
                p_runs.append(
                    run([podscope, "cp", "-q", "-n", namespace, "app:/tmp/data.bin", str(out)], env)
                )
                out.unlink(missing_ok=True)
                k_runs.append(run(["kubectl", "cp", f"{namespace}/web:/tmp/data.bin", str(out)]))
                time.sleep(0.2)
        p = summary("podscope cp (distroless, via helper + exec, sha256 checked)", p_runs)
        k = summary("kubectl cp (nginx, tar in the container)", k_runs)
        mb = args.mib * (1 << 20) / 1e6
        p["mb_per_s"] = round(mb / float(p["median_s"]), 1)
        k["mb_per_s"] = round(mb / float(k["median_s"]), 1)
        print(
            json.dumps(
                {
                    "size_mib": args.mib,
                    "podscope": p,
                    "kubectl": k,
                    "ratio_median_time": round(float(p["median_s"]) / float(k["median_s"]), 3),
                },
                indent=2,
            )
        )
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")


if __name__ == "__main__":
    main()
