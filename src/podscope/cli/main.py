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

# Command name -> module, in the order --help shows them.
COMMANDS = {
    "debug": "debug",
    "attach": "attach",
    "ls": "ls",
    "stop": "stop",
    "cleanup": "cleanup",
    "cp": "cp",
    "apply": "apply",
    "doctor": "doctor",
    "node": "gate",
    "replay": "replay",
    "completion": "completion",
    "version": "version",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's (start-up imports one command module)."""
    parser = argparse.ArgumentParser(
        prog="podscope",
        description="Debug running Kubernetes Pods with ephemeral containers.",
    )
    parser.add_argument("--version", action="version", version=f"podscope {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"podscope.cli.{module_name}").register(sub)
    return parser


def _command_of(words: Sequence[str]) -> str | None:
    first = next((w for w in words if not w.startswith("-")), None)
    return first if first in COMMANDS else None


def print_error(exc: PodscopeError) -> None:
    # Our messages go to stderr with a fixed prefix so container output can never forge them.
    sys.stderr.write(f"podscope: error: {exc.message}\n")
    if exc.remedy:
        sys.stderr.write(f"podscope: hint: {exc.remedy}\n")


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["__complete"]:
        # Before the parser is built: completion runs on every Tab and must stay fast.
        from podscope.cli.completion import main as complete

        return complete(words)
    if words == ["--version"]:
        sys.stdout.write(f"podscope {__version__}\n")
        return 0
    parser = build_parser(_command_of(words))
    args = parser.parse_args(words)
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
