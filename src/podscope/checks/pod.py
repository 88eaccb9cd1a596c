"""Checks on one Pod and its node, on plain API dicts (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from podscope.checks.findings import Finding, fail, ok, warn
from podscope.errors import NotFoundError, PodStateError, ValidationError
from podscope.rules.output import summarize
from podscope.rules.target import choose_target, target_down, target_down_remedy
from podscope.rules.validate import MIRROR_ANNOTATION, check_pod_can_debug


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name(pod: Mapping[str, Any]) -> str:
    return str(_mapping(pod.get("metadata")).get("name") or "?")


def _state_text(status: Mapping[str, Any]) -> str:
    state = _mapping(status.get("state"))
    if "running" in state:
        return "running"
    if "waiting" in state:
        reason = _mapping(state["waiting"]).get("reason")
        return f"waiting ({reason})" if reason else "waiting"
    if "terminated" in state:
        term = _mapping(state["terminated"])
        reason = term.get("reason") or "terminated"
        return f"terminated ({reason}, exit code {term.get('exitCode')})"
    return "no state yet"


def container_states(pod: Mapping[str, Any], key: str = "containerStatuses") -> dict[str, str]:
    """``{container name: "running" | "waiting (Reason)" | ...}`` from the Pod's status."""
    statuses = _mapping(pod.get("status")).get(key) or []
    return {str(s.get("name")): _state_text(s) for s in statuses if isinstance(s, dict)}


def check_static(pod: Mapping[str, Any]) -> Finding:
    annotations = _mapping(_mapping(pod.get("metadata")).get("annotations"))
    if MIRROR_ANNOTATION not in annotations:
        return ok("static-pod", "not a static Pod")
    node = _mapping(pod.get("spec")).get("nodeName") or "its node"
    return fail(
        "static-pod",
        f"Pod {_name(pod)} is a static Pod (the API mirrors a manifest the kubelet on {node} "
        "runs): static Pods cannot have ephemeral containers",
        f"debug the node instead (podscope debug node/{node}), or debug a copy: "
        f"podscope debug {_name(pod)} --copy-to NEW",
    )


def check_phase(pod: Mapping[str, Any]) -> Finding:
    phase = _mapping(pod.get("status")).get("phase") or "unknown"
    states = container_states(pod)
    listed = ", ".join(f"{n} {s}" for n, s in states.items()) or "no container statuses"
    evidence = f"phase {phase}; containers: {listed}"
    try:
        # The static-Pod case has its own finding; here only phase and deletion count.
        check_pod_can_debug(_without_mirror(pod))
    except PodStateError as exc:
        return fail("pod-phase", f"{evidence}: {exc.message}", exc.remedy or "")
    return ok("pod-phase", evidence)


def _without_mirror(pod: Mapping[str, Any]) -> dict[str, Any]:
    metadata = dict(_mapping(pod.get("metadata")))
    annotations = dict(_mapping(metadata.get("annotations")))
    annotations.pop(MIRROR_ANNOTATION, None)
    metadata["annotations"] = annotations
    return {**pod, "metadata": metadata}


def check_target(pod: Mapping[str, Any], requested: str | None) -> tuple[Finding, str | None]:
    """The container the debugger will target, as ``podscope debug`` would choose it."""
    try:
        target, reason = choose_target(dict(pod), requested)
    except (NotFoundError, ValidationError) as exc:
        return fail("target", exc.message, "pick one of the Pod's containers with --target"), None
    if target is None:
        return ok("target", f"no target container: {reason}"), None
    down = target_down(dict(pod), target)
    if down is not None:
        return (
            fail(
                "target",
                f"{target} ({reason}) is not running ({down}): a debugger that joins its "
                "processes cannot start until it runs again",
                target_down_remedy(_name(pod), target),
            ),
            target,
        )
    return ok("target", f"{target} ({reason})"), target


def check_process_namespace(pod: Mapping[str, Any], target: str | None) -> Finding:
    if _mapping(pod.get("spec")).get("shareProcessNamespace") is True:
        return ok(
            "process-namespace",
            "shareProcessNamespace: true: the debugger sees every container's processes",
        )
    if target:
        return ok(
            "process-namespace",
            f"the debugger joins {target}'s process namespace (targetContainerName)",
        )
    return warn(
        "process-namespace",
        "no shared process namespace and no target: the debugger sees only its own processes",
        "name a container with --target, or debug a copy with shared processes: "
        f"podscope debug {_name(pod)} --copy-to NEW --share-processes",
    )


