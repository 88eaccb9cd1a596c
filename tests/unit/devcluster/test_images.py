"""The OCI archives devcluster writes: structure containerd relies on, and determinism."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

from devcluster import images


def _read_archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _layer() -> images.Layer:
    layer = images.Layer()
    layer.file("bin/tool", b"#!/bin/true\n", 0o755)
    layer.symlink("usr/bin/alias", "/bin/tool")
    layer.dir("tmp", 0o1777)
    return layer


def test_archive_is_an_oci_layout_named_for_containerd(tmp_path: Path) -> None:
    out = tmp_path / "img.tar"
    digest = images.write_oci_archive(
        out, ["docker.io/x/y:1", "docker.io/x/y:latest"], _layer(), {"Cmd": ["/bin/tool"]}
    )
    files = _read_archive(out)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    names = [m["annotations"]["io.containerd.image.name"] for m in index["manifests"]]
    assert names == ["docker.io/x/y:1", "docker.io/x/y:latest"]
    assert {m["digest"] for m in index["manifests"]} == {digest}
    # Every blob is stored under its own digest.
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    manifest = json.loads(files["blobs/sha256/" + digest.split(":")[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    layer_digest = manifest["layers"][0]["digest"]
    # An uncompressed layer: its diff_id is its own digest.
    assert config["rootfs"]["diff_ids"] == [layer_digest]
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["config"] == {"Cmd": ["/bin/tool"]}


def test_layer_contents_and_parent_directories(tmp_path: Path) -> None:
    out = tmp_path / "img.tar"
    digest = images.write_oci_archive(out, ["docker.io/x/y:1"], _layer(), {})
    files = _read_archive(out)
    manifest = json.loads(files["blobs/sha256/" + digest.split(":")[1]])
    layer_bytes = files["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]]
    (tmp_path / "layer.tar").write_bytes(layer_bytes)
    with tarfile.open(tmp_path / "layer.tar") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin"].isdir() and members["usr"].isdir() and members["usr/bin"].isdir()
    assert members["bin/tool"].mode == 0o755
    assert members["usr/bin/alias"].issym() and members["usr/bin/alias"].linkname == "/bin/tool"
    assert members["tmp"].mode == 0o1777


def test_same_inputs_same_digest(tmp_path: Path) -> None:
    a = images.write_oci_archive(tmp_path / "a.tar", ["docker.io/x/y:1"], _layer(), {})
    b = images.write_oci_archive(tmp_path / "b.tar", ["docker.io/x/y:1"], _layer(), {})
    assert a == b
    changed = _layer()
    changed.file("bin/tool", b"other", 0o755)
    assert images.write_oci_archive(tmp_path / "c.tar", ["docker.io/x/y:1"], changed, {}) != a


def test_busybox_image_never_links_busybox_to_itself(tmp_path: Path) -> None:
    names, layer, config = images.busybox_image(tmp_path)
    kind, source, _ = layer.entries["bin/busybox"]
    assert kind == "file" and Path(str(source)).stat().st_size > 100_000
    assert layer.entries["bin/sh"] == ("symlink", "/bin/busybox", 0o777)
    assert "docker.io/library/busybox:latest" in names


def test_app_image_has_no_shell(tmp_path: Path) -> None:
    _, layer, config = images.app_image(tmp_path)
    assert not any(name.endswith("/sh") or name == "bin/sh" for name in layer.entries)
    assert "bin/busybox" not in layer.entries
    assert config["Entrypoint"] == ["/server"]
