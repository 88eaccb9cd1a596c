"""The in-memory API server for session tests, with its clock in place of real time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
