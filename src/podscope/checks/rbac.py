"""What the current user must be allowed to do to debug, and what to ask for (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from podscope.checks.findings import Finding, fail, ok, warn

# Checked on a live 1.34 cluster and in the aggregated-role definitions of every release: the
# built-in admin/edit roles leave this subresource out on purpose (adding an ephemeral
# container bypasses admission policies written for Pod create/update), in every release so
# far. Saying so spares users the "but I am namespace admin" dead end.
BUILTIN_ROLES_NOTE = (
    "note that the built-in admin and edit ClusterRoles do not include pods/ephemeralcontainers "
    "(deliberately, in every Kubernetes release including 1.34), so binding them is not enough; "
    "a cluster admin can add it to them with a ClusterRole labeled "
    'rbac.authorization.k8s.io/aggregate-to-edit: "true"'
)


@dataclass(frozen=True)
class Permission:
    verb: str
    resource: str
    subresource: str | None
    why: str
    required: bool = True  # False: only a feature (copy mode) needs it: a warning

    @property
    def resource_path(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    @property
    def check(self) -> str:
        return f"rbac {self.verb} {self.resource_path}"


def required_permissions(shape: str) -> list[Permission]:
    """The verbs podscope uses; the 1.16-1.21 subresource is written with PUT (``update``)."""
    write = "update" if shape == "legacy" else "patch"
    return [
        Permission("get", "pods", None, "read the Pod"),
        Permission("watch", "pods", None, "wait for the debug container to start"),
        Permission(write, "pods", "ephemeralcontainers", "add the debug container"),
        Permission("create", "pods", "attach", "attach to the debug container"),
        # podscope attaches over WebSocket, an HTTP GET: the API server authorizes that upgrade
        # as `get pods/attach` (1.35+ checks `create` as well). Found by tests/e2e/test_security.
        Permission("get", "pods", "attach", "attach over WebSocket (an HTTP GET upgrade)"),
        Permission("get", "pods", "log", "show the output of a finished container"),
        Permission("create", "pods", None, "debug a copy of the Pod (--copy-to)", required=False),
    ]


def rule_remedy(permission: Permission, namespace: str) -> str:
    rule = (
        f'ask for a Role in namespace {namespace} with the rule apiGroups: [""], '
        f'resources: ["{permission.resource_path}"], verbs: ["{permission.verb}"]'
    )
    if permission.subresource == "ephemeralcontainers":
        return f"{rule}; {BUILTIN_ROLES_NOTE}"
    return rule


def check_permission(permission: Permission, allowed: bool, reason: str, namespace: str) -> Finding:
    """The finding for one SelfSubjectAccessReview answer."""
    where = f"in namespace {namespace}"
    if allowed:
        because = f" ({reason})" if reason else ""
        return ok(permission.check, f"allowed {where}{because}")
    text = f"not allowed {where}: podscope needs it to {permission.why}"
    remedy = rule_remedy(permission, namespace)
    if permission.required:
        return fail(permission.check, text, remedy)
    return warn(permission.check, text, remedy)
