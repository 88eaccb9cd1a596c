"""The in-memory API server keeps the shape of the real client, member for member."""

from __future__ import annotations

import inspect

from podscope.kube.client import KubeClient
from podscope.kube.protocol import KubeAPI
from tests.unit.fakekube import FakeKube


def _members() -> list[str]:
    return sorted(
        name
        for name in vars(KubeAPI)
        if not name.startswith("_") and callable(getattr(KubeAPI, name))
    )


def test_every_protocol_method_has_the_clients_signature_on_the_fake() -> None:
    members = _members()
    assert "watch_pod" in members and "patch_ephemeral_containers" in members
    for name in members:
        wanted = inspect.signature(getattr(KubeClient, name))
        assert inspect.signature(getattr(FakeKube, name)) == wanted, name
        assert inspect.signature(getattr(KubeAPI, name)) == wanted, name


def test_the_fake_has_the_protocols_attributes() -> None:
    fake = FakeKube()
    kinds = {"str": str, "float": float}
    for name, kind in KubeAPI.__annotations__.items():
        assert isinstance(getattr(fake, name), kinds[kind]), name
