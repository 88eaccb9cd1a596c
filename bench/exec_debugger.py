"""The exec model against kubectl, alternately, on one Pod: four figures.

1. fresh: ``podscope debug POD --new -- true`` (a new debugger, then an exec into it) vs
   ``kubectl debug POD --attach -- true``;
2. reused: ``podscope debug POD -- true`` into a live debugger vs kubectl's fresh debug and
   ``kubectl exec POD -c DEBUGGER -- true`` into the same container;
3. prompt: time to the first byte of the shell's prompt of ``debug POD -it -- sh`` (podscope
   fresh and reused) vs ``kubectl debug POD -it -- sh``;
4. cpu: whole-process CPU (user + system, from wait4) of each podscope run above.

Each pause between runs is random (1.5-2.5 s), so no tool gets a fixed phase against the
kubelet's one-second relist. Medians of ``-n`` runs with min and max. The Pod is made in its
own namespace, deleted at the end.

Usage: .venv/bin/python bench/exec_debugger.py [-n 15] [--only fresh,reused,prompt]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import random
import select
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import compile_sources

IMAGE = "docker.io/library/busybox:latest"
APP = "docker.io/podscope/distroless-app:1.0"
PROMPT = b"/ # "


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, check=True
    ).stdout


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and exit code of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    return (
        time.perf_counter() - start,
        usage.ru_utime + usage.ru_stime,
        os.waitstatus_to_exitcode(status),
    )


def to_prompt(cmd: list[str], env: dict[str, str], timeout: float = 60) -> float:
    """Seconds from spawning ``cmd`` on a pseudo-terminal to the first byte of the prompt."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(cmd[0], cmd, env)
    seen = b""
    nudged = False
    took = float("nan")
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if b"see a command prompt" in seen and not nudged:
                # What a user does on that hint (kubectl's attach can miss the first prompt).
                os.write(fd, b"\r")
                nudged = True
            if PROMPT in seen:
                took = time.perf_counter() - start
                break
        os.write(fd, b"exit\r")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                if select.select([fd], [], [], 0.2)[0]:
                    os.read(fd, 4096)
            except OSError:
                pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return took


def stats(values: list[float]) -> dict[str, float | int]:
    clean = [v for v in values if v == v]
    return {
        "n": len(clean),
        "median": round(statistics.median(clean), 3) if clean else float("nan"),
        "min": round(min(clean), 3) if clean else float("nan"),
        "max": round(max(clean), 3) if clean else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="fresh,reused,prompt")
    parser.add_argument(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG", "/var/lib/podscope-devcluster/admin.kubeconfig"),
    )
    args = parser.parse_args()
    compile_sources()
    only = set(args.only.split(","))
    env = {**os.environ, "KUBECONFIG": args.kubeconfig, "PODSCOPE_NO_CONFIG": "1"}
    rng = random.Random(args.seed)
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    kubectl(env, "create", "namespace", ns)
    out: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M"), "n": args.n}
    out["load_average_at_start"] = os.getloadavg()
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
        podscope = [str(Path(sys.executable).parent / "podscope"), "debug", "app", "-n", ns]
        pull = ["--image", IMAGE, "--image-pull-policy", "IfNotPresent", "-q"]
        k_debug = ["kubectl", "debug", "app", "-n", ns, f"--image={IMAGE}"]
        k_debug += ["--image-pull-policy=IfNotPresent", "-q"]

        def pause() -> None:
            time.sleep(1.5 + rng.random())

        if "fresh" in only:
            p_wall, p_cpu, k_wall, fails = [], [], [], 0
            for _ in range(args.n):
                pause()
                wall, cpu, code = timed(
                    [*podscope, *pull, "--new", "--ttl", "1m", "--", "true"], env
                )
                p_wall.append(wall)
                p_cpu.append(cpu)
                fails += code != 0
                pause()
                wall, _, code = timed([*k_debug, "--attach=true", "--", "true"], env)
                k_wall.append(wall)
                fails += code != 0
            p, k = stats(p_wall), stats(k_wall)
            out["fresh"] = {
                "podscope debug --new -- true": p,
                "kubectl debug --attach -- true": k,
                "podscope cpu_s": stats(p_cpu),
                "ratio_median": round(float(p["median"]) / float(k["median"]), 3),
                "failures": fails,
            }
        if "reused" in only or "prompt" in only:
            # The debugger the reused runs go to (the default TTL keeps it for the whole run).
            # Named, so that kubectl exec goes to the very debugger podscope reuses (a
            # later request without -c finds it by its key, whatever its name).
            debugger = "bench-reused"
            subprocess.run([*podscope, *pull, "-c", debugger, "--", "true"], env=env, check=True)
        if "reused" in only:
            p_wall, p_cpu, x_wall, k_wall = [], [], [], []
            fails = {"podscope": 0, "kubectl exec": 0, "kubectl debug": 0}
            for _ in range(args.n):
                pause()
                wall, cpu, code = timed([*podscope, *pull, "--", "true"], env)
                p_wall.append(wall)
                p_cpu.append(cpu)
                fails["podscope"] += code != 0
                pause()
                wall, _, code = timed(
                    ["kubectl", "exec", "app", "-n", ns, "-c", debugger, "--", "true"], env
                )
                x_wall.append(wall)
                fails["kubectl exec"] += code != 0
                pause()
                wall, _, code = timed([*k_debug, "--attach=true", "--", "true"], env)
                k_wall.append(wall)
                fails["kubectl debug"] += code != 0
            p, x, k = stats(p_wall), stats(x_wall), stats(k_wall)
            out["reused"] = {
                "podscope debug -- true (reused)": p,
                "kubectl exec -c DEBUGGER -- true": x,
                "kubectl debug --attach -- true": k,
                "podscope cpu_s": stats(p_cpu),
                "ratio_to_kubectl_debug": round(float(p["median"]) / float(k["median"]), 3),
                "ratio_to_kubectl_exec": round(float(p["median"]) / float(x["median"]), 3),
                "failures": fails,
            }
        if "prompt" in only:
            fresh, reused, k_prompt = [], [], []
            for _ in range(args.n):
                pause()
                fresh.append(
                    to_prompt([*podscope, *pull, "--new", "--ttl", "1m", "-it", "--", "sh"], env)
                )
                pause()
                reused.append(to_prompt([*podscope, *pull, "-it", "--", "sh"], env))
                pause()
                k_prompt.append(to_prompt([*k_debug, "-it", "--", "sh"], env))
            f, r, k = stats(fresh), stats(reused), stats(k_prompt)
            out["prompt"] = {
                "podscope debug --new -it -- sh": f,
                "podscope debug -it -- sh (reused)": r,
                "kubectl debug -it -- sh": k,
                "ratio_fresh": round(float(f["median"]) / float(k["median"]), 3),
                "ratio_reused": round(float(r["median"]) / float(k["median"]), 3),
            }
        out["load_average_at_end"] = os.getloadavg()
        print(json.dumps(out, indent=2))
    finally:
        subprocess.run(
            ["kubectl", "delete", "namespace", ns, "--wait=false"], env=env, capture_output=True
        )


if __name__ == "__main__":
    main()
