"""The one object that talks to the API server. Everything it returns is plain JSON dicts.

Requests go through an ``ApiClient``-shaped HTTP client (``kube.transport``, or the kubernetes
package's for legacy auth providers) with explicit ``(connect, read)`` timeouts, and raw JSON
in and out: no client models, and the ``EphemeralContainers`` kind of 1.16-1.21 (which the
generated client cannot express) is sent as is.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from podscope.backoff import Backoff, Retry
from podscope.errors import NotFoundError, PodscopeError, UnsupportedError
from podscope.kube.discovery import EphemeralShape, ephemeral_shape
from podscope.kube.errors import RequestContext, map_api_error, map_status, unreachable
from podscope.kube.queries import AccessQuestion, LogQuery, StreamQuery
from podscope.kube.streams import ChannelStream, open_stream
from podscope.kube.transport import transport_failure
from podscope.rules.workloads import PodRef, pick_running_pod, selector_string

if TYPE_CHECKING:
    from podscope.kube.credentials import ExecCredentials

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Writes that take a fieldManager (DELETE does not: DeleteOptions has none).
_MANAGED_WRITES = {"POST", "PUT", "PATCH"}
FIELD_MANAGER = "podscope"
# Longest single watch request; the loop re-watches from the last resourceVersion after it.
_MAX_WATCH_SECONDS = 240
# With a ``poll``, each watch request lasts this long, so that the poll runs this often.
WATCH_POLL_SECONDS = 1
# How long a watch keeps retrying an unreachable or failing API server (a restart takes
# seconds to tens of seconds), and the pauses between two attempts.
WATCH_OUTAGE_SECONDS = 90.0
_WATCH_BACKOFF = Backoff(first=0.5, cap=4.0)


def _check_path_names(context: RequestContext) -> None:
    """Refuse a namespace or object name that is not a valid Kubernetes name.

    They are put into URL paths as they are: ``../``, ``?``, ``%`` or newlines must never
    reach a request, whichever command or API call they came from.
    """
    from podscope.rules.names import validate_namespace_name, validate_resource_name

    if context.namespace is not None:
        validate_namespace_name(context.namespace, "namespace")
    if context.name is not None:
        validate_resource_name(context.name, f"{_singular_name(context.resource)} name")


def _singular_name(resource: str) -> str:
    return resource[:-1] if resource.endswith("s") else resource


def _no_ephemeral_containers() -> UnsupportedError:
    return UnsupportedError(
        "this API server does not serve pods/ephemeralcontainers (cluster older than 1.16 or "
        "the EphemeralContainers feature gate is off)",
        remedy="run `podscope doctor`",
    )


def _package_errors() -> tuple[type[BaseException], ...]:
    """The kubernetes package's ``ApiException``, when its client is in use (legacy auth
    providers); it is never imported otherwise."""
    module = sys.modules.get("kubernetes.client.exceptions")
    return (module.ApiException,) if module is not None else ()


def _unanswered(
    exc: Exception, context: RequestContext, method: str, *, sent: bool = False
) -> Exception:
    """The podscope error for a request that got no complete answer; ``exc`` itself when it
    is no transport failure (a bug, which must show as one)."""
    failure = transport_failure(exc)
    if failure is None:
        return exc
    reason, maybe_sent = failure
    return unreachable(
        context,
        reason or type(exc).__name__,
        maybe_sent=(maybe_sent or sent) and method in _WRITE_METHODS,
    )


class _WatchFailed(Exception):
    """The watch stream sent an ERROR event (its Status object; code 410: the resource
    version is too old)."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status.get("message") or "")
        self.status = status
        self.code = int(status.get("code") or 500)


def _watch_events(open_response: Callable[[], Any]) -> Generator[dict[str, Any], None, None]:
    """The events of one watch request, one JSON object per line, as they arrive."""
    response = open_response()
    pending = b""
    try:
        for chunk in response.stream(amt=None, decode_content=False):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    raise _WatchFailed(event.get("object") or {})
                yield event
    finally:
        response.close()
        response.release_conn()


def user_agent() -> str:
    from podscope import __version__

    return f"podscope/{__version__}"


