"""Turn API server answers and transport failures into podscope errors.

Everything here is pure: it reads an HTTP status and the body the server sent (a
``metav1.Status`` JSON document, or plain text from a proxy) and returns the podscope error
(the tree is in ``podscope.errors``) with its fields filled: ``status``, ``reason``, ``causes``
and ``request``, and for a PodSecurity refusal the level, rules and blamed containers. This
is the one place that reads the server's prose; everything downstream decides on fields. The
client layer raises what these functions return.
"""

from __future__ import annotations

import json
import re
from typing import Any

from podscope.errors import (
    Cause,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PodscopeError,
    PolicyError,
    RequestContext,
    RequestOutcomeUnknown,
    ServerError,
    UnreachableError,
    UnsupportedError,
    ValidationError,
)

# Imported from here by the client layer and older callers; they live in podscope.errors.
__all__ = [
    "RequestContext",
    "RequestOutcomeUnknown",
    "ServerError",
    "is_name_clash",
    "map_api_error",
    "map_status",
    "parse_status",
    "psa_violating_containers",
    "split_psa_rules",
    "unreachable",
]


def parse_status(body: str | bytes | None) -> dict[str, Any]:
    """The ``Status`` object in an error body, or ``{}`` when the body is not one."""
    if not body:
        return {}
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


def _singular(resource: str) -> str:
    return resource[:-1] if resource.endswith("s") else resource


# Message of a PodSecurity admission rejection, e.g.
# pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation ...
_PSA_RE = re.compile(r'violates PodSecurity "(?P<level>[a-z]+):(?P<version>[^"]+)": (?P<rules>.*)$')
# An RBAC denial, e.g.
# pods "web" is forbidden: User "bob" cannot patch resource "pods/ephemeralcontainers" in API ...
_RBAC_RE = re.compile(
    r'(?P<who>User|ServiceAccount|Group) "(?P<user>[^"]+)" cannot (?P<verb>[a-z]+) resource '
    r'"(?P<resource>[^"]+)"(?: in API group "(?P<group>[^"]*)")?'
)
_WEBHOOK_RE = re.compile(r'admission webhook "(?P<hook>[^"]+)" denied the request:?\s*(?P<why>.*)$')
_PSA_CONTAINER_RE = re.compile(r'containers? ((?:"[^"]+"(?:, )?)+)')
# The field of a name that clashes: ``spec.ephemeralContainers[3].name`` (the path has no
# ``spec.`` when the server validates a bare list).
_EPHEMERAL_NAME_FIELD = re.compile(r"(?:^|\.)ephemeralContainers\[\d+\]\.name$")
_EPHEMERAL_LIST = frozenset({"spec.ephemeralContainers", "ephemeralContainers"})

# Which podscope profile satisfies each PodSecurity level (for the remedy).
_PROFILE_FOR_LEVEL = {"baseline": "baseline", "restricted": "restricted"}


def split_psa_rules(rules: str) -> list[str]:
    """Split the rule list of a PodSecurity message at top-level commas (not inside parens).

    The API server separates rules with commas; semicolons are accepted too, as some
    renderings of the same list (and the clauses inside each explanation) use them.
    """
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in rules:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char in ",;" and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def psa_violating_containers(rules: str) -> set[str]:
    """Names of the containers a PodSecurity message blames."""
    return set(_blamed_in_order(rules))


