"""What the API server can do, decided from its discovery documents (pure functions)."""

from __future__ import annotations

from typing import Any, Literal

EphemeralShape = Literal["pod", "legacy", "absent"]


def ephemeral_shape(core_resources: dict[str, Any]) -> EphemeralShape:
    """How ``pods/ephemeralcontainers`` is served, from the ``GET /api/v1`` APIResourceList.

    1.22+ serves it with kind ``Pod`` (PATCH the whole Pod); 1.16-1.21 with kind
    ``EphemeralContainers`` (PUT a list); older servers, or servers with the feature gate off,
    do not list it at all.
    """
    for resource in core_resources.get("resources") or []:
        if resource.get("name") != "pods/ephemeralcontainers":
            continue
        kind = resource.get("kind")
        if kind == "Pod":
            return "pod"
        if kind == "EphemeralContainers":
            return "legacy"
    return "absent"


def ephemeral_verbs(core_resources: dict[str, Any]) -> list[str]:
    """The verbs listed for ``pods/ephemeralcontainers`` (empty when absent)."""
    for resource in core_resources.get("resources") or []:
        if resource.get("name") == "pods/ephemeralcontainers":
            return list(resource.get("verbs") or [])
    return []
