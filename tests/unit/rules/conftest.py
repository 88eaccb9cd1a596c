from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PodFactory = Callable[..., dict[str, Any]]


def build_pod(
    containers: tuple[str, ...] = ("app",),
    init: tuple[str, ...] = (),
    ephemeral: tuple[str, ...] = (),
    volumes: tuple[str, ...] = (),
    phase: str | None = "Running",
    name: str = "web",
    annotations: dict[str, str] | None = None,
    sidecars: tuple[str, ...] = (),
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": n, "image": "nginx"} for n in containers]}
    if init or sidecars:
        spec["initContainers"] = [{"name": n, "image": "busybox"} for n in init] + [
            {"name": n, "image": "envoy", "restartPolicy": "Always"} for n in sidecars
        ]
    if ephemeral:
        spec["ephemeralContainers"] = [
            {"name": n, "image": "busybox", "terminationMessagePolicy": "File"} for n in ephemeral
        ]
    if volumes:
        spec["volumes"] = [{"name": v, "emptyDir": {}} for v in volumes]
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": "42"},
        "spec": spec,
    }
    if annotations:
        pod["metadata"]["annotations"] = annotations
    if phase is not None:
        pod["status"] = {"phase": phase}
    return pod


@pytest.fixture
def make_pod() -> PodFactory:
    return build_pod
