"""Build the Pod for ``podscope debug node/NAME`` (pure, no I/O).

As kubectl's node debugging: one container (``debugger``) in a Pod bound to the node by
``nodeName`` (no scheduler involved), never restarted, tolerating every taint, with the
profile deciding host namespaces and whether the node's ``/`` is mounted at ``/host``
(``spec.profiles.apply_node_profile``). ``chroot`` runs the command (or a shell) inside the
host's file system.
"""

from __future__ import annotations

import random
from typing import Any

from podscope.errors import UsageError
from podscope.rules.container import apply_container_flags
from podscope.rules.custom import merge_custom
from podscope.rules.managed import NODE_DEBUG_KEY, managed_labels
from podscope.rules.names import (
    NAME_ALPHABET,
    SUBDOMAIN_MAX,
    SUFFIX_LENGTH,
)
from podscope.rules.profiles import HOST_ROOT_MOUNT, apply_node_profile
from podscope.rules.requests import NodeDebugRequest
from podscope.rules.workloads import node_name_of

DEFAULT_CONTAINER = "debugger"
POD_PREFIX = "node-debugger"
# Profiles that mount the node's / at /host (see spec.profiles.apply_node_profile).
HOST_ROOT_PROFILES = ("legacy", "general", "sysadmin")

_system_random = random.SystemRandom()


def node_pod_name(node: str, rng: random.Random | None = None) -> str:
    """``node-debugger-NODE-xxxxx``, with NODE cut so that the name stays a valid Pod name."""
    chooser = rng if rng is not None else _system_random
    suffix = "".join(chooser.choice(NAME_ALPHABET) for _ in range(SUFFIX_LENGTH))
    room = SUBDOMAIN_MAX - len(POD_PREFIX) - SUFFIX_LENGTH - 2
    middle = node[:room].rstrip("-.")
    return f"{POD_PREFIX}-{middle}-{suffix}"


def _check(spec: NodeDebugRequest, profile: str) -> None:
    spec.validate()
    if spec.chroot and profile not in HOST_ROOT_PROFILES:
        raise UsageError(
            f"--chroot needs the node's file system at {HOST_ROOT_MOUNT}, which the "
            f"{profile} profile does not mount",
            remedy=f"use --profile {' / '.join(HOST_ROOT_PROFILES)}, or drop --chroot",
        )


def build_node_pod(
    spec: NodeDebugRequest, namespace: str | None = None, rng: random.Random | None = None
) -> dict[str, Any]:
    """The Pod to create for ``spec`` (its ``image`` resolved, ``custom`` a mapping or None);
    raises ``PodscopeError`` subclasses on bad input."""
    profile = spec.profile or "legacy"
    _check(spec, profile)
    if spec.image is None:
        raise UsageError("the node debugging Pod needs an image")
    node = node_name_of(spec.node) or spec.node
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
        words = []
    apply_container_flags(container, spec, words)

    metadata: dict[str, Any] = {
        "name": node_pod_name(node, rng),
        "labels": managed_labels(NODE_DEBUG_KEY, node),
    }
    namespace = namespace or spec.namespace
    if namespace:
        metadata["namespace"] = namespace
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [container],
            # Bound directly: the scheduler would refuse cordoned or full nodes, and a node
            # in trouble is exactly the one to debug.
            "nodeName": node,
            "restartPolicy": "Never",
            "tolerations": [{"operator": "Exists"}],
        },
    }
    pod = apply_node_profile(profile, pod, name)
    if spec.custom:
        assert not isinstance(spec.custom, str), "custom is loaded before the Pod is built"
        pod["spec"]["containers"][0] = merge_custom(pod["spec"]["containers"][0], dict(spec.custom))
    return pod
