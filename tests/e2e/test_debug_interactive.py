"""Interactive sessions through a real pseudo-terminal (pexpect)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect

from tests.e2e.conftest import NGINX_IMAGE, Kubectl
from tests.e2e.helpers import PULL, SLEEPER, podscope

PROMPT = r"/ # "


def test_interactive_shell_sees_target_resizes_and_exits_with_its_code(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", NGINX_IMAGE)
    before, after = tmp_path / "before", tmp_path / "after"
    command = " ".join(
        shlex.quote(part)
        for part in [
            sys.executable,
            "-m",
            "podscope",
            "debug",
            "web",
            "-n",
            namespace,
            "-it",
            "--attach-mode",
            "--image-pull-policy",
            "IfNotPresent",
        ]
    )
    # The outer shell records the terminal settings before and after the session.
    script = f"stty -g > {before}; {command}; echo RC=$?; stty -g > {after}"
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", script],
        env=podscope_env,
        encoding="utf-8",
        timeout=60,
        dimensions=(30, 100),
    )
    try:
        child.expect(PROMPT)  # shown even though the attach opened after the shell started
        child.sendline("ps")
        child.expect("nginx: master process")
        child.expect(PROMPT)
        child.sendline("stty size")
        child.expect("30 100")
        child.setwinsize(40, 120)
        child.expect(PROMPT)
        child.sendline("stty size")
        child.expect("40 120")
        child.sendline("exit 3")
        child.expect(r"RC=(\d+)")
        assert child.match.group(1) == "3"
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert before.read_text() == after.read_text(), "terminal settings not restored"
    containers = kubectl.pod(namespace, "web")["spec"]["ephemeralContainers"]
    assert len(containers) == 1 and containers[0]["tty"] is True


# -- -it without a terminal: kubectl's fallback (a warning, then plain stdin) -----------------

NO_TTY = "podscope: warning: unable to use a TTY: input is not a terminal; going on without one"


def test_it_over_input_that_is_not_a_terminal_runs_without_a_tty_and_ends_with_it(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    args = ("debug", "web", "-n", namespace, "-it", *PULL)
    # stdin at EOF (< /dev/null): the shell reads nothing, exits, and so does podscope.
    with open(os.devnull) as devnull:
        empty = subprocess.run(
            [sys.executable, "-m", "podscope", *args],
            stdin=devnull,
            capture_output=True,
            text=True,
            env=podscope_env,
            timeout=90,
        )
    assert empty.returncode == 0, empty.stderr
    assert empty.stderr.count(NO_TTY) == 1, empty.stderr
    # Piped input is the shell's script; its exit code is podscope's.
    piped = podscope(podscope_env, *args, input="echo piped-$((40 + 2))\nexit 4\n", timeout=90)
    assert piped.returncode == 4, piped.stderr
    assert piped.stdout == "piped-42\n"
    assert piped.stderr.count(NO_TTY) == 1, piped.stderr
    # No shell is left behind in the debugger: ls calls it idle, not live. The sessions can
    # be over before the kubelet's relist reports the debugger running ("starting").
    deadline = time.monotonic() + 15
    while True:
        listed = podscope(podscope_env, "ls", "web", "-n", namespace, "-o", "json")
        (row,) = json.loads(listed.stdout)
        if not row["debugger"].startswith("starting") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert row["debugger"].startswith("idle"), row


def test_it_without_a_terminal_in_the_attach_model_gets_a_container_without_a_tty(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    args = ("debug", "web", "-n", namespace, "-it", "--attach-mode", *PULL)
    result = podscope(podscope_env, *args, input="echo attached-$((40 + 2))\nexit 5\n", timeout=90)
    assert result.returncode == 5, result.stderr
    assert result.stdout == "attached-42\n"
    assert result.stderr.count(NO_TTY) == 1, result.stderr
    (container,) = kubectl.pod(namespace, "web")["spec"]["ephemeralContainers"]
    assert container["stdin"] is True and not container.get("tty")
    assert container.get("stdinOnce") is True  # the end of input reaches the shell


def test_it_with_no_attach_from_a_script_keeps_the_tty_for_a_later_attach(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    args = ("debug", "web", "-n", namespace, "-it", "--no-attach", "-c", "later", *PULL)
    created = podscope(podscope_env, *args)  # stdin a pipe: it is not used, nothing falls back
    assert created.returncode == 0, created.stderr
    assert "unable to use a TTY" not in created.stderr
    (container,) = kubectl.pod(namespace, "web")["spec"]["ephemeralContainers"]
    assert container["name"] == "later" and container["tty"] is True
