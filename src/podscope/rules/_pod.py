"""Read-only accessors for a Pod dict that tolerate missing or malformed parts.

The Pod comes from the API server, so it is normally well formed; but documents and tests
hand us partial Pods, and a pure layer must answer with an error, never a KeyError.
"""

from __future__ import annotations

from typing import Any

REGULAR = "containers"
INIT = "initContainers"
EPHEMERAL = "ephemeralContainers"


def spec_of(pod: Any) -> dict[str, Any]:
    spec = pod.get("spec") if isinstance(pod, dict) else None
    return spec if isinstance(spec, dict) else {}


def metadata_of(pod: Any) -> dict[str, Any]:
    meta = pod.get("metadata") if isinstance(pod, dict) else None
    return meta if isinstance(meta, dict) else {}


def pod_name(pod: Any) -> str:
    name = metadata_of(pod).get("name")
    return name if isinstance(name, str) else ""


def annotations_of(pod: Any) -> dict[str, Any]:
    annotations = metadata_of(pod).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def containers_of(pod: Any, kind: str) -> list[dict[str, Any]]:
    items = spec_of(pod).get(kind)
    if not isinstance(items, list):
        return []
    return [c for c in items if isinstance(c, dict)]


def names_of(pod: Any, kind: str) -> list[str]:
    return [c["name"] for c in containers_of(pod, kind) if isinstance(c.get("name"), str)]


def all_names(pod: Any) -> set[str]:
    return {n for kind in (REGULAR, INIT, EPHEMERAL) for n in names_of(pod, kind)}


def is_sidecar(container: dict[str, Any]) -> bool:
    # A restartable init container (KEP-753) keeps running next to the app containers,
    # so unlike an ordinary init container it is a meaningful debug target.
    return container.get("restartPolicy") == "Always"


def volume_names(pod: Any) -> set[str]:
    volumes = spec_of(pod).get("volumes")
    if not isinstance(volumes, list):
        return set()
    return {v["name"] for v in volumes if isinstance(v, dict) and isinstance(v.get("name"), str)}
