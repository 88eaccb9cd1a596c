"""rules.many: the several-Pods request, which Pods are taken, JSON lines, rows, exit code."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest

from podscope.errors import ExitCode, UsageError, ValidationError
from podscope.rules.many import (
    SUMMARY_HEADERS,
    ManyDebugRequest,
    PodOutcome,
    Skipped,
    json_line,
    one_pod,
    run_exit_code,
    skipped_outcome,
    summary_row,
    take_running,
)
from podscope.rules.requests import DebugRequest
from podscope.rules.workloads import is_many

CMD = ("cat", "/proc/1/status")


def many(**kwargs: Any) -> ManyDebugRequest:
    kwargs.setdefault("command", CMD)
    return ManyDebugRequest(**kwargs)


@pytest.mark.parametrize(
    "request_",
    [
        many(pods=("a", "b")),
        many(selector="app=web"),
        many(selector="app in (web, api),tier!=db"),
        many(pods=("deploy/web",), all_pods=True),
        many(pods=("deploy/web", "sts/db", "pod-1"), all_pods=True),
        many(pods=("a",), dry_run=True),
        many(selector="app=web", max_parallel=1),
        many(selector="app=web", max_parallel=200, image="busybox:1.36", target="app"),
    ],
)
def test_valid_requests_pass(request_: ManyDebugRequest) -> None:
    request_.validate()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({}, "name the Pods"),
        ({"pods": ("a",), "selector": "app=web"}, "not both"),
        ({"selector": " "}, "--selector needs a value"),
        ({"selector": "app=web", "max_parallel": 0}, "at least 1"),
        ({"selector": "app=web", "max_parallel": -3}, "at least 1"),
        ({"selector": "app=web", "max_parallel": True}, "whole number"),
        ({"selector": "app=web", "max_parallel": 2.5}, "whole number"),
        ({"selector": "app=web", "stdin": True}, "-i/-t attaches to one Pod"),
        ({"selector": "app=web", "stdin": True, "tty": True}, "-i/-t attaches to one Pod"),
        ({"selector": "app=web", "command": ()}, "give the command"),
        ({"selector": "app=web", "attach": False}, "--no-attach"),
        ({"pods": ("a", "deploy/web")}, "deploy/web names a workload"),
        ({"pods": ("a", "b"), "all_pods": True}, "--all-pods takes every Pod of a workload"),
        ({"selector": "app=web", "all_pods": True}, "--all-pods takes every Pod of a workload"),
        ({"pods": ("a", "node/n1")}, "names a node"),
        ({"pods": ("a", "Bad_Name")}, "POD"),
        ({"pods": ("a", "thing/x")}, "unknown kind"),
        ({"selector": "app=web", "cd": "/etc", "chroot": True}, "--cd or --chroot"),
    ],
)
def test_invalid_requests_are_refused_naming_the_problem(
    kwargs: dict[str, Any], words: str
) -> None:
    if "command" not in kwargs:
        kwargs["command"] = CMD
    with pytest.raises((UsageError, ValidationError)) as caught:
        ManyDebugRequest(**kwargs).validate()
    assert words in caught.value.message


def test_interactive_refusal_exits_with_the_usage_code() -> None:
    with pytest.raises(UsageError) as caught:
        many(pods=("a", "b"), stdin=True, tty=True).validate()
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.remedy and "name one Pod" in caught.value.remedy


def test_pods_given_as_a_list_become_a_tuple() -> None:
    request = ManyDebugRequest(pods=["a", "b"], command=["true"])  # type: ignore[arg-type]
    assert request.pods == ("a", "b") and request.command == ("true",)


def test_each_pod_gets_every_shared_field_of_the_request() -> None:
    values: dict[str, Any] = {
        "namespace": "shop",
        "image": "busybox:1.36",
        "container": "dbg",
        "command": ("sh", "-c", "exit 3"),
        "profile": "general",
        "env": ("A=1",),
        "image_pull_policy": "IfNotPresent",
        "timeout": 12.0,
        "target": "app",
        "new": True,
        "ttl": "90s",
        "cd": "/etc",
        "copy_env": True,
        "user": "1000:1000",
    }
    request = ManyDebugRequest(selector="app=web", max_parallel=3, **values)
    single = one_pod(request, "web-1")
    assert type(single) is DebugRequest
    assert single == DebugRequest(pod="web-1", **values)
    # Every field of DebugRequest is carried, whatever fields it gains later.
    for item in fields(DebugRequest):
        if item.name != "pod":
            assert getattr(single, item.name) == getattr(request, item.name), item.name


@pytest.mark.parametrize(
    ("pods", "selector", "all_pods", "dry_run", "expected"),
    [
        (["web"], None, False, False, False),
        ([], None, False, False, False),
        (["deploy/web"], None, False, False, False),
        (["a", "b"], None, False, False, True),
        ([], "app=web", False, False, True),
        (["deploy/web"], None, True, False, True),
        (["web"], None, False, True, True),
    ],
)
def test_which_command_lines_are_a_several_pods_run(
    pods: list[str], selector: str | None, all_pods: bool, dry_run: bool, expected: bool
) -> None:
    assert is_many(pods, selector, all_pods, dry_run) is expected


def pod(name: str, phase: str = "Running", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", **meta},
        "spec": {"nodeName": "n1", "containers": [{"name": "app"}]},
        "status": {"phase": phase},
    }


def test_only_running_pods_are_taken_and_the_others_say_why() -> None:
    found = [
        pod("web-c"),
        pod("web-a"),
        pod("pending", "Pending"),
        pod("done", "Succeeded"),
        pod("crashed", "Failed"),
        pod("going", deletionTimestamp="2026-12-01T10:00:00Z"),
        pod("static", annotations={"kubernetes.io/config.mirror": "x"}),
        pod("nophase", ""),
    ]
    taken, skipped = take_running(found)
    assert [p["metadata"]["name"] for p in taken] == ["web-a", "web-c"]
    reasons = {s.pod: s.reason for s in skipped}
    assert list(reasons) == sorted(reasons)
    assert set(reasons) == {"pending", "done", "crashed", "going", "static", "nophase"}
    assert "Pending" in reasons["pending"]
    assert 'not running (phase "Succeeded")' in reasons["done"]
    assert 'not running (phase "Failed")' in reasons["crashed"]
    assert "being deleted" in reasons["going"]
    assert "static Pod" in reasons["static"]
    assert "phase unknown" in reasons["nophase"]


def test_a_pod_found_twice_is_taken_once() -> None:
    taken, skipped = take_running([pod("a"), pod("b"), pod("a"), pod("p", "Pending"), pod("p")])
    assert [p["metadata"]["name"] for p in taken] == ["a", "b"]
    assert [s.pod for s in skipped] == ["p"]


def test_nothing_found_is_nothing_taken() -> None:
    assert take_running([]) == ([], [])


def outcome(**kwargs: Any) -> PodOutcome:
    base: dict[str, Any] = {"pod": "web-1", "namespace": "ns", "status": "exited"}
    return PodOutcome(**{**base, **kwargs})


JSON_KEYS = {
    "pod",
    "namespace",
    "status",
    "container",
    "created",
    "exit_code",
    "seconds",
    "error",
    "error_exit_code",
    "note",
    "stdout",
    "stderr",
}


@pytest.mark.parametrize(
    "item",
    [
        outcome(container="debugger-1", created=True, exit_code=0, seconds=0.123456),
        outcome(container="debugger-1", exit_code=3, seconds=1.0, stdout=b"hi\n", stderr=b"e"),
        outcome(status="failed", error="Pod web-1 was deleted", error_exit_code=14, seconds=2.0),
        skipped_outcome(Skipped("p", "Pod p is Pending"), "ns"),
        outcome(status="not-started"),
        outcome(status="selected"),
    ],
)
def test_a_json_line_always_has_every_key_and_is_one_line(item: PodOutcome) -> None:
    data = json_line(item)
    assert set(data) == JSON_KEYS
    text = json.dumps(data)
    assert "\n" not in text and json.loads(text) == data


def test_a_json_line_carries_output_as_text_and_time_rounded() -> None:
    data = json_line(
        outcome(container="d", exit_code=3, seconds=0.1234567, stdout=b"hi\n", stderr=b"\xff")
    )
    assert data["stdout"] == "hi\n"
    assert data["stderr"] == "\ufffd"
    assert data["seconds"] == 0.123
    assert data["exit_code"] == 3 and data["status"] == "exited"
    skipped = json_line(skipped_outcome(Skipped("p", "Pod p is Pending"), "ns"))
    assert skipped["status"] == "skipped" and skipped["error"] == "Pod p is Pending"
    assert skipped["stdout"] is None and skipped["exit_code"] is None


@pytest.mark.parametrize(
    ("item", "row"),
    [
        (
            outcome(container="debugger-1", exit_code=0, seconds=0.5),
            ("web-1", "debugger-1", "0", "0.50s", ""),
        ),
        (
            outcome(container="debugger-1", exit_code=137, seconds=12.345),
            ("web-1", "debugger-1", "137", "12.35s", ""),
        ),
        (
            outcome(status="failed", error="forbidden: x", error_exit_code=6, seconds=0.1),
            ("web-1", "-", "error 6", "0.10s", "forbidden: x"),
        ),
        (
            skipped_outcome(Skipped("p", "Pod p is Pending"), "ns"),
            ("p", "-", "skipped", "-", "Pod p is Pending"),
        ),
        (outcome(status="not-started"), ("web-1", "-", "not-started", "-", "")),
        (outcome(status="selected"), ("web-1", "-", "selected", "-", "")),
    ],
)
def test_summary_rows(item: PodOutcome, row: tuple[str, ...]) -> None:
    assert summary_row(item) == row
    assert len(row) == len(SUMMARY_HEADERS)


def test_the_exit_code_is_0_only_when_every_pod_that_ran_exited_0() -> None:
    ok = outcome(exit_code=0)
    skipped = skipped_outcome(Skipped("p", "Pending"), "ns")
    assert run_exit_code([ok, outcome(pod="b", exit_code=0)]) == 0
    assert run_exit_code([ok, skipped]) == 0
    assert run_exit_code([ok, outcome(pod="b", exit_code=1)]) == 18
    assert run_exit_code([ok, outcome(status="failed", error="x", error_exit_code=10)]) == 18
    assert run_exit_code([ok, outcome(pod="b", status="not-started")]) == 18
    assert run_exit_code([ok, outcome(pod="b", exit_code=None)]) == 18
    assert run_exit_code([skipped]) == 18
    assert run_exit_code([]) == 18
    assert ExitCode.SOME_FAILED == 18


def test_cp_selector_and_path_split_at_the_first_colon() -> None:
    from podscope.rules.many import split_selector_path

    assert split_selector_path("app=web:/var/log/app.log") == ("app=web", "/var/log/app.log")
    assert split_selector_path("app.kubernetes.io/name=web,tier!=db:/a:b") == (
        "app.kubernetes.io/name=web,tier!=db",
        "/a:b",
    )
    for bad in ("app=web", ":/x", "app=web:", " :/x"):
        with pytest.raises(UsageError, match="SELECTOR:PATH"):
            split_selector_path(bad)


def test_each_pods_copy_goes_to_dir_pod_with_every_shared_field() -> None:
    from podscope.rules.many import ManyCpRequest, one_copy
    from podscope.rules.requests import CpRequest

    request = ManyCpRequest(
        selector="app=web",
        path="/var/log/app.log",
        dest="logs",
        namespace="shop",
        container="app",
        image="busybox:1.36",
        image_pull_policy="IfNotPresent",
        checksum=False,
        timeout=9.0,
        max_parallel=2,
    )
    request.validate()
    assert one_copy(request, "web-1") == CpRequest(
        source="web-1:/var/log/app.log",
        dest="logs/web-1/",
        namespace="shop",
        container="app",
        image="busybox:1.36",
        image_pull_policy="IfNotPresent",
        checksum=False,
        timeout=9.0,
    )


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"path": "var/log"}, "must be absolute"),
        ({"path": "/a/../b"}, "'..'"),
        ({"dest": ""}, "DIR needs a value"),
        ({"selector": " "}, "--selector needs a value"),
        ({"max_parallel": 0}, "at least 1"),
        ({"container": "Bad_Name"}, "--container"),
        ({"timeout": -1}, "--timeout"),
    ],
)
def test_cp_requests_that_cannot_work_are_refused(kwargs: dict[str, Any], words: str) -> None:
    from podscope.rules.many import ManyCpRequest

    values: dict[str, Any] = {"selector": "app=web", "path": "/x", "dest": "d", **kwargs}
    with pytest.raises((UsageError, ValidationError)) as caught:
        ManyCpRequest(**values).validate()
    assert words in caught.value.message
