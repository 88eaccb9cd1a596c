"""`podscope ls` as an inventory: who wrote each container, its posture, command and state,
the filters, and Pods read page by page from the real API server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.e2e.conftest import BUSYBOX_IMAGE, Kubectl
from tests.e2e.helpers import PULL, SLEEPER, podscope


def _rows(env: dict[str, str], *args: str) -> dict[str, dict[str, Any]]:
    result = podscope(env, "ls", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def _managers_from_kubectl(kubectl: Kubectl, namespace: str) -> dict[str, tuple[str, str]]:
    """container -> (manager, time), read by kubectl from the Pod's managedFields."""
    pod = kubectl.json("get", "pod", "web", "-n", namespace, "--show-managed-fields")
    found = {}
    for entry in pod["metadata"]["managedFields"]:
        if entry.get("subresource") != "ephemeralcontainers":
            continue
        items = entry["fieldsV1"]["f:spec"]["f:ephemeralContainers"]
        for key in items:
            if key.startswith("k:"):
                found[json.loads(key[2:])["name"]] = (entry["manager"], entry["time"])
    return found


@pytest.fixture
def inventory(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
) -> str:
    """Pod web with: a podscope debugger (idle), a privileged container run as root by
    podscope, one added by `kubectl debug --profile=general`, and one that exited 3."""
    make_pod("web", command=SLEEPER)
    base = ("debug", "web", "-n", namespace, *PULL)
    made = podscope(podscope_env, *base, "--", "true")
    assert made.returncode == 0, made.stderr
    priv = podscope(
        podscope_env,
        *base,
        "-c",
        "priv",
        "--profile",
        "sysadmin",
        "--user",
        "0",
        "--attach-mode",
        "--no-attach",
        "--",
        "sleep",
        "600",
    )
    assert priv.returncode == 0, priv.stderr
    kubectl.run(
        "debug",
        "web",
        "-n",
        namespace,
        "--image",
        BUSYBOX_IMAGE,
        "--image-pull-policy",
        "IfNotPresent",
        "-c",
        "kd",
        "--profile=general",
        "--",
        "sleep",
        "600",
    )
    done = podscope(podscope_env, *base, "-c", "done", "--attach-mode", "--", "sh", "-c", "exit 3")
    assert done.returncode == 3, done.stderr
    kubectl.wait_ephemeral_running(namespace, "web", "kd")
    return namespace


