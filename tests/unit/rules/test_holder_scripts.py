"""The holder's, the session's and the status scripts themselves, run by this machine's sh.

Only their files move: /tmp and /dev/termination-log into a temporary directory, and the
holder looks every second instead of every five, so that a TTL of a few seconds is seen in
a few seconds. /proc is the real one: a session is a real process with the marker in its
environment, as in a debugger.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podscope.rules import debugger as d


def _moved(script: str, tmp: Path) -> str:
    return script.replace("/tmp/", f"{tmp}/").replace("/dev/termination-log", f"{tmp}/term")


def _uptime() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]))


@pytest.fixture
def name() -> str:
    # Unique to this run: the real /proc may hold other tests' sessions.
    return f"debugger-t{os.getpid()}"


def _env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"]}


def _session(tmp: Path, name: str, *words: str, session: str = "") -> subprocess.Popen[bytes]:
    script = _moved(d.SESSION_SCRIPT, tmp)
    return subprocess.Popen(
        ["sh", "-c", script, d.SESSION_NAME, f"{name}/{session}", *words],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its children end with it (os.killpg)
    )


def _status(tmp: Path, name: str) -> str:
    script = _moved(d.STATUS_SCRIPT, tmp)
    out = subprocess.run(
        ["sh", "-c", script, "podscope-status", f"{name}/"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def holder(tmp_path: Path, name: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    script = _moved(d.HOLDER_SCRIPT, tmp_path)
    assert script.count('[ "$left" -gt 5 ] && left=5') == 1
    script = script.replace('[ "$left" -gt 5 ] && left=5', '[ "$left" -gt 1 ] && left=1')
    proc = subprocess.Popen(
        ["sh", "-c", script, d.HOLDER_NAME, "3", f"{name}/"], env=_env(), stderr=subprocess.PIPE
    )
    yield proc, tmp_path
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_session_writes_its_start_runs_the_command_and_keeps_its_exit_code(
    tmp_path: Path, name: str
) -> None:
    before = _uptime()
    run = _session(tmp_path, name, "sh", "-c", 'echo "$PODSCOPE_SESSION"; exit 4')
    out, err = run.communicate(timeout=10)
    assert (run.returncode, out, err) == (4, f"{name}/\n".encode(), b"")
    uptime, marker, pid = (tmp_path / f".podscope-session-{name}").read_text().split()
    assert before <= int(uptime) <= _uptime()
    assert marker == f"{name}/" and int(pid) == run.pid  # the command's, once exec'd


def test_a_session_with_its_own_id_writes_its_start_where_the_holder_reads_it(
    tmp_path: Path, name: str
) -> None:
    # The mark is the debugger's (the holder reads one file), its content the session's own.
    run = _session(tmp_path, name, "true", session="0000eeee")
    assert run.wait(timeout=10) == 0
    uptime, marker, _ = (tmp_path / f".podscope-session-{name}").read_text().split()
    assert int(uptime) <= _uptime() and marker == f"{name}/0000eeee"


def test_a_session_that_cannot_write_its_start_still_runs_and_says_nothing(
    tmp_path: Path, name: str
) -> None:
    run = _session(tmp_path / "absent", name, "echo", "ran")
    out, err = run.communicate(timeout=10)
    assert (run.returncode, out, err) == (0, b"ran\n", b"")


def test_short_sessions_keep_the_holder_and_it_expires_a_ttl_after_the_last(
    holder: tuple[subprocess.Popen[bytes], Path], name: str
) -> None:
    proc, tmp = holder
    started = time.monotonic()
    # Each session is far shorter than the holder's period: only its written start is seen.
    while time.monotonic() - started < 6.5:
        session = _session(tmp, name, "true")
        assert session.wait(timeout=10) == 0
        assert proc.poll() is None, f"the holder ended {time.monotonic() - started:.1f}s in"
        time.sleep(1)
    last = time.monotonic()
    time.sleep(1.5)
    assert proc.poll() is None, "the holder ended less than its TTL after the last session"
    code = proc.wait(timeout=6)
    ended = time.monotonic() - last
    assert code == d.EXPIRED_EXIT
    # TTL 3 s counted in whole seconds of uptime, plus one period of one second.
    assert ended <= 3 + 1 + 1, ended
    assert (tmp / "term").read_text().strip() == "expired"


def test_a_long_session_is_seen_by_the_scan_and_never_cut(
    holder: tuple[subprocess.Popen[bytes], Path], name: str
) -> None:
    proc, tmp = holder
    session = _session(tmp, name, "sh", "-c", "sleep 4.5; echo done")
    out, _ = session.communicate(timeout=20)
    assert out == b"done\n"
    assert proc.poll() is None, "the holder ended during the session"
    assert proc.wait(timeout=8) == d.EXPIRED_EXIT


def test_status_counts_sessions_not_their_children_then_counts_from_the_last_start(
    tmp_path: Path, name: str
) -> None:
    # The holder last saw a session 50 s ago (its state file); its TTL is 100 s.
    (tmp_path / ".podscope-holder").write_text(f"1 {_uptime() - 50} 100\n")
    assert _status(tmp_path, name).split()[0] == "idle"
    left = int(_status(tmp_path, name).split()[1])
    assert 48 <= left <= 51
    # Two sessions, each a shell with a child (the sleep): two, not four.
    sessions = [_session(tmp_path, name, "sh", "-c", "sleep 30; :") for _ in range(2)]
    try:
        deadline = time.monotonic() + 10
        while _status(tmp_path, name) != "live 2":
            assert time.monotonic() < deadline, _status(tmp_path, name)
            time.sleep(0.1)
    finally:
        for session in sessions:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    # They just started: the time left counts from their start, not the holder's last look.
    words = _status(tmp_path, name).split()
    assert words[0] == "idle" and 98 <= int(words[1]) <= 100, words
    assert d.parse_status_output("live 2\n") == d.Liveness("live", sessions=2)


def _alive(name: str) -> int:
    return subprocess.run(
        ["sh", "-c", d.ALIVE_SCRIPT, "podscope-alive", f"{name}/"], env=_env(), timeout=10
    ).returncode


def test_alive_finds_the_holder_by_its_command_line_and_not_another_debuggers(
    holder: tuple[subprocess.Popen[bytes], Path], name: str
) -> None:
    proc, _ = holder
    assert _alive(name) == 0
    assert _alive(f"{name}-2") == 1
    proc.kill()
    proc.wait()
    assert _alive(name) == 1


def test_stop_ends_the_holder_it_finds_by_its_command_line(
    holder: tuple[subprocess.Popen[bytes], Path], name: str
) -> None:
    proc, tmp = holder
    time.sleep(0.3)  # the holder's trap is set
    stop = subprocess.run(
        ["sh", "-c", d.STOP_SCRIPT, "podscope-stop", f"{name}/"], env=_env(), timeout=10
    )
    assert stop.returncode == 0
    assert proc.wait(timeout=5) == d.STOPPED_EXIT
    assert (tmp / "term").read_text().strip() == "stopped"


def _end_session(
    name: str, session: str, tmp: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    command = d.end_session_command(name, session)
    if tmp is not None:
        command[2] = _moved(command[2], tmp)
    return subprocess.run(command, env=_env(), capture_output=True, timeout=30)


def test_a_session_ended_before_its_command_started_never_starts_it(
    tmp_path: Path, name: str
) -> None:
    # The end comes first (the exec was still on its way): the session finds its marker in
    # the cancel file and gives up; another session of the same debugger runs.
    assert _end_session(name, "0000a001", tmp_path).returncode == 0
    late = _session(tmp_path, name, "echo", "ran", session="0000a001")
    out, _ = late.communicate(timeout=10)
    assert (late.returncode, out) == (130, b"")
    other = _session(tmp_path, name, "echo", "ran", session="0000a002")
    assert other.communicate(timeout=10)[0] == b"ran\n"


def test_a_session_still_in_its_script_is_ended_by_the_pid_it_wrote(
    tmp_path: Path, name: str
) -> None:
    # Held before its exec (its holder is ending): no process shows the marker yet.
    (tmp_path / f".podscope-ending-{name}").touch()
    held = _session(tmp_path, name, "echo", "ran", session="0000a003")
    try:
        deadline = time.monotonic() + 10
        mark = tmp_path / f".podscope-session-{name}"
        while not mark.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert _end_session(name, "0000a003", tmp_path).returncode == 0
        out, _ = held.communicate(timeout=5)
        assert held.returncode != 0 and out == b""
    finally:
        if held.poll() is None:
            os.killpg(held.pid, signal.SIGKILL)
        held.wait()


def _wait_running(tmp: Path, name: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while _status(tmp, name) != f"live {count}":
        assert time.monotonic() < deadline, _status(tmp, name)
        time.sleep(0.05)


def test_ending_a_session_ends_its_processes_and_no_other_sessions(
    tmp_path: Path, name: str
) -> None:
    ours = _session(tmp_path, name, "sh", "-c", "sleep 60; :", session="0000aaaa")
    theirs = _session(tmp_path, name, "sh", "-c", "sleep 60; :", session="0000bbbb")
    try:
        _wait_running(tmp_path, name, 2)
        started = time.monotonic()
        done = _end_session(name, "0000aaaa")
        assert done.returncode == 0, done.stderr
        assert ours.wait(timeout=5) != 0
        assert time.monotonic() - started < 2, "TERM was enough: no wait for KILL"
        # The child (sleep) carries the marker too, and ended with its shell.
        assert _status(tmp_path, name) == "live 1"
        assert theirs.poll() is None
    finally:
        for proc in (ours, theirs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_session_that_ignores_term_is_killed(tmp_path: Path, name: str) -> None:
    stubborn = _session(
        tmp_path, name, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done", session="0000cccc"
    )
    try:
        _wait_running(tmp_path, name, 1)
        time.sleep(0.2)  # its trap is set
        started = time.monotonic()
        assert _end_session(name, "0000cccc").returncode == 0
        assert stubborn.wait(timeout=5) == -signal.SIGKILL
        assert 1.5 <= time.monotonic() - started < 5
    finally:
        if stubborn.poll() is None:
            os.killpg(stubborn.pid, signal.SIGKILL)
        stubborn.wait()


def test_a_process_a_session_starts_while_it_is_being_ended_is_ended_too(
    tmp_path: Path, name: str
) -> None:
    # The command outlives the TERM and starts another process after it: one scan would not
    # see that one, and the KILL of the command would leave it running.
    late = "trap '' TERM; sleep 0.5; sleep 30"
    stubborn = _session(tmp_path, name, "sh", "-c", late, session="0000c0c0")
    try:
        _wait_running(tmp_path, name, 1)
        time.sleep(0.2)  # its trap is set
        assert _end_session(name, "0000c0c0").returncode == 0
        assert stubborn.wait(timeout=5) == -signal.SIGKILL
        assert not _status(tmp_path, name).startswith("live"), _status(tmp_path, name)
    finally:
        if stubborn.poll() is None:
            os.killpg(stubborn.pid, signal.SIGKILL)
        stubborn.wait()


def test_ending_a_session_that_has_ended_is_not_an_error(name: str) -> None:
    assert _end_session(name, "0000dddd").returncode == 0


def _guarded_holder(tmp: Path, name: str, script: str) -> subprocess.Popen[bytes]:
    script = script.replace('[ "$left" -gt 5 ] && left=5', '[ "$left" -gt 1 ] && left=1')
    return subprocess.Popen(
        ["sh", "-c", script, d.HOLDER_NAME, "2", f"{name}/"], env=_env(), stderr=subprocess.PIPE
    )


def test_a_session_waits_while_its_holder_is_ending_and_runs_once_it_goes_on(
    tmp_path: Path, name: str
) -> None:
    ending = tmp_path / f".podscope-ending-{name}"
    ending.touch()  # a holder whose time is up, between making the file and looking again
    run = _session(tmp_path, name, "echo", "ran", session="0000ffff")
    time.sleep(0.5)
    assert run.poll() is None, "the command started in a debugger that is ending"
    ending.unlink()  # the holder saw the session's start and goes on
    out, _ = run.communicate(timeout=10)
    assert (run.returncode, out) == (0, b"ran\n")


def test_a_holder_whose_time_is_up_goes_on_for_a_session_that_began_after_its_look(
    tmp_path: Path, name: str
) -> None:
    # A session writes its start right between the holder's look and its "ending" file: the
    # holder's second read sees it.
    script = _moved(d.HOLDER_SCRIPT, tmp_path)
    make = f'if true 2>/dev/null >"{tmp_path}/.podscope-ending-${{me%/}}"; then'
    assert script.count(make) == 1
    race = (
        f'{make}\n      [ -e "{tmp_path}/raced" ] || {{ : >"{tmp_path}/raced"; '
        f'echo "$now racer/1" >"{tmp_path}/.podscope-session-${{me%/}}"; }}'
    )
    proc = _guarded_holder(tmp_path, name, script.replace(make, race))
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "raced").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.5)
        assert proc.poll() is None, "the holder ended as a session began"
        assert not (tmp_path / f".podscope-ending-{name}").exists()
        # Its TTL now counts from that session: it expires once it has passed.
        assert proc.wait(timeout=8) == d.EXPIRED_EXIT
        assert (tmp_path / "term").read_text().strip() == "expired"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_holder_that_cannot_write_its_ending_file_says_it_expired_unguarded(
    tmp_path: Path, name: str
) -> None:
    script = _moved(d.HOLDER_SCRIPT, tmp_path).replace(
        f"{tmp_path}/.podscope-ending-", f"{tmp_path}/absent/.podscope-ending-"
    )
    proc = _guarded_holder(tmp_path, name, script)
    assert proc.wait(timeout=10) == d.EXPIRED_EXIT
    said = (tmp_path / "term").read_text().strip()
    assert said == "expired unguarded"
    assert not d.expired_guarded(said) and d.terminated_state(0, said).state == "expired"


# -- a session with no input of its own ends with its exec's stdin ----------------------------


def _watched(tmp: Path, name: str, session: str, *words: str) -> subprocess.Popen[bytes]:
    # stdin stands for the exec's stdin stream: open, nothing written, until the client goes.
    return _fed(tmp, d.session_command(name, list(words), session, watched=True))


def _fed(tmp: Path, command: list[str]) -> subprocess.Popen[bytes]:
    # Run as an exec with a stdin stream would run it: that stdin is the test's to write to
    # and to close.
    command[2] = _moved(command[2], tmp)
    return subprocess.Popen(
        command,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_a_watched_session_keeps_the_output_and_exit_code_and_ends_with_its_command(
    tmp_path: Path, name: str
) -> None:
    # The stdin stays open: the exec ends because the command did, not because input ended.
    # The command reads /dev/null, as an exec without a stdin stream does.
    run = _watched(
        tmp_path, name, "0000e0e0", "sh", "-c", 'cat; echo "$PODSCOPE_SESSION"; echo e >&2; exit 4'
    )
    try:
        assert run.wait(timeout=10) == 4
        assert run.stdout is not None and run.stderr is not None
        assert run.stdout.read() == f"{name}/0000e0e0\n".encode()
        assert run.stderr.read() == b"e\n"
    finally:
        _end_group(run)


def test_a_watched_session_whose_command_a_signal_ends_exits_128_plus_it(
    tmp_path: Path, name: str
) -> None:
    run = _watched(tmp_path, name, "0000e1e1", "sh", "-c", "kill -KILL $$")
    try:
        assert run.wait(timeout=10) == 128 + signal.SIGKILL
    finally:
        _end_group(run)


def test_the_end_of_its_stdin_ends_a_watched_session_and_its_children(
    tmp_path: Path, name: str
) -> None:
    # What a client killed with SIGKILL leaves: the stream, and with it the stdin, ends.
    run = _watched(tmp_path, name, "0000e2e2", "sh", "-c", "sleep 60 & wait")
    try:
        _wait_running(tmp_path, name, 1)
        time.sleep(0.3)  # the child has started
        assert "live" in _status(tmp_path, name)
        started = time.monotonic()
        assert run.stdin is not None
        run.stdin.close()
        assert run.wait(timeout=5) == 128 + signal.SIGTERM
        assert time.monotonic() - started < 2, "TERM was enough: no wait for KILL"
        # The child (sleep 60) carries the marker too, and ended with its shell.
        deadline = time.monotonic() + 3
        while _status(tmp_path, name).startswith("live"):
            assert time.monotonic() < deadline, _status(tmp_path, name)
            time.sleep(0.05)
    finally:
        _end_group(run)


def test_a_watched_session_that_ignores_term_is_killed_after_its_stdin_ends(
    tmp_path: Path, name: str
) -> None:
    run = _watched(
        tmp_path, name, "0000e3e3", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"
    )
    try:
        _wait_running(tmp_path, name, 1)
        time.sleep(0.2)  # its trap is set
        started = time.monotonic()
        assert run.stdin is not None
        run.stdin.close()
        assert run.wait(timeout=6) == 128 + signal.SIGKILL
        assert 1.5 <= time.monotonic() - started < 5
    finally:
        _end_group(run)


def test_only_a_session_with_its_own_id_can_be_watched() -> None:
    with pytest.raises(ValueError, match="own id"):
        d.session_command("debugger-1", ["true"], watched=True)


def test_a_child_that_ignores_term_is_killed_though_its_parent_command_has_ended(
    tmp_path: Path, name: str
) -> None:
    # The command ends at the TERM, and the wrapper with it, which tells the watcher to end:
    # a watcher that is ending the session goes on, so the stubborn child is killed too.
    child = "(trap '' TERM; while :; do sleep 0.1; done) & wait"
    run = _watched(tmp_path, name, "0000e4e4", "sh", "-c", child)
    try:
        _wait_running(tmp_path, name, 1)
        time.sleep(0.3)  # the child has set its trap
        assert run.stdin is not None
        run.stdin.close()
        assert run.wait(timeout=5) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 5
        while _status(tmp_path, name).startswith("live"):
            assert time.monotonic() < deadline, _status(tmp_path, name)
            time.sleep(0.1)
    finally:
        _end_group(run)


@pytest.mark.parametrize("how", ["end-session", "stdin-end", "both"])
def test_a_watched_session_ended_as_its_command_starts_leaves_nothing_running(
    tmp_path: Path, name: str, how: str
) -> None:
    # The command's process is forked before it execs: until then it does not show the
    # marker, so a scan alone would miss it. The wrapper passes a TERM on and the watcher
    # ends the command's PID whatever it shows. Each round ends a little later after the
    # session's start, to land in that window at least once.
    mark = tmp_path / f".podscope-session-{name}"
    for round_ in range(12):
        session = f"0000f{round_:03x}"
        mark.unlink(missing_ok=True)
        run = _watched(tmp_path, name, session, "sh", "-c", "sleep 30; :")
        try:
            deadline = time.monotonic() + 10
            while not mark.exists():
                assert time.monotonic() < deadline
                time.sleep(0.001)
            time.sleep(round_ * 0.002)
            if how != "end-session":
                assert run.stdin is not None
                run.stdin.close()
            if how != "stdin-end":
                assert _end_session(name, session, tmp_path).returncode == 0
            if how == "end-session":
                run.wait(timeout=5)
            deadline = time.monotonic() + 4
            while _status(tmp_path, name).startswith("live"):
                assert time.monotonic() < deadline, f"round {round_}: {_status(tmp_path, name)}"
                time.sleep(0.05)
        finally:
            _end_group(run)


def test_a_term_to_a_watched_sessions_wrapper_reaches_its_command(
    tmp_path: Path, name: str
) -> None:
    # END_SESSION_SCRIPT TERMs the PID the session wrote, the wrapper's: its command may not
    # have exec'd yet and show no marker, so the wrapper passes the TERM on and waits (the
    # command's own children are END_SESSION_SCRIPT's: it TERMs every marked process).
    run = _watched(tmp_path, name, "0000e5e5", "sleep", "30")
    try:
        _wait_running(tmp_path, name, 1)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=5) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 1
        while _status(tmp_path, name).startswith("live"):
            assert time.monotonic() < deadline, _status(tmp_path, name)
            time.sleep(0.05)
    finally:
        _end_group(run)


# -- a session with input of its own is kept by a second exec ---------------------------------


def _keeper(tmp: Path, name: str, session: str) -> subprocess.Popen[bytes]:
    # stdin stands for the keeper's exec stdin stream: heartbeats, "done", or its end.
    return _fed(tmp, d.session_keeper_command(name, session))


def test_the_end_of_a_keepers_stdin_ends_the_session_it_keeps_and_no_other(
    tmp_path: Path, name: str
) -> None:
    # An interactive shell whose client was killed: only the keeper learns of it.
    shell = _session(tmp_path, name, "sh", "-c", "sleep 60 & wait", session="0000c1c1")
    other = _session(tmp_path, name, "sh", "-c", "sleep 60; :", session="0000c2c2")
    keeper = _keeper(tmp_path, name, "0000c1c1")
    try:
        _wait_running(tmp_path, name, 2)
        assert keeper.stdin is not None
        for _ in range(3):  # heartbeats end nothing
            keeper.stdin.write(b"\n")
            keeper.stdin.flush()
        time.sleep(0.3)
        assert keeper.poll() is None and shell.poll() is None
        started = time.monotonic()
        keeper.stdin.close()
        assert keeper.wait(timeout=5) == 0
        assert shell.wait(timeout=5) != 0
        assert time.monotonic() - started < 2, "TERM was enough: no wait for KILL"
        # The shell's child (sleep 60) shows the marker too, and ended with it.
        _wait_running(tmp_path, name, 1)
        assert other.poll() is None
    finally:
        for proc in (shell, other, keeper):
            _end_group(proc)


def test_a_keeper_told_done_ends_nothing(tmp_path: Path, name: str) -> None:
    # The session ended as it should; what it left running on purpose (nohup ... &) stays.
    left = _session(tmp_path, name, "sh", "-c", "sleep 60; :", session="0000c3c3")
    keeper = _keeper(tmp_path, name, "0000c3c3")
    try:
        _wait_running(tmp_path, name, 1)
        assert keeper.stdin is not None
        keeper.stdin.write(b"\n" + d.SESSION_KEEPER_DONE)
        keeper.stdin.close()
        assert keeper.wait(timeout=5) == 0
        time.sleep(0.5)
        assert left.poll() is None
        assert _status(tmp_path, name) == "live 1"
    finally:
        for proc in (left, keeper):
            _end_group(proc)


def test_a_keeper_is_not_a_session_of_its_own(tmp_path: Path, name: str) -> None:
    # Its process shows no marker: a keeper alone leaves the debugger idle (it can expire).
    keeper = _keeper(tmp_path, name, "0000c4c4")
    try:
        time.sleep(0.3)
        assert keeper.poll() is None
        assert _status(tmp_path, name).startswith("idle")
    finally:
        _end_group(keeper)


def test_only_a_session_with_its_own_id_can_be_kept() -> None:
    with pytest.raises(ValueError, match="own id"):
        d.session_keeper_command("debugger-1", "")
