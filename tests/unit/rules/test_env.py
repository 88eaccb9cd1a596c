from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podscope.errors import PodscopeError, UsageError, ValidationError
from podscope.rules.env import env_name_problem, parse_env, validate_env_name


def test_parse_simple() -> None:
    assert parse_env(["A=1", "B=two"]) == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "two"},
    ]


def test_value_may_contain_equals_and_be_empty() -> None:
    assert parse_env(["URL=a=b=c", "EMPTY="]) == [
        {"name": "URL", "value": "a=b=c"},
        {"name": "EMPTY", "value": ""},
    ]


def test_empty_list() -> None:
    assert parse_env([]) == []


def test_duplicates_last_value_wins_first_position_kept() -> None:
    assert parse_env(["A=1", "B=2", "A=3"]) == [
        {"name": "A", "value": "3"},
        {"name": "B", "value": "2"},
    ]


def test_missing_equals() -> None:
    with pytest.raises(UsageError) as info:
        parse_env(["NOVALUE"])
    assert "expected NAME=VALUE" in info.value.message
    assert info.value.remedy and "--env NAME=VALUE" in info.value.remedy


def test_empty_name() -> None:
    with pytest.raises(UsageError, match="name before '=' is empty"):
        parse_env(["=value"])


def test_non_string_item() -> None:
    with pytest.raises(UsageError):
        parse_env(cast(Any, [3]))


@pytest.mark.parametrize(
    "name", ["A", "my.env-name", "MY_ENV.NAME", "1STARTS_WITH_DIGIT", "a b", "x:y"]
)
def test_relaxed_names_are_accepted(name: str) -> None:
    assert parse_env([f"{name}=v"]) == [{"name": name, "value": "v"}]


@pytest.mark.parametrize("name", ["tab\there", "new\nline", "é", "\x7f", "nul\x00"])
def test_relaxed_rule_refuses_non_printable_ascii(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_env([f"{name}=v"])
    assert "printable ASCII characters other than '='" in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize("name", ["1ABC", "a b", ".", "..", "..x", "x:y"])
def test_strict_rule(name: str) -> None:
    with pytest.raises(ValidationError):
        parse_env([f"{name}=v"], relaxed=False)


@pytest.mark.parametrize("name", ["A", "_a", "my.env-name", ".x", "-x"])
def test_strict_rule_accepts(name: str) -> None:
    assert env_name_problem(name, relaxed=False) is None


def test_validate_env_name_messages() -> None:
    with pytest.raises(ValidationError, match=r"^env\[0\]\.name: Required value"):
        validate_env_name("", "env[0].name")
    with pytest.raises(ValidationError, match="must be a string"):
        validate_env_name(None, "env[0].name")


@given(st.lists(st.text(max_size=40), max_size=8))
def test_parse_env_raises_only_podscope_errors(items: list[str]) -> None:
    try:
        result = parse_env(items)
    except PodscopeError as exc:
        assert "\n" not in exc.message
        return
    names = [entry["name"] for entry in result]
    assert len(names) == len(set(names))
    for entry in result:
        assert env_name_problem(entry["name"]) is None


@given(
    st.dictionaries(
        st.text(
            st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="="), min_size=1
        ),
        st.text(max_size=20),
        max_size=6,
    )
)
def test_round_trip(pairs: dict[str, str]) -> None:
    items = [f"{k}={v}" for k, v in pairs.items()]
    assert parse_env(items) == [{"name": k, "value": v} for k, v in pairs.items()]
