"""Small helpers shared by the e2e tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.e2e.conftest import Kubectl

# Images are imported locally; a `:latest` tag would otherwise make the kubelet try to pull.
PULL = ["--image-pull-policy", "IfNotPresent"]
SLEEPER = ["sleep", "3600"]


def podscope(
    env: dict[str, str], *args: str, timeout: float = 120, input: str | None = ""
) -> subprocess.CompletedProcess[str]:
    """Run the podscope CLI as a user would, in its own process.

    stdin is a pipe (never a terminal): ``input`` is written to it and it is closed. Pass
    ``input=None`` to inherit the test runner's stdin instead. The CLI runs in its own process
    group, killed whole (with any plugin or helper it started) when the run times out or the
    test is interrupted; the suite's fixture kills anything still left after the test.
    """
    command = [sys.executable, "-m", "podscope", *args]
    with subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.PIPE if input is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except BaseException:
            kill_group(process.pid)
            process.wait()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@contextlib.contextmanager
def podscope_started(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """The podscope CLI started in its own process group (stdin closed, output piped), for
    a test that acts while it runs; the whole group is killed when the block ends."""
    with subprocess.Popen(
        [sys.executable, "-m", "podscope", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            yield process
        finally:
            kill_group(process.pid)


def stderr_until(process: subprocess.Popen[str], wanted: str, seen: str = "") -> str:
    """What ``process`` wrote to stderr (after ``seen``) up to the line that says ``wanted``."""
    assert process.stderr is not None
    while wanted not in seen:
        line = process.stderr.readline()
        assert line, seen
        seen += line
    return seen


def kill_group(pid: int) -> None:
    """SIGKILL the process group that ``pid`` leads."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def ephemeral(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """The Pod's ephemeral containers (an empty list when it has none)."""
    return list(pod["spec"].get("ephemeralContainers") or [])


def service_account_kubeconfig(
    kubectl: Kubectl, namespace: str, rules: list[dict[str, Any]], out: Path, name: str = "limited"
) -> tuple[Path, str]:
    """A ServiceAccount bound to a Role with exactly ``rules``; its kubeconfig and token.

    The kubeconfig uses the admin's cluster entry (same server and CA) and the SA's token; it is
    written 0600, and the token is returned for leak checks, never to be printed.
    """
    kubectl.run("create", "serviceaccount", name, "-n", namespace)
    kubectl.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": rules,
        }
    )
    kubectl.run(
        *("create", "rolebinding", name, "-n", namespace, "--role", name),
        f"--serviceaccount={namespace}:{name}",
    )
    token = kubectl.run("create", "token", name, "-n", namespace, "--duration=10m").stdout.strip()
    cluster = kubectl.json("config", "view", "--raw", "--minify")["clusters"][0]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster["cluster"]}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": "test", "user": name, "namespace": namespace}}
        ],
        "current-context": name,
    }
    out.touch(mode=0o600)
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out, token


def pod_names(kubectl: Kubectl, namespace: str) -> set[str]:
    """Names of the namespace's Pods that are not being deleted."""
    pods = kubectl.json("get", "pods", "-n", namespace)["items"]
    return {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}


def wait_gone(kubectl: Kubectl, namespace: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while kubectl.run("get", "pod", name, "-n", namespace, check=False).returncode == 0:
        assert time.monotonic() < deadline, f"pod {name} still exists"
        time.sleep(0.3)


def pod_fingerprint(kubectl: Kubectl, namespace: str, name: str) -> tuple[str, Any]:
    """What must not change when podscope refuses before writing."""
    pod = kubectl.pod(namespace, name)
    return pod["metadata"]["resourceVersion"], pod["spec"].get("ephemeralContainers")
