"""One command in several Pods: resolve them, run each as a single-Pod debug, gather rows.

Each Pod gets the single-Pod session (:func:`run_debug`) with its own request, on the one
shared connection; at most ``max_parallel`` run at once, in worker threads. A Pod's failure
becomes its row, with the message a single-Pod run would print; the others go on.

Ctrl-C reaches the calling thread only: the first one stops new Pods from starting and
lets the running commands end; a second one gives up on them (their threads are daemons),
saying which Pods may still run a command.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from podscope.errors import (
    ExitCode,
    Interrupted,
    NotFoundError,
    PodscopeError,
    PodStateError,
    RecordError,
    ValidationError,
)
from podscope.events import Event, Events
from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import AccessQuestion
from podscope.rules.many import (
    ManyCpRequest,
    ManyDebugRequest,
    PodOutcome,
    Skipped,
    one_copy,
    one_pod,
    pod_name,
    run_exit_code,
    skipped_outcome,
    take_running,
)
from podscope.rules.results import ResultDict
from podscope.rules.validate import check_pod_can_debug
from podscope.rules.workloads import PodRef, parse_pod_ref
from podscope.session.io import OpenSessions, SessionIO
from podscope.terminal.pump import LocalIO

if TYPE_CHECKING:
    from podscope.rules.receipt import Identity
    from podscope.session.record import RecordOptions

# (pod, channel, data): channel 1 is the command's stdout, 2 its stderr.
OutputHandler = Callable[[str, int, bytes], None]
OutcomeHandler = Callable[[PodOutcome], None]
# How often the calling thread wakes to notice Ctrl-C while it waits for the workers.
_JOIN_TICK = 0.2
# How long a second Ctrl-C waits for the running Pods' commands to be ended.
_END_SECONDS = 5.0


@dataclass(frozen=True)
class ManyResult(ResultDict):
    """What a run over several Pods did: one outcome per Pod (skipped ones too), by name."""

    namespace: str
    outcomes: list[PodOutcome]
    dry_run: bool = False
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        if self.dry_run:
            return int(ExitCode.OK)
        return run_exit_code(self.outcomes)


@dataclass(frozen=True)
class Targets:
    """The Pods found: those to run in, those skipped, and names that failed to resolve."""

    pods: list[dict[str, Any]]
    skipped: list[Skipped]
    failed: list[PodOutcome]


def resolve_targets(
    client: KubeAPI, request: ManyDebugRequest | ManyCpRequest, namespace: str
) -> Targets:
    """Read the Pods the request names (by name, by workload, by selector); read-only.

    A selector or workload that finds no Pod at all is an error (nothing to run in), and the
    Pods it finds that cannot take a debugger (Pending, finished) are skipped. A named Pod
    that does not exist or cannot take a debugger is that Pod's failed row.
    """
    found: list[dict[str, Any]] = []
    failed: list[PodOutcome] = []
    if request.selector is not None:
        try:
            found = client.list_pods(namespace, label_selector=request.selector)
        except ValidationError as exc:
            # The server's own parser judged it (400): say which flag, keep its reason.
            reason = exc.message.removeprefix("the API server refused the request: ")
            raise ValidationError(
                f"-l/--selector {request.selector!r} is not a label selector: {reason}",
                field="selector",
                remedy="e.g. -l app=web, -l 'app=web,tier!=db' or -l 'tier in (web,api)'",
            ) from None
        if not found:
            raise NotFoundError(
                f"no Pod in namespace {namespace} matches the selector {request.selector!r}",
                remedy="check the labels with: kubectl get pods --show-labels -n " + namespace,
            )
    for text in getattr(request, "pods", ()):
        ref = parse_pod_ref(text)
        if ref.workload is not None:
            pods = client.list_pods(
                namespace, label_selector=client.workload_selector(namespace, ref)
            )
            if not pods:
                raise NotFoundError(f"{ref} has no Pods", remedy="wait for its Pods to be made")
            found.extend(pods)
            continue
        try:
            pod = client.get_pod(namespace, ref.name)
            # Named, it was asked for: a Pod that cannot take a debugger is a failure, as
            # in a single-Pod run, not a skip (only Pods a selector or workload found are).
            check_pod_can_debug(pod)
        except PodscopeError as exc:
            failed.append(
                PodOutcome(
                    ref.name,
                    namespace,
                    "failed",
                    error=exc.message,
                    error_exit_code=int(exc.exit_code),
                )
            )
            continue
        found.append(pod)
    taken, skipped = take_running(found)
    return Targets(taken, skipped, failed)


class _Output(io.RawIOBase):
    """One Pod's stdout or stderr: hands each chunk on, and keeps it when captured."""

    def __init__(self, pod: str, channel: int, handler: OutputHandler | None, keep: bool) -> None:
        super().__init__()
        self._pod, self._channel, self._handler = pod, channel, handler
        self.kept: bytearray | None = bytearray() if keep else None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if self.kept is not None:
            self.kept.extend(chunk)
        if self._handler is not None and chunk:
            self._handler(self._pod, self._channel, chunk)
        return len(chunk)


