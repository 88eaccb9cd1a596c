"""``podscope cleanup``: find and delete the Pods podscope created (copies, node Pods).

Only Pods labelled ``app.kubernetes.io/managed-by=podscope`` are ever deleted, each with a
uid precondition, so a Pod recreated under the same name since it was listed is left alone.
Ephemeral containers cannot be removed at all (the API has no way to), so they are not part
of this; ``podscope ls`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from podscope.errors import ConflictError, NotFoundError, PodscopeError, UsageError
from podscope.kube.client import KubeClient
from podscope.rules.managed import (
    COPY_OF_KEY,
    MANAGED_BY_KEY,
    MANAGED_BY_VALUE,
    MANAGED_SELECTOR,
    NODE_DEBUG_KEY,
)
from podscope.rules.names import validate_resource_name
from podscope.rules.requests import CleanupRequest
from podscope.session.io import SessionIO

EPHEMERAL_NOTE = (
    "ephemeral containers cannot be removed from their Pods (the Kubernetes API does not "
    "allow it) and are not cleaned up; list them with `podscope ls`"
)

Confirm = Callable[[list["ManagedPod"]], bool]


@dataclass(frozen=True)
class ManagedPod:
    """One Pod podscope created."""

    name: str
    namespace: str
    purpose: str  # "copy", "node-debug", or "other" (the managed-by label alone)
    source: str | None  # the original Pod (copy) or the node (node-debug)
    phase: str | None
    node: str | None
    created: str | None
    uid: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CleanupResult:
    found: list[ManagedPod]
    deleted: list[ManagedPod] = field(default_factory=list)
    failed: list[tuple[ManagedPod, PodscopeError]] = field(default_factory=list)
    dry_run: bool = False
    confirmed: bool = False  # False when the confirmation was declined (nothing deleted)
    note: str = EPHEMERAL_NOTE

    def to_dict(self) -> dict[str, Any]:
        deleted = {(p.namespace, p.name) for p in self.deleted}
        errors = {(p.namespace, p.name): e.message for p, e in self.failed}
        pods = []
        for pod in self.found:
            item = pod.to_dict()
            item["deleted"] = (pod.namespace, pod.name) in deleted
            if (pod.namespace, pod.name) in errors:
                item["error"] = errors[(pod.namespace, pod.name)]
            pods.append(item)
        return {"pods": pods, "dryRun": self.dry_run, "note": self.note}


def is_managed(pod: dict[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_KEY) == MANAGED_BY_VALUE)


def describe(pod: dict[str, Any]) -> ManagedPod:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    if COPY_OF_KEY in labels:
        purpose, source = "copy", labels[COPY_OF_KEY]
    elif NODE_DEBUG_KEY in labels:
        purpose, source = "node-debug", labels[NODE_DEBUG_KEY]
    else:
        purpose, source = "other", None
    phase = (pod.get("status") or {}).get("phase")
    if meta.get("deletionTimestamp"):
        phase = "Terminating"
    return ManagedPod(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        purpose=purpose,
        source=source,
        phase=phase,
        node=(pod.get("spec") or {}).get("nodeName"),
        created=meta.get("creationTimestamp"),
        uid=meta.get("uid"),
    )


def find_managed(
    client: KubeClient, namespace: str | None, names: Sequence[str] = ()
) -> list[ManagedPod]:
    """podscope's Pods in ``namespace`` (None: every namespace), or the ones ``names``
    names (which must be podscope's: anything else is refused, not skipped)."""
    if not names:
        pods = client.list_pods(namespace, label_selector=MANAGED_SELECTOR)
        found = [describe(p) for p in pods if is_managed(p)]
        return sorted(found, key=lambda p: (p.namespace, p.name))
    if namespace is None:
        raise UsageError("name Pods in one namespace (-n), not with --all-namespaces")
    found = []
    for name in dict.fromkeys(names):
        validate_resource_name(name, "Pod name")
        pod = client.get_pod(namespace, name)
        if not is_managed(pod):
            raise UsageError(
                f"Pod {name} in namespace {namespace} was not created by podscope (it has no "
                f"{MANAGED_SELECTOR} label); podscope cleanup deletes only its own Pods"
            )
        found.append(describe(pod))
    return found


def run_cleanup(
    client: KubeClient,
    request: CleanupRequest,
    io: SessionIO,
    *,
    confirm: Confirm | None = None,
) -> CleanupResult:
    """Delete podscope's Pods (after ``confirm(pods)`` says yes, when given)."""
    report, dry_run = io.events, request.dry_run
    namespace = None if request.all_namespaces else (request.namespace or client.namespace)
    found = find_managed(client, namespace, request.pods)
    result = CleanupResult(found=found, dry_run=dry_run)
    if not found or dry_run:
        return result
    if confirm is not None and not confirm(found):
        return result
    result.confirmed = True
    for pod in found:
        try:
            client.delete_pod(pod.namespace, pod.name, uid=pod.uid)
        except NotFoundError:
            report(f"Pod {pod.name} in namespace {pod.namespace} was already gone")
        except ConflictError:
            error = ConflictError(
                f"Pod {pod.name} in namespace {pod.namespace} was replaced by another Pod of "
                "that name since it was listed; not deleted",
                remedy="run podscope cleanup again to see the new Pod",
            )
            result.failed.append((pod, error))
            continue
        except PodscopeError as exc:
            result.failed.append((pod, exc))
            continue
        result.deleted.append(pod)
    return result
