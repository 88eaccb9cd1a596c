"""Is the EphemeralContainers gate on in a kubelet? Read from its /configz (pure parts + one
fetch).

On 1.16-1.22 the gate must be on in the API server *and* every kubelet. A cluster where only
the API server has it accepts an ephemeral container that its kubelet silently never starts;
only the kubelet's own configuration, served at ``/api/v1/nodes/NODE/proxy/configz`` (RBAC:
``nodes/proxy``), tells.
"""

from __future__ import annotations

from typing import Any

from podscope.checks.findings import Finding, fail, ok, warn
from podscope.errors import ForbiddenError, PodscopeError, UnreachableError
from podscope.gate.versions import parse_version

GATE = "EphemeralContainers"
DEFAULT_ON = (1, 23)
LOCKED_ON = (1, 25)  # GA: the gate can no longer be switched off


def gate_from_configz(configz: dict[str, Any], kubelet_version: str | None) -> bool | None:
    """The gate's effective value in a kubelet (``None``: the answer does not say)."""
    config = configz.get("kubeletconfig")
    if not isinstance(config, dict):
        return None
    gates = config.get("featureGates") or {}
    if isinstance(gates, dict) and isinstance(gates.get(GATE), bool):
        return bool(gates[GATE])
    version = parse_version(kubelet_version) if kubelet_version else None
    if version is None:
        return None
    return (version.major, version.minor) >= DEFAULT_ON


def gate_matters(kubelet_version: str | None) -> bool:
    """Only before 1.25 can a kubelet have the gate off."""
    version = parse_version(kubelet_version) if kubelet_version else None
    return version is None or (version.major, version.minor) < LOCKED_ON


def kubelet_version_of(node: dict[str, Any]) -> str | None:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    value = info.get("kubeletVersion")
    return str(value) if value else None


def gate_off_message(node: str) -> str:
    return f"the kubelet on node {node} has the {GATE} gate off"


GATE_OFF_REMEDY = (
    "switch it on in that node's kubelet (as root there: podscope node enable-gate --only kubelet)"
    " and restart the kubelet"
)


def read_gate(client: Any, node: dict[str, Any]) -> bool | None:
    """The gate in ``node``'s kubelet, fetched through the API server. Raises PodscopeError
    (ForbiddenError without ``nodes/proxy``) when it cannot be read."""
    name = str((node.get("metadata") or {}).get("name"))
    return gate_from_configz(client.kubelet_configz(name), kubelet_version_of(node))


def check_kubelet_gate(client: Any, nodes: list[dict[str, Any]]) -> Finding | None:
    """One doctor finding for the kubelets' gates (None when no kubelet can have it off)."""
    nodes = [n for n in nodes if gate_matters(kubelet_version_of(n))]
    if not nodes:
        return None
    off: list[str] = []
    unknown: list[str] = []
    reasons: set[str] = set()
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name"))
        try:
            value = read_gate(client, node)
        except UnreachableError:
            raise
        except ForbiddenError:
            unknown.append(name)
            reasons.add("reading a kubelet's configuration needs get on nodes/proxy")
            continue
        except PodscopeError as exc:
            unknown.append(name)
            reasons.add(exc.message)
            continue
        if value is False:
            off.append(name)
        elif value is None:
            unknown.append(name)
            reasons.add("its /configz answer names no feature gates")
    if off:
        return fail(
            "kubelet-feature-gate",
            "; ".join(gate_off_message(n) for n in off)
            + " (the API server accepts ephemeral containers there, the kubelet never starts them)",
            GATE_OFF_REMEDY,
        )
    if unknown:
        return warn(
            "kubelet-feature-gate",
            f"could not check the {GATE} gate of the kubelet on {', '.join(unknown)}: "
            + "; ".join(sorted(reasons)),
            "grant get on nodes/proxy to check it, or make sure the gate is on in every kubelet",
        )
    names = ", ".join(str((n.get("metadata") or {}).get("name")) for n in nodes)
    return ok("kubelet-feature-gate", f"{GATE} is on in the kubelet on {names}")
