"""``podscope debug`` target options and ``podscope attach`` on the in-memory API server."""

from __future__ import annotations

import io
from typing import Any

import pytest

from podscope.errors import NotFoundError, UsageError, ValidationError
from podscope.rules.inherit import Inherit
from podscope.rules.requests import AttachRequest, DebugRequest
from podscope.rules.targetfs import TargetRoot
from podscope.session.attach import AttachResult, run_attach
from podscope.session.ephemeral import DebugResult, run_debug
from podscope.session.targetctx import TargetAccess
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube
from tests.unit.session.conftest import Messages, request_fields, session_io


def _local() -> LocalIO:
    return LocalIO(stdin=None, stdout=io.BytesIO(), stderr=io.BytesIO())


def _debug(fake: FakeKube, messages: Messages, **options: Any) -> DebugResult:
    """run_debug with the request built in one place (the request types are being reshaped)."""
    request = DebugRequest(pod="web", image="busybox:1", attach=False, **request_fields(options))
    return run_debug(fake, request, session_io(messages))


def _attach(fake: FakeKube, messages: Messages, container: str, **kw: Any) -> AttachResult:
    """run_attach called in one place (its signature is being reshaped)."""
    local = kw.pop("io", _local())
    request = AttachRequest(
        pod="web",
        container=container,
        namespace="default",
        stdin=kw.pop("stdin", False),
        tty=kw.pop("tty", False),
        timeout=60,
        **kw,
    )
    return run_attach(fake, request, session_io(messages, local))


