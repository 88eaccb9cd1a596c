"""A record of a session: an asciicast v2 recording, a receipt, and Events on the Pod.

:func:`record_session` wraps any session ``run(io)``: it opens the recording before the
session can write anything to the cluster (so ``required`` refuses early), tees the local
output streams into it (every byte the terminal is shown, the container's log included),
hears input and terminal sizes through the pump's tap, and when the session's stream is
about to open, posts an Event on the Pod for a debugger this run created and for the session.
The receipt is written when the session opens its files and again when it ends, with the
recording's sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar, cast

from podscope.errors import ForbiddenError, NotFoundError, PodscopeError, RecordError
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.rules import asciicast
from podscope.rules.receipt import (
    REASON_DEBUGGER,
    REASON_SESSION,
    Identity,
    Outcome,
    RecordingRef,
    SessionFacts,
    build_receipt,
    debugger_message,
    facts_from_pod,
    identity_from_review,
    kubeconfig_identity,
    pod_event,
    session_message,
)
from podscope.session.io import SessionIO, StreamStart
from podscope.terminal.pump import LocalIO
from podscope.terminal.rawmode import terminal_size

ResultT = TypeVar("ResultT")

INPUT_WARNING = (
    "--record-input: everything typed in this session is kept in the recording, passwords included"
)


@dataclass(frozen=True)
class RecordOptions:
    """How to record. ``directory`` None with ``required``: the session is refused."""

    directory: str | None
    record_input: bool = False
    required: bool = False
    command: str = "debug"  # for the recording's title
    target: str = ""  # the Pod as the request names it (file names, the title)
    namespace: str = ""
    context: str = ""
    kubeconfig_user: str = ""
    profile: str | None = None


@dataclass(frozen=True)
class RecordFiles:
    cast: Path
    receipt: Path


def file_stem(moment: float, namespace: str, target: str) -> str:
    """``20261201T124000Z-NAMESPACE-POD-1a2b3c``: sorted by time, unique, readable."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(moment))
    pod = target.replace("/", "_") or "session"
    return f"{stamp}-{namespace or 'default'}-{pod}-{secrets.token_hex(3)}"


def _create(path: Path) -> IO[str]:
    # A recording shows what the container printed, which may be secret: owner-only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


class Recording:
    """An open asciicast v2 file. Output arrives from the pump's thread, input and resizes
    from the caller's, so writes take a lock."""

    def __init__(
        self,
        file: IO[str],
        path: Path,
        *,
        size: tuple[int, int],
        title: str,
        record_input: bool,
        env: Mapping[str, str],
    ) -> None:
        self.path = path
        self.record_input = record_input
        self.start = time.time()
        self._clock_start = time.monotonic()
        self._file = file
        self._lock = threading.Lock()
        self._size = size
        self._text = {1: asciicast.TextChunks(), 2: asciicast.TextChunks()}
        self._input = asciicast.TextChunks()
        self._closed = False
        self.failure: str | None = None
        file.write(asciicast.header_line(size[0], size[1], self.start, env, title))
        file.flush()

    def _event(self, code: str, data: str) -> None:
        if not data:
            return
        seconds = time.monotonic() - self._clock_start
        with self._lock:
            if self._closed or self.failure is not None:
                return
            try:
                self._file.write(asciicast.event_line(seconds, code, data))
                self._file.flush()
            except (OSError, ValueError) as exc:
                # A full disk must not end the session; the receipt says what was lost.
                self.failure = f"writing the recording failed: {exc}"

    def output(self, channel: int, data: bytes) -> None:
        self._event(asciicast.OUTPUT, self._text[channel].feed(data))

    # The pump's StreamTap.
    def input(self, data: bytes) -> None:
        if self.record_input:
            self._event(asciicast.INPUT, self._input.feed(data))

    def resize(self, cols: int, rows: int) -> None:
        if (cols, rows) != self._size:
            self._size = (cols, rows)
            self._event(asciicast.RESIZE, asciicast.resize_data(cols, rows))

    def close(self) -> str:
        """Close the file; its sha256 (hex)."""
        for channel, text in self._text.items():
            self._event(asciicast.OUTPUT, text.flush())
            del channel
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(OSError, ValueError):
                    self._file.close()
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 16), b""):
                digest.update(block)
        return digest.hexdigest()


