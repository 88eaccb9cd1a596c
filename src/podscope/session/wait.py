"""Wait for an ephemeral container by watching its Pod (no polling)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podscope.errors import (
    ForbiddenError,
    PodscopeError,
    UnreachableError,
    UnsupportedError,
    WaitTimeoutError,
)
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.session.container_state import (
    ContainerState,
    check_pod_alive,
    check_started,
    container_spec,
    container_state_of,
)


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


@dataclass(frozen=True)
class WatchHooks:
    """What a watch tells its caller on the way: each change of the container's state
    (``on_change``), each retry of a lost watch (``on_retry``); ``poll`` runs about once a
    second for what the Pod does not show, and may raise to end the watch."""

    on_change: Callable[[ContainerState], None] | None = None
    on_retry: Events | None = None
    poll: Callable[[], None] | None = None


def watch_container(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    timeout: float,
    done: Callable[[ContainerState], bool],
    hooks: WatchHooks | None = None,
    *,
    pod_may_finish: bool = False,
) -> tuple[dict[str, Any], ContainerState, bool]:
    """Watch ``pod`` from its resourceVersion until ``done(progress)`` or ``timeout``.

    Returns the last Pod seen, the container's progress in it, and whether ``done`` was
    reached. Raises PodGoneError if the Pod goes away; ``done`` may raise to stop early.
    ``pod_may_finish``: the Pod ending because this container ended is not an error (Pods
    podscope creates for one command, e.g. node debugging Pods, stop with it).
    """
    hooks = hooks or WatchHooks()
    on_change = hooks.on_change
    meta = _meta(pod)
    uid = meta.get("uid")
    progress = container_state_of(pod, name)
    if done(progress):
        return pod, progress, True
    for event, obj in client.watch_pod(
        meta.get("namespace") or client.namespace,
        meta["name"],
        meta.get("resourceVersion"),
        timeout,
        on_retry=hooks.on_retry,
        poll=hooks.poll,
    ):
        finished = (
            pod_may_finish
            and event != "DELETED"
            and container_state_of(obj, name).state == "terminated"
        )
        if not finished:
            check_pod_alive(obj, uid, event)
        pod = obj
        previous, progress = progress, container_state_of(obj, name)
        if on_change is not None and (progress.state, progress.reason) != (
            previous.state,
            previous.reason,
        ):
            on_change(progress)
        if done(progress):
            return pod, progress, True
    return pod, progress, False


def wait_until_started(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    timeout: float,
    report: Events,
    *,
    pod_may_finish: bool = False,
) -> tuple[dict[str, Any], ContainerState]:
    """Wait until container ``name`` runs or has run; fail fast when it never will."""
    pod_name = _meta(pod).get("name", "?")
    if container_state_of(pod, name).state == "absent":
        refuse_if_kubelet_gate_off(client, pod)

    def started(progress: ContainerState) -> bool:
        return check_started(pod_name, name, progress, pod)

    pod, progress, reached = watch_container(
        client,
        pod,
        name,
        timeout,
        started,
        WatchHooks(report_waiting(name, report), report, start_failure_check(client, pod, name)),
        pod_may_finish=pod_may_finish,
    )
    if not reached:
        raise not_started(
            name, pod_name, timeout, _last_state(progress), _timeout_remedy(pod, progress)
        )
    return pod, progress


def report_waiting(name: str, report: Events) -> Callable[[ContainerState], None]:
    """The ``on_change`` of a wait for a start: each reason the container waits for
    (ContainerCreating, ErrImagePull, ...) is reported as it appears."""

    def changed(progress: ContainerState) -> None:
        if progress.state == "waiting" and progress.reason:
            report(f"container {name}: {progress.describe()}")

    return changed


def not_started(
    name: str, pod_name: str, timeout: float, last_state: str, remedy: str
) -> WaitTimeoutError:
    """The error of a wait for a start that reached its timeout."""
    return WaitTimeoutError(
        f"container {name} in Pod {pod_name} did not start within {timeout:g}s "
        f"(last state: {last_state})",
        remedy=remedy,
    )


def refuse_if_kubelet_gate_off(client: KubeAPI, pod: dict[str, Any]) -> None:
    """On 1.16-1.21 (the kind EphemeralContainers), fail now rather than at the timeout when
    the Pod's kubelet has the gate off: it would never start the container. Whatever
    prevents the check (no nodes/proxy, an old kubelet) lets the wait go on as before."""
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name or client.ephemeral_shape() != "legacy":
        return
    # The doctor's checks are only needed on the old API shape.
    from podscope.checks.kubeletgate import GATE_OFF_REMEDY, gate_off_message, read_gate

    try:
        gate = read_gate(client, client.get_node(str(node_name)))
    except UnreachableError:
        raise
    except PodscopeError:
        return
    if gate is False:
        raise UnsupportedError(gate_off_message(str(node_name)), remedy=GATE_OFF_REMEDY)


def _last_state(progress: ContainerState) -> str:
    if progress.state == "absent":
        return "no status reported by the kubelet yet"
    return progress.describe()


def _timeout_remedy(pod: dict[str, Any], progress: ContainerState) -> str:
    stays = "the container stays in the Pod (ephemeral containers cannot be removed)"
    node = (pod.get("spec") or {}).get("nodeName")
    if progress.state == "absent" or (progress.state == "waiting" and not progress.reason):
        # Nothing came back from the node: its kubelet is down, overloaded or partitioned.
        where = f"node {node}" if node else "the Pod's node"
        return (
            f"the kubelet on {where} has not acted on the container: check that the node is "
            f"Ready (kubectl get node {node or 'NODE'}) and look at the Pod's events, or "
            f"{WaitTimeoutError.RAISE_LIMIT}; {stays}"
        )
    return f"{WaitTimeoutError.RAISE_LIMIT}, or look at the Pod's events; {stays}"


def wait_until_terminated(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    timeout: float,
    *,
    pod_may_finish: bool = False,
) -> tuple[dict[str, Any], ContainerState]:
    """Wait up to ``timeout`` for container ``name`` to terminate; return what was seen last."""
    pod, progress, _ = watch_container(
        client,
        pod,
        name,
        timeout,
        lambda p: p.state == "terminated",
        pod_may_finish=pod_may_finish,
    )
    return pod, progress


def start_failure_check(client: KubeAPI, pod: dict[str, Any], name: str) -> Callable[[], None]:
    """A watch's ``poll`` that raises why container ``name`` cannot start as soon as the
    kubelet's Event tells it; it stops asking once the Events cannot be read."""
    asking = True

    def check() -> None:
        nonlocal asking
        if not asking:
            return
        try:
            failure = start_failure(client, pod, name)
        except ForbiddenError:
            asking = False
            return
        if failure is not None:
            raise failure

    return check


