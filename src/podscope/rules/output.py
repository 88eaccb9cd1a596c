"""Pure rendering helpers: aligned text tables and JSON/YAML dumps."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML

from podscope.rules._fmt import clean


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell, separated by three spaces (kubectl's look).

    Cells are escaped so a name with a newline or a terminal escape cannot break the table.
    """
    cells = [[clean(str(h), 1000) for h in headers]]
    cells += [[clean("" if c is None else str(c), 1000) for c in row] for row in rows]
    width = max(len(r) for r in cells)
    for row in cells:
        row.extend([""] * (width - len(row)))
    sizes = [max(len(row[i]) for row in cells) for i in range(width)]
    lines = [
        "   ".join(cell.ljust(size) for cell, size in zip(row, sizes, strict=True)).rstrip()
        for row in cells
    ]
    return "\n".join(lines) + "\n"


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep the API's order
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
