"""The guide's section on enabling the feature, on a cluster that boots with the gate off.

In order: the doctor on the gate-off cluster; `podscope node enable-gate` on the node's real
files, after which the (still gate-off) kubelet restarts the static Pods with the gate on — the
half-enabled cluster the guide warns about, which doctor and debug must recognise; then the
kubelet restart, after which the doctor passes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, podscope, service_account_kubeconfig
from tests.e2e121.conftest import (
    NGINX_IMAGE,
    NODE,
    NODE_ROOT,
    control_plane_ready,
    devcluster,
    enable_gate,
    kubelet_gate,
    serves_ephemeral,
    wait_until,
)

MANIFESTS = NODE_ROOT / "etc/kubernetes/manifests"
KUBELET_CONFIG = NODE_ROOT / "var/lib/kubelet/config.yaml"
KUBELET_ENV = NODE_ROOT / "etc/default/kubelet"


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = podscope(env, "doctor", *args, "-o", "json")
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def finding(report: dict[str, Any], check: str) -> dict[str, Any]:
    found = [f for f in report["findings"] if f["check"] == check]
    assert found, f"no {check} finding in {report['findings']}"
    return found[0]


@pytest.fixture(scope="module")
def gate_off(kubectl: Kubectl) -> None:
    """A cluster fresh from `up`: a previous run may have left the gate on."""
    if serves_ephemeral(kubectl) or kubelet_gate(kubectl):
        devcluster("down")
        devcluster("up", "--no-build")
    assert not serves_ephemeral(kubectl)


@pytest.fixture(scope="module")
def sleeper(kubectl: Kubectl, gate_off: None) -> str:
    kubectl.run("delete", "pod", "sleeper", "--grace-period=0", "--wait=true", check=False)
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sleeper", "namespace": "default"},
        "spec": {
            "containers": [
                {"name": "app", "image": NGINX_IMAGE, "imagePullPolicy": "IfNotPresent"}
            ],
            "terminationGracePeriodSeconds": 1,
        },
    }
    kubectl.apply(manifest)
    kubectl.wait_running("default", "sleeper")
    return "sleeper"


def test_doctor_says_the_gate_is_off_and_how_to_fix_it(
    podscope_env: dict[str, str], gate_off: None, sleeper: str
) -> None:
    code, report = doctor(podscope_env, sleeper, "-n", "default")
    assert code == 17
    sub = finding(report, "ephemeral-subresource")
    assert sub["result"] == "fail"
    assert "not served" in sub["evidence"] and "feature gate is off" in sub["evidence"]
    assert "v1.21.14" in sub["evidence"]
    remedy = sub["remedy"]
    assert "podscope node enable-gate" in remedy and "systemctl restart kubelet" in remedy
    for name in (
        "kube-apiserver.yaml",
        "kube-scheduler.yaml",
        "/var/lib/kubelet/config.yaml",
        "/etc/default/kubelet",
    ):
        assert name in remedy
    debug = podscope(podscope_env, "debug", sleeper, "-n", "default", *PULL, "--", "true")
    assert debug.returncode == 9, debug.stderr
    assert "feature gate is off" in debug.stderr and "Traceback" not in debug.stderr


def test_the_cluster_has_kubeadms_files_with_the_gate_off(gate_off: None) -> None:
    config = KUBELET_CONFIG.read_text()
    assert 'kind: "KubeletConfiguration"' in config or "kind: KubeletConfiguration" in config
    assert "EphemeralContainers" not in config
    assert KUBELET_ENV.read_text().strip() == "KUBELET_EXTRA_ARGS="
    for name in ("kube-apiserver", "kube-scheduler", "kube-controller-manager"):
        text = (MANIFESTS / f"{name}.yaml").read_text()
        assert f"registry.k8s.io/{name}:v1.21.14" in text
        assert "feature-gates" not in text


def test_enable_gate_edits_the_real_files_and_the_kubelet_restarts_the_static_pods(
    kubectl: Kubectl, gate_off: None, sleeper: str
) -> None:
    def started(pod: dict[str, Any]) -> tuple[str, str]:
        # The kubelet names a static Pod's version by its manifest's hash; the container is new.
        hash_ = pod["metadata"]["annotations"]["kubernetes.io/config.hash"]
        return hash_, pod["status"]["containerStatuses"][0]["containerID"]

    before = {
        p["metadata"]["name"]: started(p)
        for p in kubectl.json("get", "pod", "-n", "kube-system")["items"]
    }
    report = enable_gate()
    assert report["ok"] is True
    changed = {Path(f["path"]).name: f["action"] for f in report["files"]}
    assert changed == {
        "config.yaml": "changed",
        "kubelet": "changed",
        "kube-apiserver.yaml": "changed",
        "kube-scheduler.yaml": "changed",
    }, report["files"]
    assert "EphemeralContainers: true" in KUBELET_CONFIG.read_text()
    assert "--feature-gates=EphemeralContainers=true" in KUBELET_ENV.read_text()
    # The kubelet runs every non-hidden file of the manifests folder: backups must be hidden.
    assert sorted(p.name for p in MANIFESTS.iterdir() if not p.name.startswith(".")) == [
        "kube-apiserver.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ]
    # Nothing restarted by hand: the kubelet sees the changed manifests by itself.
    wait_until(
        "the static Pods to restart with the gate", lambda: control_plane_ready(kubectl), 180
    )
    items = kubectl.json("get", "pod", "-n", "kube-system")["items"]
    pods = {p["metadata"]["name"]: p for p in items}
    for name in ("kube-apiserver", "kube-scheduler"):
        pod = pods[f"{name}-{NODE}"]
        old_hash, old_container = before[f"{name}-{NODE}"]
        new_hash, new_container = started(pod)
        assert new_hash != old_hash and new_container != old_container
    assert serves_ephemeral(kubectl)
    # The kubelet itself still runs with the gate off until it is restarted.
    assert kubelet_gate(kubectl) is None


def test_half_enabled_doctor_names_the_kubelet(
    podscope_env: dict[str, str], kubectl: Kubectl, sleeper: str
) -> None:
    assert serves_ephemeral(kubectl) and not kubelet_gate(kubectl)
    code, report = doctor(podscope_env, sleeper, "-n", "default")
    assert code == 17
    assert finding(report, "ephemeral-subresource")["result"] == "ok"
    gate = finding(report, "kubelet-feature-gate")
    assert gate["result"] == "fail"
    assert f"the kubelet on node {NODE} has the EphemeralContainers gate off" in gate["evidence"]
    assert "enable-gate" in gate["remedy"]


def test_half_enabled_debug_stops_within_seconds(
    podscope_env: dict[str, str], kubectl: Kubectl, sleeper: str
) -> None:
    start = time.monotonic()
    result = podscope(
        podscope_env, "debug", sleeper, "-n", "default", *PULL, "--timeout", "120", "--", "true"
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 9, result.stderr
    assert f"the kubelet on node {NODE} has the EphemeralContainers gate off" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 15, f"took {elapsed:.1f}s"
    # The API server accepted the container; the kubelet never starts it.
    pod = kubectl.pod("default", sleeper)
    assert pod["spec"].get("ephemeralContainers")
    assert not pod["status"].get("ephemeralContainerStatuses")


def test_half_enabled_without_nodes_proxy_says_what_it_could_not_check(
    kubectl: Kubectl, podscope_env: dict[str, str], tmp_path: Path, sleeper: str
) -> None:
    ns = "default"
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {
            "apiGroups": [""],
            "resources": ["pods/ephemeralcontainers"],
            "verbs": ["get", "update", "patch"],
        },
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
    ]
    name = f"noproxy-{int(time.time())}"
    config, _ = service_account_kubeconfig(kubectl, ns, rules, tmp_path / "kc", name=name)
    # Nodes are cluster-scoped: a ClusterRole lets it read them but not their proxy.
    kubectl.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}],
        }
    )
    kubectl.run(
        "create", "clusterrolebinding", name, "--clusterrole", name, f"--serviceaccount={ns}:{name}"
    )
    try:
        env = {**podscope_env, "KUBECONFIG": str(config)}
        _, report = doctor(env, sleeper, "-n", ns)
        gate = finding(report, "kubelet-feature-gate")
        assert gate["result"] == "warn"
        assert (
            f"could not check the EphemeralContainers gate of the kubelet on {NODE}"
            in (gate["evidence"])
        )
        assert "nodes/proxy" in gate["evidence"]
    finally:
        kubectl.run("delete", "clusterrolebinding,clusterrole", name, check=False)


def test_after_the_kubelet_restart_the_doctor_passes(
    podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    devcluster("restart", "kubelet")
    assert kubelet_gate(kubectl) is True
    kubectl.run("delete", "pod", "after", "--grace-period=0", "--wait=true", check=False)
    kubectl.run("run", "after", f"--image={NGINX_IMAGE}", "--image-pull-policy=IfNotPresent")
    kubectl.wait_running("default", "after")
    code, report = doctor(podscope_env, "after", "-n", "default")
    assert code == 0, report["findings"]
    assert finding(report, "kubelet-feature-gate")["result"] == "ok"
    result = podscope(podscope_env, "debug", "after", "-n", "default", *PULL, "--", "true")
    assert result.returncode == 0, result.stderr
    kubectl.run("delete", "pod", "after", "sleeper", "--grace-period=0", "--wait=false")
