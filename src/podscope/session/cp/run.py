"""``run_cp``: one copy from start to end (operands, target, helper, transfer, report)."""

from __future__ import annotations

import time

from podscope.errors import UsageError
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.rules.cppath import RemotePath, plan_copy
from podscope.rules.requests import CpRequest
from podscope.rules.target import choose_target
from podscope.rules.validate import check_pod_can_debug
from podscope.session.cp.copy_in import copy_in, local_source
from podscope.session.cp.copy_out import copy_out, local_destination
from podscope.session.cp.helper import Helper, ensure_helper
from podscope.session.cp.remote import HelperEnded, Remote
from podscope.session.cp.result import CpResult
from podscope.session.io import SessionIO


def run_cp(client: KubeAPI, request: CpRequest, io: SessionIO) -> CpResult:
    """Copy as the request says; ``request.image`` must be resolved (the Client does it).
    ``io.on_progress`` hears how the transfer advances."""
    request.validate()
    assert request.image is not None, "the helper image is resolved before the session starts"
    report: Events = io.events
    direction, remote_path, local = plan_copy(request.source, request.dest)
    if remote_path.namespace and request.namespace and remote_path.namespace != request.namespace:
        raise UsageError(
            f"{remote_path} names namespace {remote_path.namespace} but -n says {request.namespace}"
        )
    # A missing local side is found before a debugger is added to the Pod for nothing.
    if direction == "out":
        local_destination(local)
    else:
        local_source(local)
    namespace = remote_path.namespace or request.namespace or client.namespace
    pod = client.get_pod(namespace, remote_path.pod)
    check_pod_can_debug(pod)
    target, reason = choose_target(pod, request.container)
    if not target:
        raise UsageError("podscope cp needs a target container", remedy="name it with -c")
    report(f"target container: {target} ({reason})")
    helper = ensure_helper(client, pod, target, request, report)
    remote = _remote(client, helper, namespace, target, remote_path.pod)
    try:
        result = _transfer(remote, helper, target, direction, remote_path, local, request, io)
    except HelperEnded:
        # A reused debugger that ended (its TTL, a stop) just before the first exec, while
        # the Pod's status still said running: replaced once, as `debug` does. Only when
        # the first command was refused: nothing was copied, and no stop came mid-copy.
        if remote.completed or helper.created or not helper.debugger:
            raise
        report(f"debugger {helper.name} has ended (its main process is gone); adding a new one")
        pod = client.get_pod(namespace, remote_path.pod)
        helper = ensure_helper(client, pod, target, request, report, skip={helper.name})
        remote = _remote(client, helper, namespace, target, remote_path.pod)
        result = _transfer(remote, helper, target, direction, remote_path, local, request, io)
    for name in result.skipped:
        report(f"skipped {name} (not a file, directory or link)")
    return result


def _remote(client: KubeAPI, helper: Helper, namespace: str, target: str, pod: str) -> Remote:
    cid = None
    for item in (helper.pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == target:
            cid = item.get("containerID")
    return Remote(client, namespace, pod, helper.name, cid, helper.debugger)


def _transfer(
    remote: Remote,
    helper: Helper,
    target: str,
    direction: str,
    remote_path: RemotePath,
    local: str,
    request: CpRequest,
    io: SessionIO,
) -> CpResult:
    result = CpResult(
        direction=direction,
        pod=remote.pod,
        namespace=remote.namespace,
        target=target,
        helper=helper.name,
        helper_created=helper.created,
        remote=remote_path.path,
        local=local,
    )
    start = time.monotonic()
    if direction == "out":
        copy_out(remote, remote_path, local, request, result, io.on_progress)
    else:
        copy_in(remote, local, remote_path, request, result, io.on_progress)
    result.seconds = time.monotonic() - start
    return result
