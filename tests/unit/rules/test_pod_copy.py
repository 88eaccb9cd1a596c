"""spec.copy: the copy of a Pod for --copy-to (pure)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from podscope.errors import NotFoundError, PodscopeError, UsageError, ValidationError
from podscope.rules.images import check_image_reference, is_image_reference, parse_set_images
from podscope.rules.managed import COPY_OF_KEY, MANAGED_BY_KEY, label_value
from podscope.rules.pod_copy import build_pod_copy
from podscope.rules.requests import PodCopyRequest


def original() -> dict[str, Any]:
    """A Pod as the API server returns it: owned, scheduled, with server-filled fields."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9",
            "namespace": "shop",
            "uid": "u-1",
            "resourceVersion": "42",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "generateName": "web-",
            "labels": {"app": "web", "pod-template-hash": "7d4b9"},
            "annotations": {"note": "x"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d", "uid": "rs"}],
            "finalizers": ["example.com/f"],
        },
        "spec": {
            "nodeName": "node-a",
            "restartPolicy": "Always",
            "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
            "containers": [
                {
                    "name": "app",
                    "image": "shop/app:1",
                    "command": ["/server"],
                    "args": ["--port", "80"],
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "livenessProbe": {"exec": {"command": ["true"]}},
                    "readinessProbe": {"exec": {"command": ["true"]}},
                    "startupProbe": {"exec": {"command": ["true"]}},
                },
                {"name": "sidecar", "image": "envoy:1", "readinessProbe": {"tcpSocket": {}}},
            ],
            "ephemeralContainers": [{"name": "debugger-old", "image": "busybox"}],
        },
        "status": {"phase": "Running"},
    }


