"""``podscope ls``: the ephemeral containers of one Pod, a namespace, or the whole cluster."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from podscope.kube.protocol import KubeAPI
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
    # For podscope's debuggers: live, idle, stopped, expired, starting, failed, running.
    debugger: str | None = None
    expires_in: int | None = None  # seconds, for an idle debugger

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


def run_list(client: KubeAPI, request: ListRequest, io: SessionIO) -> list[EphemeralRow]:
    """Rows for the request's Pod, or for every Pod of its namespace (or of all of them).

    A running debugger is asked (one exec each, in parallel) whether a session runs in it
    and how long it has left.
    """
    from dataclasses import replace

    from podscope.session.debugger import liveness_of_pod

    request.validate()
    pod = request.pod
    namespace = None if request.all_namespaces else (request.namespace or client.namespace)
    if pod is not None:
        pods = [client.get_pod(namespace or client.namespace, pod)]
    else:
        pods = client.list_pods(namespace)
    rows: list[EphemeralRow] = []
    for item in pods:
        states = liveness_of_pod(client, item)
        for row in rows_for_pod(item):
            live = states.get(row.name)
            if live is not None:
                row = replace(row, debugger=live.describe(), expires_in=live.left)
            rows.append(row)
    return rows
