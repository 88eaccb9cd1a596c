"""`podscope ls`: one Pod, a namespace, all namespaces, and machine-readable output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.helpers import PULL, SLEEPER, podscope


def test_ls_shows_states_exit_codes_and_targets(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    done = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-c",
        "done",
        "--attach-mode",
        *PULL,
        "--",
        "sh",
        "-c",
        "exit 6",
    )
    assert done.returncode == 6
    running = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-c",
        "live",
        "--no-attach",
        *PULL,
        "--",
        "sleep",
        "600",
    )
    assert running.returncode == 0, running.stderr

    table = podscope(podscope_env, "ls", "web", "-n", namespace)
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split()[:7] == ["POD", "NAME", "IMAGE", "TARGET", "STATE", "REASON", "EXIT"]
    rows = {line.split()[1]: line.split() for line in lines}
    assert rows["done"][4:7] == ["terminated", "Error", "6"]
    assert rows["live"][3:5] == ["web", "running"]

    listed = json.loads(podscope(podscope_env, "ls", "-n", namespace, "-o", "json").stdout)
    assert {(r["name"], r["state"], r["exit_code"]) for r in listed} == {
        ("done", "terminated", 6),
        ("live", "running", None),
    }
    everywhere = podscope(podscope_env, "ls", "-A")
    assert everywhere.returncode == 0
    assert everywhere.stdout.splitlines()[0].startswith("NAMESPACE")
    assert any(line.split()[0] == namespace for line in everywhere.stdout.splitlines()[1:])


def test_ls_of_a_missing_pod(namespace: str, podscope_env: dict[str, str]) -> None:
    result = podscope(podscope_env, "ls", "ghost", "-n", namespace)
    assert result.returncode == 5
    assert "pod ghost not found" in result.stderr


def test_kubectl_plugin_alias_runs_podscope(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    """`kubectl podscope ...` finds the `kubectl-podscope` console script on PATH."""
    make_pod("web", command=SLEEPER)
    created = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-c",
        "dbg",
        "--attach-mode",
        *PULL,
        "--",
        "true",
    )
    assert created.returncode == 0, created.stderr
    scripts = Path(sys.executable).parent
    assert (scripts / "kubectl-podscope").exists()
    env = {**podscope_env, "PATH": f"{scripts}{os.pathsep}{podscope_env.get('PATH', '')}"}
    via_kubectl = subprocess.run(
        ["kubectl", "podscope", "ls", "web", "-n", namespace, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert via_kubectl.returncode == 0, via_kubectl.stderr
    direct = podscope(podscope_env, "ls", "web", "-n", namespace, "-o", "json")
    assert json.loads(via_kubectl.stdout) == json.loads(direct.stdout)
    assert "dbg" in via_kubectl.stdout
