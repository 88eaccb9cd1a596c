"""Every podscope command that makes sense on a 1.21 cluster (kind EphemeralContainers, PUT of
the whole list), run for real once the gate is on.
The tests that check containers, states and exit codes as the attach model leaves them say
--attach-mode; test_exec_model_on_the_old_api covers the exec model here.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, podscope
from tests.e2e121.conftest import APP_IMAGE, NGINX_IMAGE, NODE

EC_JSON = Path(__file__).resolve().parents[1] / "data" / "ec.json"
PROMPT = r"/ # "

pytestmark = pytest.mark.usefixtures("gate_on")


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def test_exec_model_on_the_old_api(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    # The default model: a debugger added with a PUT of the list, commands exec'd into it
    # (the 1.21 kubelet refuses an exec before the start with HTTP 500: retried), reused.
    make_pod("app", APP_IMAGE)
    first = podscope(
        podscope_env, "debug", "app", "-n", namespace, *PULL, "--", "sh", "-c", "exit 7"
    )
    no_traceback(first)
    assert first.returncode == 7, first.stderr
    again = podscope(podscope_env, "debug", "app", "-n", namespace, *PULL, "--", "echo", "hi")
    assert again.returncode == 0 and again.stdout == "hi\n", again.stderr
    assert len(kubectl.pod(namespace, "app")["spec"].get("ephemeralContainers") or []) == 1


def test_debug_command_target_and_exit_code(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(
        podscope_env,
        "debug",
        "--attach-mode",
        "app",
        "-n",
        namespace,
        *PULL,
        "--target",
        "app",
        "--",
        "ps",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "65532    /server" in result.stdout  # the target's process, from its PID namespace
    failed = podscope(
        podscope_env,
        "debug",
        "--attach-mode",
        "app",
        "-n",
        namespace,
        *PULL,
        "--",
        "sh",
        "-c",
        "exit 7",
    )
    assert failed.returncode == 7, failed.stderr
    pod = kubectl.pod(namespace, "app")
    containers = pod["spec"]["ephemeralContainers"]
    assert len(containers) == 2 and containers[0]["targetContainerName"] == "app"


def test_debug_profiles_the_old_api_can_take(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", NGINX_IMAGE)
    for profile in ("legacy", "baseline"):
        result = podscope(
            podscope_env,
            "debug",
            "--attach-mode",
            "web",
            "-n",
            namespace,
            *PULL,
            "--profile",
            profile,
            "--target",
            "web",
            "--",
            "id",
            "-u",
        )
        no_traceback(result)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "0"
    assert len(kubectl.pod(namespace, "web")["spec"]["ephemeralContainers"]) == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "general"],
        ["--profile", "restricted", "--user", "1000"],
        ["--profile", "netadmin"],
        ["--profile", "sysadmin"],
        ["--chroot"],
    ],
)
def test_what_needs_a_security_context_is_refused_clearly_before_writing(
    args: list[str],
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    # 1.16-1.21 allow no securityContext in ephemeral containers (allowedEphemeralContainerFields).
    make_pod("web", NGINX_IMAGE)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        *args,
        "--target",
        "web",
        "--",
        "true",
    )
    no_traceback(result)
    assert result.returncode == 7, result.stderr
    assert "does not accept in ephemeral containers" in result.stderr
    assert "--profile legacy" in result.stderr
    assert not kubectl.pod(namespace, "web")["spec"].get("ephemeralContainers")


def test_debug_interactive_then_attach_again(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", NGINX_IMAGE, share_processes=True)
    command = [
        sys.executable,
        "-m",
        "podscope",
        "debug",
        "--attach-mode",
        "web",
        "-n",
        namespace,
        "-it",
        "-c",
        "shell",
        *PULL,
    ]
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", " ".join(shlex.quote(c) for c in command) + "; echo RC=$?"],
        env=podscope_env,
        encoding="utf-8",
        timeout=90,
        dimensions=(30, 100),
    )
    try:
        child.expect(PROMPT)
        child.sendline("ps")
        child.expect("nginx: master process")
        # busybox's line editor asks the terminal for the cursor position before each prompt;
        # input typed before the prompt would be taken for the answer.
        child.expect(PROMPT)
        child.sendline("stty size")
        child.expect("30 100")
        child.sendline("exit 3")
        child.expect(r"RC=(\d+)")
        assert child.match.group(1) == "3", child.before
    finally:
        child.close(force=True)

    created = podscope(
        podscope_env,
        "debug",
        "--attach-mode",
        "web",
        "-n",
        namespace,
        "-it",
        "--no-attach",
        "-c",
        "later",
        *PULL,
    )
    assert created.returncode == 0, created.stderr
    again = pexpect.spawn(
        sys.executable,
        ["-m", "podscope", "attach", "web", "-n", namespace, "-c", "later", "-it"],
        env=podscope_env,
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 80),
    )
    try:
        again.sendline("")
        again.expect(PROMPT)
        again.sendline("echo attached-$((6*7))")
        again.expect("attached-42")
        again.sendline("exit 4")
        again.expect(pexpect.EOF)
    finally:
        again.close()
    assert again.exitstatus == 4, again.before
    statuses = kubectl.pod(namespace, "web")["status"]["ephemeralContainerStatuses"]
    exits = {s["name"]: s["state"].get("terminated", {}).get("exitCode") for s in statuses}
    assert exits == {"shell": 3, "later": 4}


def test_ls_text_and_json(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    made = podscope(
        podscope_env,
        "debug",
        "--attach-mode",
        "app",
        "-n",
        namespace,
        *PULL,
        "-c",
        "probe",
        "--target",
        "app",
        "--",
        "true",
    )
    assert made.returncode == 0, made.stderr
    text = podscope(podscope_env, "ls", "app", "-n", namespace)
    no_traceback(text)
    assert text.returncode == 0 and "probe" in text.stdout
    listed = podscope(podscope_env, "ls", "-n", namespace, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    rows = rows["items"] if isinstance(rows, dict) else rows
    [row] = [r for r in rows if r["name"] == "probe"]
    assert row["pod"] == "app" and row["target"] == "app" and row["state"] == "terminated"
    everywhere = podscope(podscope_env, "ls", "-A", "-o", "json")
    assert everywhere.returncode == 0 and "probe" in everywhere.stdout


def test_cp_says_why_it_cannot_work_on_the_old_api(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
    kubectl: Kubectl,
) -> None:
    # cp's helper needs SYS_PTRACE to enter the target's /proc/PID/root: a securityContext.
    make_pod("app", APP_IMAGE)
    out = tmp_path / "passwd"
    got = podscope(podscope_env, "cp", f"{namespace}/app:/etc/passwd", str(out), *PULL)
    no_traceback(got)
    assert got.returncode == 7, got.stderr
    assert "does not accept in ephemeral containers" in got.stderr
    assert not out.exists()
    assert not kubectl.pod(namespace, "app")["spec"].get("ephemeralContainers")


def test_apply_is_idempotent_and_refuses_conflicts(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    make_pod("nginx", NGINX_IMAGE, share_processes=True)
    first = podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace)
    no_traceback(first)
    assert first.returncode == 0, first.stderr
    assert "ephemeral container debugger added" in first.stdout
    second = podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace, "-o", "json")
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["nothing_to_do"] is True and result["unchanged"] == ["debugger"]
    changed = json.loads(EC_JSON.read_text())
    changed["ephemeralContainers"][0]["image"] = "docker.io/library/busybox:1.35"
    doc = tmp_path / "changed.json"
    doc.write_text(json.dumps(changed))
    conflict = podscope(podscope_env, "apply", str(doc), "-n", namespace)
    no_traceback(conflict)
    assert conflict.returncode == 13, conflict.stderr
    assert "differs from the document: image" in conflict.stderr
    dry = podscope(podscope_env, "apply", str(EC_JSON), "-n", namespace, "--dry-run=server")
    assert dry.returncode == 0, dry.stderr
    [only] = kubectl.pod(namespace, "nginx")["spec"]["ephemeralContainers"]
    assert only["image"] == "busybox"


def test_copy_mode(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("crash", command=["sh", "-c", "exit 1"], wait=False)
    created = podscope(
        podscope_env,
        "debug",
        "crash",
        "-n",
        namespace,
        "--copy-to",
        "crash-debug",
        "--command-override",
        "crash",
        "--no-attach",
        "--",
        *SLEEPER,
    )
    no_traceback(created)
    assert created.returncode == 0, created.stderr
    copy = kubectl.wait_running(namespace, "crash-debug")
    assert copy["spec"]["containers"][0]["command"] == SLEEPER
    inside = podscope(
        podscope_env,
        "debug",
        "crash-debug",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--target",
        "crash",
        "--",
        "ls",
        "/proc/1/root/etc",
    )
    assert inside.returncode == 0, inside.stderr
    assert "podscope-image" in inside.stdout.split()
    cleaned = podscope(podscope_env, "cleanup", "-n", namespace, "--yes")
    assert cleaned.returncode == 0, cleaned.stderr


def test_node_mode(namespace: str, podscope_env: dict[str, str]) -> None:
    result = podscope(
        podscope_env,
        "debug",
        f"node/{NODE}",
        "-n",
        namespace,
        *PULL,
        "--chroot",
        "--",
        "cat",
        "/etc/os-release",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout == Path("/etc/os-release").read_text()
    assert "podscope: deleted Pod node-debugger-" in result.stderr


def test_debug_json_output(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", NGINX_IMAGE)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--no-attach",
        "-o",
        "json",
        "--",
        *SLEEPER,
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["pod"] == "web" and doc["container"].startswith("debugger")


def test_doctor_on_a_pod_passes_and_podsecurity_degrades_clearly(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", NGINX_IMAGE)
    for profile in ("legacy", "restricted"):
        result = podscope(
            podscope_env, "doctor", "web", "-n", namespace, "--profile", profile, "-o", "json"
        )
        no_traceback(result)
        report = json.loads(result.stdout)
        checks = {f["check"]: f for f in report["findings"]}
        assert checks["server-version"]["evidence"].startswith("v1.21.14")
        assert checks["kubelet-feature-gate"]["result"] == "ok"
        labels = checks["podsecurity-labels"]
        assert labels["result"] in ("ok", "warn") and labels["evidence"]
        if profile == "legacy":
            assert result.returncode == 0, report["findings"]


def test_a_recorded_session_names_the_kubeconfig_user_where_the_server_cannot_say(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # 1.21 serves no SelfSubjectReview (beta from 1.27): the receipt falls back to the
    # kubeconfig's user entry and says so.
    from ruamel.yaml import YAML

    make_pod("app", APP_IMAGE)
    record = tmp_path / "rec"
    result = podscope(
        podscope_env, "debug", "app", "-n", namespace, *PULL, "--record", str(record),
        "--", "echo", "recorded",
    )  # fmt: skip
    no_traceback(result)
    assert result.returncode == 0 and result.stdout == "recorded\n", result.stderr
    (receipt_path,) = record.glob("*.receipt.json")
    receipt = json.loads(receipt_path.read_text())
    config = YAML(typ="safe").load(Path(podscope_env["KUBECONFIG"]).read_text())
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    assert receipt["who"]["source"] == "kubeconfig"
    assert receipt["who"]["username"] == current["context"]["user"]
    assert receipt["exit_code"] == 0 and receipt["pod"] == "app"
    (cast,) = record.glob("*.cast")
    assert "recorded" in cast.read_text()
