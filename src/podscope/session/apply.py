"""``podscope apply FILE``: add the ephemeral containers a document describes, idempotently.

The document (an ``EphemeralContainers`` object as 1.16-1.21 take it, a Pod-shaped object or a
bare list) is parsed and compared with the live Pod before anything is sent: containers the Pod
already has, unchanged, are skipped; a changed one is a conflict (ephemeral containers can be
neither changed nor removed); only the new ones are validated with the rules of ``podscope
debug`` and sent, in the shape this server takes (PATCH of the Pod on 1.22+, PUT of the whole
``EphemeralContainers`` list on 1.16-1.21).
"""

from __future__ import annotations

import difflib
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from podscope.backoff import WRITE_CONFLICT
from podscope.errors import (
    ConflictError,
    PodscopeError,
    UsageError,
)
from podscope.events import Events
from podscope.kube.discovery import EphemeralShape
from podscope.kube.protocol import KubeAPI
from podscope.rules.documents import ApplyPlan, EphemeralDocument, parse_document, plan_apply
from podscope.rules.legacy import add_body
from podscope.rules.output import dump_yaml
from podscope.rules.requests import ApplyRequest
from podscope.rules.validate import check_pod_can_debug
from podscope.session.container_state import container_state_of
from podscope.session.io import SessionIO
from podscope.session.pod_write import RaceLost, gave_up, send_write
from podscope.session.wait import wait_until_started

MAX_APPLY_ATTEMPTS = 5


@dataclass
class ApplyWrite:
    """The write podscope sends (or, with ``--dry-run=client``, would send)."""

    method: str
    path: str
    body: dict[str, Any]


@dataclass
class ApplyResult:
    pod: str
    namespace: str
    kind: str  # the document's: EphemeralContainers, Pod or List
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: str | None = None
    request: ApplyWrite | None = None
    diff: str | None = None
    states: dict[str, str] = field(default_factory=dict)  # container -> state after waiting
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # the document's containers
    attached: str | None = None  # the container attached to (--attach)
    exit_code: int | None = None  # its exit code, once it has exited

    @property
    def nothing_to_do(self) -> bool:
        return not self.added

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nothing_to_do"] = self.nothing_to_do
        del data["specs"]
        return data


def resolve_namespace(document: EphemeralDocument, flag: str | None, default: str) -> str:
    """``-n`` wins only when the document agrees, as kubectl refuses a mismatch."""
    if flag and document.namespace and flag != document.namespace:
        raise UsageError(
            f"the document is for namespace {document.namespace}, but -n names {flag}",
            remedy="drop -n, or fix metadata.namespace in the document",
        )
    return flag or document.namespace or default


def _conflict(pod_name: str, plan: ApplyPlan) -> ConflictError:
    name, lines = plan.conflicting[0]
    others = len(plan.conflicting) - 1
    more = f" (and {others} more container(s))" if others else ""
    return ConflictError(
        f"container {name} of Pod {pod_name} differs from the document{more}: "
        + "; ".join(lines[:3])
        + ("; ..." if len(lines) > 3 else ""),
        remedy="ephemeral containers can be neither changed nor removed: give the changed "
        "container a new name in the document",
    )


def _ephemeral(obj: dict[str, Any]) -> list[dict[str, Any]]:
    # The 1.16-1.21 answer is an EphemeralContainers object; from 1.22 it is the Pod.
    if obj.get("kind") == "EphemeralContainers":
        return list(obj.get("ephemeralContainers") or [])
    return list((obj.get("spec") or {}).get("ephemeralContainers") or [])


def unified_diff(before: list[dict[str, Any]], after: list[dict[str, Any]], pod: str) -> str:
    """A unified diff of the Pod's ``spec.ephemeralContainers`` (YAML), before and after."""
    old = dump_yaml(before).splitlines(keepends=True) if before else []
    new = dump_yaml(after).splitlines(keepends=True) if after else []
    return "".join(
        difflib.unified_diff(
            old,
            new,
            fromfile=f"pod/{pod} spec.ephemeralContainers (live)",
            tofile=f"pod/{pod} spec.ephemeralContainers (applied)",
        )
    )


def build_request(
    pod: dict[str, Any], containers: list[dict[str, Any]], shape: EphemeralShape
) -> ApplyWrite:
    meta = pod.get("metadata") or {}
    path = f"/api/v1/namespaces/{meta.get('namespace')}/pods/{meta.get('name')}/ephemeralcontainers"
    return ApplyWrite("PATCH" if shape == "pod" else "PUT", path, add_body(pod, containers, shape))


def _plan(pod: dict[str, Any], document: EphemeralDocument, pod_name: str) -> ApplyPlan:
    plan = plan_apply(pod, document.containers)
    if plan.conflicting:
        raise _conflict(pod_name, plan)
    return plan


