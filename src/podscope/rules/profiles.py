"""kubectl's debug profiles (``--profile``), for ephemeral containers, Pod copies and node Pods.

Semantics follow kubectl's ``pkg/cmd/debug/profiles.go``.

Ephemeral container (the Pod itself cannot change through the subresource):
  legacy: unchanged. general: +SYS_PTRACE. baseline: securityContext cleared.
  restricted: cleared, then runAsNonRoot=true, allowPrivilegeEscalation=false,
  capabilities drop ALL, seccompProfile RuntimeDefault. netadmin: +NET_ADMIN +NET_RAW.
  sysadmin: privileged=true.
Copy of the Pod (``--copy-to``): the same container edits, plus the common copy changes (*);
  legacy only removes the labels.
Node Pod: legacy and general mount the host's / at /host and use the host namespaces
  (general also clears the securityContext); baseline and restricted make the same
  container edits as for an ephemeral container; netadmin adds the capabilities and the host
  namespaces; sysadmin is privileged, with host namespaces and the /host mount.

(*) common copy-mode changes for every profile but legacy: labels, annotations, liveness,
readiness and startup probes and init containers are removed unless kept (``CopyKeeps``), and
``shareProcessNamespace`` is set to true when the Pod does not say otherwise.
"host ns" is hostPID + hostNetwork + hostIPC. Unlike kubectl, a capability already present is
not added twice. Every function returns a new dict and leaves its arguments untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

from podscope.errors import UsageError, ValidationError
from podscope.rules._fmt import quote
from podscope.rules._pod import INIT, REGULAR
from podscope.rules.requests import PROFILE_NAMES

PROFILES: tuple[str, ...] = PROFILE_NAMES

HOST_ROOT_VOLUME = "host-root"
HOST_ROOT_MOUNT = "/host"

Container = dict[str, Any]


class CopyKeeps(Protocol):
    """What a Pod copy keeps of the original: a ``PodCopyRequest``'s ``keep_*`` fields
    (kubectl's ``--keep-*`` flags). ``keep_init_containers=None`` is kubectl's default: kept."""

    @property
    def keep_labels(self) -> bool: ...
    @property
    def keep_annotations(self) -> bool: ...
    @property
    def keep_liveness(self) -> bool: ...
    @property
    def keep_readiness(self) -> bool: ...
    @property
    def keep_startup(self) -> bool: ...
    @property
    def keep_init_containers(self) -> bool | None: ...


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is known, else raise ``UsageError`` listing the valid ones."""
    if profile not in PROFILES:
        raise UsageError(
            f"unknown profile {quote(profile, 40)}; valid profiles: {', '.join(PROFILES)}"
        )
    return profile


def describe_grants(profile: str) -> str | None:
    """One line saying what an elevated profile grants; None for the others."""
    if profile == "netadmin":
        return (
            "the netadmin profile adds the NET_ADMIN and NET_RAW capabilities: the container "
            "can reconfigure the Pod's network and capture its traffic"
        )
    if profile == "sysadmin":
        return (
            "the sysadmin profile makes the container privileged: it gets every capability and "
            "the node's devices, which amounts to root on the node"
        )
    return None


# --- container-level edits (each mutates the container dict it is given) ---


def _security_context(container: Container) -> dict[str, Any]:
    sc = container.get("securityContext")
    if not isinstance(sc, dict):
        sc = {}
        container["securityContext"] = sc
    return sc


def _add_capabilities(container: Container, *caps: str) -> None:
    sc = _security_context(container)
    capabilities = sc.get("capabilities")
    if not isinstance(capabilities, dict):
        capabilities = {}
        sc["capabilities"] = capabilities
    added = capabilities.get("add")
    added = list(added) if isinstance(added, list) else []
    for cap in caps:
        if cap not in added:
            added.append(cap)
    capabilities["add"] = added


def _clear_security_context(container: Container) -> None:
    container.pop("securityContext", None)


def _restrict(container: Container) -> None:
    _clear_security_context(container)
    container["securityContext"] = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _privileged(container: Container) -> None:
    _security_context(container)["privileged"] = True


def _edit_for(profile: str) -> Callable[[Container], None]:
    edits: dict[str, Callable[[Container], None]] = {
        "legacy": lambda c: None,
        "general": lambda c: _add_capabilities(c, "SYS_PTRACE"),
        "baseline": _clear_security_context,
        "restricted": _restrict,
        "netadmin": lambda c: _add_capabilities(c, "NET_ADMIN", "NET_RAW"),
        "sysadmin": _privileged,
    }
    return edits[check_profile(profile)]


def apply_ephemeral_profile(
    profile: str, container: Container, pod: dict[str, Any], target: str | None
) -> Container:
    """The ephemeral ``container`` with ``profile`` applied.

    ``pod`` and ``target`` are accepted for parity with kubectl's appliers (which see the
    whole Pod); no built-in profile changes the Pod for an ephemeral container, since the
    Pod spec cannot be changed through the ephemeralcontainers subresource.
    """
    del pod, target
    result = copy.deepcopy(container)
    _edit_for(profile)(result)
    return result


# --- Pod-level edits for copies and node Pods ---


def _find_container(pod: dict[str, Any], name: str, kinds: tuple[str, ...]) -> Container:
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else None
    for kind in kinds:
        items = spec.get(kind) if spec else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("name") == name:
                return item
    raise ValidationError(
        f"container {quote(name, 63)} is not in the Pod the profile is applied to",
        field="spec.containers",
    )


def _use_host_namespaces(spec: dict[str, Any]) -> None:
    spec["hostNetwork"] = True
    spec["hostPID"] = True
    spec["hostIPC"] = True


def _mount_host_root(spec: dict[str, Any], container: Container) -> None:
    volumes = spec.setdefault("volumes", [])
    if not any(isinstance(v, dict) and v.get("name") == HOST_ROOT_VOLUME for v in volumes):
        volumes.append({"name": HOST_ROOT_VOLUME, "hostPath": {"path": "/"}})
    mounts = container.setdefault("volumeMounts", [])
    mounts.append({"name": HOST_ROOT_VOLUME, "mountPath": HOST_ROOT_MOUNT})


def _strip_copy(pod: dict[str, Any], keep: CopyKeeps | None) -> None:
    meta = pod.get("metadata")
    if isinstance(meta, dict):
        if not (keep and keep.keep_labels):
            meta.pop("labels", None)
        if not (keep and keep.keep_annotations):
            meta.pop("annotations", None)
    spec = pod["spec"]
    probes = [
        ("livenessProbe", bool(keep and keep.keep_liveness)),
        ("readinessProbe", bool(keep and keep.keep_readiness)),
        ("startupProbe", bool(keep and keep.keep_startup)),
    ]
    for container in spec.get(REGULAR) or []:
        if isinstance(container, dict):
            for probe, kept in probes:
                if not kept:
                    container.pop(probe, None)
    if keep and keep.keep_init_containers is False:
        spec.pop(INIT, None)
    # Only when unset: an explicit shareProcessNamespace (or --share-processes) wins.
    spec.setdefault("shareProcessNamespace", True)


def _prepared(pod: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(pod)
    if not isinstance(result.get("spec"), dict):
        result["spec"] = {}
    return result


def apply_copy_profile(
    profile: str, pod: dict[str, Any], container_name: str, keep: CopyKeeps | None = None
) -> dict[str, Any]:
    """A Pod copy (``--copy-to``) with ``profile`` applied to its debug container; ``keep``
    None keeps what kubectl keeps by default."""
    check_profile(profile)
    result = _prepared(pod)
    container = _find_container(result, container_name, (REGULAR,))
    if profile == "legacy":
        # kubectl's legacy copy only drops the labels, so the copy escapes the workload's
        # Services and controllers; everything else is kept as it was.
        meta = result.get("metadata")
        if isinstance(meta, dict):
            meta.pop("labels", None)
        return result
    _edit_for(profile)(container)
    _strip_copy(result, keep)
    return result


def apply_node_profile(profile: str, pod: dict[str, Any], container_name: str) -> dict[str, Any]:
    """A node debugging Pod with ``profile`` applied to its container."""
    check_profile(profile)
    result = _prepared(pod)
    spec = result["spec"]
    container = _find_container(result, container_name, (REGULAR, INIT))
    if profile == "legacy":
        _mount_host_root(spec, container)
        _use_host_namespaces(spec)
    elif profile == "general":
        _mount_host_root(spec, container)
        _clear_security_context(container)
        _use_host_namespaces(spec)
    elif profile == "sysadmin":
        _privileged(container)
        _use_host_namespaces(spec)
        _mount_host_root(spec, container)
    elif profile == "netadmin":
        _edit_for(profile)(container)
        _use_host_namespaces(spec)
    else:
        _edit_for(profile)(container)
    return result
