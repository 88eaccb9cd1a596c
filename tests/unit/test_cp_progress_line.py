"""The CLI draws cp's progress events; the session only reports them (no cluster)."""

from __future__ import annotations

import argparse
import io

import pytest

from podscope.cli import cp as cli_cp
from podscope.cli.cp import ProgressLine
from podscope.session.cp import TransferProgress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MIB4 = 4 * 1024 * 1024


def event(done: int, total: int | None = MIB4, finished: bool = False) -> TransferProgress:
    return TransferProgress("ns/p:/data", "./data", done, total, finished)


def test_draws_one_line_with_size_share_and_rate() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine(out, clock)
    line(event(0))
    assert out.getvalue() == ""  # nothing moved yet
    clock.now += 1.0
    line(event(1024 * 1024))
    text = out.getvalue()
    assert text.startswith("\r") and "\n" not in text
    assert "ns/p:/data -> ./data: 1.0 MiB / 4.0 MiB (25%)  1.0 MiB/s" in text


def test_redraws_at_most_ten_times_a_second() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine(out, clock)
    line(event(0))
    for _ in range(50):
        clock.now += 0.01
        line(event(1000))
    # 0.5 s of events every 10 ms: the first draw, then one per 0.1 s.
    assert 5 <= out.getvalue().count("\r") <= 6


def test_the_end_is_drawn_and_ends_the_line() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine(out, clock)
    line(event(0))
    clock.now += 0.01
    line(event(4 * 1024 * 1024, finished=True))
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    assert "4.0 MiB / 4.0 MiB (100%)" in text


def test_unknown_total_shows_the_count_only() -> None:
    out, clock = io.StringIO(), Clock()
    line = ProgressLine(out, clock)
    line(event(0, total=None))
    clock.now += 2.0
    line(event(500, total=None, finished=True))
    assert "ns/p:/data -> ./data: 500 B  250 B/s" in out.getvalue()
    assert "%" not in out.getvalue()


def _args(quiet: bool) -> argparse.Namespace:
    from podscope.cli.main import build_parser

    return build_parser().parse_args(["cp", "p:/data", "./data", *(["-q"] if quiet else [])])


class _StandInClient:
    """Stands in for the cluster: sends the events a transfer would, then stops the run."""

    def __init__(self, given: dict[str, object]) -> None:
        self.given = given

    def __enter__(self) -> _StandInClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def cp(self, request: object, *, on_progress: object = None) -> object:
        self.given["on_progress"] = on_progress
        if callable(on_progress):
            on_progress(event(0))
            on_progress(event(10, finished=True))
        raise SystemExit(0)


@pytest.mark.parametrize(("tty", "quiet", "drawn"), [(True, False, True), (True, True, False),
                                                     (False, False, False)])  # fmt: skip
def test_drawn_on_a_terminal_only_and_never_with_quiet(
    monkeypatch: pytest.MonkeyPatch, tty: bool, quiet: bool, drawn: bool
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return tty

    err = Terminal()
    monkeypatch.setattr(cli_cp.sys, "stderr", err)
    given: dict[str, object] = {}
    monkeypatch.setattr(cli_cp, "open_client", lambda args: _StandInClient(given))
    with pytest.raises(SystemExit):
        cli_cp.run(_args(quiet))
    assert (given["on_progress"] is not None) == drawn
    assert ("ns/p:/data -> ./data" in err.getvalue()) == drawn