def _target_pod(fake: FakeKube, security: dict[str, Any] | None = None) -> None:
    app: dict[str, Any] = {
        "name": "app",
        "image": "app:1",
        "env": [{"name": "MODE", "value": "prod"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    if security:
        app["securityContext"] = security
    fake.add_pod(
        {
            "metadata": {"name": "web"},
            "spec": {
                "nodeName": "node-1",
                "containers": [app],
                "volumes": [{"name": "data", "emptyDir": {}}],
            },
        }
    )
    fake.kubelet.start("web", "app")
    fake.when_idle(lambda: fake.kubelet.start("web", _last(fake)["name"]))


def _last(fake: FakeKube) -> dict[str, Any]:
    name = fake.newest_ephemeral("web")
    containers: list[dict[str, Any]] = fake.pod("web")["spec"]["ephemeralContainers"]
    return next(c for c in containers if c["name"] == name)


def test_chroot_picks_the_ptrace_profile_when_none_was_chosen(
    fake: FakeKube, messages: Messages
) -> None:
    _target_pod(fake)
    access = TargetAccess(root=TargetRoot("chroot"), profile_chosen=False)
    result = _debug(fake, messages, target_access=access, command=["ls"])
    made = _last(fake)
    assert result.created and "SYS_PTRACE" in str(made.get("securityContext"))
    assert made["command"][0] == "sh" and "ls" in made["command"]
    assert any(m.startswith("using --profile general") for m in messages)


def test_chroot_with_a_chosen_profile_only_warns(fake: FakeKube, messages: Messages) -> None:
    _target_pod(fake)
    access = TargetAccess(root=TargetRoot("cd", "/etc"), profile_chosen=True)
    _debug(fake, messages, target_access=access)
    assert any(m.startswith("note: with --profile legacy the debugger") for m in messages)


def test_copy_env_and_mounts_from_the_target(fake: FakeKube, messages: Messages) -> None:
    _target_pod(fake)
    _debug(fake, messages, target_access=TargetAccess(inherit=Inherit(env=True, mounts=True)))
    made = _last(fake)
    assert {"name": "MODE", "value": "prod"} in made["env"]
    assert made["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_as_target_user(fake: FakeKube, messages: Messages) -> None:
    _target_pod(fake, {"runAsUser": 1000, "runAsGroup": 2000})
    _debug(fake, messages, target_access=TargetAccess(inherit=Inherit(user=True)))
    assert "running as the target's user: uid 1000, gid 2000" in messages
    assert _last(fake)["securityContext"]["runAsUser"] == 1000


def test_as_target_user_without_a_group(fake: FakeKube, messages: Messages) -> None:
    _target_pod(fake, {"runAsUser": 1000})
    _debug(fake, messages, target_access=TargetAccess(inherit=Inherit(user=True)))
    assert any(m.startswith("running as the target's uid 1000; its group") for m in messages)


def test_as_target_user_unknown_is_refused_before_anything_is_sent(
    fake: FakeKube, messages: Messages
) -> None:
    _target_pod(fake)
    with pytest.raises(ValidationError, match="sets no runAsUser"):
        _debug(fake, messages, target_access=TargetAccess(inherit=Inherit(user=True)))
    assert "patch_ephemeral_containers" not in fake.methods()


@pytest.mark.parametrize(
    ("access", "options", "text"),
    [
        (TargetAccess(user=(1, None), inherit=Inherit(user=True)), {}, "not both"),
        (TargetAccess(root=TargetRoot("chroot")), {"target": ""}, "needs a target container"),
        (
            TargetAccess(root=TargetRoot("chroot")),
            {"arguments_only": True, "command": ["x"]},
            "cannot be combined with --arguments-only",
        ),
    ],
)
def test_target_option_refusals(
    fake: FakeKube, messages: Messages, access: TargetAccess, options: dict[str, Any], text: str
) -> None:
    _target_pod(fake)
    with pytest.raises(UsageError, match=text):
        _debug(fake, messages, target_access=access, **options)
    assert "patch_ephemeral_containers" not in fake.methods()


# -- podscope attach ----------------------------------------------------------------------------


def _with_debugger(fake: FakeKube, **container: Any) -> None:
    fake.running_pod("web")
    fake.patch_ephemeral_containers(
        "default",
        "web",
        {"spec": {"ephemeralContainers": [{"name": "dbg", "image": "busybox:1", **container}]}},
        "pod",
    )


def test_attach_to_an_unknown_container_lists_the_ephemeral_ones(
    fake: FakeKube, messages: Messages
) -> None:
    _with_debugger(fake)
    with pytest.raises(NotFoundError, match=r"\(its ephemeral containers: dbg\)"):
        _attach(fake, messages, "nope")


def test_attach_waits_for_the_start_and_drops_what_the_container_lacks(
    fake: FakeKube, messages: Messages
) -> None:
    _with_debugger(fake)

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate("web", "dbg", 0)
        return b"out\n", b"", 0

    fake.programs["dbg"] = program
    fake.logs[("default", "web", "dbg")] = b"out\n"
    fake.when_idle(lambda: fake.kubelet.start("web", "dbg"))
    result = _attach(fake, messages, "dbg", stdin=True, tty=True)
    assert (result.exit_code, result.state, result.attached) == (0, "terminated", True)
    assert messages[:2] == [
        "container dbg was not created with stdin; attaching read-only",
        "waiting for container dbg to start",
    ]


def test_finished_container_log_split_by_stream(fake: FakeKube, messages: Messages) -> None:
    _with_debugger(fake)
    fake.kubelet.terminate("web", "dbg", 1)
    fake.log_streams[("default", "web", "dbg")] = (b"to stdout\n", b"to stderr\n")
    local = _local()
    result = _attach(fake, messages, "dbg", io=local)
    assert not result.attached and result.exit_code == 1
    assert local.stdout.getvalue() == b"to stdout\n"  # type: ignore[attr-defined]
    assert local.stderr.getvalue() == b"to stderr\n"  # type: ignore[attr-defined]


def test_finished_container_log_where_streams_cannot_be_split(
    fake: FakeKube, messages: Messages
) -> None:
    _with_debugger(fake)
    fake.kubelet.terminate("web", "dbg", 0)
    fake.split_logs = False
    fake.logs[("default", "web", "dbg")] = b"both\n"
    local = _local()
    _attach(fake, messages, "dbg", io=local)
    assert local.stdout.getvalue() == b"both\n"  # type: ignore[attr-defined]
    assert any("cannot split a log by stream" in m for m in messages)


def test_output_missed_before_the_stream_opened_is_pointed_at(
    fake: FakeKube, messages: Messages
) -> None:
    _with_debugger(fake)
    fake.kubelet.start("web", "dbg")

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate("web", "dbg", 0)
        return b"late\n", b"", 0

    fake.programs["dbg"] = program
    fake.logs[("default", "web", "dbg")] = b"early\nlate\n"
    _attach(fake, messages, "dbg")
    assert any(
        m.startswith("6 bytes of output were written before the stream opened") for m in messages
    )


def test_killed_with_its_target_is_explained(fake: FakeKube, messages: Messages) -> None:
    _with_debugger(fake, targetContainerName="app")
    fake.kubelet.start("web", "dbg")

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        fake.kubelet.terminate("web", "dbg", 137)
        return b"x", b"", 137

    fake.programs["dbg"] = program
    fake.when_idle(lambda: fake.kubelet.restart("web", "app", 1))
    result = _attach(fake, messages, "dbg")
    assert result.exit_code == 137
    assert any("was killed with its target: container app stopped" in m for m in messages)
