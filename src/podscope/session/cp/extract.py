"""Unpacking the tar stream a copy out of a Pod receives, without leaving the destination.

The stream is produced in the target container, so it is untrusted: entry names and hard
link targets are checked by :mod:`podscope.rules.cptar`, and nothing is written through a
symlink already on the way (a crafted stream could first plant ``top/l -> /etc`` and then
write ``top/l/passwd``). Symlinks are recreated as they are, never followed. Each regular
file's sha256 is computed while it is written, for the verification afterwards.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import ValidationError
from podscope.rules.cptar import hard_link_parts, local_parts
from podscope.session.cp.remote import CHUNK


@dataclass
class Extracted:
    files: int = 0
    bytes: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # entry name -> sha256
    skipped: list[str] = field(default_factory=list)


def _no_symlink_on_the_way(base: str, parts: list[str]) -> None:
    path = base
    for part in parts[:-1]:
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise ValidationError(
                f"refusing to write through the symlink {path!r} (a tar entry would follow it)"
            )


def _clear(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)


def extract_stream(fileobj: Any, base: str, top: str, rename: str | None) -> Extracted:
    """Extract a tar stream into ``base``; its entries must all be ``top`` or under it, and
    ``top`` is written as ``rename`` when given. Absolute names, ``..``, hard links out of
    the copy and writes through symlinks are refused; symlinks themselves are recreated as
    they are (not followed)."""
    result = Extracted()
    dir_modes: list[tuple[str, int, float]] = []
    with tarfile.open(fileobj=fileobj, mode="r|") as archive:
        for member in archive:
            parts = local_parts(member.name, top, rename)
            _no_symlink_on_the_way(base, parts)
            path = os.path.join(base, *parts)
            if member.isdir():
                if os.path.islink(path):
                    os.unlink(path)
                os.makedirs(path, exist_ok=True)
                os.chmod(path, 0o700 | (member.mode & 0o777))
                dir_modes.append((path, member.mode & 0o1777, member.mtime))
            elif member.isreg():
                _clear(path)
                digest = hashlib.sha256()
                source = archive.extractfile(member)
                assert source is not None
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(path, flags, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                os.chmod(path, member.mode & 0o777)
                os.utime(path, (member.mtime, member.mtime))
                result.files += 1
                result.bytes += member.size
                result.digests[member.name] = digest.hexdigest()
            elif member.issym():
                _clear(path)
                os.symlink(member.linkname, path)
            elif member.islnk():
                link = hard_link_parts(member.name, member.linkname, top, rename)
                _no_symlink_on_the_way(base, link)
                _clear(path)
                os.link(os.path.join(base, *link), path)
            else:
                result.skipped.append(member.name)
    # Directory modes last: a read-only directory must still take its entries first.
    for path, mode, mtime in reversed(dir_modes):
        os.chmod(path, mode)
        os.utime(path, (mtime, mtime))
    return result
