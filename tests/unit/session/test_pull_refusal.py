"""Why a container cannot start, read from the kubelet's Events before the Pod's status says it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from podscope.cli.progress import EventPrinter
from podscope.errors import ExitCode, ForbiddenError, PullRefusedError, StartFailedError
from podscope.events import Event, EventLog, Events
from podscope.session.wait import _go_duration, report_pull_time, start_failure
from tests.unit.fakekube import FakeKube, Http

IMAGE = "registry.podscope.test/debug/busybox:latest"
REFUSED = (
    f'Failed to pull image "{IMAGE}": failed to pull and unpack image "{IMAGE}": failed to '
    "resolve reference: pulling from host 127.0.0.1:5444 failed with status code "
    "[manifests latest]: 401 Unauthorized"
)


def _pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns", "uid": "u-1"},
        "spec": {
            "serviceAccountName": "default",
            "ephemeralContainers": [{"name": "dbg", "image": IMAGE}],
        },
    }


def _event(
    message: str, container: str = "dbg", uid: str = "u-1", reason: str = "Failed"
) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns"},
        "reason": reason,
        "message": message,
        "involvedObject": {"uid": uid, "fieldPath": f"spec.ephemeralContainers{{{container}}}"},
    }


def test_a_failed_event_with_401_is_a_refusal() -> None:
    kube = FakeKube()
    kube.core_events.append(_event(REFUSED))
    refused = start_failure(kube, _pod(), "dbg")
    assert isinstance(refused, PullRefusedError) and refused.exit_code == ExitCode.START_FAILED
    assert "ErrImagePull" in refused.message and "401 Unauthorized" in refused.message
    assert refused.registry == "registry.podscope.test"
    assert refused.remedy and "--pull-secret" in refused.remedy


def test_other_failed_pulls_and_an_image_absent_under_never_fail_as_the_status_would() -> None:
    kube = FakeKube()
    kube.core_events.append(_event('Failed to pull image "x:1": dial tcp: lookup x: no such host'))
    failed = start_failure(kube, _pod(), "dbg")
    assert type(failed) is StartFailedError
    assert failed.message == (
        "container dbg in Pod web cannot start: ErrImagePull: dial tcp: lookup x: no such host"
    )
    never = 'Container image "x:1" is not present with pull policy of Never'
    kube.core_events[:] = [_event(never, reason="ErrImageNeverPull")]
    failed = start_failure(kube, _pod(), "dbg")
    assert failed is not None and failed.message.endswith(f"ErrImageNeverPull: {never}")
    assert "--image-pull-policy is Never" in str(failed.remedy)


def test_a_back_off_takes_the_reason_of_the_pods_earlier_failed_pull() -> None:
    # A second container with the same image: the kubelet backs off without pulling, and
    # only the first container's Event says why.
    kube = FakeKube()
    kube.core_events += [
        _event(REFUSED, container="earlier"),
        _event(f'Back-off pulling image "{IMAGE}"', reason="BackOff"),
    ]
    refused = start_failure(kube, _pod(), "dbg")
    assert isinstance(refused, PullRefusedError)
    assert f'ImagePullBackOff: Back-off pulling image "{IMAGE}": failed to pull' in refused.message
    assert "401 Unauthorized" in refused.message


def test_other_containers_pods_and_events_are_not() -> None:
    kube = FakeKube()
    kube.core_events += [
        _event(REFUSED, container="other"),
        _event(REFUSED, uid="u-2"),
        _event("Error: ErrImagePull"),
        _event(f'Pulling image "{IMAGE}"', reason="Pulling"),
    ]
    assert start_failure(kube, _pod(), "dbg") is None


def test_without_list_events_it_says_so_and_other_errors_say_nothing() -> None:
    kube = FakeKube()
    kube.core_events.append(_event(REFUSED))
    kube.fail("list_events", Http(403, "events is forbidden", "Forbidden"), Http(500, "oops"))
    with pytest.raises(ForbiddenError):
        start_failure(kube, _pod(), "dbg")  # the poller stops asking
    assert start_failure(kube, _pod(), "dbg") is None


def _pulled(message: str) -> dict[str, Any]:
    return {**_event(message), "reason": "Pulled"}


def test_the_kubelets_pull_time_is_reported_as_a_measured_phase() -> None:
    kube = FakeKube()
    kube.core_events.append(
        _pulled(f'Successfully pulled image "{IMAGE}" in 1.25s (1.3s including waiting).')
    )
    log = EventLog()
    report_pull_time(kube, _pod(), "dbg", Events(log))
    [event] = log.events
    assert (event.kind, event.phase, event.seconds) == ("phase", "image", 1.25)
    printer = EventPrinter(quiet=False, stream=io.StringIO())
    printer(Event("phase", "adding", "write", at=0.0))
    printer(Event("phase", "waiting", "start", at=0.5))
    printer(event)
    printer(Event("phase", "attaching", "attach", at=2.0))
    assert printer.timings() == "write 0.50s, start 1.50s, image pull 1.25s"


def test_an_image_already_present_is_said_and_not_timed() -> None:
    kube = FakeKube()
    kube.core_events.append(_pulled(f'Container image "{IMAGE}" already present on machine'))
    log = EventLog()
    report_pull_time(kube, _pod(), "dbg", Events(log))
    assert [e.seconds for e in log.events] == [None]
    assert "already on the node" in log.events[0].message


def test_go_durations() -> None:
    assert _go_duration("252ms") == 0.252
    assert _go_duration("1m2.5s") == 62.5
    assert _go_duration("830µs") == 0.00083
    assert _go_duration("soon") is None
