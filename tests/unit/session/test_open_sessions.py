"""OpenSessions: what a second Ctrl-C over many Pods ends, and what it reports as left."""

from __future__ import annotations

import threading
import time

import pytest

from podscope.errors import Interrupted
from podscope.session.io import OpenSessions


def test_end_all_ends_every_open_session_at_once_and_names_the_pods_left_running() -> None:
    sessions = OpenSessions()
    calls: list[str] = []
    release = threading.Event()

    def ends(pod: str) -> bool:
        calls.append(pod)
        return True

    def fails() -> bool:
        raise RuntimeError("the exec was refused")

    def hangs() -> bool:
        release.wait(10)
        return True

    sessions.add("a", lambda: ends("a"))
    sessions.add("b", lambda: ends("b"))
    sessions.add("b", lambda: False)  # one of b's two sessions could not be ended
    sessions.add("c", fails)
    sessions.add("d", hangs)
    gone = sessions.add("e", lambda: ends("e"))
    sessions.remove(gone)  # its session ended by itself before the Ctrl-C
    started = time.monotonic()
    try:
        left = sessions.end_all(timeout=0.5)
    finally:
        release.set()
    assert time.monotonic() - started < 2, "the deadline bounds the wait"
    assert left == {"b", "c", "d"}
    assert sorted(calls) == ["a", "b"]
    # Ended once: a later end_all has nothing left, and no session may start any more.
    assert sessions.end_all(timeout=0.5) == set()
    with pytest.raises(Interrupted):
        sessions.add("f", lambda: True)
