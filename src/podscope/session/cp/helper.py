"""The helper container every copy runs in: found again when one is there, created otherwise.

Ephemeral containers cannot be removed from a Pod, so copies must not add one each: a
podscope cp helper (same image, same target) is reused, and so is any running debug
container of that image and target that holds SYS_PTRACE (needed to reach the target's
root through ``/proc/PID/root``). A new helper only sleeps; each step is an exec into it.
"""

from __future__ import annotations

from typing import Any

from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.rules._pod import all_names
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.names import generate_name
from podscope.rules.requests import CpRequest
from podscope.rules.targetfs import HELPER_COMMAND
from podscope.session.container_state import container_state_of
from podscope.session.ephemeral import create_container
from podscope.session.wait import wait_until_started

HELPER_PREFIX = "podscope-cp"


def _has_ptrace(container: dict[str, Any]) -> bool:
    sc = container.get("securityContext") or {}
    added = (sc.get("capabilities") or {}).get("add") or []
    return sc.get("privileged") is True or any(c in ("SYS_PTRACE", "CAP_SYS_PTRACE") for c in added)


def find_helper(pod: dict[str, Any], image: str, target: str) -> str | None:
    """A running container that can serve as the helper: a podscope cp helper with the same
    image and target, else a debug container of that image and target holding SYS_PTRACE."""
    candidates: list[tuple[int, str]] = []
    for item in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(item.get("name"))
        if item.get("image") != image or item.get("targetContainerName") != target:
            continue
        if container_state_of(pod, name).state != "running":
            continue
        if list(item.get("command") or []) == list(HELPER_COMMAND):
            candidates.append((0, name))
        elif _has_ptrace(item):
            candidates.append((1, name))
    return min(candidates)[1] if candidates else None


def ensure_helper(
    client: KubeAPI,
    pod: dict[str, Any],
    target: str,
    request: CpRequest,
    report: Events,
) -> tuple[dict[str, Any], str, bool]:
    """The Pod, the helper's name, and whether it was created now."""
    image = request.image
    assert image is not None, "the helper image is resolved before the session starts"
    found = find_helper(pod, image, target)
    if found is not None:
        report(f"reusing helper container {found}")
        return pod, found, False
    shape = client.writable_ephemeral_shape()
    spec = DebugSpec(
        image=image,
        name=generate_name(all_names(pod), prefix=HELPER_PREFIX),
        target=target,
        command=list(HELPER_COMMAND),
        image_pull_policy=request.image_pull_policy or "IfNotPresent",
        profile="general",
    )
    container = build_ephemeral_container(pod, spec)
    pod, container = create_container(client, pod, spec, container, shape, report)
    name = str(container["name"])
    report(
        f"created helper container {name} (image {image}, targeting {target}); "
        "later copies reuse it"
    )
    pod, _ = wait_until_started(client, pod, name, request.timeout, report)
    return pod, name, True
