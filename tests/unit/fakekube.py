"""An in-memory stand-in for the API server, behind the ``KubeAPI`` protocol.

It keeps the server behaviour podscope relies on:

- a store of Pods whose ``resourceVersion`` goes up on every write, each write recorded as a
  watch event (ADDED / MODIFIED / DELETED) for the watch to replay;
- watches from a resourceVersion (``_watch_request`` serves the HTTP watch stream, and the real
  ``KubeClient.watch_pod`` loop runs on top of it: resumption, 410 re-reads and retries are
  podscope's own code, not the fake's), BOOKMARK events when a watch idles, and a 410
  ``Expired`` ERROR event for a version older than the last ``compact()``;
- 409 for a stale ``resourceVersion`` and for a name already taken; the UID precondition on
  delete;
- both ``ephemeralcontainers`` shapes: a strategic-merge PATCH of ``spec.ephemeralContainers``
  (1.22+, merged by name, so a changed container of an existing name is "may not be changed")
  and a PUT of an ``EphemeralContainers`` list (1.16-1.21, with "Duplicate value" and the
  resourceVersion precondition);
- container states moved by the test through ``fake.kubelet``;
- attach/exec streams as real :class:`ChannelStream` objects over an in-memory socket, so
  framing, exit codes and lost connections go through podscope's stream code;
- faults injected per method (HTTP status, unreachable server, an answer lost after the write
  was applied, a dropped watch).

Every error is made the way the real client makes it: an HTTP status and a ``metav1.Status``
body handed to ``podscope.kube.errors.map_status`` (or ``unreachable``), so the fake never
invents an error shape. Time is a :class:`FakeClock`: a watch on a quiet Pod ends by moving the
clock to the end of its window, so timeouts take no real time.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
import urllib3

from podscope.kube import client as client_module
from podscope.kube.client import KubeClient, _check_path_names
from podscope.kube.discovery import EphemeralShape
from podscope.kube.errors import RequestContext, map_status, unreachable
from podscope.kube.queries import AccessQuestion, LogQuery, StreamQuery
from podscope.kube.streams import (
    CLOSE_SIGNAL,
    ERROR,
    STDERR,
    STDIN,
    STDOUT,
    V5_PROTOCOL,
    ChannelStream,
)
from podscope.rules.debugger import WATCHED_SESSION_SCRIPT
from podscope.rules.workloads import PodRef, pick_running_pod, selector_string

NAMESPACE = "default"
SERVER = "https://fake-apiserver:6443"


# -- time ---------------------------------------------------------------------------------------


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for the modules that wait; sleeping moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def time(self) -> float:
        return self.monotonic()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(0.0, seconds)

    def advance_to(self, when: float) -> None:
        with self._lock:
            self.now = max(self.now, when)


# Modules whose ``time`` the clock replaces (each imports the module ``time`` and calls it).
CLOCKED_MODULES = (
    "podscope.kube.client",
    "podscope.session.ephemeral",
    "podscope.session.apply",
    "podscope.session.pod_copy",
    "podscope.session.attach",
    "podscope.session.cp.run",
    "podscope.backoff",
)


def install_clock(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    import importlib

    for name in CLOCKED_MODULES:
        monkeypatch.setattr(importlib.import_module(name), "time", clock)


# -- faults -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Http:
    """Answer with this HTTP status (and a Status body), without doing the request."""

    status: int
    message: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Unreachable:
    """The connection fails. ``maybe_sent``: after a write went out (the real client then
    raises RequestOutcomeUnknown); the write is NOT applied."""

    reason: str = "connection refused"
    maybe_sent: bool = False


@dataclass(frozen=True)
class LostAnswer:
    """The write IS applied, then the connection breaks before the answer arrives."""

    reason: str = "Connection aborted: RemoteDisconnected"


@dataclass(frozen=True)
class DropWatch:
    """The watch connection breaks after ``after`` events (a mid-stream protocol error)."""

    after: int = 0


@dataclass(frozen=True)
class WatchError:
    """The watch stream sends an ERROR event with this code after ``after`` events."""

    code: int = 500
    reason: str = "InternalError"
    after: int = 0


@dataclass(frozen=True)
class Raise:
    """The call raises this (e.g. KeyboardInterrupt: the user pressed Ctrl-C during it)."""

    error: BaseException


Fault = Http | Unreachable | LostAnswer | DropWatch | WatchError | Raise

_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(
    code: int, message: str, reason: str = "", details: dict[str, Any] | None = None
) -> bytes:
    """A ``metav1.Status`` failure document, as the API server sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, ""),
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return json.dumps(body).encode()


# -- watch stream -------------------------------------------------------------------------------


@dataclass
class _Event:
    version: int
    kind: str
    namespace: str
    name: str
    obj: dict[str, Any]


