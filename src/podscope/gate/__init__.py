"""Offline edits on a node of a 1.16-1.22 cluster that switch on the ``EphemeralContainers`` gate.

Nothing here talks to the Kubernetes API: it edits the kubelet's config and environment files
and the kube-apiserver / kube-scheduler static Pod manifests, the places a manual
walkthrough edits by hand. Entry point: :func:`enable_gate`. The per-format editors take
text and return an :class:`Edit`, so they can be used (and tested) without touching any file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podscope.gate.enable import COMPONENTS, FileReport, GateReport, enable_gate
    from podscope.gate.envfile import edit_env_text
    from podscope.gate.gates import GATE, Edit, GateState
    from podscope.gate.kubeletconfig import edit_kubelet_config_text
    from podscope.gate.manifest import ManifestEdit, edit_manifest_text, manifest_image
    from podscope.gate.versions import (
        KubeVersion,
        Support,
        gate_support,
        parse_version,
        probe_kubelet_version,
        version_from_image,
    )

# Where each name lives: importing one editor (or the version parser, which a debug session
# uses) does not load the others and their YAML round-trip machinery.
_HOMES = {
    "COMPONENTS": "enable",
    "FileReport": "enable",
    "GateReport": "enable",
    "enable_gate": "enable",
    "edit_env_text": "envfile",
    "GATE": "gates",
    "Edit": "gates",
    "GateState": "gates",
    "edit_kubelet_config_text": "kubeletconfig",
    "ManifestEdit": "manifest",
    "edit_manifest_text": "manifest",
    "manifest_image": "manifest",
    "KubeVersion": "versions",
    "Support": "versions",
    "gate_support": "versions",
    "parse_version": "versions",
    "probe_kubelet_version": "versions",
    "version_from_image": "versions",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"podscope.gate.{home}"), name)


__all__ = [
    "COMPONENTS",
    "GATE",
    "Edit",
    "FileReport",
    "GateReport",
    "GateState",
    "KubeVersion",
    "ManifestEdit",
    "Support",
    "edit_env_text",
    "edit_kubelet_config_text",
    "edit_manifest_text",
    "enable_gate",
    "gate_support",
    "manifest_image",
    "parse_version",
    "probe_kubelet_version",
    "version_from_image",
]
