"""Run every doctor check against a cluster (the only part of doctor that does I/O).

Read-only by construction: the one write-shaped request, the PATCH that proves PodSecurity
admission, is always sent with ``dryRun=All``, which the API server evaluates (RBAC,
admission, validation) and never stores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from podscope.checks import pod as pod_checks
from podscope.checks.exec_model import check_exec_model
from podscope.checks.findings import Finding, exit_code, fail, ok, ready, warn, worst
from podscope.checks.kubeletgate import check_kubelet_gate
from podscope.checks.podsecurity import PodSecurityLabels, parse_labels, violating_ephemeral
from podscope.checks.profiles import (
    ProfileOutcome,
    candidate,
    check_profiles,
    predict,
    rule_names,
)
from podscope.checks.pullsecrets import check_pull_secrets
from podscope.checks.rbac import check_permission, required_permissions
from podscope.checks.versions import (
    check_kubelets,
    check_server_version,
    check_subresource,
    server_version_of,
)
from podscope.errors import (
    ExitCode,
    ForbiddenError,
    NotFoundError,
    PodscopeError,
    PolicyError,
    UnreachableError,
)
from podscope.kube.client import KubeClient
from podscope.kube.discovery import ephemeral_verbs
from podscope.kube.queries import AccessQuestion
from podscope.rules.legacy import add_body
from podscope.rules.profiles import PROFILES, check_profile

T = TypeVar("T")


@dataclass
class DoctorReport:
    """Everything ``podscope doctor`` found. ``ready``: debugging can work (no check failed)."""

    namespace: str
    pod: str | None
    image: str
    profile: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return ready(self.findings)

    @property
    def result(self) -> str:
        return worst(self.findings)

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready, "result": self.result}


@dataclass
class DoctorOptions:
    pod: str | None
    namespace: str
    image: str
    profile: str | None = None  # None: the default (legacy), judged leniently
    target: str | None = None
    image_pull_policy: str | None = None


def _try(call: Callable[[], T]) -> T | PodscopeError:
    try:
        return call()
    except UnreachableError:
        raise  # nothing else will work either; the caller reports it once
    except PodscopeError as exc:
        return exc


def _unreadable(check: str, what: str, exc: PodscopeError) -> Finding:
    remedy = exc.remedy or "check your access to the cluster"
    if isinstance(exc, ForbiddenError):
        remedy = f"{what} needs more rights than you have; ask an administrator, or ignore this"
    return warn(check, f"cannot read {what}: {exc.message}", remedy)


def _dry_run(
    client: KubeClient,
    pod: dict[str, Any],
    shape: str,
    profile: str,
    image: str,
    target: str | None,
    pull_policy: str | None,
) -> ProfileOutcome:
    meta = pod.get("metadata") or {}
    try:
        container = candidate(pod, image, profile, target, pull_policy)
    except PodscopeError as exc:
        return ProfileOutcome(profile, False, exc.message)
    try:
        body = add_body(pod, [container], shape)
    except PodscopeError as exc:
        return ProfileOutcome(profile, False, exc.message)
    try:
        client.patch_ephemeral_containers(
            str(meta.get("namespace")),
            str(meta.get("name")),
            body,
            "pod" if shape == "pod" else "legacy",
            new_container=container["name"],
            dry_run=True,
        )
    except PolicyError as exc:
        named = set(exc.containers)
        blamed = sorted(named - {container["name"]})
        # A webhook's refusal names no rules: its own words are the detail.
        rules = ", ".join(rule_names(exc.rules)) if exc.rules else exc.message
        if named and container["name"] not in named:
            # The debug container itself passes; the Pod's other containers do not.
            rules = f"the debug container passes, but {', '.join(blamed)} break: {rules}"
        return ProfileOutcome(profile, False, rules, tuple(blamed))
    except UnreachableError:
        raise
    except PodscopeError as exc:
        return ProfileOutcome(profile, None, exc.message)
    return ProfileOutcome(profile, True)


def _labels_finding(labels: PodSecurityLabels, namespace: str) -> Finding:
    text = f"namespace {namespace}: {labels.describe()}"
    if labels.problems:
        return warn(
            "podsecurity-labels",
            f"{text}; " + "; ".join(labels.problems),
            "fix the pod-security.kubernetes.io labels of the namespace",
        )
    if not labels.enforce.explicit:
        text += " (the cluster's default level applies, normally privileged)"
    return ok("podsecurity-labels", text)


def _add_gate(
    add: Callable[[Finding], None], client: KubeClient, nodes: list[dict[str, Any]], shape: str
) -> None:
    # Only worth asking the kubelets once the API server takes ephemeral containers.
    if shape != "absent":
        finding = check_kubelet_gate(client, nodes)
        if finding is not None:
            add(finding)


def run_doctor(client: KubeClient, options: DoctorOptions) -> DoctorReport:
    requested = check_profile(options.profile) if options.profile else "legacy"
    namespace = options.namespace
    report = DoctorReport(namespace, options.pod, options.image, requested)
    add = report.findings.append

    try:
        version_doc = client.server_version()
    except PodscopeError as exc:
        add(fail("api-server", exc.message, exc.remedy or "check the kubeconfig and cluster"))
        return report
    add(ok("api-server", f"{client.server} (context {client.context})"))
    add(check_server_version(version_doc))
    server = server_version_of(version_doc)

    discovery = _try(client.core_resources)
    if isinstance(discovery, PodscopeError):
        add(_unreadable("ephemeral-subresource", "the /api/v1 discovery document", discovery))
        shape = "pod"  # assume the modern shape so the remaining checks still say something
    else:
        shape = client.ephemeral_shape()
        add(check_subresource(shape, server, ephemeral_verbs(discovery)))

    permissions = required_permissions(shape)
    for permission in permissions:
        answer = _try(
            lambda p=permission: client.access_review(  # type: ignore[misc]
                AccessQuestion(p.verb, p.resource, p.subresource, namespace, options.pod)
            )
        )
        if isinstance(answer, PodscopeError):
            add(_unreadable(permission.check, "a SelfSubjectAccessReview", answer))
        else:
            add(check_permission(permission, answer[0], answer[1], namespace))
    add(check_exec_model(client, namespace, options.pod, options.image))

    ns = _try(lambda: client.get_namespace(namespace))
    labels = parse_labels(None)
    if isinstance(ns, NotFoundError):
        add(fail("namespace", f"namespace {namespace} does not exist", "check -n/--namespace"))
        return report
    if isinstance(ns, PodscopeError):
        add(_unreadable("podsecurity-labels", f"namespace {namespace}'s labels", ns))
    else:
        labels = parse_labels((ns.get("metadata") or {}).get("labels"))
        add(_labels_finding(labels, namespace))
    level = labels.enforce.level

    nodes = _try(client.list_nodes)
    node_list: list[dict[str, Any]] = [] if isinstance(nodes, PodscopeError) else nodes

    if options.pod is None:
        if isinstance(nodes, PodscopeError):
            add(_unreadable("kubelets", "the Nodes", nodes))
        else:
            add(check_kubelets(node_list, server, shape))
            _add_gate(add, client, node_list, shape)
        outcomes = predict(level, options.image, options.image_pull_policy)
        add(check_profiles(outcomes, requested, options.profile is not None, level, False, None))
        if not isinstance(nodes, PodscopeError):
            add(pod_checks.check_image(options.image, options.image_pull_policy, node_list, None))
        return report

    pod = _try(lambda: client.get_pod(namespace, str(options.pod)))
    if isinstance(pod, PodscopeError):
        add(fail("pod", pod.message, pod.remedy or f"check the Pod name and -n {namespace}"))
        return report
    node_name = (pod.get("spec") or {}).get("nodeName")
    if isinstance(nodes, PodscopeError):
        add(_unreadable("kubelets", "the Nodes", nodes))
    else:
        add(check_kubelets(node_list, server, shape, node_name or None))
        on_node = [n for n in node_list if (n.get("metadata") or {}).get("name") == node_name]
        _add_gate(add, client, on_node or node_list, shape)

    static = pod_checks.check_static(pod)
    phase = pod_checks.check_phase(pod)
    add(static)
    add(phase)
    target_finding, target = pod_checks.check_target(pod, options.target)
    add(target_finding)
    add(pod_checks.check_process_namespace(pod, target))
    add(pod_checks.check_run_as(pod, target, requested))

    can_try = static.result == "ok" and phase.result == "ok" and shape != "absent"
    if can_try and target_finding.result != "fail":
        outcomes = [
            _dry_run(client, pod, shape, p, options.image, target, options.image_pull_policy)
            for p in PROFILES
        ]
        proven = True
    else:
        outcomes = predict(level, options.image, options.image_pull_policy, pod)
        proven = False
    ephemeral = {
        str(c.get("name")) for c in (pod.get("spec") or {}).get("ephemeralContainers") or []
    }
    blamed = sorted({name for o in outcomes for name in o.blamed} & ephemeral)
    add(pod_checks.check_ephemeral(pod, level, violating_ephemeral(pod, level), blamed))
    add(
        check_profiles(
            outcomes, requested, options.profile is not None, level, proven, options.pod, ephemeral
        )
    )

    if node_name and not isinstance(nodes, PodscopeError):
        add(pod_checks.check_image(options.image, options.image_pull_policy, node_list, node_name))
    else:
        add(
            warn(
                "debug-image",
                f"{options.image}: cannot tell whether the Pod's node has it",
                "make sure the node can pull it, or pick an image it has with --image",
            )
        )
    add(check_pull_secrets(client, pod, options.image))
    return report
