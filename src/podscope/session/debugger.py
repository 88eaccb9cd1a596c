"""Find, create, inspect and stop debuggers (see :mod:`podscope.rules.debugger`).

A debugger is added once and then reused: every later request that would build the same
container execs into it. Ending one is all Kubernetes allows: its main process exits and
the container stays in the Pod as terminated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import (
    NotFoundError,
    PodscopeError,
    UsageError,
    ValidationError,
)
from podscope.events import Events
from podscope.kube.discovery import EphemeralShape
from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import StreamQuery
from podscope.rules._pod import all_names
from podscope.rules.debugger import (
    NO_HOLDER_EXIT,
    Liveness,
    debugger_key,
    key_differences,
    key_of,
    make_debugger,
    name_for,
    parse_status_output,
    reusable,
    status_command,
    stop_command,
    terminated_state,
)
from podscope.rules.legacy import add_body
from podscope.rules.names import generate_name
from podscope.rules.requests import StopRequest
from podscope.rules.results import ResultDict
from podscope.rules.target import check_target_running
from podscope.session.container_state import START_FAILURES, container_spec, container_state_of
from podscope.session.io import SessionIO
from podscope.session.pod_write import RaceLost, gave_up, pod_after, send_write
from podscope.session.wait import wait_until_terminated

MAX_CREATE_ATTEMPTS = 5
# Start failures that mean the image cannot run the holder (no sh or sleep in it).
NO_HOLDER_SIGNS = ("executable file not found", "no such file or directory")


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


def _states(pod: dict[str, Any]) -> dict[str, str]:
    # A debugger the kubelet will never start is "failed": nothing can be exec'd into it.
    states: dict[str, str] = {}
    for c in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        progress = container_state_of(pod, str(c.get("name")))
        failed = progress.state == "waiting" and progress.reason in START_FAILURES
        states[str(c.get("name"))] = "failed" if failed else progress.state
    return states


def holder_cannot_run(message: str | None) -> bool:
    text = (message or "").lower()
    return any(sign in text for sign in NO_HOLDER_SIGNS)


def failed_holder(pod: dict[str, Any], key: str) -> str | None:
    """A debugger of ``pod`` with ``key`` whose image could not run the holder, if any."""
    for spec in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(spec.get("name"))
        if key_of(spec) != key:
            continue
        progress = container_state_of(pod, name)
        if progress.state in ("waiting", "terminated") and holder_cannot_run(progress.message):
            return name
    return None


def failed_holder_for_image(pod: dict[str, Any], image: str) -> str | None:
    """A debugger of ``pod`` with ``image`` whose image could not run the holder, if any."""
    for spec in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        key = key_of(spec)
        if key is not None and spec.get("image") == image and failed_holder(pod, key):
            return failed_holder(pod, key)
    return None


@dataclass
class Placement:
    """Where a session goes: the debugger's name, whether this request added it."""

    pod: dict[str, Any]
    name: str
    created: bool
    joined: bool = False  # another podscope added it at the same moment


def find_live(
    pod: dict[str, Any],
    container: dict[str, Any],
    *,
    named: bool,
    skip: frozenset[str] = frozenset(),
) -> str | None:
    """A debugger of ``pod`` that ``container`` (as built for the request) would reuse.

    ``named``: the name in ``container`` was given by the user. ``skip`` names debuggers
    found dead that must not be picked again.
    """
    key = debugger_key(container)
    found = reusable(pod, key, _states(pod), container["name"] if named else None)
    return next((n for n in found if n not in skip), None)


def named_debugger(pod: dict[str, Any], container: dict[str, Any], name: str) -> str | None:
    """The debugger the user named with ``-c``, when it can serve ``container`` (the
    request's, built under another name). None when ``name`` is no debugger of the Pod (a
    new one is made under that name, or the name is refused as taken). Raises UsageError
    when it has ended or was made with other options: a session there would not be what
    the command asks for."""
    spec = container_spec(pod, name)
    if spec is None or key_of(spec) is None:
        return None
    pod_name = _meta(pod)["name"]
    progress = container_state_of(pod, name)
    if progress.state == "terminated":
        raise UsageError(
            f"debugger {name} in Pod {pod_name} has ended ({progress.describe()}): nothing "
            "can run in it any more",
            remedy=f"leave out -c for a new debugger, or name a live one (podscope ls {pod_name})",
        )
    if key_of(spec) == debugger_key(container):
        return name
    differ = ", ".join(key_differences(spec, container)) or "fields the server filled in"
    raise UsageError(
        f"debugger {name} in Pod {pod_name} was made with other options than this command "
        f"gives (they differ in {differ})",
        remedy=f"give the options it was made with (podscope ls {pod_name} -o yaml shows "
        "them), or leave out -c",
    )


