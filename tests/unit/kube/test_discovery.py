"""Which ephemeral-container API a server speaks, from its /api/v1 discovery document."""

from __future__ import annotations

import json
from pathlib import Path

from podscope.kube.discovery import ephemeral_shape, ephemeral_verbs

RECORDED = json.loads((Path(__file__).parent / "recorded_1_34.json").read_text())

# The pods entries of a 1.21 server's /api/v1 APIResourceList. Written out here rather than
# recorded because no pre-1.22 API server can be built in this environment; the shape
# (kind EphemeralContainers, verbs get/patch/update) is that of the 1.16-1.21 API.
DISCOVERY_1_21 = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {
            "name": "pods",
            "singularName": "",
            "namespaced": True,
            "kind": "Pod",
            "verbs": [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
            "shortNames": ["po"],
            "categories": ["all"],
        },
        {
            "name": "pods/attach",
            "singularName": "",
            "namespaced": True,
            "kind": "PodAttachOptions",
            "verbs": ["create", "get"],
        },
        {
            "name": "pods/ephemeralcontainers",
            "singularName": "",
            "namespaced": True,
            "kind": "EphemeralContainers",
            "verbs": ["get", "patch", "update"],
        },
        {
            "name": "pods/exec",
            "singularName": "",
            "namespaced": True,
            "kind": "PodExecOptions",
            "verbs": ["create", "get"],
        },
    ],
}


def test_recorded_1_34_serves_the_pod_kind() -> None:
    document = json.loads(RECORDED["discovery_v1"][1])
    assert ephemeral_shape(document) == "pod"
    assert ephemeral_verbs(document) == ["get", "patch", "update"]


def test_1_21_serves_the_ephemeralcontainers_kind() -> None:
    assert ephemeral_shape(DISCOVERY_1_21) == "legacy"


def test_gate_off_or_older_than_1_16_is_absent() -> None:
    without = {
        **DISCOVERY_1_21,
        "resources": [
            r for r in DISCOVERY_1_21["resources"] if r["name"] != "pods/ephemeralcontainers"
        ],
    }
    assert ephemeral_shape(without) == "absent"
    assert ephemeral_verbs(without) == []
    assert ephemeral_shape({}) == "absent"
