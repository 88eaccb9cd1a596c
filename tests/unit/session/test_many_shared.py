"""What a run over several Pods asks the API server once for all its Pods, on the in-memory
API server: the namespace's Events, the exec RBAC question, and each Pod's first read."""

from __future__ import annotations

from typing import Any, cast

from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import AccessQuestion
from podscope.rules.workloads import parse_pod_ref
from podscope.session.many import _Listed, _Shared
from tests.unit.fakekube import FakeKube


def _failed(pod: str, uid: str, container: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "default", "name": f"{pod}.1"},
        "reason": "Failed",
        "message": f"Failed to pull image: {pod}",
        "involvedObject": {
            "uid": uid,
            "fieldPath": f"spec.ephemeralContainers{{{container}}}",
        },
    }


def _question(uid: str, container: str) -> str:
    return (
        f"involvedObject.uid={uid},reason=Failed,"
        f"involvedObject.fieldPath=spec.ephemeralContainers{{{container}}}"
    )


def test_each_pods_events_come_filtered_out_of_one_list() -> None:
    fake = FakeKube()
    fake.core_events += [_failed("a", "uid-a", "dbg"), _failed("b", "uid-b", "dbg")]
    shared = _Shared(cast(KubeAPI, fake))
    for uid in ("uid-a", "uid-b", "uid-c"):
        alone = fake.list_events("default", _question(uid, "dbg"))
        assert shared.list_events("default", _question(uid, "dbg")) == alone
    # Three direct questions and one shared list for the three Pods.
    assert fake.methods().count("list_events") == 4


def test_a_selector_without_one_reason_is_asked_as_it_is() -> None:
    fake = FakeKube()
    shared = _Shared(cast(KubeAPI, fake))
    shared.list_events("default", "involvedObject.uid=x")
    shared.list_events("default", "involvedObject.uid=x")
    assert fake.methods().count("list_events") == 2


def test_exec_allowed_for_every_pod_is_asked_once_and_a_refusal_per_pod() -> None:
    fake = FakeKube()
    shared = _Shared(cast(KubeAPI, fake))
    for pod in ("a", "b", "c"):
        assert shared.access_review(AccessQuestion("get", "pods", "exec", "default", pod))[0]
    assert [c[2] for c in fake.calls if c[0] == "access_review"] == [None]
    fake.calls.clear()
    fake.denied.add(("get", "pods", "exec"))
    shared = _Shared(cast(KubeAPI, fake))
    for pod in ("a", "b"):
        assert not shared.access_review(AccessQuestion("get", "pods", "exec", "default", pod))[0]
    # Not allowed for all names: RBAC may still name a Pod, so each one is asked.
    assert [c[2] for c in fake.calls if c[0] == "access_review"] == [None, "a", "b"]


def test_the_listed_pod_answers_its_first_read_only() -> None:
    fake = FakeKube()
    stored = fake.running_pod("web")
    fake.calls.clear()
    listed = _Listed(cast(KubeAPI, fake), stored, _Shared(cast(KubeAPI, fake)))
    pod, reason = listed.get_workload("default", parse_pod_ref("web"))
    assert pod is stored and reason == "named on the command line"
    assert fake.methods() == []
    listed.get_pod("default", "web")
    assert fake.methods() == ["get_pod"]
