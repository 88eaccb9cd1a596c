"""The guide's walkthrough, as it is written, on the 1.21 cluster with the gate switched on.

kubectl here is the machine's (v1.32): these tests also prove that it still talks to a 1.21
API server for the verbs the guide uses (`replace --raw`, `describe`, `attach`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e121.conftest import NGINX_IMAGE

EC_JSON = Path(__file__).resolve().parents[1] / "data" / "ec.json"
GUIDE_PATH = "/api/v1/namespaces/default/pods/nginx/ephemeralcontainers"


def guide_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {
            "shareProcessNamespace": True,
            "containers": [{"name": "nginx", "image": NGINX_IMAGE}],
        },
    }


@pytest.fixture
def nginx(kubectl: Kubectl, gate_on: None) -> Any:
    kubectl.run("delete", "pod", "nginx", "-n", "default", "--grace-period=0", check=False)
    kubectl.apply(guide_pod())
    kubectl.wait_running("default", "nginx")
    yield "nginx"
    kubectl.run("delete", "pod", "nginx", "-n", "default", "--grace-period=0", "--wait=false")


def attach_and_ps(command: list[str], env: dict[str, str]) -> None:
    session = pexpect.spawn(
        command[0], command[1:], env=env, encoding="utf-8", timeout=90, dimensions=(24, 120)
    )
    try:
        # kubectl attaches after the shell printed its prompt: Enter brings a new one.
        session.sendline("")
        session.expect(r"/ #")
        session.sendline("ps")
        session.expect("nginx: master process")
        session.sendline("exit 0")
        session.expect(pexpect.EOF)
    finally:
        session.close()
    assert session.exitstatus == 0, session.before


def test_kubectl_replace_raw_describe_attach(kubectl: Kubectl, nginx: str) -> None:
    replaced = kubectl.run("replace", "--raw", GUIDE_PATH, "-f", str(EC_JSON))
    answer = json.loads(replaced.stdout)
    assert answer["kind"] == "EphemeralContainers"
    assert [c["name"] for c in answer["ephemeralContainers"]] == ["debugger"]

    kubectl.wait_running("default", "nginx")
    described = kubectl.run("describe", "pod", "nginx").stdout
    assert "Ephemeral Containers:" in described
    assert "debugger:" in described and "busybox" in described

    def debugger_running() -> bool:
        statuses = kubectl.pod("default", "nginx")["status"].get("ephemeralContainerStatuses")
        return bool(statuses) and "running" in statuses[0].get("state", {})

    from tests.e2e121.conftest import wait_until

    wait_until("the debugger container to run", debugger_running, 60)
    attach_and_ps(["kubectl", "attach", "-it", "nginx", "-c", "debugger"], kubectl.env)


def test_podscope_apply_ec_json_attach(
    kubectl: Kubectl, nginx: str, podscope_env: dict[str, str]
) -> None:
    attach_and_ps(
        [sys.executable, "-m", "podscope", "apply", str(EC_JSON), "-n", "default", "--attach"],
        podscope_env,
    )
    [debugger] = kubectl.pod("default", "nginx")["spec"]["ephemeralContainers"]
    assert debugger["name"] == "debugger" and debugger["image"] == "busybox"
