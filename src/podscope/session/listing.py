"""``podscope ls``: the ephemeral containers of one Pod, a namespace, or the whole cluster.

Each row says who wrote the container and when (the field manager: a client's name, not
a person's), its security posture, its command and its state. Pods are read page by page
(:meth:`KubeAPI.list_pods_pages`) and each page's rows are handed on before the next page is
asked for, so a caller that prints them as they come holds one page of the cluster at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from podscope.kube.protocol import KubeAPI
from podscope.rules.debugger import key_of
from podscope.rules.inventory import (
    Filters,
    command_of,
    describe_command,
    matches,
    parse_age,
    parse_time,
    posture_of,
    status_word,
    writers_by_container,
)
from podscope.rules.requests import ListRequest
from podscope.session.container_state import container_state_of, container_status
from podscope.session.io import SessionIO

# Pods whose debuggers are asked for their state at once (one exec per running debugger).
PROBE_PARALLEL = 8


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
    # One word: the debugger's state, else running / stopped / waiting / unknown.
    status: str = "unknown"
    # The field manager that added the container (a client's name such as kubectl or
    # podscope, not a person's) and the time of that manager's latest write to the Pod's
    # ephemeralcontainers subresource (written_at: managedFields keeps one time per manager,
    # so a later container's write moves it; `started` bounds the container's own time);
    # every manager that wrote the container in written_by.
    created_by: str | None = None
    written_at: str | None = None
    written_by: list[dict[str, Any]] = field(default_factory=list)
    privileged: bool = False
    capabilities: list[str] = field(default_factory=list)  # added ones
    user: str = "image"  # root, a uid, non-root, or image (the image's USER)
    profile: str = "custom"  # the debug profile(s) its security context matches
    security: dict[str, Any] = field(default_factory=dict)  # the whole posture
    command: list[str] = field(default_factory=list)
    command_line: str = ""  # the command, short, for a table

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rows_for_pod(pod: dict[str, Any]) -> list[EphemeralRow]:
    meta = pod.get("metadata") or {}
    writers = writers_by_container(pod)
    rows = []
    for container in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(container.get("name"))
        status = container_status(pod, name) or {}
        state = status.get("state") or {}
        inner = state.get("running") or state.get("terminated") or {}
        progress = container_state_of(pod, name)
        posture = posture_of(container, pod)
        wrote = writers.get(name) or []
        state_name = "unknown" if progress.state == "absent" else progress.state
        rows.append(
            EphemeralRow(
                pod=str(meta.get("name")),
                namespace=str(meta.get("namespace")),
                name=name,
                image=str(container.get("image")),
                target=container.get("targetContainerName") or None,
                state=state_name,
                reason=progress.reason,
                started=inner.get("startedAt"),
                finished=(state.get("terminated") or {}).get("finishedAt"),
                exit_code=progress.exit_code,
                status=status_word(state_name, None),
                created_by=wrote[0].manager if wrote else None,
                written_at=wrote[0].time if wrote else None,
                written_by=[w.to_dict() for w in wrote],
                privileged=posture.privileged,
                capabilities=list(posture.capabilities),
                user=posture.user,
                profile=posture.profile,
                security=posture.to_dict(),
                command=command_of(container),
                command_line=describe_command(container),
            )
        )
    return rows


def filters_of(request: ListRequest) -> Filters:
    return Filters(
        privileged=request.privileged,
        running=request.running,
        older_than=None if request.older_than is None else parse_age(request.older_than),
        image=request.image,
        created_by=request.created_by,
    )


def earliest(*times: str | None) -> str | None:
    """The earliest of the RFC 3339 times given: a container existed by its start, and by
    its manager's latest write (which may be a later container's write)."""
    known = [(parse_time(t), t) for t in times if t]
    dated = [(at, t) for at, t in known if at is not None]
    return min(dated)[1] if dated else None


def _kept(row: EphemeralRow, filters: Filters, now: float) -> bool:
    return matches(
        filters,
        privileged=row.privileged,
        state=row.state,
        image=row.image,
        managers=[str(w["manager"]) for w in row.written_by],
        created=earliest(row.written_at, row.started),
        now=now,
    )


def _page_rows(
    client: KubeAPI, pods: list[dict[str, Any]], filters: Filters, pool: ThreadPoolExecutor
) -> list[EphemeralRow]:
    """The kept rows of a page's Pods; the debuggers among them asked for their state."""
    from podscope.session.debugger import liveness_of_pod

    now = time.time()
    kept: list[tuple[dict[str, Any], list[EphemeralRow]]] = []
    for pod in pods:
        rows = [row for row in rows_for_pod(pod) if _kept(row, filters, now)]
        if rows:
            kept.append((pod, rows))
    names = [
        {
            str(c.get("name"))
            for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
            if key_of(c) is not None
        }
        for pod, _ in kept
    ]
    probes = [
        pool.submit(liveness_of_pod, client, pod) if debuggers & {r.name for r in rows} else None
        for (pod, rows), debuggers in zip(kept, names, strict=True)
    ]
    out: list[EphemeralRow] = []
    for (_, rows), probe in zip(kept, probes, strict=True):
        states = probe.result() if probe is not None else {}
        for row in rows:
            live = states.get(row.name)
            if live is not None:
                row = replace(
                    row,
                    debugger=live.describe(),
                    expires_in=live.left,
                    status=status_word(row.state, live.state),
                )
            out.append(row)
    return out


def list_pages(
    client: KubeAPI, request: ListRequest, io: SessionIO
) -> Iterator[list[EphemeralRow]]:
    """The rows of the request's Pod, namespace or cluster, one list per page of Pods read
    (a page whose Pods have no container that passes the filters gives an empty list).

    A running debugger is asked (one exec each, several at once) whether a session runs in
    it and how long it has left.
    """
    del io
    request.validate()
    filters = filters_of(request)
    namespace = None if request.all_namespaces else (request.namespace or client.namespace)
    with ThreadPoolExecutor(PROBE_PARALLEL, thread_name_prefix="podscope-ls") as pool:
        if request.pod is not None:
            pod = client.get_pod(namespace or client.namespace, request.pod)
            yield _page_rows(client, [pod], filters, pool)
            return
        for page in client.list_pods_pages(namespace, request.chunk_size):
            yield _page_rows(client, page, filters, pool)


def run_list(client: KubeAPI, request: ListRequest, io: SessionIO) -> list[EphemeralRow]:
    """Every row of :func:`list_pages`, in one list."""
    return [row for page in list_pages(client, request, io) for row in page]
