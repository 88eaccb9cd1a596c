from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import NotFoundError, UsageError
from podscope.rules.workloads import parse_pod_ref, pick_running_pod, selector_string


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("web", "web", None),
        ("pod/web", "web", None),
        ("Pod/web", "web", None),
        ("po/web", "web", None),
        ("deploy/web", "web", "deployment"),
        ("deployment/web", "web", "deployment"),
        ("Deployment/web", "web", "deployment"),
        ("sts/db", "db", "statefulset"),
        ("ds/agent", "agent", "daemonset"),
        ("job/migrate", "migrate", "job"),
        ("rs/web-6d", "web-6d", "replicaset"),
        # kubectl's TYPE[[.VERSION].GROUP]/NAME
        ("deployment.apps/web", "web", "deployment"),
        ("deployments.v1.apps/web", "web", "deployment"),
        ("StatefulSet.apps/db", "db", "statefulset"),
        ("job.batch/migrate", "migrate", "job"),
    ],
)
def test_parse_pod_ref(text: str, name: str, kind: str | None) -> None:
    ref = parse_pod_ref(text)
    assert ref.name == name
    assert (ref.workload.name if ref.workload else None) == kind


@pytest.mark.parametrize(
    "text",
    [
        "svc/web",
        "deploy/",
        "a/b/c",
        "",
        "deployment.batch/w",
        "deployments.v2.apps/w",
        "pods.apps/x",
    ],
)
def test_parse_pod_ref_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_pod_ref(text)


def test_selector_string() -> None:
    selector = {
        "matchLabels": {"app": "web", "tier": "front"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "stage"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["a"]},
            {"key": "team", "operator": "Exists"},
        ],
    }
    assert selector_string(selector) == (
        "app=web,tier=front,env in (prod,stage),!canary,zone notin (a),team"
    )
    assert selector_string(None) == ""


def _pod(name: str, phase: str, ready: bool, created: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "app", "restartCount": restarts}],
        },
    }


def test_pick_prefers_running_ready_then_fewer_restarts_then_oldest() -> None:
    ref = parse_pod_ref("deploy/web")
    pods = [
        _pod("pending", "Pending", False, "2024-01-01T00:00:00Z"),
        _pod("unready", "Running", False, "2024-01-01T00:00:00Z"),
        _pod("restarted", "Running", True, "2024-01-01T00:00:00Z", restarts=3),
        _pod("young", "Running", True, "2024-03-01T00:00:00Z"),
        _pod("old", "Running", True, "2024-02-01T00:00:00Z"),
    ]
    chosen, reason = pick_running_pod(pods, ref)
    assert chosen["metadata"]["name"] == "old"
    assert "4 of 5 Pod(s) of deployment/web are Running" in reason


def test_pick_skips_terminating_pods_and_explains_when_none_runs() -> None:
    ref = parse_pod_ref("sts/db")
    going = _pod("going", "Running", True, "2024-01-01T00:00:00Z")
    going["metadata"]["deletionTimestamp"] = "2024-05-01T00:00:00Z"
    with pytest.raises(NotFoundError, match="statefulset/db has no Running Pod"):
        pick_running_pod([going, _pod("p", "Pending", False, "x")], ref)
    with pytest.raises(NotFoundError, match="it has no Pods"):
        pick_running_pod([], ref)
