"""The exit codes as documented (README's "Exit codes" table, the tree in podscope.errors) and
as coded (``ExitCode``, each exception's ``exit_code``) agree, both ways."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import podscope.errors as errors_module
from podscope.errors import ExitCode, PodscopeError

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_exit_codes() -> dict[int, str]:
    """``{code: meaning}`` from the table under the README's ``## Exit codes`` heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[int, str] = {}
    for line in section.splitlines():
        match = re.fullmatch(r"\|\s*(\d+)\s*\|\s*(.+?)\s*\|", line.strip())
        if match:
            code = int(match.group(1))
            assert code not in rows, f"exit code {code} is listed twice in the README"
            rows[code] = match.group(2)
    assert rows, "no exit-code table found under '## Exit codes' in README.md"
    return rows


def test_every_exit_code_is_in_the_readme_and_every_readme_code_exists() -> None:
    documented = set(readme_exit_codes())
    coded = {int(code) for code in ExitCode}
    assert coded - documented == set(), "in ExitCode but not in the README's table"
    assert documented - coded == set(), "in the README's table but not in ExitCode"


def _error_classes() -> list[type[PodscopeError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(cls, PodscopeError)
    ]


def test_every_error_exits_with_a_documented_code() -> None:
    documented = set(readme_exit_codes())
    for cls in _error_classes():
        assert int(cls.exit_code) in documented, cls.__name__


def test_the_tree_in_the_docstring_lists_every_error_with_its_code() -> None:
    doc = errors_module.__doc__ or ""
    drawn = {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^[\s│├└─]*([A-Z]\w+)\s+(\d+)\b", doc, re.MULTILINE)
    }
    classes = {cls.__name__: int(cls.exit_code) for cls in _error_classes()}
    assert drawn == classes


def test_the_tree_draws_each_class_under_its_base() -> None:
    doc = errors_module.__doc__ or ""
    parents: dict[str, str] = {}
    stack: list[str] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*[│├└─\s]*?)([A-Z]\w+)\s+\d+\b", line)
        if not match:
            continue
        # Each level of the drawing is indented by four more characters.
        level = len(match.group(1)) // 4
        del stack[max(level - 1, 0) :]
        if stack:
            parents[match.group(2)] = stack[-1]
        stack.append(match.group(2))
    for cls in _error_classes():
        if cls is PodscopeError:
            continue
        assert parents.get(cls.__name__) == cls.__mro__[1].__name__, cls.__name__


def test_18_is_the_several_pods_outcome_and_is_documented_as_such() -> None:
    assert int(ExitCode.SOME_FAILED) == 18
    assert "several Pods" in readme_exit_codes()[18]
    # An outcome, like 17: no exception may claim it.
    assert all(int(cls.exit_code) != 18 for cls in _error_classes())
