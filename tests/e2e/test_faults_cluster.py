"""Faults that hit the whole cluster: an API server restart, a stopped kubelet.

Other engineers' e2e tests run against the same cluster, so each fault is kept short and every
component is restarted in a ``finally`` (``start_component`` waits until it is ready again).
Run this module sparingly.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from devcluster import cluster

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope


@contextmanager
def stopped(*components: str) -> Iterator[None]:
    """Stop ``components`` for the block; always start them again (in reverse order)."""
    try:
        for name in components:
            cluster.stop_component(name)
        yield
    finally:
        for name in reversed(components):
            cluster.start_component(name)


class Lines:
    """Collect a pipe's lines in the background; wait for one to appear."""

    def __init__(self, pipe: Any) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} not seen in: {''.join(self.lines)}")
                self._cond.wait(left)

    @property
    def text(self) -> str:
        with self._cond:
            return "".join(self.lines)


def test_api_server_restart_while_waiting_resumes_the_watch(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    timings: dict[str, float] = {}
    # With the kubelet stopped the container cannot start, so podscope is sure to be waiting
    # (watching the Pod) when the API server goes away.
    with stopped("kubelet"):
        proc = subprocess.Popen(
            # The attach model: its watch of the Pod is what the restart must not break.
            [sys.executable, "-m", "podscope", "debug", "web", "-n", namespace, "--attach-mode"]
            + list(PULL)
            + ["--", "sh", "-c", "sleep 2; echo started-after-the-restart"],
            env=podscope_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        err = Lines(proc.stderr)
        try:
            err.wait_for("created ephemeral container", timeout=30)
            started = time.monotonic()
            cluster.stop_component("kube-apiserver")
            time.sleep(2)  # podscope's watch now fails to reconnect
            cluster.start_component("kube-apiserver")
            timings["apiserver_down_s"] = time.monotonic() - started
        finally:
            cluster.start_component("kube-apiserver")
    assert proc.stdout is not None
    out = proc.stdout.read()
    code = proc.wait(timeout=120)
    assert code == 0, err.text
    assert "started-after-the-restart" in out
    assert "lost the watch on Pod web" in err.text
    assert "Traceback" not in err.text
    # One request, one container: the restart caused no duplicate.
    assert len(ephemeral(kubectl.pod(namespace, "web"))) == 1
    print(f"API server down for {timings['apiserver_down_s']:.1f}s")


def test_stopped_kubelet_ends_the_wait_at_timeout_with_the_last_state(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    with stopped("kubelet"):
        started = time.monotonic()
        result = podscope(
            podscope_env,
            *("debug", "web", "-n", namespace, "--attach-mode", "--timeout", "6", *PULL),
            *("--", "true"),
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 12, result.stderr
    assert "did not start within 6s (last state: no status reported by the kubelet yet)" in (
        result.stderr
    )
    assert "podscope: hint: the kubelet on node podscope-node has not acted on the container" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert elapsed < 6 + 10, f"took {elapsed:.1f}s"
