"""Whether the Pod's pull secrets cover the debug image's registry (``pull-secrets``).

An ephemeral container is pulled with the Pod's ``spec.imagePullSecrets`` and nothing else; the
ServiceAccount's secrets reached that list only if the Pod had none when it was created, and a
running Pod cannot gain one. Reading a Secret needs ``get secrets``; of each one only its
registry keys are kept (``KubeClient.pull_secret_registries``), never its credentials.
"""

from __future__ import annotations

from typing import Any

from podscope.checks.findings import Finding, ok, warn
from podscope.errors import ForbiddenError, NotFoundError, PodscopeError, UnreachableError
from podscope.kube.client import KubeClient
from podscope.rules.pullsecrets import (
    copy_remedy,
    coverage,
    join,
    key_covers,
    pod_pull_secrets,
    registry_of,
    service_account_of,
)

CHECK = "pull-secrets"


def _read(
    client: KubeClient, namespace: str, name: str
) -> tuple[tuple[str, ...] | None, str | None, bool]:
    """(registry keys or None, why not, forbidden)."""
    try:
        keys = client.pull_secret_registries(namespace, name)
    except UnreachableError:
        raise
    except ForbiddenError:
        return None, "forbidden", True
    except NotFoundError:
        return None, "not found", False
    except PodscopeError as exc:
        return None, exc.message, False
    if keys is None:
        return None, "not a docker-registry Secret", False
    return keys, None, False


def check_pull_secrets(client: KubeClient, pod: dict[str, Any], image: str) -> Finding:
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace") or client.namespace)
    pod_name = str(meta.get("name"))
    registry = registry_of(image)
    names = pod_pull_secrets(pod)
    account = service_account_of(pod)

    keys_of: dict[str, tuple[str, ...] | None] = {}
    reasons: dict[str, str] = {}
    forbidden: list[str] = []
    for name in names:
        keys, why, denied = _read(client, namespace, name)
        keys_of[name] = keys
        if why:
            reasons[name] = why
        if denied:
            forbidden.append(name)
    found = coverage(image, names, keys_of, reasons)
    if found.covered:
        return ok(
            CHECK, f"{registry} is covered by Pod {pod_name}'s pull secret {join(found.covering)}"
        )

    later = _account_only(client, namespace, account, names, image)
    parts = [f"Pod {pod_name}'s pull secrets: {_describe(names, reasons)}"] if names else []
    if later:
        parts.append(
            f"ServiceAccount {account} lists {join(later)}, which the Pod lacks (it was created "
            "before, or with its own list)"
        )
    evidence = "; ".join(parts) or "no other pull secret to use"
    remedy = f"if {registry} needs credentials the pull fails (401): {copy_remedy(pod_name, image)}"
    if forbidden:
        return warn(
            CHECK,
            f"cannot tell whether {registry} is covered: reading Secret {join(forbidden)} is "
            f"forbidden (get secrets in namespace {namespace}); {evidence}",
            f"ask for get on secrets to check; {remedy}",
        )
    if not names:
        # Most public registries need no credentials: no secret is the usual case, not a fault.
        return ok(
            CHECK,
            f"Pod {pod_name} has no pull secrets: {registry} is pulled from anonymously"
            + (f"; {evidence}" if later else ""),
            remedy,
        )
    return warn(CHECK, f"no pull secret covers {registry}; {evidence}", remedy)


def _describe(names: tuple[str, ...], reasons: dict[str, str]) -> str:
    return ", ".join(
        f"{n} ({reasons[n]})" if n in reasons else f"{n} (other registries)" for n in names
    )


def _account_only(
    client: KubeClient, namespace: str, account: str, names: tuple[str, ...], image: str
) -> list[str]:
    """The ServiceAccount's pull secrets the Pod lacks and that cover ``image`` (or that
    cannot be read: they might)."""
    try:
        sa = client.get_service_account(namespace, account)
    except UnreachableError:
        raise
    except PodscopeError:
        return []
    extra = [
        str(ref.get("name"))
        for ref in sa.get("imagePullSecrets") or []
        if ref.get("name") and ref.get("name") not in names
    ]
    covering = []
    for name in extra:
        keys, _, _ = _read(client, namespace, name)
        if keys is None or any(key_covers(k, image) for k in keys):
            covering.append(name)
    return covering
