"""A record of every session on the real cluster: asciicast recordings that asciinema reads,
receipts that match what the cluster holds, Events on the Pod, and refusals."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asciinema.asciicast import open_from_url

from tests.e2e.conftest import Kubectl
from tests.e2e.faultkit import PROMPT, pty_podscope
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope, service_account_kubeconfig

MakePod = Callable[..., dict[str, Any]]

# What `podscope debug` needs in the exec model (docs/security.md), and no `create events`.
EXEC_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch"]},
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]


def _recorded(directory: Path) -> tuple[Path, dict[str, Any]]:
    (cast,) = directory.glob("*.cast")
    (receipt,) = directory.glob("*.receipt.json")
    assert receipt.name == cast.name.removesuffix(".cast") + ".receipt.json"
    return cast, json.loads(receipt.read_text())


def asciinema_cat(cast: Path) -> str:
    """The recording's output as the asciinema CLI prints it."""
    result = subprocess.run(
        [sys.executable, "-m", "asciinema", "cat", str(cast)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def asciinema_read(cast: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """The header and events as asciinema's own reader takes them."""
    with open_from_url(str(cast)) as recording:
        assert recording.version == 2
        return dict(recording.v2_header), [list(e) for e in recording.events()]


def _whoami(kubectl: Kubectl) -> str:
    return str(kubectl.json("auth", "whoami", "-o", "json")["status"]["userInfo"]["username"])


def _podscope_events(kubectl: Kubectl, namespace: str, pod: str) -> list[dict[str, Any]]:
    items = kubectl.json(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={pod}"
    )["items"]
    return [e for e in items if str(e.get("reason", "")).startswith("Podscope")]


def _check_receipt_against_the_cluster(
    receipt: dict[str, Any], cast: Path, kubectl: Kubectl, kubeconfig: str, namespace: str
) -> dict[str, Any]:
    pod = kubectl.pod(namespace, "web")
    (container,) = [c for c in ephemeral(pod) if c["name"] == receipt["container"]]
    assert receipt["image"] == container["image"]
    assert receipt["security_context"] == container.get("securityContext", {})
    assert (receipt["pod"], receipt["pod_uid"]) == ("web", pod["metadata"]["uid"])
    assert receipt["namespace"] == namespace
    config = json.loads(Path(kubeconfig).read_text())
    assert receipt["cluster"] == config["clusters"][0]["cluster"]["server"]
    assert receipt["context"] == config["current-context"]
    assert receipt["who"]["username"] == _whoami(kubectl)
    assert receipt["who"]["source"] == "selfsubjectreview"
    assert receipt["recording_sha256"] == hashlib.sha256(cast.read_bytes()).hexdigest()
    assert receipt["start"] <= receipt["end"]
    return container


def test_an_exec_session_is_recorded_with_a_receipt_and_events(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    directory = tmp_path / "rec"
    command = ["sh", "-c", "echo hello-record; sleep 0.5; echo to-stderr >&2; exit 3"]
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--record",
        str(directory),
        "--",
        *command,
    )
    assert result.returncode == 3, result.stderr
    assert "hello-record" in result.stdout  # the terminal still gets everything
    cast, receipt = _recorded(directory)
    assert asciinema_cat(cast) == "hello-record\nto-stderr\n"
    header, events = asciinema_read(cast)
    assert (header["width"], header["height"]) == (80, 24)  # not a terminal: the default
    assert header["timestamp"] <= time.time() and "podscope debug web" in header["title"]
    assert [e[1] for e in events] == ["o", "o"]
    assert events[1][0] - events[0][0] >= 0.4  # the timing is kept
    _check_receipt_against_the_cluster(receipt, cast, kubectl, kubeconfig, namespace)
    assert (receipt["command"], receipt["exit_code"], receipt["model"]) == (command, 3, "exec")
    assert receipt["profile"] == "legacy" and receipt["container_created"] is True
    assert receipt["input_recorded"] is False and receipt["error"] is None
    reasons = {e["reason"]: e for e in _podscope_events(kubectl, namespace, "web")}
    assert set(reasons) == {"PodscopeDebuggerCreated", "PodscopeSession"}
    for event in reasons.values():
        assert event["involvedObject"]["uid"] == receipt["pod_uid"]
        assert _whoami(kubectl) in event["message"]
        assert receipt["container"] in event["message"]
    assert "echo hello-record" in reasons["PodscopeSession"]["message"]
    assert cast.name in reasons["PodscopeSession"]["message"]

    # The debugger is reused: a second session gets a session Event, not a creation one.
    again = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--record",
        str(directory),
        "--",
        "true",
    )
    assert again.returncode == 0, again.stderr
    reasons_now = [e["reason"] for e in _podscope_events(kubectl, namespace, "web")]
    assert sorted(reasons_now) == ["PodscopeDebuggerCreated", "PodscopeSession", "PodscopeSession"]


def test_an_interactive_session_records_resizes_and_input_only_when_asked(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    for record_input in (True, False):
        directory = tmp_path / f"rec-{record_input}"
        extra = ["--record-input"] if record_input else []
        args = ["debug", "web", "-n", namespace, "-it", *PULL, "--record", str(directory), *extra]
        with pty_podscope(podscope_env, tmp_path, *args) as session:
            child = session.child
            child.expect(PROMPT)
            child.sendline("echo typed-$((40 + 2))")
            child.expect("typed-42")
            child.expect(PROMPT)
            child.setwinsize(40, 120)
            child.sendline("stty size")
            child.expect("40 120")
            child.setwinsize(30, 100)
            child.sendline("exit 4")
            assert session.exit_code() == 4
        log = (tmp_path / "pty.log").read_text()
        warned = "passwords included" in log
        assert warned == record_input
        cast, receipt = _recorded(directory)
        header, events = asciinema_read(cast)
        assert (header["width"], header["height"]) == (100, 30)
        assert events[[e[1] for e in events].index("r")][1:] == ["r", "120x40"]
        assert "typed-42" in asciinema_cat(cast)
        typed = "".join(e[2] for e in events if e[1] == "i")
        assert ("echo typed-$((40 + 2))" in typed) == record_input
        assert bool(typed) == record_input
        assert receipt["input_recorded"] is record_input
        assert (receipt["command"], receipt["exit_code"]) == (["sh"], 4)
        _check_receipt_against_the_cluster(receipt, cast, kubectl, kubeconfig, namespace)


def test_an_attach_session_is_recorded(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    script = "sleep 4; for i in 1 2 3; do echo tick-$i; sleep 0.3; done; exit 7"
    started = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--attach-mode",
        "--no-attach",
        "-c",
        "ticker",
        "--",
        "sh",
        "-c",
        script,
    )
    assert started.returncode == 0, started.stderr
    directory = tmp_path / "rec"
    result = podscope(
        podscope_env, "attach", "web", "-n", namespace, "-c", "ticker", "--record", str(directory)
    )
    assert result.returncode == 7, result.stderr
    cast, receipt = _recorded(directory)
    assert asciinema_cat(cast) == result.stdout
    assert "tick-3\n" in result.stdout
    container = _check_receipt_against_the_cluster(receipt, cast, kubectl, kubeconfig, namespace)
    assert receipt["command"] == [*container["command"], *container.get("args", [])]
    assert (receipt["container"], receipt["model"], receipt["exit_code"]) == ("ticker", "attach", 7)
    assert receipt["container_created"] is False
    sessions = [
        e for e in _podscope_events(kubectl, namespace, "web") if e["reason"] == "PodscopeSession"
    ]
    assert len(sessions) == 1 and "ticker" in sessions[0]["message"]


def test_record_required_refuses_an_unwritable_directory_before_anything_is_written(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    before = kubectl.pod(namespace, "web")["metadata"]["resourceVersion"]
    refuse = ["--record", str(blocker / "rec"), "--record-required"]
    for command in (
        ["debug", "web", "-n", namespace, *PULL, *refuse, "--", "true"],
        ["debug", "web", "-n", namespace, *PULL, *refuse, "-it"],
        ["debug", "web", "-n", namespace, *PULL, *refuse, "--attach-mode", "--", "true"],
    ):
        result = podscope(podscope_env, *command)
        assert result.returncode == 19, result.stderr
        assert "cannot be recorded" in result.stderr and "Not a directory" in result.stderr
    # The same refusal when the directory comes from the environment.
    env = {**podscope_env, "PODSCOPE_RECORD": str(blocker)}
    result = podscope(env, "attach", "web", "-n", namespace, "-c", "web", "--record-required")
    assert result.returncode == 19, result.stderr
    pod = kubectl.pod(namespace, "web")
    assert ephemeral(pod) == [] and pod["metadata"]["resourceVersion"] == before
    assert _podscope_events(kubectl, namespace, "web") == []
    # Without --record-required the session goes on, unrecorded, and says so once.
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--record",
        str(blocker),
        "--",
        "echo",
        "went-on",
    )
    assert result.returncode == 0 and result.stdout == "went-on\n", result.stderr
    assert result.stderr.count("the session goes on unrecorded") == 1


def test_without_create_events_rbac_one_warning_and_the_session_goes_on(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    config, token = service_account_kubeconfig(kubectl, namespace, EXEC_RULES, tmp_path / "kc")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    directory = tmp_path / "rec"
    result = podscope(
        env, "debug", "web", *PULL, "--record", str(directory), "--", "sh", "-c", "echo ran; exit 5"
    )
    assert result.returncode == 5 and result.stdout == "ran\n", result.stderr
    warned = [line for line in result.stderr.splitlines() if "Event" in line]
    assert len(warned) == 1 and "RBAC does not allow create events" in warned[0], result.stderr
    assert "the session goes on" in warned[0]
    assert _podscope_events(kubectl, namespace, "web") == []
    cast, receipt = _recorded(directory)
    assert receipt["who"]["username"] == f"system:serviceaccount:{namespace}:limited"
    assert receipt["model"] == "exec" and receipt["exit_code"] == 5
    written = cast.read_text() + json.dumps(receipt)
    assert token not in written
    assert not [part for part in token.split(".") if len(part) > 20 and part in written]


def test_replay_plays_a_recording_back_with_its_timing_faster_or_at_once(
    make_pod: MakePod,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    directory = tmp_path / "rec"
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--record",
        str(directory),
        "--",
        "sh",
        "-c",
        "echo one; sleep 2; echo two",
    )
    assert result.returncode == 0, result.stderr
    cast, _ = _recorded(directory)
    timings = {}
    for flags in ([], ["--speed", "4"], ["--instant"]):
        start = time.monotonic()
        played = podscope(podscope_env, "replay", str(cast), *flags)
        timings[" ".join(flags)] = time.monotonic() - start
        assert played.returncode == 0, played.stderr
        assert played.stdout == asciinema_cat(cast) == "one\ntwo\n"
    # Interpreter start-up is the same in each; the pauses are what differ.
    assert timings[""] - timings["--instant"] >= 1.7
    assert 0.3 <= timings["--speed 4"] - timings["--instant"] <= 1.2