def build(pod: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    # Tests speak of which images the copy sets; the request holds them as the flags give them.
    kwargs.setdefault("copy_to", kwargs.pop("name", "web-copy"))
    images = kwargs.pop("set_images", {})
    kwargs["set_image"] = tuple(f"{c}={i}" for c, i in images.items())
    request = PodCopyRequest(pod="web", **kwargs)
    return build_pod_copy(pod or original(), request, rng=random.Random(1))


def containers(result: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result.pod["spec"]["containers"]}


# --- --set-image parsing ---------------------------------------------------------------------


def test_parse_set_images_forms() -> None:
    assert parse_set_images(["app=busybox:1.36"]) == {"app": "busybox:1.36"}
    assert parse_set_images(["*=busybox"]) == {"*": "busybox"}
    assert parse_set_images(["app=a:1,sidecar=b@sha256:" + "a" * 64]) == {
        "app": "a:1",
        "sidecar": "b@sha256:" + "a" * 64,
    }
    assert parse_set_images(["app=a:1", "app=a:2"]) == {"app": "a:2"}  # last wins
    assert parse_set_images([]) == {}


@pytest.mark.parametrize(
    "item",
    ["app", "=busybox", "app=", "app=Bad", "app=a b", "Bad_Name=busybox", "app=busybox:", ""],
)
def test_parse_set_images_refuses_bad_syntax(item: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_set_images([item])
    assert "\n" not in info.value.message
    assert info.value.message.startswith("--set-image")


@pytest.mark.parametrize(
    "image",
    [
        "busybox",
        "busybox:1.36",
        "docker.io/library/busybox:latest",
        "localhost:5000/team/app_x:v1.2-rc.1",
        "registry.example.com/a/b/c",
        "busybox@sha256:" + "0" * 64,
        "ghcr.io/org/app:1@sha256:" + "f" * 64,
    ],
)
def test_valid_image_references(image: str) -> None:
    assert is_image_reference(image)
    assert check_image_reference(image, "--image") == image


@pytest.mark.parametrize(
    "image", ["", "Busybox", "busybox:", ":tag", "a//b", "busybox:-x", "-a", "a@sha256:12", "a b"]
)
def test_invalid_image_references(image: str) -> None:
    assert not is_image_reference(image)
    with pytest.raises(UsageError, match="invalid image name"):
        check_image_reference(image, "--image")


def test_uppercase_hint() -> None:
    with pytest.raises(UsageError, match="lowercase"):
        check_image_reference("MyRepo/App:1", "--image")


# --- the copy ---------------------------------------------------------------------------------


def test_metadata_is_rebuilt_and_ownership_dropped() -> None:
    result = build(image="busybox")
    meta = result.pod["metadata"]
    assert meta["name"] == "web-copy" and meta["namespace"] == "shop"
    for key in ("uid", "resourceVersion", "ownerReferences", "finalizers", "generateName"):
        assert key not in meta
    assert "status" not in result.pod
    assert result.pod["apiVersion"] == "v1" and result.pod["kind"] == "Pod"


def test_legacy_drops_labels_but_podscope_labels_are_added() -> None:
    meta = build(image="busybox").pod["metadata"]
    assert meta["labels"] == {MANAGED_BY_KEY: "podscope", COPY_OF_KEY: "web-7d4b9"}
    assert meta["annotations"] == {"note": "x"}  # legacy keeps annotations (kubectl)


def test_keep_labels_wins_over_every_profile() -> None:
    for profile in ("legacy", "general"):
        labels = build(image="busybox", profile=profile, keep_labels=True).pod["metadata"]["labels"]
        assert labels["app"] == "web" and labels[MANAGED_BY_KEY] == "podscope"


def test_general_strips_probes_annotations_and_shares_processes() -> None:
    result = build(image="busybox", profile="general")
    spec = result.pod["spec"]
    assert spec["shareProcessNamespace"] is True
    assert "annotations" not in result.pod["metadata"]
    for container in spec["containers"]:
        assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(container)
    debug = containers(result)[result.added]
    assert debug["securityContext"]["capabilities"]["add"] == ["SYS_PTRACE"]


def test_keep_flags_keep_what_they_name() -> None:
    keep = {f"keep_{k}": True for k in ("annotations", "liveness", "readiness", "startup")}
    result = build(image="busybox", profile="general", **keep)
    app = containers(result)["app"]
    assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(app)
    assert result.pod["metadata"]["annotations"] == {"note": "x"}
    assert result.pod["spec"]["initContainers"][0]["name"] == "init"
    dropped = build(image="busybox", profile="general", keep_init_containers=False)
    assert "initContainers" not in dropped.pod["spec"]


def test_ephemeral_containers_and_node_are_dropped() -> None:
    spec = build(image="busybox").pod["spec"]
    assert "ephemeralContainers" not in spec
    assert "nodeName" not in spec
    assert build(image="busybox", same_node=True).pod["spec"]["nodeName"] == "node-a"


def test_share_processes_explicit_wins() -> None:
    assert build(image="busybox", share_processes=True).pod["spec"]["shareProcessNamespace"]
    spec = build(image="busybox", profile="general", share_processes=False).pod["spec"]
    assert spec["shareProcessNamespace"] is False
    assert "shareProcessNamespace" not in build(image="busybox").pod["spec"]


def test_debug_container_is_added() -> None:
    result = build(
        image="busybox:1.36",
        command=["sh", "-c", "ls"],
        env=["X=1"],
        image_pull_policy="IfNotPresent",
        stdin=True,
        tty=True,
    )
    assert result.added and result.added.startswith("debugger-")
    assert result.container == result.added and result.overridden is None
    debug = result.pod["spec"]["containers"][-1]
    assert debug == {
        "name": result.added,
        "image": "busybox:1.36",
        "terminationMessagePolicy": "File",
        "command": ["sh", "-c", "ls"],
        "env": [{"name": "X", "value": "1"}],
        "imagePullPolicy": "IfNotPresent",
        "stdin": True,
        "tty": True,
    }
    # The original containers are untouched.
    assert containers(result)["app"]["command"] == ["/server"]


def test_debug_container_name_and_arguments_only() -> None:
    result = build(image="busybox", container="dbg", command=["-x"], arguments_only=True)
    assert result.added == "dbg"
    assert containers(result)["dbg"]["args"] == ["-x"]
    assert "command" not in containers(result)["dbg"]


def test_generated_name_avoids_every_existing_name() -> None:
    pod = original()
    result = build(pod, image="busybox")
    names = {"app", "sidecar", "init"}
    assert result.added not in names


def test_command_override_replaces_command_and_drops_args() -> None:
    result = build(command_override="app", command=["sleep", "infinity"], env=["A=9", "C=3"])
    app = containers(result)["app"]
    assert app["command"] == ["sleep", "infinity"]
    assert "args" not in app
    # --env merges by name: A replaced in place, C appended.
    assert app["env"] == [
        {"name": "A", "value": "9"},
        {"name": "B", "value": "2"},
        {"name": "C", "value": "3"},
    ]
    assert result.container == "app" and result.added is None and result.overridden == "app"
    assert len(result.pod["spec"]["containers"]) == 2


def test_command_override_arguments_only_keeps_command() -> None:
    app = containers(build(command_override="app", command=["--debug"], arguments_only=True))["app"]
    assert app["command"] == ["/server"] and app["args"] == ["--debug"]


def test_override_and_debug_container_together() -> None:
    result = build(image="busybox", command_override="app", command=["sleep", "1d"], stdin=True)
    assert containers(result)["app"]["command"] == ["sleep", "1d"]
    debug = containers(result)[str(result.added)]
    assert "command" not in debug and debug["stdin"] is True
    assert result.container == result.added


def test_set_images() -> None:
    result = build(set_images={"*": "busybox", "sidecar": "envoy:2", "init": "alpine"})
    found = containers(result)
    assert found["app"]["image"] == "busybox"
    assert found["sidecar"]["image"] == "envoy:2"
    assert result.pod["spec"]["initContainers"][0]["image"] == "alpine"  # named only
    assert result.container is None and result.added is None
    only_star = build(set_images={"*": "busybox"})
    assert only_star.pod["spec"]["initContainers"][0]["image"] == "busybox"  # '*': app only


def test_set_image_only_applies_the_profiles_pod_edits_without_extra_containers() -> None:
    result = build(set_images={"app": "busybox"}, profile="general")
    assert [c["name"] for c in result.pod["spec"]["containers"]] == ["app", "sidecar"]
    assert result.pod["spec"]["shareProcessNamespace"] is True
    assert "livenessProbe" not in containers(result)["app"]
    # No container was picked as the debug one: none gets the profile's capabilities.
    assert all("securityContext" not in c for c in result.pod["spec"]["containers"])


def test_custom_is_merged_into_the_debug_container() -> None:
    result = build(image="busybox", custom={"workingDir": "/tmp"})
    assert containers(result)[str(result.added)]["workingDir"] == "/tmp"
    with pytest.raises(ValidationError):
        build(image="busybox", custom={"image": "x"})


def test_the_original_is_not_mutated() -> None:
    pod = original()
    before = copy.deepcopy(pod)
    build(pod, image="busybox", profile="general", command=["x"], set_images={"*": "a"})
    build(pod, command_override="app", command=["sleep", "1"], env=["A=2"])
    assert pod == before


def test_long_original_name_gives_a_valid_label() -> None:
    pod = original()
    pod["metadata"]["name"] = "a" * 70 + ".b"
    value = build(pod, image="busybox").pod["metadata"]["labels"][COPY_OF_KEY]
    assert len(value) <= 63 and value[0].isalnum() and value[-1].isalnum()
    assert label_value("x" * 62 + ".-y") == "x" * 62


# --- refusals, all before anything exists ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({}, UsageError, "needs something to change"),
        ({"name": "web-7d4b9", "image": "busybox"}, UsageError, "original Pod's name"),
        ({"name": "Bad_Name", "image": "busybox"}, ValidationError, "--copy-to"),
        ({"command": ["ls"], "set_images": {"app": "x"}}, UsageError, "needs a container"),
        ({"command_override": "app"}, UsageError, "needs the new command"),
        ({"command_override": "nosuch", "command": ["x"]}, NotFoundError, "not found"),
        ({"command_override": "init", "command": ["x"]}, UsageError, "init container"),
        ({"set_images": {"nosuch": "busybox"}}, NotFoundError, "its containers: app"),
        ({"container": "dbg", "set_images": {"app": "x"}}, UsageError, "needs --image"),
        ({"image": "busybox", "container": "app"}, ValidationError, "Duplicate value"),
        ({"image": "busybox", "container": "Bad_Name"}, ValidationError, "RFC 1123"),
        ({"image": "Not Valid"}, UsageError, "invalid image name"),
        ({"image": "busybox", "profile": "admin"}, UsageError, "valid profiles"),
        ({"set_images": {"app": "x"}, "stdin": True}, UsageError, "-i/-t"),
        ({"image": "busybox", "image_pull_policy": "Sometimes"}, UsageError, "pull-policy"),
        ({"image": "busybox", "env": ["=x"]}, UsageError, "--env"),
    ],
)
def test_refusals(kwargs: dict[str, Any], error: type[PodscopeError], text: str) -> None:
    with pytest.raises(error, match=text) as info:
        build(**kwargs)
    assert "\n" not in info.value.message


def test_copy_of_a_static_pods_mirror_drops_the_kubelets_annotations() -> None:
    pod = original()
    pod["metadata"]["annotations"] = {
        "kubernetes.io/config.mirror": "abc",
        "kubernetes.io/config.hash": "abc",
        "kubernetes.io/config.source": "file",
    }
    meta = build(pod, image="busybox").pod["metadata"]
    assert "annotations" not in meta
    pod["metadata"]["annotations"]["team"] = "ops"
    assert build(pod, image="busybox").pod["metadata"]["annotations"] == {"team": "ops"}
