"""Copy mode and node mode on the in-memory API server: order of requests, what is left behind."""

from __future__ import annotations

import io
from typing import Any

import pytest

from podscope.errors import (
    ConflictError,
    NotFoundError,
    PodscopeError,
    PolicyError,
    StartFailedError,
    UnreachableError,
    WaitTimeoutError,
)
from podscope.rules.requests import NodeDebugRequest, PodCopyRequest
from podscope.session.node_debug import NodeResult, run_node
from podscope.session.pod_copy import CopyResult, run_copy, wait_for_container
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube, Http, LostAnswer, Unreachable
from tests.unit.session.conftest import Messages, request_fields, session_io


def _local() -> LocalIO:
    return LocalIO(stdin=None, stdout=io.BytesIO(), stderr=io.BytesIO())


def _copy(fake: FakeKube, messages: Messages, **options: Any) -> CopyResult:
    """run_copy with the request built in one place (the request types are being reshaped)."""
    request = PodCopyRequest(
        pod=options.pop("pod", "web"),
        copy_to=options.pop("copy_to", "web-copy"),
        image=options.pop("image", "busybox:1"),
        attach=False,
        **request_fields(options),
    )
    return run_copy(fake, request, session_io(messages))


def _start_copy_when_idle(fake: FakeKube, *containers: str) -> None:
    def start() -> None:
        for name in containers or [c["name"] for c in fake.pod("web-copy")["spec"]["containers"]]:
            fake.kubelet.start("web-copy", name)

    fake.when_idle(start)


# -- copy mode ------------------------------------------------------------------------------------


