"""The ``podscope debug`` lifecycle: read, check, build, create, wait, attach.

Everything up to the create call is read-only, so any failure there leaves the Pod untouched.
After it, a container exists for good (ephemeral containers cannot be removed), and every
message says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from podscope.backoff import WRITE_CONFLICT
from podscope.errors import (
    Interrupted,
    PodscopeError,
    ValidationError,
)
from podscope.events import Events
from podscope.kube.discovery import EphemeralShape
from podscope.kube.protocol import KubeAPI
from podscope.rules.container import DebugSpec, build_ephemeral_container, words_field
from podscope.rules.legacy import add_body
from podscope.rules.profiles import describe_grants
from podscope.rules.requests import DebugRequest
from podscope.rules.results import ResultDict
from podscope.rules.target import check_target_running, choose_target
from podscope.rules.validate import check_pod_can_debug
from podscope.session.attach import StreamMode, resolve_pod, stream_container
from podscope.session.container_state import (
    ContainerState,
    StateName,
    container_spec,
    container_state_of,
)
from podscope.session.exec_session import (
    ExecPlan,
    ExecUnavailable,
    run_exec_debug,
)
from podscope.session.io import SessionIO, StreamStart
from podscope.session.pod_write import RaceLost, gave_up, pod_after, send_write
from podscope.session.targetctx import apply_target_access, target_access_of
from podscope.session.wait import report_pull_time, wait_until_started

MAX_CREATE_ATTEMPTS = 5


@dataclass(frozen=True)
class DebugResult(ResultDict):
    """What ``podscope debug`` did. ``created`` is False when ``reuse`` found a container."""

    pod: str
    namespace: str
    container: str
    created: bool
    exit_code: int | None
    target: str | None
    target_reason: str
    image: str
    state: StateName  # when the command returned
    attached: bool
    spec: dict[str, Any]  # the container as the Pod holds it
    status: dict[str, Any]  # its status, as the kubelet last reported it
    pod_reason: str = "named on the command line"
    stdout: bytes | None = None  # the container's output, when the caller captured it
    stderr: bytes | None = None
    model: str = "attach"  # "exec": the command was exec'd into a debugger


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


def find_reusable(pod: dict[str, Any], spec: DebugSpec) -> str | None:
    """A running ephemeral container matching ``spec``'s image and target: the one started
    last. The list's order cannot tell which is newest (a PATCH puts what it adds first, the
    1.16-1.21 PUT last)."""
    best: tuple[str, str] | None = None
    for item in reversed((pod.get("spec") or {}).get("ephemeralContainers") or []):
        name = item.get("name")
        if item.get("image") != spec.image:
            continue
        if (item.get("targetContainerName") or None) != (spec.target or None):
            continue
        if spec.name and name != spec.name:
            continue
        words = [*spec.command, *spec.args]
        if words and item.get(words_field(spec)) != words:
            continue
        if (spec.stdin and not item.get("stdin")) or (spec.tty and not item.get("tty")):
            continue
        progress = container_state_of(pod, str(name))
        if progress.state == "running":
            started = str(
                ((progress.status.get("state") or {}).get("running") or {}).get("startedAt") or ""
            )
            if best is None or started > best[0]:
                best = (started, str(name))
    return best[1] if best is not None else None


def create_container(
    client: KubeAPI,
    pod: dict[str, Any],
    spec: DebugSpec,
    container: dict[str, Any],
    shape: EphemeralShape,
    report: Events,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Add ``container`` to ``pod``; return the Pod as it is afterwards, and the container.

    Conflicts re-read the Pod and retry (a generated name is regenerated if someone took it).
    When the connection breaks after the request went out, the Pod is re-read to see whether
    the container was created before anything is sent again: one request, one container.
    """
    namespace, pod_name = _meta(pod)["namespace"], _meta(pod)["name"]
    generated = spec.name is None
    last_error: PodscopeError | None = None
    for attempt in range(MAX_CREATE_ATTEMPTS):
        # 1.16-1.21 replace the whole list, guarded by the Pod's resourceVersion.
        sent = send_write(
            client,
            pod,
            add_body(pod, [container], shape),
            shape,
            new_container=container["name"],
            what="create",
            report=report,
        )
        if not isinstance(sent, RaceLost):
            return pod_after(client, pod, sent, shape), container
        last_error, pod = sent.error, sent.pod
        if sent.unknown:
            if container_spec(pod, container["name"]) is not None:
                return pod, container
        else:
            check_pod_can_debug(pod)
            if container_spec(pod, container["name"]) is not None:
                if not generated:
                    raise ValidationError(
                        f"Pod {pod_name} already has a container named {container['name']}",
                        field="name",
                        remedy="choose another --container name, or attach to it with "
                        f"podscope attach {pod_name} -c {container['name']} -n {namespace}",
                    ) from None
                # Rebuilding against the fresh Pod draws a name nobody holds.
                container = build_ephemeral_container(pod, spec)
        time.sleep(WRITE_CONFLICT.delay(attempt))
    raise gave_up("add the container to", pod_name, MAX_CREATE_ATTEMPTS, last_error)