# How old a shared Events list may be when another Pod's session asks the same question.
_EVENTS_FRESH = 0.4


def _field(item: Any, path: str) -> str | None:
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return None if item is None else str(item)


class _Shared:
    """Questions every Pod's session asks the API server alike, asked once for the run.

    A starting debugger's session polls the namespace's Events (a field selector is a scan
    of every Event in the namespace) and asks whether it may exec; thirty Pods asking each
    for themselves load the API server that the kubelets share the machine with.
    """

    def __init__(self, client: KubeAPI) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._events: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}
        self._allowed: dict[AccessQuestion, bool] = {}

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]:
        """The Events ``field_selector`` picks, filtered here out of one list of the
        namespace's Events with that reason (at most ``_EVENTS_FRESH`` old)."""
        terms = [term.split("=", 1) for term in field_selector.split(",")]
        reasons = [value for key, value in terms if key == "reason"]
        if len(reasons) != 1 or any(len(t) != 2 or t[0].endswith("!") for t in terms):
            return self._client.list_events(namespace, field_selector)
        key = (namespace, reasons[0])
        with self._lock:
            kept = self._events.get(key)
            if kept is None or time.monotonic() - kept[0] > _EVENTS_FRESH:
                kept = (time.monotonic(), self._client.list_events(namespace, f"reason={key[1]}"))
                self._events[key] = kept
        return [e for e in kept[1] if all(_field(e, k) == v for k, v in terms)]

    def access_review(self, question: AccessQuestion) -> tuple[bool, str]:
        """Asked once without the name: allowed for every name is allowed for this one;
        otherwise (RBAC may name Pods) the question for this name goes to the server."""
        any_name = question.for_any_name()
        with self._lock:
            if any_name not in self._allowed:
                allowed, _ = self._client.access_review(any_name)
                self._allowed[any_name] = allowed
            if self._allowed[any_name] or question.name is None:
                return self._allowed[any_name], ""
        return self._client.access_review(question)


class _Listed:
    """The client, answering the first read of one Pod from the list that found it, and
    the run's shared questions through :class:`_Shared`.

    A single-Pod session starts by reading its Pod; in a run the list has just answered
    that, and a GET per Pod is a request the API server serves while the kubelets need the
    machine's CPU for the execs. Every later read (after a write, a retry) goes to the server.
    """

    def __init__(self, client: KubeAPI, pod: dict[str, Any], shared: _Shared) -> None:
        self._client = client
        self.list_events = shared.list_events
        self.access_review = shared.access_review
        meta = pod.get("metadata") or {}
        self._key: tuple[str, str] | None = (str(meta.get("namespace")), str(meta.get("name")))
        self._pod = pod

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        if (namespace, name) == self._key:
            self._key = None
            return self._pod
        return self._client.get_pod(namespace, name)

    def get_workload(self, namespace: str, ref: PodRef) -> tuple[dict[str, Any], str]:
        if ref.workload is None:
            return self.get_pod(namespace, ref.name), "named on the command line"
        return self._client.get_workload(namespace, ref)


def _pod_events(events: Events, pod: str) -> Events:
    """A Pod's session events, each sentence prefixed with the Pod's name.

    Phase events drive a single status line; several Pods' phases at once would fight over
    it, so they are left out.
    """

    def forward(event: Event) -> None:
        if event.kind == "warning":
            events.warning(f"{pod}: {event.message}")
        elif event.kind == "info":
            events.info(f"{pod}: {event.message}")

    return Events(forward)


@dataclass(frozen=True)
class _Record:
    """How each Pod's session is recorded: the options (the Pod filled in per session) and
    who the run is credited to, asked once for all of them."""

    options: RecordOptions
    who: Identity


