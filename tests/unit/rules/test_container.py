from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import build_pod
from podscope.errors import PodscopeError, UsageError, ValidationError
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.profiles import PROFILES
from podscope.rules.validate import validate_ephemeral_container


def build(pod: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return build_ephemeral_container(
        pod or build_pod(), DebugSpec(**{"image": "busybox", **kwargs})
    )


def test_minimal() -> None:
    container = build(name="dbg")
    assert container == {"name": "dbg", "image": "busybox", "terminationMessagePolicy": "File"}


def test_generated_name_is_unique_against_every_container() -> None:
    pod = build_pod(containers=("app",), init=("setup",), ephemeral=("debugger-bbbbb",))
    container = build(pod)
    assert re.fullmatch(r"debugger-[bcdfghjklmnpqrstvwxz2456789]{5}", container["name"])
    assert container["name"] not in {"app", "setup", "debugger-bbbbb"}


def test_interactive_seed_equivalent() -> None:
    container = build(
        build_pod(name="nginx", containers=("nginx",)),
        name="debugger",
        command=["sh"],
        stdin=True,
        tty=True,
        image_pull_policy="IfNotPresent",
    )
    assert container == {
        "command": ["sh"],
        "image": "busybox",
        "imagePullPolicy": "IfNotPresent",
        "name": "debugger",
        "stdin": True,
        "tty": True,
        "terminationMessagePolicy": "File",
    }


def test_command_and_args_become_command_like_kubectl() -> None:
    container = build(name="d", command=["sh"], args=["-c", "echo hi"])
    assert container["command"] == ["sh", "-c", "echo hi"]
    assert "args" not in container


def test_arguments_only() -> None:
    container = build(name="d", command=["--verbose"], args=["x"], arguments_only=True)
    assert container["args"] == ["--verbose", "x"]
    assert "command" not in container


def test_env_and_target() -> None:
    container = build(build_pod(containers=("app", "side")), name="d", env=["A=1"], target="side")
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["targetContainerName"] == "side"


def test_profile_then_user_then_custom() -> None:
    container = build(
        name="d",
        profile="restricted",
        user=(1000, 2000),
        custom={"securityContext": {"readOnlyRootFilesystem": True}, "workingDir": "/tmp"},
    )
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsUser"] == 1000 and sc["runAsGroup"] == 2000
    assert sc["readOnlyRootFilesystem"] is True
    assert container["workingDir"] == "/tmp"


def test_restricted_as_root_is_refused() -> None:
    with pytest.raises(ValidationError, match="runAsNonRoot"):
        build(name="d", profile="restricted", user=(0, None))


def test_custom_cannot_change_image() -> None:
    with pytest.raises(ValidationError, match="not modifiable"):
        build(name="d", custom={"image": "alpine"})


def test_custom_forbidden_ephemeral_field_is_caught_by_validation() -> None:
    with pytest.raises(ValidationError) as info:
        build(name="d", custom={"ports": [{"containerPort": 80}]})
    assert info.value.field == "spec.ephemeralContainers[0].ports"


def test_error_index_is_the_position_the_container_will_get() -> None:
    pod = build_pod(ephemeral=("a", "b"))
    with pytest.raises(ValidationError) as info:
        build(pod, name="d", image_pull_policy="Sometimes")
    assert info.value.field == "spec.ephemeralContainers[2].imagePullPolicy"


def test_name_collision_is_refused() -> None:
    with pytest.raises(ValidationError, match="Duplicate value"):
        build(build_pod(containers=("app",)), name="app")


def test_unknown_profile() -> None:
    with pytest.raises(UsageError):
        build(name="d", profile="root")


def test_missing_image() -> None:
    with pytest.raises(ValidationError, match="image: Required value"):
        build(name="d", image="")


def test_string_command_is_refused_not_spread() -> None:
    with pytest.raises(ValidationError, match="command must be a list"):
        build(name="d", command="sh")


def test_pod_not_mutated() -> None:
    pod = build_pod(ephemeral=("old",))
    before = repr(pod)
    build(pod, name="d", profile="sysadmin")
    assert repr(pod) == before


words = st.lists(st.text(max_size=10), max_size=4)
specs = st.builds(
    DebugSpec,
    image=st.sampled_from(["busybox", "alpine:3.20", "ghcr.io/x/y@sha256:" + "a" * 64]),
    name=st.none() | st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    target=st.none() | st.sampled_from(["app", "side"]),
    command=words,
    args=words,
    arguments_only=st.booleans(),
    env=st.lists(st.from_regex(r"[A-Z_]{1,8}=[a-z0-9=]{0,8}", fullmatch=True), max_size=4),
    image_pull_policy=st.none() | st.sampled_from(["Always", "IfNotPresent", "Never"]),
    stdin=st.booleans(),
    tty=st.booleans(),
    profile=st.sampled_from(PROFILES),
    custom=st.none()
    | st.sampled_from([{"workingDir": "/"}, {"securityContext": {"runAsUser": 7}}]),
    user=st.none() | st.tuples(st.integers(1, 65535), st.none() | st.integers(0, 65535)),
)


@given(specs)
def test_build_then_validate_round_trip(spec: DebugSpec) -> None:
    pod = build_pod(containers=("app", "side"), ephemeral=("old",))
    try:
        container = build_ephemeral_container(pod, spec)
    except PodscopeError as exc:
        # The only way these specs can fail: a chosen name that collides.
        assert spec.name in {"app", "side", "old"}, exc
        return
    validate_ephemeral_container(container, pod, "spec.ephemeralContainers[1]")
    assert container["image"] == spec.image
    assert container["terminationMessagePolicy"] == "File"
    if spec.name:
        assert container["name"] == spec.name
    words_ = spec.command + spec.args
    key = "args" if spec.arguments_only else "command"
    assert container.get(key, []) == words_
