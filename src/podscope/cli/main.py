"""Entry point of the ``podscope`` command (and of ``kubectl podscope``).

The CLI parses arguments and prints; every command calls into :mod:`podscope.api`. Command
modules are listed in ``COMMANDS``; each has ``register(subparsers)`` and sets ``func`` to a
``run(args) -> int``. Heavy modules (the kubernetes client) are imported inside ``run`` only, so
``podscope --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from podscope import __version__
from podscope.errors import ExitCode, PodscopeError

# Order is the order shown in --help.
COMMANDS = ("debug", "attach", "ls", "stop", "cleanup", "cp", "apply", "doctor", "gate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podscope",
        description="Debug running Kubernetes Pods with ephemeral containers.",
    )
    parser.add_argument("--version", action="version", version=f"podscope {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"podscope.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"podscope.cli.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def print_error(exc: PodscopeError) -> None:
    # Our messages go to stderr with a fixed prefix so container output can never forge them.
    sys.stderr.write(f"podscope: error: {exc.message}\n")
    if exc.remedy:
        sys.stderr.write(f"podscope: hint: {exc.remedy}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        return int(func(args))
    except PodscopeError as exc:
        print_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("podscope: interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001
        # A bug must still end in one readable line, not a traceback over the user's terminal.
        if os.environ.get("PODSCOPE_TRACEBACK"):
            raise
        text = " ".join(str(exc).split())[:200]
        sys.stderr.write(f"podscope: error: unexpected failure ({type(exc).__name__}: {text})\n")
        sys.stderr.write(
            "podscope: hint: this is a bug in podscope; rerun with PODSCOPE_TRACEBACK=1 "
            "and report the traceback\n"
        )
        return int(ExitCode.FAILURE)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