def _prepare_record(
    client: KubeAPI, options: RecordOptions | None, namespace: str, report: Events
) -> _Record | None:
    """Check once, before any Pod is touched, that the run can be recorded: refused as a
    whole with ``required``, else one warning and every session goes on unrecorded (their
    Events are still posted)."""
    from podscope.session.record import check_recordable, identify

    if options is None:
        return None
    try:
        check_recordable(options)
    except RecordError as exc:
        why = exc.message.replace("this session", "this run")
        if options.required:
            raise RecordError(why, remedy=exc.remedy) from None
        if options.directory is not None:
            report.warning(f"{why}; its sessions go on unrecorded")
        options = replace(options, directory=None)
    who = identify(client, options.kubeconfig_user, report)
    return _Record(replace(options, namespace=namespace), who)


def _run_one(
    client: KubeAPI,
    request: ManyDebugRequest,
    io_: SessionIO,
    pod: str,
    namespace: str,
    on_output: OutputHandler | None,
    capture_output: bool,
    record: _Record | None = None,
    listed: tuple[dict[str, Any], _Shared] | None = None,
) -> PodOutcome:
    from podscope.session.ephemeral import run_debug

    if listed is not None:
        client = cast(KubeAPI, _Listed(client, *listed))
    out = _Output(pod, 1, on_output, capture_output)
    err = _Output(pod, 2, on_output, capture_output)
    local = LocalIO(stdin=None, stdout=cast(BinaryIO, out), stderr=cast(BinaryIO, err))
    session = SessionIO(events=_pod_events(io_.events, pod), local=local, sessions=io_.sessions)
    started = time.monotonic()
    kept: dict[str, Any] = {}
    one = replace(one_pod(request, pod), namespace=namespace)
    try:
        if record is None:
            result = run_debug(client, one, session)
        else:
            from podscope.session.record import record_session

            result = record_session(
                client,
                replace(record.options, target=pod),
                session,
                lambda recorded: run_debug(client, one, recorded),
                who=record.who,
            )
    except PodscopeError as exc:
        outcome = PodOutcome(
            pod,
            namespace,
            "failed",
            error=exc.message,
            error_exit_code=int(exc.exit_code),
            seconds=time.monotonic() - started,
        )
    except Exception as exc:  # noqa: BLE001
        # A bug in one Pod's session must not take the other Pods' down.
        text = " ".join(str(exc).split())[:200]
        outcome = PodOutcome(
            pod,
            namespace,
            "failed",
            error=f"unexpected failure ({type(exc).__name__}: {text})",
            error_exit_code=int(ExitCode.FAILURE),
            seconds=time.monotonic() - started,
        )
    else:
        outcome = PodOutcome(
            pod,
            namespace,
            "exited",
            container=result.container,
            created=result.created,
            exit_code=result.exit_code,
            seconds=time.monotonic() - started,
        )
    if capture_output:
        kept = {"stdout": bytes(out.kept or b""), "stderr": bytes(err.kept or b"")}
    return replace(outcome, **kept) if kept else outcome


class _Pool:
    """At most ``size`` worker threads taking Pods from one list until it is empty."""

    def __init__(self, size: int, pods: list[str], work: Callable[[str], PodOutcome]) -> None:
        self.pending = list(pods)
        self.running: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.work = work
        self.done: list[PodOutcome] = []
        self.on_done: OutcomeHandler | None = None
        self.active = 0  # workers not yet returned
        self.threads = [
            threading.Thread(target=self._worker, name=f"podscope-pod-{n}", daemon=True)
            for n in range(min(size, len(pods)))
        ]

    def start(self) -> _Pool:
        self.active = len(self.threads)
        for thread in self.threads:
            thread.start()
        return self

    def _worker(self) -> None:
        try:
            while True:
                with self.lock:
                    if self.stop.is_set() or not self.pending:
                        return
                    pod = self.pending.pop(0)
                    self.running.append(pod)
                outcome = self.work(pod)
                with self.lock:
                    self.running.remove(pod)
                    self.done.append(outcome)
                    # Under the lock: a handler that prints never interleaves two outcomes.
                    if self.on_done is not None:
                        self.on_done(outcome)
        finally:
            with self.lock:
                self.active -= 1

    def wait(self) -> None:
        # Not Thread.join: a Ctrl-C that interrupts join() can leave the thread looking
        # finished while it runs. A sleep is safe to interrupt.
        while self.active:
            time.sleep(_JOIN_TICK)


