"""Where the cluster keeps things: everything mutable under STATE, built binaries under CACHE.

Two releases can be booted, each with its own folders, ports, networks and cgroups so that both
clusters run side by side on one machine. `select()` switches every name below to a release; the
rest of devcluster reads them as `paths.NAME` at call time, never copies them at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RELEASES = ("1.34", "1.21")
DEFAULT_RELEASE = "1.34"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    state: Path
    cache: Path
    gobuild: Path
    node_name: str
    api_port: int
    etcd_client_port: int
    etcd_peer_port: int
    kubelet_port: int
    kubelet_healthz_port: int
    controller_manager_port: int
    scheduler_port: int
    service_cidr: str
    service_ip: str
    pod_cidr: str
    bridge: str
    # The kubelet kills processes in pod cgroups it does not know: two kubelets on one machine
    # must never share a cgroup root.
    cgroup_root: str
    # kubeadm's layout: control plane as static Pods, kubelet config + env file, gate off.
    kubeadm_shaped: bool
    # The image registries on loopback (registry.py): public, and private with basic auth.
    registry_port: int = 5443
    private_registry_port: int = 5444


def release(name: str) -> Release:
    if name == "1.34":
        return Release(
            name="1.34",
            version="v1.34.4",
            state=Path(os.environ.get("PODSCOPE_DEVCLUSTER_STATE", "/var/lib/podscope-devcluster")),
            cache=Path(
                os.environ.get(
                    "PODSCOPE_DEVCLUSTER_CACHE", Path.home() / ".cache" / "podscope-devcluster"
                )
            ),
            gobuild=_HERE / "gobuild",
            node_name="podscope-node",
            api_port=6443,
            etcd_client_port=2379,
            etcd_peer_port=2380,
            kubelet_port=10250,
            kubelet_healthz_port=10248,
            controller_manager_port=10257,
            scheduler_port=10259,
            service_cidr="10.96.0.0/16",
            service_ip="10.96.0.1",
            pod_cidr="10.88.0.0/16",
            bridge="podscope0",
            cgroup_root="/",
            kubeadm_shaped=False,
        )
    if name == "1.21":
        return Release(
            name="1.21",
            version="v1.21.14",
            state=Path(
                os.environ.get("PODSCOPE_DEVCLUSTER121_STATE", "/var/lib/podscope-devcluster-1.21")
            ),
            cache=Path(
                os.environ.get(
                    "PODSCOPE_DEVCLUSTER121_CACHE",
                    Path.home() / ".cache" / "podscope-devcluster-1.21",
                )
            ),
            gobuild=_HERE / "gobuild121",
            node_name="podscope-node-121",
            api_port=6444,
            etcd_client_port=2479,
            etcd_peer_port=2480,
            kubelet_port=10350,
            kubelet_healthz_port=10348,
            controller_manager_port=10357,
            scheduler_port=10359,
            service_cidr="10.97.0.0/16",
            service_ip="10.97.0.1",
            pod_cidr="10.89.0.0/16",
            bridge="podscope121",
            cgroup_root="/podscope121",
            kubeadm_shaped=True,
            registry_port=5453,
            private_registry_port=5454,
        )
    raise ValueError(f"unknown release {name!r}; known: {', '.join(RELEASES)}")


ETCD_MODULE = "go.etcd.io/etcd/server/v3"
CSRC = _HERE / "csrc"

# Rebound by select(); these annotations keep mypy aware of the module attributes.
RELEASE: Release
KUBERNETES_VERSION: str
STATE: Path
CACHE: Path
BIN: Path
GOBUILD: Path
PKI: Path
LOGS: Path
RUN: Path
CONFIG: Path
ETCD_DATA: Path
KUBELET_ROOT: Path
MANIFESTS: Path
CONTAINERD_ROOT: Path
CONTAINERD_STATE: Path
CONTAINERD_SOCK: Path
CNI_CONF: Path
CNI_IPAM: Path
IMAGES: Path
ADMIN_KUBECONFIG: Path
KUBELET_CONFIG: Path
KUBELET_ENV: Path
NODE_ROOT: Path
KUBEADM_FLAGS: Path
POD_LOGS: Path
NODE_NAME: str
API_PORT: int
ETCD_CLIENT_URL: str
SERVICE_CIDR: str
SERVICE_IP: str
POD_CIDR: str


def select(name: str) -> Release:
    """Point every module-level name at release `name`'s folders and ports."""
    global RELEASE, KUBERNETES_VERSION, STATE, CACHE, BIN, GOBUILD, PKI, LOGS, RUN, CONFIG
    global ETCD_DATA, KUBELET_ROOT, MANIFESTS, CONTAINERD_ROOT, CONTAINERD_STATE, CONTAINERD_SOCK
    global CNI_CONF, CNI_IPAM, IMAGES, ADMIN_KUBECONFIG, KUBELET_CONFIG, KUBELET_ENV
    global NODE_ROOT, KUBEADM_FLAGS, POD_LOGS
    global NODE_NAME, API_PORT, ETCD_CLIENT_URL, SERVICE_CIDR, SERVICE_IP, POD_CIDR
    rel = release(name)
    RELEASE = rel
    KUBERNETES_VERSION = rel.version
    STATE = rel.state
    CACHE = rel.cache
    BIN = CACHE / "bin"
    GOBUILD = rel.gobuild
    PKI = STATE / "pki"
    LOGS = STATE / "logs"
    RUN = STATE / "run"  # PID files
    CONFIG = STATE / "config"
    ETCD_DATA = STATE / "etcd"
    # kubeadm's layout, under NODE_ROOT (so `podscope node enable-gate --root NODE_ROOT` finds
    # every file at its default path): /etc/kubernetes/manifests, /var/lib/kubelet/config.yaml,
    # /var/lib/kubelet/kubeadm-flags.env and /etc/default/kubelet with KUBELET_EXTRA_ARGS.
    NODE_ROOT = STATE / "node"
    if rel.kubeadm_shaped:
        KUBELET_ROOT = NODE_ROOT / "var" / "lib" / "kubelet"
        MANIFESTS = NODE_ROOT / "etc" / "kubernetes" / "manifests"
        KUBELET_CONFIG = KUBELET_ROOT / "config.yaml"
    else:
        KUBELET_ROOT = STATE / "kubelet"
        MANIFESTS = STATE / "manifests"
        KUBELET_CONFIG = CONFIG / "kubelet.yaml"
    KUBELET_ENV = NODE_ROOT / "etc" / "default" / "kubelet"
    KUBEADM_FLAGS = KUBELET_ROOT / "kubeadm-flags.env"
    POD_LOGS = STATE / "pod-logs"
    CONTAINERD_ROOT = STATE / "containerd" / "root"  # image store: survives down/up
    CONTAINERD_STATE = STATE / "containerd" / "state"
    CONTAINERD_SOCK = STATE / "containerd" / "containerd.sock"
    CNI_CONF = STATE / "cni" / "net.d"
    CNI_IPAM = STATE / "cni" / "ipam"
    IMAGES = CACHE / "images"  # built OCI archives
    ADMIN_KUBECONFIG = STATE / "admin.kubeconfig"
    NODE_NAME = rel.node_name
    API_PORT = rel.api_port
    ETCD_CLIENT_URL = f"http://127.0.0.1:{rel.etcd_client_port}"
    SERVICE_CIDR = rel.service_cidr
    SERVICE_IP = rel.service_ip
    POD_CIDR = rel.pod_cidr
    return rel


select(os.environ.get("PODSCOPE_DEVCLUSTER_RELEASE", DEFAULT_RELEASE))
