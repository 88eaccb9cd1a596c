"""The field names of core/v1 Container and EphemeralContainer (Kubernetes 1.34).

Kept as data so unknown keys (typos such as ``imagePullPolicyy``) can be refused with the
list of valid ones: the API server would otherwise drop them silently (or only warn).
"""

from __future__ import annotations

from podscope.rules.requests import PULL_POLICIES as _PULL_POLICIES

CONTAINER_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "image",
        "command",
        "args",
        "workingDir",
        "ports",
        "envFrom",
        "env",
        "resources",
        "resizePolicy",
        "restartPolicy",
        "restartPolicyRules",
        "volumeMounts",
        "volumeDevices",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "imagePullPolicy",
        "securityContext",
        "stdin",
        "stdinOnce",
        "tty",
    }
)

EPHEMERAL_FIELDS: frozenset[str] = CONTAINER_FIELDS | {"targetContainerName"}

# Not in the API server's allowedEphemeralContainerFields: "cannot be set for an Ephemeral
# Container". Pointer fields are refused when present at all, the others when non-empty.
EPHEMERAL_FORBIDDEN_POINTERS: tuple[str, ...] = (
    "lifecycle",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "restartPolicy",
)
EPHEMERAL_FORBIDDEN_VALUES: tuple[str, ...] = (
    "ports",
    "resources",
    "resizePolicy",
    "restartPolicyRules",
)

SECURITY_CONTEXT_FIELDS: frozenset[str] = frozenset(
    {
        "allowPrivilegeEscalation",
        "appArmorProfile",
        "capabilities",
        "privileged",
        "procMount",
        "readOnlyRootFilesystem",
        "runAsGroup",
        "runAsNonRoot",
        "runAsUser",
        "seLinuxOptions",
        "seccompProfile",
        "windowsOptions",
    }
)

VOLUME_MOUNT_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "mountPath",
        "readOnly",
        "recursiveReadOnly",
        "mountPropagation",
        "subPath",
        "subPathExpr",
    }
)

PULL_POLICIES: tuple[str, ...] = _PULL_POLICIES
TERMINATION_MESSAGE_POLICIES: tuple[str, ...] = ("File", "FallbackToLogsOnError")
MOUNT_PROPAGATIONS: tuple[str, ...] = ("Bidirectional", "HostToContainer", "None")
RECURSIVE_READ_ONLY: tuple[str, ...] = ("Disabled", "Enabled", "IfPossible")
SECCOMP_TYPES: tuple[str, ...] = ("Localhost", "RuntimeDefault", "Unconfined")
