"""Every flag of every command, declared once.

A :class:`Flag` names its request field (``dest``), how argparse takes it, its help, and
what completes its value. Defaults are not declared here: a flag that is not given leaves
the request field's own default (argparse's ``SUPPRESS``), so :func:`given` also tells which
flags the user typed, and :func:`build` refuses a flag the chosen request type does not
have. Adding a flag touches this table, the request type, and the one place that uses it.
``{default}`` in a help text is replaced by the request field's default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from podscope.errors import UsageError
from podscope.rules.requests import DRY_RUN_MODES, PROFILE_NAMES, PULL_POLICIES, field_default

Kind = Literal[
    "value",  # --flag VALUE
    "switch",  # --flag (True when given)
    "off",  # --no-flag (False when given)
    "negatable",  # --flag / --no-flag
    "repeat",  # --flag V, repeatable: a tuple
    "positional",  # NAME
    "optional",  # [NAME]
    "many",  # [NAME...]
]
Completion = Literal[
    "pods",
    "containers",
    "ephemeral-containers",  # -c of debug and stop: a debugger to use or to end
    "namespaces",
    "contexts",
    "nodes",
    "files",
    "pod-paths",
    "workloads",
]


@dataclass(frozen=True)
class Flag:
    dest: str
    names: tuple[str, ...]
    help: str
    kind: Kind = "value"
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    complete: Completion | None = None
    group: str | None = None

    @property
    def shown(self) -> str:
        """The name users know the flag by (its long form), for messages."""
        return self.names[-1] if self.names else (self.metavar or self.dest.upper())


_COPY_GROUP = "copy mode (debug a copy of the Pod, e.g. one that keeps crashing)"
_NODE_GROUP = "node mode (POD is node/NAME; --chroot runs the command in the node's file system)"
_TARGET_GROUP = "the target's file system, environment and identity"
_MANY_GROUP = "several Pods (POD1 POD2 ... -- CMD, -l SELECTOR, deploy/NAME --all-pods)"
_RECORD_GROUP = "the session's record (an asciicast recording, a receipt, Events on the Pod)"


def _wait_timeout(help: str) -> Flag:
    """``--timeout SECONDS``: every command's own wait, each saying what it waits for."""
    return Flag("timeout", ("--timeout",), help, type=float, metavar="SECONDS")


