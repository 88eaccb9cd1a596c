"""`podscope cleanup` against the real local cluster.

Never run without -n here (or without --dry-run with -A): other sessions share the cluster.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import SLEEPER, pod_names, podscope, wait_gone

MANAGED = {"app.kubernetes.io/managed-by": "podscope"}


def labelled_pod(kubectl: Kubectl, namespace: str, name: str, labels: dict[str, str]) -> None:
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": SLEEPER,
                    }
                ],
            },
        }
    )


def test_lists_and_deletes_only_podscope_pods(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("plain", command=SLEEPER)
    labelled_pod(kubectl, namespace, "kubectl-made", {"app.kubernetes.io/managed-by": "kubectl"})
    created = podscope(
        podscope_env,
        "debug",
        "plain",
        "-n",
        namespace,
        "--copy-to",
        "plain-copy",
        "--command-override",
        "plain",
        "--no-attach",
        "--",
        *SLEEPER,
    )
    assert created.returncode == 0, created.stderr
    labelled_pod(kubectl, namespace, "node-kept", {**MANAGED, "podscope.dev/node-debug": "n1"})

    listed = podscope(podscope_env, "cleanup", "-n", namespace, "--dry-run")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["POD", "PURPOSE", "OF", "PHASE", "NODE", "CREATED"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["node-kept", "node-debug", "n1"],
        ["plain-copy", "copy", "plain"],
    ]
    assert "dry run: 2 Pod(s) would be deleted" in listed.stderr
    assert "ephemeral containers cannot be removed" in listed.stderr
    assert "podscope ls" in listed.stderr

    # Not a terminal and no --yes: refused, nothing deleted.
    refused = podscope(podscope_env, "cleanup", "-n", namespace)
    assert refused.returncode == 2, refused.stderr
    assert "refusing to delete 2 Pod(s) without confirmation" in refused.stderr
    assert "--yes" in refused.stderr
    assert {"plain-copy", "node-kept"} <= pod_names(kubectl, namespace)

    # Naming a Pod podscope did not create is refused.
    foreign = podscope(podscope_env, "cleanup", "plain", "-n", namespace, "--yes")
    assert foreign.returncode == 2, foreign.stderr
    assert (
        "Pod plain in namespace" in foreign.stderr and "not created by podscope" in foreign.stderr
    )

    # One named Pod only.
    one = podscope(podscope_env, "cleanup", "node-kept", "-n", namespace, "--yes")
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines()[-1] == "pod/node-kept deleted"
    wait_gone(kubectl, namespace, "node-kept")

    deleted = podscope(podscope_env, "cleanup", "-n", namespace, "--yes", "-o", "json")
    assert deleted.returncode == 0, deleted.stderr
    document = json.loads(deleted.stdout)
    assert [(p["name"], p["purpose"], p["deleted"]) for p in document["pods"]] == [
        ("plain-copy", "copy", True)
    ]
    assert "podscope ls" in document["note"]
    wait_gone(kubectl, namespace, "plain-copy")
    assert pod_names(kubectl, namespace) == {"plain", "kubectl-made"}

    empty = podscope(podscope_env, "cleanup", "-n", namespace)
    assert empty.returncode == 0, empty.stderr
    assert "no Pods created by podscope in this namespace" in empty.stderr


def test_all_namespaces_dry_run_finds_this_namespace(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    labelled_pod(kubectl, namespace, "mine", {**MANAGED, "podscope.dev/copy-of": "x"})
    result = podscope(podscope_env, "cleanup", "-A", "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    found = [(p["namespace"], p["name"]) for p in json.loads(result.stdout)["pods"]]
    assert (namespace, "mine") in found
    assert "mine" in pod_names(kubectl, namespace)


def _run_on_terminal(env: dict[str, str], args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin; answer the prompt once it appears."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "podscope", *args],
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 60
    while "[y/N]" not in seen:
        assert time.monotonic() < deadline, f"no prompt; stderr so far: {seen!r}"
        ready, _, _ = select.select([process.stderr], [], [], 1)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096).decode()
            assert chunk, f"podscope exited before prompting: {seen!r}"
            seen += chunk
    os.write(leader, answer.encode())
    stdout, rest = process.communicate(timeout=60)
    os.close(leader)
    return process.returncode, stdout + seen + rest


def test_terminal_prompt(namespace: str, podscope_env: dict[str, str], kubectl: Kubectl) -> None:
    labelled_pod(kubectl, namespace, "kept", {**MANAGED, "podscope.dev/copy-of": "x"})
    args = ["cleanup", "-n", namespace]
    code, output = _run_on_terminal(podscope_env, args, "n\n")
    assert code == 0, output
    assert "delete these 1 Pod(s)? [y/N]" in output and "nothing deleted" in output
    assert "kept" in pod_names(kubectl, namespace)

    code, output = _run_on_terminal(podscope_env, args, "y\n")
    assert code == 0, output
    assert "pod/kept deleted" in output
    wait_gone(kubectl, namespace, "kept")
