"""`podscope apply` against the real cluster: the guide's ec.json, verbatim."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect

from tests.e2e.conftest import NGINX_IMAGE, Kubectl
from tests.e2e.helpers import pod_fingerprint, podscope, service_account_kubeconfig

EC_JSON = Path(__file__).resolve().parents[1] / "data" / "ec.json"
CONFLICT = 13
FORBIDDEN = 6


def seed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EC_JSON.read_text(encoding="utf-8"))
    return document


SEED_EC_JSON = (
    '{"apiVersion": "v1","kind": "EphemeralContainers","metadata": {"name": "nginx"},'
    '"ephemeralContainers": [{"command": ["sh"],"image": "busybox","imagePullPolicy": '
    '"IfNotPresent","name": "debugger","stdin": true,"tty": true,"terminationMessagePolicy": '
    '"File"}]}'
)


def test_ec_json_is_the_seeds() -> None:
    assert EC_JSON.read_text(encoding="utf-8").strip() == SEED_EC_JSON
    document = seed_document()
    assert document["kind"] == "EphemeralContainers"
    assert document["metadata"] == {"name": "nginx"}
    assert document["ephemeralContainers"][0]["name"] == "debugger"


def test_seed_walkthrough_apply_attach(
    kubectl: Kubectl, namespace: str, make_pod: Any, podscope_env: dict[str, str]
) -> None:
    """The guide's five manual steps in one command: create, wait, attach, ps."""
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    session = pexpect.spawn(
        sys.executable,
        ["-m", "podscope", "apply", str(EC_JSON), "-n", namespace, "--attach"],
        env=podscope_env,
        encoding="utf-8",
        timeout=90,
        dimensions=(24, 120),
    )
    try:
        session.expect("added ephemeral container")
        session.expect(r"/ #")
        session.sendline("ps")
        session.expect("nginx: master process")
        session.sendline("exit 0")
        session.expect(pexpect.EOF)
    finally:
        session.close()
    assert session.exitstatus == 0, session.before
    pod = kubectl.pod(namespace, "nginx")
    [debugger] = pod["spec"]["ephemeralContainers"]
    assert debugger["name"] == "debugger" and debugger["image"] == "busybox"
    assert debugger["command"] == ["sh"] and debugger["stdin"] and debugger["tty"]


def test_apply_is_idempotent(
    kubectl: Kubectl, namespace: str, make_pod: Any, podscope_env: dict[str, str]
) -> None:
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    first = podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace)
    assert first.returncode == 0, first.stderr
    assert "ephemeral container debugger added (running)" in first.stdout
    after_first = pod_fingerprint(kubectl, namespace, "nginx")

    second = podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace, "-o", "json")
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["nothing_to_do"] is True
    assert result["added"] == [] and result["unchanged"] == ["debugger"]
    assert pod_fingerprint(kubectl, namespace, "nginx") == after_first

    # A Pod-shaped document (like `kubectl get pod -o yaml`) and a bare list say the same.
    pod_shaped = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nginx", "namespace": namespace},
        "spec": {"ephemeralContainers": seed_document()["ephemeralContainers"]},
    }
    third = subprocess_apply(podscope_env, json.dumps(pod_shaped))
    assert third.returncode == 0 and "nothing to do" in third.stdout, third.stderr
    listed = json.dumps(seed_document()["ephemeralContainers"])
    fourth = subprocess_apply(podscope_env, listed, "--pod", "nginx", "-n", namespace)
    assert fourth.returncode == 0 and "nothing to do" in fourth.stdout, fourth.stderr
    assert pod_fingerprint(kubectl, namespace, "nginx") == after_first


def subprocess_apply(
    env: dict[str, str], text: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podscope", "apply", "-", *args],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_conflicting_change_is_refused(
    kubectl: Kubectl, namespace: str, make_pod: Any, podscope_env: dict[str, str]
) -> None:
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    assert podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace).returncode == 0
    before = pod_fingerprint(kubectl, namespace, "nginx")
    changed = seed_document()
    changed["ephemeralContainers"][0]["command"] = ["sh", "-c", "sleep 1"]
    result = subprocess_apply(podscope_env, json.dumps(changed), "-n", namespace)
    assert result.returncode == CONFLICT, result.stderr
    assert "container debugger of Pod nginx differs from the document: command" in result.stderr
    assert "cannot be changed" in result.stderr or "neither changed nor removed" in result.stderr
    assert pod_fingerprint(kubectl, namespace, "nginx") == before


def test_dry_run_server_leaves_pod_unchanged(
    kubectl: Kubectl, namespace: str, make_pod: Any, podscope_env: dict[str, str]
) -> None:
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    before = pod_fingerprint(kubectl, namespace, "nginx")
    result = podscope(
        podscope_env, "apply", str(EC_JSON), "-n", namespace, "--dry-run=server", "--diff"
    )
    assert result.returncode == 0, result.stderr
    # The diff comes from the server's answer: it shows the defaults the server filled in.
    assert "+- name: debugger" in result.stdout
    assert "+  terminationMessagePath: /dev/termination-log" in result.stdout
    assert "would be added (dry run: server)" in result.stdout
    assert pod_fingerprint(kubectl, namespace, "nginx") == before
    assert before[1] is None


def test_dry_run_client_sends_nothing(
    kubectl: Kubectl,
    namespace: str,
    make_pod: Any,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Proof by permissions: a user who may only read Pods can do a client dry-run."""
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    before = pod_fingerprint(kubectl, namespace, "nginx")
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    env = {
        **podscope_env,
        "KUBECONFIG": str(
            service_account_kubeconfig(kubectl, namespace, rules, tmp_path / "sa")[0]
        ),
    }

    client = podscope(env, "apply", str(EC_JSON), "--dry-run=client")
    assert client.returncode == 0, client.stderr
    lines = client.stdout.splitlines()
    assert lines[0] == f"PATCH /api/v1/namespaces/{namespace}/pods/nginx/ephemeralcontainers"
    body = json.loads("\n".join(lines[1 : lines.index("}") + 1]))
    assert body == {"spec": {"ephemeralContainers": seed_document()["ephemeralContainers"]}}
    assert "(dry run: client, nothing sent)" in client.stdout

    # The same user's server dry-run does send the PATCH, and RBAC refuses it.
    server = podscope(env, "apply", str(EC_JSON), "--dry-run=server")
    assert server.returncode == FORBIDDEN, server.stderr
    assert "pods/ephemeralcontainers" in server.stderr
    assert pod_fingerprint(kubectl, namespace, "nginx") == before
