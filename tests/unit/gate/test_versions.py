"""Version parsing and the gate's lifetime (1.16 alpha, 1.23 on by default, 1.27 removed)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from podscope.errors import UsageError
from podscope.gate.versions import (
    KubeVersion,
    Support,
    gate_support,
    parse_user_version,
    parse_version,
    probe_kubelet_version,
    version_from_image,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kubernetes v1.21.3\n", (1, 21, 3)),
        ("v1.16.0", (1, 16, 0)),
        ("1.22", (1, 22, 0)),
        ("v1.20.15-eks-18e2f1", (1, 20, 15)),
        ("no version here", None),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int] | None) -> None:
    found = parse_version(text)
    assert (None if found is None else (found.major, found.minor, found.patch)) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("registry.k8s.io/kube-apiserver:v1.21.3", (1, 21, 3)),
        ("k8s.gcr.io/kube-scheduler:v1.16.15", (1, 16, 15)),
        ("registry.local:5000/k8s/kube-apiserver:v1.19.2@sha256:" + "a" * 64, (1, 19, 2)),
        ("registry.local:5000/kube-apiserver", None),  # the port is not a tag
        ("kube-apiserver@sha256:" + "b" * 64, None),
        ("kube-apiserver:latest", None),
    ],
)
def test_version_from_image(image: str, expected: tuple[int, int, int] | None) -> None:
    found = version_from_image(image)
    assert (None if found is None else (found.major, found.minor, found.patch)) == expected


@pytest.mark.parametrize(
    ("version", "support"),
    [
        ((1, 15, 12), Support.TOO_OLD),
        ((1, 16, 0), Support.NEEDED),
        ((1, 22, 17), Support.NEEDED),
        ((1, 23, 0), Support.DEFAULT_ON),
        ((1, 26, 9), Support.DEFAULT_ON),
        ((1, 27, 0), Support.REMOVED),
        ((2, 0, 0), Support.REMOVED),
    ],
)
def test_gate_support_boundaries(version: tuple[int, int, int], support: Support) -> None:
    assert gate_support(KubeVersion(*version)) is support


@pytest.mark.parametrize("text", ["1.21.3", "v1.21", "1.22.0-rc.1"])
def test_parse_user_version_accepts(text: str) -> None:
    assert parse_user_version(text, "--version").minor in (21, 22)


@pytest.mark.parametrize("text", ["", "latest", "1", "kubelet 1.21", "1.x"])
def test_parse_user_version_rejects(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_user_version(text, "--version")
    assert "--version" in info.value.message and info.value.remedy


def _fake_kubelet(root: Path, output: str) -> Path:
    binary = root / "usr" / "bin" / "kubelet"
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\necho '{output}'\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


def test_probe_runs_the_kubelet_under_root(tmp_path: Path) -> None:
    _fake_kubelet(tmp_path, "Kubernetes v1.18.20")
    assert probe_kubelet_version(tmp_path) == KubeVersion(1, 18, 20)


def test_probe_passes_version_flag(tmp_path: Path) -> None:
    binary = _fake_kubelet(tmp_path, "unused")
    seen: list[list[str]] = []

    def runner(argv: list[str]) -> str:
        seen.append(argv)
        return "Kubernetes v1.20.1"

    assert probe_kubelet_version(tmp_path, runner) == KubeVersion(1, 20, 1)
    assert seen == [[str(binary), "--version"]]


def test_probe_without_kubelet_is_unknown(tmp_path: Path) -> None:
    assert probe_kubelet_version(tmp_path) is None


def test_probe_with_garbage_output_is_unknown(tmp_path: Path) -> None:
    _fake_kubelet(tmp_path, "segmentation fault")
    assert probe_kubelet_version(tmp_path) is None
