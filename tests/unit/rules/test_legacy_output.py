from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from conftest import build_pod
from podscope.errors import ValidationError
from podscope.rules.legacy import pod_patch_body, to_legacy_body
from podscope.rules.output import dump_json, dump_yaml, render_table

NEW = {"name": "dbg", "image": "busybox"}


def test_legacy_body_has_existing_plus_new_and_resource_version() -> None:
    pod = build_pod(ephemeral=("old",))
    body = to_legacy_body(pod, [NEW])
    assert body["apiVersion"] == "v1" and body["kind"] == "EphemeralContainers"
    assert body["metadata"] == {"name": "web", "namespace": "default", "resourceVersion": "42"}
    assert [c["name"] for c in body["ephemeralContainers"]] == ["old", "dbg"]


def test_legacy_body_without_existing() -> None:
    body = to_legacy_body(build_pod(), [NEW])
    assert body["ephemeralContainers"] == [NEW]


def test_legacy_body_refuses_duplicate() -> None:
    with pytest.raises(ValidationError, match="Duplicate value"):
        to_legacy_body(build_pod(ephemeral=("dbg",)), [NEW])


def test_legacy_body_is_a_copy() -> None:
    body = to_legacy_body(build_pod(), [NEW])
    body["ephemeralContainers"][0]["image"] = "changed"
    assert NEW["image"] == "busybox"


def test_patch_body() -> None:
    assert pod_patch_body([NEW]) == {"spec": {"ephemeralContainers": [NEW]}}


def test_table_alignment() -> None:
    text = render_table(["NAME", "IMAGE"], [["dbg", "busybox"], ["debugger-abcde", "alpine"]])
    assert text == ("NAME             IMAGE\ndbg              busybox\ndebugger-abcde   alpine\n")


def test_table_escapes_control_characters_and_pads_short_rows() -> None:
    text = render_table(["A", "B"], [["x\ny"], ["\x1b[31mred", None]])
    assert text.count("\n") == 3
    assert "\x1b" not in text


def test_dumps_round_trip() -> None:
    data = {"b": [1, {"c": None}], "a": "é"}
    assert json.loads(dump_json(data)) == data
    assert YAML(typ="safe", pure=True).load(dump_yaml(data)) == data
    assert dump_yaml(data).startswith("b:")  # the API's key order is kept


def test_legacy_body_refuses_a_security_context_the_old_api_forbids() -> None:
    with_context = {**NEW, "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}
    with pytest.raises(ValidationError) as caught:
        to_legacy_body(build_pod(), [with_context])
    assert "does not accept in ephemeral containers" in caught.value.message
    assert caught.value.field is not None and caught.value.field.endswith(".securityContext")
    assert caught.value.remedy is not None and "--profile legacy" in caught.value.remedy
    # An empty one is what "baseline" leaves: nothing is set, nothing refused.
    assert to_legacy_body(build_pod(), [{**NEW, "securityContext": {}}])["ephemeralContainers"]
    # The 1.22+ patch keeps it: that API takes it.
    assert pod_patch_body([with_context])["spec"]["ephemeralContainers"][0]["securityContext"]
