"""Two image registries on loopback, so the node pulls images as a production node does.

Debian's `docker-registry` (the CNCF distribution registry) runs twice, each with TLS from the
cluster's CA: a public one that the names in use (`docker.io/...`, `registry.k8s.io/...`) resolve
to, and a private one (`registry.podscope.test/...`) behind htpasswd basic auth. A registry
process has a single auth configuration for all its repositories, so the public and private
repositories need one process each (docs/decisions.md). Images are pushed with `skopeo` from
the OCI archives images.py builds, digests preserved: a pull resolves to the very manifest
`ctr images import` put into containerd, so a Pod with `imagePullPolicy: Always` asks the
registry and starts from the local content.

containerd finds the registries through its per-registry host files (`certs.d/HOST/hosts.toml`),
which it reads at every pull: `ensure()` can add everything to a running cluster.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devcluster import images, paths, pki, processes
from devcluster.errors import ClusterError

PUBLIC = "registry"
PRIVATE = "registry-private"
PROCESSES = (PUBLIC, PRIVATE)
# Resolved by containerd's host files only: `.test` is reserved and never in public DNS.
PRIVATE_HOST = "registry.podscope.test"
PRIVATE_IMAGE = f"{PRIVATE_HOST}/debug/busybox:latest"
PRIVATE_USER = "podscope-puller"
# Names of images.py resolved to the public registry (their repository path is kept).
MIRRORED_HOSTS = ("docker.io", "registry.k8s.io")


@dataclass(frozen=True)
class Registry:
    process: str
    port: int
    private: bool

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return paths.STATE / "registry" / ("private" if self.private else "public")


def registries() -> tuple[Registry, Registry]:
    return (
        Registry(PUBLIC, paths.RELEASE.registry_port, private=False),
        Registry(PRIVATE, paths.RELEASE.private_registry_port, private=True),
    )


def _dir() -> Path:
    return paths.STATE / "registry"


def password_file() -> Path:
    """The private registry's password (0600): tests read it to make pull secrets."""
    return _dir() / "private.password"


def _htpasswd() -> Path:
    return _dir() / "htpasswd"


def _cert_dir() -> Path:
    # skopeo reads every *.crt here as a CA; the cluster's PKI folder also holds keys without
    # a matching client certificate, which skopeo refuses.
    return _dir() / "ca"


def hosts_dir() -> Path:
    """containerd's `config_path` (configs.containerd_config)."""
    return paths.STATE / "containerd" / "certs.d"


def _password() -> str:
    return password_file().read_text().strip()


def _ensure_credentials() -> None:
    """A random password and its bcrypt htpasswd entry, made once; never printed."""
    _dir().mkdir(parents=True, exist_ok=True)
    if password_file().exists() and _htpasswd().exists():
        return
    password = secrets.token_urlsafe(24)
    password_file().write_text(password + "\n")
    password_file().chmod(0o600)
    # -i: the password comes on stdin, never on a command line that `ps` shows.
    cmd = ["htpasswd", "-B", "-i", "-c", str(_htpasswd()), PRIVATE_USER]
    result = subprocess.run(cmd, input=password, capture_output=True, text=True)
    if result.returncode != 0:
        password_file().unlink(missing_ok=True)
        raise ClusterError("htpasswd failed", command=cmd, log_tail=result.stderr)
    _htpasswd().chmod(0o600)


def _ensure_tls() -> None:
    pki.ensure_registry(paths.PKI)
    _cert_dir().mkdir(parents=True, exist_ok=True)
    (_cert_dir() / "ca.crt").write_bytes((paths.PKI / "ca.crt").read_bytes())


def _config(reg: Registry) -> Path:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  fields:",
        f"    service: {reg.process}",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {reg.storage}",
        "  delete:",
        "    enabled: false",
        "http:",
        f"  addr: {reg.address}",
        "  tls:",
        f"    certificate: {paths.PKI / 'registry.crt'}",
        f"    key: {paths.PKI / 'registry.key'}",
        "  headers:",
        "    X-Content-Type-Options: [nosniff]",
    ]
    if reg.private:
        lines += [
            "auth:",
            "  htpasswd:",
            f"    realm: {PRIVATE_HOST}",
            f"    path: {_htpasswd()}",
        ]
    path = paths.CONFIG / f"{reg.process}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(paths.PKI / "ca.crt"))