def run_many(
    client: KubeAPI,
    request: ManyDebugRequest,
    io_: SessionIO,
    *,
    on_output: OutputHandler | None = None,
    on_outcome: OutcomeHandler | None = None,
    capture_output: bool = False,
    record: RecordOptions | None = None,
) -> ManyResult:
    """Run the request's command in each of its Running Pods; one outcome per Pod.

    ``on_output(pod, channel, data)`` hears each Pod's output as it arrives; with
    ``capture_output`` it is kept in the outcomes too. ``on_outcome`` hears each outcome as
    its Pod finishes (skipped Pods and Pods that failed to resolve first). ``request.image``
    and ``request.custom`` must be resolved, as for :func:`run_debug`. ``record``: each
    Pod's session is recorded as a single-Pod one is (its own recording and receipt, named
    after the Pod); a run that must be recorded and cannot be is refused before any write.
    """
    request.validate()
    report = io_.events
    namespace = request.namespace or client.namespace
    targets = resolve_targets(client, request, namespace)
    names = [pod_name(pod) for pod in targets.pods]
    early = [skipped_outcome(s, namespace) for s in targets.skipped] + targets.failed
    for skip in targets.skipped:
        report(f"skipping Pod {skip.pod}: {skip.reason}")
    for failure in targets.failed:
        report.warning(f"Pod {failure.pod}: {failure.error}")
    if on_outcome is not None:
        for outcome in early:
            on_outcome(outcome)
    if request.dry_run:
        selected = [PodOutcome(name, namespace, "selected") for name in names]
        if on_outcome is not None:
            for outcome in selected:
                on_outcome(outcome)
        what = " ".join(request.command) or "a command (give it after --)"
        report(f"dry run: would run {what} in {len(names)} Pod(s); nothing was changed")
        return ManyResult(namespace, _by_name(early + selected), dry_run=True)
    if not names and not targets.failed:
        raise PodStateError(
            f"none of the {len(targets.skipped)} Pod(s) found is Running "
            f"({'; '.join(s.reason for s in targets.skipped)})",
            remedy="wait for the Pods to run, or debug a copy of one with --copy-to NEW",
        )
    if not names:
        return ManyResult(namespace, _by_name(early))
    recorded = _prepare_record(client, record, namespace, report)
    width = min(request.max_parallel, len(names))
    report(f"running {' '.join(request.command)} in {len(names)} Pod(s), {width} at a time")
    by_name = {pod_name(pod): pod for pod in targets.pods}
    shared = _Shared(client)
    # Each running Pod may hold a request and two watches at once.
    client.widen_pool(3 * width + 2)
    if io_.sessions is None:
        io_ = replace(io_, sessions=OpenSessions())
    pool = _Pool(
        request.max_parallel,
        names,
        lambda pod: _run_one(
            client,
            request,
            io_,
            pod,
            namespace,
            on_output,
            capture_output,
            recorded,
            (by_name[pod], shared),
        ),
    )
    pool.on_done = on_outcome
    done, interrupted = _drive(pool, names, namespace, report, io_.sessions)
    return ManyResult(namespace, _by_name(early + done), interrupted=interrupted)


def _drive(
    pool: _Pool,
    names: list[str],
    namespace: str,
    report: Events,
    sessions: OpenSessions | None = None,
) -> tuple[list[PodOutcome], bool]:
    """Run the pool to its end, or to the first Ctrl-C and the running Pods' end; the
    outcomes (unstarted Pods as ``not-started``) and whether it was interrupted."""
    pool.start()
    interrupted = False
    try:
        pool.wait()
    except KeyboardInterrupt:
        interrupted = True
        # The second Ctrl-C may come at any moment from here on, even while this reports.
        try:
            pool.stop.set()
            running = list(pool.running)
            report(
                f"interrupted: no more Pods are started; waiting for the command to end in "
                f"{len(running)} Pod(s) ({', '.join(running) or 'none'}); Ctrl-C again to "
                "stop waiting"
            )
            pool.wait()
        except KeyboardInterrupt:
            with pool.lock:
                running = list(pool.running)
                finished = list(pool.done)
            left = set(running)
            if sessions is not None and running:
                report(
                    f"ending the command in {len(running)} Pod(s) (Ctrl-C again to leave it "
                    "running)"
                )
                try:
                    left = sessions.end_all(_END_SECONDS)
                except KeyboardInterrupt:
                    report("left the commands running")
            _say_where(report, finished, running, namespace, left)
            raise Interrupted("interrupted") from None
    with pool.lock:
        done = list(pool.done)
    started = {o.pod for o in done}
    unstarted = [PodOutcome(n, namespace, "not-started") for n in names if n not in started]
    if interrupted:
        _say_where(report, done, [], namespace)
    return done + unstarted, interrupted