_PULL_FAILED = 'Failed to pull image "'
_BACK_OFF = 'Back-off pulling image "'


def _failed_pull(message: str) -> tuple[str, str] | None:
    """``(image, the runtime's error)`` of 'Failed to pull image "IMAGE": ERROR'."""
    if not message.startswith(_PULL_FAILED):
        return None
    image, _, cause = message[len(_PULL_FAILED) :].partition('": ')
    return image, cause


def _waiting_from_events(
    mine: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> tuple[str, str] | None:
    """The status the kubelet will write for a container, ``(reason, message)``, from the
    Events it posted for it (``mine``) and for the Pod's other containers (``pods``)."""
    for event in mine:
        reason, message = event.get("reason"), str(event.get("message") or "")
        failed = _failed_pull(message) if reason == "Failed" else None
        if failed is not None:
            return "ErrImagePull", failed[1]
        if reason == "ErrImageNeverPull":
            return "ErrImageNeverPull", message
        if reason == "BackOff" and message.startswith(_BACK_OFF):
            # An earlier container of this Pod failed to pull the same image: the kubelet
            # backs off without trying, and the reason is in that container's Event.
            image = message[len(_BACK_OFF) :].split('"', 1)[0]
            for other in pods:
                earlier = _failed_pull(str(other.get("message") or ""))
                if earlier is not None and earlier[0] == image:
                    return "ImagePullBackOff", f"{message}: {earlier[1]}"
            return "ImagePullBackOff", message
    return None


def start_failure(client: KubeAPI, pod: dict[str, Any], name: str) -> PodscopeError | None:
    """Why ephemeral container ``name`` cannot start (a failed or refused pull, an image
    absent under pull policy Never), from the kubelet's Events; None when they say nothing.

    The kubelet posts the Event the moment the pull fails, but writes the status (such as
    ``ErrImagePull``) only at its next sync of the Pod (up to ``syncFrequency`` later, 10-15 s
    here): reading the Event says it seconds sooner, in the words the status would have.
    Without ``list events`` (ForbiddenError, raised so that the caller stops asking) the
    Pod's status tells, later.
    """
    meta = _meta(pod)
    namespace = str(meta.get("namespace") or client.namespace)
    try:
        events = client.list_events(namespace, f"involvedObject.uid={meta.get('uid')}")
    except ForbiddenError:
        raise
    except PodscopeError:
        return None
    path = f"spec.ephemeralContainers{{{name}}}"
    mine = [e for e in events if (e.get("involvedObject") or {}).get("fieldPath") == path]
    waiting = _waiting_from_events(mine, events)
    if waiting is None:
        return None
    image = str((container_spec(pod, name) or {}).get("image") or "")
    reason, message = waiting
    progress = ContainerState("waiting", reason, message, status={"image": image})
    try:
        check_started(str(meta.get("name")), name, progress, pod)
    except PodscopeError as exc:
        return exc
    return None


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PULLED = re.compile(r'^Successfully pulled image "[^"]*" in (?P<took>[0-9.hmsuµn]+)')


def _go_duration(text: str) -> float | None:
    """Seconds in a Go duration string (``252ms``, ``1.5s``, ``1m2.5s``)."""
    parts = re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


def report_pull_time(client: KubeAPI, pod: dict[str, Any], name: str, report: Events) -> None:
    """Say how long the kubelet took to pull container ``name``'s image (its ``Pulled``
    Event: ``Successfully pulled image "X" in 252ms ...``), or that the image was already on
    the node. Says nothing without ``list events``."""
    meta = _meta(pod)
    selector = (
        f"involvedObject.uid={meta.get('uid')},reason=Pulled,"
        f"involvedObject.fieldPath=spec.ephemeralContainers{{{name}}}"
    )
    try:
        events = client.list_events(str(meta.get("namespace") or client.namespace), selector)
    except UnreachableError:
        raise
    except PodscopeError:
        return
    for event in events:
        message = str(event.get("message") or "")
        match = _PULLED.match(message)
        seconds = _go_duration(match.group("took")) if match else None
        if seconds is not None:
            report.measured("image", seconds, f"image pulled by the kubelet in {seconds:.2f}s")
            return
        if "already present on machine" in message:
            report("image already on the node: not pulled (imagePullPolicy allows it)")
            return
