from __future__ import annotations

import pytest

from podscope.errors import ValidationError
from podscope.rules._parse import MAX_DEPTH, load_text


def test_json_first() -> None:
    assert load_text('{"a": [1, 2.5, true, null]}', "x") == {"a": [1, 2.5, True, None]}


def test_yaml_flow_mapping_that_is_not_json() -> None:
    assert load_text("{a: 1}", "x") == {"a": 1}


def test_yaml_timestamps_become_strings() -> None:
    assert load_text("when: 2024-01-02\n", "x") == {"when": "2024-01-02"}


def test_yaml_12_yes_is_a_string() -> None:
    assert load_text("stdin: yes\n", "x") == {"stdin": "yes"}


def test_non_string_keys_are_stringified() -> None:
    assert load_text("1: a\nnull: b\nfalse: c\n", "x") == {"1": "a", "null": "b", "false": "c"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("---\n", "is empty"),
        ('{"a": 1, "a": 2}', 'duplicate key "a"'),
        ("a: 1\na: 2\n", "duplicate key"),
        ("a: 1\n---\nb: 2\n", "contains 2 YAML documents"),
        ('{"a": [1, }', "invalid JSON at line 1"),
        ("a: [\n", "invalid YAML at line"),
        ("&a [*a]", "refers to itself"),
        ("x: !!binary aGVsbG8=", "unsupported YAML value"),
        ("x: !!set {a, b}", "unsupported YAML value"),
        ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "nested"),
        ("[" * 100_000, "nested"),
    ],
)
def test_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_text(text, "doc.yaml")
    assert info.value.message.startswith("doc.yaml: ")
    assert fragment in info.value.message
    assert "\n" not in info.value.message


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(ValidationError, match="too large"):
        load_text("\n".join(lines) + "\n", "bomb.yaml")


def test_source_with_newline_is_escaped() -> None:
    with pytest.raises(ValidationError) as info:
        load_text("", "evil\nname")
    assert "\n" not in info.value.message