def run_cp_many(
    client: KubeAPI,
    request: ManyCpRequest,
    io_: SessionIO,
    *,
    on_outcome: OutcomeHandler | None = None,
) -> ManyResult:
    """Copy the request's path out of each Running Pod its selector matches into
    ``DEST/POD/``, each Pod as a single-Pod ``cp`` (sha256 checked), at most
    ``max_parallel`` at once. ``request.image`` must be resolved."""
    request.validate()
    report = io_.events
    namespace = request.namespace or client.namespace
    targets = resolve_targets(client, request, namespace)
    names = [pod_name(pod) for pod in targets.pods]
    early = [skipped_outcome(s, namespace) for s in targets.skipped]
    for skip in targets.skipped:
        report(f"skipping Pod {skip.pod}: {skip.reason}")
    if on_outcome is not None:
        for outcome in early:
            on_outcome(outcome)
    if not names:
        raise PodStateError(
            f"none of the {len(targets.skipped)} Pod(s) found is Running",
            remedy="wait for the Pods to run",
        )
    width = min(request.max_parallel, len(names))
    report(f"copying {request.path} out of {len(names)} Pod(s), {width} at a time")
    client.widen_pool(3 * width + 2)

    def work(pod: str) -> PodOutcome:
        from podscope.session.cp import run_cp

        started = time.monotonic()
        into = os.path.join(request.dest, pod)
        made = not os.path.isdir(into)
        try:
            os.makedirs(into, exist_ok=True)
            result = run_cp(
                client,
                replace(one_copy(request, pod), namespace=namespace),
                SessionIO(events=_pod_events(report, pod)),
            )
        except PodscopeError as exc:
            if made:
                # Leave no empty DIR/POD behind a copy that failed.
                with contextlib.suppress(OSError):
                    os.rmdir(into)
            return _failed(pod, namespace, exc.message, int(exc.exit_code), started)
        except OSError as exc:
            return _failed(
                pod, namespace, f"cannot write {exc.filename}: {exc.strerror}", 1, started
            )
        except Exception as exc:  # noqa: BLE001
            text = " ".join(str(exc).split())[:200]
            return _failed(
                pod, namespace, f"unexpected failure ({type(exc).__name__}: {text})", 1, started
            )
        check = "sha256 verified" if result.checksum == "verified" else "checksum skipped"
        return PodOutcome(
            pod,
            namespace,
            "exited",
            container=result.helper,
            created=result.helper_created,
            exit_code=0,
            seconds=time.monotonic() - started,
            error=None,
            note=f"{result.files} file(s), {result.bytes} bytes, {check} -> {result.local}",
        )

    pool = _Pool(request.max_parallel, names, work)
    pool.on_done = on_outcome
    done, interrupted = _drive(pool, names, namespace, report)
    return ManyResult(namespace, _by_name(early + done), interrupted=interrupted)


def _failed(pod: str, namespace: str, message: str, code: int, started: float) -> PodOutcome:
    return PodOutcome(
        pod,
        namespace,
        "failed",
        error=message,
        error_exit_code=code,
        seconds=time.monotonic() - started,
    )


def _say_where(
    report: Events,
    finished: list[PodOutcome],
    running: list[str],
    namespace: str,
    left: set[str] | None = None,
) -> None:
    """``left``: the running Pods whose command may still run (all of them when None)."""
    # Ephemeral containers cannot be removed: say which Pods gained one.
    made = [f"{o.pod} ({o.container})" for o in finished if o.created and o.container]
    if made:
        report(f"debuggers were created in: {', '.join(made)}; they end after their --ttl")
    for pod in running:
        if left is not None and pod not in left:
            report(
                f"Pod {pod}: the command was ended (or never started); its debugger stays "
                f"until its --ttl (see with: podscope ls {pod} -n {namespace})"
            )
            continue
        report(
            f"Pod {pod}: the command may still be running in a debugger; see with: "
            f"podscope ls {pod} -n {namespace}"
        )


def _by_name(outcomes: list[PodOutcome]) -> list[PodOutcome]:
    return sorted(outcomes, key=lambda o: o.pod)
