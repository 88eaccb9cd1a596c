"""What ``podscope ls`` tells a security review about each ephemeral container. Pure.

- Who wrote it: the Pod's ``metadata.managedFields`` entries of the ``ephemeralcontainers``
  subresource. An entry names a *field manager*, the name a client sends with its writes
  (``kubectl``, ``podscope``): a program, not the person who ran it; that person is only in
  the API server's audit log. ``fieldsV1`` says which containers the entry owns, so each
  container gets the manager(s) that wrote it, even when several wrote the same Pod. The
  entry's ``time`` is that manager's latest write to the subresource: for a container the
  manager wrote before its latest one, it is later than the container's creation.
- Its security posture: privileged, added capabilities, the user it runs as, and which
  debug profile its security context is what that profile makes.
- Its state, in one word: live, idle, stopped, expired, running, waiting, starting, failed.
- The filters of ``ls`` and the durations ``--older-than`` takes.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podscope.errors import UsageError
from podscope.rules._duration import parse_seconds
from podscope.rules.debugger import HOLDER_NAME, format_duration, key_of, ttl_of

SUBRESOURCE = "ephemeralcontainers"


# -- who wrote it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """One field manager's write of an ephemeral container."""

    manager: str
    time: str | None
    operation: str | None
    # True when the manager owns the container's list entry itself ("."), i.e. added it.
    added: bool

    def to_dict(self) -> dict[str, Any]:
        return {"manager": self.manager, "time": self.time, "operation": self.operation}


def _owned_containers(fields_v1: object) -> dict[str, bool]:
    """Container names under ``f:spec`` / ``f:ephemeralContainers`` -> whether "." is owned."""
    if not isinstance(fields_v1, Mapping):
        return {}
    spec = fields_v1.get("f:spec")
    items = spec.get("f:ephemeralContainers") if isinstance(spec, Mapping) else None
    if not isinstance(items, Mapping):
        return {}
    owned: dict[str, bool] = {}
    for key, value in items.items():
        if not isinstance(key, str) or not key.startswith("k:"):
            continue
        try:
            ident = json.loads(key[2:])
        except ValueError:
            continue
        name = ident.get("name") if isinstance(ident, dict) else None
        if isinstance(name, str):
            owned[name] = isinstance(value, Mapping) and "." in value
    return owned


