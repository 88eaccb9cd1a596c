"""The console script's exit skips Python's teardown; what a normal exit does that matters
must still happen: buffered output reaches its reader, atexit handlers run, a thread still
working is waited for, and a closed pipe at the last flush is quiet."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def _python(*words: str) -> subprocess.CompletedProcess[str]:
    # Buffered as a user's shell leaves it, whatever the test run's environment says.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, *words], capture_output=True, text=True, timeout=30, check=False, env=env
    )


def _child(body: str) -> subprocess.CompletedProcess[str]:
    return _python(
        "-c", "import sys\nfrom podscope.cli.main import exit_now\n" + textwrap.dedent(body)
    )


def test_buffered_output_reaches_a_pipe_and_the_code_is_kept() -> None:
    # Through a pipe, stdout is block-buffered: 20 bytes stay in the buffer until a flush.
    done = _child("sys.stdout.write('x' * 20)\nsys.stderr.write('said')\nexit_now(3)\n")
    assert (done.returncode, done.stdout, done.stderr) == (3, "x" * 20, "said")


def test_atexit_handlers_run() -> None:
    done = _child(
        """
        import atexit
        atexit.register(lambda: print("handler ran"))
        exit_now(0)
        """
    )
    assert done.returncode == 0
    assert done.stdout == "handler ran\n"


def test_a_thread_still_working_is_waited_for() -> None:
    done = _child(
        """
        import threading, time
        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        exit_now(4)
        """
    )
    assert (done.returncode, done.stdout) == (4, "thread finished\n")


def test_a_daemon_thread_is_not_waited_for() -> None:
    done = _child(
        """
        import threading, time
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        exit_now(0)
        """
    )
    assert done.returncode == 0


def test_a_reader_gone_before_the_last_flush_ends_quietly() -> None:
    done = _child(
        """
        import os
        read_end, write_end = os.pipe()
        os.close(read_end)
        os.dup2(write_end, 1)
        sys.stdout.write("unread")
        exit_now(5)
        """
    )
    # As main() does for `| head`: the reader had what it wanted, so 0 and no traceback.
    assert (done.returncode, done.stderr) == (0, "")


def test_the_console_script_keeps_argparse_exit_codes_and_output() -> None:
    usage = _python("-m", "podscope", "debug", "--no-such-flag")
    helped = _python("-m", "podscope", "debug", "--help")
    assert usage.returncode == 2 and "--no-such-flag" in usage.stderr
    assert helped.returncode == 0 and helped.stdout.startswith("usage: podscope debug")
