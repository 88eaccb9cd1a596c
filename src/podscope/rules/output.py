"""Pure rendering helpers: aligned text tables and JSON/YAML dumps."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML

from podscope.rules._fmt import clean

# Narrowest a shrunk column gets: enough for a name's start or a short word.
MIN_COLUMN = 6
MAX_WORD = 12
GAP = "   "


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    width: int | None = None,
    headers_shown: bool = True,
    keep: Sequence[str] = (),
) -> str:
    """Columns padded to their widest cell, separated by three spaces (kubectl's look).

    With ``width``, a table wider than it shrinks its widest columns (never below
    ``MIN_COLUMN`` or the header) and wraps their cells inside the column, so every line
    fits; the columns named in ``keep`` (names users copy) never shrink. ``width=None`` keeps
    every cell on one line (``-o wide``, or output to a pipe).
    Cells are escaped so a name with a newline or a terminal escape cannot break the table.
    """
    cells = [[clean(str(h), 1000) for h in headers]] if headers_shown else []
    cells += [[clean("" if c is None else str(c), 1000) for c in row] for row in rows]
    if not cells:
        return ""
    count = max(len(r) for r in cells)
    for row in cells:
        row.extend([""] * (count - len(row)))
    sizes = [max(len(row[i]) for row in cells) for i in range(count)]
    return _lines(cells, _shrunk(headers, cells, sizes, width, keep))


def _shrunk(
    headers: Sequence[str],
    cells: list[list[str]],
    sizes: list[int],
    width: int | None,
    keep: Sequence[str],
) -> list[int]:
    if width is None:
        return sizes
    count = len(sizes)
    room = width - len(GAP) * (count - 1)
    titles = [len(headers[i]) if i < len(headers) else 0 for i in range(count)]
    kept = [i < len(headers) and headers[i] in keep for i in range(count)]
    # First a column shrinks only to its longest word (at most MAX_WORD), so words stay
    # whole; when that is not enough, down to MIN_COLUMN or its header.
    words = [
        max((len(w) for row in cells for w in row[i].split()), default=0) for i in range(count)
    ]
    fitted = sizes
    # First keep whole words where they fit; failing that, only the titles.
    for floor_of in (
        [max(MIN_COLUMN, min(words[i], MAX_WORD), titles[i]) for i in range(count)],
        [max(MIN_COLUMN, titles[i]) for i in range(count)],
    ):
        floors = [sizes[i] if kept[i] else min(sizes[i], floor_of[i]) for i in range(count)]
        fitted = _fit(sizes, floors, room)
        if sum(fitted) <= room:
            break
    return fitted


def _lines(cells: list[list[str]], sizes: list[int]) -> str:
    lines: list[str] = []
    for row in cells:
        wrapped = [_wrap(cell, size) for cell, size in zip(row, sizes, strict=True)]
        for depth in range(max(len(w) for w in wrapped)):
            parts = [
                (w[depth] if depth < len(w) else "").ljust(size)
                for w, size in zip(wrapped, sizes, strict=True)
            ]
            lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines) + "\n" if lines else ""


class PagedTable:
    """A table printed a page of rows at a time, for lists too long to hold at once.

    The header goes out with the first row. A column is as wide as its widest cell seen
    so far (header included), so widths only grow: the columns stay aligned unless a later
    page has a wider cell, and then they shift right from that page on. With ``width``,
    each page is shrunk to fit as :func:`render_table` shrinks a whole table.
    """

    def __init__(
        self,
        headers: Sequence[str],
        *,
        width: int | None = None,
        headers_shown: bool = True,
        keep: Sequence[str] = (),
    ) -> None:
        self._headers = [clean(str(h), 1000) for h in headers]
        self._widest = [len(h) for h in self._headers]
        self._width = width
        self._pending_header = headers_shown
        self._keep = tuple(keep)

    def page(self, rows: Sequence[Sequence[object]]) -> str:
        count = len(self._headers)
        cells = [
            [clean("" if c is None else str(c), 1000) for c in row][:count]
            + [""] * (count - len(row))
            for row in rows
        ]
        for row in cells:
            for i, cell in enumerate(row):
                self._widest[i] = max(self._widest[i], len(cell))
        if not cells:
            return ""  # a header alone says nothing: it waits for the first row
        shown = ([list(self._headers)] if self._pending_header else []) + cells
        self._pending_header = False
        sizes = _shrunk(self._headers, shown, list(self._widest), self._width, self._keep)
        return _lines(shown, sizes)


def _fit(sizes: list[int], floors: list[int], room: int) -> list[int]:
    """Column widths that add up to at most ``room``, taking from the widest first."""
    sizes = list(sizes)
    while sum(sizes) > room:
        widest = max(range(len(sizes)), key=lambda i: sizes[i] - floors[i])
        if sizes[widest] <= floors[widest]:
            break  # as narrow as columns go: the line overflows rather than lose meaning
        sizes[widest] -= 1
    return sizes


def _wrap(cell: str, size: int) -> list[str]:
    if len(cell) <= size:
        return [cell]
    import textwrap

    return textwrap.wrap(cell, size, break_long_words=True, break_on_hyphens=False) or [""]


def summarize(items: Sequence[str], first: int = 3) -> str:
    """``a, b, c and 21 more`` for a list that would make a cell hundreds of columns wide."""
    shown = ", ".join(items[:first])
    rest = len(items) - first
    return f"{shown} and {rest} more" if rest > 0 else shown


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep the API's order
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
