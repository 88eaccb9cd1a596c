"""The exec model on the real cluster: debuggers that are exec'd into, reused, stopped, expired."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import APP_IMAGE, Kubectl
from tests.e2e.faultkit import PROMPT, pty_podscope
from tests.e2e.helpers import (
    PULL,
    SLEEPER,
    ephemeral,
    pod_fingerprint,
    podscope,
    podscope_started,
    service_account_kubeconfig,
)
from tests.e2e.tcpproxy import TcpProxy, kubeconfig_via

API = ("127.0.0.1", 6443)
MakePod = Callable[..., dict[str, Any]]


def _debuggers(kubectl: Kubectl, namespace: str, pod: str = "web") -> list[dict[str, Any]]:
    return [
        c
        for c in ephemeral(kubectl.pod(namespace, pod))
        if any(e["name"] == "PODSCOPE_DEBUGGER" for e in c.get("env") or [])
    ]


def _state(kubectl: Kubectl, namespace: str, name: str, pod: str = "web") -> dict[str, Any]:
    for status in kubectl.pod(namespace, pod)["status"].get("ephemeralContainerStatuses") or []:
        if status["name"] == name:
            return dict(status.get("state") or {})
    return {}


def _wait_terminated(kubectl: Kubectl, namespace: str, name: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = _state(kubectl, namespace, name)
        if "terminated" in state:
            return dict(state["terminated"])
        assert time.monotonic() < deadline, f"{name} still {state}"
        time.sleep(0.5)


def _ls(env: dict[str, str], namespace: str) -> dict[str, dict[str, Any]]:
    result = podscope(env, "ls", "web", "-n", namespace, "-o", "json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def _debug(env: dict[str, str], namespace: str, *args: str, **kw: Any) -> Any:
    return podscope(env, "debug", "web", "-n", namespace, *PULL, *args, **kw)


def _in_debugger(kubectl: Kubectl, namespace: str, name: str, script: str) -> str:
    """What ``sh -c SCRIPT`` prints in debugger ``name`` of Pod web."""
    command = ["exec", "-n", namespace, "web", "-c", name, "--", "sh", "-c", script]
    return str(kubectl.run(*command).stdout)


def _marked(kubectl: Kubectl, namespace: str, name: str) -> tuple[list[str], list[str]]:
    """The processes of debugger ``name`` that show one of its sessions' markers (as their
    /proc/PID/environ), and the lines of ``ps`` (for what is left, and for a failure)."""
    found = _in_debugger(
        kubectl,
        namespace,
        name,
        f"grep -ls PODSCOPE_SESSION={name}/ /proc/[0-9]*/environ; ps -o pid,args",
    )
    lines = [line.strip() for line in found.splitlines()]
    marked = [x for x in lines if x.startswith("/proc/") and x.endswith("/environ")]
    return marked, lines


def _wait_idle(env: dict[str, str], namespace: str, name: str) -> None:
    deadline = time.monotonic() + 15
    while not (row := _ls(env, namespace)[name])["debugger"].startswith("idle"):
        assert time.monotonic() < deadline, row
        time.sleep(0.5)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy(*API)
    yield p
    p.close()


def test_command_is_exec_d_into_an_idle_debugger_with_its_exit_code_and_no_log(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    result = _debug(podscope_env, namespace, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert result.returncode == 7, result.stderr
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr
    debuggers = _debuggers(kubectl, namespace)
    assert len(debuggers) == 1
    name = debuggers[0]["name"]
    # The container runs the holder, not the command; the command's output is in no log.
    assert debuggers[0]["command"][3] == "podscope-holder"
    # The exec ran before the kubelet's relist said "running"; the holder goes on after it.
    deadline = time.monotonic() + 20
    while "running" not in _state(kubectl, namespace, name):
        assert "terminated" not in _state(kubectl, namespace, name)
        assert time.monotonic() < deadline
        time.sleep(0.3)
    log = kubectl.run("logs", "web", "-c", name, "-n", namespace).stdout
    assert "out" not in log and "err" not in log


def test_ps_in_a_session_shows_the_holder_as_one_short_line_and_env_hides_its_script(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    result = _debug(podscope_env, namespace, "--", "sh", "-c", "ps -o pid,args; env")
    assert result.returncode == 0, result.stderr
    holders = [line for line in result.stdout.splitlines() if "podscope-holder" in line]
    assert len(holders) == 1, result.stdout
    assert (
        holders[0]
        .split(None, 1)[1]
        .startswith('sh -c eval "$PODSCOPE_HOLDER_SCRIPT" podscope-holder 900 debugger-')
    ), holders
    # No line of ps is the holder's script (ps prints a multi-line command line as one line
    # with the script's words: "stopped()" is the script's first word).
    assert "stopped()" not in result.stdout
    assert "PODSCOPE_HOLDER_SCRIPT=" not in result.stdout
    assert "PODSCOPE_SESSION=debugger-" in result.stdout


def test_a_later_debug_reuses_the_debugger_and_new_or_another_profile_do_not(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    first = _debug(podscope_env, namespace, "--", "true")
    assert first.returncode == 0, first.stderr
    second = _debug(podscope_env, namespace, "--", "sh", "-c", "exit 4")
    assert second.returncode == 4, second.stderr
    assert "using debugger debugger-" in second.stderr
    assert len(_debuggers(kubectl, namespace)) == 1
    fresh = _debug(podscope_env, namespace, "--new", "--", "true")
    assert fresh.returncode == 0, fresh.stderr
    assert len(_debuggers(kubectl, namespace)) == 2
    other = _debug(podscope_env, namespace, "--profile", "general", "--", "true")
    assert other.returncode == 0, other.stderr
    assert "created debugger" in other.stderr
    assert len(_debuggers(kubectl, namespace)) == 3
    # The same user again finds the general one (the newest matching), not a legacy one.
    again = _debug(podscope_env, namespace, "--profile", "general", "--", "true")
    assert "using debugger" in again.stderr and len(_debuggers(kubectl, namespace)) == 3


def test_ls_shows_live_idle_stopped_and_expired(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    args = [sys.executable, "-m", "podscope", "debug", "web", "-n", namespace, *PULL]
    session = subprocess.Popen(
        [*args, "--ttl", "10m", "--", "sh", "-c", "sleep 12"],
        env=podscope_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        rows: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            rows = _ls(podscope_env, namespace)
            if any(r["debugger"] == "live" for r in rows.values()):
                break
            time.sleep(0.5)
        assert [r["debugger"] for r in rows.values()] == ["live"], rows
    finally:
        session.communicate(timeout=60)
    assert session.returncode == 0
    (row,) = _ls(podscope_env, namespace).values()
    assert row["debugger"].startswith("idle, expires in "), row
    assert 0 < row["expires_in"] <= 600
    name = row["name"]
    stop = podscope(podscope_env, "stop", "web", "-n", namespace)
    assert stop.returncode == 0, stop.stderr
    assert f"stopped debugger {name}" in stop.stderr
    assert "stays in Pod web as a terminated container" in stop.stderr
    assert _ls(podscope_env, namespace)[name]["debugger"] == "stopped"
    short = _debug(podscope_env, namespace, "--ttl", "2s", "--", "true")
    assert short.returncode == 0, short.stderr
    (other,) = (d["name"] for d in _debuggers(kubectl, namespace) if d["name"] != name)
    _wait_terminated(kubectl, namespace, other, 30)
    assert _ls(podscope_env, namespace)[other]["debugger"] == "expired"


def test_stop_all_and_stop_by_name(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    for _ in range(2):
        assert _debug(podscope_env, namespace, "--new", "--", "true").returncode == 0
    names = [d["name"] for d in _debuggers(kubectl, namespace)]
    several = podscope(podscope_env, "stop", "web", "-n", namespace)
    assert several.returncode == 2 and "has 2 running debuggers" in several.stderr
    one = podscope(podscope_env, "stop", "web", "-n", namespace, "-c", names[0])
    assert one.returncode == 0, one.stderr
    assert "terminated" in _state(kubectl, namespace, names[0])
    assert "running" in _state(kubectl, namespace, names[1])
    rest = podscope(podscope_env, "stop", "web", "-n", namespace, "--all")
    assert rest.returncode == 0 and f"stopped debugger {names[1]}" in rest.stderr
    # A stopped debugger is never exec'd into again: the next debug makes a new one.
    after = _debug(podscope_env, namespace, "--", "true")
    assert after.returncode == 0 and "created debugger" in after.stderr


def test_a_debugger_named_with_c_is_used_and_attach_says_how(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    assert _debug(podscope_env, namespace, "--", "true").returncode == 0
    [name] = [d["name"] for d in _debuggers(kubectl, namespace)]
    # The name `ls` and the session's last line give is enough to get back in.
    again = _debug(podscope_env, namespace, "-c", name, "--", "sh", "-c", "echo $$; exit 4")
    assert again.returncode == 4, again.stderr
    assert f"using debugger {name} (named with -c)" in again.stderr
    other = _debug(podscope_env, namespace, "-c", name, "--profile", "general", "--", "true")
    assert other.returncode == 2, other.stderr
    assert "was made with other options than this command gives" in other.stderr
    assert "securityContext" in other.stderr
    # An attach to its holder would wait in silence: refused at once, with the way in.
    attach = podscope(podscope_env, "attach", "web", "-n", namespace, "-c", name, timeout=30)
    assert attach.returncode == 2, attach.stderr
    assert f"open a shell in it with: podscope debug web -n {namespace} -c {name} -it" in (
        attach.stderr
    )
    assert [d["name"] for d in _debuggers(kubectl, namespace)] == [name]


def test_a_target_that_is_down_is_refused_before_the_write(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=["sh", "-c", "exit 3"], wait=False)
    deadline = time.monotonic() + 60
    while True:
        [status] = kubectl.pod(namespace, "web")["status"].get("containerStatuses") or [{}]
        if status.get("restartCount", 0) >= 2 and "waiting" in status.get("state", {}):
            break  # in a back-off of 20 s or more: down for the whole test
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    for model in ((), ("--attach-mode",)):
        result = _debug(podscope_env, namespace, *model, "--", "true")
        assert result.returncode == 8, result.stderr
        [error] = [line for line in result.stderr.splitlines() if "error:" in line]
        assert error.startswith("podscope: error: target container web of Pod web is not running")
        assert "CrashLoopBackOff" in error and "last exit code 3" in error
        assert "--target ''" in result.stderr and "--copy-to web-debug" in result.stderr
    assert ephemeral(kubectl.pod(namespace, "web")) == []
    # Without joining its processes the debugger starts: the Pod's network and volumes.
    alone = _debug(podscope_env, namespace, "--target", "", "--", "true")
    assert alone.returncode == 0, alone.stderr


def test_stop_says_a_debugger_that_never_started_has_no_process(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    failed = podscope(
        podscope_env, "debug", "web", "-n", namespace, "--image", "nosuch.invalid/x:1", "--", "true"
    )
    assert failed.returncode == 11, failed.stderr
    [name] = [d["name"] for d in _debuggers(kubectl, namespace)]
    stop = podscope(podscope_env, "stop", "web", "-n", namespace, "--all", "-o", "json")
    assert stop.returncode == 0, stop.stderr
    assert json.loads(stop.stdout)["not_started"] == [name]
    assert f"debugger {name} has not started (" in stop.stderr
    assert "there is no process to stop" in stop.stderr and "had already ended" not in stop.stderr


@pytest.mark.parametrize(
    ("ttl", "says"),
    [("0", "shorter than a second"), ("-5m", "is negative"), ("soon", "is not a duration")],
)
def test_bad_ttl_is_refused_before_anything_is_written(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    ttl: str,
    says: str,
) -> None:
    make_pod("web", command=SLEEPER)
    before = pod_fingerprint(kubectl, namespace, "web")
    result = _debug(podscope_env, namespace, f"--ttl={ttl}", "--", "true")
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "--ttl" in result.stderr
    assert "Traceback" not in result.stderr
    assert pod_fingerprint(kubectl, namespace, "web") == before


def test_ttl_passing_during_a_session_never_cuts_it(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    result = _debug(podscope_env, namespace, "--ttl", "2s", "--", "sh", "-c", "sleep 12; echo done")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    (debugger,) = _debuggers(kubectl, namespace)
    ended = _wait_terminated(kubectl, namespace, debugger["name"], 30)
    assert ended.get("message", "").strip() == "expired", ended


def _log_once_running(kubectl: Kubectl, namespace: str, name: str) -> str:
    """The debugger's log; an exec can outrun the kubelet's report, and the API server serves
    no log for a container it still sees as waiting."""
    deadline = time.monotonic() + 30
    while True:
        result = kubectl.run("logs", "web", "-c", name, "-n", namespace, check=False)
        if result.returncode == 0 or "waiting to start" not in result.stderr:
            assert result.returncode == 0, result.stderr
            return result.stdout
        assert time.monotonic() < deadline, result.stderr
        time.sleep(0.5)


def test_a_killed_debugger_is_noticed_at_once_and_replaced(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER, share_processes=True)
    assert _debug(podscope_env, namespace, "--", "true").returncode == 0
    (first,) = _debuggers(kubectl, namespace)
    # Kill the holder from another container of the Pod (the Pod shares its PID namespace).
    kubectl.run(
        "exec",
        "web",
        "-c",
        "web",
        "-n",
        namespace,
        "--",
        "sh",
        "-c",
        "kill -9 $(grep -ls 'podscope-holde[r]' /proc/[0-9]*/cmdline | cut -d/ -f3)",
    )
    started = time.monotonic()
    result = _debug(podscope_env, namespace, "--", "sh", "-c", "exit 5", timeout=60)
    assert result.returncode == 5, result.stderr
    assert time.monotonic() - started < 30
    assert "Traceback" not in result.stderr
    names = [d["name"] for d in _debuggers(kubectl, namespace)]
    assert len(names) == 2 and first["name"] in names
    # Either it was caught refusing the exec, or the kubelet had already reported it.
    assert "has ended (its main process is gone)" in result.stderr or (
        "created debugger" in result.stderr
    )


def test_interactive_shell_gets_a_tty_and_its_input_never_reaches_the_log(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    with pty_podscope(podscope_env, tmp_path, "debug", "web", "-n", namespace, "-it", *PULL) as s:
        child = s.child
        child.expect(PROMPT)
        child.sendline("echo SECRET-MARKER")
        child.expect("SECRET-MARKER")
        child.expect(PROMPT)
        child.sendline("stty size")
        child.expect("30 100")
        child.setwinsize(40, 120)
        child.sendline("stty size")
        child.expect("40 120")
        child.setwinsize(30, 100)  # back to the size the "before" settings were taken at
        child.sendline("exit 3")
        assert s.exit_code() == 3
        assert s.terminal_restored()
    (debugger,) = _debuggers(kubectl, namespace)
    log = _log_once_running(kubectl, namespace, debugger["name"])
    assert "SECRET-MARKER" not in log


def test_dropped_connection_starts_a_new_shell_in_the_same_debugger(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubeconfig: str,
    proxy: TcpProxy,
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    config = kubeconfig_via(kubeconfig, f"https://127.0.0.1:{proxy.port}", tmp_path / "proxied")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    with pty_podscope(env, tmp_path, "debug", "web", "-n", namespace, "-it", *PULL) as s:
        child = s.child
        child.expect(PROMPT)
        child.sendline("export MARK=old-shell")
        child.sendline("echo ready-$MARK")
        child.expect("ready-old-shell")
        assert proxy.drop() >= 1
        child.expect("the shell it ran is gone")
        child.expect("new shell started in debugger debugger-")
        child.sendline("echo mark=${MARK:-unset}")
        child.expect("mark=unset")
        # The old shell has ended, not only its connection: left running, it would keep
        # the debugger from ever expiring. One process shows a session's marker: the new shell.
        (name,) = (c["name"] for c in _debuggers(kubectl, namespace))
        deadline = time.monotonic() + 10
        while len((found := _marked(kubectl, namespace, name))[0]) != 1:
            assert time.monotonic() < deadline, found[1]
            time.sleep(0.5)
        child.sendline("exit 6")
        assert s.exit_code() == 6
        assert s.terminal_restored()
    assert len(ephemeral(kubectl.pod(namespace, "web"))) == 1


def test_pod_deleted_during_an_exec_session_exits_pod_gone(
    make_pod: MakePod,
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


def test_target_crash_in_a_private_pid_namespace_is_explained_as_in_attach_mode(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=["sh", "-c", "sleep 8; exit 3"])
    result = _debug(podscope_env, namespace, "--", "sh", "-c", "sleep 20; echo still-here")
    assert "Traceback" not in result.stderr
    assert result.returncode == 137, result.stderr
    line = next(x for x in result.stderr.splitlines() if "was killed with its target" in x)
    assert "container web stopped (" in line and "exit code 3" in line, line


def test_ten_concurrent_runs_share_one_debugger_and_keep_their_exit_codes(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    make_pod("web", command=SLEEPER)

    def run(code: int) -> Any:
        return _debug(
            podscope_env, namespace, "--", "sh", "-c", f"echo {code}; exit {code}", timeout=240
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, range(10)))
    for code, result in enumerate(results):
        assert result.returncode == code, result.stderr
        assert result.stdout == f"{code}\n"
    debuggers = _debuggers(kubectl, namespace)
    assert 1 <= len(debuggers) <= 2
    rows = _ls(podscope_env, namespace)
    assert sorted(rows) == sorted(d["name"] for d in debuggers)


def test_an_image_without_a_shell_falls_back_to_the_attach_model(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    args = ["--image", APP_IMAGE, "--", "/nosuch"]
    first = _debug(podscope_env, namespace, *args)
    fallback = [x for x in first.stderr.splitlines() if "using the attach model" in x]
    assert len(fallback) == 1 and "has no sh to hold a debugger open" in fallback[0]
    # The attach model then runs the command itself (here: one that does not exist).
    assert first.returncode == 11, first.stderr
    second = _debug(podscope_env, namespace, *args)
    assert "cannot hold a debugger open" in second.stderr
    assert second.returncode == 11
    # One failed debugger; each run's own attach-model container.
    assert len(_debuggers(kubectl, namespace)) == 1
    assert len(ephemeral(kubectl.pod(namespace, "web"))) == 3
    doctor = podscope(podscope_env, "doctor", "web", "-n", namespace, "--image", APP_IMAGE)
    assert "attach model for image" in doctor.stdout


def test_rbac_without_pods_exec_falls_back_to_attach_and_doctor_says_so(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get", "create"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    config, token = service_account_kubeconfig(kubectl, namespace, rules, tmp_path / "kc")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    result = podscope(env, "debug", "web", "-n", namespace, *PULL, "--", "sh", "-c", "exit 4")
    assert result.returncode == 4, result.stderr
    lines = [x for x in result.stderr.splitlines() if "using the attach model" in x]
    assert len(lines) == 1 and "pods/exec" in lines[0]
    # Nothing was added for the exec model: the one container is the attach model's.
    (container,) = ephemeral(kubectl.pod(namespace, "web"))
    assert container["command"] == ["sh", "-c", "exit 4"]
    doctor = podscope(env, "doctor", "web", "-n", namespace)
    assert "attach model: RBAC does not allow get on pods/exec" in doctor.stdout
    assert token not in result.stderr + doctor.stdout


def test_attach_mode_keeps_kubectl_s_model(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    result = _debug(podscope_env, namespace, "--attach-mode", "--", "sh", "-c", "echo x; exit 5")
    assert result.returncode == 5, result.stderr
    assert result.stdout == "x\n"
    (container,) = ephemeral(kubectl.pod(namespace, "web"))
    assert container["command"] == ["sh", "-c", "echo x; exit 5"]
    assert not _debuggers(kubectl, namespace)
    log = _log_once_running(kubectl, namespace, container["name"])
    assert log == "x\n"


def test_short_sessions_restart_the_ttl_and_it_ends_a_ttl_after_the_last(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    # Each session is far shorter than the holder's 5 s between looks for live sessions.
    first = _debug(podscope_env, namespace, "--ttl", "6s", "--", "true")
    assert first.returncode == 0, first.stderr
    (debugger,) = _debuggers(kubectl, namespace)
    name = debugger["name"]
    started = time.monotonic()
    while time.monotonic() - started < 15:
        time.sleep(3)
        again = _debug(podscope_env, namespace, "--ttl", "6s", "--", "true")
        assert again.returncode == 0, again.stderr
        assert f"using debugger {name} " in again.stderr, again.stderr
    last = time.monotonic()
    assert [d["name"] for d in _debuggers(kubectl, namespace)] == [name]
    time.sleep(3)
    assert "running" in _state(kubectl, namespace, name), "ended before its TTL ran out"
    ended = _wait_terminated(kubectl, namespace, name, 30)
    waited = time.monotonic() - last
    assert ended.get("message", "").strip() == "expired", ended
    # The TTL, one holder period, and the kubelet's report (a relist or two).
    assert waited <= 6 + 5 + 3, waited


def _wait_live(env: dict[str, str], namespace: str, name: str) -> None:
    deadline = time.monotonic() + 60
    while _ls(env, namespace)[name]["debugger"] != "live":
        assert time.monotonic() < deadline, "the session never showed as live"
        time.sleep(0.5)


def test_stop_refuses_a_debugger_in_use_unless_forced_and_the_session_says_why_it_ended(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    make_pod("web", command=SLEEPER)
    assert _debug(podscope_env, namespace, "--", "true").returncode == 0
    (busy,) = (d["name"] for d in _debuggers(kubectl, namespace))
    assert _debug(podscope_env, namespace, "--new", "--", "true").returncode == 0
    (idle,) = (d["name"] for d in _debuggers(kubectl, namespace) if d["name"] != busy)
    args = [sys.executable, "-m", "podscope", "debug", "web", "-n", namespace, *PULL]
    session = subprocess.Popen(
        [*args, "-c", busy, "--", "sh", "-c", "sleep 40; echo done"],
        env=podscope_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_live(podscope_env, namespace, busy)
        one = podscope(podscope_env, "stop", "web", "-n", namespace, "-c", busy)
        assert one.returncode == 2, one.stderr
        assert f"debugger {busy} in Pod web has 1 running session" in one.stderr
        assert f"podscope stop web -n {namespace} -c {busy} --force" in one.stderr
        assert "running" in _state(kubectl, namespace, busy)
        every = podscope(podscope_env, "stop", "web", "-n", namespace, "--all", "-o", "json")
        assert every.returncode == 2, every.stderr
        result = json.loads(every.stdout)
        assert (result["stopped"], result["in_use"]) == ([idle], [busy])
        assert f"left debugger {busy} running: it has 1 running session" in every.stderr
        assert session.poll() is None
        forced = podscope(podscope_env, "stop", "web", "-n", namespace, "-c", busy, "--force")
        assert forced.returncode == 0, forced.stderr
        stopped_at = time.monotonic()
        out, err = session.communicate(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
            session.communicate()
    assert session.returncode == 137 and out == "", err
    assert (
        f"podscope: debugger {busy} was stopped during the session (podscope stop); the "
        "command was killed with it"
    ) in err
    assert "killed with its target" not in err and "Traceback" not in err
    assert time.monotonic() - stopped_at < 8


def test_a_debugger_ended_just_before_the_exec_is_replaced_or_refused_by_name(
    make_pod: MakePod, namespace: str, kubeconfig: str
) -> None:
    import podscope
    from podscope.rules.debugger import stop_command
    from podscope.session.debugger import run_quiet

    make_pod("web", command=SLEEPER)
    log = podscope.EventLog()
    pull = {"image_pull_policy": "IfNotPresent"}
    # In one process, the next exec follows the holder's end by milliseconds: the runtime is
    # still taking the container down ("cannot exec in a stopped container", "task ... not
    # found", ...), which is what a run at a short TTL's end meets now and then.
    with podscope.Client(kubeconfig=kubeconfig, namespace=namespace, on_event=log) as client:
        for named in (True, False, True, False, True, False):
            made = client.debug(
                podscope.DebugRequest(pod="web", command=("true",), new=True, **pull),
                capture_output=True,
            )
            name = made.container
            time.sleep(1.5)  # the kubelet has reported it running
            _, code, _ = run_quiet(client.kube, namespace, "web", name, stop_command(name))
            assert code == 0
            request = podscope.DebugRequest(
                pod="web", command=("echo", "hi"), container=name if named else None, **pull
            )
            if named:
                with pytest.raises(podscope.PodscopeError) as info:
                    client.debug(request, capture_output=True)
                assert info.value.exit_code == 2, info.value.message
                assert f"debugger {name} in Pod web has ended" in info.value.message
            else:
                result = client.debug(request, capture_output=True)
                assert (result.exit_code, result.stdout) == (0, b"hi\n")
                assert result.container != name


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_ends_the_exec_d_command_and_the_debugger_stays_idle(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    signum: signal.Signals,
) -> None:
    make_pod("web", command=SLEEPER)
    command = ["debug", "web", "-n", namespace, *PULL, "--"]
    command += ["sh", "-c", "echo started; trap 'echo got-term; exit 5' TERM; sleep 300 & wait"]
    with podscope_started(podscope_env, *command) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "started\n"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    # The command was told (TERM), as a local one would be, and ended.
    assert stdout == "" or "got-term" in stdout
    assert "ending the command in debugger debugger-" in stderr
    assert "could not end" not in stderr
    # One word about the interruption, not two.
    assert "podscope: interrupted\n" not in stderr
    assert stderr.count("interrupted: debugger") == 1, stderr
    (name,) = (c["name"] for c in _debuggers(kubectl, namespace))
    ps = kubectl.run("exec", "-n", namespace, "web", "-c", name, "--", "ps", "-o", "args")
    assert "sleep 300" not in ps.stdout, ps.stdout
    # The exec outruns the kubelet's report of "running"; ls waits for neither.
    deadline = time.monotonic() + 15
    while (row := _ls(podscope_env, namespace)[name])["debugger"].startswith("starting"):
        assert time.monotonic() < deadline, row
        time.sleep(0.5)
    assert row["debugger"].startswith("idle, expires in "), row


def test_a_client_killed_without_a_word_leaves_no_command_running(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    # SIGKILL: podscope can neither end the command nor say anything. Its connection closes,
    # which the container sees only as the end of the exec's stdin: that ends the command
    # and its children, and the debugger goes back to idle (a command left running would
    # keep it from ever expiring).
    make_pod("web", command=SLEEPER)
    command = ["debug", "web", "-n", namespace, *PULL, "--"]
    command += ["sh", "-c", "echo started; sleep 300 & wait"]
    with podscope_started(podscope_env, *command) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == "started\n"
        process.kill()
        process.wait(timeout=10)
    (name,) = (c["name"] for c in _debuggers(kubectl, namespace))
    deadline = time.monotonic() + 15
    while True:
        ps = kubectl.run("exec", "-n", namespace, "web", "-c", name, "--", "ps", "-o", "args")
        if "sleep 300" not in ps.stdout:
            break
        assert time.monotonic() < deadline, ps.stdout
        time.sleep(0.5)
    _wait_idle(podscope_env, namespace, name)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_an_interactive_client_killed_without_a_word_leaves_no_shell_running(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    # An exec'd shell runs on when its client goes (its TTY is the runtime's): the session's
    # keeper, a second exec with a stdin stream, sees the connection end and ends the shell
    # and what it started. Then the debugger is idle again and can expire.
    make_pod("web", command=SLEEPER)
    with pty_podscope(podscope_env, tmp_path, "debug", "web", "-n", namespace, "-it", *PULL) as s:
        s.child.expect(PROMPT)
        s.child.sendline("sleep 300 & echo ready-$((6 * 7))")
        s.child.expect("ready-42")
        (name,) = (c["name"] for c in _debuggers(kubectl, namespace))
        keeper = "grep -ls podscope-keeper /proc/[0-9]*/cmdline || true"
        deadline = time.monotonic() + 15
        while "cmdline" not in _in_debugger(kubectl, namespace, name, keeper):
            assert time.monotonic() < deadline, "the session's keeper never ran"
            time.sleep(0.3)
        (client,) = _children(s.child.pid)  # podscope, under the pty's shell
        os.kill(client, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while True:
            marked, lines = _marked(kubectl, namespace, name)
            if not marked and not any(x.endswith(" sleep 300") for x in lines):
                break
            assert time.monotonic() < deadline, lines
            time.sleep(0.5)
    _wait_idle(podscope_env, namespace, name)


def test_a_session_does_not_start_its_command_while_its_debugger_is_ending(
    make_pod: MakePod, namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    # The holder's guard, in the real container: while its "ending" file is there (a holder
    # whose TTL ran out, between making it and looking for a session again), a session waits.
    make_pod("web", command=SLEEPER)
    assert _debug(podscope_env, namespace, "--", "true").returncode == 0
    (name,) = (c["name"] for c in _debuggers(kubectl, namespace))
    ending = f"/tmp/.podscope-ending-{name}"
    kubectl.run("exec", "-n", namespace, "web", "-c", name, "--", "touch", ending)
    command = ["debug", "web", "-n", namespace, *PULL, "--", "echo", "ran"]
    with podscope_started(podscope_env, *command) as process:
        time.sleep(1.5)
        assert process.poll() is None, process.communicate()
        kubectl.run("exec", "-n", namespace, "web", "-c", name, "--", "rm", ending)
        stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stdout) == (0, "ran\n"), stderr
