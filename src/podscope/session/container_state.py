"""Where an ephemeral container is in its life, read from a Pod (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from podscope.errors import PodGoneError, PullRefusedError, StartFailedError

# Waiting reasons after which the kubelet will not start the container without a change
# (ephemeral containers are never restarted, and their spec cannot be changed).
START_FAILURES = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImageNeverPull",
        "InvalidImageName",
        "ImageInspectError",
        "RegistryUnavailable",
        "SignatureValidationFailed",
        "CreateContainerError",
        "CreateContainerConfigError",
        "PreCreateHookError",
        "PreStartHookError",
        "RunContainerError",
    }
)
# Terminated reasons meaning the process never ran.
NEVER_RAN = frozenset({"StartError", "ContainerCannotRun"})

StateName = Literal["absent", "waiting", "running", "terminated"]


@dataclass(frozen=True)
class ContainerState:
    state: StateName
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    status: dict[str, Any] = field(default_factory=dict)  # the raw container status

    def describe(self) -> str:
        text: str = self.state
        if self.reason:
            text += f" ({self.reason})"
        if self.state == "terminated" and self.exit_code is not None:
            text += f", exit code {self.exit_code}"
        return text


def _named(part: dict[str, Any] | None, lists: tuple[str, ...], name: str) -> dict[str, Any] | None:
    # Container names are unique across a Pod's kinds of container: the first match is it.
    for key in lists:
        for item in (part or {}).get(key) or []:
            if item.get("name") == name:
                return dict(item)
    return None


def container_spec(pod: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The spec of container ``name``, ephemeral or not, from ``pod``."""
    return _named(pod.get("spec"), ("ephemeralContainers", "containers", "initContainers"), name)


def container_status(pod: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The status of container ``name``, ephemeral or not, from ``pod``."""
    lists = ("ephemeralContainerStatuses", "containerStatuses", "initContainerStatuses")
    return _named(pod.get("status"), lists, name)


def container_state_of(pod: dict[str, Any], name: str) -> ContainerState:
    status = container_status(pod, name)
    if status is None:
        return ContainerState("absent")
    state = status.get("state") or {}
    if "running" in state:
        return ContainerState("running", status=status)
    if "terminated" in state:
        term = state["terminated"] or {}
        code = term.get("exitCode")
        return ContainerState(
            "terminated",
            reason=term.get("reason"),
            message=term.get("message"),
            exit_code=int(code) if code is not None else None,
            status=status,
        )
    waiting = state.get("waiting") or {}
    return ContainerState(
        "waiting", reason=waiting.get("reason"), message=waiting.get("message"), status=status
    )


_PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")
_STAYS = "; the failed container stays in the Pod (ephemeral containers cannot be removed)"


def check_started(
    pod_name: str, name: str, progress: ContainerState, pod: dict[str, Any] | None = None
) -> bool:
    """True once the container runs or has run; raise if it never will. ``pod`` (its spec)
    lets a refused pull name the pull secrets the Pod has."""
    if progress.state == "waiting" and progress.reason in START_FAILURES:
        detail = f": {progress.message}" if progress.message else ""
        image = str(progress.status.get("image") or "")
        if progress.reason in _PULL_FAILURES and image:
            from podscope.rules.pullsecrets import auth_refused  # only for failed pulls

            if auth_refused(progress.message):
                raise pull_refused(pod_name, name, f"{progress.reason}{detail}", image, pod)
        raise StartFailedError(
            f"container {name} in Pod {pod_name} cannot start: {progress.reason}{detail}",
            remedy=_start_remedy(
                progress.reason, (container_spec(pod or {}, name) or {}).get("imagePullPolicy")
            ),
        )
    if progress.state == "terminated" and progress.reason in NEVER_RAN:
        detail = f": {progress.message}" if progress.message else ""
        raise StartFailedError(
            f"container {name} in Pod {pod_name} failed to start: {progress.reason}{detail}",
            remedy="check the command exists in the image; the failed container stays in the "
            "Pod (ephemeral containers cannot be removed)",
        )
    return progress.state in ("running", "terminated")


def pull_refused(
    pod_name: str, name: str, what: str, image: str, pod: dict[str, Any] | None
) -> PullRefusedError:
    """The error for a pull the registry refused; ``what`` is the kubelet's reason and words."""
    from podscope.rules.pullsecrets import pod_pull_secrets, pull_refused_remedy, registry_of

    return PullRefusedError(
        f"container {name} in Pod {pod_name} cannot start: {what}",
        remedy=pull_refused_remedy(pod or {"metadata": {"name": pod_name}}, image) + _STAYS,
        registry=registry_of(image),
        pull_secrets=pod_pull_secrets(pod or {}),
    )


def _start_remedy(reason: str | None, pull_policy: object = None) -> str:
    if reason in ("ErrImagePull", "ImagePullBackOff", "RegistryUnavailable"):
        if pull_policy in ("IfNotPresent", "Never"):
            # The kubelet pulled because the image is not on the node: the policy is no help.
            return (
                "the image is not on the node and the node cannot pull it: check the image "
                "name, or put the image on the node" + _STAYS
            )
        return (
            "check the image name and that the node can pull it (or set --image-pull-policy "
            "IfNotPresent for a local image)" + _STAYS
        )
    if reason == "ErrImageNeverPull":
        return "the image is not on the node and --image-pull-policy is Never" + _STAYS
    if reason == "InvalidImageName":
        return "fix the --image reference" + _STAYS
    return "check the container spec (--custom, --env, profile)" + _STAYS


def check_pod_alive(pod: dict[str, Any], uid: str | None, event: str) -> None:
    """Raise PodGoneError if the Pod was deleted, replaced, or stopped for good."""
    meta = pod.get("metadata") or {}
    name = meta.get("name") or "?"
    if event == "DELETED":
        raise PodGoneError(f"Pod {name} was deleted")
    if uid and meta.get("uid") and meta.get("uid") != uid:
        raise PodGoneError(f"Pod {name} was deleted and recreated (new uid)")
    if meta.get("deletionTimestamp"):
        # Its containers are being killed: whatever they report now is the deletion's doing.
        raise PodGoneError(f"Pod {name} is being deleted")
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase in ("Failed", "Succeeded"):
        why = status.get("reason") or phase
        message = status.get("message")
        detail = f": {message}" if message else ""
        raise PodGoneError(f"Pod {name} stopped ({why}){detail}")
