"""The README's Python API example, run as written against the local cluster."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") : text.index("## Exit codes")]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python API section has no python code block"
    return match.group(1)


def test_readme_client_example(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    for name in ("web-1", "web-2"):
        make_pod(name, command=["sleep", "3600"])
    code = readme_example().replace('namespace="shop"', f'namespace="{namespace}"')
    assert f'namespace="{namespace}"' in code
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # One line per Pod: name, the container podscope made, exit code 0, the Pod's hostname.
    debugged = [line.split() for line in lines[:2]]
    assert [d[0] for d in debugged] == ["web-1", "web-2"]
    assert all(d[1].startswith("debugger-") and d[2] == "0" for d in debugged)
    assert [d[3] for d in debugged] == ["web-1", "web-2"]  # a Pod's hostname is its name
    assert lines[2].split()[:2] == ["web-1", debugged[0][1]]
    assert lines[-1].startswith("True ")
    # The library never printed anything itself: stderr holds no progress lines.
    assert "podscope:" not in result.stderr


def test_a_wrong_request_or_field_type_is_a_type_error_naming_it_and_nothing_is_sent(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    make_pod("web", command=["sleep", "3600"])
    code = f"""
import podscope
with podscope.Client(namespace={namespace!r}) as client:
    for call in (
        lambda: client.debug(podscope.ListRequest()),
        lambda: client.debug(podscope.DebugRequest(pod=None, command=("true",))),
        lambda: client.debug(podscope.DebugRequest(pod="web", stdin="yes", command=("true",))),
    ):
        try:
            call()
        except TypeError as exc:
            print("TypeError:", exc)
    pod = client.kube.get_pod({namespace!r}, "web")
    print("ephemeral:", len(pod["spec"].get("ephemeralContainers", [])))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "TypeError: expected a DebugRequest, not ListRequest",
        "TypeError: DebugRequest.pod must be str, not NoneType (None)",
        "TypeError: DebugRequest.stdin must be bool, not str ('yes')",
        "ephemeral: 0",
    ]


def test_python_api_tty_with_captured_output_falls_back_with_an_event(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    make_pod("web", command=["sleep", "3600"])
    # In a process of its own: a session that waited for a terminal would hang the suite.
    script = f"""
import os, podscope
from podscope.events import EventLog

log = EventLog()
read, write = os.pipe()
os.write(write, b"echo captured-$((40 + 2)); exit 6\\n")
os.close(write)
with podscope.Client(namespace={namespace!r}, on_event=log) as client:
    request = podscope.DebugRequest(
        pod="web", stdin=True, tty=True, image_pull_policy="IfNotPresent"
    )
    result = client.debug(request, streams=podscope.LocalStreams(stdin=read),
                          capture_output=True)
warnings = [e.message for e in log.events if e.kind == "warning"]
print(result.exit_code, result.stdout, warnings)
"""
    run = subprocess.run(
        [sys.executable, "-c", script],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "6 b'captured-42\\n' ['unable to use a TTY: the output is captured; going on without one']"
    )
    assert "podscope:" not in run.stderr  # the library only raised the event
