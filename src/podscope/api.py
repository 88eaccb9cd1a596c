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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from podscope.client import Client

if TYPE_CHECKING:
    from podscope import rules
    from podscope.checks import DoctorReport
    from podscope.session import apply as _apply
    from podscope.session import attach as _attach
    from podscope.session import cleanup as _cleanup
    from podscope.session import cp as _cp
    from podscope.session import ephemeral, listing, node_debug, pod_copy

_CLIENT_OPTIONS = ("kubeconfig", "context", "request_timeout", "on_event")

R = TypeVar("R")


def _once(method: Callable[..., R], request: Any, options: dict[str, Any]) -> R:
    """Run the unbound ``Client`` method on a client opened for this one call."""
    if request is not None:
        request.validate()  # before connecting: a bad request sends nothing
    client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
    with Client(**client_options) as client:
        return method(client, request, **options)


def debug(request: rules.requests.DebugRequest, **options: Any) -> ephemeral.DebugResult:
    """:meth:`Client.debug` on a one-shot client."""
    return _once(Client.debug, request, options)


def debug_copy(request: rules.requests.PodCopyRequest, **options: Any) -> pod_copy.CopyResult:
    """:meth:`Client.debug_copy` on a one-shot client."""
    return _once(Client.debug_copy, request, options)


def debug_node(request: rules.requests.NodeDebugRequest, **options: Any) -> node_debug.NodeResult:
    """:meth:`Client.debug_node` on a one-shot client."""
    return _once(Client.debug_node, request, options)


def attach(request: rules.requests.AttachRequest, **options: Any) -> _attach.AttachResult:
    """:meth:`Client.attach` on a one-shot client."""
    return _once(Client.attach, request, options)


def list_ephemeral(
    request: rules.requests.ListRequest | None = None, **options: Any
) -> list[listing.EphemeralRow]:
    """:meth:`Client.list_ephemeral` on a one-shot client."""
    return _once(Client.list_ephemeral, request, options)


def cp(request: rules.requests.CpRequest, **options: Any) -> _cp.CpResult:
    """:meth:`Client.cp` on a one-shot client."""
    return _once(Client.cp, request, options)


def apply(request: rules.requests.ApplyRequest, **options: Any) -> _apply.ApplyResult:
    """:meth:`Client.apply` on a one-shot client."""
    return _once(Client.apply, request, options)


def cleanup(
    request: rules.requests.CleanupRequest | None = None, **options: Any
) -> _cleanup.CleanupResult:
    """:meth:`Client.cleanup` on a one-shot client."""
    return _once(Client.cleanup, request, options)


def doctor(request: rules.requests.DoctorRequest | None = None, **options: Any) -> DoctorReport:
    """:meth:`Client.doctor` on a one-shot client."""
    return _once(Client.doctor, request, options)
