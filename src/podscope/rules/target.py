"""Which container an ephemeral container targets (shares the process namespace of).

Default, as kubectl does for ``exec``/``logs``: the only container; else the container named by
the ``kubectl.kubernetes.io/default-container`` annotation when it exists; else the first.
"""

from __future__ import annotations

from typing import Any

from podscope.errors import NotFoundError, ValidationError
from podscope.rules._fmt import names, quote
from podscope.rules._pod import (
    EPHEMERAL,
    INIT,
    REGULAR,
    annotations_of,
    containers_of,
    is_sidecar,
    names_of,
    pod_name,
)

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def _default(pod: dict[str, Any], regular: list[str]) -> tuple[str | None, str]:
    if not regular:
        return None, "the Pod has no containers"
    if len(regular) == 1:
        return regular[0], "the Pod's only container"
    annotated = annotations_of(pod).get(DEFAULT_CONTAINER_ANNOTATION)
    if isinstance(annotated, str) and annotated in regular:
        return annotated, f"the {DEFAULT_CONTAINER_ANNOTATION} annotation"
    reason = f"the first of {len(regular)} containers"
    if isinstance(annotated, str):
        reason += (
            f" (the {DEFAULT_CONTAINER_ANNOTATION} annotation names {quote(annotated, 40)},"
            " which is not one of them)"
        )
    return regular[0], reason


def choose_target(pod: dict[str, Any], requested: str | None) -> tuple[str | None, str]:
    """Return ``(container name or None, human reason)``.

    ``requested=None`` picks the default. ``requested=""`` means "no target": the debug
    container then shares only the namespaces the Pod shares. A requested name must be one of
    the Pod's containers; a restartable (sidecar) init container is accepted too, since it
    runs alongside them, but an ordinary init container or an ephemeral one is refused.
    """
    regular = names_of(pod, REGULAR)
    if requested is None:
        return _default(pod, regular)
    if requested == "":
        return None, "no target requested: only the Pod's shared namespaces"
    valid = f"--target must name one of the Pod's containers: {names(regular)}"
    if requested in regular:
        return requested, "requested with --target"
    for init in containers_of(pod, INIT):
        if init.get("name") == requested:
            if is_sidecar(init):
                return requested, "requested with --target (a sidecar init container)"
            raise ValidationError(
                f"target container {quote(requested, 63)} is an init container; {valid}",
                field="targetContainerName",
            )
    if requested in names_of(pod, EPHEMERAL):
        raise ValidationError(
            f"target container {quote(requested, 63)} is an ephemeral container; {valid}",
            field="targetContainerName",
        )
    raise NotFoundError(
        f"container {quote(requested, 63)} not found in Pod {quote(pod_name(pod), 253)}; {valid}"
    )


def _status_of(pod: dict[str, Any], name: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item
    return None


def target_down(pod: dict[str, Any], target: str | None) -> str | None:
    """Why container ``target`` is not running now (``waiting: CrashLoopBackOff, 3
    restarts, last exit code 3``), or None when it runs, or when nothing is reported yet."""
    item = (_status_of(pod, target) if target else None) or {}
    state = item.get("state") or {}
    if not state or "running" in state:
        return None
    kind = "waiting" if "waiting" in state else "terminated"
    detail = state.get(kind) or {}
    words = [f"{kind}: {detail.get('reason') or 'no reason given'}"]
    restarts = int(item.get("restartCount") or 0)
    if restarts:
        words.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    last = (item.get("lastState") or {}).get("terminated") or detail
    if last.get("exitCode") is not None:
        words.append(f"last exit code {last['exitCode']}")
    return ", ".join(words)


def check_target_running(pod: dict[str, Any], target: str | None) -> None:
    """Refuse to add a container that targets one that is down: the runtime joins the
    target's process namespace when it starts the container, and cannot while the target
    is not running (CreateContainerError), and the failed container would stay in the Pod."""
    why = target_down(pod, target)
    if why is None:
        return
    from podscope.errors import PodStateError

    name = pod_name(pod)
    raise PodStateError(
        f"target container {target} of Pod {name} is not running ({why}): a debugger that "
        "joins its processes cannot start until it runs again",
        remedy=target_down_remedy(name, str(target)),
    )


def target_down_remedy(pod: str, target: str) -> str:
    """What can work while the target container is down."""
    return (
        f"retry while it runs, leave its processes out with --target '', or debug a copy in "
        f"which it stays up: podscope debug {pod} --copy-to {pod}-debug --command-override "
        f"{target} -- sleep 1d, then podscope debug {pod}-debug"
    )
