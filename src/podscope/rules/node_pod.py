"""Build the Pod for ``podscope debug node/NAME`` (pure, no I/O).

As kubectl's node debugging: one container (``debugger``) in a Pod bound to the node by
``nodeName`` (no scheduler involved), never restarted, tolerating every taint, with the
profile deciding host namespaces and whether the node's ``/`` is mounted at ``/host``
(``spec.profiles.apply_node_profile``). ``chroot`` runs the command (or a shell) inside the
host's file system.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import UsageError, ValidationError
from podscope.rules._fmt import quote
from podscope.rules.custom import merge_custom
from podscope.rules.env import parse_env
from podscope.rules.managed import NODE_DEBUG_KEY, managed_labels
from podscope.rules.names import (
    NAME_ALPHABET,
    SUBDOMAIN_MAX,
    SUFFIX_LENGTH,
    validate_container_name,
    validate_resource_name,
)
from podscope.rules.pod_copy import PULL_POLICIES, check_image_reference
from podscope.rules.profiles import HOST_ROOT_MOUNT, apply_node_profile, check_profile

DEFAULT_CONTAINER = "debugger"
POD_PREFIX = "node-debugger"
# Profiles that mount the node's / at /host (see spec.profiles.apply_node_profile).
HOST_ROOT_PROFILES = ("legacy", "general", "sysadmin")

_system_random = random.SystemRandom()


@dataclass(frozen=True)
class NodePodSpec:
    """What the node debugging Pod should run (the CLI's flags, as plain data)."""

    node: str
    image: str
    namespace: str | None = None
    container: str | None = None
    command: Sequence[str] = ()
    arguments_only: bool = False
    chroot: bool = False
    profile: str = "legacy"
    env: Sequence[str] = ()
    image_pull_policy: str | None = None
    stdin: bool = False
    tty: bool = False
    custom: dict[str, Any] | None = field(default=None)


def node_pod_name(node: str, rng: random.Random | None = None) -> str:
    """``node-debugger-NODE-xxxxx``, with NODE cut so that the name stays a valid Pod name."""
    chooser = rng if rng is not None else _system_random
    suffix = "".join(chooser.choice(NAME_ALPHABET) for _ in range(SUFFIX_LENGTH))
    room = SUBDOMAIN_MAX - len(POD_PREFIX) - SUFFIX_LENGTH - 2
    middle = node[:room].rstrip("-.")
    return f"{POD_PREFIX}-{middle}-{suffix}"


def _check(spec: NodePodSpec) -> None:
    validate_resource_name(spec.node, "node name")
    check_profile(spec.profile)
    check_image_reference(spec.image, "--image")
    if spec.container is not None:
        validate_container_name(spec.container, "--container")
    if not all(isinstance(w, str) for w in spec.command) or isinstance(spec.command, str):
        raise ValidationError("command must be a list of strings", field="command")
    if spec.chroot and spec.profile not in HOST_ROOT_PROFILES:
        raise UsageError(
            f"--chroot needs the node's file system at {HOST_ROOT_MOUNT}, which the "
            f"{spec.profile} profile does not mount",
            remedy=f"use --profile {' / '.join(HOST_ROOT_PROFILES)}, or drop --chroot",
        )
    if spec.chroot and spec.arguments_only:
        raise UsageError(
            "--chroot replaces the image's entrypoint; it cannot be used with --arguments-only"
        )
    if spec.tty and not spec.stdin:
        raise UsageError("-t/--tty needs -i/--stdin")
    if spec.image_pull_policy is not None and spec.image_pull_policy not in PULL_POLICIES:
        raise UsageError(
            f"--image-pull-policy: unsupported value {quote(spec.image_pull_policy)}; "
            f"use one of {', '.join(PULL_POLICIES)}"
        )


def build_node_pod(spec: NodePodSpec, rng: random.Random | None = None) -> dict[str, Any]:
    """The Pod to create for ``spec``; raises ``PodscopeError`` subclasses on bad input."""
    _check(spec)
    name = spec.container or DEFAULT_CONTAINER
    container: dict[str, Any] = {
        "name": name,
        "image": spec.image,
        "terminationMessagePolicy": "File",
    }
    words = list(spec.command)
    if spec.chroot:
        # Without a command chroot starts the host's $SHELL (or /bin/sh) in the host's /.
        container["command"] = ["chroot", HOST_ROOT_MOUNT, *words]
    elif words:
        container["args" if spec.arguments_only else "command"] = words
    if spec.env:
        container["env"] = parse_env(spec.env)
    if spec.image_pull_policy:
        container["imagePullPolicy"] = spec.image_pull_policy
    if spec.stdin:
        container["stdin"] = True
    if spec.tty:
        container["tty"] = True

    metadata: dict[str, Any] = {
        "name": node_pod_name(spec.node, rng),
        "labels": managed_labels(NODE_DEBUG_KEY, spec.node),
    }
    if spec.namespace:
        metadata["namespace"] = spec.namespace
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [container],
            # Bound directly: the scheduler would refuse cordoned or full nodes, and a node
            # in trouble is exactly the one to debug.
            "nodeName": spec.node,
            "restartPolicy": "Never",
            "tolerations": [{"operator": "Exists"}],
        },
    }
    pod = apply_node_profile(spec.profile, pod, name)
    if spec.custom:
        pod["spec"]["containers"][0] = merge_custom(pod["spec"]["containers"][0], spec.custom)
    return pod
