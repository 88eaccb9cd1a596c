"""`podscope debug` against the real local cluster: create, wait, stream, exit codes, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope


def test_command_exit_code_and_streams(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    # The sleep lets the stream open before the first byte: early output is only in the log,
    # which this cluster cannot split by stream.
    script = "sleep 3; echo out; echo err >&2; exit 7"
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--attach-mode",
        *PULL,
        "--",
        "sh",
        "-c",
        script,
    )
    assert result.returncode == 7, result.stderr
    assert result.stdout == "out\n"
    assert "err\n" in result.stderr.splitlines(keepends=True)
    assert "podscope: created ephemeral container debugger-" in result.stderr
    assert "podscope: target container: web (the Pod's only container)" in result.stderr


def test_fast_command_output_comes_from_the_log(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-q",
        *PULL,
        "--",
        "sh",
        "-c",
        "echo hi; exit 3",
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "hi\n"


def test_distroless_target_processes_are_visible(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(podscope_env, "debug", "app", "-n", namespace, *PULL, "--", "ps")
    assert result.returncode == 0, result.stderr
    assert "/server" in result.stdout
    assert "PID" in result.stdout


def test_bad_image_fails_fast(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    started = time.monotonic()
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--image",
        "docker.io/library/no-such-image:0.0.1",
        "--image-pull-policy",
        "Never",
        "--",
        "true",
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 11, result.stderr
    assert "cannot start: ErrImageNeverPull" in result.stderr
    assert "podscope: hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 30, f"took {elapsed:.1f}s: the failure must be reported as it appears"


def test_missing_pod_and_namespace(namespace: str, podscope_env: dict[str, str]) -> None:
    result = podscope(podscope_env, "debug", "nope", "-n", namespace, "--", "true")
    assert result.returncode == 5
    assert f"podscope: error: pod nope not found in namespace {namespace}" in result.stderr
    assert "Traceback" not in result.stderr


def test_pre_write_errors_leave_the_pod_unchanged(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    first = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "-c",
        "dbg",
        "--attach-mode",
        *PULL,
        "--",
        "true",
    )
    assert first.returncode == 0, first.stderr
    before = kubectl.pod(namespace, "web")
    cases = [
        (["-c", "dbg"], 7, "Duplicate value"),  # name clash with the existing container
        (["--target", "nosuch"], 5, "not found in Pod"),
        (["--env", "=x"], 2, "--env"),
        (["-c", "Bad_Name"], 7, "RFC 1123"),
    ]
    for flags, code, text in cases:
        result = podscope(
            podscope_env,
            "debug",
            "web",
            "-n",
            namespace,
            "--attach-mode",
            *PULL,
            *flags,
            "--",
            "true",
        )
        assert result.returncode == code, (flags, result.stderr)
        assert text in result.stderr, (flags, result.stderr)
        assert "Traceback" not in result.stderr
    after = kubectl.pod(namespace, "web")
    assert ephemeral(after) == ephemeral(before)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_pod_that_is_not_running_is_refused(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("done", command=["true"], wait=False, restartPolicy="Never")
    deadline = time.monotonic() + 60
    while kubectl.pod(namespace, "done")["status"].get("phase") != "Succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    result = podscope(podscope_env, "debug", "done", "-n", namespace, "--", "true")
    assert result.returncode == 8, result.stderr
    assert ephemeral(kubectl.pod(namespace, "done")) == []


def test_ten_concurrent_runs_make_ten_containers(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    args = [sys.executable, "-m", "podscope", "debug", "web", "-n", namespace, "-q", *PULL]
    args.append("--attach-mode")  # the exec model shares one debugger: see test_exec_debugger
    runs = [
        subprocess.Popen(
            [*args, "--", "sh", "-c", f"exit {i}"],
            env=podscope_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(10)
    ]
    codes = []
    for run in runs:
        _, err = run.communicate(timeout=180)
        codes.append(run.returncode)
        assert "Traceback" not in err
    assert sorted(codes) == list(range(10))
    names = [c["name"] for c in ephemeral(kubectl.pod(namespace, "web"))]
    assert len(names) == 10 and len(set(names)) == 10


def test_workload_reference_picks_a_running_pod(
    namespace: str, podscope_env: dict[str, str], kubectl: Kubectl
) -> None:
    labels = {"app": "shop"}
    kubectl.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {
                                "name": "main",
                                "image": BUSYBOX_IMAGE,
                                "imagePullPolicy": "IfNotPresent",
                                "command": SLEEPER,
                            }
                        ],
                    },
                },
            },
        }
    )
    kubectl.run("rollout", "status", "deploy/shop", "-n", namespace, "--timeout=90s", timeout=100)
    result = podscope(podscope_env, "debug", "deploy/shop", "-n", namespace, *PULL, "--", "true")
    assert result.returncode == 0, result.stderr
    assert "podscope: debugging Pod shop-" in result.stderr
    assert "1 of 1 Pod(s) of deployment/shop are Running" in result.stderr


def test_no_attach_and_json_output(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--no-attach",
        "-o",
        "json",
        "-c",
        "probe",
        *PULL,
        "--",
        "sleep",
        "600",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["container"] == "probe" and document["created"] is True
    assert document["spec"]["command"] == ["sleep", "600"]
    assert document["spec"]["targetContainerName"] == "web"
    assert document["state"] == "running"
    assert "running" in document["status"]["state"]


def test_json_output_is_the_same_run_with_its_output_and_exit_code(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    script = "echo out-marker; echo err-marker >&2; exit 5"
    args = ("debug", "web", "-n", namespace, *PULL, "-o", "json", "--", "sh", "-c", script)
    first = podscope(podscope_env, *args)
    assert first.returncode == 5, first.stderr  # the command's code, as without -o
    document = json.loads(first.stdout)  # stdout is the document alone
    assert (document["model"], document["attached"], document["exit_code"]) == ("exec", True, 5)
    assert (document["stdout"], document["stderr"]) == ("out-marker\n", "err-marker\n")
    assert "marker" not in first.stderr
    second = podscope(podscope_env, *args)
    assert second.returncode == 5, second.stderr
    again = json.loads(second.stdout)
    assert again["container"] == document["container"] and again["created"] is False
    assert again["stdout"] == "out-marker\n"
    assert len(ephemeral(kubectl.pod(namespace, "web"))) == 1  # the debugger, reused
