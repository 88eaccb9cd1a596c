"""A ``podscope cp`` destination written with a trailing ``/`` must be a directory (pure)."""

from __future__ import annotations

import pytest

from podscope.errors import ExitCode, UsageError
from podscope.rules.cppath import (
    RemotePath,
    check_directory_destination,
    names_directory,
    parse_operand,
)


def test_a_trailing_slash_is_kept_as_the_directory_mark() -> None:
    assert parse_operand("web:/tmp/nd/") == RemotePath("web", "/tmp/nd", directory=True)
    assert parse_operand("web:/tmp/nd") == RemotePath("web", "/tmp/nd")
    assert str(parse_operand("shop/web:/tmp/nd/")) == "shop/web:/tmp/nd/"
    assert str(parse_operand("web:/")) == "web:/"
    assert names_directory("./newdir/") and not names_directory("./newdir")


@pytest.mark.parametrize(
    ("kind", "source_is_dir"),
    [("dir", True), ("dir", False), ("none", True), ("none", None), ("dir", None)],
)
def test_a_directory_or_a_directory_source_is_accepted(
    kind: str, source_is_dir: bool | None
) -> None:
    check_directory_destination("x/", kind, source_is_dir)


@pytest.mark.parametrize(
    ("kind", "source_is_dir", "why"),
    [
        ("none", False, "nothing there"),
        ("file", False, "a file is there"),
        ("file", True, "a file is there"),
        ("file", None, "a file is there"),
        ("other", True, "that is not one"),
    ],
)
def test_anything_else_is_not_a_directory(kind: str, source_is_dir: bool | None, why: str) -> None:
    with pytest.raises(UsageError, match=f"^web:/tmp/nd/ is not a directory .*{why}") as info:
        check_directory_destination("web:/tmp/nd/", kind, source_is_dir)
    assert info.value.exit_code == ExitCode.USAGE == 2
    assert info.value.remedy and "trailing '/'" in info.value.remedy
