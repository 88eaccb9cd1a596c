"""The public Python API: what `import podscope` offers, and how wide its calls are."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import podscope

MAX_PARAMETERS = 8


def test_all_lists_importable_names() -> None:
    for name in podscope.__all__:
        assert getattr(podscope, name) is not None, name
    assert {"Client", "DebugRequest", "debug", "enable_gate", "Event"} <= set(podscope.__all__)
    assert "debug" in dir(podscope)


def test_import_is_lazy() -> None:
    # `import podscope` must not load the kubernetes client (start-up time of every command).
    code = "import sys, podscope; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_typed_marker_ships() -> None:
    assert (Path(podscope.__file__).parent / "py.typed").is_file()


def _public_callables() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for info in pkgutil.walk_packages(podscope.__path__, "podscope."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue
            if inspect.isfunction(obj):
                found.append((f"{info.name}.{name}", obj))
            elif inspect.isclass(obj) and not hasattr(obj, "__dataclass_fields__"):
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        found.append((f"{info.name}.{name}.{attr}", member))
    return found


def test_no_public_function_takes_more_than_eight_parameters() -> None:
    wide = []
    for name, obj in _public_callables():
        parameters = [
            p
            for p in inspect.signature(obj).parameters.values()  # type: ignore[arg-type]
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        if len(parameters) > MAX_PARAMETERS:
            wide.append(f"{name}: {len(parameters)}")
    assert not wide, "options travel as requests: " + ", ".join(wide)