class KubeClient:
    """A connection to one cluster (one kubeconfig context). Safe to share between threads."""

    def __init__(
        self,
        api_client: Any,
        *,
        namespace: str,
        context: str,
        request_timeout: float,
        connect_timeout: float,
        credentials: ExecCredentials | None = None,
        certificate_check: Callable[[], None] | None = None,
        user: str = "",
    ) -> None:
        self._api = api_client
        # Run after a refused request: says when the client certificate has expired (the
        # server only answers 401), without reading the certificate on every start.
        self._certificate_check = certificate_check
        # The kubeconfig's name for the user entry: a label, never a credential.
        self.user = user
        # Audit logs and the API server's own logs name the tool that sent each request.
        api_client.user_agent = user_agent()
        self._credentials = credentials
        self.namespace = namespace
        self.context = context
        self.server: str = api_client.configuration.host
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        # What each request is about, for its errors: the fields of RequestContext, this server.
        self._context = functools.partial(RequestContext, server=self.server)
        self._shape: EphemeralShape | None = None
        self._shape_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        context: RequestContext,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str | None = None,
        read_timeout: float | None = None,
        new_container: str | None = None,
    ) -> Any:
        """Send one request; return the response, unread. Raises podscope errors."""
        _check_path_names(context)
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        params = list(query or [])
        if method in _MANAGED_WRITES:
            params.append(("fieldManager", FIELD_MANAGER))
        timeout = (self.connect_timeout, read_timeout or self.request_timeout)
        for attempt in (1, 2):
            try:
                method, url, sent_headers, sent_body, _ = self._api.param_serialize(
                    method=method,
                    resource_path=path,
                    query_params=params,
                    header_params=dict(headers),
                    body=body,
                    auth_settings=["BearerToken"],
                )
                response = self._api.call_api(
                    method, url, sent_headers, sent_body, _request_timeout=timeout
                )
            except _package_errors() as exc:
                raise map_api_error(exc, context, new_container=new_container) from None
            except Exception as exc:
                raise _unanswered(exc, context, method) from None
            if response.status == 401 and attempt == 1 and self._renew(sent_headers):
                response.read()
                continue  # as kubectl does: a refused exec credential is fetched again once
            break
        if not 200 <= response.status <= 299:
            response.read()
            if response.status == 401 and self._certificate_check is not None:
                self._certificate_check()
            raise map_status(response.status, response.data, context, new_container=new_container)
        return response.response

    def _renew(self, sent_headers: dict[str, str]) -> bool:
        if self._credentials is None:
            return False
        sent = next((v for k, v in sent_headers.items() if k.lower() == "authorization"), "")
        return self._credentials.renew_after_rejection(sent.removeprefix("Bearer ") or None)

    def stream_headers(self, path: str) -> tuple[str, dict[str, str]]:
        """The URL of ``path`` and the headers a stream to it carries (auth with the current
        credential, the User-Agent), built as for every other request."""
        _, url, headers, _, _ = self._api.param_serialize(
            method="GET", resource_path=path, header_params={}, auth_settings=["BearerToken"]
        )
        return url, dict(headers)

    def _json(self, method: str, path: str, context: RequestContext, **kwargs: Any) -> Any:
        response = self._send(method, path, context, **kwargs)
        try:
            data = response.data
        except Exception as exc:
            # The answer broke off: the request itself was sent.
            raise _unanswered(exc, context, method, sent=True) from None
        finally:
            response.release_conn()
        try:
            return json.loads(data)
        except ValueError:
            raise PodscopeError(
                f"the API server sent a non-JSON answer to {context.verb} {context.resource_path}"
            ) from None

    def _object(
        self, method: str, path: str, context: RequestContext, **kwargs: Any
    ) -> dict[str, Any]:
        """A request the server answers with one object."""
        answer: dict[str, Any] = self._json(method, path, context, **kwargs)
        return answer

    def _write(
        self,
        method: str,
        path: str,
        context: RequestContext,
        body: dict[str, Any],
        *,
        content_type: str = "application/json",
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A write of ``body`` (JSON unless ``content_type`` says otherwise): the answer."""
        return self._object(method, path, context, body=body, content_type=content_type, **kwargs)

    def _items(
        self, path: str, context: RequestContext, query: list[tuple[str, str]] | None = None
    ) -> list[dict[str, Any]]:
        """The items of a list the server answers ``GET path`` with."""
        return list(self._json("GET", path, context, query=query).get("items") or [])

    # -- reads ------------------------------------------------------------------------------

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        context = self._context("get", "pods", namespace, name)
        return self._object("GET", f"/api/v1/namespaces/{namespace}/pods/{name}", context)

    def list_pods(
        self,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Pods of ``namespace`` (``None``: all namespaces), optionally filtered."""
        context = self._context("list", "pods", namespace)
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        query: list[tuple[str, str]] = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        return self._items(path, context, query)

    def pull_secret_registries(self, namespace: str, name: str) -> tuple[str, ...] | None:
        """The registry keys of Secret ``name`` as the kubelet reads a pull secret (None: not
        one). The Secret's credentials are dropped here: no caller ever holds them."""
        from podscope.rules.pullsecrets import secret_registries

        context = self._context("get", "secrets", namespace, name)
        return secret_registries(
            self._json("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}", context)
        )

    def get_service_account(self, namespace: str, name: str) -> dict[str, Any]:
        context = self._context("get", "serviceaccounts", namespace, name)
        return self._object(
            "GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}", context
        )

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]:
        """The core Events of ``namespace`` that ``field_selector`` picks (what kubelets
        reported about an object)."""
        context = self._context("list", "events", namespace)
        query = [("fieldSelector", field_selector)]
        return self._items(f"/api/v1/namespaces/{namespace}/events", context, query)

    def list_pods_pages(self, namespace: str | None, limit: int) -> Iterator[list[dict[str, Any]]]:
        """Pods of ``namespace`` (``None``: all namespaces), at most ``limit`` per request
        (``0``: all in one), one list per page. The next page is asked for only when the
        caller takes it, so a caller that handles each page before the next holds one page
        of the cluster at a time. The API server keeps a page's ``continue`` token for a
        few minutes; a caller slower than that gets its 410 "expired" as an error.
        """
        context = self._context("list", "pods", namespace)
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        token: str | None = None
        while True:
            query: list[tuple[str, str]] = []
            if limit > 0:
                query.append(("limit", str(limit)))
            if token:
                query.append(("continue", token))
            try:
                data = self._json("GET", path, context, query=query)
            except PodscopeError as exc:
                if exc.status != 410 or token is None:
                    raise
                # Half a listing is no inventory: start again, with bigger pages.
                raise PodscopeError(
                    "the API server expired the list's continue token before its last page "
                    "was read (it keeps one for about five minutes)",
                    remedy="run the command again; a larger --chunk-size needs fewer pages",
                    status=exc.status,
                    reason=exc.reason,
                    request=exc.request,
                ) from None
            token = (data.get("metadata") or {}).get("continue") or None
            items = list(data.get("items") or [])
            del data
            yield items
            if not token or limit <= 0:
                return

    def get_workload(self, namespace: str, ref: PodRef) -> tuple[dict[str, Any], str]:
        """A Running Pod of the workload ``ref`` (or the Pod ``ref`` names) and a sentence
        saying why it was chosen."""
        workload = ref.workload
        if workload is None:
            return self.get_pod(namespace, ref.name), "named on the command line"
        pods = self.list_pods(namespace, label_selector=self.workload_selector(namespace, ref))
        return pick_running_pod(pods, ref)

    def workload_selector(self, namespace: str, ref: PodRef) -> str:
        """The label selector (string form) of the workload ``ref``'s Pods."""
        workload = ref.workload
        assert workload is not None, "a workload reference"
        context = self._context("get", workload.plural, namespace, ref.name, group=workload.group)
        obj = self._json(
            "GET",
            f"/apis/{workload.group}/v1/namespaces/{namespace}/{workload.plural}/{ref.name}",
            context,
        )
        selector = selector_string((obj.get("spec") or {}).get("selector"))
        if not selector:
            raise UnsupportedError(f"{ref} has no Pod selector to find its Pods by")
        return selector

    def server_version(self) -> dict[str, Any]:
        """The ``/version`` document (``gitVersion``, ``major``, ``minor``, ...)."""
        return self._object("GET", "/version", self._context("get", "version"))

    def get_namespace(self, name: str) -> dict[str, Any]:
        context = self._context("get", "namespaces", name=name)
        return self._object("GET", f"/api/v1/namespaces/{name}", context)

    def get_path(self, path: str) -> Any:
        """``GET path`` as JSON: a read the other methods do not name (shell completion)."""
        return self._json("GET", path, self._context("get", path.rsplit("/", 1)[-1]))

    def list_namespaces(self) -> list[dict[str, Any]]:
        return self._items("/api/v1/namespaces", self._context("list", "namespaces"))

    def workload_names(self, namespace: str, kind: str) -> list[str]:
        """Names of the workloads of ``kind`` (``deploy``, ``sts``, ...) in ``namespace``."""
        from podscope.rules.workloads import WORKLOAD_KINDS

        workload = WORKLOAD_KINDS.get(kind.lower())
        if workload is None:
            return []
        context = self._context("list", workload.plural, namespace, group=workload.group)
        items = self._items(
            f"/apis/{workload.group}/v1/namespaces/{namespace}/{workload.plural}", context
        )
        return [str((i.get("metadata") or {}).get("name")) for i in items]

    def list_nodes(self) -> list[dict[str, Any]]:
        return self._items("/api/v1/nodes", self._context("list", "nodes"))

    def get_node(self, name: str) -> dict[str, Any]:
        return self._object(
            "GET", f"/api/v1/nodes/{name}", self._context("get", "nodes", name=name)
        )

    def kubelet_configz(self, node: str) -> dict[str, Any]:
        """The kubelet's running configuration (``{"kubeletconfig": {...}}``), through the
        API server's node proxy; needs ``get`` on ``nodes/proxy``."""
        context = self._context("get", "nodes", name=node, subresource="proxy")
        return self._object("GET", f"/api/v1/nodes/{node}/proxy/configz", context)

    def core_resources(self) -> dict[str, Any]:
        """The ``/api/v1`` discovery document (an APIResourceList)."""
        return self._object("GET", "/api/v1", self._context("get", "api/v1"))

    def ephemeral_shape(self) -> EphemeralShape:
        """How this server takes ephemeral containers: "pod", "legacy" or "absent" (cached)."""
        with self._shape_lock:
            if self._shape is None:
                self._shape = ephemeral_shape(self.core_resources())
            return self._shape

    def writable_ephemeral_shape(self) -> EphemeralShape:
        """``ephemeral_shape()``, refusing a server that cannot take ephemeral containers."""
        shape = self.ephemeral_shape()
        if shape == "absent":
            raise _no_ephemeral_containers()
        return shape

    def read_log(self, query: LogQuery) -> bytes:
        """The part of a container's log that ``query`` names (a ValidationError where the
        server cannot split a log by stream and ``query.stream`` asks it to)."""
        context = self._context("get", "pods", query.namespace, query.pod, subresource="log")
        path = f"/api/v1/namespaces/{query.namespace}/pods/{query.pod}/log"
        response = self._send("GET", path, context, query=query.query())
        try:
            data: bytes = response.data
        finally:
            response.release_conn()
        return data

    def access_review(self, question: AccessQuestion) -> tuple[bool, str]:
        """Whether the current user may do it (SelfSubjectAccessReview): (allowed, reason)."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": question.attributes()},
        }
        context = self._context("create", "selfsubjectaccessreviews", group="authorization.k8s.io")
        answer = self._json(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            context,
            body=body,
        )
        status = answer.get("status") or {}
        return bool(status.get("allowed")), str(status.get("reason") or "")

    def self_subject_review(self) -> dict[str, Any]:
        """Who the API server takes this client for (SelfSubjectReview: v1 from 1.28, beta
        in 1.27). NotFoundError where the server has no such API."""
        body_of = {"kind": "SelfSubjectReview"}
        context = self._context("create", "selfsubjectreviews", group="authentication.k8s.io")
        for version in ("v1", "v1beta1"):
            try:
                return self._write(
                    "POST",
                    f"/apis/authentication.k8s.io/{version}/selfsubjectreviews",
                    context,
                    {**body_of, "apiVersion": f"authentication.k8s.io/{version}"},
                )
            except NotFoundError:
                if version == "v1beta1":
                    raise
        raise AssertionError("unreachable")

    # -- writes -----------------------------------------------------------------------------

    def patch_ephemeral_containers(
        self,
        namespace: str,
        name: str,
        body: dict[str, Any],
        shape: EphemeralShape,
        *,
        new_container: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Add ephemeral containers: strategic-merge PATCH (1.22+) or PUT of the list (1.16-1.21).

        Returns what the server answered (the Pod, or the EphemeralContainers object).
        ``dry_run`` sends ``dryRun=All``: the server validates and admits the change (RBAC,
        PodSecurity, webhooks) and answers as if it had applied it, but stores nothing.
        """
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers"
        if shape == "pod":
            context = self._context("patch", "pods", namespace, name, "ephemeralcontainers")
            method, content_type = "PATCH", "application/strategic-merge-patch+json"
        elif shape == "legacy":
            context = self._context("update", "pods", namespace, name, "ephemeralcontainers")
            method, content_type = "PUT", "application/json"
        else:
            raise _no_ephemeral_containers()
        return self._write(
            method,
            path,
            context,
            body,
            content_type=content_type,
            new_container=new_container,
            query=[("dryRun", "All")] if dry_run else None,
        )

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a core/v1 Event (a record on an object that ``kubectl describe`` shows)."""
        context = self._context("create", "events", namespace)
        return self._write("POST", f"/api/v1/namespaces/{namespace}/events", context, body)

    def create_pod(
        self, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Create a Pod; ``dry_run`` has the server validate and admit it without storing it."""
        name = (body.get("metadata") or {}).get("name")
        context = self._context("create", "pods", namespace, name)
        dry = [("dryRun", "All")] if dry_run else None
        return self._write("POST", f"/api/v1/namespaces/{namespace}/pods", context, body, query=dry)

    def delete_pod(
        self,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Delete a Pod (without waiting for it to go). ``uid`` makes the server refuse (409)
        when the name now belongs to another Pod than the one that was read."""
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if uid:
            body["preconditions"] = {"uid": uid}
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        context = self._context("delete", "pods", namespace, name)
        return self._write("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", context, body)

    # -- watch ------------------------------------------------------------------------------

    def _watch_request(self, namespace: str, name: str, **kwargs: Any) -> Any:
        context = self._context("watch", "pods", namespace, name)
        seconds = int(kwargs.get("timeout_seconds") or 60)
        query = [
            ("watch", "true"),
            ("fieldSelector", f"metadata.name={name}"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(seconds)),
        ]
        if kwargs.get("resource_version"):
            query.append(("resourceVersion", str(kwargs["resource_version"])))
        return self._send(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods",
            context,
            query=query,
            read_timeout=seconds + self.connect_timeout,
        )

    def watch_pod(
        self,
        namespace: str,
        name: str,
        resource_version: str | None,
        timeout: float,
        *,
        on_retry: Callable[[str], None] | None = None,
        poll: Callable[[], None] | None = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(event type, pod)`` for one Pod until ``timeout`` seconds have passed.

        Starts after ``resource_version``; after a disconnect it resumes from the last version
        seen, and when that version has expired (410 Gone) it re-reads the Pod and yields it as
        a ``MODIFIED`` event. A deleted Pod ends the stream with a ``DELETED`` event.

        An unreachable or failing API server (a restart, a dropped connection) is retried with
        backoff for up to ``WATCH_OUTAGE_SECONDS`` (``on_retry`` hears about each retry); a
        longer outage raises ``UnreachableError``.

        ``poll`` runs about every ``WATCH_POLL_SECONDS`` while the watch lasts, for what the
        Pod does not show (the kubelet's Events); it may raise to end the watch.
        """
        from podscope.errors import NotFoundError, UnreachableError
        from podscope.kube.errors import ServerError

        deadline = time.monotonic() + timeout
        version = resource_version
        expired = False
        last: dict[str, Any] = {}
        retry = Retry(_WATCH_BACKOFF, within=WATCH_OUTAGE_SECONDS, deadline=deadline)
        context = self._context("watch", "pods", namespace, name)

        def retry_later(reason: str) -> None:
            # Called on a failed watch or re-read; sleeps, or raises once the outage is too long.
            pause = retry.next_pause()
            if pause is None:
                raise unreachable(context, reason)
            # Say so on the first failure and now and then, not on every attempt.
            if on_retry is not None and (retry.failures == 1 or retry.failures % 5 == 0):
                on_retry(f"lost the watch on Pod {name} ({reason}); retrying")
            retry.sleep(pause)

        longest = _MAX_WATCH_SECONDS if poll is None else WATCH_POLL_SECONDS
        first = True
        while (remaining := deadline - time.monotonic()) > 0:
            if poll is not None and not first:
                poll()
            first = False
            seconds = max(1, min(int(remaining + 0.999), longest))
            events = _watch_events(
                functools.partial(
                    self._watch_request,
                    namespace,
                    name,
                    resource_version=version,
                    timeout_seconds=seconds,
                )
            )
            try:
                for event in events:
                    retry.reset()
                    kind = event.get("type")
                    obj = event.get("object") or {}
                    obj_version = (obj.get("metadata") or {}).get("resourceVersion")
                    if obj_version:
                        version = obj_version
                    if kind == "BOOKMARK":
                        continue
                    last = obj
                    yield str(kind), obj
                    if kind == "DELETED":
                        return
                    if time.monotonic() >= deadline:
                        return
            except _WatchFailed as exc:
                if exc.code == 410:
                    version, expired = None, True  # re-read below
                elif exc.code == 429 or exc.code >= 500:
                    retry_later(f"HTTP {exc.code}")
                else:
                    raise map_status(exc.code, json.dumps(exc.status).encode(), context) from None
            except (ServerError, UnreachableError) as exc:
                # Opening the watch failed: the API server is restarting or out of reach.
                retry_later(exc.message)
            except Exception as exc:
                failure = transport_failure(exc)
                if failure is None:
                    raise
                retry_later(failure[0] or type(exc).__name__)
            finally:
                # Closes the HTTP response now, not whenever the generator is collected.
                events.close()
            if expired and time.monotonic() < deadline:
                try:
                    pod = self.get_pod(namespace, name)
                except NotFoundError:
                    yield "DELETED", last
                    return
                except (ServerError, UnreachableError) as exc:
                    retry_later(exc.message)
                    continue
                last = pod
                yield "MODIFIED", pod
                # The Pod's own version is older than the history whenever the Pod has not
                # changed for a while: a watch from it would be refused at once, read after
                # read. Without a version the server starts from now with the Pod as ADDED.
                version, expired = None, False

    # -- streams ----------------------------------------------------------------------------

    def _open(
        self, path: str, query: list[tuple[str, str]], context: RequestContext
    ) -> ChannelStream:
        _check_path_names(context)
        url, headers = self.stream_headers(path)
        return open_stream(
            self._api.configuration,
            url,
            query,
            headers,
            context,
            connect_timeout=self.connect_timeout,
        )

    def attach(self, query: StreamQuery) -> ChannelStream:
        """Attach to a running container's process."""
        context = self._context("create", "pods", query.namespace, query.pod, subresource="attach")
        path = f"/api/v1/namespaces/{query.namespace}/pods/{query.pod}/attach"
        return self._open(path, query.query(), context)

    def exec(self, query: StreamQuery, command: list[str]) -> ChannelStream:
        """Run ``command`` in a running container; the final Status carries its exit code."""
        context = self._context("create", "pods", query.namespace, query.pod, subresource="exec")
        path = f"/api/v1/namespaces/{query.namespace}/pods/{query.pod}/exec"
        return self._open(path, [("command", part) for part in command] + query.query(), context)

    def widen_pool(self, size: int) -> None:
        """Keep up to ``size`` connections per host, for that many requests at once (a run
        over several Pods holds a watch or two per Pod besides its requests)."""
        widen = getattr(self._api, "widen_pool", None)
        if widen is not None:
            widen(size)
            return
        manager = self._api.rest_client.pool_manager  # the kubernetes package's client
        if int(manager.connection_pool_kw.get("maxsize") or 1) < size:
            manager.connection_pool_kw["maxsize"] = size
            # Pools made before keep their size: drop them (only idle ones exist yet).
            manager.clear()

    def close(self) -> None:
        self._api.close()
