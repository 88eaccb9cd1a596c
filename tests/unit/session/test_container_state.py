from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import ExitCode, PodGoneError, StartFailedError
from podscope.session.container_state import check_pod_alive, check_started, container_state_of


def _pod(state: dict[str, Any] | None, **status: Any) -> dict[str, Any]:
    statuses = [{"name": "dbg", "state": state}] if state is not None else []
    return {
        "metadata": {"name": "web", "uid": "u1"},
        "status": {"phase": "Running", "ephemeralContainerStatuses": statuses, **status},
    }


def test_progress_states() -> None:
    assert container_state_of(_pod(None), "dbg").state == "absent"
    waiting = container_state_of(_pod({"waiting": {"reason": "ContainerCreating"}}), "dbg")
    assert (waiting.state, waiting.reason) == ("waiting", "ContainerCreating")
    assert container_state_of(_pod({"running": {"startedAt": "t"}}), "dbg").state == "running"
    done = container_state_of(_pod({"terminated": {"exitCode": 7, "reason": "Error"}}), "dbg")
    assert (done.state, done.exit_code, done.describe()) == (
        "terminated",
        7,
        "terminated (Error), exit code 7",
    )


@pytest.mark.parametrize(
    "reason",
    [
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerError",
        "CreateContainerConfigError",
    ],
)
def test_start_failures_raise_at_once_with_the_kubelet_message(reason: str) -> None:
    message = 'failed to pull and unpack image "nosuch:1": not found'
    progress = container_state_of(_pod({"waiting": {"reason": reason, "message": message}}), "dbg")
    with pytest.raises(StartFailedError) as info:
        check_started("web", "dbg", progress)
    assert reason in info.value.message and message in info.value.message
    assert info.value.exit_code == ExitCode.START_FAILED
    assert info.value.remedy and "stays in the Pod" in info.value.remedy


def test_waiting_creating_is_not_started_and_never_ran_is_a_failure() -> None:
    assert not check_started("web", "dbg", container_state_of(_pod({"waiting": {}}), "dbg"))
    assert check_started("web", "dbg", container_state_of(_pod({"running": {}}), "dbg"))
    never = _pod({"terminated": {"exitCode": 128, "reason": "StartError", "message": "no sh"}})
    with pytest.raises(StartFailedError, match="StartError: no sh"):
        check_started("web", "dbg", container_state_of(never, "dbg"))


def test_pod_gone() -> None:
    with pytest.raises(PodGoneError, match="was deleted"):
        check_pod_alive(_pod(None), "u1", "DELETED")
    recreated = _pod(None)
    recreated["metadata"]["uid"] = "u2"
    with pytest.raises(PodGoneError, match="recreated"):
        check_pod_alive(recreated, "u1", "MODIFIED")
    with pytest.raises(PodGoneError, match="Evicted"):
        check_pod_alive(_pod(None, phase="Failed", reason="Evicted"), "u1", "MODIFIED")
    check_pod_alive(_pod(None), "u1", "MODIFIED")


@pytest.mark.parametrize(
    ("policy", "suggests_if_not_present"),
    [("Always", True), (None, True), ("IfNotPresent", False), ("Never", False)],
)
def test_a_failed_pull_suggests_if_not_present_only_when_it_was_not_used(
    policy: str | None, suggests_if_not_present: bool
) -> None:
    pod = _pod({"waiting": {"reason": "ErrImagePull", "message": "not found"}})
    container = {"name": "dbg", "image": "nosuch:1"}
    pod["spec"] = {"ephemeralContainers": [{**container, "imagePullPolicy": policy}]}
    with pytest.raises(StartFailedError) as info:
        check_started("web", "dbg", container_state_of(pod, "dbg"), pod)
    assert info.value.remedy is not None
    assert ("--image-pull-policy IfNotPresent" in info.value.remedy) is suggests_if_not_present
