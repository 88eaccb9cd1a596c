"""`podscope debug node/NAME` against the real local cluster (its one node runs on this host)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, pod_names, podscope, wait_gone

NODE = "podscope-node"
NODE_LABEL = "podscope.dev/node-debug"


def node_pods(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    items = kubectl.json("get", "pods", "-n", namespace, "-l", f"{NODE_LABEL}={NODE}")["items"]
    return list(items)


def test_chroot_reads_the_hosts_file_and_the_pod_is_deleted(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    result = podscope(
        podscope_env,
        "debug",
        f"node/{NODE}",
        "-n",
        namespace,
        *PULL,
        "--chroot",
        "--",
        "cat",
        "/etc/os-release",
    )
    assert result.returncode == 0, result.stderr
    host = Path("/etc/os-release").read_text()
    assert 'VERSION_ID="12"' in host  # the machine the node runs on: Debian 12
    assert result.stdout == host
    assert f"podscope: created Pod node-debugger-{NODE}-" in result.stderr
    assert "podscope: deleted Pod node-debugger-" in result.stderr
    for pod in node_pods(kubectl, namespace):
        wait_gone(kubectl, namespace, pod["metadata"]["name"])


NAMESPACES = ("pid", "net", "ipc", "uts")


def node_namespaces() -> list[str]:
    """The node's own namespace links (``pid:[4026531836]``, ...), read on this machine, which
    is the node. PID 1 is the reference where it can be read; inside some sandboxes its links
    are hidden even from root, and then the kubelet's (the node agent, started on the host by
    devcluster) are used."""
    from devcluster import processes

    candidates = [1]
    kubelet = processes.pid_of("kubelet")
    if kubelet:
        candidates.append(kubelet)
    for pid in candidates:
        try:
            return [os.readlink(f"/proc/{pid}/ns/{name}") for name in NAMESPACES]
        except OSError:
            continue
    raise AssertionError("cannot read the namespaces of PID 1 or of the kubelet on this machine")


def test_the_session_runs_in_the_nodes_namespaces(
    namespace: str, podscope_env: dict[str, str]
) -> None:
    # /proc/1 exists in every PID namespace; the namespace links say which one it is.
    script = "for n in " + " ".join(NAMESPACES) + "; do readlink /proc/self/ns/$n; done"
    result = podscope(
        podscope_env, "debug", f"node/{NODE}", "-n", namespace, *PULL, "--", "sh", "-c", script
    )
    assert result.returncode == 0, result.stderr
    seen = result.stdout.split()
    assert [link.split(":")[0] for link in seen] == list(NAMESPACES), result.stdout
    assert seen == node_namespaces()


def test_host_namespaces_exit_code_and_keep_then_cleanup(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    # The exit code comes back (the namespaces are checked in the test above).
    result = podscope(
        podscope_env,
        "debug",
        f"nodes/{NODE}",
        "-n",
        namespace,
        *PULL,
        "--keep",
        "-o",
        "json",
        "--",
        "sh",
        "-c",
        "sleep 1; test -e /host/etc/os-release && echo host-root && exit 3",
    )
    # -o only prints: the same run, the command's exit code and output in the document.
    assert result.returncode == 3, result.stderr
    document = json.loads(result.stdout)
    assert document["kept"] is True and document["node"] == NODE
    assert document["exit_code"] == 3 and document["stdout"] == "host-root\n"

    attached = podscope(
        podscope_env,
        "debug",
        f"node/{NODE}",
        "-n",
        namespace,
        *PULL,
        "--keep",
        "--",
        "sh",
        "-c",
        "sleep 1; test -e /host/etc/os-release && exit 3",
    )
    assert attached.returncode == 3, attached.stderr
    assert "stays (--keep); remove it with: podscope cleanup node-debugger-" in attached.stderr

    kept = node_pods(kubectl, namespace)
    assert len(kept) == 2
    for pod in kept:
        spec = pod["spec"]
        assert spec["nodeName"] == NODE and spec["hostPID"] and spec["hostNetwork"]
        labels = pod["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "podscope"

    cleaned = podscope(podscope_env, "cleanup", "-n", namespace, "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    for pod in kept:
        name = pod["metadata"]["name"]
        assert f"pod/{name} deleted" in cleaned.stdout
        wait_gone(kubectl, namespace, name)


def test_missing_node_is_not_found_and_nothing_is_created(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    result = podscope(podscope_env, "debug", "node/no-such-node", "-n", namespace, "--", "true")
    assert result.returncode == 5, result.stderr
    assert f"podscope: error: node no-such-node not found (nodes: {NODE}" in result.stderr
    assert "Traceback" not in result.stderr
    assert pod_names(kubectl, namespace) == set()


def test_node_mode_refusals(namespace: str, podscope_env: dict[str, str]) -> None:
    cases = [
        (["--profile", "baseline", "--chroot"], "does not mount"),
        (["--copy-to", "x"], "cannot be used with node/NAME"),
        (["--target", "x"], "--target cannot be used with node debugging"),
    ]
    for flags, text in cases:
        result = podscope(podscope_env, "debug", f"node/{NODE}", "-n", namespace, *flags)
        assert result.returncode == 2, (flags, result.stderr)
        assert text in result.stderr, (flags, result.stderr)


def test_interactive_chroot_shell_on_the_node(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "podscope", "debug", f"node/{NODE}", "-n", namespace, "-it", "--chroot", *PULL],
        env=podscope_env,
        encoding="utf-8",
        timeout=60,
        dimensions=(30, 100),
    )
    try:
        child.expect(r"[#$] ")  # the host's shell, started by chroot
        child.sendline("echo COUNT=$(grep -c bookworm /etc/os-release); exit 6")
        child.expect("COUNT=[1-9]")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 6, child.before
    for pod in node_pods(kubectl, namespace):
        wait_gone(kubectl, namespace, pod["metadata"]["name"])
