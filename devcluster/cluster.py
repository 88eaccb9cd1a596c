"""Bring the whole cluster up and down.

Order matters: containerd (with our images) -> etcd -> kube-apiserver -> controller-manager,
scheduler and kubelet together. `up` returns once the node is Ready and the `default`
ServiceAccount and `kube-root-ca.crt` ConfigMap exist, i.e. once a Pod can actually run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devcluster import build, configs, images, kubeadm, paths, pki, processes, registry
from devcluster.errors import ClusterError

# Stop order: the reverse of start order.
COMPONENTS = (
    "containerd",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
)
# The kubeadm-shaped release: etcd and the node's daemons are processes, the control plane runs
# as static Pods (see kubeadm.py).
KUBEADM_PROCESSES = ("containerd", "etcd", "kubelet")


def components() -> tuple[str, ...]:
    """This release's processes, in start order."""
    return KUBEADM_PROCESSES if paths.RELEASE.kubeadm_shaped else COMPONENTS


DEBIAN_PACKAGES = {
    "containerd": "/usr/bin/containerd",
    "runc": "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    "iptables": "/usr/sbin/iptables",
    "busybox-static": "/bin/busybox",
    "nginx-light": "/usr/sbin/nginx",
    "conntrack": "/usr/sbin/conntrack",
    "docker-registry": "/usr/bin/docker-registry",
    "skopeo": "/usr/bin/skopeo",
    "apache2-utils": "/usr/bin/htpasswd",
}


def say(message: str) -> None:
    print(f"devcluster: {message}", flush=True)


def node_ip() -> str:
    """The address the node advertises: the source address of the default route."""
    out = subprocess.run(
        ["ip", "-4", "route", "get", "192.0.2.255"], capture_output=True, text=True
    )
    words = out.stdout.split()
    if "src" in words:
        return words[words.index("src") + 1]
    raise ClusterError(
        "cannot find this machine's IPv4 address",
        command=["ip", "-4", "route", "get", "192.0.2.255"],
        log_tail=out.stderr,
    )


def install_packages() -> None:
    missing = [pkg for pkg, probe in DEBIAN_PACKAGES.items() if not Path(probe).exists()]
    if not missing:
        return
    say("installing from Debian: " + " ".join(missing))
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if result.returncode != 0:
            raise ClusterError(
                "package installation failed", command=cmd, log_tail=result.stderr[-3000:]
            )


# --- talking to the API server with the admin certificate (no client library needed) -------------


def _tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(paths.PKI / "ca.crt"))
    ctx.load_cert_chain(str(paths.PKI / "admin.crt"), str(paths.PKI / "admin.key"))
    return ctx


def api(method: str, path: str, body: Any = None, timeout: float = 5.0) -> tuple[int, Any]:
    url = f"https://127.0.0.1:{paths.API_PORT}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, context=_tls_context(), timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def _api_ok(path: str) -> bool:
    try:
        return api("GET", path, timeout=2.0)[0] == 200
    except (OSError, ssl.SSLError):
        return False


def _node_ready() -> bool:
    try:
        status, node = api("GET", f"/api/v1/nodes/{paths.NODE_NAME}", timeout=2.0)
    except OSError:
        return False
    if status != 200:
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in node.get("status", {}).get("conditions", [])
    )