def debug_result(
    pod: dict[str, Any],
    name: str,
    *,
    created: bool,
    spec: DebugSpec,
    target_reason: str,
    pod_reason: str,
    progress: ContainerState,
    attached: bool,
) -> DebugResult:
    """What a session with container ``name`` of ``pod`` came to, ``progress`` its state."""
    meta = _meta(pod)
    return DebugResult(
        pod=str(meta.get("name")),
        namespace=str(meta.get("namespace")),
        container=name,
        created=created,
        exit_code=progress.exit_code if progress.state == "terminated" else None,
        target=spec.target,
        target_reason=target_reason,
        image=spec.image,
        state=progress.state,
        attached=attached,
        spec=container_spec(pod, name) or {},
        status=progress.status,
        pod_reason=pod_reason,
    )


def _with_stdin_once(options: DebugRequest) -> dict[str, Any] | None:
    """The custom spec, plus ``stdinOnce: true`` for piped (non-TTY) input.

    Only then does the end of local input reach the process as EOF while its output keeps
    streaming (the runtime otherwise just detaches). A TTY session keeps stdin open so the
    shell survives a dropped connection and can be re-attached.
    """
    assert not isinstance(options.custom, str), "custom is loaded before the session starts"
    if not options.stdin or options.tty:
        return dict(options.custom) if options.custom is not None else None
    custom = dict(options.custom or {})
    custom.setdefault("stdinOnce", True)
    return custom


def _reattach_hint(pod_name: str, name: str, namespace: str) -> str:
    return f"podscope attach {pod_name} -c {name} -n {namespace}"


@dataclass
class _Phase:
    """How far run_debug got, so an interruption can say whether the Pod was changed."""

    name: str = "before-create"  # -> "creating" -> "created"
    pod: str | None = None
    namespace: str | None = None


def run_debug(client: KubeAPI, request: DebugRequest, io: SessionIO) -> DebugResult:
    """Add a debug container to the request's Pod (or reuse one), wait for it, attach.

    ``request.image`` and ``request.custom`` must be resolved (an image name, a mapping):
    :class:`podscope.Client` does that before calling.
    """
    request.validate()
    phase = _Phase()
    report = io.events
    try:
        return _run_debug(client, request, io, phase)
    except (KeyboardInterrupt, Interrupted):
        # Ephemeral containers cannot be removed: the user must know whether one was added.
        if phase.name == "before-create":
            report("interrupted before the debug container was created: the Pod is unchanged")
        elif phase.name == "creating":
            report(
                "interrupted while the create request was in flight: a debug container may "
                f"have been added; check with: podscope ls {phase.pod} -n {phase.namespace}"
            )
        raise


