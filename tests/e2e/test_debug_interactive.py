"""Interactive sessions through a real pseudo-terminal (pexpect)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect

from tests.e2e.conftest import NGINX_IMAGE, Kubectl

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