def _blamed_in_order(rules: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for match in _PSA_CONTAINER_RE.finditer(rules):
        names.update(dict.fromkeys(re.findall(r'"([^"]+)"', match.group(1))))
    return tuple(names)


def _policy_error(
    message: str, context: RequestContext, new_container: str | None, fields: dict[str, Any]
) -> PolicyError:
    psa = _PSA_RE.search(message)
    if psa is None:
        hook = _WEBHOOK_RE.search(message)
        if hook is not None:
            return PolicyError(
                f"admission webhook {hook.group('hook')} refused the change: {hook.group('why')}",
                remedy="ask the webhook's owner what it allows, or adjust the spec with --custom",
                webhook=hook.group("hook"),
                **fields,
            )
        return PolicyError(f"admission refused the change: {message}", **fields)
    level, rules = psa.group("level"), psa.group("rules")
    rule_list = tuple(split_psa_rules(rules))
    blamed = _blamed_in_order(rules)
    others = sorted(set(blamed) - {new_container}) if new_container else []
    text = f"PodSecurity {level!r} refused the debug container: " + "; ".join(rule_list)
    if others:
        # PodSecurity evaluates every ephemeral container of the Pod, old ones included, and
        # those can never be removed: no profile for the new container can fix this.
        remedy = (
            f"existing container(s) {', '.join(others)} already violate the {level!r} level and "
            "cannot be removed; debug a new replica of the Pod instead (e.g. via its workload)"
        )
    elif level in _PROFILE_FOR_LEVEL:
        remedy = f"retry with --profile {_PROFILE_FOR_LEVEL[level]}"
    else:
        remedy = "retry with --profile restricted"
    return PolicyError(
        text,
        remedy=remedy,
        level=level,
        version=psa.group("version"),
        rules=rule_list,
        containers=blamed,
        **fields,
    )


def _forbidden_error(
    message: str, context: RequestContext, fields: dict[str, Any]
) -> ForbiddenError:
    rbac = _RBAC_RE.search(message)
    verb = rbac.group("verb") if rbac else context.verb
    resource = rbac.group("resource") if rbac else context.resource_path
    group = rbac.group("group") if rbac and rbac.group("group") is not None else context.group
    who = f" ({rbac.group('who')} {rbac.group('user')})" if rbac else ""
    text = f"not allowed to {verb} {resource}{context.where}{who}"
    group_text = f'"{group}"'
    remedy = (
        "ask for a Role rule granting it: "
        f'apiGroups: [{group_text}], resources: ["{resource}"], verbs: ["{verb}"]'
    )
    return ForbiddenError(text, remedy=remedy, **fields)


def _causes(status: dict[str, Any]) -> tuple[Cause, ...]:
    details = status.get("details") or {}
    causes = details.get("causes") if isinstance(details, dict) else None
    return tuple(
        Cause(
            type=str(c.get("reason") or ""),
            field=str(c.get("field") or ""),
            message=str(c.get("message") or ""),
        )
        for c in causes or []
        if isinstance(c, dict)
    )


def _validation_error(message: str, fields: dict[str, Any]) -> ValidationError:
    causes: tuple[Cause, ...] = fields["causes"]
    if not causes:
        return ValidationError(f"the API server refused the request: {message}", **fields)
    # Causes can carry a multi-line diff ("may not be changed"); errors stay one line.
    quoted = "; ".join(
        f"{c.field}: {_first_line(c.message)}" if c.field else _first_line(c.message)
        for c in causes
    )
    return ValidationError(
        f"the API server refused the spec: {quoted}", field=causes[0].field or None, **fields
    )


def _first_line(text: object) -> str:
    return str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""


def is_name_clash(error: PodscopeError) -> bool:
    """True for a 422 saying the new ephemeral container's name is already taken.

    Decided on the server's field causes (``pkg/apis/core/validation``), never its prose:

    - a name used by another container of the Pod is ``FieldValueDuplicate`` on
      ``spec.ephemeralContainers[N].name``, whatever the shape of the write (the PUT of the
      whole list, 1.16-1.21, or the strategic-merge PATCH, 1.22+);
    - a PATCH merges ephemeral containers by name, so a name already used by an ephemeral
      container turns the write into a change of that container: the server refuses it as
      ``FieldValueForbidden`` on the list itself, ``spec.ephemeralContainers``. A PUT can get
      that cause for a container it dropped, so it counts only for a PATCH (a PUT that reuses
      a name always gets the ``FieldValueDuplicate`` too).
    """
    if not isinstance(error, ValidationError) or error.status != 422:
        return False
    patched = error.request is not None and error.request.verb == "patch"
    for cause in error.causes:
        if cause.type == "FieldValueDuplicate" and _EPHEMERAL_NAME_FIELD.search(cause.field):
            return True
        if patched and cause.type == "FieldValueForbidden" and cause.field in _EPHEMERAL_LIST:
            return True
    return False


def map_status(
    status_code: int,
    body: str | bytes | None,
    context: RequestContext,
    *,
    new_container: str | None = None,
) -> PodscopeError:
    """Map one failed HTTP answer to a podscope error.

    ``new_container`` is the name of the container a write tried to add, so a PodSecurity
    rejection can tell whether the new container or an older one is to blame.
    """
    status = parse_status(body)
    message = str(status.get("message") or "").strip()
    if not message and body:
        message = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = _first_line(message)
    details = status.get("details") or {}
    if not isinstance(details, dict):
        details = {}
    fields: dict[str, Any] = {
        "status": status_code,
        "reason": str(status.get("reason") or "") or None,
        "causes": _causes(status),
        "request": context,
    }

    if status_code == 401:
        return ForbiddenError(
            f"authentication failed at {context.server or 'the API server'}",
            remedy="your credentials were refused or have expired; refresh them "
            "(e.g. log in again) or pick another --context",
            **fields,
        )
    if status_code == 403:
        if "PodSecurity" in message or "admission webhook" in message:
            return _policy_error(message, context, new_container, fields)
        return _forbidden_error(message, context, fields)
    if status_code == 404:
        if details.get("name") or (status and status.get("reason") == "NotFound" and details):
            kind = _singular(str(details.get("kind") or context.resource))
            name = details.get("name") or context.name
            return NotFoundError(f"{kind} {name} not found{context.where}", **fields)
        if context.subresource:
            # The subresource route itself is missing: the server answers 404 with empty
            # details (or a plain "404 page not found") instead of naming the object.
            return UnsupportedError(
                f"this API server does not serve {context.resource_path} (cluster older "
                "than 1.16 or the EphemeralContainers feature gate is off)"
                if context.subresource == "ephemeralcontainers"
                else f"this API server does not serve {context.resource_path}",
                remedy="run `podscope doctor`",
                **fields,
            )
        what = f"{_singular(context.resource)} {context.name}" if context.name else context.resource
        return NotFoundError(f"{what} not found{context.where}", **fields)
    if status_code == 409:
        return ConflictError(
            f"conflicting change to {_singular(context.resource)} {context.name}: {message}",
            remedy="the object changed while podscope was writing it; run the command again",
            **fields,
        )
    if status_code == 422:
        return _validation_error(message, fields)
    if status_code == 400 and ("admission webhook" in message or "PodSecurity" in message):
        return _policy_error(message, context, new_container, fields)
    if status_code == 400:
        return ValidationError(f"the API server refused the request: {message}", **fields)
    if status_code == 410:
        return PodscopeError(f"the API server expired the request: {message}", **fields)
    if status_code == 429 or status_code >= 500:
        retry_after = details.get("retryAfterSeconds")
        return ServerError(
            f"the API server failed to {context.verb} {context.resource_path} "
            f"(HTTP {status_code}): {message}",
            remedy="try again; if it persists, check the API server's health",
            retry_after=retry_after if isinstance(retry_after, int) else None,
            **fields,
        )
    return PodscopeError(
        f"unexpected answer to {context.verb} {context.resource_path} "
        f"(HTTP {status_code}): {message}",
        **fields,
    )


def map_api_error(
    exc: Any, context: RequestContext, *, new_container: str | None = None
) -> PodscopeError:
    """Map a ``kubernetes.client.ApiException`` (or anything with ``status``/``body``)."""
    status_code = int(getattr(exc, "status", 0) or 0)
    if status_code == 0:
        # The client library reports TLS failures as ApiException(status=0).
        reason = str(getattr(exc, "reason", "") or exc)
        return unreachable(context, reason)
    return map_status(status_code, getattr(exc, "body", None), context, new_container=new_container)


def unreachable(
    context: RequestContext, reason: str, *, maybe_sent: bool = False
) -> UnreachableError:
    """The cluster could not be reached. ``reason`` must not contain credentials."""
    server = context.server or "the API server"
    reason = " ".join(reason.split())
    lower = reason.lower()
    if "ssl" in lower or "certificate" in lower or "tls" in lower:
        return UnreachableError(
            f"TLS connection to {server} failed: {_shorten(reason)}",
            remedy="check the kubeconfig's certificate-authority and server name for this context",
            request=context,
        )
    cls = RequestOutcomeUnknown if maybe_sent else UnreachableError
    if "timed out" in lower or "timeout" in lower:
        text = f"no answer from {server} {_timeout_words(reason)}"
    elif (
        "name or service not known" in lower
        or "nodename nor servname" in lower
        or ("failed to resolve" in lower)
    ):
        text = f"cannot resolve the API server host of {server}"
    elif "refused" in lower:
        text = f"connection to {server} refused"
    else:
        text = f"cannot reach {server}: {_shorten(reason)}"
    return cls(
        text,
        remedy="check that the cluster is running and that --context/--kubeconfig point at it",
        request=context,
    )


def _timeout_words(reason: str) -> str:
    # urllib3 says "HTTPSConnectionPool(host=..., port=...): Read timed out. (read
    # timeout=10.0)": the pool's name means nothing to a user; the phase and seconds do.

    reason = re.sub(r"^\w*ConnectionPool\([^)]*\):\s*", "", reason)
    seconds = re.search(r"timeout=([0-9.]+)", reason)
    if seconds is None:  # our own words (the streams'): they say it already
        return f"in time ({_shorten(reason)})"
    phase = "connecting" if "connect" in reason.lower() else "waiting for its reply"
    return f"within {float(seconds.group(1)):g} s ({phase})"


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
