"""A refused pull read from the kubelet's Event, before the Pod's status says it."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import ExitCode, ForbiddenError
from podscope.session.wait import pull_refusal
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


def _event(message: str, container: str = "dbg", uid: str = "u-1") -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns"},
        "reason": "Failed",
        "message": message,
        "involvedObject": {"uid": uid, "fieldPath": f"spec.ephemeralContainers{{{container}}}"},
    }


def test_a_failed_event_with_401_is_a_refusal() -> None:
    kube = FakeKube()
    kube.core_events.append(_event(REFUSED))
    refused = pull_refusal(kube, _pod(), "dbg")
    assert refused is not None and refused.exit_code == ExitCode.START_FAILED
    assert "ErrImagePull" in refused.message and "401 Unauthorized" in refused.message
    assert refused.registry == "registry.podscope.test"
    assert refused.remedy and "--pull-secret" in refused.remedy


def test_other_containers_pods_and_failures_are_not() -> None:
    kube = FakeKube()
    kube.core_events += [
        _event(REFUSED, container="other"),
        _event(REFUSED, uid="u-2"),
        _event('Failed to pull image "x": dial tcp: lookup x: no such host'),
        _event("Error: ErrImagePull"),
    ]
    assert pull_refusal(kube, _pod(), "dbg") is None


def test_without_list_events_it_says_so_and_other_errors_say_nothing() -> None:
    kube = FakeKube()
    kube.core_events.append(_event(REFUSED))
    kube.fail("list_events", Http(403, "events is forbidden", "Forbidden"), Http(500, "oops"))
    with pytest.raises(ForbiddenError):
        pull_refusal(kube, _pod(), "dbg")  # the poller stops asking
    assert pull_refusal(kube, _pod(), "dbg") is None
