"""PodSecurity admission: namespace labels and the container rules that matter (pure).

The API server is the authority (doctor proves admission with a server-side dry-run when a
Pod is named); this module predicts it without a Pod, and names which existing ephemeral
containers already break the namespace's level. It covers the container-level rules of the
Pod Security Standards (``latest``) plus the Pod-level fields a container inherits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "warn", "audit")
LEVELS = ("privileged", "baseline", "restricted")

# Capabilities the baseline level lets a container add (the Docker default set).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)


@dataclass(frozen=True)
class ModeSetting:
    level: str  # privileged | baseline | restricted
    version: str  # "latest" or "v1.X"
    explicit: bool  # False: the label is absent and the cluster default (privileged) applies


@dataclass(frozen=True)
class PodSecurityLabels:
    enforce: ModeSetting
    warn: ModeSetting
    audit: ModeSetting
    problems: tuple[str, ...] = field(default=())

    def mode(self, name: str) -> ModeSetting:
        setting: ModeSetting = getattr(self, name)
        return setting

    def describe(self) -> str:
        parts = []
        for name in MODES:
            setting = self.mode(name)
            if setting.explicit:
                parts.append(f"{name}={setting.level}:{setting.version}")
        return ", ".join(parts) if parts else "no pod-security.kubernetes.io labels"


def _clean_label(value: str) -> str:
    # Label values are user data; keep them one line and short for the checklist.
    return "".join(ch if ch.isprintable() else "?" for ch in value)[:63]


def parse_labels(labels: Mapping[str, Any] | None) -> PodSecurityLabels:
    """The namespace's PodSecurity settings from its labels.

    An unknown level is enforced as ``restricted`` by the admission plugin (it fails closed),
    so that is what this reports, with a problem line saying so. Absent labels mean the
    cluster's default, which is ``privileged`` unless the admission configuration says
    otherwise (the API does not show that configuration).
    """
    labels = labels or {}
    problems: list[str] = []
    settings: dict[str, ModeSetting] = {}
    for mode in MODES:
        raw_level = labels.get(f"{LABEL_PREFIX}{mode}")
        raw_version = labels.get(f"{LABEL_PREFIX}{mode}-version")
        version = "latest"
        if isinstance(raw_version, str) and raw_version:
            if raw_version == "latest" or _is_minor_version(raw_version):
                version = raw_version
            else:
                problems.append(
                    f"{mode}-version {_clean_label(raw_version)!r} is not 'latest' or v1.X; "
                    "latest is used"
                )
        if raw_level is None:
            settings[mode] = ModeSetting("privileged", version, explicit=False)
            continue
        level = str(raw_level)
        if level not in LEVELS:
            problems.append(
                f"{mode}={_clean_label(level)!r} is not a level (privileged, baseline, "
                "restricted); PodSecurity treats it as restricted"
            )
            level = "restricted"
        settings[mode] = ModeSetting(level, version, explicit=True)
    return PodSecurityLabels(
        enforce=settings["enforce"],
        warn=settings["warn"],
        audit=settings["audit"],
        problems=tuple(problems),
    )


def _is_minor_version(text: str) -> bool:
    if not text.startswith("v"):
        return False
    parts = text[1:].split(".")
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _effective(container_sc: dict[str, Any], pod_sc: dict[str, Any], key: str) -> Any:
    # A container's securityContext field wins over the Pod's, when set.
    value = container_sc.get(key)
    return pod_sc.get(key) if value is None else value


def container_violations(
    container: Mapping[str, Any], pod: Mapping[str, Any] | None, level: str
) -> list[str]:
    """The rules of ``level`` that ``container`` breaks in ``pod`` (empty: it passes).

    Wording follows the admission plugin's messages (``privileged``, ``allowPrivilegeEscalation
    != false``, ...) so they can be compared with what the server says.
    """
    if level not in ("baseline", "restricted"):
        return []
    sc = _mapping(container.get("securityContext"))
    pod_spec = _mapping((pod or {}).get("spec"))
    pod_sc = _mapping(pod_spec.get("securityContext"))
    problems: list[str] = []

    if sc.get("privileged") is True:
        problems.append("privileged")
    caps = _mapping(sc.get("capabilities"))
    added = [str(c) for c in caps.get("add") or []]
    outside = sorted(c for c in added if c not in BASELINE_CAPABILITIES)
    if outside:
        problems.append(f"non-default capabilities ({', '.join(outside)})")
    if _mapping(sc.get("windowsOptions")).get("hostProcess") is True:
        problems.append("hostProcess")
    if sc.get("procMount") not in (None, "", "Default"):
        problems.append("procMount")
    selinux = _mapping(sc.get("seLinuxOptions"))
    if (
        str(selinux.get("type") or "") not in _SELINUX_TYPES
        or selinux.get("user")
        or selinux.get("role")
    ):
        problems.append("seLinuxOptions")
    seccomp = _mapping(_effective(sc, pod_sc, "seccompProfile"))
    if seccomp.get("type") == "Unconfined":
        problems.append("seccompProfile (Unconfined)")
    if _mapping(sc.get("appArmorProfile")).get("type") == "Unconfined":
        problems.append("appArmorProfile (Unconfined)")
    if level == "baseline":
        return problems

    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation != false")
    drop = [str(c) for c in caps.get("drop") or []]
    not_allowed = sorted(c for c in added if c not in RESTRICTED_CAPABILITIES)
    if "ALL" not in drop or not_allowed:
        problems.append("unrestricted capabilities")
    if _effective(sc, pod_sc, "runAsNonRoot") is not True:
        problems.append("runAsNonRoot != true")
    if _effective(sc, pod_sc, "runAsUser") == 0:
        problems.append("runAsUser=0")
    # Unconfined was already named by the baseline rule above.
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost", "Unconfined"):
        problems.append("seccompProfile")
    return problems


def violating_ephemeral(pod: Mapping[str, Any], level: str) -> dict[str, list[str]]:
    """Existing ephemeral containers of ``pod`` that break ``level``, with the rules they break."""
    found: dict[str, list[str]] = {}
    for container in _mapping(pod.get("spec")).get("ephemeralContainers") or []:
        if not isinstance(container, dict):
            continue
        problems = container_violations(container, pod, level)
        if problems:
            found[str(container.get("name"))] = problems
    return found
