from __future__ import annotations

import json
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podscope.errors import PodscopeError, ValidationError
from podscope.rules.custom import CUSTOM_FIELDS, load_custom, merge_custom

BASE: dict[str, Any] = {
    "name": "dbg",
    "image": "busybox",
    "command": ["sh"],
    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}, "runAsUser": 0},
}


def test_load_json() -> None:
    assert load_custom('{"workingDir": "/tmp"}', "c.json") == {"workingDir": "/tmp"}


def test_load_yaml() -> None:
    text = "securityContext:\n  runAsUser: 1000\nenv:\n- name: X\n  value: y\n"
    assert load_custom(text, "c.yaml") == {
        "securityContext": {"runAsUser": 1000},
        "env": [{"name": "X", "value": "y"}],
    }


@pytest.mark.parametrize("key", ["name", "image", "command", "lifecycle", "volumeDevices"])
def test_forbidden_keys(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_custom(json.dumps({key: "x"}), "c.json")
    assert info.value.message.startswith("c.json: ")
    assert "not modifiable via a custom profile" in info.value.message


def test_args_are_allowed_like_kubectl() -> None:
    assert load_custom('{"args": ["-c", "true"]}', "c.json") == {"args": ["-c", "true"]}


def test_unknown_key_lists_valid_ones_and_guesses() -> None:
    with pytest.raises(ValidationError) as info:
        load_custom('{"securityContex": {}}', "c.json")
    assert "did you mean 'securityContext'" in info.value.message
    assert "valid fields: args, env" in info.value.message
    assert "image" not in info.value.message.split("valid fields:")[1].split(", ")


def test_target_container_name_points_to_flag() -> None:
    with pytest.raises(ValidationError) as info:
        load_custom('{"targetContainerName": "app"}', "c.json")
    assert info.value.remedy == "use --target"


@pytest.mark.parametrize("text", ["[1, 2]", '"just a string"', "42", "- a\n- b\n"])
def test_must_be_mapping(text: str) -> None:
    with pytest.raises(ValidationError, match="must be a mapping"):
        load_custom(text, "c.json")


def test_yaml_error_names_source_and_line() -> None:
    with pytest.raises(ValidationError) as info:
        load_custom("env:\n  - name: A\n   bad: [\n", "custom.yaml")
    assert info.value.message.startswith("custom.yaml: invalid YAML at line ")


def test_directives_are_refused() -> None:
    with pytest.raises(ValidationError, match="strategic-merge directives"):
        load_custom('{"env": [{"$patch": "delete", "name": "A"}]}', "c.json")


def test_merge_maps_recursively_and_replaces_plain_lists() -> None:
    custom = {"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsUser": 1000}}
    merged = merge_custom(BASE, custom)
    assert merged["securityContext"] == {
        "capabilities": {"add": ["NET_ADMIN"]},
        "runAsUser": 1000,
    }
    assert merged["command"] == ["sh"]


def test_merge_env_by_name() -> None:
    merged = merge_custom(
        BASE, {"env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}
    )
    assert merged["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "20"},
        {"name": "C", "value": "3"},
    ]


def test_merge_volume_mounts_by_mount_path() -> None:
    base = {"volumeMounts": [{"name": "a", "mountPath": "/a"}]}
    merged = merge_custom(base, {"volumeMounts": [{"mountPath": "/a", "readOnly": True}]})
    assert merged["volumeMounts"] == [{"name": "a", "mountPath": "/a", "readOnly": True}]


def test_null_deletes() -> None:
    merged = merge_custom(BASE, {"securityContext": None})
    assert "securityContext" not in merged


def test_merge_does_not_mutate() -> None:
    before = json.dumps(BASE, sort_keys=True)
    custom = {"env": [{"name": "A", "value": "x"}], "securityContext": {"runAsUser": 3}}
    merge_custom(BASE, custom)
    assert json.dumps(BASE, sort_keys=True) == before


def test_merge_refuses_forbidden_keys() -> None:
    with pytest.raises(ValidationError, match="not modifiable"):
        merge_custom(BASE, {"image": "alpine"})
    with pytest.raises(ValidationError):
        merge_custom(BASE, cast(Any, ["not", "a", "mapping"]))


def test_custom_fields_exclude_forbidden() -> None:
    assert {"name", "image", "command", "lifecycle", "volumeDevices"}.isdisjoint(CUSTOM_FIELDS)
    assert {"args", "env", "securityContext", "workingDir"} <= CUSTOM_FIELDS


@given(st.text(max_size=200))
def test_load_custom_raises_only_podscope_errors(text: str) -> None:
    try:
        result = load_custom(text, "fuzz.yaml")
    except PodscopeError as exc:
        assert "\n" not in exc.message
        return
    assert isinstance(result, dict)
    assert set(result) <= CUSTOM_FIELDS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=15,
)


@given(st.dictionaries(st.sampled_from(sorted(CUSTOM_FIELDS)), json_values, max_size=4))
def test_structured_custom_round_trips_through_json_and_merges(custom: dict[str, Any]) -> None:
    try:
        loaded = load_custom(json.dumps(custom), "c.json")
    except PodscopeError:
        return  # e.g. a "$" key deep inside
    assert loaded == custom
    merged = merge_custom(BASE, loaded)
    assert merged["name"] == "dbg" and merged["image"] == "busybox"
