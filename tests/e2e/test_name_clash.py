"""A name taken between podscope's read of the Pod and its write, on the real API server.

podscope picks a free name from the Pod it read; another writer can add an ephemeral container
of that name before podscope's write lands. The server then refuses the write (422, decided in
``is_name_clash`` from the answer's causes), and podscope re-reads the Pod: a generated name is
drawn again, a name the user chose is refused (exit 7). Nothing of the other writer's container
changes, and exactly one container is added.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from podscope.errors import ExitCode, ValidationError
from podscope.kube.config import connect
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.legacy import pod_patch_body
from podscope.session.ephemeral import create_container
from tests.e2e.conftest import BUSYBOX_IMAGE
from tests.e2e.helpers import SLEEPER, ephemeral


def _rival(container: dict[str, Any]) -> dict[str, Any]:
    """Another tool's container of the same name, different enough to be a change."""
    rival = copy.deepcopy(container)
    rival["command"] = ["sleep", "7200"]
    rival.pop("stdin", None)
    rival.pop("tty", None)
    return rival


@pytest.mark.parametrize("named_by_user", [False, True])
def test_a_name_taken_meanwhile_is_drawn_again_or_refused(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    kubeconfig: str,
    named_by_user: bool,
) -> None:
    make_pod("web", command=SLEEPER)
    client = connect(kubeconfig, namespace=namespace)
    stale = client.get_pod(namespace, "web")
    spec = DebugSpec(
        image=BUSYBOX_IMAGE,
        name="dbg" if named_by_user else None,
        command=list(SLEEPER),
        image_pull_policy="IfNotPresent",
    )
    ours = build_ephemeral_container(stale, spec)
    rival = _rival(ours)
    client.patch_ephemeral_containers(namespace, "web", pod_patch_body([rival]), "pod")
    heard: list[str] = []

    if named_by_user:
        with pytest.raises(ValidationError) as info:
            create_container(client, stale, spec, ours, "pod", heard.append)
        assert info.value.exit_code == ExitCode.INVALID
        assert info.value.message == "Pod web already has a container named dbg"
        added = []
    else:
        pod, container = create_container(client, stale, spec, ours, "pod", heard.append)
        assert container["name"] != ours["name"]
        added = [container["name"]]
        assert sorted(c["name"] for c in ephemeral(pod)) == sorted([rival["name"], *added])

    now = {c["name"]: c for c in ephemeral(client.get_pod(namespace, "web"))}
    assert sorted(now) == sorted([rival["name"], *added])
    assert now[rival["name"]]["command"] == rival["command"]  # the other writer's is untouched
