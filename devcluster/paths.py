"""Where the cluster keeps things: everything mutable under STATE, built binaries under CACHE."""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "v1.34.4"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"

STATE = Path(os.environ.get("PODSCOPE_DEVCLUSTER_STATE", "/var/lib/podscope-devcluster"))
CACHE = Path(
    os.environ.get("PODSCOPE_DEVCLUSTER_CACHE", Path.home() / ".cache" / "podscope-devcluster")
)
BIN = CACHE / "bin"
GOBUILD = Path(__file__).resolve().parent / "gobuild"
CSRC = Path(__file__).resolve().parent / "csrc"

PKI = STATE / "pki"
LOGS = STATE / "logs"
RUN = STATE / "run"  # PID files
CONFIG = STATE / "config"
ETCD_DATA = STATE / "etcd"
KUBELET_ROOT = STATE / "kubelet"
MANIFESTS = STATE / "manifests"
CONTAINERD_ROOT = STATE / "containerd" / "root"  # image store: survives down/up
CONTAINERD_STATE = STATE / "containerd" / "state"
CONTAINERD_SOCK = STATE / "containerd" / "containerd.sock"
CNI_CONF = STATE / "cni" / "net.d"
CNI_IPAM = STATE / "cni" / "ipam"
IMAGES = CACHE / "images"  # built OCI archives

ADMIN_KUBECONFIG = STATE / "admin.kubeconfig"

NODE_NAME = "podscope-node"
API_PORT = 6443
ETCD_CLIENT_URL = "http://127.0.0.1:2379"
SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"
POD_CIDR = "10.88.0.0/16"
