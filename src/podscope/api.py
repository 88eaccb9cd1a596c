"""Module-level sugar: each function opens a one-shot :class:`podscope.Client`, runs one
request, and closes it. For several commands, open a ``Client`` yourself: it reads the
kubeconfig and obtains credentials once.

    import podscope
    result = podscope.debug(podscope.DebugRequest(pod="web-7d4b9", command=("ps",)),
                            capture_output=True)
    print(result.container, result.exit_code, result.stdout)

The request is validated before any connection is opened, so a bad one fails with nothing
sent. Errors are :class:`podscope.errors.PodscopeError` subclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from podscope.client import Client, LocalStreams
from podscope.events import EventHandler
from podscope.rules.requests import (
    ApplyRequest,
    AttachRequest,
    CleanupRequest,
    CpRequest,
    DebugRequest,
    DoctorRequest,
    ListRequest,
    NodeDebugRequest,
    PodCopyRequest,
)

if TYPE_CHECKING:
    from podscope.doctor import DoctorReport
    from podscope.session.apply import ApplyResult
    from podscope.session.attach import AttachResult
    from podscope.session.cleanup import CleanupResult, ManagedPod
    from podscope.session.cp import CpResult
    from podscope.session.ephemeral import DebugResult
    from podscope.session.listing import EphemeralRow
    from podscope.session.node_debug import NodeResult
    from podscope.session.pod_copy import CopyResult

T = TypeVar("T")


def _once(
    request: Any,
    kubeconfig: str | None,
    context: str | None,
    on_event: EventHandler | None,
    call: Callable[[Client], T],
) -> T:
    if request is not None:
        request.validate()  # before connecting: a bad request sends nothing
    with Client(kubeconfig=kubeconfig, context=context, on_event=on_event) as client:
        return call(client)


def debug(
    request: DebugRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    streams: LocalStreams | None = None,
    capture_output: bool = False,
) -> DebugResult:
    """:meth:`Client.debug` on a one-shot client."""
    return _once(
        request,
        kubeconfig,
        context,
        on_event,
        lambda c: c.debug(request, streams=streams, capture_output=capture_output),
    )


def debug_copy(
    request: PodCopyRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    streams: LocalStreams | None = None,
    capture_output: bool = False,
) -> CopyResult:
    """:meth:`Client.debug_copy` on a one-shot client."""
    return _once(
        request,
        kubeconfig,
        context,
        on_event,
        lambda c: c.debug_copy(request, streams=streams, capture_output=capture_output),
    )


def debug_node(
    request: NodeDebugRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    streams: LocalStreams | None = None,
    capture_output: bool = False,
) -> NodeResult:
    """:meth:`Client.debug_node` on a one-shot client."""
    return _once(
        request,
        kubeconfig,
        context,
        on_event,
        lambda c: c.debug_node(request, streams=streams, capture_output=capture_output),
    )


def attach(
    request: AttachRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    streams: LocalStreams | None = None,
    capture_output: bool = False,
) -> AttachResult:
    """:meth:`Client.attach` on a one-shot client."""
    return _once(
        request,
        kubeconfig,
        context,
        on_event,
        lambda c: c.attach(request, streams=streams, capture_output=capture_output),
    )


def list_ephemeral(
    request: ListRequest | None = None,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> list[EphemeralRow]:
    """:meth:`Client.list_ephemeral` on a one-shot client."""
    return _once(request, kubeconfig, context, None, lambda c: c.list_ephemeral(request))


def cp(
    request: CpRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    on_progress: Callable[[Any], None] | None = None,
) -> CpResult:
    """:meth:`Client.cp` on a one-shot client."""
    return _once(
        request, kubeconfig, context, on_event, lambda c: c.cp(request, on_progress=on_progress)
    )


def apply(
    request: ApplyRequest,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    streams: LocalStreams | None = None,
    capture_output: bool = False,
) -> ApplyResult:
    """:meth:`Client.apply` on a one-shot client."""
    return _once(
        request,
        kubeconfig,
        context,
        on_event,
        lambda c: c.apply(request, streams=streams, capture_output=capture_output),
    )


def cleanup(
    request: CleanupRequest | None = None,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    on_event: EventHandler | None = None,
    confirm: Callable[[list[ManagedPod]], bool] | None = None,
) -> CleanupResult:
    """:meth:`Client.cleanup` on a one-shot client."""
    return _once(
        request, kubeconfig, context, on_event, lambda c: c.cleanup(request, confirm=confirm)
    )


def doctor(
    request: DoctorRequest | None = None,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> DoctorReport:
    """:meth:`Client.doctor` on a one-shot client."""
    return _once(request, kubeconfig, context, None, lambda c: c.doctor(request))
