"""Build the Kubernetes server binaries and etcd from the Go module proxy.

gobuild/ is a wrapper module: it requires k8s.io/kubernetes and replaces each k8s.io staging module
by its published release, which is what `go install k8s.io/kubernetes/cmd/...@v` cannot do. Go's
own build cache (GOCACHE) makes a rebuild with unchanged inputs take seconds; a stamp file with the
hash of go.mod/go.sum skips even that when the binaries are already in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time

from devcluster import paths
from devcluster.errors import ClusterError

KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
BINARIES = (*KUBE_COMMANDS, "etcd")
# Kubernetes' own release builds use these tags: no SELinux-less stubs, no test-only code.
BUILD_TAGS = "selinux,notest"


def _version_ldflags(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    pkg = "k8s.io/component-base/version"
    return " ".join(
        [
            "-s -w",
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
        ]
    )


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((paths.GOBUILD / name).read_bytes())
    digest.update(_version_ldflags(paths.KUBERNETES_VERSION).encode())
    return digest.hexdigest()


def _stamp_ok() -> bool:
    stamp = paths.BIN / ".inputs"
    return (
        stamp.exists()
        and stamp.read_text() == _inputs_hash()
        and all((paths.BIN / b).exists() for b in BINARIES)
    )


def _go_binary() -> str:
    # The machine's Go; a minimal environment (CI) may lack its folder on PATH.
    found = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise ClusterError("Go is not installed (needed once, to build Kubernetes)", command=["go"])
    return found


def _go(args: list[str]) -> None:
    args = [_go_binary(), *args[1:]]
    env = dict(os.environ, CGO_ENABLED=os.environ.get("CGO_ENABLED", "1"))
    result = subprocess.run(args, cwd=paths.GOBUILD, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ClusterError("go build failed", command=args, log_tail=result.stderr[-4000:])


def build(force: bool = False, log: bool = True) -> float:
    """Build what is missing or stale. Returns the seconds spent (0.0 when nothing was built)."""
    if not force and _stamp_ok():
        return 0.0
    paths.BIN.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    if log:
        print(
            f"devcluster: building Kubernetes {paths.KUBERNETES_VERSION} and etcd "
            "(first build: several minutes; later ones use Go's build cache)",
            flush=True,
        )
    ldflags = _version_ldflags(paths.KUBERNETES_VERSION)
    _go(
        [
            "go",
            "build",
            "-tags",
            BUILD_TAGS,
            "-trimpath",
            "-ldflags",
            ldflags,
            "-o",
            str(paths.BIN) + "/",
            *(f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS),
        ]
    )
    # The etcd server's main package is the module root, so name the output explicitly.
    _go(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            "-s -w",
            "-o",
            str(paths.BIN / "etcd"),
            paths.ETCD_MODULE,
        ]
    )
    (paths.BIN / ".inputs").write_text(_inputs_hash())
    elapsed = time.monotonic() - start
    if log:
        print(f"devcluster: build took {elapsed:.1f}s", flush=True)
    return elapsed
