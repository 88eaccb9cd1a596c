"""``podscope debug POD [-- COMMAND [ARG...]]``: add an ephemeral container and attach to it."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from podscope.cli import debug_modes
from podscope.cli.common import add_cluster_flags, add_output_flag, cluster_kwargs, print_document
from podscope.cli.targetflags import add_target_flags, target_kwargs
from podscope.errors import UsageError

PROFILE_NAMES = ("legacy", "general", "baseline", "restricted", "netadmin", "sysadmin")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "debug",
        help="add an ephemeral debug container to a running Pod and attach to it",
        description=(
            "Add an ephemeral container to a running Pod, wait for it to start (failing fast on "
            "image or start errors) and attach to it. Without -i, the container's output is "
            "streamed until it exits and podscope exits with its exit code."
        ),
    )
    parser.add_argument(
        "pod",
        metavar="POD",
        help="NAME, pod/NAME, or a workload to pick a Running Pod of: deploy/ sts/ ds/ rs/ job/",
    )
    parser.add_argument(
        "words",
        nargs="*",
        metavar="-- COMMAND",
        help="the command (and its arguments) to run instead of the image's entrypoint",
    )
    add_cluster_flags(parser)
    parser.add_argument(
        "--image",
        help="debug image (default: $PODSCOPE_IMAGE, `image` in ~/.config/podscope/config.yaml, "
        "else docker.io/library/busybox:latest)",
    )
    parser.add_argument(
        "-c", "--container", help="name of the debug container (default: debugger-xxxxx)"
    )
    parser.add_argument(
        "--target",
        help="container whose process namespace to share (default: the only/default container)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default=None,
        help="security profile, as kubectl's (default: legacy, kubectl 1.34's default; "
        "general with --cd/--chroot)",
    )
    parser.add_argument(
        "--custom", metavar="FILE", help="partial container spec (JSON or YAML) to merge"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="environment variable (repeatable)",
    )
    parser.add_argument(
        "--image-pull-policy", choices=PULL_POLICIES, help="the container's imagePullPolicy"
    )
    parser.add_argument(
        "-i", "--stdin", action="store_true", help="keep stdin open and attach to it"
    )
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a TTY (needs -i)")
    parser.add_argument(
        "--attach",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="attach to the container (default); --no-attach returns once it runs",
    )
    parser.add_argument(
        "--arguments-only",
        action="store_true",
        help="COMMAND becomes the container's args, keeping the image's entrypoint",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the container to start (default 300)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_reconnect_flag(parser)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="attach to a running ephemeral container with the same image and target, if any",
    )
    add_target_flags(parser)
    add_output_flag(parser)
    debug_modes.add_flags(parser)
    parser.set_defaults(func=run)
    # argparse gives a "*" positional its (empty) value as soon as it sees POD, so words after
    # "--" that follow options would be refused; split them off before argparse sees them.
    parser.__class__ = _CommandTailParser


class _CommandTailParser(argparse.ArgumentParser):
    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        tail: list[str] = []
        if "--" in words:
            cut = words.index("--")
            words, tail = words[:cut], words[cut + 1 :]
        parsed, extras = super().parse_known_args(words, namespace)
        parsed.words = [*(parsed.words or []), *tail]
        return parsed, extras


def add_reconnect_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reconnect",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="re-attach when the connection drops while the container runs (default); "
        "--no-reconnect exits with code 15 instead",
    )


def reporter(quiet: bool):  # type: ignore[no-untyped-def]
    # Messages can arrive while the terminal is in raw mode (a Pod watch runs during the
    # session), where "\n" alone does not return the cursor to the first column.
    end = "\r\n" if sys.stderr.isatty() else "\n"

    def report(message: str) -> None:
        if not quiet:
            sys.stderr.write(f"podscope: {message}{end}")
            sys.stderr.flush()

    return report


def run(args: argparse.Namespace) -> int:
    import podscope.api as api

    code = debug_modes.run_mode(args, reporter(args.quiet))
    if code is not None:
        return code
    if args.tty and not args.stdin:
        raise UsageError("-t/--tty needs -i/--stdin")
    if args.output and args.stdin:
        raise UsageError("-o prints the container instead of attaching; it cannot be used with -i")
    result = api.debug(
        args.pod,
        args.words,
        namespace=args.namespace,
        **cluster_kwargs(args),
        image=args.image,
        container=args.container,
        target=args.target,
        profile=args.profile,
        custom=args.custom,
        env=args.env,
        image_pull_policy=args.image_pull_policy,
        stdin=args.stdin,
        tty=args.tty,
        attach=args.attach and not args.output,
        arguments_only=args.arguments_only,
        timeout=args.timeout,
        reuse=args.reuse,
        reconnect=args.reconnect,
        **target_kwargs(args),
        reporter=reporter(args.quiet),
    )
    if args.output:
        document = asdict(result)
        print_document(document, args.output)
        return 0
    return result.exit_code if result.exit_code is not None else 0
