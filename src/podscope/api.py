"""Module-level sugar: each function opens a one-shot :class:`podscope.Client`, runs one
request, and closes it. For several commands, open a ``Client`` yourself: it reads the
kubeconfig and obtains credentials once.

    import podscope
    result = podscope.debug(podscope.DebugRequest(pod="web-7d4b9", command=("ps",)),
                            capture_output=True)
    print(result.container, result.exit_code, result.stdout)

Every function takes the request, then the keyword arguments of :class:`podscope.Client`
(``kubeconfig``, ``context``, ``request_timeout``, ``on_event``), then those of the method it
calls (``streams``, ``capture_output``, ``confirm``, ``on_progress``). The request is
validated before any connection is opened, so a bad one fails with nothing sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podscope.client import Client

if TYPE_CHECKING:
    from podscope import rules
    from podscope.doctor import DoctorReport
    from podscope.session import apply as _apply
    from podscope.session import attach as _attach
    from podscope.session import cleanup as _cleanup
    from podscope.session import cp as _cp
    from podscope.session import ephemeral, listing, node_debug, pod_copy

_CLIENT_OPTIONS = ("kubeconfig", "context", "request_timeout", "on_event")


def _once(method: str, request: Any, options: dict[str, Any]) -> Any:
    if request is not None:
        request.validate()  # before connecting: a bad request sends nothing
    client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
    with Client(**client_options) as client:
        return getattr(client, method)(request, **options)


def debug(request: rules.requests.DebugRequest, **options: Any) -> ephemeral.DebugResult:
    """:meth:`Client.debug` on a one-shot client."""
    result: ephemeral.DebugResult = _once("debug", request, options)
    return result


def debug_copy(request: rules.requests.PodCopyRequest, **options: Any) -> pod_copy.CopyResult:
    """:meth:`Client.debug_copy` on a one-shot client."""
    result: pod_copy.CopyResult = _once("debug_copy", request, options)
    return result


def debug_node(request: rules.requests.NodeDebugRequest, **options: Any) -> node_debug.NodeResult:
    """:meth:`Client.debug_node` on a one-shot client."""
    result: node_debug.NodeResult = _once("debug_node", request, options)
    return result


def attach(request: rules.requests.AttachRequest, **options: Any) -> _attach.AttachResult:
    """:meth:`Client.attach` on a one-shot client."""
    result: _attach.AttachResult = _once("attach", request, options)
    return result


def list_ephemeral(
    request: rules.requests.ListRequest | None = None, **options: Any
) -> list[listing.EphemeralRow]:
    """:meth:`Client.list_ephemeral` on a one-shot client."""
    rows: list[listing.EphemeralRow] = _once("list_ephemeral", request, options)
    return rows


def cp(request: rules.requests.CpRequest, **options: Any) -> _cp.CpResult:
    """:meth:`Client.cp` on a one-shot client."""
    result: _cp.CpResult = _once("cp", request, options)
    return result


def apply(request: rules.requests.ApplyRequest, **options: Any) -> _apply.ApplyResult:
    """:meth:`Client.apply` on a one-shot client."""
    result: _apply.ApplyResult = _once("apply", request, options)
    return result


def cleanup(
    request: rules.requests.CleanupRequest | None = None, **options: Any
) -> _cleanup.CleanupResult:
    """:meth:`Client.cleanup` on a one-shot client."""
    result: _cleanup.CleanupResult = _once("cleanup", request, options)
    return result


def doctor(request: rules.requests.DoctorRequest | None = None, **options: Any) -> DoctorReport:
    """:meth:`Client.doctor` on a one-shot client."""
    report: DoctorReport = _once("doctor", request, options)
    return report
