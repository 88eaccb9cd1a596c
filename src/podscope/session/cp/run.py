"""``run_cp``: one copy from start to end (operands, target, helper, transfer, report)."""

from __future__ import annotations

import time

from podscope.errors import UsageError
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.rules.cppath import plan_copy
from podscope.rules.requests import CpRequest
from podscope.rules.target import choose_target
from podscope.rules.validate import check_pod_can_debug
from podscope.session.cp.copy_in import copy_in, local_source
from podscope.session.cp.copy_out import copy_out, local_destination
from podscope.session.cp.helper import ensure_helper
from podscope.session.cp.remote import Remote
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
    pod = helper.pod
    cid = None
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == target:
            cid = item.get("containerID")
    remote = Remote(client, namespace, remote_path.pod, helper.name, cid, helper.debugger)
    result = CpResult(
        direction=direction,
        pod=remote_path.pod,
        namespace=namespace,
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
    for name in result.skipped:
        report(f"skipped {name} (not a file, directory or link)")
    return result
