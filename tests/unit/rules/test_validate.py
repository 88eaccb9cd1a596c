from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import build_pod
from podscope.errors import PodscopeError, PodStateError, ValidationError
from podscope.rules._fields import EPHEMERAL_FIELDS
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.profiles import apply_ephemeral_profile
from podscope.rules.validate import (
    check_pod_can_debug,
    find_problem,
    validate_ephemeral_container,
)

PodFactory = Callable[..., dict[str, Any]]
F = "spec.ephemeralContainers[0]"


def good() -> dict[str, Any]:
    return {"name": "dbg", "image": "busybox", "terminationMessagePolicy": "File"}


def error_for(container: dict[str, Any], pod: dict[str, Any] | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_ephemeral_container(container, pod or build_pod(volumes=("data",)), F)
    assert "\n" not in info.value.message
    assert info.value.message.startswith(info.value.field or "")
    return info.value


def with_(**fields: Any) -> dict[str, Any]:
    return {**good(), **fields}


def test_good_container_passes() -> None:
    validate_ephemeral_container(good(), build_pod(), F)


def test_seed_container_passes() -> None:
    seed = {
        "command": ["sh"],
        "image": "busybox",
        "imagePullPolicy": "IfNotPresent",
        "name": "debugger",
        "stdin": True,
        "tty": True,
        "terminationMessagePolicy": "File",
    }
    validate_ephemeral_container(seed, build_pod(name="nginx", containers=("nginx",)), F)


def test_default_field_path() -> None:
    with pytest.raises(ValidationError) as info:
        validate_ephemeral_container(with_(ports=[{"containerPort": 80}]), build_pod())
    assert info.value.field == "spec.ephemeralContainers[0].ports"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ports", [{"containerPort": 80}]),
        ("livenessProbe", {"exec": {"command": ["true"]}}),
        ("readinessProbe", {"exec": {"command": ["true"]}}),
        ("startupProbe", {"exec": {"command": ["true"]}}),
        ("lifecycle", {}),
        ("resources", {"limits": {"cpu": "1"}}),
        ("resizePolicy", [{"resourceName": "cpu", "restartPolicy": "NotRequired"}]),
        ("restartPolicy", "Always"),
        ("restartPolicyRules", [{"action": "Restart"}]),
    ],
)
def test_forbidden_fields_use_api_wording(field: str, value: Any) -> None:
    err = error_for(with_(**{field: value}))
    assert err.field == f"{F}.{field}"
    assert err.message == f"{F}.{field}: Forbidden: cannot be set for an Ephemeral Container"


@pytest.mark.parametrize("value", [{}, {"limits": {}, "requests": {}}, None])
def test_empty_resources_are_allowed_as_the_server_returns_them(value: Any) -> None:
    validate_ephemeral_container(with_(resources=value), build_pod(), F)


@pytest.mark.parametrize("sub", ["subPath", "subPathExpr"])
def test_subpath_forbidden(sub: str) -> None:
    mounts = [{"name": "data", "mountPath": "/data", sub: "x"}]
    err = error_for(with_(volumeMounts=mounts))
    assert err.message == (
        f"{F}.volumeMounts[0].{sub}: Forbidden: cannot be set for an Ephemeral Container"
    )


def test_volume_mount_must_reference_pod_volume() -> None:
    err = error_for(with_(volumeMounts=[{"name": "nope", "mountPath": "/x"}]))
    assert err.message == f'{F}.volumeMounts[0].name: Not found: "nope"'
    assert err.remedy and "data" in err.remedy


def test_volume_mount_ok() -> None:
    mounts = [{"name": "data", "mountPath": "/data", "readOnly": True}]
    validate_ephemeral_container(with_(volumeMounts=mounts), build_pod(volumes=("data",)), F)


def test_volume_mount_paths_unique_and_required() -> None:
    mounts = [{"name": "data", "mountPath": "/d"}, {"name": "data", "mountPath": "/d"}]
    assert "must be unique" in error_for(with_(volumeMounts=mounts)).message
    assert "Required value" in error_for(with_(volumeMounts=[{"name": "data"}])).message