FLAGS: dict[str, Flag] = {
    flag.dest if key is None else key: flag
    for key, flag in [
        # -- connection (not request fields: they configure the Client) ---------------------
        (
            None,
            Flag(
                "namespace",
                ("-n", "--namespace"),
                "namespace (default: the context's, else 'default')",
                complete="namespaces",
            ),
        ),
        (None, Flag("context", ("--context",), "kubeconfig context to use", complete="contexts")),
        (
            None,
            Flag(
                "kubeconfig",
                ("--kubeconfig",),
                "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)",
                complete="files",
            ),
        ),
        (
            None,
            Flag(
                "request_timeout",
                ("--request-timeout",),
                "timeout of each API request (default 30)",
                type=float,
                metavar="SECONDS",
            ),
        ),
        # -- output ---------------------------------------------------------------------------
        (
            None,
            Flag("output", ("-o", "--output"), "machine-readable output", choices=("json", "yaml")),
        ),
        (
            "table_output",
            Flag(
                "output",
                ("-o", "--output"),
                "json or yaml for tooling; wide: tables at full width",
                choices=("json", "yaml", "wide"),
            ),
        ),
        (
            None,
            Flag(
                "no_headers",
                ("--no-headers",),
                "print tables without their header line",
                kind="switch",
            ),
        ),
        (None, Flag("quiet", ("-q", "--quiet"), "no progress messages", kind="switch")),
        # -- the debug container ---------------------------------------------------------------
        (
            None,
            Flag(
                "pod",
                (),
                "NAME, pod/NAME, or a workload to pick a Running Pod of: deploy/ "
                "sts/ ds/ rs/ job/ (node/NAME debugs a node)",
                kind="positional",
                metavar="POD",
                complete="workloads",
            ),
        ),
        (
            None,
            Flag(
                "command",
                (),
                "the command (and its arguments) to run instead of the image's entrypoint; "
                "every word before -- names a Pod",
                kind="many",
                metavar="-- COMMAND",
                complete="workloads",
            ),
        ),
        (
            None,
            Flag(
                "image",
                ("--image",),
                "debug image (default: $PODSCOPE_IMAGE, `image` in "
                "~/.config/podscope/config.yaml, else docker.io/library/busybox:latest)",
            ),
        ),
        (
            None,
            Flag(
                "container",
                ("-c", "--container"),
                "name of the debug container (default: debugger-xxxxx)",
                complete="ephemeral-containers",
            ),
        ),
        (
            None,
            Flag(
                "target",
                ("--target",),
                "container whose process namespace to share (default: the only/default container)",
                complete="containers",
            ),
        ),
        (
            None,
            Flag(
                "profile",
                ("--profile",),
                "security profile, as kubectl's (default: "
                "legacy, kubectl 1.34's default; general with --cd/--chroot)",
                choices=PROFILE_NAMES,
            ),
        ),
        (
            None,
            Flag(
                "custom",
                ("--custom",),
                "partial container spec (JSON or YAML) to merge",
                metavar="FILE",
                complete="files",
            ),
        ),
        (
            None,
            Flag(
                "env", ("--env",), "environment variable (repeatable)", kind="repeat", metavar="K=V"
            ),
        ),
        (
            None,
            Flag(
                "image_pull_policy",
                ("--image-pull-policy",),
                "the container's imagePullPolicy",
                choices=PULL_POLICIES,
            ),
        ),
        (None, Flag("stdin", ("-i", "--stdin"), "keep stdin open and attach to it", kind="switch")),
        (None, Flag("tty", ("-t", "--tty"), "allocate a TTY (needs -i)", kind="switch")),
        (
            None,
            Flag(
                "attach",
                ("--attach",),
                "attach to the container (default); --no-attach returns once it runs",
                kind="negatable",
            ),
        ),
        (
            None,
            Flag(
                "arguments_only",
                ("--arguments-only",),
                "COMMAND becomes the container's args, keeping the image's entrypoint",
                kind="switch",
            ),
        ),
        (
            None,
            _wait_timeout("how long to wait for the container to start (default {default:g})"),
        ),
        (
            None,
            Flag(
                "reconnect",
                ("--reconnect",),
                "re-attach when the connection drops while "
                "the container runs (default); --no-reconnect exits with code 15 instead",
                kind="negatable",
            ),
        ),
        (
            None,
            Flag(
                "reuse",
                ("--reuse",),
                "with --attach-mode: attach to a running ephemeral container with the same image "
                "and target, if any (debuggers are reused without it)",
                kind="switch",
            ),
        ),
        (
            None,
            Flag(
                "new",
                ("--new",),
                "make a new debugger even when a live one with the same image, target, "
                "profile and user could be reused",
                kind="switch",
            ),
        ),
        (
            None,
            Flag(
                "ttl",
                ("--ttl",),
                "end a new debugger after this long without a session, e.g. 90s, 15m, 2h "
                "(default: `ttl` in ~/.config/podscope/config.yaml, else 15m); a running "
                "session is never cut",
                metavar="DURATION",
            ),
        ),
        (
            None,
            Flag(
                "attach_mode",
                ("--attach-mode",),
                "kubectl's model: the new container runs the command and podscope attaches "
                "to it (default: exec the command into a reusable debugger)",
                kind="switch",
            ),
        ),
        # -- several Pods ----------------------------------------------------------------------
        (
            None,
            Flag(
                "selector",
                ("-l", "--selector"),
                "run the command in every Running Pod matching this label selector",
                metavar="SELECTOR",
                group=_MANY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "all_pods",
                ("--all-pods",),
                "with a workload (deploy/NAME...): every Running Pod of it, not one",
                kind="switch",
                group=_MANY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "max_parallel",
                ("--max-parallel",),
                "at most this many Pods at once (default 10)",
                type=int,
                metavar="N",
                group=_MANY_GROUP,
            ),
        ),
        (
            "debug_dry_run",
            Flag(
                "dry_run",
                ("--dry-run",),
                "list the Pods the command would run in, and change nothing",
                kind="switch",
                group=_MANY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "group",
                ("--group",),
                "print each Pod's output as one block when it finishes, instead of lines "
                "prefixed with the Pod's name",
                kind="switch",
                group=_MANY_GROUP,
            ),
        ),
        # -- the target's file system, environment and identity --------------------------------
        (
            None,
            Flag(
                "cd",
                ("--cd",),
                "start in PATH of the target's file system (through "
                "/proc/PID/root of its main process), with the debug image's tools on PATH; "
                "needs --profile general (picked when no --profile is given) unless the "
                "debugger runs as the target's user",
                metavar="PATH",
                group=_TARGET_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "chroot",
                ("--chroot",),
                "run the command with the target's root as / (the "
                "target's own programs; ones it lacks come from the debug image when that "
                "has busybox); needs CAP_SYS_CHROOT, so not with --profile restricted; for "
                "node/NAME: the node's file system",
                kind="switch",
                group=_TARGET_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "copy_env",
                ("--copy-env",),
                "give the debugger the target's env and envFrom (references kept as references)",
                kind="switch",
                group=_TARGET_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "copy_mounts",
                ("--copy-mounts",),
                "mount the target's volumes at the same paths (refused for subPath mounts)",
                kind="switch",
                group=_TARGET_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "as_target_user",
                ("--as-target-user",),
                "run as the target's runAsUser/"
                "runAsGroup (so runAsNonRoot Pods accept the debugger and file permissions "
                "match)",
                kind="switch",
                group=_TARGET_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "user",
                ("--user",),
                "run the debugger as this user",
                metavar="UID[:GID]",
                group=_TARGET_GROUP,
            ),
        ),
        # -- copy mode -------------------------------------------------------------------------
        (
            None,
            Flag(
                "copy_to",
                ("--copy-to",),
                "create a copy of the Pod named NEW and debug it "
                "instead (the copy stays; remove it with `podscope cleanup`)",
                metavar="NEW",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "set_image",
                ("--set-image",),
                "change a container's image in the copy "
                "(C=IMAGE, or '*=IMAGE' for all; repeatable, or comma-separated)",
                kind="repeat",
                metavar="C=IMAGE",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "command_override",
                ("--command-override",),
                "replace container C's command in the copy with the command after --",
                metavar="C",
                complete="containers",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "pull_secret",
                ("--pull-secret",),
                "add Secret NAME to the copy's imagePullSecrets, for a debug image the "
                "original's pull secrets do not cover (repeatable)",
                kind="repeat",
                metavar="NAME",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "share_processes",
                ("--share-processes",),
                "set the copy's shareProcessNamespace (default: as the original, or the profile)",
                kind="negatable",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "same_node",
                ("--same-node",),
                "run the copy on the original's node",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "replace",
                ("--replace",),
                "delete the original once the copy runs",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_labels",
                ("--keep-labels",),
                "keep the original's labels (the copy then matches the original's Services)",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_annotations",
                ("--keep-annotations",),
                "keep the original's annotations",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_liveness",
                ("--keep-liveness",),
                "keep the original's liveness probes",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_readiness",
                ("--keep-readiness",),
                "keep the original's readiness probes",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_startup",
                ("--keep-startup",),
                "keep the original's startup probes",
                kind="switch",
                group=_COPY_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "keep_init_containers",
                ("--keep-init-containers",),
                "keep the original's init containers (default: yes)",
                kind="negatable",
                group=_COPY_GROUP,
            ),
        ),
        # -- node mode -------------------------------------------------------------------------
        (
            None,
            Flag(
                "keep",
                ("--keep",),
                "keep the node debugging Pod after the session (default: delete it)",
                kind="switch",
                group=_NODE_GROUP,
            ),
        ),
        # -- attach ----------------------------------------------------------------------------
        (
            "attach_pod",
            Flag("pod", (), "the Pod's name", kind="positional", metavar="POD", complete="pods"),
        ),
        (
            "attach_container",
            Flag(
                "container",
                ("-c", "--container"),
                "the container to attach to",
                complete="containers",
            ),
        ),
        (
            "attach_stdin",
            Flag(
                "stdin",
                ("-i", "--stdin"),
                "pass stdin (default: when stdin is a terminal)",
                kind="negatable",
            ),
        ),
        (
            "attach_tty",
            Flag(
                "tty",
                ("-t", "--tty"),
                "use a TTY (default: when stdin is a terminal)",
                kind="negatable",
            ),
        ),
        (
            "attach_timeout",
            _wait_timeout(
                "how long to wait for a container that has not started yet (default {default:g})"
            ),
        ),
        # -- stop ------------------------------------------------------------------------------
        (
            "stop_pod",
            Flag("pod", (), "the Pod's name", kind="positional", metavar="POD", complete="pods"),
        ),
        (
            "stop_container",
            Flag(
                "container",
                ("-c", "--container"),
                "the debugger to stop (default: the Pod's only running one)",
                complete="ephemeral-containers",
            ),
        ),
        (
            None,
            Flag(
                "all_debuggers",
                ("--all",),
                "stop every running debugger of the Pod",
                kind="switch",
            ),
        ),
        (
            "stop_timeout",
            _wait_timeout("how long to wait for each debugger to end (default {default:g})"),
        ),
        (
            "stop_force",
            Flag(
                "force",
                ("--force",),
                "stop a debugger even while a session runs in it (the session is killed)",
                kind="switch",
            ),
        ),
        # -- ls --------------------------------------------------------------------------------
        (
            "ls_pod",
            Flag("pod", (), "only this Pod", kind="optional", metavar="POD", complete="pods"),
        ),
        (
            None,
            Flag(
                "all_namespaces", ("-A", "--all-namespaces"), "across all namespaces", kind="switch"
            ),
        ),
        (
            None,
            Flag("privileged", ("--privileged",), "only privileged containers", kind="switch"),
        ),
        (
            None,
            Flag("running", ("--running",), "only containers that are running", kind="switch"),
        ),
        (
            None,
            Flag(
                "older_than",
                ("--older-than",),
                "only containers written (or started) at least this long ago: 30m, 12h, 7d",
                metavar="DURATION",
            ),
        ),
        (
            "ls_image",
            Flag(
                "image",
                ("--image",),
                "only containers whose image matches this glob: the full name or the short one "
                "(busybox:1 for docker.io/library/busybox:1, tool:2 for reg/team/tool:2)",
                metavar="GLOB",
            ),
        ),
        (
            None,
            Flag(
                "created_by",
                ("--created-by",),
                "only containers written by this field manager (a glob): the client's name, "
                "such as kubectl or podscope, not the person's",
                metavar="MANAGER",
            ),
        ),
        (
            None,
            Flag(
                "chunk_size",
                ("--chunk-size",),
                "read Pods this many per request (default {default}; 0: all in one)",
                type=int,
                metavar="N",
            ),
        ),
        # -- cp --------------------------------------------------------------------------------
        (
            None,
            Flag(
                "source",
                (),
                "POD:/path, NS/POD:/path, or a local path",
                kind="positional",
                metavar="SRC",
                complete="pod-paths",
            ),
        ),
        (
            None,
            Flag(
                "dest",
                (),
                "POD:/path, NS/POD:/path, or a local path",
                kind="positional",
                metavar="DEST",
                complete="pod-paths",
            ),
        ),
        (
            "cp_selector",
            Flag(
                "selector",
                ("-l", "--selector"),
                "copy PATH out of every Running Pod matching SELECTOR, into DIR/POD/ (then "
                "give DIR alone)",
                metavar="SELECTOR:PATH",
                group=_MANY_GROUP,
            ),
        ),
        (
            "cp_container",
            Flag(
                "container",
                ("-c", "--container"),
                "the container to copy from/to (default: as debug)",
                complete="containers",
            ),
        ),
        (
            "cp_image",
            Flag(
                "image",
                ("--image",),
                "helper image, a static busybox (default: as podscope debug's: busybox)",
            ),
        ),
        (
            "cp_image_pull_policy",
            Flag(
                "image_pull_policy",
                ("--image-pull-policy",),
                "the helper's imagePullPolicy (default IfNotPresent)",
                choices=PULL_POLICIES,
            ),
        ),
        (
            None,
            Flag(
                "checksum",
                ("--no-checksum",),
                "skip the sha256 comparison after the copy",
                kind="off",
            ),
        ),
        (
            "cp_timeout",
            _wait_timeout("how long to wait for a new debugger to start (default {default:g})"),
        ),
        # -- apply -----------------------------------------------------------------------------
        (
            None,
            Flag(
                "file",
                (),
                "the document; - for stdin",
                kind="positional",
                metavar="FILE",
                complete="files",
            ),
        ),
        (
            "apply_pod",
            Flag(
                "pod",
                ("--pod",),
                "the Pod (required for a bare list of containers)",
                complete="pods",
            ),
        ),
        (
            "apply_attach",
            Flag("attach", ("--attach",), "attach to the (single) new container", kind="switch"),
        ),
        ("apply_stdin", Flag("stdin", ("-i", "--stdin"), "attach to its stdin", kind="switch")),
        ("apply_tty", Flag("tty", ("-t", "--tty"), "use a TTY", kind="switch")),
        (
            "apply_dry_run",
            Flag(
                "dry_run",
                ("--dry-run",),
                "client: print what would be sent, send nothing; server: send with dryRun=All",
                choices=DRY_RUN_MODES,
            ),
        ),
        (
            None,
            Flag(
                "diff",
                ("--diff",),
                "print a unified diff of the Pod's ephemeralContainers before/after",
                kind="switch",
            ),
        ),
        (None, Flag("wait", ("--no-wait",), "do not wait for them to start", kind="off")),
        (
            "apply_timeout",
            _wait_timeout("how long to wait for the containers to start (default {default:g})"),
        ),
        # -- cleanup ---------------------------------------------------------------------------
        (
            None,
            Flag(
                "pods",
                (),
                "only these Pods (they must be podscope's)",
                kind="many",
                metavar="POD",
                complete="pods",
            ),
        ),
        (None, Flag("yes", ("-y", "--yes"), "delete without asking", kind="switch")),
        (
            "cleanup_dry_run",
            Flag("dry_run", ("--dry-run",), "only list what would be deleted", kind="switch"),
        ),
        # -- doctor ----------------------------------------------------------------------------
        (
            "doctor_pod",
            Flag("pod", (), "also check this Pod", kind="optional", metavar="POD", complete="pods"),
        ),
        (
            "doctor_image",
            Flag("image", ("--image",), "debug image to check (default: as for debug)"),
        ),
        (
            "doctor_profile",
            Flag(
                "profile",
                ("--profile",),
                "profile you intend to use (default: legacy, judged leniently)",
                choices=PROFILE_NAMES,
            ),
        ),
        (
            "doctor_target",
            Flag(
                "target", ("--target",), "target container you intend to use", complete="containers"
            ),
        ),
        (
            "doctor_pull",
            Flag(
                "image_pull_policy",
                ("--image-pull-policy",),
                "imagePullPolicy you intend to use",
                choices=PULL_POLICIES,
            ),
        ),
        # -- the session's record (debug and attach) -------------------------------------------
        (
            None,
            Flag(
                "record",
                ("--record",),
                "record the session into DIR: an asciicast v2 file and a JSON receipt (also "
                "$PODSCOPE_RECORD, record: in the config file); Events on the Pod say who "
                "opened it",
                metavar="DIR",
                complete="files",
                group=_RECORD_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "record_input",
                ("--record-input",),
                "record what is typed too (passwords typed are kept in the recording)",
                kind="switch",
                group=_RECORD_GROUP,
            ),
        ),
        (
            None,
            Flag(
                "record_required",
                ("--record-required",),
                "refuse to start a session that cannot be recorded (exit code 19; also "
                "record_required: true in the config file)",
                kind="switch",
                group=_RECORD_GROUP,
            ),
        ),
        # -- podscope replay ------------------------------------------------------------------
        (
            "replay_file",
            Flag(
                "file",
                (),
                "an asciicast v2 recording (from --record)",
                kind="positional",
                metavar="FILE",
                complete="files",
            ),
        ),
        (
            None,
            Flag(
                "speed",
                ("--speed",),
                "play at this many times the recorded pace (default {default})",
                type=float,
                metavar="FACTOR",
            ),
        ),
        (
            None,
            Flag("instant", ("--instant",), "print the whole output at once", kind="switch"),
        ),
    ]
}

