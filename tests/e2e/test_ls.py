"""`podscope ls`: one Pod, a namespace, all namespaces, and machine-readable output."""

from __future__ import annotations

import json
from collections.abc import Callable
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
