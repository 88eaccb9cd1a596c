"""``podscope ls -A`` against ``kubectl get pods -A -o json | jq`` on many Pods.

Makes ``--pods`` Pods (default 2,000) in ``--namespaces`` namespaces of its own, each Pod with
two ephemeral containers (one privileged), added through the ephemeralcontainers
subresource. The Pods never run: they name a scheduler that does not exist, so no node
takes them. (Binding them with ``spec.nodeName`` to a node that does not exist would not
do: the Pod garbage collector deletes such orphans within a minute.) Creation goes through
podscope's KubeClient with ``--parallel`` writers.

Then, alternately, ``-n`` rounds of:
  podscope  ``podscope ls -A -o wide`` (Pods read 500 per request, rows printed per page)
  one-shot  ``podscope ls -A -o wide --chunk-size 0`` (every Pod in one response)
  kubectl   ``kubectl get pods -A -o json | jq -r FILTER``, FILTER printing the same columns
            from the same fields (no profile names: jq has no table of them)
Wall time, and peak RSS: podscope's process; for the pipeline, kubectl's and jq's peaks
added (they run at the same time). Output goes to /dev/null; once before timing, both
outputs' row counts are compared. The namespaces are deleted at the end, also on failure
or Ctrl-C.

Usage: .venv/bin/python bench/inventory.py [--pods 2000] [--namespaces 4] [-n 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import Run, summary

IMAGE = "docker.io/library/busybox:latest"
ROOT = Path(__file__).resolve().parent.parent
PODSCOPE = [str(ROOT / ".venv/bin/python"), "-m", "podscope"]

# The columns of `podscope ls -A -o wide` but PROFILE, from the same fields.
JQ = r"""
.items[] | . as $p
| [($p.metadata.managedFields // [])[] | select(.subresource == "ephemeralcontainers")] as $mf
| ($p.spec.ephemeralContainers // [])[] | . as $c
| ([($p.status.ephemeralContainerStatuses // [])[] | select(.name == $c.name)][0]) as $s
| ("k:{\"name\":\"" + $c.name + "\"}") as $key
| ([$mf[] | select(.fieldsV1["f:spec"]["f:ephemeralContainers"] | has($key))][0]) as $w
| [$p.metadata.namespace, $p.metadata.name, $c.name, $c.image,
   ($c.targetContainerName // "-"),
   ((($s.state // {}) | keys)[0] // "unknown"),
   ([($s.state // {})[] | .reason? // empty][0] // "-"),
   ($s.state.terminated.exitCode // "-"),
   ($s.state.running.startedAt // $s.state.terminated.startedAt // "-"),
   ($s.state.terminated.finishedAt // "-"),
   ($w.manager // "-"), ($w.time // "-"),
   ($c.securityContext.runAsUser // $p.spec.securityContext.runAsUser // "image"),
   (if $c.securityContext.privileged then "yes" else "no" end),
   (($c.securityContext.capabilities.add // []) | join(",") | if . == "" then "-" else . end),
   ((($c.command // []) + ($c.args // [])) | join(" "))]
| @tsv
"""


def write_bytecode() -> None:
    # An editable checkout under $PYTHONDONTWRITEBYTECODE compiles every module on each
    # start, which no installed podscope pays.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)


def kubectl(env: dict[str, str], *args: str, check: bool = True) -> str:
    result = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def make_pods(kubeconfig: str, namespaces: list[str], count: int, parallel: int) -> None:
    import podscope

    with podscope.Client(kubeconfig=kubeconfig) as client:
        kube = client.kube
        shape = kube.writable_ephemeral_shape()

        def one(i: int) -> None:
            namespace, name = namespaces[i % len(namespaces)], f"inv-{i:05d}"
            kube.create_pod(
                namespace,
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "labels": {"bench": "inventory"}},
                    "spec": {
                        "schedulerName": "bench-no-such-scheduler",
                        "containers": [{"name": "app", "image": IMAGE}],
                    },
                },
            )
            containers = [
                {"name": "dbg", "image": IMAGE, "command": ["sleep", "3600"]},
                {
                    "name": "priv",
                    "image": IMAGE,
                    "command": ["sh"],
                    "securityContext": {"privileged": True, "runAsUser": 0},
                },
            ]
            kube.patch_ephemeral_containers(
                namespace, name, {"spec": {"ephemeralContainers": containers}}, shape
            )

        with ThreadPoolExecutor(parallel) as pool:
            for future in [pool.submit(one, i) for i in range(count)]:
                future.result()


def run_pipeline(env: dict[str, str]) -> Run:
    start = time.perf_counter()
    get = subprocess.Popen(
        ["kubectl", "get", "pods", "-A", "-o", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    jq = subprocess.Popen(
        ["jq", "-r", JQ], stdin=get.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert get.stdout is not None
    get.stdout.close()
    _, s1, u1 = os.wait4(get.pid, 0)
    _, s2, u2 = os.wait4(jq.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(s1) or os.waitstatus_to_exitcode(s2)
    return Run(elapsed, u1.ru_maxrss + u2.ru_maxrss, code)


def run_one(cmd: list[str], env: dict[str, str]) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return Run(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))


def count_rows(env: dict[str, str], prefix: str) -> dict[str, int]:
    """Rows of our namespaces in each tool's output (other users' Pods come and go)."""
    ours = subprocess.run(
        [*PODSCOPE, "ls", "-A", "-o", "wide", "--no-headers"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pipeline = subprocess.run(
        f"kubectl get pods -A -o json | jq -r '{JQ}'",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        # Running debuggers anywhere in the cluster: podscope execs into each for its state.
        "debuggers_probed": sum(
            " idle, " in line or " live " in line or "state unknown" in line
            for line in ours.splitlines()
        ),
        "podscope": sum(line.startswith(prefix) for line in ours.splitlines()),
        "kubectl_jq": sum(line.startswith(prefix) for line in pipeline.splitlines()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--namespaces", type=int, default=4)
    parser.add_argument("-n", "--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG", "/var/lib/podscope-devcluster/admin.kubeconfig"),
    )
    args = parser.parse_args()
    env = {**os.environ, "KUBECONFIG": args.kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
    prefix = f"bench-inv-{uuid.uuid4().hex[:6]}"
    namespaces = [f"{prefix}-{i}" for i in range(args.namespaces)]

    def cleanup() -> None:
        for namespace in namespaces:
            kubectl(
                env,
                "delete",
                "namespace",
                namespace,
                "--wait=false",
                "--ignore-not-found",
                check=False,
            )

    # SIGTERM, SIGHUP: through the finally below, as Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    write_bytecode()
    result: dict[str, Any] = {"pods": args.pods, "ephemeral_containers": 2 * args.pods}
    try:
        for namespace in namespaces:
            kubectl(env, "create", "namespace", namespace)
        began = time.perf_counter()
        make_pods(args.kubeconfig, namespaces, args.pods, args.parallel)
        result["create_s"] = round(time.perf_counter() - began, 1)
        result["rows_of_bench_namespaces"] = count_rows(env, prefix)
        runs: dict[str, list[Run]] = {"podscope": [], "podscope_chunk_0": [], "kubectl_jq": []}
        wide = [*PODSCOPE, "ls", "-A", "-o", "wide"]
        for _ in range(args.rounds):
            runs["podscope"].append(run_one(wide, env))
            runs["kubectl_jq"].append(run_pipeline(env))
            runs["podscope_chunk_0"].append(run_one([*wide, "--chunk-size", "0"], env))
        result["all_pods_in_cluster"] = len(
            json.loads(kubectl(env, "get", "pods", "-A", "-o", "json"))["items"]
        )
        result["results"] = [summary(name, found) for name, found in runs.items()]
    finally:
        cleanup()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
