"""The in-memory API server for session tests, with its clock in place of real time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from podscope.events import Events
from podscope.session.io import SessionIO
from podscope.terminal.pump import LocalIO
from tests.unit.fakekube import FakeKube, install_clock


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    yield kube
    kube.close()


@pytest.fixture
def legacy(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    """A 1.16-1.21 server: ephemeral containers are a PUT of an EphemeralContainers list."""
    kube = FakeKube(shape="legacy")
    install_clock(monkeypatch, kube.clock)
    yield kube
    kube.close()


class Messages(list[str]):
    """A reporter that keeps what it was told."""

    def __call__(self, message: str) -> None:
        self.append(message)

    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def messages() -> Messages:
    return Messages()


def session_io(messages: Messages, local: LocalIO | None = None) -> SessionIO:
    """The session's events reach ``messages`` as sentences; ``local`` are the streams."""
    return SessionIO(
        events=Events(lambda event: messages(event.message)),
        local=local or LocalIO(stdin=None, stdout=io.BytesIO(), stderr=io.BytesIO()),
    )


def request_fields(options: dict[str, Any]) -> dict[str, Any]:
    """Options as tests name them (a parsed TargetAccess, set_images), as the
    request fields the flags fill."""
    fields = dict(options)
    access = fields.pop("target_access", None)
    if access is not None:
        if access.root is not None:
            if access.root.mode == "chroot":
                fields["chroot"] = True
            else:
                fields["cd"] = access.root.path
        fields["copy_env"] = access.inherit.env
        fields["copy_mounts"] = access.inherit.mounts
        fields["as_target_user"] = access.inherit.user
        if access.user is not None:
            uid, gid = access.user
            fields["user"] = f"{uid}:{gid}" if gid is not None else str(uid)
        if access.profile_chosen:
            fields.setdefault("profile", "legacy")
    images = fields.pop("set_images", None)
    if images is not None:
        fields["set_image"] = tuple(f"{c}={i}" for c, i in images.items())
    return fields
