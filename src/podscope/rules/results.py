"""What every command's result shares: ``to_dict()``, which is what ``-o json`` prints."""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass
from typing import Any


class ResultDict:
    """Mixin for result dataclasses. Captured output (``stdout``/``stderr`` bytes) appears
    as text when it was captured, and not at all otherwise."""

    def to_dict(self) -> dict[str, Any]:
        assert is_dataclass(self)
        data = asdict(self)
        for item in fields(self):
            value = data.get(item.name)
            if item.name in ("stdout", "stderr"):
                if value is None:
                    del data[item.name]
                else:
                    data[item.name] = bytes(value).decode("utf-8", "replace")
        return data