class _WatchResponse:
    """The body of ``GET .../pods?watch=true``: newline-separated JSON events, served lazily."""

    status = 200

    def __init__(
        self,
        fake: FakeKube,
        namespace: str,
        name: str,
        version: str | None,
        seconds: int,
        fault: Fault | None,
    ) -> None:
        self._fake, self._namespace, self._name = fake, namespace, name
        self._version = version
        self._end = fake.clock.monotonic() + seconds
        self._fault = fault
        self.closed = False

    def stream(self, amt: Any = None, decode_content: Any = None) -> Iterator[bytes]:
        fake = self._fake
        sent = 0
        if self._version is not None and int(self._version) < fake.compacted:
            # The API server answers 200 and then one ERROR event carrying a 410 Status.
            status = json.loads(
                status_body(
                    410,
                    f"too old resource version: {self._version} ({fake.compacted})",
                    "Expired",
                )
            )
            yield _line("ERROR", status)
            return
        if self._version is None:
            # No version: the current object as ADDED, then what follows it.
            pod = fake._pods.get((self._namespace, self._name))
            position = fake._version
            if pod is not None:
                yield _line("ADDED", pod)
                sent += 1
        else:
            position = int(self._version)
        while not self.closed:
            pending = [
                e
                for e in list(fake._events)
                if e.version > position and (e.namespace, e.name) == (self._namespace, self._name)
            ]
            for event in pending:
                if isinstance(self._fault, DropWatch) and sent >= self._fault.after:
                    raise urllib3.exceptions.ProtocolError(
                        "Connection broken: IncompleteRead(0 bytes read)"
                    )
                if isinstance(self._fault, WatchError) and sent >= self._fault.after:
                    yield self._error_line(self._fault)
                    return
                position = event.version
                sent += 1
                yield _line(event.kind, event.obj)
            if pending:
                continue
            if isinstance(self._fault, DropWatch):
                raise urllib3.exceptions.ProtocolError("Connection broken: connection reset")
            if isinstance(self._fault, WatchError):
                yield self._error_line(self._fault)
                return
            if threading.current_thread() is not fake.owner:
                # A background watch (the session monitor) waits in real time for a write,
                # and leaves the test's clock and idle actions to the test's own thread.
                if fake._wait_for_write(position):
                    continue
                return
            if fake._run_idle_hook():
                continue
            # Nothing more happens: a bookmark, then the server holds the watch to its end.
            bookmark: dict[str, Any] = {"kind": "Pod", "apiVersion": "v1"}
            bookmark["metadata"] = {"resourceVersion": str(fake._version)}
            yield _line("BOOKMARK", bookmark)
            fake.clock.advance_to(self._end)
            return

    @staticmethod
    def _error_line(fault: WatchError) -> bytes:
        return _line(
            "ERROR", json.loads(status_body(fault.code, "etcd leader changed", fault.reason))
        )

    def read_chunked(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        return self.stream()

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


# -- streams ------------------------------------------------------------------------------------

# What runs behind an exec or attach: (command, stdin) -> (stdout, stderr, exit code). None as
# the exit code: the connection drops without a Status (a lost stream). None instead of the
# tuple: the process keeps running and the stream stays open until it is closed.
# A dict as the exit code is sent as the stream's final Status as it is (a failure that is no
# exit code, e.g. the kubelet's "container not found").
Program = Callable[[list[str], bytes], "tuple[bytes, bytes, int | dict[str, Any] | None] | None"]


class _Frame:
    def __init__(self, data: bytes) -> None:
        self.data = data


_running = threading.local()


def exec_target() -> tuple[str, str, str] | None:
    """``(namespace, pod, container)`` of the exec or attach whose program is running now
    (a program shared by many containers, such as ``programs["*"]``, tells them apart)."""
    return getattr(_running, "target", None)


class FakeSocket:
    """The server end of an attach/exec WebSocket, as ``ChannelStream`` uses one."""

    def __init__(
        self,
        program: Program,
        command: list[str],
        stdin: bool,
        target: tuple[str, str, str] | None = None,
    ) -> None:
        self._program, self._command = program, command
        self.target = target
        self._stdin_open = stdin
        self.stdin = bytearray()
        self.resizes: list[bytes] = []
        self._out: deque[bytes | None] = deque()
        self._ready = threading.Condition()
        self._ran = False
        self.sock: object | None = object()
        # A program runs once its input has come; a watched session's command reads none
        # (its stdin stream only tells that the client has gone), so it runs at once.
        if not stdin or (command[2:3] == [WATCHED_SESSION_SCRIPT]):
            self._run()

    def _run(self) -> None:
        _running.target = self.target
        try:
            answer = self._program(self._command, bytes(self.stdin))
        finally:
            _running.target = None
        with self._ready:
            self._ran = True
            if answer is None:
                return
            stdout, stderr, code = answer
            if stdout:
                self._out.append(bytes([STDOUT]) + stdout)
            if stderr:
                self._out.append(bytes([STDERR]) + stderr)
            if code is None:
                self._out.append(None)  # dropped: no Status, no close frame
            else:
                if isinstance(code, dict):
                    status = code
                elif code == 0:
                    status: dict[str, Any] = {"metadata": {}, "status": "Success"}
                else:
                    status = {
                        "metadata": {},
                        "status": "Failure",
                        "message": f"command terminated with non-zero exit code: {code}",
                        "reason": "NonZeroExitCode",
                        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
                    }
                self._out.append(bytes([ERROR]) + json.dumps(status).encode())
                self._out.append(b"")  # the close frame
            self._ready.notify_all()

    def recv_data_frame(self, control: bool) -> tuple[int, _Frame]:
        from websocket import ABNF, WebSocketConnectionClosedException

        with self._ready:
            while not self._out and self.sock is not None:
                self._ready.wait(5)
            if self.sock is None:
                raise WebSocketConnectionClosedException("socket is already closed.")
            item = self._out.popleft()
        if item is None:
            raise WebSocketConnectionClosedException("Connection to remote host was lost.")
        if item == b"":
            return ABNF.OPCODE_CLOSE, _Frame(b"")
        return ABNF.OPCODE_BINARY, _Frame(item)

    def send(self, payload: bytes, opcode: int = 2) -> None:
        channel, data = payload[0], payload[1:]
        if channel == STDIN:
            self.stdin.extend(data)
        elif channel == CLOSE_SIGNAL and data[:1] == bytes([STDIN]) and not self._ran:
            self._run()
        else:
            self.resizes.append(data)

    def abort(self) -> None:
        with self._ready:
            self.sock = None
            self._ready.notify_all()

    def shutdown(self) -> None:
        self.abort()


# -- the kubelet --------------------------------------------------------------------------------


class Kubelet:
    """Moves container states the way a kubelet reports them (each move is one Pod write)."""

    def __init__(self, fake: FakeKube) -> None:
        self._fake = fake

    def _now(self) -> str:
        """The fake clock as the RFC 3339 time a kubelet reports (second precision)."""
        start = datetime.datetime(2026, 12, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
        moment = start + datetime.timedelta(seconds=self._fake.clock.monotonic() - 1000.0)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _set(
        self,
        name: str,
        container: str,
        state: dict[str, Any],
        namespace: str = NAMESPACE,
        **extra: Any,
    ) -> dict[str, Any]:
        fake = self._fake
        pod = fake._stored(namespace, name)
        spec = pod.get("spec") or {}
        key = "containerStatuses"
        if any(c.get("name") == container for c in spec.get("ephemeralContainers") or []):
            key = "ephemeralContainerStatuses"
        elif any(c.get("name") == container for c in spec.get("initContainers") or []):
            key = "initContainerStatuses"
        statuses = pod.setdefault("status", {}).setdefault(key, [])
        item = next((s for s in statuses if s.get("name") == container), None)
        if item is None:
            item = {"name": container, "restartCount": 0, "ready": False}
            statuses.append(item)
        item["state"] = state
        item.update(extra)
        return fake._write(pod, "MODIFIED")

    def waiting(
        self, name: str, container: str, reason: str, message: str = "", namespace: str = NAMESPACE
    ) -> dict[str, Any]:
        state: dict[str, Any] = {"reason": reason}
        if message:
            state["message"] = message
        return self._set(name, container, {"waiting": state}, namespace)

    def start(self, name: str, container: str, namespace: str = NAMESPACE) -> dict[str, Any]:
        pod = self._fake._stored(namespace, name)
        if (pod.get("status") or {}).get("phase") in (None, "Pending"):
            pod.setdefault("status", {})["phase"] = "Running"
            self._fake._write(pod, "MODIFIED")
        return self._set(
            name,
            container,
            {"running": {"startedAt": self._now()}},
            namespace,
            ready=True,
        )

    def fail_pull(self, name: str, container: str, image: str = "nope:1") -> dict[str, Any]:
        return self.waiting(
            name,
            container,
            "ErrImagePull",
            f'failed to pull and unpack image "docker.io/library/{image}": not found',
        )

    def fail_create(self, name: str, container: str, message: str) -> dict[str, Any]:
        return self.waiting(name, container, "CreateContainerError", message)

    def terminate(
        self,
        name: str,
        container: str,
        exit_code: int,
        reason: str | None = None,
        message: str = "",
        namespace: str = NAMESPACE,
    ) -> dict[str, Any]:
        term: dict[str, Any] = {
            "exitCode": exit_code,
            "reason": reason or ("Completed" if exit_code == 0 else "Error"),
            "startedAt": "2026-12-01T10:00:00Z",
            "finishedAt": "2026-12-01T10:00:05Z",
        }
        if message:
            term["message"] = message
        return self._set(name, container, {"terminated": term}, namespace, ready=False)

    def restart(
        self, name: str, container: str, exit_code: int, namespace: str = NAMESPACE
    ) -> dict[str, Any]:
        pod = self._fake._stored(namespace, name)
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        item: dict[str, Any] = next((s for s in statuses if s.get("name") == container), {})
        return self._set(
            name,
            container,
            {"running": {"startedAt": "2026-12-01T10:01:00Z"}},
            namespace,
            restartCount=int(item.get("restartCount") or 0) + 1,
            lastState={"terminated": {"exitCode": exit_code, "reason": "Error"}},
        )

    def finish_pod(self, name: str, phase: str = "Succeeded", namespace: str = NAMESPACE) -> None:
        pod = self._fake._stored(namespace, name)
        pod.setdefault("status", {})["phase"] = phase
        self._fake._write(pod, "MODIFIED")

    def begin_delete(self, name: str, namespace: str = NAMESPACE) -> None:
        pod = self._fake._stored(namespace, name)
        pod["metadata"]["deletionTimestamp"] = "2026-12-01T10:02:00Z"
        self._fake._write(pod, "MODIFIED")

    def delete_pod(self, name: str, namespace: str = NAMESPACE) -> None:
        self._fake._remove(namespace, name)

    def replace_pod(self, name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
        """Delete the Pod and create another of the same name (a StatefulSet does)."""
        old = self._fake._stored(namespace, name)
        self._fake._remove(namespace, name)
        fresh = {"metadata": {"name": name, "labels": old["metadata"].get("labels") or {}}}
        fresh["spec"] = {"containers": copy.deepcopy(old["spec"]["containers"])}
        return self._fake.add_pod(fresh, namespace=namespace)


# -- the API ------------------------------------------------------------------------------------


def _labels_match(labels: dict[str, str], selector: str | None) -> bool:
    for term in (selector or "").split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class FakeKube:
    """An API server in memory, with the members of ``KubeAPI`` (and a ``kubelet``)."""

    def __init__(self, shape: EphemeralShape = "pod", namespace: str = NAMESPACE) -> None:
        self.namespace = namespace
        self.server = SERVER
        self._context = functools.partial(RequestContext, server=self.server)
        self.request_timeout = 30.0
        # (verb, resource, subresource) -> allowed; everything else is allowed.
        self.denied: set[tuple[str, str, str | None]] = set()
        self.context = "fake"
        self.connect_timeout = 1.0
        self.shape: EphemeralShape = shape
        self.clock = FakeClock()
        self.kubelet = Kubelet(self)
        self._pods: dict[tuple[str, str], dict[str, Any]] = {}
        self._version = 100
        self._uids = 0
        self._events: list[_Event] = []
        self.compacted = 0  # versions below this are gone from the watch history (410)
        self.workloads: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.core_events: list[dict[str, Any]] = []  # core Events, for list_events
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}  # (namespace, name) -> Secret
        self.service_accounts: dict[tuple[str, str], dict[str, Any]] = {}
        self.added: dict[tuple[str, str], list[str]] = {}  # ephemeral names, in order added
        self.logs: dict[tuple[str, str, str], bytes] = {}  # (ns, pod, container) -> both streams
        self.log_streams: dict[tuple[str, str, str], tuple[bytes, bytes]] = {}  # stdout, stderr
        self.split_logs = True  # whether read_log takes stream=Stdout/Stderr
        # Container name (or "*": any) -> what exec/attach runs in it.
        self.programs: dict[str, Program] = {}
        self.sockets: list[FakeSocket] = []
        # Every request, in order: (method, namespace, name, detail).
        self.calls: list[tuple[str, str | None, str | None, str]] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._idle: deque[Callable[[], Any]] = deque()
        # Admission (PodSecurity, webhooks): pod -> (HTTP status, message) to refuse, or None.
        self.admission: Callable[[dict[str, Any]], tuple[int, str] | None] | None = None
        self._lock = threading.RLock()
        self._written = threading.Condition(self._lock)
        self._closed = False
        self.owner = threading.current_thread()  # the test's thread: it alone runs idle actions
        # What a SelfSubjectReview answers (None: the server has no such API, as 1.21).
        self.user_info: dict[str, Any] | None = {"username": "fake-user", "groups": ["g"]}
        self.user = "fake-kubeconfig-user"
        self.created_events: list[dict[str, Any]] = []

    # -- test controls ------------------------------------------------------------------------

    def add_pod(self, pod: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """Store a Pod as if someone had created it; returns it as stored."""
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        meta.setdefault("namespace", namespace or self.namespace)
        pod.setdefault("spec", {}).setdefault("containers", [{"name": "app", "image": "app:1"}])
        pod.setdefault("status", {}).setdefault("phase", "Running")
        return self._create(pod)

    def running_pod(
        self, name: str = "web", containers: tuple[str, ...] = ("app",), **meta: Any
    ) -> dict[str, Any]:
        """A Running Pod whose containers run (the usual debug target)."""
        pod = self.add_pod(
            {
                "metadata": {"name": name, **meta},
                "spec": {
                    "nodeName": "node-1",
                    "containers": [{"name": c, "image": f"{c}:1"} for c in containers],
                },
            }
        )
        for container in containers:
            pod = self.kubelet.start(name, container, pod["metadata"]["namespace"])
        return pod

    def fail(self, method: str, *faults: Fault) -> None:
        """Make the next calls of ``method`` ("get_pod", "watch", "create_pod", ...) fail.

        ``method[detail]`` picks calls by their recorded detail: ``create_pod[]`` is a real
        create, ``create_pod[dry-run]`` a dry run.
        """
        self._faults.setdefault(method, deque()).extend(faults)

    def when_idle(self, *actions: Callable[[], Any]) -> None:
        """Run each action (one at a time) when a watch has nothing more to send."""
        self._idle.extend(actions)

    def compact(self) -> None:
        """Forget the watch history before the latest write: older versions get 410 Gone."""
        self.compacted = self._version

    def pod(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The stored Pod (a copy), without recording a request."""
        return copy.deepcopy(self._stored(namespace or self.namespace, name))

    def newest_ephemeral(self, pod: str, namespace: str | None = None) -> str:
        """The ephemeral container added last to ``pod`` (whatever its place in the list)."""
        return self.added[(namespace or self.namespace, pod)][-1]

    def has_pod(self, name: str, namespace: str | None = None) -> bool:
        return (namespace or self.namespace, name) in self._pods

    def methods(self) -> list[str]:
        return [call[0] for call in self.calls]

    # -- internals ----------------------------------------------------------------------------

    def _request(
        self, method: str, context: RequestContext, detail: str = "", *, write: bool = False
    ) -> Fault | None:
        """Record the call, check the names, raise an injected fault (or return LostAnswer)."""
        self.calls.append((method, context.namespace, context.name, detail))
        _check_path_names(context)
        queue = self._faults.get(f"{method}[{detail}]") or self._faults.get(method)
        if not queue:
            return None
        fault = queue.popleft()
        if isinstance(fault, Http):
            message = fault.message or f"the server reported HTTP {fault.status}"
            raise map_status(
                fault.status, status_body(fault.status, message, fault.reason), context
            )
        if isinstance(fault, Unreachable):
            raise unreachable(context, fault.reason, maybe_sent=fault.maybe_sent and write)
        if isinstance(fault, Raise):
            raise fault.error
        return fault

    @staticmethod
    def _lost(fault: Fault | None, context: RequestContext) -> None:
        if isinstance(fault, LostAnswer):
            raise unreachable(context, fault.reason, maybe_sent=True)

    def _error(
        self,
        code: int,
        context: RequestContext,
        message: str,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
        new_container: str | None = None,
    ) -> Exception:
        return map_status(
            code, status_body(code, message, reason, details), context, new_container=new_container
        )

    def _not_found(self, context: RequestContext) -> Exception:
        kind = context.resource
        return self._error(
            404,
            context,
            f'{kind} "{context.name}" not found',
            details={"name": context.name, "kind": kind},
        )

    def _invalid(
        self,
        context: RequestContext,
        kind: str,
        causes: list[dict[str, str]],
        new_container: str | None,
    ) -> Exception:
        summary = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
        return self._error(
            422,
            context,
            f'{kind} "{context.name}" is invalid: {summary}',
            details={"name": context.name, "kind": kind.lower() + "s", "causes": causes},
            new_container=new_container,
        )

    def _stored(self, namespace: str, name: str) -> dict[str, Any]:
        return self._pods[(namespace, name)]

    def _write(self, pod: dict[str, Any], kind: str) -> dict[str, Any]:
        with self._lock:
            self._version += 1
            meta = pod["metadata"]
            meta["resourceVersion"] = str(self._version)
            key = (meta["namespace"], meta["name"])
            if kind == "DELETED":
                self._pods.pop(key, None)
            else:
                self._pods[key] = pod
            self._events.append(_Event(self._version, kind, key[0], key[1], copy.deepcopy(pod)))
            self._written.notify_all()
            return copy.deepcopy(pod)

    def _create(self, pod: dict[str, Any]) -> dict[str, Any]:
        self._uids += 1
        # What the server returns always names its kind (create_container relies on it).
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        meta = pod["metadata"]
        meta["uid"] = f"uid-{self._uids}"
        meta.setdefault("creationTimestamp", "2026-12-01T09:00:00Z")
        return self._write(pod, "ADDED")

    def _remove(self, namespace: str, name: str) -> dict[str, Any]:
        return self._write(self._stored(namespace, name), "DELETED")

    def _wait_for_write(self, position: int) -> bool:
        """Block until a write after ``position`` (True) or ``close()`` (False)."""
        with self._written:
            while not self._closed and self._version <= position:
                self._written.wait(0.5)
            return not self._closed

    def close(self) -> None:
        """End background watches (called when a test ends)."""
        with self._written:
            self._closed = True
            self._written.notify_all()

    def _run_idle_hook(self) -> bool:
        with self._lock:
            if not self._idle:
                return False
            action = self._idle.popleft()
        action()
        return True

    def _admit(
        self, pod: dict[str, Any], context: RequestContext, new_container: str | None
    ) -> None:
        if self.admission is None:
            return
        refusal = self.admission(pod)
        if refusal is not None:
            code, message = refusal
            raise self._error(code, context, message, new_container=new_container)

    # -- reads --------------------------------------------------------------------------------

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        context = self._context("get", "pods", namespace, name)
        self._request("get_pod", context)
        pod = self._pods.get((namespace, name))
        if pod is None:
            raise self._not_found(context)
        return copy.deepcopy(pod)

    def list_pods(
        self,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        context = self._context("list", "pods", namespace)
        self._request("list_pods", context, label_selector or "")
        return [
            copy.deepcopy(pod)
            for (ns, _), pod in sorted(self._pods.items())
            if (namespace is None or ns == namespace)
            and _labels_match(pod["metadata"].get("labels") or {}, label_selector)
        ]

    def list_pods_pages(self, namespace: str | None, limit: int) -> Iterator[list[dict[str, Any]]]:
        """As the API server pages: ``limit`` Pods per request in (namespace, name) order, a
        continue token naming the last Pod sent; Pods added behind it show up later."""
        context = self._context("list", "pods", namespace)
        after: tuple[str, str] | None = None
        while True:
            self._request("list_pods_page", context, f"limit={limit},after={after}")
            keys = sorted(
                k
                for k in self._pods
                if (namespace is None or k[0] == namespace) and (after is None or k > after)
            )
            page = keys[:limit] if limit > 0 else keys
            yield [copy.deepcopy(self._pods[k]) for k in page]
            if limit <= 0 or len(keys) <= limit:
                return
            after = page[-1]

    def get_workload(self, namespace: str, ref: PodRef) -> tuple[dict[str, Any], str]:
        workload = ref.workload
        if workload is None:
            return self.get_pod(namespace, ref.name), "named on the command line"
        context = self._context("get", workload.plural, namespace, ref.name, group=workload.group)
        self._request("get_workload", context)
        obj = self.workloads.get((namespace, workload.plural, ref.name))
        if obj is None:
            raise self._not_found(context)
        selector = selector_string((obj.get("spec") or {}).get("selector"))
        return pick_running_pod(self.list_pods(namespace, label_selector=selector), ref)

    def pull_secret_registries(self, namespace: str, name: str) -> tuple[str, ...] | None:
        from podscope.rules.pullsecrets import secret_registries

        context = self._context("get", "secrets", namespace, name)
        self._request("get_secret", context)
        if (namespace, name) not in self.secrets:
            raise self._not_found(context)
        return secret_registries(self.secrets[(namespace, name)])

    def get_service_account(self, namespace: str, name: str) -> dict[str, Any]:
        context = self._context("get", "serviceaccounts", namespace, name)
        self._request("get_service_account", context)
        return copy.deepcopy(self.service_accounts.get((namespace, name)) or {"metadata": {}})

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]:
        """``self.core_events`` of ``namespace`` matching every ``k=v`` of the selector."""
        self._request("list_events", self._context("list", "events", namespace), field_selector)
        wanted = dict(item.split("=", 1) for item in field_selector.split(",") if item)

        def field(event: dict[str, Any], path: str) -> Any:
            value: Any = event
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return value

        return [
            copy.deepcopy(e)
            for e in self.core_events
            if (e.get("metadata") or {}).get("namespace") == namespace
            and all(str(field(e, k)) == v for k, v in wanted.items())
        ]

    def widen_pool(self, size: int) -> None:
        self.pool_size = max(size, getattr(self, "pool_size", 0))

    def workload_selector(self, namespace: str, ref: PodRef) -> str:
        workload = ref.workload
        assert workload is not None
        context = self._context("get", workload.plural, namespace, ref.name, group=workload.group)
        self._request("get_workload", context)
        obj = self.workloads.get((namespace, workload.plural, ref.name))
        if obj is None:
            raise self._not_found(context)
        return selector_string((obj.get("spec") or {}).get("selector"))

    def get_node(self, name: str) -> dict[str, Any]:
        context = self._context("get", "nodes", name=name)
        self._request("get_node", context)
        if name not in self.nodes:
            raise self._not_found(context)
        return copy.deepcopy(self.nodes[name])

    def list_nodes(self) -> list[dict[str, Any]]:
        self._request("list_nodes", self._context("list", "nodes"))
        return [copy.deepcopy(n) for _, n in sorted(self.nodes.items())]

    def ephemeral_shape(self) -> EphemeralShape:
        return self.shape

    def writable_ephemeral_shape(self) -> EphemeralShape:
        if self.shape == "absent":
            raise client_module._no_ephemeral_containers()
        return self.shape

    def access_review(self, question: AccessQuestion) -> tuple[bool, str]:
        verb, resource, subresource = question.verb, question.resource, question.subresource
        asked = f"{verb} {resource}/{subresource}"
        self.calls.append(("access_review", question.namespace, question.name, asked))
        allowed = (verb, resource, subresource) not in self.denied
        return allowed, "" if allowed else "denied by the test"

    def self_subject_review(self) -> dict[str, Any]:
        context = self._context("create", "selfsubjectreviews", group="authentication.k8s.io")
        self._request("self_subject_review", context)
        if self.user_info is None:
            raise self._error(404, context, "the server could not find the requested resource")
        return {"kind": "SelfSubjectReview", "status": {"userInfo": copy.deepcopy(self.user_info)}}

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        context = self._context("create", "events", namespace)
        self._request("create_event", context, str(body.get("reason")), write=True)
        if ("create", "events", None) in self.denied:
            raise self._error(
                403, context, f'events is forbidden: cannot create resource "events" in {namespace}'
            )
        with self._lock:
            self.created_events.append(copy.deepcopy(body))
        return body

    def read_log(self, query: LogQuery) -> bytes:
        namespace, pod, stream = query.namespace, query.pod, query.stream
        context = self._context("get", "pods", namespace, pod, subresource="log")
        self._request("read_log", context, f"{query.container} {stream or ''}".strip())
        if (namespace, pod) not in self._pods:
            raise self._not_found(context)
        key = (namespace, pod, query.container)
        if stream is not None:
            if not self.split_logs:
                # Servers without split log streams refuse the parameter.
                raise self._error(
                    422,
                    context,
                    f'PodLogOptions "{pod}" is invalid: stream: Forbidden: may not be specified',
                    details={
                        "name": pod,
                        "kind": "PodLogOptions",
                        "causes": [
                            {
                                "reason": "FieldValueForbidden",
                                "field": "stream",
                                "message": "Forbidden: may not be specified",
                            }
                        ],
                    },
                )
            out, err = self.log_streams.get(key, (self.logs.get(key, b""), b""))
            data = out if stream == "Stdout" else err
        else:
            data = self.logs.get(key, b"")
        return data[: query.limit_bytes] if query.limit_bytes is not None else data

    # -- writes -------------------------------------------------------------------------------

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
        verb = "patch" if shape == "pod" else "update"
        context = self._context(verb, "pods", namespace, name, "ephemeralcontainers")
        fault = self._request(
            "patch_ephemeral_containers",
            context,
            f"{shape}{' dry-run' if dry_run else ''}",
            write=True,
        )
        if self.shape == "absent" or shape != self.shape:
            # The route (or that kind of body on it) is not served.
            raise map_status(404, b"404 page not found", context)
        stored = self._pods.get((namespace, name))
        if stored is None:
            raise self._not_found(context)
        pod = copy.deepcopy(stored)
        spec = pod.setdefault("spec", {})
        existing: list[dict[str, Any]] = spec.setdefault("ephemeralContainers", [])
        regular = {
            c.get("name") for key in ("containers", "initContainers") for c in spec.get(key) or []
        }
        if shape == "pod":
            # The merge puts the patch's new containers first (checked on a 1.34 API server:
            # each PATCH adding one container makes it spec.ephemeralContainers[0]).
            added: list[dict[str, Any]] = []
            for index, item in enumerate((body.get("spec") or {}).get("ephemeralContainers") or []):
                old = next((c for c in existing if c.get("name") == item.get("name")), None)
                if old is not None:
                    if {**old, **item} != old:
                        # Merged by name: the patch would change an existing container.
                        raise self._invalid(
                            context,
                            "Pod",
                            [
                                {
                                    "reason": "FieldValueForbidden",
                                    "field": "spec.ephemeralContainers",
                                    "message": "Forbidden: existing ephemeral containers "
                                    f'"{item.get("name")}" may not be changed\n  diff ...',
                                }
                            ],
                            new_container,
                        )
                    continue
                if item.get("name") in regular:
                    raise self._invalid(
                        context,
                        "Pod",
                        [
                            {
                                "reason": "FieldValueDuplicate",
                                "field": f"spec.ephemeralContainers[{index}].name",
                                "message": f'Duplicate value: "{item.get("name")}"',
                            }
                        ],
                        new_container,
                    )
                added.append(copy.deepcopy(item))
            spec["ephemeralContainers"] = added + existing
            self._admit(pod, context, new_container)
            if dry_run:
                return pod
            # Re-sending a container exactly as it is changes nothing (no write, same version).
            answer = self._write(pod, "MODIFIED") if added else copy.deepcopy(stored)
            self.added.setdefault((namespace, name), []).extend(str(c["name"]) for c in added)
            self._lost(fault, context)
            return answer
        # legacy: PUT of the whole list, guarded by the Pod's resourceVersion
        version = (body.get("metadata") or {}).get("resourceVersion")
        if version and version != stored["metadata"]["resourceVersion"]:
            raise self._error(
                409,
                context,
                f'Operation cannot be fulfilled on pods "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                details={"name": name, "kind": "pods"},
            )
        wanted = list(body.get("ephemeralContainers") or [])
        seen: set[str] = set(str(n) for n in regular)
        for index, item in enumerate(wanted):
            if item.get("name") in seen:
                raise self._invalid(
                    context,
                    "EphemeralContainers",
                    [
                        {
                            "reason": "FieldValueDuplicate",
                            "field": f"ephemeralContainers[{index}].name",
                            "message": f'Duplicate value: "{item.get("name")}"',
                        }
                    ],
                    new_container,
                )
            seen.add(str(item.get("name")))
        for old in existing:
            new = next((c for c in wanted if c.get("name") == old.get("name")), None)
            if new != old:
                raise self._invalid(
                    context,
                    "EphemeralContainers",
                    [
                        {
                            "reason": "FieldValueForbidden",
                            "field": "ephemeralContainers",
                            "message": "Forbidden: existing ephemeral containers "
                            f'"{old.get("name")}" may not be '
                            + ("removed" if new is None else "changed"),
                        }
                    ],
                    new_container,
                )
        old_names = {c.get("name") for c in existing}
        spec["ephemeralContainers"] = copy.deepcopy(wanted)
        self._admit(pod, context, new_container)
        if not dry_run:
            pod = self._write(pod, "MODIFIED")
            self.added.setdefault((namespace, name), []).extend(
                str(c["name"]) for c in wanted if c.get("name") not in old_names
            )
            self._lost(fault, context)
        return {
            "apiVersion": "v1",
            "kind": "EphemeralContainers",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": pod["metadata"]["uid"],
                "resourceVersion": pod["metadata"]["resourceVersion"],
            },
            "ephemeralContainers": copy.deepcopy(wanted),
        }

    def create_pod(
        self, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        meta = body.get("metadata") or {}
        name = meta.get("name")
        context = self._context("create", "pods", namespace, name)
        fault = self._request("create_pod", context, "dry-run" if dry_run else "", write=True)
        pod = copy.deepcopy(body)
        pod.setdefault("metadata", {})["namespace"] = namespace
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{self._uids + 1:05d}"
            pod["metadata"]["name"] = name
        names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if not names:
            raise self._invalid(
                context,
                "Pod",
                [
                    {
                        "reason": "FieldValueRequired",
                        "field": "spec.containers",
                        "message": "Required value",
                    }
                ],
                None,
            )
        if (namespace, name) in self._pods:
            raise self._error(
                409,
                context,
                f'pods "{name}" already exists',
                reason="AlreadyExists",
                details={"name": name, "kind": "pods"},
            )
        self._admit(pod, context, None)
        pod.setdefault("status", {"phase": "Pending"})
        if dry_run:
            pod["metadata"]["uid"] = "dry-run-uid"
            return pod
        created = self._create(pod)
        self._lost(fault, context)
        return created

    def delete_pod(
        self,
        namespace: str,
        name: str,
        *,
        uid: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> dict[str, Any]:
        context = self._context("delete", "pods", namespace, name)
        fault = self._request("delete_pod", context, uid or "", write=True)
        stored = self._pods.get((namespace, name))
        if stored is None:
            raise self._not_found(context)
        if uid and stored["metadata"]["uid"] != uid:
            raise self._error(
                409,
                context,
                f'Operation cannot be fulfilled on Pod "{name}": the UID in the precondition '
                f"({uid}) does not match the UID in record ({stored['metadata']['uid']}). The "
                "object might have been deleted and then recreated",
                details={"name": name, "kind": "Pod"},
            )
        gone = self._remove(namespace, name)
        self._lost(fault, context)
        return gone

    # -- watch --------------------------------------------------------------------------------

    def _watch_request(self, namespace: str, name: str, **kwargs: Any) -> _WatchResponse:
        context = self._context("watch", "pods", namespace, name)
        fault = self._request("watch", context, str(kwargs.get("resource_version") or ""))
        return _WatchResponse(
            self,
            namespace,
            name,
            kwargs.get("resource_version"),
            int(kwargs.get("timeout_seconds") or 60),
            fault,
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
        # The real client's watch loop, over this fake's HTTP watch stream.
        return KubeClient.watch_pod(
            cast(KubeClient, self),
            namespace,
            name,
            resource_version,
            timeout,
            on_retry=on_retry,
            poll=poll,
        )

    # -- streams ------------------------------------------------------------------------------

    def _open(self, method: str, query: StreamQuery, command: list[str]) -> ChannelStream:
        pod, container = query.pod, query.container
        context = self._context("create", "pods", query.namespace, pod, subresource=method)
        self._request(method, context, " ".join([container, *command]))
        if (query.namespace, pod) not in self._pods:
            raise self._not_found(context)
        program = self.programs.get(container) or self.programs.get("*")
        if program is None:
            raise self._error(
                400,
                context,
                f"container {container} is not valid for pod {pod}",
                reason="BadRequest",
            )
        socket = FakeSocket(program, command, query.stdin, (query.namespace, pod, container))
        self.sockets.append(socket)
        return ChannelStream(socket, V5_PROTOCOL)

    def attach(self, query: StreamQuery) -> ChannelStream:
        return self._open("attach", query, [])

    def exec(self, query: StreamQuery, command: list[str]) -> ChannelStream:
        return self._open("exec", query, list(command))
