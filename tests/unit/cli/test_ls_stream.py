"""``ls -o json|yaml`` writes one document an item at a time."""

from __future__ import annotations

import io
import json

import pytest
from ruamel.yaml import YAML

from podscope.cli.ls import _Document


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_json_is_one_array(count: int) -> None:
    out = io.StringIO()
    document = _Document("json", out)
    items = [{"pod": f"p{i}", "command": ["sh", "-c", "x"], "n": None} for i in range(count)]
    for item in items:
        document.add(item)
    document.close()
    assert json.loads(out.getvalue()) == items


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_yaml_is_one_sequence(count: int) -> None:
    out = io.StringIO()
    document = _Document("yaml", out)
    items = [{"pod": f"p{i}", "written_by": [{"manager": "kubectl"}]} for i in range(count)]
    for item in items:
        document.add(item)
    document.close()
    assert YAML(typ="safe", pure=True).load(out.getvalue()) == items