def _request(reg: Registry, method: str, path: str, accept: str | None = None) -> tuple[int, dict]:
    headers = {"Accept": accept} if accept else {}
    if reg.private:
        token = base64.b64encode(f"{PRIVATE_USER}:{_password()}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    req = urllib.request.Request(f"https://{reg.address}{path}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, context=_context(), timeout=3) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def _answers(reg: Registry) -> bool:
    try:
        status, _ = _request(reg, "GET", "/v2/")
    except OSError:
        return False
    return status == 200


def _start(reg: Registry) -> bool:
    """Start the registry unless it runs; True when it was started now."""
    if processes.pid_of(reg.process) is not None:
        return False
    reg.storage.mkdir(parents=True, exist_ok=True)
    processes.start(reg.process, ["docker-registry", "serve", str(_config(reg))])
    deadline = time.monotonic() + 20
    while not _answers(reg):
        processes.ensure_alive(reg.process)
        if time.monotonic() > deadline:
            raise ClusterError(
                f"timed out waiting for {reg.process} on {reg.address}",
                command=processes.command_of(reg.process),
                log_tail=processes.tail(reg.process),
            )
        time.sleep(0.1)
    return True


def _hosts_file(host: str, reg: Registry) -> None:
    # containerd 1.6 refuses a hosts.toml without a `[host]` table, and tries `server` last:
    # both name this registry, so a refused pull reports its answer (a 401) rather than a DNS
    # error from the real registry, which these machines cannot reach.
    folder = hosts_dir() / host
    folder.mkdir(parents=True, exist_ok=True)
    ca = paths.PKI / "ca.crt"
    text = (
        f'server = "https://{reg.address}"\n'
        f'ca = "{ca}"\n'
        'capabilities = ["pull", "resolve"]\n'
        "\n"
        f'[host."https://{reg.address}"]\n'
        '  capabilities = ["pull", "resolve"]\n'
        f'  ca = "{ca}"\n'
    )
    path = folder / "hosts.toml"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)


def _destinations(names: Sequence[str]) -> list[tuple[str, str]]:
    """(tag in the archive, repository:tag in the public registry) for each mirrored name."""
    out = []
    for name in names:
        host, _, rest = name.partition("/")
        if host in MIRRORED_HOSTS:
            out.append((name.rsplit(":", 1)[-1], rest))
    return out


def _has(reg: Registry, repository: str, digest: str) -> bool:
    repo, tag = repository.rsplit(":", 1)
    status, headers = _request(
        reg, "HEAD", f"/v2/{repo}/manifests/{tag}", "application/vnd.oci.image.manifest.v1+json"
    )
    return status == 200 and headers.get("Docker-Content-Digest") == digest


def _push(archive: Path, tag: str, reg: Registry, repository: str) -> None:
    cmd = [
        "skopeo",
        "copy",
        "--quiet",
        "--preserve-digests",
        "--dest-cert-dir",
        str(_cert_dir()),
    ]
    auth = _dir() / "push-auth.json"
    if reg.private:
        token = base64.b64encode(f"{PRIVATE_USER}:{_password()}".encode()).decode()
        auth.write_text(json.dumps({"auths": {reg.address: {"auth": token}}}))
        auth.chmod(0o600)
        cmd += ["--dest-authfile", str(auth)]
    cmd += [f"oci-archive:{archive}:{tag}", f"docker://{reg.address}/{repository}"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        auth.unlink(missing_ok=True)
    if result.returncode != 0:
        raise ClusterError(
            f"pushing {archive.name}:{tag} to {reg.process} failed",
            command=cmd,
            log_tail=result.stderr[-3000:],
        )


def push_all(built: Sequence[tuple[Path, list[str], str]]) -> list[str]:
    """Push each archive's images the registries lack; returns what was pushed."""
    public, private = registries()
    pushed = []
    for archive, names, digest in built:
        for tag, repository in _destinations(names):
            if not _has(public, repository, digest):
                _push(archive, tag, public, repository)
                pushed.append(f"{public.address}/{repository}")
        if images.BUSYBOX_IMAGES[0] in names:
            repository = PRIVATE_IMAGE.split("/", 1)[1]
            if not _has(private, repository, digest):
                _push(archive, "latest", private, repository)
                pushed.append(PRIVATE_IMAGE)
    return pushed


def ensure(built: Sequence[tuple[Path, list[str], str]] | None = None) -> list[str]:
    """Start what is missing (registries, images in them, containerd's host files); returns
    a line per thing done. Safe on a running cluster: nothing running is restarted."""
    done = []
    _ensure_credentials()
    _ensure_tls()
    public, private = registries()
    for reg in (public, private):
        if _start(reg):
            done.append(f"started {reg.process} on {reg.address}")
    pushed = push_all(images.build_all() if built is None else built)
    if pushed:
        done.append("pushed " + ", ".join(pushed))
    for host in MIRRORED_HOSTS:
        _hosts_file(host, public)
    _hosts_file(PRIVATE_HOST, private)
    return done


def stop() -> list[str]:
    return [name for name in reversed(PROCESSES) if processes.stop(name)]
