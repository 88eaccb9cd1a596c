"""Running one command in several Pods: the request, which Pods are taken, and the rows.

Pure parts only: which of the Pods a selector or workload found can take a debugger (and
why the others are skipped), what each Pod's outcome looks like as a JSON line and as a
summary row, and the one exit code of the whole run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from podscope.errors import ExitCode, PodStateError, UsageError
from podscope.rules.requests import (
    CpCommon,
    CpRequest,
    DebugRequest,
    _check_not_empty,
    _tupled,
)
from podscope.rules.results import ResultDict

DEFAULT_MAX_PARALLEL = 10

Status = Literal["exited", "failed", "skipped", "not-started", "selected"]


@dataclass(frozen=True, kw_only=True)
class ManyDebugRequest(DebugRequest):
    """``podscope debug POD1 POD2 ... -- CMD``, ``-l SELECTOR``, ``deploy/NAME --all-pods``.

    Every :class:`DebugRequest` field applies to each Pod; ``pod`` is unused (``pods`` holds
    the names and workload references). ``selector`` is a label selector in the request's
    namespace. ``all_pods`` takes every Pod of each workload named instead of one.
    ``max_parallel`` bounds how many Pods are worked on at once; ``dry_run`` only resolves
    and lists the Pods.
    """

    pod: str = ""
    pods: tuple[str, ...] = ()
    selector: str | None = None
    all_pods: bool = False
    max_parallel: int = DEFAULT_MAX_PARALLEL
    dry_run: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _tupled(self, "pods")

    def validate(self) -> None:
        from podscope.rules.workloads import parse_pod_ref

        if not self.pods and self.selector is None:
            raise UsageError("name the Pods: POD arguments, -l SELECTOR, or deploy/NAME --all-pods")
        if self.pods and self.selector is not None:
            # `debug -l app=web cat /x`: every word before -- names a Pod, as in kubectl.
            words = " ".join(self.pods)
            raise UsageError(
                f"give Pod names or -l SELECTOR, not both (every word before -- names a Pod: "
                f"{words})",
                remedy=f"put the command after --: podscope debug -l {self.selector} -- {words}",
            )
        _check_not_empty(self.selector, "--selector")
        _check_max_parallel(self.max_parallel)
        if self.stdin or self.tty:
            raise UsageError(
                "-i/-t attaches to one Pod; with several Pods (-l, --all-pods, several POD "
                "arguments) a command runs in each",
                remedy="name one Pod for -it, or give a command after -- without -i/-t",
            )
        if not self.attach:
            raise UsageError(
                "--no-attach leaves a container running in one Pod; with several Pods "
                "podscope runs the command in each and waits for it"
            )
        if not self.command and not self.dry_run:
            raise UsageError(
                "give the command to run in each Pod after --",
                remedy="e.g. podscope debug -l app=web -- cat /etc/hostname",
            )
        # Each Pod's request must be valid on its own: the shared fields' rules hold here.
        for pod in self.pods or ("selected",):
            DebugRequest.validate(one_pod(self, pod))
        workloads = [text for text in self.pods if parse_pod_ref(text).workload is not None]
        if workloads and not self.all_pods:
            raise UsageError(
                f"{workloads[0]} names a workload: say that each of its Pods is meant",
                remedy="add --all-pods to run in each of its Running Pods, or name one Pod",
            )
        if self.all_pods and not workloads:
            raise UsageError("--all-pods takes every Pod of a workload: name one, e.g. deploy/web")


def _check_max_parallel(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"--max-parallel must be a whole number, not {value!r}")
    if value < 1:
        raise UsageError(f"--max-parallel must be at least 1, not {value}")


def one_pod(request: ManyDebugRequest, pod: str) -> DebugRequest:
    """The single-Pod request each Pod of a run gets: every shared field, this Pod."""
    shared = {f.name: getattr(request, f.name) for f in fields(DebugRequest) if f.init}
    shared["pod"] = pod
    return DebugRequest(**shared)


@dataclass(frozen=True)
class Skipped(ResultDict):
    """A Pod that was found but not taken, and why (the sentence a single-Pod run gives)."""

    pod: str
    reason: str


def pod_name(pod: dict[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def take_running(pods: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The Pods that can take a debugger now, by name, each once; the others as skipped.

    The reason of a skip is the message a single-Pod run would stop with (Pending, finished,
    being deleted, static).
    """
    from podscope.rules.validate import check_pod_can_debug

    taken: dict[str, dict[str, Any]] = {}
    skipped: dict[str, Skipped] = {}
    for pod in pods:
        name = pod_name(pod)
        if name in taken or name in skipped:
            continue
        try:
            check_pod_can_debug(pod)
        except PodStateError as exc:
            skipped[name] = Skipped(name, exc.message)
            continue
        taken[name] = pod
    return [taken[n] for n in sorted(taken)], [skipped[n] for n in sorted(skipped)]


