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
from typing import TYPE_CHECKING, Any, Concatenate, Protocol, TypeVar

from podscope.client import Client

if TYPE_CHECKING:
    from podscope import rules
    from podscope.checks import DoctorReport
    from podscope.session import cleanup as _cleanup
    from podscope.session import listing

_CLIENT_OPTIONS = ("kubeconfig", "context", "request_timeout", "on_event")

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
Q = TypeVar("Q", contravariant=True)


def _once(method: Callable[..., R], request: Any, options: dict[str, Any]) -> R:
    """Run the unbound ``Client`` method on a client opened for this one call."""
    if request is not None:
        request.validate()  # before connecting: a bad request sends nothing
    client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
    with Client(**client_options) as client:
        return method(client, request, **options)


class _OneShot(Protocol[Q, R_co]):
    def __call__(self, request: Q, **options: Any) -> R_co: ...


def _one_shot(method: Callable[Concatenate[Client, Q, ...], R]) -> _OneShot[Q, R]:
    """The module-level function for a ``Client`` method that needs a request."""

    def call(request: Q, **options: Any) -> R:
        return _once(method, request, options)

    call.__name__ = call.__qualname__ = method.__name__
    # For help() and inspect: the method's own request and result types, not Q and R.
    call.__annotations__ = {
        "request": method.__annotations__["request"],
        "options": "Any",
        "return": method.__annotations__["return"],
    }
    call.__doc__ = f":meth:`Client.{method.__name__}` on a one-shot client."
    return call


debug = _one_shot(Client.debug)
debug_copy = _one_shot(Client.debug_copy)
debug_node = _one_shot(Client.debug_node)
attach = _one_shot(Client.attach)
cp = _one_shot(Client.cp)
apply = _one_shot(Client.apply)


def list_ephemeral(
    request: rules.requests.ListRequest | None = None, **options: Any
) -> list[listing.EphemeralRow]:
    """:meth:`Client.list_ephemeral` on a one-shot client."""
    return _once(Client.list_ephemeral, request, options)


def cleanup(
    request: rules.requests.CleanupRequest | None = None, **options: Any
) -> _cleanup.CleanupResult:
    """:meth:`Client.cleanup` on a one-shot client."""
    return _once(Client.cleanup, request, options)


def doctor(request: rules.requests.DoctorRequest | None = None, **options: Any) -> DoctorReport:
    """:meth:`Client.doctor` on a one-shot client."""
    return _once(Client.doctor, request, options)