def writers_by_container(pod: Mapping[str, Any]) -> dict[str, list[Writer]]:
    """Each ephemeral container's writers, the one that added it first, then by time."""
    meta = pod.get("metadata")
    entries = meta.get("managedFields") if isinstance(meta, Mapping) else None
    found: dict[str, list[Writer]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or entry.get("subresource") != SUBRESOURCE:
            continue
        manager = entry.get("manager")
        time = entry.get("time")
        operation = entry.get("operation")
        for name, added in _owned_containers(entry.get("fieldsV1")).items():
            found.setdefault(name, []).append(
                Writer(
                    manager=str(manager) if manager else "(no manager name)",
                    time=str(time) if time else None,
                    operation=str(operation) if operation else None,
                    added=added,
                )
            )
    for writers in found.values():
        writers.sort(key=lambda w: (not w.added, w.time or ""))
    return found


# -- posture -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posture:
    privileged: bool
    capabilities: tuple[str, ...]  # added, as the spec names them
    dropped: tuple[str, ...]
    run_as_user: int | None  # the container's, else the Pod's
    run_as_non_root: bool | None
    allow_privilege_escalation: bool | None
    profiles: tuple[str, ...]  # the debug profiles whose security context this is

    @property
    def user(self) -> str:
        """``root``, a uid, ``non-root`` (any uid but 0) or ``image`` (the image's USER)."""
        if self.run_as_user is not None:
            return "root" if self.run_as_user == 0 else str(self.run_as_user)
        if self.run_as_non_root:
            return "non-root"
        return "image"

    @property
    def profile(self) -> str:
        """The matching profiles joined by ``/``, or ``custom`` when none matches."""
        return "/".join(self.profiles) if self.profiles else "custom"

    def to_dict(self) -> dict[str, Any]:
        return {
            "privileged": self.privileged,
            "capabilities": list(self.capabilities),
            "dropped_capabilities": list(self.dropped),
            "user": self.user,
            "run_as_user": self.run_as_user,
            "run_as_non_root": self.run_as_non_root,
            "allow_privilege_escalation": self.allow_privilege_escalation,
            "profile": self.profile,
            "profiles": list(self.profiles),
        }


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _signature(sc: Mapping[str, Any]) -> tuple[object, ...]:
    """The parts of a security context the profiles set (the user is a column of its own)."""
    caps = _mapping(sc.get("capabilities"))
    seccomp = _mapping(sc.get("seccompProfile")).get("type")
    return (
        sc.get("privileged") is True,
        frozenset(_strings(caps.get("add"))),
        frozenset(_strings(caps.get("drop"))),
        sc.get("runAsNonRoot") is True,
        sc.get("allowPrivilegeEscalation"),
        seccomp,
    )


def _profile_signatures() -> list[tuple[str, tuple[object, ...]]]:
    # From the profiles' own edits, applied to a container without a security context: what
    # podscope and kubectl write for each profile when the request adds nothing of its own.
    from podscope.rules.profiles import PROFILES, apply_ephemeral_profile

    signatures = []
    for name in PROFILES:
        made = apply_ephemeral_profile(name, {"name": "x"}, {}, None)
        signatures.append((name, _signature(_mapping(made.get("securityContext")))))
    return signatures


_SIGNATURES = _profile_signatures()


def posture_of(container: Mapping[str, Any], pod: Mapping[str, Any]) -> Posture:
    sc = _mapping(container.get("securityContext"))
    pod_sc = _mapping(_mapping(pod.get("spec")).get("securityContext"))
    caps = _mapping(sc.get("capabilities"))
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    escalation = sc.get("allowPrivilegeEscalation")
    mine = _signature(sc)
    return Posture(
        privileged=sc.get("privileged") is True,
        capabilities=_strings(caps.get("add")),
        dropped=_strings(caps.get("drop")),
        run_as_user=user if isinstance(user, int) and not isinstance(user, bool) else None,
        run_as_non_root=non_root if isinstance(non_root, bool) else None,
        allow_privilege_escalation=escalation if isinstance(escalation, bool) else None,
        profiles=tuple(name for name, signature in _SIGNATURES if signature == mine),
    )


# -- command -----------------------------------------------------------------------------------


def command_of(container: Mapping[str, Any]) -> list[str]:
    return [*_strings(container.get("command")), *_strings(container.get("args"))]


def describe_command(container: Mapping[str, Any], limit: int = 60) -> str:
    """The command as one short line; a podscope debugger's holder by what it is."""
    if key_of(dict(container)) is not None:
        ttl = ttl_of(dict(container))
        return f"({HOLDER_NAME}, ttl {format_duration(ttl)})" if ttl else f"({HOLDER_NAME})"
    words = command_of(container)
    if not words:
        return "(image default)"
    text = shlex.join(words)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- state -------------------------------------------------------------------------------------


def status_word(state: str, debugger_state: str | None) -> str:
    """One word for the container: a debugger's own state when known, else ``running`` for a
    running container, ``stopped`` for a terminated one, ``waiting``, or ``unknown``."""
    if debugger_state:
        return debugger_state
    return {"running": "running", "terminated": "stopped", "waiting": "waiting"}.get(
        state, "unknown"
    )


# -- durations and filters ---------------------------------------------------------------------

_PART = re.compile(r"(\d+)(s|m|h|d|w)")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Far beyond any cluster's age; keeps datetime arithmetic in range.
MAX_AGE_SECONDS = 100 * 365 * 86400


def parse_age(text: object, flag: str = "--older-than") -> int:
    """Whole seconds of ``90s``, ``15m``, ``1h30m``, ``2d``, ``1w`` or plain ``600``."""
    fix = f"give {flag} a duration such as 30m, 12h or 7d"
    seconds = parse_seconds(
        text, flag, part=_PART, units=_SECONDS, example="7d", fix=fix, fix_wrong_type=True
    )
    if seconds > MAX_AGE_SECONDS:
        raise UsageError(f"{flag} {text!r} is longer than 100 years", remedy=fix)
    return int(seconds)


def parse_time(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time, None when absent or unreadable."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """``ls``'s filters; a row must pass every one that is set."""

    privileged: bool = False
    running: bool = False
    older_than: int | None = None  # seconds
    image: str | None = None  # glob
    created_by: str | None = None  # glob on the manager names

    def active(self) -> bool:
        return bool(
            self.privileged
            or self.running
            or self.older_than is not None
            or self.image is not None
            or self.created_by is not None
        )


def image_names(image: str) -> tuple[str, ...]:
    """The names an ``--image`` glob is matched against: the spec's own, its short form as
    ``docker images`` shows it (``docker.io/library/busybox:1`` is ``busybox:1``), and the
    last part of its path (``registry:5000/team/tool:2`` is ``tool:2``), so that
    ``--image 'busybox*'`` finds what a user calls busybox."""
    short = image
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if short.startswith(prefix):
            short = short[len(prefix) :]
            break
    repository_end = short.find("@")
    path = short if repository_end < 0 else short[:repository_end]
    return tuple(dict.fromkeys((image, short, path.rsplit("/", 1)[-1])))


def matches(
    filters: Filters,
    *,
    privileged: bool,
    state: str,
    image: str,
    managers: Iterable[str],
    created: str | None,
    now: float,
) -> bool:
    """Whether a container passes ``filters``.

    ``--running``: its container is running (live, idle or a running command).
    ``--older-than``: it was created (written, else started) at least that long ago; a
    container without either time is not known to be old, so it is left out.
    ``--image`` and ``--created-by`` are shell globs, matched case-sensitively; the image
    against any of :func:`image_names`.
    """
    if filters.privileged and not privileged:
        return False
    if filters.running and state != "running":
        return False
    if filters.older_than is not None:
        then = parse_time(created)
        if then is None or now - then < filters.older_than:
            return False
    if filters.image is not None and not any(
        fnmatch.fnmatchcase(name, filters.image) for name in image_names(image)
    ):
        return False
    return filters.created_by is None or any(
        fnmatch.fnmatchcase(m, filters.created_by) for m in managers
    )
