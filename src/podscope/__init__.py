"""podscope: debug running Kubernetes Pods with ephemeral containers.

    import podscope

    with podscope.Client() as client:
        result = client.debug(podscope.DebugRequest(pod="web", command=("ps",)),
                              capture_output=True)

Names load on first use, so that ``import podscope`` (and the CLI's ``--version``) stays
fast: the kubernetes client is imported only when a ``Client`` opens.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "Client": "podscope.client",
    "LocalStreams": "podscope.client",
    "Event": "podscope.events",
    "EventLog": "podscope.events",
    "Events": "podscope.events",
    "ApplyRequest": "podscope.rules.requests",
    "AttachRequest": "podscope.rules.requests",
    "CleanupRequest": "podscope.rules.requests",
    "CpRequest": "podscope.rules.requests",
    "DebugRequest": "podscope.rules.requests",
    "DoctorRequest": "podscope.rules.requests",
    "EnableGateRequest": "podscope.rules.requests",
    "ListRequest": "podscope.rules.requests",
    "NodeDebugRequest": "podscope.rules.requests",
    "PodCopyRequest": "podscope.rules.requests",
    "StopRequest": "podscope.rules.requests",
    "StopResult": "podscope.session.debugger",
    "ApplyResult": "podscope.session.apply",
    "AttachResult": "podscope.session.attach",
    "CleanupResult": "podscope.session.cleanup",
    "CopyResult": "podscope.session.pod_copy",
    "CpResult": "podscope.session.cp",
    "TransferProgress": "podscope.session.cp",
    "VersionInfo": "podscope.client",
    "DebugResult": "podscope.session.ephemeral",
    "DoctorReport": "podscope.checks.run",
    "EphemeralRow": "podscope.session.listing",
    "NodeResult": "podscope.session.node_debug",
    "GateReport": "podscope.gate.enable",
    "PodscopeError": "podscope.errors",
    "ExitCode": "podscope.errors",
    "apply": "podscope.api",
    "attach": "podscope.api",
    "cleanup": "podscope.api",
    "cp": "podscope.api",
    "debug": "podscope.api",
    "debug_copy": "podscope.api",
    "debug_node": "podscope.api",
    "doctor": "podscope.api",
    "list_ephemeral": "podscope.api",
    "enable_gate": "podscope.gate",
    "ManyDebugRequest": "podscope.rules.many",
    "ManyCpRequest": "podscope.rules.many",
    "PodOutcome": "podscope.rules.many",
    "ManyResult": "podscope.session.many",
}

__all__ = [
    "__version__",
    "ApplyRequest",
    "ApplyResult",
    "AttachRequest",
    "AttachResult",
    "CleanupRequest",
    "CleanupResult",
    "Client",
    "CopyResult",
    "CpRequest",
    "CpResult",
    "DebugRequest",
    "DebugResult",
    "DoctorReport",
    "DoctorRequest",
    "EnableGateRequest",
    "EphemeralRow",
    "Event",
    "EventLog",
    "Events",
    "ExitCode",
    "GateReport",
    "ListRequest",
    "LocalStreams",
    "NodeDebugRequest",
    "NodeResult",
    "PodCopyRequest",
    "StopRequest",
    "StopResult",
    "PodscopeError",
    "TransferProgress",
    "VersionInfo",
    "apply",
    "attach",
    "cleanup",
    "cp",
    "debug",
    "debug_copy",
    "debug_node",
    "doctor",
    "enable_gate",
    "list_ephemeral",
    "ManyDebugRequest",
    "ManyCpRequest",
    "PodOutcome",
    "ManyResult",
]

if TYPE_CHECKING:
    from podscope.api import (
        apply,
        attach,
        cleanup,
        cp,
        debug,
        debug_copy,
        debug_node,
        doctor,
        list_ephemeral,
    )
    from podscope.checks.run import DoctorReport
    from podscope.client import Client, LocalStreams, VersionInfo
    from podscope.errors import ExitCode, PodscopeError
    from podscope.events import Event, EventLog, Events
    from podscope.gate import enable_gate
    from podscope.gate.enable import GateReport
    from podscope.rules.many import ManyCpRequest, ManyDebugRequest, PodOutcome
    from podscope.rules.requests import (
        ApplyRequest,
        AttachRequest,
        CleanupRequest,
        CpRequest,
        DebugRequest,
        DoctorRequest,
        EnableGateRequest,
        ListRequest,
        NodeDebugRequest,
        PodCopyRequest,
        StopRequest,
    )
    from podscope.session.apply import ApplyResult
    from podscope.session.attach import AttachResult
    from podscope.session.cleanup import CleanupResult
    from podscope.session.cp import CpResult, TransferProgress
    from podscope.session.debugger import StopResult
    from podscope.session.ephemeral import DebugResult
    from podscope.session.listing import EphemeralRow
    from podscope.session.many import ManyResult
    from podscope.session.node_debug import NodeResult
    from podscope.session.pod_copy import CopyResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'podscope' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