def test_bidirectional_needs_privileged() -> None:
    mounts = [{"name": "data", "mountPath": "/d", "mountPropagation": "Bidirectional"}]
    assert "privileged" in error_for(with_(volumeMounts=mounts)).message
    privileged = with_(volumeMounts=mounts, securityContext={"privileged": True})
    validate_ephemeral_container(privileged, build_pod(volumes=("data",)), F)


def test_unknown_key_typo() -> None:
    err = error_for(with_(imagePullPolicyy="Always"))
    assert err.field == f"{F}.imagePullPolicyy"
    assert "did you mean 'imagePullPolicy'" in err.message
    assert "valid fields: args, command" in err.message


def test_unknown_odd_key_is_quoted() -> None:
    err = error_for(with_(**{"bad\nkey": 1}))
    assert '["bad\\nkey"]' in err.message


def test_name_required_and_valid() -> None:
    assert error_for({"image": "busybox"}).message == f"{F}.name: Required value"
    err = error_for(with_(name="Bad_Name"))
    assert err.field == f"{F}.name"
    assert "RFC 1123 label" in err.message


@pytest.mark.parametrize("kind", ["containers", "init", "ephemeral"])
def test_name_unique_across_all_containers(kind: str) -> None:
    pod = {
        "containers": build_pod(containers=("app", "taken")),
        "init": build_pod(init=("taken",)),
        "ephemeral": build_pod(ephemeral=("taken",)),
    }[kind]
    err = error_for(with_(name="taken"), pod)
    assert err.message == f'{F}.name: Duplicate value: "taken"'


def test_image_required() -> None:
    assert error_for({"name": "dbg"}).message.startswith(f"{F}.image: Required value")
    assert error_for(with_(image="")).field == f"{F}.image"
    assert "whitespace" in error_for(with_(image="busy box")).message


def test_target_must_be_regular_or_init() -> None:
    pod = build_pod(containers=("app",), init=("setup",), ephemeral=("old",))
    validate_ephemeral_container(with_(targetContainerName="app"), pod, F)
    validate_ephemeral_container(with_(targetContainerName="setup"), pod, F)
    err = error_for(with_(targetContainerName="old"), pod)
    assert err.message == f'{F}.targetContainerName: Not found: "old"'
    assert err.remedy and "ephemeral" in err.remedy
    assert error_for(with_(targetContainerName="x"), pod).field == f"{F}.targetContainerName"


@pytest.mark.parametrize("field", ["stdin", "tty", "stdinOnce"])
@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_booleans(field: str, value: Any) -> None:
    err = error_for(with_(**{field: value}))
    assert err.field == f"{F}.{field}"
    assert "must be true or false" in err.message


def test_pull_policy_enum() -> None:
    err = error_for(with_(imagePullPolicy="Sometimes"))
    assert err.message == (
        f'{F}.imagePullPolicy: Unsupported value: "Sometimes": '
        'supported values: "Always", "IfNotPresent", "Never"'
    )
    for policy in ("Always", "IfNotPresent", "Never", ""):
        validate_ephemeral_container(with_(imagePullPolicy=policy), build_pod(), F)


def test_termination_message_policy_enum() -> None:
    assert "Unsupported value" in error_for(with_(terminationMessagePolicy="Log")).message


def test_command_args_must_be_string_lists() -> None:
    assert error_for(with_(command="sh")).field == f"{F}.command"
    assert error_for(with_(args=["a", 1])).field == f"{F}.args[1]"


