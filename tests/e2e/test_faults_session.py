"""Faults that hit one session, provoked for real (the whole cluster stays up).

Cluster-wide faults (API server restart, kubelet stop) are in test_faults_cluster.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import NGINX_IMAGE, Kubectl
from tests.e2e.faultkit import PROMPT, BlackHole, closed_port, pty_podscope
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope
from tests.e2e.tcpproxy import TcpProxy, kubeconfig_via

API = ("127.0.0.1", 6443)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy(*API)
    yield p
    p.close()


@pytest.fixture
def proxied_env(
    proxy: TcpProxy, kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    config = kubeconfig_via(kubeconfig, f"https://127.0.0.1:{proxy.port}", tmp_path / "proxied")
    return {**podscope_env, "KUBECONFIG": str(config)}


def _env_for(
    podscope_env: dict[str, str], kubeconfig: str, server: str, out: Path
) -> dict[str, str]:
    return {**podscope_env, "KUBECONFIG": str(kubeconfig_via(kubeconfig, server, out))}


# --- 2. API server unreachable at start -----------------------------------------------------


@pytest.mark.parametrize("how", ["closed-port", "proxy-refuses", "hung-server"])
def test_unreachable_at_start_is_one_clear_line_and_exit_4(
    how: str,
    kubeconfig: str,
    podscope_env: dict[str, str],
    proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    hole = BlackHole()  # accepts, never answers: only the connect timeout ends the wait
    if how == "closed-port":
        port = closed_port()
    elif how == "hung-server":
        port = hole.port
    else:
        proxy.refuse = True
        port = proxy.port
    env = _env_for(podscope_env, kubeconfig, f"https://127.0.0.1:{port}", tmp_path / "kc")
    started = time.monotonic()
    try:
        result = podscope(env, "debug", "web", "-n", "default", *PULL, "--", "true", timeout=60)
    finally:
        hole.close()
    elapsed = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("podscope: error:")]
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{port}" in errors[0]
    # Within the 10 s connect timeout (plus interpreter start-up).
    assert elapsed < 15, f"took {elapsed:.1f}s"


# --- 3. the attach stream drops mid-session -------------------------------------------------


def test_dropped_stream_reattaches_to_the_same_shell(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    proxied_env: dict[str, str],
    proxy: TcpProxy,
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    args = ["debug", "web", "-n", namespace, "-it", "--attach-mode", *PULL]
    with pty_podscope(proxied_env, tmp_path, *args) as session:
        child = session.child
        child.expect(PROMPT)
        child.sendline("export MARK=set-before-the-drop")
        # Proof the shell has it before the drop (prompt redraws alone prove nothing).
        child.sendline("echo ready-$MARK")
        child.expect("ready-set-before-the-drop")
        child.expect(PROMPT)
        assert proxy.drop() >= 1
        child.expect("connection to container debugger-[a-z0-9]+ lost; re-attaching")
        child.expect("re-attached to container debugger-")
        child.sendline("echo mark=$MARK")
        child.expect("mark=set-before-the-drop")
        child.sendline("exit 6")
        assert session.exit_code() == 6
        assert session.terminal_restored()
    containers = ephemeral(kubectl.pod(namespace, "web"))
    assert len(containers) == 1, "a re-attach must never add a container"


def test_no_reconnect_exits_stream_lost(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    proxied_env: dict[str, str],
    proxy: TcpProxy,
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    args = ["debug", "web", "-n", namespace, "-it", "--no-reconnect", "--attach-mode", *PULL]
    with pty_podscope(proxied_env, tmp_path, *args) as session:
        session.child.expect(PROMPT)
        proxy.drop()
        session.child.expect("was lost \\(--no-reconnect\\)")
        session.child.expect("re-attach with: podscope attach web -c debugger-")
        assert session.exit_code() == 15
        assert session.terminal_restored()
    # The shell is still there to re-attach to.
    state = ephemeral(kubectl.pod(namespace, "web"))
    assert len(state) == 1


def test_dropped_stream_without_tty_reattaches(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    proxied_env: dict[str, str],
    proxy: TcpProxy,
) -> None:
    """Output-only session (no stdin): the command keeps running and its end is reported."""
    make_pod("web", command=SLEEPER)
    cmd = [
        *("debug", "web", "-n", namespace, "--attach-mode", *PULL),
        *("--", "sh", "-c", "sleep 3; echo before; sleep 6; echo after; exit 9"),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "podscope", *cmd],
        env=proxied_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "before\n"
    proxy.drop()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 9, err
    assert "re-attached to container" in err
    assert "after\n" in out


# --- 4. the Pod is deleted during the session -----------------------------------------------


def test_pod_deleted_during_session_exits_pod_gone(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    with pty_podscope(podscope_env, tmp_path, "debug", "web", "-n", namespace, "-it", *PULL) as s:
        s.child.expect(PROMPT)
        kubectl.run("delete", "pod", "web", "-n", namespace, "--wait=false")
        s.child.expect("podscope: error: Pod web (is being deleted|was deleted)")
        assert s.exit_code(timeout=60) == 14
        assert s.terminal_restored()


# --- 6. the target crashes and restarts during the session ----------------------------------


def test_target_restart_is_noted_and_session_continues(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    # With a shared process namespace the pause container holds it, so the debug container's
    # processes outlive the target's crash (see the private-namespace case below).
    make_pod("web", command=["sh", "-c", "sleep 6; exit 3"], share_processes=True)
    result = podscope(
        podscope_env,
        *("debug", "web", "-n", namespace, *PULL),
        *("--", "sh", "-c", "sleep 14; echo still-here"),
    )
    assert result.returncode == 0, result.stderr
    assert "still-here" in result.stdout
    assert "target container web restarted (restart count 1; it stopped with exit code 3" in (
        result.stderr
    )
    assert "is unaffected" in result.stderr


def test_target_restart_in_a_private_pid_namespace_is_explained(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    # Without shareProcessNamespace the debug container joins the target's own PID namespace;
    # when the target's PID 1 dies the kernel kills every process in it, the debug shell too.
    make_pod("web", command=["sh", "-c", "sleep 6; exit 3"])
    result = podscope(
        podscope_env,
        *("debug", "web", "-n", namespace, *PULL),
        *("--", "sh", "-c", "sleep 14; echo still-here"),
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 137, result.stderr
    line = next(x for x in result.stderr.splitlines() if "was killed with its target" in x)
    assert "container web stopped (" in line and "exit code 3" in line, line
    assert "shareProcessNamespace" in result.stderr


# --- 8. Ctrl-C at every phase ---------------------------------------------------------------


def test_ctrl_c_before_create_says_nothing_was_created(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    hole = BlackHole()  # the TLS handshake never completes: podscope waits on its first read
    try:
        env = _env_for(podscope_env, kubeconfig, f"https://127.0.0.1:{hole.port}", tmp_path / "k")
        with pty_podscope(env, tmp_path, "debug", "web", "-n", "default", "-it", *PULL) as s:
            time.sleep(2.0)
            s.interrupt()
            s.child.expect("interrupted before the debug container was created: the Pod is")
            assert s.exit_code() == 130
            assert s.terminal_restored()
    finally:
        hole.close()


def test_ctrl_c_while_waiting_says_the_container_stays(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    hole = BlackHole()  # a registry that never answers: the image pull hangs
    try:
        image = f"127.0.0.1:{hole.port}/hangs/forever:1"
        args = ["debug", "web", "-n", namespace, "-it", "--attach-mode", "--image", image]
        args += ["--image-pull-policy", "Always"]
        with pty_podscope(podscope_env, tmp_path, *args) as s:
            s.child.expect(r"created ephemeral container (debugger-[a-z0-9]+)")
            name = s.child.match.group(1)
            time.sleep(1.0)
            s.interrupt()
            s.child.expect(f"interrupted: debug container {name} was created and stays in Pod web")
            assert s.exit_code() == 130
            assert s.terminal_restored()
    finally:
        hole.close()
    assert [c["name"] for c in ephemeral(kubectl.pod(namespace, "web"))] == [name]


def test_ctrl_c_during_attach_restores_the_terminal(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("web", NGINX_IMAGE)
    args = ["debug", "web", "-n", namespace, "-it", "--attach-mode", *PULL]
    with pty_podscope(podscope_env, tmp_path, *args) as s:
        s.child.expect(PROMPT)
        s.interrupt()  # a signal: a Ctrl-C key would go to the remote shell in raw mode
        s.child.expect("interrupted: debug container debugger-[a-z0-9]+ was created and stays")
        assert s.exit_code() == 130
        assert s.terminal_restored()


# --- hostile container output ---------------------------------------------------------------


def test_container_output_cannot_forge_podscope_messages(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    script = "sleep 2; echo 'podscope: error: fake'; echo 'podscope: hint: fake too'"
    result = podscope(
        podscope_env, "debug", "web", "-n", namespace, *PULL, "--", "sh", "-c", script
    )
    assert result.returncode == 0, result.stderr
    assert "podscope: error: fake" in result.stdout
    assert "fake" not in result.stderr
    assert all(line.startswith("podscope: ") for line in result.stderr.splitlines())


# --- 7. concurrent debug runs against one Pod -----------------------------------------------


def test_twenty_concurrent_debug_runs_make_twenty_containers(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    make_pod("web", command=SLEEPER)
    # A one-second command: some attaches reach the kubelet after it exited, a race podscope
    # must answer with the container's log, not an error.
    args = ["debug", "web", "-n", namespace, "-q", "--attach-mode", *PULL]
    args += ["--", "sh", "-c", "sleep 1; echo ok"]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: podscope(podscope_env, *args, timeout=240), range(20)))
    failed = [r.stderr for r in results if r.returncode != 0]
    assert not failed, failed
    assert all(r.stdout == "ok\n" for r in results), [r.stdout for r in results]
    names = [c["name"] for c in ephemeral(kubectl.pod(namespace, "web"))]
    assert len(names) == 20 and len(set(names)) == 20
