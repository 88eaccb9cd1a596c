"""Watch the Pod while a session is attached: notice its deletion and its containers' restarts.

The attach stream says nothing about the rest of the Pod. A target that crashes and restarts
leaves the ephemeral container running (the user should still hear about it), and a deleted
Pod must end the session with a message naming what happened rather than a bare stream close.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from podscope.errors import NotFoundError, PodGoneError, PodscopeError
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.session.container_state import check_pod_alive

# Each watch request is this short so that a stopped monitor's thread (and its connection)
# goes away soon after the session ends, even when the Pod is quiet.
WATCH_WINDOW_SECONDS = 20.0
# Pause before watching again when a watch gave up (a long API server outage).
RETRY_PAUSE_SECONDS = 5.0
# The watch opens only once a session has lasted this long: a short command (the common
# ``debug POD -- CMD`` into a live debugger) ends before it and never pays for a second TLS
# connection and a thread competing with the session for the interpreter. Nothing is missed:
# the watch starts from the resourceVersion the session began with.
START_DELAY_SECONDS = 0.5


class Closable(Protocol):
    def close(self) -> None: ...


def restart_counts(pod: dict[str, Any]) -> dict[str, int]:
    """Restart count of each regular and init container (ephemeral ones never restart)."""
    status = pod.get("status") or {}
    counts: dict[str, int] = {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            counts[str(item.get("name"))] = int(item.get("restartCount") or 0)
    return counts


def describe_restart(pod: dict[str, Any], container: str) -> str:
    """Why ``container`` last stopped, from its ``lastState`` (e.g. "exit code 1, Error")."""
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for item in status.get(key) or []:
            if item.get("name") != container:
                continue
            last = (item.get("lastState") or {}).get("terminated") or {}
            parts = []
            if last.get("exitCode") is not None:
                parts.append(f"exit code {last['exitCode']}")
            if last.get("reason"):
                parts.append(str(last["reason"]))
            return ", ".join(parts)
    return ""


def restart_messages(
    before: dict[str, int], pod: dict[str, Any], debug_container: str, target: str | None
) -> list[str]:
    """One line per container of ``pod`` whose restart count went up since ``before``."""
    messages = []
    for container, count in sorted(restart_counts(pod).items()):
        if count <= before.get(container, count):
            continue
        why = describe_restart(pod, container)
        what = "target container" if container == target else "container"
        messages.append(
            f"{what} {container} restarted (restart count {count}"
            + (f"; it stopped with {why}" if why else "")
            + f"); debug container {debug_container} is unaffected"
        )
    return messages


def reread_pod(
    client: KubeAPI, pod: dict[str, Any], *, pod_may_finish: bool = False
) -> dict[str, Any]:
    """The Pod again; its deletion (or replacement) during the session is PodGoneError."""
    meta = pod.get("metadata") or {}
    namespace, pod_name = str(meta.get("namespace")), str(meta.get("name"))
    try:
        fresh = client.get_pod(namespace, pod_name)
    except NotFoundError:
        raise PodGoneError(f"Pod {pod_name} was deleted during the session") from None
    if not pod_may_finish:
        check_pod_alive(fresh, meta.get("uid"), "MODIFIED")
    return fresh


class SessionMonitor:
    """A background watch on the Pod of an attached session.

    ``follow(stream)`` names the stream to close when the Pod goes away; the session then
    raises ``gone``. Restarts of the Pod's other containers are reported as they happen.
    Nothing here may end the session by itself failing: errors only stop the monitor.
    """

    def __init__(
        self,
        client: KubeAPI,
        pod: dict[str, Any],
        container: str,
        report: Events,
        *,
        pod_may_finish: bool = False,
        start_delay: float = START_DELAY_SECONDS,
    ) -> None:
        meta = pod.get("metadata") or {}
        self._client = client
        self._pod = pod
        self._namespace = str(meta.get("namespace") or client.namespace)
        self._pod_name = str(meta.get("name"))
        self._uid = meta.get("uid")
        self._version = meta.get("resourceVersion")
        self._container = container
        spec: dict[str, Any] = next(
            (
                c
                for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
                if c.get("name") == container
            ),
            {},
        )
        self._target = spec.get("targetContainerName")
        self._restarts = restart_counts(pod)
        self._report = report
        # Pods made for one command (node debugging) finish with it: not a disappearance.
        self._pod_may_finish = pod_may_finish
        self._start_delay = start_delay
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream: Closable | None = None
        self.gone: PodGoneError | None = None
        self._thread = threading.Thread(target=self._run, name="podscope-monitor", daemon=True)

    def start(self) -> SessionMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        # The thread is not joined: it may sit in a watch read for up to one window.
        self._stop.set()

    def settle(self) -> None:
        """At a session's abnormal end (an exit code, a lost stream), make sure a deletion of
        the Pod is what explains it: the watch may not have opened yet (it starts late) or
        not have delivered the event. One read of the Pod; nothing when it cannot be read."""
        if self.gone is not None:
            return
        try:
            reread_pod(self._client, self._pod, pod_may_finish=self._pod_may_finish)
        except PodGoneError as exc:
            self.gone = exc
        except PodscopeError:
            return

    def follow(self, stream: Closable) -> None:
        with self._lock:
            self._stream = stream
            gone = self.gone
        if gone is not None:
            stream.close()

    def _pod_gone(self, error: PodGoneError) -> None:
        with self._lock:
            self.gone = error
            stream = self._stream
        if stream is not None:
            stream.close()  # ends the pump; the session then raises ``gone``

    def _run(self) -> None:
        if self._stop.wait(self._start_delay):
            return
        try:
            while not self._stop.is_set():
                try:
                    self._watch_once()
                except PodGoneError as exc:
                    self._pod_gone(exc)
                    return
                except PodscopeError:
                    # The watch gave up on an unreachable API server; the stream notices that
                    # on its own. Try again later while the session lasts.
                    self._stop.wait(RETRY_PAUSE_SECONDS)
        except Exception:  # noqa: BLE001
            # A monitoring bug must never take the user's session down with it.
            return

    def _watch_once(self) -> None:
        for event, pod in self._client.watch_pod(
            self._namespace, self._pod_name, self._version, WATCH_WINDOW_SECONDS
        ):
            if self._stop.is_set():
                return
            version = (pod.get("metadata") or {}).get("resourceVersion")
            if version:
                self._version = version
            if event == "DELETED":
                raise PodGoneError(f"Pod {self._pod_name} was deleted during the session")
            if not self._pod_may_finish:
                check_pod_alive(pod, self._uid, event)
            for message in restart_messages(self._restarts, pod, self._container, self._target):
                self._report(message)
            self._restarts.update(restart_counts(pod))
