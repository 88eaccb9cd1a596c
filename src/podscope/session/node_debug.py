"""``podscope debug node/NAME``: a Pod on the node, in its namespaces, with its / at /host.

The Pod exists for one session: it is deleted when the command ends (or fails), unless
``keep`` (or no attach) asks for it to stay, in which case ``podscope cleanup`` removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from podscope.errors import NotFoundError, PodscopeError
from podscope.events import Events
from podscope.kube.client import KubeClient
from podscope.rules.node_pod import HOST_ROOT_PROFILES, build_node_pod
from podscope.rules.profiles import HOST_ROOT_MOUNT, describe_grants
from podscope.rules.requests import NodeDebugRequest
from podscope.rules.results import ResultDict
from podscope.rules.workloads import node_name_of
from podscope.session.attach import StreamMode, stream_container
from podscope.session.container_state import StateName
from podscope.session.io import SessionIO
from podscope.session.pod_copy import removal_command, wait_for_container


@dataclass(frozen=True)
class NodeResult(ResultDict):
    """What ``podscope debug node/NAME`` did."""

    pod: str
    namespace: str
    node: str
    container: str
    image: str
    profile: str
    exit_code: int | None
    state: StateName
    attached: bool
    kept: bool  # False: the Pod was deleted when the session ended
    manifest: dict[str, Any] = field(default_factory=dict)  # the Pod as podscope sent it
    stdout: bytes | None = None  # the container's output, when the caller captured it
    stderr: bytes | None = None


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


def _get_node(client: KubeClient, name: str) -> dict[str, Any]:
    try:
        return client.get_node(name)
    except NotFoundError as exc:
        try:
            known = sorted(str(_meta(n).get("name")) for n in client.list_nodes())
        except PodscopeError:
            known = []
        listed = f" (nodes: {', '.join(known[:10])}{', ...' if len(known) > 10 else ''})"
        exc.message = f"node {name} not found{listed if known else ''}"
        exc.args = (exc.message,)
        exc.remedy = exc.remedy or "name a node from `kubectl get nodes`"
        raise


def _node_warnings(node: dict[str, Any], report: Events) -> None:
    name = _meta(node).get("name")
    if (node.get("spec") or {}).get("unschedulable"):
        report(f"note: node {name} is cordoned; the debug Pod is bound to it directly")
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") != "True":
            report(
                f"warning: node {name} is not Ready ({condition.get('reason') or 'unknown'}); "
                "its kubelet may never start the debug Pod"
            )


def _delete(client: KubeClient, pod: dict[str, Any], report: Events) -> bool:
    meta = _meta(pod)
    name, namespace = str(meta.get("name")), str(meta.get("namespace"))
    try:
        client.delete_pod(namespace, name, uid=meta.get("uid"))
    except NotFoundError:
        return True
    except PodscopeError as exc:
        report(
            f"could not delete Pod {name}: {exc.message}; remove it with: "
            f"{removal_command(name, namespace)}"
        )
        return False
    report(f"deleted Pod {name}")
    return True


def _describe(profile: str, chroot: bool) -> str:
    if profile in HOST_ROOT_PROFILES:
        where = f"the node's / is at {HOST_ROOT_MOUNT}"
        if chroot:
            where += f", and the command runs in it (chroot {HOST_ROOT_MOUNT})"
        return where
    return f"profile {profile}: the node's file system is not mounted"


def run_node(client: KubeClient, request: NodeDebugRequest, io: SessionIO) -> NodeResult:
    """Run the request's command in a new Pod on its node and attach; delete the Pod after
    (unless ``keep``). ``request.image`` and ``request.custom`` must be resolved."""
    options, report = request, io.events
    assert options.image is not None, "the image is resolved before the session starts"
    assert not isinstance(options.custom, str), "custom is loaded before the session starts"
    node_name = node_name_of(options.node) or options.node
    profile = options.profile or "legacy"
    namespace = options.namespace or client.namespace
    body = build_node_pod(options, namespace)
    node = _get_node(client, node_name)
    _node_warnings(node, report)
    grants = describe_grants(profile)
    if grants:
        report(grants)
    created = client.create_pod(namespace, body)
    name = str(_meta(created).get("name"))
    container = str(body["spec"]["containers"][0]["name"])
    report(f"created Pod {name} on node {node_name} ({_describe(profile, options.chroot)})")
    # Without attaching, deleting at once would make the Pod pointless: it stays.
    keep = options.keep or not options.attach
    result = NodeResult(
        pod=name,
        namespace=namespace,
        node=node_name,
        container=container,
        image=options.image,
        profile=profile,
        exit_code=None,
        state="waiting",
        attached=False,
        kept=keep,
        manifest=body,
    )
    removal = removal_command(name, namespace)
    why = "--keep" if options.keep else "--no-attach"
    stays = f"Pod {name} stays ({why}); remove it with: {removal}"
    told = False  # whether an error's remedy already says the Pod stays
    try:
        pod, progress = wait_for_container(client, created, container, options.timeout, report)
        result = replace(
            result,
            state=progress.state,
            exit_code=progress.exit_code if progress.state == "terminated" else None,
        )
        if not options.attach:
            report(
                f"container {container} is {progress.state}; attach with: podscope attach "
                f"{name} -c {container} -n {namespace}"
            )
            return result
        outcome = stream_container(
            client, pod, container, io, StreamMode(options.stdin, options.tty, pod_may_finish=True)
        )
        result = replace(
            result,
            exit_code=outcome.exit_code,
            state=outcome.progress.state,
            attached=outcome.attached,
        )
    except PodscopeError as exc:
        if keep:
            exc.remedy = f"{exc.remedy}; {stays}" if exc.remedy else stays
            told = True
        raise
    finally:
        if not keep:
            deleted = _delete(client, created, report)
        elif not told:
            report(stays)
    return result if keep else replace(result, kept=not deleted)
