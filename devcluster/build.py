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
from pathlib import Path

from devcluster import paths
from devcluster.errors import ClusterError

KUBE_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
BINARIES = (*KUBE_COMMANDS, "etcd")
# Kubernetes' own release builds use these tags: no SELinux-less stubs, no test-only code.
BUILD_TAGS = "selinux,notest"


def _version_ldflags(version: str) -> str:
    major, minor = version.lstrip("v").split(".")[:2]
    packages = ["k8s.io/component-base/version"]
    if paths.RELEASE.kubeadm_shaped:
        # Up to 1.2x the API server's /version comes from client-go's copy (Kubernetes' own
        # hack/lib/version.sh stamps both); unstamped it says v0.0.0-master.
        packages.append("k8s.io/client-go/pkg/version")
    flags = ["-s -w"]
    for pkg in packages:
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
        ]
    return " ".join(flags)


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "tools.go"):
        digest.update((paths.GOBUILD / name).read_bytes())
    if paths.RELEASE.kubeadm_shaped:
        digest.update((paths.GOBUILD.parent / "gobuild" / "go.sum").read_bytes())  # its etcd
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


def _go(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    args = [_go_binary(), *args[1:]]
    full_env = dict(os.environ, CGO_ENABLED=os.environ.get("CGO_ENABLED", "1"), **(env or {}))
    result = subprocess.run(
        args, cwd=cwd or paths.GOBUILD, env=full_env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ClusterError(
            f"{args[1] if len(args) > 1 else 'go'} failed",
            command=args,
            log_tail=result.stderr[-4000:],
        )


def build(force: bool = False, log: bool = True) -> float:
    """Build what is missing or stale. Returns the seconds spent (0.0 when nothing was built)."""
    if not force and _stamp_ok():
        return 0.0
    if paths.RELEASE.kubeadm_shaped:
        return _build_vendored(log)
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


# --- releases whose kube-apiserver needs a generated file the module does not ship ----------------
#
# 1.21's kube-apiserver imports k8s.io/kubernetes/pkg/generated/openapi, whose
# zz_generated.openapi.go its own build generates and its module does not publish. So the wrapper
# module is vendored into the cache, openapi-gen (the kube-openapi version the module pins) runs
# over the vendored tree in GOPATH mode, its output is dropped into the vendored package, and the
# binaries are built with -mod=vendor. The vendored tree and the generated file are kept, so a
# warm rebuild is Go's build cache alone.

OPENAPI_PACKAGE = "k8s.io/kubernetes/pkg/generated/openapi"
OPENAPI_BASENAME = "zz_generated.openapi"
# Kubernetes' Makefile.generated_files leaves these out of its own API server's definitions.
OPENAPI_EXCLUDED = ("k8s.io/code-generator/", "k8s.io/sample-apiserver/")


def openapi_input_packages(vendor: Path) -> list[str]:
    """Packages under `vendor` with a Go file carrying a `+k8s:openapi-gen=` tag in a
    `// +k8s:` comment line, as Kubernetes' Makefile.generated_files selects them."""
    found: set[str] = set()
    for go_file in vendor.rglob("*.go"):
        try:
            text = go_file.read_text(errors="replace")
        except OSError:
            continue
        if "+k8s:openapi-gen=" not in text:
            continue
        if not any(
            line.startswith("// +k8s:") or line.startswith("//+k8s:") for line in text.splitlines()
        ):
            continue
        package = go_file.parent.relative_to(vendor).as_posix()
        if not package.startswith(OPENAPI_EXCLUDED):
            found.add(package)
    return sorted(found)


def _build_vendored(log: bool) -> float:
    start = time.monotonic()
    if log:
        print(
            f"devcluster: building Kubernetes {paths.KUBERNETES_VERSION} (vendor, openapi-gen, "
            "binaries; first build: about 10 minutes, later ones use Go's build cache)",
            flush=True,
        )
    work = paths.CACHE / "gowork"
    vendor = work / "vendor"
    work.mkdir(parents=True, exist_ok=True)
    module_inputs = b"".join((paths.GOBUILD / n).read_bytes() for n in ("go.mod", "go.sum"))
    vendored_from = work / ".vendored-from"
    if not (vendor / "modules.txt").exists() or (
        not vendored_from.exists() or vendored_from.read_bytes() != module_inputs
    ):
        for name in ("go.mod", "go.sum", "tools.go"):
            shutil.copyfile(paths.GOBUILD / name, work / name)
        shutil.rmtree(vendor, ignore_errors=True)
        _go(["go", "mod", "vendor"], cwd=work)
        vendored_from.write_bytes(module_inputs)
    generated = vendor / OPENAPI_PACKAGE / f"{OPENAPI_BASENAME}.go"
    if not generated.exists():
        _generate_openapi(work, vendor)
    _go(
        [
            "go",
            "build",
            "-mod=vendor",
            "-tags",
            BUILD_TAGS,
            "-trimpath",
            "-ldflags",
            _version_ldflags(paths.KUBERNETES_VERSION),
            "-o",
            str(paths.BIN) + "/",
            *(f"k8s.io/kubernetes/cmd/{c}" for c in KUBE_COMMANDS),
        ],
        cwd=work,
    )
    # etcd 3.6.4 from the default release's wrapper module serves 1.21's API server too.
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
        ],
        cwd=paths.GOBUILD.parent / "gobuild",
    )
    (paths.BIN / ".inputs").write_text(_inputs_hash())
    elapsed = time.monotonic() - start
    if log:
        print(f"devcluster: build took {elapsed:.1f}s", flush=True)
    return elapsed


def _generate_openapi(work: Path, vendor: Path) -> None:
    tool = paths.CACHE / "tools" / "openapi-gen"
    _go(
        ["go", "build", "-mod=vendor", "-o", str(tool), "k8s.io/kube-openapi/cmd/openapi-gen"],
        cwd=work,
    )
    # GOPATH mode over the vendored tree: GOPATH/src is the vendor folder itself.
    gopath = paths.CACHE / "gopath"
    gopath.mkdir(parents=True, exist_ok=True)
    src = gopath / "src"
    if src.is_symlink() or src.exists():
        src.unlink()
    src.symlink_to(vendor)
    header = paths.CACHE / "tools" / "boilerplate.go.txt"
    header.write_text("// Code generated by openapi-gen for devcluster. DO NOT EDIT.\n\n")
    packages = openapi_input_packages(vendor)
    command = [
        str(tool),
        "--input-dirs",
        ",".join(packages),
        "--output-package",
        OPENAPI_PACKAGE,
        "--output-file-base",
        OPENAPI_BASENAME,
        "--go-header-file",
        str(header),
        "--output-base",
        str(src),
        "--report-filename",
        str(paths.CACHE / "tools" / "openapi-violations.report"),
    ]
    env = dict(os.environ, GOPATH=str(gopath), GO111MODULE="off", GOFLAGS="")
    result = subprocess.run(command, cwd=src, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ClusterError(
            "openapi-gen failed",
            command=command[:3] + ["..."] + command[4:],
            log_tail=result.stderr[-4000:],
        )