def _pick_name(pod: dict[str, Any], key: str, new: bool) -> str:
    taken = all_names(pod)
    return generate_name(taken) if new else name_for(key, taken)


def create_debugger(
    client: KubeAPI,
    pod: dict[str, Any],
    container: dict[str, Any],
    *,
    ttl: int,
    shape: EphemeralShape,
    new: bool,
    named: bool,
    report: Events,
) -> Placement:
    """Add a debugger made of ``container``. Its name is the key's (so that concurrent
    creators meet on it), random with ``new``, or the user's with ``named``."""
    check_target_running(pod, container.get("targetContainerName"))
    key = debugger_key(container)
    pod_name = _meta(pod)["name"]
    import secrets

    nonce = secrets.token_hex(4)
    name = container["name"] if named else _pick_name(pod, key, new)
    last: PodscopeError | None = None
    for _ in range(MAX_CREATE_ATTEMPTS):
        debugger = make_debugger({**container, "name": name}, ttl, nonce)
        body = add_body(pod, [debugger], shape)
        report.phase("write", f"adding debugger {name} to Pod {pod_name}")
        sent = send_write(
            client,
            pod,
            body,
            shape,
            new_container=name,
            what="create",
            report=report,
        )
        if not isinstance(sent, RaceLost):
            placed = pod_after(client, pod, sent, shape)
            return Placement(placed, name, created=True)
        last, pod = sent.error, sent.pod
        # The name is taken (or the write's outcome is unknown): by this request, by another
        # podscope making the same debugger right now, or by someone else.
        spec = container_spec(pod, name)
        if spec is not None:
            mine = any(e.get("value", "").endswith(f"/{nonce}") for e in spec.get("env") or [])
            if mine:
                return Placement(pod, name, created=True)
            state = container_state_of(pod, name).state
            if key_of(spec) == key and state != "terminated":
                report(f"debugger {name} was just added by another podscope; using it")
                return Placement(pod, name, created=False, joined=True)
            if named:
                raise ValidationError(
                    f"Pod {pod_name} already has a container named {name}",
                    field="name",
                    remedy="choose another --container name, or leave it out",
                )
        name = _pick_name(pod, key, new)
    raise gave_up("add a debugger to", pod_name, MAX_CREATE_ATTEMPTS, last)


# -- state, for `ls` ------------------------------------------------------------------------


def probe_liveness(client: KubeAPI, pod: dict[str, Any], name: str) -> Liveness:
    """A debugger's state: from the Pod when it has ended, else by asking its holder."""
    progress = container_state_of(pod, name)
    if progress.state == "terminated":
        return terminated_state(progress.exit_code, progress.message)
    if progress.state == "waiting" and progress.reason:
        return Liveness(
            "failed" if holder_cannot_run(progress.message) else "starting", detail=progress.reason
        )
    if progress.state != "running":
        return Liveness("starting")
    meta = _meta(pod)
    try:
        out, code, _ = run_quiet(
            client, meta["namespace"], meta["name"], name, status_command(name)
        )
    except PodscopeError as exc:
        return Liveness("running", detail=f"state unknown: {exc.message}")
    if code != 0:
        return Liveness("running", detail="state unknown")
    return parse_status_output(out.decode("utf-8", "replace"))


def liveness_of_pod(client: KubeAPI, pod: dict[str, Any]) -> dict[str, Liveness]:
    """The state of every debugger of ``pod``, asked in parallel."""
    names = [
        str(c.get("name"))
        for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
        if key_of(c) is not None
    ]
    found: dict[str, Liveness] = {}

    def probe(name: str) -> None:
        found[name] = probe_liveness(client, pod, name)

    threads = [threading.Thread(target=probe, args=(n,), daemon=True) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(client.request_timeout)
    return found


def run_quiet(
    client: KubeAPI, namespace: str, pod: str, container: str, command: list[str]
) -> tuple[bytes, int | None, dict[str, Any] | None]:
    """Exec ``command`` without stdin; its stdout, exit code and final Status."""
    stream = client.exec(StreamQuery(namespace, pod, container), command)
    out = bytearray()
    try:
        for channel, data in stream.frames():
            if channel == 1:
                out.extend(data)
    finally:
        stream.close()
    return bytes(out), stream.exit_code, stream.status


# -- stop -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopResult(ResultDict):
    """What ``podscope stop`` did: the debuggers it ended, those already ended, those the
    kubelet has not started (a failed pull, say), which have no process to end, and those
    left running because a session runs in them (``--all`` without ``--force``)."""

    pod: str
    namespace: str
    stopped: list[str] = field(default_factory=list)
    already_ended: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)


