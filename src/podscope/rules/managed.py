"""Labels that mark the Pods podscope creates (copies and node debugging Pods).

``podscope cleanup`` finds its Pods by ``app.kubernetes.io/managed-by=podscope`` alone, so
anything podscope creates must carry it; the second label says what the Pod is for.
"""

from __future__ import annotations

import re

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "podscope"
MANAGED_SELECTOR = f"{MANAGED_BY_KEY}={MANAGED_BY_VALUE}"
COPY_OF_KEY = "podscope.dev/copy-of"
NODE_DEBUG_KEY = "podscope.dev/node-debug"

LABEL_VALUE_MAX = 63
_NOT_LABEL_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def label_value(text: str) -> str:
    """``text`` as a valid label value.

    Pod and Node names may be 253 characters long, label values only 63: the value is cut,
    and must then still begin and end with an alphanumeric character.
    """
    value = _NOT_LABEL_CHAR.sub("-", text)[:LABEL_VALUE_MAX]
    return value.strip("-_.")


def managed_labels(key: str, value: str) -> dict[str, str]:
    """The two labels of a podscope Pod: managed-by, and ``key`` (what it is for)."""
    return {MANAGED_BY_KEY: MANAGED_BY_VALUE, key: label_value(value)}