CLUSTER = ("namespace", "context", "kubeconfig", "request_timeout")
# Flags that configure the client or the output, never a request field.
CLI_ONLY = frozenset(
    {"context", "kubeconfig", "request_timeout", "output", "no_headers", "quiet", "yes", "group"}
)

# Each command's flags, in --help order (keys of FLAGS).
COMMAND_FLAGS: dict[str, tuple[str, ...]] = {
    "debug": (
        "pod",
        "command",
        *CLUSTER,
        "image",
        "container",
        "target",
        "profile",
        "custom",
        "env",
        "image_pull_policy",
        "stdin",
        "tty",
        "attach",
        "arguments_only",
        "timeout",
        "quiet",
        "reconnect",
        "reuse",
        "new",
        "ttl",
        "attach_mode",
        "selector",
        "all_pods",
        "max_parallel",
        "debug_dry_run",
        "group",
        "cd",
        "chroot",
        "copy_env",
        "copy_mounts",
        "as_target_user",
        "user",
        "output",
        "copy_to",
        "set_image",
        "command_override",
        "pull_secret",
        "share_processes",
        "same_node",
        "replace",
        "keep_labels",
        "keep_annotations",
        "keep_liveness",
        "keep_readiness",
        "keep_startup",
        "keep_init_containers",
        "keep",
        "record",
        "record_input",
        "record_required",
    ),
    "attach": (
        "attach_pod",
        "attach_container",
        *CLUSTER,
        "attach_stdin",
        "attach_tty",
        "attach_timeout",
        "quiet",
        "reconnect",
        "record",
        "record_input",
        "record_required",
    ),
    "replay": ("replay_file", "speed", "instant"),
    "ls": (
        "ls_pod",
        *CLUSTER,
        "all_namespaces",
        "table_output",
        "no_headers",
        "privileged",
        "running",
        "older_than",
        "ls_image",
        "created_by",
        "chunk_size",
    ),
    "stop": (
        "stop_pod",
        *CLUSTER,
        "stop_container",
        "all_debuggers",
        "stop_timeout",
        "stop_force",
        "quiet",
        "output",
    ),
    "cp": (
        "source",
        "dest",
        *CLUSTER,
        "cp_container",
        "cp_image",
        "cp_image_pull_policy",
        "checksum",
        "cp_timeout",
        "cp_selector",
        "max_parallel",
        "quiet",
        "output",
    ),
    "apply": (
        "file",
        "apply_pod",
        *CLUSTER,
        "apply_attach",
        "apply_stdin",
        "apply_tty",
        "apply_dry_run",
        "diff",
        "wait",
        "apply_timeout",
        "quiet",
        "output",
    ),
    "cleanup": (
        "pods",
        *CLUSTER,
        "all_namespaces",
        "yes",
        "cleanup_dry_run",
        "quiet",
        "table_output",
        "no_headers",
    ),
    "doctor": (
        "doctor_pod",
        *CLUSTER,
        "doctor_image",
        "doctor_profile",
        "doctor_target",
        "doctor_pull",
        "output",
    ),
}


