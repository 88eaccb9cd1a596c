"""Which Kubernetes versions need, allow or forbid the ``EphemeralContainers`` gate."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from podscope.errors import UsageError

# "v1.21.3", "1.21", "Kubernetes v1.21.3", "v1.21.3-eks-1-21": the first X.Y[.Z] wins.
_VERSION = re.compile(r"(?<![\w.])v?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True)
class KubeVersion:
    major: int
    minor: int
    patch: int = 0
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or f"v{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> KubeVersion | None:
    """Find a Kubernetes version in ``text`` (``kubelet --version`` output, an image tag)."""
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.group(1), match.group(2), match.group(3)
    return KubeVersion(int(major), int(minor), int(patch or 0), match.group(0))


def parse_user_version(text: str, flag: str) -> KubeVersion:
    """A version the user typed; a usage error when it is not one."""
    version = parse_version(text.strip())
    if version is None or not re.fullmatch(r"v?\d+\.\d+(\.\d+)?([-+].*)?", text.strip()):
        raise UsageError(
            f"{flag}: {text!r} is not a Kubernetes version",
            remedy=f"use the form 1.21.3 or v1.21 (for example {flag} 1.21.3)",
        )
    return version


def version_from_image(image: str) -> KubeVersion | None:
    """The version in a control-plane image reference, from its tag.

    ``registry.k8s.io/kube-apiserver:v1.21.3``, ``host:5000/k8s/kube-apiserver:v1.21.3@sha256:..``.
    A registry port is not a tag, hence looking only after the last ``/``.
    """
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    if ":" not in name:
        return None
    return parse_version(name.split(":", 1)[1])


class Support(Enum):
    TOO_OLD = "too-old"  # < 1.16: the gate does not exist yet
    NEEDED = "needed"  # 1.16-1.22: alpha, off by default
    DEFAULT_ON = "default-on"  # 1.23-1.26: beta (on by default) or GA (locked on)
    REMOVED = "removed"  # 1.27+: unknown gate, the component refuses to start


def gate_support(version: KubeVersion) -> Support:
    key = (version.major, version.minor)
    if key < (1, 16):
        return Support.TOO_OLD
    if key < (1, 23):
        return Support.NEEDED
    if key < (1, 27):
        return Support.DEFAULT_ON
    return Support.REMOVED


_KUBELET_DIRS = ("usr/bin", "usr/local/bin", "opt/bin", "bin")

Runner = Callable[[list[str]], str]


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    return done.stdout + done.stderr


def find_kubelet(root: Path) -> Path | None:
    """The kubelet binary: ``$PATH`` on a real root, else the usual places under ``root``."""
    if root == Path("/"):
        found = shutil.which("kubelet")
        if found:
            return Path(found)
    for sub in _KUBELET_DIRS:
        candidate = root / sub / "kubelet"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def probe_kubelet_version(root: Path, runner: Runner = _run) -> KubeVersion | None:
    """Run ``kubelet --version`` (prints ``Kubernetes v1.21.3``); ``None`` when we can't tell."""
    binary = find_kubelet(root)
    if binary is None:
        return None
    try:
        output = runner([str(binary), "--version"])
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_version(output)
