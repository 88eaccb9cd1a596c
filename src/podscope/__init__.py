"""podscope: debug running Kubernetes Pods with ephemeral containers.

The public Python API lives in :mod:`podscope.api`; it is imported lazily so that
``import podscope`` (and the CLI's ``--version``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # Lazy re-export of the public API: `podscope.debug(...)` works without paying for the
    # kubernetes client import at `import podscope` time.
    if name.startswith("_"):
        raise AttributeError(name)
    # importlib, not `from podscope import api`: that form would call this hook again.
    api = importlib.import_module("podscope.api")
    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"module 'podscope' has no attribute {name!r}") from None
