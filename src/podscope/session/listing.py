"""``podscope ls``: the ephemeral containers of one Pod, a namespace, or the whole cluster."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from podscope.kube.client import KubeClient
from podscope.rules.requests import ListRequest
from podscope.session.container_state import container_state_of, container_status
from podscope.session.io import SessionIO


@dataclass(frozen=True)
class EphemeralRow:
    pod: str
    namespace: str
    name: str
    image: str
    target: str | None
    state: str  # running / waiting / terminated / unknown (no status reported yet)
    reason: str | None
    started: str | None
    finished: str | None
    exit_code: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rows_for_pod(pod: dict[str, Any]) -> list[EphemeralRow]:
    meta = pod.get("metadata") or {}
    rows = []
    for container in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(container.get("name"))
        status = container_status(pod, name) or {}
        state = status.get("state") or {}
        inner = state.get("running") or state.get("terminated") or {}
        progress = container_state_of(pod, name)
        rows.append(
            EphemeralRow(
                pod=str(meta.get("name")),
                namespace=str(meta.get("namespace")),
                name=name,
                image=str(container.get("image")),
                target=container.get("targetContainerName") or None,
                state="unknown" if progress.state == "absent" else progress.state,
                reason=progress.reason,
                started=inner.get("startedAt"),
                finished=(state.get("terminated") or {}).get("finishedAt"),
                exit_code=progress.exit_code,
            )
        )
    return rows


def run_list(client: KubeClient, request: ListRequest, io: SessionIO) -> list[EphemeralRow]:
    """Rows for the request's Pod, or for every Pod of its namespace (or of all of them)."""
    pod = request.pod
    namespace = None if request.all_namespaces else (request.namespace or client.namespace)
    if pod is not None:
        pods = [client.get_pod(namespace or client.namespace, pod)]
    else:
        pods = client.list_pods(namespace)
    rows: list[EphemeralRow] = []
    for item in pods:
        rows.extend(rows_for_pod(item))
    return rows
