"""What a debug container can take over from its target: env, volume mounts, user.

``--copy-env`` copies ``env`` and ``envFrom`` as the Pod holds them (``valueFrom`` references
stay references: the kubelet resolves them for the debug container as it did for the target).
``--copy-mounts`` copies ``volumeMounts``; ephemeral containers may mount the Pod's volumes but
not with ``subPath``/``subPathExpr``, so those are refused by name. ``--as-target-user`` runs
the debugger as the target's effective ``runAsUser``/``runAsGroup`` (the container's
securityContext over the Pod's).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podscope.errors import NotFoundError, UsageError, ValidationError
from podscope.rules._fmt import quote
from podscope.rules._pod import INIT, REGULAR, containers_of, spec_of

if TYPE_CHECKING:
    from podscope.rules.requests import DebugRequest

_INT32_MAX = 2**31 - 1
_USER_RE = re.compile(r"(\d+)(?::(\d+))?")


@dataclass(frozen=True)
class Inherit:
    """Which parts of the target the debugger takes over (the CLI's flags)."""

    env: bool = False
    mounts: bool = False
    user: bool = False

    @classmethod
    def of(cls, request: DebugRequest) -> Inherit:
        return cls(env=request.copy_env, mounts=request.copy_mounts, user=request.as_target_user)


def parse_user(text: str) -> tuple[int, int | None]:
    """``UID`` or ``UID:GID`` (numbers: the API has no user names) as ``(uid, gid|None)``."""
    match = _USER_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise UsageError(
            f"--user {quote(text)}: expected UID or UID:GID (numbers, e.g. 65532:65532)"
        )
    uid = int(match.group(1))
    gid = int(match.group(2)) if match.group(2) is not None else None
    for label, value in (("UID", uid), ("GID", gid)):
        if value is not None and value > _INT32_MAX:
            raise UsageError(f"--user {quote(text)}: {label} must be at most {_INT32_MAX}")
    return uid, gid


def target_container(pod: dict[str, Any], target: str | None) -> dict[str, Any]:
    """The spec of container ``target`` (regular or sidecar init container)."""
    if not target:
        raise UsageError(
            "copying the target's env, mounts or user needs a target container",
            remedy="name it with --target",
        )
    for kind in (REGULAR, INIT):
        for container in containers_of(pod, kind):
            if container.get("name") == target:
                return container
    raise NotFoundError(f"container {quote(target, 63)} is not in the Pod")


def copied_env(container: dict[str, Any]) -> dict[str, Any]:
    """``env`` and ``envFrom`` of ``container``, deep-copied, as container fields."""
    fields: dict[str, Any] = {}
    for key in ("env", "envFrom"):
        value = container.get(key)
        if isinstance(value, list) and value:
            fields[key] = copy.deepcopy(value)
    return fields


def copied_mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    """The target's ``volumeMounts``; a ``subPath``/``subPathExpr`` mount is refused by name."""
    name = container.get("name")
    mounts = container.get("volumeMounts")
    result: list[dict[str, Any]] = []
    for mount in mounts if isinstance(mounts, list) else []:
        if not isinstance(mount, dict):
            continue
        for sub in ("subPath", "subPathExpr"):
            if mount.get(sub):
                raise ValidationError(
                    f"--copy-mounts: volume mount {quote(mount.get('name'), 63)} of container "
                    f"{quote(name, 63)} (at {quote(mount.get('mountPath'))}) uses {sub}, which "
                    "ephemeral containers cannot use",
                    field=f"volumeMounts[{quote(mount.get('name'), 63)}].{sub}",
                    remedy="leave out --copy-mounts and mount the whole volume with --custom "
                    "(a volumeMounts entry without subPath), or reach the file through --cd",
                )
        result.append(copy.deepcopy(mount))
    return result


def _security_context(holder: dict[str, Any]) -> dict[str, Any]:
    sc = holder.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def effective_user(pod: dict[str, Any], container: dict[str, Any]) -> tuple[int | None, int | None]:
    """``(runAsUser, runAsGroup)`` the container runs with, as far as the API knows.

    ``None`` means the image decides (its USER), which the API does not show.
    """
    own, pod_sc = _security_context(container), _security_context(spec_of(pod))
    result: list[int | None] = []
    for key in ("runAsUser", "runAsGroup"):
        value = own.get(key, pod_sc.get(key))
        result.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
    return result[0], result[1]


def target_user(pod: dict[str, Any], container: dict[str, Any]) -> tuple[int, int | None]:
    """The user for ``--as-target-user``; an error naming ``--user`` when the API cannot tell."""
    uid, gid = effective_user(pod, container)
    if uid is None:
        raise ValidationError(
            f"--as-target-user: container {quote(container.get('name'), 63)} sets no runAsUser "
            "(nor does the Pod), so it runs as its image's user, which the API does not show",
            field="securityContext.runAsUser",
            remedy="give the user with --user UID[:GID] (e.g. --user 65532:65532 for distroless "
            "nonroot images)",
        )
    return uid, gid


def merge_env(
    base: list[dict[str, Any]] | None, extra: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``base`` with ``extra`` applied: a variable of ``extra`` replaces one of the same name
    in place (so ``--env`` wins over a copied variable); new ones are appended."""
    result = [copy.deepcopy(item) for item in base or []]
    where = {item.get("name"): i for i, item in enumerate(result) if isinstance(item, dict)}
    for item in extra:
        name = item.get("name")
        if name in where:
            result[where[name]] = copy.deepcopy(item)
        else:
            where[name] = len(result)
            result.append(copy.deepcopy(item))
    return result


def inherited_fields(pod: dict[str, Any], target: str | None, inherit: Inherit) -> dict[str, Any]:
    """The container fields taken over from ``target`` for ``inherit`` (env, envFrom,
    volumeMounts). The user is separate: see :func:`target_user`."""
    if not (inherit.env or inherit.mounts or inherit.user):
        return {}
    container = target_container(pod, target)
    fields: dict[str, Any] = {}
    if inherit.env:
        fields.update(copied_env(container))
    if inherit.mounts:
        mounts = copied_mounts(container)
        if mounts:
            fields["volumeMounts"] = mounts
    return fields


def runs_as_non_root(pod: dict[str, Any], container: dict[str, Any]) -> bool:
    """Whether the kubelet will insist that ``container`` (a debug container) is not root."""
    own, pod_sc = _security_context(container), _security_context(spec_of(pod))
    return own.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True


def check_non_root_user(pod: dict[str, Any], container: dict[str, Any]) -> None:
    """Refuse a debug container that runAsNonRoot applies to but that sets no user.

    The kubelet would refuse to start it ("image will run as root") only after it was added
    for good; the debug image's USER is unknown here, so ask for one explicitly.
    """
    if not runs_as_non_root(pod, container):
        return
    uid, _ = effective_user(pod, container)
    if uid is not None:
        return
    source = (
        "the debug container's securityContext"
        if _security_context(container).get("runAsNonRoot") is True
        else "the Pod's securityContext"
    )
    raise ValidationError(
        f"runAsNonRoot is true ({source}) but the debug container sets no runAsUser: the "
        "kubelet would refuse to start it if its image runs as root",
        field="securityContext.runAsUser",
        remedy="add --as-target-user (run as the target's user) or --user UID[:GID]",
    )
