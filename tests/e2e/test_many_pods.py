"""`podscope debug` over several Pods on the real cluster: selectors, workloads, several
names; skipped and failing Pods; JSON lines; --group; --dry-run; -it refused; Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import (
    PULL,
    SLEEPER,
    ephemeral,
    podscope,
    podscope_started,
    stderr_until,
)

SOME_FAILED = 18


def make_web(kubectl: Kubectl, namespace: str, replicas: int = 3) -> list[str]:
    """A Deployment `web` of the distroless app (container `app`); its Pods' names, sorted."""
    kubectl.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {"name": "app", "image": APP_IMAGE, "imagePullPolicy": "IfNotPresent"}
                        ],
                    },
                },
            },
        }
    )
    kubectl.run("rollout", "status", "deploy/web", "-n", namespace, "--timeout=90s", timeout=100)
    deadline = time.monotonic() + 60
    while True:
        pods = kubectl.json("get", "pods", "-n", namespace, "-l", "app=web")["items"]
        running = [
            p["metadata"]["name"]
            for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        ]
        if len(running) == replicas == len(pods):
            return sorted(running)
        if time.monotonic() > deadline:
            raise AssertionError(f"web never had {replicas} Running Pods: {running}")
        time.sleep(0.3)


def pending_pod(kubectl: Kubectl, namespace: str, name: str = "pending") -> None:
    """A Pod labelled like web's that never runs: no node matches its nodeSelector. (A Pod
    bound to a node that does not exist would be deleted by the Pod garbage collector.)"""
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "web"}},
            "spec": {
                "nodeSelector": {"podscope.test/no-such-node": "true"},
                "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": SLEEPER}],
            },
        }
    )


def ephemeral_counts(kubectl: Kubectl, namespace: str) -> dict[str, int]:
    pods = kubectl.json("get", "pods", "-n", namespace)["items"]
    return {p["metadata"]["name"]: len(ephemeral(p)) for p in pods}


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The summary table's rows by Pod (columns split on runs of 3+ spaces)."""
    import re

    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("POD "))
    return {
        cells[0]: cells
        for cells in (re.split(r" {3,}", line.strip()) for line in lines[start + 1 :])
    }


def test_a_selector_runs_in_every_running_pod_and_skips_the_others(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace)
    pending_pod(kubectl, namespace)
    result = podscope(
        podscope_env,
        "debug",
        "-l",
        "app=web",
        "-n",
        namespace,
        *PULL,
        "--",
        "cat",
        "/proc/1/status",
    )
    assert result.returncode == 0, result.stderr
    # Every Pod's output, each line under its Pod's name: the distroless app's own process.
    for pod in pods:
        assert f"{pod} | Name:\tserver\n" in result.stdout
    for line in result.stdout.splitlines():
        if " | " in line:
            assert line.split(" | ", 1)[0] in pods
    rows = table_rows(result.stdout)
    assert set(rows) == {*pods, "pending"}
    for pod in pods:
        assert rows[pod][1].startswith("debugger-") and rows[pod][2] == "0", rows[pod]
    assert rows["pending"][2] == "skipped" and "Pending" in rows["pending"][-1]
    assert 'podscope: skipping Pod pending: Pod "pending" is Pending' in result.stderr
    counts = ephemeral_counts(kubectl, namespace)
    assert counts == {**{pod: 1 for pod in pods}, "pending": 0}


def test_all_pods_of_a_deployment_reuse_their_debuggers_the_second_time(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace)
    args = ("debug", "deploy/web", "--all-pods", "-n", namespace, *PULL, "-o", "json")
    first = podscope(podscope_env, *args, "--", "hostname")
    second = podscope(podscope_env, *args, "--max-parallel", "1", "--", "hostname")
    for result, created in ((first, True), (second, False)):
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert sorted(line["pod"] for line in lines) == pods
        for line in lines:
            assert line["status"] == "exited" and line["exit_code"] == 0, line
            assert line["stdout"] == line["pod"] + "\n"
            assert line["created"] is created
            assert line["namespace"] == namespace and line["error"] is None
    assert ephemeral_counts(kubectl, namespace) == {pod: 1 for pod in pods}


