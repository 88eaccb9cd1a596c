"""The copy (``--copy-to``) and node (``node/NAME``) modes of ``podscope debug``.

``cli.debug`` registers these flags with :func:`add_flags` and hands over to :func:`run_mode`
when one of the modes is asked for; the ephemeral-container path never sees them.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from podscope.cli.common import cluster_kwargs, print_document
from podscope.errors import UsageError

# flag -> argparse dest, for "may only be used with" checks.
_COPY_ONLY = {
    "--set-image": "set_image",
    "--share-processes": "share_processes",
    "--same-node": "same_node",
    "--replace": "replace",
    "--keep-labels": "keep_labels",
    "--keep-annotations": "keep_annotations",
    "--keep-liveness": "keep_liveness",
    "--keep-readiness": "keep_readiness",
    "--keep-startup": "keep_startup",
    "--keep-init-containers": "keep_init_containers",
    "--command-override": "command_override",
}
_NODE_ONLY = {"--keep": "keep"}
# Flags of the ephemeral mode about the target container (cli.targetflags); --chroot is
# shared: in node mode it means the node's root, mounted at /host.
_EPHEMERAL_ONLY = {
    "--cd": "cd",
    "--copy-env": "copy_env",
    "--copy-mounts": "copy_mounts",
    "--as-target-user": "as_target_user",
    "--user": "user",
    "--target": "target",
    "--reuse": "reuse",
}
_DEFAULTS: dict[str, Any] = {
    "set_image": [],
    "share_processes": None,
    "same_node": False,
    "replace": False,
    "keep_labels": False,
    "keep_annotations": False,
    "keep_liveness": False,
    "keep_readiness": False,
    "keep_startup": False,
    "keep_init_containers": None,
    "command_override": None,
    "chroot": False,
    "keep": False,
    "cd": None,
    "copy_env": False,
    "copy_mounts": False,
    "as_target_user": False,
    "user": None,
    "target": None,
    "reuse": False,
}


def add_flags(parser: argparse.ArgumentParser) -> None:
    copy = parser.add_argument_group(
        "copy mode (debug a copy of the Pod, e.g. one that keeps crashing)"
    )
    copy.add_argument(
        "--copy-to",
        metavar="NEW",
        help="create a copy of the Pod named NEW and debug it instead (the copy stays; "
        "remove it with `podscope cleanup`)",
    )
    copy.add_argument(
        "--set-image",
        action="append",
        default=[],
        metavar="C=IMAGE",
        help="change a container's image in the copy (C=IMAGE, or '*=IMAGE' for all; "
        "repeatable, or comma-separated)",
    )
    copy.add_argument(
        "--command-override",
        metavar="C",
        help="replace container C's command in the copy with the command after --",
    )
    copy.add_argument(
        "--share-processes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="set the copy's shareProcessNamespace (default: as the original, or the profile)",
    )
    copy.add_argument(
        "--same-node", action="store_true", help="run the copy on the original's node"
    )
    copy.add_argument(
        "--replace", action="store_true", help="delete the original once the copy runs"
    )
    for flag, what in (
        ("labels", "labels (the copy then matches the original's Services)"),
        ("annotations", "annotations"),
        ("liveness", "liveness probes"),
        ("readiness", "readiness probes"),
        ("startup", "startup probes"),
    ):
        copy.add_argument(f"--keep-{flag}", action="store_true", help=f"keep the original's {what}")
    copy.add_argument(
        "--keep-init-containers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the original's init containers (default: yes)",
    )
    node = parser.add_argument_group(
        "node mode (POD is node/NAME; --chroot runs the command in the node's file system)"
    )
    node.add_argument(
        "--keep",
        action="store_true",
        help="keep the node debugging Pod after the session (default: delete it)",
    )


def _used(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    return [
        flag
        for flag, dest in flags.items()
        if getattr(args, dest, _DEFAULTS[dest]) not in (_DEFAULTS[dest], None)
    ]


def check_mode_flags(args: argparse.Namespace, node: str | None) -> None:
    """Refuse flags that belong to another mode (before anything is read or sent)."""
    if args.copy_to is None:
        stray = _used(args, _COPY_ONLY)
        if stray:
            raise UsageError(f"{stray[0]} may only be used with --copy-to")
    if node is None:
        stray = _used(args, _NODE_ONLY)
        if stray:
            raise UsageError(f"{stray[0]} may only be used when debugging a node (node/NAME)")
    if node is not None and args.copy_to is not None:
        raise UsageError("--copy-to copies a Pod; it cannot be used with node/NAME")
    if args.copy_to is not None or node is not None:
        stray = _used(args, _EPHEMERAL_ONLY)
        if args.copy_to is not None and getattr(args, "chroot", False):
            stray.insert(0, "--chroot")
        if stray:
            hint = ""
            if stray[0] == "--target" and args.copy_to is not None:
                hint = "; use --share-processes to see the other containers' processes"
            mode = "--copy-to" if args.copy_to is not None else "node debugging"
            raise UsageError(f"{stray[0]} cannot be used with {mode}{hint}")
    if args.tty and not args.stdin:
        raise UsageError("-t/--tty needs -i/--stdin")
    if args.output and args.stdin:
        raise UsageError("-o prints the result instead of attaching; it cannot be used with -i")


def _common(args: argparse.Namespace, report: Any) -> dict[str, Any]:
    return {
        "namespace": args.namespace,
        **cluster_kwargs(args),
        "image": args.image,
        "container": args.container,
        "profile": args.profile or "legacy",
        "custom": args.custom,
        "env": args.env,
        "image_pull_policy": args.image_pull_policy,
        "stdin": args.stdin,
        "tty": args.tty,
        "attach": args.attach and not args.output,
        "arguments_only": args.arguments_only,
        "timeout": args.timeout,
        "reporter": report,
    }


def run_mode(args: argparse.Namespace, report: Any) -> int | None:
    """Run copy or node mode if asked for; None means: an ordinary ephemeral debug."""
    from podscope.session.node_debug import node_name_of

    node = node_name_of(args.pod)
    check_mode_flags(args, node)
    if node is None and args.copy_to is None:
        return None
    import podscope.api as api

    result: Any
    if node is not None:
        result = api.debug_node(
            node,
            args.words,
            chroot=getattr(args, "chroot", False),
            keep=args.keep,
            **_common(args, report),
        )
    else:
        keep = api.KeepFlags(
            labels=args.keep_labels,
            annotations=args.keep_annotations,
            liveness=args.keep_liveness,
            readiness=args.keep_readiness,
            startup=args.keep_startup,
            init_containers=args.keep_init_containers is not False,
        )
        result = api.debug_copy(
            args.pod,
            args.copy_to,
            args.words,
            command_override=args.command_override,
            set_image=args.set_image,
            share_processes=args.share_processes,
            same_node=args.same_node,
            replace=args.replace,
            keep=keep,
            **_common(args, report),
        )
    if args.output:
        print_document(asdict(result), args.output)
        return 0
    return result.exit_code if result.exit_code is not None else 0
