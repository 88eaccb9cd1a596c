"""``podscope apply -f FILE``: ephemeral container documents and the plan to apply them.

Three shapes are accepted:

(a) the 1.16-1.21 ``{"apiVersion": "v1", "kind": "EphemeralContainers", "metadata": {"name": POD},
    "ephemeralContainers": [...]}`` (the object of the 1.16-1.21 subresource);
(b) a Pod-shaped object (``kind: Pod``, ``metadata.name``, ``spec.ephemeralContainers``), e.g.
    the output of ``kubectl get pod -o yaml`` trimmed down;
(c) a bare list of containers, which needs the Pod's name from the caller (``--pod``).

Applying is idempotent: containers the Pod already has, unchanged, are skipped; the same name
with a different spec is a conflict (ephemeral containers can be neither changed nor
removed). Comparison ignores what the API server fills in by itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import UsageError, ValidationError
from podscope.rules._fmt import child, clean, duplicate, index, quote, required, type_name
from podscope.rules._parse import load_text
from podscope.rules._pod import EPHEMERAL, INIT, REGULAR, containers_of, names_of
from podscope.rules.names import (
    validate_container_name,
    validate_namespace_name,
    validate_resource_name,
)
from podscope.rules.validate import validate_ephemeral_container

KIND_EPHEMERAL = "EphemeralContainers"
KIND_POD = "Pod"
KIND_LIST = "List"
_KINDS = (KIND_EPHEMERAL, KIND_POD)


@dataclass
class EphemeralDocument:
    pod_name: str
    namespace: str | None
    containers: list[dict[str, Any]]
    kind: str  # "EphemeralContainers", "Pod" or "List" (a bare list of containers)


@dataclass
class ApplyPlan:
    new: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicting: list[tuple[str, list[str]]] = field(default_factory=list)


def _err(source: str, path: str, detail: str, remedy: str | None = None) -> ValidationError:
    # A bare list of containers has no path inside the document: "FILE: lists no containers".
    where = ": ".join(part for part in (clean(source, 120) if source else "", path) if part)
    return ValidationError(f"{where}: {detail}" if where else detail, field=path, remedy=remedy)


def _containers(items: Any, source: str, path: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise _err(source, path, f"must be a list of containers, not a {type_name(items)}")
    if not items:
        raise _err(source, path, "lists no containers")
    seen: set[str] = set()
    for i, item in enumerate(items):
        ipath = index(path, i)
        if not isinstance(item, dict):
            raise _err(source, ipath, f"must be a container mapping, not a {type_name(item)}")
        name = item.get("name")
        if name is None or name == "":
            raise _prefixed(source, required(child(ipath, "name")))
        try:
            validate_container_name(name, child(ipath, "name"))
        except ValidationError as exc:
            raise _prefixed(source, exc) from None
        if name in seen:
            raise _prefixed(source, duplicate(child(ipath, "name"), name))
        seen.add(name)
    return [copy.deepcopy(item) for item in items]


def _prefixed(source: str, exc: ValidationError) -> ValidationError:
    return ValidationError(
        f"{clean(source, 120)}: {exc.message}", field=exc.field, remedy=exc.remedy
    )


def _metadata(data: dict[str, Any], source: str) -> tuple[str, str | None]:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        raise _err(source, "metadata", "required: a mapping with the Pod's name")
    name = meta.get("name")
    if name is None or name == "":
        raise _err(source, "metadata.name", "Required value: the Pod's name")
    namespace = meta.get("namespace")
    try:
        validate_resource_name(name, "metadata.name")
        if namespace is not None:
            validate_namespace_name(namespace, "metadata.namespace")
    except ValidationError as exc:
        raise _prefixed(source, exc) from None
    return name, namespace


def parse_document(text: str, source: str, pod: str | None = None) -> EphemeralDocument:
    """Parse an ephemeral container document (JSON or YAML); ``pod`` is ``--pod`` if given."""
    data = load_text(text, source)
    if isinstance(data, list):
        if pod is None:
            raise UsageError(
                f"{clean(source, 120)}: a bare list of containers does not say which Pod it is for",
                remedy="name the Pod with --pod POD",
            )
        _check_pod_arg(pod)
        return EphemeralDocument(pod, None, _containers(data, source, ""), KIND_LIST)
    if not isinstance(data, dict):
        raise _err(
            source,
            "(document)",
            f"must be a mapping (kind EphemeralContainers or Pod) or a list of containers, "
            f"not a {type_name(data)}",
        )
    kind = data.get("kind")
    if kind not in _KINDS:
        shown = "missing" if kind is None else f"{quote(kind, 40)} is not supported"
        raise _err(source, "kind", f"{shown}; expected EphemeralContainers or Pod")
    api_version = data.get("apiVersion")
    if api_version != "v1":
        shown = "missing" if api_version is None else f"{quote(api_version, 40)} is not supported"
        raise _err(source, "apiVersion", f"{shown}; expected v1 for kind {kind}")
    name, namespace = _metadata(data, source)
    if kind == KIND_EPHEMERAL:
        containers = _containers(data.get("ephemeralContainers"), source, "ephemeralContainers")
    else:
        spec = data.get("spec")
        if not isinstance(spec, dict):
            raise _err(source, "spec", "required: a mapping with ephemeralContainers")
        containers = _containers(spec.get(EPHEMERAL), source, "spec.ephemeralContainers")
    if pod is not None:
        _check_pod_arg(pod)
        if pod != name:
            raise _err(
                source,
                "metadata.name",
                f"the document is for Pod {quote(name, 253)}, but --pod names {quote(pod, 253)}",
                remedy="drop --pod, or fix the document",
            )
    return EphemeralDocument(name, namespace, containers, kind)


def _check_pod_arg(pod: str) -> None:
    validate_resource_name(pod, "--pod")


# --- comparing with what the Pod already has ---


def _default_pull_policy(image: Any) -> str:
    # SetDefaults_Container: Always for ":latest" or no tag (which means latest), else
    # IfNotPresent; a digest-pinned image has no tag and is IfNotPresent.
    if not isinstance(image, str) or "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _prune(value: Any) -> Any:
    # Go's omitempty: an empty string, false, empty list or mapping is the same as absent.
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        # `is False` rather than `in (..., False)`: 0 == False, and runAsUser: 0 matters.
        return {
            k: v
            for k, v in pruned.items()
            if not (v is None or v is False or v == "" or v == [] or v == {})
        }
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def normalize_container(container: dict[str, Any]) -> dict[str, Any]:
    """``container`` with the API server's defaults applied and empty values dropped."""
    result = copy.deepcopy(container)
    if not result.get("terminationMessagePath"):
        result["terminationMessagePath"] = "/dev/termination-log"
    if not result.get("terminationMessagePolicy"):
        result["terminationMessagePolicy"] = "File"
    if not result.get("imagePullPolicy"):
        result["imagePullPolicy"] = _default_pull_policy(result.get("image"))
    env = result.get("env")
    for entry in env if isinstance(env, list) else []:
        source = entry.get("valueFrom") if isinstance(entry, dict) else None
        if not isinstance(source, dict):
            continue
        field_ref = source.get("fieldRef")
        if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
            field_ref["apiVersion"] = "v1"
        resource_ref = source.get("resourceFieldRef")
        if isinstance(resource_ref, dict) and resource_ref.get("divisor") in ("0", 0):
            del resource_ref["divisor"]
    sc = result.get("securityContext")
    if isinstance(sc, dict) and sc.get("procMount") == "Default":
        del sc["procMount"]
    pruned: dict[str, Any] = _prune(result)
    return pruned