def test_one_pods_failure_is_its_row_with_the_single_pod_message_and_exit_18(
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    make_pod: Callable[..., dict[str, Any]],
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    # A Running Pod without a container named `app`: --target app cannot work there.
    make_pod("other", command=SLEEPER)
    # Named, a Pod that never runs fails as a single-Pod run would (a selector skips it).
    pending_pod(kubectl, namespace)
    loser = pods[0]
    script = f'test "$(hostname)" != {loser}'
    names = (*pods, "other", "no-such-pod", "pending")
    result = podscope(
        podscope_env,
        "debug",
        *names,
        "-n",
        namespace,
        "--target",
        "app",
        *PULL,
        "--",
        "sh",
        "-c",
        script,
    )
    assert result.returncode == SOME_FAILED, result.stderr
    rows = table_rows(result.stdout)
    assert set(rows) == set(names)
    assert rows[loser][2] == "1"
    assert rows[pods[1]][2] == "0"
    for name in ("other", "no-such-pod", "pending"):
        single = podscope(
            podscope_env, "debug", name, "-n", namespace, "--target", "app", *PULL, "--", "true"
        )
        message = single.stderr.split("podscope: error: ", 1)[1].splitlines()[0]
        assert rows[name][2] == f"error {single.returncode}", (rows[name], single.stderr)
        assert rows[name][-1] == message
    assert ephemeral_counts(kubectl, namespace) == {
        pods[0]: 1,
        pods[1]: 1,
        "other": 0,
        "pending": 0,
    }


def test_a_pod_deleted_while_others_run_is_one_failed_row(
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    make_pod: Callable[..., dict[str, Any]],
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    make_pod("zz-doomed", command=SLEEPER)
    kubectl.run("label", "pod", "zz-doomed", "-n", namespace, "app=web")
    command = ["debug", "-l", "app=web", "-n", namespace]
    command += [*PULL, "--max-parallel", "1", "-o", "json", "--", "sleep", "2"]
    with podscope_started(podscope_env, *command) as process:
        # One Pod at a time, in name order: zz-doomed comes last. Delete it once the
        # first Pod's debugger is there (the list of Pods is read by then).
        early = stderr_until(process, "created debugger")
        kubectl.run("delete", "pod", "zz-doomed", "-n", namespace, "--grace-period=0", "--force")
        stdout, stderr = process.communicate(timeout=120)
        stderr = early + stderr
    assert process.returncode == SOME_FAILED, stderr
    lines = {line["pod"]: line for line in map(json.loads, stdout.splitlines())}
    assert set(lines) == {*pods, "zz-doomed"}
    for pod in pods:
        assert lines[pod]["exit_code"] == 0 and lines[pod]["status"] == "exited"
    doomed = lines["zz-doomed"]
    assert doomed["status"] == "failed" and doomed["error_exit_code"] in (5, 8, 14), doomed
    assert "zz-doomed" in doomed["error"]


def test_dry_run_lists_the_pods_and_changes_nothing_and_it_is_refused(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace)
    pending_pod(kubectl, namespace)
    before = kubectl.json("get", "pods", "-n", namespace)["items"]
    dry = podscope(
        podscope_env, "debug", "-l", "app=web", "--dry-run", "-n", namespace, "--", "true"
    )
    assert dry.returncode == 0, dry.stderr
    rows = table_rows(dry.stdout)
    assert {pod: rows[pod][2] for pod in pods} == {pod: "selected" for pod in pods}
    assert rows["pending"][2] == "skipped"
    assert "nothing was changed" in dry.stderr
    refused = podscope(podscope_env, "debug", "-l", "app=web", "-it", "-n", namespace)
    assert refused.returncode == 2
    assert refused.stderr.startswith("podscope: error: -i/-t attaches to one Pod")
    both = podscope(podscope_env, "debug", *pods[:2], "-it", "-n", namespace, "--", "sh")
    assert both.returncode == 2 and "-i/-t attaches to one Pod" in both.stderr
    after = kubectl.json("get", "pods", "-n", namespace)["items"]
    assert ephemeral_counts(kubectl, namespace) == {pod: 0 for pod in [*pods, "pending"]}
    # The kubelet may still update statuses: what podscope would change is the spec.
    assert {p["metadata"]["name"]: p["spec"] for p in after} == {
        p["metadata"]["name"]: p["spec"] for p in before
    }


def test_words_before_the_dashes_are_all_pods_as_in_kubectl(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    before = kubectl.json("get", "pods", "-n", namespace)["items"]
    # With no --, every word is a Pod: two Pods, not POD and a command.
    dry = podscope(podscope_env, "debug", *pods, "--dry-run", "-n", namespace)
    assert dry.returncode == 0, dry.stderr
    rows = table_rows(dry.stdout)
    assert {pod: rows[pod][2] for pod in pods} == {pod: "selected" for pod in pods}
    assert "would run a command (give it after --) in 2 Pod(s)" in dry.stderr
    interactive = podscope(podscope_env, "debug", "-n", namespace, "-it", *pods)
    assert interactive.returncode == 2
    assert interactive.stderr.startswith("podscope: error: -i/-t attaches to one Pod")
    plain = podscope(podscope_env, "debug", *pods, "-n", namespace)
    assert plain.returncode == 2
    assert "2 Pods were named" in plain.stderr
    assert f"podscope debug {pods[0]} -- {pods[1]}" in plain.stderr  # the fix, spelled out
    copy = podscope(podscope_env, "debug", pods[0], "sh", "--copy-to", "x", "-n", namespace)
    assert copy.returncode == 2 and "--copy-to copies one Pod, but 2" in copy.stderr
    node = podscope(podscope_env, "debug", "node/podscope-node", "sh", "-n", namespace)
    assert node.returncode == 2 and "node/podscope-node debugs one node" in node.stderr
    assert "podscope debug node/podscope-node -- sh" in node.stderr
    assert ephemeral_counts(kubectl, namespace) == {pod: 0 for pod in pods}
    after = kubectl.json("get", "pods", "-n", namespace)["items"]
    assert {p["metadata"]["name"]: p["spec"] for p in after} == {
        p["metadata"]["name"]: p["spec"] for p in before
    }
    # With --, the words after it are the command, run in each Pod named before it.
    ran = podscope(podscope_env, "debug", *pods, "-n", namespace, *PULL, "--", "hostname")
    assert ran.returncode == 0, ran.stderr
    assert {f"{pod} | {pod}" for pod in pods} <= set(ran.stdout.splitlines())


def test_group_prints_each_pods_output_as_one_block(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    result = podscope(
        podscope_env,
        "debug",
        *pods,
        "--group",
        "-q",
        "-n",
        namespace,
        *PULL,
        "--",
        "sh",
        "-c",
        "echo one; sleep 0.5; echo two",
    )
    assert result.returncode == 0, result.stderr
    for pod in pods:
        assert f"=== {pod} (0) ===\none\ntwo\n" in result.stdout


def test_json_lines_come_as_each_pod_finishes(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    pending_pod(kubectl, namespace)
    fast, slow = pods
    script = f'[ "$(hostname)" = {slow} ] && sleep 4; echo done'
    command = [sys.executable, "-m", "podscope", "debug", "-l", "app=web", "-n", namespace]
    command += [*PULL, "-o", "json", "--", "sh", "-c", script]
    started = time.monotonic()
    with subprocess.Popen(
        command, env=podscope_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        seen: list[tuple[float, dict[str, Any]]] = []
        for line in process.stdout:
            seen.append((time.monotonic() - started, json.loads(line)))
        process.wait(60)
    assert process.returncode == 0
    by_pod = {item["pod"]: (at, item) for at, item in seen}
    assert set(by_pod) == {fast, slow, "pending"}
    assert by_pod["pending"][1]["status"] == "skipped"
    # The fast Pod's line was printed before the slow one's command ended.
    assert by_pod[slow][0] - by_pod[fast][0] > 2.5, seen
    assert by_pod[fast][1]["stdout"] == "done\n"


def test_ctrl_c_starts_no_more_pods_lets_the_running_one_end_and_says_where(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    pods = make_web(kubectl, namespace)
    command = ["debug", "-l", "app=web", "-n", namespace]
    command += [*PULL, "--max-parallel", "1", "--", "sh", "-c", "sleep 3; echo finished"]
    with podscope_started(podscope_env, *command) as process:
        early = stderr_until(process, "created debugger")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        stderr = early + stderr
    assert process.returncode == 130, stderr
    assert "interrupted: no more Pods are started" in stderr
    assert f"{pods[0]} | finished" in stdout
    rows = table_rows(stdout)
    assert rows[pods[0]][2] == "0"
    assert [rows[p][2] for p in pods[1:]] == ["not-started", "not-started"]
    assert f"debuggers were created in: {pods[0]} (debugger-" in stderr
    assert ephemeral_counts(kubectl, namespace) == {pods[0]: 1, pods[1]: 0, pods[2]: 0}

    # A second Ctrl-C stops waiting, and says where a command may still run.
    command[-1] = "sleep 30"
    with podscope_started(podscope_env, *command) as process:
        early = stderr_until(process, "using debugger")
        process.send_signal(signal.SIGINT)
        early = stderr_until(process, "interrupted: no more Pods", early)
        cut = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        stderr = early + stderr
    assert process.returncode == 130, stderr
    assert time.monotonic() - cut < 10
    # ... and ends the command it stops waiting for: left running, it would keep the
    # debugger from ever expiring.
    assert f"Pod {pods[0]}: the command was ended (or never started)" in stderr, stderr
    assert f"podscope ls {pods[0]} -n {namespace}" in stderr
    debugger = next(
        c["name"] for c in kubectl.pod(namespace, pods[0])["spec"]["ephemeralContainers"]
    )
    ps = kubectl.run("exec", "-n", namespace, pods[0], "-c", debugger, "--", "ps", "-o", "args")
    assert "sleep 30" not in ps.stdout, ps.stdout


def test_the_python_api_runs_in_several_pods_through_one_client(
    kubectl: Kubectl, namespace: str, kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import podscope

    pods = make_web(kubectl, namespace, replicas=2)
    monkeypatch.setenv("PODSCOPE_NO_CONFIG", "1")
    heard: list[str] = []
    with podscope.Client(kubeconfig=kubeconfig, namespace=namespace) as client:
        result = client.debug_many(
            podscope.ManyDebugRequest(
                selector="app=web", command=("hostname",), image_pull_policy="IfNotPresent"
            ),
            on_outcome=lambda outcome: heard.append(outcome.pod),
            capture_output=True,
        )
    assert result.exit_code == 0
    assert sorted(heard) == pods == [o.pod for o in result.outcomes]
    assert [o.stdout for o in result.outcomes] == [f"{pod}\n".encode() for pod in pods]


def test_cp_with_a_selector_copies_from_each_pod_into_dir_pod_checksummed(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    pending_pod(kubectl, namespace)
    logs = tmp_path / "logs"
    result = podscope(
        podscope_env,
        "cp",
        "-l",
        "app=web:/etc/podscope-app.conf",
        str(logs),
        "-n",
        namespace,
        *PULL,
    )
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert rows["pending"][2] == "skipped"
    for pod in pods:
        copied = logs / pod / "podscope-app.conf"
        assert "port = 8080" in copied.read_text()
        assert rows[pod][2] == "0" and "sha256 verified" in rows[pod][-1], rows[pod]
    assert sorted(p.name for p in logs.iterdir()) == pods
    # A path missing in every Pod: each Pod's row says so, no empty directory stays.
    missing = podscope(
        podscope_env, "cp", "-l", "app=web:/nope", str(tmp_path / "none"), "-n", namespace
    )
    assert missing.returncode == SOME_FAILED, missing.stderr
    rows = table_rows(missing.stdout)
    for pod in pods:
        assert rows[pod][2] == "error 5" and "/nope" in rows[pod][-1], rows[pod]
    assert list((tmp_path / "none").iterdir()) == []


def _podscope_events(kubectl: Kubectl, namespace: str, pod: str) -> list[dict[str, Any]]:
    items = kubectl.json(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={pod}"
    )["items"]
    return [e for e in items if str(e.get("reason", "")).startswith("Podscope")]


def test_each_pods_session_is_recorded_with_its_own_cast_receipt_and_events(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    pods = make_web(kubectl, namespace)
    loser = pods[0]
    directory = tmp_path / "rec"
    # The pause keeps the two channels' lines in order in the recording.
    script = "echo out-$(hostname); sleep 0.3; echo err-$(hostname) >&2; "
    script += f'test "$(hostname)" != {loser}'
    result = podscope(
        podscope_env,
        "debug",
        "-l",
        "app=web",
        "-n",
        namespace,
        *PULL,
        "--record",
        str(directory),
        "--",
        "sh",
        "-c",
        script,
    )
    assert result.returncode == SOME_FAILED, result.stderr
    casts = sorted(directory.glob("*.cast"))
    receipts = sorted(directory.glob("*.receipt.json"))
    assert len(casts) == len(receipts) == len(pods), [p.name for p in directory.iterdir()]
    whoami = kubectl.json("auth", "whoami", "-o", "json")["status"]["userInfo"]["username"]
    for pod in pods:
        (cast,) = [c for c in casts if f"-{namespace}-{pod}-" in c.name]
        receipt_path = cast.with_name(cast.name.removesuffix(".cast") + ".receipt.json")
        receipt = json.loads(receipt_path.read_text())
        # asciinema's own reader takes each recording, and it holds that Pod's output.
        shown = subprocess.run(
            [sys.executable, "-m", "asciinema", "cat", str(cast)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert shown == f"out-{pod}\nerr-{pod}\n"
        live = kubectl.pod(namespace, pod)
        (debugger,) = ephemeral(live)
        assert (receipt["pod"], receipt["pod_uid"]) == (pod, live["metadata"]["uid"])
        assert (receipt["container"], receipt["image"]) == (debugger["name"], debugger["image"])
        assert receipt["namespace"] == namespace and receipt["command"] == ["sh", "-c", script]
        assert receipt["exit_code"] == (1 if pod == loser else 0)
        assert receipt["container_created"] is True and receipt["model"] == "exec"
        assert receipt["who"]["username"] == whoami
        assert receipt["who"]["source"] == "selfsubjectreview"
        assert receipt["recording_sha256"] == hashlib.sha256(cast.read_bytes()).hexdigest()
        # The Events a single-Pod recorded session posts, on each Pod.
        events = {e["reason"]: e for e in _podscope_events(kubectl, namespace, pod)}
        assert set(events) == {"PodscopeDebuggerCreated", "PodscopeSession"}
        for event in events.values():
            assert event["involvedObject"]["uid"] == live["metadata"]["uid"]
            assert whoami in event["message"] and debugger["name"] in event["message"]
        assert cast.name in events["PodscopeSession"]["message"]


def test_record_required_refuses_the_whole_run_before_anything_is_written(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    pods = make_web(kubectl, namespace, replicas=2)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = ["debug", "-l", "app=web", "-n", namespace, *PULL]
    for env, extra in (
        (podscope_env, ["--record", str(blocker / "rec"), "--record-required"]),
        ({**podscope_env, "PODSCOPE_RECORD": str(blocker)}, ["--record-required"]),
    ):
        result = podscope(env, *run, *extra, "--", "true")
        assert result.returncode == 19, result.stderr
        assert "podscope: error: this run cannot be recorded" in result.stderr
        assert "Not a directory" in result.stderr or "not a directory" in result.stderr
        assert result.stdout == ""
    assert ephemeral_counts(kubectl, namespace) == {pod: 0 for pod in pods}
    for pod in pods:
        assert _podscope_events(kubectl, namespace, pod) == []
    assert blocker.read_text() == ""
    # Not required: one warning for the run, and every Pod's command runs unrecorded.
    result = podscope(podscope_env, *run, "--record", str(blocker / "rec"), "--", "true")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cannot be recorded") == 1, result.stderr
    assert ephemeral_counts(kubectl, namespace) == {pod: 1 for pod in pods}


def test_a_reader_that_stops_early_ends_the_run_quietly(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    # `podscope debug -l ... -- CMD | head -1`: the pipe closes while output is still coming.
    make_web(kubectl, namespace, replicas=2)
    lines = "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done"
    command = [sys.executable, "-m", "podscope", "debug", "-l", "app=web", "-n", namespace]
    command += [*PULL, "--", "sh", "-c", lines]
    with subprocess.Popen(
        command, env=podscope_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(60)
    assert "line 0" in first
    assert "unexpected failure" not in stderr and "Traceback" not in stderr, stderr
    assert process.returncode == 0, stderr


def test_a_selector_the_server_cannot_parse_names_the_flag_and_writes_nothing(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str]
) -> None:
    make_web(kubectl, namespace, replicas=1)
    for selector in ("a b", "app in (x", "=x"):
        result = podscope(
            podscope_env, "debug", "-l", selector, "-n", namespace, *PULL, "--", "true"
        )
        assert result.returncode == 7, result.stderr
        assert f"-l/--selector {selector!r} is not a label selector" in result.stderr
        assert "hint: e.g. -l app=web" in result.stderr
    assert set(ephemeral_counts(kubectl, namespace).values()) == {0}
