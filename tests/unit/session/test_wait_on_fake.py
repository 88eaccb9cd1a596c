"""Waiting for an ephemeral container, on the in-memory API server: every way a wait ends."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import (
    ForbiddenError,
    PodGoneError,
    PullRefusedError,
    StartFailedError,
    UnreachableError,
    WaitTimeoutError,
)
from podscope.kube.client import WATCH_OUTAGE_SECONDS
from podscope.session.wait import (
    WatchHooks,
    wait_until_started,
    wait_until_terminated,
    watch_container,
)
from tests.unit.fakekube import DropWatch, FakeKube, Http, Unreachable, WatchError
from tests.unit.session.conftest import Messages

DEBUGGER = "debugger-abcde"


def _with_debugger(fake: FakeKube) -> dict[str, Any]:
    """A running Pod that has just been given an ephemeral container (no status yet)."""
    fake.running_pod("web")
    pod = fake.patch_ephemeral_containers(
        "default",
        "web",
        {"spec": {"ephemeralContainers": [{"name": DEBUGGER, "image": "busybox:1"}]}},
        "pod",
    )
    fake.calls.clear()
    return pod


def test_started_after_the_kubelet_starts_it(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(
        lambda: fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating"),
        lambda: fake.kubelet.start("web", DEBUGGER),
    )
    seen, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    assert seen["metadata"]["resourceVersion"] == fake.pod("web")["metadata"]["resourceVersion"]
    assert messages == [f"container {DEBUGGER}: waiting (ContainerCreating)"]
    # Watched once, from the version of the Pod it was handed: no polling, no re-read.
    assert fake.calls == [("watch", "default", "web", pod["metadata"]["resourceVersion"])]


def test_already_running_needs_no_request(fake: FakeKube, messages: Messages) -> None:
    _with_debugger(fake)
    pod = fake.kubelet.start("web", DEBUGGER)
    fake.calls.clear()
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running" and fake.calls == []


def test_image_pull_error_fails_fast_with_the_kubelets_message(
    fake: FakeKube, messages: Messages
) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.fail_pull("web", DEBUGGER, "nope:1"))
    start = fake.clock.monotonic()
    with pytest.raises(StartFailedError) as info:
        wait_until_started(fake, pod, DEBUGGER, 300, messages)
    assert "cannot start: ErrImagePull: failed to pull and unpack image" in info.value.message
    assert '"docker.io/library/nope:1"' in info.value.message
    assert "stays in the Pod" in (info.value.remedy or "")
    assert fake.clock.monotonic() == start  # no waiting for the timeout


def test_create_container_error_fails_fast(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(
        lambda: fake.kubelet.fail_create("web", DEBUGGER, 'exec: "bash": executable not found')
    )
    with pytest.raises(StartFailedError) as info:
        wait_until_started(fake, pod, DEBUGGER, 300, messages)
    assert 'CreateContainerError: exec: "bash": executable not found' in info.value.message
    assert "--custom" in (info.value.remedy or "")


def test_never_ran_fails_fast(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.terminate("web", DEBUGGER, 128, "StartError", "no such"))
    with pytest.raises(StartFailedError, match="failed to start: StartError: no such"):
        wait_until_started(fake, pod, DEBUGGER, 300, messages)


def test_timeout_without_kubelet_status_blames_the_node(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    start = fake.clock.monotonic()
    with pytest.raises(WaitTimeoutError) as info:
        wait_until_started(fake, pod, DEBUGGER, 30, messages)
    assert info.value.message == (
        f"container {DEBUGGER} in Pod web did not start within 30s "
        "(last state: no status reported by the kubelet yet)"
    )
    remedy = info.value.remedy or ""
    assert "the kubelet on node node-1 has not acted" in remedy
    assert "kubectl get node node-1" in remedy and "ephemeral containers cannot" in remedy
    assert fake.clock.monotonic() >= start + 30


def test_timeout_while_waiting_with_a_reason(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating"))
    with pytest.raises(WaitTimeoutError) as info:
        wait_until_started(fake, pod, DEBUGGER, 30, messages)
    assert "(last state: waiting (ContainerCreating))" in info.value.message
    assert (info.value.remedy or "").startswith("raise --timeout, or look at the Pod's events")


def test_pod_deleted_while_waiting(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.delete_pod("web"))
    with pytest.raises(PodGoneError, match="^Pod web was deleted$"):
        wait_until_started(fake, pod, DEBUGGER, 60, messages)


def test_pod_being_deleted_while_waiting(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.begin_delete("web"))
    with pytest.raises(PodGoneError, match="Pod web is being deleted"):
        wait_until_started(fake, pod, DEBUGGER, 60, messages)


def test_pod_replaced_during_an_expired_watch(fake: FakeKube, messages: Messages) -> None:
    # The watch history is gone (410) and the name now belongs to a new Pod: the re-read
    # shows another uid, which must not pass for the Pod being watched.
    pod = _with_debugger(fake)
    fake.kubelet.replace_pod("web")
    fake.kubelet.start("web", "app")
    fake.compact()
    with pytest.raises(PodGoneError, match="deleted and recreated \\(new uid\\)"):
        wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert fake.methods() == ["watch", "get_pod"]


def test_expired_version_resumes_from_a_fresh_read(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.kubelet.start("web", DEBUGGER)
    fake.compact()
    fake.when_idle(lambda: None)
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    # 410 on the first watch, then a GET; no retry message (an expiry is not an outage).
    assert fake.methods() == ["watch", "get_pod"] and messages == []


def test_expired_version_then_more_events(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating")
    fake.compact()
    fake.when_idle(lambda: fake.kubelet.start("web", DEBUGGER))
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    read_version = fake.calls[3][3]
    # The second watch starts from now (no version): the Pod's own version, which the GET
    # returned, may be as old as the one that just expired. Between two watches the wait
    # asks the Events whether the pull was refused.
    assert fake.methods() == ["watch", "get_pod", "list_events", "watch"]
    assert read_version == ""


def test_dropped_watch_is_resumed_from_the_last_version(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    waiting = fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating")
    fake.fail("watch", DropWatch(after=1))
    fake.when_idle(lambda: fake.kubelet.start("web", DEBUGGER))
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    versions = [call[3] for call in fake.calls if call[0] == "watch"]
    assert versions == [pod["metadata"]["resourceVersion"], waiting["metadata"]["resourceVersion"]]
    assert any("lost the watch on Pod web" in m and "retrying" in m for m in messages)


@pytest.mark.parametrize(
    "fault",
    [Http(503), Http(429), Http(500), Unreachable(), WatchError(500)],
    ids=["503", "429", "500", "unreachable", "error-event"],
)
def test_failing_watch_is_retried(fake: FakeKube, messages: Messages, fault: Any) -> None:
    pod = _with_debugger(fake)
    fake.fail("watch", fault)
    fake.kubelet.start("web", DEBUGGER)
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    assert any("lost the watch on Pod web" in m for m in messages)
    assert fake.clock.slept and fake.clock.slept[0] == 0.5


def test_forbidden_watch_is_not_retried(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.fail("watch", Http(403, 'pods "web" is forbidden: User "bob" cannot watch resource'))
    with pytest.raises(ForbiddenError):
        wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert fake.methods() == ["watch"]


def test_long_outage_gives_up(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.fail("watch", *[Unreachable() for _ in range(100)])
    start = fake.clock.monotonic()
    with pytest.raises(UnreachableError, match="connection to https://fake-apiserver:6443 refused"):
        wait_until_started(fake, pod, DEBUGGER, 600, messages)
    assert fake.clock.monotonic() - start > WATCH_OUTAGE_SECONDS
    # Backoff doubles up to its cap: 0.5, 1, 2, 4, 4, ...
    assert fake.clock.slept[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]
    # Told on the first failure and every fifth, not on every attempt.
    assert len(messages) < len(fake.clock.slept) / 3


def test_outage_during_the_re_read_after_410(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.kubelet.start("web", DEBUGGER)
    fake.compact()
    fake.fail("get_pod", Http(503))
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    assert fake.methods() == ["watch", "get_pod", "list_events", "watch"]


def test_deleted_during_the_re_read_after_410(fake: FakeKube, messages: Messages) -> None:
    pod = _with_debugger(fake)
    fake.kubelet.delete_pod("web")
    fake.compact()
    with pytest.raises(PodGoneError, match="was deleted"):
        wait_until_started(fake, pod, DEBUGGER, 60, messages)


def test_terminated_with_its_exit_code(fake: FakeKube) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(
        lambda: fake.kubelet.start("web", DEBUGGER),
        lambda: fake.kubelet.terminate("web", DEBUGGER, 3),
    )
    _, progress = wait_until_terminated(fake, pod, DEBUGGER, 60)
    assert (progress.state, progress.exit_code, progress.reason) == ("terminated", 3, "Error")


def test_terminated_wait_returns_the_last_state_on_timeout(fake: FakeKube) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.start("web", DEBUGGER))
    _, progress = wait_until_terminated(fake, pod, DEBUGGER, 20)
    assert progress.state == "running"


def test_a_pod_that_finishes_with_its_container(fake: FakeKube) -> None:
    # Pods made for one command stop with it: with pod_may_finish that is the end, not loss.
    pod = _with_debugger(fake)

    def finish() -> None:
        fake.kubelet.terminate("web", DEBUGGER, 0)
        fake.kubelet.finish_pod("web")

    fake.when_idle(finish)
    _, progress = wait_until_terminated(fake, pod, DEBUGGER, 60, pod_may_finish=True)
    assert (progress.state, progress.exit_code) == ("terminated", 0)


def test_a_pod_that_stops_is_gone_unless_it_may_finish(fake: FakeKube) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(lambda: fake.kubelet.finish_pod("web", "Failed"))
    with pytest.raises(PodGoneError, match="Pod web stopped \\(Failed\\)"):
        wait_until_terminated(fake, pod, DEBUGGER, 60)


def test_done_may_stop_early_and_changes_are_reported_once(fake: FakeKube) -> None:
    pod = _with_debugger(fake)
    fake.when_idle(
        lambda: fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating"),
        lambda: fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating"),
        lambda: fake.kubelet.start("web", DEBUGGER),
    )
    changes: list[str] = []
    _, progress, reached = watch_container(
        fake,
        pod,
        DEBUGGER,
        60,
        lambda p: p.state == "running",
        WatchHooks(on_change=lambda p: changes.append(p.describe())),
    )
    assert reached and progress.state == "running"
    assert changes == ["waiting (ContainerCreating)", "running"]


def test_a_pod_older_than_the_watch_history_is_read_once_not_in_a_loop(
    fake: FakeKube, messages: Messages
) -> None:
    # The Pod's own version is older than the watch history (another Pod changed since):
    # a watch resumed from it would be refused again at once, read after read.
    pod = _with_debugger(fake)
    fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating")
    fake.running_pod("other")
    fake.compact()
    fake.calls.clear()
    fake.when_idle(lambda: None, lambda: fake.kubelet.start("web", DEBUGGER))
    _, progress = wait_until_started(fake, pod, DEBUGGER, 60, messages)
    assert progress.state == "running"
    assert fake.methods().count("get_pod") == 1, fake.methods()


def _refused_pull_event(pod: dict[str, Any]) -> dict[str, Any]:
    image = "127.0.0.1:5444/private/busybox:1"
    return {
        "metadata": {"namespace": "default"},
        "reason": "Failed",
        "message": f'Failed to pull image "{image}": failed to resolve reference "{image}": '
        "pulling from host 127.0.0.1:5444 failed with status code [manifests 1]: 401 Unauthorized",
        "involvedObject": {
            "uid": pod["metadata"]["uid"],
            "fieldPath": f"spec.ephemeralContainers{{{DEBUGGER}}}",
        },
    }


def test_a_refused_pull_ends_the_wait_at_the_kubelets_event(
    fake: FakeKube, messages: Messages
) -> None:
    # The kubelet posts the Event at once but writes ErrImagePull into the status only at its
    # next sync of the Pod: the wait must not sit on the Pod's status until then.
    pod = _with_debugger(fake)
    fake.when_idle(
        lambda: fake.kubelet.waiting("web", DEBUGGER, "ContainerCreating"),
        lambda: fake.core_events.append(_refused_pull_event(pod)),
    )
    start = fake.clock.monotonic()
    with pytest.raises(PullRefusedError, match="401 Unauthorized") as info:
        wait_until_started(fake, pod, DEBUGGER, 600, messages)
    assert info.value.registry == "docker.io"  # the debugger's image, busybox:1
    assert fake.clock.monotonic() - start < 5
    assert "ErrImagePull" not in str(_state(fake))


def test_without_list_events_the_wait_watches_the_pod_alone(
    fake: FakeKube, messages: Messages
) -> None:
    pod = _with_debugger(fake)
    fake.fail("list_events", Http(403))
    with pytest.raises(WaitTimeoutError):
        wait_until_started(fake, pod, DEBUGGER, 5, messages)
    # Asked once, refused, not asked again; the Pod is watched to the end of the wait.
    assert fake.methods().count("list_events") == 1
    assert fake.methods().count("watch") == 5


def _state(fake: FakeKube) -> dict[str, Any]:
    statuses = fake.pod("web")["status"].get("ephemeralContainerStatuses") or []
    return next((s for s in statuses if s["name"] == DEBUGGER), {})