class _Request(Protocol):
    def validate(self) -> None: ...


RequestT = TypeVar("RequestT", bound=_Request)


def add_flags(
    parser: argparse.ArgumentParser, command: str, request_type: type | None = None
) -> None:
    """Register ``command``'s flags; help defaults come from ``request_type``'s fields."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for key in COMMAND_FLAGS[command]:
        flag = FLAGS[key]
        target: Any = parser
        if flag.group is not None:
            target = groups.get(flag.group) or groups.setdefault(
                flag.group, parser.add_argument_group(flag.group)
            )
        _add(target, flag, request_type)


def add_command(
    subparsers: argparse._SubParsersAction[Any],
    command: str,
    request_type: type,
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
) -> argparse.ArgumentParser:
    """The parser of one command, with its flags from the table and ``run`` as its action."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        command, help=help, description=description
    )
    add_flags(parser, command, request_type)
    parser.set_defaults(func=run)
    return parser


def positional_optional(parser: argparse.ArgumentParser, dest: str) -> None:
    """Let the positional ``dest`` be left out: its command checks, in its run, whether
    another flag stands in for it."""
    for action in parser._actions:
        if action.dest == dest:
            action.nargs, action.required, action.default = "?", False, argparse.SUPPRESS


def add_one(parser: argparse.ArgumentParser, key: str) -> None:
    """Register one flag of the table on a parser that is not in ``COMMAND_FLAGS``."""
    _add(parser, FLAGS[key], None)


