"""Attach to a container's process and see it through to its exit code.

Shared by ``podscope debug`` (after creating the container) and ``podscope attach``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from podscope.backoff import Backoff, Retry
from podscope.errors import (
    NotFoundError,
    PodscopeError,
    StreamLostError,
    UnreachableError,
    UsageError,
    ValidationError,
)
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import LogQuery, StreamQuery
from podscope.kube.streams import status_failure
from podscope.rules.debugger import key_of
from podscope.rules.requests import AttachRequest
from podscope.rules.results import ResultDict
from podscope.rules.workloads import parse_pod_ref
from podscope.session.container_state import (
    ContainerState,
    StateName,
    container_spec,
    container_state_of,
    container_status,
)
from podscope.session.io import SessionIO, StreamStart
from podscope.session.monitor import (
    SessionMonitor,
    describe_restart,
    reread_pod,
    restart_counts,
)
from podscope.session.wait import wait_until_started, wait_until_terminated, watch_container
from podscope.terminal.pump import LocalIO, pump

# containerd's CRI attach starts copying stdin into the container before it adds the
# attach's stdout and stderr to the container's output (ContainerIO.Attach): piped input
# sent at once can make the container print before the attach listens, and that output
# reaches only the log. Seen once under load in the suite. A terminal session is typed.
ATTACH_INPUT_HOLD = 0.25

# After the stream ends the kubelet needs a moment (its next relist) to report the exit.
EXIT_REPORT_TIMEOUT = 30.0
# Pauses before each re-attach attempt after a dropped connection (about 15 s in all).
# Pauses before re-attaching: 0.5, 1, 2, 4, 8 s, then give up.
RECONNECT_BACKOFF = Backoff(first=0.5)
RECONNECT_ATTEMPTS = 5
# A re-attached stream that then works this long resets the attempt count.
STABLE_SECONDS = 10.0
# How long a "container not found" attach waits for the container's exit to be reported.
NOT_FOUND_SETTLE_SECONDS = 5.0
PROMPT_HINT = "podscope: if you don't see a command prompt, try pressing enter."


@dataclass
class StreamOutcome:
    pod: dict[str, Any]
    progress: ContainerState
    attached: bool  # False when the container had finished and its log was shown instead

    @property
    def exit_code(self) -> int | None:
        return self.progress.exit_code if self.progress.state == "terminated" else None


@dataclass(frozen=True)
class AttachResult(ResultDict):
    """What ``podscope attach`` did."""

    pod: str
    namespace: str
    container: str
    exit_code: int | None
    state: StateName  # the container's state when the session ended
    attached: bool
    stdout: bytes | None = None  # the container's output, when the caller captured it
    stderr: bytes | None = None


def _names(pod: dict[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


def resolve_pod(
    client: KubeAPI, operand: str, namespace: str, report: Events, doing: str
) -> tuple[dict[str, Any], str]:
    """The Pod ``operand`` (``POD``, or a workload such as ``deploy/NAME``) names and why it
    was chosen; a workload's choice is announced as "``doing`` Pod NAME (why)"."""
    ref = parse_pod_ref(operand)
    pod, reason = client.get_workload(namespace, ref)
    if ref.workload is not None:
        report(f"{doing} Pod {_names(pod)[1]} ({reason})")
    return pod, reason


def show_log(client: KubeAPI, pod: dict[str, Any], name: str, io: LocalIO, report: Events) -> int:
    """Write the container's log to stdout/stderr; return how many bytes it holds.

    Each stream goes to its own file where the server can split them (PodLogsQuerySplitStreams);
    elsewhere the interleaved log goes to stdout, and the reporter says so.
    """
    whole = LogQuery(*_names(pod), name)
    try:
        out = client.read_log(replace(whole, stream="Stdout"))
        err = client.read_log(replace(whole, stream="Stderr"))
    except ValidationError:
        combined = client.read_log(whole)
        if combined:
            report("(this cluster cannot split a log by stream: stdout and stderr follow combined)")
        _emit(io.stdout, combined)
        return len(combined)
    _emit(io.stdout, out)
    _emit(io.stderr, err)
    return len(out) + len(err)