def _run_debug(client: KubeAPI, options: DebugRequest, io: SessionIO, phase: _Phase) -> DebugResult:
    report = io.events
    assert options.image is not None, "the image is resolved before the session starts"
    namespace = options.namespace or client.namespace
    pod, pod_reason = resolve_pod(client, options.pod, namespace, report, "debugging")
    pod_name = str(_meta(pod).get("name"))
    check_pod_can_debug(pod)
    shape = client.writable_ephemeral_shape()
    target, target_reason = choose_target(pod, options.target)
    spec = DebugSpec.of(
        options, image=options.image, target=target, custom=_with_stdin_once(options)
    )
    spec = apply_target_access(pod, spec, target_access_of(options), report)

    use_exec, note = options.exec_model()
    if note:
        report(note)
    if use_exec:
        from podscope.session.settings import resolve_ttl

        def on_create(pod_name: str, namespace: str) -> None:
            phase.name, phase.pod, phase.namespace = "creating", pod_name, namespace

        def on_placed() -> None:
            phase.name = "created"

        try:
            return run_exec_debug(
                client,
                options,
                io,
                pod,
                spec,
                ExecPlan(
                    resolve_ttl(options.ttl)[0],
                    shape,
                    target_reason,
                    pod_reason,
                    on_create,
                    on_placed,
                ),
            )
        except ExecUnavailable as why:
            report(f"{why.reason}: using the attach model (the container runs the command)")
            phase.name = "before-create"
            pod = client.get_pod(namespace, pod_name)

    reused = find_reusable(pod, spec) if options.reuse else None
    if reused is not None:
        report(f"reusing running ephemeral container {reused} (same image and target)")
        name, created = reused, False
    else:
        container = build_ephemeral_container(pod, spec)
        check_target_running(pod, spec.target)
        grants = describe_grants(spec.profile)
        if grants:
            # Elevated access is never silent: say what it hands out before asking for it.
            report(grants)
        if target:
            report(f"target container: {target} ({target_reason})")
        else:
            report(f"no target container ({target_reason})")
        phase.name, phase.pod, phase.namespace = "creating", pod_name, namespace
        report.phase("write", f"adding ephemeral container {container['name']} to Pod {pod_name}")
        pod, container = create_container(client, pod, spec, container, shape, report)
        name, created = container["name"], True
        report(f"created ephemeral container {name} (image {spec.image}) in Pod {pod_name}")

    phase.name = "created"
    hint = _reattach_hint(pod_name, name, namespace)
    try:
        if created:
            report.phase("start", f"waiting for container {name} to start")
            pod, progress = wait_until_started(client, pod, name, options.timeout, report)
            report_pull_time(client, pod, name, report)
        else:
            progress = container_state_of(pod, name)
        if not options.attach:
            if progress.state == "running":
                report(f"container {name} is running; attach with: {hint}")
            return debug_result(
                pod,
                name,
                created=created,
                spec=replace(spec, name=name),
                target_reason=target_reason,
                pod_reason=pod_reason,
                progress=progress,
                attached=False,
            )
        report.phase("attach", f"attaching to container {name}")
        io.stream_starts(StreamStart(pod, name, None, "attach", created))
        outcome = stream_container(
            client,
            pod,
            name,
            io,
            StreamMode(options.stdin, options.tty, reconnect=options.reconnect),
        )
    except (KeyboardInterrupt, Interrupted):
        made = "was created and stays" if created else "(reused) stays"
        report(
            f"interrupted: debug container {name} {made} in Pod {pod_name} (ephemeral "
            f"containers cannot be removed); if it still runs, re-attach with: {hint}"
        )
        raise
    except PodscopeError as exc:
        if created and exc.remedy is None:
            exc.remedy = (
                f"container {name} stays in Pod {pod_name} (ephemeral containers cannot be removed)"
            )
        raise
    if options.stdin:
        report(
            f"session ended; container {name} ({outcome.progress.describe()}) stays in Pod "
            f"{pod_name}: ephemeral containers cannot be removed or restarted"
        )
    return debug_result(
        outcome.pod,
        name,
        created=created,
        spec=replace(spec, name=name),
        target_reason=target_reason,
        pod_reason=pod_reason,
        progress=outcome.progress,
        attached=outcome.attached,
    )