def _add(target: Any, flag: Flag, request_type: type | None) -> None:
    help_text = flag.help
    if "{default" in help_text and request_type is not None:
        help_text = help_text.format(default=field_default(request_type, flag.dest))
    common: dict[str, Any] = {"help": help_text, "default": argparse.SUPPRESS}
    if flag.kind == "positional":
        target.add_argument(flag.dest, metavar=flag.metavar, help=help_text)
        return
    if flag.kind in ("optional", "many"):
        nargs = "?" if flag.kind == "optional" else "*"
        target.add_argument(flag.dest, nargs=nargs, metavar=flag.metavar, **common)
        return
    names = flag.names
    if flag.kind == "switch":
        target.add_argument(*names, dest=flag.dest, action="store_true", **common)
    elif flag.kind == "off":
        target.add_argument(*names, dest=flag.dest, action="store_false", **common)
    elif flag.kind == "negatable":
        target.add_argument(*names, dest=flag.dest, action=argparse.BooleanOptionalAction, **common)
    elif flag.kind == "repeat":
        target.add_argument(*names, dest=flag.dest, action="append", metavar=flag.metavar, **common)
    else:
        target.add_argument(
            *names,
            dest=flag.dest,
            type=flag.type,
            choices=flag.choices,
            metavar=flag.metavar,
            **common,
        )


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The flags the user gave (by dest), without argparse's own bookkeeping."""
    values = {k: v for k, v in vars(args).items() if k not in ("func", "command_name")}
    # A "*" positional is always present; only a non-empty one counts as given. (An empty
    # list elsewhere is a value argparse left unconverted, e.g. `--timeout=--`: kept, so
    # that validation refuses it.)
    many = {f.dest for f in FLAGS.values() if f.kind == "many"}
    return {k: v for k, v in values.items() if not (k in many and v == [])}


