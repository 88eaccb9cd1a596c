from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from podscope.errors import NotFoundError, ValidationError
from podscope.rules.target import (
    DEFAULT_CONTAINER_ANNOTATION,
    check_target_running,
    choose_target,
    target_down,
)

PodFactory = Callable[..., dict[str, Any]]


def test_only_container(make_pod: PodFactory) -> None:
    assert choose_target(make_pod(("app",)), None) == ("app", "the Pod's only container")


def test_annotation_wins_over_first(make_pod: PodFactory) -> None:
    pod = make_pod(("a", "b", "c"), annotations={DEFAULT_CONTAINER_ANNOTATION: "b"})
    assert choose_target(pod, None) == ("b", f"the {DEFAULT_CONTAINER_ANNOTATION} annotation")


def test_first_of_several(make_pod: PodFactory) -> None:
    assert choose_target(make_pod(("a", "b", "c")), None) == ("a", "the first of 3 containers")


def test_annotation_naming_missing_container_falls_back_to_first(make_pod: PodFactory) -> None:
    pod = make_pod(("a", "b"), annotations={DEFAULT_CONTAINER_ANNOTATION: "gone"})
    name, reason = choose_target(pod, None)
    assert name == "a"
    assert reason.startswith("the first of 2 containers")
    assert '"gone"' in reason


def test_annotation_naming_init_container_is_ignored(make_pod: PodFactory) -> None:
    pod = make_pod(("a", "b"), init=("setup",), annotations={DEFAULT_CONTAINER_ANNOTATION: "setup"})
    assert choose_target(pod, None)[0] == "a"


def test_requested_regular(make_pod: PodFactory) -> None:
    assert choose_target(make_pod(("a", "b")), "b") == ("b", "requested with --target")


def test_requested_ephemeral_is_refused(make_pod: PodFactory) -> None:
    pod = make_pod(("a", "b"), ephemeral=("debugger-x",))
    with pytest.raises(ValidationError) as info:
        choose_target(pod, "debugger-x")
    assert info.value.message == (
        'target container "debugger-x" is an ephemeral container; '
        "--target must name one of the Pod's containers: a, b"
    )


def test_requested_init_is_refused(make_pod: PodFactory) -> None:
    with pytest.raises(ValidationError, match="is an init container"):
        choose_target(make_pod(("a",), init=("setup",)), "setup")


def test_requested_sidecar_is_accepted(make_pod: PodFactory) -> None:
    name, reason = choose_target(make_pod(("a",), sidecars=("proxy",)), "proxy")
    assert name == "proxy"
    assert "sidecar" in reason


def test_requested_unknown(make_pod: PodFactory) -> None:
    with pytest.raises(NotFoundError) as info:
        choose_target(make_pod(("a", "b")), "nope")
    assert '"nope" not found in Pod "web"' in info.value.message
    assert info.value.message.endswith("containers: a, b")


def test_empty_request_means_no_target(make_pod: PodFactory) -> None:
    assert choose_target(make_pod(("a", "b")), "")[0] is None


def test_pod_without_containers() -> None:
    assert choose_target({"metadata": {"name": "x"}, "spec": {}}, None) == (
        None,
        "the Pod has no containers",
    )


def test_malformed_pod_does_not_crash() -> None:
    assert choose_target({"spec": "nonsense"}, None)[0] is None
    with pytest.raises(NotFoundError):
        choose_target({}, "x")


def _with_status(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app"}]},
        "status": {"containerStatuses": [{"name": "app", "state": state, **extra}]},
    }


@pytest.mark.parametrize(
    ("state", "extra", "why"),
    [
        ({"running": {}}, {}, None),
        ({}, {}, None),  # nothing reported yet: the kubelet decides
        (
            {"waiting": {"reason": "CrashLoopBackOff"}},
            {"restartCount": 3, "lastState": {"terminated": {"exitCode": 3}}},
            "waiting: CrashLoopBackOff, 3 restarts, last exit code 3",
        ),
        (
            {"terminated": {"reason": "Completed", "exitCode": 0}},
            {"restartCount": 1},
            "terminated: Completed, 1 restart, last exit code 0",
        ),
        ({"waiting": {}}, {}, "waiting: no reason given"),
    ],
)
def test_target_down(state: dict[str, Any], extra: dict[str, Any], why: str | None) -> None:
    assert target_down(_with_status(state, **extra), "app") == why


def test_a_target_that_is_down_is_refused_with_the_ways_forward() -> None:
    from podscope.errors import ExitCode, PodStateError

    pod = _with_status({"waiting": {"reason": "CrashLoopBackOff"}}, restartCount=2)
    check_target_running(pod, None)  # no target: nothing to join
    check_target_running(pod, "sidecar")  # no status for it
    with pytest.raises(PodStateError) as info:
        check_target_running(pod, "app")
    assert info.value.exit_code == ExitCode.POD_STATE
    assert info.value.message == (
        "target container app of Pod web is not running (waiting: CrashLoopBackOff, 2 "
        "restarts): a debugger that joins its processes cannot start until it runs again"
    )
    assert "--target ''" in str(info.value.remedy)
    assert "podscope debug web --copy-to web-debug --command-override app -- sleep 1d" in str(
        info.value.remedy
    )
