"""The --feature-gates value rules, shared by the env file and the manifests."""

from __future__ import annotations

import pytest

from podscope.errors import ExitCode, NodeEditError
from podscope.gate.gates import GateState, gate_state, merge_gate, merge_into_args, parse_go_bool


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("T", True),
        ("1", True),
        ("False", False),
        ("0", False),
        ("yes", None),
        ("", None),
        ("tRuE", None),
    ],
)
def test_parse_go_bool_matches_strconv(text: str, expected: bool | None) -> None:
    assert parse_go_bool(text) is expected


@pytest.mark.parametrize(
    ("values", "state", "merged"),
    [
        ([], GateState.ABSENT, ["EphemeralContainers=true"]),
        ([""], GateState.ABSENT, ["EphemeralContainers=true"]),
        (["A=true"], GateState.ABSENT, ["A=true,EphemeralContainers=true"]),
        (["A=true,"], GateState.ABSENT, ["A=true,EphemeralContainers=true"]),
        (["A=true, B=false"], GateState.ABSENT, ["A=true, B=false,EphemeralContainers=true"]),
        (["A=1,EphemeralContainers=true"], GateState.ON, None),
        (["EphemeralContainers=T"], GateState.ON, None),
        (
            ["A=true,EphemeralContainers=false,B=true"],
            GateState.OFF,
            ["A=true,EphemeralContainers=true,B=true"],
        ),
        ([" EphemeralContainers = 0 "], GateState.OFF, [" EphemeralContainers = true "]),
        # Two flags: the gate is appended to the last one, which wins.
        (["A=true", "B=true"], GateState.ABSENT, ["A=true", "B=true,EphemeralContainers=true"]),
        # The last mention wins: on overall, nothing to do.
        (["EphemeralContainers=false", "EphemeralContainers=true"], GateState.ON, None),
        # Off overall: every false mention is switched so no contradiction is left.
        (
            ["EphemeralContainers=false", "A=true,EphemeralContainers=false"],
            GateState.OFF,
            ["EphemeralContainers=true", "A=true,EphemeralContainers=true"],
        ),
    ],
)
def test_merge_gate(values: list[str], state: GateState, merged: list[str] | None) -> None:
    assert merge_gate(values, "f") == (state, merged)
    assert gate_state(values, "f") is state


@pytest.mark.parametrize(
    "value", ["A", "A=true,B", "EphemeralContainers=yes", "EphemeralContainers="]
)
def test_malformed_gate_lists_are_refused(value: str) -> None:
    with pytest.raises(NodeEditError) as info:
        merge_gate([value], "somefile")
    assert info.value.exit_code is ExitCode.NODE_EDIT
    assert info.value.message.startswith("somefile: ")
    assert info.value.remedy


def test_other_gates_keep_their_exact_text() -> None:
    _, merged = merge_gate(["Foo=TRUE,  Bar=f"], "f")
    assert merged == ["Foo=TRUE,  Bar=f,EphemeralContainers=true"]


def test_args_equals_form() -> None:
    plan = merge_into_args(["kube-apiserver", "--feature-gates=A=true", "--v=2"], "f")
    assert plan.replace == {1: "--feature-gates=A=true,EphemeralContainers=true"}
    assert plan.add is None and plan.changed and plan.before is GateState.ABSENT


def test_args_split_form_edits_the_value_argument() -> None:
    plan = merge_into_args(["kube-scheduler", "--feature-gates", "A=true", "--v=2"], "f")
    assert plan.replace == {2: "A=true,EphemeralContainers=true"}


def test_args_without_flag_add_one() -> None:
    plan = merge_into_args(["kube-scheduler", "--v=2"], "f")
    assert plan.replace == {}
    assert plan.add == "--feature-gates=EphemeralContainers=true"


def test_args_already_on_is_a_no_op() -> None:
    plan = merge_into_args(["x", "--feature-gates=EphemeralContainers=true"], "f")
    assert not plan.changed
    assert plan.before is GateState.ON


def test_args_off_is_reported_and_switched() -> None:
    plan = merge_into_args(["x", "--feature-gates=EphemeralContainers=false,B=true"], "f")
    assert plan.before is GateState.OFF
    assert plan.replace == {1: "--feature-gates=EphemeralContainers=true,B=true"}


def test_args_dangling_flag_is_refused() -> None:
    with pytest.raises(NodeEditError, match="no value"):
        merge_into_args(["x", "--feature-gates"], "f")