def test_ls_says_who_wrote_each_container_its_posture_command_and_state(
    inventory: str, kubectl: Kubectl, podscope_env: dict[str, str]
) -> None:
    namespace = inventory
    rows = _rows(podscope_env, "web", "-n", namespace)
    debugger = next(name for name in rows if name.startswith("debugger-"))
    assert set(rows) == {debugger, "priv", "kd", "done"}

    # Who: the field manager of the ephemeralcontainers subresource, as kubectl shows it.
    from_kubectl = _managers_from_kubectl(kubectl, namespace)
    for name, row in rows.items():
        assert (row["created_by"], row["written_at"]) == from_kubectl[name], name
    assert rows["kd"]["created_by"] == "kubectl"
    assert {rows[n]["created_by"] for n in (debugger, "priv", "done")} == {"podscope"}

    # Posture, compared with the spec kubectl returns.
    pod = kubectl.pod(namespace, "web")
    specs = {c["name"]: c for c in pod["spec"]["ephemeralContainers"]}
    assert specs["priv"]["securityContext"]["privileged"] is True
    assert (rows["priv"]["privileged"], rows["priv"]["user"], rows["priv"]["profile"]) == (
        True,
        "root",
        "sysadmin",
    )
    assert specs["kd"]["securityContext"]["capabilities"]["add"] == ["SYS_PTRACE"]
    assert (rows["kd"]["privileged"], rows["kd"]["capabilities"], rows["kd"]["profile"]) == (
        False,
        ["SYS_PTRACE"],
        "general",
    )
    assert rows["kd"]["user"] == "image"
    assert rows[debugger]["privileged"] is False

    # Command and state.
    assert rows["kd"]["command"] == specs["kd"]["command"] == ["sleep", "600"]
    assert rows["priv"]["command_line"] == "sleep 600"
    assert rows[debugger]["command_line"].startswith("(podscope-holder, ttl ")
    assert rows[debugger]["status"] == "idle" and rows[debugger]["expires_in"] > 0
    assert rows["priv"]["status"] == rows["kd"]["status"] == "running"
    assert (rows["done"]["status"], rows["done"]["exit_code"]) == ("stopped", 3)

    # The table carries the same, in its review columns.
    table = podscope(podscope_env, "ls", "web", "-n", namespace, "-o", "wide")
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    words = header.split()
    for column in ("CREATED-BY", "WRITTEN", "USER", "PRIVILEGED", "CAPS", "PROFILE", "COMMAND"):
        assert column in words
    by_name = {line.split()[1]: line.split() for line in lines}
    kd = by_name["kd"]
    assert kd[words.index("CREATED-BY")] == "kubectl"
    assert kd[words.index("WRITTEN")] == rows["kd"]["written_at"]
    assert kd[words.index("PROFILE")] == "general"
    assert kd[words.index("CAPS")] == "SYS_PTRACE"
    assert by_name["priv"][words.index("PRIVILEGED")] == "yes"
    assert by_name["priv"][words.index("USER")] == "root"

    # YAML carries the same fields as JSON.
    as_yaml = podscope(podscope_env, "ls", "web", "-n", namespace, "-o", "yaml")
    loaded = YAML(typ="safe", pure=True).load(as_yaml.stdout)
    assert {r["name"]: r["created_by"] for r in loaded} == {
        n: r["created_by"] for n, r in rows.items()
    }
    assert set(loaded[0]) == set(rows["kd"])

    # A stopped debugger says so; what stop wrote does not change who wrote the container.
    stopped = podscope(podscope_env, "stop", "web", "-n", namespace, "-c", debugger)
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.monotonic() + 60
    while (after := _rows(podscope_env, "web", "-n", namespace))[debugger]["state"] != "terminated":
        assert time.monotonic() < deadline, after[debugger]
        time.sleep(1)
    assert after[debugger]["status"] == "stopped"
    assert after[debugger]["created_by"] == "podscope"
    assert set(_rows(podscope_env, "web", "-n", namespace, "--running")) == {"priv", "kd"}


def test_ls_filters(inventory: str, kubectl: Kubectl, podscope_env: dict[str, str]) -> None:
    namespace = inventory
    everything = _rows(podscope_env, "-n", namespace)
    debugger = next(name for name in everything if name.startswith("debugger-"))

    assert set(_rows(podscope_env, "-n", namespace, "--privileged")) == {"priv"}
    # --running: what kubectl reports running.
    pod = kubectl.pod(namespace, "web")
    running = {
        s["name"] for s in pod["status"]["ephemeralContainerStatuses"] if "running" in s["state"]
    }
    assert running == {debugger, "priv", "kd"}
    assert set(_rows(podscope_env, "-n", namespace, "--running")) == running
    assert set(_rows(podscope_env, "-n", namespace, "--created-by", "kubectl")) == {"kd"}
    assert set(_rows(podscope_env, "-n", namespace, "--created-by", "pod*")) == {
        debugger,
        "priv",
        "done",
    }
    assert set(_rows(podscope_env, "-n", namespace, "--image", "*busybox*")) == set(everything)
    assert _rows(podscope_env, "-n", namespace, "--image", "nginx*") == {}
    none = podscope(podscope_env, "ls", "-n", namespace, "--image", "nginx*")
    assert none.returncode == 0 and none.stdout == ""
    assert "no ephemeral containers match the filters" in none.stderr
    assert _rows(podscope_env, "-n", namespace, "--older-than", "1h") == {}
    time.sleep(2)
    assert set(_rows(podscope_env, "-n", namespace, "--older-than", "1s")) == set(everything)
    combined = _rows(podscope_env, "-n", namespace, "--running", "--created-by", "podscope")
    assert set(combined) == {debugger, "priv"}
    # Across all namespaces, the filters hold too.
    result = podscope(podscope_env, "ls", "-A", "--privileged", "-o", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert all(row["privileged"] for row in listed)
    assert (namespace, "web", "priv") in {(r["namespace"], r["pod"], r["name"]) for r in listed}


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--older-than", "soon"), 2, "--older-than 'soon' is not a duration"),
        (("--older-than=-1h",), 2, "is negative"),
        (("--chunk-size", "-3"), 2, "--chunk-size must be"),
        (("--image", ""), 7, "--image needs a value"),
    ],
)
def test_ls_refuses_bad_filters_in_one_line(
    namespace: str, podscope_env: dict[str, str], args: tuple[str, ...], code: int, says: str
) -> None:
    result = podscope(podscope_env, "ls", "-n", namespace, *args)
    assert result.returncode == code
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert says in first and all(line.startswith("podscope: hint:") for line in rest)