@dataclass(frozen=True)
class PodOutcome(ResultDict):
    """What happened in one Pod. ``exit_code`` is the command's; ``error`` the one-line
    message a single-Pod run would have printed, with that run's exit code in
    ``error_exit_code``."""

    pod: str
    namespace: str
    status: Status
    container: str | None = None
    created: bool = False
    exit_code: int | None = None
    seconds: float | None = None
    error: str | None = None
    error_exit_code: int | None = None
    note: str | None = None  # what went well, in a few words (a copy: files, bytes, check)
    stdout: bytes | None = None
    stderr: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.status == "exited" and self.exit_code == 0


def skipped_outcome(skip: Skipped, namespace: str) -> PodOutcome:
    return PodOutcome(skip.pod, namespace, "skipped", error=skip.reason)


def json_line(outcome: PodOutcome) -> dict[str, Any]:
    """One Pod's outcome as ``-o json`` prints it: one object per line, as each finishes.
    Every key is always there (null when it does not apply), so tools need not guess."""
    data = outcome.to_dict()
    if outcome.seconds is not None:
        data["seconds"] = round(outcome.seconds, 3)
    for key in ("stdout", "stderr"):
        data.setdefault(key, None)
    return data


SUMMARY_HEADERS = ("POD", "CONTAINER", "EXIT", "TIME", "MESSAGE")


def summary_row(outcome: PodOutcome) -> tuple[str, str, str, str, str]:
    """A row of the table printed after the run: Pod, container, exit code, time, message."""
    if outcome.status == "exited":
        exit_text = str(outcome.exit_code)
    elif outcome.status == "failed":
        exit_text = f"error {outcome.error_exit_code}"
    else:
        exit_text = outcome.status
    seconds = f"{outcome.seconds:.2f}s" if outcome.seconds is not None else "-"
    message = outcome.error or outcome.note or ""
    return (outcome.pod, outcome.container or "-", exit_text, seconds, message)


def run_exit_code(outcomes: Sequence[PodOutcome]) -> int:
    """0 when every Pod that ran exited 0, else SOME_FAILED; skipped Pods ran nothing and
    count for neither. A run that was cut short (``not-started``) is not a success."""
    ran = [o for o in outcomes if o.status != "skipped"]
    if ran and all(o.ok for o in ran):
        return int(ExitCode.OK)
    return int(ExitCode.SOME_FAILED)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ManyCpRequest(CpCommon):
    """``podscope cp -l SELECTOR:PATH DIR``: copy ``path`` out of every Running Pod the
    selector matches, each Pod's copy under ``DIR/POD/``, each file's sha256 checked unless
    ``checksum=False``. The other fields (:class:`CpCommon`'s) go to every Pod's CpRequest."""

    selector: str
    path: str
    dest: str
    max_parallel: int = DEFAULT_MAX_PARALLEL

    def validate(self) -> None:
        from podscope.rules.cppath import normalize_remote

        _check_not_empty(self.selector, "--selector")
        _check_not_empty(self.dest, "DIR")
        _check_max_parallel(self.max_parallel)
        normalize_remote(self.path, f"{self.selector}:{self.path}")
        one_copy(self, "pod").validate()


def split_selector_path(text: str) -> tuple[str, str]:
    """``app=web:/var/log/app.log`` -> ``("app=web", "/var/log/app.log")``. A selector
    never holds a colon (label keys and values cannot), so the first one splits."""
    selector, colon, path = text.partition(":")
    if not colon or not selector.strip() or not path:
        raise UsageError(
            f"-l for cp takes SELECTOR:PATH, not {text!r}",
            remedy="e.g. podscope cp -l app=web:/var/log/app.log logs/",
        )
    return selector, path


def one_copy(request: ManyCpRequest, pod: str) -> CpRequest:
    """The single-Pod copy of one Pod: ``POD:PATH`` into ``DEST/POD/``."""
    shared = {f.name: getattr(request, f.name) for f in fields(CpCommon)}
    return CpRequest(
        source=f"{pod}:{request.path}", dest=os.path.join(request.dest, pod) + os.sep, **shared
    )