class _TeeOutput:
    """A local output stream that also feeds the recording (recorded first: a closed
    terminal must not cost the record)."""

    def __init__(self, out: BinaryIO, recording: Recording, channel: int) -> None:
        self._out = out
        self._recording = recording
        self._channel = channel

    def write(self, data: bytes) -> int:
        self._recording.output(self._channel, bytes(data))
        return self._out.write(data)

    def flush(self) -> None:
        self._out.flush()

    def fileno(self) -> int:
        return self._out.fileno()

    def isatty(self) -> bool:
        return self._out.isatty()


def identify(kube: KubeAPI, kubeconfig_user: str, report: Events) -> Identity:
    """Who the API server sees (SelfSubjectReview); where it cannot say, the kubeconfig's
    user entry name, marked as such."""
    try:
        who = identity_from_review(kube.self_subject_review())
    except NotFoundError:
        who = None  # the server has no SelfSubjectReview (before 1.27)
    except PodscopeError as exc:
        report.warning(
            f"could not ask the API server who you are ({exc.message}); the receipt names "
            "the kubeconfig's user instead"
        )
        who = None
    return who or kubeconfig_identity(kubeconfig_user)


def _no_directory() -> RecordError:
    return RecordError(
        "this session cannot be recorded: no recording directory is set and "
        "--record-required was given",
        remedy="pass --record DIR (or set $PODSCOPE_RECORD, or record: in the config file)",
    )


def _unwritable(directory: Path, exc: OSError) -> RecordError:
    reason = exc.strerror or type(exc).__name__
    if directory.exists() and not directory.is_dir():
        reason = "it is a file, not a directory"
    return RecordError(
        f"this session cannot be recorded: cannot write to {directory} ({reason})",
        remedy="pass --record with a directory you can write to",
    )


def _directory(options: RecordOptions) -> Path:
    """The recording directory, made (only its owner may enter it) when it is missing."""
    if options.directory is None:
        raise _no_directory()
    directory = Path(options.directory).expanduser()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(directory, exc) from None
    return directory


