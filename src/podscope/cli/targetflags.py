"""``podscope debug`` flags about the target: file system (--cd, --chroot), env, mounts, user."""

from __future__ import annotations

import argparse
from typing import Any


def add_target_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the target's file system, environment and identity")
    group.add_argument(
        "--cd",
        metavar="PATH",
        help="start in PATH of the target's file system (through /proc/PID/root of its main "
        "process), with the debug image's tools on PATH; needs --profile general (picked "
        "when no --profile is given) unless the debugger runs as the target's user",
    )
    group.add_argument(
        "--chroot",
        action="store_true",
        help="run the command with the target's root as / (the target's own programs; ones it "
        "lacks come from the debug image when that has busybox); needs CAP_SYS_CHROOT, so not "
        "with --profile restricted",
    )
    group.add_argument(
        "--copy-env",
        action="store_true",
        help="give the debugger the target's env and envFrom (references kept as references)",
    )
    group.add_argument(
        "--copy-mounts",
        action="store_true",
        help="mount the target's volumes at the same paths (refused for subPath mounts)",
    )
    group.add_argument(
        "--as-target-user",
        action="store_true",
        help="run as the target's runAsUser/runAsGroup (so runAsNonRoot Pods accept the "
        "debugger and file permissions match)",
    )
    group.add_argument("--user", metavar="UID[:GID]", help="run the debugger as this user")


def target_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``podscope.api.debug`` for these flags."""
    return {
        "cd": args.cd,
        "chroot": args.chroot,
        "copy_env": args.copy_env,
        "copy_mounts": args.copy_mounts,
        "as_target_user": args.as_target_user,
        "user": args.user,
    }