def test_env_checks() -> None:
    validate_ephemeral_container(with_(env=[{"name": "my.var", "value": "1"}]), build_pod(), F)
    assert error_for(with_(env=[{"value": "1"}])).field == f"{F}.env[0].name"
    assert error_for(with_(env=[{"name": "A=B"}])).field == f"{F}.env[0].name"
    assert error_for(with_(env="A=1")).field == f"{F}.env"
    both = [{"name": "A", "value": "1", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]
    assert "may not be specified when `value` is not empty" in error_for(with_(env=both)).message


def test_security_context_checks() -> None:
    assert (
        "did you mean 'privileged'"
        in error_for(with_(securityContext={"priviledged": True})).message
    )
    assert (
        error_for(with_(securityContext={"runAsUser": -1})).field
        == f"{F}.securityContext.runAsUser"
    )
    assert (
        error_for(with_(securityContext={"runAsUser": True})).field
        == f"{F}.securityContext.runAsUser"
    )
    assert error_for(with_(securityContext={"capabilities": {"add": "NET_ADMIN"}})).field == (
        f"{F}.securityContext.capabilities.add"
    )
    conflict = {"privileged": True, "allowPrivilegeEscalation": False}
    assert (
        "cannot set `allowPrivilegeEscalation` to false"
        in error_for(with_(securityContext=conflict)).message
    )
    root = {"runAsNonRoot": True, "runAsUser": 0}
    assert "runAsNonRoot" in error_for(with_(securityContext=root)).message
    seccomp = {"seccompProfile": {"type": "Localhost"}}
    assert error_for(with_(securityContext=seccomp)).field == (
        f"{F}.securityContext.seccompProfile.localhostProfile"
    )


def test_not_a_mapping() -> None:
    with pytest.raises(ValidationError, match="must be a mapping"):
        validate_ephemeral_container(cast(Any, ["x"]), build_pod(), F)


def test_find_problem() -> None:
    assert find_problem(good(), build_pod(), F) is None
    problem = find_problem(with_(ports=[1]), build_pod(), F)
    assert problem is not None and problem.field == f"{F}.ports"


# --- check_pod_can_debug ---


def test_running_pod_is_fine() -> None:
    check_pod_can_debug(build_pod())


def test_static_pod() -> None:
    pod = build_pod(annotations={"kubernetes.io/config.mirror": "abc"})
    pod["spec"]["nodeName"] = "n1"
    with pytest.raises(PodStateError, match="is a static Pod"):
        check_pod_can_debug(pod)


@pytest.mark.parametrize("phase", ["Failed", "Succeeded", "Unknown"])
def test_finished_pod_recommends_copy(phase: str) -> None:
    with pytest.raises(PodStateError) as info:
        check_pod_can_debug(build_pod(phase=phase))
    assert phase in info.value.message
    assert info.value.remedy and "podscope debug web --copy-to NEW" in info.value.remedy


def test_pending_pod() -> None:
    with pytest.raises(PodStateError, match="Pending"):
        check_pod_can_debug(build_pod(phase="Pending"))


def test_pod_without_status() -> None:
    with pytest.raises(PodStateError, match="unknown"):
        check_pod_can_debug(build_pod(phase=None))


def test_deleting_pod() -> None:
    pod = build_pod()
    pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    with pytest.raises(PodStateError, match="being deleted"):
        check_pod_can_debug(pod)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)
container_like = st.dictionaries(
    st.sampled_from(sorted(EPHEMERAL_FIELDS)) | st.text(max_size=10), json_values, max_size=8
)


@given(container_like | json_values)
def test_validate_raises_only_validation_errors(container: Any) -> None:
    pod = build_pod(containers=("app",), init=("setup",), ephemeral=("old",), volumes=("data",))
    try:
        validate_ephemeral_container(container, pod, F)
    except ValidationError as exc:
        assert "\n" not in exc.message
        assert exc.field is None or exc.message.startswith(exc.field)
    except PodscopeError as exc:  # pragma: no cover - would be a wrong error class
        pytest.fail(f"unexpected {type(exc).__name__}: {exc}")


@given(json_values)
def test_check_pod_can_debug_never_crashes(pod: Any) -> None:
    try:
        check_pod_can_debug(pod)
    except PodStateError as exc:
        assert "\n" not in exc.message


# --- rules checked at the source (pkg/apis/core/validation, 1.34) and on the 1.34 server ---


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (-1, "must be between 0 and 2147483647, inclusive"),
        (2_147_483_648, "must be between 0 and 2147483647, inclusive"),
        ("1000", "must be an integer, not a string"),
        (True, "must be an integer, not a boolean"),
        (1.5, "must be an integer, not a number"),
    ],
)
def test_run_as_group_is_validated(value: Any, problem: str) -> None:
    error = error_for(with_(securityContext={"runAsGroup": value}))
    assert error.field == f"{F}.securityContext.runAsGroup"
    assert problem in error.message


