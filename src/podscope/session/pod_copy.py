"""``podscope debug POD --copy-to NEW``: debug a copy of a Pod (for Pods that crash).

An ephemeral container is no help when the container to inspect keeps crashing: its file
system is gone with it. A copy can have the crashing container's command replaced (so it
stays up), its images swapped, its probes dropped, or a debug container added.

Order: read the original, build the copy (pure checks), make sure the name is free, have the
server validate and admit the copy (``dryRun=All``), and only then create it. From then on
the copy exists, and every message says so and how to remove it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from podscope.errors import (
    ConflictError,
    Interrupted,
    NotFoundError,
    PodscopeError,
    PullRefusedError,
    StartFailedError,
    WaitTimeoutError,
)
from podscope.events import Events
from podscope.kube.errors import RequestOutcomeUnknown
from podscope.kube.protocol import KubeAPI
from podscope.rules.images import parse_set_images
from podscope.rules.managed import COPY_OF_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE
from podscope.rules.pod_copy import PodCopy, build_pod_copy
from podscope.rules.profiles import describe_grants
from podscope.rules.pullsecrets import copy_pull_refused_remedy
from podscope.rules.requests import PodCopyRequest
from podscope.rules.results import ResultDict
from podscope.session.attach import StreamMode, resolve_pod, stream_container
from podscope.session.container_state import ContainerState, StateName, check_started
from podscope.session.io import SessionIO
from podscope.session.wait import WatchHooks, not_started, report_waiting, watch_container

# check_started's remedies speak of ephemeral containers, which cannot be removed; a copy can.
_EPHEMERAL_SUFFIX = (
    "; the failed container stays in the Pod (ephemeral containers cannot be removed)"
)


@dataclass(frozen=True)
class CopyResult(ResultDict):
    """What ``podscope debug --copy-to`` did. The copy always stays (see ``removal``)."""

    pod: str  # the copy
    namespace: str
    original: str
    container: str | None  # the container attached to (or to attach to); None: images only
    added: str | None  # the debug container added to the copy, if any
    overridden: str | None  # the container whose command was replaced, if any
    exit_code: int | None
    state: StateName  # the container's state when the command returned ("running" for the Pod)
    attached: bool
    replaced: bool  # the original was deleted (--replace)
    node: str | None
    removal: str  # the command that removes the copy
    pod_reason: str = "named on the command line"
    manifest: dict[str, Any] = field(default_factory=dict)  # the Pod as podscope sent it
    stdout: bytes | None = None  # the container's output, when the caller captured it
    stderr: bytes | None = None


def removal_command(name: str, namespace: str) -> str:
    return f"podscope cleanup {name} -n {namespace} --yes"


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


def _is_ours(pod: dict[str, Any]) -> bool:
    return (_meta(pod).get("labels") or {}).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def _name_taken(name: str, namespace: str, existing: dict[str, Any] | None) -> ConflictError:
    if existing is not None and _is_ours(existing):
        remedy = (
            f"it is an earlier podscope copy: remove it with `{removal_command(name, namespace)}`"
            ", or choose another --copy-to name"
        )
    else:
        remedy = "choose another --copy-to name"
    return ConflictError(
        f"Pod {name} already exists in namespace {namespace}; --copy-to needs a new name "
        "(nothing was created)",
        remedy=remedy,
    )


def _ensure_free(client: KubeAPI, namespace: str, name: str) -> None:
    try:
        existing = client.get_pod(namespace, name)
    except NotFoundError:
        return
    raise _name_taken(name, namespace, existing)


def _create(
    client: KubeAPI, namespace: str, body: dict[str, Any], report: Events
) -> dict[str, Any]:
    name = str(_meta(body).get("name"))
    try:
        return client.create_pod(namespace, body)
    except ConflictError:
        # Someone took the name between the check and the create.
        raise _name_taken(name, namespace, None) from None
    except RequestOutcomeUnknown as exc:
        report(f"no answer to the create request ({exc.message}); checking for the copy")
        try:
            pod = client.get_pod(namespace, name)
        except NotFoundError:
            raise exc from None
        labels = _meta(pod).get("labels") or {}
        if labels.get(COPY_OF_KEY) != (_meta(body).get("labels") or {}).get(COPY_OF_KEY):
            raise _name_taken(name, namespace, pod) from None
        return pod


def _crash_message(pod_name: str, name: str, progress: ContainerState) -> str:
    last = (progress.status.get("lastState") or {}).get("terminated") or {}
    detail = ""
    if last:
        code = last.get("exitCode")
        why = last.get("reason")
        detail = f"; last exit code {code}" + (f" ({why})" if why else "")
    return f"container {name} in Pod {pod_name} keeps exiting (CrashLoopBackOff{detail})"


def wait_for_container(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    deadline_seconds: float,
    report: Events,
    *,
    running_only: bool = False,
) -> tuple[dict[str, Any], ContainerState]:
    """Wait until container ``name`` of a Pod podscope created runs (or, unless
    ``running_only``, has run). Fails fast on start errors and on a crash loop."""
    pod_name = str(_meta(pod).get("name"))
    namespace = str(_meta(pod).get("namespace"))
    restarts = (pod.get("spec") or {}).get("restartPolicy") or "Always"

    def done(progress: ContainerState) -> bool:
        if progress.state == "waiting" and progress.reason == "CrashLoopBackOff":
            raise StartFailedError(
                _crash_message(pod_name, name, progress),
                remedy=f"see why with `kubectl logs {pod_name} -c {name} -n {namespace} "
                f"--previous`; keep it up with --command-override {name} -- sleep infinity",
            )
        try:
            started = check_started(pod_name, name, progress, pod)
        except PullRefusedError as exc:
            exc.remedy = copy_pull_refused_remedy(pod, str(progress.status.get("image") or ""))
            raise
        if running_only and progress.state == "terminated":
            if restarts == "Always" or (restarts == "OnFailure" and progress.exit_code != 0):
                return False  # it restarts; a crash loop shows up as CrashLoopBackOff
            if progress.exit_code != 0:
                raise StartFailedError(
                    f"container {name} in Pod {pod_name} exited with code {progress.exit_code} "
                    f"and will not be restarted (restartPolicy {restarts})",
                    remedy=f"see why with `kubectl logs {pod_name} -c {name} -n {namespace}`",
                )
            return True
        return started and (progress.state == "running" or not running_only)

    pod, progress, reached = watch_container(
        client,
        pod,
        name,
        deadline_seconds,
        done,
        WatchHooks(on_change=report_waiting(name, report)),
        pod_may_finish=True,
    )
    if not reached:
        raise not_started(
            name,
            pod_name,
            deadline_seconds,
            progress.describe(),
            f"{WaitTimeoutError.RAISE_LIMIT}, or look at the Pod's events",
        )
    return pod, progress


def _own_pod_remedy(exc: PodscopeError, stays: str) -> None:
    remedy = exc.remedy or ""
    if remedy.endswith(_EPHEMERAL_SUFFIX):
        remedy = remedy[: -len(_EPHEMERAL_SUFFIX)]
    exc.remedy = f"{remedy}; {stays}" if remedy else stays


def _describe(plan: PodCopy, options: PodCopyRequest) -> str:
    parts = []
    if plan.added:
        parts.append(f"debug container {plan.added} ({options.image})")
    if plan.overridden:
        parts.append(f"command of {plan.overridden} replaced")
    images = parse_set_images(options.set_image)
    if images:
        parts.append("images set: " + ", ".join(f"{c}={i}" for c, i in sorted(images.items())))
    return "; ".join(parts)


def _warn_owner(original: dict[str, Any], options: PodCopyRequest, report: Events) -> None:
    owners = _meta(original).get("ownerReferences") or []
    if not owners:
        return
    owner = f"{owners[0].get('kind')} {owners[0].get('name')}"
    if options.keep_labels:
        report(
            f"warning: the copy keeps the labels of a Pod owned by {owner}: that controller "
            "may adopt the copy, and delete it"
        )
    if options.replace:
        report(f"note: {owner} will replace the original Pod once --replace deletes it")


def _wait_for_copy(
    client: KubeAPI, pod: dict[str, Any], plan: PodCopy, timeout: float, report: Events
) -> tuple[dict[str, Any], ContainerState]:
    if plan.container is not None:
        return wait_for_container(client, pod, plan.container, timeout, report)
    # Only images changed: the copy runs once each app container runs.
    deadline = time.monotonic() + timeout
    progress = ContainerState("absent")
    for container in pod["spec"].get("containers") or []:
        remaining = max(1.0, deadline - time.monotonic())
        pod, progress = wait_for_container(
            client, pod, str(container.get("name")), remaining, report, running_only=True
        )
    return pod, progress


def run_copy(client: KubeAPI, request: PodCopyRequest, io: SessionIO) -> CopyResult:
    """Create a copy of the request's Pod, wait for it, attach to its debug container.

    ``request.custom`` must be loaded (a mapping); ``image=None`` adds no debug container.
    """
    request.validate()
    options, report = request, io.events
    namespace = options.namespace or client.namespace
    original, pod_reason = resolve_pod(client, options.pod, namespace, report, "copying")
    original_name = str(_meta(original).get("name"))
    plan = build_pod_copy(original, options)
    _ensure_free(client, namespace, options.copy_to)
    _warn_owner(original, options, report)
    grants = describe_grants(options.profile or "legacy")
    if grants and plan.container:
        report(grants)
    # The server checks the whole Pod (validation, PodSecurity, webhooks, quota) without
    # storing it, so a copy that would be refused fails here with nothing created.
    try:
        client.create_pod(namespace, plan.pod, dry_run=True)
    except ConflictError:
        raise _name_taken(options.copy_to, namespace, None) from None
    created = _create(client, namespace, plan.pod, report)
    copy_name = str(_meta(created).get("name"))
    removal = removal_command(copy_name, namespace)
    report(f"created Pod {copy_name}, a copy of {original_name} ({_describe(plan, options)})")
    stays = f"the copy {copy_name} stays; remove it with: {removal}"

    replaced = False
    try:
        created, progress = _wait_for_copy(client, created, plan, options.timeout, report)
        if options.replace:
            client.delete_pod(namespace, original_name, uid=_meta(original).get("uid"))
            replaced = True
            report(f"deleted the original Pod {original_name} (--replace)")
        result = CopyResult(
            pod=copy_name,
            namespace=namespace,
            original=original_name,
            container=plan.container,
            added=plan.added,
            overridden=plan.overridden,
            exit_code=progress.exit_code if progress.state == "terminated" else None,
            state=progress.state,
            attached=False,
            replaced=replaced,
            node=(created.get("spec") or {}).get("nodeName"),
            removal=removal,
            pod_reason=pod_reason,
            manifest=plan.pod,
        )
        if plan.container is None or not options.attach:
            if plan.container is None:
                report(f"the copy {copy_name} is running")
            elif progress.state == "running":
                report(
                    f"container {plan.container} is running; attach with: podscope attach "
                    f"{copy_name} -c {plan.container} -n {namespace}"
                )
            else:
                report(f"container {plan.container} is {progress.describe()}")
            report(stays)
            return result
        outcome = stream_container(
            client,
            created,
            plan.container,
            io,
            StreamMode(options.stdin, options.tty, pod_may_finish=True),
        )
    except (KeyboardInterrupt, Interrupted):
        report(stays)
        raise
    except PodscopeError as exc:
        _own_pod_remedy(exc, stays)
        raise
    report(f"session ended; {stays}")
    return replace(
        result,
        exit_code=outcome.exit_code,
        state=outcome.progress.state,
        attached=outcome.attached,
    )
