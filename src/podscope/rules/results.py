"""What every command's result shares: ``to_dict()``, which is what ``-o json`` prints."""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass
from typing import Any


class ResultDict:
    """Mixin for result dataclasses. Captured output (``stdout``/``stderr`` bytes) appears
    as text when it was captured, and not at all otherwise, in this result and in the
    results it holds (a several-Pod run's outcomes), so that ``json.dumps`` takes it."""

    def to_dict(self) -> dict[str, Any]:
        assert is_dataclass(self)
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("stdout", "stderr"):
                if value is not None:
                    data[item.name] = bytes(value).decode("utf-8", "replace")
            else:
                data[item.name] = _plain(value)
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, ResultDict):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value
