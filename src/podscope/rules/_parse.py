"""Turn JSON or YAML text into plain JSON-shaped Python data, with one-line errors.

JSON is tried first (it is the common case and its errors are precise); YAML second. The
result holds only dict (str keys), list, str, int, float, bool and None, whatever YAML tags
the text used. Anything odd (duplicate keys, several documents, recursive aliases, alias
bombs, absurd nesting) becomes a ``ValidationError`` naming the source and, where known, the
line: the caller must never see a parser's traceback.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

from podscope.errors import ValidationError
from podscope.rules._fmt import clean

MAX_NODES = 100_000
MAX_DEPTH = 100


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _fail(source: str, detail: str) -> ValidationError:
    return ValidationError(f"{clean(source, 120)}: {clean(detail)}", field=None)


class _Normalizer:
    """Copy YAML/JSON data into plain types, with budgets against alias bombs and cycles."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = 0
        self.active: set[int] = set()

    def run(self, value: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(self.source, f"the document is too large (more than {MAX_NODES} values)")
        if depth > MAX_DEPTH:
            raise _fail(self.source, f"the document is nested more than {MAX_DEPTH} levels deep")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, datetime.datetime | datetime.date):
            # sigs.k8s.io/yaml (kubectl) turns YAML timestamps into strings too.
            return value.isoformat()
        if isinstance(value, dict | list):
            if id(value) in self.active:
                raise _fail(self.source, "the document refers to itself (a recursive YAML alias)")
            self.active.add(id(value))
            try:
                if isinstance(value, list):
                    return [self.run(item, depth + 1) for item in value]
                return {self._key(k): self.run(v, depth + 1) for k, v in value.items()}
            finally:
                self.active.discard(id(value))
        raise _fail(self.source, f"unsupported YAML value of type {type(value).__name__}")

    def _key(self, key: Any) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        if isinstance(key, (int, float)):
            return str(key)
        raise _fail(self.source, f"a mapping key must be a string, not a {type(key).__name__}")


def _yaml_error(source: str, exc: Exception) -> ValidationError:
    # ruamel's marked errors (and its DuplicateKeyError, which is a Warning subclass rather
    # than a YAMLError) carry the position of the problem; others only a message.
    mark = getattr(exc, "problem_mark", None)
    line, column = getattr(mark, "line", None), getattr(mark, "column", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    problem = str(problem).strip().splitlines()[0] if str(problem).strip() else "invalid YAML"
    if isinstance(line, int) and isinstance(column, int):
        return _fail(source, f"invalid YAML at line {line + 1}, column {column + 1}: {problem}")
    return _fail(source, f"invalid YAML: {problem}")


def load_text(text: str, source: str) -> Any:
    """Parse ``text`` (JSON, else YAML) into plain data; exactly one document is expected."""
    if not isinstance(text, str):
        raise _fail(source, f"expected text, got {type(text).__name__}")
    if not text.strip():
        raise _fail(source, "is empty")
    json_error: json.JSONDecodeError | None = None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
        return _Normalizer(source).run(data)
    except _DuplicateKey as exc:
        raise _fail(source, f"duplicate key {json.dumps(str(exc))} in JSON") from None
    except json.JSONDecodeError as exc:
        json_error = exc
    except RecursionError:
        raise _fail(source, "the document is nested too deeply") from None
    # Imported here: most inputs are JSON, and `podscope debug` should not pay for a YAML parser.
    from ruamel.yaml import YAML

    try:
        documents = list(YAML(typ="safe", pure=True).load_all(io.StringIO(text)))
    except RecursionError:
        raise _fail(source, "the document is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - a third-party parser: any failure is "invalid YAML"
        if text.lstrip()[:1] in "{[" and json_error is not None:
            raise _fail(
                source,
                f"invalid JSON at line {json_error.lineno}, column {json_error.colno}: "
                f"{json_error.msg}",
            ) from None
        raise _yaml_error(source, exc) from None
    documents = [d for d in documents if d is not None] if len(documents) > 1 else documents
    if not documents or documents == [None]:
        raise _fail(source, "is empty")
    if len(documents) > 1:
        raise _fail(source, f"contains {len(documents)} YAML documents; give exactly one")
    try:
        return _Normalizer(source).run(documents[0])
    except RecursionError:
        raise _fail(source, "the document is nested too deeply") from None
