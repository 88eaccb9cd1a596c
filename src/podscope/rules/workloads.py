"""Resolve ``kind/NAME`` references to a Pod (pure parts: parsing, selectors, choosing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podscope.errors import NotFoundError, UsageError


@dataclass(frozen=True)
class WorkloadKind:
    """A workload kind podscope can pick a Pod from."""

    name: str  # canonical short form shown to users: deployment, statefulset, ...
    group: str  # API group
    plural: str  # REST resource


_DEPLOYMENT = WorkloadKind("deployment", "apps", "deployments")
_STATEFULSET = WorkloadKind("statefulset", "apps", "statefulsets")
_DAEMONSET = WorkloadKind("daemonset", "apps", "daemonsets")
_REPLICASET = WorkloadKind("replicaset", "apps", "replicasets")
_JOB = WorkloadKind("job", "batch", "jobs")

# Short and long names, as kubectl accepts them (matched case-insensitively).
WORKLOAD_KINDS: dict[str, WorkloadKind] = {
    "deploy": _DEPLOYMENT,
    "deployment": _DEPLOYMENT,
    "deployments": _DEPLOYMENT,
    "sts": _STATEFULSET,
    "statefulset": _STATEFULSET,
    "statefulsets": _STATEFULSET,
    "ds": _DAEMONSET,
    "daemonset": _DAEMONSET,
    "daemonsets": _DAEMONSET,
    "rs": _REPLICASET,
    "replicaset": _REPLICASET,
    "replicasets": _REPLICASET,
    "job": _JOB,
    "jobs": _JOB,
}
_POD_NAMES = {"po", "pod", "pods"}


@dataclass(frozen=True)
class PodRef:
    """What the user asked to debug: a Pod by name, or a workload to pick a Pod from."""

    name: str
    workload: WorkloadKind | None = None

    def __str__(self) -> str:
        return f"{self.workload.name}/{self.name}" if self.workload else self.name


def parse_pod_ref(text: str) -> PodRef:
    """Parse ``NAME``, ``pod/NAME``, ``deploy/NAME``, ``sts/NAME``, ... ."""
    if "/" not in text:
        if not text:
            raise UsageError("a Pod name is required")
        return PodRef(text)
    kind, _, name = text.partition("/")
    if not name or "/" in name:
        raise UsageError(f"cannot read {text!r} as KIND/NAME")
    key, _, group = kind.lower().partition(".")
    # kubectl's TYPE[[.VERSION].GROUP]/NAME: deployment.apps/web, deployments.v1.apps/web.
    version, _, group = group.rpartition(".") if "." in group else ("", "", group)
    if key in _POD_NAMES and not group:
        return PodRef(name)
    workload = WORKLOAD_KINDS.get(key)
    if workload is not None and group and (group != workload.group or version not in ("", "v1")):
        workload = None
    if workload is None:
        known = "pod, deploy, sts, ds, rs, job"
        raise UsageError(f"unknown kind {kind!r} in {text!r}; use one of: {known}")
    return PodRef(name, workload)


def selector_string(selector: dict[str, Any] | None) -> str:
    """A ``LabelSelector`` object as the string form list calls accept."""
    if not selector:
        return ""
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = ",".join(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def _is_ready(pod: dict[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def _restarts(pod: dict[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def pick_running_pod(pods: list[dict[str, Any]], ref: PodRef) -> tuple[dict[str, Any], str]:
    """Choose the Pod to debug among a workload's Pods, and say why.

    Prefers Running, not terminating, Ready Pods with fewer restarts; then the oldest, which is
    the one most likely to have shown the fault being chased.
    """
    running = [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") == "Running"
        and not (p.get("metadata") or {}).get("deletionTimestamp")
    ]
    if not running:
        phases = sorted({str((p.get("status") or {}).get("phase")) for p in pods})
        detail = f"its {len(pods)} Pod(s) are {', '.join(phases)}" if pods else "it has no Pods"
        raise NotFoundError(
            f"{ref} has no Running Pod ({detail})",
            remedy="wait for a Pod to start, or name a Pod directly",
        )

    def rank(pod: dict[str, Any]) -> tuple[int, int, str, str]:
        meta = pod.get("metadata") or {}
        return (
            0 if _is_ready(pod) else 1,
            _restarts(pod),
            str(meta.get("creationTimestamp") or ""),
            str(meta.get("name") or ""),
        )

    chosen = sorted(running, key=rank)[0]
    ready = "Ready" if _is_ready(chosen) else "not Ready"
    reason = f"Running, {ready}; {len(running)} of {len(pods)} Pod(s) of {ref} are Running"
    return chosen, reason


NODE_PREFIXES = ("node/", "nodes/", "no/")


def node_name_of(ref: str) -> str | None:
    """``NAME`` when ``ref`` is ``node/NAME`` (also ``nodes/``, ``no/``), else None."""
    lowered = ref.lower()
    for prefix in NODE_PREFIXES:
        if lowered.startswith(prefix):
            return ref[len(prefix) :]
    return None


def is_many(pods: Sequence[str], selector: str | None, all_pods: bool, dry_run: bool) -> bool:
    """Whether a ``debug`` command line asks for the several-Pods run (kept here, next to the
    Pod references, so that a one-Pod run does not load the several-Pods rules)."""
    return len(pods) > 1 or selector is not None or all_pods or dry_run
