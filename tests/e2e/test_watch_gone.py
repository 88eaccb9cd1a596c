"""A watch from an expired resourceVersion gets 410 Gone from the real API server: podscope re-reads
the Pod and carries on (fault 1's "re-lists on 410 Gone", provoked for real)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from podscope.kube.config import connect
from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import SLEEPER


def test_expired_resource_version_is_re_read(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubectl: Kubectl, kubeconfig: str
) -> None:
    pod = make_pod("web", command=SLEEPER)
    # The premise, checked with the reference client: version 1 is long compacted away.
    raw = kubectl.run(
        "get",
        "--raw",
        f"/api/v1/namespaces/{namespace}/pods?watch=true&resourceVersion=1&timeoutSeconds=1"
        "&fieldSelector=metadata.name%3Dweb",
    ).stdout
    first = json.loads(raw.splitlines()[0])
    assert first["type"] == "ERROR" and first["object"]["code"] == 410

    client = connect(kubeconfig, None, namespace, None)
    try:
        events = client.watch_pod(namespace, "web", "1", 10)
        kind, seen = next(events)
        events.close()
    finally:
        client.close()
    # The re-read Pod comes as MODIFIED (a server's own event from version 1 would be ADDED).
    assert kind == "MODIFIED"
    assert seen["metadata"]["uid"] == pod["metadata"]["uid"]
    assert int(seen["metadata"]["resourceVersion"]) >= int(pod["metadata"]["resourceVersion"])
