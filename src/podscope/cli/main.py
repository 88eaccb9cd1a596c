"""Entry point of the ``podscope`` command (and of ``kubectl podscope``).

The CLI parses arguments and prints; every command calls into :mod:`podscope.api`. Command
modules are listed in ``COMMANDS``. A command whose flags fill a request declares ``REQUEST``
(the request type), ``HELP``, ``DESCRIPTION``, ``run(args) -> int`` and, when its parser needs
more than the flag table gives, ``customize(parser)``; the others (``node``, ``completion``,
``version``) build their own parser in ``register(subparsers)``. Heavy modules (the
kubernetes client) are imported inside ``run`` only, so ``podscope --help`` and ``--version``
start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from podscope import __version__
from podscope.cli.common import terminal_columns
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


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with the width known up front.

    argparse builds a formatter for every ``add_argument`` (to check metavars) and, given no
    width, imports :mod:`shutil` (with its compression modules) to measure the terminal each
    time: a few milliseconds of every start-up for a hundred flags.
    """

    width = 0  # measured once, on first use

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            if not HelpFormatter.width:
                HelpFormatter.width = terminal_columns() - 2
            width = HelpFormatter.width
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (and, through ``parser_class``, its sub-commands') using
    :class:`HelpFormatter`."""

    help_for: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self._negative_values_joined(words), namespace)

    def _negative_values_joined(self, words: list[str]) -> list[str]:
        # `--ttl -5m`: argparse takes "-5m" for a flag and says "expected one argument";
        # kubectl (pflag) gives a flag that takes a value the next word, whatever it is,
        # and the flag's own check then says what is wrong with it. No flag here looks like
        # `-5`, so a dash and a digit after a flag that takes a value is that value.
        joined: list[str] = []
        index = 0
        while index < len(words):
            word = words[index]
            if word == "--":
                joined.extend(words[index:])
                break
            action = self._option_string_actions.get(word)
            following = words[index + 1] if index + 1 < len(words) else ""
            # nargs None: exactly one value (switches and counters have nargs 0).
            takes_value = action is not None and action.nargs is None
            if takes_value and following[:1] == "-" and following[1:2].isdigit():
                joined.append(f"{word}={following}")
                index += 2
                continue
            joined.append(word)
            index += 1
        return joined

    def error(self, message: str) -> NoReturn:
        # One line and where to read more, as kubectl does, not the whole usage (25 lines
        # for debug) above the one line that matters.
        # The top parser reports what a command's parser left over: name that command's help.
        where = self.help_for or self.prog
        self.exit(
            int(ExitCode.USAGE),
            f"podscope: error: {message}\npodscope: hint: see '{where} --help'\n",
        )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's (start-up imports one command module)."""
    parser = Parser(
        prog="podscope",
        description="Debug running Kubernetes Pods with ephemeral containers.",
    )
    parser.add_argument("--version", action="version", version=f"podscope {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND", parser_class=Parser)
    for name, module_name in COMMANDS.items():
        if only is None or name == only:
            _add_command(sub, name, importlib.import_module(f"podscope.cli.{module_name}"))
    return parser


def _add_command(sub: argparse._SubParsersAction[Parser], name: str, module: ModuleType) -> None:
    if hasattr(module, "register"):
        module.register(sub)
        return
    from podscope.cli import flags  # here, not at the top: `--version` never needs it

    parser = flags.add_command(
        sub, name, module.REQUEST, module.run, help=module.HELP, description=module.DESCRIPTION
    )
    if hasattr(module, "customize"):
        module.customize(parser)


def _command_of(words: Sequence[str]) -> str | None:
    first = next((w for w in words if not w.startswith("-")), None)
    return first if first in COMMANDS else None


def _raise_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> None:
    """SIGTERM (``timeout``, a CI runner, ``kill``) stops podscope as Ctrl-C does, so that
    it ends what it exec'd and says where its debugger stays instead of vanishing."""
    import signal

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_on_sigterm)


def _interruption_said() -> bool:
    from podscope.cli.progress import interruption_said

    return interruption_said()


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
    command = _command_of(words)
    parser = build_parser(command)
    if command is not None and isinstance(parser, Parser):
        parser.help_for = f"podscope {command}"
    args = parser.parse_args(words)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    _stop_on_sigterm()
    try:
        return int(func(args))
    except PodscopeError as exc:
        print_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        if "podscope.cli.progress" not in sys.modules or not _interruption_said():
            sys.stderr.write("podscope: interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted: stop without a word, and point stdout at
        # /dev/null so that the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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


def run() -> NoReturn:
    """The console script: :func:`main`, then an exit that skips the interpreter's teardown."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help and usage errors
        if exc.code is not None and not isinstance(exc.code, int):
            raise
        code = exc.code or 0
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """Exit with ``code`` once what a normal exit does that matters here is done.

    Python's finalization frees every module and object one by one: 17 ms on the local
    cluster's machine, a tenth of a reused ``debug -- true``, for memory the kernel frees
    anyway. What podscope needs of a normal exit is done first, in the interpreter's order:
    the ``atexit`` handlers (the fallback TLS folder's removal, coverage's data), then the
    streams flushed. A thread that must be joined (a non-daemon one still running) takes
    the normal exit.
    """
    import atexit
    import contextlib

    threading = sys.modules.get("threading")
    if threading is not None and any(
        thread.is_alive() and not thread.daemon and thread is not threading.main_thread()
        for thread in threading.enumerate()
    ):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # As in main(): the reader has what it wanted.
        code = 0
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
