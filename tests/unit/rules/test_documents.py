from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import build_pod
from podscope.errors import PodscopeError, UsageError, ValidationError
from podscope.rules.documents import (
    differences,
    normalize_container,
    parse_document,
    plan_apply,
)

SEED_EC_JSON = (
    '{"apiVersion": "v1","kind": "EphemeralContainers","metadata": {"name": "nginx"},'
    '"ephemeralContainers": [{"command": ["sh"],"image": "busybox","imagePullPolicy": '
    '"IfNotPresent","name": "debugger","stdin": true,"tty": true,"terminationMessagePolicy": '
    '"File"}]}'
)
SEED_CONTAINER = {
    "command": ["sh"],
    "image": "busybox",
    "imagePullPolicy": "IfNotPresent",
    "name": "debugger",
    "stdin": True,
    "tty": True,
    "terminationMessagePolicy": "File",
}

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  ephemeralContainers:
  - name: dbg
    image: busybox
    command: [sh]
"""


def test_seed_ec_json_parses() -> None:
    doc = parse_document(SEED_EC_JSON, "ec.json")
    assert doc.pod_name == "nginx"
    assert doc.namespace is None
    assert doc.kind == "EphemeralContainers"
    assert doc.containers == [SEED_CONTAINER]


def test_pod_shaped_yaml() -> None:
    doc = parse_document(POD_YAML, "pod.yaml")
    assert (doc.pod_name, doc.namespace, doc.kind) == ("web", "shop", "Pod")
    assert doc.containers == [{"name": "dbg", "image": "busybox", "command": ["sh"]}]


def test_bare_list_needs_pod() -> None:
    text = "- name: dbg\n  image: busybox\n"
    with pytest.raises(UsageError, match="does not say which Pod"):
        parse_document(text, "list.yaml")
    doc = parse_document(text, "list.yaml", pod="web")
    assert (doc.pod_name, doc.kind, len(doc.containers)) == ("web", "List", 1)
    with pytest.raises(ValidationError) as empty:
        parse_document("[]", "empty.json", pod="web")
    assert empty.value.message == "empty.json: lists no containers"  # no empty path between


def test_pod_argument_must_match() -> None:
    assert parse_document(SEED_EC_JSON, "ec.json", pod="nginx").pod_name == "nginx"
    with pytest.raises(ValidationError) as info:
        parse_document(SEED_EC_JSON, "ec.json", pod="other")
    assert 'Pod "nginx", but --pod names "other"' in info.value.message


def test_hostile_pod_argument() -> None:
    with pytest.raises(ValidationError):
        parse_document("- name: a\n  image: b\n", "l.yaml", pod="../../etc")


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("42", "must be a mapping"),
        ('"text"', "must be a mapping"),
        ('{"kind": "Deployment", "apiVersion": "apps/v1"}', '"Deployment" is not supported'),
        ('{"apiVersion": "v1"}', "kind: missing"),
        ('{"kind": "Pod", "apiVersion": "v2", "metadata": {"name": "a"}}', "apiVersion"),
        ('{"kind": "Pod", "metadata": {"name": "a"}}', "apiVersion: missing"),
        ('{"kind": "Pod", "apiVersion": "v1", "metadata": {}}', "metadata.name"),
        ('{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "A;B"}}', "metadata.name"),
        ('{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}}', "spec"),
        ('{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}, "spec": {}}', "list"),
        (
            '{"kind": "EphemeralContainers", "apiVersion": "v1", "metadata": {"name": "a"}, '
            '"ephemeralContainers": []}',
            "lists no containers",
        ),
        (
            '{"kind": "EphemeralContainers", "apiVersion": "v1", "metadata": {"name": "a"}, '
            '"ephemeralContainers": [{"name": "x", "image": "i"}, {"name": "x", "image": "j"}]}',
            'Duplicate value: "x"',
        ),
        (
            '{"kind": "EphemeralContainers", "apiVersion": "v1", "metadata": {"name": "a"}, '
            '"ephemeralContainers": [{"image": "i"}]}',
            "ephemeralContainers[0].name: Required value",
        ),
        (
            '{"kind": "EphemeralContainers", "apiVersion": "v1", "metadata": {"name": "a"}, '
            '"ephemeralContainers": ["x"]}',
            "must be a container mapping",
        ),
        (
            '{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "A.B"}, '
            '"spec": {"ephemeralContainers": [{"name": "x"}]}}',
            "metadata.namespace",
        ),
    ],
)
def test_document_errors(doc: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_document(doc, "doc.json")
    assert info.value.message.startswith("doc.json: ")
    assert fragment in info.value.message
    assert "\n" not in info.value.message


# --- plan_apply ---


def server_copy(container: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns for a container it stored: defaults filled in."""
    stored = {
        **container,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
    }
    stored.setdefault("terminationMessagePolicy", "File")
    stored.setdefault("imagePullPolicy", "Always")
    return stored


