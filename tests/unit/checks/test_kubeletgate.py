"""The kubelet's EphemeralContainers gate from /configz: doctor's finding and debug's early stop."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.checks.kubeletgate import check_kubelet_gate, gate_from_configz
from podscope.errors import ForbiddenError, UnsupportedError
from podscope.session.wait import refuse_if_kubelet_gate_off


def node(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"nodeInfo": {"kubeletVersion": version}}}


def configz(gates: dict[str, bool] | None) -> dict[str, Any]:
    config: dict[str, Any] = {"kind": "KubeletConfiguration"}
    if gates is not None:
        config["featureGates"] = gates
    return {"kubeletconfig": config}


class FakeClient:
    def __init__(
        self, answers: dict[str, Any], shape: str = "legacy", nodes: list[Any] | None = None
    ) -> None:
        self.answers = answers
        self.shape = shape
        self.nodes = {n["metadata"]["name"]: n for n in nodes or []}
        self.asked: list[str] = []

    def kubelet_configz(self, name: str) -> dict[str, Any]:
        self.asked.append(name)
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def ephemeral_shape(self) -> str:
        return self.shape

    def get_node(self, name: str) -> dict[str, Any]:
        return self.nodes[name]


def test_explicit_gate_wins_over_the_version_default() -> None:
    assert gate_from_configz(configz({"EphemeralContainers": True}), "v1.21.14") is True
    assert gate_from_configz(configz({"EphemeralContainers": False}), "v1.23.0") is False


def test_absent_gate_is_the_release_default() -> None:
    assert gate_from_configz(configz({}), "v1.21.14") is False
    assert gate_from_configz(configz(None), "v1.23.4") is True
    assert gate_from_configz({"other": 1}, "v1.21.14") is None


def test_doctor_fails_naming_the_node_whose_kubelet_has_it_off() -> None:
    nodes = [node("a", "v1.21.14"), node("b", "v1.21.14")]
    client = FakeClient({"a": configz({"EphemeralContainers": True}), "b": configz({})})
    finding = check_kubelet_gate(client, nodes)
    assert finding is not None and finding.result == "fail"
    assert "the kubelet on node b has the EphemeralContainers gate off" in finding.evidence
    assert "node a" not in finding.evidence
    assert finding.remedy and "enable-gate" in finding.remedy


def test_doctor_says_what_it_could_not_check_without_nodes_proxy() -> None:
    client = FakeClient({"a": ForbiddenError('nodes "a" is forbidden')})
    finding = check_kubelet_gate(client, [node("a", "v1.21.14")])
    assert finding is not None and finding.result == "warn"
    assert "could not check" in finding.evidence and "nodes/proxy" in finding.evidence


def test_doctor_passes_when_every_kubelet_has_it_on() -> None:
    client = FakeClient({"a": configz({"EphemeralContainers": True})})
    finding = check_kubelet_gate(client, [node("a", "v1.21.14")])
    assert finding is not None and finding.result == "ok"


def test_doctor_does_not_ask_kubelets_that_cannot_have_it_off() -> None:
    client = FakeClient({})
    assert check_kubelet_gate(client, [node("a", "v1.34.4")]) is None
    assert client.asked == []


def pod_on(node_name: str) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"nodeName": node_name}}


def test_debug_stops_at_once_when_the_kubelet_gate_is_off() -> None:
    client = FakeClient({"n": configz({})}, nodes=[node("n", "v1.21.14")])
    with pytest.raises(UnsupportedError) as caught:
        refuse_if_kubelet_gate_off(client, pod_on("n"))  # type: ignore[arg-type]
    assert caught.value.message == "the kubelet on node n has the EphemeralContainers gate off"


def test_debug_goes_on_when_the_gate_is_on_or_cannot_be_read() -> None:
    on = FakeClient({"n": configz({"EphemeralContainers": True})}, nodes=[node("n", "v1.21.14")])
    refuse_if_kubelet_gate_off(on, pod_on("n"))  # type: ignore[arg-type]
    forbidden = FakeClient({"n": ForbiddenError("forbidden")}, nodes=[node("n", "v1.21.14")])
    refuse_if_kubelet_gate_off(forbidden, pod_on("n"))  # type: ignore[arg-type]


def test_debug_does_not_ask_on_clusters_past_the_legacy_api() -> None:
    client = FakeClient({}, shape="pod", nodes=[node("n", "v1.34.4")])
    refuse_if_kubelet_gate_off(client, pod_on("n"))  # type: ignore[arg-type]
    assert client.asked == []
