"""Every exception podscope raises, in one tree.

::

    PodscopeError               1  FAILURE        a bug, or an API answer nothing else maps
    │                                             (410 Gone, an unexpected status)
    ├── ServerError             1  FAILURE        the API server answered 429 or 5xx; readers
    │                                             may retry after a pause (a watch does)
    ├── ChecksumError           1  FAILURE        a file copied by ``cp`` does not have the
    │                                             source's sha256
    ├── UsageError              2  USAGE          a bad command line, or flags that conflict
    ├── ConfigError             3  CONFIG         kubeconfig missing or malformed, unknown
    │                                             context, unreadable credentials
    ├── UnreachableError        4  UNREACHABLE    connection refused, TLS failure, DNS, timeout
    │   └── RequestOutcomeUnknown 4               the connection broke after a write was sent:
    │                                             the server may have applied it
    ├── NotFoundError           5  NOT_FOUND      a Pod, workload, node or container is missing
    ├── ForbiddenError          6  FORBIDDEN      RBAC refused a verb (403), or authentication
    │                                             failed (401)
    ├── ValidationError         7  INVALID        a spec or document is invalid: found here
    │                                             before any write, or by the server (422/400)
    ├── PodStateError           8  POD_STATE      the Pod cannot take a debug container (not
    │                                             running, static, being deleted)
    ├── UnsupportedError        9  UNSUPPORTED    the cluster cannot do it (no
    │                                             pods/ephemeralcontainers, feature gate off)
    ├── PolicyError            10  POLICY         admission refused it: PodSecurity or a webhook
    ├── StartFailedError       11  START_FAILED   the container did not start (image pull, ...)
    │   └── PullRefusedError   11                 the registry refused the Pod's pull
    │                                             credentials (401/403)
    ├── WaitTimeoutError       12  TIMEOUT        waited --timeout for something that did not
    │                                             happen
    ├── ConflictError          13  CONFLICT       409 after retries, or a document conflicts
    │                                             with the Pod's containers
    ├── PodGoneError           14  POD_GONE       the Pod was deleted or evicted mid-session
    ├── StreamLostError        15  STREAM_LOST    the attach/exec stream could not be re-opened
    ├── NodeEditError          16  NODE_EDIT      ``node enable-gate`` refused or failed to edit
    ├── RecordError            19  RECORD_FAILED  the session could not be recorded and
    │                                             ``--record-required`` was given
    └── Interrupted           130  INTERRUPTED    Ctrl-C

(17, DOCTOR_FAILED, is an outcome of ``podscope doctor``, not an exception; so is 18,
SOME_FAILED: the command failed, or could not run, in at least one of several Pods.)

Every error is one line (``message``) with an optional ``remedy``; the CLI prints
``podscope: error: <message>`` and ``  hint: <remedy>`` on stderr and exits with
``exit_code``. What an error is about travels in fields, not in its prose: ``status`` (the
HTTP status), ``reason`` (the ``reason`` of the server's ``metav1.Status``), ``causes`` (its
field causes) and ``request`` (what was asked of the server). Code that decides something
(retry, blame, advise) reads those fields; the message is for people. No field ever holds
credentials: a request names a server URL, never a token or a header.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """Process exit codes. Documented in the README; keep them stable."""

    OK = 0
    FAILURE = 1  # unexpected failure (a bug or an unmapped API answer)
    USAGE = 2  # bad command line (argparse uses 2 too)
    CONFIG = 3  # kubeconfig missing/malformed, unknown context, bad credentials file
    UNREACHABLE = 4  # cluster unreachable, TLS failure, connect timeout
    NOT_FOUND = 5  # Pod / workload / container not found
    FORBIDDEN = 6  # RBAC refused a verb; authentication failed
    INVALID = 7  # the container spec or document is invalid (checked before any write)
    POD_STATE = 8  # the Pod cannot take a debug container (not running, static Pod, ...)
    UNSUPPORTED = 9  # the cluster cannot do it (subresource missing, feature gate off)
    POLICY = 10  # admission refused it (PodSecurity, webhook)
    START_FAILED = 11  # the container did not start (ErrImagePull, CreateContainerError, ...)
    TIMEOUT = 12  # waited --timeout for something that did not happen
    CONFLICT = 13  # could not apply after retries (409), or a document conflicts with the Pod
    POD_GONE = 14  # the Pod was deleted (or evicted) during the session
    STREAM_LOST = 15  # the attach/exec stream was lost and could not be re-established
    NODE_EDIT = 16  # `podscope node enable-gate` refused or failed to edit a file
    DOCTOR_FAILED = 17  # `podscope doctor` found a blocking problem
    SOME_FAILED = 18  # the command failed in at least one of several Pods (debug -l ...)
    RECORD_FAILED = 19  # the session could not be recorded and --record-required was given
    INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True)
class RequestContext:
    """What a request tried to do, in RBAC terms, so errors can name it."""

    verb: str  # get, list, watch, patch, update, create
    resource: str  # pods, deployments, ...
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    server: str | None = None  # the API server URL (never with credentials)
    group: str = ""  # API group: "" for core, "apps", "batch", ...

    @property
    def resource_path(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    @property
    def where(self) -> str:
        return f" in namespace {self.namespace}" if self.namespace else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cause:
    """One field cause of a ``metav1.Status`` (``details.causes[]``).

    ``type`` is the server's cause type (``FieldValueDuplicate``, ``FieldValueForbidden``,
    ``FieldValueInvalid``, ...), ``field`` the JSON path it blames (``spec.ephemeralContainers
    [0].name``), ``message`` its text, possibly several lines.
    """

    type: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "message": self.message}


class PodscopeError(Exception):
    """Base class. ``message`` is one line; ``remedy`` says what to do about it.

    ``status``, ``reason``, ``causes`` and ``request`` are set when the error is the API
    server's answer (or a failed attempt to reach it); they are ``None``/empty otherwise.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.FAILURE

    def __init__(
        self,
        message: str,
        *,
        remedy: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        causes: tuple[Cause, ...] = (),
        request: RequestContext | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.status = status
        self.reason = reason
        self.causes = tuple(causes)
        self.request = request

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data (what ``-o json`` prints for a failure)."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "message": self.message,
            "remedy": self.remedy,
            "exit_code": int(self.exit_code),
            "status": self.status,
            "reason": self.reason,
            "causes": [cause.to_dict() for cause in self.causes],
            "request": self.request.to_dict() if self.request else None,
        }
        data.update(self._extra_fields())
        return data

    def _extra_fields(self) -> dict[str, Any]:
        return {}


