"""``podscope.Client``: one cluster connection that serves every command.

    import podscope

    with podscope.Client(context="dev", namespace="shop") as client:
        for pod in ("web-1", "web-2"):
            result = client.debug(podscope.DebugRequest(pod=pod, command=("ps",)),
                                  capture_output=True)
            print(pod, result.exit_code, result.stdout)

The kubeconfig is read and its credentials obtained once, when the client opens; every
method reuses that connection pool. Each method validates its request before anything is
sent, resolves what the request leaves to configuration (the debug image, a ``--custom``
file), and hands the work to the session layer. Progress reaches ``on_event`` as typed
:class:`podscope.events.Event` objects; the library never prints.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from podscope.events import EventHandler, Events
from podscope.rules.requests import (
    AttachRequest,
    CleanupRequest,
    DoctorRequest,
    ListRequest,
    check_field_types,
    check_timeout,
)
from podscope.rules.results import ResultDict

if TYPE_CHECKING:
    from podscope.checks import DoctorReport
    from podscope.kube.client import KubeClient
    from podscope.rules.many import ManyCpRequest, ManyDebugRequest, PodOutcome
    from podscope.rules.requests import (
        ApplyRequest,
        CpRequest,
        DebugRequest,
        NodeDebugRequest,
        PodCopyRequest,
        StopRequest,
    )
    from podscope.session.apply import ApplyResult
    from podscope.session.attach import AttachResult
    from podscope.session.cleanup import CleanupResult, ManagedPod
    from podscope.session.cp import CpResult, TransferProgress
    from podscope.session.debugger import StopResult
    from podscope.session.ephemeral import DebugResult
    from podscope.session.io import SessionIO
    from podscope.session.listing import EphemeralRow
    from podscope.session.many import ManyResult
    from podscope.session.node_debug import NodeResult
    from podscope.session.pod_copy import CopyResult
    from podscope.session.record import RecordOptions

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class LocalStreams:
    """Where a session's container input comes from and its output goes.

    ``stdin`` is a file descriptor (None: no input); the outputs are binary files. The
    default is this process's own streams.
    """

    stdin: int | None = None
    stdout: BinaryIO | None = None
    stderr: BinaryIO | None = None


# How each shape of the ephemeralcontainers subresource is described to users.
_SHAPES = {
    "pod": "Pod (1.22+: PATCH of the Pod)",
    "legacy": "EphemeralContainers kind (1.16-1.21: PUT of the list)",
    "absent": "not served (older than 1.16, or the EphemeralContainers feature gate is off)",
}


@dataclass(frozen=True)
class VersionInfo(ResultDict):
    client: str
    server: str
    platform: str
    shape: str  # how the server takes ephemeral containers: pod, legacy or absent
    ephemeral_containers: str  # the same, in words


class Client:
    """A connection to one cluster (a kubeconfig context) for any number of commands.

    ``namespace`` overrides the context's for requests that name none; ``request_timeout``
    is each API request's read timeout in seconds (default 30). Use it as a context manager,
    or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        request_timeout: float | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        from podscope.kube.config import connect
        from podscope.rules.names import validate_namespace_name

        if request_timeout is not None:
            request_timeout = check_timeout(request_timeout, "--request-timeout")
        if namespace is not None:
            validate_namespace_name(namespace, "--namespace")
        self.events = Events(on_event)
        self.kube: KubeClient = connect(kubeconfig, context, namespace, request_timeout)

    @property
    def namespace(self) -> str:
        """The namespace of requests that name none."""
        return self.kube.namespace

    @property
    def context(self) -> str:
        return self.kube.context

    def close(self) -> None:
        self.kube.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the commands -----------------------------------------------------------------------

    def debug(
        self,
        request: DebugRequest,
        *,
        streams: LocalStreams | None = None,
        capture_output: bool = False,
    ) -> DebugResult:
        """Add an ephemeral container to the request's Pod (or reuse one), wait, attach.

        With ``capture_output`` the container's output is kept in the result's ``stdout``
        and ``stderr`` (bytes) instead of being written to ``streams``.
        """
        from podscope.session.ephemeral import run_debug

        _validated(request, "DebugRequest")
        request = replace(
            request,
            image=self._image(request.image),
            custom=_load_custom(request.custom),
            tty=self._tty(request.stdin and request.attach, request.tty, streams, capture_output),
        )
        return self._streamed(
            lambda io: run_debug(self.kube, request, io),
            request.stdin,
            streams,
            capture_output,
            record=self._record_options(request, "debug", request.profile or "legacy"),
        )

    def debug_many(
        self,
        request: ManyDebugRequest,
        *,
        on_output: Callable[[str, int, bytes], None] | None = None,
        on_outcome: Callable[[PodOutcome], None] | None = None,
        capture_output: bool = False,
    ) -> ManyResult:
        """Run the request's command in several Pods (names, a selector, every Pod of a
        workload), at most ``max_parallel`` at once; only Running Pods are taken.

        ``on_output(pod, channel, data)`` hears each Pod's output (channel 1 stdout, 2
        stderr); with ``capture_output`` it is kept in each outcome's ``stdout``/``stderr``.
        ``on_outcome`` hears each Pod's outcome as it finishes. One Pod's failure is its
        outcome's ``error``; the others go on.
        """
        from podscope.session.io import SessionIO
        from podscope.session.many import run_many

        _validated(request, "ManyDebugRequest")
        request = replace(
            request, image=self._image(request.image), custom=_load_custom(request.custom)
        )
        return run_many(
            self.kube,
            request,
            SessionIO(events=self.events),
            on_output=on_output,
            on_outcome=on_outcome,
            capture_output=capture_output,
            record=self._record_options(request, "debug", request.profile or "legacy"),
        )

    def debug_copy(
        self,
        request: PodCopyRequest,
        *,
        streams: LocalStreams | None = None,
        capture_output: bool = False,
    ) -> CopyResult:
        """Create a copy of the request's Pod (``copy_to``), wait for it, and attach.

        With neither ``image``, ``set_image`` nor ``command_override``, a debug container
        with the default image is added. The copy stays: remove it with :meth:`cleanup`.
        """
        from podscope.session.pod_copy import run_copy

        _validated(request, "PodCopyRequest")
        image = request.image
        if image is None and not request.set_image and request.command_override is None:
            image = self._image(None, " for the debug container")
        request = replace(
            request,
            image=image,
            custom=_load_custom(request.custom),
            tty=self._tty(request.stdin and request.attach, request.tty, streams, capture_output),
        )
        return self._streamed(
            lambda io: run_copy(self.kube, request, io), request.stdin, streams, capture_output
        )

    def debug_node(
        self,
        request: NodeDebugRequest,
        *,
        streams: LocalStreams | None = None,
        capture_output: bool = False,
    ) -> NodeResult:
        """Run the request's command in a Pod on its node (host namespaces, ``/`` at
        ``/host``); the Pod is deleted after the session unless ``keep``."""
        from podscope.session.node_debug import run_node

        _validated(request, "NodeDebugRequest")
        request = replace(
            request,
            image=self._image(request.image),
            custom=_load_custom(request.custom),
            tty=self._tty(request.stdin and request.attach, request.tty, streams, capture_output),
        )
        return self._streamed(
            lambda io: run_node(self.kube, request, io), request.stdin, streams, capture_output
        )

    def attach(
        self,
        request: AttachRequest,
        *,
        streams: LocalStreams | None = None,
        capture_output: bool = False,
    ) -> AttachResult:
        """Attach to a container (e.g. a debug container left running); a finished one's log
        is shown instead. ``stdin``/``tty`` of None: whether the local stdin is a terminal."""
        from podscope.session.attach import run_attach

        _validated(request, "AttachRequest")
        interactive = _interactive(streams)
        stdin = interactive if request.stdin is None else request.stdin
        tty = interactive if request.tty is None else request.tty
        request = replace(request, stdin=stdin, tty=self._tty(stdin, tty, streams, capture_output))
        return self._streamed(
            lambda io: run_attach(self.kube, request, io),
            bool(request.stdin),
            streams,
            capture_output,
            record=self._record_options(request, "attach", None),
        )

    def list_ephemeral(self, request: ListRequest | None = None) -> list[EphemeralRow]:
        """The ephemeral containers of a Pod, of a namespace, or of every namespace."""
        from podscope.session.io import SessionIO
        from podscope.session.listing import run_list

        request = request or ListRequest()
        _validated(request, "ListRequest")
        return run_list(self.kube, request, SessionIO(events=self.events))

    def list_ephemeral_pages(
        self, request: ListRequest | None = None
    ) -> Iterator[list[EphemeralRow]]:
        """As :meth:`list_ephemeral`, one list per page of Pods read (``chunk_size`` Pods),
        so a caller that handles each before taking the next holds one page at a time."""
        from podscope.session.io import SessionIO
        from podscope.session.listing import list_pages

        request = request or ListRequest()
        _validated(request, "ListRequest")
        return list_pages(self.kube, request, SessionIO(events=self.events))

    def stop(self, request: StopRequest) -> StopResult:
        """End debuggers' main processes; their containers stay in the Pod, terminated."""
        from podscope.session.debugger import run_stop
        from podscope.session.io import SessionIO

        _validated(request, "StopRequest")
        return run_stop(self.kube, request, SessionIO(events=self.events))

    def cp(
        self,
        request: CpRequest,
        *,
        on_progress: Callable[[TransferProgress], None] | None = None,
    ) -> CpResult:
        """Copy ``POD:/path`` to a local path or back, through a helper ephemeral container;
        each file's sha256 is checked unless ``checksum=False``. ``on_progress`` hears how
        the transfer advances (``TransferProgress`` events; nothing is drawn here)."""
        from podscope.session.cp import run_cp
        from podscope.session.io import SessionIO

        _validated(request, "CpRequest")
        request = replace(request, image=self._image(request.image, " for the copy's debugger"))
        return run_cp(self.kube, request, SessionIO(events=self.events, on_progress=on_progress))

    def cp_many(
        self,
        request: ManyCpRequest,
        *,
        on_outcome: Callable[[PodOutcome], None] | None = None,
    ) -> ManyResult:
        """Copy a path out of every Running Pod a selector matches, into ``DEST/POD/``,
        each file's sha256 checked; one Pod's failure is its outcome, the others go on."""
        from podscope.session.io import SessionIO
        from podscope.session.many import run_cp_many

        _validated(request, "ManyCpRequest")
        request = replace(request, image=self._image(request.image, " for the copy's debugger"))
        return run_cp_many(self.kube, request, SessionIO(events=self.events), on_outcome=on_outcome)

    def apply(
        self,
        request: ApplyRequest,
        *,
        streams: LocalStreams | None = None,
        capture_output: bool = False,
    ) -> ApplyResult:
        """Add the ephemeral containers of a document that the Pod lacks (idempotent)."""
        from podscope.session.apply import attach_target, run_apply
        from podscope.session.attach import run_attach
        from podscope.session.io import SessionIO

        _validated(request, "ApplyRequest")
        result = run_apply(self.kube, request, SessionIO(events=self.events))
        if not request.attach:
            return result
        name = attach_target(result)
        spec = result.specs[name]
        interactive = _interactive(streams)
        use_stdin = (
            bool(spec.get("stdin")) and interactive if request.stdin is None else request.stdin
        )
        use_tty = (
            bool(spec.get("tty")) and use_stdin and interactive
            if request.tty is None
            else request.tty
        )
        attach = AttachRequest(
            pod=result.pod,
            container=name,
            namespace=result.namespace,
            stdin=use_stdin,
            tty=self._tty(use_stdin, use_tty, streams, capture_output),
            timeout=request.timeout,
        )
        outcome = self._streamed(
            lambda io: run_attach(self.kube, attach, io), use_stdin, streams, capture_output
        )
        result.attached = name
        result.exit_code = outcome.exit_code
        result.states[name] = outcome.state
        return result

    def cleanup(
        self,
        request: CleanupRequest | None = None,
        *,
        confirm: Callable[[list[ManagedPod]], bool] | None = None,
    ) -> CleanupResult:
        """Delete the Pods podscope made (copies, kept node Pods); ``confirm(found)`` is
        asked first when given. Ephemeral containers cannot be removed and are not touched."""
        from podscope.session.cleanup import run_cleanup
        from podscope.session.io import SessionIO

        request = request or CleanupRequest()
        _validated(request, "CleanupRequest")
        return run_cleanup(self.kube, request, SessionIO(events=self.events), confirm=confirm)

    def doctor(self, request: DoctorRequest | None = None) -> DoctorReport:
        """Why debugging cannot work here and how to fix it; changes nothing."""
        from podscope.checks.run import DoctorOptions, run_doctor
        from podscope.session.settings import resolve_image

        request = request or DoctorRequest()
        _validated(request, "DoctorRequest")
        image, _ = resolve_image(request.image)
        options = DoctorOptions(
            pod=request.pod,
            namespace=request.namespace or self.namespace,
            image=image,
            profile=request.profile,
            target=request.target,
            image_pull_policy=request.image_pull_policy,
        )
        return run_doctor(self.kube, options)

    def version(self) -> VersionInfo:
        """podscope's version and the server's, and how it takes ephemeral containers."""
        from podscope import __version__

        server = self.kube.server_version()
        shape = self.kube.ephemeral_shape()
        return VersionInfo(
            client=__version__,
            server=str(server.get("gitVersion") or "unknown"),
            platform=str(server.get("platform") or ""),
            shape=shape,
            ephemeral_containers=_SHAPES[shape],
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _image(self, image: str | None, purpose: str = "") -> str:
        from podscope.session.settings import resolve_image

        chosen, source = resolve_image(image)
        if source != "--image":
            from podscope.errors import ConfigError, PodscopeError
            from podscope.rules.images import check_image_reference

            try:
                check_image_reference(chosen, source)
            except PodscopeError as exc:  # the setting is at fault, not the command line
                raise ConfigError(exc.message, remedy=exc.remedy) from None
            self.events(f"using image {chosen}{purpose} (from {source})")
        return chosen

    def _tty(
        self, stdin: bool, tty: bool, streams: LocalStreams | None, capture_output: bool
    ) -> bool:
        """Whether the session gets the TTY it asks for. As kubectl does, a TTY over input
        that is not a terminal is dropped with a warning: the session goes on with plain
        stdin, so the end of that input ends it (a TTY would wait for a key that never
        comes). ``stdin`` is False when nothing is attached (``--no-attach``): the local
        input is not used then, and the container keeps its TTY for a later attach."""
        if not (tty and stdin):
            return tty
        if capture_output:
            why = "the output is captured"
        elif not _interactive(streams):
            why = "input is not a terminal"
        else:
            return True
        self.events.warning(f"unable to use a TTY: {why}; going on without one")
        return False

    def _record_options(
        self, request: DebugRequest | AttachRequest, command: str, profile: str | None
    ) -> RecordOptions | None:
        """How the request's session is recorded (None: it is not)."""
        from podscope.session.settings import resolve_record

        directory, required, _ = resolve_record(request.record, request.record_required)
        if directory is None and not required:
            return None
        from podscope.session.record import RecordOptions

        return RecordOptions(
            directory=directory,
            record_input=request.record_input,
            required=required,
            command=command,
            target=request.pod,
            namespace=request.namespace or self.namespace,
            context=self.context,
            kubeconfig_user=self.kube.user,
            profile=profile,
        )

    def _streamed(
        self,
        run: Callable[[SessionIO], ResultT],
        stdin: bool,
        streams: LocalStreams | None,
        capture_output: bool,
        *,
        record: RecordOptions | None = None,
    ) -> ResultT:
        from podscope.session.io import SessionIO
        from podscope.terminal.pump import LocalIO

        given = streams or LocalStreams()
        stdin_fd = given.stdin
        if stdin and stdin_fd is None:
            stdin_fd = sys.stdin.fileno()
        out: BinaryIO = io.BytesIO() if capture_output else (given.stdout or sys.stdout.buffer)
        err: BinaryIO = io.BytesIO() if capture_output else (given.stderr or sys.stderr.buffer)
        local = LocalIO(stdin=stdin_fd if stdin else None, stdout=out, stderr=err)
        session = SessionIO(events=self.events, local=local)
        if record is None:
            result = run(session)
        else:
            from podscope.session.record import record_session

            result = record_session(self.kube, record, session, run)
        if capture_output:
            assert isinstance(out, io.BytesIO) and isinstance(err, io.BytesIO)
            result = _with_output(result, out.getvalue(), err.getvalue())
        return result


def _with_output(result: ResultT, stdout: bytes, stderr: bytes) -> ResultT:
    # Every streamed result is a frozen dataclass with stdout/stderr fields. One that
    # streamed nothing (a copy with only new images, --no-attach) has no output to show:
    # None, not an empty string that reads as "the command printed nothing".
    if getattr(result, "attached", True) is False and not stdout and not stderr:
        return result
    return replace(result, stdout=stdout, stderr=stderr)  # type: ignore[type-var]


def _interactive(streams: LocalStreams | None) -> bool:
    fd = streams.stdin if streams is not None and streams.stdin is not None else None
    try:
        return os.isatty(fd) if fd is not None else sys.stdin.isatty()
    except (OSError, ValueError, AttributeError):
        return False


def _load_custom(custom: Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    """``--custom``: a mapping as it is, or a JSON/YAML file read and checked here."""
    if custom is None or isinstance(custom, Mapping):
        return dict(custom) if custom is not None else None
    from podscope.errors import UsageError, ValidationError
    from podscope.rules.custom import load_custom

    path = Path(custom)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        # A bad path on the command line (exit 2), as for `apply FILE` and `replay FILE`.
        raise UsageError(f"cannot read --custom file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationError(
            f"--custom file {path} is not UTF-8 text (expected JSON or YAML)", field="--custom"
        ) from None
    return load_custom(text, str(path))


def _validated(request: Any, kind: str) -> None:
    """The request's own checks, after those of its type (a Python caller's mistakes).
    ``kind`` is the class's name: most request types are imported only where they run."""
    if kind not in {base.__name__ for base in type(request).__mro__}:
        raise TypeError(f"expected a {kind}, not {type(request).__name__}")
    try:
        # First: its messages name the flag (a bad flag value can reach it as a list).
        request.validate()
    except (AttributeError, TypeError):
        check_field_types(request)  # says which field a Python caller got wrong
        raise
    check_field_types(request)