def _emit(out: Any, data: bytes) -> None:
    if data:
        out.write(data)
        out.flush()


@dataclass(frozen=True)
class StreamMode:
    """How to attach: with stdin and a TTY or not, whether to re-attach after a drop, and
    whether the Pod may finish (a Pod podscope made, with ``restartPolicy: Never``)."""

    stdin: bool
    tty: bool
    reconnect: bool = True
    pod_may_finish: bool = False
    hint: bool = True


def stream_container(
    client: KubeAPI, pod: dict[str, Any], name: str, io: SessionIO, mode: StreamMode
) -> StreamOutcome:
    """Attach to container ``name`` (running or finished) until its process exits.

    A finished container's log is shown instead (stdout and stderr combined, as the runtime
    keeps them). A dropped connection is re-attached while the container still runs (with
    backoff, ``RECONNECT_ATTEMPTS`` attempts in a row at most), unless ``reconnect`` is
    False: then a drop raises StreamLostError. While attached, the Pod is watched: its deletion
    ends the session with PodGoneError, and restarts of its containers are reported.
    """
    report, local = io.events, io.streams
    # The runtime ends an attach whose stdin closes unless the container is stdinOnce (then it
    # closes the process's stdin and keeps its output flowing), so EOF is passed on only then.
    close_on_eof = bool((container_spec(pod, name) or {}).get("stdinOnce"))
    progress = container_state_of(pod, name)
    if progress.state == "terminated":
        finished = f"has already finished ({progress.describe()})"
        return _log_instead(client, pod, progress, name, finished, local, report)

    monitor = SessionMonitor(client, pod, name, report, pod_may_finish=mode.pod_may_finish).start()
    try:
        return _attached_session(
            client,
            pod,
            name,
            mode,
            io=local,
            report=report,
            close_on_eof=close_on_eof,
            monitor=monitor,
        )
    finally:
        monitor.stop()


_TOO_LATE = "finished before podscope could attach"


def _log_instead(
    client: KubeAPI,
    pod: dict[str, Any],
    progress: ContainerState,
    name: str,
    finished: str,
    io: LocalIO,
    report: Events,
) -> StreamOutcome:
    """Show a finished container's log, there being no process left to attach to."""
    report(f"container {name} {finished}; its log follows")
    show_log(client, pod, name, io, report)
    return StreamOutcome(pod, progress, attached=False)