class ServerError(PodscopeError):
    """The API server answered 429 or 5xx: overloaded, starting, or shutting down.

    Readers may retry it after a pause (a watch does); the exit code stays FAILURE.
    ``retry_after`` is the server's ``details.retryAfterSeconds``, when it sent one.
    """

    def __init__(self, message: str, *, retry_after: int | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.retry_after = retry_after

    def _extra_fields(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class ChecksumError(PodscopeError):
    """A copied file's sha256 differs from the source's."""


class UsageError(PodscopeError):
    """The command line or a request is malformed: a bad value, or flags that conflict."""

    exit_code = ExitCode.USAGE


class ConfigError(PodscopeError):
    """The kubeconfig is missing or malformed, its context unknown, or a credential unreadable."""

    exit_code = ExitCode.CONFIG


class UnreachableError(PodscopeError):
    """The API server could not be reached: connection refused, TLS, DNS or a timeout."""

    exit_code = ExitCode.UNREACHABLE


class RequestOutcomeUnknown(UnreachableError):
    """The connection failed after the request was sent: the server may have applied it.

    Writers must re-read the object before retrying, or a retry may apply twice.
    """


class NotFoundError(PodscopeError):
    """A Pod, workload, node, container or API the command names does not exist."""

    exit_code = ExitCode.NOT_FOUND


class ForbiddenError(PodscopeError):
    """The server refused the credentials (401) or RBAC refused the verb (403)."""

    exit_code = ExitCode.FORBIDDEN


class ValidationError(PodscopeError):
    """A spec or document is invalid. ``field`` is the JSON path of the offending field."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, *, field: str | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.field = field

    def _extra_fields(self) -> dict[str, Any]:
        return {"field": self.field}


class PodStateError(PodscopeError):
    """The Pod cannot take a debug container: not running, static, or being deleted."""

    exit_code = ExitCode.POD_STATE


class UnsupportedError(PodscopeError):
    """The cluster cannot do it: no pods/ephemeralcontainers, or a feature gate off."""

    exit_code = ExitCode.UNSUPPORTED


class PolicyError(PodscopeError):
    """Admission refused the write.

    For PodSecurity: ``level`` (``baseline``, ``restricted``), ``version`` (``latest``,
    ``v1.34``), ``rules`` (each violated rule with the server's explanation, e.g.
    ``allowPrivilegeEscalation != false (container "x" must set ...)``) and ``containers``
    (every container the server blamed, in its order). For a webhook: ``webhook`` (its name).
    """

    exit_code = ExitCode.POLICY

    def __init__(
        self,
        message: str,
        *,
        level: str | None = None,
        version: str | None = None,
        rules: tuple[str, ...] = (),
        containers: tuple[str, ...] = (),
        webhook: str | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message, **fields)
        self.level = level
        self.version = version
        self.rules = tuple(rules)
        self.containers = tuple(containers)
        self.webhook = webhook

    def _extra_fields(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "version": self.version,
            "rules": list(self.rules),
            "containers": list(self.containers),
            "webhook": self.webhook,
        }


class StartFailedError(PodscopeError):
    """The container did not start (image pull, CreateContainerError, ...) or keeps crashing."""

    exit_code = ExitCode.START_FAILED


class PullRefusedError(StartFailedError):
    """The image's registry refused the Pod's pull credentials (or their absence).

    ``registry`` is the image's registry host, ``pull_secrets`` the names in the Pod's
    ``spec.imagePullSecrets``: the only credentials an ephemeral container can use.
    """

    def __init__(
        self, message: str, *, registry: str, pull_secrets: tuple[str, ...], **fields: Any
    ) -> None:
        super().__init__(message, **fields)
        self.registry = registry
        self.pull_secrets = tuple(pull_secrets)

    def _extra_fields(self) -> dict[str, Any]:
        return {"registry": self.registry, "pull_secrets": list(self.pull_secrets)}


class WaitTimeoutError(PodscopeError):
    """What was waited for (a container's start, its end) did not happen within --timeout."""

    exit_code = ExitCode.TIMEOUT
    # Every wait is bounded by the one flag, so each remedy offers it.
    RAISE_LIMIT: ClassVar[str] = "raise --timeout"


class ConflictError(PodscopeError):
    """A write still conflicted (409) after retries, a name is taken, or a document clashes."""

    exit_code = ExitCode.CONFLICT


class PodGoneError(PodscopeError):
    """The Pod was deleted, evicted or replaced during the session."""

    exit_code = ExitCode.POD_GONE


class StreamLostError(PodscopeError):
    """The attach or exec stream broke and could not be re-opened."""

    exit_code = ExitCode.STREAM_LOST


class NodeEditError(PodscopeError):
    """``node enable-gate`` refused to edit a node's file, or failed to."""

    exit_code = ExitCode.NODE_EDIT


class RecordError(PodscopeError):
    """The session could not be recorded, and ``--record-required`` was given."""

    exit_code = ExitCode.RECORD_FAILED


class Interrupted(PodscopeError):
    """The user stopped podscope (Ctrl-C, or a terminating signal)."""

    exit_code = ExitCode.INTERRUPTED
