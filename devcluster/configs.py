"""Configuration files and command lines for each component.

Each function returns exactly what one component needs; reading them top to bottom is reading how
a single-node cluster is put together.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from devcluster import paths


def kubeconfig(path: Path, user: str, cert: str, server: str) -> Path:
    """A kubeconfig with embedded client certificate (one file, easy to hand to a test)."""

    def b64(name: str) -> str:
        return base64.b64encode((paths.PKI / name).read_bytes()).decode()

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "podscope-dev",
                "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(f"{cert}.crt"),
                    "client-key-data": b64(f"{cert}.key"),
                },
            }
        ],
        "contexts": [
            {
                "name": "podscope-dev",
                "context": {"cluster": "podscope-dev", "user": user, "namespace": "default"},
            }
        ],
        "current-context": "podscope-dev",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))  # JSON is YAML: every client reads it
    path.chmod(0o600)
    return path


def containerd_config() -> Path:
    path = paths.CONFIG / "containerd.toml"
    if paths.RELEASE.kubeadm_shaped:
        # A second containerd on this machine: keep its runc state and Pod network namespaces
        # apart from the other cluster's (whose `down` clears /run/netns/cni-*).
        runc_root = f'\n        Root = "{paths.STATE / "containerd" / "runc"}"'
        netns = "\n  netns_mounts_under_state_dir = true"
    else:
        runc_root = netns = ""
    path.write_text(f"""\
version = 2
root = "{paths.CONTAINERD_ROOT}"
state = "{paths.CONTAINERD_STATE}"

[grpc]
  address = "{paths.CONTAINERD_SOCK}"

