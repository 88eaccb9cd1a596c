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
from podscope.session.cp.copy_in import copy_in
from podscope.session.cp.copy_out import copy_out
from podscope.session.cp.helper import ensure_helper
from podscope.session.cp.options import CpOptions, CpResult
from podscope.session.cp.remote import Remote
from podscope.session.io import SessionIO


def run_cp(client: KubeAPI, request: CpRequest, io: SessionIO) -> CpResult:
    """Copy as the request says; ``request.image`` must be resolved (the Client does it).
    ``io.on_progress`` hears how the transfer advances."""
    request.validate()
    assert request.image is not None, "the helper image is resolved before the session starts"
    report: Events = io.events
    options = CpOptions(
        source=request.source,
        dest=request.dest,
        namespace=request.namespace,
        container=request.container,
        image=request.image,
        image_pull_policy=request.image_pull_policy,
        checksum=request.checksum,
        on_progress=io.on_progress,
        timeout=request.timeout,
    )
    direction, remote_path, local = plan_copy(options.source, options.dest)
    if remote_path.namespace and options.namespace and remote_path.namespace != options.namespace:
        raise UsageError(
            f"{remote_path} names namespace {remote_path.namespace} but -n says {options.namespace}"
        )
    namespace = remote_path.namespace or options.namespace or client.namespace
    pod = client.get_pod(namespace, remote_path.pod)
    check_pod_can_debug(pod)
    target, reason = choose_target(pod, options.container)
    if not target:
        raise UsageError("podscope cp needs a target container", remedy="name it with -c")
    report(f"target container: {target} ({reason})")
    pod, helper, created = ensure_helper(client, pod, target, options, report)
    cid = None
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == target:
            cid = item.get("containerID")
    remote = Remote(client, namespace, remote_path.pod, helper, cid)
    result = CpResult(
        direction=direction,
        pod=remote_path.pod,
        namespace=namespace,
        target=target,
        helper=helper,
        helper_created=created,
        remote=remote_path.path,
        local=local,
    )
    start = time.monotonic()
    if direction == "out":
        copy_out(remote, remote_path, local, options, result)
    else:
        copy_in(remote, local, remote_path, options, result)
    result.seconds = time.monotonic() - start
    for name in result.skipped:
        report(f"skipped {name} (not a file, directory or link)")
    return result