def flag_for(command: str, dest: str) -> Flag:
    for key in COMMAND_FLAGS[command]:
        if FLAGS[key].dest == dest:
            return FLAGS[key]
    raise KeyError(dest)


def build(
    request_type: Callable[..., RequestT],
    values: dict[str, Any],
    *,
    command: str,
    refuse: Callable[[Flag], str] | None = None,
) -> RequestT:
    """The request of ``request_type`` made of the given ``values`` (by dest), validated.

    A given flag that is not a field of the request type is refused with ``refuse(flag)``'s
    message (default: "FLAG cannot be used here"), and a request that fails ``validate()`` is
    refused here too: before a client is opened, so bad input never reads the kubeconfig.
    """
    from dataclasses import fields

    names = {f.name for f in fields(request_type)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for dest, value in values.items():
        if dest in CLI_ONLY:
            continue
        if dest not in names:
            flag = flag_for(command, dest)
            raise UsageError(refuse(flag) if refuse else f"{flag.shown} cannot be used here")
        kwargs[dest] = tuple(value) if isinstance(value, list) else value
    request = request_type(**kwargs)
    request.validate()
    return request


def words_after_dashdash(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` at the first ``--``: argparse would give the words after it to the
    first free positional, or refuse them when options follow a ``*`` positional."""
    words = list(words)
    if "--" in words:
        cut = words.index("--")
        return words[:cut], words[cut + 1 :]
    return words, []