def test_new_container() -> None:
    plan = plan_apply(build_pod(name="nginx"), [SEED_CONTAINER])
    assert plan.new == [SEED_CONTAINER] and not plan.unchanged and not plan.conflicting


def test_unchanged_despite_server_defaults() -> None:
    pod = build_pod()
    pod["spec"]["ephemeralContainers"] = [server_copy(SEED_CONTAINER)]
    plan = plan_apply(pod, [SEED_CONTAINER])
    assert plan.unchanged == ["debugger"] and not plan.new and not plan.conflicting


def test_empty_termination_message_path_is_the_default() -> None:
    stored = server_copy(SEED_CONTAINER)
    assert normalize_container({**SEED_CONTAINER, "terminationMessagePath": ""}) == (
        normalize_container(stored)
    )


def test_defaulted_pull_policy_counts_as_unchanged() -> None:
    wanted = {"name": "d", "image": "busybox", "stdin": False}
    pod = build_pod()
    pod["spec"]["ephemeralContainers"] = [server_copy(wanted)]
    assert plan_apply(pod, [wanted]).unchanged == ["d"]


def test_conflict_lists_differences() -> None:
    pod = build_pod()
    pod["spec"]["ephemeralContainers"] = [server_copy(SEED_CONTAINER)]
    changed = {**SEED_CONTAINER, "image": "alpine", "tty": False}
    plan = plan_apply(pod, [changed])
    assert not plan.new and not plan.unchanged
    name, diffs = plan.conflicting[0]
    assert name == "debugger"
    assert any(d.startswith('image: "busybox" in the Pod, "alpine" in the document') for d in diffs)
    assert any(d.startswith("tty: true in the Pod, not set in the document") for d in diffs)


def test_name_of_app_container_conflicts() -> None:
    plan = plan_apply(build_pod(containers=("app",)), [{"name": "app", "image": "busybox"}])
    assert plan.conflicting and plan.conflicting[0][0] == "app"


def test_new_containers_are_validated_at_their_index() -> None:
    pod = build_pod(ephemeral=("old",))
    with pytest.raises(ValidationError) as info:
        plan_apply(pod, [{"name": "a", "image": "i"}, {"name": "b", "image": "i", "ports": [1]}])
    assert info.value.field == "spec.ephemeralContainers[2].ports"
    plan = plan_apply(pod, [{"name": "b", "image": "i", "ports": [1]}], validate=False)
    assert [c["name"] for c in plan.new] == ["b"]


def test_normalize_keeps_meaningful_zeroes() -> None:
    normalized = normalize_container(
        {"name": "d", "image": "x:1", "securityContext": {"runAsUser": 0}}
    )
    assert normalized["securityContext"] == {"runAsUser": 0}
    assert normalized["imagePullPolicy"] == "IfNotPresent"


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("registry:5000/busybox", "Always"),
        ("registry:5000/busybox:1", "IfNotPresent"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_default_pull_policy(image: str, policy: str) -> None:
    assert normalize_container({"name": "d", "image": image})["imagePullPolicy"] == policy


def test_env_field_ref_api_version_default() -> None:
    ours = {
        "name": "d",
        "image": "i",
        "env": [{"name": "P", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
    }
    theirs = json.loads(json.dumps(ours))
    theirs["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] = "v1"
    assert differences(normalize_container(theirs), normalize_container(ours)) == []


@given(st.text(max_size=300), st.none() | st.text(max_size=20))
def test_parse_document_raises_only_podscope_errors(text: str, pod: str | None) -> None:
    try:
        doc = parse_document(text, "fuzz", pod)
    except PodscopeError as exc:
        assert "\n" not in exc.message
        return
    assert doc.containers


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    st.sampled_from(["EphemeralContainers", "Pod", None]),
    st.lists(
        st.dictionaries(
            st.sampled_from(["name", "image", "command", "ports", "stdin"]), json_values, max_size=4
        ),
        max_size=3,
    ),
)
def test_structured_documents_raise_only_podscope_errors(
    kind: str | None, containers: list[Any]
) -> None:
    if kind == "Pod":
        data: Any = {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": "p"},
            "spec": {"ephemeralContainers": containers},
        }
    elif kind:
        data = {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": "p"},
            "ephemeralContainers": containers,
        }
    else:
        data = containers
    try:
        doc = parse_document(json.dumps(data), "fuzz.json", "p")
        plan_apply(build_pod(name="p", ephemeral=("old",)), doc.containers)
    except PodscopeError as exc:
        assert "\n" not in exc.message
