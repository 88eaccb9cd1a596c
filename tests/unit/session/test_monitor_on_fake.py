"""The session monitor on the in-memory API server: the watch beside an open session reports
the target's restarts, ends the session when the Pod goes away, and outlives an outage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podscope.events import Events
from podscope.kube.queries import StreamQuery
from podscope.kube.streams import ChannelStream
from podscope.session import monitor as monitor_module
from podscope.session.monitor import SessionMonitor
from tests.unit.fakekube import FakeKube, Unreachable, install_clock


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    kube = FakeKube()
    install_clock(monkeypatch, kube.clock)
    kube.running_pod("web")
    plain = {"name": "dbg", "image": "busybox:1", "targetContainerName": "app"}
    kube.patch_ephemeral_containers(
        "default", "web", {"spec": {"ephemeralContainers": [plain]}}, "pod"
    )
    kube.kubelet.start("web", "dbg")
    yield kube
    kube.close()


class Heard:
    """What the monitor reported, from its thread; ``until`` waits for a sentence."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, message: str) -> None:
        with self._changed:
            self.lines.append(message)
            self._changed.notify_all()

    def until(self, test: Callable[[], bool]) -> bool:
        """Whether ``test()`` came true (looked at often, given up after 10 s)."""
        for _ in range(2000):
            with self._changed:
                if test():
                    return True
                self._changed.wait(0.005)
        return test()


def _open_stream(fake: FakeKube) -> ChannelStream:
    fake.programs["dbg"] = lambda command, stdin: None  # the shell keeps running
    return fake.exec(StreamQuery("default", "web", "dbg"), ["sh"])


def _monitor(fake: FakeKube, heard: Heard, **kw: Any) -> SessionMonitor:
    events = Events(lambda event: heard(event.message))
    return SessionMonitor(fake, fake.pod("web"), "dbg", events, start_delay=0, **kw).start()


def test_a_target_restart_is_reported_while_the_session_runs(fake: FakeKube) -> None:
    heard = Heard()
    monitor = _monitor(fake, heard)
    stream = _open_stream(fake)
    monitor.follow(stream)
    fake.kubelet.restart("web", "app", 2)
    expected = (
        "target container app restarted (restart count 1; it stopped with exit code 2, "
        "Error); debug container dbg is unaffected"
    )
    assert heard.until(lambda: expected in heard.lines)
    assert not stream.closed and monitor.gone is None
    monitor.stop()
    stream.close()


def test_the_pods_deletion_closes_the_session_stream(fake: FakeKube) -> None:
    heard = Heard()
    monitor = _monitor(fake, heard)
    stream = _open_stream(fake)
    monitor.follow(stream)
    fake.kubelet.delete_pod("web")
    assert heard.until(lambda: monitor.gone is not None and stream.closed)
    assert monitor.gone is not None
    assert monitor.gone.message == "Pod web was deleted during the session"
    monitor.stop()


def test_a_stream_followed_after_the_pod_went_is_closed_at_once(fake: FakeKube) -> None:
    heard = Heard()
    monitor = _monitor(fake, heard)
    fake.kubelet.begin_delete("web")
    assert heard.until(lambda: monitor.gone is not None)
    stream = _open_stream(fake)
    monitor.follow(stream)
    assert stream.closed
    monitor.stop()


def test_settle_reads_the_pod_once_to_explain_an_abnormal_end(fake: FakeKube) -> None:
    monitor = SessionMonitor(fake, fake.pod("web"), "dbg", Events(lambda e: None))
    monitor.settle()  # not started: the Pod is read, and it is there
    assert monitor.gone is None
    fake.kubelet.delete_pod("web")
    monitor.settle()
    assert monitor.gone is not None and "deleted" in monitor.gone.message
    reads = fake.methods().count("get_pod")
    monitor.settle()  # already explained: no more reads
    assert fake.methods().count("get_pod") == reads


def test_settle_says_nothing_when_the_pod_cannot_be_read(fake: FakeKube) -> None:
    monitor = SessionMonitor(fake, fake.pod("web"), "dbg", Events(lambda e: None))
    fake.fail("get_pod", Unreachable())
    monitor.settle()
    assert monitor.gone is None


def test_the_monitor_watches_again_after_an_outage(
    fake: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    import podscope.kube.client as client_module

    monkeypatch.setattr(monitor_module, "RETRY_PAUSE_SECONDS", 0.001)
    monkeypatch.setattr(client_module, "WATCH_OUTAGE_SECONDS", 1.0)
    # The API server is unreachable for longer than one watch keeps retrying.
    fake.fail("watch", *[Unreachable("connection refused")] * 20)
    heard = Heard()
    monitor = _monitor(fake, heard)
    assert heard.until(lambda: fake.methods().count("watch") > 20)
    fake.kubelet.restart("web", "app", 1)
    assert heard.until(lambda: any("target container app restarted" in m for m in heard.lines))
    monitor.stop()
