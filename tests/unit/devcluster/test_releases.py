"""The two releases can run side by side: nothing one cluster owns is the other's."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from devcluster import kubeadm, paths


def test_the_releases_share_no_port_folder_network_or_cgroup() -> None:
    new, old = paths.release("1.34"), paths.release("1.21")
    shared = [
        f.name
        for f in fields(paths.Release)
        if f.name not in ("kubeadm_shaped",) and getattr(new, f.name) == getattr(old, f.name)
    ]
    assert shared == []
    ports = [
        p
        for r in (new, old)
        for p in (
            r.api_port,
            r.etcd_client_port,
            r.etcd_peer_port,
            r.kubelet_port,
            r.kubelet_healthz_port,
            r.controller_manager_port,
            r.scheduler_port,
            r.registry_port,
            r.private_registry_port,
        )
    ]
    assert len(ports) == len(set(ports))
    assert old.cgroup_root not in ("/", "/kubepods")
    assert len(old.bridge) <= 15  # Linux interface names


def test_select_switches_every_path_and_back() -> None:
    try:
        paths.select("1.21")
        assert paths.API_PORT == 6444 and paths.NODE_NAME == "podscope-node-121"
        for name in ("PKI", "LOGS", "RUN", "CONTAINERD_SOCK", "KUBELET_ROOT", "MANIFESTS"):
            assert paths.STATE in getattr(paths, name).parents
        assert paths.MANIFESTS == paths.NODE_ROOT / "etc/kubernetes/manifests"
        assert paths.KUBELET_CONFIG == paths.NODE_ROOT / "var/lib/kubelet/config.yaml"
        assert paths.KUBELET_ENV == paths.NODE_ROOT / "etc/default/kubelet"
    finally:
        paths.select("1.34")
    assert paths.API_PORT == 6443 and paths.release("1.34").state == paths.STATE


def test_yaml_writer_round_trips_through_a_yaml_parser() -> None:
    from ruamel.yaml import YAML

    doc = {"a": {"b": [1, "x: y", {"c": True, "d": []}], "e": {}}, "f": "--flag=1"}
    assert YAML(typ="safe").load(kubeadm.to_yaml(doc)) == doc


def test_kubelet_args_come_from_the_env_files_at_each_start(tmp_path: Path) -> None:
    try:
        paths.select("1.21")
        paths.KUBEADM_FLAGS = tmp_path / "kubeadm-flags.env"
        paths.KUBELET_ENV = tmp_path / "kubelet"
        paths.KUBEADM_FLAGS.write_text('KUBELET_KUBEADM_ARGS="--node-ip=1.2.3.4 --a=b"\n')
        paths.KUBELET_ENV.write_text("KUBELET_EXTRA_ARGS=\n")
        assert kubeadm.kubelet_args()[-2:] == ["--node-ip=1.2.3.4", "--a=b"]
        paths.KUBELET_ENV.write_text(
            "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=true\n"
        )
        assert kubeadm.kubelet_args()[-1] == "--feature-gates=EphemeralContainers=true"
    finally:
        paths.select("1.34")


@pytest.mark.parametrize("kept", [True, False])
def test_openapi_inputs_are_the_tagged_packages(tmp_path: Path, kept: bool) -> None:
    from devcluster.build import openapi_input_packages

    tagged = tmp_path / "k8s.io/api/core/v1"
    tagged.mkdir(parents=True)
    comment = "// +k8s:openapi-gen=true\n" if kept else 'x := "+k8s:openapi-gen=true"\n'
    (tagged / "doc.go").write_text(comment + "package v1\n")
    excluded = tmp_path / "k8s.io/code-generator/x"
    excluded.mkdir(parents=True)
    (excluded / "doc.go").write_text("// +k8s:openapi-gen=true\npackage x\n")
    assert openapi_input_packages(tmp_path) == (["k8s.io/api/core/v1"] if kept else [])
