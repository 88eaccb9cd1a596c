"""``podscope debug`` in the exec model: every command and shell is an exec into a debugger.

An exec reaches the container runtime directly, so it works as soon as the runtime has
started the container, well before the kubelet's next relist puts "running" in the Pod's
status. A new debugger is therefore exec'd into right after the write; while the runtime
has not started it, the exec is refused with "container not found" and is retried after a
short pause, while a watch on the Pod fails fast on the kubelet's start errors. The exit
code comes from the exec stream's final Status; nothing a session reads or prints reaches
the container's log.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from podscope.errors import (
    ForbiddenError,
    Interrupted,
    PodscopeError,
    ServerError,
    StartFailedError,
    StreamLostError,
    UnreachableError,
    UsageError,
    WaitTimeoutError,
)
from podscope.events import Events
from podscope.kube.discovery import EphemeralShape
from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import AccessQuestion, StreamQuery
from podscope.kube.streams import status_failure
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.debugger import (
    EXPIRED_EXIT,
    STOPPED_EXIT,
    alive_command,
    debugger_key,
    end_session_command,
    expired_guarded,
    format_duration,
    guards_expiry,
    new_session_id,
    session_command,
    terminated_state,
    ttl_of,
)
from podscope.rules.profiles import describe_grants
from podscope.rules.requests import DebugRequest
from podscope.rules.targetfs import SCRIPT_NAME, kube_unescape
from podscope.session.attach import (
    PROMPT_HINT,
    RECONNECT_ATTEMPTS,
    RECONNECT_BACKOFF,
    _explain_kill_by_target,
)
from podscope.session.container_state import (
    ContainerState,
    check_started,
    container_spec,
    container_state_of,
)
from podscope.session.debugger import (
    create_debugger,
    failed_holder,
    find_live,
    holder_cannot_run,
    named_debugger,
)
from podscope.session.io import SessionIO, StreamStart
from podscope.session.keeper import SessionKeeper
from podscope.session.monitor import SessionMonitor, reread_pod
from podscope.session.wait import (
    WatchHooks,
    refuse_if_kubelet_gate_off,
    report_pull_time,
    start_failure_check,
    wait_until_terminated,
    watch_container,
)
from podscope.terminal.pump import pump

if TYPE_CHECKING:
    from podscope.session.ephemeral import DebugResult

# Pauses between exec attempts while the runtime has not started a new debugger yet.
START_RETRY_DELAYS = (0.03, 0.05, 0.08, 0.1)
NOT_STARTED = "container not found"
# How the runtime refuses an exec into a container whose main process has just ended, before
# the kubelet has noticed (after that, the answer is NOT_STARTED): runc's words, and
# containerd's at each step of taking the container down (all seen on the local cluster).
ENDED_SIGNS = (
    "cannot exec in a stopped container",
    # runc's words, passed on by containerd, as it takes the container down.
    "cannot exec in a stopped state",
    "cannot exec in a deleted state",
    "container is in container_exited state",
    "no running task found",
    "container not created: not found",
    "container not running",
)
# How often the kubelet's Events are read for a refused pull while a debugger starts.
PULL_EVENT_POLL = 0.5
# How long to wait for the kubelet to report how a debugger that ended during a session ended.
ENDED_REPORT_SECONDS = 5.0


class ExecUnavailable(Exception):
    """The exec model cannot serve this request; ``reason`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DebuggerGone(Exception):
    """A debugger that looked live refused the exec: its main process has ended."""


@dataclass(frozen=True)
class ExecMode:
    stdin: bool
    tty: bool
    reconnect: bool = True
    timeout: float = 300.0  # how long a new debugger may take to start

    @property
    def watched(self) -> bool:
        """With no input of its own, a session's exec still gets a stdin stream, which nothing
        is written to: its end, when the client goes without a word (SIGKILL, a crash), ends
        the command in the container (see ``WATCHED_SESSION_SCRIPT``)."""
        return not self.stdin and not self.tty


@dataclass(frozen=True)
class ExecPlan:
    """What the caller of :func:`run_exec_debug` already decided. ``on_create(pod, ns)`` is
    called right before the write (the caller's interruption message depends on it)."""

    ttl: int
    shape: EphemeralShape
    target_reason: str
    pod_reason: str
    on_create: Callable[[str, str], None]
    on_placed: Callable[[], None]  # the debugger exists: interruptions are reported here


@dataclass
class ExecOutcome:
    pod: dict[str, Any]
    exit_code: int
    shells: int = 1  # how many shells a TTY session needed (a dropped one is replaced)


def _names(pod: dict[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


class _StartWatch:
    """Watches a new debugger until it runs, keeping the kubelet's start error if any."""

    def __init__(
        self, client: KubeAPI, pod: dict[str, Any], name: str, timeout: float, report: Events
    ) -> None:
        self.failure: PodscopeError | None = None
        self._stop = threading.Event()
        self._args = (client, pod, name, timeout, report)
        self._thread = threading.Thread(target=self._run, name="podscope-start", daemon=True)

    def start(self) -> _StartWatch:
        self._thread.start()
        threading.Thread(target=self._events, name="podscope-pull", daemon=True).start()
        return self

    def _events(self) -> None:
        # The Pod's status says a pull failed only at the kubelet's next sync; its Event now.
        client, pod, name, _, _ = self._args
        check = start_failure_check(client, pod, name)
        while not self._stop.wait(PULL_EVENT_POLL):
            if self.failure is not None:
                return
            try:
                check()
            except PodscopeError as exc:
                self.failure = exc
                return
            except Exception:  # noqa: BLE001
                return  # a bug: the Pod watch still reports it, later

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        client, pod, name, timeout, report = self._args
        pod_name = _names(pod)[1]

        def done(progress: ContainerState) -> bool:
            if self._stop.is_set():
                return True
            if progress.state == "terminated":
                raise StartFailedError(
                    f"debugger {name} in Pod {pod_name} ended at once ({progress.describe()}"
                    + (f": {progress.message.strip()}" if progress.message else "")
                    + ")"
                )
            return check_started(pod_name, name, progress, pod)

        def changed(progress: ContainerState) -> None:
            if progress.state == "waiting" and progress.reason and not self._stop.is_set():
                report(f"debugger {name}: {progress.describe()}")

        try:
            # A 1.16-1.21 kubelet with the gate off never starts it: say so within seconds.
            refuse_if_kubelet_gate_off(client, pod)
            watch_container(client, pod, name, timeout, done, WatchHooks(on_change=changed))
        except PodscopeError as exc:
            self.failure = exc
        except Exception:  # noqa: BLE001
            # A watch bug must not take the session down: the exec retries still time out.
            return


def _start_failure(watch: _StartWatch | None, image: str, name: str) -> None:
    if watch is None or watch.failure is None:
        return
    failure = watch.failure
    if isinstance(failure, StartFailedError) and holder_cannot_run(failure.message):
        raise ExecUnavailable(
            f"image {image} has no sh to hold a debugger open (debugger {name} could not "
            "start; it stays in the Pod, never started)"
        )
    raise failure


def exec_session(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    words: list[str],
    io: SessionIO,
    mode: ExecMode,
    *,
    confirmed: bool,
    image: str,
) -> ExecOutcome:
    """Exec ``words`` into debugger ``name`` and see it through to its exit code.

    ``confirmed``: the debugger is known to run (a reused one): a refused exec then means it
    has ended (DebuggerGone). Otherwise refusals are retried until it starts.
    """
    report = io.events
    namespace, pod_name = _names(pod)
    session = new_session_id(os.urandom(4))
    command = session_command(name, words, session, watched=mode.watched)
    timeout = mode.timeout
    watch = None if confirmed else _StartWatch(client, pod, name, timeout, report).start()
    deadline = time.monotonic() + timeout
    attempt = 0

    def wait_or_give_up() -> None:
        nonlocal attempt
        if io.sessions is not None and io.sessions.closed:
            raise Interrupted("interrupted: the command was not started")
        _start_failure(watch, image, name)
        if time.monotonic() > deadline:
            raise WaitTimeoutError(
                f"debugger {name} in Pod {pod_name} did not start within {timeout:g}s",
                remedy=f"{WaitTimeoutError.RAISE_LIMIT}, or look at the Pod's events; the "
                "debugger stays in the Pod (ephemeral containers cannot be removed)",
            )
        time.sleep(START_RETRY_DELAYS[min(attempt, len(START_RETRY_DELAYS) - 1)])
        attempt += 1

    def next_shell() -> list[str]:
        # Nothing ends an exec'd shell when its connection goes (seen on the local cluster:
        # the shell of a `kubectl exec -it` whose client was killed ran on): the one a
        # dropped connection leaves is ended here, and the next has an id of its own.
        nonlocal session
        _end_session(client, pod, name, session, None)
        session = new_session_id(os.urandom(4))
        return session_command(name, words, session, watched=mode.watched)

    def keep() -> SessionKeeper | None:
        # A watched session needs none: its own stdin tells it that the client has gone.
        if mode.watched:
            return None
        return SessionKeeper(client, namespace, pod_name, name, session).start()

    # Registered before any exec is sent, so that a caller that ends every session (a
    # second Ctrl-C over many Pods) also ends one whose command has not started yet.
    key = None
    if io.sessions is not None:
        key = io.sessions.add(pod_name, lambda: _end_session(client, pod, name, session, None))
    try:
        if not confirmed and mode.stdin:
            # Local input must not be spent on an exec the runtime refuses: wait for a
            # harmless one to go through first.
            while not _exec_true(client, namespace, pod_name, name):
                wait_or_give_up()
            confirmed = True
        monitor = SessionMonitor(client, pod, name, report).start()
        try:
            return _session(
                client,
                pod,
                name,
                command,
                io,
                mode,
                monitor,
                confirmed,
                wait_or_give_up,
                next_shell,
                keep,
            )
        except (KeyboardInterrupt, Interrupted):
            # Closing the stream does not end the command: left running, it would keep the
            # debugger from ever expiring (it counts as a session).
            _end_session(client, pod, name, session, report)
            raise
        finally:
            monitor.stop()
    finally:
        if key is not None and io.sessions is not None:
            io.sessions.remove(key)
        if watch is not None:
            watch.stop()


def _end_session(
    client: KubeAPI, pod: dict[str, Any], name: str, session: str, report: Events | None
) -> bool:
    """End what an interrupted session runs in debugger ``name``, or say why it could not
    (``report`` None: say nothing); whether it ended."""
    from podscope.session.debugger import run_quiet

    namespace, pod_name = _names(pod)
    if report is None:
        report = Events()
    report(f"ending the command in debugger {name} (Ctrl-C again to leave it running)")
    try:
        _, code, status = run_quiet(
            client, namespace, pod_name, name, end_session_command(name, session)
        )
    except KeyboardInterrupt:
        report(f"left the command running in debugger {name}")
        return False
    except PodscopeError as exc:
        report(f"could not end the command in debugger {name}: {exc.message}")
        return False
    failure = status_failure(status)
    if failure:
        # Refused because the debugger has ended: so has the command.
        if refused_as_ended(failure):
            return True
        report(f"could not end the command in debugger {name}: {failure}")
        return False
    if code not in (0, None):
        report(f"could not end the command in debugger {name} (exit code {code})")
        return False
    return True


# containerd, once the container's task is gone: 'failed to create exec "ID": task ID not found'.
_TASK_GONE = re.compile(r"\btask [0-9a-f]+ not found")


def _ended(text: str | None) -> bool:
    """Whether a refused exec says the container has stopped (its holder has ended)."""
    lowered = (text or "").lower()
    return any(sign in lowered for sign in ENDED_SIGNS) or bool(_TASK_GONE.search(lowered))


def refused_as_ended(refusal: ServerError | str | None) -> bool:
    """Whether the runtime refused an exec because the container is not running: not
    started yet, or (into a debugger that was running) ended. The refusal is the server's
    error (a 1.21 kubelet refuses the upgrade) or the failure Status's message inside the
    stream (1.34)."""
    if isinstance(refusal, ServerError):
        return _not_started(refusal)
    return bool(refusal) and (NOT_STARTED in str(refusal) or _ended(refusal))


def _not_started(exc: ServerError) -> bool:
    # 1.34 refuses inside the stream (a Status); a 1.21 kubelet refuses the upgrade itself
    # with HTTP 500 and the same words. Neither carries a reason field to decide on.
    return exc.status == 500 and refused_as_ended(exc.message)


def _exec_true(client: KubeAPI, namespace: str, pod: str, name: str) -> bool:
    try:
        stream = client.exec(StreamQuery(namespace, pod, name), ["true"])
    except ForbiddenError as exc:
        raise ExecUnavailable(f"exec is not allowed here ({exc.message})") from None
    except ServerError as exc:
        if _not_started(exc):
            return False
        raise
    for _ in stream.frames():
        pass
    failure = status_failure(stream.status)
    return not refused_as_ended(failure)


def _session(
    client: KubeAPI,
    pod: dict[str, Any],
    name: str,
    command: list[str],
    io: SessionIO,
    mode: ExecMode,
    monitor: SessionMonitor,
    confirmed: bool,
    wait_or_give_up: Any,
    next_shell: Callable[[], list[str]],
    keep: Callable[[], SessionKeeper | None],
) -> ExecOutcome:
    report, local = io.events, io.streams
    namespace, pod_name = _names(pod)
    start_pod = pod
    shells = 1
    failures = 0
    replacing = False
    while True:
        try:
            stream = client.exec(
                StreamQuery(namespace, pod_name, name, mode.stdin or mode.watched, mode.tty),
                command,
            )
        except ForbiddenError as exc:
            raise ExecUnavailable(f"exec is not allowed here ({exc.message})") from None
        except ServerError as exc:
            if not _not_started(exc):
                if confirmed and how_debugger_ended(client, pod, name):
                    raise DebuggerGone(name) from None  # in words not known here
                raise
            if confirmed:
                raise DebuggerGone(name) from None
            wait_or_give_up()
            continue
        except UnreachableError as exc:
            if not replacing or failures >= RECONNECT_ATTEMPTS:
                raise
            report(f"starting a new shell in {name} failed ({exc.message}); retrying")
            time.sleep(RECONNECT_BACKOFF.delay(failures))
            failures += 1
            continue
        if replacing:
            report(f"new shell started in debugger {name}")
            replacing = False
        monitor.follow(stream)
        keeper = keep()
        # Only a session that ended with an exit code ended as it should, or one the caller
        # ends (or on a second Ctrl-C leaves running) as the user says; after any other end,
        # the keeper ends what it ran (as podscope does here too, where it can).
        done = False
        try:
            result = pump(
                stream,
                local,
                tty=mode.tty,
                quiet_hint=PROMPT_HINT if mode.tty and shells == 1 else None,
                close_stdin_on_eof=True,
            )
            failure = status_failure(stream.status)
            done = not (stream.lost or failure)
        except (KeyboardInterrupt, Interrupted):
            done = True
            raise
        finally:
            if keeper is not None:
                keeper.end(done)
        # An exec the runtime refused (nothing ran): the container has not started yet, or
        # has just ended between the check that it runs and this exec.
        starting = refused_as_ended(failure)
        killed = (stream.exit_code or 0) >= 128  # by a signal: what a Pod's deletion does
        if stream.lost or (failure and not starting) or killed:
            monitor.settle()
        if monitor.gone is not None:
            raise monitor.gone
        if starting and not result.stdout_bytes + result.stderr_bytes:
            if confirmed:
                raise DebuggerGone(name)
            wait_or_give_up()
            continue
        output = result.stdout_bytes + result.stderr_bytes
        if failure and confirmed and not output and how_debugger_ended(client, pod, name):
            # Refused in words not known here (an empty Status, "ttrpc: closed", ...) by a
            # debugger that, as asked again, has ended: what the known words mean too.
            raise DebuggerGone(name)
        confirmed = True
        if failure:
            pod = reread_pod(client, pod)
            raise StreamLostError(f"the exec stream into debugger {name} failed: {failure}")
        if stream.lost:
            if not (mode.tty and mode.reconnect) or failures >= RECONNECT_ATTEMPTS:
                how = "--no-reconnect" if mode.tty else "a command is not run twice"
                raise StreamLostError(
                    f"the connection to debugger {name} was lost ({how}); the command may "
                    "still be running in it",
                    remedy=f"see with: podscope ls {pod_name} -n {namespace}",
                )
            report(
                f"connection to debugger {name} lost: the shell it ran is gone (ended here: "
                "an exec'd shell runs on without its connection); starting a new shell in "
                "the same debugger"
            )
            time.sleep(RECONNECT_BACKOFF.delay(failures))
            failures += 1
            pod = reread_pod(client, pod)
            # An exec can outrun the kubelet's report: only "terminated" means it has ended.
            if container_state_of(pod, name).state == "terminated":
                raise StreamLostError(
                    f"the connection to debugger {name} was lost and the debugger has ended "
                    f"({container_state_of(pod, name).describe()})"
                )
            command = next_shell()
            shells += 1
            replacing = True
            continue
        code = stream.exit_code
        code = 0 if code is None else code
        ended = how_debugger_ended(client, pod, name) if killed else None
        if ended == "expired-guarded" and not output:
            # Its TTL ran out as this session began, and its holder's guard kept the
            # command from starting: run it in another debugger, as if the exec was refused.
            raise DebuggerGone(name)
        _say_debugger_ended(ended, name, report)
        if code == 137 and ended not in ("stopped", "expired", "expired-guarded"):
            _explain_kill_by_target(
                client, start_pod, pod, name, ContainerState("terminated", exit_code=137), report
            )
        return ExecOutcome(pod, code, shells)


def _say_debugger_ended(how: str | None, name: str, report: Events) -> None:
    """After a session killed by a signal: how its debugger ended with it (see
    ``how_debugger_ended``), in one line; nothing when it did not."""
    expired = "ended (its TTL ran out) as the session began"
    said = {
        "stopped": "was stopped during the session (podscope stop)",
        "expired": expired,
        "expired-guarded": expired,
        "ended": "ended during the session (its main process is gone)",
    }.get(how or "")
    if said is not None:
        report(f"debugger {name} {said}; the command was killed with it")


def how_debugger_ended(client: KubeAPI, pod: dict[str, Any], name: str) -> str | None:
    """Whether a debugger has ended, and how ("stopped", "expired", "killed", "ended"; None
    while it still runs or cannot be asked): its holder is looked for, or the runtime
    refuses the exec; the kubelet's report of how it ended follows within a relist or two.
    "expired-guarded": expired with its guard on, so no command started after its last look
    (see ``SESSION_SCRIPT``)."""
    from podscope.session.debugger import run_quiet

    namespace, pod_name = _names(pod)
    gone: bool | None = None  # the holder's end: seen, unknown, or it still runs (False)
    try:
        _, code, status = run_quiet(client, namespace, pod_name, name, alive_command(name))
    except ServerError as exc:
        gone = True if _not_started(exc) else None
    except PodscopeError:
        gone = None
    else:
        failure = status_failure(status)
        if failure:
            gone = True if refused_as_ended(failure) else None
        else:
            gone = {0: False, 1: True}.get(code or 0)
    if gone is False:
        return None
    # Gone, or not known: the kubelet's report says, within a relist or two.
    try:
        reported, progress = wait_until_terminated(client, pod, name, ENDED_REPORT_SECONDS)
    except PodscopeError:
        return None
    if progress.state != "terminated":
        if not gone:
            return None
        how = "ended"
    else:
        how = terminated_state(progress.exit_code, progress.message).state
        if progress.exit_code not in (EXPIRED_EXIT, STOPPED_EXIT) and how == "stopped":
            how = "killed"
        spec = container_spec(reported, name) or {}
        if how == "expired" and expired_guarded(progress.message) and guards_expiry(spec):
            how = "expired-guarded"
    return how


def exec_words(spec: DebugSpec, tty: bool, stdin: bool) -> list[str]:
    """What a session execs: the command after ``--`` (wrapped for --cd/--chroot), or a
    shell for ``-i``. The --cd/--chroot wrapper is escaped for a container's command; an
    exec's command is not expanded, so the escaping is undone."""
    words = [*spec.command, *spec.args]
    if len(words) > 3 and words[:2] == ["sh", "-c"] and words[3] == SCRIPT_NAME:
        words = [
            words[0],
            words[1],
            kube_unescape(words[2]),
            *words[3:5],
            kube_unescape(words[5]),
            *words[6:],
        ]
    if not words and (tty or stdin):
        return ["sh"]
    return words


def _named_choice(
    pod: dict[str, Any], base: DebugSpec, request: DebugRequest, ended: set[str]
) -> str | None:
    """The live debugger ``-c`` names, when it can serve the request (see named_debugger)."""
    assert request.container is not None
    if request.container in ended:
        raise UsageError(
            f"debugger {request.container} in Pod {_names(pod)[1]} has ended (its main "
            "process is gone)",
            remedy="leave out -c for a new debugger",
        )
    # Built under a free name: the one given is taken by the debugger itself.
    unnamed = build_ephemeral_container(pod, replace(base, name=None))
    return named_debugger(pod, unnamed, request.container)


def _say_ttl_is_kept(
    pod: dict[str, Any], name: str, request: DebugRequest, asked: int, report: Events
) -> None:
    # A container's command cannot change: a live debugger keeps the TTL it was made with.
    kept = ttl_of(container_spec(pod, name) or {})
    if request.ttl is not None and kept is not None and kept != asked:
        report(
            f"debugger {name} keeps its TTL of {format_duration(kept)}: --ttl applies to a "
            "new debugger (add --new for one)"
        )


def run_exec_debug(
    client: KubeAPI,
    request: DebugRequest,
    io: SessionIO,
    pod: dict[str, Any],
    spec: DebugSpec,
    plan: ExecPlan,
) -> DebugResult:
    """Find or add the debugger for ``spec`` and exec the request's command into it.

    Raises ExecUnavailable when the attach model has to be used instead.
    """
    from podscope.session.ephemeral import debug_result

    report = io.events
    namespace, pod_name = _names(pod)
    words = exec_words(spec, request.tty, request.stdin)
    base = replace(
        spec, command=[], args=[], stdin=False, tty=False, custom=_without_stdin_once(spec)
    )
    named = request.container is not None
    skip: set[str] = set()
    checked_rbac = False
    for _ in range(3):
        container = None
        live = _named_choice(pod, base, request, skip) if named and not request.new else None
        why = "named with -c"
        if live is None:
            container = build_ephemeral_container(pod, base)
            live = (
                None
                if request.new
                else find_live(pod, container, named=named, skip=frozenset(skip))
            )
            why = "same image, target, profile and user"
        if live is not None:
            name, created = live, False
            confirmed = container_state_of(pod, name).state == "running"
            report(f"using debugger {name} ({why})")
            _say_ttl_is_kept(pod, name, request, plan.ttl, report)
        else:
            assert container is not None
            failed = failed_holder(pod, debugger_key(container))
            if failed is not None:
                raise ExecUnavailable(
                    f"image {spec.image} cannot hold a debugger open (debugger {failed} of "
                    "this Pod failed to start with it)"
                )
            if not checked_rbac:
                _check_exec_allowed(client, namespace, pod_name)
                checked_rbac = True
            grants = describe_grants(spec.profile)
            if grants:
                report(grants)
            report(
                f"target container: {spec.target} ({plan.target_reason})"
                if spec.target
                else f"no target container ({plan.target_reason})"
            )
            plan.on_create(pod_name, namespace)
            placed = create_debugger(
                client,
                pod,
                container,
                ttl=plan.ttl,
                shape=plan.shape,
                new=request.new,
                named=named,
                report=report,
            )
            pod, name = placed.pod, placed.name
            created = placed.created
            confirmed = False
            if not placed.joined:
                report(
                    f"created debugger {name} (image {spec.image}, ends after "
                    f"{format_duration(plan.ttl)} without a session) in Pod {pod_name}"
                )
        report.phase("exec", f"exec into debugger {name}")
        plan.on_placed()
        io.stream_starts(StreamStart(pod, name, tuple(words), "exec", created))
        try:
            outcome = exec_session(
                client,
                pod,
                name,
                words,
                io,
                ExecMode(request.stdin, request.tty, request.reconnect, request.timeout),
                confirmed=confirmed,
                image=spec.image,
            )
        except (KeyboardInterrupt, Interrupted):
            made = "was created and stays" if created else "stays"
            report(
                f"interrupted: debugger {name} {made} in Pod {pod_name}; it ends after "
                f"{format_duration(plan.ttl)} without a session, or with: podscope stop "
                f"{pod_name} -c {name} -n {namespace}"
            )
            raise
        except (StartFailedError, DebuggerGone) as exc:
            # A reused debugger the kubelet had not yet reported as running (an exec can
            # outrun its report) that then shows as terminated has ended: replace it.
            if created and isinstance(exc, StartFailedError):
                raise
            skip.add(name)
            pod = client.get_pod(namespace, pod_name)
            if not named:
                report(f"debugger {name} has ended (its main process is gone); adding a new one")
            # Named with -c: the next round refuses it by name (nothing new is made for it).
            continue
        if created:
            report_pull_time(client, pod, name, report)
        if request.stdin:
            report(
                f"session ended; debugger {name} stays for the next one (podscope stop "
                f"{pod_name} -c {name} ends it)"
            )
        result = debug_result(
            outcome.pod,
            name,
            created=created,
            spec=spec,
            target_reason=plan.target_reason,
            pod_reason=plan.pod_reason,
            progress=container_state_of(outcome.pod, name),
            attached=True,
        )
        # The exit code is the exec'd command's: the debugger itself keeps running.
        return replace(result, exit_code=outcome.exit_code, model="exec")
    raise StreamLostError(
        f"debuggers in Pod {pod_name} kept ending before a command could run in them",
        remedy="look at the Pod's events; --attach-mode avoids debuggers",
    )


def _without_stdin_once(spec: DebugSpec) -> dict[str, Any] | None:
    if spec.custom is None:
        return None
    custom = dict(spec.custom)
    custom.pop("stdinOnce", None)
    return custom or None


def _check_exec_allowed(client: KubeAPI, namespace: str, pod: str) -> None:
    """Refuse the exec model before writing when RBAC will refuse the exec.

    A WebSocket exec is an HTTP GET: it is authorized as ``get`` on ``pods/exec``. From 1.35
    ``create`` is needed too; a refusal of that shows at the exec itself, which falls back
    the same way. Asking costs one request; a failed question is not an answer.
    """
    try:
        allowed, _ = client.access_review(AccessQuestion("get", "pods", "exec", namespace, pod))
    except PodscopeError:
        return
    if not allowed:
        raise ExecUnavailable("RBAC does not allow get on pods/exec here (an exec needs it)")