def check_recordable(options: RecordOptions) -> None:
    """RecordError, as opening a recording would raise it, when ``options`` cannot record:
    for a caller that must refuse before any session starts. Leaves only the directory."""
    directory = _directory(options)
    try:
        fd, probe = tempfile.mkstemp(prefix=".podscope-probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _unwritable(directory, exc) from None


def _open(options: RecordOptions, local: LocalIO, title: str) -> tuple[Recording, RecordFiles]:
    directory = _directory(options)
    try:
        stem = file_stem(time.time(), options.namespace, options.target)
        files = RecordFiles(directory / f"{stem}.cast", directory / f"{stem}.receipt.json")
        receipt = _create(files.receipt)
        receipt.close()
        cast_file = _create(files.cast)
    except OSError as exc:
        raise _unwritable(directory, exc) from None
    fds = [fd for fd in (local.stdin, _fileno(local.stdout)) if fd is not None]
    size = terminal_size(*fds) or asciicast.DEFAULT_SIZE
    recording = Recording(
        cast_file,
        files.cast,
        size=size,
        title=title,
        record_input=options.record_input,
        env=os.environ,
    )
    return recording, files


def _fileno(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (OSError, ValueError, AttributeError):
        return None


@dataclass(eq=False)
class _Audit:
    """The facts of the session as they become known, the Pod's Events, and the receipt."""

    kube: KubeAPI
    options: RecordOptions
    who: Identity
    report: Events
    recording: Recording | None
    files: RecordFiles | None
    facts: SessionFacts = field(init=False)
    streamed: bool = field(default=False, init=False)
    _warned: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.facts = SessionFacts(namespace=self.options.namespace, profile=self.options.profile)

    def stream_starts(self, start: StreamStart) -> None:
        self.facts = facts_from_pod(
            start.pod,
            start.container,
            command=start.command,
            model=start.model,
            created=start.created,
            profile=self.options.profile,
        )
        self.streamed = True
        if start.created:
            self._post(start.pod, REASON_DEBUGGER, debugger_message(self.who, self.facts))
        name = self.files.cast.name if self.files is not None else None
        self._post(start.pod, REASON_SESSION, session_message(self.who, self.facts, name))

    def _post(self, pod: dict[str, Any], reason: str, message: str) -> None:
        namespace = str((pod.get("metadata") or {}).get("namespace") or self.facts.namespace)
        body = pod_event(pod, self.facts.container, reason, message, time.time())
        try:
            self.kube.create_event(namespace, body)
        except PodscopeError as exc:
            if self._warned:
                return
            self._warned = True
            why = (
                f"RBAC does not allow create events in namespace {namespace}"
                if isinstance(exc, ForbiddenError)
                else f"creating it failed: {exc.message}"
            )
            self.report.warning(
                f"no Event on Pod {self.facts.pod} records this session ({why}); "
                "the session goes on"
            )

    def from_result(self, result: Any) -> None:
        """A session that never opened a stream (``--no-attach``): its facts from the result."""
        if self.streamed or result is None or not getattr(result, "container", None):
            return
        spec = getattr(result, "spec", None) or {}
        self.facts = replace(
            self.facts,
            namespace=str(getattr(result, "namespace", "") or self.facts.namespace),
            pod=getattr(result, "pod", None),
            container=result.container,
            image=getattr(result, "image", None) or spec.get("image"),
            security_context=dict(spec.get("securityContext") or {}),
            command=tuple(
                str(w) for w in [*(spec.get("command") or []), *(spec.get("args") or [])]
            ),
            model=getattr(result, "model", None),
            created=bool(getattr(result, "created", False)),
        )
        if self.facts.created:
            pod = {"metadata": {"name": self.facts.pod, "namespace": self.facts.namespace}}
            self._post(pod, REASON_DEBUGGER, debugger_message(self.who, self.facts))

    def write_receipt(self, *, exit_code: int | None, error: str | None, end: float | None) -> None:
        from podscope import __version__

        if self.files is None or self.recording is None:
            return
        sha = self.recording.close() if end is not None else ""
        if self.recording.failure and error is None:
            error = self.recording.failure
        start = self.recording.start
        receipt = build_receipt(
            who=self.who,
            cluster=self.kube.server,
            context=self.options.context,
            facts=self.facts,
            outcome=Outcome(start, start if end is None else end, exit_code, error),
            recording=RecordingRef(self.files.cast.name, sha, self.options.record_input),
            tool_version=__version__,
        )
        if end is None:
            receipt["end"] = None  # the session is still open (or was killed)
        _write_json(self.files.receipt, receipt, self.report)


def _write_json(path: Path, data: dict[str, Any], report: Events) -> None:
    import json

    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        report.warning(f"could not write the receipt {path}: {exc.strerror or exc}")


def record_session(
    kube: KubeAPI,
    options: RecordOptions,
    io: SessionIO,
    run: Callable[[SessionIO], ResultT],
    *,
    who: Identity | None = None,
) -> ResultT:
    """Run ``run`` recorded. A recording that cannot be opened is RecordError when
    ``options.required`` (before ``run`` is called), else one warning and the session goes
    on unrecorded (its Events are still posted). ``who``: the identity already asked for
    (several sessions of one run ask once)."""
    report = io.events
    local = io.streams
    title = f"podscope {options.command} {options.target}".strip()
    if options.namespace:
        title += f" -n {options.namespace}"
    recording: Recording | None = None
    files: RecordFiles | None = None
    try:
        recording, files = _open(options, local, title)
    except RecordError as exc:
        if options.required:
            raise
        if options.directory is not None:
            report.warning(f"{exc.message}; the session goes on unrecorded")
    if recording is not None and options.record_input:
        report.warning(INPUT_WARNING)
    if who is None:
        who = identify(kube, options.kubeconfig_user, report)
    audit = _Audit(kube, options, who, report, recording, files)
    chained = io.on_stream

    def on_stream(start: StreamStart) -> None:
        audit.stream_starts(start)
        if chained is not None:
            chained(start)

    if recording is not None:
        tee_out = cast(BinaryIO, _TeeOutput(local.stdout, recording, 1))
        tee_err = cast(BinaryIO, _TeeOutput(local.stderr, recording, 2))
        local = replace(local, stdout=tee_out, stderr=tee_err, tap=recording)
        audit.write_receipt(exit_code=None, error=None, end=None)
    recorded = replace(io, local=local, on_stream=on_stream)
    try:
        result = run(recorded)
    except BaseException as exc:
        error = exc.message if isinstance(exc, PodscopeError) else "interrupted"
        if not isinstance(exc, (PodscopeError, KeyboardInterrupt)):
            error = f"unexpected failure ({type(exc).__name__})"
        audit.write_receipt(exit_code=None, error=error, end=time.time())
        raise
    audit.from_result(result)
    audit.write_receipt(exit_code=getattr(result, "exit_code", None), error=None, end=time.time())
    if files is not None:
        report(f"session recorded in {files.cast} (receipt: {files.receipt.name})")
    return result
