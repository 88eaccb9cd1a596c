"""What the devcluster's registries serve, and how containerd is pointed at them."""

from __future__ import annotations

from pathlib import Path

import pytest
from devcluster import images, paths, registry


def test_the_mirrored_names_keep_their_repository_path() -> None:
    names = [*images.BUSYBOX_IMAGES, images.PAUSE_IMAGE, "quay.io/other/x:1"]
    assert registry._destinations(names) == [
        ("latest", "library/busybox:latest"),
        ("1.35", "library/busybox:1.35"),
        ("3.10", "pause:3.10"),
    ]


def test_the_hosts_file_names_the_local_registry_as_server_and_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "STATE", tmp_path)
    monkeypatch.setattr(paths, "PKI", tmp_path / "pki")
    public, private = registry.registries()
    registry._hosts_file("docker.io", public)
    registry._hosts_file(registry.PRIVATE_HOST, private)
    text = (tmp_path / "containerd/certs.d/docker.io/hosts.toml").read_text()
    server = f"https://127.0.0.1:{paths.RELEASE.registry_port}"
    ca = tmp_path / "pki" / "ca.crt"
    # containerd 1.6 refuses a file without [host]; a [host] alone would fall back to Docker Hub.
    assert text.splitlines()[0] == f'server = "{server}"'
    assert f'[host."{server}"]' in text
    assert text.count(f'ca = "{ca}"') == 2  # for the server and for the host
    private_text = (tmp_path / f"containerd/certs.d/{registry.PRIVATE_HOST}/hosts.toml").read_text()
    assert f':{paths.RELEASE.private_registry_port}"' in private_text.splitlines()[0]


def test_only_the_private_registry_has_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "STATE", tmp_path)
    monkeypatch.setattr(paths, "CONFIG", tmp_path / "config")
    public, private = registry.registries()
    assert "auth:" not in registry._config(public).read_text()
    text = registry._config(private).read_text()
    assert "htpasswd:" in text and f"addr: {private.address}" in text
    assert private.address.startswith("127.0.0.1:")  # loopback only