def test_copy_is_dry_run_by_the_server_before_it_is_created(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.calls.clear()
    _start_copy_when_idle(fake)
    result = _copy(fake, messages)
    creates = [(c[0], c[3]) for c in fake.calls if c[0] == "create_pod"]
    assert creates == [("create_pod", "dry-run"), ("create_pod", "")]
    assert fake.methods()[:4] == ["get_pod", "get_pod", "create_pod", "create_pod"]
    assert result.pod == "web-copy" and result.state == "running" and fake.has_pod("web-copy")
    assert result.removal == "podscope cleanup web-copy -n default --yes"
    assert messages[-1] == f"the copy web-copy stays; remove it with: {result.removal}"


def test_copy_refused_by_admission_creates_nothing(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.admission = lambda pod: (
        (
            403,
            'pods "web-copy" is forbidden: violates PodSecurity "restricted:latest": '
            'runAsNonRoot != true (container "debugger" must set runAsNonRoot=true)',
        )
        if pod["metadata"]["name"] == "web-copy"
        else None
    )
    fake.calls.clear()
    with pytest.raises(PolicyError):
        _copy(fake, messages)
    assert not fake.has_pod("web-copy")
    assert [c[3] for c in fake.calls if c[0] == "create_pod"] == ["dry-run"]


def test_copy_name_taken_creates_nothing(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.running_pod("web-copy", labels={"app.kubernetes.io/managed-by": "podscope"})
    with pytest.raises(ConflictError) as info:
        _copy(fake, messages)
    assert "Pod web-copy already exists in namespace default" in info.value.message
    assert "create_pod" not in fake.methods()


def test_copy_name_taken_between_check_and_create(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("create_pod", Http(409, 'pods "web-copy" already exists', "AlreadyExists"))
    with pytest.raises(ConflictError, match="--copy-to needs a new name"):
        _copy(fake, messages)
    assert not fake.has_pod("web-copy")


def test_copy_race_on_the_real_create(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    # The dry run passes, then someone takes the name before the real create.
    fake.when_idle()
    original_create = fake.create_pod

    def create(namespace: str, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        if not dry_run and not fake.has_pod("web-copy"):
            fake.add_pod({"metadata": {"name": "web-copy"}})
        return original_create(namespace, body, dry_run=dry_run)

    fake.create_pod = create  # type: ignore[method-assign]
    with pytest.raises(ConflictError, match="(nothing was created)"):
        _copy(fake, messages)


def test_copy_lost_answer_finds_the_copy_it_made(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("create_pod[]", LostAnswer())
    _start_copy_when_idle(fake)
    result = _copy(fake, messages)
    assert result.pod == "web-copy" and fake.has_pod("web-copy")
    assert any("no answer to the create request" in m for m in messages)
    assert fake.methods().count("create_pod") == 2  # dry run + one create: no second create


def test_copy_lost_answer_and_no_copy_raises(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("create_pod[]", Unreachable("Read timed out", maybe_sent=True))
    with pytest.raises(UnreachableError):
        _copy(fake, messages)
    assert not fake.has_pod("web-copy")


def test_copy_lost_answer_and_a_stranger_holds_the_name(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("create_pod[]", Unreachable("Read timed out", maybe_sent=True))
    original_create = fake.create_pod

    def create(namespace: str, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        if not dry_run:
            # While our request is lost, someone else creates a Pod of that name.
            fake.add_pod({"metadata": {"name": "web-copy"}})
        return original_create(namespace, body, dry_run=dry_run)

    fake.create_pod = create  # type: ignore[method-assign]
    with pytest.raises(ConflictError, match="already exists"):
        _copy(fake, messages)
    assert "podscope.dev/copy-of" not in (fake.pod("web-copy")["metadata"].get("labels") or {})


def test_copy_crash_loop_fails_fast_and_says_the_copy_stays(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.waiting("web-copy", "debugger", "CrashLoopBackOff"))
    with pytest.raises(StartFailedError) as info:
        _copy(fake, messages, container="debugger")
    assert "keeps exiting (CrashLoopBackOff" in info.value.message
    assert "the copy web-copy stays; remove it with: podscope cleanup web-copy" in (
        info.value.remedy or ""
    )
    assert "ephemeral containers cannot be removed" not in (info.value.remedy or "")


def test_copy_replace_deletes_the_original_by_uid(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    _start_copy_when_idle(fake)
    result = _copy(fake, messages, replace=True)
    assert result.replaced and not fake.has_pod("web")
    deletes = [c for c in fake.calls if c[0] == "delete_pod"]
    assert deletes == [("delete_pod", "default", "web", "uid-1")]


def test_copy_with_images_only_waits_for_every_container(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web", containers=("app", "sidecar"))
    _start_copy_when_idle(fake, "app", "sidecar")
    result = _copy(fake, messages, image=None, set_images={"app": "app:2"})
    assert result.container is None and result.state == "running"
    assert fake.pod("web-copy")["spec"]["containers"][0]["image"] == "app:2"
    assert "the copy web-copy is running" in messages


def test_wait_for_container_running_only_rules(fake: FakeKube, messages: Messages) -> None:
    pod = fake.add_pod(
        {
            "metadata": {"name": "job"},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "app", "image": "a"}]},
        }
    )
    fake.when_idle(lambda: fake.kubelet.terminate("job", "app", 2))
    with pytest.raises(StartFailedError, match="exited with code 2 and will not be restarted"):
        wait_for_container(fake, pod, "app", 60, messages, running_only=True)


def test_wait_for_container_times_out(fake: FakeKube, messages: Messages) -> None:
    pod = fake.add_pod({"metadata": {"name": "p"}})
    with pytest.raises(WaitTimeoutError, match="did not start within 30s"):
        wait_for_container(fake, pod, "app", 30, messages)


# -- node mode --------------------------------------------------------------------------------


def _node(fake: FakeKube, messages: Messages, **options: Any) -> NodeResult:
    """run_node with the request built in one place (the request types are being reshaped)."""
    request = NodeDebugRequest(
        node=options.pop("node", "node-1"), image="busybox:1", **request_fields(options)
    )
    return run_node(fake, request, session_io(messages))


def _node_pod(fake: FakeKube) -> str:
    names = [name for (_, name) in fake._pods if name.startswith("node-debugger")]
    return names[-1]


def test_node_pod_without_attach_stays(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}, "spec": {"unschedulable": True}}
    fake.when_idle(lambda: fake.kubelet.start(_node_pod(fake), "debugger"))
    result = _node(fake, messages, attach=False)
    assert result.kept and result.state == "running" and fake.has_pod(result.pod)
    assert fake.pod(result.pod)["spec"]["nodeName"] == "node-1"
    assert any("cordoned" in m for m in messages)
    assert messages[-1].startswith(f"Pod {result.pod} stays (--no-attach)")


def test_node_pod_is_deleted_when_the_session_fails(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {
        "metadata": {"name": "node-1"},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletDown"}]},
    }
    fake.when_idle(lambda: fake.kubelet.fail_pull(_node_pod(fake), "debugger"))
    with pytest.raises(StartFailedError):
        _node(fake, messages)
    assert not [n for (_, n) in fake._pods if n.startswith("node-debugger")]
    assert any("not Ready (KubeletDown)" in m for m in messages)
    assert messages[-1].startswith("deleted Pod node-debugger")


def test_node_pod_kept_on_failure_says_so(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}}
    fake.when_idle(lambda: fake.kubelet.fail_pull(_node_pod(fake), "debugger"))
    with pytest.raises(StartFailedError) as info:
        _node(fake, messages, keep=True)
    assert "stays (--keep); remove it with: podscope cleanup" in (info.value.remedy or "")
    assert [n for (_, n) in fake._pods if n.startswith("node-debugger")]


def test_node_delete_failure_tells_how_to_remove(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}}
    fake.when_idle(lambda: fake.kubelet.fail_pull(_node_pod(fake), "debugger"))
    fake.fail("delete_pod", Http(503))
    with pytest.raises(StartFailedError):
        _node(fake, messages)
    assert "could not delete Pod node-debugger" in messages[-1]
    assert "remove it with: podscope cleanup" in messages[-1]


def test_unknown_node_lists_the_known_ones(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}}
    with pytest.raises(NotFoundError) as info:
        _node(fake, messages, node="nod-1")
    assert info.value.message == "node nod-1 not found (nodes: node-1)"
    assert "create_pod" not in fake.methods()


def test_unknown_node_when_nodes_cannot_be_listed(fake: FakeKube, messages: Messages) -> None:
    fake.fail("list_nodes", Http(403, 'nodes is forbidden: User "bob" cannot list resource'))
    with pytest.raises(NotFoundError) as info:
        _node(fake, messages, node="nod-1")
    assert info.value.message == "node nod-1 not found"
    assert isinstance(info.value, PodscopeError)
