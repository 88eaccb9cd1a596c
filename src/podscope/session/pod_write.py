"""One write that adds ephemeral containers, and what it leaves when it loses a race.

Every mode that adds containers (``debug``, the exec-model debuggers, ``apply``) sends the
same write and meets the same two failures that call for a re-read rather than an error:
the write lost a race (409 on a stale resourceVersion, 422 for a name taken meanwhile), or
its answer was lost after it went out (it may have landed). What the fresh Pod then means
is each mode's own decision; the write, the re-read and the final refusal are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podscope.errors import ConflictError, PodscopeError, ValidationError
from podscope.events import Events
from podscope.kube.discovery import EphemeralShape
from podscope.kube.errors import RequestOutcomeUnknown, is_name_clash
from podscope.kube.protocol import KubeAPI


@dataclass(frozen=True)
class RaceLost:
    """A write that did not land as sent: the Pod re-read after it, and the error."""

    pod: dict[str, Any]
    error: PodscopeError

    @property
    def unknown(self) -> bool:
        """No answer came: the write may have landed (look for it in ``pod``)."""
        return isinstance(self.error, RequestOutcomeUnknown)


def send_write(
    client: KubeAPI,
    pod: dict[str, Any],
    body: dict[str, Any],
    shape: EphemeralShape,
    *,
    new_container: str | None,
    what: str,
    report: Events,
    dry_run: bool = False,
) -> dict[str, Any] | RaceLost:
    """Send one write to ``pod``: the server's answer, or :class:`RaceLost` with the Pod
    re-read.

    ``what`` names the request in the line reported when its answer is lost. Any other
    error (a 422 that is not a name clash, a refusal, an unreachable server) is raised.
    """
    namespace, pod_name = _names(pod)
    try:
        return client.patch_ephemeral_containers(
            namespace, pod_name, body, shape, new_container=new_container, dry_run=dry_run
        )
    except RequestOutcomeUnknown as exc:
        report(f"no answer to the {what} request ({exc.message}); checking the Pod")
        return RaceLost(client.get_pod(namespace, pod_name), exc)
    except (ConflictError, ValidationError) as exc:
        if isinstance(exc, ValidationError) and not is_name_clash(exc):
            raise
        return RaceLost(client.get_pod(namespace, pod_name), exc)


def pod_after(
    client: KubeAPI, pod: dict[str, Any], answer: dict[str, Any], shape: EphemeralShape
) -> dict[str, Any]:
    """``pod`` after a write to it landed: a 1.22+ PATCH answers with the Pod; the legacy
    answer is an EphemeralContainers object, so the Pod is read."""
    if shape == "pod" and answer.get("kind") == "Pod":
        return answer
    return client.get_pod(*_names(pod))


def _names(pod: dict[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace")), str(meta.get("name"))


def gave_up(
    action: str,
    pod_name: str,
    attempts: int,
    last: PodscopeError | None,
    remedy: str = "the Pod is changing quickly; run the command again",
) -> ConflictError:
    """The error after ``attempts`` writes all lost their race: "could not ACTION Pod ..."."""
    assert last is not None
    return ConflictError(
        f"could not {action} Pod {pod_name} after {attempts} attempts: {last.message}",
        remedy=remedy,
    )