@pytest.mark.parametrize("gid", [0, 1000, 2_147_483_647])
def test_run_as_group_in_range_passes(gid: int) -> None:
    validate_ephemeral_container(with_(securityContext={"runAsGroup": gid}), build_pod(), F)


def _sys_admin(spelling: str) -> dict[str, Any]:
    return {"capabilities": {"add": [spelling]}}


def test_restricted_profile_adds_no_capability_and_drops_the_ones_it_was_given() -> None:
    given_caps = with_(securityContext={**_sys_admin("SYS_ADMIN"), "privileged": True})
    restricted = apply_ephemeral_profile("restricted", given_caps, build_pod(), None)
    context = restricted["securityContext"]
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    assert "privileged" not in context
    validate_ephemeral_container(restricted, build_pod(), F)


@pytest.mark.parametrize("spelling", ["CAP_SYS_ADMIN", "SYS_ADMIN"])
def test_restricted_profile_refuses_sys_admin_added_by_a_custom_spec(spelling: str) -> None:
    # The API server refuses the literal CAP_SYS_ADMIN with allowPrivilegeEscalation=false (and
    # admits SYS_ADMIN, which the runtime grants all the same): podscope refuses both.
    spec = DebugSpec(
        image="busybox", profile="restricted", custom={"securityContext": _sys_admin(spelling)}
    )
    with pytest.raises(ValidationError) as info:
        build_ephemeral_container(build_pod(), spec)
    assert info.value.field == f"{F}.securityContext"
    assert "`allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN" in (
        info.value.message
    )


def test_sys_admin_without_the_restriction_is_allowed() -> None:
    validate_ephemeral_container(with_(securityContext=_sys_admin("CAP_SYS_ADMIN")), build_pod(), F)


def block_pod() -> dict[str, Any]:
    """A Pod with a PVC volume (block-capable), a generic ephemeral one, and an emptyDir."""
    pod = build_pod(volumes=("scratch",))
    pod["spec"]["volumes"] += [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
    ]
    return pod


def device(name: str = "data", path: str = "/dev/xvda") -> dict[str, str]:
    return {"name": name, "devicePath": path}


@pytest.mark.parametrize("name", ["data", "eph"])
def test_volume_devices_are_allowed_on_a_claim(name: str) -> None:
    # 1.34 allows volumeDevices on an ephemeral container (the 1.34 server answered 200 to a
    # dry-run adding one backed by a PVC); 1.16-1.21 refused the field.
    validate_ephemeral_container(with_(volumeDevices=[device(name)]), block_pod(), F)


@pytest.mark.parametrize(
    ("devices", "mounts", "field", "problem"),
    [
        (
            [device("scratch")],
            None,
            "volumeDevices[0].name",
            "can only use volume source type of PersistentVolumeClaim or Ephemeral",
        ),
        ([device("nope")], None, "volumeDevices[0].name", 'Not found: "nope"'),
        ([{"devicePath": "/dev/x"}], None, "volumeDevices[0].name", "Required value"),
        ([{"name": "data"}], None, "volumeDevices[0].devicePath", "Required value"),
        ([device(), device()], None, "volumeDevices[1].name", "must be unique"),
        (
            [device(), device("eph")],
            None,
            "volumeDevices[1].devicePath",
            "must be unique",
        ),
        ([device(path="/dev/../x")], None, "volumeDevices[0].devicePath", "backsteps"),
        (
            [device(path="/mnt")],
            [{"name": "scratch", "mountPath": "/mnt"}],
            "volumeDevices[0].devicePath",
            "must not already exist as a path in volumeMounts",
        ),
        (
            [{**device(), "readOnly": True}],
            None,
            "volumeDevices[0].readOnly",
            "unknown volumeDevice field",
        ),
    ],
)
def test_volume_devices_follow_the_servers_rules(
    devices: list[dict[str, Any]], mounts: Any, field: str, problem: str
) -> None:
    container = with_(volumeDevices=devices)
    if mounts:
        container["volumeMounts"] = mounts
    error = error_for(container, block_pod())
    assert error.field == f"{F}.{field}"
    assert problem in error.message
