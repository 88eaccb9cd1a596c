"""Writing a local file or tree as the tar stream a copy into a Pod sends.

Symlinks are stored as links (never followed), devices and sockets are left out (and
listed), owners become the target's user so the application can use what it receives, and
each regular file's sha256 is computed while it is read, for the verification afterwards.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from typing import IO, Any


class _HashingReader:
    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw, self.digest = raw, digest

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def walk(local: str) -> list[tuple[str, str]]:
    """(path, relative name) of ``local`` and everything under it, no symlink followed."""
    entries = [(local, "")]
    if os.path.isdir(local) and not os.path.islink(local):
        for root, dirs, files in os.walk(local, followlinks=False):
            dirs.sort()
            rel_root = os.path.relpath(root, local)
            for name in sorted(dirs + files):
                rel = name if rel_root == "." else f"{rel_root}/{name}"
                entries.append((os.path.join(root, name), rel))
    return entries


def write_archive(
    fileobj: Any, local: str, arcname: str, uid: int, gid: int
) -> tuple[dict[str, str], int, int, list[str]]:
    """Write ``local`` as a tar named ``arcname``; return (sha256 per entry name, files, bytes,
    skipped entries). Owners become the target's ``uid``/``gid``."""
    digests: dict[str, str] = {}
    files = total = 0
    skipped: list[str] = []
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.GNU_FORMAT) as archive:
        for path, rel in walk(local):
            name = arcname if not rel else f"{arcname}/{rel}"
            info = archive.gettarinfo(path, arcname=name)
            if info is None or not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
                skipped.append(name)
                continue
            info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
            if info.isreg():
                digest = hashlib.sha256()
                with open(path, "rb") as raw:
                    archive.addfile(info, _HashingReader(raw, digest))
                digests[name] = digest.hexdigest()
                files += 1
                total += info.size
            else:
                archive.addfile(info)
    return digests, files, total, skipped