def _sessions(count: int | None) -> str:
    if count is None:
        return "a running session"
    return f"{count} running session" + ("" if count == 1 else "s")


def running_sessions(client: KubeAPI, pod: dict[str, Any], name: str) -> int | None:
    """How many sessions run in debugger ``name`` now, by the holder's own scan (as ``ls``
    asks it); None when some run but not how many. A debugger that cannot be asked counts
    as having none: no session is known to be cut, and ``stop`` does what it did before."""
    if container_state_of(pod, name).state != "running":
        return 0
    live = probe_liveness(client, pod, name)
    if live.state != "live":
        return 0
    return live.sessions


def _running_debuggers(pod: dict[str, Any]) -> list[str]:
    return [
        str(c.get("name"))
        for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
        if key_of(c) is not None
        and container_state_of(pod, str(c.get("name"))).state in ("running", "waiting", "absent")
    ]


def _chosen(pod: dict[str, Any], request: StopRequest) -> list[str]:
    pod_name = request.pod
    debuggers = _running_debuggers(pod)
    if request.container is not None:
        spec = container_spec(pod, request.container)
        if spec is None:
            raise NotFoundError(
                f"Pod {pod_name} has no container named {request.container}",
                remedy=f"list its debuggers with: podscope ls {pod_name}",
            )
        if key_of(spec) is None:
            raise UsageError(
                f"container {request.container} is not a podscope debugger: it runs its own "
                "command, which podscope stop does not end",
                remedy="end that command from inside, e.g. with podscope attach",
            )
        return [request.container]
    if request.all_debuggers or len(debuggers) == 1:
        return debuggers
    if not debuggers:
        return []
    raise UsageError(
        f"Pod {pod_name} has {len(debuggers)} running debuggers ({', '.join(debuggers)})",
        remedy="name one with -c NAME, or stop them all with --all",
    )


def run_stop(client: KubeAPI, request: StopRequest, io: SessionIO) -> StopResult:
    """End the chosen debuggers' holders and wait until the kubelet reports them ended."""
    report = io.events
    namespace = request.namespace or client.namespace
    pod = client.get_pod(namespace, request.pod)
    result = StopResult(pod=request.pod, namespace=namespace)
    names = _chosen(pod, request)
    if not names:
        report(f"Pod {request.pod} has no running debugger: nothing to stop")
        return result
    for name in names:
        seen = container_state_of(pod, name)
        if seen.state == "terminated":
            result.already_ended.append(name)
            report(f"debugger {name} had already ended ({seen.describe()})")
            continue
        count = 0 if request.force else running_sessions(client, pod, name)
        if count != 0:
            force = f"podscope stop {request.pod} -n {namespace} -c {name} --force"
            if not request.all_debuggers:
                raise UsageError(
                    f"debugger {name} in Pod {request.pod} has {_sessions(count)}: stopping "
                    "it would kill the session",
                    remedy=f"end the session first, or stop it anyway with: {force}",
                )
            result.in_use.append(name)
            report(
                f"left debugger {name} running: it has {_sessions(count)} (stop it anyway "
                f"with: {force})"
            )
            continue
        try:
            _, code, status = run_quiet(client, namespace, request.pod, name, stop_command(name))
        except PodscopeError:
            raise
        if code == NO_HOLDER_EXIT or (status or {}).get("code") == 500:
            if code != NO_HOLDER_EXIT and seen.state in ("waiting", "absent"):
                # No process yet, so nothing to end; a later retry of the kubelet may still
                # start it, and then its holder ends it after the TTL like any idle debugger.
                result.not_started.append(name)
                report(
                    f"debugger {name} has not started ({seen.reason or seen.state}): there is no "
                    "process to stop; if the kubelet starts it later, it ends after its TTL "
                    "without a session"
                )
                continue
            result.already_ended.append(name)
            report(f"debugger {name} had already ended")
            continue
        pod, progress = wait_until_terminated(client, pod, name, request.timeout)
        if progress.state != "terminated":
            raise PodscopeError(
                f"debugger {name} was told to stop but the kubelet has not reported it ended "
                f"within {request.timeout:g}s",
                remedy=f"check with: podscope ls {request.pod} -n {namespace}",
            )
        result.stopped.append(name)
        report(
            f"stopped debugger {name}; it stays in Pod {request.pod} as a terminated "
            "container (Kubernetes cannot remove ephemeral containers)"
        )
    return result
