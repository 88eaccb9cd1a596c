"""Container images built locally as OCI archives and imported into containerd.

No registry is reachable, so each image is a single layer assembled from files on this machine
(Debian's busybox-static and nginx, and two tiny static C programs compiled here). An OCI image
layout is: `oci-layout`, `index.json`, and content-addressed blobs (layer tar, config, manifest).
containerd names an imported image after the index entry's `io.containerd.image.name` annotation;
without it the kubelet would never match the image and would try to pull.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from devcluster import paths
from devcluster.errors import ClusterError

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
BUSYBOX_IMAGES = ("docker.io/library/busybox:latest", "docker.io/library/busybox:1.35")
APP_IMAGE = "docker.io/podscope/distroless-app:1.0"
NGINX_IMAGE = "docker.io/library/nginx:1.17.1"

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Layer:
    """Entries of one layer: a directory, a regular file (from disk or bytes) or a symlink."""

    entries: dict[str, tuple[str, object, int]] = field(default_factory=dict)

    def dir(self, path: str, mode: int = 0o755) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            self.entries.setdefault(sub, ("dir", None, mode if i == len(parts) else 0o755))

    def file(self, path: str, source: Path | bytes, mode: int = 0o644) -> None:
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)
        self.entries[path.strip("/")] = ("file", source, mode)

    def symlink(self, path: str, target: str) -> None:
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)
        self.entries[path.strip("/")] = ("symlink", target, 0o777)

    def tar_bytes(self) -> bytes:
        buf = io.BytesIO()
        # Fixed owner and mtime: the same inputs give the same digest, so re-imports are no-ops.
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(self.entries):
                kind, source, mode = self.entries[name]
                info = tarfile.TarInfo(name)
                info.mtime = 0
                info.mode = mode
                if kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = str(source)
                    tar.addfile(info)
                else:
                    data = source if isinstance(source, bytes) else Path(str(source)).read_bytes()
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()


def _blob(blobs: dict[str, bytes], data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


def write_oci_archive(
    out: Path, names: Iterable[str], layer: Layer, config: dict[str, object]
) -> str:
    """Write an OCI image layout tarball; returns the manifest digest."""
    blobs: dict[str, bytes] = {}
    layer_tar = layer.tar_bytes()
    layer_ref = _blob(blobs, layer_tar)
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [layer_ref["digest"]]},
        "history": [{"created_by": "podscope devcluster images.py"}],
    }
    config_ref = _blob(blobs, json.dumps(image_config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_ref},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_ref}],
    }
    manifest_ref = _blob(blobs, json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_ref,
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
                },
            }
            for name in names
        ],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))

        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in sorted(blobs.items()):
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    tmp.replace(out)
    return str(manifest_ref["digest"])


def _compile_static(source: Path, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    cmd = ["gcc", "-static", "-Os", "-s", "-o", str(out), str(source)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ClusterError(f"compiling {source.name} failed", command=cmd, log_tail=result.stderr)
    return out


def _etc(users: str, groups: str) -> Layer:
    layer = Layer()
    layer.file("etc/passwd", users.encode())
    layer.file("etc/group", groups.encode())
    layer.dir("tmp", 0o1777)
    layer.dir("root", 0o700)
    return layer


def _add_busybox(layer: Layer) -> None:
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        raise ClusterError(
            "busybox-static is not installed",
            command=["apt-get", "install", "-y", "busybox-static"],
        )
    layer.file("bin/busybox", busybox, 0o755)
    applets = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True
    )
    for applet in applets.stdout.split():
        # `busybox --list` names busybox itself: linking it would replace the binary by a self-link.
        if applet.endswith("/busybox") or applet == "busybox":
            continue
        layer.symlink(applet, "/bin/busybox")


def pause_image(work: Path) -> tuple[list[str], Layer, dict[str, object]]:
    binary = _compile_static(paths.CSRC / "pause.c", work / "pause")
    layer = Layer()
    layer.file("pause", binary, 0o755)
    return [PAUSE_IMAGE], layer, {"Entrypoint": ["/pause"], "User": "65535:65535"}


def busybox_image(work: Path) -> tuple[list[str], Layer, dict[str, object]]:
    layer = _etc(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
        "root:x:0:\nnogroup:x:65534:\n",
    )
    _add_busybox(layer)
    layer.file("etc/podscope-image", b"busybox\n")
    return list(BUSYBOX_IMAGES), layer, {"Cmd": ["sh"], "Env": [PATH_ENV]}


def app_image(work: Path) -> tuple[list[str], Layer, dict[str, object]]:
    # Like a distroless "static" image: no shell, no package manager, a non-root user.
    binary = _compile_static(paths.CSRC / "app-server.c", work / "app-server")
    layer = _etc(
        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
        "root:x:0:\nnonroot:x:65532:\n",
    )
    layer.dir("home/nonroot")
    layer.file("server", binary, 0o755)
    layer.file(
        "etc/podscope-app.conf",
        b"# read by nothing; proves a debugger sees the app's /etc\nport = 8080\n",
    )
    layer.file("etc/os-release", b'PRETTY_NAME="podscope distroless-style app"\nID=podscope-app\n')
    config: dict[str, object] = {
        "Entrypoint": ["/server"],
        "User": "65532:65532",
        "Env": [PATH_ENV],
        "WorkingDir": "/",
    }
    return [APP_IMAGE], layer, config


def _shared_libraries(binary: str) -> list[str]:
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs.append(parts[2])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


NGINX_CONF = b"""\
worker_processes 1;
error_log stderr notice;
pid /run/nginx.pid;
events { worker_connections 64; }
http {
    access_log /dev/stdout;
    default_type text/plain;
    server {
        listen 80;
        location / { return 200 "hello from nginx\\n"; }
    }
}
"""


def nginx_image(work: Path) -> tuple[list[str], Layer, dict[str, object]]:
    nginx = "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise ClusterError(
            "nginx is not installed", command=["apt-get", "install", "-y", "nginx-light"]
        )
    layer = _etc(
        "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
        "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n",
    )
    # The real nginx image is Debian-based and has a shell; busybox gives ours one too.
    _add_busybox(layer)
    layer.file("usr/sbin/nginx", Path(nginx), 0o755)
    for lib in _shared_libraries(nginx):
        layer.file(lib.lstrip("/"), Path(os.path.realpath(lib)), 0o755)
    layer.file("etc/nginx/nginx.conf", NGINX_CONF)
    for d in ("var/lib/nginx", "var/log/nginx", "run", "var/www"):
        layer.dir(d)
    config: dict[str, object] = {
        "Cmd": ["nginx", "-g", "daemon off;"],
        "Env": [PATH_ENV],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
    }
    return [NGINX_IMAGE], layer, config


BUILDERS = (pause_image, busybox_image, app_image, nginx_image)


def binary_image(component: str, name: str) -> tuple[list[str], Layer, dict[str, object]]:
    """A control-plane image as kubeadm's static Pods expect one: the release's binary (and the
    C libraries it links) on PATH, nothing else."""
    binary = paths.BIN / component
    if not binary.exists():
        raise ClusterError(f"{binary} is missing", command=["python", "-m", "devcluster", "build"])
    layer = _etc("root:x:0:0:root:/root:/sbin/nologin\n", "root:x:0:\n")
    layer.file(f"usr/local/bin/{component}", binary, 0o755)
    for lib in _shared_libraries(str(binary)):
        layer.file(lib.lstrip("/"), Path(os.path.realpath(lib)), 0o755)
    config: dict[str, object] = {"Entrypoint": [f"/usr/local/bin/{component}"], "Env": [PATH_ENV]}
    return [name], layer, config


def build_all() -> list[tuple[Path, list[str], str]]:
    """Build every archive; returns (archive, names, manifest digest)."""
    work = paths.IMAGES
    built = []
    for builder in BUILDERS:
        names, layer, config = builder(work)
        archive = work / f"{builder.__name__}.oci.tar"
        digest = write_oci_archive(archive, names, layer, config)
        built.append((archive, names, digest))
    if paths.RELEASE.kubeadm_shaped:
        from devcluster import kubeadm  # only this release runs its control plane in images

        for component in kubeadm.CONTROL_PLANE:
            names, layer, config = binary_image(component, kubeadm.image_of(component))
            archive = work / f"{component}.oci.tar"
            stamp = work / f"{component}.oci.digest"
            # Hashing ~100 MiB per binary on every boot would cost seconds: reuse the archive
            # while the binary is unchanged.
            key = f"{(paths.BIN / component).stat().st_mtime_ns}"
            if archive.exists() and stamp.exists() and stamp.read_text().split()[0] == key:
                digest = stamp.read_text().split()[1]
            else:
                digest = write_oci_archive(archive, names, layer, config)
                stamp.write_text(f"{key} {digest}\n")
            built.append((archive, names, digest))
    return built


def ctr(*args: str) -> list[str]:
    return ["ctr", "--address", str(paths.CONTAINERD_SOCK), "-n", "k8s.io", *args]


def imported_digests() -> dict[str, str]:
    cmd = ctr("images", "ls")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ClusterError("listing containerd images failed", command=cmd, log_tail=result.stderr)
    digests = {}
    for line in result.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 3:
            digests[cols[0]] = cols[2]
    return digests


def import_all(built: list[tuple[Path, list[str], str]] | None = None) -> list[str]:
    """Build (unless given `built_all()`'s result) and import the images whose names are
    missing or stale; returns the names imported."""
    have = imported_digests()
    imported: list[str] = []
    for archive, names, digest in build_all() if built is None else built:
        if all(have.get(name) == digest for name in names):
            continue
        cmd = ctr("images", "import", str(archive))
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise ClusterError(
                f"importing {archive.name} failed", command=cmd, log_tail=result.stderr
            )
        imported.extend(names)
    return imported
