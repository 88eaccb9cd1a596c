"""``podscope debug`` options about the target: its file system, env, mounts and user.

Turns a request's target options (``--cd``/``--chroot``, what to take over from the target,
``--user``) into a changed :class:`DebugSpec`, before anything is created. Pure apart from the
reporter; the rules themselves live in ``spec.targetfs`` and ``spec.inherit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from podscope.errors import UsageError
from podscope.events import Events
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.inherit import (
    Inherit,
    check_non_root_user,
    effective_user,
    inherited_fields,
    target_container,
    target_user,
)
from podscope.rules.requests import DebugRequest
from podscope.rules.targetfs import TargetRoot, check_target_root_profile, wrap_command

# Profiles whose debug container holds CAP_SYS_PTRACE (needed to open /proc/PID/root of a
# process owned by another user).
_PTRACE_PROFILES = ("general", "sysadmin")


@dataclass
class TargetAccess:
    """The target-related flags of one ``podscope debug``."""

    root: TargetRoot | None = None
    inherit: Inherit = field(default_factory=Inherit)
    user: tuple[int, int | None] | None = None
    # False when --profile was not given: --cd/--chroot may then pick `general` themselves.
    profile_chosen: bool = True


def target_access_of(request: DebugRequest) -> TargetAccess:
    """The target flags of a (validated) request, parsed. Always returned, even with no flag
    set: the non-root check of the debugger's user runs on it too."""
    from podscope.rules.inherit import parse_user
    from podscope.rules.targetfs import normalize_target_path

    root = None
    if request.cd is not None:
        root = TargetRoot("cd", normalize_target_path(request.cd))
    elif request.chroot:
        root = TargetRoot("chroot")
    return TargetAccess(
        root=root,
        inherit=Inherit.of(request),
        user=parse_user(request.user) if request.user is not None else None,
        profile_chosen=request.profile is not None,
    )


def _container_id(pod: dict[str, Any], name: str) -> str | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            if item.get("name") == name:
                value = item.get("containerID")
                return str(value) if value else None
    return None


def _adds_ptrace(custom: dict[str, Any] | None) -> bool:
    sc = (custom or {}).get("securityContext")
    caps = sc.get("capabilities") if isinstance(sc, dict) else None
    added = caps.get("add") if isinstance(caps, dict) else None
    privileged = isinstance(sc, dict) and sc.get("privileged") is True
    return privileged or (
        isinstance(added, list) and any(c in ("SYS_PTRACE", "CAP_SYS_PTRACE") for c in added)
    )


def _choose_profile(
    pod: dict[str, Any], spec: DebugSpec, access: TargetAccess, report: Events
) -> str:
    if access.root is None or spec.profile in _PTRACE_PROFILES or _adds_ptrace(spec.custom):
        return spec.profile
    target_uid, _ = effective_user(pod, target_container(pod, spec.target))
    same_user = spec.user is not None and target_uid is not None and spec.user[0] == target_uid
    if same_user:
        return spec.profile
    if not access.profile_chosen:
        report(
            "using --profile general (legacy + SYS_PTRACE): reaching the target's file system "
            "through /proc/PID/root needs it when the target runs as another user"
        )
        return "general"
    report(
        f"note: with --profile {spec.profile} the debugger can open the target's file system "
        "only if it runs as the target's user (--as-target-user) or as root over a root target"
    )
    return spec.profile


def apply_target_access(
    pod: dict[str, Any], spec: DebugSpec, access: TargetAccess, report: Events
) -> DebugSpec:
    """``spec`` with the target options applied (and checked) for ``pod``."""
    if access.root is not None and not spec.target:
        raise UsageError(
            f"--{access.root.mode} needs a target container (its process is what the "
            "debugger reaches the file system through)",
            remedy="name it with --target",
        )
    user = access.user
    if access.inherit.user:
        user = target_user(pod, target_container(pod, spec.target))
        if user[1] is not None:
            report(f"running as the target's user: uid {user[0]}, gid {user[1]}")
        else:
            report(
                f"running as the target's uid {user[0]}; its group comes from its image (the "
                "API does not show it): if you need it too, use --user UID:GID"
            )
    inherited = inherited_fields(pod, spec.target, access.inherit)
    spec = replace(spec, user=user if user is not None else spec.user, inherited=inherited or None)
    profile = _choose_profile(pod, spec, access, report)
    spec = replace(spec, profile=profile)
    if access.root is not None:
        check_target_root_profile(access.root, profile)
        words = [*spec.command, *spec.args]
        command = wrap_command(access.root, words, _container_id(pod, str(spec.target)))
        spec = replace(spec, command=command, args=[])
    # Built here only to check it (pure): the real build happens in the session. Under a
    # free name, since the name given may be a debugger's that the session will reuse.
    check_non_root_user(pod, build_ephemeral_container(pod, replace(spec, name=None)))
    return spec