[plugins."io.containerd.grpc.v1.cri"]
  # Our own pause image, imported locally: the CRI plugin would otherwise try to pull one.
  sandbox_image = "registry.k8s.io/pause:3.10"
  # These machines withhold CAP_SYS_RESOURCE, so nobody may lower oom_score_adj below its
  # current value; runc would fail ("can't get final child's PID from pipe") on the kubelet's
  # -998 for sandboxes. This clamps requested values to containerd's own.
  restrict_oom_score_adj = true{netns}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false{runc_root}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{paths.CNI_CONF}"
  # Per-registry host files (hosts.toml), read at every pull: a registry can be mirrored
  # without restarting containerd.
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{paths.STATE / "containerd" / "certs.d"}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{paths.STATE / "containerd" / "opt"}"
""")
    return path


def cni_config() -> Path:
    # The CNI result cache (/var/lib/cni) is keyed by network name: one name per cluster.
    network = paths.RELEASE.bridge if paths.RELEASE.kubeadm_shaped else "podscope"
    paths.CNI_CONF.mkdir(parents=True, exist_ok=True)
    conf = {
        "cniVersion": "1.0.0",
        "name": network,
        "plugins": [
            {
                "type": "bridge",
                "bridge": paths.RELEASE.bridge,
                "isGateway": True,
                # Pods talk to each other and to the node only: no NAT towards the outside.
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": paths.POD_CIDR}]],
                    "dataDir": str(paths.CNI_IPAM),
                },
            }
        ],
    }
    path = paths.CNI_CONF / f"10-{network}.conflist"
    path.write_text(json.dumps(conf, indent=2))
    return path


def _etcd_peer_url() -> str:
    return f"http://127.0.0.1:{paths.RELEASE.etcd_peer_port}"


def etcd_command() -> list[str]:
    return [
        str(paths.BIN / "etcd"),
        "--name",
        "podscope",
        "--data-dir",
        str(paths.ETCD_DATA),
        "--listen-client-urls",
        paths.ETCD_CLIENT_URL,
        "--advertise-client-urls",
        paths.ETCD_CLIENT_URL,
        "--listen-peer-urls",
        _etcd_peer_url(),
        "--initial-advertise-peer-urls",
        _etcd_peer_url(),
        "--initial-cluster",
        f"podscope={_etcd_peer_url()}",
        # A throw-away dev cluster: skipping fsync makes boot and tests faster; losing data is fine.
        "--unsafe-no-fsync",
        "--log-level",
        "warn",
    ]


def apiserver_command(node_ip: str) -> list[str]:
    return [
        str(paths.BIN / "kube-apiserver"),
        f"--advertise-address={node_ip}",
        f"--secure-port={paths.API_PORT}",
        f"--etcd-servers={paths.ETCD_CLIENT_URL}",
        f"--service-cluster-ip-range={paths.SERVICE_CIDR}",
        f"--client-ca-file={paths.PKI / 'ca.crt'}",
        f"--tls-cert-file={paths.PKI / 'apiserver.crt'}",
        f"--tls-private-key-file={paths.PKI / 'apiserver.key'}",
        f"--kubelet-client-certificate={paths.PKI / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={paths.PKI / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={paths.PKI / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={paths.PKI / 'sa.pub'}",
        f"--service-account-signing-key-file={paths.PKI / 'sa.key'}",
        "--authorization-mode=Node,RBAC",
        # The defaults (ServiceAccount, PodSecurity, ...) plus NodeRestriction, as clusters run.
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
    ]


def controller_manager_command() -> list[str]:
    return [
        str(paths.BIN / "kube-controller-manager"),
        f"--kubeconfig={paths.CONFIG / 'controller-manager.kubeconfig'}",
        f"--authentication-kubeconfig={paths.CONFIG / 'controller-manager.kubeconfig'}",
        f"--authorization-kubeconfig={paths.CONFIG / 'controller-manager.kubeconfig'}",
        f"--service-account-private-key-file={paths.PKI / 'sa.key'}",
        f"--root-ca-file={paths.PKI / 'ca.crt'}",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={paths.SERVICE_CIDR}",
        "--leader-elect=false",
        "--secure-port=10257",
        "--bind-address=127.0.0.1",
        "--v=1",
    ]


def scheduler_command() -> list[str]:
    return [
        str(paths.BIN / "kube-scheduler"),
        f"--kubeconfig={paths.CONFIG / 'scheduler.kubeconfig'}",
        f"--authentication-kubeconfig={paths.CONFIG / 'scheduler.kubeconfig'}",
        f"--authorization-kubeconfig={paths.CONFIG / 'scheduler.kubeconfig'}",
        "--leader-elect=false",
        "--secure-port=10259",
        "--bind-address=127.0.0.1",
        "--v=1",
    ]


def kubelet_config() -> Path:
    path = paths.CONFIG / "kubelet.yaml"
    conf = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(paths.PKI / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        # These hosts run cgroup v1 and have swap configuration the kubelet would refuse.
        "failSwapOn": False,
        "failCgroupV1": False,
        "containerRuntimeEndpoint": f"unix://{paths.CONTAINERD_SOCK}",
        "staticPodPath": str(paths.MANIFESTS),
        "tlsCertFile": str(paths.PKI / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(paths.PKI / "kubelet-serving.key"),
        "readOnlyPort": 0,
        # Images are imported locally at boot (the registries in registry.py serve pulls of the
        # same digests): never garbage-collect them, and never evict Pods because a development
        # disk is fuller than a production one.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "serializeImagePulls": False,
        "resolvConf": "/etc/resolv.conf",
        "nodeStatusUpdateFrequency": "4s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "5s",
    }
    path.write_text(json.dumps(conf, indent=2))
    return path


def kubelet_command(node_ip: str) -> list[str]:
    return [
        str(paths.BIN / "kubelet"),
        f"--config={paths.CONFIG / 'kubelet.yaml'}",
        f"--kubeconfig={paths.CONFIG / 'kubelet.kubeconfig'}",
        f"--root-dir={paths.KUBELET_ROOT}",
        f"--hostname-override={paths.NODE_NAME}",
        f"--node-ip={node_ip}",
        "--v=1",
    ]
