"""The local halves of `podscope cp`: safe tar extraction and archive writing (no cluster)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from podscope.errors import ValidationError
from podscope.session.cp import extract_stream, find_helper, write_archive


def _tar(entries: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for info in entries:
            payload = (data or {}).get(info.name)
            if payload is not None:
                info.size = len(payload)
                archive.addfile(info, io.BytesIO(payload))
            else:
                archive.addfile(info)
    buf.seek(0)
    return buf


def _entry(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    return info


def test_round_trip_keeps_modes_links_and_digests(tmp_path: Path) -> None:
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "x.sh").write_bytes(b"#!/bin/sh\n")
    (src / "x.sh").chmod(0o751)
    (src / "sub" / "big").write_bytes(os.urandom(300_000))
    (src / "ln").symlink_to("/etc/passwd")
    buf = io.BytesIO()
    digests, files, size, skipped = write_archive(buf, str(src), "tree", 65532, 65532)
    assert files == 2 and size == 300_010 and not skipped
    assert digests["tree/sub/big"] == hashlib.sha256((src / "sub" / "big").read_bytes()).hexdigest()
    buf.seek(0)
    with tarfile.open(fileobj=buf) as archive:
        assert {m.uid for m in archive.getmembers()} == {65532}
    buf.seek(0)
    out = tmp_path / "out"
    out.mkdir()
    result = extract_stream(buf, str(out), "tree", "copy")
    assert result.digests == digests
    assert stat.S_IMODE((out / "copy" / "x.sh").stat().st_mode) == 0o751
    assert os.readlink(out / "copy" / "ln") == "/etc/passwd"
    assert (out / "copy" / "sub" / "big").read_bytes() == (src / "sub" / "big").read_bytes()


@pytest.mark.parametrize("name", ["/etc/passwd", "top/../../evil", "top/../x", "other/x"])
def test_refuses_escaping_entries(tmp_path: Path, name: str) -> None:
    buf = _tar([_entry("top", tarfile.DIRTYPE, 0o755), _entry(name)], {name: b"x"})
    with pytest.raises(ValidationError):
        extract_stream(buf, str(tmp_path), "top", None)
    assert not (tmp_path.parent / "evil").exists()


def test_refuses_writing_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    buf = _tar(
        [
            _entry("top", tarfile.DIRTYPE, 0o755),
            _entry("top/l", tarfile.SYMTYPE, link=str(outside)),
            _entry("top/l/f"),
        ],
        {"top/l/f": b"pwn"},
    )
    with pytest.raises(ValidationError, match="symlink"):
        extract_stream(buf, str(dest), "top", None)
    assert not (outside / "f").exists()


@pytest.mark.parametrize(
    "link", ["/etc/shadow", "top/../outside/secret", "outside/secret", "top/../../secret"]
)
def test_hard_link_out_of_the_destination_is_refused(tmp_path: Path, link: str) -> None:
    # A file next to the destination that a crafted stream would like to link into the copy.
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "secret"
    secret.write_text("s3cret")
    buf = _tar([_entry("top", tarfile.DIRTYPE, 0o755), _entry("top/h", tarfile.LNKTYPE, link=link)])
    with pytest.raises(ValidationError, match="refusing hard link"):
        extract_stream(buf, str(tmp_path), "top", None)
    assert not (tmp_path / "top" / "h").exists()
    assert secret.stat().st_nlink == 1


def test_hard_link_through_a_symlink_in_the_copy_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s3cret")
    dest = tmp_path / "dest"
    dest.mkdir()
    buf = _tar(
        [
            _entry("top", tarfile.DIRTYPE, 0o755),
            _entry("top/l", tarfile.SYMTYPE, link=str(outside)),
            _entry("top/h", tarfile.LNKTYPE, link="top/l/secret"),
        ]
    )
    with pytest.raises(ValidationError, match="symlink"):
        extract_stream(buf, str(dest), "top", None)
    assert not (dest / "top" / "h").exists()
    assert (outside / "secret").stat().st_nlink == 1


def test_hard_link_inside_the_copy_is_made(tmp_path: Path) -> None:
    buf = _tar(
        [
            _entry("top", tarfile.DIRTYPE, 0o755),
            _entry("top/f"),
            _entry("top/h", tarfile.LNKTYPE, link="top/f"),
        ],
        {"top/f": b"data"},
    )
    extract_stream(buf, str(tmp_path), "top", "copy")
    assert (tmp_path / "copy" / "h").stat().st_ino == (tmp_path / "copy" / "f").stat().st_ino


def test_devices_are_skipped(tmp_path: Path) -> None:
    buf = _tar([_entry("top", tarfile.DIRTYPE, 0o755), _entry("top/null", tarfile.CHRTYPE)])
    assert extract_stream(buf, str(tmp_path), "top", None).skipped == ["top/null"]


def test_find_helper_prefers_debuggers_then_podscope_helpers() -> None:
    def status(name: str) -> dict[str, object]:
        return {"name": name, "state": {"running": {}}}

    pod = {
        "spec": {
            "ephemeralContainers": [
                {
                    "name": "dbg",
                    "image": "bb",
                    "targetContainerName": "app",
                    "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
                },
                {
                    "name": "podscope-cp-a",
                    "image": "bb",
                    "targetContainerName": "app",
                    "command": ["sleep", "2147483647"],
                },
                {
                    "name": "other",
                    "image": "bb",
                    "targetContainerName": "web",
                    "command": ["sleep", "2147483647"],
                },
            ]
        },
        "status": {
            "ephemeralContainerStatuses": [status("dbg"), status("podscope-cp-a"), status("other")]
        },
    }
    assert find_helper(pod, "bb", "app") == "podscope-cp-a"
    assert find_helper(pod, "other-image", "app") is None
    # A podscope debugger that can read the target comes first: copies share it.
    debugger = {
        "name": "debugger-1",
        "image": "bb",
        "targetContainerName": "app",
        "command": ["sh", "-c", "eval ...", "podscope-holder", "900", "debugger-1/"],
        "env": [{"name": "PODSCOPE_DEBUGGER", "value": "k/n"}],
        "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}},
    }
    pod["spec"]["ephemeralContainers"].append(debugger)  # type: ignore[index]
    pod["status"]["ephemeralContainerStatuses"].append(status("debugger-1"))  # type: ignore[index]
    assert find_helper(pod, "bb", "app") == "debugger-1"
    pod["spec"]["ephemeralContainers"].pop()  # type: ignore[index]
    pod["spec"]["ephemeralContainers"].pop(1)  # type: ignore[index]
    assert find_helper(pod, "bb", "app") == "dbg"


def test_probe_answers_are_parsed() -> None:
    from podscope.session.cp.remote import Probe, parse_probe

    assert parse_probe("owner 65532 65532\nfile 1234\nparent dir\n") == Probe(
        65532, 65532, "file", 1234, True
    )
    # Directory sizes come in KiB (du -s); a missing path has no size and maybe no parent.
    assert parse_probe("owner 0 0\ndir 8\nparent dir\n") == Probe(0, 0, "dir", 8192, True)
    assert parse_probe("owner 0 0\nnone\nparent none\n") == Probe(0, 0, "none", None, False)
    assert parse_probe("") == Probe(0, 0, "none", None, False)