def differences(existing: Any, wanted: Any, path: str = "") -> list[str]:
    """Human lines describing how ``wanted`` differs from ``existing`` (both normalized)."""
    if isinstance(existing, dict) and isinstance(wanted, dict):
        lines: list[str] = []
        for key in sorted(set(existing) | set(wanted), key=str):
            lines += differences(existing.get(key), wanted.get(key), child(path, key))
        return lines
    if existing == wanted:
        return []
    where = path or "(container)"
    if existing is None:
        return [f"{where}: not set in the Pod, {quote(wanted, 60)} in the document"]
    if wanted is None:
        return [f"{where}: {quote(existing, 60)} in the Pod, not set in the document"]
    return [f"{where}: {quote(existing, 60)} in the Pod, {quote(wanted, 60)} in the document"]


def plan_apply(
    pod: dict[str, Any], containers: list[dict[str, Any]], validate: bool = True
) -> ApplyPlan:
    """Sort ``containers`` into new, unchanged and conflicting against ``pod``.

    With ``validate`` (the default) every new container is checked as the API server would,
    at the index it will get, so an invalid document fails before anything is written.
    """
    plan = ApplyPlan()
    existing = {
        c["name"]: c for c in containers_of(pod, EPHEMERAL) if isinstance(c.get("name"), str)
    }
    app_names = set(names_of(pod, REGULAR)) | set(names_of(pod, INIT))
    for container in containers:
        name = container.get("name") if isinstance(container, dict) else None
        if not isinstance(name, str):
            raise required("name", "every container in the document needs a name")
        if name in app_names:
            plan.conflicting.append(
                (name, [f"name: {quote(name, 63)} belongs to one of the Pod's own containers"])
            )
        elif name in existing:
            diff = differences(normalize_container(existing[name]), normalize_container(container))
            if diff:
                plan.conflicting.append((name, diff))
            else:
                plan.unchanged.append(name)
        else:
            plan.new.append(copy.deepcopy(container))
    if validate:
        start = len(existing)
        for offset, container in enumerate(plan.new):
            validate_ephemeral_container(
                container, pod, f"spec.ephemeralContainers[{start + offset}]"
            )
    return plan


__all__ = [
    "ApplyPlan",
    "EphemeralDocument",
    "differences",
    "normalize_container",
    "parse_document",
    "plan_apply",
]