def _attached_session(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    mode: StreamMode,
    *,
    io: LocalIO,
    report: Events,
    close_on_eof: bool,
    monitor: SessionMonitor,
) -> StreamOutcome:
    stdin, tty, pod_may_finish = mode.stdin, mode.tty, mode.pod_may_finish
    namespace, pod_name = _names(pod)
    start_pod = pod
    reattach = f"re-attach with: podscope attach {pod_name} -c {name} -n {namespace}"
    retry = Retry(RECONNECT_BACKOFF, attempts=RECONNECT_ATTEMPTS)  # failed re-attaches in a row
    reattaching = False

    def pause_or_give_up(why: str) -> None:
        pause = retry.next_pause()
        if pause is None:
            raise StreamLostError(
                f"lost the connection to container {name} and could not re-attach "
                f"after {retry.failures} attempts ({why})",
                remedy=f"the container may still run; {reattach}",
            )
        retry.sleep(pause)

    while True:
        try:
            stream = client.attach(StreamQuery(namespace, pod_name, name, stdin, tty))
        except UnreachableError as exc:
            if not reattaching:
                raise
            report(f"re-attaching to {name} failed ({exc.message}); retrying")
            pause_or_give_up(exc.message)
            continue
        except PodscopeError as exc:
            # It may have exited between our last look and the attach.
            pod = reread_pod(client, pod, pod_may_finish=pod_may_finish)
            progress = container_state_of(pod, name)
            if progress.state != "terminated" and "not found" in exc.message:
                # A 1.21 kubelet refuses the upgrade itself (HTTP 500 "container ... not found
                # in pod") for a command that just exited, before its status says so.
                pod, progress = wait_until_terminated(
                    client, pod, name, NOT_FOUND_SETTLE_SECONDS, pod_may_finish=pod_may_finish
                )
            if progress.state != "terminated":
                raise
            return _log_instead(client, pod, progress, name, _TOO_LATE, io, report)
        if reattaching:
            report(f"re-attached to container {name}")
            reattaching = False
        monitor.follow(stream)
        opened = time.monotonic()
        result = pump(
            stream,
            io,
            tty=tty,
            quiet_hint=PROMPT_HINT if mode.hint and stdin and not retry.failures else None,
            close_stdin_on_eof=close_on_eof,
            hold_input=0.0 if tty else ATTACH_INPUT_HOLD,
        )
        if monitor.gone is not None:
            raise monitor.gone
        failure = status_failure(stream.status)
        if failure:
            # A deleted Pod explains the failure better than the stream's own message.
            pod = reread_pod(client, pod, pod_may_finish=pod_may_finish)
            if not result.stdout_bytes + result.stderr_bytes:
                # The kubelet attaches to running containers only: a short command can exit
                # before the attach reaches it ("not found", "CONTAINER_EXITED") while the
                # status still says "running".
                pod, progress = wait_until_terminated(
                    client, pod, name, NOT_FOUND_SETTLE_SECONDS, pod_may_finish=pod_may_finish
                )
                if progress.state == "terminated":
                    return _log_instead(client, pod, progress, name, _TOO_LATE, io, report)
                if "not found" in failure:
                    # Still running: the kubelet had not caught up with its start yet.
                    pause_or_give_up(failure)
                    reattaching = True
                    continue
            raise StreamLostError(f"the attach stream to {name} failed: {failure}")
        if stream.lost:
            if not mode.reconnect:
                raise StreamLostError(
                    f"the connection to container {name} was lost (--no-reconnect)",
                    remedy=f"the container may still run; {reattach}",
                )
            if time.monotonic() - opened > STABLE_SECONDS:
                retry.reset()  # it had been working: this is a new outage
            report(f"connection to container {name} lost; re-attaching")
            while True:
                pause_or_give_up("connection lost")
                try:
                    pod = reread_pod(client, pod, pod_may_finish=pod_may_finish)
                except UnreachableError as exc:
                    report(f"the API server is unreachable ({exc.message}); retrying")
                    continue
                break
            if container_state_of(pod, name).state == "running":
                reattaching = True
                continue
            # It ended while we were away: report its exit code below.
        pod, progress = wait_until_terminated(
            client, pod, name, EXIT_REPORT_TIMEOUT, pod_may_finish=pod_may_finish
        )
        if progress.state != "terminated":
            raise StreamLostError(
                f"the stream to container {name} closed but the container is still running",
                remedy=reattach,
            )
        if not tty and not stdin:
            _note_missed_output(
                client, pod, name, result.stdout_bytes + result.stderr_bytes, io, report
            )
        _explain_kill_by_target(client, start_pod, pod, name, progress, report)
        return StreamOutcome(pod, progress, attached=True)


# How long to wait for the kubelet to report a target's stop after the debug container's.
TARGET_SETTLE_SECONDS = 10.0


