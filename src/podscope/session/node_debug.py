"""``podscope debug node/NAME``: a Pod on the node, in its namespaces, with its / at /host.

The Pod exists for one session: it is deleted when the command ends (or fails), unless
``keep`` (or no attach) asks for it to stay, in which case ``podscope cleanup`` removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podscope.errors import NotFoundError, PodscopeError
from podscope.kube.protocol import KubeAPI
from podscope.rules.node_pod import HOST_ROOT_PROFILES, NodePodSpec, build_node_pod
from podscope.rules.profiles import HOST_ROOT_MOUNT, describe_grants
from podscope.session.attach import stream_container
from podscope.session.pod_copy import removal_command, wait_for_container
from podscope.session.reporter import Reporter
from podscope.session.request import ContainerRequest
from podscope.terminal.pump import LocalIO

NODE_PREFIXES = ("node/", "nodes/", "no/")


def node_name_of(ref: str) -> str | None:
    """``NAME`` when ``ref`` is ``node/NAME`` (also ``nodes/``, ``no/``), else None."""
    lowered = ref.lower()
    for prefix in NODE_PREFIXES:
        if lowered.startswith(prefix):
            return ref[len(prefix) :]
    return None


@dataclass(kw_only=True)
class NodeOptions(ContainerRequest):
    """One ``podscope debug node/NAME`` request (the CLI flags, as plain data)."""

    node: str
    image: str
    namespace: str | None = None
    chroot: bool = False
    keep: bool = False


@dataclass
class NodeResult:
    """What ``podscope debug node/NAME`` did."""

    pod: str
    namespace: str
    node: str
    container: str
    image: str
    profile: str
    exit_code: int | None
    state: str
    attached: bool
    kept: bool  # False: the Pod was deleted when the session ended
    manifest: dict[str, Any] = field(default_factory=dict)  # the Pod as podscope sent it


def _meta(pod: dict[str, Any]) -> dict[str, Any]:
    return pod.get("metadata") or {}


def _get_node(client: KubeAPI, name: str) -> dict[str, Any]:
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


def _node_warnings(node: dict[str, Any], report: Reporter) -> None:
    name = _meta(node).get("name")
    if (node.get("spec") or {}).get("unschedulable"):
        report(f"note: node {name} is cordoned; the debug Pod is bound to it directly")
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") != "True":
            report(
                f"warning: node {name} is not Ready ({condition.get('reason') or 'unknown'}); "
                "its kubelet may never start the debug Pod"
            )


def _delete(client: KubeAPI, pod: dict[str, Any], report: Reporter) -> bool:
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


def _describe(spec: NodePodSpec) -> str:
    if spec.profile in HOST_ROOT_PROFILES:
        where = f"the node's / is at {HOST_ROOT_MOUNT}"
        if spec.chroot:
            where += f", and the command runs in it (chroot {HOST_ROOT_MOUNT})"
        return where
    return f"profile {spec.profile}: the node's file system is not mounted"


def run_node(client: KubeAPI, options: NodeOptions, io: LocalIO, report: Reporter) -> NodeResult:
    namespace = options.namespace or client.namespace
    spec = NodePodSpec(
        node=options.node,
        image=options.image,
        namespace=namespace,
        container=options.container,
        command=list(options.command),
        arguments_only=options.arguments_only,
        chroot=options.chroot,
        profile=options.profile,
        env=list(options.env),
        image_pull_policy=options.image_pull_policy,
        stdin=options.stdin,
        tty=options.tty,
        custom=options.custom,
    )
    body = build_node_pod(spec)
    node = _get_node(client, options.node)
    _node_warnings(node, report)
    grants = describe_grants(options.profile)
    if grants:
        report(grants)
    created = client.create_pod(namespace, body)
    name = str(_meta(created).get("name"))
    container = str(body["spec"]["containers"][0]["name"])
    report(f"created Pod {name} on node {options.node} ({_describe(spec)})")
    # Without attaching, deleting at once would make the Pod pointless: it stays.
    keep = options.keep or not options.attach
    result = NodeResult(
        pod=name,
        namespace=namespace,
        node=options.node,
        container=container,
        image=options.image,
        profile=options.profile,
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
        result.state = progress.state
        if progress.state == "terminated":
            result.exit_code = progress.exit_code
        if not options.attach:
            report(
                f"container {container} is {progress.state}; attach with: podscope attach "
                f"{name} -c {container} -n {namespace}"
            )
            return result
        outcome = stream_container(
            client,
            pod,
            container,
            stdin=options.stdin,
            tty=options.tty,
            io=io,
            report=report,
            pod_may_finish=True,
        )
        result.exit_code = outcome.exit_code
        result.state = outcome.progress.state
        result.attached = outcome.attached
        return result
    except PodscopeError as exc:
        if keep:
            exc.remedy = f"{exc.remedy}; {stays}" if exc.remedy else stays
            told = True
        raise
    finally:
        if not keep:
            result.kept = not _delete(client, created, report)
        elif not told:
            report(stays)
