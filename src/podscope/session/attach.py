"""Attach to a container's process and see it through to its exit code.

Shared by ``podscope debug`` (after creating the container) and ``podscope attach``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podscope.errors import NotFoundError, PodscopeError, StreamLostError, ValidationError
from podscope.kube.client import KubeClient
from podscope.kube.streams import status_failure
from podscope.session.progress import Progress, container_status, progress_of
from podscope.session.reporter import Reporter
from podscope.session.wait import wait_until_started, wait_until_terminated
from podscope.terminal.pump import LocalIO, pump

# After the stream ends the kubelet needs a moment (its next relist) to report the exit.
EXIT_REPORT_TIMEOUT = 30.0
MAX_REATTACH = 3
PROMPT_HINT = "podscope: if you don't see a command prompt, try pressing enter."


@dataclass
class StreamOutcome:
    pod: dict[str, Any]
    progress: Progress
    attached: bool  # False when the container had finished and its log was shown instead

    @property
    def exit_code(self) -> int | None:
        return self.progress.exit_code if self.progress.state == "terminated" else None


@dataclass
class AttachResult:
    """What ``podscope attach`` did."""

    pod: str
    namespace: str
    container: str
    exit_code: int | None
    state: str  # running / terminated: the container's state when the session ended
    attached: bool


def _names(pod: dict[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


def container_spec(pod: dict[str, Any], name: str) -> dict[str, Any] | None:
    spec = pod.get("spec") or {}
    for key in ("ephemeralContainers", "containers", "initContainers"):
        for item in spec.get(key) or []:
            if item.get("name") == name:
                return dict(item)
    return None


def show_log(
    client: KubeClient, pod: dict[str, Any], name: str, io: LocalIO, report: Reporter
) -> int:
    """Write the container's log to stdout/stderr; return how many bytes it holds.

    Each stream goes to its own file where the server can split them (PodLogsQuerySplitStreams);
    elsewhere the interleaved log goes to stdout, and the reporter says so.
    """
    namespace, pod_name = _names(pod)
    try:
        out = client.read_log(namespace, pod_name, name, stream="Stdout")
        err = client.read_log(namespace, pod_name, name, stream="Stderr")
    except ValidationError:
        combined = client.read_log(namespace, pod_name, name)
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


def stream_container(
    client: KubeClient,
    pod: dict[str, Any],
    name: str,
    *,
    stdin: bool,
    tty: bool,
    io: LocalIO,
    report: Reporter,
    hint: bool = True,
    pod_may_finish: bool = False,
) -> StreamOutcome:
    """Attach to container ``name`` (running or finished) until its process exits.

    A finished container's log is shown instead (stdout and stderr combined, as the runtime
    keeps them). A dropped connection is re-attached while the container still runs.
    """
    namespace, pod_name = _names(pod)
    # The runtime ends an attach whose stdin closes unless the container is stdinOnce (then it
    # closes the process's stdin and keeps its output flowing), so EOF is passed on only then.
    close_on_eof = bool((container_spec(pod, name) or {}).get("stdinOnce"))
    progress = progress_of(pod, name)
    if progress.state == "terminated":
        report(f"container {name} has already finished ({progress.describe()}); its log follows")
        show_log(client, pod, name, io, report)
        return StreamOutcome(pod, progress, attached=False)

    for attempt in range(MAX_REATTACH + 1):
        try:
            stream = client.attach(namespace, pod_name, name, stdin=stdin, tty=tty)
        except PodscopeError:
            # It may have exited between our last look and the attach.
            pod = client.get_pod(namespace, pod_name)
            progress = progress_of(pod, name)
            if progress.state != "terminated":
                raise
            report(f"container {name} finished before podscope could attach; its log follows")
            show_log(client, pod, name, io, report)
            return StreamOutcome(pod, progress, attached=False)
        result = pump(
            stream,
            io,
            tty=tty,
            quiet_hint=PROMPT_HINT if hint and stdin else None,
            close_stdin_on_eof=close_on_eof,
        )
        failure = status_failure(stream.status)
        if failure:
            raise StreamLostError(f"the attach stream to {name} failed: {failure}")
        if stream.lost:
            pod = client.get_pod(namespace, pod_name)
            progress = progress_of(pod, name)
            if progress.state == "running" and attempt < MAX_REATTACH:
                report(f"connection to {name} lost; re-attaching")
                continue
        pod, progress = wait_until_terminated(
            client, pod, name, EXIT_REPORT_TIMEOUT, pod_may_finish=pod_may_finish
        )
        if progress.state != "terminated":
            raise StreamLostError(
                f"the stream to container {name} closed but the container is still running",
                remedy=f"re-attach with: podscope attach {pod_name} -c {name} -n {namespace}",
            )
        if not tty and not stdin:
            _note_missed_output(
                client, pod, name, result.stdout_bytes + result.stderr_bytes, io, report
            )
        return StreamOutcome(pod, progress, attached=True)
    raise StreamLostError(f"lost the connection to container {name} {MAX_REATTACH + 1} times")


def _note_missed_output(
    client: KubeClient, pod: dict[str, Any], name: str, received: int, io: LocalIO, report: Reporter
) -> None:
    # Output written before the attach opened is not replayed by the kubelet; it is only in
    # the log. When nothing came through, the log is the whole story: show it.
    if received == 0:
        report(f"container {name} finished before its output could be streamed; its log follows")
        show_log(client, pod, name, io, report)
        return
    try:
        log = client.read_log(*_names(pod), name)
    except PodscopeError:
        return
    if len(log) > received:
        namespace, pod_name = _names(pod)
        report(
            f"{len(log) - received} bytes of output were written before the stream opened; "
            f"see them with: kubectl logs {pod_name} -c {name} -n {namespace}"
        )


def run_attach(
    client: KubeClient,
    namespace: str,
    pod_name: str,
    container: str,
    *,
    stdin: bool,
    tty: bool,
    io: LocalIO,
    report: Reporter,
    timeout: float,
) -> AttachResult:
    """``podscope attach``: attach to an existing (usually ephemeral) container."""
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
    if stdin and not spec.get("stdin"):
        report(f"container {container} was not created with stdin; attaching read-only")
        stdin = False
    if tty and not spec.get("tty"):
        if stdin:
            report(f"container {container} has no TTY; attaching without one")
        tty = False
    if container_status(pod, container) is None or progress_of(pod, container).state == "waiting":
        report(f"waiting for container {container} to start")
        pod, _ = wait_until_started(client, pod, container, timeout, report)
    outcome = stream_container(client, pod, container, stdin=stdin, tty=tty, io=io, report=report)
    return AttachResult(
        pod=pod_name,
        namespace=namespace,
        container=container,
        exit_code=outcome.exit_code,
        state=outcome.progress.state,
        attached=outcome.attached,
    )
