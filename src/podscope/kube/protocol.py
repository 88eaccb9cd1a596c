"""What the orchestration layer (``podscope.session``) needs from a connection to a cluster.

:class:`podscope.kube.client.KubeClient` is the one implementation that talks to an API
server; anything else that has these members (an in-memory stand-in in the unit tests) can
drive the same session code. Every method returns plain JSON dicts and raises podscope errors,
as the real client does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from podscope.kube.discovery import EphemeralShape
from podscope.kube.queries import AccessQuestion, LogQuery, StreamQuery
from podscope.kube.streams import ChannelStream
from podscope.rules.workloads import PodRef


class KubeAPI(Protocol):
    """The API-server operations of a session, named as :class:`KubeClient` names them."""

    namespace: str  # the context's default namespace
    server: str  # the API server URL (never with credentials)
    request_timeout: float  # each request's read timeout, in seconds

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]: ...

    def list_pods(
        self,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def list_pods_pages(
        self, namespace: str | None, limit: int
    ) -> Iterator[list[dict[str, Any]]]: ...

    def get_workload(self, namespace: str, ref: PodRef) -> tuple[dict[str, Any], str]: ...

    def workload_selector(self, namespace: str, ref: PodRef) -> str: ...

    def widen_pool(self, size: int) -> None: ...

    def get_node(self, name: str) -> dict[str, Any]: ...

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]: ...

    def list_nodes(self) -> list[dict[str, Any]]: ...

    def ephemeral_shape(self) -> EphemeralShape: ...

    def writable_ephemeral_shape(self) -> EphemeralShape: ...

    def access_review(self, question: AccessQuestion) -> tuple[bool, str]: ...

    def self_subject_review(self) -> dict[str, Any]: ...

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def read_log(self, query: LogQuery) -> bytes: ...

    def patch_ephemeral_containers(
        self,
        namespace: str,
        name: str,
        body: dict[str, Any],
        shape: EphemeralShape,
        *,
        new_container: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]: ...

    def create_pod(
        self, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]: ...

    def delete_pod(
        self,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]: ...

    def watch_pod(
        self,
        namespace: str,
        name: str,
        resource_version: str | None,
        timeout: float,
        *,
        on_retry: Callable[[str], None] | None = None,
        poll: Callable[[], None] | None = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def attach(self, query: StreamQuery) -> ChannelStream: ...

    def exec(self, query: StreamQuery, command: list[str]) -> ChannelStream: ...


if TYPE_CHECKING:
    from podscope.kube.client import KubeClient

    def _the_client_is_one(client: KubeClient) -> KubeAPI:
        # mypy checks here that KubeClient still has every member, with the same signatures.
        return client