def _explain_kill_by_target(
    client: KubeAPI,
    start_pod: dict[str, Any],
    pod: dict[str, Any],
    name: str,
    progress: ContainerState,
    report: Events,
) -> None:
    """Say so when the debug container died (SIGKILL) because its target stopped.

    Without ``shareProcessNamespace`` the debug container joins the target's own PID
    namespace; when the target's PID 1 exits, the kernel kills every process in it.
    """
    if progress.exit_code != 137:
        return
    target = (container_spec(start_pod, name) or {}).get("targetContainerName")
    if not target or (start_pod.get("spec") or {}).get("shareProcessNamespace"):
        return
    before = restart_counts(start_pod).get(target, 0)

    def target_stopped(p: ContainerState) -> bool:
        return p.state != "running" or int(p.status.get("restartCount") or 0) > before

    try:
        pod, _, stopped = watch_container(
            client, pod, target, TARGET_SETTLE_SECONDS, target_stopped, pod_may_finish=True
        )
    except PodscopeError:
        return
    if stopped:
        why = describe_restart(pod, target) or container_state_of(pod, target).describe()
        report(
            f"debug container {name} was killed with its target: container {target} stopped "
            f"({why}) and took every process of its PID namespace with it; debug a Pod with "
            "shareProcessNamespace: true, or pass --target '', to outlive target restarts"
        )


def _note_missed_output(
    client: KubeAPI, pod: dict[str, Any], name: str, received: int, io: LocalIO, report: Events
) -> None:
    # Output written before the attach opened is not replayed by the kubelet; it is only in
    # the log. When nothing came through, the log is the whole story: show it.
    if received == 0:
        report(f"container {name} finished before its output could be streamed; its log follows")
        show_log(client, pod, name, io, report)
        return
    try:
        log = client.read_log(LogQuery(*_names(pod), name))
    except PodscopeError:
        return
    if len(log) > received:
        namespace, pod_name = _names(pod)
        report(
            f"{len(log) - received} bytes of output were written before the stream opened; "
            f"see them with: kubectl logs {pod_name} -c {name} -n {namespace}"
        )


def run_attach(client: KubeAPI, request: AttachRequest, io: SessionIO) -> AttachResult:
    """``podscope attach``: attach to an existing (usually ephemeral) container.

    ``request.stdin``/``tty`` of None mean False here: the caller decides them from its
    terminal first.
    """
    request.validate()
    namespace = request.namespace or client.namespace
    pod_name, container, report = request.pod, request.container, io.events
    stdin, tty, timeout = bool(request.stdin), bool(request.tty), request.timeout
    pod = client.get_pod(namespace, pod_name)
    spec = container_spec(pod, container)
    if spec is None:
        ephemeral = [
            c.get("name") for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
        ]
        listed = ", ".join(str(n) for n in ephemeral) or "none"
        raise NotFoundError(
            f"container {container} not found in Pod {pod_name} "
            f"(its ephemeral containers: {listed})",
            remedy=f"list them with: podscope ls {pod_name} -n {namespace}",
        )
    if key_of(spec) is not None:
        # Its main process is the holder, which reads nothing and prints nothing: an attach
        # would wait in silence.
        raise UsageError(
            f"container {container} is a podscope debugger: its main process only holds it "
            "open, so there is nothing to attach to",
            remedy=f"open a shell in it with: podscope debug {pod_name} -n {namespace} "
            f"-c {container} -it",
        )
    if stdin and not spec.get("stdin"):
        report(f"container {container} was not created with stdin; attaching read-only")
        stdin = False
    if tty and not spec.get("tty"):
        if stdin:
            report(f"container {container} has no TTY; attaching without one")
        tty = False
    if (
        container_status(pod, container) is None
        or container_state_of(pod, container).state == "waiting"
    ):
        report(f"waiting for container {container} to start")
        pod, _ = wait_until_started(client, pod, container, timeout, report)
    io.stream_starts(StreamStart(pod, container, None, "attach"))
    outcome = stream_container(
        client, pod, container, io, StreamMode(stdin, tty, reconnect=request.reconnect)
    )
    return AttachResult(
        pod=pod_name,
        namespace=namespace,
        container=container,
        exit_code=outcome.exit_code,
        state=outcome.progress.state,
        attached=outcome.attached,
    )
