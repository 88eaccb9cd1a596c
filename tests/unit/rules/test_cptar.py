"""Which tar entry names and hard link targets a copy out of a Pod accepts (pure)."""

from __future__ import annotations

import pytest

from podscope.errors import ValidationError
from podscope.rules.cptar import hard_link_parts, local_parts, member_parts


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("top", ["top"]),
        ("top/", ["top"]),
        ("./top/a", ["top", "a"]),
        ("top//a/./b", ["top", "a", "b"]),
        ("top/..a/b..", ["top", "..a", "b.."]),  # dots inside a name are just a name
    ],
)
def test_member_parts_normalizes(name: str, parts: list[str]) -> None:
    assert member_parts(name) == parts


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("//etc/passwd", "absolute"),
        ("top/../../evil", "leaves"),
        ("top/../x", "leaves"),
        ("..", "leaves"),
        ("", "leaves"),
        ("./", "leaves"),
    ],
)
def test_member_parts_refuses_escapes(name: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        member_parts(name)


def test_local_parts_keeps_entries_under_the_top_and_renames_it() -> None:
    assert local_parts("top/a/b", "top", None) == ["top", "a", "b"]
    assert local_parts("top/a/b", "top", "copy") == ["copy", "a", "b"]
    assert local_parts("top", "top", "copy") == ["copy"]


@pytest.mark.parametrize("name", ["other/x", "topx/a", "to", "x/top/a"])
def test_local_parts_refuses_other_tops(name: str) -> None:
    with pytest.raises(ValidationError, match="unexpected tar entry"):
        local_parts(name, "top", None)


def test_refusal_messages_are_one_escaped_line() -> None:
    with pytest.raises(ValidationError) as caught:
        local_parts("other/\n\x1b[2Jx", "top", None)
    assert "\n" not in caught.value.message and "\x1b" not in caught.value.message


def test_hard_link_inside_the_copy_is_kept_and_renamed() -> None:
    assert hard_link_parts("top/h", "top/sub/f", "top", None) == ["top", "sub", "f"]
    assert hard_link_parts("top/h", "top/sub/f", "top", "copy") == ["copy", "sub", "f"]


@pytest.mark.parametrize(
    "linkname",
    [
        "/etc/shadow",  # absolute
        "top/../../etc/shadow",  # climbs out
        "top/../other/f",  # climbs into a sibling
        "other/f",  # another top-level name: a file next to the destination
        "..",
        "",
    ],
)
def test_hard_link_out_of_the_copy_is_refused(linkname: str) -> None:
    with pytest.raises(ValidationError, match="refusing hard link .* points outside the copy"):
        hard_link_parts("top/h", linkname, "top", "copy")
