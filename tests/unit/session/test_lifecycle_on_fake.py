"""Whole sessions on the in-memory API server: attaching, and Ctrl-C at each step (the user
must always learn whether something was left in the cluster)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from podscope.errors import PodscopeError
from podscope.rules.requests import DebugRequest, NodeDebugRequest, PodCopyRequest
from podscope.session.ephemeral import DebugResult, run_debug
from podscope.session.node_debug import NodeResult, run_node
from podscope.session.pod_copy import CopyResult, run_copy
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube, Http, Raise
from tests.unit.session.conftest import Messages, request_fields, session_io


def _local() -> LocalIO:
    return LocalIO(stdin=None, stdout=io.BytesIO(), stderr=io.BytesIO())


def _debug(fake: FakeKube, messages: Messages, **options: Any) -> DebugResult:
    """run_debug with the request built in one place (the request types are being reshaped)."""
    request = DebugRequest(pod="web", image="busybox:1", container="dbg", **request_fields(options))
    return run_debug(fake, request, session_io(messages))


def _copy(fake: FakeKube, messages: Messages, **options: Any) -> CopyResult:
    """run_copy with the request built in one place (the request types are being reshaped)."""
    request = PodCopyRequest(
        pod="web", copy_to="web-copy", image="busybox:1", container="dbg", **request_fields(options)
    )
    return run_copy(fake, request, session_io(messages))


def _node(fake: FakeKube, messages: Messages, **options: Any) -> NodeResult:
    """run_node with the request built in one place (the request types are being reshaped)."""
    request = NodeDebugRequest(
        node="node-1", image="busybox:1", container="dbg", **request_fields(options)
    )
    return run_node(fake, request, session_io(messages))


def _exits(fake: FakeKube, pod: str, code: int, output: bytes = b"ok\n") -> None:
    """What runs in container dbg: prints, exits with ``code`` (and the kubelet says so)."""

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate(pod, "dbg", code)
        return output, b"", code

    fake.programs["dbg"] = program
    fake.when_idle(lambda: fake.kubelet.start(pod, "dbg"))


# -- ephemeral debug --------------------------------------------------------------------------


def test_debug_attaches_and_returns_the_exit_code(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    _exits(fake, "web", 3)
    result = _debug(fake, messages)
    assert (result.exit_code, result.state, result.attached) == (3, "terminated", True)


def test_ctrl_c_before_the_create_says_the_pod_is_unchanged(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.fail("get_pod", Raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _debug(fake, messages)
    assert messages == ["interrupted before the debug container was created: the Pod is unchanged"]


def test_ctrl_c_during_the_create_says_one_may_have_been_added(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.fail("patch_ephemeral_containers", Raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _debug(fake, messages)
    assert messages[-1].startswith("interrupted while the create request was in flight")
    assert messages[-1].endswith("check with: podscope ls web -n default")


def test_ctrl_c_while_waiting_says_the_container_stays(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("watch", Raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _debug(fake, messages)
    assert messages[-1].startswith("interrupted: debug container dbg was created and stays")
    assert "re-attach with: podscope attach web -c dbg -n default" in messages[-1]


def test_a_failure_after_the_create_gets_a_remedy_naming_the_container(
    fake: FakeKube, messages: Messages
) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.start("web", "dbg"))
    fake.fail("attach", Http(400, "container dbg is not valid"))
    with pytest.raises(PodscopeError) as info:
        _debug(fake, messages)
    assert info.value.remedy == (
        "container dbg stays in Pod web (ephemeral containers cannot be removed)"
    )


# -- copy mode ----------------------------------------------------------------------------------


def test_copy_attaches_and_says_the_copy_stays(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    _exits(fake, "web-copy", 0)
    result = _copy(fake, messages)
    assert (result.exit_code, result.attached, result.container) == (0, True, "dbg")
    assert messages[-1].startswith("session ended; the copy web-copy stays; remove it with:")


def test_ctrl_c_in_a_copy_session_says_the_copy_stays(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.fail("watch", Raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        _copy(fake, messages)
    assert messages[-1].startswith("the copy web-copy stays; remove it with:")


def test_copy_without_attach_tells_the_state(fake: FakeKube, messages: Messages) -> None:
    fake.running_pod("web")
    fake.when_idle(lambda: fake.kubelet.terminate("web-copy", "dbg", 0))
    result = _copy(fake, messages, attach=False)
    assert result.state == "terminated"
    assert "container dbg is terminated (Completed), exit code 0" in messages


# -- node mode ----------------------------------------------------------------------------------


def _pods_named(fake: FakeKube, prefix: str) -> list[str]:
    return [name for (_, name) in fake._pods if name.startswith(prefix)]


def test_node_session_attaches_and_deletes_its_pod(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}}

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate(_pods_named(fake, "node-debugger")[0], "dbg", 0)
        return b"host\n", b"", 0

    fake.programs["dbg"] = program
    fake.when_idle(lambda: fake.kubelet.start(_pods_named(fake, "node-debugger")[0], "dbg"))
    result = _node(fake, messages)
    assert (result.exit_code, result.attached, result.kept) == (0, True, False)
    assert _pods_named(fake, "node-debugger") == []
    assert messages[-1].startswith("deleted Pod node-debugger")


def test_node_pod_already_gone_counts_as_deleted(fake: FakeKube, messages: Messages) -> None:
    fake.nodes["node-1"] = {"metadata": {"name": "node-1"}}

    def fail_and_vanish() -> None:
        name = _pods_named(fake, "node-debugger")[0]
        fake.kubelet.fail_pull(name, "dbg")

    fake.when_idle(fail_and_vanish)
    fake.fail("delete_pod", Http(404, 'pods "x" not found'))
    with pytest.raises(PodscopeError):
        _node(fake, messages)
    assert not any(m.startswith("could not delete") for m in messages)
