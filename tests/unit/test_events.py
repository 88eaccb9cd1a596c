"""podscope.events and the CLI's rendering of them."""

from __future__ import annotations

import pytest

from podscope.cli.common import event_printer
from podscope.events import Event, EventLog, Events


def test_events_reach_the_handler_typed() -> None:
    log = EventLog()
    events = Events(log)
    events("plain sentence")
    events.warning("careful")
    events.phase("write", "adding")
    assert [(e.kind, e.message, e.phase) for e in log.events] == [
        ("info", "plain sentence", None),
        ("warning", "careful", None),
        ("phase", "adding", "write"),
    ]
    assert log.events[0].at <= log.events[2].at


def test_no_handler_drops_everything() -> None:
    Events()("nothing happens")  # must not raise


def test_printer(capsys: pytest.CaptureFixture[str]) -> None:
    show = event_printer(quiet=False)
    show(Event("info", "created"))
    show(Event("warning", "odd"))
    show(Event("phase", "adding", "write"))
    assert capsys.readouterr().err.splitlines() == ["podscope: created", "podscope: warning: odd"]
    event_printer(quiet=True)(Event("info", "created"))
    assert capsys.readouterr().err == ""