def _pending_pod(kubectl: Kubectl, namespace: str, name: str) -> None:
    """A Pod no scheduler takes (it never runs), with one ephemeral container."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedulerName": "podscope-test-no-such-scheduler",
            "containers": [{"name": "app", "image": BUSYBOX_IMAGE}],
        },
    }
    kubectl.apply(manifest)
    patch = {"spec": {"ephemeralContainers": [{"name": "e1", "image": BUSYBOX_IMAGE}]}}
    kubectl.run(
        "patch",
        "pod",
        name,
        "-n",
        namespace,
        "--subresource",
        "ephemeralcontainers",
        "--type",
        "strategic",
        "-p",
        json.dumps(patch),
    )


def test_ls_reads_pods_page_by_page_from_the_api_server(
    kubectl: Kubectl, namespace: str, podscope_env: dict[str, str], kubeconfig: str
) -> None:
    import podscope as api

    for i in range(3):
        _pending_pod(kubectl, namespace, f"p{i}")
    with api.Client(kubeconfig=kubeconfig) as client:
        # One list request per page: the real server honours limit and continue.
        pages = list(client.kube.list_pods_pages(namespace, 1))
        assert [[p["metadata"]["name"] for p in page] for page in pages] == [
            ["p0"],
            ["p1"],
            ["p2"],
        ]
        assert [len(page) for page in client.kube.list_pods_pages(namespace, 0)] == [3]
        assert [len(page) for page in client.kube.list_pods_pages(namespace, 2)] == [2, 1]
        streamed = [
            [row.pod for row in page]
            for page in client.list_ephemeral_pages(
                api.ListRequest(namespace=namespace, chunk_size=1)
            )
        ]
        assert streamed == [["p0"], ["p1"], ["p2"]]
    for size in ("1", "2", "0"):
        rows = podscope(podscope_env, "ls", "-n", namespace, "--chunk-size", size, "-o", "json")
        assert rows.returncode == 0, rows.stderr
        listed = json.loads(rows.stdout)
        assert [(r["pod"], r["name"], r["created_by"]) for r in listed] == [
            (f"p{i}", "e1", "kubectl-patch") for i in range(3)
        ]
    # Across namespaces, continue tokens carry from one namespace to the next.
    everywhere = podscope(podscope_env, "ls", "-A", "--chunk-size", "2", "-o", "json")
    assert everywhere.returncode == 0, everywhere.stderr
    mine = [r["pod"] for r in json.loads(everywhere.stdout) if r["namespace"] == namespace]
    assert mine == ["p0", "p1", "p2"]
    # The table, page by page, still has one header.
    table = podscope(podscope_env, "ls", "-n", namespace, "--chunk-size", "1", "-o", "wide")
    assert table.stdout.count("CREATED-BY") == 1
    assert [line.split()[0] for line in table.stdout.splitlines()[1:]] == ["p0", "p1", "p2"]
