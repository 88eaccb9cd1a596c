"""Request bodies for adding ephemeral containers.

1.16-1.21 (alpha): ``PUT .../pods/NAME/ephemeralcontainers`` takes an ``EphemeralContainers``
object holding the *whole* list (existing + new) and the Pod's resourceVersion, so a
concurrent change answers 409 instead of being lost.
1.22+: ``PATCH .../pods/NAME/ephemeralcontainers`` with a strategic-merge patch on the Pod;
``spec.ephemeralContainers`` merges by ``name``, so the patch lists only the new ones.
"""

from __future__ import annotations

import copy
from typing import Any

from podscope.errors import ValidationError
from podscope.rules._fmt import duplicate, index
from podscope.rules._pod import EPHEMERAL, containers_of, metadata_of


def to_legacy_body(pod: dict[str, Any], containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The 1.16-1.21 ``EphemeralContainers`` object: the Pod's existing ones plus ``containers``."""
    existing = containers_of(pod, EPHEMERAL)
    merged = [copy.deepcopy(c) for c in existing]
    seen = {c.get("name") for c in existing}
    for i, container in enumerate(containers):
        name = container.get("name")
        if name in seen:
            raise duplicate(f"{index('ephemeralContainers', len(existing) + i)}.name", name)
        seen.add(name)
        if container.get("securityContext"):
            raise _no_security_context(name, index("ephemeralContainers", len(existing) + i))
        merged.append(copy.deepcopy(container))
    meta = metadata_of(pod)
    metadata: dict[str, Any] = {"name": meta.get("name")}
    for key in ("namespace", "resourceVersion", "uid"):
        if meta.get(key):
            metadata[key] = meta[key]
    return {
        "apiVersion": "v1",
        "kind": "EphemeralContainers",
        "metadata": metadata,
        "ephemeralContainers": merged,
    }


def _no_security_context(name: Any, path: str) -> ValidationError:
    # 1.16-1.21's allowedEphemeralContainerFields has no SecurityContext: the API server would
    # answer "Forbidden: cannot be set for an Ephemeral Container" without saying why it is set.
    return ValidationError(
        f"ephemeral container {name} needs a securityContext, which the 1.16-1.21 API "
        "(kind EphemeralContainers) does not accept in ephemeral containers",
        field=f"{path}.securityContext",
        remedy="leave out what sets it (--profile general, restricted, netadmin or sysadmin, "
        "--cd/--chroot, --as-target-user, --user, podscope cp's debugger) and use "
        "--profile legacy (or baseline), or debug on a newer cluster",
    )


def pod_patch_body(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The strategic-merge PATCH body (1.22+) adding ``containers`` to the Pod."""
    return {"spec": {"ephemeralContainers": [copy.deepcopy(c) for c in containers]}}


def add_body(pod: dict[str, Any], containers: list[dict[str, Any]], shape: str) -> dict[str, Any]:
    """The body that adds ``containers`` to ``pod`` for the API's shape (``"pod"``: 1.22+)."""
    return pod_patch_body(containers) if shape == "pod" else to_legacy_body(pod, containers)
