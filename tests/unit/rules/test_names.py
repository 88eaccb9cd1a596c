from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podscope.errors import ConflictError, PodscopeError, ValidationError
from podscope.rules.names import (
    NAME_ALPHABET,
    generate_name,
    is_label,
    is_subdomain,
    suggest,
    validate_container_name,
    validate_namespace_name,
    validate_resource_name,
)

NAME_RE = re.compile(r"debugger-[bcdfghjklmnpqrstvwxz2456789]{5}")


def test_generated_name_has_kubectl_shape() -> None:
    assert NAME_RE.fullmatch(generate_name(set()))


def test_alphabet_is_kubectls() -> None:
    assert NAME_ALPHABET == "bcdfghjklmnpqrstvwxz2456789"


def test_generated_name_regenerates_on_collision() -> None:
    first = generate_name(set(), rng=random.Random(7))
    second = generate_name({first}, rng=random.Random(7))
    assert second != first
    assert NAME_RE.fullmatch(second)


def test_generated_name_is_deterministic_with_seeded_rng() -> None:
    assert generate_name(set(), rng=random.Random(1)) == generate_name(set(), rng=random.Random(1))


def test_custom_prefix() -> None:
    assert generate_name(set(), prefix="probe").startswith("probe-")


def test_invalid_prefix_is_refused() -> None:
    with pytest.raises(ValidationError):
        generate_name(set(), prefix="Bad_Prefix")
    with pytest.raises(ValidationError):
        generate_name(set(), prefix="x" * 60)


class _StuckRandom:
    """Always picks the first letter: every candidate is the same name."""

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[0]


def test_gives_up_instead_of_looping_forever() -> None:
    with pytest.raises(ConflictError):
        generate_name({"debugger-bbbbb"}, rng=cast(random.Random, _StuckRandom()))


@given(st.sets(st.from_regex(NAME_RE, fullmatch=True), max_size=50), st.integers(0, 2**32))
def test_generated_names_always_valid_and_unique(taken: set[str], seed: int) -> None:
    name = generate_name(taken, rng=random.Random(seed))
    assert name not in taken
    assert is_label(name)
    validate_container_name(name, "name")


@pytest.mark.parametrize("name", ["a", "debugger", "a-b", "0abc", "a" * 63, "x1-2-3"])
def test_valid_container_names(name: str) -> None:
    validate_container_name(name, "--container")


@pytest.mark.parametrize(
    "name",
    ["", "A", "a_b", "-a", "a-", "a.b", "a" * 64, "a\n", "a b", "déb", "a;b", "$(id)", "../x"],
)
def test_invalid_container_names(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_container_name(name, "--container")
    assert info.value.message.startswith("--container: ")
    assert info.value.field == "--container"
    assert "\n" not in info.value.message


def test_container_name_message_suggests_a_fix() -> None:
    with pytest.raises(ValidationError) as info:
        validate_container_name("My_Debugger", "spec.ephemeralContainers[0].name")
    assert "RFC 1123 label" in info.value.message
    assert "try 'my-debugger'" in info.value.message


def test_too_long_name_says_the_limit() -> None:
    with pytest.raises(ValidationError) as info:
        validate_container_name("a" * 64, "name")
    assert "no more than 63 characters" in info.value.message


def test_empty_name_is_required() -> None:
    with pytest.raises(ValidationError, match="Required value"):
        validate_container_name("", "name")


def test_non_string_name() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_container_name(cast(Any, 5), "name")


@pytest.mark.parametrize("name", ["web", "web-0", "a.b.c", "a" * 253, "x" * 63 + ".y"])
def test_valid_resource_names(name: str) -> None:
    validate_resource_name(name, "POD")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "web;rm -rf",
        "$(reboot)",
        "../etc",
        "web\n",
        "web\nother",
        "a" * 254,
        "Web",
        "a..b",
        "a/b",
        "%2e%2e",
        ".",
        "..",
        "web ",
        "a_b",
    ],
)
def test_hostile_resource_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_resource_name(name, "POD")
    assert info.value.message.startswith("POD: ")
    assert "\n" not in info.value.message


def test_resource_name_newline_is_escaped_in_message() -> None:
    with pytest.raises(ValidationError) as info:
        validate_resource_name("web\nINJECTED", "POD")
    assert "\\n" in info.value.message


def test_namespace_names_are_labels() -> None:
    validate_namespace_name("kube-system", "--namespace")
    with pytest.raises(ValidationError):
        validate_namespace_name("a.b", "--namespace")


def test_suggest() -> None:
    assert suggest("My Debugger!") == "my-debugger"
    assert suggest("___") is None
    assert suggest("Web.Server", allow_dots=True, max_length=253) == "web.server"


@given(st.text(max_size=300))
def test_validators_raise_only_podscope_errors(text: str) -> None:
    for check in (validate_container_name, validate_resource_name, validate_namespace_name):
        try:
            check(text, "f")
        except PodscopeError as exc:
            assert "\n" not in exc.message
            assert exc.message.startswith("f: ")


@given(st.text(max_size=300))
def test_validators_agree_with_predicates(text: str) -> None:
    try:
        validate_container_name(text, "f")
        assert is_label(text)
    except ValidationError:
        assert not is_label(text)
    try:
        validate_resource_name(text, "f")
        assert is_subdomain(text)
    except ValidationError:
        assert not is_subdomain(text)


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True))
def test_every_label_is_accepted(name: str) -> None:
    validate_container_name(name, "f")
    validate_resource_name(name, "f")