def wait_for(
    what: str, check: Callable[[], bool], watch: tuple[str, ...], timeout: float, blame: str
) -> None:
    """Poll `check`; fail loudly if a watched component dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        for name in watch:
            processes.ensure_alive(name)
        if time.monotonic() > deadline:
            raise ClusterError(
                f"timed out after {timeout:.0f}s waiting for {what}",
                command=processes.command_of(blame),
                log_tail=processes.tail(blame),
            )
        time.sleep(0.2)


# --- cleanup ----------------------------------------------------------------------------------


def _mounts_under(root: Path) -> list[str]:
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4].replace("\\040", " ")
            if mount_point == str(root) or mount_point.startswith(str(root) + "/"):
                found.append(mount_point)
    return found


def unmount_all() -> int:
    """Unmount whatever the kubelet and containerd left under the state directory and the
    network namespaces of our Pod sandboxes. Returns how many mounts were removed."""
    count = 0
    targets = _mounts_under(paths.STATE)
    # Only our containerd makes `cni-*` namespaces on this machine; it is stopped by now.
    netns = Path("/run/netns")
    if netns.is_dir() and processes.pid_of("containerd") is None:
        targets += [str(p) for p in netns.glob("cni-*")]
    for target in sorted(set(targets), key=len, reverse=True):
        result = subprocess.run(["umount", "-l", target], capture_output=True)
        if result.returncode == 0:
            count += 1
        if target.startswith("/run/netns/"):
            Path(target).unlink(missing_ok=True)
    return count


def _kill_tasks() -> None:
    """Stop every container containerd still runs for us (sandboxes included)."""
    if processes.pid_of("containerd") is None:
        return
    listing = subprocess.run(images.ctr("tasks", "ls", "-q"), capture_output=True, text=True)
    for task in listing.stdout.split():
        subprocess.run(images.ctr("tasks", "kill", "-s", "SIGKILL", task), capture_output=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        tasks = subprocess.run(
            images.ctr("tasks", "ls", "-q"), capture_output=True, text=True
        ).stdout.split()
        for task in tasks:
            subprocess.run(images.ctr("tasks", "delete", "-f", task), capture_output=True)
        if not tasks:
            break
        time.sleep(0.2)


def _delete_all_pods() -> None:
    """Let the kubelet tear Pods down properly (network namespaces included) before it stops."""
    if processes.pid_of("kube-apiserver") is None or processes.pid_of("kubelet") is None:
        return
    try:
        status, pods = api("GET", "/api/v1/pods")
    except OSError:
        return
    if status != 200:
        return
    items = pods.get("items", [])
    for pod in items:
        meta = pod["metadata"]
        api(
            "DELETE",
            f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
            {"gracePeriodSeconds": 0},
        )
    if not items:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        running = subprocess.run(
            images.ctr("tasks", "ls", "-q"), capture_output=True, text=True
        ).stdout.split()
        if not running:
            return
        time.sleep(0.3)


def down(quiet: bool = False) -> None:
    if paths.RELEASE.kubeadm_shaped:
        _down_kubeadm(quiet)
        return
    _delete_all_pods()
    for name in reversed(COMPONENTS):
        if name == "containerd":
            _kill_tasks()
        if processes.stop(name) and not quiet:
            say(f"stopped {name}")
    _stop_registries(quiet)
    # Shims outlive a killed containerd; they are ours when they name our socket.
    for pid in processes.processes_using(f"-address {paths.CONTAINERD_SOCK}"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    removed = unmount_all()
    if removed and not quiet:
        say(f"removed {removed} mounts")


def _down_kubeadm(quiet: bool) -> None:
    # The kubelet goes first, or it would restart the static Pods as they are killed. Its
    # containers, mounts and network namespaces live in containerd's own mount namespace,
    # which disappears with the last process in it (containerd and its shims).
    for name in ("kubelet", "containerd", "etcd"):
        if name == "containerd":
            _kill_tasks()
        if processes.stop(name) and not quiet:
            say(f"stopped {name}")
    _stop_registries(quiet)
    for pid in processes.processes_using(f"-address {paths.CONTAINERD_SOCK}"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    removed = unmount_all()
    if removed and not quiet:
        say(f"removed {removed} mounts")


def _stop_registries(quiet: bool) -> None:
    for name in registry.stop():
        if not quiet:
            say(f"stopped {name}")


# --- up -------------------------------------------------------------------------------------


def ensure_registries(built: list[tuple[Path, list[str], str]] | None = None) -> None:
    """Start the registries and fill them; on a running cluster only what is missing."""
    for line in registry.ensure(built):
        say(line)


def running() -> list[str]:
    return [name for name in components() if processes.pid_of(name) is not None]


def _fresh_state() -> None:
    """A new cluster each `up`: etcd and kubelet state go; PKI and the image store stay."""
    for d in (
        paths.ETCD_DATA,
        paths.KUBELET_ROOT,
        paths.CNI_IPAM,
        paths.MANIFESTS,
        paths.LOGS,
        paths.RUN,
    ):
        shutil.rmtree(d, ignore_errors=True)
    for d in (paths.CONFIG, paths.MANIFESTS, paths.KUBELET_ROOT, paths.LOGS, paths.RUN):
        d.mkdir(parents=True, exist_ok=True)


def up(build_first: bool = True) -> float:
    """Boot the cluster; returns the boot time in seconds (build excluded)."""
    up_now = running()
    if len(up_now) == len(components()) and _node_ready():
        # A cluster booted before the registries existed gains them without a restart.
        install_packages()
        ensure_registries()
        say(f"already running; export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
        return 0.0
    if up_now:
        say("a partial cluster is running (" + ", ".join(up_now) + "): restarting it")
    down(quiet=True)
    install_packages()
    if build_first:
        build.build()
    if paths.RELEASE.kubeadm_shaped:
        return _up_kubeadm()

    start = time.monotonic()
    ip = node_ip()
    _fresh_state()
    pki.ensure(paths.PKI, paths.NODE_NAME, ip, paths.SERVICE_IP)
    server = f"https://127.0.0.1:{paths.API_PORT}"
    configs.kubeconfig(paths.ADMIN_KUBECONFIG, "podscope-admin", "admin", server)
    configs.kubeconfig(
        paths.CONFIG / "controller-manager.kubeconfig",
        "system:kube-controller-manager",
        "controller-manager",
        server,
    )
    configs.kubeconfig(
        paths.CONFIG / "scheduler.kubeconfig", "system:kube-scheduler", "scheduler", server
    )
    configs.kubeconfig(
        paths.CONFIG / "kubelet.kubeconfig",
        f"system:node:{paths.NODE_NAME}",
        "kubelet-client",
        server,
    )
    configs.cni_config()
    configs.kubelet_config()

    # A containerd killed without warning leaves its socket file behind: it must not be taken
    # for a live one.
    paths.CONTAINERD_SOCK.unlink(missing_ok=True)
    processes.start("containerd", ["containerd", "--config", str(configs.containerd_config())])
    processes.start("etcd", configs.etcd_command())
    wait_for("containerd's socket", _containerd_answers, ("containerd",), 20, "containerd")
    built = images.build_all()
    imported = images.import_all(built)
    if imported:
        say("imported images: " + ", ".join(imported))
    # Before the kubelet: its first Pods may already pull.
    ensure_registries(built)
    wait_for("etcd", lambda: _http_ok(paths.ETCD_CLIENT_URL + "/health"), ("etcd",), 20, "etcd")
    processes.start("kube-apiserver", configs.apiserver_command(ip))
    wait_for(
        "kube-apiserver /readyz",
        lambda: _api_ok("/readyz"),
        ("etcd", "kube-apiserver"),
        60,
        "kube-apiserver",
    )
    processes.start("kube-controller-manager", configs.controller_manager_command())
    processes.start("kube-scheduler", configs.scheduler_command())
    processes.start("kubelet", configs.kubelet_command(ip))
    everything = COMPONENTS
    wait_for(f"node {paths.NODE_NAME} to be Ready", _node_ready, everything, 60, "kubelet")
    wait_for(
        "the default ServiceAccount",
        lambda: _api_ok("/api/v1/namespaces/default/serviceaccounts/default"),
        everything,
        60,
        "kube-controller-manager",
    )
    wait_for(
        "the kube-root-ca.crt ConfigMap",
        lambda: _api_ok("/api/v1/namespaces/default/configmaps/kube-root-ca.crt"),
        everything,
        60,
        "kube-controller-manager",
    )
    elapsed = time.monotonic() - start
    say(
        f"cluster is up: node {paths.NODE_NAME} Ready in {elapsed:.1f}s "
        f"(Kubernetes {paths.KUBERNETES_VERSION})"
    )
    say(f"export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
    return elapsed


def _write_kubeconfigs() -> None:
    server = f"https://127.0.0.1:{paths.API_PORT}"
    configs.kubeconfig(paths.ADMIN_KUBECONFIG, "podscope-admin", "admin", server)
    for file, user, cert in (
        ("controller-manager", "system:kube-controller-manager", "controller-manager"),
        ("scheduler", "system:kube-scheduler", "scheduler"),
        ("kubelet", f"system:node:{paths.NODE_NAME}", "kubelet-client"),
    ):
        configs.kubeconfig(paths.CONFIG / f"{file}.kubeconfig", user, cert, server)


def _start_kubelet_kubeadm() -> None:
    containerd = processes.pid_of("containerd")
    if containerd is None:
        raise ClusterError("containerd is not running; run `python -m devcluster up`")
    processes.start("kubelet", kubeadm.in_node_namespace(containerd, kubeadm.kubelet_args()))


def _static_pod_running(component: str) -> bool:
    try:
        status, pod = api(
            "GET", f"/api/v1/namespaces/kube-system/pods/{component}-{paths.NODE_NAME}", timeout=2
        )
    except OSError:
        return False
    if status != 200:
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


def _static_pod_check(component: str) -> Callable[[], bool]:
    return lambda: _static_pod_running(component)


def _apiserver_log_tail() -> str:
    log = kubeadm.static_pod_log("kube-apiserver")
    kubelet = processes.tail("kubelet", 15)
    if log is None:
        return "(no kube-apiserver container log yet)\nkubelet:\n" + kubelet
    lines = log.read_text(errors="replace").splitlines()[-15:]
    return f"{log}:\n" + "\n".join(lines) + "\nkubelet:\n" + kubelet


def _up_kubeadm() -> float:
    start = time.monotonic()
    ip = node_ip()
    shutil.rmtree(paths.NODE_ROOT, ignore_errors=True)
    shutil.rmtree(paths.POD_LOGS, ignore_errors=True)
    _fresh_state()
    kubeadm.ensure_cgroup_root()
    pki.ensure(paths.PKI, paths.NODE_NAME, ip, paths.SERVICE_IP)
    _write_kubeconfigs()
    configs.cni_config()
    kubeadm.write_manifests(ip)
    kubeadm.kubelet_config()
    kubeadm.kubelet_env_files(ip)

    paths.CONTAINERD_SOCK.unlink(missing_ok=True)
    processes.start("containerd", kubeadm.containerd_command(configs.containerd_config()))
    processes.start("etcd", configs.etcd_command())
    wait_for("containerd's socket", _containerd_answers, ("containerd",), 20, "containerd")
    built = images.build_all()
    imported = images.import_all(built)
    if imported:
        say("imported images: " + ", ".join(imported))
    # Before the kubelet: its first Pods may already pull.
    ensure_registries(built)
    wait_for("etcd", lambda: _http_ok(paths.ETCD_CLIENT_URL + "/health"), ("etcd",), 20, "etcd")
    _start_kubelet_kubeadm()
    everything = KUBEADM_PROCESSES
    try:
        wait_for(
            "the kube-apiserver static Pod's /readyz",
            lambda: _api_ok("/readyz"),
            everything,
            90,
            "kubelet",
        )
    except ClusterError as exc:
        exc.log_tail = _apiserver_log_tail()
        raise
    wait_for(f"node {paths.NODE_NAME} to be Ready", _node_ready, everything, 60, "kubelet")
    for component in kubeadm.CONTROL_PLANE:
        wait_for(
            f"the {component} static Pod to be Ready",
            _static_pod_check(component),
            everything,
            60,
            "kubelet",
        )
    wait_for(
        "the default ServiceAccount",
        lambda: _api_ok("/api/v1/namespaces/default/serviceaccounts/default"),
        everything,
        60,
        "kubelet",
    )
    wait_for(
        "the kube-root-ca.crt ConfigMap",
        lambda: _api_ok("/api/v1/namespaces/default/configmaps/kube-root-ca.crt"),
        everything,
        60,
        "kubelet",
    )
    elapsed = time.monotonic() - start
    say(
        f"cluster is up: node {paths.NODE_NAME} Ready in {elapsed:.1f}s "
        f"(Kubernetes {paths.KUBERNETES_VERSION}, kubeadm layout under {paths.NODE_ROOT})"
    )
    say(f"export KUBECONFIG={paths.ADMIN_KUBECONFIG}")
    return elapsed


def _containerd_answers() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(paths.CONTAINERD_SOCK))
        except OSError:
            return False
    return True


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return resp.status == 200
    except OSError:
        return False


def stop_component(name: str) -> bool:
    """Stop one component (fault tests: a dead kubelet, an API server restart)."""
    return processes.stop(name)


def start_component(name: str, wait: bool = True) -> None:
    """Start one stopped component again with the command it was last started with."""
    if processes.pid_of(name) is not None:
        return
    if paths.RELEASE.kubeadm_shaped and name == "kubelet":
        # As `systemctl restart kubelet`: the env files are read again.
        _start_kubelet_kubeadm()
        if wait:
            # The Node still says Ready from before the restart: ask the new kubelet itself.
            healthz = f"http://127.0.0.1:{paths.RELEASE.kubelet_healthz_port}/healthz"
            wait_for("the kubelet's /healthz", lambda: _http_ok(healthz), (name,), 60, name)
            wait_for(f"node {paths.NODE_NAME} to be Ready", _node_ready, (name,), 60, name)
        return
    command = processes.command_of(name)
    if not command:
        raise ClusterError(f"{name} was never started by `up`; run `python -m devcluster up`")
    processes.start(name, command)
    if wait and name == "kube-apiserver":
        wait_for("kube-apiserver /readyz", lambda: _api_ok("/readyz"), (name,), 60, name)
    elif wait and name == "kubelet":
        wait_for(f"node {paths.NODE_NAME} to be Ready", _node_ready, (name,), 60, name)


def demo_pod(namespace: str, name: str, image: str = images.APP_IMAGE, timeout: float = 60) -> None:
    """Create (if absent) a namespace and a running Pod of `image` to debug in the demo."""
    api("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    wait_for(
        f"the default ServiceAccount in {namespace}",
        lambda: _api_ok(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"),
        components(),
        30,
        "kube-controller-manager",
    )
    pod = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "containers": [{"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}],
            "terminationGracePeriodSeconds": 1,
        },
    }
    api("POST", f"/api/v1/namespaces/{namespace}/pods", pod)

    def running() -> bool:
        status, got = api("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
        return status == 200 and got.get("status", {}).get("phase") == "Running"

    wait_for(f"Pod {namespace}/{name} to run", running, components(), timeout, "kubelet")
    say(f"Pod {namespace}/{name} ({image}) is running")


def status() -> dict[str, Any]:
    comps: dict[str, Any] = {
        name: processes.pid_of(name) for name in (*components(), *registry.PROCESSES)
    }
    ready = all(comps.values()) and _node_ready()
    if paths.RELEASE.kubeadm_shaped:
        for component in kubeadm.CONTROL_PLANE:
            comps[component] = "static Pod Ready" if _static_pod_running(component) else None
        ready = ready and all(comps.values())
    return {
        "ready": ready,
        "release": paths.RELEASE.name,
        "components": comps,
        "kubeconfig": str(paths.ADMIN_KUBECONFIG),
        "version": paths.KUBERNETES_VERSION,
    }
