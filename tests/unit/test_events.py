"""podscope.events and the CLI's rendering of them."""

from __future__ import annotations

import io

import pytest

from podscope.cli.common import event_printer
from podscope.cli.progress import EventPrinter
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


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_line_on_a_terminal() -> None:
    screen = _Terminal()
    printer = EventPrinter(quiet=False, stream=screen)
    printer(Event("phase", "adding debugger-x", "write", at=10.0))
    printer(Event("info", "created debugger-x"))
    printer(Event("phase", "waiting for debugger-x to start", "start", at=10.2))
    printer(Event("phase", "attaching", "attach", at=11.0))
    printer.close()
    text = screen.getvalue()
    assert "\r\x1b[2Kpodscope: adding debugger-x (" in text
    assert "podscope: created debugger-x\r\n" in text
    assert text.endswith("podscope: write 0.20s, start 0.80s\r\n")
    assert printer.ticker is not None


def test_plain_lines_off_a_terminal() -> None:
    pipe = io.StringIO()
    printer = EventPrinter(quiet=False, stream=pipe)
    printer(Event("phase", "adding", "write", at=1.0))
    printer(Event("info", "created"))
    printer(Event("phase", "waiting", "start", at=1.5))
    printer.close()
    lines = pipe.getvalue().splitlines()
    assert lines[0] == "podscope: created"
    assert lines[1].startswith("podscope: write 0.50s, start ")
    assert "\r" not in pipe.getvalue()


def test_quiet_shows_nothing() -> None:
    screen = _Terminal()
    printer = EventPrinter(quiet=True, stream=screen)
    printer(Event("phase", "adding", "write"))
    printer(Event("warning", "odd"))
    printer.close()
    assert screen.getvalue() == ""
