"""What a recorded session leaves besides its recording: the receipt and the Pod's Events.

The receipt (JSON) says who opened the session, where, into what and when, and carries the
sha256 of the recording so that a changed recording shows. It is built from names the API
server and the Pod report, never from the kubeconfig's credentials. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

RECEIPT_VERSION = 1
# An Event's message is cut here (the API server refuses ones much longer; kubectl shows
# one line).
EVENT_MESSAGE_LIMIT = 1000
REASON_DEBUGGER = "PodscopeDebuggerCreated"
REASON_SESSION = "PodscopeSession"
COMPONENT = "podscope"


@dataclass(frozen=True)
class Identity:
    """Who the session is credited to. ``source``: ``selfsubjectreview`` (what the API server
    authenticated) or ``kubeconfig`` (the context's user entry name: the server could not be
    asked, so nobody vouches for it)."""

    username: str
    source: str
    uid: str | None = None
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"username": self.username, "source": self.source}
        if self.source != "kubeconfig":
            data.update(
                uid=self.uid,
                groups=list(self.groups),
                extra={key: list(values) for key, values in self.extra.items()},
            )
        return data

    def describe(self) -> str:
        if self.source == "kubeconfig":
            return f"{self.username} (kubeconfig user; the server was not asked)"
        return self.username


def identity_from_review(review: Mapping[str, Any]) -> Identity | None:
    """The identity in a SelfSubjectReview answer (None when it holds no user name)."""
    info = (review.get("status") or {}).get("userInfo") or {}
    username = info.get("username")
    if not isinstance(username, str) or not username:
        return None
    extra = info.get("extra") or {}
    return Identity(
        username=username,
        source="selfsubjectreview",
        uid=str(info["uid"]) if info.get("uid") else None,
        groups=tuple(str(g) for g in info.get("groups") or ()),
        extra={str(k): tuple(str(v) for v in vs or ()) for k, vs in extra.items()},
    )


def kubeconfig_identity(user: str) -> Identity:
    return Identity(username=user or "(unnamed kubeconfig user)", source="kubeconfig")


def timestamp(moment: float) -> str:
    """RFC 3339 in UTC with milliseconds, as the receipt shows times."""
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def kube_time(moment: float) -> str:
    """RFC 3339 in UTC to the second, as the API server takes Event times."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SessionFacts:
    """What the session layer learnt of the session, for the receipt."""

    namespace: str
    pod: str | None = None
    pod_uid: str | None = None
    container: str | None = None
    image: str | None = None
    profile: str | None = None
    security_context: Mapping[str, Any] | None = None
    command: Sequence[str] = ()
    model: str | None = None  # "exec" or "attach"
    created: bool = False  # the session's container was added by this run


def container_of(pod: Mapping[str, Any], name: str) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    for key in ("ephemeralContainers", "containers", "initContainers"):
        for item in spec.get(key) or []:
            if item.get("name") == name:
                return dict(item)
    return {}


def facts_from_pod(
    pod: Mapping[str, Any],
    container: str,
    *,
    command: Sequence[str] | None,
    model: str,
    created: bool,
    profile: str | None,
) -> SessionFacts:
    """The facts of a session in ``container``, read from the Pod as the server holds it.
    ``command`` None: the container's own command (an attach to its main process)."""
    meta = pod.get("metadata") or {}
    spec = container_of(pod, container)
    words = (
        list(command)
        if command is not None
        else [*(spec.get("command") or []), *(spec.get("args") or [])]
    )
    return SessionFacts(
        namespace=str(meta.get("namespace") or ""),
        pod=str(meta.get("name") or "") or None,
        pod_uid=str(meta.get("uid")) if meta.get("uid") else None,
        container=container,
        image=str(spec["image"]) if spec.get("image") else None,
        profile=profile,
        security_context=dict(spec.get("securityContext") or {}),
        command=tuple(str(w) for w in words),
        model=model,
        created=created,
    )


@dataclass(frozen=True)
class Outcome:
    """How the session went. Times are wall-clock seconds (``time.time()``)."""

    start: float
    end: float
    exit_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class RecordingRef:
    """The recording a receipt vouches for: its file name, sha256, and whether it holds
    what was typed."""

    name: str
    sha256: str
    input_recorded: bool = False


def build_receipt(
    *,
    who: Identity,
    cluster: str,
    context: str,
    facts: SessionFacts,
    outcome: Outcome,
    recording: RecordingRef,
    tool_version: str,
) -> dict[str, Any]:
    """The receipt document."""
    return {
        "receipt_version": RECEIPT_VERSION,
        "tool": f"podscope {tool_version}",
        "who": who.to_dict(),
        "cluster": cluster,
        "context": context,
        "namespace": facts.namespace,
        "pod": facts.pod,
        "pod_uid": facts.pod_uid,
        "container": facts.container,
        "container_created": facts.created,
        "image": facts.image,
        "profile": facts.profile,
        "security_context": dict(facts.security_context or {}),
        "command": list(facts.command),
        "model": facts.model,
        "start": timestamp(outcome.start),
        "end": timestamp(outcome.end),
        "duration_seconds": round(max(outcome.end - outcome.start, 0.0), 3),
        "exit_code": outcome.exit_code,
        "error": outcome.error,
        "recording": recording.name,
        "recording_sha256": recording.sha256,
        "input_recorded": recording.input_recorded,
    }


def _shown(words: Sequence[str]) -> str:
    import shlex

    return shlex.join(words) if words else "(the image's entrypoint)"


def debugger_message(who: Identity, facts: SessionFacts) -> str:
    profile = facts.profile or "legacy"
    return _cut(
        f"{who.describe()} added debug container {facts.container} (image {facts.image}, "
        f"profile {profile}) with podscope"
    )


def session_message(who: Identity, facts: SessionFacts, recording: str | None) -> str:
    kept = f"; recorded as {recording}" if recording else ""
    return _cut(
        f"{who.describe()} opened a session in container {facts.container}: "
        f"{_shown(facts.command)}{kept}"
    )


def _cut(message: str) -> str:
    if len(message) <= EVENT_MESSAGE_LIMIT:
        return message
    return message[: EVENT_MESSAGE_LIMIT - 3] + "..."


def pod_event(
    pod: Mapping[str, Any], container: str | None, reason: str, message: str, moment: float
) -> dict[str, Any]:
    """A core/v1 Event about the Pod (``kubectl describe pod`` and ``get events`` show it)."""
    meta = pod.get("metadata") or {}
    name = str(meta.get("name") or "")
    involved: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": meta.get("namespace"),
        "name": name,
        "uid": meta.get("uid"),
    }
    if container:
        involved["fieldPath"] = f"spec.ephemeralContainers{{{container}}}"
    when = kube_time(moment)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name[:200]}.podscope-", "namespace": meta.get("namespace")},
        "involvedObject": {k: v for k, v in involved.items() if v is not None},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
    }