def _container(pod: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    spec = _mapping(pod.get("spec"))
    for key in ("containers", "initContainers"):
        for item in spec.get(key) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item
    return {}


def check_run_as(pod: Mapping[str, Any], target: str | None, profile: str) -> Finding:
    """Which user the debugger will run as, and whether a root image would be refused.

    The Pod's securityContext applies to an ephemeral container; the target's does not.
    ``runAsNonRoot`` without ``runAsUser`` makes the kubelet refuse an image whose user is root
    (busybox, most debug images), after the container was added: a wasted container.
    """
    pod_sc = _mapping(_mapping(pod.get("spec")).get("securityContext"))
    target_sc = _mapping(_container(pod, target).get("securityContext"))
    pod_user, pod_nonroot = pod_sc.get("runAsUser"), pod_sc.get("runAsNonRoot")
    target_user = target_sc.get("runAsUser", pod_user)
    facts = [
        f"Pod runAsNonRoot={_show(pod_nonroot)}, runAsUser={_show(pod_user)}",
    ]
    if target:
        facts.append(
            f"target {target} runAsNonRoot={_show(target_sc.get('runAsNonRoot'))}, "
            f"runAsUser={_show(target_sc.get('runAsUser'))}"
        )
    evidence = "; ".join(facts)
    uid = target_user if isinstance(target_user, int) and target_user != 0 else "UID"
    user_hint = f'--custom FILE holding {{"securityContext": {{"runAsUser": {uid}}}}}'

    if isinstance(pod_user, int) and pod_user != 0:
        return ok("run-as", f"{evidence}: the debugger inherits uid {pod_user} from the Pod")
    nonroot = pod_nonroot is True or profile == "restricted"
    if nonroot:
        why = (
            "the Pod's runAsNonRoot: true applies to the debugger"
            if pod_nonroot is True
            else "the restricted profile sets runAsNonRoot: true"
        )
        return warn(
            "run-as",
            f"{evidence}: {why}; a debug image that runs as root (busybox and most debug "
            "images) will be refused at start",
            f"run the debugger as a non-root user: --profile restricted {user_hint}, or use an "
            "image whose USER is not root",
        )
    if isinstance(target_user, int) and target_user != 0:
        return ok(
            "run-as",
            f"{evidence}: the debugger runs as its image's user, not as the target's uid "
            f"{target_user} (to act as the target, add {user_hint})",
        )
    return ok("run-as", evidence)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_ephemeral(
    pod: Mapping[str, Any],
    level: str,
    violations: Mapping[str, Sequence[str]],
    blamed_by_server: Sequence[str] = (),
) -> Finding:
    """Existing ephemeral containers, and whether one already breaks the enforced level.

    PodSecurity evaluates every container of the Pod when one is added, and ephemeral
    containers can never be removed: one violating container blocks every later one.
    """
    states = container_states(pod, "ephemeralContainerStatuses")
    names = [
        str(c.get("name"))
        for c in _mapping(pod.get("spec")).get("ephemeralContainers") or []
        if isinstance(c, dict)
    ]
    if not names:
        return ok("ephemeral-containers", "none yet")
    # A Pod can hold dozens: the count and the first few keep the evidence readable.
    listed = summarize([f"{n} {states.get(n, 'no status yet')}" for n in names])
    bad = dict(violations)
    for name in blamed_by_server:
        bad.setdefault(name, ["named by the API server"])
    if not bad:
        return ok("ephemeral-containers", f"{len(names)}: {listed}")
    detail = "; ".join(f"{n}: {', '.join(rules)}" for n, rules in sorted(bad.items()))
    return fail(
        "ephemeral-containers",
        f"{len(names)}: {listed}; already violating PodSecurity {level!r} ({detail}), which "
        "blocks every new ephemeral container (they can never be removed)",
        f"debug a copy of the Pod instead: podscope debug {_name(pod)} --copy-to NEW",
    )


def default_pull_policy(image: str) -> str:
    """The API server's default: Always for ``:latest`` or no tag, else IfNotPresent."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def normalize_image(image: str) -> str:
    """The fully qualified name a node reports (``busybox``: docker.io/library/busybox:latest)."""
    name, digest = (image.split("@", 1) + [""])[:2]
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        # No registry host: Docker Hub, and its official images live under library/.
        name = f"docker.io/{name}" if rest else f"docker.io/library/{name}"
    if digest:
        return f"{name}@{digest}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def node_has_image(node: Mapping[str, Any], image: str) -> bool:
    wanted = normalize_image(image)
    for entry in _mapping(node.get("status")).get("images") or []:
        for name in _mapping(entry).get("names") or []:
            if isinstance(name, str) and normalize_image(name) == wanted:
                return True
    return False


def check_image(
    image: str, pull_policy: str | None, nodes: Sequence[Mapping[str, Any]], node_name: str | None
) -> Finding:
    """Whether ``image`` can start: present on the node(s), or pullable under its policy."""
    policy = pull_policy or default_pull_policy(image)
    if node_name:
        nodes = [n for n in nodes if _mapping(n.get("metadata")).get("name") == node_name]
    if not nodes:
        where = f"node {node_name}" if node_name else "the cluster's nodes"
        return warn(
            "debug-image",
            f"{image} (imagePullPolicy {policy}): cannot tell whether {where} have it",
            "make sure the node can pull the image, or pick one it has with --image",
        )
    having = [
        str(_mapping(n.get("metadata")).get("name")) for n in nodes if node_has_image(n, image)
    ]
    where = f"node {node_name}" if node_name else f"{len(having)} of {len(nodes)} node(s)"
    if having and policy != "Always":
        present = f"present on {where}" if node_name else f"present on {where}"
        return ok("debug-image", f"{image} (imagePullPolicy {policy}): {present}")
    if having:
        return warn(
            "debug-image",
            f"{image} is present on {where}, but imagePullPolicy Always (the default for :latest "
            "or no tag) makes the kubelet contact the registry anyway",
            "if the registry is unreachable from the node, use --image-pull-policy IfNotPresent",
        )
    missing_where = f"node {node_name}" if node_name else "any node"
    if policy == "Never":
        return warn(
            "debug-image",
            f"{image} is not on {missing_where} and imagePullPolicy is Never: it cannot start",
            "pick an image the node has (--image), or allow pulling with "
            "--image-pull-policy IfNotPresent",
        )
    return warn(
        "debug-image",
        f"{image} is not on {missing_where} yet; the kubelet will pull it "
        f"(imagePullPolicy {policy})",
        "make sure the node can reach the image's registry, or pick an image it has (--image)",
    )
