"""The kubeadm-shaped node of the old release: what the guide's readers have on their machines.

kube-apiserver, kube-scheduler and kube-controller-manager run as static Pods from
/etc/kubernetes/manifests (under paths.NODE_ROOT), from local images that hold the binaries; the
kubelet reads /var/lib/kubelet/config.yaml and is started, as kubeadm's systemd drop-in starts it,
with $KUBELET_KUBEADM_ARGS from kubeadm-flags.env and $KUBELET_EXTRA_ARGS from
/etc/default/kubelet. Every file is written with the EphemeralContainers gate off (the
default up to 1.22), so `podscope node enable-gate` has the real files to edit.

This cluster shares the machine with the default one, so its containerd and kubelet run in a
mount namespace of their own in which /var/log/pods and /var/log/containers are private: both
paths are fixed in a 1.21 kubelet, and each kubelet's garbage collector deletes the log folders
of Pods it does not know, i.e. the other cluster's.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from devcluster import paths

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
IMAGE_REGISTRY = "registry.k8s.io"
CGROUP_V1 = Path("/sys/fs/cgroup")


def image_of(component: str) -> str:
    return f"{IMAGE_REGISTRY}/{component}:{paths.KUBERNETES_VERSION}"


# --- a YAML writer for the few shapes these files have ------------------------------------------
# Block style, as kubeadm writes them; every string is double-quoted JSON, which is valid YAML.


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def to_yaml(value: Any, indent: int = 0) -> str:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2 if isinstance(item, dict) else indent))
            elif isinstance(item, dict):
                lines.append(f"{pad}{key}: {{}}")
            elif isinstance(item, list):
                lines.append(f"{pad}{key}: []")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 2)
                lines.append(f"{pad}- " + body[indent + 2 :])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return "\n".join(lines)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


# --- static Pods ----------------------------------------------------------------------------


def _static_pod(component: str, command: list[str]) -> dict[str, Any]:
    mounts = [("k8s-certs", paths.PKI), ("k8s-config", paths.CONFIG)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "labels": {"component": component, "tier": "control-plane"},
            "name": component,
            "namespace": "kube-system",
        },
        "spec": {
            "containers": [
                {
                    "command": command,
                    "image": image_of(component),
                    "imagePullPolicy": "IfNotPresent",
                    "name": component,
                    "volumeMounts": [
                        {"mountPath": str(path), "name": name, "readOnly": True}
                        for name, path in mounts
                    ],
                }
            ],
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "volumes": [
                {"hostPath": {"path": str(path), "type": "DirectoryOrCreate"}, "name": name}
                for name, path in mounts
            ],
        },
    }


def apiserver_args(node_ip: str) -> list[str]:
    pki = paths.PKI
    return [
        "kube-apiserver",
        f"--advertise-address={node_ip}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        f"--client-ca-file={pki / 'ca.crt'}",
        "--enable-admission-plugins=NodeRestriction",
        f"--etcd-servers={paths.ETCD_CLIENT_URL}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        "--profiling=false",
        f"--secure-port={paths.API_PORT}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={paths.SERVICE_CIDR}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        "--v=1",
    ]


def controller_manager_args() -> list[str]:
    kubeconfig = paths.CONFIG / "controller-manager.kubeconfig"
    return [
        "kube-controller-manager",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        # 1.21 still opens an insecure port (10252) unless told not to, as kubeadm does.
        "--port=0",
        f"--root-ca-file={paths.PKI / 'ca.crt'}",
        f"--secure-port={paths.RELEASE.controller_manager_port}",
        f"--service-account-private-key-file={paths.PKI / 'sa.key'}",
        f"--service-cluster-ip-range={paths.SERVICE_CIDR}",
        "--use-service-account-credentials=true",
        "--v=1",
    ]


def scheduler_args() -> list[str]:
    kubeconfig = paths.CONFIG / "scheduler.kubeconfig"
    return [
        "kube-scheduler",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        "--port=0",  # no insecure 10251, as kubeadm
        f"--secure-port={paths.RELEASE.scheduler_port}",
        "--v=1",
    ]


def write_manifests(node_ip: str) -> list[Path]:
    commands = {
        "kube-apiserver": apiserver_args(node_ip),
        "kube-controller-manager": controller_manager_args(),
        "kube-scheduler": scheduler_args(),
    }
    return [
        _write(paths.MANIFESTS / f"{name}.yaml", to_yaml(_static_pod(name, command)))
        for name, command in commands.items()
    ]


# --- the kubelet ----------------------------------------------------------------------------


def kubelet_config() -> Path:
    pki = paths.PKI
    rel = paths.RELEASE
    conf: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        # Its own cgroup tree: a kubelet kills what it finds in pod cgroups it does not know.
        "cgroupRoot": rel.cgroup_root,
        "failSwapOn": False,
        "staticPodPath": str(paths.MANIFESTS),
        "port": rel.kubelet_port,
        "healthzPort": rel.kubelet_healthz_port,
        "readOnlyPort": 0,
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        # Images are imported locally and cannot be pulled again: never garbage-collect them,
        # and never evict Pods because a development disk is fuller than a production one.
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
    return _write(paths.KUBELET_CONFIG, to_yaml(conf))


def kubelet_env_files(node_ip: str) -> tuple[Path, Path]:
    kubeadm_args = [
        # 1.21 has no containerRuntimeEndpoint in its config file; kubeadm passes flags.
        "--container-runtime=remote",
        f"--container-runtime-endpoint=unix://{paths.CONTAINERD_SOCK}",
        f"--node-ip={node_ip}",
        f"--hostname-override={paths.NODE_NAME}",
    ]
    flags = _write(paths.KUBEADM_FLAGS, f'KUBELET_KUBEADM_ARGS="{" ".join(kubeadm_args)}"')
    extra = _write(paths.KUBELET_ENV, "KUBELET_EXTRA_ARGS=")
    return flags, extra


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines, as systemd's EnvironmentFile= reads them (quotes removed)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        parts = shlex.split(value) if value.strip() else []
        values[name.strip()] = " ".join(parts)
    return values


def kubelet_args() -> list[str]:
    """The kubelet's command line, read from the files at each start: a restart picks up an
    edited KUBELET_EXTRA_ARGS, as `systemctl restart kubelet` does."""
    kubeadm = read_env_file(paths.KUBEADM_FLAGS).get("KUBELET_KUBEADM_ARGS", "")
    extra = read_env_file(paths.KUBELET_ENV).get("KUBELET_EXTRA_ARGS", "")
    return [
        str(paths.BIN / "kubelet"),
        f"--kubeconfig={paths.CONFIG / 'kubelet.kubeconfig'}",
        f"--config={paths.KUBELET_CONFIG}",
        f"--root-dir={paths.KUBELET_ROOT}",
        "--v=1",
        *kubeadm.split(),
        *extra.split(),
    ]


def in_node_namespace(containerd_pid: int, command: list[str]) -> list[str]:
    return ["nsenter", f"--mount=/proc/{containerd_pid}/ns/mnt", "--", *command]


def containerd_command(config: Path) -> list[str]:
    """containerd in a new mount namespace whose /var/log/pods and /var/log/containers are
    this cluster's own folders; the kubelet joins that namespace."""
    logs = paths.POD_LOGS
    binds = []
    for target in ("/var/log/pods", "/var/log/containers"):
        source = logs / Path(target).name
        source.mkdir(parents=True, exist_ok=True)
        Path(target).mkdir(parents=True, exist_ok=True)
        binds.append(f"mount --bind {shlex.quote(str(source))} {target}")
    script = " && ".join([*binds, f"exec containerd --config {shlex.quote(str(config))}"])
    # slave: the host's unmounts (the other cluster's volumes going away) reach the copies this
    # namespace starts with, while its own mounts stay inside.
    return ["unshare", "--mount", "--propagation", "slave", "--", "sh", "-c", script]


def ensure_cgroup_root() -> None:
    """The kubelet refuses a cgroupRoot that does not exist in every hierarchy (cgroup v1)."""
    name = paths.RELEASE.cgroup_root.strip("/")
    for hierarchy in CGROUP_V1.iterdir():
        if not hierarchy.is_dir() or hierarchy.is_symlink() or not (hierarchy / "tasks").exists():
            continue
        group = hierarchy / name
        group.mkdir(exist_ok=True)
        # A new cpuset group starts with no CPUs and no memory nodes; nothing could run in it.
        for knob in ("cpuset.cpus", "cpuset.mems"):
            mine, parent = group / knob, hierarchy / knob
            if mine.exists() and not mine.read_text().strip():
                mine.write_text(parent.read_text())


def static_pod_log(component: str) -> Path | None:
    """The newest log of a static Pod's container (the kubelet writes them under our private
    /var/log/pods, i.e. paths.POD_LOGS/pods)."""
    found = sorted(
        (paths.POD_LOGS / "pods").glob(f"kube-system_{component}-*/{component}/*.log"),
        key=lambda p: p.stat().st_mtime,
    )
    return found[-1] if found else None