def _send(
    client: KubeAPI,
    pod_name: str,
    pod: dict[str, Any],
    document: EphemeralDocument,
    plan: ApplyPlan,
    shape: EphemeralShape,
    dry_run: bool,
    report: Events,
) -> tuple[dict[str, Any], ApplyPlan, ApplyWrite, dict[str, Any]]:
    """Send the plan; on a race re-read the Pod and re-plan. Returns answer, plan, request, pod.

    A 409 (the legacy PUT carries the Pod's resourceVersion) or a lost answer means the Pod
    may have changed, perhaps by our own request: the re-read decides what is still new, so
    a retry never adds a container twice.
    """
    last: PodscopeError | None = None
    for attempt in range(MAX_APPLY_ATTEMPTS):
        request = build_request(pod, plan.new, shape)
        sent = send_write(
            client,
            pod,
            request.body,
            shape,
            new_container=plan.new[0]["name"] if len(plan.new) == 1 else None,
            what="apply",
            report=report,
            dry_run=dry_run,
        )
        if not isinstance(sent, RaceLost):
            return sent, plan, request, pod
        last, pod = sent.error, sent.pod
        check_pod_can_debug(pod)
        plan = _plan(pod, document, pod_name)
        if not plan.new:
            return pod, plan, request, pod
        time.sleep(WRITE_CONFLICT.delay(attempt))
    raise gave_up(
        "apply to",
        pod_name,
        MAX_APPLY_ATTEMPTS,
        last,
        remedy="the Pod is changing quickly; run the command again (it is idempotent)",
    )


def read_document(request: ApplyRequest) -> tuple[str, str]:
    """The document's text and a name for it in messages (the file, or ``<stdin>``)."""
    if request.text is not None:
        return request.text, "<document>"
    assert request.file is not None
    if request.file == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(request.file).read_text(encoding="utf-8"), request.file
    except OSError as exc:
        raise UsageError(f"cannot read {request.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{request.file} is not UTF-8 text") from None


def run_apply(client: KubeAPI, request: ApplyRequest, io: SessionIO) -> ApplyResult:
    """Add the document's containers the Pod lacks; with ``request.attach``, refuse a document
    that adds several (the caller attaches to the one added)."""
    options, report = request, io.events
    request.validate()
    text, source = read_document(request)
    wait, single = request.wait or request.attach, request.attach
    document = parse_document(text, source, options.pod)
    namespace = resolve_namespace(document, options.namespace, client.namespace)
    pod_name = document.pod_name
    pod = client.get_pod(namespace, pod_name)
    result = ApplyResult(
        pod=pod_name,
        namespace=namespace,
        kind=document.kind,
        dry_run=options.dry_run,
        specs={str(c["name"]): c for c in document.containers},
    )
    before = _ephemeral(pod)
    plan = _plan(pod, document, pod_name)
    result.unchanged = list(plan.unchanged)
    for name in plan.unchanged:
        result.states[name] = container_state_of(pod, name).state
    if not plan.new:
        if options.diff:
            result.diff = ""
        return result

    if single and len(plan.new) > 1:
        raise UsageError(
            f"--attach needs one new container, but the document adds {len(plan.new)}: "
            + ", ".join(str(c["name"]) for c in plan.new),
            remedy="apply without --attach, then: podscope attach POD -c NAME",
        )
    check_pod_can_debug(pod)
    shape = client.writable_ephemeral_shape()

    if options.dry_run == "client":
        result.added = [str(c["name"]) for c in plan.new]
        result.request = build_request(pod, plan.new, shape)
        if options.diff:
            result.diff = unified_diff(before, before + plan.new, pod_name)
        return result

    server_dry_run = options.dry_run == "server"
    answer, plan, write, pod = _send(
        client, pod_name, pod, document, plan, shape, server_dry_run, report
    )
    result.request = write
    result.added = [str(c["name"]) for c in plan.new]
    for name in sorted(set(result.specs) - set(result.added) - set(result.unchanged)):
        # Someone (or our own lost request) added it while we retried: it is there now.
        result.unchanged.append(name)
    if options.diff:
        result.diff = unified_diff(before, _ephemeral(answer), pod_name)
    if server_dry_run or not result.added:
        return result

    live = answer if answer.get("kind") == "Pod" else client.get_pod(namespace, pod_name)
    report(
        f"added ephemeral container(s) {', '.join(result.added)} to Pod {pod_name}; they stay in "
        "the Pod (ephemeral containers cannot be removed)"
    )
    for name in result.added:
        if wait:
            live, progress = wait_until_started(client, live, name, options.timeout, report)
            result.states[name] = progress.state
        else:
            result.states[name] = container_state_of(live, name).state
    return result


def attach_target(result: ApplyResult) -> str:
    """The container ``--attach`` means: the one added, or the document's only container."""
    if len(result.added) == 1:
        return result.added[0]
    if not result.added and len(result.specs) == 1:
        return next(iter(result.specs))
    raise UsageError(
        f"--attach needs exactly one container, but the document holds {len(result.specs)}",
        remedy=f"attach to one with: podscope attach {result.pod} -c NAME -n {result.namespace}",
    )
