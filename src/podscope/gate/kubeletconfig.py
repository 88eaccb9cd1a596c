"""``featureGates.EphemeralContainers: true`` in a KubeletConfiguration file."""

from __future__ import annotations

import bisect
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import ScalarString

from podscope.errors import NodeEditError
from podscope.gate import yamlio
from podscope.gate.gates import GATE, Edit, GateState

KIND = "KubeletConfiguration"
_WHAT = "kubelet config file (KubeletConfiguration)"
_MARKERS = (GATE, "featureGates")
_ADDED = f"added featureGates.{GATE}: true"

# The kubelet reads its config with YAML 1.1 (sigs.k8s.io/yaml); ruamel reads 1.2, where these
# plain words are strings. Quoted words are strings to the kubelet too, and it rejects them.
_YAML11_TRUE = frozenset({"y", "yes", "on", "true"})
_YAML11_FALSE = frozenset({"n", "no", "off", "false"})


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and not isinstance(value, ScalarString):
        word = value.lower()
        if word in _YAML11_TRUE:
            return True
        if word in _YAML11_FALSE:
            return False
    return None


def _refuse(source: str, problem: str) -> NodeEditError:
    return NodeEditError(
        f"{source}: {problem}",
        remedy=(
            "this is not the KubeletConfiguration layout podscope edits; add "
            f"'featureGates: {{{GATE}: true}}' by hand, or name the right file "
            "with --kubelet-config"
        ),
    )


def edit_kubelet_config_text(text: str, source: str) -> Edit:
    """Switch the gate on in a KubeletConfiguration document.

    Raises :class:`NodeEditError` when the text is not a block-style KubeletConfiguration
    mapping or ``featureGates`` is not a mapping of booleans.
    """
    doc = yamlio.load(text, source, what=_WHAT)
    data = doc.data
    if not isinstance(data, CommentedMap):
        raise _refuse(source, "not a YAML mapping")
    if data.get("kind") != KIND:
        raise _refuse(source, f"kind is {data.get('kind')!r}, not {KIND!r}")
    if data.fa.flow_style():
        # A JSON config would come back as one long YAML flow line: edit it by hand instead.
        raise _refuse(source, "written in JSON/flow style")

    if "featureGates" not in data:
        keys = [str(k) for k in data]
        gates = CommentedMap([(GATE, True)])
        # kubeadm writes keys sorted; keep that so the file still looks like kubeadm's.
        pos = bisect.bisect(keys, "featureGates") if keys == sorted(keys) else len(keys)
        data.insert(pos, "featureGates", gates)
        return Edit(GateState.ABSENT, yamlio.dump(doc, _MARKERS), _ADDED)

    gates = data["featureGates"]
    if gates is None:
        data["featureGates"] = CommentedMap([(GATE, True)])
        return Edit(GateState.ABSENT, yamlio.dump(doc, _MARKERS), f"set featureGates.{GATE}: true")
    if not isinstance(gates, CommentedMap):
        raise _refuse(source, f"featureGates is a {type(gates).__name__}, not a mapping")
    if GATE not in gates:
        if not gates:
            gates.fa.set_block_style()  # "featureGates: {}" becomes a normal block
        gates[GATE] = True
        return Edit(GateState.ABSENT, yamlio.dump(doc, _MARKERS), _ADDED)
    state = _as_bool(gates[GATE])
    if state is None:
        raise _refuse(source, f"featureGates.{GATE} is {gates[GATE]!r}, not a boolean")
    if state:
        return Edit(GateState.ON, None, f"featureGates.{GATE} is already true")
    gates[GATE] = True
    return Edit(GateState.OFF, yamlio.dump(doc, _MARKERS), f"switched featureGates.{GATE} to true")
