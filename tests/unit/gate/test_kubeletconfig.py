"""Editing a KubeletConfiguration file."""

from __future__ import annotations

import pytest

from podscope.errors import NodeEditError
from podscope.gate import GateState, edit_kubelet_config_text
from podscope.gate.yamlio import parse_plain
from tests.unit.gate.samples import (
    KUBELET_CONFIG,
    KUBELET_CONFIG_GOLDEN,
    KUBELET_CONFIG_WITH_GATES,
    KUBELET_CONFIG_WITH_GATES_GOLDEN,
    udiff,
)

HEAD = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"


def _edit(text: str) -> str:
    edit = edit_kubelet_config_text(text, "config.yaml")
    assert edit.text is not None
    return edit.text


def test_golden_kubeadm_config_gets_sorted_featuregates_block() -> None:
    edit = edit_kubelet_config_text(KUBELET_CONFIG, "config.yaml")
    assert edit.before is GateState.ABSENT
    assert edit.text is not None
    assert udiff(KUBELET_CONFIG, edit.text) == KUBELET_CONFIG_GOLDEN


def test_golden_existing_gates_keep_their_4_space_indent_and_comments() -> None:
    assert udiff(KUBELET_CONFIG_WITH_GATES, _edit(KUBELET_CONFIG_WITH_GATES)) == (
        KUBELET_CONFIG_WITH_GATES_GOLDEN
    )


def test_second_run_changes_nothing() -> None:
    once = _edit(KUBELET_CONFIG)
    again = edit_kubelet_config_text(once, "config.yaml")
    assert again.text is None and again.before is GateState.ON
    assert "already true" in again.description


def test_unsorted_keys_get_the_block_appended() -> None:
    text = "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nport: 10250\n"
    assert _edit(text) == text + "featureGates:\n  EphemeralContainers: true\n"


def test_null_featuregates_becomes_a_mapping() -> None:
    text = HEAD + "featureGates:   # filled in by ansible\nport: 10250\n"
    new = _edit(text)
    assert "  EphemeralContainers: true\n" in new
    assert "# filled in by ansible" in new
    assert parse_plain(new) == parse_plain(
        HEAD + "featureGates:\n  EphemeralContainers: true\nport: 10250\n"
    )


def test_empty_flow_featuregates_becomes_a_block() -> None:
    new = _edit(HEAD + "featureGates: {}\n")
    assert new == HEAD + "featureGates:\n  EphemeralContainers: true\n"


def test_flow_featuregates_stay_flow() -> None:
    new = _edit(HEAD + "featureGates: {CSIMigration: false}\n")
    assert new == HEAD + "featureGates: {CSIMigration: false, EphemeralContainers: true}\n"


def test_explicit_false_is_reported_as_off_and_switched() -> None:
    text = HEAD + "featureGates:\n  EphemeralContainers: false  # broke our CNI, see OPS-99\n"
    edit = edit_kubelet_config_text(text, "config.yaml")
    assert edit.before is GateState.OFF
    assert edit.text == HEAD + (
        "featureGates:\n  EphemeralContainers: true  # broke our CNI, see OPS-99\n"
    )


@pytest.mark.parametrize(("word", "state"), [("yes", GateState.ON), ("Off", GateState.OFF)])
def test_yaml11_booleans_are_read_like_the_kubelet_reads_them(word: str, state: GateState) -> None:
    edit = edit_kubelet_config_text(HEAD + f"featureGates:\n  EphemeralContainers: {word}\n", "c")
    assert edit.before is state


def test_document_marker_and_header_comment_survive() -> None:
    text = "# managed by kubeadm\n---\n" + HEAD + "port: 10250\n...\n"
    new = _edit(text)
    assert new.startswith("# managed by kubeadm\n---\n")
    assert new.endswith("...\n")
    added = [ln for ln in udiff(text, new).splitlines() if ln.startswith(("+", "-"))]
    assert added == [
        "--- a",
        "+++ b",
        "+featureGates:",
        "+  EphemeralContainers: true",
    ]


def test_crlf_line_ends_are_kept() -> None:
    text = (HEAD + "port: 10250\n").replace("\n", "\r\n")
    new = _edit(text)
    expected = (
        "apiVersion: kubelet.config.k8s.io/v1beta1\nfeatureGates:\n  EphemeralContainers: true\n"
        "kind: KubeletConfiguration\nport: 10250\n"
    )
    assert new == expected.replace("\n", "\r\n")


def test_spacing_elsewhere_is_untouched() -> None:
    text = HEAD + "port:     10250   # odd spacing\nreadOnlyPort: 0\n"
    new = _edit(text)
    assert "port:     10250   # odd spacing\n" in new


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just some words\n", "not a YAML mapping"),
        ("- a\n- b\n", "not a YAML mapping"),
        ("apiVersion: v1\nkind: Pod\n", "kind is 'Pod'"),
        ("port: 10250\n", "kind is None"),
        (HEAD + "featureGates:\n- EphemeralContainers\n", "featureGates is a CommentedSeq"),
        (HEAD + "featureGates:\n  EphemeralContainers: 'true'\n", "not a boolean"),
        ('{"kind": "KubeletConfiguration", "port": 1}\n', "JSON/flow style"),
        (HEAD + "port: [10250\n", "not valid YAML"),
        ("\tkind: KubeletConfiguration\n", "not valid YAML"),
        (HEAD + "port: 1\nport: 2\n", "not valid YAML"),
        (HEAD + "---\n" + HEAD, "expected one YAML document, found 2"),
        ("", "expected one YAML document, found 0"),
    ],
)
def test_refusals(text: str, problem: str) -> None:
    with pytest.raises(NodeEditError) as info:
        edit_kubelet_config_text(text, "/var/lib/kubelet/config.yaml")
    assert info.value.message.startswith("/var/lib/kubelet/config.yaml: ")
    assert problem in info.value.message
    assert info.value.remedy
