"""Editing the kube-apiserver / kube-scheduler static Pod manifests."""

from __future__ import annotations

import pytest

from podscope.errors import NodeEditError
from podscope.gate import GateState, edit_manifest_text, manifest_image
from podscope.gate.yamlio import detect_indent
from tests.unit.gate.samples import APISERVER, APISERVER_GOLDEN, SCHEDULER, SCHEDULER_GOLDEN, udiff


def _pod(command: str, image: str = "k8s.gcr.io/kube-apiserver:v1.20.4") -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec:\n  containers:\n"
        f"  - command:\n{command}    image: {image}\n    name: kube-apiserver\n"
    )


def test_golden_indented_lists_flag_added_in_sorted_place() -> None:
    edit = edit_manifest_text(APISERVER, "kube-apiserver.yaml")
    assert edit.text is not None and edit.before is GateState.ABSENT
    assert edit.image == "k8s.gcr.io/kube-apiserver:v1.21.3"
    assert udiff(APISERVER, edit.text) == APISERVER_GOLDEN


def test_golden_split_flag_value_merged_keeping_quotes_and_comment() -> None:
    edit = edit_manifest_text(SCHEDULER, "kube-scheduler.yaml")
    assert edit.text is not None
    assert udiff(SCHEDULER, edit.text) == SCHEDULER_GOLDEN


def test_indent_detection_on_both_styles() -> None:
    assert (detect_indent(APISERVER).mapping, detect_indent(APISERVER).offset) == (2, 2)
    assert (detect_indent(SCHEDULER).mapping, detect_indent(SCHEDULER).offset) == (2, 0)


@pytest.mark.parametrize("text", [APISERVER, SCHEDULER])
def test_second_run_changes_nothing(text: str) -> None:
    once = edit_manifest_text(text, "m").text
    assert once is not None
    again = edit_manifest_text(once, "m")
    assert again.text is None and again.before is GateState.ON


def test_existing_equals_form_is_merged() -> None:
    text = _pod("    - kube-apiserver\n    - --feature-gates=TTLAfterFinished=true\n    - --v=2\n")
    new = edit_manifest_text(text, "m").text
    assert new == text.replace(
        "TTLAfterFinished=true", "TTLAfterFinished=true,EphemeralContainers=true"
    )


def test_double_quoted_item_stays_double_quoted() -> None:
    text = _pod('    - kube-apiserver\n    - "--feature-gates=A=true"\n')
    new = edit_manifest_text(text, "m").text
    assert new is not None
    assert '    - "--feature-gates=A=true,EphemeralContainers=true"\n' in new


def test_new_item_copies_a_uniform_quoting_style() -> None:
    text = _pod("    - 'kube-apiserver'\n    - '--a=1'\n    - '--z=1'\n")
    new = edit_manifest_text(text, "m").text
    assert new is not None
    assert "    - '--a=1'\n    - '--feature-gates=EphemeralContainers=true'\n    - '--z=1'\n" in new


def test_unsorted_flags_get_the_new_one_at_the_end() -> None:
    text = _pod("    - kube-apiserver\n    - --z=1\n    - --a=1\n")
    new = edit_manifest_text(text, "m").text
    assert new == text.replace(
        "    - --a=1\n", "    - --a=1\n    - --feature-gates=EphemeralContainers=true\n"
    )


def test_explicit_false_is_off() -> None:
    text = _pod("    - kube-apiserver\n    - --feature-gates=EphemeralContainers=false\n")
    edit = edit_manifest_text(text, "m")
    assert edit.before is GateState.OFF
    assert edit.text == text.replace("=false", "=true")


def test_manifest_image() -> None:
    assert manifest_image(SCHEDULER, "m") == "registry.k8s.io/kube-scheduler:v1.22.17"
    without = _pod("    - x\n").replace("    image: k8s.gcr.io/kube-apiserver:v1.20.4\n", "")
    assert "image" not in without
    assert manifest_image(without, "m") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: y\n",
            "no spec.containers[0].command",
        ),
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command: []\n",
            "no spec.containers[0].command",
        ),
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    command: kube\n",
            "no spec.containers[0].command",
        ),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n", "no spec.containers list"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "no spec mapping"),
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - just-a-string\n",
            "spec.containers[0] is not a mapping",
        ),
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command: [1, 2]\n",
            "non-string items",
        ),
        ("apiVersion: apps/v1\nkind: Deployment\nspec: {}\n", "kind is 'Deployment'"),
        ("<html>not yaml: [</html>\n", "not valid YAML"),
        ("kube-apiserver --feature-gates=A=true\n", "not a YAML mapping"),
        ("apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n", "found 2"),
    ],
)
def test_refusals(text: str, problem: str) -> None:
    with pytest.raises(NodeEditError) as info:
        edit_manifest_text(text, "/etc/kubernetes/manifests/kube-apiserver.yaml")
    assert info.value.message.startswith("/etc/kubernetes/manifests/kube-apiserver.yaml: ")
    assert problem in info.value.message
    assert info.value.remedy
