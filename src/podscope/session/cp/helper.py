"""The container every copy runs in: the Pod's debugger, found again or made.

Ephemeral containers cannot be removed from a Pod, so copies must not add one each. A copy
runs in a live podscope debugger of the same image and target that can read the target's
files (it holds SYS_PTRACE, needed to reach the target's root through ``/proc/PID/root``):
one made by ``podscope debug --profile general`` or by an earlier copy. Without one it makes
such a debugger (``general`` profile), which later copies and debug sessions reuse, which
``podscope stop`` ends and which expires after its TTL without a session, like any other.
Each step is an exec into it, run as a session so that the TTL never ends a copy midway.

Helpers of earlier releases (a container that only sleeps) and other running debug
containers with SYS_PTRACE still serve when no debugger does.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from podscope.errors import PolicyError
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.debugger import format_duration, key_of
from podscope.rules.inherit import effective_user
from podscope.rules.requests import CpRequest
from podscope.rules.targetfs import HELPER_COMMAND
from podscope.session.container_state import container_spec, container_state_of
from podscope.session.wait import wait_until_started

# The name prefix of the sleeping helpers earlier releases made (they are still used).
HELPER_PREFIX = "podscope-cp"


@dataclass(frozen=True)
class Helper:
    """Where a copy runs: the Pod as last read, the container, whether this copy made it,
    and whether it is a podscope debugger (its execs then run as sessions)."""

    pod: dict[str, Any]
    name: str
    created: bool
    debugger: bool


def _has_ptrace(container: dict[str, Any]) -> bool:
    sc = container.get("securityContext") or {}
    added = (sc.get("capabilities") or {}).get("add") or []
    return sc.get("privileged") is True or any(c in ("SYS_PTRACE", "CAP_SYS_PTRACE") for c in added)


def find_helper(
    pod: dict[str, Any], image: str, target: str, skip: Collection[str] = ()
) -> str | None:
    """A running container of ``image`` targeting ``target`` that a copy can run in: a
    podscope debugger holding SYS_PTRACE, else an earlier release's sleeping helper, else
    another debug container holding SYS_PTRACE. ``skip``: ones found ended."""
    candidates: list[tuple[int, str]] = []
    for item in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(item.get("name"))
        if item.get("image") != image or item.get("targetContainerName") != target:
            continue
        if name in skip:
            continue
        if container_state_of(pod, name).state != "running":
            continue
        if key_of(item) is not None and _has_ptrace(item):
            candidates.append((0, name))
        elif list(item.get("command") or []) == list(HELPER_COMMAND):
            candidates.append((1, name))
        elif _has_ptrace(item):
            candidates.append((2, name))
    return min(candidates)[1] if candidates else None


def policy_remedy(level: str, pod: dict[str, Any], target: str) -> str:
    """What to do when PodSecurity refuses the copy's debugger. ``--profile`` cannot help:
    cp always needs SYS_PTRACE, which only the ``privileged`` level allows to be added. A
    debugger running as the target's user needs no capability to enter its root, and
    ``baseline`` and ``restricted`` admit one (``debug`` builds it to fit the level)."""
    meta = pod.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    spec: dict[str, Any] = next(
        (c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == target),
        {},
    )
    # --as-target-user needs the user in the spec; an image's USER does not show in the API.
    known = effective_user(pod, spec)[0] is not None
    user = "--as-target-user" if known else "--user UID:GID"
    return (
        f"cp cannot work in namespace {namespace}: its debugger needs SYS_PTRACE to read the "
        f"target's files through /proc/PID/root, and PodSecurity {level!r} does not allow "
        "adding it (only 'privileged' does); read a file as the target's user instead, which "
        f"needs no capability: podscope debug {name} -n {namespace} --profile {level} {user} "
        "--cd /DIR -- cat FILE > FILE"
        + ("" if known else " (UID:GID: the user the target runs as, e.g. 65532:65532)")
        + ", or copy from a namespace whose PodSecurity level is privileged"
    )


def _names(pod: dict[str, Any]) -> set[str]:
    spec = pod.get("spec") or {}
    return {
        str(c.get("name"))
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key) or []
    }


def ensure_helper(
    client: KubeAPI,
    pod: dict[str, Any],
    target: str,
    request: CpRequest,
    report: Events,
    skip: Collection[str] = (),
) -> Helper:
    """The container the copy runs in, made (as a debugger) when none can serve. ``skip``
    names debuggers found ended that the Pod's status may still show running."""
    from podscope.session.debugger import create_debugger, find_live
    from podscope.session.settings import resolve_ttl

    image = request.image
    assert image is not None, "the helper image is resolved before the session starts"
    found = find_helper(pod, image, target, skip)
    if found is not None:
        debugger = key_of(container_spec(pod, found) or {}) is not None
        report(f"using {'debugger' if debugger else 'helper container'} {found}")
        return Helper(pod, found, created=False, debugger=debugger)
    spec = DebugSpec(
        image=image,
        target=target,
        # A copy should not need the registry when the node already has the image.
        image_pull_policy=request.image_pull_policy or "IfNotPresent",
        profile="general",
    )
    container = build_ephemeral_container(pod, spec)
    # The same debugger, just added (by debug or another copy) and not yet reported running.
    starting = find_live(pod, container, named=False, skip=frozenset(skip))
    if starting is not None:
        report(f"using debugger {starting}")
        pod, _ = wait_until_started(client, pod, starting, request.timeout, report)
        return Helper(pod, starting, created=False, debugger=True)
    shape = client.writable_ephemeral_shape()
    ttl, _ = resolve_ttl(None)
    try:
        placed = create_debugger(
            client,
            pod,
            container,
            ttl=ttl,
            shape=shape,
            new=False,
            named=False,
            report=report,
        )
    except PolicyError as exc:
        # PodSecurity blamed only the new debugger: the generic hint (another --profile)
        # does not apply to cp, which has no --profile. When a container already in the Pod
        # is blamed, its hint (debug a new replica) stands.
        if exc.level is not None and not set(exc.containers) & _names(pod):
            exc.remedy = policy_remedy(exc.level, pod, target)
        raise
    name = placed.name
    if not placed.joined:
        report(
            f"created debugger {name} for copies (image {image}, targeting {target}, ends "
            f"after {format_duration(ttl)} without a session); later copies and debug "
            "sessions reuse it"
        )
    pod, _ = wait_until_started(client, placed.pod, name, request.timeout, report)
    return Helper(pod, name, created=placed.created, debugger=True)
