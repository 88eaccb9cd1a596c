"""Editing KUBELET_EXTRA_ARGS in /etc/sysconfig/kubelet or /etc/default/kubelet."""

from __future__ import annotations

import pytest

from podscope.errors import NodeEditError
from podscope.gate import GateState, edit_env_text
from tests.unit.gate.samples import ENV_SYSCONFIG, ENV_SYSCONFIG_GOLDEN, udiff

ADDED = "--feature-gates=EphemeralContainers=true"


def test_golden_double_quoted_value() -> None:
    edit = edit_env_text(ENV_SYSCONFIG, "/etc/sysconfig/kubelet")
    assert edit.text is not None and edit.before is GateState.ABSENT
    assert udiff(ENV_SYSCONFIG, edit.text) == ENV_SYSCONFIG_GOLDEN


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # unquoted, flag=value
        (
            "KUBELET_EXTRA_ARGS=--node-ip=1.2.3.4 --feature-gates=Fo=true",
            "KUBELET_EXTRA_ARGS=--node-ip=1.2.3.4 --feature-gates=Fo=true,EphemeralContainers=true",
        ),
        # flag and value as two words
        (
            "KUBELET_EXTRA_ARGS=--feature-gates Foo=true --v=2",
            "KUBELET_EXTRA_ARGS=--feature-gates Foo=true,EphemeralContainers=true --v=2",
        ),
        # single-quoted env value
        (
            "KUBELET_EXTRA_ARGS='--feature-gates A=true,B=false'",
            "KUBELET_EXTRA_ARGS='--feature-gates A=true,B=false,EphemeralContainers=true'",
        ),
        # quoted flag value inside an unquoted env value
        (
            'KUBELET_EXTRA_ARGS=--feature-gates="A=true,B=false" --v=2',
            'KUBELET_EXTRA_ARGS=--feature-gates="A=true,B=false,EphemeralContainers=true" --v=2',
        ),
        # single-quoted flag value inside a double-quoted env value, split form
        (
            "KUBELET_EXTRA_ARGS=\"--v=2 --feature-gates 'A=true'\"",
            "KUBELET_EXTRA_ARGS=\"--v=2 --feature-gates 'A=true,EphemeralContainers=true'\"",
        ),
        # no --feature-gates yet: added at the end, inside the quotes
        (
            'KUBELET_EXTRA_ARGS="--node-ip=1.2.3.4"',
            f'KUBELET_EXTRA_ARGS="--node-ip=1.2.3.4 {ADDED}"',
        ),
        ("KUBELET_EXTRA_ARGS=", f"KUBELET_EXTRA_ARGS={ADDED}"),
        ('KUBELET_EXTRA_ARGS=""', f'KUBELET_EXTRA_ARGS="{ADDED}"'),
        ("export KUBELET_EXTRA_ARGS=--v=2", f"export KUBELET_EXTRA_ARGS=--v=2 {ADDED}"),
        # a gate with a similar name is not ours
        (
            "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainersX=true",
            "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainersX=true,EphemeralContainers=true",
        ),
    ],
)
def test_forms(line: str, expected: str) -> None:
    text = f"# kubelet flags\n{line}\nOTHER=1\n"
    edit = edit_env_text(text, "f")
    assert edit.text == f"# kubelet flags\n{expected}\nOTHER=1\n"
    # and the result is stable
    assert edit_env_text(edit.text, "f").text is None


def test_already_on_is_a_no_op() -> None:
    edit = edit_env_text("KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=true\n", "f")
    assert edit.text is None and edit.before is GateState.ON


def test_explicit_false_is_off_and_switched_in_place() -> None:
    text = "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=false,A=true --v=2\n"
    edit = edit_env_text(text, "f")
    assert edit.before is GateState.OFF
    assert edit.text == "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=true,A=true --v=2\n"


def test_only_the_last_assignment_is_edited() -> None:
    text = "KUBELET_EXTRA_ARGS=--v=1\n# override for this host\nKUBELET_EXTRA_ARGS=--v=4\n"
    edit = edit_env_text(text, "f")
    assert edit.text == (
        f"KUBELET_EXTRA_ARGS=--v=1\n# override for this host\nKUBELET_EXTRA_ARGS=--v=4 {ADDED}\n"
    )


def test_missing_assignment_is_appended() -> None:
    expected = f"# nothing yet\nKUBELET_EXTRA_ARGS={ADDED}\n"
    assert edit_env_text("# nothing yet\n", "f").text == expected
    assert edit_env_text("", "f").text == f"KUBELET_EXTRA_ARGS={ADDED}\n"
    assert edit_env_text("A=1", "f").text == f"A=1\nKUBELET_EXTRA_ARGS={ADDED}\n"


def test_commented_out_assignment_is_not_edited() -> None:
    text = "#KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=false\n"
    assert edit_env_text(text, "f").text == text + f"KUBELET_EXTRA_ARGS={ADDED}\n"


def test_crlf_is_kept_on_the_edited_line() -> None:
    text = "A=1\r\nKUBELET_EXTRA_ARGS=--v=2\r\n"
    assert edit_env_text(text, "f").text == f"A=1\r\nKUBELET_EXTRA_ARGS=--v=2 {ADDED}\r\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("KUBELET_EXTRA_ARGS=--v=2 \\\n  --node-ip=1.2.3.4\n", "trailing backslash"),
        ('KUBELET_EXTRA_ARGS="--v=2\n', "quoting"),
        ('KUBELET_EXTRA_ARGS="--v=2" "--x"\n', "quoting"),
        ("KUBELET_EXTRA_ARGS=--feature-gates='A=true\n", "unterminated"),
        ("KUBELET_EXTRA_ARGS=--v=2 --feature-gates\n", "without a value"),
        ("KUBELET_EXTRA_ARGS=--feature-gates=A\n", "no '=<bool>'"),
        ("KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=on\n", "not a boolean"),
    ],
)
def test_refusals(text: str, problem: str) -> None:
    with pytest.raises(NodeEditError) as info:
        edit_env_text(text, "/etc/default/kubelet")
    assert info.value.message.startswith("/etc/default/kubelet: ")
    assert problem in info.value.message
    assert info.value.remedy
