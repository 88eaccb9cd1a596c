"""One exception hierarchy for podscope.

Every error knows its exit code and, where there is one, the remedy. The CLI prints
``podscope: error: <message>`` (and ``  hint: <remedy>``) on stderr and exits with ``exit_code``.
Messages are one line and never contain credentials.
"""

from __future__ import annotations

from enum import IntEnum


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
    INTERRUPTED = 130  # Ctrl-C


class PodscopeError(Exception):
    """Base class. ``message`` is one line; ``remedy`` says what to do about it."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        return self.message


class UsageError(PodscopeError):
    exit_code = ExitCode.USAGE


class ConfigError(PodscopeError):
    exit_code = ExitCode.CONFIG


class UnreachableError(PodscopeError):
    exit_code = ExitCode.UNREACHABLE


class NotFoundError(PodscopeError):
    exit_code = ExitCode.NOT_FOUND


class ForbiddenError(PodscopeError):
    exit_code = ExitCode.FORBIDDEN


class ValidationError(PodscopeError):
    """A spec or document is invalid. ``field`` is the JSON path of the offending field."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, *, field: str | None = None, remedy: str | None = None):
        super().__init__(message, remedy=remedy)
        self.field = field


class PodStateError(PodscopeError):
    exit_code = ExitCode.POD_STATE


class UnsupportedError(PodscopeError):
    exit_code = ExitCode.UNSUPPORTED


class PolicyError(PodscopeError):
    exit_code = ExitCode.POLICY


class StartFailedError(PodscopeError):
    exit_code = ExitCode.START_FAILED


class WaitTimeoutError(PodscopeError):
    exit_code = ExitCode.TIMEOUT


class ConflictError(PodscopeError):
    exit_code = ExitCode.CONFLICT


class PodGoneError(PodscopeError):
    exit_code = ExitCode.POD_GONE


class StreamLostError(PodscopeError):
    exit_code = ExitCode.STREAM_LOST


class NodeEditError(PodscopeError):
    exit_code = ExitCode.NODE_EDIT


class Interrupted(PodscopeError):
    exit_code = ExitCode.INTERRUPTED
