"""rules.output.render_table at a given width: every line fits, nothing is lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podscope.rules.output import render_table, summarize

HEADERS = ["CHECK", "RESULT", "EVIDENCE", "REMEDY"]


def test_long_cells_wrap_inside_their_column() -> None:
    rows = [["rbac", "OK", "e" * 300, "r " * 80], ["pod", "FAIL", "short", "-"]]
    text = render_table(HEADERS, rows, width=100)
    lines = text.splitlines()
    assert all(len(line) <= 100 for line in lines)
    assert lines[0].split() == HEADERS
    assert "".join(line[line.index("e") :].split()[0] for line in lines if "eee" in line) == (
        "e" * 300
    )
    assert any(line.startswith("pod") for line in lines)


def test_no_width_keeps_one_line_per_row() -> None:
    rows = [["rbac", "OK", "e" * 300, "-"]]
    assert len(render_table(HEADERS, rows).splitlines()) == 2


def test_no_headers() -> None:
    assert render_table(["A", "B"], [["1", "2"]], headers_shown=False) == "1   2\n"


@given(
    st.lists(
        st.lists(st.text(alphabet="abc xyz-", max_size=120), min_size=4, max_size=4),
        min_size=1,
        max_size=5,
    ),
    st.integers(min_value=60, max_value=200),
)
def test_every_line_fits_and_words_survive(rows: list[list[str]], width: int) -> None:
    text = render_table(HEADERS, rows, width=width)
    assert all(len(line) <= width for line in text.splitlines())
    for row in rows:
        for cell in row:
            for word in cell.split():
                if len(word) <= 8:
                    assert word in text


def test_summarize() -> None:
    names = [f"debugger-{i}" for i in range(24)]
    assert summarize(names) == "debugger-0, debugger-1, debugger-2 and 21 more"
    assert summarize(["a", "b"]) == "a, b"
