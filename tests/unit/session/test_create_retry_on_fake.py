"""Adding an ephemeral container on the in-memory API server: conflicts, name clashes, lost
answers, both subresource shapes, and the debug lifecycle up to a running container."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import (
    ConflictError,
    PodStateError,
    PolicyError,
    UnreachableError,
    UnsupportedError,
    ValidationError,
)
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.requests import DebugRequest
from podscope.session.ephemeral import (
    MAX_CREATE_ATTEMPTS,
    DebugResult,
    create_container,
    run_debug,
)
from tests.unit.fakekube import FakeKube, Http, LostAnswer, Unreachable
from tests.unit.session.conftest import Messages, request_fields, session_io


def _ephemeral_names(fake: FakeKube, pod: str = "web") -> list[str]:
    return [c["name"] for c in fake.pod(pod)["spec"].get("ephemeralContainers") or []]


def _create(
    fake: FakeKube, messages: Messages, name: str | None = None, image: str = "busybox:1"
) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = fake.get_pod("default", "web")
    spec = DebugSpec(image=image, name=name)
    container = build_ephemeral_container(pod, spec)
    fake.calls.clear()
    return create_container(fake, pod, spec, container, fake.shape, messages)


@pytest.mark.parametrize("shape", ["pod", "legacy"])
def test_one_request_adds_the_container(shape: str, messages: Messages) -> None:
    fake = FakeKube(shape=shape)  # type: ignore[arg-type]
    fake.running_pod("web")
    pod, container = _create(fake, messages, name="dbg")
    assert _ephemeral_names(fake) == ["dbg"]
    assert container["name"] == "dbg" and pod["metadata"]["name"] == "web"
    assert pod["spec"]["ephemeralContainers"][0]["image"] == "busybox:1"
    # 1.22+ answers with the Pod; 1.16-1.21 with an EphemeralContainers object, so re-read.
    expected = ["patch_ephemeral_containers"] + (["get_pod"] if shape == "legacy" else [])
    assert fake.methods() == expected


def test_stale_legacy_put_is_retried_on_the_fresh_pod(legacy: FakeKube, messages: Messages) -> None:
    legacy.running_pod("web")
    pod = legacy.get_pod("default", "web")
    spec = DebugSpec(image="busybox:1", name="dbg")
    container = build_ephemeral_container(pod, spec)
    # Someone else adds a container after podscope read the Pod: the PUT is stale (409).
    legacy.patch_ephemeral_containers(
        "default",
        "web",
        {
            "kind": "EphemeralContainers",
            "metadata": {"name": "web"},
            "ephemeralContainers": [{"name": "other", "image": "x:1"}],
        },
        "legacy",
    )
    legacy.calls.clear()
    create_container(legacy, pod, spec, container, "legacy", messages)
    assert _ephemeral_names(legacy) == ["other", "dbg"]  # theirs kept, ours added once
    assert legacy.methods() == [
        "patch_ephemeral_containers",
        "get_pod",
        "patch_ephemeral_containers",
        "get_pod",
    ]


def test_generated_name_taken_meanwhile_gets_a_new_name(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    pod = fake.get_pod("default", "web")
    spec = DebugSpec(image="busybox:1")
    container = build_ephemeral_container(pod, spec)
    # Another session got the same generated name in first, with another image.
    fake.patch_ephemeral_containers(
        "default",
        "web",
        {"spec": {"ephemeralContainers": [{"name": container["name"], "image": "other:1"}]}},
        "pod",
    )
    fake.calls.clear()
    _, made = create_container(fake, pod, spec, container, "pod", messages)
    assert made["name"] != container["name"] and made["name"].startswith("debugger-")
    # Newest first: a strategic-merge PATCH puts the containers it adds at the front.
    assert _ephemeral_names(fake) == [made["name"], container["name"]]
    assert fake.methods() == [
        "patch_ephemeral_containers",
        "get_pod",
        "patch_ephemeral_containers",
    ]


def test_chosen_name_taken_is_refused(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    pod = fake.get_pod("default", "web")
    spec = DebugSpec(image="busybox:1", name="dbg")
    container = build_ephemeral_container(pod, spec)
    fake.patch_ephemeral_containers(
        "default",
        "web",
        {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "other:1"}]}},
        "pod",
    )
    with pytest.raises(ValidationError) as info:
        create_container(fake, pod, spec, container, "pod", messages)
    assert info.value.message == "Pod web already has a container named dbg"
    assert "podscope attach web -c dbg -n default" in (info.value.remedy or "")
    assert _ephemeral_names(fake) == ["dbg"]


def test_lost_answer_after_the_write_rereads_and_does_not_add_twice(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", LostAnswer())
    pod, container = _create(fake, messages, name="dbg")
    assert _ephemeral_names(fake) == ["dbg"]
    assert container_in(pod, "dbg")
    assert fake.methods() == ["patch_ephemeral_containers", "get_pod"]
    assert messages[0].startswith("no answer to the create request (")


def test_lost_request_before_the_write_is_sent_again(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", Unreachable("Read timed out", maybe_sent=True))
    _create(fake, messages, name="dbg")
    assert _ephemeral_names(fake) == ["dbg"]
    assert fake.methods() == ["patch_ephemeral_containers", "get_pod", "patch_ephemeral_containers"]


def test_unreachable_before_sending_is_not_retried(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", Unreachable("connection refused"))
    with pytest.raises(UnreachableError):
        _create(fake, messages, name="dbg")
    assert fake.methods() == ["patch_ephemeral_containers"] and _ephemeral_names(fake) == []


def test_conflicts_give_up_after_the_attempts(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", *[Http(409, "the object has been modified")] * 9)
    with pytest.raises(ConflictError) as info:
        _create(fake, messages, name="dbg")
    assert f"after {MAX_CREATE_ATTEMPTS} attempts" in info.value.message
    assert fake.methods().count("patch_ephemeral_containers") == MAX_CREATE_ATTEMPTS
    assert len(fake.clock.slept) == MAX_CREATE_ATTEMPTS  # jittered pauses between attempts


def test_other_validation_errors_are_not_retried(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", Http(422, 'Pod "web" is invalid: spec: Invalid value'))
    with pytest.raises(ValidationError):
        _create(fake, messages, name="dbg")
    assert fake.methods() == ["patch_ephemeral_containers"]


def test_pod_that_stopped_meanwhile_ends_the_retries(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", Http(409, "the object has been modified"))
    fake.kubelet.finish_pod("web")
    with pytest.raises(PodStateError):
        _create(fake, messages, name="dbg")
    assert fake.methods() == ["patch_ephemeral_containers", "get_pod"]


def test_podsecurity_refusal_names_the_new_container(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.admission = lambda pod: (
        403,
        'pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged '
        '(container "dbg" must not set securityContext.privileged=true)',
    )
    with pytest.raises(PolicyError) as info:
        _create(fake, messages, name="dbg")
    assert info.value.remedy == "retry with --profile baseline"
    assert _ephemeral_names(fake) == []


def container_in(pod: dict[str, Any], name: str) -> bool:
    return any(c["name"] == name for c in pod["spec"].get("ephemeralContainers") or [])


# -- the whole ``debug`` lifecycle, without attaching ----------------------------------------


def _debug(fake: FakeKube, messages: Messages, **options: Any) -> DebugResult:
    """run_debug with a request built in one place (the request types are being reshaped)."""
    request = DebugRequest(
        pod=options.pop("pod", "web"), image="busybox:1", attach=False, **request_fields(options)
    )
    return run_debug(fake, request, session_io(messages))


def test_debug_creates_waits_and_reports(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    result = _debug(fake, messages)
    assert result.created and result.state == "running" and result.target == "app"
    assert _ephemeral_names(fake) == [result.container]
    # list_events: the kubelet's Pulled Event, for the image pull time.
    assert fake.methods() == ["get_pod", "patch_ephemeral_containers", "watch", "list_events"]
    assert f"attach with: podscope attach web -c {result.container} -n default" in messages[-1]


def test_debug_refuses_a_server_without_the_subresource(messages: Messages) -> None:
    fake = FakeKube(shape="absent")
    fake.running_pod("web")
    with pytest.raises(UnsupportedError, match="does not serve pods/ephemeralcontainers"):
        _debug(fake, messages)
    assert "patch_ephemeral_containers" not in fake.methods()


def test_debug_reuses_a_running_container(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    first = _debug(fake, messages, target=None)
    again = _debug(fake, messages, reuse=True)
    assert not again.created and again.container == first.container
    assert _ephemeral_names(fake) == [first.container]


def test_debug_reuses_the_most_recently_started_match(fake: FakeKube, messages: Messages) -> None:
    # Two matching debuggers run; --reuse promises the newest. A PATCH puts each new container
    # first in spec.ephemeralContainers, a PUT (1.16-1.21) last: list order cannot tell.
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    _debug(fake, messages, target=None)
    fake.clock.sleep(60)
    fake.when_idle(lambda: fake.kubelet.start("web", fake.newest_ephemeral("web")))
    newer = _debug(fake, messages, target=None)
    again = _debug(fake, messages, target=None, reuse=True)
    assert not again.created and again.container == newer.container


def test_debug_failure_after_create_says_the_container_stays(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.fail_pull("web", fake.newest_ephemeral("web")))
    with pytest.raises(Exception) as info:
        _debug(fake, messages)
    assert "stays in the Pod" in (getattr(info.value, "remedy", "") or "")


def test_debug_of_a_workload_picks_its_running_pod(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web-1", labels={"app": "web"})
    fake.workloads[("default", "deployments", "web")] = {
        "spec": {"selector": {"matchLabels": {"app": "web"}}}
    }
    fake.when_idle(lambda: fake.kubelet.start("web-1", fake.newest_ephemeral("web-1")))
    result = _debug(fake, messages, pod="deploy/web")
    assert result.pod == "web-1"
    assert messages[0].startswith("debugging Pod web-1 (")
